//! 苗头预警 (issue 35): the alert rules on a township's cases of one category, day by day.

use chrono::NaiveDate;

use domain::alerts::{
    alert_id, baseline, holds, holds_over, may_hold, named_days, petitioner_holds, rekey, runs,
    AlertKind, DayCount, Days, Run, Series,
};
use domain::{Category, Policy};

use crate::common::unit;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// Day counts of cases on `dates` (a date once per case), the collective visits on `collective`.
fn counts(dates: &[String], collective: &[&str]) -> Days {
    let mut days = Days::new();
    for d in dates {
        days.entry(day(d)).or_default().cases += 1;
    }
    for d in collective {
        let c: &mut DayCount = days.entry(day(d)).or_default();
        c.cases += 1;
        c.collective += 1;
    }
    days
}

fn dates(list: &[&str]) -> Vec<String> {
    list.iter().map(|d| (*d).to_owned()).collect()
}

/// One case a month, then seven in a week (1 to 7 April, one a day).
fn baseline_and_surge() -> Vec<String> {
    let mut all = dates(&["2026-01-05", "2026-02-05", "2026-03-05"]);
    all.extend((1..=7).map(|d| format!("2026-04-{d:02}")));
    all
}

fn spring() -> (NaiveDate, NaiveDate) {
    (day("2026-03-01"), day("2026-04-30"))
}

fn surges(p: &Policy, days: &Days) -> Vec<Run> {
    let series = Series::of(days);
    runs(|d| holds(AlertKind::Surge, p, &series, d), spring())
}

/// The fifth case of the week makes it hold (5 ≥ surge_min, and far above 3 × the baseline of
/// 3 × 7 / 90); it holds while five are in the window, and names the week's cases, not the
/// baseline's.
#[test]
fn a_surge_after_a_quiet_baseline_is_one_spell_naming_the_surge() {
    let p = Policy::default();
    let days = counts(&baseline_and_surge(), &[]);
    let found = surges(&p, &days);
    assert_eq!(found.len(), 1, "{found:?}");
    let run = found[0];
    assert_eq!(
        (run.first, run.last),
        (day("2026-04-05"), day("2026-04-09"))
    );
    assert_eq!(
        named_days(AlertKind::Surge, &p, &run),
        (day("2026-03-30"), day("2026-04-09")),
        "the windows of its days: the seven, not 5 March's"
    );
    assert!((baseline(&p, &Series::of(&days), run.first) - 3.0 * 7.0 / 90.0).abs() < 1e-9);
    // An eighth case (8 April) joins the spell: it lasts a day longer, keeps its id.
    let mut more = baseline_and_surge();
    more.push("2026-04-08".into());
    let grown = rekey(&found, surges(&p, &counts(&more, &[])));
    assert_eq!(grown.len(), 1);
    assert_eq!((grown[0].key, grown[0].last), (run.key, day("2026-04-10")));
    // A late entry dated 3 April makes it hold from the 4th: the spell keeps its id (keyed by
    // the 5th) though it now starts earlier.
    more.push("2026-04-03".into());
    let backdated = rekey(&grown, surges(&p, &counts(&more, &[])));
    assert_eq!(backdated.len(), 1);
    assert_eq!(
        (backdated[0].first, backdated[0].key),
        (day("2026-04-04"), run.key)
    );
    let gaoqiao = unit("gaoqiao");
    assert_eq!(
        alert_id(
            AlertKind::Surge,
            &gaoqiao,
            Category::Wages,
            backdated[0].key
        ),
        alert_id(AlertKind::Surge, &gaoqiao, Category::Wages, run.key)
    );
    assert_ne!(
        alert_id(AlertKind::Surge, &gaoqiao, Category::Wages, run.key),
        alert_id(AlertKind::Surge, &gaoqiao, Category::Land, run.key)
    );
}

/// A busy day below `surge_min` raises nothing; nor does a busy place within its factor (60
/// cases in 90 days make a usual week of 4.7; seven is not more than three times that).
#[test]
fn a_small_burst_and_a_busy_place_raise_no_surge() {
    let p = Policy::default();
    let burst = counts(&vec!["2026-04-10".to_owned(); 4], &[]);
    assert!(surges(&p, &burst).is_empty());
    let start = day("2025-12-31");
    let mut busy: Vec<String> = (0..60u64)
        .map(|i| (start + chrono::Days::new(i * 3 / 2)).to_string())
        .collect();
    busy.extend((1..=7).map(|d| format!("2026-04-{d:02}")));
    assert!(surges(&p, &counts(&busy, &[])).is_empty());
    // The same seven with a factor of a half: a surge.
    let eager = Policy {
        surge_factor: 0.5,
        ..Policy::default()
    };
    assert!(!surges(&eager, &counts(&busy, &[])).is_empty());
}

/// Two collective visits on one matter within 30 days hold from the second until 30 days after
/// the first; 40 days apart they do not; an individual visit between counts for nothing.
#[test]
fn collective_visits_again_within_a_month_repeat() {
    let p = Policy::default();
    let repeat = |days: &Days| {
        let series = Series::of(days);
        runs(
            |d| holds(AlertKind::CollectiveRepeat, &p, &series, d),
            spring(),
        )
    };
    let days = counts(&dates(&["2026-03-10"]), &["2026-03-02", "2026-03-22"]);
    let found = repeat(&days);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].first, found[0].last),
        (day("2026-03-22"), day("2026-03-31"))
    );
    assert_eq!(
        named_days(AlertKind::CollectiveRepeat, &p, &found[0]),
        (day("2026-02-21"), day("2026-03-31")),
        "the windows of its days, from the 30 days up to 22 March"
    );
    assert!(repeat(&counts(&[], &["2026-03-02", "2026-04-11"])).is_empty());
}

/// One petitioner's third case within 90 days holds until the first leaves the 90 days; two
/// cases are no alert.
#[test]
fn a_petitioners_third_case_in_ninety_days_repeats() {
    let p = Policy::default();
    let own = [day("2026-01-20"), day("2026-02-25"), day("2026-04-15")];
    let found = runs(|d| petitioner_holds(&p, &own, d), spring());
    assert_eq!(found.len(), 1, "{found:?}");
    // 20 January + 89 days is 19 April.
    assert_eq!(
        (found[0].first, found[0].last),
        (day("2026-04-15"), day("2026-04-19"))
    );
    assert_eq!(
        named_days(AlertKind::RepeatPetitioner, &p, &found[0]).0,
        day("2026-01-16")
    );
    assert!(runs(|d| petitioner_holds(&p, &own[..2], d), spring()).is_empty());
}

/// Two spells that grow into one keep the earlier id; a spell apart from every known one is
/// keyed by its own first day.
#[test]
fn spells_that_meet_keep_the_earliest_id() {
    let run = |k: &str, f: &str, l: &str| Run {
        key: day(k),
        first: day(f),
        last: day(l),
    };
    let known = [
        run("2026-04-05", "2026-04-05", "2026-04-09"),
        run("2026-04-12", "2026-04-12", "2026-04-14"),
    ];
    let fresh = vec![
        run("2026-04-04", "2026-04-04", "2026-04-14"),
        run("2026-05-01", "2026-05-01", "2026-05-03"),
    ];
    let keyed = rekey(&known, fresh);
    assert_eq!(keyed[0].key, day("2026-04-05"));
    assert_eq!(keyed[1].key, day("2026-05-01"));
}

/// A surge, its baseline and collective visits as days, and as the 200 consecutive days from
/// the first of December before them (`Series::dense`'s input).
fn surge_and_visits() -> (Days, NaiveDate, Vec<DayCount>) {
    let mut all = baseline_and_surge();
    all.extend(dates(&["2026-04-20", "2026-05-02"]));
    let days = counts(&all, &["2026-04-03", "2026-04-25"]);
    let start = day("2025-12-01");
    let dense: Vec<DayCount> = start
        .iter_days()
        .take(200)
        .map(|d| days.get(&d).copied().unwrap_or_default())
        .collect();
    (days, start, dense)
}

/// A series of consecutive days (`Series::dense`) judges as the same days in a map
/// (`Series::of`), and one moved by a case judges as the days with that case: over a surge,
/// its baseline and collective visits, from before the first day to after the last.
#[test]
fn a_dense_series_and_a_moved_one_judge_as_their_days() {
    let p = Policy::default();
    let (days, start, dense) = surge_and_visits();
    let judged = |s: &Series| -> Vec<(bool, bool)> {
        start
            .iter_days()
            .take(260)
            .map(|d| {
                (
                    holds(AlertKind::Surge, &p, s, d),
                    holds(AlertKind::CollectiveRepeat, &p, s, d),
                )
            })
            .collect()
    };
    let whole = judged(&Series::of(&days));
    assert!(whole.iter().any(|(s, _)| *s) && whole.iter().any(|(_, c)| *c));
    assert_eq!(judged(&Series::dense(start, &dense)), whole);
    // Judged in one pass over a span, from before the series to after it: the same days.
    let span = (
        start - chrono::Days::new(30),
        start + chrono::Days::new(259),
    );
    for s in [Series::of(&days), Series::dense(start, &dense)] {
        let surge = holds_over(AlertKind::Surge, &p, &s, span);
        let visits = holds_over(AlertKind::CollectiveRepeat, &p, &s, span);
        let by_day: Vec<(bool, bool)> = surge.into_iter().zip(visits).skip(30).collect();
        assert_eq!(by_day, whole);
    }
    assert!(holds_over(AlertKind::Surge, &p, &Series::default(), span)
        .iter()
        .all(|h| !h));
    // A case of the surge taken out: its spell is shorter; put back, as before.
    let mut fewer = days.clone();
    fewer.entry(day("2026-04-04")).or_default().cases -= 1;
    let moved = Series::dense(start, &dense).moved(day("2026-04-04"), -1, 0);
    assert_eq!(judged(&moved), judged(&Series::of(&fewer)));
    assert_ne!(judged(&moved), whole);
    assert_eq!(judged(&moved.moved(day("2026-04-04"), 1, 0)), whole);
    // A collective visit taken out: the repeat ends; a day outside the series moves nothing.
    let mut single = days.clone();
    let c = single.entry(day("2026-04-25")).or_default();
    c.cases -= 1;
    c.collective -= 1;
    let moved = Series::dense(start, &dense).moved(day("2026-04-25"), -1, -1);
    assert_eq!(judged(&moved), judged(&Series::of(&single)));
    let outside = Series::dense(start, &dense).moved(day("2027-01-01"), 5, 5);
    assert_eq!(judged(&outside), whole);
}

/// What `may_hold` judges from a window's days alone is all `holds` requires first: every day a
/// rule holds it may hold, and a series from the window's first day on judges it as the whole.
#[test]
fn a_window_alone_tells_where_nothing_can_hold() {
    let p = Policy::default();
    let (_, start, dense) = surge_and_visits();
    let whole = Series::dense(start, &dense);
    for kind in [AlertKind::Surge, AlertKind::CollectiveRepeat] {
        let mut ruled_out = 0;
        for (i, d) in start.iter_days().take(200).enumerate() {
            let may = may_hold(kind, &p, &whole, d);
            assert!(may || !holds(kind, &p, &whole, d), "{kind:?} on {d}");
            ruled_out += usize::from(!may);
            // Only the window's days, from its first on.
            let from = i.saturating_sub(kind.window(&p) as usize - 1);
            let window = Series::dense(start + chrono::Days::new(from as u64), &dense[from..]);
            assert_eq!(may_hold(kind, &p, &window, d), may, "{kind:?} on {d}");
        }
        assert!(ruled_out > 100, "{kind:?}: {ruled_out}");
    }
    // A surge's window that may hold, on a day it does not (its baseline is as busy).
    let busy = Series::dense(
        start,
        &vec![
            DayCount {
                cases: 1,
                collective: 0
            };
            200
        ],
    );
    let d = day("2026-05-01");
    assert!(may_hold(AlertKind::Surge, &p, &busy, d) && !holds(AlertKind::Surge, &p, &busy, d));
}
