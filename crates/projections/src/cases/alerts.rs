//! 苗头预警 in the cases model (issue 35): what the alerts count of each case, and their spells,
//! kept as cases are registered, corrected and merged (`domain::alerts` has the rules).
//!
//! Each case but a merged one (its matter is the case it was merged into) is counted under its
//! township and category on the day it was received: an entry `al/c/…` (its number, receipt,
//! whether a collective visit, its petitioners as keyed hashes, whether its township may not
//! read it), the day's counts `al/n/…`, for each petitioner `al/p/…`, and a collective visit
//! once more without its petitioners `al/k/…` (what `collective_repeat` names). When a case's counted
//! facts change, the days whose condition it may change (its day to [`AlertKind::reach`] after)
//! are judged again and the spells of the matter that touch them are replaced: the new runs are
//! keyed as the runs they grew from (`domain::alerts::rekey`), so a spell keeps its id. Spells are
//! stored by matter (`al/r/…`, for this) and by their last day (`al/s/…`, for a period's
//! alerts); every id ever raised is kept (`al/i/…`). Nothing depends on the clock: a spell's
//! days, even those after today, follow from the cases alone; an answer shows the days up to its
//! clock.

use std::collections::BTreeMap;

use chrono::{Datelike as _, NaiveDate};
use serde::{Deserialize, Serialize};

use domain::alerts::{self, AlertKind, DayCount, Days, Run};
use domain::identity::Digest;
use domain::{CaseId, Category, Policy, Status, Timestamp, UnitCode};

use super::Row;
use crate::keys::alerts as keys;
use crate::{StoreError, Tx};

/// A case as the alerts count it (`al/c/…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub case_no: String,
    #[serde(with = "domain::stamp")]
    pub received_at: Timestamp,
    /// A collective visit (集体访).
    pub collective: bool,
    /// Its petitioners as keyed hashes (each by ID number and by name with phone, where known).
    pub persons: Vec<Digest>,
    /// Its township may not read it (an accusation against it, 检举控告).
    pub hidden: bool,
}

/// A spell ever raised (`al/i/<id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Raised {
    pub kind: AlertKind,
    pub township: UnitCode,
    pub category: Category,
    pub key: NaiveDate,
}

/// A day's counts of a matter (`al/n/…`): every case, and those its township may not read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub all: DayCount,
    pub hidden: DayCount,
}

impl Tally {
    /// The counts a reader sees: every case, or only those the township may read.
    pub fn seen(&self, township_reads: bool) -> DayCount {
        if township_reads {
            DayCount {
                cases: self.all.cases.saturating_sub(self.hidden.cases),
                collective: self.all.collective.saturating_sub(self.hidden.collective),
            }
        } else {
            self.all
        }
    }
}

/// What the alerts count of a case, where.
#[derive(Debug, Clone, PartialEq)]
struct Facts {
    township: UnitCode,
    category: Category,
    day: NaiveDate,
    entry: Entry,
}

fn facts(row: &Row, p: &Policy) -> Option<Facts> {
    let c = &row.case;
    if c.status == Status::Merged {
        return None;
    }
    let mut persons: Vec<Digest> = row
        .persons
        .iter()
        .flat_map(|x| [x.id, x.name_phone])
        .flatten()
        .collect();
    persons.sort_unstable();
    persons.dedup();
    Some(Facts {
        township: c.township.clone(),
        category: c.category,
        day: p.local_date(c.received_at),
        entry: Entry {
            case_no: c.case_no.clone(),
            received_at: c.received_at,
            collective: c.channel.is_visit() && c.flags.collective,
            persons,
            hidden: !c.units.contains(&c.township) || c.accused_unit.as_ref() == Some(&c.township),
        },
    })
}

/// What the alerts count of a row, by reference (to compare before building [`Facts`]).
#[allow(clippy::type_complexity)]
fn counted(
    r: &Row,
) -> (
    (bool, &UnitCode, Category, Timestamp),
    (
        domain::Channel,
        bool,
        &Vec<domain::identity::Person>,
        &String,
    ),
    (bool, &Option<UnitCode>),
) {
    let c = &r.case;
    (
        (
            c.status == Status::Merged,
            &c.township,
            c.category,
            c.received_at,
        ),
        (c.channel, c.flags.collective, &r.persons, &c.case_no),
        (c.units.contains(&c.township), &c.accused_unit),
    )
}

/// A keyed hash as a key part.
pub fn person_key(d: &Digest) -> String {
    hex::encode(d)
}

/// The alerts after a case changed from `before` to `after` (the same case).
pub(super) fn apply(
    tx: &mut Tx<'_>,
    p: &Policy,
    before: Option<&Row>,
    after: &Row,
) -> Result<(), StoreError> {
    // Most events change nothing the alerts count: compared without building anything.
    if before.is_some_and(|b| counted(b) == counted(after)) {
        return Ok(());
    }
    let (old, new) = (before.and_then(|b| facts(b, p)), facts(after, p));
    if old == new {
        return Ok(());
    }
    let id = after.case.id;
    if let Some(o) = &old {
        file(tx, o, id, -1)?;
    }
    if let Some(n) = &new {
        file(tx, n, id, 1)?;
    }
    for f in [&old, &new].into_iter().flatten() {
        refresh(tx, p, f)?;
    }
    Ok(())
}

/// File (`delta` 1) or unfile (−1) a case's facts.
fn file(tx: &mut Tx<'_>, f: &Facts, id: CaseId, delta: i64) -> Result<(), StoreError> {
    let (t, c) = (f.township.as_str(), f.category.as_str());
    let entry = keys::case(t, c, f.day, id);
    let month_key = keys::month(t, c, f.day);
    let mut month: Month = tx.get(&month_key)?.unwrap_or_default();
    let count = month.entry(f.day.day()).or_default();
    let step = |n: &mut u32, on: bool| {
        let moved = i64::from(*n) + if on { delta } else { 0 };
        *n = u32::try_from(moved.max(0)).unwrap_or(u32::MAX);
    };
    let (collective, hidden) = (f.entry.collective, f.entry.hidden);
    step(&mut count.all.cases, true);
    step(&mut count.all.collective, collective);
    step(&mut count.hidden.cases, hidden);
    step(&mut count.hidden.collective, hidden && collective);
    if *count == Tally::default() {
        month.remove(&f.day.day());
    }
    if month.is_empty() {
        tx.remove(month_key);
    } else {
        tx.put(month_key, month);
    }
    for person in &f.entry.persons {
        let k = keys::filed(t, c, &person_key(person), f.day, id);
        if delta > 0 {
            tx.put(k, ());
        } else {
            tx.remove(k);
        }
    }
    if delta > 0 {
        tx.put(entry, f.entry.clone());
    } else {
        tx.remove(entry);
    }
    if collective {
        let visit = keys::visit(t, c, f.day, id);
        if delta > 0 {
            let slim = Entry {
                persons: Vec::new(),
                ..f.entry.clone()
            };
            tx.put(visit, slim);
        } else {
            tx.remove(visit);
        }
    }
    Ok(())
}

/// Judge again the days of the matter of `f` that its day may change, and replace the spells
/// that touch them.
fn refresh(tx: &mut Tx<'_>, p: &Policy, f: &Facts) -> Result<(), StoreError> {
    let (t, c) = (f.township.as_str(), f.category.as_str());
    let reach = AlertKind::Surge
        .reach(p)
        .max(AlertKind::CollectiveRepeat.reach(p));
    let (lo, hi) = (
        shift(f.day, -i64::from(reach)),
        shift(f.day, i64::from(reach)),
    );
    let (from, to) = keys::months(t, c, lo, hi);
    let days = alerts::Series::of(&days_of(tx.range::<Month>(&from, &to)?, false));
    for kind in [AlertKind::Surge, AlertKind::CollectiveRepeat] {
        let affected = (f.day, shift(f.day, i64::from(kind.reach(p)) - 1));
        replace(tx, kind, f, affected, |d| alerts::holds(kind, p, &days, d))?;
    }
    // 重复信访: each petitioner of the case judged on their own cases of the matter, then the
    // matter's days on which any petitioner holds.
    let reach = AlertKind::RepeatPetitioner.reach(p);
    let mut moved = false;
    for person in &f.entry.persons {
        let who = person_key(person);
        let dates: Vec<NaiveDate> = tx
            .scan::<()>(&keys::filings(t, c, &who))?
            .into_iter()
            .filter_map(|(k, ())| keys::filed_day(&k))
            .collect();
        let old: Vec<(String, Run)> = tx.scan::<Run>(&keys::person_runs(t, c, &who))?;
        // Fewer cases than an alert needs: no runs, and none to judge.
        let new = match (dates.iter().min(), dates.iter().max()) {
            (Some(first), Some(last)) if dates.len() >= p.repeat_alert_cases as usize => {
                let span = (*first, shift(*last, i64::from(reach) - 1));
                alerts::runs(|d| alerts::petitioner_holds(p, &dates, d), span)
            }
            _ => Vec::new(),
        };
        if old.iter().map(|(_, r)| *r).eq(new.iter().copied()) {
            continue;
        }
        moved = true;
        for (k, _) in old {
            tx.remove(k);
        }
        for run in new {
            tx.put(keys::person_run(t, c, &who, run.first), run);
        }
    }
    if !moved {
        return Ok(());
    }
    let persons: Vec<Run> = tx
        .scan::<Run>(&keys::matter_person_runs(t, c))?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let affected = (f.day, shift(f.day, i64::from(reach) - 1));
    replace(tx, AlertKind::RepeatPetitioner, f, affected, |d| {
        persons.iter().any(|r| r.first <= d && d <= r.last)
    })
}

fn shift(day: NaiveDate, days: i64) -> NaiveDate {
    day.checked_add_signed(chrono::Duration::days(days))
        .unwrap_or(day)
}

/// Replace the spells of `kind` on the matter of `f` that touch `affected` (lo..=hi): inside it
/// the days `holding` says, outside it the days the stored spells held.
fn replace(
    tx: &mut Tx<'_>,
    kind: AlertKind,
    f: &Facts,
    (lo, hi): (NaiveDate, NaiveDate),
    holding: impl Fn(NaiveDate) -> bool,
) -> Result<(), StoreError> {
    let (t, c, k) = (f.township.as_str(), f.category.as_str(), kind.as_str());
    let (from, to) = keys::runs_since(k, t, c, shift(lo, -1));
    let stored: Vec<Run> = tx
        .range::<Run>(&from, &to)?
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r.first <= shift(hi, 1))
        .collect();
    // Most often the days it judges hold as they held: nothing to replace.
    let held = |d: NaiveDate| stored.iter().any(|r| r.first <= d && d <= r.last);
    if lo
        .iter_days()
        .take_while(|d| *d <= hi)
        .all(|d| holding(d) == held(d))
    {
        return Ok(());
    }
    let span = stored
        .iter()
        .fold((lo, hi), |(a, b), r| (a.min(r.first), b.max(r.last)));
    let fresh = alerts::runs(
        |d| {
            if lo <= d && d <= hi {
                holding(d)
            } else {
                stored.iter().any(|r| r.first <= d && d <= r.last)
            }
        },
        span,
    );
    let keyed = alerts::rekey(&stored, fresh);
    if keyed == stored {
        return Ok(());
    }
    for r in &stored {
        tx.remove(keys::run(k, t, c, r.last, r.key));
        tx.remove(keys::spell(r.last, k, t, c, r.key));
    }
    for r in keyed {
        tx.put(keys::run(k, t, c, r.last, r.key), r);
        tx.put(keys::spell(r.last, k, t, c, r.key), r);
        let id = alerts::alert_id(kind, &f.township, f.category, r.key);
        tx.put(
            keys::raised(id),
            Raised {
                kind,
                township: f.township.clone(),
                category: f.category,
                key: r.key,
            },
        );
    }
    Ok(())
}

/// The latest review of an alert (`al/v/<id>`), with the alert's reviews up to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub version: u64,
    pub review: wire::alerts::AlertReview,
}

/// A review (研判) on an alert's subject: the latest that is a fact holds (`crate::admitted`,
/// judged against the reviews before it). No case changes.
pub(super) fn review(
    tx: &mut Tx<'_>,
    event: &eventlog::Stored,
    r: &domain::event::AlertReviewed,
) -> Result<(), crate::ProjectionError> {
    let env = &event.envelope;
    let key = keys::review(env.case_id.0);
    let before: Option<Review> = tx.get(&key)?;
    if !crate::admitted(tx, event, before.map(|b| b.version)) {
        return Ok(());
    }
    let review = wire::alerts::AlertReview {
        assessment: r.assessment.clone(),
        plan: r.plan.clone(),
        at: env.occurred_at,
        by: env.actor.id.0.clone(),
    };
    tx.put(
        key,
        Review {
            version: env.version,
            review,
        },
    );
    Ok(())
}

/// A month's day counts of a matter (`al/n/…`), by day of the month.
pub type Month = BTreeMap<u32, Tally>;

/// The day counts of month records as a reader sees them.
fn days_of(months: Vec<(String, Month)>, township_reads: bool) -> Days {
    months
        .into_iter()
        .filter_map(|(k, m)| Some((keys::month_start(&k)?, m)))
        .flat_map(|(start, m)| {
            m.into_iter()
                .filter_map(move |(d, n)| Some((start.with_day(d)?, n.seen(township_reads))))
        })
        .collect()
}

/// The day counts of a matter from `from` to `to` (whole months) as a reader sees them
/// (`township_reads`: only the cases the township may read).
pub fn day_counts(
    store: &crate::Store,
    (township, category): (&str, &str),
    (from, to): (NaiveDate, NaiveDate),
    township_reads: bool,
) -> Result<Days, StoreError> {
    let (a, b) = keys::months(township, category, from, to);
    Ok(days_of(store.range::<Month>(&a, &b)?, township_reads))
}

mod list;

pub use list::{alert_by_id, alerts};
