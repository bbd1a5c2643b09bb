//! The idempotency bucket as a JetStream key-value store of claims: a key is created once
//! (atomically, so of two concurrent creators one wins), read, overwritten and purged. What a
//! claim says is the command path's business (`commands::idempotency`); here it is bytes.

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use uuid::Uuid;

use crate::error::LogError;
use crate::port::{self, nats::NatsBucket, Bucket};
use crate::subjects::IDEMPOTENCY_BUCKET;

#[derive(Clone)]
pub struct Claims {
    kv: Bucket,
}

impl Claims {
    pub async fn open(
        nats: &crate::Connection,
        replicas: usize,
        max_age: Duration,
    ) -> Result<Self, LogError> {
        let js = nats.jetstream();
        let kv = NatsBucket::open(
            js,
            kv::Config {
                bucket: IDEMPOTENCY_BUCKET.into(),
                description: "Xinfang idempotency records (no personal data)".into(),
                history: 1,
                max_age,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            },
            "opening the idempotency bucket",
        )
        .await?;
        Ok(Claims::on(std::sync::Arc::new(kv)))
    }

    /// The claims in `bucket` (in memory, for unit tests).
    pub fn on(bucket: Bucket) -> Self {
        Claims { kv: bucket }
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<Bytes>, LogError> {
        port::value(&*self.kv, &id.to_string(), "reading a claim").await
    }

    /// Create the claim; `false` if one exists already. An empty value is refused: it would read
    /// back as no claim at all.
    pub async fn create(&self, id: Uuid, value: Vec<u8>) -> Result<bool, LogError> {
        if value.is_empty() {
            return Err(LogError::Empty);
        }
        self.kv
            .create(&id.to_string(), value.into(), "creating a claim")
            .await
    }

    pub async fn put(&self, id: Uuid, value: Vec<u8>) -> Result<(), LogError> {
        if value.is_empty() {
            return Err(LogError::Empty);
        }
        self.kv
            .put(&id.to_string(), value.into(), "writing a claim")
            .await
    }

    pub async fn purge(&self, id: Uuid) -> Result<(), LogError> {
        self.kv.purge(&id.to_string(), "purging a claim").await
    }
}
