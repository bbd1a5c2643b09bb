//! A report from the buckets: the period's buckets that pass the filters, summed in total and per
//! row of up to two dimensions; `open_overdue` from the index of open cases by deadline; with
//! `compare=yoy` the same rows a year earlier and each row's change.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use domain::Timestamp;
use queries::stats::StatsQuery as Query;
use wire::stats::{Change, Counts, GroupBy, Measures, Period, Report, Row};

use super::{due_prefix, Open, DIMS};
use crate::{Store, StoreError};

/// A bucket key's parts, as [`DIMS`] names them.
fn parts(key: &str) -> Option<[&str; 9]> {
    let mut it = crate::keys::stats::bucket_dims(key)?;
    let mut out = [""; 9];
    for part in &mut out {
        *part = it.next()?;
    }
    Some(out)
}

fn part(p: &[&str; 9], dim: &str) -> String {
    let at = DIMS.iter().position(|d| *d == dim).unwrap_or(0);
    p[at].to_owned()
}

fn value(p: &[&str; 9], by: GroupBy) -> String {
    match by {
        GroupBy::Month => p[0].get(..7).unwrap_or(p[0]).to_owned(),
        GroupBy::LeaderReception => (p[8] == "y").to_string(),
        GroupBy::Channel => part(p, "channel"),
        GroupBy::Township => part(p, "township"),
        GroupBy::Level => part(p, "level"),
        GroupBy::Category => part(p, "category"),
        GroupBy::Unit => part(p, "unit"),
        GroupBy::Band => part(p, "band"),
    }
}

/// Whether a bucket is in the query's scope: its filters, and not an accusation against the
/// reader's own unit.
fn in_scope(q: &Query, p: &[&str; 9]) -> bool {
    let f = &q.filters;
    let ok = |wanted: &[String], dim: &str| {
        wanted.is_empty() || wanted.iter().any(|w| *w == part(p, dim))
    };
    ok(&f.channel, "channel")
        && ok(&f.level, "level")
        && ok(&f.category, "category")
        && ok(&f.township, "township")
        && ok(&f.unit, "unit")
        && ok(&f.band, "band")
        && q.hide_accused.as_deref().is_none_or(|u| u != p[5])
}

/// The row of a bucket: its key and its value of each dimension.
fn row_of(q: &Query, p: &[&str; 9]) -> (String, BTreeMap<String, String>) {
    let values: Vec<(String, String)> = q
        .group_by
        .iter()
        .map(|by| (by.as_str().to_owned(), value(p, *by)))
        .collect();
    let key = values
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join("|");
    (key, values.into_iter().collect())
}

type Rows = BTreeMap<String, (BTreeMap<String, String>, Counts, i64)>;

fn period(
    store: &Store,
    q: &Query,
    from: NaiveDate,
    to: NaiveDate,
    now: Timestamp,
    policy: &domain::Policy,
) -> Result<(Period, Rows), StoreError> {
    // A period that has ended counts `open_overdue` at its end, not now.
    let ended = policy.end_of_day(to) < now;
    let mut total = Counts::default();
    let mut overdue_total = 0;
    let mut rows: Rows = BTreeMap::new();
    let (first, last) = crate::keys::stats::buckets(from, to);
    for (key, counts) in store.range::<Counts>(&first, &last)? {
        let Some(p) = parts(&key) else { continue };
        if !in_scope(q, &p) {
            continue;
        }
        total.add(&counts);
        if !q.group_by.is_empty() {
            let (k, keys) = row_of(q, &p);
            rows.entry(k)
                .or_insert_with(|| (keys, Counts::default(), 0))
                .1
                .add(&counts);
        }
    }
    let (lo, hi) = (from.to_string(), to.to_string());
    if ended {
        // Counted at the end of the period: the cases overdue at the end of its last day.
        let (first, last) = crate::keys::stats::deltas(from, to);
        for (key, n) in store.range::<i64>(&first, &last)? {
            let Some((bucket, day)) = super::overdue::parse_delta(&key) else {
                continue;
            };
            let Some(p) = parts(&bucket) else { continue };
            if day > to || !in_scope(q, &p) {
                continue;
            }
            overdue_total += n;
            if !q.group_by.is_empty() {
                let (k, keys) = row_of(q, &p);
                rows.entry(k)
                    .or_insert_with(|| (keys, Counts::default(), 0))
                    .2 += n;
            }
        }
    } else {
        // Only cases due before now can be overdue: read the index up to now.
        overdue_total += overdue_now(store, q, (&lo, &hi), now, &mut rows)?;
    }
    // Cases whose only accountability is still unacknowledged past its limit (by the clock).
    total.acknowledge_judged += unacknowledged_now(store, q, (&lo, &hi), now, &mut rows)?;
    backlog(
        store,
        q,
        (from, to),
        policy.local_date(now).min(to),
        &mut total,
        &mut rows,
    )?;
    if !q.adjusted {
        return Ok(finish(from, to, total, overdue_total, rows, None));
    }
    // 核减: the approved adjustments of the period out of the figures, the raw ones beside.
    let raw = Measures::new(total, overdue_total);
    let scope = |bucket: &str| parts(bucket).is_some_and(|p| in_scope(q, &p));
    let removals = super::adjusted::removals(store, (from, to), now, policy, scope)?;
    let mut applied = Vec::new();
    for r in removals {
        total.sub(&r.counts);
        overdue_total -= r.overdue;
        if let (false, Some(p)) = (q.group_by.is_empty(), parts(&r.bucket)) {
            let (k, keys) = row_of(q, &p);
            let row = rows
                .entry(k)
                .or_insert_with(|| (keys, Counts::default(), 0));
            row.1.sub(&r.counts);
            row.2 -= r.overdue;
        }
        // Reasons are free text that may name people: a report lists the adjustments without.
        applied.push(r.record.without_text());
    }
    Ok(finish(
        from,
        to,
        total,
        overdue_total,
        rows,
        Some((raw, applied)),
    ))
}

/// 积案: the backlog open at the end of `end` (the period's last day, or today) and resolved
/// from `from` to `end`, of every case received by then, in total and in the rows; a month's row
/// counts at the month's end and resolutions within the month.
fn backlog(
    store: &Store,
    q: &Query,
    (from, to): (NaiveDate, NaiveDate),
    end: NaiveDate,
    total: &mut Counts,
    rows: &mut Rows,
) -> Result<(), StoreError> {
    let by_month = q.group_by.contains(&GroupBy::Month);
    // Each month of the period: its first day (its row) and the last day it counts to.
    let mut months = Vec::new();
    let mut first = from.with_day(1).unwrap_or(from);
    while by_month && first <= to {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        let last = next.pred_opt().unwrap_or(next).min(to).min(end);
        months.push((first.to_string(), first.max(from), last));
        first = next;
    }
    let mut add = |p: &[&str; 9], open: i64, resolved: i64| {
        let (k, keys) = row_of(q, p);
        let row = rows
            .entry(k)
            .or_insert_with(|| (keys, Counts::default(), 0));
        row.1.backlog_open += open;
        row.1.backlog_resolved += resolved;
    };
    super::backlog::read(store, to, |bucket, day, [opened, resolved_then]| {
        let Some(p) = parts(bucket) else { return };
        if !in_scope(q, &p) {
            return;
        }
        let open = if day <= end { opened } else { 0 };
        let resolved = if (from..=end).contains(&day) {
            resolved_then
        } else {
            0
        };
        total.backlog_open += open;
        total.backlog_resolved += resolved;
        if q.group_by.is_empty() {
            return;
        }
        if !by_month {
            if open != 0 || resolved != 0 {
                add(&p, open, resolved);
            }
            return;
        }
        for (label, first, last) in &months {
            let mut at_month = p;
            at_month[0] = label;
            let o = if day <= *last { opened } else { 0 };
            let r = if (*first..=*last).contains(&day) {
                resolved_then
            } else {
                0
            };
            if o != 0 || r != 0 {
                add(&at_month, o, r);
            }
        }
    })
}

/// The cases of the period open and overdue now, in total and added to their rows.
fn overdue_now(
    store: &Store,
    q: &Query,
    period: (&str, &str),
    now: Timestamp,
    rows: &mut Rows,
) -> Result<i64, StoreError> {
    let until = crate::keys::stats::open_until(&due_prefix(now));
    past_due(
        store,
        q,
        (crate::keys::stats::OPEN, &until),
        period,
        now,
        rows,
        |row| {
            row.2 += 1;
        },
    )
}

/// The cases of the period whose acknowledgement is pending past its limit now (and no other
/// accountability of theirs was judged), in total and added to their rows'
/// `acknowledge_judged`.
fn unacknowledged_now(
    store: &Store,
    q: &Query,
    period: (&str, &str),
    now: Timestamp,
    rows: &mut Rows,
) -> Result<i64, StoreError> {
    let until = crate::keys::stats::pending_until(&due_prefix(now));
    past_due(
        store,
        q,
        (crate::keys::stats::PENDING, &until),
        period,
        now,
        rows,
        |row| {
            row.1.acknowledge_judged += 1;
        },
    )
}

/// The entries of an index of open cases by a due time (`o/`, `k/`) that passed by `now`, of
/// cases received in the period and in the query's scope: how many, each added to its row by
/// `add` (when the report has rows).
fn past_due(
    store: &Store,
    q: &Query,
    (first, until): (&str, &str),
    (lo, hi): (&str, &str),
    now: Timestamp,
    rows: &mut Rows,
    mut add: impl FnMut(&mut (BTreeMap<String, String>, Counts, i64)),
) -> Result<i64, StoreError> {
    let mut n = 0;
    for (_, open) in store.range::<Open>(first, until)? {
        let Some(p) = parts(&open.bucket) else {
            continue;
        };
        if p[0] < lo || p[0] > hi || !in_scope(q, &p) || now <= open.due_at {
            continue;
        }
        n += 1;
        if !q.group_by.is_empty() {
            let (k, keys) = row_of(q, &p);
            add(rows
                .entry(k)
                .or_insert_with(|| (keys, Counts::default(), 0)));
        }
    }
    Ok(n)
}

fn finish(
    from: NaiveDate,
    to: NaiveDate,
    total: Counts,
    overdue_total: i64,
    rows: Rows,
    adjusted: Option<(Measures, Vec<wire::adjustments::AdjustmentRecord>)>,
) -> (Period, Rows) {
    let (raw_total, adjustments) = adjusted.unzip();
    let period = Period {
        from,
        to,
        total: Measures::new(total, overdue_total),
        rows: rows
            .iter()
            // A row of nothing (its cases were corrected or merged away) is left out.
            .filter(|(_, (_, c, o))| *c != Counts::default() || *o != 0)
            .map(|(key, (keys, c, o))| Row {
                key: key.clone(),
                keys: keys.clone(),
                measures: Measures::new(*c, *o),
                change: None,
            })
            .collect(),
        raw_total,
        adjustments,
    };
    (period, rows)
}

fn year_earlier(d: NaiveDate) -> NaiveDate {
    d.with_year(d.year() - 1)
        .or_else(|| NaiveDate::from_ymd_opt(d.year() - 1, d.month(), 28))
        .unwrap_or(d)
}

/// The key and values of `row` a year earlier: its month (`2026-07`) the same month of the
/// year before (`2025-07`), every other dimension as it is.
fn a_year_earlier(q: &Query, row: &Row) -> (String, BTreeMap<String, String>) {
    let mut keys = row.keys.clone();
    let values: Vec<String> = q
        .group_by
        .iter()
        .zip(row.key.split('|'))
        .map(|(by, value)| {
            let earlier = match (by, value.split_once('-')) {
                (GroupBy::Month, Some((year, month))) => match year.parse::<i32>() {
                    Ok(year) => format!("{}-{month}", year - 1),
                    Err(_) => value.to_owned(),
                },
                _ => value.to_owned(),
            };
            keys.insert(by.as_str().to_owned(), earlier.clone());
            earlier
        })
        .collect();
    (values.join("|"), keys)
}

fn relative(cur: i64, prev: i64) -> Option<f64> {
    (prev != 0).then(|| (cur - prev) as f64 / prev as f64)
}

/// Each count's relative change and each rate's difference in percentage points.
fn change(cur: &Measures, prev: &Measures) -> BTreeMap<String, Option<f64>> {
    let mut out: BTreeMap<String, Option<f64>> = cur
        .counts
        .named()
        .into_iter()
        .zip(prev.counts.named())
        .map(|((name, c), (_, p))| (name.to_owned(), relative(c, p)))
        .collect();
    out.insert(
        "open_overdue".into(),
        relative(cur.open_overdue, prev.open_overdue),
    );
    for ((name, c), (_, p)) in cur.rates().into_iter().zip(prev.rates()) {
        let pp = c.value.zip(p.value).map(|(c, p)| (c - p) * 100.0);
        out.insert(name.to_owned(), pp);
    }
    out
}

pub fn query(
    store: &Store,
    q: &Query,
    now: Timestamp,
    policy: &domain::Policy,
) -> Result<Report, StoreError> {
    let (mut current, _) = period(store, q, q.from, q.to, now, policy)?;
    if !q.yoy {
        return Ok(Report {
            current,
            previous: None,
            change: None,
        });
    }
    let (previous, prev_rows) = period(
        store,
        q,
        year_earlier(q.from),
        year_earlier(q.to),
        now,
        policy,
    )?;
    // The same rows a year earlier (zero where nothing was), each current row with its change:
    // a month's row is the same month a year earlier.
    let previous_rows: Vec<Row> = current
        .rows
        .iter()
        .map(|row| {
            let (key, keys) = a_year_earlier(q, row);
            let (c, o) = prev_rows
                .get(&key)
                .map_or((Counts::default(), 0), |(_, c, o)| (*c, *o));
            Row {
                key,
                keys,
                measures: Measures::new(c, o),
                change: None,
            }
        })
        .collect();
    for (row, prev) in current.rows.iter_mut().zip(&previous_rows) {
        row.change = Some(change(&row.measures, &prev.measures));
    }
    let (c, p) = (&current.total.counts, &previous.total.counts);
    let total_change = Change {
        items: relative(c.items, p.items),
        batches: relative(c.batches, p.batches),
        persons: relative(c.persons, p.persons),
    };
    Ok(Report {
        current,
        previous: Some(Period {
            rows: previous_rows,
            ..previous
        }),
        change: Some(total_change),
    })
}
