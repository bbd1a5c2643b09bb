//! 苗头预警 (issue 35): the rules of the alerts, pure. An alert is one spell of a condition on a
//! (kind, township, category), judged day by day in the policy's time zone from the cases of that
//! township and category by the day they were received:
//!
//! - `surge`: n, the cases of the `surge_window_days` (w) days ending on the day, at least
//!   `surge_min` and more than `surge_factor` × B × w / b, B the cases of the
//!   `surge_baseline_days` (b) days before the window;
//! - `collective_repeat`: at least two collective visits in the `collective_repeat_days` ending on
//!   the day;
//! - `repeat_petitioner`: a petitioner with at least `repeat_alert_cases` cases in the 90 days
//!   ending on the day.
//!
//! A spell is a run of consecutive days on which its condition holds; it names the cases of the
//! windows of its days. Its id is a UUID v5 of its kind, township, category and first day; a
//! spell that grows backwards (a late entry, 补录) keeps the day it was first keyed by
//! ([`rekey`]), so an id never changes while its spell lasts.

use std::collections::BTreeMap;

use chrono::{Days as Days_, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ids::UnitCode;
use crate::policy::{Policy, REPEAT_ALERT_DAYS};
use crate::values::Category;

/// The kinds of alert.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// 激增: a township's cases of a category far above their usual rate.
    Surge,
    /// 集体访反复: collective visits on one matter again within a month.
    CollectiveRepeat,
    /// 重复信访: one petitioner's cases on one matter again and again (the alert names the cases,
    /// never the person).
    RepeatPetitioner,
}

impl AlertKind {
    pub const ALL: [AlertKind; 3] = [
        AlertKind::Surge,
        AlertKind::CollectiveRepeat,
        AlertKind::RepeatPetitioner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Surge => "surge",
            AlertKind::CollectiveRepeat => "collective_repeat",
            AlertKind::RepeatPetitioner => "repeat_petitioner",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            AlertKind::Surge => "信访量激增",
            AlertKind::CollectiveRepeat => "集体访反复",
            AlertKind::RepeatPetitioner => "重复信访",
        }
    }

    /// The days ending on a day whose cases its condition counts.
    pub fn window(self, p: &Policy) -> u32 {
        match self {
            AlertKind::Surge => p.surge_window_days,
            AlertKind::CollectiveRepeat => p.collective_repeat_days,
            AlertKind::RepeatPetitioner => REPEAT_ALERT_DAYS,
        }
    }

    /// How many days after a case's day its condition may change because of it (the case
    /// leaves the window, then the baseline).
    pub fn reach(self, p: &Policy) -> u32 {
        match self {
            AlertKind::Surge => p.surge_window_days + p.surge_baseline_days,
            _ => self.window(p),
        }
    }
}

/// The id of the spell of `kind` on (`township`, `category`) keyed by `day`.
pub fn alert_id(
    kind: AlertKind,
    township: &UnitCode,
    category: Category,
    day: NaiveDate,
) -> uuid::Uuid {
    /// The namespace of alert ids (a UUID v4 drawn once for Xinfang).
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c1f_4a7e_93b2_4d0e_8f51_2a9c_7e3d_b604);
    let name = format!("{}/{township}/{}/{day}", kind.as_str(), category.as_str());
    uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// How many cases of one (township, category) were received on a day, and how many of them
/// were collective visits (集体访).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub cases: u32,
    pub collective: u32,
}

/// The cases of one (township, category) by the day received.
pub type Days = BTreeMap<NaiveDate, DayCount>;

/// The day `days` before `day` (the earliest date when there is none).
pub fn back(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_sub_days(Days_::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// Day counts as running sums, so a window's count is two lookups whatever its length (the
/// rules judge up to 97 days around a case, each over a window of up to 97 days).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    start: NaiveDate,
    /// `cases[i]`: the cases of the days before `start + i`.
    cases: Vec<u64>,
    collective: Vec<u64>,
}

impl Series {
    /// The running sums of `days`, from its first day to its last.
    pub fn of(days: &Days) -> Series {
        let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
            return Series::default();
        };
        let len = usize::try_from((*last - *first).num_days()).unwrap_or(0) + 1;
        let (mut cases, mut collective) = (vec![0u64; len + 1], vec![0u64; len + 1]);
        let mut at = 0;
        for i in 0..len {
            let day = first
                .checked_add_days(Days_::new(i as u64))
                .unwrap_or(*last);
            let c = days.get(&day).copied().unwrap_or_default();
            at += 1;
            cases[at] = cases[at - 1] + u64::from(c.cases);
            collective[at] = collective[at - 1] + u64::from(c.collective);
        }
        Series {
            start: *first,
            cases,
            collective,
        }
    }

    /// The running sums of the consecutive days from `start`: `counts[i]` those of `start + i`
    /// (what [`Series::of`] makes of the same days, without a map).
    pub fn dense(start: NaiveDate, counts: &[DayCount]) -> Series {
        let (mut cases, mut collective) =
            (vec![0u64; counts.len() + 1], vec![0u64; counts.len() + 1]);
        for (i, c) in counts.iter().enumerate() {
            cases[i + 1] = cases[i] + u64::from(c.cases);
            collective[i + 1] = collective[i] + u64::from(c.collective);
        }
        Series {
            start,
            cases,
            collective,
        }
    }

    /// This series with `cases` and `collective` added on `day` (a day outside it: unchanged;
    /// a count never below nothing).
    pub fn moved(mut self, day: NaiveDate, cases: i64, collective: i64) -> Series {
        let Ok(i) = usize::try_from((day - self.start).num_days()) else {
            return self;
        };
        if i + 1 >= self.cases.len() {
            return self;
        }
        let shift = |sums: &mut [u64], by: i64| {
            for s in &mut sums[i + 1..] {
                *s = s.saturating_add_signed(by);
            }
        };
        shift(&mut self.cases, cases);
        shift(&mut self.collective, collective);
        self
    }

    /// The cases (or collective visits) received from `from` to `to`.
    fn sum(&self, from: NaiveDate, to: NaiveDate, collective: bool) -> u64 {
        let sums = if collective {
            &self.collective
        } else {
            &self.cases
        };
        let Some(days) = sums.len().checked_sub(1).filter(|d| *d > 0) else {
            return 0;
        };
        let index = |d: NaiveDate| -> usize {
            let i = (d - self.start).num_days();
            usize::try_from(i.clamp(0, days as i64)).unwrap_or(0)
        };
        if from > to {
            return 0;
        }
        // [from, to] as the half-open [index(from), index(to + 1)).
        let end = to.succ_opt().map_or(days, index);
        let begin = index(from);
        sums[end.max(begin)] - sums[begin]
    }
}

/// The first day of the window of `kind` that ends on `day`.
pub fn window_start(kind: AlertKind, p: &Policy, day: NaiveDate) -> NaiveDate {
    back(day, kind.window(p).saturating_sub(1))
}

/// Whether `surge` or `collective_repeat` holds on `day`, given the day counts of one (township,
/// category) (at least those of the [`AlertKind::reach`] days up to `day`). `repeat_petitioner`
/// is judged per petitioner ([`petitioner_holds`]).
pub fn holds(kind: AlertKind, p: &Policy, days: &Series, day: NaiveDate) -> bool {
    let start = window_start(kind, p, day);
    match kind {
        AlertKind::Surge => {
            let n = days.sum(start, day, false) as f64;
            n >= f64::from(p.surge_min) && n > p.surge_factor * baseline(p, days, day)
        }
        AlertKind::CollectiveRepeat => days.sum(start, day, true) >= 2,
        AlertKind::RepeatPetitioner => false,
    }
}

/// What [`holds`] says of each day from `from` to `to`, in one pass over the running sums (the
/// days as offsets, no date arithmetic per day): how a case's 97 days are judged.
pub fn holds_over(
    kind: AlertKind,
    p: &Policy,
    days: &Series,
    (from, to): (NaiveDate, NaiveDate),
) -> Vec<bool> {
    let len = usize::try_from((to - from).num_days() + 1).unwrap_or(0);
    let last = i64::try_from(days.cases.len()).unwrap_or(0) - 1;
    if last <= 0 || kind == AlertKind::RepeatPetitioner {
        return vec![false; len];
    }
    let at = |i: i64| usize::try_from(i.clamp(0, last)).unwrap_or(0);
    // The cases (or collective visits) of the days `a..=b`, as offsets from the series' start.
    let sum = |sums: &[u64], a: i64, b: i64| -> u64 {
        if a > b {
            return 0;
        }
        let (begin, end) = (at(a), at(b + 1));
        sums[end.max(begin)] - sums[begin]
    };
    let w = i64::from(kind.window(p).saturating_sub(1));
    let base = i64::from(p.surge_baseline_days);
    let first = (from - days.start).num_days();
    (first..first + len as i64)
        .map(|r| match kind {
            AlertKind::Surge => {
                let n = sum(&days.cases, r - w, r) as f64;
                let b = sum(&days.cases, r - w - base, r - w - 1) as f64;
                let baseline =
                    b * f64::from(p.surge_window_days) / f64::from(p.surge_baseline_days);
                n >= f64::from(p.surge_min) && n > p.surge_factor * baseline
            }
            AlertKind::CollectiveRepeat => sum(&days.collective, r - w, r) >= 2,
            AlertKind::RepeatPetitioner => false,
        })
        .collect()
}

/// Whether `kind` may hold on `day` judged on its window alone (no baseline): what [`holds`]
/// requires first, from the days of the window up to `day` only, so a series of those days
/// tells the many days on which nothing can hold without reading the baseline's 90.
pub fn may_hold(kind: AlertKind, p: &Policy, days: &Series, day: NaiveDate) -> bool {
    let start = window_start(kind, p, day);
    match kind {
        AlertKind::Surge => days.sum(start, day, false) >= u64::from(p.surge_min),
        AlertKind::CollectiveRepeat => holds(kind, p, days, day),
        AlertKind::RepeatPetitioner => false,
    }
}

/// The surge's baseline on `day`: B × w / b, the cases a window of its length usually has (B the
/// cases of the `surge_baseline_days` before the window).
pub fn baseline(p: &Policy, days: &Series, day: NaiveDate) -> f64 {
    let start = window_start(AlertKind::Surge, p, day);
    let b = days.sum(back(start, p.surge_baseline_days), back(start, 1), false) as f64;
    b * f64::from(p.surge_window_days) / f64::from(p.surge_baseline_days)
}

/// Whether one petitioner, with cases of one (township, category) on `dates` (a date once per
/// case), has at least `repeat_alert_cases` of them in the 90 days ending on `day`.
pub fn petitioner_holds(p: &Policy, dates: &[NaiveDate], day: NaiveDate) -> bool {
    let start = window_start(AlertKind::RepeatPetitioner, p, day);
    let n = dates.iter().filter(|d| **d >= start && **d <= day).count();
    u32::try_from(n).unwrap_or(u32::MAX) >= p.repeat_alert_cases
}

/// A run of days on which a condition held, keyed by the day of its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub key: NaiveDate,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// The runs of days from `from` to `to` on which `holding` is true, each keyed by its first day.
pub fn runs(holding: impl Fn(NaiveDate) -> bool, (from, to): (NaiveDate, NaiveDate)) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut day = from;
    while day <= to {
        if holding(day) {
            match out.last_mut() {
                Some(run) if run.last.succ_opt() == Some(day) => run.last = day,
                _ => out.push(Run {
                    key: day,
                    first: day,
                    last: day,
                }),
            }
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    out
}

/// The runs of `fresh` keyed as the runs they grew from (`known`): a run that overlaps or
/// touches known runs keeps the earliest of their keys, so a spell keeps its id however it
/// grows; a run that overlaps none is keyed by its first day.
pub fn rekey(known: &[Run], fresh: Vec<Run>) -> Vec<Run> {
    fresh
        .into_iter()
        .map(|run| {
            let touches = |k: &&Run| {
                k.first <= run.last.succ_opt().unwrap_or(run.last)
                    && run.first <= k.last.succ_opt().unwrap_or(k.last)
            };
            let key = known
                .iter()
                .filter(touches)
                .map(|k| k.key)
                .min()
                .unwrap_or(run.first);
            Run { key, ..run }
        })
        .collect()
}

/// The days whose cases a spell of `kind` from `first` to `last` names: those of the windows of
/// its days (for `repeat_petitioner`, of the petitioners for whom it held).
pub fn named_days(kind: AlertKind, p: &Policy, run: &Run) -> (NaiveDate, NaiveDate) {
    (window_start(kind, p, run.first), run.last)
}
