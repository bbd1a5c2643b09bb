//! As of a past point of the log (issue 15, item 3): snapshots of a read model every `every`
//! events, and views at any sequence built from the snapshots before it.
//!
//! A snapshot is a file written once (`store::frozen`), never written again: the keys the events
//! of a stretch of the log changed, with their values at its end (a removal kept as such),
//! named `DIR/snapshots/v<model version>-<to>-from-<from>.snap`. Most are **deltas**, one
//! stretch of `every` events each. The live projector writes them as it goes (`Recorder`: what
//! its batches committed, cut at the points), so they cost no second pass over the log. Every
//! `layers`-th point also gets a **level** (`levels`): the deltas since the `layers`-th point
//! before it stacked into one file, written in the background; every `layers`-th level point a
//! level over those levels, and so on. A view reads the fewest files that lead from the empty
//! model to its point (`chain`): at most `layers - 1` of each size, and the levels of the
//! largest size there is, one per `every × layers^k` events. Disk grows with the log (each
//! change is in a delta and in at most one level of each size, fewer once overwritten), not
//! with its square as a full copy of the model at every `layers`-th point did (2.2 GB at 1.4
//! million events: docs/benchmarks.md). A full snapshot (`v<model version>-<to>.snap`, written
//! by earlier versions) is still read. A point the projector could not record (it started
//! between two points, or a rebuild switched generations) is built in the background by
//! replaying its stretch of the log over the snapshots before it. A view at N reads the chain of
//! snapshots up to the last point at or before N with the events since replayed over it in
//! memory (`store::view`), at most `every` of them. Snapshots of another model version are
//! deleted when the projector starts (a rebuilt model builds them again).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;

use eventlog::EventLog;

mod chain;
mod levels;
mod recorder;
pub use chain::chain;
pub use recorder::Recorder;

use crate::store::{frozen, Frozen, Store};
use crate::AbortOnDrop;
use crate::{Projection, ProjectionError};

/// Views kept for the queries that follow (an auditor pages through one point of the log); each
/// holds in memory what the events since its last snapshot changed.
const VIEWS: usize = 2;
/// How long a view waits for the log to deliver the events it replays.
const REPLAY_WAIT: Duration = Duration::from_secs(30);
/// Views built at once per model: with the kept ones, a model holds at most `BUILDS + VIEWS`
/// overlays of at most `snapshot_events` events each.
const BUILDS: usize = 2;

/// A snapshot: the model at `to`, whole (`from` none) or as what changed since `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snap {
    pub to: u64,
    pub from: Option<u64>,
}

impl Snap {
    fn name(&self, version: u32) -> String {
        match self.from {
            None => format!("v{version}-{:020}.snap", self.to),
            Some(from) => format!("v{version}-{:020}-from-{from:020}.snap", self.to),
        }
    }

    fn parse(name: &str, version: u32) -> Option<Snap> {
        let rest = name.strip_prefix(&format!("v{version}-"))?;
        let rest = rest.strip_suffix(".snap")?;
        Some(match rest.split_once("-from-") {
            None => Snap {
                to: rest.parse().ok()?,
                from: None,
            },
            Some((to, from)) => Snap {
                to: to.parse().ok()?,
                from: Some(from.parse().ok()?),
            },
        })
    }
}

/// A view and the sequence of the last snapshot it reads.
type View = (Arc<Store>, u64);
/// A view kept: its sequence, the view, the last snapshot it reads.
type KeptView = (u64, Arc<Store>, u64);

pub struct Snapshots {
    dir: PathBuf,
    every: u64,
    /// Every this many snapshots of one size, a level over them (at least 2).
    layers: u64,
    projection: Box<dyn Projection>,
    /// The empty database every view reads below its snapshots.
    empty: Arc<Store>,
    /// The snapshot files open in this process: while a view reads one, it stays open.
    opened: Mutex<HashMap<Snap, Weak<Frozen>>>,
    /// The points being replayed now.
    pending: Mutex<HashMap<u64, Arc<tokio::sync::OnceCell<View>>>>,
    /// Points replayed at once (issue 30, finding 7: a hundred at once took the projector's
    /// memory from 316 to 681 MB and a live read 7 s); one more is `ProjectionError::Busy`.
    builds: Arc<tokio::sync::Semaphore>,
    /// The last views.
    views: Mutex<VecDeque<KeptView>>,
    /// The points whose deltas the live projector is writing now.
    recording: Mutex<std::collections::BTreeSet<u64>>,
}

fn apply_err(seq: u64, why: impl ToString) -> ProjectionError {
    ProjectionError::Apply {
        seq,
        why: why.to_string(),
    }
}

/// Write `entries` to `tmp`, then rename it to `done`.
fn write_file(
    tmp: &Path,
    done: &Path,
    entries: impl Iterator<Item = Result<frozen::Change, crate::StoreError>>,
) -> Result<u64, ProjectionError> {
    let n = frozen::write(tmp, entries)?;
    std::fs::rename(tmp, done).map_err(io(done))?;
    Ok(n)
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
    /// The snapshots of `projection`'s model under `model_dir`, one every `every` events and a
    /// level over every `layers` of one size; those of another model version and unfinished
    /// ones are deleted.
    pub fn open(
        model_dir: &Path,
        projection: Box<dyn Projection>,
        every: u64,
        layers: u64,
    ) -> Result<Snapshots, ProjectionError> {
        let dir = model_dir.join("snapshots");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let version = projection.version();
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if Snap::parse(&name, version).is_none() {
                // Unfinished, of another version, or of the sled format before files.
                let _ = std::fs::remove_dir_all(entry.path());
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let empty = Arc::new(Store::open_dir(&dir.join("empty"), "empty".into())?);
        Ok(Snapshots {
            dir,
            every: every.max(1),
            layers: layers.max(2),
            projection,
            empty,
            opened: Mutex::default(),
            views: Mutex::default(),
            pending: Mutex::default(),
            builds: Arc::new(tokio::sync::Semaphore::new(BUILDS)),
            recording: Mutex::default(),
        })
    }

    fn path(&self, snap: Snap) -> PathBuf {
        self.dir.join(snap.name(self.projection.version()))
    }

    /// The complete snapshots, by sequence.
    pub fn list(&self) -> Vec<Snap> {
        let version = self.projection.version();
        let mut out: Vec<Snap> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Snap::parse(&e.file_name().to_string_lossy(), version))
            .collect();
        out.sort_unstable();
        out
    }

    /// A snapshot's file, opened once while in use.
    fn snapshot(&self, snap: Snap) -> Result<Arc<Frozen>, ProjectionError> {
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = opened.get(&snap).and_then(Weak::upgrade) {
            return Ok(s);
        }
        let frozen = Arc::new(Frozen::open(&self.path(snap))?);
        opened.retain(|_, w| w.strong_count() > 0);
        opened.insert(snap, Arc::downgrade(&frozen));
        Ok(frozen)
    }

    /// The model at the last snapshot point at or before `n` (read through its chain) and that
    /// point.
    fn base(&self, n: u64) -> Result<(Store, u64), ProjectionError> {
        let chain = chain(&self.list(), n);
        let top = chain.last().map_or(0, |s| s.to);
        let layers = chain
            .iter()
            .map(|s| self.snapshot(*s))
            .collect::<Result<_, _>>()?;
        Ok((Store::layered(self.empty.clone(), layers), top))
    }

    /// The model as it was at `seq`: its snapshots up to it with the events since replayed over
    /// them in memory. The caller makes sure the log reaches `seq`.
    pub async fn view(&self, log: &EventLog, seq: u64) -> Result<Arc<Store>, ProjectionError> {
        Ok(self.view_over(log, seq).await?.0)
    }

    /// A view at `seq` and the sequence of the last snapshot it reads.
    async fn view_over(&self, log: &EventLog, seq: u64) -> Result<View, ProjectionError> {
        if let Some(v) = self.cached(seq) {
            return Ok(v);
        }
        // One replay per point: those asking for a point being replayed wait for it; at most
        // BUILDS other points are replayed side by side, and one more is refused at once (the
        // API answers 429 with Retry-After) rather than queued.
        let (cell, permit) = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            match pending.get(&seq) {
                Some(cell) => (cell.clone(), None),
                None => {
                    let permit = self
                        .builds
                        .clone()
                        .try_acquire_owned()
                        .map_err(|_| ProjectionError::Busy { seq })?;
                    (pending.entry(seq).or_default().clone(), Some(permit))
                }
            }
        };
        let view = cell
            .get_or_try_init(|| self.replay(log, seq))
            .await
            .cloned();
        drop(permit);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&seq);
        view
    }

    async fn replay(&self, log: &EventLog, seq: u64) -> Result<View, ProjectionError> {
        let (base, base_seq) = self.base(seq)?;
        let mut tx = base.tx();
        tx.set_model_version(self.projection.version());
        if seq > base_seq {
            // Received and decoded on another task while this one reduces (as a rebuild does).
            // Pulled: a replay holds about one batch of the log, however many run, and the
            // server never drops it as a slow consumer (which restarted it from the start).
            let events = log
                .follow_bounded(base_seq + 1)
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
                let opened = crate::apply::open_personal(self.projection.as_ref(), &batch).await?;
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
        views.push_front((seq, view.clone(), base_seq));
        views.truncate(VIEWS);
        Ok((view, base_seq))
    }

    fn cached(&self, seq: u64) -> Option<View> {
        let views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        views
            .iter()
            .find(|(s, ..)| *s == seq)
            .map(|(_, v, top)| (v.clone(), *top))
    }

    /// Mark `point`'s delta as being written by the live projector (or no longer).
    fn recording(&self, point: u64, now: bool) {
        let mut recording = self.recording.lock().unwrap_or_else(|p| p.into_inner());
        if now {
            recording.insert(point);
        } else {
            recording.remove(&point);
        }
    }

    fn is_recording(&self, point: u64) -> bool {
        let recording = self.recording.lock().unwrap_or_else(|p| p.into_inner());
        recording.contains(&point)
    }

    /// Wait until no delta is being written.
    pub async fn recorded(&self) {
        while !self
            .recording
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The snapshot point after `seq`.
    fn point_after(&self, seq: u64) -> u64 {
        seq / self.every * self.every + self.every
    }

    /// Write `entries` as snapshot `snap` (to a temporary file, then renamed: a snapshot is
    /// complete or absent). Returns how many entries it holds.
    fn write(
        &self,
        snap: Snap,
        entries: impl Iterator<Item = Result<frozen::Change, crate::StoreError>>,
    ) -> Result<u64, ProjectionError> {
        write_file(&self.tmp(snap), &self.path(snap), entries)
    }

    fn tmp(&self, snap: Snap) -> PathBuf {
        self.dir
            .join(format!("tmp-{}", snap.name(self.projection.version())))
    }

    /// Build every snapshot due by `applied` that is missing, oldest first: a point the live
    /// projector did not record (replayed from the log), then the levels (`levels`). Returns
    /// how many were built.
    pub async fn build_due(&self, log: &EventLog, applied: u64) -> Result<usize, ProjectionError> {
        let mut built = 0;
        let have = self.list();
        let mut point = self.every;
        while point <= applied {
            // A point whose delta is being written is left to the live projector.
            if !self.is_recording(point) && !have.iter().any(|s| s.to == point) {
                self.build(log, point).await?;
                built += 1;
            }
            point += self.every;
        }
        Ok(built + self.build_levels(applied).await?)
    }

    /// Write the delta at `seq` from a view replayed over the snapshots before it.
    async fn build(&self, log: &EventLog, seq: u64) -> Result<(), ProjectionError> {
        let started = std::time::Instant::now();
        let (view, top) = self.view_over(log, seq).await?;
        let snap = Snap {
            to: seq,
            from: Some(top),
        };
        // Written (and synced) off the runtime's threads, which answer queries meanwhile.
        let (tmp, done) = (self.tmp(snap), self.path(snap));
        let entries = tokio::task::spawn_blocking(move || write_file(&tmp, &done, view.changes()))
            .await
            .map_err(|e| apply_err(seq, e))??;
        tracing::info!(
            model = self.projection.name(),
            seq,
            from = top,
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
    (every, layers): (u64, u64),
    log: EventLog,
    applied: tokio::sync::watch::Receiver<u64>,
) -> Result<(Arc<AsOf>, Option<tokio::task::JoinHandle<()>>), ProjectionError> {
    let snapshots = match projection {
        Some(p) => Some(Arc::new(Snapshots::open(model_dir, p, every, layers)?)),
        None => None,
    };
    let keeper = snapshots
        .clone()
        .map(|s| tokio::spawn(s.keep_up(log.clone(), applied)));
    Ok((Arc::new(AsOf { log, snapshots }), keeper))
}

/// What a model needs to answer as of a past log sequence: the log, and the model's snapshots;
/// without snapshots (the audit model, whose answers are events) an answer keeps the events up
/// to the sequence.
pub struct AsOf {
    pub log: eventlog::EventLog,
    pub snapshots: Option<Arc<Snapshots>>,
}

#[cfg(test)]
mod tests;
