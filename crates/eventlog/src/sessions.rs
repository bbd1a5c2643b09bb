//! The web console's open sessions, in a JetStream key-value bucket (issue 30, finding 5): a
//! sign-in creates its session's key, every page finds it there, sign-out deletes it, and the
//! bucket's age limit ends it at the latest. Kept in NATS, not in one process's memory, so a
//! restart of the API signs nobody out and every API instance of the county honours a sign-out
//! at once. The value is the expiry (Unix seconds); the key is the random session id, never the
//! token, which stays sealed in the browser's cookie.

use std::time::Duration;

use async_nats::jetstream::{self, kv};

use crate::error::LogError;
use crate::subjects::SESSIONS_BUCKET;

#[derive(Clone)]
pub struct Sessions {
    kv: kv::Store,
}

impl Sessions {
    /// Open the bucket; a session lives at most `ttl`.
    pub async fn open(
        nats: &crate::Connection,
        replicas: usize,
        ttl: Duration,
    ) -> Result<Self, LogError> {
        let js = nats.jetstream();
        let kv = js
            .create_or_update_key_value(kv::Config {
                bucket: SESSIONS_BUCKET.into(),
                description: "Xinfang console sessions (ids and expiries only)".into(),
                history: 1,
                max_age: ttl,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("opening the sessions bucket", e))?;
        Ok(Sessions { kv })
    }

    /// Record session `id`, open until `expires` (Unix seconds).
    pub async fn begin(&self, id: &str, expires: i64) -> Result<(), LogError> {
        self.kv
            .put(id, expires.to_string().into())
            .await
            .map(drop)
            .map_err(|e| LogError::unavailable("recording a session", e))
    }

    /// Whether session `id` is open at `now` (Unix seconds).
    pub async fn is_open(&self, id: &str, now: i64) -> Result<bool, LogError> {
        let value = self
            .kv
            .get(id)
            .await
            .map_err(|e| LogError::unavailable("reading a session", e))?;
        Ok(value
            .and_then(|v| std::str::from_utf8(&v).ok()?.parse::<i64>().ok())
            .is_some_and(|expires| expires > now))
    }

    /// End session `id` (nothing happens when it is not open).
    pub async fn end(&self, id: &str) -> Result<(), LogError> {
        self.kv
            .purge(id)
            .await
            .map_err(|e| LogError::unavailable("ending a session", e))
    }
}
