//! Judging a matter's days again after a case's counted facts moved (`super::apply`), and
//! replacing the spells that touch them.

use chrono::{Datelike as _, NaiveDate};

use domain::alerts::{self, AlertKind, DayCount, Run};
use domain::identity::Digest;
use domain::{CaseId, Policy};

use super::{person_key, Facts, Filings, Month, Move, Raised, MANY};
use crate::cases::Filing;
use crate::keys::alerts as keys;
use crate::keys::cases as cases_keys;
use crate::{StoreError, Tx};

/// The days from `from` to `to`.
fn span(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

/// The days `kind` may judge otherwise because of a case on `day`.
fn affected(kind: AlertKind, p: &Policy, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    (day, shift(day, i64::from(kind.reach(p)) - 1))
}

/// Judge again the days of the matter of `f` that its day may change, and replace the spells
/// that touch them. The stored spells are the days on which the conditions held before this
/// event (each event keeps them so), so where every judged day holds as it held before the
/// `moves`, nothing is read or replaced: most cases start or end no spell.
///
/// Read in two steps: first the days from the rules' windows before `f`'s day on (most often
/// the month records of this month and the last), on which [`alerts::may_hold`] tells whether
/// a surge can hold on any day the case may change, before or after; only then the months of
/// the baseline's 90 days before.
pub(super) fn days(
    tx: &mut Tx<'_>,
    p: &Policy,
    f: &Facts,
    moves: &[Move<'_>],
) -> Result<(), StoreError> {
    let reach = AlertKind::Surge
        .reach(p)
        .max(AlertKind::CollectiveRepeat.reach(p));
    let hi = shift(f.day, i64::from(reach));
    // Collective visits moved by none of the moves: `collective_repeat` holds as it held.
    let visits = moves.iter().any(|(g, _)| g.entry.collective);
    let mut kinds = vec![AlertKind::Surge];
    if visits {
        kinds.push(AlertKind::CollectiveRepeat);
    }
    let window = kinds.iter().map(|k| k.window(p)).max().unwrap_or(1);
    let mut lo = first_of_month(shift(f.day, 1 - i64::from(window)));
    let mut counts = day_counts(tx, f, (lo, hi))?;
    let (a, b) = affected(AlertKind::Surge, p, f.day);
    let (now, then) = series(lo, &counts, moves);
    let may = |d| {
        alerts::may_hold(AlertKind::Surge, p, &now, d)
            || alerts::may_hold(AlertKind::Surge, p, &then, d)
    };
    let (now, then) = if span(a, b).any(may) {
        // The baseline's months before those read.
        let from = first_of_month(shift(f.day, -i64::from(reach)));
        let mut before = day_counts(tx, f, (from, shift(lo, -1)))?;
        before.extend(counts);
        (lo, counts) = (from, before);
        series(lo, &counts, moves)
    } else {
        kinds.retain(|k| *k != AlertKind::Surge);
        (now, then)
    };
    for kind in kinds {
        let (a, b) = affected(kind, p, f.day);
        let holding = alerts::holds_over(kind, p, &now, (a, b));
        if holding == alerts::holds_over(kind, p, &then, (a, b)) {
            continue;
        }
        replace(tx, kind, f, (a, b), |d| {
            usize::try_from((d - a).num_days())
                .ok()
                .and_then(|i| holding.get(i))
                .is_some_and(|h| *h)
        })?;
    }
    Ok(())
}

/// The first day of `day`'s month.
fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The day counts of the matter of `f` from `lo` (a month's first day) to `hi`, one per day:
/// each month's record got by its key (a range of records costs more in the store than the
/// gets of its few keys).
fn day_counts(
    tx: &mut Tx<'_>,
    f: &Facts,
    (lo, hi): (NaiveDate, NaiveDate),
) -> Result<Vec<DayCount>, StoreError> {
    let len = usize::try_from((hi - lo).num_days() + 1).unwrap_or(0);
    let mut counts = vec![DayCount::default(); len];
    let (t, c) = (f.township.as_str(), f.category.as_str());
    let mut month = lo;
    while month <= hi {
        let at = usize::try_from((month - lo).num_days()).unwrap_or(0);
        tx.read(&keys::month(t, c, month), |m: Option<&Month>| {
            for (d, n) in m.into_iter().flatten() {
                let i = at + usize::try_from(*d).unwrap_or(0).saturating_sub(1);
                if let Some(slot) = counts.get_mut(i) {
                    *slot = n.all;
                }
            }
        })?;
        // The last month there is: nothing after it (and no endless loop on it).
        let Some(next) = month.checked_add_months(chrono::Months::new(1)) else {
            break;
        };
        month = next;
    }
    Ok(counts)
}

/// The counts from `lo` as a series, and as they were before the `moves`.
fn series(
    lo: NaiveDate,
    counts: &[DayCount],
    moves: &[Move<'_>],
) -> (alerts::Series, alerts::Series) {
    let now = alerts::Series::dense(lo, counts);
    let then = moves.iter().fold(now.clone(), |s, (g, delta)| {
        s.moved(g.day, -delta, if g.entry.collective { -delta } else { 0 })
    });
    (now, then)
}

/// 重复信访: each petitioner of the `moves` (of case `id`) on the matter of `f` judged on their
/// own cases of the matter, then the matter's days on which any petitioner holds. As for the
/// days, a petitioner whose days hold as before the `moves` is neither read further nor
/// rewritten.
pub(super) fn persons(
    tx: &mut Tx<'_>,
    p: &Policy,
    (f, id): (&Facts, CaseId),
    moves: &[Move<'_>],
) -> Result<(), StoreError> {
    let (t, c) = (f.township.as_str(), f.category.as_str());
    let reach = AlertKind::RepeatPetitioner.reach(p);
    let least = p.repeat_alert_cases as usize;
    let mut persons: Vec<&(Digest, String)> = moves.iter().flat_map(|(g, _)| &g.links).collect();
    persons.sort_unstable();
    persons.dedup_by_key(|(d, _)| *d);
    let mut moved = false;
    for (person, link) in persons {
        let who = person_key(person);
        let dates = filings(tx, (f, id), (person, &who, link), moves)?;
        // The petitioner's dates before this event, and the days it changed.
        let mut then = dates.clone();
        let mut changed = Vec::new();
        for (g, delta) in moves
            .iter()
            .filter(|(g, _)| g.entry.persons.contains(person))
        {
            changed.push(g.day);
            if *delta > 0 {
                if let Some(i) = then.iter().position(|d| *d == g.day) {
                    then.swap_remove(i);
                }
            } else {
                then.push(g.day);
            }
        }
        // Fewer cases than an alert needs, before and after: no runs, and none to judge.
        if dates.len() < least && then.len() < least {
            continue;
        }
        let same = changed.iter().all(|day| {
            let (a, b) = affected(AlertKind::RepeatPetitioner, p, *day);
            span(a, b).all(|d| {
                alerts::petitioner_holds(p, &dates, d) == alerts::petitioner_holds(p, &then, d)
            })
        });
        if same {
            continue;
        }
        let old: Vec<(String, Run)> = tx.scan::<Run>(&keys::person_runs(t, c, &who))?;
        let new = match (dates.iter().min(), dates.iter().max()) {
            (Some(first), Some(last)) if dates.len() >= least => {
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
    let mut days_moved: Vec<NaiveDate> = moves.iter().map(|(g, _)| g.day).collect();
    days_moved.sort_unstable();
    days_moved.dedup();
    for day in days_moved {
        let affected = affected(AlertKind::RepeatPetitioner, p, day);
        replace(tx, AlertKind::RepeatPetitioner, f, affected, |d| {
            persons.iter().any(|r| r.first <= d && d <= r.last)
        })?;
    }
    Ok(())
}

/// The days of a petitioner's cases of the matter of `f` after the `moves` (of case `id`): from
/// their record of the matter (`al/p/…`, kept here) where they have one, else from their
/// filings under `link` (`k/…`, this event's written already), from which the record is made
/// once they are more than [`MANY`] (from then on a registration reads one record, not every
/// filing of its petitioner).
fn filings(
    tx: &mut Tx<'_>,
    (f, id): (&Facts, CaseId),
    (person, who, link): (&Digest, &str, &str),
    moves: &[Move<'_>],
) -> Result<Vec<NaiveDate>, StoreError> {
    let key = keys::filings(f.township.as_str(), f.category.as_str(), who);
    let filings = match tx.get::<Filings>(&key)? {
        Some(mut filings) => {
            let mine = moves
                .iter()
                .filter(|(g, _)| g.entry.persons.contains(person));
            for (g, delta) in mine {
                match (filings.binary_search(&(g.day, id)), *delta > 0) {
                    (Err(i), true) => filings.insert(i, (g.day, id)),
                    (Ok(i), false) => {
                        filings.remove(i);
                    }
                    _ => {}
                }
            }
            if filings.is_empty() {
                tx.remove(key);
            } else {
                tx.put(key, filings.clone());
            }
            filings
        }
        None => {
            let filed = tx.scan::<Filing>(&cases_keys::filings(link))?;
            let many = filed.len() > MANY;
            let mut filings: Filings = filed
                .into_iter()
                .filter(|(_, x)| (&x.filed.township, x.filed.category) == (&f.township, f.category))
                .filter_map(|(_, x)| Some((x.counted?, x.filed.case_id)))
                .collect();
            filings.sort_unstable();
            if many && !filings.is_empty() {
                tx.put(key, filings.clone());
            }
            filings
        }
    };
    Ok(filings.into_iter().map(|(d, _)| d).collect())
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
