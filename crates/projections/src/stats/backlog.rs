//! 积案 in statistics: `backlog_open` at a period's end and `backlog_resolved` within it, whenever
//! the cases were received (issue 35).
//!
//! Each case keeps its open stretches (in its timeline, `t/<case>`): from its receipt (or a reopening, a review)
//! to the step that ended it, and whether that step resolved it (`closed`, `terminated`). In a
//! stretch the case is backlog from its start when it is a petitioner's `backlog_repeats`-th or
//! later case of its category, else from the day its age makes it so
//! (`domain::Case::backlog_from`). That gives day deltas under its bucket (`w/<bucket>/<day>`):
//! `[open, resolved]`, +1 open on the day it turns backlog, −1 on the day the stretch ends, and
//! +1 resolved then when the step resolved it. The cases backlog at the end of day D are the sum
//! of the open deltas up to D, of every bucket received by D.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::{Case, Policy, Status, Timestamp};

use crate::{StoreError, Tx};

/// A case's open stretches, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Stretches {
    /// Stretches that ended: start, end, and whether the end resolved the case.
    ended: Vec<(i64, i64, bool)>,
    /// The start of the current stretch, while the case is open.
    open: Option<i64>,
}

impl Stretches {
    /// The case after an event at `at` (its state `before` and `after` it).
    pub(super) fn advance(&mut self, at: Timestamp, before: Option<&Case>, after: &Case) {
        let was_open = before.is_some_and(|b| b.status.is_open());
        let is_open = after.status.is_open();
        if !was_open && is_open {
            // Open from its receipt, or from the step that opened it again.
            let start = if before.is_none() {
                after.received_at
            } else {
                at
            };
            self.open = Some(start.timestamp());
        } else if was_open && !is_open {
            if let Some(start) = self.open.take() {
                let resolved = matches!(after.status, Status::Closed | Status::Terminated);
                self.ended.push((start, at.timestamp(), resolved));
            }
        }
    }

    /// The day deltas `[open, resolved]` of this case (policy time zone).
    pub(super) fn deltas(&self, case: &Case, policy: &Policy) -> BTreeMap<NaiveDate, [i64; 2]> {
        let by_repeats = case.repeat_rank >= policy.backlog_repeats;
        let old_from = case
            .backlog_from(policy)
            .map(|d| policy.start_of_day(d).timestamp());
        let day = |secs: i64| {
            chrono::DateTime::from_timestamp(secs, 0)
                .map(|t| policy.local_date(t.fixed_offset()))
                .unwrap_or_default()
        };
        let mut out: BTreeMap<NaiveDate, [i64; 2]> = BTreeMap::new();
        let stretches = self
            .ended
            .iter()
            .map(|(s, e, r)| (*s, Some((*e, *r))))
            .chain(self.open.map(|s| (s, None)));
        for (start, end) in stretches {
            let from = if by_repeats {
                Some(start)
            } else {
                old_from.map(|o| o.max(start))
            };
            let Some(from) = from else { continue };
            if end.is_some_and(|(e, _)| e <= from) {
                // Ended before it was backlog.
                continue;
            }
            out.entry(day(from)).or_default()[0] += 1;
            if let Some((e, resolved)) = end {
                let d = out.entry(day(e)).or_default();
                d[0] -= 1;
                d[1] += i64::from(resolved);
            }
        }
        out.retain(|_, d| *d != [0, 0]);
        out
    }
}

type Deltas = BTreeMap<NaiveDate, [i64; 2]>;

/// Move a case's backlog deltas from `old` (under its old bucket) to `new`.
pub(super) fn update(
    tx: &mut Tx<'_>,
    old: Option<(&str, &Deltas)>,
    new: (&str, &Deltas),
) -> Result<(), StoreError> {
    let mut changes: BTreeMap<String, [i64; 2]> = BTreeMap::new();
    let key = crate::keys::stats::backlog;
    if let Some((bucket, deltas)) = old {
        for (day, [o, r]) in deltas {
            let c = changes.entry(key(bucket, *day)).or_default();
            c[0] -= o;
            c[1] -= r;
        }
    }
    for (day, [o, r]) in new.1 {
        let c = changes.entry(key(new.0, *day)).or_default();
        c[0] += o;
        c[1] += r;
    }
    for (key, change) in changes.into_iter().filter(|(_, c)| *c != [0, 0]) {
        let [o, r]: [i64; 2] = tx.get(&key)?.unwrap_or_default();
        let n = [o + change[0], r + change[1]];
        if n == [0, 0] {
            tx.remove(key);
        } else {
            tx.put(key, n);
        }
    }
    Ok(())
}

/// The backlog counts of the cases received by `to` in the query's scope, summed per bucket:
/// open at the end of `end` (the period's last day, or today), resolved from `from` to `end`.
/// `add` takes each bucket's (parts, day, [open, resolved]) entry that counts.
pub(super) fn read(
    store: &crate::Store,
    to: NaiveDate,
    mut add: impl FnMut(&str, NaiveDate, [i64; 2]),
) -> Result<(), StoreError> {
    let (first, last) = crate::keys::stats::backlogs(to);
    for (key, value) in store.range::<[i64; 2]>(&first, &last)? {
        if let Some((bucket, day)) = crate::keys::stats::parse_backlog(&key) {
            add(&bucket, day, value);
        }
    }
    Ok(())
}
