//! 积案 in the cases model (issue 35): `flag=backlog` by the clock.

use domain::command::*;
use domain::{Channel, Role};
use queries::cases::{CaseFilter, Flag, ListCases};

use super::{clock, ids, model, page, who};
use crate::cases::list;
use crate::testing::{build, earlier_case, register, Log};

/// 积案: `flag=backlog` lists the open cases received more than `backlog_days` before the day of
/// the answer and the open third (and later) cases of a petitioner's category, newest first and
/// each once, paged; not a young first case, nor an old closed one.
#[test]
fn backlog_lists_old_and_repeated_open_cases_by_the_clock() {
    let mut log = Log::new();
    let letter = |at: &str| register("gaoqiao", Channel::Letter, 1, at);
    let old = log.run(
        None,
        letter("2025-12-31T20:00:00+08:00"),
        "2025-12-31T20:00:00+08:00",
    );
    // Received on the day that turns old tomorrow (1 January + 90 days is 1 April).
    let young = log.run(
        None,
        letter("2026-01-01T08:00:00+08:00"),
        "2026-01-01T08:00:00+08:00",
    );
    let closed = log.run(
        None,
        letter("2025-11-01T09:00:00+08:00"),
        "2025-11-01T09:00:00+08:00",
    );
    for cmd in [
        Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: None,
        }),
        Command::Reply(ReplyCase {
            outcome: domain::Outcome::Supported,
            text: "已答复".into(),
            occurred_at: None,
            late_reason: None,
        }),
        Command::Close(CloseCase {
            note: None,
            occurred_at: None,
            late_reason: None,
        }),
    ] {
        log.run(Some(closed), cmd, "2025-11-02T09:00:00+08:00");
    }
    // The petitioner's third case of the category (the command path found two earlier ones).
    log.peers = vec![earlier_case(1), earlier_case(2)];
    let third = log.run(
        None,
        letter("2026-03-20T09:00:00+08:00"),
        "2026-03-20T09:00:00+08:00",
    );
    log.peers = vec![earlier_case(1)];
    let second = log.run(
        None,
        letter("2026-03-25T09:00:00+08:00"),
        "2026-03-25T09:00:00+08:00",
    );
    let (_dir, store) = build(&model(), &log.events, 3);
    let county = who(Role::County, None);
    let backlog = CaseFilter {
        flag: Some(Flag::Backlog),
        ..CaseFilter::default()
    };
    let all = page(&store, &county, backlog.clone(), 100, None);
    assert_eq!(ids(&all), vec![third, old]);
    assert!(all.items.iter().all(|i| i.flags.backlog));
    assert_eq!(all.items[0].repeat_rank, Some(3));
    // Pages of one: each once.
    let first = page(&store, &county, backlog.clone(), 1, None);
    assert_eq!(ids(&first), vec![third]);
    let rest = page(
        &store,
        &county,
        backlog.clone(),
        1,
        first.next_cursor.as_deref(),
    );
    assert_eq!(ids(&rest), vec![old]);
    // A day later the young case is old too; the second case of its category never by repeats.
    let req = ListCases {
        principal: county.clone(),
        filter: backlog,
        limit: 100,
        cursor: None,
    };
    let later = list(&store, &req, clock("2026-04-02T00:30:00+08:00")).expect("list");
    assert_eq!(ids(&later), vec![third, young, old]);
    assert!(!ids(&later).contains(&second) && !ids(&later).contains(&closed));
}
