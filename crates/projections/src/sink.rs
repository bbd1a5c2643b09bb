//! What the runner hands events to: a read model (reduce and commit with the checkpoint), the
//! feed or the notices (reduce, publish, then commit the checkpoint).

use std::path::PathBuf;
use std::sync::Arc;

use eventlog::Stored;

use crate::apply::{apply_batch, apply_batch_recorded, Shared, SinkError};
use crate::feed::FeedSink;
use crate::notify::NotifySink;
use crate::snapshots::{Recorder, Snapshots};
use crate::store::Overlay;
use crate::store::{current_generation, Store, StoreError};
use crate::{Projection, ProjectionError};

/// A read model served to queries: its reducer, its directory of generations and what the query
/// side shares with the runner.
pub struct ModelSink {
    pub projection: Box<dyn Projection>,
    pub dir: PathBuf,
    pub shared: Arc<Shared>,
    /// Writes the model's snapshot deltas as it goes (`snapshots`), if it keeps snapshots.
    pub recorder: Option<Recorder>,
}

impl ModelSink {
    /// Open the live model of `projection` under `dir`.
    pub fn open(projection: Box<dyn Projection>, dir: PathBuf) -> Result<Self, ProjectionError> {
        let shared = Shared::open(&dir, projection.version())?;
        Ok(ModelSink {
            projection,
            dir,
            shared,
            recorder: None,
        })
    }

    /// Record the model's snapshot deltas into `snapshots` as its batches commit.
    pub fn record_snapshots(&mut self, snapshots: Arc<Snapshots>) -> Result<(), StoreError> {
        self.recorder = Some(Recorder::new(snapshots, self.shared.store().checkpoint()?));
        Ok(())
    }

    /// Apply `events` (opened) in batches cut at the snapshot points, each point's delta
    /// written once the model has reached it. Returns the checkpoint after them.
    fn apply(&mut self, events: &[Stored]) -> Result<u64, ProjectionError> {
        let store = self.shared.store();
        let projection = self.projection.as_ref();
        let Some(recorder) = self.recorder.as_mut() else {
            return apply_batch(projection, &store, events);
        };
        let mut applied = store.checkpoint()?;
        recorder.follow(applied);
        let mut rest: &[Stored] = events;
        while let Some(first) = rest.iter().position(|e| e.seq > applied) {
            rest = &rest[first..];
            let point = recorder.next_point();
            let n = rest.iter().take_while(|e| e.seq <= point).count();
            if n > 0 {
                let mut changes = Overlay::new();
                applied = apply_batch_recorded(projection, &store, &rest[..n], Some(&mut changes))?;
                recorder.committed(applied, changes);
                rest = &rest[n..];
            }
            // At the point, or the next event is past it: the model holds what it held there.
            if applied == point || !rest.is_empty() {
                recorder.reached();
            }
        }
        Ok(applied)
    }
}

pub enum Sink {
    Model(ModelSink),
    Feed(Box<FeedSink>),
    Notify(Box<NotifySink>),
}

impl Sink {
    pub fn name(&self) -> &'static str {
        match self {
            Sink::Model(m) => m.projection.name(),
            Sink::Feed(_) => "feed",
            Sink::Notify(_) => "notify",
        }
    }

    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        match self {
            Sink::Model(m) => m.shared.store().checkpoint(),
            Sink::Feed(f) => f.checkpoint(),
            Sink::Notify(n) => n.checkpoint(),
        }
    }

    /// Take a batch in log order (events at or below the checkpoint are skipped); returns the
    /// checkpoint after it.
    pub async fn write(&mut self, events: &[Stored]) -> Result<u64, SinkError> {
        match self {
            Sink::Model(m) => {
                let opened = crate::apply::open_personal(m.projection.as_ref(), events).await?;
                let applied = m.apply(opened.as_deref().unwrap_or(events))?;
                let _ = m.shared.applied.send_replace(applied);
                Ok(applied)
            }
            Sink::Feed(f) => f.write(events).await,
            Sink::Notify(n) => n.write(events).await,
        }
    }

    /// A rebuild replaced the live generation: switch to it. `true` when switched (the runner
    /// then follows again from the new checkpoint).
    pub fn switch_if_rebuilt(&mut self) -> Result<bool, ProjectionError> {
        let Sink::Model(m) = self else {
            return Ok(false);
        };
        let store = m.shared.store();
        let live = current_generation(&m.dir)?;
        if live.as_deref().is_none_or(|g| g == store.generation) {
            return Ok(false);
        }
        let next = Store::open_current(&m.dir)?;
        tracing::info!(projector = m.projection.name(), generation = %next.generation, "switching to rebuilt generation");
        let _ = m.shared.applied.send_replace(next.checkpoint()?);
        drop(store);
        let old = m.shared.replace(next);
        let old_dir = m.dir.join(&old.generation);
        drop(old);
        let _ = std::fs::remove_dir_all(old_dir);
        Ok(true)
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        match self {
            Sink::Model(m) => m.shared.store().flush().await.map(|_| ()),
            Sink::Feed(f) => f.flush().await,
            Sink::Notify(n) => n.flush().await,
        }
    }
}
