//! Statistics (docs/rules.md, "Counting"), pre-aggregated.
//!
//! Every case belongs to one bucket `b/<received date>/<township>/<channel>/<level>/<category>/
//! <accused unit or ->/<unit>/<band or ->/<leader reception y|n>` ([`DIMS`]; the unit is the one
//! accountable at the reply, or now when not replied). Its
//! contribution is recomputed from its state after every event: the old contribution is
//! subtracted from the old bucket and the new one added to the new (a correction may move a case
//! to another bucket), so a query sums buckets and never scans cases. The accused unit is a
//! dimension so that its own readers never see the accusation in a figure. `open_overdue` depends on the clock, so open cases with
//! a deadline are indexed under `o/<due time>/<case_id>` and the query reads the index up to now.

use serde::{Deserialize, Serialize};

use domain::policy::Band;
use domain::{Case, CaseId, Policy, Satisfaction, Status, Timestamp};
use eventlog::Stored;

use wire::stats::Counts;

use crate::{fold_case, Projection, ProjectionError, Tx};

pub struct Stats {
    pub policy: Policy,
}

/// What one case counts (docs/rules.md, "Counting"): one item and one batch per registration; a visit counts its
/// headcount as persons, every other channel one person. A merged case counts only as merged: its
/// matter is the case it was merged into (docs/rules.md, "Counting"). Only visits form bands; a joint
/// letter is one letter with its signatures.
pub(super) fn counts_of(case: &Case, policy: &Policy) -> Counts {
    if case.status == Status::Merged {
        return Counts {
            merged: 1,
            ..Counts::default()
        };
    }
    let visit = case.channel.is_visit();
    let persons = if visit { i64::from(case.headcount) } else { 1 };
    let band = visit.then(|| policy.band(case.headcount));
    let in_band = |b: Band| i64::from(band == Some(b));
    let lr = case.leader_reception;
    let replied = case.replied_at.is_some();
    let closed = matches!(
        case.status,
        Status::Closed | Status::UnderReview | Status::UnderRereview | Status::Terminated
    );
    let ack = case.acknowledgements;
    let answered = case
        .last_satisfaction()
        .filter(|s| *s != Satisfaction::Unreachable);
    Counts {
        items: 1,
        batches: 1,
        persons,
        collective_batches: in_band(Band::Collective),
        collective_persons: in_band(Band::Collective) * persons,
        cross_level_batches: i64::from(case.flags.cross_level),
        repeat_batches: i64::from(case.flags.repeat),
        accepted: i64::from(case.accepted_at.is_some()),
        rejected: i64::from(case.status == Status::Rejected),
        replied: i64::from(replied),
        closed: i64::from(closed),
        closed_on_time: i64::from(closed && case.reply_on_time == Some(true)),
        follow_ups: i64::from(answered.is_some()),
        satisfied: i64::from(matches!(
            answered,
            Some(Satisfaction::Satisfied | Satisfaction::BasicallySatisfied)
        )),
        merged: 0,
        bounced: i64::from(case.bounced),
        withdrawn: i64::from(case.status == Status::Withdrawn),
        individual_batches: in_band(Band::Individual),
        individual_persons: in_band(Band::Individual) * persons,
        group_batches: in_band(Band::Group),
        group_persons: in_band(Band::Group) * persons,
        signatures: if case.channel == domain::Channel::Letter {
            i64::from(case.headcount)
        } else {
            0
        },
        leader_reception_batches: i64::from(lr),
        leader_reception_persons: if lr { persons } else { 0 },
        repeat_persons: if case.flags.repeat { persons } else { 0 },
        terminated: i64::from(case.status == Status::Terminated),
        replied_on_time: i64::from(replied && case.reply_on_time == Some(true)),
        acknowledged: i64::from(ack.all()),
        acknowledged_on_time: i64::from(ack.all_on_time()),
        // A case whose only accountability is still unacknowledged counts here once its limit
        // has passed: the query adds it from the index of pending acknowledgements (`k/`).
        acknowledge_judged: i64::from(ack.judged()),
        reminded: i64::from(case.reminders.count > 0),
        reopened: i64::from(case.reopens > 0),
        rehandled_on_time: i64::from(case.rehandle_on_time == Some(true)),
        late_entries: i64::from(case.late_entries),
        on_time_by_late_entry: i64::from(case.on_time_by_late_entry),
        // Counted at a period's end from the backlog deltas (`w/`), not per bucket.
        backlog_open: 0,
        backlog_resolved: 0,
    }
}

/// The limit of a case's acknowledgement while it is pending and no accountability of the case
/// has been judged yet: once it passes, the case joins `acknowledge_judged` (read by the query
/// from the `k/` index, against the clock).
fn pending_acknowledgement(case: &Case) -> Option<Timestamp> {
    let pending =
        case.status.is_open() && case.acknowledged.is_none() && !case.acknowledgements.judged();
    case.acknowledge_due_at.filter(|_| pending)
}

/// Index entry of an open case with a deadline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Open {
    pub(super) bucket: String,
    #[serde(with = "domain::stamp")]
    pub(super) due_at: Timestamp,
}

/// The dimensions of a bucket key, in order.
pub const DIMS: [&str; 9] = [
    "date", "township", "channel", "level", "category", "accused", "unit", "band", "lr",
];

impl Stats {
    fn bucket(&self, case: &Case) -> String {
        bucket_of(&self.policy, case)
    }
}

/// The bucket a case counts in.
pub(super) fn bucket_of(policy: &Policy, case: &Case) -> String {
    {
        // The unit a case belongs to: accountable at the reply, or now.
        let unit = case.reply.as_ref().map_or(&case.unit, |r| &r.unit);
        let band = if case.channel.is_visit() {
            policy.band(case.headcount).as_str()
        } else {
            "-"
        };
        crate::keys::stats::bucket(&[
            &policy.local_date(case.received_at).to_string(),
            case.township.as_str(),
            case.channel.as_str(),
            case.level_reached.as_str(),
            case.category.as_str(),
            case.accused_unit.as_ref().map_or("-", |u| u.as_str()),
            unit.as_str(),
            band,
            if case.leader_reception { "y" } else { "n" },
        ])
    }
}

/// `o/<due time>/<case>`: sorted by due time.
fn open_key(due: Timestamp, case: CaseId) -> String {
    crate::keys::stats::open(&due_prefix(due), case)
}

/// `k/<limit>/<case>`: sorted by the limit of a pending acknowledgement.
fn pending_key(due: Timestamp, case: CaseId) -> String {
    crate::keys::stats::pending(&due_prefix(due), case)
}

/// Nanoseconds since the epoch, fixed width, so keys sort by time (strftime was 5 % of a rebuild).
pub(super) fn due_prefix(t: Timestamp) -> String {
    format!("{:020}", t.timestamp_nanos_opt().unwrap_or(i64::MAX).max(0))
}

impl Projection for Stats {
    fn name(&self) -> &'static str {
        "stats"
    }

    /// 2: the open-case index is keyed by due time.
    /// 3: the due time in the key is nanoseconds since the epoch.
    /// 4: cases stored with `leader_reception`.
    /// 5: cases with `first_petition` and `merged_into`; the `merged` count.
    /// 6: cases with transfers; the `bounced` count. 7: cases with supervision and leader.
    /// 8: buckets by accused unit; cases with reply, follow-up and corrections; `withdrawn`.
    /// 9: cases with attachments. 10: buckets by unit, band and leader reception; bands and
    /// the measures of issue 14. 11: when cases were overdue (`t/`, `v/`); the period index of
    /// the export (`e/`). 12: cases with their adjustments; the adjustments (`j/`). 13: cases
    /// with their erasures. 14: cases with acknowledgements, reminders, reopenings and late
    /// entries; their measures and the index of pending acknowledgements (`k/`). 15: cases
    /// with their place among their petitioners' cases and their resolution plan; when they
    /// were open (in `t/`) and the backlog's day deltas (`w/`, 积案).
    fn version(&self) -> u32 {
        15
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        let Some((before, after)) = fold_case(tx, event)? else {
            return Ok(());
        };
        if !after.adjustments.is_empty() {
            adjusted::index(tx, &self.policy, &after);
        }
        // An adjustment changes no raw figure, and is not a step of the handling: the overdue
        // timeline goes on as before.
        if event.envelope.event.is_adjustment() {
            return Ok(());
        }
        let bucket = self.bucket(&after);
        let old_bucket = before.as_ref().map(|b| self.bucket(b));
        // When it was overdue, for periods that have ended.
        let timeline_key = crate::keys::stats::timeline(after.id);
        let mut timeline: overdue::Timeline = tx.get(&timeline_key)?.unwrap_or_default();
        let old_deltas = timeline.deltas(&self.policy);
        timeline.advance(event.envelope.occurred_at, &after);
        let new_deltas = timeline.deltas(&self.policy);
        if old_bucket.as_ref() != Some(&bucket) || old_deltas != new_deltas {
            overdue::update(
                tx,
                old_bucket.as_deref().map(|b| (b, &old_deltas)),
                (&bucket, &new_deltas),
            )?;
        }
        // 积案: when it was open, and from when backlog. Only an event that opens or ends a
        // stretch, or changes what the backlog days follow from (receipt, place, bucket), moves
        // anything.
        let backlog_moves = before.as_ref().is_none_or(|b| {
            (b.status.is_open(), b.received_at, b.repeat_rank)
                != (after.status.is_open(), after.received_at, after.repeat_rank)
        }) || old_bucket.as_ref() != Some(&bucket);
        if backlog_moves {
            let stretches = &mut timeline.backlog;
            let old_backlog = before
                .as_ref()
                .map(|b| stretches.deltas(b, &self.policy))
                .unwrap_or_default();
            stretches.advance(event.envelope.occurred_at, before.as_ref(), &after);
            let new_backlog = stretches.deltas(&after, &self.policy);
            if old_bucket.as_ref() != Some(&bucket) || old_backlog != new_backlog {
                backlog::update(
                    tx,
                    old_bucket.as_deref().map(|b| (b, &old_backlog)),
                    (&bucket, &new_backlog),
                )?;
            }
        }
        tx.put(timeline_key, timeline);
        // The period index of the export.
        let (old_key, new_key) = (
            before.as_ref().map(|b| export::period_key(&self.policy, b)),
            export::period_key(&self.policy, &after),
        );
        if old_key.as_ref() != Some(&new_key) {
            if let Some(k) = old_key {
                tx.remove(k);
            }
            tx.put(new_key, ());
        }
        // A bucket no case counts in any more (a correction moved its only case) is removed, so
        // it gives no empty row.
        let put = |tx: &mut Tx<'_>, key: &str, counts: Counts| {
            if counts == Counts::default() {
                tx.remove(key.to_owned());
            } else {
                tx.put(key.to_owned(), counts);
            }
        };
        if let (Some(b), Some(key)) = (&before, &old_bucket) {
            let mut counts: Counts = tx.get(key)?.unwrap_or_default();
            counts.sub(&counts_of(b, &self.policy));
            put(tx, key, counts);
        }
        let mut counts: Counts = tx.get(&bucket)?.unwrap_or_default();
        counts.add(&counts_of(&after, &self.policy));
        put(tx, &bucket, counts);
        // The open-case index is ordered by due time, so the query reads only overdue cases. An
        // entry changes with the case's deadline or bucket.
        let open_due = |c: &Case| c.due_at().filter(|_| c.status.is_open());
        let old = before.as_ref().and_then(open_due);
        let new = open_due(&after);
        if old != new || old_bucket.as_ref() != Some(&bucket) {
            if let Some(due) = old {
                tx.remove(open_key(due, after.id));
            }
            if let Some(due_at) = new {
                tx.put(
                    open_key(due_at, after.id),
                    Open {
                        bucket: bucket.clone(),
                        due_at,
                    },
                );
            }
        }
        let (old, new) = (
            before.as_ref().and_then(pending_acknowledgement),
            pending_acknowledgement(&after),
        );
        if old != new || old_bucket.as_ref() != Some(&bucket) {
            if let Some(due) = old {
                tx.remove(pending_key(due, after.id));
            }
            if let Some(due_at) = new {
                tx.put(pending_key(due_at, after.id), Open { bucket, due_at });
            }
        }
        Ok(())
    }
}

mod adjusted;
mod backlog;
#[cfg(test)]
mod closedloop;
mod export;
mod overdue;
mod query;
#[cfg(test)]
mod slices;
#[cfg(test)]
mod tests;

pub use adjusted::{adjustment, adjustments};
pub use export::export;
pub use query::query;
