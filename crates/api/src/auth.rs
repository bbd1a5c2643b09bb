//! Bearer-token authentication. Tokens are held only as SHA-256 digests in memory.

use std::collections::HashMap;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use domain::Principal;

use crate::error::Failure;

#[derive(Debug, Clone, Default)]
pub struct Tokens {
    by_digest: HashMap<[u8; 32], Principal>,
}

/// Tokens shorter than this are refused when the API listens beyond loopback, and warned of on
/// loopback (demo and test configurations): failed tokens are limited per client
/// (`limits::auth_failures`), not per token, so only length keeps many clients from guessing.
pub const STRONG_TOKEN: usize = 20;

pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    pub fn insert_digest(&mut self, digest: [u8; 32], principal: Principal) {
        self.by_digest.insert(digest, principal);
    }

    /// Every configured principal, once (a principal may hold several tokens), by id.
    pub fn principals(&self) -> Vec<Principal> {
        let mut all: Vec<Principal> = self.by_digest.values().cloned().collect();
        all.sort_by(|a, b| a.id.0.cmp(&b.id.0));
        all.dedup_by(|a, b| a.id == b.id);
        all
    }

    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, Failure> {
        let value = headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                Failure::Unauthorized(domain::text!(
                    "missing Authorization: Bearer token",
                    "缺少 Authorization: Bearer 令牌"
                ))
            })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Failure::Unauthorized(domain::text!(
                    "Authorization must be `Bearer <token>`",
                    "Authorization 应为 `Bearer <令牌>`"
                ))
            })?;
        self.by_digest
            .get(&sha256(token))
            .cloned()
            .ok_or_else(|| Failure::Unauthorized(domain::text!("unknown token", "令牌无效")))
    }
}

/// A `[[principal]]` of the configuration file (docs/contract.md, "Configuration").
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalEntry {
    pub token: Option<String>,
    pub token_sha256: Option<String>,
    pub id: String,
    pub role: domain::Role,
    pub unit: Option<String>,
    pub nats_user: Option<String>,
    pub nats_password: Option<String>,
}

impl PrincipalEntry {
    /// The principal and the digest of its token, checked against the units defined and the
    /// principals before it (`ids`, `digests`); the error names the key and the problem.
    pub fn check(
        &self,
        i: usize,
        units: &[domain::ids::Unit],
        ids: &mut std::collections::BTreeSet<String>,
        digests: &mut std::collections::BTreeSet<[u8; 32]>,
    ) -> Result<(Principal, [u8; 32]), (String, String)> {
        use domain::{PrincipalId, Role, UnitCode};
        let key = |k: &str| format!("principal[{i}].{k}");
        let fail = |k: &str, problem: &str| Err((key(k), problem.to_owned()));
        if self.id.trim().is_empty() {
            return fail("id", "must not be empty");
        }
        if self.id.trim() != self.id {
            return fail("id", "must not begin or end with spaces");
        }
        // Ids that differ only in case or spaces would be two principals to the two-person
        // rule but one person to a reader (issue 30).
        if !ids.insert(domain::ids::canonical_principal(&self.id)) {
            return Err((
                key("id"),
                format!(
                    "{:?} is defined twice (ids are compared without regard to case)",
                    self.id
                ),
            ));
        }
        let digest = match (&self.token, &self.token_sha256) {
            (Some(t), None) if t.len() >= 8 => sha256(t),
            (Some(_), None) => return fail("token", "must be at least 8 characters"),
            (None, Some(h)) => {
                let mut d = [0u8; 32];
                if hex::decode_to_slice(h, &mut d).is_err() {
                    return fail("token_sha256", "must be 64 hex digits");
                }
                d
            }
            (Some(_), Some(_)) => return fail("token", "give token or token_sha256, not both"),
            (None, None) => return fail("token", "token or token_sha256 is required"),
        };
        if !digests.insert(digest) {
            return fail("token", "the same token is given to two principals");
        }
        let unit = match (&self.unit, self.role) {
            (Some(u), _) => {
                let code = UnitCode::parse(u).map_err(|m| (key("unit"), m))?;
                if !units.iter().any(|u| u.code == code) {
                    return Err((
                        key("unit"),
                        format!("unknown unit {code:?}; define it in a [[unit]]"),
                    ));
                }
                Some(code)
            }
            (None, role) if domain::auth::acts_for_a_unit(role) => {
                return Err((
                    key("unit"),
                    format!("role {} acts for a unit; unit is required", self.role),
                ))
            }
            (None, _) => None,
        };
        if self.nats_user.is_some() != self.nats_password.is_some() {
            return fail("nats_user", "nats_user and nats_password go together");
        }
        if self.nats_user.is_some() && self.role != Role::System {
            return fail("nats_user", "only role system has NATS credentials");
        }
        if let Some(user) = self.nats_user.as_deref().filter(|u| !valid_nats_user(u)) {
            return Err((key("nats_user"), format!("{user:?}: {NATS_USER_RULE}")));
        }
        let principal = Principal {
            id: PrincipalId(self.id.clone()),
            role: self.role,
            unit,
        };
        Ok((principal, digest))
    }
}

/// What a NATS user name may be (a principal's `nats_user`, `[nats] user`).
pub const NATS_USER_RULE: &str = "a NATS user name is 1-64 of [A-Za-z0-9_-]";

pub fn valid_nats_user(user: &str) -> bool {
    (1..=64).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
