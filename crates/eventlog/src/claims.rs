//! The idempotency bucket as a JetStream key-value store of claims: a key is created once
//! (atomically, so of two concurrent creators one wins), read, overwritten and purged. What a
//! claim says is the command path's business (`commands::idempotency`); here it is bytes.

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use uuid::Uuid;

use crate::log::LogError;
use crate::subjects::IDEMPOTENCY_BUCKET;

#[derive(Clone)]
pub struct Claims {
    kv: kv::Store,
}

impl Claims {
    pub async fn open(
        js: &jetstream::Context,
        replicas: usize,
        max_age: Duration,
    ) -> Result<Self, LogError> {
        let kv = js
            .create_or_update_key_value(kv::Config {
                bucket: IDEMPOTENCY_BUCKET.into(),
                description: "Xinfang idempotency records (no personal data)".into(),
                history: 1,
                max_age,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("opening the idempotency bucket", e))?;
        Ok(Claims { kv })
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<Bytes>, LogError> {
        self.kv
            .get(id.to_string())
            .await
            .map_err(|e| LogError::unavailable("reading a claim", e))
    }

    /// Create the claim; `false` if one exists already. An empty value is refused: it would read
    /// back as no claim at all.
    pub async fn create(&self, id: Uuid, value: Vec<u8>) -> Result<bool, LogError> {
        if value.is_empty() {
            return Err(LogError::Empty);
        }
        match self.kv.create(id.to_string(), value.into()).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(LogError::unavailable("creating a claim", e)),
        }
    }

    pub async fn put(&self, id: Uuid, value: Vec<u8>) -> Result<(), LogError> {
        if value.is_empty() {
            return Err(LogError::Empty);
        }
        self.kv
            .put(id.to_string(), value.into())
            .await
            .map(|_| ())
            .map_err(|e| LogError::unavailable("writing a claim", e))
    }

    pub async fn purge(&self, id: Uuid) -> Result<(), LogError> {
        self.kv
            .purge(id.to_string())
            .await
            .map_err(|e| LogError::unavailable("purging a claim", e))
    }
}
