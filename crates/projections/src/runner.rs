//! Following the log into a read model, and rebuilding one from scratch.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::watch;

use eventlog::{EventLog, LogError, Stored};

use crate::store::{current_generation, set_current, Store};
use crate::{Projection, ProjectionError};

/// Largest number of events applied in one sled batch.
pub const BATCH: usize = 1000;
/// How long a projector that has caught up waits before it takes the next events.
pub const LINGER: Duration = Duration::from_millis(2);
/// Largest batch of a rebuild. A rebuilt generation is not live until it is complete, so its batches
/// only bound memory; larger ones let a case's several events in one batch become one write
/// (1,000 → 10,000: rebuilds about a quarter faster, docs/benchmarks.md).
pub const REBUILD_BATCH: usize = 10_000;

/// What the runner shares with the query side: the live store and the applied sequence.
pub struct Shared {
    store: RwLock<Arc<Store>>,
    pub applied: watch::Sender<u64>,
    /// Set while free disk space is low: the runner takes no more events until it clears, so a
    /// full disk never reaches sled (whose flusher fails for good on ENOSPC). Queries go on.
    pub storage_low: Arc<AtomicBool>,
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
            storage_low: Arc::default(),
        }))
    }

    pub fn store(&self) -> Arc<Store> {
        self.store.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn replace(&self, store: Store) -> Arc<Store> {
        let mut guard = self.store.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *guard, Arc::new(store))
    }
}

/// Apply a batch of events (skipping any at or below the checkpoint) and commit it with the new
/// checkpoint. Returns the checkpoint after the batch.
pub fn apply_batch(
    projection: &dyn Projection,
    store: &Store,
    events: &[Stored],
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
        store.commit(tx, last)?;
    }
    Ok(last)
}

/// Follow the log into the live generation under `dir` until `shutdown` resolves. Reconnects after
/// log errors; switches to a new generation when a rebuild replaces `CURRENT`. An event that does
/// not apply stops the projector with an error rather than being skipped.
pub async fn run(
    projection: &dyn Projection,
    dir: &Path,
    log: &EventLog,
    shared: &Shared,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ProjectionError> {
    tokio::pin!(shutdown);
    let mut generation_check = tokio::time::interval(Duration::from_secs(1));
    loop {
        let store = shared.store();
        let from = store.checkpoint()? + 1;
        let mut events = match log.follow(from).await {
            Ok(s) => s.ready_chunks(BATCH),
            Err(e) => {
                tracing::warn!(projector = projection.name(), error = %e, "cannot follow the log; retrying");
                tokio::select! {
                    _ = &mut shutdown => return store.flush().await.map_err(Into::into),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            tokio::select! {
                _ = &mut shutdown => {
                    store.flush().await?;
                    return Ok(());
                }
                _ = generation_check.tick() => {
                    let live = current_generation(dir)?;
                    if live.as_deref().is_some_and(|g| g != store.generation) {
                        let next = Store::open_current(dir)?;
                        tracing::info!(projector = projection.name(), generation = %next.generation, "switching to rebuilt generation");
                        let _ = shared.applied.send_replace(next.checkpoint()?);
                        let old = shared.replace(next);
                        let old_dir = dir.join(&old.generation);
                        drop(old);
                        let _ = std::fs::remove_dir_all(old_dir);
                        break;
                    }
                }
                batch = events.next() => {
                    let Some(batch) = batch else { break };
                    if shared.storage_low.load(Ordering::Relaxed) {
                        tracing::warn!(projector = projection.name(), "free disk space is low; pausing until it returns");
                        while shared.storage_low.load(Ordering::Relaxed) {
                            tokio::select! {
                                _ = &mut shutdown => return Ok(()),
                                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            }
                        }
                        tracing::info!(projector = projection.name(), "free disk space is back; resuming");
                    }
                    let mut ok = Vec::with_capacity(batch.len());
                    let mut failure: Option<LogError> = None;
                    for item in batch {
                        match item {
                            Ok(ev) => ok.push(ev),
                            Err(e) => {
                                failure = Some(e);
                                break;
                            }
                        }
                    }
                    let applied = match apply_batch(projection, &store, &ok) {
                        Ok(applied) => applied,
                        Err(e @ ProjectionError::Store(_)) => {
                            // sled does not recover from a failed write in this process. Wait
                            // for space, then stop so that the supervisor starts a fresh process,
                            // which resumes at the last committed batch: no restart loop while
                            // the disk is full.
                            tracing::error!(projector = projection.name(), error = %e, "the read model could not be written; stopping once disk space is available");
                            loop {
                                tokio::select! {
                                    _ = &mut shutdown => return Err(e),
                                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                                }
                                if !shared.storage_low.load(Ordering::Relaxed) {
                                    return Err(e);
                                }
                            }
                        }
                        Err(e) => return Err(e),
                    };
                    let _ = shared.applied.send_replace(applied);
                    if ok.len() < BATCH {
                        // Under a steady stream every event would be a batch of its own, and a
                        // sled commit per event cost more than the events themselves. A pause
                        // lets the next events gather; it adds at most LINGER to the lag.
                        tokio::time::sleep(LINGER).await;
                    }
                    if let Some(e) = failure {
                        if let LogError::Corrupt { .. } = e {
                            return Err(ProjectionError::Apply { seq: applied + 1, why: e.to_string() });
                        }
                        tracing::warn!(projector = projection.name(), error = %e, "log stream failed; resuming");
                        break;
                    }
                }
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Build a fresh generation of the read model from the start of the log up to the log's last
/// sequence at the start, then make it the live one. `progress(applied, target)` is called as it
/// goes. Returns (events applied, time taken).
pub async fn rebuild(
    projection: &dyn Projection,
    dir: &Path,
    log: &EventLog,
    progress: impl FnMut(u64, u64),
) -> Result<(u64, Duration), ProjectionError> {
    let target = log.last_seq().await.map_err(|e| ProjectionError::Apply {
        seq: 0,
        why: e.to_string(),
    })?;
    rebuild_upto(projection, dir, log, target, progress).await
}

/// [`rebuild`] up to sequence `target` (the feed refolds only what it has published).
pub async fn rebuild_upto(
    projection: &dyn Projection,
    dir: &Path,
    log: &EventLog,
    target: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<(u64, Duration), ProjectionError> {
    let generation = crate::store::new_generation();
    let path: PathBuf = dir.join(&generation);
    let started = Instant::now();
    let mut applied_events = 0u64;
    {
        let store = Store::open_dir(&path, generation.clone())?;
        if target > 0 {
            let mut events = log
                .follow(1)
                .await
                .map_err(|e| ProjectionError::Apply {
                    seq: 0,
                    why: e.to_string(),
                })?
                .ready_chunks(REBUILD_BATCH);
            // Receive and decode on another task, so the next batch is decoded while this one is
            // reduced and written (two cores: about a fifth faster).
            let (tx, mut batches) = tokio::sync::mpsc::channel(2);
            let reader = tokio::spawn(async move {
                while let Some(batch) = events.next().await {
                    if tx.send(batch).await.is_err() {
                        break;
                    }
                }
            });
            let _stop_reader = AbortOnDrop(reader);
            let mut applied = 0;
            while applied < target {
                let Some(batch) = batches.recv().await else {
                    break;
                };
                let batch: Vec<Stored> =
                    batch.into_iter().collect::<Result<_, _>>().map_err(|e| {
                        ProjectionError::Apply {
                            seq: applied + 1,
                            why: e.to_string(),
                        }
                    })?;
                let upto: Vec<Stored> = batch.into_iter().filter(|e| e.seq <= target).collect();
                applied_events += upto.len() as u64;
                applied = apply_batch(projection, &store, &upto)?.max(applied);
                progress(applied, target);
            }
        }
        store.flush().await?;
    }
    let took = started.elapsed();
    let previous = current_generation(dir)?;
    set_current(dir, &generation)?;
    // A running projector switches within a second and deletes the old generation itself; when
    // none runs, delete it here.
    if let Some(prev) = previous.filter(|p| *p != generation) {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _ = std::fs::remove_dir_all(dir.join(prev));
    }
    Ok((applied_events, took))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, version: u32, checkpoint: u64) {
        let store = Store::open_current(dir).expect("open");
        let mut tx = store.tx();
        tx.set_model_version(version);
        tx.put("k".into(), 5u32);
        store.commit(tx, checkpoint).expect("commit");
    }

    #[test]
    fn a_model_written_by_another_reducer_version_starts_afresh() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), 1, 10);
        let shared = Shared::open(dir.path(), 1).expect("same version");
        assert_eq!(*shared.applied.borrow(), 10, "kept");
        drop(shared);
        let shared = Shared::open(dir.path(), 2).expect("newer version");
        assert_eq!(*shared.applied.borrow(), 0, "replayed from the start");
        assert_eq!(shared.store().get::<u32>("k").expect("get"), None);
        let generations = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
            .count();
        assert_eq!(generations, 1, "the old generation is deleted");
    }
}
