//! `allowed_actions` (the console's buttons) offers exactly the steps `decide` would accept as to
//! status, authority and windows, at every stage of a lifecycle and for every kind of principal.

use crate::common::*;
use domain::command::*;
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";

/// A body that passes every check but the status, the principal and the windows.
fn sample(action: Action) -> Command {
    let body = match action {
        Action::Reject => serde_json::json!({"reason_code": "other", "reason": "r"}),
        Action::Assign => serde_json::json!({"unit": "land_bureau"}),
        Action::Transfer => serde_json::json!({"unit": "dongcheng", "reason": "r"}),
        Action::Supervise | Action::Remind => serde_json::json!({"note": "n"}),
        Action::Reopen => serde_json::json!({"reason": "r"}),
        Action::Extend => serde_json::json!({"days": 5, "reason": "r", "approved_by": "a"}),
        Action::Reply => serde_json::json!({"outcome": "supported", "text": "t"}),
        Action::FollowUp => serde_json::json!({"satisfaction": "satisfied"}),
        Action::RequestReview | Action::RequestRereview | Action::Withdraw => {
            serde_json::json!({"reason": "r"})
        }
        Action::DecideReview | Action::DecideRereview => {
            serde_json::json!({"outcome": "supported", "text": "t"})
        }
        Action::AssignLeader => serde_json::json!({"name": "王", "title": "副县长"}),
        Action::ResolutionPlan => serde_json::json!({"plan": "约谈", "target_date": "2027-12-31"}),
        Action::Correct => serde_json::json!({"reason": "r", "changes": {"headcount": 7}}),
        _ => serde_json::json!({}),
    };
    action.from_json(body).expect("sample body decodes")
}

/// Whether `decide` takes the step (a refusal for any reason but status, authority or a
/// closed window counts as allowed: the form then shows the field's error).
fn decides(w: &mut World, who: &Principal, now: &str, action: Action) -> bool {
    let saved = w.case.clone();
    let taken = match w.try_as(who, now, sample(action)) {
        Ok(_) => true,
        // A second extension is a validation error in `decide`, and not offered.
        Err(DomainError::Validation(_)) if action == Action::Extend => !w.case().extended,
        // So is a reopening without a dissatisfied follow-up to answer.
        Err(DomainError::Validation(_)) if action == Action::Reopen => {
            w.case().dissatisfied_unanswered
        }
        Err(e) => !matches!(
            e,
            DomainError::InvalidTransition { .. }
                | DomainError::Forbidden(_)
                | DomainError::NotFound
                | DomainError::DeadlinePassed(_)
        ),
    };
    w.case = saved;
    taken
}

fn check_all(w: &mut World, now: &str) {
    let who = [
        county(),
        principal("clerk-gaoqiao", Role::Clerk, Some("gaoqiao")),
        principal("clerk-dongcheng", Role::Clerk, Some("dongcheng")),
        principal("handler-land", Role::Handler, Some("land_bureau")),
        principal("analyst", Role::Analyst, None),
        principal("auditor", Role::Auditor, None),
    ];
    for p in &who {
        let offered = decide::allowed_actions(w.case(), p, &w.policy, ts(now));
        for action in decide::case_steps() {
            if action == Action::Merge {
                // Needs a second case; its status rule is that of withdraw.
                continue;
            }
            assert_eq!(
                offered.contains(&action),
                decides(w, p, now, action),
                "{action:?} for {} at status {:?}",
                p.id.0,
                w.case().status
            );
        }
    }
}

#[test]
fn offered_steps_are_exactly_those_decide_takes() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    check_all(&mut w, "2026-03-02T10:00:00+08:00");
    w.run("2026-03-03T10:00:00+08:00", accept());
    check_all(&mut w, "2026-03-03T11:00:00+08:00");
    w.run("2026-03-04T10:00:00+08:00", assign("land_bureau"));
    check_all(&mut w, "2026-03-04T11:00:00+08:00");
    w.run("2026-03-05T10:00:00+08:00", extend(10));
    check_all(&mut w, "2026-03-05T11:00:00+08:00");
    w.run("2026-03-10T10:00:00+08:00", reply());
    check_all(&mut w, "2026-03-10T11:00:00+08:00");
    // 不满意: reopening is offered (to the county), and re-handling runs as handling does.
    w.run(
        "2026-03-10T12:00:00+08:00",
        follow_up(Satisfaction::Dissatisfied),
    );
    check_all(&mut w, "2026-03-10T13:00:00+08:00");
    w.run("2026-03-10T14:00:00+08:00", sample(Action::Reopen));
    check_all(&mut w, "2026-03-10T15:00:00+08:00");
    w.run("2026-03-10T16:00:00+08:00", reply());
    check_all(&mut w, "2026-03-10T17:00:00+08:00");
    w.run("2026-03-11T10:00:00+08:00", close());
    check_all(&mut w, "2026-03-11T11:00:00+08:00");
    // Past the review window: no request offered, and decide refuses one.
    check_all(&mut w, "2026-12-01T11:00:00+08:00");
    w.run("2026-03-12T10:00:00+08:00", request_review());
    check_all(&mut w, "2026-03-12T11:00:00+08:00");
    w.run("2026-03-13T10:00:00+08:00", decide_review());
    check_all(&mut w, "2026-03-13T11:00:00+08:00");
    w.run("2026-03-14T10:00:00+08:00", request_rereview());
    check_all(&mut w, "2026-03-14T11:00:00+08:00");
    w.run("2026-03-15T10:00:00+08:00", decide_rereview());
    check_all(&mut w, "2026-03-15T11:00:00+08:00");
    assert_eq!(
        decide::case_steps().count(),
        22,
        "every step of the contract's tables"
    );
    assert!(decide::allowed_actions(
        w.case(),
        &county(),
        &w.policy,
        ts("2026-03-15T11:00:00+08:00")
    )
    .iter()
    .all(|a| matches!(a, Action::Correct | Action::ReissueQueryCode)));
}
