//! The identity index: for each keyed hash of a petitioner's identifiers (`domain::identity`), the
//! cases filed under it, in a JetStream key-value bucket advanced by compare-and-set. The command
//! path files a registration here *before* appending it, so every case in the log is in the index
//! and a later command (an acceptance right after the registration) sees a consistent set of the
//! petitioner's cases. A case whose append then failed may stay filed; readers drop ids the log
//! does not know. The index holds hashes only, never a plain identifier (values are postcard).

use async_nats::jetstream::{self, kv};
use bytes::Bytes;

use domain::linking::Filed;

use crate::error::LogError;
use crate::port::{self, nats::NatsBucket, Bucket};
use crate::subjects::IDENTITY_BUCKET;

/// Most cases kept under one key; the oldest go first (the index then forgets the earliest cases
/// of a person with more registrations than this). A value holds about 90 bytes per case.
pub const MAX_FILED: usize = 1_000;

/// The cases under one key, as stored: postcard (compact; hashes are not for reading anyway).
fn encode(filed: &[Filed]) -> Result<Bytes, LogError> {
    postcard::to_allocvec(filed)
        .map(Bytes::from)
        .map_err(|e| LogError::Encode {
            what: "an identity index entry",
            source: e.into(),
        })
}

/// An entry as stored: the current layout, or the one filed before issue 14 (without the level of
/// each case, read as unknown). An entry of the current layout never reads as one of the earlier
/// layout to its last byte (its trailing level is left over, or misread as the next case's id), so
/// the earlier layout is tried first and taken only when it reads the whole value.
fn decode(bytes: &[u8]) -> Option<Vec<Filed>> {
    #[derive(serde::Deserialize)]
    struct Before14 {
        case_id: domain::CaseId,
        category: domain::Category,
        township: domain::UnitCode,
        secret: bool,
        person: domain::identity::Person,
        terminated: bool,
    }
    if let Ok((old, [])) = postcard::take_from_bytes::<Vec<Before14>>(bytes) {
        let filed = old.into_iter().map(|o| Filed {
            case_id: o.case_id,
            category: o.category,
            township: o.township,
            secret: o.secret,
            person: o.person,
            terminated: o.terminated,
            level: None,
        });
        return Some(filed.collect());
    }
    postcard::from_bytes(bytes).ok()
}

#[derive(Clone)]
pub struct Identities {
    kv: Bucket,
}

impl Identities {
    pub async fn open(nats: &crate::Connection, replicas: usize) -> Result<Self, LogError> {
        let js = nats.jetstream();
        let kv = NatsBucket::open(
            js,
            kv::Config {
                bucket: IDENTITY_BUCKET.into(),
                description: "Xinfang identity index: keyed hashes of petitioners' identifiers and the cases filed under each".into(),
                history: 1,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            },
            "opening the identity index",
        )
        .await?;
        Ok(Identities::on(std::sync::Arc::new(kv)))
    }

    /// The index in `bucket` (in memory, for unit tests).
    pub fn on(bucket: Bucket) -> Self {
        Identities { kv: bucket }
    }

    async fn entry(&self, key: &str) -> Result<(Vec<Filed>, Option<u64>), LogError> {
        match self.kv.entry(key, "reading the identity index").await? {
            Some(port::Entry {
                value: Some(value),
                revision,
            }) => {
                let filed = decode(&value).ok_or(LogError::Unreadable {
                    what: "identity index entry",
                })?;
                Ok((filed, Some(revision)))
            }
            Some(e) => Ok((Vec::new(), Some(e.revision))),
            None => Ok((Vec::new(), None)),
        }
    }

    /// The cases filed under `key`, oldest first.
    pub async fn get(&self, key: &str) -> Result<Vec<Filed>, LogError> {
        Ok(self.entry(key).await?.0)
    }

    /// Empty the index (before it is filed again from the log).
    pub async fn clear(&self) -> Result<u64, LogError> {
        let keys = self.kv.keys("listing the identity index").await?;
        for key in &keys {
            self.kv.purge(key, "clearing the identity index").await?;
        }
        Ok(keys.len() as u64)
    }

    /// Change the cases under `key` with `change` (which says whether it changed anything and
    /// what to return), by compare-and-set until no concurrent writer came between.
    async fn edit<T>(
        &self,
        key: &str,
        what: &'static str,
        mut change: impl FnMut(&mut Vec<Filed>) -> (bool, T),
    ) -> Result<T, LogError> {
        loop {
            let (mut all, revision) = self.entry(key).await?;
            let (changed, out) = change(&mut all);
            if !changed {
                return Ok(out);
            }
            if all.len() > MAX_FILED {
                all.drain(..all.len() - MAX_FILED);
            }
            let value = encode(&all)?;
            let written = match revision {
                None => self.kv.create(key, value, what).await?,
                Some(rev) => self.kv.update(key, value, rev, what).await?,
            };
            if written {
                return Ok(out);
            }
        }
    }

    /// Mark `case` under `key` as maybe terminated (see `Filed::terminated`).
    pub async fn mark_terminated(&self, key: &str, case: domain::CaseId) -> Result<(), LogError> {
        self.edit(key, "marking in the identity index", |all| {
            let mut changed = false;
            for f in all
                .iter_mut()
                .filter(|f| f.case_id == case && !f.terminated)
            {
                f.terminated = true;
                changed = true;
            }
            (changed, ())
        })
        .await
    }

    /// File `filed` under `key` (once: filing the same case and person again changes nothing) and
    /// return what was filed there before it.
    pub async fn file(&self, key: &str, filed: &Filed) -> Result<Vec<Filed>, LogError> {
        // Most keys are new (a first petition): try to create one at once, one round trip.
        let value = encode(std::slice::from_ref(filed))?;
        if self
            .kv
            .create(key, value, "filing in the identity index")
            .await?
        {
            return Ok(Vec::new());
        }
        self.refile(key, filed, false).await
    }

    /// File `filed` under `key`, replacing (in its place) what was filed for the same case and
    /// person when `replace` (a corrected category or township), and return what was filed there
    /// before it.
    pub async fn refile(
        &self,
        key: &str,
        filed: &Filed,
        replace: bool,
    ) -> Result<Vec<Filed>, LogError> {
        self.edit(key, "filing in the identity index", |all| {
            match all
                .iter()
                .position(|f| f.case_id == filed.case_id && f.person == filed.person)
            {
                Some(at) => {
                    let mut new = filed.clone();
                    new.terminated |= all[at].terminated;
                    let changed = replace && all[at] != new;
                    if changed {
                        all[at] = new;
                    }
                    (changed, all[..at].to_vec())
                }
                None => {
                    let before = all.clone();
                    all.push(filed.clone());
                    (true, before)
                }
            }
        })
        .await
    }

    /// Remove `case` from under `key` (its petitioners were corrected).
    pub async fn unfile(&self, key: &str, case: domain::CaseId) -> Result<(), LogError> {
        self.edit(key, "unfiling in the identity index", |all| {
            let n = all.len();
            all.retain(|f| f.case_id != case);
            (all.len() != n, ())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::identity::Person;
    use domain::{CaseId, Category, Level, UnitCode};

    fn filed(n: u128, level: Option<Level>) -> Filed {
        Filed {
            case_id: CaseId(uuid::Uuid::from_u128(n)),
            category: Category::Land,
            township: UnitCode::parse("gaoqiao").expect("unit"),
            secret: false,
            person: Person::default(),
            terminated: n.is_multiple_of(2),
            level,
        }
    }

    #[test]
    fn entries_of_both_layouts_read_back() {
        for n in 0..4u128 {
            let now: Vec<Filed> = (0..n).map(|i| filed(i, Some(Level::Township))).collect();
            assert_eq!(decode(&encode(&now).expect("encode")), Some(now));
            // Filed before issue 14: the same fields without the level.
            let before: Vec<Filed> = (0..n).map(|i| filed(i, None)).collect();
            let old: Vec<_> = before
                .iter()
                .map(|f| {
                    (
                        f.case_id,
                        f.category,
                        &f.township,
                        f.secret,
                        f.person,
                        f.terminated,
                    )
                })
                .collect();
            let bytes = postcard::to_allocvec(&old).expect("encode");
            assert_eq!(decode(&bytes), Some(before), "{n} cases");
        }
        assert_eq!(decode(&[0xff, 0xff]), None);
    }
}
