//! A queue newest received first (`sort=received`): the open cases of a scope read from the
//! listing indexes of the open statuses (`x/s/`, `x/us/`, `x/ts/`, each newest first), merged
//! in their common order. No index of its own, so it costs the model nothing.

use domain::Status;
use queries::queues::{received_cursor, Filter, QueueOrder, QueueQuery, Scope};
use wire::cases::Queue;

use super::query::{summary, Clock};
use super::queue::{counts, matching, wanted};
use super::{cursor_of, row_key, Row, SCAN_BUDGET};
use crate::{Store, StoreError};

/// The listing index prefixes holding a scope's open cases, one per open status.
fn sources(scope: &Scope) -> Vec<String> {
    Status::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| match scope {
            Scope::Unit(u) => crate::keys::cases::entries("us", &format!("{u}.{s}")),
            Scope::Township(t) => crate::keys::cases::entries("ts", &format!("{t}.{s}")),
            Scope::All => crate::keys::cases::entries("s", &s.to_string()),
        })
        .collect()
}

/// A page of a queue (or the workbench) that `q.principal` may see, in the order it asks:
/// soonest deadline first (`queue::by_due`), or newest received first.
pub fn queue(store: &Store, q: &QueueQuery, clock: Clock) -> Result<Queue, StoreError> {
    match q.order {
        QueueOrder::Due => super::queue::by_due(store, q, clock),
        QueueOrder::Received => page(store, q, clock),
    }
}

/// A page of a scope's open cases that `q.principal` may see, newest received first.
fn page(store: &Store, q: &QueueQuery, clock: Clock) -> Result<Queue, StoreError> {
    let limit = q.limit.clamp(1, queries::cases::MAX_LIMIT);
    let after = q.after.as_deref();
    let prefixes: Vec<(String, String)> = sources(&q.scope)
        .into_iter()
        .map(|p| (p, after.unwrap_or_default().to_owned()))
        .collect();
    let mut items = Vec::new();
    let mut last: Option<String> = None;
    let mut exhausted = true;
    let mut scanned = 0;
    for order in super::merge::Merged::new(store, &prefixes) {
        let order = order?;
        if Some(order.as_str()) == after {
            continue;
        }
        scanned += 1;
        if scanned > SCAN_BUDGET {
            exhausted = false;
            break;
        }
        let Some(cursor) = cursor_of(&order) else {
            continue;
        };
        let Some(row) = store.get::<Row>(&row_key(cursor.case_id))? else {
            continue;
        };
        let due = row.case.due_at();
        let on_clock = match q.filter {
            Filter::Open => true,
            Filter::Overdue => clock.judge(due).0,
            Filter::DueSoon => clock.judge(due).1,
        };
        if !on_clock || !wanted(&row, q, clock) {
            last = Some(order);
            continue;
        }
        if items.len() == limit {
            exhausted = false;
            break;
        }
        items.push(summary(&row, &q.principal, clock));
        last = Some(order);
    }
    // The cursor is the last order read when the page stopped early; a full page ends at its
    // last item, which `last` is then.
    let next_cursor = (!exhausted)
        .then(|| last.as_deref().map(received_cursor))
        .flatten();
    Ok(Queue {
        unit: match &q.scope {
            Scope::Unit(u) => Some(u.to_string()),
            _ => None,
        },
        counts: counts(store, &q.scope, clock)?,
        matching: matching(store, q, clock)?,
        items,
        next_cursor,
        applied_seq: None,
    })
}
