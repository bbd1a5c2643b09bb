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

    pub fn tx(&self) -> Tx<'_> {
        Tx {
            tree: &self.db,
            overlay: BTreeMap::new(),
        }
    }

    /// Write the overlay and the checkpoint in one atomic batch.
    pub fn commit(&self, tx: Tx<'_>, checkpoint: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in tx.overlay {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
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

/// Reads see the batch's own writes first, then the tree.
pub struct Tx<'a> {
    tree: &'a sled::Tree,
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Tx<'_> {
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let bytes = match self.overlay.get(key.as_bytes()) {
            Some(Some(v)) => Some(v.clone()),
            Some(None) => None,
            None => self.tree.get(key.as_bytes())?.map(|v| v.to_vec()),
        };
        bytes.map(|b| decode(key, &b)).transpose()
    }

    pub fn put<T: Serialize>(&mut self, key: String, value: &T) {
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        self.overlay.insert(key.into_bytes(), Some(bytes));
    }

    pub fn remove(&mut self, key: String) {
        self.overlay.insert(key.into_bytes(), None);
    }
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
