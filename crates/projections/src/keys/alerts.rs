//! The keys of the alerts (苗头预警, `cases::alerts`) in the cases model; spelt here and in
//! `keys.rs` alone.

use chrono::{Datelike as _, NaiveDate};

use super::{CaseId, END};

fn tc(township: &str, category: &str) -> String {
    format!("{township}/{category}")
}

/// `al/c/<township>/<category>/<day>/<case>`: a case the alerts count.
pub fn case(township: &str, category: &str, day: NaiveDate, case: CaseId) -> String {
    format!("al/c/{}/{day}/{case}", tc(township, category))
}

/// The cases of a (township, category) received from `from` to `to`.
pub fn cases(township: &str, category: &str, from: NaiveDate, to: NaiveDate) -> (String, String) {
    let p = format!("al/c/{}/", tc(township, category));
    (format!("{p}{from}"), format!("{p}{to}/{END}"))
}

/// `al/k/<township>/<category>/<day>/<case>`: a collective visit the alerts count (its entry
/// without petitioners: `collective_repeat` reads these alone).
pub fn visit(township: &str, category: &str, day: NaiveDate, case: CaseId) -> String {
    format!("al/k/{}/{day}/{case}", tc(township, category))
}

/// The collective visits of a (township, category) received from `from` to `to`.
pub fn visits(township: &str, category: &str, from: NaiveDate, to: NaiveDate) -> (String, String) {
    let p = format!("al/k/{}/", tc(township, category));
    (format!("{p}{from}"), format!("{p}{to}/{END}"))
}

/// A case key's day (of `case` and `visit` keys).
pub fn case_day(key: &str) -> Option<NaiveDate> {
    key.rsplit('/').nth(1)?.parse().ok()
}

/// `al/n/<township>/<category>/<YYYY-MM>`: how many cases of each day of a month, and
/// collective visits (one record a month: a case's days around it are a few reads).
pub fn month(township: &str, category: &str, day: NaiveDate) -> String {
    format!(
        "al/n/{}/{:04}-{:02}",
        tc(township, category),
        day.year(),
        day.month()
    )
}

/// The month records of a (township, category) covering `from` to `to`.
pub fn months(township: &str, category: &str, from: NaiveDate, to: NaiveDate) -> (String, String) {
    (
        month(township, category, from),
        month(township, category, to),
    )
}

/// A month key's first day.
pub fn month_start(key: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", key.rsplit('/').next()?), "%Y-%m-%d").ok()
}

/// `al/p/<township>/<category>/<petitioner>`: a petitioner's cases of a matter, by day (one
/// record: read by each registration of theirs, most often just written by it).
pub fn filings(township: &str, category: &str, person: &str) -> String {
    format!("al/p/{}/{person}", tc(township, category))
}

/// `al/q/<township>/<category>/<petitioner>/<first day>`: a run of days on which a
/// petitioner had enough cases of the matter (`repeat_petitioner`).
pub fn person_run(township: &str, category: &str, person: &str, first: NaiveDate) -> String {
    format!("al/q/{}/{person}/{first}", tc(township, category))
}

/// The runs of one petitioner on a matter.
pub fn person_runs(township: &str, category: &str, person: &str) -> String {
    format!("al/q/{}/{person}/", tc(township, category))
}

/// The runs of every petitioner on a matter.
pub fn matter_person_runs(township: &str, category: &str) -> String {
    format!("al/q/{}/", tc(township, category))
}

/// `al/r/<kind>/<township>/<category>/<last day>/<key day>`: a spell of a matter, by the
/// last day it holds.
pub fn run(kind: &str, township: &str, category: &str, last: NaiveDate, key: NaiveDate) -> String {
    format!("al/r/{kind}/{}/{last}/{key}", tc(township, category))
}

/// The spells of `kind` on a matter that last to `since` or later.
pub fn runs_since(
    kind: &str,
    township: &str,
    category: &str,
    since: NaiveDate,
) -> (String, String) {
    let p = format!("al/r/{kind}/{}/", tc(township, category));
    (format!("{p}{since}"), format!("{p}{END}"))
}

/// `al/s/<last day>/<kind>/<township>/<category>/<key day>`: every spell by the last day it
/// holds (what a period's alerts read).
pub fn spell(
    last: NaiveDate,
    kind: &str,
    township: &str,
    category: &str,
    key: NaiveDate,
) -> String {
    format!("al/s/{last}/{kind}/{}/{key}", tc(township, category))
}

/// The spells that last to `since` or later.
pub fn spells_since(since: NaiveDate) -> (String, String) {
    (format!("al/s/{since}"), format!("al/s/{END}"))
}

/// A spell key's kind, township and category (as written).
pub fn spell_of(key: &str) -> Option<(&str, &str, &str)> {
    let mut parts = key.strip_prefix("al/s/")?.split('/').skip(1);
    Some((parts.next()?, parts.next()?, parts.next()?))
}

/// `al/i/<alert id>`: an alert ever raised (what its id names).
pub fn raised(id: uuid::Uuid) -> String {
    format!("al/i/{id}")
}

/// `al/v/<alert id>`: the latest review (研判) of an alert.
pub fn review(id: uuid::Uuid) -> String {
    format!("al/v/{id}")
}
