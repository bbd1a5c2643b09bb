//! Applying events to a read model's store: opening their personal data for a model that may
//! read it, one atomic batch with its checkpoint, the store the query side shares, and what a
//! sink's write can fail with. Below the runner, the rebuild, the sinks and the snapshots alike.

use std::path::Path;
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use eventlog::{LogError, Stored};

use crate::store::{Store, StoreError};
use crate::{Projection, ProjectionError};

/// Largest batch of a rebuild. A rebuilt generation is not live until it is complete, so its batches
/// only bound memory; larger ones let a case's several events in one batch become one write
/// (1,000 → 10,000: rebuilds about a quarter faster, docs/benchmarks.md).
pub const REBUILD_BATCH: usize = 10_000;

/// What the runner shares with the query side: the live store and the applied sequence.
pub struct Shared {
    store: RwLock<Arc<Store>>,
    pub applied: watch::Sender<u64>,
}

impl Shared {
    /// Open the live model under `dir`; one written by another `version` of the reducer is
    /// replaced by a fresh, empty generation (the runner then replays the log into it).
    pub fn open(dir: &Path, version: u32) -> Result<Arc<Shared>, ProjectionError> {
        let mut store = Store::open_current(dir)?;
        if store.checkpoint()? > 0 && store.model_version()? != version {
            tracing::warn!(dir = %dir.display(), found = store.model_version()?, version, "read model written by another version; rebuilding from the log");
            drop(store);
            store = Store::open_fresh(dir)?;
        }
        let (applied, _) = watch::channel(store.checkpoint()?);
        Ok(Arc::new(Shared {
            store: RwLock::new(Arc::new(store)),
            applied,
        }))
    }

    pub fn store(&self) -> Arc<Store> {
        self.store.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn replace(&self, store: Store) -> Arc<Store> {
        let mut guard = self.store.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *guard, Arc::new(store))
    }
}

/// The events of `batch` as `projection` takes them: with their personal data opened when it
/// has the data keys (`Projection::vault`), else as they are. An erased case's fields stay shut
/// (its key is gone); a case erased later in the log is dropped from the model by that event.
pub async fn open_personal(
    projection: &dyn Projection,
    batch: &[Stored],
) -> Result<Option<Vec<Stored>>, ProjectionError> {
    let Some(vault) = projection.vault() else {
        return Ok(None);
    };
    if batch.iter().all(|e| e.envelope.personal.is_none()) {
        return Ok(None);
    }
    let mut opened = batch.to_vec();
    // An event that is not a fact is not opened (a forged one may carry anything there). The
    // batch's keys are read at once, not one round trip per case.
    let sealed = |e: &&mut Stored| e.admitted() && e.envelope.personal.is_some();
    let keys = vault
        .keys(opened.iter_mut().filter(sealed).map(|e| e.envelope.case_id))
        .await
        .map_err(|e| {
            let (seq, why) = (batch.first().map_or(0, |s| s.seq), e.to_string());
            if e.is_transient() {
                ProjectionError::Unavailable { seq, why }
            } else {
                ProjectionError::Apply { seq, why }
            }
        })?;
    for ev in opened.iter_mut().filter(|e| e.admitted()) {
        let key = keys.get(&ev.envelope.case_id).and_then(Option::as_ref);
        eventlog::Vault::open_with_key(&mut ev.envelope, key).map_err(|e| {
            ProjectionError::Apply {
                seq: ev.seq,
                why: e.to_string(),
            }
        })?;
    }
    Ok(Some(opened))
}

/// Apply a batch of events (skipping any at or below the checkpoint) and commit it with the new
/// checkpoint. Returns the checkpoint after the batch.
pub fn apply_batch(
    projection: &dyn Projection,
    store: &Store,
    events: &[Stored],
) -> Result<u64, ProjectionError> {
    apply_batch_recorded(projection, store, events, None)
}

/// `apply_batch`, with what it committed recorded over `record` too.
pub fn apply_batch_recorded(
    projection: &dyn Projection,
    store: &Store,
    events: &[Stored],
    record: Option<&mut crate::store::Overlay>,
) -> Result<u64, ProjectionError> {
    let checkpoint = store.checkpoint()?;
    let mut tx = store.tx();
    tx.set_model_version(projection.version());
    let mut last = checkpoint;
    for ev in events.iter().filter(|e| e.seq > checkpoint) {
        projection.apply(&mut tx, ev)?;
        last = ev.seq;
    }
    if last > checkpoint {
        store.commit_recorded(tx, last, record)?;
    }
    Ok(last)
}

/// Why a sink did not take a batch; the runner's failure policy depends on which.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The store could not be written (a full disk).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event does not apply: a bug or damage, never skipped.
    #[error(transparent)]
    Apply(ProjectionError),
    /// Publishing failed; nothing was committed.
    #[error(transparent)]
    Publish(#[from] LogError),
    /// The log could not be read for an event (transient); nothing was committed.
    #[error(transparent)]
    Unavailable(ProjectionError),
}

impl From<ProjectionError> for SinkError {
    fn from(e: ProjectionError) -> Self {
        match e {
            ProjectionError::Store(e) => SinkError::Store(e),
            e @ (ProjectionError::Unavailable { .. } | ProjectionError::Log(_)) => {
                SinkError::Unavailable(e)
            }
            e => SinkError::Apply(e),
        }
    }
}
