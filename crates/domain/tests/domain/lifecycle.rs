//! Given/when/then tests of the lifecycle rules (docs/rules.md, docs/contract.md).

use crate::common::*;
use domain::command::*;
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";

fn registered() -> World {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w
}

#[test]
fn registration_derives_flags_deadline_and_case_number() {
    let w = registered();
    let c = w.case();
    assert_eq!(c.status, Status::Registered);
    assert_eq!(c.version, 1);
    assert_eq!(c.unit, unit("gaoqiao"));
    assert!(c.flags.collective, "headcount 6 >= 5");
    assert!(c.flags.cross_level, "raised at county with no earlier case");
    assert!(!c.flags.repeat);
    assert_eq!(c.due_at(), Some(ts("2026-03-17T23:59:59+08:00")));
    assert_eq!(c.case_no, "GAOQIAO-20260302-deadbeef");
}

#[test]
fn flags_follow_policy_and_links() {
    let mut w = World::new();
    w.policy.collective_threshold = 10;
    let mut cmd = register_cmd(T0);
    cmd.related_case_id = CaseId::parse("0192f0a0-0000-7000-8000-000000000001");
    w.run(T0, Command::Register(cmd));
    let f = w.case().flags;
    assert!(!f.collective, "6 < 10");
    assert!(f.repeat);
    assert!(!f.cross_level, "a repeat petition is not a cross-level one");
}

#[test]
fn full_lifecycle_to_termination() {
    let mut w = registered();
    w.run("2026-03-03T10:00:00+08:00", accept());
    assert_eq!(
        w.case().due_at(),
        Some(ts("2026-05-02T23:59:59+08:00")),
        "60 days after acceptance"
    );
    w.run("2026-03-04T10:00:00+08:00", assign("land_bureau"));
    assert_eq!(w.case().unit, unit("land_bureau"));
    assert_eq!(w.case().status, Status::Assigned);
    w.run("2026-03-05T10:00:00+08:00", transfer("dongcheng"));
    assert_eq!(
        w.case().units,
        vec![unit("gaoqiao"), unit("land_bureau"), unit("dongcheng")]
    );
    w.run("2026-03-06T10:00:00+08:00", extend(10));
    assert_eq!(w.case().due_at(), Some(ts("2026-05-12T23:59:59+08:00")));
    w.run("2026-04-01T10:00:00+08:00", reply());
    assert_eq!(w.case().reply_on_time, Some(true));
    assert_eq!(w.case().due_at(), None);
    w.run(
        "2026-04-02T10:00:00+08:00",
        follow_up(Satisfaction::Dissatisfied),
    );
    let close_noted = Command::Close(CloseCase {
        note: Some("信访人坚持原诉求，告知复查途径".into()),
        occurred_at: None,
        late_reason: None,
    });
    w.run("2026-04-03T10:00:00+08:00", close_noted);
    assert!(!w.case().status.is_open());
    w.run("2026-04-20T10:00:00+08:00", request_review());
    assert_eq!(w.case().status, Status::UnderReview);
    assert_eq!(w.case().due_at(), Some(ts("2026-05-20T23:59:59+08:00")));
    w.run("2026-05-01T10:00:00+08:00", decide_review());
    assert_eq!(w.case().status, Status::Closed);
    assert_eq!(w.case().review_level, 1);
    w.run("2026-05-10T10:00:00+08:00", request_rereview());
    assert_eq!(w.case().status, Status::UnderRereview);
    w.run("2026-05-20T10:00:00+08:00", decide_rereview());
    assert_eq!(w.case().status, Status::Terminated);
    assert_eq!(w.case().version, 12);
    let err = w.refuse("2026-05-21T10:00:00+08:00", assign("gaoqiao"));
    assert_eq!(
        err.code(),
        "invalid_transition",
        "no assignment of a terminated case"
    );
}

#[test]
fn illegal_transitions_are_refused() {
    let mut w = registered();
    for (cmd, name) in [
        (reply(), "reply before acceptance"),
        (close(), "close before reply"),
        (extend(5), "extend before acceptance"),
        (request_review(), "review of an open case"),
        (decide_review(), "decision without request"),
        (follow_up(Satisfaction::Satisfied), "follow-up before reply"),
    ] {
        let err = w.refuse(T0, cmd);
        assert_eq!(err.code(), "invalid_transition", "{name}: {err}");
    }
    w.run(T0, accept());
    assert_eq!(
        w.refuse(T0, accept()).code(),
        "invalid_transition",
        "accept twice"
    );
    assert_eq!(
        w.refuse(T0, close()).code(),
        "invalid_transition",
        "close without reply"
    );
    w.run(T0, reply());
    w.run(T0, close());
    assert_eq!(
        w.refuse(T0, request_rereview()).code(),
        "invalid_transition",
        "re-review before review"
    );
    assert_eq!(
        w.refuse(T0, reply()).code(),
        "invalid_transition",
        "reply to a closed case"
    );
}

#[test]
fn a_second_extension_and_out_of_range_days_are_refused() {
    let mut w = registered();
    w.run(T0, accept());
    assert_eq!(w.refuse(T0, extend(0)).code(), "validation");
    assert_eq!(w.refuse(T0, extend(31)).code(), "validation");
    w.run(T0, extend(30));
    let err = w.refuse(T0, extend(1));
    assert_eq!(err.code(), "validation");
    assert!(err.to_string().contains("already extended"), "{err}");
}

#[test]
fn review_request_after_the_window_is_deadline_passed() {
    let mut w = registered();
    w.run(T0, accept());
    w.run("2026-03-10T10:00:00+08:00", reply());
    w.run("2026-03-10T11:00:00+08:00", close());
    // Window: 30 days after the reply day, to its end: 2026-04-09T23:59:59+08:00.
    let late = Command::RequestReview(RequestReview {
        late_reason: None,
        reason: "disagree".into(),
        occurred_at: Some(ts("2026-04-10T00:00:00+08:00")),
    });
    assert_eq!(
        w.refuse("2026-04-11T00:00:00+08:00", late).code(),
        "deadline_passed"
    );
    let in_time = Command::RequestReview(RequestReview {
        late_reason: None,
        reason: "disagree".into(),
        occurred_at: Some(ts("2026-04-09T23:00:00+08:00")),
    });
    w.run("2026-04-11T00:00:00+08:00", in_time);
    assert_eq!(w.case().status, Status::UnderReview);
}

#[test]
fn late_steps_are_allowed_but_not_on_time() {
    let mut w = registered();
    // Acceptance due 2026-03-17; accepting on the 20th is allowed (the organ's own deadline never
    // blocks a step) and the case was overdue meanwhile.
    assert!(w.case().overdue(ts("2026-03-18T00:00:00+08:00")));
    assert!(!w.case().overdue(ts("2026-03-17T23:59:59+08:00")));
    w.run("2026-03-20T09:00:00+08:00", accept());
    assert_eq!(w.events.last().map(Event::type_name), Some("CaseAccepted"));
    assert!(matches!(w.events.last(), Some(Event::CaseAccepted(e)) if !e.on_time));
    // Reply due 2026-05-19; reply on the 25th counts as not on time.
    assert!(w.case().overdue(ts("2026-05-20T00:00:00+08:00")));
    w.run("2026-05-25T09:00:00+08:00", reply());
    assert_eq!(w.case().reply_on_time, Some(false));
    assert!(
        !w.case().overdue(ts("2026-06-25T00:00:00+08:00")),
        "replied: no deadline"
    );
}

#[test]
fn assign_and_supervise_due_dates_replace_the_reply_deadline() {
    let mut w = registered();
    w.run(T0, accept());
    let cmd = Command::Assign(AssignCase {
        late_reason: None,
        unit: unit("land_bureau"),
        due_date: Some("2026-03-20".parse().expect("date")),
        note: None,
        occurred_at: None,
    });
    w.run(T0, cmd);
    assert_eq!(w.case().due_at(), Some(ts("2026-03-20T23:59:59+08:00")));
    w.run(T0, supervise(Some("2026-03-25")));
    assert_eq!(w.case().due_at(), Some(ts("2026-03-25T23:59:59+08:00")));
    assert_eq!(
        w.refuse(T0, supervise(Some("2026-03-01"))).code(),
        "validation",
        "due date in the past"
    );
}

#[test]
fn occurred_at_may_not_be_in_the_future_nor_before_the_previous_event() {
    let mut w = registered();
    let future = Command::Accept(AcceptCase {
        late_reason: None,
        new_facts: None,
        occurred_at: Some(ts("2026-03-02T10:00:00+08:00")),
    });
    let err = w.refuse("2026-03-02T09:45:00+08:00", future);
    assert!(err.to_string().contains("future"), "{err}");
    let before = Command::Accept(AcceptCase {
        late_reason: None,
        new_facts: None,
        occurred_at: Some(ts("2026-03-01T10:00:00+08:00")),
    });
    let err = w.refuse("2026-03-02T09:45:00+08:00", before);
    assert!(
        err.to_string().contains("before the case's previous event"),
        "{err}"
    );
}

#[test]
fn register_validation() {
    let now = "2026-03-02T10:00:00+08:00";
    type Mutation = Box<dyn Fn(&mut RegisterCase)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("headcount", Box::new(|c| c.headcount = 0)),
        ("petitioners", Box::new(|c| c.petitioners.clear())),
        ("name", Box::new(|c| c.petitioners[0].name = "  ".into())),
        ("summary", Box::new(|c| c.summary = String::new())),
        (
            "no township of this county",
            Box::new(|c| c.township = unit("nowhere")),
        ),
        (
            "not a township",
            Box::new(|c| c.township = unit("land_bureau")),
        ),
        (
            "future",
            Box::new(|c| c.received_at = ts("2026-03-03T10:00:00+08:00")),
        ),
        ("itself", Box::new(|c| c.related_case_id = Some(case_id()))),
    ];
    for (what, mutate) in cases {
        let mut cmd = register_cmd(T0);
        mutate(&mut cmd);
        let mut w = World::new();
        let err = w.refuse(now, Command::Register(cmd));
        assert_eq!(err.code(), "validation", "{what}: {err}");
    }
}

#[test]
fn transfer_needs_another_unit_of_the_county() {
    let mut w = registered();
    w.run(T0, accept());
    assert_eq!(w.refuse(T0, transfer("gaoqiao")).code(), "validation");
    assert_eq!(w.refuse(T0, transfer("mars")).code(), "validation");
}

#[test]
fn a_numbered_registration_carries_its_township_year_and_serial() {
    // Received on New Year's Eve in UTC, already 1 January in the policy's time zone.
    let mut cmd = register_cmd(T0);
    cmd.received_at = ts("2025-12-31T20:00:00Z");
    let policy = Policy::default();
    assert_eq!(
        domain::decide::case_series(&cmd, &policy),
        ("gaoqiao.2026".to_string(), 2026)
    );
    let ctx = Ctx {
        reached_at: None,
        now: ts(T0),
        policy: &policy,
        units: &units(),
        principal: &county(),
        case_id: case_id(),
        case_serial: Some(123),
        peers: &[],
        target: None,
    };
    let Event::CaseRegistered(e) = decide(None, &Command::Register(cmd), &ctx).expect("registered")
    else {
        panic!("not a registration")
    };
    assert_eq!(e.case_no, "GAOQIAO-2026-000123");
}

#[test]
fn a_leader_reception_is_a_flag_beside_the_channel() {
    let decided = |cmd: RegisterCase| {
        let mut w = World::new();
        w.try_as(&county(), T0, Command::Register(cmd))
            .expect("registered")
            .leader_reception
    };
    assert!(!decided(register_cmd(T0)), "not unless said");
    let mut visit = register_cmd(T0);
    visit.leader_reception = true;
    assert!(decided(visit), "a visit received on a leader reception day");
    let mut channel = register_cmd(T0);
    channel.channel = Channel::LeaderReception;
    assert!(
        decided(channel),
        "the channel of earlier registrations says it too"
    );
}
