//! The live projector's side of the snapshots: what its batches commit, gathered between two
//! snapshot points and written as the delta of the later one once the model has reached it.

use std::sync::Arc;

use super::{Snap, Snapshots};
use crate::store::{Overlay, CHECKPOINT};

pub struct Recorder {
    snapshots: Arc<Snapshots>,
    /// The model's checkpoint as last seen.
    at: u64,
    /// The last snapshot point passed.
    point: u64,
    /// Whether `changes` hold everything committed since `point` (not after a start or a switch
    /// between two points).
    whole: bool,
    changes: Overlay,
}

impl Recorder {
    /// Record for `snapshots` from a model at `checkpoint`.
    pub fn new(snapshots: Arc<Snapshots>, checkpoint: u64) -> Recorder {
        let point = checkpoint / snapshots.every * snapshots.every;
        Recorder {
            snapshots,
            at: checkpoint,
            point,
            whole: point == checkpoint,
            changes: Overlay::new(),
        }
    }

    /// The model is at `checkpoint` before its next batch: a model that moved on without this
    /// recorder (a rebuilt generation) is recorded again from its next point.
    pub fn follow(&mut self, checkpoint: u64) {
        if checkpoint != self.at {
            *self = Recorder::new(self.snapshots.clone(), checkpoint);
        }
    }

    /// The snapshot point the next batch must not pass.
    pub fn next_point(&self) -> u64 {
        self.snapshots.point_after(self.point)
    }

    /// A batch committed, bringing the model to `checkpoint`, wrote `changes`.
    pub fn committed(&mut self, checkpoint: u64, changes: Overlay) {
        self.at = checkpoint;
        if self.whole {
            self.changes.extend(changes);
        }
    }

    /// The model holds what it held at the next point (it is there, or its next event is past
    /// it): write that point's delta, if everything since the last one was recorded and no
    /// snapshot is there yet, on a blocking thread (the projector goes on; until the file is
    /// there the point counts as being recorded, so it is not also built from the log). A delta
    /// that cannot be written is left to be built from the log (snapshots are disposable).
    /// Returns the point.
    pub fn reached(&mut self) -> u64 {
        let point = self.next_point();
        let changes = std::mem::take(&mut self.changes);
        if self.whole && !self.snapshots.list().iter().any(|s| s.to == point) {
            let mut changes = changes;
            changes.insert(CHECKPOINT.to_vec(), Some(point.to_be_bytes().to_vec()));
            let snap = Snap {
                to: point,
                from: Some(self.point),
            };
            let snapshots = self.snapshots.clone();
            snapshots.recording(point, true);
            tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let from = snap.from.unwrap_or(0);
                let written = snapshots
                    .trimmed(from, changes)
                    .and_then(|changes| snapshots.write(snap, changes.into_iter().map(Ok)));
                match written {
                    Ok(entries) => tracing::debug!(
                        model = snapshots.projection.name(),
                        point,
                        entries,
                        secs = started.elapsed().as_secs_f64(),
                        "snapshot recorded"
                    ),
                    Err(e) => {
                        tracing::warn!(model = snapshots.projection.name(), point, error = %e, "a snapshot delta could not be written; it will be built from the log")
                    }
                }
                snapshots.recording(point, false);
            });
        }
        self.point = point;
        self.whole = true;
        point
    }
}

impl Snapshots {
    /// What a delta since `from` needs of `changes`: every value, and a removal only of a key
    /// the model held at `from`. A key made and removed between the two points (a case's status
    /// and queue entries as it goes through its steps) is nothing to a view, and was about half
    /// of a cases delta (issue 31). Every removal is kept when `from`'s snapshot is not there to
    /// tell.
    fn trimmed(&self, from: u64, changes: Overlay) -> Result<Overlay, crate::ProjectionError> {
        let (base, top) = self.base(from)?;
        if top != from {
            return Ok(changes);
        }
        let mut kept = Overlay::new();
        for (key, value) in changes {
            if value.is_some() || base.holds(&key)? {
                kept.insert(key, value);
            }
        }
        Ok(kept)
    }
}
