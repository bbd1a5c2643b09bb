//! Rebuilding a read model from scratch: a fresh generation from the start of the log, made live
//! when complete (the running projector switches to it).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;

use eventlog::{EventLog, Stored};

use crate::apply::{apply_batch, REBUILD_BATCH};
use crate::store::{current_generation, set_current, Store};
use crate::{Projection, ProjectionError};

/// Build a fresh generation of the read model from the start of the log up to the log's last
/// sequence at the start, then make it the live one. `progress(applied, target)` is called as it
/// goes. Returns (events applied, time taken).
pub async fn rebuild(
    projection: &dyn Projection,
    dir: &Path,
    log: &EventLog,
    progress: impl FnMut(u64, u64),
) -> Result<(u64, Duration), ProjectionError> {
    let target = log
        .last_seq()
        .await
        .map_err(|e| ProjectionError::Log(e.to_string()))?;
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
                .map_err(|e| ProjectionError::Log(e.to_string()))?
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
            let _stop_reader = crate::AbortOnDrop(reader);
            let mut applied = 0;
            while applied < target {
                let Some(batch) = batches.recv().await else {
                    break;
                };
                let batch: Vec<Stored> =
                    batch.into_iter().collect::<Result<_, _>>().map_err(|e| {
                        ProjectionError::Unavailable {
                            seq: applied + 1,
                            why: e.to_string(),
                        }
                    })?;
                let upto: Vec<Stored> = batch.into_iter().filter(|e| e.seq <= target).collect();
                applied_events += upto.len() as u64;
                let opened = crate::apply::open_personal(projection, &upto).await?;
                let upto = opened.as_deref().unwrap_or(&upto);
                applied = apply_batch(projection, &store, upto)?.max(applied);
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
