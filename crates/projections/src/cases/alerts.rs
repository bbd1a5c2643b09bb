//! 苗头预警 in the cases model (issue 35): what the alerts count of each case, and their spells,
//! kept as cases are registered, corrected and merged (`domain::alerts` has the rules).
//!
//! Each case but a merged one (its matter is the case it was merged into) is counted under its
//! township and category on the day it was received: an entry `al/c/…` (its number, receipt,
//! whether a collective visit, its petitioners as keyed hashes, whether its township may not
//! read it), the day's counts `al/n/…` (a record a month), and a collective visit once more
//! without its petitioners `al/k/…` (what `collective_repeat` names). A petitioner's cases of
//! the matter are those filed under their keys (`k/…`, the cases model's own filings, which
//! carry the day they are counted on: [`counted_day`]); only a petitioner filed under a key
//! more than [`MANY`] times has them in one record of the matter, `al/p/…`, kept from then on
//! (so a registration writes nothing for its petitioners, and reads a petitioner's filings in
//! full only while they are few, or once to make the record).
//!
//! When a case's counted facts change, the days whose condition it may change (its day to
//! [`AlertKind::reach`] after) are judged again, on the counts after and before the change
//! (`judge`): where every such day holds as it held, nothing more is read (most cases start or
//! end no spell); otherwise the spells of the matter that touch them are replaced, the new runs
//! keyed as the runs they grew from (`domain::alerts::rekey`), so a spell keeps its id. Spells
//! are stored by matter (`al/r/…`, for this) and by their last day (`al/s/…`, for a period's
//! alerts); every id ever raised is kept (`al/i/…`). Nothing depends on the clock: a spell's
//! days, even those after today, follow from the cases alone; an answer shows the days up to
//! its clock.

use chrono::{Datelike as _, NaiveDate};
use serde::{Deserialize, Serialize};

use domain::alerts::{AlertKind, DayCount, Days};
use domain::identity::{Digest, Person};
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
    /// Its petitioners' keyed hashes with the keys the cases model files the case under.
    links: Vec<(Digest, String)>,
}

/// Filings under one key beyond which a petitioner's cases of a matter are kept in one record
/// (`al/p/…`) instead of read from the filings. (Four in the unit tests, so that their few
/// petitioners cross it, one way and back.)
pub const MANY: usize = if cfg!(test) { 4 } else { 32 };

/// The day the alerts count a case on: the local day it was received, none once merged (its
/// matter is the case it was merged into).
pub fn counted_day(row: &Row, p: &Policy) -> Option<NaiveDate> {
    (row.case.status != Status::Merged).then(|| p.local_date(row.case.received_at))
}

fn facts(row: &Row, p: &Policy) -> Option<Facts> {
    let c = &row.case;
    let day = counted_day(row, p)?;
    // Each keyed hash alone, as `Person::link_keys` files it.
    let mut links: Vec<(Digest, String)> = row
        .persons
        .iter()
        .flat_map(|x| {
            let id = Person {
                id: x.id,
                ..Person::default()
            };
            let name_phone = Person {
                name_phone: x.name_phone,
                ..Person::default()
            };
            [(x.id, id), (x.name_phone, name_phone)]
        })
        .filter_map(|(d, alone)| Some((d?, alone.link_keys().pop()?)))
        .collect();
    links.sort_unstable();
    links.dedup();
    let mut persons: Vec<Digest> = links.iter().map(|(d, _)| *d).collect();
    persons.dedup();
    Some(Facts {
        links,
        township: c.township.clone(),
        category: c.category,
        day,
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
    // What this event moved: the case's facts left (−1) and came (+1).
    let moves: Vec<Move<'_>> = [(old.as_ref(), -1), (new.as_ref(), 1)]
        .into_iter()
        .filter_map(|(f, delta)| Some((f?, delta)))
        .collect();
    let mut judged: Vec<(&UnitCode, Category, Option<NaiveDate>)> = Vec::new();
    for (f, _) in &moves {
        let same: Vec<Move<'_>> = moves
            .iter()
            .filter(|(g, _)| (&g.township, g.category) == (&f.township, f.category))
            .copied()
            .collect();
        if !judged.contains(&(&f.township, f.category, Some(f.day))) {
            judged.push((&f.township, f.category, Some(f.day)));
            judge::days(tx, p, f, &same)?;
        }
        if !judged.contains(&(&f.township, f.category, None)) {
            judged.push((&f.township, f.category, None));
            judge::persons(tx, p, (f, id), &same)?;
        }
    }
    Ok(())
}

/// A case's facts filed (1) or unfiled (−1) by the event being applied.
type Move<'a> = (&'a Facts, i64);

/// File (`delta` 1) or unfile (−1) a case's facts.
fn file(tx: &mut Tx<'_>, f: &Facts, id: CaseId, delta: i64) -> Result<(), StoreError> {
    let (t, c) = (f.township.as_str(), f.category.as_str());
    let entry = keys::case(t, c, f.day, id);
    let month_key = keys::month(t, c, f.day);
    let mut month: Month = tx.get(&month_key)?.unwrap_or_default();
    let at = match month.binary_search_by_key(&f.day.day(), |(d, _)| *d) {
        Ok(i) => i,
        Err(i) => {
            month.insert(i, (f.day.day(), Tally::default()));
            i
        }
    };
    let count = &mut month[at].1;
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
        month.remove(at);
    }
    if month.is_empty() {
        tx.remove(month_key);
    } else {
        tx.put(month_key, month);
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

/// A petitioner's cases of a matter (`al/p/…`): (day received, case), in order.
pub type Filings = Vec<(NaiveDate, CaseId)>;

/// A month's day counts of a matter (`al/n/…`): (day of the month, counts) in order of the day,
/// days without a case left out. (Read as a list, not a map: a case's judgement reads seven.)
pub type Month = Vec<(u32, Tally)>;

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

mod judge;
mod list;

pub use list::{alert_by_id, alerts};
