//! Serde for a [`Timestamp`] in stored state: RFC 3339 in human-readable formats (JSON is
//! unchanged), `(seconds, nanoseconds, offset seconds)` in binary ones. Read models store cases
//! in a binary format, where formatting and parsing the strings was a seventh of a rebuild
//! (docs/benchmarks.md). Use with `#[serde(with = "crate::stamp")]`, or `stamp::option`.

use chrono::{DateTime, FixedOffset};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::policy::Timestamp;

pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        t.serialize(s)
    } else {
        (
            t.timestamp(),
            t.timestamp_subsec_nanos(),
            t.offset().local_minus_utc(),
        )
            .serialize(s)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    if d.is_human_readable() {
        return Timestamp::deserialize(d);
    }
    let (secs, nanos, offset): (i64, u32, i32) = Deserialize::deserialize(d)?;
    let zone = FixedOffset::east_opt(offset).ok_or_else(|| D::Error::custom("bad offset"))?;
    DateTime::from_timestamp(secs, nanos)
        .map(|utc| utc.with_timezone(&zone))
        .ok_or_else(|| D::Error::custom("timestamp out of range"))
}

/// The same for `Option<Timestamp>`.
pub mod option {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Stamp(#[serde(with = "super")] Timestamp);

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        t.map(Stamp).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Ok(Option::<Stamp>::deserialize(d)?.map(|s| s.0))
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Both {
        #[serde(with = "crate::stamp")]
        at: crate::Timestamp,
        #[serde(with = "crate::stamp::option")]
        maybe: Option<crate::Timestamp>,
    }

    #[test]
    fn json_is_rfc3339_and_the_offset_survives() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:30:00.123456789+08:00")
            .expect("timestamp");
        let both = Both {
            at,
            maybe: Some(at),
        };
        let json = serde_json::to_value(&both).expect("json");
        assert_eq!(json["at"], "2026-03-02T09:30:00.123456789+08:00");
        assert_eq!(serde_json::from_value::<Both>(json).expect("back"), both);
        let none = Both { at, maybe: None };
        let json = serde_json::to_string(&none).expect("json");
        assert_eq!(serde_json::from_str::<Both>(&json).expect("back"), none);
    }
}
