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

#[test]
fn reads_of_queues_statistics_and_trails_follow_the_role() {
    use domain::auth::{can_read_queue, can_read_stats, can_read_trail, StatsScope};
    let town = |t: &'static str| StatsScope {
        township: Some(t),
        unit: None,
    };
    let of_unit = |u: &'static str| StatsScope {
        township: None,
        unit: Some(u),
    };
    let all = StatsScope {
        township: None,
        unit: None,
    };
    let gaoqiao = unit("gaoqiao");
    let county = principal("c", Role::County, Some("county"));
    let auditor = principal("a", Role::Auditor, None);
    let analyst = principal("n", Role::Analyst, None);
    let handler = principal("h", Role::Handler, Some("land_bureau"));
    let system = principal("s", Role::System, Some("gaoqiao"));
    // Queues: the county and auditors all; a unit its own; analysts none.
    assert!(can_read_queue(&county, &gaoqiao).is_ok());
    assert!(can_read_queue(&auditor, &gaoqiao).is_ok());
    assert!(can_read_queue(&clerk("gaoqiao"), &gaoqiao).is_ok());
    assert!(can_read_queue(&system, &gaoqiao).is_ok());
    assert!(can_read_queue(&clerk("dongcheng"), &gaoqiao).is_err());
    assert!(can_read_queue(&handler, &gaoqiao).is_err());
    assert!(can_read_queue(&handler, &unit("land_bureau")).is_ok());
    assert!(can_read_queue(&analyst, &gaoqiao).is_err());
    // Statistics: analysts, the county and auditors all; a unit its own unit's (a township its
    // township's too), nothing else.
    for p in [&analyst, &county, &auditor] {
        assert!(can_read_stats(p, all).is_ok());
        assert!(can_read_stats(p, town("gaoqiao")).is_ok());
    }
    assert!(can_read_stats(&clerk("gaoqiao"), town("gaoqiao")).is_ok());
    assert!(can_read_stats(&clerk("gaoqiao"), of_unit("gaoqiao")).is_ok());
    assert!(can_read_stats(&system, town("gaoqiao")).is_ok());
    assert!(can_read_stats(&clerk("gaoqiao"), all).is_err());
    assert!(can_read_stats(&clerk("gaoqiao"), town("dongcheng")).is_err());
    assert!(can_read_stats(&clerk("gaoqiao"), of_unit("land_bureau")).is_err());
    assert!(can_read_stats(&handler, of_unit("land_bureau")).is_ok());
    assert!(can_read_stats(&handler, of_unit("gaoqiao")).is_err());
    assert!(can_read_stats(&handler, all).is_err());
    // Trails: auditors and the county only.
    assert!(can_read_trail(&auditor).is_ok());
    assert!(can_read_trail(&county).is_ok());
    for p in [&analyst, &handler, &system, &clerk("gaoqiao")] {
        assert!(matches!(can_read_trail(p), Err(DomainError::Forbidden(_))));
    }
}

/// Issue 33, finding 6: the readers of a merged case may read the case it was merged into (not
/// act on it); nobody else gains anything, and the accused unit still sees nothing.
#[test]
fn the_readers_of_a_merged_case_may_read_the_case_it_was_merged_into() {
    let mut into = World::new();
    into.run(T0, Command::Register(register_cmd(T0)));
    let mut merged = World::new();
    let mut elsewhere = register_cmd(T0);
    elsewhere.township = unit("dongcheng");
    merged.run(T0, Command::Register(elsewhere));
    let target = into.case().clone();
    let mut merged = merged.case().clone();
    let dongcheng = clerk("dongcheng");
    assert_eq!(
        auth::can_read_as_merged(&dongcheng, &target, &merged),
        Err(DomainError::NotFound),
        "not merged yet"
    );
    merged.merged_into = Some(target.id.0);
    assert!(auth::can_read_as_merged(&dongcheng, &target, &merged).is_ok());
    assert_eq!(
        auth::can_read_as_merged(
            &principal("h", Role::Handler, Some("land_bureau")),
            &target,
            &merged
        ),
        Err(DomainError::NotFound),
        "a unit that may not read the merged case"
    );
    let mut accused = target.clone();
    accused.accused_unit = Some(unit("dongcheng"));
    assert_eq!(
        auth::can_read_as_merged(&dongcheng, &accused, &merged),
        Err(DomainError::NotFound),
        "the accused unit"
    );
}
