//! The register of erasures (`XF_ERASURES`): each erasure id requested names its case, so
//! `POST /v1/erasures/{id}/approve` finds the case, auditors can list every erasure, and the
//! ingestor re-applies every approved erasure when it starts (a data key restored from a backup
//! is erased again). Ids and case ids only; no personal data.

use async_nats::jetstream::{self, kv};

use domain::CaseId;

use crate::error::LogError;
use crate::port::{self, nats::NatsBucket, Bucket};
use crate::subjects::ERASURE_BUCKET;

#[derive(Clone)]
pub struct Erasures {
    kv: Bucket,
}

impl Erasures {
    pub async fn open(nats: &crate::Connection, replicas: usize) -> Result<Self, LogError> {
        let js = nats.jetstream();
        let kv = NatsBucket::open(
            js,
            kv::Config {
                bucket: ERASURE_BUCKET.into(),
                description: "Xinfang erasures of personal data: the case of each erasure id"
                    .into(),
                history: 1,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            },
            "opening the erasure register",
        )
        .await?;
        Ok(Erasures::on(std::sync::Arc::new(kv)))
    }

    /// The register in `bucket` (in memory, for unit tests).
    pub fn on(bucket: Bucket) -> Self {
        Erasures { kv: bucket }
    }

    /// Record that erasure `id` is of `case` (again: the same answer).
    pub async fn file(&self, id: uuid::Uuid, case: CaseId) -> Result<(), LogError> {
        self.kv
            .put(
                &id.to_string(),
                case.to_string().into(),
                "filing an erasure",
            )
            .await
    }

    /// The case of erasure `id`, if it was requested.
    pub async fn case_of(&self, id: uuid::Uuid) -> Result<Option<CaseId>, LogError> {
        let value = port::value(&*self.kv, &id.to_string(), "reading the erasure register").await?;
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
        let keys = self.kv.keys("listing the erasure register").await?;
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
