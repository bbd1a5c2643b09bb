//! As of a past point of the log (issue 15, item 3): snapshots of a read model every
//! `every` events, and views at any sequence built from the nearest snapshot before it.
//!
//! A snapshot `DIR/snapshots/v<model version>-<seq>` is the model as it was at that sequence,
//! written compactly into a fresh sled database, never written again. It is built in the
//! background, off the live model (whose database is never copied while it is written): the
//! view at `seq` (the previous snapshot with the events since replayed over it) is written out
//! entry by entry. A view replays into memory only (`store::view`), so a query as of sequence N
//! costs the events between the snapshot and N, at most `every`. Snapshots of another model
//! version are deleted when the projector starts (a rebuilt model builds them again).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;

use eventlog::EventLog;

use crate::rebuild::AbortOnDrop;
use crate::store::Store;
use crate::{Projection, ProjectionError};

/// Views kept for the queries that follow (an auditor pages through one point of the log); each
/// holds in memory what the events since its snapshot changed.
const VIEWS: usize = 2;
/// How long a view waits for the log to deliver the events it replays.
const REPLAY_WAIT: Duration = Duration::from_secs(30);

/// A view kept: its sequence, the view, the snapshot it reads through.
type KeptView = (u64, Arc<Store>, Arc<Store>);

pub struct Snapshots {
    dir: PathBuf,
    every: u64,
    projection: Box<dyn Projection>,
    /// The snapshot databases open in this process (sled opens a database once): while a view
    /// on one is kept, it stays open.
    opened: Mutex<HashMap<u64, Weak<Store>>>,
    /// The points being replayed now.
    pending: Mutex<HashMap<u64, Arc<tokio::sync::OnceCell<Arc<Store>>>>>,
    /// The last views, each with the snapshot it reads through.
    views: Mutex<VecDeque<KeptView>>,
}

fn apply_err(seq: u64, why: impl ToString) -> ProjectionError {
    ProjectionError::Apply {
        seq,
        why: why.to_string(),
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ProjectionError + '_ {
    move |source| {
        ProjectionError::Store(crate::StoreError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

impl Snapshots {
    /// The snapshots of `projection`'s model under `model_dir`; those of another model version
    /// and unfinished ones are deleted.
    pub fn open(
        model_dir: &Path,
        projection: Box<dyn Projection>,
        every: u64,
    ) -> Result<Snapshots, ProjectionError> {
        let dir = model_dir.join("snapshots");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let prefix = format!("v{}-", projection.version());
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(Snapshots {
            dir,
            every: every.max(1),
            projection,
            opened: Mutex::default(),
            views: Mutex::default(),
            pending: Mutex::default(),
        })
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir
            .join(format!("v{}-{seq:020}", self.projection.version()))
    }

    /// The sequences of the complete snapshots, ascending.
    pub fn list(&self) -> Vec<u64> {
        let prefix = format!("v{}-", self.projection.version());
        let mut out: Vec<u64> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_prefix(&prefix)?.parse().ok()
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The snapshot at `seq` (0: an empty model), opened once while in use.
    fn snapshot(&self, seq: u64) -> Result<Arc<Store>, ProjectionError> {
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = opened.get(&seq).and_then(Weak::upgrade) {
            return Ok(s);
        }
        let path = if seq == 0 {
            self.dir.join("empty")
        } else {
            self.path(seq)
        };
        let store = Arc::new(Store::open_dir(&path, format!("snapshot-{seq}"))?);
        opened.retain(|_, w| w.strong_count() > 0);
        opened.insert(seq, Arc::downgrade(&store));
        Ok(store)
    }

    /// The model as it was at `seq`: the nearest snapshot at or before it with the events since
    /// replayed over it in memory. The caller makes sure the log reaches `seq`.
    pub async fn view(&self, log: &EventLog, seq: u64) -> Result<Arc<Store>, ProjectionError> {
        if let Some(v) = self.cached(seq) {
            return Ok(v);
        }
        // One replay per point: those asking for a point being replayed wait for it; replays of
        // other points (and a snapshot being built) run side by side.
        let cell = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.entry(seq).or_default().clone()
        };
        let view = cell
            .get_or_try_init(|| self.replay(log, seq))
            .await
            .cloned();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&seq);
        view
    }

    async fn replay(&self, log: &EventLog, seq: u64) -> Result<Arc<Store>, ProjectionError> {
        let base_seq = self
            .list()
            .into_iter()
            .filter(|s| *s <= seq)
            .max()
            .unwrap_or(0);
        let base = self.snapshot(base_seq)?;
        let mut tx = base.tx();
        tx.set_model_version(self.projection.version());
        if seq > base_seq {
            // Received and decoded on another task while this one reduces (as a rebuild does).
            let events = log
                .follow(base_seq + 1)
                .await
                .map_err(|e| apply_err(base_seq + 1, e))?;
            let (sender, mut batches) = tokio::sync::mpsc::channel(4);
            let reader = tokio::spawn(async move {
                let mut events = events.ready_chunks(1000);
                while let Ok(Some(batch)) = tokio::time::timeout(REPLAY_WAIT, events.next()).await {
                    let last = batch.last().and_then(|e| e.as_ref().ok()).map(|e| e.seq);
                    if sender.send(batch).await.is_err() || last >= Some(seq) {
                        break;
                    }
                }
            });
            let _stop = AbortOnDrop(reader);
            let mut reached = base_seq;
            'replay: while let Some(batch) = batches.recv().await {
                let batch: Vec<eventlog::Stored> = batch
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .map_err(|e| apply_err(seq, e))?;
                let opened = crate::runner::open_personal(self.projection.as_ref(), &batch).await?;
                for ev in opened.unwrap_or(batch) {
                    if ev.seq > seq {
                        reached = seq;
                        break 'replay;
                    }
                    self.projection.apply(&mut tx, &ev)?;
                    reached = ev.seq;
                    if ev.seq == seq {
                        break 'replay;
                    }
                }
            }
            if reached < seq {
                return Err(apply_err(
                    seq,
                    "the log did not deliver the events to replay",
                ));
            }
        }
        let view = Arc::new(base.view(tx.freeze(seq)));
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        views.push_front((seq, view.clone(), base.clone()));
        views.truncate(VIEWS);
        Ok(view)
    }

    fn cached(&self, seq: u64) -> Option<Arc<Store>> {
        let views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        views
            .iter()
            .find(|(s, ..)| *s == seq)
            .map(|(_, v, _)| v.clone())
    }

    /// Build every snapshot due by `applied` (each `every` events), oldest first. Returns how
    /// many were built.
    pub async fn build_due(&self, log: &EventLog, applied: u64) -> Result<usize, ProjectionError> {
        let mut next =
            self.list().last().copied().unwrap_or(0) / self.every * self.every + self.every;
        let mut built = 0;
        while next <= applied {
            self.build(log, next).await?;
            built += 1;
            next += self.every;
        }
        Ok(built)
    }

    async fn build(&self, log: &EventLog, seq: u64) -> Result<(), ProjectionError> {
        let started = std::time::Instant::now();
        let view = self.view(log, seq).await?;
        let tmp = self.dir.join(format!("tmp-{seq}"));
        let _ = std::fs::remove_dir_all(&tmp);
        let entries = {
            let out = Store::open_dir(&tmp, format!("snapshot-{seq}"))?;
            let n = view.copy_into(&out)?;
            out.flush().await?;
            n
        };
        let path = self.path(seq);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        tracing::info!(
            model = self.projection.name(),
            seq,
            entries,
            secs = started.elapsed().as_secs_f64(),
            "snapshot written"
        );
        Ok(())
    }

    /// Build snapshots as the live model moves on, until the task is dropped.
    pub async fn keep_up(
        self: Arc<Self>,
        log: EventLog,
        applied: tokio::sync::watch::Receiver<u64>,
    ) {
        loop {
            let now = *applied.borrow();
            if let Err(e) = self.build_due(&log, now).await {
                tracing::warn!(model = self.projection.name(), error = %e, "a snapshot could not be built; trying again later");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// What a model needs to answer as of a past point (`service::AsOf`), and the task that keeps
/// its snapshots as it moves on: for a model with a `projection` to replay (cases, stats);
/// without one (audit) its answers are cut at the point.
pub fn as_of(
    model_dir: &Path,
    projection: Option<Box<dyn Projection>>,
    every: u64,
    log: EventLog,
    applied: tokio::sync::watch::Receiver<u64>,
) -> Result<
    (
        Arc<crate::service::AsOf>,
        Option<tokio::task::JoinHandle<()>>,
    ),
    ProjectionError,
> {
    let snapshots = match projection {
        Some(p) => Some(Arc::new(Snapshots::open(model_dir, p, every)?)),
        None => None,
    };
    let keeper = snapshots
        .clone()
        .map(|s| tokio::spawn(s.keep_up(log.clone(), applied)));
    Ok((Arc::new(crate::service::AsOf { log, snapshots }), keeper))
}
