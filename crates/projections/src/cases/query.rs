//! The cases model's queries: a page of a listing, a petitioner search, a case's links and the
//! case a number names.

use std::collections::{BTreeMap, BTreeSet};

use domain::{CaseId, Principal};
use queries::cases::{
    is_case_no, is_serial, serial_of, CaseFilter, Cursor, ListCases, Probe, MAX_LIMIT,
};
pub use queries::cases::{Clock, MAX_RELATED};
use wire::cases::{CasePage, CaseSummary};

use super::{
    cursor_of, leader_key, micros, moved_key, order_key, row_key, Filing, Row, SCAN_BUDGET,
};
use crate::{Store, StoreError};

/// A row as `viewer` sees it in a listing.
pub(super) fn summary(row: &Row, viewer: &Principal, clock: Clock) -> CaseSummary {
    queries::cases::summary_of(&row.case, row.duplicate(), viewer, clock)
}

/// Whether a row passes the filters and the viewer may see it.
pub(super) fn passes(row: &Row, f: &CaseFilter, viewer: &Principal, clock: Clock) -> bool {
    let c = &row.case;
    // A number (whole, or its serial) is looked for in the case number; other text in the
    // summary.
    let text_ok = f.q.as_deref().is_none_or(|q| {
        if is_case_no(q) {
            q.eq_ignore_ascii_case(&c.case_no)
        } else if is_serial(q) {
            serial_of(&c.case_no) == Some(q)
        } else {
            (!c.accusation || domain::auth::reads_county_wide(viewer)) && c.summary.contains(q)
        }
    });
    domain::auth::can_read_case(viewer, c).is_ok()
        && f.case_no
            .as_deref()
            .is_none_or(|n| n.eq_ignore_ascii_case(&c.case_no))
        && f.township.as_ref().is_none_or(|t| *t == c.township)
        && f.unit.as_ref().is_none_or(|u| *u == c.unit)
        && f.status.is_none_or(|s| s == c.status)
        && f.stage.is_none_or(|s| s == c.stage())
        && f.category.is_none_or(|x| x == c.category)
        && f.channel.is_none_or(|x| x == c.channel)
        && f.from.is_none_or(|t| c.received_at >= t)
        && f.until.is_none_or(|t| c.received_at < t)
        && f.flag.is_none_or(|x| row.flag_at(x, clock))
        && f.leader
            .as_deref()
            .is_none_or(|l| c.leader.as_ref().is_some_and(|x| x.name.trim() == l.trim()))
        && text_ok
}

/// The indexes a listing may read (each holds every case that passes its filters), least
/// specific first: all cases, a unit's visible ones, a status, a township or unit, a flag, a
/// township or unit with a status.
fn candidates(f: &CaseFilter, viewer: &Principal) -> Vec<(&'static str, String)> {
    let mut out = vec![("a", String::new())];
    if let Some(u) = viewer.acting_unit() {
        out.push(("v", u.to_string()));
    }
    if let Some(s) = f.status {
        out.push(("s", s.to_string()));
    }
    if let Some(t) = &f.township {
        out.push(("t", t.to_string()));
    }
    if let Some(u) = &f.unit {
        out.push(("u", u.to_string()));
    }
    if let Some(flag) = f.flag {
        out.push(("f", flag.as_str().to_owned()));
    }
    if let Some(l) = &f.leader {
        out.push(("l", leader_key(l)));
    }
    if let (Some(t), Some(s)) = (&f.township, f.status) {
        out.push(("ts", format!("{t}.{s}")));
    }
    if let (Some(u), Some(s)) = (&f.unit, f.status) {
        out.push(("us", format!("{u}.{s}")));
    }
    if let Some(serial) = f.q.as_deref().filter(|q| is_serial(q)) {
        // One case per township and year has it.
        out.push(("n", serial.to_owned()));
    }
    out
}

/// A page of the cases `req.principal` may see that pass the filters, newest first.
pub fn list(store: &Store, req: &ListCases, now: Clock) -> Result<CasePage, StoreError> {
    let f = &req.filter;
    let limit = req.limit.clamp(1, MAX_LIMIT);
    let number = f
        .case_no
        .as_deref()
        .or(f.q.as_deref().filter(|q| is_case_no(q)));
    if let Some(no) = number {
        // A number names at most one case.
        let found = case_by_no(store, no)?
            .map(|id| store.get::<Row>(&row_key(id)))
            .transpose()?
            .flatten()
            .filter(|r| passes(r, f, &req.principal, now))
            .filter(|r| {
                req.cursor
                    .is_none_or(|c| r.order() > order_key(c.received_micros, c.case_id))
            });
        return Ok(CasePage {
            items: found
                .iter()
                .map(|r| summary(r, &req.principal, now))
                .collect(),
            next_cursor: None,
        });
    }
    // The most specific index the filters allow (candidates come least specific first).
    let Some((index, value)) = candidates(f, &req.principal).pop() else {
        return Ok(CasePage {
            items: vec![],
            next_cursor: None,
        });
    };
    // Start after the cursor, or at the newest case received before `until`.
    let after = req.cursor.map(|c| order_key(c.received_micros, c.case_id));
    let mut start = after.clone().unwrap_or_default();
    if let Some(until) = f.until {
        start = start.max(order_key(micros(until), CaseId(uuid::Uuid::max())));
    }
    let sources = if f.flag == Some(queries::cases::Flag::Backlog) {
        super::backlog::sources(now, &start)
    } else {
        vec![(crate::keys::cases::entries(index, &value), start)]
    };
    let from = f.from.map(micros);
    let mut items = Vec::new();
    let mut last_scanned = None;
    let mut exhausted = true;
    for (scanned, order) in super::merge::Merged::new(store, &sources).enumerate() {
        let order = order?;
        if after.as_ref() == Some(&order) {
            continue;
        }
        if scanned >= SCAN_BUDGET {
            exhausted = false;
            break;
        }
        let Some(pos) = cursor_of(&order) else {
            continue;
        };
        if from.is_some_and(|from| pos.received_micros < from) {
            break;
        }
        last_scanned = Some(pos);
        let Some(row) = store.get::<Row>(&row_key(pos.case_id))? else {
            continue;
        };
        if passes(&row, f, &req.principal, now) {
            if items.len() == limit {
                // One more passes: the page is full and there is a next one.
                let last: &CaseSummary = &items[limit - 1];
                return Ok(CasePage {
                    next_cursor: Some(
                        Cursor {
                            received_micros: micros(last.received_at),
                            case_id: last.case_id,
                        }
                        .encode(),
                    ),
                    items,
                });
            }
            items.push(summary(&row, &req.principal, now));
        }
    }
    Ok(CasePage {
        items,
        next_cursor: (!exhausted)
            .then(|| last_scanned.map(|c| c.encode()))
            .flatten(),
    })
}

/// The cases of one petitioner that `viewer` may see, newest first (at most [`MAX_LIMIT`]).
pub fn search(
    store: &Store,
    viewer: &Principal,
    probe: &Probe,
    now: Clock,
) -> Result<Vec<CaseSummary>, StoreError> {
    let mut ids = BTreeSet::new();
    for key in probe.keys() {
        for (_, Filing { filed, .. }) in store.scan::<Filing>(&crate::keys::cases::filings(&key))? {
            if probe.matches(&filed.person) {
                ids.insert(filed.case_id.0);
            }
        }
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for id in ids {
        if let Some(row) = store.get::<Row>(&row_key(CaseId(id)))? {
            if domain::auth::can_read_case(viewer, &row.case).is_ok() {
                rows.insert(row.order(), row);
            }
        }
    }
    Ok(rows
        .values()
        .take(MAX_LIMIT)
        .map(|r| summary(r, viewer, now))
        .collect())
}

/// What the other cases of a case's petitioners tell: its duplicate flag and (if `related`) the
/// other cases `viewer` may see, newest first.
pub fn links(
    store: &Store,
    case_id: CaseId,
    viewer: &Principal,
    related: bool,
    now: Clock,
) -> Result<queries::cases::Links, StoreError> {
    let Some(row) = store.get::<Row>(&row_key(case_id))? else {
        return Ok(queries::cases::Links::default());
    };
    let mut others: BTreeMap<String, Row> = BTreeMap::new();
    if related {
        let mut ids = BTreeSet::new();
        for person in &row.persons {
            for key in person.link_keys() {
                for (_, Filing { filed, .. }) in
                    store.scan::<Filing>(&crate::keys::cases::filings(&key))?
                {
                    if filed.case_id != case_id && filed.person.same_as(person) {
                        ids.insert(filed.case_id.0);
                    }
                }
            }
        }
        for id in ids {
            if let Some(other) = store.get::<Row>(&row_key(CaseId(id)))? {
                if domain::auth::can_read_case(viewer, &other.case).is_ok() {
                    others.insert(other.order(), other);
                }
            }
        }
    }
    Ok(queries::cases::Links {
        known: true,
        duplicate: row.duplicate(),
        related: others
            .values()
            .take(MAX_RELATED)
            .map(|r| summary(r, viewer, now))
            .collect(),
    })
}

/// The case a case number names.
pub fn case_by_no(store: &Store, case_no: &str) -> Result<Option<CaseId>, StoreError> {
    if let Some(id) = store.get::<CaseId>(&crate::keys::cases::case_no(case_no))? {
        return Ok(Some(id));
    }
    // In any letter case: numbers are written with the township in capitals and the rest in
    // small letters (the hex tail of numbers of earlier versions).
    let canonical = match case_no.split_once('-') {
        Some((township, rest)) => format!(
            "{}-{}",
            township.to_ascii_uppercase(),
            rest.to_ascii_lowercase()
        ),
        None => return Ok(None),
    };
    if canonical == case_no {
        return Ok(None);
    }
    store.get::<CaseId>(&crate::keys::cases::case_no(&canonical))
}

/// The cases whose petitioners a correction changed after log sequence `seq`, at most `limit`
/// (oldest first), and whether that is all of them.
pub fn moved_after(
    store: &Store,
    seq: u64,
    limit: usize,
) -> Result<queries::cases::Moved, StoreError> {
    let mut cases = BTreeSet::new();
    let mut complete = true;
    for key in store.keys_from(crate::keys::cases::MOVED, &moved_key(seq.saturating_add(1))) {
        let key = key?;
        if cases.len() == limit {
            complete = false;
            break;
        }
        if let Some(id) = store.get::<CaseId>(&key)? {
            cases.insert(id.0);
        }
    }
    Ok(queries::cases::Moved {
        cases: cases.into_iter().map(CaseId).collect(),
        complete,
    })
}
