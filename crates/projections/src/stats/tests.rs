use domain::command::*;
use domain::{Channel, Outcome, Satisfaction};

use chrono::NaiveDate;
use queries::stats::{Filters, StatsQuery as Query};
use wire::stats::{Counts, GroupBy};

use super::*;
use crate::testing::{build, register, ts, Log};

/// The query with the default policy (the one the tests' logs are decided under).
pub(super) fn query(
    store: &crate::Store,
    q: &queries::stats::StatsQuery,
    now: domain::Timestamp,
) -> Result<wire::stats::Report, crate::StoreError> {
    super::query(store, q, now, &domain::Policy::default())
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

pub(super) fn stats() -> Stats {
    Stats {
        policy: Policy::default(),
    }
}

/// Accept, reply on `reply_at`, follow up with `satisfaction`, close.
pub(super) fn handle(
    log: &mut Log,
    case: CaseId,
    at: &str,
    reply_at: &str,
    satisfaction: Satisfaction,
) {
    log.run(
        Some(case),
        Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: Some(ts(at)),
        }),
        at,
    );
    for cmd in [
        Command::Reply(ReplyCase {
            late_reason: None,
            outcome: Outcome::Supported,
            text: "已答复".into(),
            occurred_at: Some(ts(reply_at)),
        }),
        Command::FollowUp(RecordFollowUp {
            late_reason: None,
            satisfaction,
            note: None,
            occurred_at: Some(ts(reply_at)),
        }),
        // After a dissatisfied follow-up a closure states why (note_required).
        Command::Close(CloseCase {
            late_reason: None,
            note: Some("已告知复查途径".into()),
            occurred_at: Some(ts(reply_at)),
        }),
    ] {
        log.run(Some(case), cmd, reply_at);
    }
}

pub(super) fn query_of(from: &str, to: &str, group_by: Option<GroupBy>, yoy: bool) -> Query {
    Query {
        from: day(from),
        to: day(to),
        group_by: group_by.into_iter().collect(),
        filters: Filters::default(),
        yoy,
        adjusted: false,
        hide_accused: None,
    }
}

#[test]
fn items_batches_persons_and_rates_with_their_arithmetic() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    // A collective visit of 6, a visit of 2, a letter (a letter is one person; how joint
    // letters count is the statistics issue's).
    let collective = log.run(None, register("gaoqiao", Channel::Visit, 6, t), t);
    let visit = log.run(None, register("gaoqiao", Channel::Visit, 2, t), t);
    log.run(None, register("dongcheng", Channel::Letter, 1, t), t);
    // Replied on time and satisfied; replied late (after 60 days) and unsatisfied.
    handle(
        &mut log,
        collective,
        t,
        "2026-03-20T10:00:00+08:00",
        Satisfaction::Satisfied,
    );
    handle(
        &mut log,
        visit,
        t,
        "2026-05-20T10:00:00+08:00",
        Satisfaction::Dissatisfied,
    );
    let (_dir, store) = build(&stats(), &log.events, 3);
    let now = ts("2026-06-01T10:00:00+08:00");
    let r = query(
        &store,
        &query_of("2026-03-01", "2026-03-31", Some(GroupBy::Township), false),
        now,
    )
    .expect("query");
    let c = &r.current.total.counts;
    assert_eq!((c.items, c.batches, c.persons), (3, 3, 9));
    assert_eq!((c.collective_batches, c.collective_persons), (1, 6));
    assert_eq!(
        (c.accepted, c.replied, c.closed, c.closed_on_time),
        (2, 2, 2, 1)
    );
    let m = &r.current.total;
    assert_eq!((m.closure_rate.num, m.closure_rate.den), (2, 3));
    assert_eq!((m.on_time_rate.num, m.on_time_rate.den), (1, 2));
    assert_eq!(m.on_time_rate.value, Some(0.5));
    assert_eq!((m.satisfaction_rate.num, m.satisfaction_rate.den), (1, 2));
    assert_eq!((m.collective_share.num, m.collective_share.den), (1, 3));
    // The letter's case is open past its acceptance deadline.
    assert_eq!(m.open_overdue, 1);
    let rows: Vec<(&str, i64, i64)> = r
        .current
        .rows
        .iter()
        .map(|row| {
            (
                row.key.as_str(),
                row.measures.counts.items,
                row.measures.counts.persons,
            )
        })
        .collect();
    assert_eq!(rows, [("dongcheng", 1, 1), ("gaoqiao", 2, 8)]);
    // Outside the period: nothing.
    let empty = query(
        &store,
        &query_of("2026-04-01", "2026-04-30", None, false),
        now,
    )
    .expect("query");
    assert_eq!(empty.current.total.counts, Counts::default());
    assert_eq!(
        empty.current.total.closure_rate.value, None,
        "0 of 0 is no rate"
    );
}

#[test]
fn a_case_counts_once_whatever_its_events_and_batches() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let case = log.run(None, register("gaoqiao", Channel::Visit, 3, t), t);
    handle(
        &mut log,
        case,
        t,
        "2026-03-10T10:00:00+08:00",
        Satisfaction::Satisfied,
    );
    let q = query_of("2026-03-01", "2026-03-31", Some(GroupBy::Channel), false);
    let now = ts("2026-04-01T10:00:00+08:00");
    let whole = query(&build(&stats(), &log.events, 1000).1, &q, now).expect("query");
    let one_by_one = query(&build(&stats(), &log.events, 1).1, &q, now).expect("query");
    assert_eq!(whole.current.total, one_by_one.current.total);
    assert_eq!(whole.current.total.counts.items, 1);
    assert_eq!(whole.current.total.counts.persons, 3);
    assert_eq!(whole.current.rows.len(), 1);
    assert_eq!(whole.current.rows[0].key, "visit");
}

#[test]
fn a_merged_case_counts_as_merged_and_its_matter_once() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let primary = log.run(None, register("gaoqiao", Channel::Visit, 3, t), t);
    let other = log.run(None, register("dongcheng", Channel::Visit, 3, t), t);
    let q = query_of("2026-03-01", "2026-03-31", Some(GroupBy::Township), false);
    let now = ts("2026-03-03T10:00:00+08:00");
    let before = query(&build(&stats(), &log.events, 1000).1, &q, now).expect("query");
    assert_eq!(
        (
            before.current.total.counts.items,
            before.current.total.counts.persons
        ),
        (2, 6),
        "two registrations of one matter, before the merge"
    );
    let at = "2026-03-03T09:00:00+08:00";
    let merge = Command::Merge(MergeCase {
        late_reason: None,
        into: primary,
        reason: "一信多投".into(),
        occurred_at: Some(ts(at)),
    });
    log.run(Some(other), merge, at);
    for batch in [1, 1000] {
        let r = query(&build(&stats(), &log.events, batch).1, &q, now).expect("query");
        let c = r.current.total.counts;
        assert_eq!((c.items, c.batches, c.persons, c.merged), (1, 1, 3, 1));
        let dongcheng = r
            .current
            .rows
            .iter()
            .find(|r| r.key == "dongcheng")
            .expect("row");
        assert_eq!(dongcheng.measures.counts.items, 0);
        assert_eq!(dongcheng.measures.counts.merged, 1);
        assert_eq!(r.current.total.open_overdue, 0);
    }
}

#[test]
fn year_on_year_compares_the_same_days_a_year_earlier() {
    let mut log = Log::new();
    for at in ["2025-03-05T09:00:00+08:00", "2025-03-06T09:00:00+08:00"] {
        log.run(None, register("gaoqiao", Channel::Phone, 1, at), at);
    }
    let at = "2026-03-05T09:00:00+08:00";
    for _ in 0..3 {
        log.run(None, register("gaoqiao", Channel::Phone, 1, at), at);
    }
    let (_dir, store) = build(&stats(), &log.events, 1000);
    let r = query(
        &store,
        &query_of("2026-03-01", "2026-03-31", None, true),
        ts("2026-04-01T10:00:00+08:00"),
    )
    .expect("query");
    let previous = r.previous.expect("previous period");
    assert_eq!(previous.from, day("2025-03-01"));
    assert_eq!(previous.total.counts.items, 2);
    assert_eq!(r.current.total.counts.items, 3);
    assert_eq!(r.change.expect("change").items, Some(0.5));
}

/// Issue 33, finding 10: by month, the previous period's rows are the months a year earlier
/// (`2025-07`, not `2026-07` with nothing in it), and each row's change compares them.
#[test]
fn year_on_year_by_month_compares_each_month_with_the_same_month_a_year_earlier() {
    let mut log = Log::new();
    for at in [
        "2025-07-05T09:00:00+08:00",
        "2025-07-06T09:00:00+08:00",
        "2025-08-01T09:00:00+08:00",
        "2025-08-02T09:00:00+08:00",
    ] {
        log.run(None, register("gaoqiao", Channel::Phone, 1, at), at);
    }
    for at in [
        "2026-07-05T09:00:00+08:00",
        "2026-08-05T09:00:00+08:00",
        "2026-08-06T09:00:00+08:00",
        "2026-08-07T09:00:00+08:00",
    ] {
        log.run(None, register("gaoqiao", Channel::Phone, 1, at), at);
    }
    let (_dir, store) = build(&stats(), &log.events, 1000);
    let r = query(
        &store,
        &query_of("2026-07-01", "2026-08-31", Some(GroupBy::Month), true),
        ts("2026-09-01T10:00:00+08:00"),
    )
    .expect("query");
    let previous = r.previous.expect("previous period");
    let rows = |p: &wire::stats::Period| -> Vec<(String, i64)> {
        p.rows
            .iter()
            .map(|row| (row.key.clone(), row.measures.counts.items))
            .collect()
    };
    assert_eq!(
        rows(&previous),
        [("2025-07".to_owned(), 2), ("2025-08".to_owned(), 2)]
    );
    assert_eq!(previous.rows[0].keys["month"], "2025-07");
    assert_eq!(
        rows(&r.current),
        [("2026-07".to_owned(), 1), ("2026-08".to_owned(), 3)]
    );
    let change = |i: usize| r.current.rows[i].change.as_ref().expect("change")["items"];
    assert_eq!((change(0), change(1)), (Some(-0.5), Some(0.5)));
}

#[test]
fn every_count_measure_and_open_overdue_can_be_adjusted() {
    let names: Vec<&str> = Counts::default()
        .named()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, domain::measures::COUNTS);
    // Every count of registrations; the backlog's counts are of no period's registrations.
    for n in names {
        let backlog = domain::measures::BACKLOG.contains(&n);
        assert_eq!(domain::measures::adjustable(n), !backlog, "{n}");
    }
    assert!(domain::measures::adjustable("open_overdue"));
}

/// 核减: only an approved adjustment changes the adjusted figures, the raw ones stay beside them,
/// a revoked one changes nothing, and the default report is raw.
#[test]
fn approved_adjustments_leave_the_case_out_of_the_adjusted_figures_only() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let late = log.run(None, register("gaoqiao", Channel::Visit, 2, t), t);
    let on_time = log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    let open = log.run(None, register("dongcheng", Channel::Letter, 1, t), t);
    let r = "2026-05-20T10:00:00+08:00";
    handle(&mut log, late, t, r, Satisfaction::Dissatisfied);
    handle(
        &mut log,
        on_time,
        t,
        "2026-03-10T10:00:00+08:00",
        Satisfaction::Satisfied,
    );
    let at = "2026-06-02T10:00:00+08:00";
    let auditor = domain::Principal {
        id: domain::PrincipalId("auditor-1".into()),
        role: domain::Role::Auditor,
        unit: None,
    };
    let adjust = |log: &mut Log, case, measure: &str, approve: bool| {
        log.run(
            Some(case),
            Command::RequestAdjustment(RequestAdjustment {
                measure: measure.into(),
                reason: "经县联席会议认定".into(),
                document_no: "X信联〔2026〕7号".into(),
            }),
            at,
        );
        let version = log
            .events
            .iter()
            .filter(|e| e.envelope.case_id == case)
            .count() as u64;
        let id = domain::adjustment::adjustment_id(case, version);
        if approve {
            let cmd = Command::ApproveAdjustment(ApproveAdjustment { adjustment_id: id });
            log.run_as(&auditor, Some(case), cmd, at);
        }
        id
    };
    // The late reply leaves `closed` (not `closed_on_time`, which it never was), the open letter
    // leaves `open_overdue`; a pending request on the on-time case changes nothing.
    adjust(&mut log, late, "closed", true);
    let overdue = adjust(&mut log, open, "open_overdue", true);
    adjust(&mut log, on_time, "items", false);
    let now = ts("2026-06-03T10:00:00+08:00");
    let mut q = query_of("2026-03-01", "2026-03-31", Some(GroupBy::Township), false);
    let raw = query(&build(&stats(), &log.events, 1000).1, &q, now).expect("query");
    assert_eq!(raw.current.total.counts.closed, 2);
    assert_eq!(raw.current.total.open_overdue, 1);
    assert!(raw.current.raw_total.is_none() && raw.current.adjustments.is_none());
    q.adjusted = true;
    for batch in [1, 1000] {
        let a = query(&build(&stats(), &log.events, batch).1, &q, now).expect("query");
        let total = &a.current.total;
        assert_eq!((total.closure_rate.num, total.closure_rate.den), (1, 3));
        assert_eq!(total.counts.items, 3, "only `closed` left the figures");
        assert_eq!(total.open_overdue, 0);
        assert_eq!(a.current.raw_total.as_ref(), Some(&raw.current.total));
        let listed = a
            .current
            .adjustments
            .as_ref()
            .expect("the adjustments applied");
        assert_eq!(listed.len(), 2, "the pending one is not applied");
        assert!(
            listed.iter().all(|r| r.reason.is_none()),
            "no free text in a report"
        );
        let row = |k: &str| {
            a.current
                .rows
                .iter()
                .find(|r| r.key == k)
                .expect("row")
                .measures
                .clone()
        };
        assert_eq!(row("gaoqiao").counts.closed, 1);
        assert_eq!(row("dongcheng").open_overdue, 0);
    }
    // Revoked: counted again.
    log.run(
        Some(open),
        Command::RevokeAdjustment(RevokeAdjustment {
            adjustment_id: overdue,
            reason: "复核认定逾期属实".into(),
        }),
        at,
    );
    let a = query(&build(&stats(), &log.events, 1000).1, &q, now).expect("query");
    assert_eq!(a.current.total.open_overdue, 1);
    assert_eq!(a.current.adjustments.map(|l| l.len()), Some(1));
    // Everything of the period is listed with its reason, whatever its status.
    let store = build(&stats(), &log.events, 1000).1;
    let all =
        super::adjusted::adjustments(&store, day("2026-03-01"), day("2026-03-31")).expect("list");
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|r| r.reason.is_some()));
}
