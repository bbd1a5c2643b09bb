//! Issue 13, triage: assigning and transferring before acceptance, the county keeping a case,
//! and bounces (推诿).

use crate::common::*;
use domain::command::*;
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";
const T1: &str = "2026-03-03T10:00:00+08:00";

#[test]
fn a_case_is_routed_before_acceptance_and_the_new_unit_accepts_on_the_clock_from_receipt() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    let due = w.case().accept_due_at;
    let case = w.run(T1, transfer("dongcheng"));
    assert_eq!(case.status, Status::Registered, "still to be accepted");
    assert_eq!(case.unit, unit("dongcheng"));
    assert_eq!(
        case.due_at(),
        Some(due),
        "the acceptance deadline runs on from receipt"
    );
    // A committed date belongs to handling, not to acceptance.
    let dated = Command::Assign(AssignCase {
        late_reason: None,
        unit: unit("land_bureau"),
        due_date: Some("2026-04-01".parse().expect("date")),
        note: None,
        occurred_at: None,
    });
    assert_eq!(w.refuse(T1, dated).code(), "validation");
    // The township it went to accepts it; the registering one may no longer.
    let gaoqiao = principal("clerk-gaoqiao-1", Role::Clerk, Some("gaoqiao"));
    assert_eq!(w.refuse_as(&gaoqiao, T1, accept()).code(), "forbidden");
    let dongcheng = principal("clerk-dongcheng-1", Role::Clerk, Some("dongcheng"));
    let case = w
        .try_as(&dongcheng, T1, accept())
        .expect("accepted")
        .clone();
    assert_eq!(case.status, Status::Accepted);
}

#[test]
fn the_county_may_keep_a_case_itself() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    let case = w.run(T1, assign("county"));
    assert_eq!(case.unit, unit("county"));
    assert_eq!(case.status, Status::Registered);
    w.run(T1, accept());
    assert_eq!(w.case().status, Status::Accepted);
}

#[test]
fn every_transfer_after_the_first_is_a_bounce_and_the_threshold_flags_it() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w.run(T1, accept());
    let route = ["dongcheng", "land_bureau", "gaoqiao", "dongcheng"];
    let mut seen = Vec::new();
    for to in route {
        let case = w.run(T1, transfer(to)).clone();
        seen.push((case.bounces(), case.bounced));
    }
    // Policy default: flagged at 2 bounces, i.e. with the third transfer.
    assert_eq!(seen, [(0, false), (1, false), (2, true), (3, true)]);
    let Some(Event::CaseTransferred(e)) = w.events.last() else {
        panic!("a transfer")
    };
    assert!(e.bounced, "decided into the event");
    // An assignment is not a transfer.
    let mut a = World::new();
    a.run(T0, Command::Register(register_cmd(T0)));
    a.run(T1, assign("dongcheng"));
    a.run(T1, assign("land_bureau"));
    assert_eq!(a.case().bounces(), 0);
}

#[test]
fn a_leader_owns_an_open_case_and_supervisions_are_counted() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w.run(T1, accept());
    let lead = |name: &str| {
        Command::AssignLeader(AssignLeader {
            late_reason: None,
            name: name.into(),
            title: "副县长".into(),
            occurred_at: None,
        })
    };
    let clerk = principal("clerk-gaoqiao-1", Role::Clerk, Some("gaoqiao"));
    assert_eq!(w.refuse_as(&clerk, T1, lead("王建华")).code(), "forbidden");
    assert_eq!(w.refuse(T1, lead(" ")).code(), "validation");
    let case = w.run(T1, lead("王建华"));
    assert_eq!(
        case.leader.as_ref().map(|l| l.name.as_str()),
        Some("王建华")
    );
    let case = w.run(T1, lead("李明"));
    assert_eq!(
        case.leader.as_ref().map(|l| l.name.as_str()),
        Some("李明"),
        "replaced"
    );
    w.run(T1, supervise(None));
    let case = w.run(T1, supervise(Some("2026-03-20")));
    assert_eq!(case.supervisions, 2);
    let committed = case.committed_at.expect("committed");
    assert_eq!(committed.date_naive().to_string(), "2026-03-20");
    assert!(!case.committed_overdue(ts("2026-03-20T12:00:00+08:00")));
    assert!(case.committed_overdue(ts("2026-03-21T00:00:01+08:00")));
    w.run(T1, reply());
    w.run(T1, close());
    assert!(
        !w.case().committed_overdue(ts("2026-04-01T00:00:00+08:00")),
        "done: no longer overdue"
    );
    assert_eq!(w.refuse(T1, lead("王建华")).code(), "invalid_transition");
}
