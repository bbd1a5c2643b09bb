//! What the runner hands events to: a read model (reduce and commit with the checkpoint) or the
//! feed (reduce, publish, then commit the checkpoint).

use std::path::PathBuf;
use std::sync::Arc;

use eventlog::{LogError, Stored};

use crate::feed::FeedSink;
use crate::runner::{apply_batch, Shared};
use crate::store::{current_generation, Store, StoreError};
use crate::{Projection, ProjectionError};

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
}

impl From<ProjectionError> for SinkError {
    fn from(e: ProjectionError) -> Self {
        match e {
            ProjectionError::Store(e) => SinkError::Store(e),
            e => SinkError::Apply(e),
        }
    }
}

/// A read model served to queries: its reducer, its directory of generations and what the query
/// side shares with the runner.
pub struct ModelSink {
    pub projection: Box<dyn Projection>,
    pub dir: PathBuf,
    pub shared: Arc<Shared>,
}

impl ModelSink {
    /// Open the live model of `projection` under `dir`.
    pub fn open(projection: Box<dyn Projection>, dir: PathBuf) -> Result<Self, ProjectionError> {
        let shared = Shared::open(&dir, projection.version())?;
        Ok(ModelSink {
            projection,
            dir,
            shared,
        })
    }
}

pub enum Sink {
    Model(ModelSink),
    Feed(Box<FeedSink>),
}

impl Sink {
    pub fn name(&self) -> &'static str {
        match self {
            Sink::Model(m) => m.projection.name(),
            Sink::Feed(_) => "feed",
        }
    }

    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        match self {
            Sink::Model(m) => m.shared.store().checkpoint(),
            Sink::Feed(f) => f.checkpoint(),
        }
    }

    /// Take a batch in log order (events at or below the checkpoint are skipped); returns the
    /// checkpoint after it.
    pub async fn write(&mut self, events: &[Stored]) -> Result<u64, SinkError> {
        match self {
            Sink::Model(m) => {
                let opened = crate::runner::open_personal(m.projection.as_ref(), events).await?;
                let store = m.shared.store();
                let applied = apply_batch(
                    m.projection.as_ref(),
                    &store,
                    opened.as_deref().unwrap_or(events),
                )?;
                let _ = m.shared.applied.send_replace(applied);
                Ok(applied)
            }
            Sink::Feed(f) => f.write(events).await,
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
        }
    }
}
