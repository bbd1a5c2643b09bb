//! When a case was open and overdue, in business time: so `open_overdue` of a period that has
//! ended counts the cases open and overdue at its end, not now (issue 14, item 4).
//!
//! Each case keeps its overdue intervals so far and its current open segment (`t/<case>`). An
//! interval `[s, e)` adds +1 on the local day of `s` and −1 on the local day of `e` under its
//! bucket (`v/<bucket>/<day>`): the cases of a bucket overdue at the end of day D are the sum of
//! its deltas up to D (an interval that began by the end of D and had not ended by then).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::{Case, Policy, Timestamp};

use crate::{StoreError, Tx};

/// A case's overdue history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Timeline {
    /// Overdue intervals that ended, as (start, end) in seconds.
    ended: Vec<(i64, i64)>,
    /// The current segment: since when (seconds) the case has been open with this deadline.
    open: Option<(i64, Option<i64>)>,
    /// When the case was open, for the backlog (积案): kept in this record, which every event of
    /// the case reads and writes anyway.
    #[serde(default)]
    pub(super) backlog: super::backlog::Stretches,
}

impl Timeline {
    /// The case after an event at `at`: the segment before it ends there.
    pub(super) fn advance(&mut self, at: Timestamp, after: &Case) {
        let t = at.timestamp();
        if let Some((since, Some(due))) = self.open.take() {
            let start = since.max(due);
            if start < t {
                self.ended.push((start, t));
            }
        }
        self.open = after
            .status
            .is_open()
            .then(|| (t, after.due_at().map(|d| d.timestamp())));
    }

    /// Every overdue interval, the current one open-ended (it becomes overdue at its deadline).
    fn intervals(&self) -> impl Iterator<Item = (i64, Option<i64>)> + '_ {
        let current = self
            .open
            .and_then(|(since, due)| due.map(|d| (since.max(d), None)));
        self.ended
            .iter()
            .map(|(s, e)| (*s, Some(*e)))
            .chain(current)
    }

    /// The day deltas of this timeline (policy time zone).
    pub(super) fn deltas(&self, policy: &Policy) -> BTreeMap<NaiveDate, i64> {
        let day = |secs: i64| {
            chrono::DateTime::from_timestamp(secs, 0)
                .map(|t| policy.local_date(t.fixed_offset()))
                .unwrap_or_default()
        };
        let mut out: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for (s, e) in self.intervals() {
            *out.entry(day(s)).or_default() += 1;
            if let Some(e) = e {
                *out.entry(day(e)).or_default() -= 1;
            }
        }
        out.retain(|_, n| *n != 0);
        out
    }
}

use crate::keys::stats::delta as delta_key;

/// Move a case's deltas from `old` (under `old_bucket`) to `new` (under `new_bucket`).
pub(super) fn update(
    tx: &mut Tx<'_>,
    old: Option<(&str, &BTreeMap<NaiveDate, i64>)>,
    new: (&str, &BTreeMap<NaiveDate, i64>),
) -> Result<(), StoreError> {
    let mut changes: BTreeMap<String, i64> = BTreeMap::new();
    if let Some((bucket, deltas)) = old {
        for (day, n) in deltas {
            *changes.entry(delta_key(bucket, *day)).or_default() -= n;
        }
    }
    for (day, n) in new.1 {
        *changes.entry(delta_key(new.0, *day)).or_default() += n;
    }
    for (key, change) in changes.into_iter().filter(|(_, c)| *c != 0) {
        let n: i64 = tx.get(&key)?.unwrap_or(0) + change;
        if n == 0 {
            tx.remove(key);
        } else {
            tx.put(key, n);
        }
    }
    Ok(())
}

/// Parse a delta key: (the bucket key, the day).
pub(super) fn parse_delta(key: &str) -> Option<(String, NaiveDate)> {
    crate::keys::stats::parse_delta(key)
}
