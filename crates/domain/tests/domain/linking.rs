//! Recognising a returning petitioner: flags at registration, 终结 at acceptance, merging.

use crate::common::*;
use domain::command::*;
use domain::linking::Peer;
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";
const T1: &str = "2026-03-03T09:30:00+08:00";

fn peer(n: u128, category: Category, township: &str, secret: bool, status: Option<Status>) -> Peer {
    Peer {
        case_id: CaseId(uuid::Uuid::from_u128(n)),
        category,
        township: unit(township),
        secret,
        unit: status.map(|_| unit(township)),
        status,
        level: None,
        person: None,
    }
}

fn registered_with(peers: Vec<Peer>) -> World {
    let mut w = World::new();
    w.peers = peers;
    w.run(T0, Command::Register(register_cmd(T0)));
    w
}

#[test]
fn a_first_petition_has_no_earlier_case_and_a_repeat_has_one_of_its_category() {
    let first = registered_with(vec![]);
    assert!(first.case().first_petition && !first.case().flags.repeat);

    // An earlier case on another matter: no longer a first petition, not a repeat.
    let other_matter = registered_with(vec![peer(1, Category::Wages, "dongcheng", false, None)]);
    assert!(!other_matter.case().first_petition && !other_matter.case().flags.repeat);

    // An earlier land case in another township: a repeat.
    let repeat = registered_with(vec![peer(1, Category::Land, "dongcheng", false, None)]);
    assert!(repeat.case().flags.repeat && !repeat.case().first_petition);
    let Event::CaseRegistered(e) = &repeat.events[0] else {
        panic!("a registration")
    };
    assert!(
        e.flags.repeat && !e.first_petition,
        "decided into the event"
    );
}

#[test]
fn a_secret_case_gives_no_hint_across_townships() {
    // An accusation of the same petitioner registered in another township is not seen at all.
    let elsewhere = registered_with(vec![peer(1, Category::Land, "dongcheng", true, None)]);
    assert!(elsewhere.case().first_petition && !elsewhere.case().flags.repeat);
    // In the registering township itself it counts.
    let same_township = registered_with(vec![peer(1, Category::Land, "gaoqiao", true, None)]);
    assert!(same_township.case().flags.repeat);
}

#[test]
fn accepting_a_repeat_of_a_terminated_matter_needs_new_facts() {
    let terminated = peer(
        9,
        Category::Land,
        "dongcheng",
        false,
        Some(Status::Terminated),
    );
    let mut w = registered_with(vec![terminated.clone()]);
    let err = w.refuse(T1, accept());
    assert_eq!(err.code(), "terminated_matter");
    assert!(err.to_string().contains("new_facts"), "{err}");
    // Blank new facts are no new facts.
    let blank = Command::Accept(AcceptCase {
        late_reason: None,
        new_facts: Some("  ".into()),
        occurred_at: None,
    });
    assert_eq!(w.refuse(T1, blank).code(), "terminated_matter");
    let stated = Command::Accept(AcceptCase {
        late_reason: None,
        new_facts: Some("2026年新的征地补偿文件".into()),
        occurred_at: None,
    });
    assert_eq!(w.run(T1, stated).status, Status::Accepted);
    let Some(Event::CaseAccepted(e)) = w.events.last() else {
        panic!("accepted")
    };
    assert_eq!(e.new_facts.as_deref(), Some("2026年新的征地补偿文件"));

    // It may be rejected with the reason of the contract instead.
    let mut r = registered_with(vec![terminated]);
    let reject = Command::Reject(RejectCase {
        late_reason: None,
        reason_code: RejectReason::TerminatedSameMatter,
        reason: "条例第35条: 复核终结".into(),
        occurred_at: None,
    });
    assert_eq!(r.run(T1, reject).status, Status::Rejected);

    // A terminated case on another matter, or an open one, does not bar acceptance.
    for p in [
        peer(
            9,
            Category::Wages,
            "dongcheng",
            false,
            Some(Status::Terminated),
        ),
        peer(
            9,
            Category::Land,
            "dongcheng",
            false,
            Some(Status::Accepted),
        ),
        peer(
            9,
            Category::Land,
            "dongcheng",
            true,
            Some(Status::Terminated),
        ),
    ] {
        let mut w = registered_with(vec![]);
        w.peers = vec![p];
        assert_eq!(w.run(T1, accept()).status, Status::Accepted);
    }
}

fn target(status: Status) -> Case {
    let mut t = World::new();
    t.run(T0, Command::Register(register_cmd(T0)));
    let mut case = t.case().clone();
    case.id = CaseId(uuid::Uuid::from_u128(42));
    case.case_no = "DONGCHENG-2026-000042".into();
    case.status = status;
    case
}

fn merge(into: u128) -> Command {
    Command::Merge(MergeCase {
        late_reason: None,
        into: CaseId(uuid::Uuid::from_u128(into)),
        reason: "一信多投".into(),
        occurred_at: None,
    })
}

#[test]
fn a_merged_case_is_done_and_names_the_case_it_was_merged_into() {
    let mut w = registered_with(vec![]);
    w.target = Some(target(Status::Accepted));
    let clerk = principal("clerk-gaoqiao-1", Role::Clerk, Some("gaoqiao"));
    assert_eq!(w.refuse_as(&clerk, T1, merge(42)).code(), "forbidden");
    let case = w.run(T1, merge(42));
    assert_eq!(case.status, Status::Merged);
    assert_eq!(case.stage(), Stage::Done);
    assert_eq!(case.merged_into, Some(uuid::Uuid::from_u128(42)));
    let Some(Event::CaseMerged(e)) = w.events.last() else {
        panic!("merged")
    };
    assert_eq!(e.into_case_no, "DONGCHENG-2026-000042");
    // Done: nothing more happens to it, not even another merge.
    assert_eq!(w.refuse(T1, merge(42)).code(), "invalid_transition");
    assert_eq!(w.refuse(T1, accept()).code(), "invalid_transition");
}

#[test]
fn a_merge_needs_an_open_visible_other_case() {
    let mut w = registered_with(vec![]);
    // Not loaded (unknown or not visible), or another id than the one loaded.
    assert_eq!(w.refuse(T1, merge(42)).code(), "validation");
    w.target = Some(target(Status::Accepted));
    assert_eq!(w.refuse(T1, merge(43)).code(), "validation");
    for status in [Status::Closed, Status::Merged, Status::Terminated] {
        w.target = Some(target(status));
        let err = w.refuse(T1, merge(42));
        assert!(err.to_string().contains("open case"), "{err}");
    }
    let mut itself = w.case().clone();
    itself.status = Status::Accepted;
    let own = itself.id.0.as_u128();
    w.target = Some(itself);
    let err = w.refuse(T1, merge(own));
    assert!(err.to_string().contains("itself"), "{err}");
}

mod group_rule {
    use domain::linking::{duplicate, duplicates_in, Member, Peer};
    use domain::*;
    use proptest::prelude::*;

    const UNITS: [&str; 3] = ["gaoqiao", "dongcheng", "land_bureau"];
    const TOWNSHIPS: [&str; 2] = ["gaoqiao", "dongcheng"];

    fn member(i: usize, unit: usize, township: usize, secret: bool, id: Option<u8>) -> Member {
        Member {
            case_id: CaseId(uuid::Uuid::from_u128(i as u128 + 1)),
            unit: UnitCode::parse(UNITS[unit]).expect("unit"),
            township: UnitCode::parse(TOWNSHIPS[township]).expect("township"),
            secret,
            id: id.map(|b| [b; 16]),
        }
    }

    proptest! {
        /// The group rule is the one-case rule applied to each member with the others of the
        /// group (open, of one category) that are the same person as its peers.
        #[test]
        fn the_group_rule_is_the_rule_for_each_member(
            spec in proptest::collection::vec((0..3usize, 0..2usize, any::<bool>(), proptest::option::of(0..3u8)), 0..12)
        ) {
            let members: Vec<Member> = spec
                .iter()
                .enumerate()
                .map(|(i, (u, t, s, id))| member(i, *u, *t, *s, *id))
                .collect();
            let fast = duplicates_in(&members);
            for (i, m) in members.iter().enumerate() {
                let peers: Vec<Peer> = members
                    .iter()
                    .filter(|p| p.case_id != m.case_id)
                    .filter(|p| m.id.is_none() || p.id.is_none() || p.id == m.id)
                    .map(|p| Peer {
                        case_id: p.case_id,
                        category: Category::Land,
                        township: p.township.clone(),
                        secret: p.secret,
                        unit: Some(p.unit.clone()),
                        status: Some(Status::Accepted),
                        level: None,
                        person: None,
                    })
                    .collect();
                let one = duplicate(&m.township, Category::Land, &m.unit, Status::Accepted, &peers);
                prop_assert_eq!(fast[i], one, "member {} of {:?}", i, spec);
            }
        }
    }
}

/// 越级访 for a matter the county registers at its own office (issue 14): cross-level unless the
/// petitioner has an earlier case of the matter (its township and category) at township level.
#[test]
fn a_county_registration_is_cross_level_only_without_an_earlier_township_case_of_the_matter() {
    let at = |level: Level, p: Peer| Peer {
        level: Some(level),
        ..p
    };
    let county_registration = |peers: Vec<Peer>| {
        let mut w = World::new();
        w.peers = peers;
        let mut r = register_cmd(T0);
        r.level_reached = Level::County;
        w.run(T0, Command::Register(r)).flags.cross_level
    };
    let category = register_cmd(T0).category;
    let other = if category == Category::Land {
        Category::Wages
    } else {
        Category::Land
    };
    assert!(county_registration(vec![]), "straight to the county");
    assert!(
        !county_registration(vec![at(
            Level::Township,
            peer(1, category, "gaoqiao", false, None)
        )]),
        "the township had the matter first"
    );
    for (why, earlier) in [
        (
            "another matter",
            at(Level::Township, peer(2, other, "gaoqiao", false, None)),
        ),
        (
            "another township's matter",
            at(Level::Township, peer(3, category, "dongcheng", false, None)),
        ),
        (
            "an earlier case at the county too",
            at(Level::County, peer(4, category, "gaoqiao", false, None)),
        ),
        (
            "an index entry of unknown level",
            peer(5, category, "gaoqiao", false, None),
        ),
    ] {
        assert!(county_registration(vec![earlier]), "{why}");
    }
    // At the township itself it is never cross-level.
    let mut w = World::new();
    let mut r = register_cmd(T0);
    r.level_reached = Level::Township;
    assert!(!w.run(T0, Command::Register(r)).flags.cross_level);
}
