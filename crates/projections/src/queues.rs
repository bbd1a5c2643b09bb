//! Work queues: per unit, the open cases it is accountable for, with the current stage's deadline.
//! Overdue and due-soon are computed at query time against the clock, so a case becomes overdue
//! without any new event.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use domain::{CaseId, Status, Timestamp};
use eventlog::Stored;

use queries::queues::{Filter, Item, Queue, QueueCounts};

use crate::{fold_case, Projection, ProjectionError, Store, StoreError, Tx};

pub struct Queues;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub case_id: CaseId,
    pub case_no: String,
    pub status: Status,
    #[serde(with = "domain::stamp::option")]
    pub due_at: Option<Timestamp>,
}

impl Projection for Queues {
    fn name(&self) -> &'static str {
        "queues"
    }

    /// 2: cases stored with `leader_reception`. 3: with `first_petition` and `merged_into`.
    /// 4: with transfers and `bounced`. 5: with supervision and leader.
    fn version(&self) -> u32 {
        5
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        let (before, after) = fold_case(tx, event)?;
        if let Some(b) = before {
            tx.remove(format!("q/{}/{}", b.unit, b.id));
        }
        if after.status.is_open() {
            let entry = Entry {
                case_id: after.id,
                case_no: after.case_no.clone(),
                status: after.status,
                due_at: after.due_at(),
            };
            tx.put(format!("q/{}/{}", after.unit, after.id), entry);
        }
        Ok(())
    }
}

pub fn query(
    store: &Store,
    unit: &str,
    filter: Filter,
    now: Timestamp,
    due_soon_days: u32,
) -> Result<Queue, StoreError> {
    let mut counts = QueueCounts::default();
    let mut items = Vec::new();
    for (_, e) in store.scan::<Entry>(&format!("q/{unit}/"))? {
        let left = e.due_at.map(|d| d - now);
        let overdue = left.is_some_and(|l| l < Duration::zero());
        let due_soon =
            !overdue && left.is_some_and(|l| l <= Duration::days(i64::from(due_soon_days)));
        counts.open += 1;
        counts.overdue += u64::from(overdue);
        counts.due_soon += u64::from(due_soon);
        let wanted = match filter {
            Filter::Open => true,
            Filter::DueSoon => due_soon,
            Filter::Overdue => overdue,
        };
        if wanted {
            let days_left = left.map(|l| l.num_seconds().div_euclid(86_400));
            items.push(Item {
                case_id: e.case_id,
                case_no: e.case_no,
                status: e.status,
                due_at: e.due_at,
                days_left,
                overdue,
                due_soon,
            });
        }
    }
    // Most urgent first; cases without a deadline last.
    items.sort_by_key(|i| (i.due_at.is_none(), i.due_at, i.case_no.clone()));
    Ok(Queue {
        unit: unit.to_owned(),
        counts,
        items,
    })
}

#[cfg(test)]
mod tests {
    use domain::command::*;
    use domain::{Channel, Outcome, Satisfaction, Status};

    use super::*;
    use crate::testing::{build, register, ts, unit, Log};

    const T0: &str = "2026-03-02T09:30:00+08:00";

    fn accept(at: &str) -> Command {
        Command::Accept(AcceptCase {
            new_facts: None,
            occurred_at: Some(ts(at)),
        })
    }

    #[test]
    fn a_case_is_in_the_queue_of_its_accountable_unit_while_open() {
        let mut log = Log::new();
        let a = log.run(None, register("gaoqiao", Channel::Visit, 2, T0), T0);
        let b = log.run(None, register("gaoqiao", Channel::Letter, 1, T0), T0);
        log.run(Some(a), accept(T0), T0);
        log.run(
            Some(a),
            Command::Assign(AssignCase {
                unit: unit("land_bureau"),
                due_date: None,
                note: None,
                occurred_at: Some(ts("2026-03-03T10:00:00+08:00")),
            }),
            "2026-03-03T10:00:00+08:00",
        );
        let (_dir, store) = build(&Queues, &log.events, 2);
        let now = ts("2026-03-04T10:00:00+08:00");
        let gaoqiao = query(&store, "gaoqiao", Filter::Open, now, 3).expect("query");
        let ids: Vec<_> = gaoqiao.items.iter().map(|i| i.case_id).collect();
        assert_eq!(ids, [b], "the assigned case left the township's queue");
        assert_eq!(gaoqiao.items[0].status, Status::Registered);
        let land = query(&store, "land_bureau", Filter::Open, now, 3).expect("query");
        assert_eq!(land.items.len(), 1);
        assert_eq!(land.items[0].case_id, a);
        assert_eq!(land.items[0].status, Status::Assigned);
        // Closed, it leaves every queue.
        let t = "2026-03-05T10:00:00+08:00";
        log.run(
            Some(a),
            Command::Reply(ReplyCase {
                outcome: Outcome::Supported,
                text: "已答复".into(),
                occurred_at: Some(ts(t)),
            }),
            t,
        );
        log.run(
            Some(a),
            Command::FollowUp(RecordFollowUp {
                satisfaction: Satisfaction::Satisfied,
                note: None,
                occurred_at: Some(ts(t)),
            }),
            t,
        );
        log.run(
            Some(a),
            Command::Close(CloseCase {
                note: None,
                occurred_at: Some(ts(t)),
            }),
            t,
        );
        let (_dir, store) = build(&Queues, &log.events, 1000);
        let land = query(&store, "land_bureau", Filter::Open, now, 3).expect("query");
        assert!(land.items.is_empty(), "{land:?}");
        assert_eq!(land.counts.open, 0);
    }

    #[test]
    fn overdue_and_due_soon_are_judged_against_the_clock_of_the_query() {
        let mut log = Log::new();
        // Registered on 2 March: 15 days to accept, due at the end of 17 March.
        let late = log.run(None, register("gaoqiao", Channel::Visit, 1, T0), T0);
        let t = "2026-03-15T09:00:00+08:00";
        let fresh = log.run(None, register("gaoqiao", Channel::Phone, 1, t), t);
        let (_dir, store) = build(&Queues, &log.events, 1000);
        let q = |now: &str, filter| query(&store, "gaoqiao", filter, ts(now), 3).expect("query");
        // On 10 March nothing is due within three days.
        let early = q("2026-03-10T12:00:00+08:00", Filter::Open);
        assert_eq!(
            (
                early.counts.open,
                early.counts.due_soon,
                early.counts.overdue
            ),
            (2, 0, 0)
        );
        // On 16 March the first is due soon (17 March), the second not (30 March).
        let soon = q("2026-03-16T12:00:00+08:00", Filter::DueSoon);
        assert_eq!(soon.items.len(), 1);
        assert_eq!(soon.items[0].case_id, late);
        assert!(soon.items[0].due_soon && !soon.items[0].overdue);
        // On 20 March the first is overdue by two whole days; the most urgent comes first.
        let all = q("2026-03-20T12:00:00+08:00", Filter::Open);
        assert_eq!(all.counts.overdue, 1);
        assert_eq!(all.items[0].case_id, late);
        assert!(all.items[0].overdue);
        assert_eq!(all.items[0].days_left, Some(-3));
        assert_eq!(all.items[1].case_id, fresh);
        let overdue = q("2026-03-20T12:00:00+08:00", Filter::Overdue);
        assert_eq!(overdue.items.len(), 1);
    }
}
