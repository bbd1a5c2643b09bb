//! The register of erasures (`XF_ERASURES`): each erasure id requested names its case, so
//! `POST /v1/erasures/{id}/approve` finds the case, auditors can list every erasure, and the
//! ingestor re-applies every approved erasure when it starts (a data key restored from a backup
//! is erased again). Ids and case ids only; no personal data.

use async_nats::jetstream::{self, kv};
use futures::TryStreamExt as _;

use domain::CaseId;

use crate::log::LogError;
use crate::subjects::ERASURE_BUCKET;

#[derive(Clone)]
pub struct Erasures {
    kv: kv::Store,
}

impl Erasures {
    pub async fn open(js: &jetstream::Context, replicas: usize) -> Result<Self, LogError> {
        let kv = js
            .create_or_update_key_value(kv::Config {
                bucket: ERASURE_BUCKET.into(),
                description: "Xinfang erasures of personal data: the case of each erasure id"
                    .into(),
                history: 1,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("opening the erasure register", e))?;
        Ok(Erasures { kv })
    }

    /// Record that erasure `id` is of `case` (again: the same answer).
    pub async fn file(&self, id: uuid::Uuid, case: CaseId) -> Result<(), LogError> {
        self.kv
            .put(id.to_string(), case.to_string().into())
            .await
            .map(|_| ())
            .map_err(|e| LogError::unavailable("filing an erasure", e))
    }

    /// The case of erasure `id`, if it was requested.
    pub async fn case_of(&self, id: uuid::Uuid) -> Result<Option<CaseId>, LogError> {
        let value = self
            .kv
            .get(id.to_string())
            .await
            .map_err(|e| LogError::unavailable("reading the erasure register", e))?;
        value
            .map(|v| {
                std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse::<uuid::Uuid>().ok())
                    .map(CaseId)
                    .ok_or(LogError::Unreadable {
                        what: "erasure register entry",
                    })
            })
            .transpose()
    }

    /// Every case with an erasure requested, once each.
    pub async fn cases(&self) -> Result<Vec<CaseId>, LogError> {
        let keys: Vec<String> = match self.kv.keys().await {
            Ok(keys) => keys
                .try_collect()
                .await
                .map_err(|e| LogError::unavailable("listing the erasure register", e))?,
            Err(e) => return Err(LogError::unavailable("listing the erasure register", e)),
        };
        let mut cases = Vec::new();
        for key in keys {
            let Ok(id) = key.parse::<uuid::Uuid>() else {
                continue;
            };
            if let Some(case) = self.case_of(id).await? {
                if !cases.contains(&case) {
                    cases.push(case);
                }
            }
        }
        Ok(cases)
    }
}
