//! Counters that never hand out a number twice: a JetStream key-value bucket whose keys are
//! advanced by compare-and-set on their revision, so concurrent writers in any process (and a
//! cluster's leader change) each get a number of their own. Case numbers are drawn from it.

use async_nats::jetstream::{self, kv};
use bytes::Bytes;

use crate::log::LogError;
use crate::subjects::CASE_NUMBERS_BUCKET;

#[derive(Clone)]
pub struct Counters {
    kv: kv::Store,
}

impl Counters {
    pub async fn open(js: &jetstream::Context, replicas: usize) -> Result<Self, LogError> {
        let kv = js
            .create_or_update_key_value(kv::Config {
                bucket: CASE_NUMBERS_BUCKET.into(),
                description: "Xinfang case number series: the last number given, per series".into(),
                history: 1,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("opening the case number bucket", e))?;
        Ok(Counters { kv })
    }

    /// The next number of `series` (1, 2, …). A number may be skipped (a caller that fails after
    /// drawing it), never given twice.
    pub async fn next(&self, series: &str) -> Result<u64, LogError> {
        loop {
            let entry = self
                .kv
                .entry(series)
                .await
                .map_err(|e| LogError::unavailable("reading a counter", e))?;
            let last = match &entry {
                Some(e) if e.operation == kv::Operation::Put => std::str::from_utf8(&e.value)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or(LogError::Unreadable {
                        what: "case number counter",
                    })?,
                _ => 0,
            };
            let next = last + 1;
            let value = Bytes::from(next.to_string());
            let written = match &entry {
                None => match self.kv.create(series, value).await {
                    Ok(_) => true,
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => false,
                    Err(e) => return Err(LogError::unavailable("creating a counter", e)),
                },
                Some(e) => match self.kv.update(series, value, e.revision).await {
                    Ok(_) => true,
                    Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => false,
                    Err(e) => return Err(LogError::unavailable("advancing a counter", e)),
                },
            };
            if written {
                return Ok(next);
            }
        }
    }
}
