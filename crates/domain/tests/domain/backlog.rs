//! 积案 (issue 35): a case's place among its petitioners' cases of its category, the `backlog`
//! flag by age and by repeats against the clock, and 一案一策 (`resolution-plan`).

use crate::common::*;
use domain::command::*;
use domain::identity::Person;
use domain::linking::{repeat_rank, Peer};
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";

fn person(n: u8) -> Person {
    Person {
        id: Some([n; 16]),
        name_phone: None,
        phone: None,
    }
}

fn peer(n: u128, category: Category, who: Option<Person>) -> Peer {
    Peer {
        case_id: CaseId(uuid::Uuid::from_u128(n)),
        category,
        township: unit("gaoqiao"),
        secret: false,
        unit: None,
        status: None,
        level: None,
        person: who,
    }
}

/// The place counts one petitioner's earlier cases of the category, once each: two petitioners
/// with one earlier case each make the second case of each, not the third.
#[test]
fn a_case_is_placed_among_one_petitioners_cases_of_its_category() {
    let gaoqiao = unit("gaoqiao");
    assert_eq!(repeat_rank(&gaoqiao, Category::Land, &[]), 1);
    let (a, b) = (Some(person(1)), Some(person(2)));
    let two_people = [peer(1, Category::Land, a), peer(2, Category::Land, b)];
    assert_eq!(repeat_rank(&gaoqiao, Category::Land, &two_people), 2);
    // One petitioner's two earlier cases (one found twice), and one on another category.
    let one_person = [
        peer(1, Category::Land, a),
        peer(1, Category::Land, a),
        peer(3, Category::Land, a),
        peer(4, Category::Wages, a),
    ];
    assert_eq!(repeat_rank(&gaoqiao, Category::Land, &one_person), 3);
    // A secret case of another township counts for nothing here.
    let mut secret = peer(5, Category::Land, a);
    secret.secret = true;
    secret.township = unit("dongcheng");
    assert_eq!(repeat_rank(&gaoqiao, Category::Land, &[secret]), 1);
}

/// A registration keeps its place; `backlog` holds by its place from registration, or by age
/// after `backlog_days` calendar days, and ends when the case is done.
#[test]
fn backlog_holds_by_place_or_by_age_while_open() {
    let mut w = World::new();
    w.peers = vec![
        peer(1, Category::Land, Some(person(1))),
        peer(2, Category::Land, Some(person(1))),
    ];
    let case = w.run(T0, Command::Register(register_cmd(T0))).clone();
    assert_eq!(case.repeat_rank, 3);
    assert!(
        case.backlog(ts(T0), &w.policy),
        "third case of its category"
    );
    let mut first = World::new();
    let young = first.run(T0, Command::Register(register_cmd(T0))).clone();
    assert_eq!(young.repeat_rank, 1);
    // Received 2 March: 90 days later is 31 May; backlog from 1 June.
    assert!(!young.backlog(ts("2026-05-31T23:00:00+08:00"), &first.policy));
    assert!(young.backlog(ts("2026-06-01T00:30:00+08:00"), &first.policy));
    first.run(T0, accept());
    first.run(T0, reply());
    let closed = first.run(T0, close()).clone();
    assert!(!closed.backlog(ts("2026-06-01T00:30:00+08:00"), &first.policy));
}

fn plan(target: &str, leader: Option<&str>) -> Command {
    Command::PlanResolution(PlanResolution {
        plan: "县信访局牵头约谈，分期清偿".into(),
        leader: leader.map(str::to_owned),
        target_date: target.parse().expect("date"),
        occurred_at: None,
        late_reason: None,
    })
}

/// 一案一策: the county plans; the leader defaults to the case's; a target before the day of the
/// step is refused; a later plan replaces the first; a done case takes none; the plan is overdue
/// once its date has passed while the case is open.
#[test]
fn a_resolution_plan_is_set_replaced_and_judged_against_its_date() {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    let clerk = principal("clerk-gaoqiao", Role::Clerk, Some("gaoqiao"));
    assert!(matches!(
        w.refuse_as(&clerk, T0, plan("2026-04-30", None)),
        DomainError::Forbidden(_)
    ));
    assert!(matches!(
        w.refuse(T0, plan("2026-03-01", None)),
        DomainError::Validation(_)
    ));
    let case = w.run(T0, plan("2026-04-30", None)).clone();
    let p = case.resolution_plan.as_ref().expect("plan");
    assert_eq!(
        (p.leader.as_deref(), p.target_date.to_string().as_str()),
        (None, "2026-04-30")
    );
    w.run(
        T0,
        Command::AssignLeader(AssignLeader {
            name: "王建华".into(),
            title: "副县长".into(),
            occurred_at: None,
            late_reason: None,
        }),
    );
    let case = w.run(T0, plan("2026-05-31", None)).clone();
    let p = case.resolution_plan.as_ref().expect("plan");
    assert_eq!(p.leader.as_deref(), Some("王建华"), "the case's leader");
    assert!(!case.plan_overdue(ts("2026-05-31T23:00:00+08:00"), &w.policy));
    assert!(case.plan_overdue(ts("2026-06-01T00:30:00+08:00"), &w.policy));
    let case = w.run(T0, plan("2026-05-31", Some("李明"))).clone();
    assert_eq!(
        case.resolution_plan
            .as_ref()
            .and_then(|p| p.leader.as_deref()),
        Some("李明")
    );
    w.run(T0, accept());
    w.run(T0, reply());
    w.run(T0, close());
    assert!(matches!(
        w.refuse(T0, plan("2026-05-31", None)),
        DomainError::InvalidTransition { .. }
    ));
}
