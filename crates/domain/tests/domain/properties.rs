//! Property tests: whatever commands arrive, in whatever order, from whoever, the accepted ones
//! replay to the same state, versions are gapless and exactly one known unit is accountable.

use crate::common::*;
use chrono::Duration;
use domain::*;
use proptest::prelude::*;

fn any_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(accept()),
        Just(reply()),
        Just(close()),
        Just(assign("land_bureau")),
        Just(assign("dongcheng")),
        Just(transfer("gaoqiao")),
        Just(transfer("land_bureau")),
        (0u32..40).prop_map(extend),
        Just(supervise(None)),
        Just(request_review()),
        Just(decide_review()),
        Just(request_rereview()),
        Just(decide_rereview()),
        Just(follow_up(Satisfaction::Satisfied)),
        Just(Command::Reject(command::RejectCase {
            late_reason: None,
            reason_code: RejectReason::Litigation,
            reason: "court".into(),
            occurred_at: None
        })),
    ]
}

fn any_actor() -> impl Strategy<Value = Principal> {
    prop_oneof![
        Just(county()),
        Just(principal("c-g", Role::Clerk, Some("gaoqiao"))),
        Just(principal("c-d", Role::Clerk, Some("dongcheng"))),
        Just(principal("h-l", Role::Handler, Some("land_bureau"))),
        Just(principal("a", Role::Auditor, None)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn accepted_commands_replay_to_the_same_state(
        steps in prop::collection::vec((any_command(), any_actor(), 0i64..20), 0..40)
    ) {
        let mut w = World::new();
        let mut now = ts("2026-01-05T09:00:00+08:00");
        w.run(&now.to_rfc3339(), Command::Register(register_cmd(&now.to_rfc3339())));
        let mut occurred = vec![now];
        for (cmd, who, days) in steps {
            now += Duration::days(days) + Duration::minutes(1);
            let before = w.case().version;
            match w.try_as(&who, &now.to_rfc3339(), cmd) {
                Ok(c) => {
                    prop_assert_eq!(c.version, before + 1, "versions are gapless");
                    occurred.push(now);
                }
                Err(_) => prop_assert_eq!(w.case().version, before, "refusals append nothing"),
            }
            let c = w.case();
            prop_assert!(c.units.contains(&c.unit), "the accountable unit is a unit that held the case");
            prop_assert!(w.units.get(&c.unit).is_some_and(|k| *k != UnitKind::County),
                "exactly one accountable unit, never the county itself");
            prop_assert_eq!(c.version as usize, w.events.len());
        }
        // Replay from scratch, also through JSON (the stored form).
        let mut replayed: Option<Case> = None;
        for (event, at) in w.events.iter().zip(&occurred) {
            let json = serde_json::to_string(event).expect("serialize");
            let back: Event = serde_json::from_str(&json).expect("deserialize");
            prop_assert_eq!(&back, event);
            replayed = Some(evolve(replayed, case_id(), &back, *at, Default::default()).expect("replay"));
        }
        prop_assert_eq!(replayed.as_ref(), w.case.as_ref());
    }
}

/// Any instant chrono can hold, with any offset it can hold.
fn any_instant() -> impl Strategy<Value = Timestamp> + Clone {
    use chrono::{FixedOffset, TimeZone};
    // A day inside chrono's range at both ends, so the offset cannot push the local time out.
    let (lo, hi) = (
        chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp() + 86_400,
        chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp() - 86_400,
    );
    prop_oneof![
        lo..hi,
        // Near the edges of the documented range, where off-by-one errors live.
        -100_000_000i64..8_000_000_000,
    ]
    .prop_flat_map(|secs| (Just(secs), -86_399i32..86_400))
    .prop_filter_map("representable", |(secs, off)| {
        FixedOffset::east_opt(off)?.timestamp_opt(secs, 0).single()
    })
}

fn any_date() -> impl Strategy<Value = chrono::NaiveDate> + Clone {
    prop_oneof![
        any::<i32>(),
        // 1960 .. 2210, around the documented bounds.
        715_000i32..807_000,
    ]
    .prop_filter_map("a date", chrono::NaiveDate::from_num_days_from_ce_opt)
}

fn extreme_command() -> impl Strategy<Value = Command> {
    let at = proptest::option::of(any_instant());
    let due = proptest::option::of(any_date());
    prop_oneof![
        at.clone()
            .prop_map(|occurred_at| Command::Accept(command::AcceptCase {
                late_reason: None,
                occurred_at,
                new_facts: None
            })),
        (due.clone(), at.clone()).prop_map(|(due_date, occurred_at)| {
            Command::Assign(command::AssignCase {
                late_reason: None,
                unit: unit("land_bureau"),
                due_date,
                note: None,
                occurred_at,
            })
        }),
        (due, at.clone()).prop_map(|(due_date, occurred_at)| {
            Command::Supervise(command::SuperviseCase {
                late_reason: None,
                note: "hurry".into(),
                due_date,
                occurred_at,
            })
        }),
        (any::<u32>(), at.clone()).prop_map(|(days, occurred_at)| {
            Command::Extend(command::ExtendDeadline {
                late_reason: None,
                days,
                reason: "survey".into(),
                approved_by: "director".into(),
                occurred_at,
            })
        }),
        at.clone()
            .prop_map(|occurred_at| Command::Reply(command::ReplyCase {
                late_reason: None,
                outcome: Outcome::Explained,
                text: "t".into(),
                occurred_at
            })),
        at.clone()
            .prop_map(|occurred_at| Command::Close(command::CloseCase {
                late_reason: None,
                note: None,
                occurred_at
            })),
        at.clone().prop_map(
            |occurred_at| Command::RequestReview(command::RequestReview {
                late_reason: None,
                reason: "r".into(),
                occurred_at
            })
        ),
        at.prop_map(|occurred_at| Command::DecideReview(command::DecideReview {
            late_reason: None,
            outcome: Outcome::Supported,
            text: "t".into(),
            occurred_at
        })),
        any_instant().prop_map(|t| {
            let mut r = register_cmd("2026-01-05T09:00:00+08:00");
            r.received_at = t;
            Command::Register(r)
        }),
    ]
}

fn in_bounds(t: Timestamp) -> bool {
    use chrono::Datelike;
    // A deadline may run a few months past the last business date (an extension of it).
    (dates::EARLIEST_YEAR..=dates::LATEST_YEAR + 1).contains(&t.naive_utc().year())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// `decide` and `evolve` never panic, whatever dates, days and order arrive, and what they
    /// accept stays inside the documented range (issue 10: year +262142 made `extend` panic).
    #[test]
    fn extreme_dates_never_panic_and_never_get_in(
        first in extreme_command(),
        steps in prop::collection::vec((extreme_command(), 0i64..400), 0..12),
    ) {
        let mut w = World::new();
        let mut now = ts("2026-01-05T09:00:00+08:00");
        if w.try_as(&county(), &now.to_rfc3339(), first.clone()).is_err() {
            w.run(&now.to_rfc3339(), Command::Register(register_cmd(&now.to_rfc3339())));
        }
        for (cmd, days) in steps {
            now += Duration::days(days);
            let _ = w.try_as(&county(), &now.to_rfc3339(), cmd);
            let c = w.case();
            for t in [Some(c.received_at), Some(c.accept_due_at), c.reply_due_at, c.decision_due_at, Some(c.last_occurred_at)]
                .into_iter()
                .flatten()
            {
                prop_assert!(in_bounds(t), "{t} got into the case");
            }
        }
    }

    /// Whatever bytes arrive as a body, decoding answers (never panics) and its error never
    /// repeats a value of the body.
    #[test]
    fn body_errors_never_echo_values(
        phone in "1[3-9][0-9]{9}",
        field in prop::sample::select(vec!["phone", "id_number", "address"]),
        as_number in any::<bool>(),
    ) {
        let value = if as_number { phone.clone() } else { format!("[\"{phone}\"]") };
        let body = format!(
            r#"{{"township":"gaoqiao","channel":"visit","received_at":"2026-01-05T09:00:00+08:00","headcount":1,"level_reached":"county","category":"land","summary":"s","petitioners":[{{"name":"n","{field}":{value}}}]}}"#
        );
        let err = Action::Register.decode(body.as_bytes()).expect_err("a wrong type");
        for text in [&err.0.en, &err.0.zh] {
            prop_assert!(!text.contains(&phone), "{} echoes {phone}", text);
            prop_assert!(text.contains(&format!("petitioners[0].{field}")), "{} names the field", text);
        }
    }

    #[test]
    fn arbitrary_bytes_decode_without_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        for action in Action::ALL {
            let _ = action.decode(&body);
        }
    }
}
