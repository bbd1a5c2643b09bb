//! Property tests: whatever commands arrive, in whatever order, from whoever, the accepted ones
//! replay to the same state, versions are gapless and exactly one known unit is accountable.

mod common;

use chrono::Duration;
use common::*;
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
            replayed = Some(evolve(replayed, case_id(), &back, *at).expect("replay"));
        }
        prop_assert_eq!(replayed.as_ref(), w.case.as_ref());
    }
}
