//! A read model's sled database, its checkpoint, and the write overlay reducers work on.
//!
//! One sled tree per read model; data and checkpoint are written by one `apply_batch`, which sled
//! applies atomically, so after a crash the model is at some batch boundary with the checkpoint
//! of exactly that boundary: nothing lost (the tail is re-read from the log), nothing counted twice.
//!
//! Generations: `DIR/CURRENT` names the live generation (`g-<n>`). A rebuild writes a new
//! generation beside it and then replaces `CURRENT` atomically; the running projector notices and
//! switches over.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

const CHECKPOINT: &[u8] = b"\x00checkpoint";
const MODEL_VERSION: &[u8] = b"\x00model-version";
/// sled's page cache per read model.
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("io on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt value under {key}: {source}")]
    Corrupt {
        key: String,
        source: serde_json::Error,
    },
}

pub struct Store {
    db: sled::Db,
    pub generation: String,
}

impl Store {
    pub fn open_dir(path: &Path, generation: String) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .flush_every_ms(Some(200))
            // sled caches 1 GiB by default; a service keeps within a small, fixed budget.
            .cache_capacity(CACHE_BYTES)
            .open()?;
        Ok(Store { db, generation })
    }

    /// The live generation under `dir`, created empty if there is none.
    pub fn open_current(dir: &Path) -> Result<Store, StoreError> {
        let generation = current_generation(dir)?.unwrap_or_else(|| "g-0".to_string());
        let store = Store::open_dir(&dir.join(&generation), generation.clone())?;
        set_current(dir, &generation)?;
        Ok(store)
    }

    /// Stream sequence of the last event applied (0: none).
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        Ok(self
            .db
            .get(CHECKPOINT)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// The version of the reducer that wrote this model (0: none recorded).
    pub fn model_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .db
            .get(MODEL_VERSION)?
            .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0))
    }

    /// A fresh, empty generation under `dir`, made the live one; the old one is deleted.
    pub fn open_fresh(dir: &Path) -> Result<Store, StoreError> {
        let old = current_generation(dir)?;
        let generation = new_generation();
        let store = Store::open_dir(&dir.join(&generation), generation.clone())?;
        set_current(dir, &generation)?;
        if let Some(old) = old.filter(|o| *o != generation) {
            let _ = std::fs::remove_dir_all(dir.join(old));
        }
        Ok(store)
    }

    pub fn tx(&self) -> Tx<'_> {
        Tx {
            tree: &self.db,
            overlay: BTreeMap::new(),
        }
    }

    /// Write the overlay and the checkpoint in one atomic batch. Typed values are serialized
    /// here, once per key per batch, however often the batch read and rewrote them.
    pub fn commit(&self, tx: Tx<'_>, checkpoint: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in tx.overlay {
            match v {
                Pending::Bytes(v) => batch.insert(k, v),
                Pending::Typed(v) => batch.insert(k, v.encode()),
                Pending::Removed => batch.remove(k),
            }
        }
        batch.insert(CHECKPOINT, &checkpoint.to_be_bytes());
        self.db.apply_batch(batch)?;
        Ok(())
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.db.get(key.as_bytes())? {
            None => Ok(None),
            Some(v) => decode(key, &v).map(Some),
        }
    }

    /// Values under `prefix`, in key order.
    pub fn scan<T: DeserializeOwned>(&self, prefix: &str) -> Result<Vec<(String, T)>, StoreError> {
        self.range(prefix, &format!("{prefix}\u{10FFFF}"))
    }

    /// Values with `from <= key <= to`, in key order.
    pub fn range<T: DeserializeOwned>(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.range(from.as_bytes()..=to.as_bytes()) {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let value = decode(&key, &v)?;
            out.push((key, value));
        }
        Ok(out)
    }

    /// Raw values with `from <= key <= to`, in key order.
    pub fn range_raw(&self, from: &str, to: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.range(from.as_bytes()..=to.as_bytes()) {
            let (k, v) = item?;
            out.push((String::from_utf8_lossy(&k).into_owned(), v.to_vec()));
        }
        Ok(out)
    }

    /// SHA-256 over every key and value (checkpoint included): two models built from the same
    /// log prefix have the same digest.
    pub fn digest(&self) -> Result<String, StoreError> {
        let mut h = Sha256::new();
        for item in self.db.iter() {
            let (k, v) = item?;
            h.update((k.len() as u64).to_be_bytes());
            h.update(&k);
            h.update((v.len() as u64).to_be_bytes());
            h.update(&v);
        }
        Ok(hex::encode(h.finalize()))
    }
}

fn decode<T: DeserializeOwned>(key: &str, v: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}

/// A value written in this batch, not yet in the tree.
enum Pending {
    Bytes(Vec<u8>),
    /// Kept decoded, so later events of the batch read it without JSON; encoded at commit.
    Typed(Box<dyn Record>),
    Removed,
}

/// A typed value in the overlay.
trait Record: Send {
    fn encode(&self) -> Vec<u8>;
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<T: Serialize + Send + 'static> Record for T {
    fn encode(&self) -> Vec<u8> {
        // Plain data structs; serializing them cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Reads see the batch's own writes first, then the tree.
pub struct Tx<'a> {
    tree: &'a sled::Tree,
    overlay: BTreeMap<Vec<u8>, Pending>,
}

impl Tx<'_> {
    pub fn get<T: DeserializeOwned + Clone + 'static>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.overlay.get(key.as_bytes()) {
            Some(Pending::Typed(v)) => match v.as_any().downcast_ref::<T>() {
                Some(t) => Ok(Some(t.clone())),
                None => decode(key, &v.encode()).map(Some),
            },
            Some(Pending::Bytes(b)) => decode(key, b).map(Some),
            Some(Pending::Removed) => Ok(None),
            None => match self.tree.get(key.as_bytes())? {
                Some(v) => decode(key, &v).map(Some),
                None => Ok(None),
            },
        }
    }

    /// Write `value` under `key` in this batch (serialized at commit).
    pub fn put<T: Serialize + Send + 'static>(&mut self, key: String, value: T) {
        self.overlay
            .insert(key.into_bytes(), Pending::Typed(Box::new(value)));
    }

    /// Write already encoded bytes under `key`.
    pub fn put_bytes(&mut self, key: String, bytes: Vec<u8>) {
        self.overlay.insert(key.into_bytes(), Pending::Bytes(bytes));
    }

    pub fn remove(&mut self, key: String) {
        self.overlay.insert(key.into_bytes(), Pending::Removed);
    }

    /// Record the version of the reducer writing this batch.
    pub fn set_model_version(&mut self, version: u32) {
        self.overlay.insert(
            MODEL_VERSION.to_vec(),
            Pending::Bytes(version.to_be_bytes().to_vec()),
        );
    }
}

/// A name for a new generation: `g-<milliseconds since the epoch>`.
pub fn new_generation() -> String {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("g-{stamp}")
}

pub fn current_generation(dir: &Path) -> Result<Option<String>, StoreError> {
    match std::fs::read_to_string(dir.join("CURRENT")) {
        Ok(s) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io {
            path: dir.join("CURRENT"),
            source,
        }),
    }
}

/// Point `CURRENT` at `generation` (write to a temporary file, then rename: atomic).
pub fn set_current(dir: &Path, generation: &str) -> Result<(), StoreError> {
    let io = |path: PathBuf| move |source| StoreError::Io { path, source };
    std::fs::create_dir_all(dir).map_err(io(dir.to_owned()))?;
    let tmp = dir.join("CURRENT.tmp");
    std::fs::write(&tmp, generation).map_err(io(tmp.clone()))?;
    std::fs::rename(&tmp, dir.join("CURRENT")).map_err(io(dir.join("CURRENT")))?;
    Ok(())
}
