//! The range and form of business dates (docs/events.md, "Dates").
//!
//! Every timestamp and date a command carries must fall in [`EARLIEST`, `LATEST`] and every
//! offset must be a real one (a whole quarter hour, at most 14 hours). Outside that range the
//! arithmetic of deadlines overflows (year 262142 panicked in `extend`) and read models that key
//! by nanoseconds (1677-2262) disagree with each other. The bounds are wide enough for any record
//! a county could import and any deadline it could set.
//!
//! The wire forms are strict: a date is exactly `YYYY-MM-DD` (`26-01-01` is not year 26), a
//! timestamp is RFC 3339 with its offset.

use chrono::{DateTime, Datelike, NaiveDate};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::error::DomainError;
use crate::policy::Timestamp;

/// First year a business date may have.
pub const EARLIEST_YEAR: i32 = 1970;
/// Last year a business date (a due date included) may have.
pub const LATEST_YEAR: i32 = 2199;

/// Largest UTC offset in use anywhere (Kiribati, +14:00).
const MAX_OFFSET_SECS: i32 = 14 * 3600;

fn in_range(day: NaiveDate) -> bool {
    (EARLIEST_YEAR..=LATEST_YEAR).contains(&day.year())
}

fn out_of_range(field: &str) -> DomainError {
    DomainError::Validation(crate::text!(
        "{field}: expected a date between {EARLIEST_YEAR}-01-01 and {LATEST_YEAR}-12-31",
        "{field}：日期应在 {EARLIEST_YEAR}-01-01 至 {LATEST_YEAR}-12-31 之间"
    ))
}

pub use crate::text::{DATE_EXPECTED, TIME_EXPECTED, WHOLE_EXPECTED};

/// `field` as a business timestamp: in range, with a real offset.
pub fn check_time(field: &str, t: Timestamp) -> Result<Timestamp, DomainError> {
    let offset = t.offset().local_minus_utc();
    if offset.abs() > MAX_OFFSET_SECS || offset % 900 != 0 {
        let offset = t.offset();
        return Err(DomainError::Validation(crate::text!(
            "{field}: has the offset {offset}; expected an offset of whole quarter hours between -14:00 and +14:00",
            "{field}：时区偏移 {offset} 无效，应为 -14:00 至 +14:00 之间的整刻钟"
        )));
    }
    if !in_range(t.naive_utc().date()) {
        return Err(out_of_range(field));
    }
    Ok(t)
}

/// `field` as a calendar date in range.
pub fn check_date(field: &str, d: NaiveDate) -> Result<NaiveDate, DomainError> {
    if !in_range(d) {
        return Err(out_of_range(field));
    }
    Ok(d)
}

/// Parse a date in exactly the form `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Parse an RFC 3339 timestamp (four-digit year, offset required).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// Serde for a strict date (`YYYY-MM-DD`).
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    parse_date(&s).ok_or_else(|| D::Error::custom(DATE_EXPECTED))
}

/// Serde for a whole number in a body: JSON Schema's `integer` includes `6.0`, so an integral
/// number written with a fraction is taken; `6.5`, a negative or one out of range is not.
pub fn whole_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    let whole = match (n.as_u64(), n.as_f64()) {
        (Some(u), _) => Some(u),
        (None, Some(f)) if f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f) => {
            Some(f as u64)
        }
        _ => None,
    };
    whole
        .and_then(|u| u32::try_from(u).ok())
        .ok_or_else(|| D::Error::custom(WHOLE_EXPECTED))
}

/// Serde for an optional whole number in a body (see [`whole_u32`]).
pub fn option_whole_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_u32")] u32);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

/// Serde for an optional strict date in command bodies.
pub fn option_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_date(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom(DATE_EXPECTED)),
    }
}

/// Serde for a strict RFC 3339 timestamp in command bodies.
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let s = String::deserialize(d)?;
    parse_time(&s).ok_or_else(|| D::Error::custom(TIME_EXPECTED))
}

/// Serde for an optional strict RFC 3339 timestamp in command bodies.
pub fn option_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    #[derive(Deserialize)]
    struct Strict(#[serde(deserialize_with = "time")] Timestamp);
    Ok(Option::<Strict>::deserialize(d)?.map(|s| s.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_have_exactly_one_form() {
        assert!(parse_date("2026-01-31").is_some());
        for bad in [
            "26-01-01",
            "+262142-12-31",
            "2026-1-31",
            "2026-02-30",
            "２０２６-01-01",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn range_and_offsets() {
        let t = |s| parse_time(s).expect(s);
        assert!(check_time("t", t("2026-03-02T09:30:00+08:00")).is_ok());
        assert!(check_time("t", t("2026-03-02T09:30:00+05:45")).is_ok());
        for bad in [
            "0000-01-01T00:00:00Z",
            "1600-01-01T00:00:00Z",
            "1899-12-31T00:00:00+08:00",
            "2200-01-01T00:00:00Z",
            "2026-03-02T09:30:00+08:06",
            "2026-03-02T09:30:00+15:00",
        ] {
            assert!(check_time("t", t(bad)).is_err(), "{bad}");
        }
        let d = |s| parse_date(s).expect(s);
        assert!(check_date("d", d("2199-12-31")).is_ok());
        assert!(check_date("d", d("1969-12-31")).is_err());
    }
}
