//! A read model's sled database, its checkpoint, and the write overlay reducers work on.
//!
//! One sled tree per read model; data and checkpoint are written by one `apply_batch`, which sled
//! applies atomically, so after a crash the model is at some batch boundary with the checkpoint
//! of exactly that boundary: nothing lost (the tail is re-read from the log), nothing counted twice.
//!
//! Values: typed records are stored as postcard (a compact binary serde format) behind a one-byte
//! tag, because JSON encoding and decoding was a fifth of a rebuild (docs/benchmarks.md). Values
//! without the tag are JSON, as models written before read back. Types stored this way must not
//! use `skip_serializing_if` or `deserialize_any` (postcard is not self-describing); a test
//! round-trips every stored type.
//!
//! Generations: `DIR/CURRENT` names the live generation (`g-<n>`). A rebuild writes a new
//! generation beside it and then replaces `CURRENT` atomically; the running projector notices and
//! switches over.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub(crate) const CHECKPOINT: &[u8] = b"\x00checkpoint";
const MODEL_VERSION: &[u8] = b"\x00model-version";
/// sled's page cache per read model. 16 MiB, not 64: the cases projector's peak in the quick bench
/// 180 → 142 MiB with the same CPU per command; at 1.39M events the rebuild of the cases model
/// peaks 84 MB lower and runs 16 % slower (docs/benchmarks.md, "sled's cache").
pub const CACHE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("io on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt value under {key}: {why}")]
    Corrupt { key: String, why: String },
}

fn is_locked(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

pub struct Store {
    db: sled::Db,
    pub generation: String,
    /// An as-of view's snapshots over `db`, oldest first (`layered`); none for a model.
    layers: Vec<Arc<Frozen>>,
    /// The (empty) database a view's `db` belongs to, kept open while the view is.
    base: Option<Arc<Store>>,
    /// An as-of view's writes over its snapshots (`view`); none for a live model.
    overlay: Option<Arc<Overlay>>,
}

pub mod frozen;
mod view;
pub use frozen::Frozen;
pub use view::{stacked, Overlay};

impl Store {
    pub fn open_dir(path: &Path, generation: String) -> Result<Store, StoreError> {
        Store::open_with(path, generation, CACHE_BYTES, Some(200))
    }

    fn open_with(
        path: &Path,
        generation: String,
        cache: u64,
        flush_every_ms: Option<u64>,
    ) -> Result<Store, StoreError> {
        let open = || {
            sled::Config::new()
                .path(path)
                .flush_every_ms(flush_every_ms)
                // sled caches 1 GiB by default; a service keeps within a small, fixed budget.
                .cache_capacity(cache)
                .open()
        };
        // A database this process has just dropped (a rebuild's generation, opened again as the
        // live one) keeps its file lock until sled's background thread has stopped: wait for it
        // a little rather than fail. A lock held by another live process still fails.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let db = loop {
            match open() {
                Err(e) if is_locked(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other?,
            }
        };
        Ok(Store {
            db,
            generation,
            layers: Vec::new(),
            base: None,
            overlay: None,
        })
    }

    /// The live generation under `dir`, created empty if there is none.
    pub fn open_current(dir: &Path) -> Result<Store, StoreError> {
        let generation = current_generation(dir)?.unwrap_or_else(|| "g-0".to_string());
        let store = Store::open_dir(&dir.join(&generation), generation.clone())?;
        set_current(dir, &generation)?;
        Ok(store)
    }

    /// A view of this store with `overlay` over it (read only).
    pub fn view(&self, overlay: Overlay) -> Store {
        Store {
            db: self.db.clone(),
            generation: format!("{}+view", self.generation),
            layers: self.layers.clone(),
            base: self.base.clone(),
            overlay: Some(Arc::new(overlay)),
        }
    }

    /// Stream sequence of the last event applied (0: none).
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        Ok(self
            .raw_get(CHECKPOINT)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// The version of the reducer that wrote this model (0: none recorded).
    pub fn model_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .raw_get(MODEL_VERSION)?
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
            store: self,
            overlay: BTreeMap::new(),
        }
    }

    /// Write the overlay and the checkpoint in one atomic batch. Typed values are serialized
    /// here, once per key per batch, however often the batch read and rewrote them.
    pub fn commit(&self, tx: Tx<'_>, checkpoint: u64) -> Result<(), StoreError> {
        self.commit_recorded(tx, checkpoint, None)
    }

    /// `commit`, and what it wrote (the checkpoint among it) recorded over `record` too.
    pub fn commit_recorded(
        &self,
        tx: Tx<'_>,
        checkpoint: u64,
        mut record: Option<&mut Overlay>,
    ) -> Result<(), StoreError> {
        debug_assert!(
            self.base.is_none() && self.overlay.is_none(),
            "a view is never written"
        );
        let mut batch = sled::Batch::default();
        for (k, v) in tx.overlay {
            let v = match v {
                Pending::Bytes(v) => Some(v),
                Pending::Typed(v) => Some(v.encode()),
                Pending::Removed => None,
            };
            match &v {
                Some(v) => batch.insert(k.as_slice(), v.as_slice()),
                None => batch.remove(k.as_slice()),
            }
            if let Some(r) = record.as_deref_mut() {
                r.insert(k, v);
            }
        }
        let checkpoint = checkpoint.to_be_bytes();
        batch.insert(CHECKPOINT, &checkpoint);
        if let Some(r) = record {
            r.insert(CHECKPOINT.to_vec(), Some(checkpoint.to_vec()));
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }

    /// Write everything to disk now (blocking).
    pub fn flush_now(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.raw_get(key.as_bytes())? {
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
        let range = (
            Bound::Included(from.as_bytes().to_vec()),
            Bound::Included(to.as_bytes().to_vec()),
        );
        for item in self.entries(range.0, range.1) {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let value = decode(&key, &v)?;
            out.push((key, value));
        }
        Ok(out)
    }

    /// Keys from `start` on while they begin with `prefix`, in key order, read lazily (a listing
    /// stops early).
    pub fn keys_from<'a>(
        &'a self,
        prefix: &'a str,
        start: &str,
    ) -> impl Iterator<Item = Result<String, StoreError>> + 'a {
        self.entries(Bound::Included(start.as_bytes().to_vec()), Bound::Unbounded)
            .take_while(move |item| {
                item.as_ref()
                    .map_or(true, |(k, _)| k.starts_with(prefix.as_bytes()))
            })
            .map(|item| item.map(|(k, _)| String::from_utf8_lossy(&k).into_owned()))
    }

    /// SHA-256 over every key and value (checkpoint included): two models built from the same
    /// log prefix have the same digest.
    pub fn digest(&self) -> Result<String, StoreError> {
        let mut h = Sha256::new();
        for item in self.entries(Bound::Unbounded, Bound::Unbounded) {
            let (k, v) = item?;
            h.update((k.len() as u64).to_be_bytes());
            h.update(&k);
            h.update((v.len() as u64).to_be_bytes());
            h.update(&v);
        }
        Ok(hex::encode(h.finalize()))
    }
}

/// First byte of a postcard value. A JSON value never starts with it.
const POSTCARD: u8 = 0x01;

/// A record as stored: the postcard tag, then the postcard bytes.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Plain data structs serialize into a Vec without failing; should one not, JSON still reads.
    postcard::to_extend(value, vec![POSTCARD])
        .unwrap_or_else(|_| serde_json::to_vec(value).unwrap_or_default())
}

/// A stored value: postcard behind its tag, or JSON (written by earlier versions).
pub fn decode<T: DeserializeOwned>(key: &str, v: &[u8]) -> Result<T, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt {
        key: key.to_owned(),
        why,
    };
    match v.split_first() {
        Some((&POSTCARD, rest)) => postcard::from_bytes(rest).map_err(|e| corrupt(e.to_string())),
        _ => serde_json::from_slice(v).map_err(|e| corrupt(e.to_string())),
    }
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
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

impl<T: Serialize + Send + 'static> Record for T {
    fn encode(&self) -> Vec<u8> {
        encode(self)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// Reads see the batch's own writes first, then the store.
pub struct Tx<'a> {
    store: &'a Store,
    overlay: BTreeMap<Vec<u8>, Pending>,
}

impl Tx<'_> {
    pub fn get<T: DeserializeOwned + Clone + 'static>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        self.read(key, |v: Option<&T>| v.cloned())
    }

    /// The value under `key` as this batch sees it, lent to `f`: without the copy [`get`]
    /// makes of a value this batch wrote already (a case's trail chunk, read for every event).
    ///
    /// [`get`]: Tx::get
    pub fn read<T, R>(&self, key: &str, f: impl FnOnce(Option<&T>) -> R) -> Result<R, StoreError>
    where
        T: DeserializeOwned + 'static,
    {
        let bytes = match self.overlay.get(key.as_bytes()) {
            Some(Pending::Typed(v)) => match v.as_any().downcast_ref::<T>() {
                Some(t) => return Ok(f(Some(t))),
                None => v.encode(),
            },
            Some(Pending::Bytes(b)) => return Ok(f(Some(&decode(key, b)?))),
            Some(Pending::Removed) => return Ok(f(None)),
            None => match self.store.raw_get(key.as_bytes())? {
                Some(v) => v,
                None => return Ok(f(None)),
            },
        };
        Ok(f(Some(&decode(key, &bytes)?)))
    }

    /// Change the value under `key` (the default when there is none) in place: a value this batch
    /// wrote already is changed without a copy, which matters for values that grow by appends.
    pub fn update<T, R>(
        &mut self,
        key: String,
        f: impl FnOnce(&mut T) -> R,
    ) -> Result<R, StoreError>
    where
        T: Serialize + DeserializeOwned + Default + Clone + Send + 'static,
    {
        if let Some(Pending::Typed(v)) = self.overlay.get_mut(key.as_bytes()) {
            if let Some(t) = v.as_any_mut().downcast_mut::<T>() {
                return Ok(f(t));
            }
        }
        let mut value: T = self.get(&key)?.unwrap_or_default();
        let out = f(&mut value);
        self.put(key, value);
        Ok(out)
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

    /// Values under `prefix` as this batch sees them (its own writes over the tree), in key order.
    pub fn scan<T: DeserializeOwned + Clone + 'static>(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.range(prefix, &format!("{prefix}\u{10FFFF}"))
    }

    /// Values with `from <= key <= to` as this batch sees them (its own writes over the tree),
    /// in key order.
    pub fn range<T: DeserializeOwned + Clone + 'static>(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let mut found: BTreeMap<Vec<u8>, Option<T>> = BTreeMap::new();
        let (first, last) = (from.as_bytes().to_vec(), to.as_bytes().to_vec());
        for item in self.store.entries(
            Bound::Included(first.clone()),
            Bound::Included(last.clone()),
        ) {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k).into_owned();
            found.insert(k.to_vec(), Some(decode(&key, &v)?));
        }
        for (k, pending) in self.overlay.range(first..=last) {
            let key = String::from_utf8_lossy(k).into_owned();
            let value = match pending {
                Pending::Removed => None,
                Pending::Bytes(b) => Some(decode(&key, b)?),
                Pending::Typed(v) => match v.as_any().downcast_ref::<T>() {
                    Some(t) => Some(t.clone()),
                    None => Some(decode(&key, &v.encode())?),
                },
            };
            found.insert(k.clone(), value);
        }
        Ok(found
            .into_iter()
            .filter_map(|(k, v)| Some((String::from_utf8_lossy(&k).into_owned(), v?)))
            .collect())
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

#[cfg(test)]
mod tests;
