use std::sync::Arc;

use super::{chain, frozen, Snap, Snapshots, Store};

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

/// Issue 31: levels stack the deltas of their stretch; a view reads the fewest files that reach
/// its point, and a level's stretch is found through the files of the size below it.
#[test]
fn a_chain_reads_the_fewest_snapshots_through_levels() {
    let mut all: Vec<Snap> = (1..=8).map(|k| delta(10 * (k - 1), 10 * k)).collect();
    all.extend([delta(0, 20), delta(20, 40), delta(40, 60), delta(60, 80)]);
    all.extend([delta(0, 40), delta(40, 80)]);
    all.sort_unstable();
    assert_eq!(chain(&all, 39), vec![delta(0, 20), delta(20, 30)]);
    assert_eq!(
        chain(&all, 75),
        vec![delta(0, 40), delta(40, 60), delta(60, 70)]
    );
    assert_eq!(chain(&all, 80), vec![delta(0, 40), delta(40, 80)]);
    // What a level of the next size stacks: those below it between its start and its point.
    assert_eq!(
        super::chain::between(&all, 40, 80),
        Some(vec![delta(40, 80)])
    );
    let without: Vec<Snap> = all
        .iter()
        .copied()
        .filter(|s| *s != delta(40, 80))
        .collect();
    assert_eq!(
        super::chain::between(&without, 40, 80),
        Some(vec![delta(40, 60), delta(60, 80)])
    );
    // A delta missing below a level: the level still reaches over it.
    let gap: Vec<Snap> = all
        .iter()
        .copied()
        .filter(|s| *s != delta(30, 40))
        .collect();
    assert_eq!(chain(&gap, 55), vec![delta(0, 40), delta(40, 50)]);
    assert_eq!(
        super::chain::between(&gap, 20, 40),
        Some(vec![delta(20, 40)])
    );
    let gap: Vec<Snap> = gap.into_iter().filter(|s| *s != delta(20, 40)).collect();
    assert_eq!(super::chain::between(&gap, 20, 40), None);
}

#[test]
fn a_chain_with_a_link_missing_is_passed_over() {
    let all = vec![delta(0, 10), delta(20, 30)];
    assert_eq!(chain(&all, 35), vec![delta(0, 10)]);
    let all = vec![delta(5, 10)];
    assert_eq!(chain(&all, 35), vec![]);
}

/// The live projector records a delta at every point as its batches commit, with no pass over
/// the log of its own: batches of any size are cut at the points, a point the log skips (no
/// event at that sequence) is recorded once an event past it arrives, and the model read
/// through the deltas at each point is the model built from the events up to it.
#[tokio::test]
async fn the_projector_records_a_delta_at_every_point_as_it_goes() {
    use crate::runner::{ModelSink, Sink};
    use crate::testing::{build, register, Log};

    let stats = || {
        Box::new(crate::stats::Stats {
            policy: domain::Policy::default(),
        })
    };
    let mut log = Log::new();
    for i in 0..30 {
        let at = format!("2026-03-{:02}T09:00:00+08:00", 1 + i % 28);
        let channel = if i % 2 == 0 {
            domain::Channel::Visit
        } else {
            domain::Channel::Letter
        };
        log.run(None, register("gaoqiao", channel, 1 + i % 5, &at), &at);
    }
    // The log skips sequence 10 (inside a stretch) and 16 (a point).
    let events: Vec<eventlog::Stored> = log
        .events
        .into_iter()
        .filter(|e| e.seq != 10 && e.seq != 16)
        .collect();
    let dir = tempfile::tempdir().expect("tmp");
    let model_dir = dir.path().join("stats");
    let snapshots = Arc::new(Snapshots::open(&model_dir, stats(), 4, 3).expect("snapshots"));
    let mut model = ModelSink::open(stats(), model_dir.clone()).expect("model");
    model.record_snapshots(snapshots.clone()).expect("record");
    let mut sink = Sink::Model(model);
    let mut rest = &events[..];
    for size in [3, 5, 1, 7, 2, 9].into_iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (batch, tail) = rest.split_at(size.min(rest.len()));
        sink.write(batch).await.expect("write");
        rest = tail;
    }
    snapshots.recorded().await;
    let points: Vec<Snap> = snapshots.list();
    let want: Vec<Snap> = (1..=7).map(|k| delta(4 * (k - 1), 4 * k)).collect();
    assert_eq!(points, want, "a delta at every point up to 28, none beyond");
    let without_checkpoint = |store: &Store| -> Vec<frozen::Change> {
        store
            .everything()
            .map(|e| e.expect("entry"))
            .filter(|(k, _)| k.as_slice() != crate::store::CHECKPOINT)
            .collect()
    };
    for point in [4, 8, 12, 16, 20, 28] {
        let (view, top) = snapshots.base(point).expect("view");
        assert_eq!(top, point);
        assert_eq!(view.checkpoint().expect("checkpoint"), point);
        let upto: Vec<eventlog::Stored> =
            events.iter().filter(|e| e.seq <= point).cloned().collect();
        let (_dir, rebuilt) = build(stats().as_ref(), &upto, 1000);
        assert_eq!(
            without_checkpoint(&view),
            without_checkpoint(&rebuilt),
            "the model at {point}"
        );
    }
}

/// Issue 31: a delta, and a level stacking deltas, holds a removal only of a key the model held
/// at its `from` point. Cases registered and closed within one stretch leave no trace of their
/// open-case index and queue entries in it, and the model read through the fewest snapshots at
/// each point (levels among them) is still the model built from the events up to it.
#[tokio::test]
async fn a_delta_leaves_out_keys_made_and_removed_within_its_stretch() {
    use crate::runner::{ModelSink, Sink};
    use crate::testing::{build, register, Log};
    use domain::command::{AcceptCase, CloseCase, ReplyCase};
    use domain::{Command, Outcome};

    let cases = || {
        Box::new(crate::cases::Cases {
            keys: domain::identity::Keys::new(&"i".repeat(32), &"q".repeat(32)).expect("keys"),
            policy: domain::Policy::default(),
            vault: None,
        })
    };
    let reply = || {
        Command::Reply(ReplyCase {
            late_reason: None,
            outcome: Outcome::Explained,
            text: "答复".into(),
            occurred_at: None,
        })
    };
    let close = || {
        Command::Close(CloseCase {
            late_reason: None,
            note: None,
            occurred_at: None,
        })
    };
    let mut log = Log::new();
    let mut open = Vec::new();
    for i in 0..12 {
        let at = format!("2026-03-{:02}T09:00:00+08:00", 1 + i);
        let reg = register("gaoqiao", domain::Channel::Visit, 1, &at);
        let id = log.run(None, reg, &at);
        let steps = [
            Command::Accept(AcceptCase {
                late_reason: None,
                occurred_at: None,
                new_facts: None,
            }),
            reply(),
            close(),
        ];
        // Every third case stays open across points; the others go through every step at once.
        let take = if i % 3 == 0 { 1 } else { 3 };
        for step in steps.into_iter().take(take) {
            log.run(
                Some(id),
                step,
                &format!("2026-03-{:02}T10:00:00+08:00", 1 + i),
            );
        }
        if take == 1 {
            open.push(id);
        }
    }
    for id in open {
        for step in [reply(), close()] {
            log.run(Some(id), step, "2026-03-20T09:00:00+08:00");
        }
    }
    let events = log.events;
    let dir = tempfile::tempdir().expect("tmp");
    let model_dir = dir.path().join("cases");
    let snapshots = Arc::new(Snapshots::open(&model_dir, cases(), 8, 2).expect("snapshots"));
    let mut model = ModelSink::open(cases(), model_dir.clone()).expect("model");
    model.record_snapshots(snapshots.clone()).expect("record");
    let mut sink = Sink::Model(model);
    for batch in events.chunks(3) {
        sink.write(batch).await.expect("write");
        // One point at a time: each delta is trimmed against the one before it.
        snapshots.recorded().await;
    }
    let last = events.last().expect("events").seq;
    assert_eq!(last, 48);
    assert_eq!(snapshots.build_levels(last).await.expect("levels"), 4);
    let points = snapshots.list();
    let mut want: Vec<Snap> = (1..=6).map(|k| delta(8 * (k - 1), 8 * k)).collect();
    // Levels of 16 events at 16, 32 and 48, of 32 at 32.
    want.extend([delta(0, 16), delta(16, 32), delta(32, 48), delta(0, 32)]);
    want.sort_unstable();
    assert_eq!(points, want);
    assert_eq!(chain(&points, 48), vec![delta(0, 32), delta(32, 48)]);
    assert_eq!(chain(&points, 47), vec![delta(0, 32), delta(32, 40)]);
    // Built already: none again.
    assert_eq!(snapshots.build_levels(last).await.expect("levels"), 0);
    let mut removals = 0;
    for snap in &points {
        let from = snap.from.expect("a delta");
        let (before, _) = snapshots.base(from).expect("view");
        for entry in snapshots
            .snapshot(*snap)
            .expect("open")
            .range(std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)
        {
            let (key, value) = entry.expect("entry");
            if value.is_none() {
                removals += 1;
                assert!(
                    before.holds(&key).expect("holds"),
                    "{snap:?} removes {} that the model did not hold at {from}",
                    String::from_utf8_lossy(&key)
                );
            }
        }
        let (view, _) = snapshots.base(snap.to).expect("view");
        let upto: Vec<eventlog::Stored> = events
            .iter()
            .filter(|e| e.seq <= snap.to)
            .cloned()
            .collect();
        let (_dir, rebuilt) = build(cases().as_ref(), &upto, 1000);
        let entries = |store: &Store| -> Vec<frozen::Change> {
            store
                .everything()
                .map(|e| e.expect("entry"))
                .filter(|(k, _)| k.as_slice() != crate::store::CHECKPOINT)
                .collect()
        };
        assert_eq!(
            entries(&view),
            entries(&rebuilt),
            "the model at {}",
            snap.to
        );
    }
    // The cases left open across points were removed from their indexes later: those removals
    // are kept.
    assert!(removals > 0);
}
