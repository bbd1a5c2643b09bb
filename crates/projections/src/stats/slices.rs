//! Issue 14, items 1 and 2: reports cut by two dimensions with filters, the visit bands, joint
//! letters, leader reception and each row's year-on-year change.

use domain::command::*;
use domain::{Channel, Satisfaction};
use queries::stats::{Filters, StatsQuery as Query};
use wire::stats::GroupBy;

use super::tests::{handle, query};
use super::Stats;
use crate::testing::{build, register, ts, Log};

fn q(from: &str, to: &str, group_by: Vec<GroupBy>, filters: Filters, yoy: bool) -> Query {
    Query {
        from: from.parse().expect("date"),
        to: to.parse().expect("date"),
        group_by,
        filters,
        yoy,
        adjusted: false,
        hide_accused: None,
    }
}

#[test]
fn visits_form_bands_a_joint_letter_is_a_letter_and_two_way_cuts_add_up() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let individual = log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    log.run(None, register("gaoqiao", Channel::Visit, 3, t), t);
    log.run(None, register("dongcheng", Channel::Visit, 6, t), t);
    log.run(
        None,
        register("dongcheng", Channel::LeaderReception, 2, t),
        t,
    );
    // A joint letter of 40 signatories: one letter, one person, 40 signatures, no band.
    let letter = log.run(None, register("gaoqiao", Channel::Letter, 40, t), t);
    handle(
        &mut log,
        individual,
        "2026-03-05T10:00:00+08:00",
        "2026-03-05T10:00:00+08:00",
        Satisfaction::Satisfied,
    );
    handle(
        &mut log,
        letter,
        "2026-03-05T10:00:00+08:00",
        "2026-03-05T10:00:00+08:00",
        Satisfaction::Satisfied,
    );
    let (_d, store) = build(
        &Stats {
            policy: domain::Policy::default(),
        },
        &log.events,
        3,
    );
    let now = ts("2026-03-10T10:00:00+08:00");
    let all = query(
        &store,
        &q(
            "2026-03-01",
            "2026-03-31",
            vec![],
            Filters::default(),
            false,
        ),
        now,
    )
    .expect("query");
    let c = all.current.total.counts;
    assert_eq!((c.items, c.batches, c.persons), (5, 5, 1 + 3 + 6 + 2 + 1));
    assert_eq!((c.individual_batches, c.individual_persons), (1, 1));
    assert_eq!(
        (c.group_batches, c.group_persons),
        (2, 5),
        "3 and the leader reception of 2"
    );
    assert_eq!((c.collective_batches, c.collective_persons), (1, 6));
    assert_eq!(c.signatures, 40);
    assert_eq!(
        (c.leader_reception_batches, c.leader_reception_persons),
        (1, 2)
    );
    assert_eq!((c.replied, c.replied_on_time), (2, 2));
    assert_eq!(all.current.total.reply_on_time_rate.value, Some(1.0));

    // Channel by band: each row names both values; the rows add up to the total.
    let cut = query(
        &store,
        &q(
            "2026-03-01",
            "2026-03-31",
            vec![GroupBy::Channel, GroupBy::Band],
            Filters::default(),
            false,
        ),
        now,
    )
    .expect("query");
    let rows: Vec<(&str, i64, i64)> = cut
        .current
        .rows
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.measures.counts.batches,
                r.measures.counts.persons,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("leader_reception|group", 1, 2),
            ("letter|-", 1, 1),
            ("visit|collective", 1, 6),
            ("visit|group", 1, 3),
            ("visit|individual", 1, 1),
        ]
    );
    assert_eq!(cut.current.rows[0].keys["channel"], "leader_reception");
    assert_eq!(cut.current.rows[0].keys["band"], "group");
    let sum: i64 = cut
        .current
        .rows
        .iter()
        .map(|r| r.measures.counts.persons)
        .sum();
    assert_eq!(sum, c.persons);

    // Filters repeat: visits (both channels) of the group band only.
    let filtered = query(
        &store,
        &q(
            "2026-03-01",
            "2026-03-31",
            vec![GroupBy::Township],
            Filters {
                channel: vec!["visit".into(), "leader_reception".into()],
                band: vec!["group".into()],
                ..Filters::default()
            },
            false,
        ),
        now,
    )
    .expect("query");
    assert_eq!(filtered.current.total.counts.batches, 2);
    let towns: Vec<&str> = filtered
        .current
        .rows
        .iter()
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(towns, ["dongcheng", "gaoqiao"]);
}

#[test]
fn every_row_has_its_own_year_on_year_change_and_rates_compare_in_points() {
    let mut log = Log::new();
    // Last March: 2 visits (1 closed), 4 letters. This March: 3 visits (3 closed), 4 letters.
    let last = "2025-03-03T09:00:00+08:00";
    let v1 = log.run(None, register("gaoqiao", Channel::Visit, 1, last), last);
    log.run(None, register("gaoqiao", Channel::Visit, 1, last), last);
    handle(
        &mut log,
        v1,
        "2025-03-04T09:00:00+08:00",
        "2025-03-04T09:00:00+08:00",
        Satisfaction::Satisfied,
    );
    for _ in 0..4 {
        log.run(None, register("gaoqiao", Channel::Letter, 1, last), last);
    }
    let now_t = "2026-03-03T09:00:00+08:00";
    for _ in 0..3 {
        let v = log.run(None, register("gaoqiao", Channel::Visit, 1, now_t), now_t);
        handle(
            &mut log,
            v,
            "2026-03-04T09:00:00+08:00",
            "2026-03-04T09:00:00+08:00",
            Satisfaction::Satisfied,
        );
    }
    for _ in 0..4 {
        log.run(None, register("gaoqiao", Channel::Letter, 1, now_t), now_t);
    }
    let (_d, store) = build(
        &Stats {
            policy: domain::Policy::default(),
        },
        &log.events,
        7,
    );
    let r = query(
        &store,
        &q(
            "2026-03-01",
            "2026-03-31",
            vec![GroupBy::Channel],
            Filters::default(),
            true,
        ),
        ts("2026-03-10T10:00:00+08:00"),
    )
    .expect("query");
    let visit = r
        .current
        .rows
        .iter()
        .find(|r| r.key == "visit")
        .expect("visit row");
    let change = visit.change.as_ref().expect("change");
    assert_eq!(change["batches"], Some(0.5), "3 against 2");
    // Closure 100 % against 50 %: +50 points.
    assert_eq!(change["closure_rate"], Some(50.0));
    let letter = r
        .current
        .rows
        .iter()
        .find(|r| r.key == "letter")
        .expect("letter row");
    assert_eq!(letter.change.as_ref().expect("change")["items"], Some(0.0));
    // The total's change mixes both (7 against 6), and the rows do not contradict it.
    assert_eq!(r.change.expect("change").items, Some(1.0 / 6.0));
    let prev = r.previous.expect("previous");
    let keys: Vec<&str> = prev.rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["letter", "visit"], "the same rows a year earlier");
    assert_eq!(prev.rows[1].measures.counts.batches, 2);
}

/// Issue 14, item 4: "open_overdue is always now, even for a period that ended last year".
#[test]
fn open_overdue_of_an_ended_period_is_counted_at_its_end() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    // Never accepted: overdue since its acceptance deadline (17 March), still open.
    log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    // Accepted late (20 March): overdue from 17 to 20 March, then on the reply clock until
    // 19 May. At the end of March it was not overdue; now (June) it is.
    let late = log.run(None, register("gaoqiao", Channel::Visit, 1, t), t);
    let accepted = "2026-03-20T10:00:00+08:00";
    log.run(
        Some(late),
        Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: Some(ts(accepted)),
        }),
        accepted,
    );
    // Closed late within March: not open at its end.
    let done = log.run(None, register("dongcheng", Channel::Visit, 1, t), t);
    handle(
        &mut log,
        done,
        "2026-03-25T10:00:00+08:00",
        "2026-03-25T10:00:00+08:00",
        Satisfaction::Satisfied,
    );
    let march = |yoy| {
        q(
            "2026-03-01",
            "2026-03-31",
            vec![GroupBy::Township],
            Filters::default(),
            yoy,
        )
    };
    for batch in [1, 4, 1000] {
        let (_d, store) = build(
            &Stats {
                policy: domain::Policy::default(),
            },
            &log.events,
            batch,
        );
        let june = query(&store, &march(false), ts("2026-06-01T10:00:00+08:00")).expect("query");
        assert_eq!(
            june.current.total.open_overdue, 1,
            "at the end of March (batch {batch})"
        );
        let rows: Vec<(&str, i64)> = june
            .current
            .rows
            .iter()
            .map(|r| (r.key.as_str(), r.measures.open_overdue))
            .collect();
        assert_eq!(rows, [("dongcheng", 0), ("gaoqiao", 1)]);
        // A period still running counts now: in June the late-accepted case is past its reply
        // deadline (19 May) as well.
        let running = q(
            "2026-03-01",
            "2026-06-30",
            vec![],
            Filters::default(),
            false,
        );
        let now = query(&store, &running, ts("2026-06-01T10:00:00+08:00")).expect("query");
        assert_eq!(now.current.total.open_overdue, 2, "batch {batch}");
    }
}

/// Issue 14, item 7: an export pages through the period's cases in the order received, none twice
/// and none left out, also when a correction moved one to another day.
#[test]
fn an_export_pages_through_the_cases_of_its_period() {
    let mut log = Log::new();
    let mut ids = Vec::new();
    for day in 1..=7 {
        let t = format!("2026-03-0{day}T09:30:00+08:00");
        ids.push(log.run(None, register("gaoqiao", Channel::Visit, 1, &t), &t));
    }
    // Registered on the 7th, received in fact on the 8th... of February: out of March.
    let at = "2026-03-08T10:00:00+08:00";
    log.run(
        Some(ids[6]),
        Command::Correct(CorrectRegistration {
            late_reason: None,
            reason: "收到日期登记错误".into(),
            changes: RegistrationFacts {
                received_at: Some(ts("2026-02-08T09:30:00+08:00")),
                ..Default::default()
            },
            occurred_at: Some(ts(at)),
        }),
        at,
    );
    let policy = domain::Policy::default();
    let (_d, store) = build(&Stats { policy }, &log.events, 2);
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let page = super::export(
            &store,
            &queries::stats::ExportQuery {
                from: "2026-03-01".parse().expect("date"),
                to: "2026-03-31".parse().expect("date"),
                hide_accused: None,
                after: after.clone(),
                limit: 4,
            },
            &policy,
        )
        .expect("export");
        assert!(page.rows.len() <= 4);
        got.extend(page.rows.iter().map(|r| r.case_id));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let want: Vec<uuid::Uuid> = ids[..6].iter().map(|c| c.0).collect();
    assert_eq!(got, want);
}
