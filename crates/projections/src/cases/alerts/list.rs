//! A period's alerts as a reader sees them (`GET /v1/alerts`): the spells that held on a day of
//! the period up to the clock of the answer, each with the cases it names.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use domain::alerts::{self, AlertKind, Run};
use domain::identity::Digest;
use domain::{Category, Policy, UnitCode};
use queries::alerts::AlertsQuery;
use queries::alerts::RaisedAlert;
use queries::cases::Clock;
use wire::alerts::{Alert, AlertList, AlertWindow};

use super::{day_counts, Entry};
use crate::keys::alerts as keys;
use crate::{Store, StoreError};

/// The alerts of `q`'s period against `clock`, newest `first_at` first.
pub fn alerts(store: &Store, q: &AlertsQuery, clock: Clock) -> Result<AlertList, StoreError> {
    let p = &clock.policy;
    let today = p.local_date(clock.now);
    let upto = q.to.min(today);
    let mut items = Vec::new();
    let (from, to) = keys::spells_since(q.from);
    for (key, run) in store.range::<Run>(&from, &to)? {
        if q.from > upto || run.first > upto {
            continue;
        }
        let Some((kind, township, category)) = keys::spell_of(&key).and_then(parse) else {
            continue;
        };
        let wanted = q.kind.is_none_or(|k| k == kind)
            && q.township.as_ref().is_none_or(|t| *t == township)
            && q.reader.as_ref().is_none_or(|t| *t == township);
        if !wanted {
            continue;
        }
        // The days of the spell in the period, up to today: an answer names the cases of their
        // windows (a spell of a year names the period's cases, not the year's).
        let shown = Run {
            first: run.first.max(q.from),
            last: run.last.min(upto),
            ..run
        };
        let matter = (kind, &township, category);
        if let Some(alert) = alert_of(store, p, matter, (&run, &shown), q.reader.is_some())? {
            items.push(alert);
        }
    }
    items.sort_by(|a, b| {
        b.first_at
            .cmp(&a.first_at)
            .then(a.alert_id.cmp(&b.alert_id))
    });
    Ok(AlertList {
        applied_seq: None,
        items,
    })
}

fn parse(
    (kind, township, category): (&str, &str, &str),
) -> Option<(AlertKind, UnitCode, Category)> {
    Some((
        AlertKind::ALL.into_iter().find(|k| k.as_str() == kind)?,
        UnitCode::parse(township).ok()?,
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == category)?,
    ))
}

/// The cases of a matter received from `lo` to `hi` that a reader sees (`township_reads`: not
/// those hidden from the township); for `collective_repeat`, its collective visits alone (their
/// own index, without petitioners: a busy matter's other cases are not read).
fn entries_of(
    store: &Store,
    (kind, t, c): (AlertKind, &str, &str),
    (lo, hi): (NaiveDate, NaiveDate),
    township_reads: bool,
) -> Result<Vec<(NaiveDate, Entry)>, StoreError> {
    let (a, b) = match kind {
        AlertKind::CollectiveRepeat => keys::visits(t, c, lo, hi),
        AlertKind::Surge | AlertKind::RepeatPetitioner => keys::cases(t, c, lo, hi),
    };
    Ok(store
        .range::<Entry>(&a, &b)?
        .into_iter()
        .filter(|(_, e)| !(township_reads && e.hidden))
        .filter_map(|(k, e)| Some((keys::case_day(&k)?, e)))
        .collect())
}

/// A spell (`whole`) as a reader sees it in a period (`run`: its days in the period, up to
/// today): the cases of their windows that the reader may read; `None` when it names none, or
/// (for a township's reader, `township_reads`) holds only through cases hidden from it.
fn alert_of(
    store: &Store,
    p: &Policy,
    (kind, township, category): (AlertKind, &UnitCode, Category),
    (whole, run): (&Run, &Run),
    township_reads: bool,
) -> Result<Option<Alert>, StoreError> {
    let (t, c) = (township.as_str(), category.as_str());
    let entries = entries_of(
        store,
        (kind, t, c),
        alerts::named_days(kind, p, run),
        township_reads,
    )?;
    let who = if kind == AlertKind::RepeatPetitioner {
        repeating(p, &entries, run)
    } else {
        BTreeSet::new()
    };
    let named: Vec<&(NaiveDate, Entry)> = match kind {
        AlertKind::Surge => entries.iter().collect(),
        AlertKind::CollectiveRepeat => entries.iter().filter(|(_, e)| e.collective).collect(),
        AlertKind::RepeatPetitioner => entries
            .iter()
            .filter(|(_, e)| e.persons.iter().any(|x| who.contains(x)))
            .collect(),
    };
    // What the reader sees must hold by itself (a township's reader: without the cases hidden
    // from it); the petitioners' alert is judged on the seen cases already.
    let reach = kind.reach(p);
    let seen_days = |from: NaiveDate, to: NaiveDate| {
        day_counts(store, (t, c), (from, to), township_reads).map(|d| alerts::Series::of(&d))
    };
    if township_reads && kind != AlertKind::RepeatPetitioner {
        let days = seen_days(alerts::back(run.first, reach), run.last)?;
        if !days_of(run).any(|d| alerts::holds(kind, p, &days, d)) {
            return Ok(None);
        }
    }
    let (Some(first), Some(last)) = (
        named.iter().map(|(d, _)| *d).min(),
        named.iter().map(|(d, _)| *d).max(),
    ) else {
        return Ok(None);
    };
    let mut ordered = named.clone();
    ordered.sort_by(|x, y| (x.1.received_at, &x.1.case_no).cmp(&(y.1.received_at, &y.1.case_no)));
    // The case that started the spell: the latest received of the window of its first day (of
    // those the kind counts). That day has it, unless a surge began as its baseline fell away:
    // the day alone is read first.
    let counts = |e: &Entry| match kind {
        AlertKind::Surge => true,
        AlertKind::CollectiveRepeat => e.collective,
        AlertKind::RepeatPetitioner => e.persons.iter().any(|x| who.contains(x)),
    };
    let mut first_at = None;
    for days in [
        (whole.first, whole.first),
        (alerts::window_start(kind, p, whole.first), whole.first),
    ] {
        let start = entries_of(store, (kind, t, c), days, township_reads)?;
        first_at = start
            .iter()
            .filter(|(_, e)| counts(e))
            .map(|(_, e)| e.received_at)
            .max();
        if first_at.is_some() {
            break;
        }
    }
    let first_at = first_at.unwrap_or(ordered[0].1.received_at);
    let baseline = if kind == AlertKind::Surge {
        let days = seen_days(alerts::back(whole.first, reach), whole.first)?;
        Some(alerts::baseline(p, &days, whole.first))
    } else {
        None
    };
    Ok(Some(Alert {
        alert_id: alerts::alert_id(kind, township, category, whole.key),
        kind,
        township: township.clone(),
        township_name: String::new(),
        category,
        count: u32::try_from(ordered.len()).unwrap_or(u32::MAX),
        baseline,
        window: AlertWindow {
            from: first,
            to: last,
        },
        first_at,
        case_nos: ordered.iter().map(|(_, e)| e.case_no.clone()).collect(),
        reviewed: review_of(store, alerts::alert_id(kind, township, category, whole.key))?,
    }))
}

fn review_of(
    store: &Store,
    id: uuid::Uuid,
) -> Result<Option<wire::alerts::AlertReview>, StoreError> {
    Ok(store
        .get::<super::Review>(&keys::review(id))?
        .map(|r| r.review))
}

/// An alert by its id (the county's view, for its review): what was raised, and the alert its
/// spell makes up to the clock (`None` once no spell is keyed by it any more, or before its
/// first day); `None` for an id never raised.
pub fn alert_by_id(
    store: &Store,
    id: uuid::Uuid,
    clock: Clock,
) -> Result<Option<RaisedAlert>, StoreError> {
    let Some(raised) = store.get::<super::Raised>(&keys::raised(id))? else {
        return Ok(None);
    };
    let p = &clock.policy;
    let today = p.local_date(clock.now);
    let (t, c, k) = (
        raised.township.as_str(),
        raised.category.as_str(),
        raised.kind.as_str(),
    );
    let (from, to) = keys::runs_since(k, t, c, raised.key);
    let spell = store
        .range::<Run>(&from, &to)?
        .into_iter()
        .map(|(_, r)| r)
        .find(|r| r.key == raised.key && r.first <= today);
    let alert = match spell {
        Some(run) => {
            let shown = Run {
                last: run.last.min(today),
                ..run
            };
            let matter = (raised.kind, &raised.township, raised.category);
            alert_of(store, p, matter, (&run, &shown), false)?
        }
        None => None,
    };
    Ok(Some(RaisedAlert {
        kind: raised.kind,
        township: raised.township,
        category: raised.category,
        alert,
        reviewed: review_of(store, id)?,
    }))
}

/// The petitioners with enough cases (of `entries`) in the 90 days up to some day of `run`.
fn repeating(p: &Policy, entries: &[(NaiveDate, Entry)], run: &Run) -> BTreeSet<Digest> {
    let mut dates: BTreeMap<Digest, Vec<NaiveDate>> = BTreeMap::new();
    for (day, e) in entries {
        for person in &e.persons {
            dates.entry(*person).or_default().push(*day);
        }
    }
    dates
        .into_iter()
        .filter(|(_, own)| days_of(run).any(|d| alerts::petitioner_holds(p, own, d)))
        .map(|(who, _)| who)
        .collect()
}

fn days_of(run: &Run) -> impl Iterator<Item = NaiveDate> {
    run.first.iter_days().take_while({
        let last = run.last;
        move |d| *d <= last
    })
}
