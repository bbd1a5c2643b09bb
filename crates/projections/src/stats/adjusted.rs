//! 核减 in the statistics model: every adjustment as a record (`j/<adjustment id>`), kept with its
//! case's current facts, and the adjusted figures of a report (`adjusted=true`).
//!
//! Adjusted figures are computed when asked, from the raw ones: adjustments are few (tens a year
//! in a county), so each approved adjustment of the period takes its case's contribution to its
//! measure (to every measure, for `items`) out of the total and out of the case's row, with the
//! case as it stands now — a later correction that moves the case moves its adjustment with it.

use chrono::NaiveDate;

use domain::adjustment::{Adjustment, AdjustmentStatus};
use domain::{Case, Policy, Timestamp};
use queries::adjustments::{record_of, CaseRef};
use wire::adjustments::AdjustmentRecord;
use wire::stats::Counts;

use crate::{Store, StoreError, Tx};

fn key(id: uuid::Uuid) -> String {
    crate::keys::stats::adjustment(id)
}

/// An adjustment as stored: with its case's number and receipt (postcard, positional).
pub(super) type Entry = (CaseRef, Adjustment);

/// Keep the records of the case's adjustments current with the case (its number and receipt).
pub(super) fn index(tx: &mut Tx<'_>, policy: &Policy, after: &Case) {
    let case = CaseRef::new(after, policy.local_date(after.received_at));
    for a in &after.adjustments {
        let entry: Entry = (case.clone(), a.clone());
        tx.put(key(a.adjustment_id), entry);
    }
}

pub fn adjustment(store: &Store, id: uuid::Uuid) -> Result<Option<AdjustmentRecord>, StoreError> {
    Ok(store
        .get::<Entry>(&key(id))?
        .map(|(case, a)| record_of(&case, &a)))
}

/// The adjustments of the cases received from `from` to `to`, in order of request.
pub fn adjustments(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<AdjustmentRecord>, StoreError> {
    let mut out: Vec<AdjustmentRecord> = store
        .scan::<Entry>(crate::keys::stats::ADJUSTMENTS)?
        .into_iter()
        .map(|(_, (case, a))| record_of(&case, &a))
        .filter(|r| (from..=to).contains(&r.received_date))
        .collect();
    out.sort_by_key(|a| (a.requested_at, a.adjustment_id));
    Ok(out)
}

/// What one approved adjustment takes out of a report: its case's bucket, the counts, and
/// whether it takes the case out of `open_overdue`.
pub(super) struct Removal {
    pub(super) record: AdjustmentRecord,
    pub(super) bucket: String,
    pub(super) counts: Counts,
    pub(super) overdue: i64,
}

/// The removals of the approved adjustments of cases received in the period that are in the
/// query's scope (`in_scope` of the bucket).
pub(super) fn removals(
    store: &Store,
    (from, to): (NaiveDate, NaiveDate),
    now: Timestamp,
    policy: &Policy,
    in_scope: impl Fn(&str) -> bool,
) -> Result<Vec<Removal>, StoreError> {
    let ended = policy.end_of_day(to) < now;
    let mut out = Vec::new();
    for record in adjustments(store, from, to)? {
        if record.status != AdjustmentStatus::Approved {
            continue;
        }
        let Some(case) =
            store.get::<Case>(&crate::keys::shared::case(domain::CaseId(record.case_id)))?
        else {
            continue;
        };
        let bucket = super::bucket_of(policy, &case);
        // The filters, and never an accusation against the reader's own unit.
        if !in_scope(&bucket) {
            continue;
        }
        let all = super::counts_of(&case, policy);
        let counts = if record.measure == "items" {
            all
        } else {
            all.only(&record.measure)
        };
        let overdue = if matches!(record.measure.as_str(), "items" | "open_overdue") {
            overdue_in(store, &case, to, ended, now, policy)?
        } else {
            0
        };
        out.push(Removal {
            record,
            bucket,
            counts,
            overdue,
        });
    }
    Ok(out)
}

/// Whether the case counts in the period's `open_overdue`: at the period's end when it has
/// ended (its overdue timeline), else now (open and past its deadline), as the raw figure does.
fn overdue_in(
    store: &Store,
    case: &Case,
    to: NaiveDate,
    ended: bool,
    now: Timestamp,
    policy: &Policy,
) -> Result<i64, StoreError> {
    if !ended {
        return Ok(i64::from(case.overdue(now)));
    }
    let timeline: super::overdue::Timeline = store
        .get(&crate::keys::stats::timeline(case.id))?
        .unwrap_or_default();
    Ok(timeline.deltas(policy).range(..=to).map(|(_, n)| *n).sum())
}
