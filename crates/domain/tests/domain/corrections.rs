//! Issue 13: corrections as facts (更正), withdrawal (撤回), and accusations kept from the
//! accused unit (检举控告).

use crate::common::*;
use domain::command::*;
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";
const T1: &str = "2026-03-03T10:00:00+08:00";

fn correct(changes: RegistrationFacts) -> Command {
    Command::Correct(CorrectRegistration {
        late_reason: None,
        reason: "登记错误".into(),
        changes,
        occurred_at: None,
    })
}

fn gaoqiao_clerk() -> Principal {
    principal("clerk-gaoqiao-1", Role::Clerk, Some("gaoqiao"))
}

#[test]
fn a_correction_records_the_changed_facts_before_and_after_and_derives_the_flags_again() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    assert!(w.case().flags.collective, "six people: a collective visit");
    let case = w
        .try_as(
            &gaoqiao_clerk(),
            T1,
            correct(RegistrationFacts {
                headcount: Some(2),
                // Unchanged facts are not recorded.
                category: Some(Category::Land),
                summary: Some("补偿款未发放".into()),
                ..Default::default()
            }),
        )
        .expect("the registering township corrects within the window")
        .clone();
    assert_eq!(case.headcount, 2);
    assert_eq!(case.summary, "补偿款未发放");
    assert!(!case.flags.collective, "derived again from the headcount");
    let Some(Event::RegistrationCorrected(e)) = w.events.last() else {
        panic!("a correction event")
    };
    assert_eq!(e.before.headcount, Some(6));
    assert_eq!(e.after.headcount, Some(2));
    assert_eq!(e.before.category, None, "unchanged: not recorded");
    assert_eq!(
        e.before.summary.as_deref(),
        Some("Compensation for requisitioned farmland not paid")
    );
    // Nothing left to change is an error, not an empty event.
    let same = correct(RegistrationFacts {
        headcount: Some(2),
        ..Default::default()
    });
    assert_eq!(w.refuse(T1, same).code(), "validation");
}

#[test]
fn a_corrected_receipt_moves_the_acceptance_deadline() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    let case = w.run(
        T1,
        correct(RegistrationFacts {
            received_at: Some(ts("2026-02-27T09:00:00+08:00")),
            ..Default::default()
        }),
    );
    assert_eq!(case.accept_due_at, ts("2026-03-14T23:59:59+08:00"));
    assert_eq!(
        case.registered_at,
        ts(T0),
        "the window keeps the first receipt"
    );
    // Not after the correction itself.
    let later = correct(RegistrationFacts {
        received_at: Some(ts("2026-03-04T09:00:00+08:00")),
        ..Default::default()
    });
    assert_eq!(w.refuse(T1, later).code(), "validation");
}

#[test]
fn a_township_corrects_only_within_the_window_and_never_the_township_the_county_always() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    let headcount = |n| {
        correct(RegistrationFacts {
            headcount: Some(n),
            ..Default::default()
        })
    };
    // Three days after receipt: the end of 5 March.
    let late = "2026-03-06T08:00:00+08:00";
    assert_eq!(
        w.refuse_as(&gaoqiao_clerk(), late, headcount(3)).code(),
        "deadline_passed"
    );
    let other = principal("clerk-dongcheng-1", Role::Clerk, Some("dongcheng"));
    assert_eq!(
        w.refuse_as(&other, T1, headcount(3)).code(),
        "not_found",
        "another township does not learn of the case"
    );
    let moved = correct(RegistrationFacts {
        township: Some(unit("dongcheng")),
        ..Default::default()
    });
    assert_eq!(
        w.refuse_as(&gaoqiao_clerk(), T1, moved.clone()).code(),
        "forbidden"
    );
    w.run(late, headcount(3));
    assert_eq!(w.case().headcount, 3);
    // The county corrects a mistyped township: it takes over a case nobody moved yet.
    let case = w.run(late, moved);
    assert_eq!(case.township, unit("dongcheng"));
    assert_eq!(case.unit, unit("dongcheng"));
    assert_eq!(case.units, [unit("gaoqiao"), unit("dongcheng")]);
    let Some(Event::RegistrationCorrected(e)) = w.events.last() else {
        panic!("a correction event")
    };
    assert_eq!(e.before.township, Some(unit("gaoqiao")));
    assert_eq!(e.unit, Some(unit("dongcheng")));
    // Not to a department.
    let department = correct(RegistrationFacts {
        township: Some(unit("land_bureau")),
        ..Default::default()
    });
    assert_eq!(w.refuse(late, department).code(), "validation");
}

#[test]
fn a_corrected_township_leaves_a_case_that_was_already_moved_with_its_unit() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w.run(T1, accept());
    w.run(T1, assign("land_bureau"));
    let case = w.run(
        T1,
        correct(RegistrationFacts {
            township: Some(unit("dongcheng")),
            ..Default::default()
        }),
    );
    assert_eq!(case.township, unit("dongcheng"));
    assert_eq!(case.unit, unit("land_bureau"), "accountable as before");
}

#[test]
fn corrected_petitioners_and_category_judge_the_returning_petitioner_again() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    assert!(!w.case().flags.repeat);
    // The command path gives the cases filed before this one under the corrected facts.
    w.peers = vec![linking::Peer {
        case_id: CaseId(uuid::Uuid::now_v7()),
        category: Category::Wages,
        township: unit("gaoqiao"),
        secret: false,
        unit: None,
        status: None,
        level: None,
        person: None,
    }];
    let case = w.run(
        T1,
        correct(RegistrationFacts {
            category: Some(Category::Wages),
            ..Default::default()
        }),
    );
    assert!(case.flags.repeat, "an earlier wages case of the petitioner");
    assert!(!case.first_petition);
    let none = correct(RegistrationFacts {
        petitioners: Some(vec![]),
        ..Default::default()
    });
    assert_eq!(w.refuse(T1, none).code(), "validation");
}

#[test]
fn a_withdrawn_case_is_done_and_takes_no_further_step() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w.run(T1, accept());
    let withdraw = || {
        Command::Withdraw(WithdrawCase {
            late_reason: None,
            reason: "信访人撤回".into(),
            occurred_at: None,
        })
    };
    let case = w
        .try_as(&gaoqiao_clerk(), T1, withdraw())
        .expect("the accountable unit records the withdrawal")
        .clone();
    assert_eq!(case.status, Status::Withdrawn);
    assert_eq!(case.stage(), Stage::Done);
    assert!(!case.status.is_open());
    assert_eq!(w.refuse(T1, withdraw()).code(), "invalid_transition");
    assert_eq!(w.refuse(T1, reply()).code(), "invalid_transition");
}

fn accusation(against: &str) -> RegisterCase {
    RegisterCase {
        accusation: true,
        accused_unit: Some(unit(against)),
        summary: "举报镇长收受贿赂".into(),
        ..register_cmd(T0)
    }
}

#[test]
fn an_accusation_against_the_township_is_held_by_the_county_and_never_seen_by_it() {
    let mut w = World::new();
    let clerk = gaoqiao_clerk();
    let case = w
        .try_as(&clerk, T0, Command::Register(accusation("gaoqiao")))
        .expect("registered")
        .clone();
    assert_eq!(case.unit, unit("county"));
    assert_eq!(case.units, [unit("county")]);
    assert_eq!(case.accused_unit, Some(unit("gaoqiao")));
    assert_eq!(
        domain::auth::can_read_case(&clerk, &case),
        Err(DomainError::NotFound)
    );
    assert_eq!(w.refuse_as(&clerk, T1, accept()).code(), "not_found");
    // The county may not give it to the accused unit, by assignment or transfer.
    assert_eq!(w.refuse(T1, assign("gaoqiao")).code(), "accused_unit");
    assert_eq!(w.refuse(T1, transfer("gaoqiao")).code(), "accused_unit");
    w.run(T1, assign("dongcheng"));
    assert_eq!(w.case().unit, unit("dongcheng"));
}

#[test]
fn an_accusation_against_a_department_stays_with_the_township_and_away_from_the_department() {
    let mut w = World::new();
    let case = w
        .run(T0, Command::Register(accusation("land_bureau")))
        .clone();
    assert_eq!(case.unit, unit("gaoqiao"));
    w.run(T1, accept());
    assert_eq!(w.refuse(T1, assign("land_bureau")).code(), "accused_unit");
    let handler = principal("handler-land-1", Role::Handler, Some("land_bureau"));
    assert_eq!(
        domain::auth::can_read_case(&handler, w.case()),
        Err(DomainError::NotFound)
    );
}

#[test]
fn accused_unit_needs_an_accusation_and_a_unit_other_than_the_county() {
    let mut w = World::new();
    let mut plain = accusation("land_bureau");
    plain.accusation = false;
    assert_eq!(w.refuse(T0, Command::Register(plain)).code(), "validation");
    assert_eq!(
        w.refuse(T0, Command::Register(accusation("county"))).code(),
        "validation"
    );
    assert_eq!(
        w.refuse(T0, Command::Register(accusation("nowhere")))
            .code(),
        "validation"
    );
}

#[test]
fn the_case_keeps_the_reply_and_the_follow_up_and_the_review_window() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w.run(T1, accept());
    let at = "2026-03-10T10:00:00+08:00";
    let case = w.run(at, reply()).clone();
    let r = case.reply.clone().expect("reply");
    assert_eq!(
        (r.outcome, r.text.as_str(), r.at),
        (Outcome::Explained, "Explained the policy", ts(at))
    );
    assert_eq!(
        case.review_request_due_at(),
        Some(ts("2026-04-09T23:59:59+08:00"))
    );
    let case = w.run(
        at,
        Command::FollowUp(RecordFollowUp {
            late_reason: None,
            satisfaction: Satisfaction::BasicallySatisfied,
            note: None,
            occurred_at: None,
        }),
    );
    let f = case.follow_up.clone().expect("follow-up");
    assert_eq!(f.satisfaction, Satisfaction::BasicallySatisfied);
    assert_eq!(f.at, ts(at));
}
