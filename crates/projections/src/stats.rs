//! Statistics (api-contract.md, `<Measures>`; domain.md, counting conventions), pre-aggregated.
//!
//! Every case belongs to one bucket
//! `b/<received date>/<township>/<channel>/<level>/<category>/<accused unit or ->`. Its
//! contribution is recomputed from its state after every event: the old contribution is
//! subtracted from the old bucket and the new one added to the new (a correction may move a case
//! to another bucket), so a query sums buckets and never scans cases. The accused unit is a
//! dimension so that its own readers never see the accusation in a figure. `open_overdue` depends on the clock, so open cases with
//! a deadline are indexed under `o/<due time>/<case_id>` and the query reads the index up to now.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use domain::{Case, CaseId, Policy, Satisfaction, Status, Timestamp};
use eventlog::Stored;

use queries::stats::{Change, Counts, GroupBy, Measures, Period, Report, Row, StatsQuery as Query};

use crate::{fold_case, Projection, ProjectionError, Store, StoreError, Tx};

pub struct Stats {
    pub policy: Policy,
}

/// What one case counts (domain.md): one item and one batch per registration; a visit counts its
/// headcount as persons, every other channel one person. A merged case counts only as merged: its
/// matter is the case it was merged into (domain.md, 一信多投).
fn counts_of(case: &Case) -> Counts {
    if case.status == Status::Merged {
        return Counts {
            merged: 1,
            ..Counts::default()
        };
    }
    let persons = if case.channel.is_visit() {
        i64::from(case.headcount)
    } else {
        1
    };
    let closed = matches!(
        case.status,
        Status::Closed | Status::UnderReview | Status::UnderRereview | Status::Terminated
    );
    let answered = case
        .last_satisfaction()
        .filter(|s| *s != Satisfaction::Unreachable);
    Counts {
        items: 1,
        batches: 1,
        persons,
        collective_batches: i64::from(case.flags.collective),
        collective_persons: if case.flags.collective { persons } else { 0 },
        cross_level_batches: i64::from(case.flags.cross_level),
        repeat_batches: i64::from(case.flags.repeat),
        accepted: i64::from(case.accepted_at.is_some()),
        rejected: i64::from(case.status == Status::Rejected),
        replied: i64::from(case.replied_at.is_some()),
        closed: i64::from(closed),
        closed_on_time: i64::from(closed && case.reply_on_time == Some(true)),
        follow_ups: i64::from(answered.is_some()),
        satisfied: i64::from(matches!(
            answered,
            Some(Satisfaction::Satisfied | Satisfaction::BasicallySatisfied)
        )),
        merged: 0,
        bounced: i64::from(case.bounced),
        withdrawn: i64::from(case.status == Status::Withdrawn),
    }
}

/// Index entry of an open case with a deadline.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Open {
    bucket: String,
    #[serde(with = "domain::stamp")]
    due_at: Timestamp,
}

impl Stats {
    fn bucket(&self, case: &Case) -> String {
        format!(
            "b/{}/{}/{}/{}/{}/{}",
            self.policy.local_date(case.received_at),
            case.township,
            case.channel,
            case.level_reached,
            case.category,
            case.accused_unit.as_ref().map_or("-", |u| u.as_str())
        )
    }
}

/// `o/<due time>/<case>`: sorted by due time.
fn open_key(due: Timestamp, case: CaseId) -> String {
    format!("o/{}/{case}", due_prefix(due))
}

/// Nanoseconds since the epoch, fixed width, so keys sort by time (strftime was 5 % of a rebuild).
fn due_prefix(t: Timestamp) -> String {
    format!("{:020}", t.timestamp_nanos_opt().unwrap_or(i64::MAX).max(0))
}

impl Projection for Stats {
    fn name(&self) -> &'static str {
        "stats"
    }

    /// 2: the open-case index is keyed by due time.
    /// 3: the due time in the key is nanoseconds since the epoch.
    /// 4: cases stored with `leader_reception`.
    /// 5: cases with `first_petition` and `merged_into`; the `merged` count.
    /// 6: cases with transfers; the `bounced` count. 7: cases with supervision and leader.
    /// 8: buckets by accused unit; cases with reply, follow-up and corrections; `withdrawn`.
    /// 9: cases with attachments.
    fn version(&self) -> u32 {
        9
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        let (before, after) = fold_case(tx, event)?;
        let bucket = self.bucket(&after);
        let old_bucket = before.as_ref().map(|b| self.bucket(b));
        // A bucket no case counts in any more (a correction moved its only case) is removed, so
        // it gives no empty row.
        let put = |tx: &mut Tx<'_>, key: &str, counts: Counts| {
            if counts == Counts::default() {
                tx.remove(key.to_owned());
            } else {
                tx.put(key.to_owned(), counts);
            }
        };
        if let (Some(b), Some(key)) = (&before, &old_bucket) {
            let mut counts: Counts = tx.get(key)?.unwrap_or_default();
            counts.sub(&counts_of(b));
            put(tx, key, counts);
        }
        let mut counts: Counts = tx.get(&bucket)?.unwrap_or_default();
        counts.add(&counts_of(&after));
        put(tx, &bucket, counts);
        // The open-case index is ordered by due time, so the query reads only overdue cases. An
        // entry changes with the case's deadline or bucket.
        let open_due = |c: &Case| c.due_at().filter(|_| c.status.is_open());
        let old = before.as_ref().and_then(open_due);
        let new = open_due(&after);
        if old != new || old_bucket.as_ref() != Some(&bucket) {
            if let Some(due) = old {
                tx.remove(open_key(due, after.id));
            }
            if let Some(due_at) = new {
                tx.put(open_key(due_at, after.id), Open { bucket, due_at });
            }
        }
        Ok(())
    }
}

/// Parts of a bucket key: date, township, channel, level, category, accused unit.
fn parts(key: &str) -> Option<[&str; 6]> {
    let mut it = key.strip_prefix("b/")?.split('/');
    Some([
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ])
}

fn group_key(p: &[&str; 6], by: GroupBy) -> String {
    match by {
        GroupBy::Channel => p[2].to_owned(),
        GroupBy::Township => p[1].to_owned(),
        GroupBy::Level => p[3].to_owned(),
        GroupBy::Category => p[4].to_owned(),
        GroupBy::Month => p[0].get(..7).unwrap_or(p[0]).to_owned(),
    }
}

fn period(
    store: &Store,
    q: &Query,
    from: NaiveDate,
    to: NaiveDate,
    now: Timestamp,
) -> Result<Period, StoreError> {
    let mut total = Counts::default();
    let mut overdue_total = 0;
    let mut rows: BTreeMap<String, (Counts, i64)> = BTreeMap::new();
    let in_scope = |p: &[&str; 6]| {
        q.township.as_deref().is_none_or(|t| t == p[1])
            && q.hide_accused.as_deref().is_none_or(|u| u != p[5])
    };
    for (key, counts) in
        store.range::<Counts>(&format!("b/{from}"), &format!("b/{to}/\u{10FFFF}"))?
    {
        let Some(p) = parts(&key) else { continue };
        if !in_scope(&p) {
            continue;
        }
        total.add(&counts);
        if let Some(by) = q.group_by {
            rows.entry(group_key(&p, by)).or_default().0.add(&counts);
        }
    }
    let (lo, hi) = (from.to_string(), to.to_string());
    // Only cases due before now can be overdue: read the index up to now.
    for (_, open) in store.range::<Open>("o/", &format!("o/{}", due_prefix(now)))? {
        let Some(p) = parts(&open.bucket) else {
            continue;
        };
        if p[0] < lo.as_str() || p[0] > hi.as_str() || !in_scope(&p) || now <= open.due_at {
            continue;
        }
        overdue_total += 1;
        if let Some(by) = q.group_by {
            rows.entry(group_key(&p, by)).or_default().1 += 1;
        }
    }
    Ok(Period {
        from,
        to,
        total: Measures::new(total, overdue_total),
        rows: rows
            .into_iter()
            .map(|(key, (c, o))| Row {
                key,
                measures: Measures::new(c, o),
            })
            .collect(),
    })
}

fn year_earlier(d: NaiveDate) -> NaiveDate {
    d.with_year(d.year() - 1)
        .or_else(|| NaiveDate::from_ymd_opt(d.year() - 1, d.month(), 28))
        .unwrap_or(d)
}

fn relative(cur: i64, prev: i64) -> Option<f64> {
    (prev != 0).then(|| (cur - prev) as f64 / prev as f64)
}

pub fn query(store: &Store, q: &Query, now: Timestamp) -> Result<Report, StoreError> {
    let current = period(store, q, q.from, q.to, now)?;
    if !q.yoy {
        return Ok(Report {
            current,
            previous: None,
            change: None,
        });
    }
    let previous = period(store, q, year_earlier(q.from), year_earlier(q.to), now)?;
    let (c, p) = (&current.total.counts, &previous.total.counts);
    let change = Change {
        items: relative(c.items, p.items),
        batches: relative(c.batches, p.batches),
        persons: relative(c.persons, p.persons),
    };
    Ok(Report {
        current,
        previous: Some(previous),
        change: Some(change),
    })
}

#[cfg(test)]
mod tests {
    use domain::command::*;
    use domain::{Channel, Outcome, Satisfaction};

    use super::*;
    use crate::testing::{build, register, ts, Log};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn stats() -> Stats {
        Stats {
            policy: Policy::default(),
        }
    }

    /// Accept, reply on `reply_at`, follow up with `satisfaction`, close.
    fn handle(log: &mut Log, case: CaseId, at: &str, reply_at: &str, satisfaction: Satisfaction) {
        log.run(
            Some(case),
            Command::Accept(AcceptCase {
                new_facts: None,
                occurred_at: Some(ts(at)),
            }),
            at,
        );
        for cmd in [
            Command::Reply(ReplyCase {
                outcome: Outcome::Supported,
                text: "已答复".into(),
                occurred_at: Some(ts(reply_at)),
            }),
            Command::FollowUp(RecordFollowUp {
                satisfaction,
                note: None,
                occurred_at: Some(ts(reply_at)),
            }),
            Command::Close(CloseCase {
                note: None,
                occurred_at: Some(ts(reply_at)),
            }),
        ] {
            log.run(Some(case), cmd, reply_at);
        }
    }

    fn query_of(from: &str, to: &str, group_by: Option<GroupBy>, yoy: bool) -> Query {
        Query {
            from: day(from),
            to: day(to),
            township: None,
            group_by,
            yoy,
            hide_accused: None,
        }
    }

    #[test]
    fn items_batches_persons_and_rates_with_their_arithmetic() {
        let mut log = Log::new();
        let t = "2026-03-02T09:30:00+08:00";
        // A collective visit of 6, a visit of 2, a letter (a letter is one person; how joint
        // letters count is the statistics issue's).
        let collective = log.run(None, register("gaoqiao", Channel::Visit, 6, t), t);
        let visit = log.run(None, register("gaoqiao", Channel::Visit, 2, t), t);
        log.run(None, register("dongcheng", Channel::Letter, 1, t), t);
        // Replied on time and satisfied; replied late (after 60 days) and unsatisfied.
        handle(
            &mut log,
            collective,
            t,
            "2026-03-20T10:00:00+08:00",
            Satisfaction::Satisfied,
        );
        handle(
            &mut log,
            visit,
            t,
            "2026-05-20T10:00:00+08:00",
            Satisfaction::Dissatisfied,
        );
        let (_dir, store) = build(&stats(), &log.events, 3);
        let now = ts("2026-06-01T10:00:00+08:00");
        let r = query(
            &store,
            &query_of("2026-03-01", "2026-03-31", Some(GroupBy::Township), false),
            now,
        )
        .expect("query");
        let c = &r.current.total.counts;
        assert_eq!((c.items, c.batches, c.persons), (3, 3, 9));
        assert_eq!((c.collective_batches, c.collective_persons), (1, 6));
        assert_eq!(
            (c.accepted, c.replied, c.closed, c.closed_on_time),
            (2, 2, 2, 1)
        );
        let m = &r.current.total;
        assert_eq!((m.closure_rate.num, m.closure_rate.den), (2, 3));
        assert_eq!((m.on_time_rate.num, m.on_time_rate.den), (1, 2));
        assert_eq!(m.on_time_rate.value, Some(0.5));
        assert_eq!((m.satisfaction_rate.num, m.satisfaction_rate.den), (1, 2));
        assert_eq!((m.collective_share.num, m.collective_share.den), (1, 3));
        // The letter's case is open past its acceptance deadline.
        assert_eq!(m.open_overdue, 1);
        let rows: Vec<(&str, i64, i64)> = r
            .current
            .rows
            .iter()
            .map(|row| {
                (
                    row.key.as_str(),
                    row.measures.counts.items,
                    row.measures.counts.persons,
                )
            })
            .collect();
        assert_eq!(rows, [("dongcheng", 1, 1), ("gaoqiao", 2, 8)]);
        // Outside the period: nothing.
        let empty = query(
            &store,
            &query_of("2026-04-01", "2026-04-30", None, false),
            now,
        )
        .expect("query");
        assert_eq!(empty.current.total.counts, Counts::default());
        assert_eq!(
            empty.current.total.closure_rate.value, None,
            "0 of 0 is no rate"
        );
    }

    #[test]
    fn a_case_counts_once_whatever_its_events_and_batches() {
        let mut log = Log::new();
        let t = "2026-03-02T09:30:00+08:00";
        let case = log.run(None, register("gaoqiao", Channel::Visit, 3, t), t);
        handle(
            &mut log,
            case,
            t,
            "2026-03-10T10:00:00+08:00",
            Satisfaction::Satisfied,
        );
        let q = query_of("2026-03-01", "2026-03-31", Some(GroupBy::Channel), false);
        let now = ts("2026-04-01T10:00:00+08:00");
        let whole = query(&build(&stats(), &log.events, 1000).1, &q, now).expect("query");
        let one_by_one = query(&build(&stats(), &log.events, 1).1, &q, now).expect("query");
        assert_eq!(whole.current.total, one_by_one.current.total);
        assert_eq!(whole.current.total.counts.items, 1);
        assert_eq!(whole.current.total.counts.persons, 3);
        assert_eq!(whole.current.rows.len(), 1);
        assert_eq!(whole.current.rows[0].key, "visit");
    }

    #[test]
    fn a_merged_case_counts_as_merged_and_its_matter_once() {
        let mut log = Log::new();
        let t = "2026-03-02T09:30:00+08:00";
        let primary = log.run(None, register("gaoqiao", Channel::Visit, 3, t), t);
        let other = log.run(None, register("dongcheng", Channel::Visit, 3, t), t);
        let q = query_of("2026-03-01", "2026-03-31", Some(GroupBy::Township), false);
        let now = ts("2026-03-03T10:00:00+08:00");
        let before = query(&build(&stats(), &log.events, 1000).1, &q, now).expect("query");
        assert_eq!(
            (
                before.current.total.counts.items,
                before.current.total.counts.persons
            ),
            (2, 6),
            "two registrations of one matter, before the merge"
        );
        let at = "2026-03-03T09:00:00+08:00";
        let merge = Command::Merge(MergeCase {
            into: primary,
            reason: "一信多投".into(),
            occurred_at: Some(ts(at)),
        });
        log.run(Some(other), merge, at);
        for batch in [1, 1000] {
            let r = query(&build(&stats(), &log.events, batch).1, &q, now).expect("query");
            let c = r.current.total.counts;
            assert_eq!((c.items, c.batches, c.persons, c.merged), (1, 1, 3, 1));
            let dongcheng = r
                .current
                .rows
                .iter()
                .find(|r| r.key == "dongcheng")
                .expect("row");
            assert_eq!(dongcheng.measures.counts.items, 0);
            assert_eq!(dongcheng.measures.counts.merged, 1);
            assert_eq!(r.current.total.open_overdue, 0);
        }
    }

    #[test]
    fn year_on_year_compares_the_same_days_a_year_earlier() {
        let mut log = Log::new();
        for at in ["2025-03-05T09:00:00+08:00", "2025-03-06T09:00:00+08:00"] {
            log.run(None, register("gaoqiao", Channel::Phone, 1, at), at);
        }
        let at = "2026-03-05T09:00:00+08:00";
        for _ in 0..3 {
            log.run(None, register("gaoqiao", Channel::Phone, 1, at), at);
        }
        let (_dir, store) = build(&stats(), &log.events, 1000);
        let r = query(
            &store,
            &query_of("2026-03-01", "2026-03-31", None, true),
            ts("2026-04-01T10:00:00+08:00"),
        )
        .expect("query");
        let previous = r.previous.expect("previous period");
        assert_eq!(previous.from, day("2025-03-01"));
        assert_eq!(previous.total.counts.items, 2);
        assert_eq!(r.current.total.counts.items, 3);
        assert_eq!(r.change.expect("change").items, Some(0.5));
    }
}
