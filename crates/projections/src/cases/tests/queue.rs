//! The cases model as work queues and workbench (issue 13), and corrections in it.

use std::collections::BTreeSet;

use domain::command::*;
use domain::{CaseId, Category, Outcome, Role, Stage};
use queries::queues::{DueCursor, Filter, QueueOrder, QueueQuery, Scope};
use wire::cases::Queue;

use super::{clock, model, petition, who, ID};
use crate::cases::queue;
use crate::cases::queue::counts;
use crate::cases::{row_key, Row};
use crate::testing::{build, ts, unit, Log};
use crate::Store;

fn accept(at: &str) -> Command {
    Command::Accept(AcceptCase {
        late_reason: None,
        new_facts: None,
        occurred_at: Some(ts(at)),
    })
}

fn ask(
    store: &Store,
    scope: Scope,
    filter: Filter,
    limit: usize,
    cursor: Option<&str>,
    now: &str,
) -> Queue {
    let q = QueueQuery {
        principal: who(Role::County, None),
        scope,
        filter,
        stage: None,
        flag: None,
        unit: None,
        limit,
        cursor: cursor.map(|c| DueCursor::decode(c).expect("a cursor we gave")),
        order: QueueOrder::Due,
        after: None,
        due_soon_days: 3,
    };
    queue(store, &q, clock(now)).expect("queue")
}

/// Every page of a queue, in order.
fn all_pages(store: &Store, scope: Scope, filter: Filter, limit: usize, now: &str) -> Vec<CaseId> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = ask(store, scope.clone(), filter, limit, cursor.as_deref(), now);
        assert!(page.items.len() <= limit);
        out.extend(page.items.iter().map(|i| i.case_id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// A log of cases in gaoqiao received on different days, some accepted, one replied.
fn log_of_cases() -> (Log, Vec<CaseId>) {
    let mut log = Log::new();
    let mut ids = Vec::new();
    for day in 1..=12 {
        let t = format!("2026-03-{day:02}T09:30:00+08:00");
        let id = log.run(None, petition("gaoqiao", &t, None, Category::Land), &t);
        ids.push(id);
        if day % 3 == 0 {
            log.run(Some(id), accept(&t), &t);
        }
    }
    let t = "2026-03-12T15:00:00+08:00";
    log.run(
        Some(ids[2]),
        Command::Reply(ReplyCase {
            late_reason: None,
            outcome: Outcome::Explained,
            text: "已答复".into(),
            occurred_at: Some(ts(t)),
        }),
        t,
    );
    // One moves to another township's queue.
    log.run(
        Some(ids[0]),
        Command::Transfer(TransferCase {
            late_reason: None,
            unit: unit("dongcheng"),
            reason: "属地".into(),
            occurred_at: Some(ts(t)),
        }),
        t,
    );
    (log, ids)
}

#[test]
fn a_queue_is_soonest_deadline_first_paged_without_loss_and_counted_against_the_clock() {
    let (log, _) = log_of_cases();
    let (_d, store) = build(&model(), &log.events, 4);
    let rows: Vec<Row> = store
        .scan::<Row>("r/")
        .expect("rows")
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r.case.unit == unit("gaoqiao") && r.case.status.is_open())
        .collect();
    for now in [
        "2026-03-13T10:00:00+08:00",
        "2026-03-17T23:00:00+08:00",
        "2026-03-20T10:00:00+08:00",
        "2026-05-20T10:00:00+08:00",
    ] {
        let c = clock(now);
        // What each case is, judged one by one.
        let judged: Vec<(bool, bool)> = rows.iter().map(|r| c.judge(r.case.due_at())).collect();
        let want = |pick: fn(&(bool, bool)) -> bool| -> BTreeSet<CaseId> {
            rows.iter()
                .zip(&judged)
                .filter(|(_, j)| pick(j))
                .map(|(r, _)| r.case.id)
                .collect()
        };
        let got = counts(&store, &Scope::Unit(unit("gaoqiao")), c).expect("counts");
        assert_eq!(got.open as usize, rows.len(), "{now}");
        assert_eq!(got.overdue as usize, want(|j| j.0).len(), "{now}");
        assert_eq!(got.due_soon as usize, want(|j| j.1).len(), "{now}");
        assert_eq!(
            got.awaiting_close as usize,
            rows.iter()
                .filter(|r| r.case.stage() == Stage::AwaitingClose)
                .count()
        );
        for (filter, pick) in [
            (
                Filter::Overdue,
                (|j: &(bool, bool)| j.0) as fn(&(bool, bool)) -> bool,
            ),
            (Filter::DueSoon, |j| j.1),
            (Filter::Open, |_| true),
        ] {
            for limit in [1, 2, 5, 100] {
                let listed = all_pages(&store, Scope::Unit(unit("gaoqiao")), filter, limit, now);
                let set: BTreeSet<CaseId> = listed.iter().copied().collect();
                assert_eq!(
                    set.len(),
                    listed.len(),
                    "no case twice ({filter:?}, {limit})"
                );
                assert_eq!(set, want(pick), "{now} {filter:?} limit {limit}");
            }
        }
        // Soonest first; the replied case (no deadline) last.
        let page = ask(
            &store,
            Scope::Unit(unit("gaoqiao")),
            Filter::Open,
            100,
            None,
            now,
        );
        let dues: Vec<_> = page.items.iter().map(|i| i.due_at).collect();
        let mut sorted = dues.clone();
        sorted.sort_by_key(|d| (d.is_none(), *d));
        assert_eq!(dues, sorted);
        assert_eq!(
            page.items.last().map(|i| i.stage),
            Some(Stage::AwaitingClose)
        );
    }
}

#[test]
fn the_workbench_reads_every_units_open_cases_and_by_township() {
    let (log, ids) = log_of_cases();
    let (_d, store) = build(&model(), &log.events, 1000);
    let now = "2026-03-13T10:00:00+08:00";
    let all = all_pages(&store, Scope::All, Filter::Open, 5, now);
    assert_eq!(all.len(), 12, "every open case of every unit");
    let dongcheng = all_pages(&store, Scope::Unit(unit("dongcheng")), Filter::Open, 5, now);
    assert_eq!(dongcheng, [ids[0]]);
    // The township of the matter stays gaoqiao for the transferred case.
    let township = all_pages(
        &store,
        Scope::Township(unit("gaoqiao")),
        Filter::Open,
        5,
        now,
    );
    assert_eq!(township.len(), 12);
    // A clerk sees only what it may read.
    let q = QueueQuery {
        principal: who(Role::Clerk, Some("dongcheng")),
        scope: Scope::All,
        filter: Filter::Open,
        stage: None,
        flag: None,
        unit: None,
        limit: 100,
        cursor: None,
        order: QueueOrder::Due,
        after: None,
        due_soon_days: 3,
    };
    let seen: Vec<CaseId> = queue(&store, &q, clock(now))
        .expect("queue")
        .items
        .iter()
        .map(|i| i.case_id)
        .collect();
    assert_eq!(seen, [ids[0]]);
}

#[test]
fn a_correction_moves_the_case_in_the_model_and_its_matter_links() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let a = log.run(None, petition("gaoqiao", t, Some(ID), Category::Land), t);
    let b = log.run(None, petition("dongcheng", t, Some(ID), Category::Land), t);
    let row =
        |store: &Store, id: CaseId| store.get::<Row>(&row_key(id)).expect("get").expect("row");
    let (_d, store) = build(&model(), &log.events, 1);
    assert!(row(&store, a).duplicate() && row(&store, b).duplicate());
    // b was another matter: corrected, neither is one matter in two places any more.
    let at = "2026-03-03T09:00:00+08:00";
    log.run(
        Some(b),
        Command::Correct(CorrectRegistration {
            late_reason: None,
            reason: "类别登记错误".into(),
            changes: RegistrationFacts {
                category: Some(Category::Wages),
                township: Some(unit("gaoqiao")),
                ..Default::default()
            },
            occurred_at: Some(ts(at)),
        }),
        at,
    );
    for batch in [1, 1000] {
        let (_d, store) = build(&model(), &log.events, batch);
        let (ra, rb) = (row(&store, a), row(&store, b));
        assert!(!ra.duplicate() && !rb.duplicate(), "batch {batch}");
        assert_eq!(rb.case.category, Category::Wages);
        assert_eq!(rb.case.township, unit("gaoqiao"));
        assert_eq!(
            rb.case.unit,
            unit("gaoqiao"),
            "the corrected township holds it"
        );
        // Its queue and township entries moved with it.
        let now = "2026-03-04T10:00:00+08:00";
        let gaoqiao = all_pages(&store, Scope::Unit(unit("gaoqiao")), Filter::Open, 10, now);
        assert!(gaoqiao.contains(&b) && gaoqiao.contains(&a));
        let dongcheng = all_pages(
            &store,
            Scope::Township(unit("dongcheng")),
            Filter::Open,
            10,
            now,
        );
        assert!(dongcheng.is_empty(), "{dongcheng:?}");
        let c = counts(&store, &Scope::Unit(unit("dongcheng")), clock(now)).expect("counts");
        assert_eq!(c.open, 0);
    }
}

#[test]
fn a_filtered_board_counts_its_own_cases_against_the_clock() {
    let (mut log, ids) = log_of_cases();
    // 督办 of a few cases, one with a committed date that moves its deadline.
    for (n, id) in ids.iter().enumerate().filter(|(n, _)| n % 4 == 1) {
        let t = "2026-03-12T16:00:00+08:00";
        let due_date =
            (n == 5).then(|| chrono::NaiveDate::from_ymd_opt(2026, 3, 18).expect("date"));
        log.run(
            Some(*id),
            Command::Supervise(SuperviseCase {
                note: "从速办理".into(),
                due_date,
                occurred_at: Some(ts(t)),
                late_reason: None,
            }),
            t,
        );
    }
    let (_d, store) = build(&model(), &log.events, 3);
    let rows: Vec<Row> = store
        .scan::<Row>("r/")
        .expect("rows")
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r.case.status.is_open())
        .collect();
    let ask = |scope: &Scope, stage, flag, now: &str| {
        let q = QueueQuery {
            principal: who(Role::County, None),
            scope: scope.clone(),
            filter: Filter::Open,
            stage,
            flag,
            unit: None,
            limit: 100,
            cursor: None,
            order: QueueOrder::Due,
            after: None,
            due_soon_days: 3,
        };
        queue(&store, &q, clock(now)).expect("queue")
    };
    let supervised = Some(queries::cases::Flag::Supervised);
    for now in [
        "2026-03-13T10:00:00+08:00",
        "2026-03-17T23:00:00+08:00",
        "2026-05-20T10:00:00+08:00",
    ] {
        let c = clock(now);
        for scope in [Scope::All, Scope::Unit(unit("gaoqiao"))] {
            let mine: Vec<&Row> = rows
                .iter()
                .filter(|r| r.case.supervisions > 0)
                .filter(|r| scope == Scope::All || r.case.unit == unit("gaoqiao"))
                .collect();
            assert!(!mine.is_empty());
            let page = ask(&scope, None, supervised, now);
            let got = page.matching.expect("a board's flag is counted");
            let judged: Vec<(bool, bool)> = mine.iter().map(|r| c.judge(r.case.due_at())).collect();
            assert_eq!(got.open as usize, mine.len(), "{now} {scope:?}");
            assert_eq!(got.open as usize, page.items.len(), "{now} {scope:?}");
            assert_eq!(
                got.overdue as usize,
                judged.iter().filter(|j| j.0).count(),
                "{now} {scope:?}"
            );
            assert_eq!(
                got.due_soon as usize,
                judged.iter().filter(|j| j.1).count(),
                "{now} {scope:?}"
            );
            // The whole queue's counts are still there beside them.
            assert_eq!(page.counts, counts(&store, &scope, c).expect("counts"));
        }
    }
    // A filter that is no board (a flag by the clock, another flag, a stage) has no counts of
    // its own, rather than wrong ones.
    let later = "2026-05-20T10:00:00+08:00";
    for flag in [
        queries::cases::Flag::Escalated,
        queries::cases::Flag::Repeat,
    ] {
        assert_eq!(ask(&Scope::All, None, Some(flag), later).matching, None);
    }
    assert_eq!(
        ask(&Scope::All, Some(Stage::Handling), None, later).matching,
        None
    );
}

#[test]
fn a_queue_newest_received_first_pages_every_open_case_once() {
    let (log, _) = log_of_cases();
    let (_d, store) = build(&model(), &log.events, 5);
    let now = "2026-03-20T10:00:00+08:00";
    let c = clock(now);
    for scope in [
        Scope::All,
        Scope::Unit(unit("gaoqiao")),
        Scope::Township(unit("gaoqiao")),
    ] {
        let rows: Vec<Row> = store
            .scan::<Row>("r/")
            .expect("rows")
            .into_iter()
            .map(|(_, r)| r)
            .filter(|r| r.case.status.is_open())
            .filter(|r| match &scope {
                Scope::All => true,
                Scope::Unit(u) => r.case.unit == *u,
                Scope::Township(t) => r.case.township == *t,
            })
            .collect();
        for (filter, pick) in [
            (
                Filter::Open,
                (|_: (bool, bool)| true) as fn((bool, bool)) -> bool,
            ),
            (Filter::Overdue, |j| j.0),
        ] {
            let want: Vec<(domain::Timestamp, CaseId)> = {
                let mut w: Vec<_> = rows
                    .iter()
                    .filter(|r| pick(c.judge(r.case.due_at())))
                    .map(|r| (r.case.received_at, r.case.id))
                    .collect();
                w.sort_by(|a, b| b.cmp(a));
                w
            };
            for limit in [1, 2, 5, 100] {
                let mut got = Vec::new();
                let mut after: Option<String> = None;
                loop {
                    let q = QueueQuery {
                        principal: who(Role::County, None),
                        scope: scope.clone(),
                        filter,
                        stage: None,
                        flag: None,
                        unit: None,
                        limit,
                        cursor: None,
                        order: QueueOrder::Received,
                        after: after.clone(),
                        due_soon_days: 3,
                    };
                    let page = queue(&store, &q, c).expect("page");
                    assert!(page.items.len() <= limit);
                    got.extend(page.items.iter().map(|i| (i.received_at, i.case_id)));
                    match page.next_cursor {
                        Some(n) => {
                            after = Some(queries::queues::decode_received(&n).expect("ours"))
                        }
                        None => break,
                    }
                }
                assert_eq!(got, want, "{scope:?} {filter:?} limit {limit}");
            }
        }
    }
}
