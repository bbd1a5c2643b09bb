use domain::command::*;
use domain::{Category, Channel, PrincipalId, Status, UnitCode};

use domain::{Principal, Role};
use queries::cases::{CaseFilter, ListCases, Probe};
use wire::cases::CasePage;

use super::*;
use crate::testing::{build, register, ts, unit, Log};
use crate::Store;

const ID: &str = "330102199001011234";

mod alerts;
mod backlog;
mod queue;

pub(super) fn clock(t: &str) -> Clock {
    Clock {
        now: ts(t),
        due_soon_days: 3,
        escalate_after_days: 5,
        policy: domain::Policy::default(),
    }
}

pub(super) fn keys() -> Keys {
    Keys::new(&"i".repeat(32), &"q".repeat(32)).expect("keys")
}

pub(super) fn model() -> Cases {
    Cases {
        keys: keys(),
        policy: domain::Policy::default(),
        vault: None,
    }
}

pub(super) fn who(role: Role, unit: Option<&str>) -> Principal {
    Principal {
        id: PrincipalId(format!("{role}")),
        role,
        unit: unit.map(|u| UnitCode::parse(u).expect("unit")),
    }
}

/// A registration of 张三 (with `id` as ID number, phone 13800000000).
pub(super) fn petition(township: &str, at: &str, id: Option<&str>, category: Category) -> Command {
    let mut cmd = register(township, Channel::Visit, 1, at);
    if let Command::Register(r) = &mut cmd {
        r.category = category;
        r.petitioners[0].id_number = id.map(str::to_owned);
        r.petitioners[0].phone = Some("13800000000".into());
    }
    cmd
}

pub(super) fn page(
    store: &Store,
    viewer: &Principal,
    filter: CaseFilter,
    limit: usize,
    cursor: Option<&str>,
) -> CasePage {
    let req = ListCases {
        principal: viewer.clone(),
        filter,
        limit,
        cursor: cursor.map(|c| Cursor::decode(c).expect("a cursor we gave")),
    };
    list(store, &req, clock("2026-04-01T10:00:00+08:00")).expect("list")
}

pub(super) fn ids(p: &CasePage) -> Vec<CaseId> {
    p.items.iter().map(|i| i.case_id).collect()
}

#[test]
fn listing_is_newest_first_filtered_paged_and_scoped_to_what_the_viewer_may_see() {
    let mut log = Log::new();
    let mut made = Vec::new();
    for (i, township) in ["gaoqiao", "dongcheng", "gaoqiao", "gaoqiao", "dongcheng"]
        .iter()
        .enumerate()
    {
        let at = format!("2026-03-0{}T09:30:00+08:00", i + 1);
        made.push(log.run(None, register(township, Channel::Letter, 1, &at), &at));
    }
    let at = "2026-03-06T10:00:00+08:00";
    log.run(
        Some(made[1]),
        Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: Some(ts(at)),
        }),
        at,
    );
    let (_dir, store) = build(&model(), &log.events, 2);
    let county = who(Role::County, None);
    let newest_first: Vec<CaseId> = made.iter().rev().copied().collect();
    assert_eq!(
        ids(&page(&store, &county, CaseFilter::default(), 100, None)),
        newest_first
    );

    // Pages of two: every case exactly once, the last page without a cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let p = page(&store, &county, CaseFilter::default(), 2, cursor.as_deref());
        assert!(p.items.len() <= 2);
        seen.extend(ids(&p));
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, newest_first);

    let gaoqiao_registered = CaseFilter {
        township: Some(unit("gaoqiao")),
        status: Some(Status::Registered),
        ..CaseFilter::default()
    };
    assert_eq!(
        ids(&page(&store, &county, gaoqiao_registered, 10, None)),
        [made[3], made[2], made[0]]
    );
    let handling = CaseFilter {
        stage: Some(domain::Stage::Handling),
        ..CaseFilter::default()
    };
    assert_eq!(ids(&page(&store, &county, handling, 10, None)), [made[1]]);
    let window = CaseFilter {
        from: Some(ts("2026-03-02T00:00:00+08:00")),
        until: Some(ts("2026-03-04T00:00:00+08:00")),
        ..CaseFilter::default()
    };
    assert_eq!(
        ids(&page(&store, &county, window, 10, None)),
        [made[2], made[1]]
    );
    let text = CaseFilter {
        q: Some("补偿款".into()),
        ..CaseFilter::default()
    };
    assert_eq!(page(&store, &county, text, 10, None).items.len(), 5);
    let no_text = CaseFilter {
        q: Some("拆迁".into()),
        ..CaseFilter::default()
    };
    assert!(page(&store, &county, no_text, 10, None).items.is_empty());

    // A clerk of dongcheng sees dongcheng's cases only, even when asking for gaoqiao's.
    let clerk = who(Role::Clerk, Some("dongcheng"));
    assert_eq!(
        ids(&page(&store, &clerk, CaseFilter::default(), 10, None)),
        [made[4], made[1]]
    );
    let theirs = CaseFilter {
        township: Some(unit("gaoqiao")),
        ..CaseFilter::default()
    };
    assert!(page(&store, &clerk, theirs, 10, None).items.is_empty());
    // By number: one case, or none for a viewer who may not see it.
    let no = page(&store, &county, CaseFilter::default(), 10, None).items[4]
        .case_no
        .clone();
    let by_no = CaseFilter {
        case_no: Some(no.clone()),
        ..CaseFilter::default()
    };
    assert_eq!(
        ids(&page(&store, &county, by_no.clone(), 10, None)),
        [made[0]]
    );
    assert!(page(&store, &clerk, by_no, 10, None).items.is_empty());
    assert_eq!(case_by_no(&store, &no).expect("lookup"), Some(made[0]));
    assert_eq!(
        case_by_no(&store, "GAOQIAO-2026-999999").expect("lookup"),
        None
    );
}

#[test]
fn a_page_that_runs_out_of_budget_still_gives_a_cursor_and_nothing_is_skipped() {
    let mut log = Log::new();
    let mut made = Vec::new();
    for i in 0..30 {
        let at = format!("2026-03-02T09:{i:02}:00+08:00");
        let township = if i == 3 { "dongcheng" } else { "gaoqiao" };
        made.push(log.run(None, register(township, Channel::Letter, 1, &at), &at));
    }
    let (_dir, store) = build(&model(), &log.events, 7);
    let county = who(Role::County, None);
    // Text matching one old case: the scan reads the index in order, however long.
    let f = CaseFilter {
        q: Some("补偿".into()),
        township: Some(unit("dongcheng")),
        ..CaseFilter::default()
    };
    assert_eq!(ids(&page(&store, &county, f, 1, None)), [made[3]]);
    // A cursor that points between cases continues after it.
    let c = Cursor {
        received_micros: ts("2026-03-02T09:10:30+08:00").timestamp_micros(),
        case_id: made[0],
    };
    let p = page(
        &store,
        &county,
        CaseFilter::default(),
        100,
        Some(&c.encode()),
    );
    assert_eq!(
        ids(&p),
        made[..=10].iter().rev().copied().collect::<Vec<_>>()
    );
}

#[test]
fn one_matter_in_two_places_is_flagged_in_both_until_it_is_merged() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let a = log.run(None, petition("gaoqiao", t, Some(ID), Category::Land), t);
    let b = log.run(None, petition("dongcheng", t, Some(ID), Category::Land), t);
    // The same person on another matter, and a namesake with another ID number.
    let other_matter = log.run(None, petition("dongcheng", t, Some(ID), Category::Wages), t);
    let namesake = log.run(
        None,
        petition("dongcheng", t, Some("11010519491231002X"), Category::Land),
        t,
    );
    let county = who(Role::County, None);
    let duplicates = |store: &Store| {
        let f = CaseFilter {
            flag: Some(Flag::Duplicate),
            ..CaseFilter::default()
        };
        let mut v = ids(&page(store, &county, f, 10, None));
        v.sort();
        v
    };
    let (_d, store) = build(&model(), &log.events, 1);
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(duplicates(&store), both);
    let row = |store: &Store, id| store.get::<Row>(&row_key(id)).expect("get").expect("row");
    assert!(!row(&store, other_matter).duplicate() && !row(&store, namesake).duplicate());

    let at = "2026-03-03T09:00:00+08:00";
    let merge = Command::Merge(MergeCase {
        late_reason: None,
        into: a,
        reason: "一信多投".into(),
        occurred_at: Some(ts(at)),
    });
    log.run(Some(b), merge, at);
    for batch in [1, 3, 1000] {
        let (_d, store) = build(&model(), &log.events, batch);
        assert!(duplicates(&store).is_empty(), "batch {batch}");
        assert_eq!(row(&store, b).case.status, Status::Merged);
    }
}

#[test]
fn an_accusation_elsewhere_gives_no_hint() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let mut secret = petition("gaoqiao", t, Some(ID), Category::Land);
    if let Command::Register(r) = &mut secret {
        r.accusation = true;
    }
    log.run(None, secret, t);
    let open = log.run(None, petition("dongcheng", t, Some(ID), Category::Land), t);
    let (_d, store) = build(&model(), &log.events, 1);
    let row = store.get::<Row>(&row_key(open)).expect("get").expect("row");
    assert!(!row.duplicate());
}

#[test]
fn a_petitioner_is_found_by_keyed_hashes_and_no_plain_identifier_is_stored() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let with_id = log.run(None, petition("gaoqiao", t, Some(ID), Category::Land), t);
    let t2 = "2026-03-03T09:30:00+08:00";
    let without_id = log.run(None, petition("dongcheng", t2, None, Category::Wages), t2);
    let (dir, store) = build(&model(), &log.events, 1000);
    let county = who(Role::County, None);
    let k = keys();
    let find = |viewer: &Principal, name: Option<&str>, id: Option<&str>, phone: Option<&str>| {
        // A name alone is looked for by itself, as the API does.
        let alone = match (name, id, phone) {
            (Some(n), None, None) => k.name(n),
            _ => None,
        };
        let probe = Probe {
            person: k.person(name, id, phone),
            name: alone,
        };
        search(&store, viewer, &probe, clock(t2))
            .expect("search")
            .iter()
            .map(|s| s.case_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find(&county, None, Some(ID), None),
        [with_id],
        "by ID number"
    );
    assert_eq!(
        find(&county, Some("张三"), None, Some("138-0000-0000")),
        [without_id, with_id],
        "by name and phone"
    );
    assert_eq!(
        find(&county, None, None, Some("13800000000")),
        [without_id, with_id],
        "by phone"
    );
    assert!(find(&county, Some("李四"), None, Some("13800000000")).is_empty());
    // Issue 33, finding 4: a name alone finds the cases of petitioners of that exact name.
    assert_eq!(
        find(&county, Some("张 三"), None, None),
        [without_id, with_id],
        "by name alone, spaces aside"
    );
    assert!(find(&county, Some("张"), None, None).is_empty(), "exact");
    assert!(find(&county, Some("李四"), None, None).is_empty());
    let clerk = who(Role::Clerk, Some("gaoqiao"));
    assert_eq!(
        find(&clerk, None, None, Some("13800000000")),
        [with_id],
        "only what the clerk may see"
    );

    store.flush_now().expect("flush");
    let plain: Vec<&[u8]> = vec![ID.as_bytes(), b"13800000000", "张三".as_bytes()];
    let files = walkdir(dir.path());
    // A control: what is stored in plain (the summary) is found by this search.
    let summary = "征地补偿款未发放".as_bytes();
    assert!(files.iter().any(|f| {
        let bytes = std::fs::read(f).expect("read");
        bytes.windows(summary.len()).any(|w| w == summary)
    }));
    for entry in files {
        let bytes = std::fs::read(&entry).expect("read");
        for p in &plain {
            assert!(
                !bytes.windows(p.len()).any(|w| w == *p),
                "{} holds a plain identifier",
                entry.display()
            );
        }
    }
}

fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_model_does_not_depend_on_batch_boundaries() {
    let mut log = Log::new();
    for i in 0..12 {
        let at = format!("2026-03-02T09:{i:02}:00+08:00");
        let township = if i % 3 == 0 { "dongcheng" } else { "gaoqiao" };
        let id = if i % 2 == 0 { Some(ID) } else { None };
        log.run(None, petition(township, &at, id, Category::Land), &at);
    }
    let (_a, one) = build(&model(), &log.events, 1);
    let (_b, all) = build(&model(), &log.events, 1000);
    assert_eq!(one.digest().expect("digest"), all.digest().expect("digest"));
}

#[test]
fn a_case_a_leader_answers_for_is_found_by_the_flag_leader() {
    let mut log = Log::new();
    let t = "2026-03-02T09:30:00+08:00";
    let owned = log.run(None, petition("gaoqiao", t, Some(ID), Category::Land), t);
    let other = log.run(None, petition("dongcheng", t, None, Category::Wages), t);
    let at = "2026-03-03T09:00:00+08:00";
    let leader = Command::AssignLeader(AssignLeader {
        late_reason: None,
        name: "王建国".into(),
        title: "副县长".into(),
        occurred_at: Some(ts(at)),
    });
    log.run(Some(owned), leader, at);
    let county = who(Role::County, None);
    for batch in [1, 1000] {
        let (_d, store) = build(&model(), &log.events, batch);
        let f = CaseFilter {
            flag: Some(Flag::Leader),
            ..CaseFilter::default()
        };
        assert_eq!(
            ids(&page(&store, &county, f, 10, None)),
            [owned],
            "batch {batch}"
        );
        assert_ne!(owned, other);
    }
}
