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
