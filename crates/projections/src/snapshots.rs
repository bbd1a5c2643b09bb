//! As of a past point of the log (issue 15, item 3): snapshots of a read model every `every`
//! events, and views at any sequence built from the snapshots before it.
//!
//! A snapshot is written once into a fresh sled database and never again, in the background,
//! off the live model (whose database is never copied while it is written). Most are **deltas**
//! (`DIR/snapshots/v<model version>-<seq>-from-<seq>`): the keys the events since the previous
//! snapshot changed, with their values at `seq`. Every `layers`-th is **full**
//! (`v<model version>-<seq>`): the whole model at `seq`, so a view reads through at most
//! `layers` deltas. A snapshot costs what its stretch of the log changed, and the full ones a
//! copy of the model now and then, so their total grows with the log, not with its square. A
//! view at N is the chain of snapshots up to the last one at or before N with the events since
//! replayed over it in memory (`store::view`), at most `every` of them. Snapshots of another
//! model version are deleted when the projector starts (a rebuilt model builds them again).

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
/// holds in memory what the events since its last snapshot changed.
const VIEWS: usize = 2;
/// How long a view waits for the log to deliver the events it replays.
const REPLAY_WAIT: Duration = Duration::from_secs(30);

/// A snapshot: the model at `to`, whole (`from` none) or as what changed since `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snap {
    pub to: u64,
    pub from: Option<u64>,
}

impl Snap {
    fn name(&self, version: u32) -> String {
        match self.from {
            None => format!("v{version}-{:020}", self.to),
            Some(from) => format!("v{version}-{:020}-from-{from:020}", self.to),
        }
    }

    fn parse(name: &str, version: u32) -> Option<Snap> {
        let rest = name.strip_prefix(&format!("v{version}-"))?;
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

/// The snapshots a view at `n` reads, oldest first: the last snapshot at or before `n` and
/// those it is a delta over, down to a full one (or a delta over the empty model). A chain with
/// a link missing is passed over for the one before it.
pub fn chain(all: &[Snap], n: u64) -> Vec<Snap> {
    let below = |to: u64| {
        // A full snapshot at a point rather than a delta to it: fewer layers.
        let mut at: Vec<&Snap> = all.iter().filter(|s| s.to == to).collect();
        at.sort_by_key(|s| s.from.is_some());
        at.first().copied().copied()
    };
    let mut tops: Vec<u64> = all.iter().map(|s| s.to).filter(|to| *to <= n).collect();
    tops.dedup();
    for top in tops.into_iter().rev() {
        let mut out = Vec::new();
        let mut at = below(top);
        while let Some(snap) = at {
            out.push(snap);
            at = match snap.from {
                None | Some(0) => {
                    out.reverse();
                    return out;
                }
                Some(from) => below(from),
            };
        }
    }
    Vec::new()
}

/// A view and the sequence of the last snapshot it reads.
type View = (Arc<Store>, u64);
/// A view kept: its sequence, the view, the last snapshot it reads.
type KeptView = (u64, Arc<Store>, u64);

pub struct Snapshots {
    dir: PathBuf,
    every: u64,
    /// Every this many snapshots, a full one.
    layers: u64,
    projection: Box<dyn Projection>,
    /// The snapshot databases open in this process (sled opens a database once): while a view
    /// reads one, it stays open.
    opened: Mutex<HashMap<Snap, Weak<Store>>>,
    /// The points being replayed now.
    pending: Mutex<HashMap<u64, Arc<tokio::sync::OnceCell<View>>>>,
    /// The last views.
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
    /// The snapshots of `projection`'s model under `model_dir`, one every `every` events and a
    /// full one every `layers` snapshots; those of another model version and unfinished ones
    /// are deleted.
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
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(Snapshots {
            dir,
            every: every.max(1),
            layers: layers.max(1),
            projection,
            opened: Mutex::default(),
            views: Mutex::default(),
            pending: Mutex::default(),
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

    /// A snapshot's database (`None`: the empty model), opened once while in use.
    fn snapshot(&self, snap: Option<Snap>) -> Result<Arc<Store>, ProjectionError> {
        let key = snap.unwrap_or(Snap { to: 0, from: None });
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = opened.get(&key).and_then(Weak::upgrade) {
            return Ok(s);
        }
        let path = match snap {
            None => self.dir.join("empty"),
            Some(snap) => self.path(snap),
        };
        let store = Arc::new(Store::open_snapshot(&path, format!("snapshot-{}", key.to))?);
        opened.retain(|_, w| w.strong_count() > 0);
        opened.insert(key, Arc::downgrade(&store));
        Ok(store)
    }

    /// The model at the last snapshot at or before `n` (read through its chain) and its sequence.
    fn base(&self, n: u64) -> Result<(Store, u64), ProjectionError> {
        let chain = chain(&self.list(), n);
        let top = chain.last().map_or(0, |s| s.to);
        let (full, deltas) = match chain.first() {
            Some(first) if first.from.is_none() => (Some(*first), &chain[1..]),
            _ => (None, &chain[..]),
        };
        let deltas = deltas
            .iter()
            .map(|d| self.snapshot(Some(*d)))
            .collect::<Result<_, _>>()?;
        Ok((Store::layered(self.snapshot(full)?, deltas), top))
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

    async fn replay(&self, log: &EventLog, seq: u64) -> Result<View, ProjectionError> {
        let (base, base_seq) = self.base(seq)?;
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

    /// Build every snapshot due by `applied` (each `every` events), oldest first. Returns how
    /// many were built.
    pub async fn build_due(&self, log: &EventLog, applied: u64) -> Result<usize, ProjectionError> {
        let last = self.list().last().map_or(0, |s| s.to);
        let mut next = last / self.every * self.every + self.every;
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
        let (view, top) = self.view_over(log, seq).await?;
        let full = (seq / self.every).is_multiple_of(self.layers);
        let snap = Snap {
            to: seq,
            from: (!full).then_some(top),
        };
        let tmp = self.dir.join(format!("tmp-{seq}"));
        let _ = std::fs::remove_dir_all(&tmp);
        let entries = {
            let out = Store::open_snapshot(&tmp, format!("snapshot-{seq}"))?;
            let n = if full {
                view.copy_into(&out)?
            } else {
                view.write_delta(&out)?
            };
            out.flush().await?;
            n
        };
        let path = self.path(snap);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        tracing::info!(
            model = self.projection.name(),
            seq,
            full,
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
) -> Result<
    (
        Arc<crate::service::AsOf>,
        Option<tokio::task::JoinHandle<()>>,
    ),
    ProjectionError,
> {
    let snapshots = match projection {
        Some(p) => Some(Arc::new(Snapshots::open(model_dir, p, every, layers)?)),
        None => None,
    };
    let keeper = snapshots
        .clone()
        .map(|s| tokio::spawn(s.keep_up(log.clone(), applied)));
    Ok((Arc::new(crate::service::AsOf { log, snapshots }), keeper))
}

#[cfg(test)]
mod tests {
    use super::{chain, Snap};

    fn full(to: u64) -> Snap {
        Snap { to, from: None }
    }

    fn delta(from: u64, to: u64) -> Snap {
        Snap {
            to,
            from: Some(from),
        }
    }

    #[test]
    fn names_read_back() {
        for snap in [full(50_000), delta(40, 50)] {
            assert_eq!(Snap::parse(&snap.name(10), 10), Some(snap));
            assert_eq!(Snap::parse(&snap.name(10), 11), None);
        }
        assert_eq!(Snap::parse("tmp-10", 10), None);
        assert_eq!(Snap::parse("empty", 10), None);
    }

    #[test]
    fn a_chain_runs_from_the_last_snapshot_down_to_a_full_one() {
        let all = [
            delta(0, 10),
            delta(10, 20),
            full(30),
            delta(20, 30),
            delta(30, 40),
            delta(40, 50),
        ];
        let mut all = all.to_vec();
        all.sort_unstable();
        assert_eq!(chain(&all, 5), vec![]);
        assert_eq!(chain(&all, 19), vec![delta(0, 10)]);
        assert_eq!(chain(&all, 20), vec![delta(0, 10), delta(10, 20)]);
        // The full snapshot at 30, not the delta to it.
        assert_eq!(chain(&all, 35), vec![full(30)]);
        assert_eq!(
            chain(&all, 99),
            vec![full(30), delta(30, 40), delta(40, 50)]
        );
    }

    #[test]
    fn a_chain_with_a_link_missing_is_passed_over() {
        let all = vec![delta(0, 10), delta(20, 30)];
        assert_eq!(chain(&all, 35), vec![delta(0, 10)]);
        let all = vec![delta(5, 10)];
        assert_eq!(chain(&all, 35), vec![]);
    }
}
