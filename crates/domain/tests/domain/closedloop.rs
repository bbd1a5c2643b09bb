//! The closed loop of a petition (issue 33): 签收, 催办 and escalation, 重办 and the note on
//! closing after 不满意, late entry (补录).

use crate::common::*;
use domain::command::*;
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";

fn clerk(u: &str) -> Principal {
    principal(&format!("clerk-{u}"), Role::Clerk, Some(u))
}

fn body(action: Action, json: serde_json::Value) -> Command {
    action.from_json(json).expect("body decodes")
}

fn acknowledge() -> Command {
    body(Action::Acknowledge, serde_json::json!({}))
}

/// Registered by the county for gaoqiao, accepted: gaoqiao owes an acknowledgement.
fn registered_by_county() -> World {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w
}

#[test]
fn an_accountability_is_acknowledged_by_its_unit_within_the_limit() {
    let mut w = registered_by_county();
    assert_eq!(
        w.case().acknowledge_due_at,
        Some(ts("2026-03-03T09:30:00+08:00")),
        "acknowledge_hours (24) after the registration"
    );
    assert!(w.case().acknowledged.is_none());
    // Only the accountable unit acknowledges: not another township, not the county.
    assert_eq!(
        w.refuse_as(
            &clerk("dongcheng"),
            "2026-03-02T10:00:00+08:00",
            acknowledge()
        )
        .code(),
        "not_found"
    );
    assert_eq!(
        w.refuse_as(&county(), "2026-03-02T10:00:00+08:00", acknowledge())
            .code(),
        "forbidden"
    );
    w.try_as(
        &clerk("gaoqiao"),
        "2026-03-02T10:00:00+08:00",
        acknowledge(),
    )
    .expect("the township acknowledges");
    let ack = w.case().acknowledged.expect("acknowledged");
    assert!(ack.on_time);
    assert!(w.case().acknowledgements.all_on_time());
    // Once per accountability.
    assert_eq!(
        w.refuse_as(
            &clerk("gaoqiao"),
            "2026-03-02T11:00:00+08:00",
            acknowledge()
        )
        .code(),
        "invalid_transition"
    );
    // An assignment starts a new one, unacknowledged.
    w.run("2026-03-02T12:00:00+08:00", assign("land_bureau"));
    assert!(w.case().acknowledged.is_none());
    assert!(!w.case().acknowledgements.all());
    assert!(!w.case().unacknowledged(ts("2026-03-03T11:00:00+08:00")));
    assert!(w.case().unacknowledged(ts("2026-03-03T13:00:00+08:00")));
    let land = principal("handler-land", Role::Handler, Some("land_bureau"));
    w.try_as(&land, "2026-03-04T09:00:00+08:00", acknowledge())
        .expect("late, but acknowledged");
    let c = w.case();
    assert_eq!(c.acknowledged.map(|a| a.on_time), Some(false));
    assert!(c.acknowledgements.all() && !c.acknowledgements.all_on_time());
    assert!(!c.unacknowledged(ts("2026-03-05T00:00:00+08:00")));
}

#[test]
fn a_registration_by_the_township_itself_is_acknowledged_at_once() {
    let mut w = World::new();
    w.try_as(&clerk("gaoqiao"), T0, Command::Register(register_cmd(T0)))
        .expect("registered");
    let c = w.case();
    assert_eq!(c.acknowledge_due_at, None);
    assert_eq!(c.acknowledged.map(|a| a.on_time), Some(true));
    assert!(c.acknowledgements.all_on_time());
    assert!(!decide::status_allows(Action::Acknowledge, c));
}

#[test]
fn a_superseded_accountability_counts_missed_only_past_its_limit() {
    let mut w = registered_by_county();
    // Moved within gaoqiao's limit: gaoqiao's accountability is not judged at all.
    w.run("2026-03-02T12:00:00+08:00", assign("land_bureau"));
    assert_eq!(w.case().acknowledgements.started, 1);
    assert_eq!(w.case().acknowledgements.missed, 0);
    // Moved after land_bureau's limit passed unacknowledged: missed.
    w.run("2026-03-05T12:00:00+08:00", transfer("dongcheng"));
    let tally = w.case().acknowledgements;
    assert_eq!((tally.started, tally.missed), (2, 1));
    assert!(tally.judged() && !tally.all());
}

#[test]
fn the_county_reminds_and_an_overdue_case_escalates() {
    let mut w = registered_by_county();
    let remind = || body(Action::Remind, serde_json::json!({"note": "请尽快受理"}));
    assert_eq!(
        w.refuse_as(&clerk("gaoqiao"), "2026-03-03T10:00:00+08:00", remind())
            .code(),
        "forbidden"
    );
    w.run("2026-03-03T10:00:00+08:00", remind());
    w.run("2026-03-04T10:00:00+08:00", remind());
    assert_eq!(w.case().reminders.count, 2);
    assert_eq!(
        w.case().reminders.last_at,
        Some(ts("2026-03-04T10:00:00+08:00"))
    );
    // Acceptance was due at the end of 17 March; escalated once overdue by more than 5 days.
    let c = w.case();
    assert!(c.overdue(ts("2026-03-20T00:00:00+08:00")));
    assert!(!c.escalated(ts("2026-03-22T23:59:59+08:00"), 5));
    assert!(c.escalated(ts("2026-03-23T00:00:00+08:00"), 5));
}

fn replied_and_dissatisfied() -> World {
    let mut w = registered_by_county();
    w.run("2026-03-03T10:00:00+08:00", accept());
    w.run("2026-03-04T10:00:00+08:00", assign("dongcheng"));
    w.run("2026-03-10T10:00:00+08:00", reply());
    w.run(
        "2026-03-11T10:00:00+08:00",
        follow_up(Satisfaction::Dissatisfied),
    );
    w
}

#[test]
fn closing_after_dissatisfaction_needs_a_note() {
    let mut w = replied_and_dissatisfied();
    let e = w.refuse("2026-03-12T10:00:00+08:00", close());
    assert_eq!(e.code(), "note_required");
    let noted = Command::Close(CloseCase {
        note: Some("信访人坚持原诉求，已告知复查途径".into()),
        occurred_at: None,
        late_reason: None,
    });
    w.run("2026-03-12T10:00:00+08:00", noted);
    assert_eq!(w.case().status, Status::Closed);
}

#[test]
fn a_reopened_case_is_handled_again_and_judged_apart() {
    let mut w = replied_and_dissatisfied();
    let reopen = |json| body(Action::Reopen, json);
    assert_eq!(
        w.refuse_as(
            &clerk("dongcheng"),
            "2026-03-12T10:00:00+08:00",
            reopen(serde_json::json!({"reason": "r"}))
        )
        .code(),
        "forbidden"
    );
    w.run(
        "2026-03-12T10:00:00+08:00",
        reopen(serde_json::json!({"reason": "补偿标准未说明"})),
    );
    let c = w.case();
    assert_eq!(c.status, Status::Assigned);
    assert_eq!(
        c.unit,
        unit("dongcheng"),
        "the unit that replied, by default"
    );
    assert_eq!(c.reopens, 1);
    assert_eq!(c.reply_due_at, Some(ts("2026-04-11T23:59:59+08:00")));
    assert!(c.acknowledged.is_none(), "a new accountability");
    // The second reply is late; the first reply's judgement stands.
    w.run("2026-04-20T10:00:00+08:00", reply());
    assert_eq!(w.case().reply_on_time, Some(true));
    assert_eq!(w.case().rehandle_on_time, Some(false));
    w.run(
        "2026-04-21T10:00:00+08:00",
        follow_up(Satisfaction::Satisfied),
    );
    w.run("2026-04-22T10:00:00+08:00", close());
    assert_eq!(w.case().status, Status::Closed);
    // Satisfied: nothing to reopen.
    let e = w.refuse(
        "2026-04-23T10:00:00+08:00",
        reopen(serde_json::json!({"reason": "r"})),
    );
    assert_eq!(e.code(), "validation");
}

#[test]
fn a_closed_case_is_reopened_only_within_reopen_days_and_before_review() {
    let mut w = replied_and_dissatisfied();
    w.run(
        "2026-03-12T10:00:00+08:00",
        Command::Close(CloseCase {
            note: Some("说明".into()),
            occurred_at: None,
            late_reason: None,
        }),
    );
    let reopen = || body(Action::Reopen, serde_json::json!({"reason": "r"}));
    assert_eq!(
        w.refuse("2026-04-12T10:00:00+08:00", reopen()).code(),
        "deadline_passed",
        "30 days after closing"
    );
    let mut reviewed = World {
        case: w.case.clone(),
        ..World::new()
    };
    reviewed.run("2026-03-20T10:00:00+08:00", request_review());
    reviewed.run("2026-03-25T10:00:00+08:00", decide_review());
    assert_eq!(
        reviewed
            .refuse("2026-03-26T10:00:00+08:00", reopen())
            .code(),
        "invalid_transition"
    );
    w.run("2026-04-11T10:00:00+08:00", reopen());
    assert_eq!(w.case().status, Status::Assigned);
}

#[test]
fn a_late_entry_is_counted_and_needs_a_reason_when_the_policy_says_so() {
    let mut w = registered_by_county();
    w.policy.require_late_reason = true;
    // Accepted on 3 March, recorded on 20 March (after the acceptance deadline of 17 March).
    let backdated = |reason: Option<&str>| {
        Command::Accept(AcceptCase {
            new_facts: None,
            occurred_at: Some(ts("2026-03-03T10:00:00+08:00")),
            late_reason: reason.map(str::to_owned),
        })
    };
    let e = w.refuse("2026-03-20T10:00:00+08:00", backdated(None));
    assert_eq!(e.code(), "late_reason_required");
    w.run("2026-03-20T10:00:00+08:00", backdated(Some("历史数据导入")));
    let c = w.case();
    assert_eq!(c.late_entries, 1);
    assert_eq!(
        c.on_time_by_late_entry, 1,
        "on time only by its business date"
    );
    // Within late_entry_hours of the business time: not late, no reason needed.
    let prompt = Command::Assign(AssignCase {
        unit: unit("land_bureau"),
        due_date: None,
        note: None,
        occurred_at: Some(ts("2026-03-20T08:00:00+08:00")),
        late_reason: None,
    });
    w.run("2026-03-20T11:00:00+08:00", prompt);
    assert_eq!(w.case().late_entries, 1);
}

#[test]
fn a_late_entry_is_judged_by_when_it_reached_the_system() {
    let w = registered_by_county();
    let cmd = Command::Accept(AcceptCase {
        new_facts: None,
        occurred_at: Some(ts("2026-03-03T10:00:00+08:00")),
        late_reason: None,
    });
    let event = decide(
        w.case.as_ref(),
        &cmd,
        &Ctx {
            now: ts("2026-03-20T10:00:00+08:00"),
            reached_at: Some(ts("2026-03-03T10:05:00+08:00")),
            policy: &Policy {
                require_late_reason: true,
                ..Policy::default()
            },
            units: &units(),
            principal: &county(),
            case_id: case_id(),
            case_serial: None,
            peers: &[],
            target: None,
        },
    )
    .expect("a township's step delayed by its link is not a late entry");
    let late = decide::late_entry(
        w.case.as_ref(),
        &cmd,
        &event,
        ts("2026-03-03T10:00:00+08:00"),
        ts("2026-03-03T10:05:00+08:00"),
        &Policy::default(),
    )
    .expect("decided");
    assert!(!late.entry.late);
}
