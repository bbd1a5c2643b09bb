//! A petitioner's identifiers as the county recognises them (docs/rules.md, "Finding and linking"):
//! the resident ID number (GB 11643-1999) and a mainland phone number, checked and normalised
//! when a registration is read, so that two registrations of one person carry the same form.
//!
//! Messages say what is expected and never repeat the value (it is personal data).

pub use crate::text::{ID_NUMBER_EXPECTED, PHONE_EXPECTED};

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

/// The county's secrets for recognising petitioners and answering them (docs/contract.md,
/// casework): the identity key, under which read models and the identity index hold a keyed hash
/// (HMAC-SHA256) of an ID number or phone instead of the value, and the query-code key, from which a
/// case's query code is derived. Both come from the configuration, never from the log.
#[derive(Clone)]
pub struct Keys {
    identity: Vec<u8>,
    query_code: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

/// A keyed hash of one identifier, truncated to 128 bits (enough to tell a county's people apart).
pub type Digest = [u8; 16];

/// How a petitioner is recognised, as keyed hashes: the ID number, name and phone together, and the
/// phone alone (for search). Holds no plain value.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct Person {
    pub id: Option<Digest>,
    pub name_phone: Option<Digest>,
    pub phone: Option<Digest>,
}

/// The index key under which a name's digest ([`Keys::name`]) files a case: `m.<hex>`.
pub fn name_key(digest: &Digest) -> String {
    format!("m.{}", hex::encode(digest))
}

/// Every key under which any of `persons` links to other cases ([`Person::link_keys`]), once.
pub fn link_keys(persons: &[Person]) -> std::collections::BTreeSet<String> {
    persons.iter().flat_map(Person::link_keys).collect()
}

impl Person {
    /// Whether `self` and `other` are the same petitioner (docs/rules.md, "Finding and linking"): the
    /// same ID number when both have one; otherwise the same name and phone. Two different ID
    /// numbers are two people, whatever their names and phones.
    pub fn same_as(&self, other: &Person) -> bool {
        match (self.id, other.id) {
            (Some(a), Some(b)) => a == b,
            _ => self.name_phone.is_some() && self.name_phone == other.name_phone,
        }
    }

    /// Whether anything identifies this petitioner at all.
    pub fn is_known(&self) -> bool {
        self.id.is_some() || self.name_phone.is_some()
    }

    /// The index keys under which this petitioner is found: `i.<hex>` (ID number), `n.<hex>` (name
    /// and phone) and `p.<hex>` (phone).
    pub fn keys(&self) -> Vec<String> {
        [("i", self.id), ("n", self.name_phone), ("p", self.phone)]
            .into_iter()
            .filter_map(|(kind, d)| d.map(|d| format!("{kind}.{}", hex::encode(d))))
            .collect()
    }

    /// The keys that can find the same petitioner ([`Person::same_as`]): the ID number's and the
    /// name-and-phone key.
    pub fn link_keys(&self) -> Vec<String> {
        Person {
            phone: None,
            ..*self
        }
        .keys()
    }
}

/// Least length of a configured secret.
pub const MIN_SECRET_CHARS: usize = 32;

impl Keys {
    /// Keys from the two secrets (each at least [`MIN_SECRET_CHARS`] characters).
    pub fn new(identity: &str, query_code: &str) -> Result<Keys, String> {
        for (name, s) in [("identity_key", identity), ("query_code_key", query_code)] {
            if s.trim().chars().count() < MIN_SECRET_CHARS {
                return Err(format!(
                    "secrets.{name} must be at least {MIN_SECRET_CHARS} characters"
                ));
            }
        }
        if identity.trim() == query_code.trim() {
            return Err("secrets.identity_key and secrets.query_code_key must differ".into());
        }
        Ok(Keys {
            identity: identity.trim().as_bytes().to_vec(),
            query_code: query_code.trim().as_bytes().to_vec(),
        })
    }

    fn mac(key: &[u8], parts: &[&str]) -> [u8; 32] {
        use hmac::Mac as _;
        // HMAC takes keys of any length.
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    fn digest(&self, kind: &str, value: &str) -> Digest {
        let full = Keys::mac(&self.identity, &[kind, value]);
        let mut d = [0; 16];
        d.copy_from_slice(&full[..16]);
        d
    }

    /// How `name`, `id_number` and `phone` identify a petitioner. Values are normalised first
    /// (`normalize_id_number`, `normalize_phone`, a name without spaces), so that two forms of one
    /// number are one person; a value that does not normalise is taken as given.
    pub fn person(
        &self,
        name: Option<&str>,
        id_number: Option<&str>,
        phone: Option<&str>,
    ) -> Person {
        let id = id_number
            .map(|v| normalize_id_number(v).unwrap_or_else(|_| v.trim().to_owned()))
            .filter(|v| !v.is_empty());
        let phone = phone
            .map(|v| normalize_phone(v).unwrap_or_else(|_| v.trim().to_owned()))
            .filter(|v| !v.is_empty());
        let name: Option<String> = name
            .map(|n| n.chars().filter(|c| !c.is_whitespace()).collect())
            .filter(|n: &String| !n.is_empty());
        Person {
            id: id.map(|v| self.digest("id", &v)),
            name_phone: match (&name, &phone) {
                (Some(n), Some(p)) => Some(self.digest("name-phone", &format!("{n}\n{p}"))),
                _ => None,
            },
            phone: phone.map(|p| self.digest("phone", &p)),
        }
    }

    /// The keyed hash of a name alone (without spaces), under which a petitioner is found by
    /// name (`POST /v1/cases/search {"name"}`); it links no two cases, since many people share a
    /// name. `None` for a name of nothing but spaces.
    pub fn name(&self, name: &str) -> Option<Digest> {
        let name: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        (!name.is_empty()).then(|| self.digest("name", &name))
    }

    /// The petitioner of a registration, as recognised.
    pub fn petitioner(&self, p: &crate::command::Petitioner) -> Person {
        self.person(Some(&p.name), p.id_number.as_deref(), p.phone.as_deref())
    }

    /// A case's query code number `seq` (0: the one given at registration; `QueryCodeReissued`
    /// numbers the others): 10 characters of base32 (50 bits) of a keyed hash of the case id and
    /// the number, so the same code is derived again and nobody without the key can derive one.
    pub fn query_code(&self, case: crate::CaseId, seq: u32) -> String {
        let id = case.0.to_string();
        let n = seq.to_string();
        let parts: &[&str] = if seq == 0 {
            &["query-code", &id]
        } else {
            &["query-code", &id, &n]
        };
        let mac = Keys::mac(&self.query_code, parts);
        let mut code = data_encoding::BASE32_NOPAD.encode(&mac[..7]);
        code.truncate(QUERY_CODE_CHARS);
        code
    }

    /// Whether `given` is the query code number `seq` of `case` (in constant time; case and
    /// spaces ignored).
    pub fn query_code_matches(&self, case: crate::CaseId, seq: u32, given: &str) -> bool {
        let given: Vec<u8> = given
            .bytes()
            .filter(|b| !b.is_ascii_whitespace() && *b != b'-')
            .map(|b| b.to_ascii_uppercase())
            .collect();
        let want = self.query_code(case, seq).into_bytes();
        if given.len() != want.len() {
            return false;
        }
        given
            .iter()
            .zip(&want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// Characters of a query code (5 bits each: 50 bits).
pub const QUERY_CODE_CHARS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(&"i".repeat(32), &"q".repeat(32)).expect("keys")
    }

    #[test]
    fn one_person_in_any_form_and_no_plain_value() {
        let k = keys();
        let a = k.person(
            Some("张 三"),
            Some("11010519491231002x"),
            Some("138 0000 0000"),
        );
        let b = k.person(Some("张三"), Some("11010519491231002X"), None);
        let c = k.person(Some("张三"), None, Some("+86 13800000000"));
        let other = k.person(
            Some("张三"),
            Some("330102199001011234"),
            Some("13800000000"),
        );
        assert!(a.same_as(&b), "the same ID number");
        assert!(
            a.same_as(&c) && c.same_as(&a),
            "no ID number on one side: name and phone"
        );
        assert!(!a.same_as(&other), "two ID numbers are two people");
        assert!(!b.same_as(&c), "nothing in common");
        assert_eq!(a.phone, other.phone, "the phone alone is kept for search");
        let anon = k.person(Some("李四"), None, None);
        assert!(!anon.is_known() && !anon.same_as(&anon));
        // Another key gives other digests; no digest is the value.
        let k2 = Keys::new(&"j".repeat(32), &"q".repeat(32)).expect("keys");
        assert_ne!(k2.person(None, Some("11010519491231002X"), None).id, b.id);
        for key in a.keys() {
            assert!(
                !key.contains("110105") && !key.contains("13800000000"),
                "{key}"
            );
        }
    }

    #[test]
    fn query_codes_are_stable_keyed_and_checked() {
        let k = keys();
        let case = crate::CaseId(uuid::Uuid::from_u128(7));
        let code = k.query_code(case, 0);
        assert_eq!(code.len(), QUERY_CODE_CHARS);
        assert_eq!(code, k.query_code(case, 0), "derived, not drawn");
        assert_ne!(
            code,
            k.query_code(crate::CaseId(uuid::Uuid::from_u128(8)), 0)
        );
        let other = Keys::new(&"i".repeat(32), &"r".repeat(32)).expect("keys");
        assert_ne!(code, other.query_code(case, 0), "needs the key");
        assert!(k.query_code_matches(case, 0, &code.to_lowercase()));
        assert!(!k.query_code_matches(case, 0, &code[..9]));
        assert!(!k.query_code_matches(case, 0, ""));
        assert!(Keys::new("short", &"q".repeat(32)).is_err());
        assert!(Keys::new(&"q".repeat(32), &"q".repeat(32)).is_err());
        // A reissued code is another code, and the one in force alone matches.
        let second = k.query_code(case, 1);
        assert_ne!(second, code);
        assert!(k.query_code_matches(case, 1, &second));
        assert!(!k.query_code_matches(case, 1, &code));
        assert!(!k.query_code_matches(case, 0, &second));
    }

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
