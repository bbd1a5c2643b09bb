//! The closed loop's measures (issue 33) and the backlog's (issue 35).

use domain::command::*;
use domain::{CaseId, Channel, Outcome, Satisfaction};

use super::tests::{query, query_of, stats};
use crate::testing::{build, earlier_case, register, ts, Log};

fn principal(id: &str, role: domain::Role, u: &str) -> domain::Principal {
    domain::Principal {
        id: domain::PrincipalId(id.into()),
        role,
        unit: Some(domain::UnitCode::parse(u).expect("unit")),
    }
}

/// The closed loop's measures (issue 33): 签收 in time and not, a pending one past its limit
/// (by the clock, from the `k/` index), 催办, 重办 and its reply, late entries.
#[test]
fn acknowledgements_reminders_reopenings_and_late_entries_are_counted() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let gaoqiao = principal("clerk-gaoqiao", domain::Role::Clerk, "gaoqiao");
    let on_time = log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    let late = log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    let never = log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    // Registered an hour before the question: its acknowledgement is not judged yet.
    log.run(
        None,
        register("gaoqiao", Channel::Visit, 1, "2026-03-31T20:00:00+08:00"),
        "2026-03-31T20:00:00+08:00",
    );
    let ack = || {
        Command::Acknowledge(AcknowledgeCase {
            occurred_at: None,
            late_reason: None,
        })
    };
    log.run_as(&gaoqiao, Some(on_time), ack(), "2026-03-02T12:00:00+08:00");
    log.run_as(&gaoqiao, Some(late), ack(), "2026-03-04T12:00:00+08:00");
    let remind = Command::Remind(RemindCase {
        note: "请尽快受理".into(),
        occurred_at: None,
        late_reason: None,
    });
    log.run(Some(never), remind, "2026-03-05T12:00:00+08:00");
    // 不满意, reopened, replied again within the re-handling deadline.
    handle_to_follow_up(&mut log, on_time, "2026-03-03T10:00:00+08:00");
    let reopen = Command::Reopen(ReopenCase {
        reason: "补偿标准未说明".into(),
        unit: None,
        due_date: None,
        occurred_at: Some(ts("2026-03-06T10:00:00+08:00")),
        late_reason: None,
    });
    log.run(Some(on_time), reopen, "2026-03-06T10:00:00+08:00");
    // A reopening starts a new accountability: acknowledged again, in time.
    log.run_as(&gaoqiao, Some(on_time), ack(), "2026-03-06T12:00:00+08:00");
    let again = Command::Reply(ReplyCase {
        outcome: Outcome::Supported,
        text: "重新答复".into(),
        occurred_at: Some(ts("2026-03-20T10:00:00+08:00")),
        late_reason: None,
    });
    log.run(Some(on_time), again, "2026-03-20T10:00:00+08:00");
    // Accepted "on 5 March", entered on 20 March, after the acceptance deadline (17 March).
    let backdated = Command::Accept(AcceptCase {
        new_facts: None,
        occurred_at: Some(ts("2026-03-05T10:00:00+08:00")),
        late_reason: Some("历史数据导入".into()),
    });
    log.run(Some(late), backdated, "2026-03-20T10:00:00+08:00");
    let (_dir, store) = build(&stats(), &log.events, 3);
    let r = query(
        &store,
        &query_of("2026-03-01", "2026-03-31", None, false),
        ts("2026-03-31T21:00:00+08:00"),
    )
    .expect("query");
    let c = &r.current.total.counts;
    assert_eq!((c.acknowledged, c.acknowledged_on_time), (2, 1));
    // Judged: the two acknowledged, and the one never acknowledged past its limit; not the
    // case registered an hour ago.
    assert_eq!(c.acknowledge_judged, 3);
    let rate = r.current.total.acknowledge_on_time_rate;
    assert_eq!((rate.num, rate.den), (1, 3));
    assert_eq!((c.reminded, c.reopened, c.rehandled_on_time), (1, 1, 1));
    assert_eq!((c.late_entries, c.on_time_by_late_entry), (1, 1));
    // The reopened case's first reply judges the on-time measures.
    assert_eq!(c.replied_on_time, 1);
}

/// Accept and reply on `at`, then a dissatisfied follow-up.
fn handle_to_follow_up(log: &mut Log, case: CaseId, at: &str) {
    for cmd in [
        Command::Accept(AcceptCase {
            new_facts: None,
            occurred_at: Some(ts(at)),
            late_reason: None,
        }),
        Command::Reply(ReplyCase {
            outcome: Outcome::Supported,
            text: "已答复".into(),
            occurred_at: Some(ts(at)),
            late_reason: None,
        }),
        Command::FollowUp(RecordFollowUp {
            satisfaction: Satisfaction::Dissatisfied,
            note: None,
            occurred_at: Some(ts(at)),
            late_reason: None,
        }),
    ] {
        log.run(Some(case), cmd, at);
    }
}

/// 积案 (issue 35): a case old by the end of a period and a petitioner's third case of its
/// category are `backlog_open` at the period's end, whenever received; closing one moves it to
/// `backlog_resolved` in the month of the closing step and the rate with it; a month's row
/// counts at the month's end; a case closed before it was old never counts.
#[test]
fn backlog_is_counted_at_the_period_end_and_resolved_in_the_month_it_closed() {
    let mut log = Log::new();
    let t = "2025-12-10T09:30:00+08:00";
    // Old from 11 March 2026 (10 December + 90 days is 10 March).
    let old = log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    let quick = log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    handle_to_follow_up(&mut log, quick, "2025-12-20T10:00:00+08:00");
    log.run(Some(quick), close_cmd(), "2025-12-21T10:00:00+08:00");
    log.peers = vec![earlier_case(1), earlier_case(2)];
    let t = "2026-03-05T09:30:00+08:00";
    log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    log.peers.clear();
    // The old case is resolved in April.
    handle_to_follow_up(&mut log, old, "2026-04-10T10:00:00+08:00");
    log.run(Some(old), close_cmd(), "2026-04-12T10:00:00+08:00");
    let (_dir, store) = build(&stats(), &log.events, 3);
    let now = ts("2026-05-20T10:00:00+08:00");
    let march = query(
        &store,
        &query_of("2026-03-01", "2026-03-31", None, false),
        now,
    )
    .expect("query");
    let c = &march.current.total.counts;
    assert_eq!(
        (c.backlog_open, c.backlog_resolved),
        (2, 0),
        "old and third at 31 March"
    );
    let april = query(
        &store,
        &query_of("2026-04-01", "2026-04-30", None, false),
        now,
    )
    .expect("query");
    let c = &april.current.total.counts;
    assert_eq!((c.backlog_open, c.backlog_resolved), (1, 1));
    let rate = april.current.total.backlog_resolution_rate;
    assert_eq!((rate.num, rate.den), (1, 2));
    // Early March: only the third case (registered 5 March) is backlog by 9 March's end.
    let early = query(
        &store,
        &query_of("2026-03-01", "2026-03-09", None, false),
        now,
    )
    .expect("query");
    assert_eq!(early.current.total.counts.backlog_open, 1);
    // By month: each month at its end, resolutions in their month.
    let q = query_of(
        "2026-02-01",
        "2026-04-30",
        Some(wire::stats::GroupBy::Month),
        false,
    );
    let months = query(&store, &q, now).expect("query");
    let at = |m: &str| {
        months
            .current
            .rows
            .iter()
            .find(|r| r.key == m)
            .map(|r| {
                (
                    r.measures.counts.backlog_open,
                    r.measures.counts.backlog_resolved,
                )
            })
            .unwrap_or_default()
    };
    assert_eq!(
        (at("2026-02"), at("2026-03"), at("2026-04")),
        ((0, 0), (2, 0), (1, 1))
    );
    // A period that has not ended counts now.
    let now_query = query_of("2026-05-01", "2026-05-31", None, false);
    let c = query(&store, &now_query, now)
        .expect("query")
        .current
        .total
        .counts;
    assert_eq!((c.backlog_open, c.backlog_resolved), (1, 0));
}

fn close_cmd() -> Command {
    Command::Close(CloseCase {
        note: Some("已处理".into()),
        occurred_at: None,
        late_reason: None,
    })
}
