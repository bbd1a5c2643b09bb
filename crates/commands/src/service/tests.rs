//! The command path's branches on the stores in memory (`MemoryStores`): a concurrent writer
//! first, `If-Match`, a twin's command run again, an append whose outcome is unknown (stored or
//! lost), an unavailable log, an idempotency key reused with another body. Two services over the
//! same stores are two processes. The system tests run the same paths on real NATS.

use std::collections::BTreeMap;

use chrono::Duration;
use eventlog::port::memory::Fault;

use domain::command::{AcceptCase, Petitioner, RegisterCase, ReplyCase, SuperviseCase};
use domain::{
    CaseId, Category, Channel, Command, Level, Outcome, Policy, Principal, PrincipalId, Role,
    UnitCode, UnitKind,
};

use crate::stores::MemoryStores;
use crate::{CaseService, CommandError, CommandRequest, Executed};

const KEK: &str = "4b454b2d746573742d6b65792d30313233343536373839616263646566303132";
const SIGNING_KEY: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

fn service(stores: &MemoryStores) -> CaseService {
    let ring = cipher::Keyring::new(cipher::Kek::from_hex(KEK).expect("KEK"), vec![]);
    let dongcheng = UnitCode::parse("dongcheng").expect("unit");
    let units = BTreeMap::from([
        (gaoqiao(), UnitKind::Township),
        (dongcheng, UnitKind::Township),
    ]);
    CaseService::new(
        stores.stores(ring),
        Policy::default(),
        units,
        domain::identity::Keys::new(
            "identity-key-0123456789abcdef0123456789",
            "query-code-key-0123456789abcdef0123456789",
        )
        .expect("keys"),
        integrity::Signer::from_seed_hex(SIGNING_KEY).expect("signer"),
    )
}

fn gaoqiao() -> UnitCode {
    UnitCode::parse("gaoqiao").expect("unit")
}

fn county() -> Principal {
    Principal {
        id: PrincipalId("county-1".into()),
        role: Role::County,
        unit: None,
    }
}

fn register(svc: &CaseService) -> Command {
    Command::Register(RegisterCase {
        late_reason: None,
        township: gaoqiao(),
        channel: Channel::Visit,
        received_at: svc.now() - Duration::hours(1),
        headcount: 1,
        level_reached: Level::Township,
        category: Category::Land,
        summary: "s".into(),
        petitioners: vec![Petitioner {
            name: "赵六".into(),
            id_number: Some("110101199003074518".into()),
            phone: None,
            address: None,
        }],
        related_case_id: None,
        accusation: false,
        confidential: false,
        leader_reception: false,
        accused_unit: None,
    })
}

fn supervise(note: &str) -> Command {
    Command::Supervise(SuperviseCase {
        late_reason: None,
        note: note.into(),
        due_date: None,
        occurred_at: None,
    })
}

fn accept() -> Command {
    Command::Accept(AcceptCase {
        late_reason: None,
        new_facts: None,
        occurred_at: None,
    })
}

async fn run(
    svc: &CaseService,
    case: Option<CaseId>,
    command: Command,
) -> Result<Executed, CommandError> {
    let who = county();
    svc.execute(CommandRequest::new(&who, case, command)).await
}

async fn keyed(
    svc: &CaseService,
    case: impl Into<Option<CaseId>>,
    key: &str,
    command: Command,
) -> Result<Executed, CommandError> {
    let who = county();
    let mut req = CommandRequest::new(&who, case.into(), command.clone());
    req.idempotency = Some((key.into(), command.body()));
    svc.execute(req).await
}

/// A registered case, held (cached) by `svc`.
async fn registered(svc: &CaseService) -> CaseId {
    let out = run(svc, None, register(svc)).await.expect("register");
    assert_eq!(out.committed.version, 1);
    out.committed.case_id
}

/// Two processes over the same stores: `a` registers a case and holds it at version 1, then
/// the other supervises it (version 2). Returns the stores, `a` and the case.
async fn moved_on_by_another() -> (MemoryStores, CaseService, CaseId) {
    let stores = MemoryStores::new();
    let (a, b) = (service(&stores), service(&stores));
    let case = registered(&a).await;
    run(&b, Some(case), supervise("b")).await.expect("b first");
    (stores, a, case)
}

/// A supervision under `If-Match: if_match`, which must be a version conflict with `current`.
async fn expect_conflict(svc: &CaseService, case: CaseId, if_match: u64, current: u64) {
    let who = county();
    let mut req = CommandRequest::new(&who, Some(case), supervise("a"));
    req.if_match = Some(if_match);
    match svc.execute(req).await {
        Err(CommandError::VersionConflict {
            expected,
            current: c,
        }) => {
            assert_eq!((expected, c), (if_match, current))
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
}

async fn versions(svc: &CaseService, case: CaseId) -> Vec<u64> {
    let history = svc.history(case).await.expect("history");
    history.iter().map(|s| s.envelope.version).collect()
}

#[tokio::test]
async fn registrations_are_numbered_filed_and_see_the_petitioner_s_earlier_case() {
    let stores = MemoryStores::new();
    let svc = service(&stores);
    let first = run(&svc, None, register(&svc)).await.expect("first");
    let second = run(&svc, None, register(&svc)).await.expect("second");
    assert_ne!(first.case.case_no, second.case.case_no);
    assert!(first.peers.is_empty());
    assert_eq!(
        second.peers.iter().map(|p| p.case_id).collect::<Vec<_>>(),
        vec![first.committed.case_id],
        "filed under the petitioner before the append"
    );
    assert_eq!(stores.events.len(), 2);
}

#[tokio::test]
async fn a_writer_first_makes_the_command_decide_again_on_the_case_as_it_now_is() {
    let (stores, a, case) = moved_on_by_another().await;
    let before = stores.events.publishes();
    let out = run(&a, Some(case), supervise("a"))
        .await
        .expect("a after b");
    assert_eq!(out.committed.version, 3);
    assert!(!out.replayed);
    assert_eq!(
        stores.events.publishes() - before,
        2,
        "a conflict, then the append"
    );
    assert_eq!(versions(&a, case).await, vec![1, 2, 3]);
}

#[tokio::test]
async fn a_writer_first_under_if_match_is_a_version_conflict() {
    let (_stores, a, case) = moved_on_by_another().await;
    expect_conflict(&a, case, 1, 2).await;
    assert_eq!(versions(&a, case).await, vec![1, 2], "nothing appended");
}

#[tokio::test]
async fn if_match_on_a_stale_cache_reads_the_case_again_and_a_wrong_one_appends_nothing() {
    let (stores, a, case) = moved_on_by_another().await;
    let who = county();
    let mut req = CommandRequest::new(&who, Some(case), supervise("a"));
    req.if_match = Some(2);
    let out = a
        .execute(req.clone())
        .await
        .expect("version 2 is the log's");
    assert_eq!(out.committed.version, 3);
    let before = stores.events.publishes();
    expect_conflict(&a, case, 2, 3).await;
    assert_eq!(
        stores.events.publishes(),
        before,
        "refused before any append"
    );
}

#[tokio::test]
async fn a_refusal_on_a_cached_state_is_decided_again_on_the_log_s() {
    let stores = MemoryStores::new();
    let (a, b) = (service(&stores), service(&stores));
    let case = registered(&a).await;
    run(&b, Some(case), accept()).await.expect("b accepts");
    // `a` holds the case as registered, where a reply is refused; the log has it accepted.
    let reply = Command::Reply(ReplyCase {
        late_reason: None,
        outcome: Outcome::Explained,
        text: "答复".into(),
        occurred_at: None,
    });
    let out = run(&a, Some(case), reply).await.expect("replied");
    assert_eq!(out.committed.version, 3);
}

#[tokio::test]
async fn an_append_stored_but_not_acknowledged_is_answered_from_the_log() {
    let stores = MemoryStores::new();
    let svc = service(&stores);
    let case = registered(&svc).await;
    stores.events.inject(&[Fault::StoredUnacknowledged]);
    let out = run(&svc, Some(case), supervise("a"))
        .await
        .expect("answered");
    assert_eq!(out.committed.version, 2);
    assert_eq!(stores.events.len(), 2, "stored once, not appended again");
    // Under If-Match too: the event found is this command's, not another writer's.
    stores.events.inject(&[Fault::StoredUnacknowledged]);
    let who = county();
    let mut req = CommandRequest::new(&who, Some(case), supervise("b"));
    req.if_match = Some(2);
    let out = svc.execute(req).await.expect("answered under If-Match");
    assert_eq!(out.committed.version, 3);
    assert_eq!(versions(&svc, case).await, vec![1, 2, 3]);
}

#[tokio::test]
async fn an_append_lost_is_tried_again_under_the_same_command_id_or_answered_at_once() {
    let stores = MemoryStores::new();
    let svc = service(&stores);
    let case = registered(&svc).await;
    stores.events.inject(&[Fault::Lost]);
    let before = stores.events.publishes();
    let out = run(&svc, Some(case), supervise("a"))
        .await
        .expect("stored on retry");
    assert_eq!(out.committed.version, 2);
    assert_eq!(stores.events.publishes() - before, 2);
    // Without waiting (the ingestor's way): the unknown outcome is the answer.
    stores.events.inject(&[Fault::Lost]);
    let who = county();
    let req = CommandRequest::new(&who, Some(case), supervise("b"));
    assert!(matches!(
        svc.execute_once(req).await,
        Err(CommandError::Log(eventlog::LogError::Unknown))
    ));
    assert_eq!(versions(&svc, case).await, vec![1, 2]);
}

#[tokio::test]
async fn an_unavailable_log_is_waited_out_and_nothing_is_stored_twice() {
    let stores = MemoryStores::new();
    let svc = service(&stores);
    let case = registered(&svc).await;
    stores
        .events
        .inject(&[Fault::Unavailable, Fault::Unavailable]);
    let out = run(&svc, Some(case), supervise("a"))
        .await
        .expect("after the outage");
    assert_eq!(out.committed.version, 2);
    stores.events.inject(&[Fault::Full]);
    assert!(matches!(
        run(&svc, Some(case), supervise("b")).await,
        Err(CommandError::Log(eventlog::LogError::Full { .. }))
    ));
    assert_eq!(versions(&svc, case).await, vec![1, 2]);
}

#[tokio::test]
async fn a_twin_s_command_run_again_elsewhere_answers_with_its_result() {
    let stores = MemoryStores::new();
    let (a, b) = (service(&stores), service(&stores));
    let case = registered(&a).await;
    // `b` runs the keyed command; `a`, holding the case as it was, runs it again with the same
    // key: its append (the same message id, the old expected sequence) is a conflict, and the
    // case read again holds the command.
    let first = keyed(&b, case, "k1", supervise("x")).await.expect("b");
    let before = stores.events.len();
    let again = keyed(&a, case, "k1", supervise("x")).await.expect("a");
    assert_eq!(stores.events.len(), before, "nothing appended");
    assert!(again.replayed);
    assert_eq!(again.committed, first.committed);
    assert_eq!(again.case.version, 2);
}

#[tokio::test]
async fn a_key_used_again_with_another_body_is_refused_and_with_the_same_is_replayed() {
    let stores = MemoryStores::new();
    let svc = service(&stores);
    let case = registered(&svc).await;
    let first = keyed(&svc, case, "k1", supervise("x"))
        .await
        .expect("first");
    assert!(matches!(
        keyed(&svc, case, "k1", supervise("y")).await,
        Err(CommandError::IdempotencyMismatch)
    ));
    let again = keyed(&svc, case, "k1", supervise("x"))
        .await
        .expect("again");
    assert!(again.replayed);
    assert_eq!(again.committed, first.committed);
    assert_eq!(versions(&svc, case).await, vec![1, 2]);
    // A registration: its claim names the case its first attempt made; a retry that finds the
    // case there completes the claim with the result, which then answers alone.
    let body = register(&svc);
    let made = keyed(&svc, None, "r1", body.clone())
        .await
        .expect("registered");
    let again = keyed(&svc, None, "r1", body.clone()).await.expect("again");
    assert!(again.replayed);
    assert_eq!(again.committed, made.committed);
    let Command::Register(mut other) = body else {
        unreachable!("a registration")
    };
    other.headcount = 2;
    assert!(matches!(
        keyed(&svc, None, "r1", Command::Register(other)).await,
        Err(CommandError::IdempotencyMismatch)
    ));
    assert_eq!(stores.events.len(), 3);
}

#[tokio::test]
async fn once_a_claim_has_expired_the_case_s_own_events_still_refuse_another_body() {
    use eventlog::port::BucketPort as _;
    let stores = MemoryStores::new();
    let svc = service(&stores);
    let case = registered(&svc).await;
    keyed(&svc, case, "k2", supervise("x"))
        .await
        .expect("first");
    // The claim's bucket keeps claims for a while (max age); the log keeps the request's hash.
    let claim = crate::idempotency::command_id_for("county-1", "k2").to_string();
    stores.claims.purge(&claim, "test").await.expect("expire");
    assert!(matches!(
        keyed(&svc, case, "k2", supervise("y")).await,
        Err(CommandError::IdempotencyMismatch)
    ));
    let again = keyed(&svc, case, "k2", supervise("x"))
        .await
        .expect("the same body");
    assert!(again.replayed);
    assert_eq!(versions(&svc, case).await, vec![1, 2]);
}

/// A registration in `township` by the same petitioner as [`register`] (or `name`, another one).
fn register_in(svc: &CaseService, township: &str, name: Option<&str>) -> Command {
    let Command::Register(mut r) = register(svc) else {
        unreachable!()
    };
    r.township = UnitCode::parse(township).expect("unit");
    if let Some(name) = name {
        r.petitioners[0].name = name.into();
        r.petitioners[0].id_number = Some("11010119900307451X".into());
    }
    Command::Register(r)
}

/// A case's links as of a past point come from the log: the same petitioner's case in another
/// township is related and makes both duplicates (一信多投) once it exists, not before; a case
/// whose petitioners were corrected away since is found only when named as moved.
#[tokio::test]
async fn links_as_of_a_past_point_are_read_from_the_log() {
    let stores = MemoryStores::new();
    let svc = service(&stores);
    let first = run(&svc, None, register_in(&svc, "gaoqiao", None)).await;
    let first = first.expect("first").committed;
    let other = run(&svc, None, register_in(&svc, "dongcheng", None)).await;
    let other = other.expect("other").committed;
    let stranger = run(&svc, None, register_in(&svc, "dongcheng", Some("钱七"))).await;
    let stranger = stranger.expect("stranger").committed;
    let who = county();
    let at = |seq: u64| {
        let (svc, who) = (&svc, &who);
        async move {
            let case = svc.read_at(first.case_id, seq).await.expect("read");
            let case = case.expect("the case existed").case;
            svc.links_at(&case, seq, &[], Some((who, 200)))
                .await
                .expect("links")
        }
    };
    let before = at(first.seq).await;
    assert!(!before.duplicate && before.related.is_empty(), "{before:?}");
    let after = at(stranger.seq).await;
    assert!(after.duplicate, "{after:?}");
    let related: Vec<(CaseId, bool)> = after.related.iter().map(|(c, d)| (c.id, *d)).collect();
    assert_eq!(related, vec![(other.case_id, true)]);

    // The other case's petitioner is corrected to somebody else: now it is not related.
    let correct = Command::Correct(domain::command::CorrectRegistration {
        late_reason: None,
        reason: "录错了人".into(),
        changes: domain::command::RegistrationFacts {
            petitioners: Some(vec![Petitioner {
                name: "孙八".into(),
                id_number: Some("110101199003070011".into()),
                phone: None,
                address: None,
            }]),
            ..Default::default()
        },
        occurred_at: None,
    });
    let corrected = run(&svc, Some(other.case_id), correct).await;
    let corrected = corrected.expect("corrected").committed;
    let now = at(corrected.seq).await;
    assert!(!now.duplicate && now.related.is_empty(), "{now:?}");
    // As of before the correction the index no longer files it under the petitioner: only the
    // cases named as moved since find it.
    let case = svc
        .read_at(first.case_id, stranger.seq)
        .await
        .expect("read");
    let case = case.expect("existed").case;
    let unnamed = svc
        .links_at(&case, stranger.seq, &[], Some((&who, 200)))
        .await;
    assert!(unnamed.expect("links").related.is_empty());
    let named = svc
        .links_at(&case, stranger.seq, &[other.case_id], Some((&who, 200)))
        .await
        .expect("links");
    assert_eq!(named, after);
}
