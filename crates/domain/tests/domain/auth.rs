//! Authorization rules: each role's allowed and forbidden actions, other townships' cases hidden.

use crate::common::*;
use domain::command::*;
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";

fn clerk(u: &str) -> Principal {
    principal(&format!("clerk-{u}"), Role::Clerk, Some(u))
}

#[test]
fn clerks_register_only_for_their_own_township() {
    let mut w = World::new();
    let err = w.refuse_as(&clerk("dongcheng"), T0, Command::Register(register_cmd(T0)));
    assert_eq!(err.code(), "forbidden");
    for role in [Role::Auditor, Role::Analyst] {
        let p = principal("x", role, None);
        assert_eq!(
            w.refuse_as(&p, T0, Command::Register(register_cmd(T0)))
                .code(),
            "forbidden"
        );
    }
    w.try_as(&clerk("gaoqiao"), T0, Command::Register(register_cmd(T0)))
        .expect("own township");
}

#[test]
fn other_townships_do_not_learn_the_case_exists() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    assert_eq!(
        w.refuse_as(&clerk("dongcheng"), T0, accept()).code(),
        "not_found"
    );
    assert_eq!(
        auth::can_read_case(&clerk("dongcheng"), w.case()),
        Err(DomainError::NotFound)
    );
    assert!(auth::can_read_case(&clerk("gaoqiao"), w.case()).is_ok());
}

#[test]
fn the_accountable_unit_acts_and_the_county_only_steps_stay_county_only() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w.try_as(&clerk("gaoqiao"), T0, accept())
        .expect("accountable unit accepts");
    for cmd in [assign("land_bureau"), supervise(None)] {
        assert_eq!(w.refuse_as(&clerk("gaoqiao"), T0, cmd).code(), "forbidden");
    }
    w.try_as(&clerk("gaoqiao"), T0, transfer("dongcheng"))
        .expect("accountable unit transfers");
    // gaoqiao was accountable: it still sees the case, but may no longer act.
    assert!(auth::can_read_case(&clerk("gaoqiao"), w.case()).is_ok());
    assert_eq!(
        w.refuse_as(&clerk("gaoqiao"), T0, reply()).code(),
        "forbidden"
    );
    let handler = principal("h", Role::Handler, Some("dongcheng"));
    w.try_as(&handler, T0, reply())
        .expect("new accountable unit replies");
    for role in [Role::Auditor, Role::Analyst] {
        assert_eq!(
            w.refuse_as(&principal("x", role, None), T0, close()).code(),
            "forbidden"
        );
    }
    let system = principal("sys-dongcheng", Role::System, Some("dongcheng"));
    w.try_as(&system, T0, close())
        .expect("township system acts for its unit");
}

#[test]
fn personal_data_reaches_only_entitled_roles() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    let c = w.case().clone();
    assert!(auth::can_see_personal_data(&county(), &c));
    assert!(auth::can_see_personal_data(
        &principal("a", Role::Auditor, None),
        &c
    ));
    assert!(auth::can_see_personal_data(&clerk("gaoqiao"), &c));
    assert!(!auth::can_see_personal_data(&clerk("dongcheng"), &c));
    assert!(!auth::can_see_personal_data(
        &principal("n", Role::Analyst, None),
        &c
    ));
    for flag in ["accusation", "confidential"] {
        let mut cmd = register_cmd(T0);
        if flag == "accusation" {
            cmd.accusation = true
        } else {
            cmd.confidential = true
        }
        let mut w = World::new();
        w.run(T0, Command::Register(cmd));
        assert!(
            !auth::can_see_personal_data(&clerk("gaoqiao"), w.case()),
            "{flag}"
        );
        assert!(auth::can_see_personal_data(&county(), w.case()), "{flag}");
    }
}
