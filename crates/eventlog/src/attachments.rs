//! Evidence (证据材料): scanned letters, photos and documents, in a JetStream object store,
//! content-addressed: an object is named by the SHA-256 of its bytes, so the same file is stored
//! once however often it is attached, and what an `AttachmentAdded` event names can be checked
//! against what is stored.
//!
//! Evidence of a case is stored sealed under the case's data key (`vault`) as `<case>.<sha256>`:
//! it may show a person, and it goes with the key when the case's personal data is erased.
//! Bytes stored before they are attached (`POST /v1/attachments`, for a township's `attach`)
//! wait under their plain name until the attachment seals them (`adopt`) and removes them.

use async_nats::jetstream::{self, object_store};
use sha2::{Digest as _, Sha256};

use crate::error::LogError;
use crate::port::{nats::NatsObjects, Objects};
use crate::subjects::ATTACHMENT_BUCKET;

#[derive(Clone)]
pub struct Attachments {
    objects: Objects,
}

/// The SHA-256 of `bytes`, as lowercase hex: an object's name.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Attachments {
    pub async fn open(nats: &crate::Connection, replicas: usize) -> Result<Self, LogError> {
        let js = nats.jetstream();
        let store = match js.get_object_store(ATTACHMENT_BUCKET).await {
            Ok(store) => store,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: ATTACHMENT_BUCKET.into(),
                    description: Some(
                        "Xinfang evidence: attachments of cases, named by the SHA-256 of their bytes"
                            .into(),
                    ),
                    storage: jetstream::stream::StorageType::File,
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| LogError::unavailable("opening the attachment store", e))?,
        };
        Ok(Attachments::on(std::sync::Arc::new(NatsObjects::new(
            js.clone(),
            store,
        ))))
    }

    /// The evidence in `objects` (in memory, for unit tests).
    pub fn on(objects: Objects) -> Self {
        Attachments { objects }
    }

    /// Store `bytes` under their SHA-256 (once: bytes already stored are not written again).
    /// Returns the name.
    pub async fn put(&self, bytes: &[u8]) -> Result<String, LogError> {
        let name = sha256_hex(bytes);
        if self.size(&name).await? == Some(bytes.len()) {
            return Ok(name);
        }
        self.objects.put(&name, bytes).await?;
        Ok(name)
    }

    /// The size of the object `name`, if stored.
    pub async fn size(&self, name: &str) -> Result<Option<usize>, LogError> {
        self.objects.size(name).await
    }

    /// The bytes stored under `name`, checked against it (a changed object is an error, not an
    /// answer); `None` when nothing is stored.
    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, LogError> {
        let Some(bytes) = self.objects.get(name).await? else {
            return Ok(None);
        };
        if sha256_hex(&bytes) != name {
            return Err(LogError::Inconsistent(format!(
                "attachment {name} does not hash to its name"
            )));
        }
        Ok(Some(bytes))
    }

    /// The id a waiting upload's own data key is kept under in the vault: derived from its
    /// SHA-256 (the first 16 bytes of SHA-256 of `waiting:<sha256>`), never a case's.
    pub fn waiting_key_id(sha256: &str) -> domain::CaseId {
        let digest = Sha256::digest(format!("waiting:{sha256}").as_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        domain::CaseId(uuid::Uuid::from_bytes(id))
    }

    fn waiting_name(sha256: &str) -> String {
        format!("waiting.{sha256}")
    }

    /// Store `bytes` uploaded before their case is known (`POST /v1/attachments`), sealed under
    /// their own data key (`waiting_key_id`), until an `attach` adopts them or they expire
    /// (issue 30: they stayed in plain and for ever). Returns their SHA-256.
    pub async fn put_waiting(
        &self,
        key: &cipher::DataKey,
        bytes: &[u8],
    ) -> Result<String, LogError> {
        let sha = sha256_hex(bytes);
        let (name, id) = (
            Attachments::waiting_name(&sha),
            Attachments::waiting_key_id(&sha),
        );
        self.put_sealed_as(&name, id, key, &sha, bytes).await?;
        Ok(sha)
    }

    /// Store `bytes` (of SHA-256 `sha`) as object `name`, sealed under `key` for `id`, once.
    async fn put_sealed_as(
        &self,
        name: &str,
        id: domain::CaseId,
        key: &cipher::DataKey,
        sha: &str,
        bytes: &[u8],
    ) -> Result<(), LogError> {
        if self.size(name).await?.is_none() {
            let sealed = crate::Vault::seal_bytes(key, id, sha, bytes);
            self.objects.put(name, &sealed).await?;
        }
        Ok(())
    }

    /// The waiting upload `sha256`, opened with its key, checked against its name.
    pub async fn get_waiting(
        &self,
        key: &cipher::DataKey,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>, LogError> {
        let Some(sealed) = self.object(&Attachments::waiting_name(sha256)).await? else {
            return Ok(None);
        };
        let bytes =
            crate::Vault::open_bytes(key, Attachments::waiting_key_id(sha256), sha256, &sealed)?;
        if sha256_hex(&bytes) != sha256 {
            return Err(LogError::Inconsistent(format!(
                "attachment {sha256} does not hash to its name"
            )));
        }
        Ok(Some(bytes))
    }

    /// The SHA-256 of every waiting upload stored more than `age` ago.
    pub async fn waiting_older_than(
        &self,
        age: std::time::Duration,
    ) -> Result<Vec<String>, LogError> {
        let cutoff = chrono::Utc::now().timestamp() - i64::try_from(age.as_secs()).unwrap_or(0);
        Ok(self
            .objects
            .list()
            .await?
            .into_iter()
            .filter(|(_, at)| *at <= cutoff)
            .filter_map(|(name, _)| Some(name.strip_prefix("waiting.")?.to_owned()))
            .collect())
    }

    /// Erase the waiting upload `sha256` (its chunks securely, as `erase_plain`).
    pub async fn erase_waiting(&self, sha256: &str) -> Result<(), LogError> {
        self.objects.erase(&Attachments::waiting_name(sha256)).await
    }

    /// An object's stored bytes as they are, if it is stored.
    async fn object(&self, name: &str) -> Result<Option<Vec<u8>>, LogError> {
        self.objects.get(name).await
    }

    fn sealed_name(case: domain::CaseId, sha256: &str) -> String {
        format!("{case}.{sha256}")
    }

    /// Store `bytes` as evidence of `case`, sealed under its key. Returns their SHA-256.
    pub async fn put_sealed(
        &self,
        case: domain::CaseId,
        key: &cipher::DataKey,
        bytes: &[u8],
    ) -> Result<String, LogError> {
        let sha = sha256_hex(bytes);
        let name = Attachments::sealed_name(case, &sha);
        self.put_sealed_as(&name, case, key, &sha, bytes).await?;
        Ok(sha)
    }

    /// Seal the waiting bytes named `sha256` as evidence of `case` (once), and remove the
    /// waiting copy: sealed under its own key (`waiting`), or plain (stored before sealing).
    /// Nothing to do when they are sealed already or not stored. Returns whether a sealed
    /// waiting copy was adopted (its key may then be erased).
    pub async fn adopt(
        &self,
        case: domain::CaseId,
        key: &cipher::DataKey,
        sha256: &str,
        waiting: Option<&cipher::DataKey>,
    ) -> Result<bool, LogError> {
        if self
            .size(&Attachments::sealed_name(case, sha256))
            .await?
            .is_some()
        {
            return Ok(false);
        }
        if let Some(bytes) = self.get(sha256).await? {
            self.put_sealed(case, key, &bytes).await?;
            self.erase_plain(sha256).await?;
            return Ok(false);
        }
        let Some(bytes) = (match waiting {
            Some(w) => self.get_waiting(w, sha256).await?,
            None => None,
        }) else {
            return Ok(false);
        };
        self.put_sealed(case, key, &bytes).await?;
        self.erase_waiting(sha256).await?;
        Ok(true)
    }

    /// Remove the plain object `sha256`, erasing its chunks first (JetStream's secure delete: an
    /// object store's delete only purges them, which keeps the bytes on disk until compacted).
    pub async fn erase_plain(&self, sha256: &str) -> Result<(), LogError> {
        self.objects.erase(sha256).await
    }

    /// The evidence `sha256` of `case`, opened with its key (`None` once erased), checked
    /// against its name; bytes stored before sealing are read as they are.
    pub async fn get_of(
        &self,
        case: domain::CaseId,
        key: Option<&cipher::DataKey>,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>, LogError> {
        let name = Attachments::sealed_name(case, sha256);
        let Some(sealed) = self.object(&name).await? else {
            return self.get(sha256).await;
        };
        let Some(key) = key else {
            return Ok(None);
        };
        let bytes = crate::Vault::open_bytes(key, case, sha256, &sealed)?;
        if sha256_hex(&bytes) != sha256 {
            return Err(LogError::Inconsistent(format!(
                "attachment {sha256} does not hash to its name"
            )));
        }
        Ok(Some(bytes))
    }
}
