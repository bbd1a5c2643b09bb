//! 积案 (`flag=backlog`): the open cases received before the day that makes them old (the listing
//! indexes of the open statuses, from there on), and the open cases that are a petitioner's
//! `backlog_repeats`-th or later of their category (index `br`), merged newest first. Nothing is
//! indexed by the clock: the age's bound moves with the day of the answer.

use domain::{CaseId, Status};
use queries::cases::Clock;

use super::{micros, order_key};

/// A place in index `br`: two digits, so the places sort as numbers.
pub(super) fn rank_value(rank: u32) -> String {
    format!("{:02}", rank.min(domain::policy::MAX_BACKLOG_REPEATS))
}

/// The (index prefix, first order) of every source of backlog cases as of `clock`, each
/// starting no earlier than `floor` (a cursor's order, a listing's `until`).
pub(super) fn sources(clock: Clock, floor: &str) -> Vec<(String, String)> {
    let p = &clock.policy;
    let at = |prefix: String, start: String| (prefix, start.max(floor.to_owned()));
    // Old: received before the first instant of the day `backlog_days` before today.
    let old = p
        .local_date(clock.now)
        .checked_sub_days(chrono::Days::new(u64::from(p.backlog_days)))
        .map(|day| micros(p.start_of_day(day)) - 1)
        .filter(|_| p.backlog_repeats > 1);
    let mut out: Vec<(String, String)> = Status::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| {
            let start = old.map_or_else(String::new, |t| order_key(t, CaseId(uuid::Uuid::max())));
            at(crate::keys::cases::entries("s", &s.to_string()), start)
        })
        .collect();
    out.extend(
        (p.backlog_repeats.max(2)..=domain::policy::MAX_BACKLOG_REPEATS).map(|rank| {
            at(
                crate::keys::cases::entries("br", &rank_value(rank)),
                String::new(),
            )
        }),
    );
    out
}
