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
