//! Every key the read models write, by model. A one-letter prefix says what a key holds only
//! within its model (`e/` is an export row of the stats model and a chunk of a case's trail in
//! the audit model; `o/` is an open case by due time in stats and by petitioner in cases), so
//! each model's keys are named in its module here and spelt nowhere else (a tidy test): code
//! asks for `keys::cases::row(id)`, never for `"r/…"`. The layout is the stores' on disk:
//! changing a key here is a layout change of its model (`Projection::version`).

use domain::CaseId;

/// The upper end of a range of keys that start with a given prefix.
const END: char = '\u{10FFFF}';

/// Keys every model writes beside its own.
pub mod shared {
    use super::CaseId;

    /// `c/<case>`: the case's state folded from its events (`fold_case`; the cases model's
    /// queue counters share the prefix, `c/<scope>/<day>`, and never a case id's form).
    pub fn case(id: CaseId) -> String {
        format!("c/{id}")
    }

    /// The events the model did not take as facts, by sequence.
    pub const REJECTED: &str = "~rejected/";

    pub fn rejected(seq: u64) -> String {
        format!("{REJECTED}{seq:020}")
    }
}

/// The cases model (`projections::cases`): rows, listing indexes, queues, petitioners.
pub mod cases {
    use super::CaseId;

    /// `r/<case>`: the case's row.
    pub fn row(id: CaseId) -> String {
        format!("r/{id}")
    }

    /// Corrections that changed whom a case's petitioners are, by log sequence.
    pub const MOVED: &str = "p/";

    /// `p/<seq>`: a correction at `seq`.
    pub fn moved(seq: u64) -> String {
        format!("{MOVED}{seq:020}")
    }

    /// `x/<index>/<value>/<order>`: a listing index entry, newest first within a value.
    pub fn entry(index: &str, value: &str, order: &str) -> String {
        format!("x/{index}/{value}/{order}")
    }

    /// Every entry of one value of an index.
    pub fn entries(index: &str, value: &str) -> String {
        format!("x/{index}/{value}/")
    }

    /// `d/<scope>/<due order>`: an open case in a queue, soonest deadline first.
    pub fn queued(scope: &str, due_order: &str) -> String {
        format!("d/{scope}/{due_order}")
    }

    /// Every case of one queue.
    pub fn queue(scope: &str) -> String {
        format!("d/{scope}/")
    }

    /// `c/<scope>/<day>`: how many open cases of a queue fall due on a day.
    pub fn counter(scope: &str, day: &str) -> String {
        format!("c/{scope}/{day}")
    }

    /// Every counter of one queue.
    pub fn counters(scope: &str) -> String {
        format!("c/{scope}/")
    }

    /// `o/<link key>/<case>`: an open case filed under one of its petitioners.
    pub fn open(link_key: &str, case: CaseId) -> String {
        format!("o/{link_key}/{case}")
    }

    /// The open cases filed under a link key.
    pub fn opens(link_key: &str) -> String {
        format!("o/{link_key}/")
    }

    /// `k/<link key>/<case>`: every case filed under one of its petitioners.
    pub fn filed(link_key: &str, case: CaseId) -> String {
        format!("k/{link_key}/{case}")
    }

    /// The cases filed under a link key.
    pub fn filings(link_key: &str) -> String {
        format!("k/{link_key}/")
    }

    /// `n/<case number>`: the case a number names.
    pub fn case_no(case_no: &str) -> String {
        format!("n/{case_no}")
    }
}

/// The alerts of the cases model (`projections::cases::alerts`, 苗头预警): the cases each
/// (township, category) counts by day, its petitioners' cases, the spells and their ids. A day is
/// `YYYY-MM-DD` (it sorts as a date), a petitioner a keyed hash in hex.
pub mod alerts;

/// The stats model (`projections::stats`): buckets of counts, overdue deltas, adjustments,
/// the export.
pub mod stats {
    use chrono::NaiveDate;

    use super::{CaseId, END};

    const BUCKET: &str = "b/";
    const DELTA: &str = "v/";

    /// `b/<received date>/<dims…>`: the counts of one bucket (`stats::DIMS`).
    pub fn bucket(dims: &[&str]) -> String {
        format!("{BUCKET}{}", dims.join("/"))
    }

    /// A bucket key's dimensions.
    pub fn bucket_dims(key: &str) -> Option<std::str::Split<'_, char>> {
        Some(key.strip_prefix(BUCKET)?.split('/'))
    }

    /// The buckets of the cases received from `from` to `to`.
    pub fn buckets(from: NaiveDate, to: NaiveDate) -> (String, String) {
        (format!("{BUCKET}{from}"), format!("{BUCKET}{to}/{END}"))
    }

    /// `v/<bucket's dims>/<day>`: how a bucket's open cases past their deadline changed on a day
    /// (sorted by received date like the buckets).
    pub fn delta(bucket: &str, day: NaiveDate) -> String {
        format!("{DELTA}{}/{day}", bucket.trim_start_matches(BUCKET))
    }

    /// A delta key's bucket and day.
    pub fn parse_delta(key: &str) -> Option<(String, NaiveDate)> {
        let (bucket, day) = key.strip_prefix(DELTA)?.rsplit_once('/')?;
        Some((format!("{BUCKET}{bucket}"), day.parse().ok()?))
    }

    /// The deltas of the buckets received from `from` to `to`.
    pub fn deltas(from: NaiveDate, to: NaiveDate) -> (String, String) {
        (format!("{DELTA}{from}"), format!("{DELTA}{to}/{END}"))
    }

    const BACKLOG: &str = "w/";

    /// `w/<bucket's dims>/<day>`: how a bucket's backlog cases changed on a day: `[open,
    /// resolved]` (积案).
    pub fn backlog(bucket: &str, day: NaiveDate) -> String {
        format!("{BACKLOG}{}/{day}", bucket.trim_start_matches(BUCKET))
    }

    /// A backlog key's bucket and day.
    pub fn parse_backlog(key: &str) -> Option<(String, NaiveDate)> {
        let (bucket, day) = key.strip_prefix(BACKLOG)?.rsplit_once('/')?;
        Some((format!("{BUCKET}{bucket}"), day.parse().ok()?))
    }

    /// The backlog deltas of every bucket received by `to`.
    pub fn backlogs(to: NaiveDate) -> (String, String) {
        (BACKLOG.to_owned(), format!("{BACKLOG}{to}/{END}"))
    }

    /// Open cases with a deadline, by due time.
    pub const OPEN: &str = "o/";

    /// `o/<due time>/<case>`.
    pub fn open(due: &str, case: CaseId) -> String {
        format!("{OPEN}{due}/{case}")
    }

    /// The open cases due before `due`.
    pub fn open_until(due: &str) -> String {
        format!("{OPEN}{due}")
    }

    /// Open cases whose acknowledgement (签收) is pending, by its limit.
    pub const PENDING: &str = "k/";

    /// `k/<limit>/<case>`.
    pub fn pending(due: &str, case: CaseId) -> String {
        format!("{PENDING}{due}/{case}")
    }

    /// The pending acknowledgements due before `due`.
    pub fn pending_until(due: &str) -> String {
        format!("{PENDING}{due}")
    }

    /// `t/<case>`: when the case was overdue.
    pub fn timeline(case: CaseId) -> String {
        format!("t/{case}")
    }

    /// Adjustments (核减) by id.
    pub const ADJUSTMENTS: &str = "j/";

    /// `j/<adjustment>`.
    pub fn adjustment(id: uuid::Uuid) -> String {
        format!("{ADJUSTMENTS}{id}")
    }

    /// Export rows by received date.
    pub const EXPORT: &str = "e/";

    /// `e/<received date>/<case>`.
    pub fn export(received: NaiveDate, case: CaseId) -> String {
        format!("{EXPORT}{received}/{case}")
    }

    /// The export rows of the cases received from `from` to `to`.
    pub fn exports(from: NaiveDate, to: NaiveDate) -> (String, String) {
        (format!("{EXPORT}{from}"), format!("{EXPORT}{to}/{END}"))
    }
}

/// The feed's store (`projections::feed::Units`).
pub mod feed {
    use super::CaseId;

    /// `u/<case_id>`: where the case's events go (`feed::Route`).
    pub fn route(id: CaseId) -> String {
        format!("u/{id}")
    }
}

/// The notices' store (`projections::notify`).
pub mod notify {
    use super::CaseId;

    /// `n/<case_id>`: what the case's notices need (`notify::Recipients`).
    pub fn case(id: CaseId) -> String {
        format!("n/{id}")
    }
}

/// The audit model (`projections::audit`): trails by case and actor, the Merkle tree.
pub mod audit {
    use super::CaseId;

    /// `e/<case>/<chunk>`: the chunk of a case's trail holding its versions.
    pub fn chunk(case: CaseId, chunk: u64) -> String {
        format!("e/{case}/{chunk:010}")
    }

    /// Every chunk of a case's trail.
    pub fn chunks(case: CaseId) -> String {
        format!("e/{case}/")
    }

    /// `a/<actor in hex>/`: an actor's events by the day recorded (principal ids are free text;
    /// hex keeps one id's keys from being a prefix of another's).
    pub fn recorded_by(actor: &str) -> String {
        format!("a/{}/", hex::encode(actor))
    }

    /// `b/<actor in hex>/`: an actor's events by the day they occurred.
    pub fn occurred_by(actor: &str) -> String {
        format!("b/{}/", hex::encode(actor))
    }

    /// `q/<case>/<seq>`: an event of the case the model did not take as a fact.
    pub fn refused(case: CaseId, seq: u64) -> String {
        format!("q/{case}/{seq:020}")
    }

    /// Every refused event of a case.
    pub fn refused_of(case: CaseId) -> String {
        format!("q/{case}/")
    }

    /// `m/<case>`: the cases merged into a case.
    pub fn merged_into(case: CaseId) -> String {
        format!("m/{case}")
    }

    /// `l/<chunk>`: a chunk of the tree's leaves.
    pub fn leaves(chunk: u64) -> String {
        format!("l/{chunk:012}")
    }

    /// `t/<level>/<index>`: a node of the tree.
    pub fn node(level: u32, index: u64) -> String {
        format!("t/{level:02}/{index:012}")
    }

    /// `t/size`: the tree's size and last sequence.
    pub const TREE_SIZE: &str = "t/size";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys as the stores on disk have them (a change here is a layout change).
    #[test]
    fn keys_keep_their_layout() {
        let id = CaseId(uuid::Uuid::from_u128(1));
        let case = "00000000-0000-0000-0000-000000000001";
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
        let pairs = [
            (shared::case(id), format!("c/{case}")),
            (shared::rejected(7), "~rejected/00000000000000000007".into()),
            (cases::row(id), format!("r/{case}")),
            (cases::moved(7), "p/00000000000000000007".into()),
            (cases::entry("s", "open", "ab"), "x/s/open/ab".into()),
            (cases::queued("u/g", "ff"), "d/u/g/ff".into()),
            (
                cases::counter("u/g", "2026-03-01"),
                "c/u/g/2026-03-01".into(),
            ),
            (cases::open("k1", id), format!("o/k1/{case}")),
            (cases::filed("k1", id), format!("k/k1/{case}")),
            (cases::case_no("G-1"), "n/G-1".into()),
            (
                stats::bucket(&["2026-03-01", "g", "visit"]),
                "b/2026-03-01/g/visit".into(),
            ),
            (
                stats::delta("b/2026-03-01/g", day),
                "v/2026-03-01/g/2026-03-01".into(),
            ),
            (stats::open("0001", id), format!("o/0001/{case}")),
            (stats::timeline(id), format!("t/{case}")),
            (stats::adjustment(id.0), format!("j/{case}")),
            (stats::export(day, id), format!("e/2026-03-01/{case}")),
            (feed::route(id), format!("u/{case}")),
            (audit::chunk(id, 2), format!("e/{case}/0000000002")),
            (audit::recorded_by("p1"), "a/7031/".into()),
            (audit::occurred_by("p1"), "b/7031/".into()),
            (
                audit::refused(id, 7),
                format!("q/{case}/00000000000000000007"),
            ),
            (audit::merged_into(id), format!("m/{case}")),
            (audit::leaves(3), "l/000000000003".into()),
            (audit::node(8, 3), "t/08/000000000003".into()),
        ];
        for (built, expected) in pairs {
            assert_eq!(built, expected);
        }
        assert_eq!(
            stats::parse_delta("v/2026-03-01/g/2026-03-02"),
            Some(("b/2026-03-01/g".into(), day.succ_opt().expect("day")))
        );
    }
}
