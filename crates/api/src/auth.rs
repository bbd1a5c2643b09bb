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

pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    pub fn insert_digest(&mut self, digest: [u8; 32], principal: Principal) {
        self.by_digest.insert(digest, principal);
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
