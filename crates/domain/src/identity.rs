//! A petitioner's identifiers as the county recognises them (domain.md, "Finding and linking"):
//! the resident ID number (GB 11643-1999) and a mainland phone number, checked and normalised
//! when a registration is read, so that two registrations of one person carry the same form.
//!
//! Messages say what is expected and never repeat the value (it is personal data).

/// What a resident ID number must be, for error messages.
pub const ID_NUMBER_EXPECTED: &str = "expected an 18-character resident ID number (GB 11643-1999): \
     17 digits with a valid birth date (YYYYMMDD from the 7th digit), then the check digit (0-9 or X)";

/// What a phone number must be, for error messages.
pub const PHONE_EXPECTED: &str = "expected a mainland mobile number (11 digits starting 13-19, \
     optionally +86) or a landline with its area code (0 and 2-3 digits, then 7-8 digits)";

/// The ID number in its normal form (capital `X`, no surrounding space), or why it is not one.
pub fn normalize_id_number(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return Err(ID_NUMBER_EXPECTED);
    }
    if !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err(ID_NUMBER_EXPECTED);
    }
    let digit = |i: usize| u32::from(b[i] - b'0');
    let number = |from: usize, to: usize| (from..to).fold(0, |n, i| n * 10 + digit(i));
    let (year, month, day) = (number(6, 10), number(10, 12), number(12, 14));
    let born = chrono::NaiveDate::from_ymd_opt(year as i32, month, day);
    if !(1900..=2199).contains(&year) || born.is_none() {
        return Err(ID_NUMBER_EXPECTED);
    }
    if check_digit(&b[..17]) != b[17] {
        return Err(ID_NUMBER_EXPECTED);
    }
    Ok(s)
}

/// The GB 11643-1999 check digit (ISO 7064 MOD 11-2) of 17 ASCII digits.
fn check_digit(digits: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d.saturating_sub(b'0')) * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// A complete ID number from its first 17 digits (region, birth date, sequence): for demo data
/// and tests. `None` unless they are 17 digits.
pub fn with_check_digit(first17: &str) -> Option<String> {
    let b = first17.as_bytes();
    (b.len() == 17 && b.iter().all(u8::is_ascii_digit))
        .then(|| format!("{first17}{}", char::from(check_digit(b))))
}

/// The phone number in its normal form (digits only; a landline as `0AAA-NNNNNNNN`, a mobile
/// without the country code), or why it is not one. Spaces, hyphens and parentheses are allowed
/// in what is given.
pub fn normalize_phone(raw: &str) -> Result<String, &'static str> {
    let trimmed = raw.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, trimmed),
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
    {
        return Err(PHONE_EXPECTED);
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let national = if plus {
        digits.strip_prefix("86").ok_or(PHONE_EXPECTED)?
    } else {
        digits
            .strip_prefix("0086")
            .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
            .unwrap_or(&digits)
    };
    let b = national.as_bytes();
    // Mobile: 1, then 3-9, then nine digits.
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Ok(national.to_owned());
    }
    // Landline: area code 0 + 2 digits (010, 02x) or 0 + 3 digits, then 7-8 digits not
    // starting with 0 or 1. A mobile number is never written with a leading 0 here.
    if b.first() == Some(&b'0') && b.get(1).is_some_and(|d| *d != b'0') {
        let area = if matches!(b[1], b'1' | b'2') { 3 } else { 4 };
        let local = &national[area.min(national.len())..];
        if (7..=8).contains(&local.len()) && !local.starts_with(['0', '1']) {
            return Ok(format!("{}-{local}", &national[..area]));
        }
    }
    Err(PHONE_EXPECTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_id_numbers() {
        // Valid check digits, the second with X (given in lower case).
        assert_eq!(
            normalize_id_number("330102199001011234"),
            Ok("330102199001011234".into())
        );
        assert_eq!(
            normalize_id_number(" 11010519491231002x "),
            Ok("11010519491231002X".into())
        );
        for bad in [
            "330102199001011235", // wrong check digit
            "33010219900101123",  // 17 characters
            "3301021990010112345",
            "abc",
            "",
            "330102199002301234", // 30 February
            "330102180001011234", // born 1800
            "33010219900101123Y",
            "33010219900101 234",
        ] {
            assert_eq!(normalize_id_number(bad), Err(ID_NUMBER_EXPECTED), "{bad:?}");
        }
    }

    #[test]
    fn a_completed_number_is_valid() {
        assert_eq!(
            with_check_digit("33010219900101123").as_deref(),
            Some("330102199001011234")
        );
        assert_eq!(
            with_check_digit("11010519491231002").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(with_check_digit("1234"), None);
    }

    #[test]
    fn phone_numbers() {
        for (given, normal) in [
            ("13800000000", "13800000000"),
            ("138 0000 0000", "13800000000"),
            ("+86 138-0000-0000", "13800000000"),
            ("008613800000000", "13800000000"),
            ("8613800000000", "13800000000"),
            ("010-62345678", "010-62345678"),
            ("(0571) 8765 4321", "0571-87654321"),
            ("0571-8765432", "0571-8765432"),
            ("02087654321", "020-87654321"),
        ] {
            assert_eq!(normalize_phone(given), Ok(normal.to_string()), "{given:?}");
        }
        for bad in [
            "hello",
            "",
            "12345",
            "12800000000",  // no such mobile prefix
            "1380000000",   // 10 digits
            "138000000000", // 12 digits
            "010-0123456",  // local number starting 0
            "010-12345678", // local number starting 1 (service numbers)
            "0571-123456",  // 6 digits
            "+1 415 555 0100",
            "13800000000 ext. 2",
        ] {
            assert_eq!(normalize_phone(bad), Err(PHONE_EXPECTED), "{bad:?}");
        }
    }
}
