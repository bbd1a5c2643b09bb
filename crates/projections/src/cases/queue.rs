//! Work queues and the workbench: the open cases of a scope soonest deadline first, from the
//! `d/` entries, and their counts from the `c/` day counters (reading the entries of at most the
//! two days where "overdue" and "due soon" end, never the whole queue).

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};

use domain::{CaseId, Timestamp, UnitCode};
use queries::cases::Flag;
use queries::queues::{DueCursor, Filter, QueueQuery, Scope};
use wire::cases::{Queue, QueueCounts};

use super::query::{summary, Clock};
use super::{due_key, due_order, row_key, Row, SCAN_BUDGET};
use crate::keys::cases as keys;
use crate::{Store, StoreError};

fn scope_key(scope: &Scope) -> String {
    match scope {
        Scope::Unit(u) => format!("u.{u}"),
        Scope::Township(t) => format!("t.{t}"),
        Scope::All => "a".to_owned(),
    }
}

/// The first due-order key at or after `t` (to the second).
fn at(t: Timestamp) -> String {
    format!("{:016x}", due_key(Some(t)))
}

/// Entries of `scope` due in `[from, to)` (due-order prefixes), split by whether they are past
/// `now` (overdue) or within the due-soon horizon.
/// Under a facet, only the cases it `holds` for (their rows read: a day's few).
fn count_between(
    store: &Store,
    prefix: &str,
    (from, to): (&str, &str),
    holds: Option<&Holds<'_>>,
    (now, soon_until): (Timestamp, Timestamp),
    counts: &mut QueueCounts,
) -> Result<(), StoreError> {
    let (now_key, soon_key) = (at(now), at(soon_until));
    for key in store.keys_from(prefix, &format!("{prefix}{from}")) {
        let key = key?;
        let due = &key[prefix.len()..];
        if due[..16] >= *to {
            break;
        }
        if let Some(holds) = holds {
            let Some(row) = row_at(store, due)? else {
                continue;
            };
            if !holds(&row) {
                continue;
            }
        }
        // Overdue: strictly past now (to the second: `now` itself is not overdue).
        if due[..16] < *now_key {
            counts.overdue += 1;
        } else if due[..16] <= *soon_key {
            counts.due_soon += 1;
        }
    }
    Ok(())
}

/// The facets an open case is counted under beside its queue (issue 34: a board's counters
/// are those of its filter): the flags that make the county's boards, 督办 and 领导包案, which
/// few cases have. Counting every flag and the stage cost the model a fifth of its speed on the
/// bench's log (most cases are repeats, first petitions or late entries there, and every case
/// has a stage), for lists that are filters more than boards.
pub(super) fn facets(row: &Row) -> Vec<String> {
    Flag::ALL
        .into_iter()
        .filter(|f| counted(*f) && row.flag(*f))
        .map(|f| format!("f.{}", f.as_str()))
        .collect()
}

/// The queue counters a case adds one to: its queues', and theirs under each facet.
pub(super) fn counters(row: &Row) -> BTreeSet<String> {
    let day = super::due_day(row.due());
    let facets = facets(row);
    let mut out = BTreeSet::new();
    for s in row.scopes() {
        let under = facets.iter().map(|f| format!("{s}:{f}"));
        out.extend(under.map(|scope| keys::counter(&scope, &day)));
        out.insert(keys::counter(&s, &day));
    }
    out
}

/// Whether a flag has counters: the boards' flags.
fn counted(flag: Flag) -> bool {
    matches!(flag, Flag::Supervised | Flag::Leader)
}

/// What a case's counters depend on: whether it is open, its unit and township, the day its
/// deadline falls on and its counted flags. Equal before and after an event, none moves.
pub(super) fn counted_as(row: &Row) -> (bool, &UnitCode, &UnitCode, Option<NaiveDate>, u32) {
    let c = &row.case;
    let flags = Flag::ALL
        .into_iter()
        .enumerate()
        .filter(|(_, f)| counted(*f) && row.flag(*f))
        .fold(0u32, |bits, (i, _)| bits | (1 << i));
    let day = c.due_at().map(|d| d.naive_utc().date());
    (c.status.is_open(), &c.unit, &c.township, day, flags)
}

/// Whether a case is under a facet.
type Holds<'a> = dyn Fn(&Row) -> bool + 'a;

/// The facet a page's filters name, when the model counts it: a stage or a flag, not both.
fn facet(q: &QueueQuery) -> Option<(String, Box<Holds<'_>>)> {
    if q.unit.is_some() {
        return None;
    }
    match (q.stage, q.flag) {
        (None, Some(f)) if counted(f) => Some((
            format!("f.{}", f.as_str()),
            Box::new(move |r: &Row| r.flag(f)),
        )),
        _ => None,
    }
}

/// The counts of a scope's open cases against `clock`.
pub fn counts(store: &Store, scope: &Scope, clock: Clock) -> Result<QueueCounts, StoreError> {
    counts_under(store, scope, None, clock)
}

/// The counts of a scope's open cases (under a facet: those it holds for) against `clock`.
fn counts_under(
    store: &Store,
    scope: &Scope,
    facet: Option<(&str, &Holds<'_>)>,
    clock: Clock,
) -> Result<QueueCounts, StoreError> {
    let now = clock.now;
    let soon_until = now + Duration::days(i64::from(clock.due_soon_days));
    let (today, soon_day) = (now.naive_utc().date(), soon_until.naive_utc().date());
    let scope = scope_key(scope);
    let prefix = crate::keys::cases::queue(&scope);
    let counted = match facet {
        Some((f, _)) => format!("{scope}:{f}"),
        None => scope.clone(),
    };
    let holds = facet.map(|(_, holds)| holds);
    let mut counts = QueueCounts::default();
    let day_start = |d: NaiveDate| -> String {
        let t = d
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .fixed_offset();
        at(t)
    };
    let mut exact = Vec::new();
    for (key, n) in store.scan::<i64>(&crate::keys::cases::counters(&counted))? {
        let n = u64::try_from(n).unwrap_or(0);
        counts.open += n;
        let day = &key[key.rfind('/').map_or(0, |i| i + 1)..];
        let Ok(day) = day.parse::<NaiveDate>() else {
            counts.awaiting_close += n;
            continue;
        };
        if day < today {
            counts.overdue += n;
        } else if day == today || day == soon_day {
            exact.push(day);
        } else if day < soon_day {
            counts.due_soon += n;
        }
    }
    // The days where a line falls within: count their entries one by one.
    for day in exact {
        let (from, to) = (day_start(day), day_start(day + Duration::days(1)));
        let span = (from.as_str(), to.as_str());
        count_between(store, &prefix, span, holds, (now, soon_until), &mut counts)?;
    }
    Ok(counts)
}

/// The row a due-order key names.
fn row_at(store: &Store, order: &str) -> Result<Option<Row>, StoreError> {
    let Some(id) = order
        .get(16..48)
        .and_then(|h| u128::from_str_radix(h, 16).ok())
    else {
        return Ok(None);
    };
    store.get::<Row>(&row_key(CaseId(uuid::Uuid::from_u128(id))))
}

/// The counts of the cases a page's filter selects, where the model counts them.
pub(super) fn matching(
    store: &Store,
    q: &QueueQuery,
    clock: Clock,
) -> Result<Option<QueueCounts>, StoreError> {
    match facet(q) {
        Some((name, holds)) => counts_under(
            store,
            &q.scope,
            Some((name.as_str(), holds.as_ref())),
            clock,
        )
        .map(Some),
        None => Ok(None),
    }
}

/// A page of a queue (or the workbench) that `q.principal` may see, soonest deadline first.
pub fn by_due(store: &Store, q: &QueueQuery, clock: Clock) -> Result<Queue, StoreError> {
    let limit = q.limit.clamp(1, queries::cases::MAX_LIMIT);
    let prefix = crate::keys::cases::queue(&scope_key(&q.scope));
    let now_key = at(clock.now);
    let soon_key = at(clock.now + Duration::days(i64::from(clock.due_soon_days)));
    // Overdue cases come first in this order, due-soon ones right after them.
    let first = match q.filter {
        Filter::Open | Filter::Overdue => String::new(),
        Filter::DueSoon => now_key.clone(),
    };
    let cursor = q.cursor.map(|c| {
        let due = c.due.and_then(|s| chrono::DateTime::from_timestamp(s, 0));
        due_order(due.map(|d| d.fixed_offset()), c.case_id)
    });
    let start = format!("{prefix}{}", cursor.clone().unwrap_or_default().max(first));
    let mut items = Vec::new();
    let mut last = None;
    let mut exhausted = true;
    for (scanned, key) in store.keys_from(&prefix, &start).enumerate() {
        let key = key?;
        let order = &key[prefix.len()..];
        if cursor.as_deref() == Some(order) {
            continue;
        }
        if scanned >= SCAN_BUDGET {
            exhausted = false;
            break;
        }
        let due = &order[..16.min(order.len())];
        let past_end = match q.filter {
            Filter::Open => false,
            Filter::Overdue => due >= now_key.as_str(),
            Filter::DueSoon => due > soon_key.as_str(),
        };
        if past_end {
            break;
        }
        let Some(row) = row_at(store, order)? else {
            continue;
        };
        last = Some(DueCursor::of(row.case.due_at(), row.case.id));
        if !wanted(&row, q, clock) {
            continue;
        }
        if items.len() == limit {
            let l: &wire::cases::CaseSummary = &items[limit - 1];
            return Ok(Queue {
                unit: unit_of(q),
                counts: counts(store, &q.scope, clock)?,
                matching: matching(store, q, clock)?,
                next_cursor: Some(DueCursor::of(l.due_at, l.case_id).encode()),
                items,
                applied_seq: None,
            });
        }
        items.push(summary(&row, &q.principal, clock));
    }
    Ok(Queue {
        unit: unit_of(q),
        counts: counts(store, &q.scope, clock)?,
        matching: matching(store, q, clock)?,
        items,
        next_cursor: (!exhausted).then(|| last.map(|c| c.encode())).flatten(),
        applied_seq: None,
    })
}

fn unit_of(q: &QueueQuery) -> Option<String> {
    match &q.scope {
        Scope::Unit(u) => Some(u.to_string()),
        _ => None,
    }
}

pub(super) fn wanted(row: &Row, q: &QueueQuery, clock: Clock) -> bool {
    let c = &row.case;
    domain::auth::can_read_case(&q.principal, c).is_ok()
        && c.status.is_open()
        && q.stage.is_none_or(|s| s == c.stage())
        && q.flag.is_none_or(|f| row.flag_at(f, clock))
        && q.unit.as_ref().is_none_or(|u| *u == c.unit)
}
