//! Typed identifiers. Each is validated once, by `parse`, and is then trusted.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A case (信访事项). UUID v7, so ids sort by creation time.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = String, format = Uuid)]
pub struct CaseId(pub Uuid);

impl CaseId {
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(CaseId)
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A unit code: `[a-z0-9_-]{1,32}`. Safe to use as a NATS subject token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, pattern = "^[a-z0-9_-]{1,32}$")]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(UnitCode(s.to_owned()))
        } else {
            Err(format!("unit code {s:?} must match [a-z0-9_-]{{1,32}}"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for UnitCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        UnitCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of a principal (a person or a system acting through a token).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String)]
pub struct PrincipalId(pub String);

impl PrincipalId {
    /// The form two ids are compared in when it matters who is who (the two-person rule of
    /// 核减 and erasure, configuration): without surrounding spaces and in lower case, so that
    /// `County-Zhang` and `county-zhang ` are the same person as `county-zhang` (issue 30).
    pub fn canonical(&self) -> String {
        canonical_principal(&self.0)
    }

    /// Whether `self` and `other` name the same principal ([`canonical`](Self::canonical)).
    pub fn same_as(&self, other: &PrincipalId) -> bool {
        self.canonical() == other.canonical()
    }
}

/// [`PrincipalId::canonical`] of a plain string (the configuration's ids before they are ids).
pub fn canonical_principal(id: &str) -> String {
    id.trim().to_lowercase()
}

impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A unit as the configuration defines it (docs/contract.md, "Configuration": `[[unit]]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub kind: crate::UnitKind,
    /// The JetStream domain of the township's own leaf node server, whose local inbox the county
    /// sources (extension of the contract).
    pub jetstream_domain: Option<String>,
}

impl Unit {
    /// Check the `[[unit]]` entries: each code once, a name, a JetStream domain only for a
    /// township. The error names the key (`unit[i].…`) and the problem.
    pub fn check_all(units: &[Unit]) -> Result<(), (String, String)> {
        let mut seen = std::collections::BTreeSet::new();
        for (i, u) in units.iter().enumerate() {
            let key = |k: &str| format!("unit[{i}].{k}");
            if !seen.insert(&u.code) {
                return Err((key("code"), format!("{} is defined twice", u.code)));
            }
            if u.name.trim().is_empty() {
                return Err((key("name"), "must not be empty".into()));
            }
            if let Some(d) = &u.jetstream_domain {
                if u.kind != crate::UnitKind::Township || UnitCode::parse(d).is_err() {
                    return Err((
                        key("jetstream_domain"),
                        format!("{d:?}: only a township has one, spelled like a unit code"),
                    ));
                }
            }
        }
        Ok(())
    }
}
