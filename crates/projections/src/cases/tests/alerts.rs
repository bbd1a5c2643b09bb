//! 苗头预警 in the cases model (issue 35): spells kept as cases come, merge and move, the same
//! whatever the batches, and read as of the answer's clock.

use domain::alerts::AlertKind;
use domain::command::*;
use domain::{Category, Channel};
use queries::alerts::AlertsQuery;

use super::{clock, model, petition};
use crate::cases::alerts;
use crate::testing::{build, ts, Log};
use crate::Store;

fn surges(store: &Store, now: &str) -> Vec<(String, u32)> {
    let q = AlertsQuery {
        from: "2026-03-01".parse().expect("date"),
        to: "2026-03-31".parse().expect("date"),
        kind: Some(AlertKind::Surge),
        township: None,
        reader: None,
    };
    alerts(store, &q, clock(now))
        .expect("alerts")
        .items
        .iter()
        .map(|a| (format!("{}/{}", a.township, a.category.as_str()), a.count))
        .collect()
}

/// Five cases of a township on a day surge; merging one into another case takes it out (4: no
/// surge); a correction of another's category moves it away; the same for any batches; before
/// the day of the cases, an answer shows nothing.
#[test]
fn a_surge_follows_merges_and_corrections() {
    let mut log = Log::new();
    let t = "2026-03-10T09:00:00+08:00";
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut cmd = petition("gaoqiao", t, None, Category::Wages);
        if let Command::Register(r) = &mut cmd {
            r.petitioners[0].name = format!("甲{n}");
            r.petitioners[0].phone = Some(format!("1390000000{n}"));
            r.channel = Channel::Letter;
        }
        ids.push(log.run(None, cmd, t));
    }
    let now = "2026-03-20T10:00:00+08:00";
    let (_d, store) = build(&model(), &log.events, 2);
    assert_eq!(surges(&store, now), [("gaoqiao/wages".to_owned(), 5)]);
    assert!(surges(&store, "2026-03-09T10:00:00+08:00").is_empty());
    let at = "2026-03-11T09:00:00+08:00";
    log.run(
        Some(ids[4]),
        Command::Merge(MergeCase {
            late_reason: None,
            into: ids[0],
            reason: "一信多投".into(),
            occurred_at: Some(ts(at)),
        }),
        at,
    );
    for batch in [1, 3, 1000] {
        let (_d, store) = build(&model(), &log.events, batch);
        assert!(surges(&store, now).is_empty(), "batch {batch}");
    }
    // A sixth case, then one moved to another category: four again.
    log.run(None, petition("gaoqiao", t, None, Category::Wages), t);
    let (_d, store) = build(&model(), &log.events, 4);
    assert_eq!(surges(&store, now), [("gaoqiao/wages".to_owned(), 5)]);
    log.run(
        Some(ids[3]),
        Command::Correct(CorrectRegistration {
            late_reason: None,
            reason: "类别登记有误".into(),
            changes: RegistrationFacts {
                category: Some(Category::Land),
                ..Default::default()
            },
            occurred_at: Some(ts(at)),
        }),
        at,
    );
    for batch in [1, 1000] {
        let (_d, store) = build(&model(), &log.events, batch);
        assert!(surges(&store, now).is_empty(), "batch {batch}");
    }
}

/// The spells of every kind are the days their rules hold on the model's own counts, however
/// the cases came: out of order (补录), merged, moved to another category, day or petitioner,
/// in any batches. (The model judges only the days an event may change, and skips the spells
/// where none holds otherwise: this holds it to the whole answer.)
#[test]
fn spells_are_the_days_the_rules_hold_whatever_the_order() {
    use chrono::NaiveDate;
    use domain::alerts::{holds, petitioner_holds, runs, Run, Series};
    use std::collections::{BTreeMap, BTreeSet};

    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let start: NaiveDate = "2026-01-01".parse().expect("date");
    let at = |day: u64| format!("{}T10:00:00+08:00", start + chrono::Days::new(day));
    let now = "2026-08-01T10:00:00+08:00";
    let mut log = Log::new();
    let mut ids = Vec::new();
    for _ in 0..160 {
        // Days bunched in three busy fortnights and scattered otherwise.
        let day = match next(4) {
            0 => 30 + next(14),
            1 => 100 + next(14),
            _ => next(200),
        };
        let township = ["gaoqiao", "dongcheng"][next(2) as usize];
        let category = [Category::Land, Category::Wages][next(2) as usize];
        let mut cmd = petition(township, &at(day), None, category);
        if let Command::Register(r) = &mut cmd {
            let who = next(12);
            r.petitioners[0].name = format!("乙{who}");
            r.petitioners[0].phone = Some(format!("1370000{who:04}"));
            r.petitioners[0].id_number = (who % 3 == 0).then(|| format!("33010219900101{who:04}"));
            r.headcount = if next(4) == 0 { 6 } else { 1 };
            r.channel = if next(2) == 0 {
                Channel::Visit
            } else {
                Channel::Letter
            };
            r.late_reason = Some("补录".into());
        }
        ids.push(log.run(None, cmd, now));
    }
    for n in 0..16 {
        let id = ids[next(ids.len() as u64) as usize];
        if log.case(id).status == domain::Status::Merged {
            continue;
        }
        let cmd = if n % 3 == 0 {
            let into = ids[next(ids.len() as u64) as usize];
            if into == id || log.case(into).status == domain::Status::Merged {
                continue;
            }
            Command::Merge(MergeCase {
                late_reason: None,
                into,
                reason: "同一事项".into(),
                occurred_at: None,
            })
        } else {
            let case = log.case(id);
            let mut changes = RegistrationFacts::default();
            match n % 6 {
                1 | 4 => {
                    let mut other = [Category::Land, Category::Wages].into_iter();
                    changes.category = other.find(|c| *c != case.category);
                }
                2 => changes.headcount = Some(if case.headcount > 1 { 1 } else { 7 }),
                5 => {
                    let who = 12 + n;
                    changes.petitioners = Some(vec![Petitioner {
                        name: format!("乙{who}"),
                        id_number: None,
                        phone: Some(format!("1370000{who:04}")),
                        address: None,
                    }]);
                }
                _ => changes.received_at = Some(ts(&at(next(200)))),
            }
            Command::Correct(CorrectRegistration {
                late_reason: None,
                reason: "登记有误".into(),
                changes,
                occurred_at: None,
            })
        };
        log.run(Some(id), cmd, now);
    }
    let p = domain::Policy::default();
    let (first, last) = (start, start + chrono::Days::new(400));
    let stored =
        |store: &Store, kind: AlertKind, t: &str, c: &str| -> BTreeSet<(NaiveDate, NaiveDate)> {
            store
                .scan::<Run>(&format!("al/r/{}/{t}/{c}/", kind.as_str()))
                .expect("spells")
                .into_iter()
                .map(|(_, r)| (r.first, r.last))
                .collect()
        };
    let days_of = |holding: &dyn Fn(NaiveDate) -> bool| -> BTreeSet<(NaiveDate, NaiveDate)> {
        runs(holding, (first, last))
            .into_iter()
            .map(|r| (r.first, r.last))
            .collect()
    };
    let mut spells = 0;
    // Everything the alerts keep, spells' keys (their ids) among it, as of each batch size.
    let mut kept: Vec<Vec<crate::store::frozen::Change>> = Vec::new();
    let (mut recorded, mut light) = ([0; 3], [0; 3]);
    for (b, batch) in [1, 7, 1000].into_iter().enumerate() {
        let (_d, store) = build(&model(), &log.events, batch);
        let alerts = store
            .everything()
            .filter(|e| e.as_ref().map_or(true, |(k, _)| k.starts_with(b"al/")));
        kept.push(
            alerts
                .collect::<Result<_, _>>()
                .expect("the alerts' records"),
        );
        for t in ["gaoqiao", "dongcheng"] {
            for c in [Category::Land, Category::Wages] {
                let c = c.as_str();
                let counts =
                    alerts::day_counts(&store, (t, c), (first, last), false).expect("days");
                let series = Series::of(&counts);
                for kind in [AlertKind::Surge, AlertKind::CollectiveRepeat] {
                    let want = days_of(&|d| holds(kind, &p, &series, d));
                    assert_eq!(
                        stored(&store, kind, t, c),
                        want,
                        "{kind:?} {t}/{c} batch {batch}"
                    );
                    spells += want.len();
                }
                // Each petitioner's days, from the rows: every case of the matter not merged,
                // once under each keyed hash of each of its petitioners.
                let mut persons: BTreeMap<domain::identity::Digest, Vec<NaiveDate>> =
                    BTreeMap::new();
                for (_, row) in store.scan::<crate::cases::Row>("r/").expect("rows") {
                    let r = &row.case;
                    if r.status == domain::Status::Merged
                        || (r.township.as_str(), r.category.as_str()) != (t, c)
                    {
                        continue;
                    }
                    let mut hashes: Vec<domain::identity::Digest> = row
                        .persons
                        .iter()
                        .flat_map(|x| [x.id, x.name_phone])
                        .flatten()
                        .collect();
                    hashes.sort_unstable();
                    hashes.dedup();
                    for h in hashes {
                        persons
                            .entry(h)
                            .or_default()
                            .push(p.local_date(r.received_at));
                    }
                }
                // A petitioner's record of the matter, where kept, is the rows' days.
                for (h, dates) in &mut persons {
                    let key = crate::keys::alerts::filings(t, c, &alerts::person_key(h));
                    match store.get::<alerts::Filings>(&key).expect("a record") {
                        Some(record) => {
                            dates.sort_unstable();
                            let days: Vec<NaiveDate> = record.iter().map(|(d, _)| *d).collect();
                            assert_eq!(&days, dates, "{key} batch {batch}");
                            recorded[b] += 1;
                        }
                        None => light[b] += 1,
                    }
                }
                let want =
                    days_of(&|d| persons.values().any(|dates| petitioner_holds(&p, dates, d)));
                let kind = AlertKind::RepeatPetitioner;
                assert_eq!(
                    stored(&store, kind, t, c),
                    want,
                    "{kind:?} {t}/{c} batch {batch}"
                );
                spells += want.len();
            }
        }
    }
    // The log holds spells of every kind to check (not a vacuous equality of nothing).
    assert!(spells >= 3 * 6, "{spells} spells");
    // Petitioners were judged both ways: some with more than `MANY` filings, on their record
    // of a matter, the rest on their filings alone.
    assert!(
        recorded.iter().all(|n| *n > 0) && light.iter().all(|n| *n > 0),
        "records {recorded:?}, judged on filings {light:?}"
    );
    // The same records, ids and all, whatever the batches (a spell grown backwards by a late
    // entry keeps the id it had, in one batch as in many).
    assert!(
        kept.windows(2).all(|w| w[0] == w[1]),
        "the alerts depend on the batches"
    );
}
