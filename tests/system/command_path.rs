//! The event log against a real nats-server: optimistic appends, dedupe, case reads, idempotency.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::DateTime;

use crate::common::{conn, county, register_command};
use commands::{CaseService, CommandError, CommandRequest};
use domain::command::AcceptCase;
use domain::*;
use eventlog::*;
use testkit::NatsServer;
use uuid::Uuid;

fn units() -> BTreeMap<UnitCode, UnitKind> {
    [
        ("gaoqiao", UnitKind::Township),
        ("land", UnitKind::Department),
    ]
    .into_iter()
    .map(|(c, k)| (UnitCode::parse(c).expect("unit"), k))
    .collect()
}

fn register() -> Command {
    register_command(
        Channel::Letter,
        1,
        DateTime::parse_from_rfc3339("2026-03-02T09:30:00+08:00").expect("ts"),
    )
}

/// The log the services write, opened beside them (for raw appends and the notary).
async fn log(server: &NatsServer) -> EventLog {
    let js = async_nats::jetstream::new(server.connect().await);
    EventLog::open(&conn(&js), &LogConfig::default())
        .await
        .expect("stream")
}

async fn service(server: &NatsServer) -> CaseService {
    service_with_window(server, LogConfig::default().duplicate_window).await
}

#[tokio::test]
async fn append_read_and_expected_sequence() {
    let server = NatsServer::start();
    let svc = service(&server).await;
    let p = county();
    let out = svc
        .execute(CommandRequest::new(&p, None, register()))
        .await
        .expect("register");
    let id = out.committed.case_id;
    assert_eq!(out.committed.version, 1);
    let accepted = svc
        .execute(CommandRequest::new(
            &p,
            Some(id),
            Command::Accept(AcceptCase {
                late_reason: None,
                occurred_at: None,
                new_facts: None,
            }),
        ))
        .await
        .expect("accept");
    assert_eq!(accepted.committed.version, 2);
    assert_eq!(accepted.case.status, Status::Accepted);

    // A second service (another process) with a stale view still decides against the log.
    let other = service(&server).await;
    let loaded = other.read(id).await.expect("read").expect("case exists");
    assert_eq!(loaded.case.version, 2);
    assert_eq!(loaded.seq, accepted.committed.seq);
    let history = other.history(id).await.expect("history");
    let versions: Vec<u64> = history.iter().map(|s| s.envelope.version).collect();
    assert_eq!(versions, vec![1, 2]);
    assert_eq!(history[1].envelope.event.type_name(), "CaseAccepted");

    // A raw append with a stale expected sequence is refused and stores nothing.
    let mut env = history[1].envelope.clone();
    env.command_id = Uuid::now_v7();
    let err = log(&server)
        .await
        .append(&history[0].subject, history[0].seq, &env)
        .await
        .expect_err("stale");
    assert!(matches!(err, LogError::Conflict), "{err}");
    assert_eq!(svc.history(id).await.expect("history").len(), 2);
    // The same command id again inside the duplicate window is a duplicate, not a second event.
    let (seq, dup) = log(&server)
        .await
        .append(
            &history[1].subject,
            accepted.committed.seq,
            &history[1].envelope,
        )
        .await
        .expect("dedupe");
    assert!(dup);
    assert_eq!(seq, accepted.committed.seq);
    assert!(svc
        .read(CaseId(Uuid::now_v7()))
        .await
        .expect("read")
        .is_none());
}

#[tokio::test]
async fn idempotency_key_survives_the_duplicate_window_and_detects_other_bodies() {
    let server = NatsServer::start();
    let svc = service(&server).await;
    let p = county();
    let body = serde_json::json!({"a": 1});
    let with_key = |body: serde_json::Value| CommandRequest {
        idempotency: Some(("key-1".to_string(), body)),
        ..CommandRequest::new(&p, None, register())
    };
    let first = svc.execute(with_key(body.clone())).await.expect("first");
    let again = svc.execute(with_key(body.clone())).await.expect("again");
    assert!(again.replayed);
    assert_eq!(again.committed, first.committed);
    // A fresh service has no cache and no duplicate window help: the KV record answers.
    let fresh = service(&server).await;
    let third = fresh.execute(with_key(body)).await.expect("third");
    assert_eq!(third.committed, first.committed);
    assert_eq!(
        fresh.last_seq().await.expect("seq"),
        first.committed.seq,
        "nothing appended"
    );
    let err = fresh
        .execute(with_key(serde_json::json!({"a": 2})))
        .await
        .expect_err("mismatch");
    assert!(matches!(err, CommandError::IdempotencyMismatch));
}

/// A service on a stream whose duplicate window is `window`.
async fn service_with_window(server: &NatsServer, window: Duration) -> CaseService {
    let js = async_nats::jetstream::new(server.connect().await);
    let cfg = LogConfig {
        duplicate_window: window,
        ..LogConfig::default()
    };
    let log = EventLog::open(&conn(&js), &cfg).await.expect("stream");
    let stores = testkit::config::stores(&js, log, 1).await;
    CaseService::new(
        stores,
        Policy::default(),
        units(),
        testkit::config::test_keys(),
        testkit::config::signer(),
    )
}

#[tokio::test]
async fn a_keyed_action_is_recognised_in_the_case_log_after_the_duplicate_window() {
    let server = NatsServer::start();
    let svc = service_with_window(&server, Duration::from_secs(1)).await;
    let p = county();
    let id = svc
        .execute(CommandRequest::new(&p, None, register()))
        .await
        .expect("register")
        .committed
        .case_id;
    let accept = |key: &str, body: serde_json::Value| CommandRequest {
        idempotency: Some((key.to_string(), body)),
        ..CommandRequest::new(
            &p,
            Some(id),
            Command::Accept(AcceptCase {
                late_reason: None,
                occurred_at: None,
                new_facts: None,
            }),
        )
    };
    let first = svc
        .execute(accept("acc-1", serde_json::json!({})))
        .await
        .expect("accept");
    assert!(!first.replayed);
    // Past the stream's duplicate window, on a service with nothing cached: only the log knows.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let fresh = service_with_window(&server, Duration::from_secs(1)).await;
    let again = fresh
        .execute(accept("acc-1", serde_json::json!({})))
        .await
        .expect("retry");
    assert!(again.replayed);
    assert_eq!(again.committed, first.committed);
    assert_eq!(again.case.version, 2);
    let err = fresh
        .execute(accept(
            "acc-1",
            serde_json::json!({"occurred_at": null, "x": 1}),
        ))
        .await
        .expect_err("same key, other request");
    assert!(matches!(err, CommandError::IdempotencyMismatch));
    assert_eq!(
        fresh.last_seq().await.expect("seq"),
        first.committed.seq,
        "nothing appended by the retries"
    );
    // The twin in the process that applied it is answered from its cache the same way.
    let cached = svc
        .execute(accept("acc-1", serde_json::json!({})))
        .await
        .expect("cached retry");
    assert_eq!(cached.committed, first.committed);
    // The key on another case is another request, also past the window.
    let other = fresh
        .execute(CommandRequest::new(&p, None, register()))
        .await
        .expect("second case")
        .committed
        .case_id;
    let elsewhere = CommandRequest {
        idempotency: Some(("acc-1".to_string(), serde_json::json!({}))),
        ..CommandRequest::new(
            &p,
            Some(other),
            Command::Accept(AcceptCase {
                late_reason: None,
                occurred_at: None,
                new_facts: None,
            }),
        )
    };
    let err = fresh
        .execute(elsewhere)
        .await
        .expect_err("same key, other case");
    assert!(matches!(err, CommandError::IdempotencyMismatch));
    // A new key on the same action is a new command, refused by the rules.
    let refused = fresh
        .execute(accept("acc-2", serde_json::json!({})))
        .await
        .expect_err("accepting twice");
    assert!(matches!(refused, CommandError::Domain(_)));
}

#[tokio::test]
async fn keyed_twins_in_two_processes_apply_once() {
    let server = NatsServer::start();
    let a = service(&server).await;
    let b = service(&server).await;
    let p = county();
    let id = a
        .execute(CommandRequest::new(&p, None, register()))
        .await
        .expect("register")
        .committed
        .case_id;
    // b caches the case at version 1, then a accepts it with the key.
    assert_eq!(
        b.read(id).await.expect("read").map(|l| l.case.version),
        Some(1)
    );
    let keyed = || CommandRequest {
        idempotency: Some(("twin".to_string(), serde_json::json!({}))),
        ..CommandRequest::new(
            &p,
            Some(id),
            Command::Accept(AcceptCase {
                late_reason: None,
                occurred_at: None,
                new_facts: None,
            }),
        )
    };
    let (ra, rb) = tokio::join!(a.execute(keyed()), b.execute(keyed()));
    let (ra, rb) = (ra.expect("a"), rb.expect("b"));
    assert_eq!(ra.committed, rb.committed);
    assert!(
        ra.replayed != rb.replayed,
        "one applied it, the other replayed it"
    );
    assert_eq!(a.history(id).await.expect("history").len(), 2);
}

/// Issue 11: nothing empty is ever written to a stream that nothing may rewrite. An empty message
/// among a batch is refused before anything is sent, with its own error kind.
#[tokio::test]
async fn an_empty_message_is_refused_before_anything_is_published() {
    let server = NatsServer::start();
    let js = async_nats::jetstream::new(server.connect().await);
    eventlog::inbox::open_feed(&conn(&js), 1)
        .await
        .expect("feed stream");
    let subject = || eventlog::subjects::feed_of("gaoqiao", "case-1");
    let refused = eventlog::inbox::publish_all(
        &conn(&js),
        vec![
            (subject(), "1-gaoqiao".into(), b"{}".to_vec()),
            (subject(), "2-gaoqiao".into(), Vec::new()),
        ],
    )
    .await;
    assert!(matches!(refused, Err(LogError::Empty)), "{refused:?}");
    let once = eventlog::inbox::publish_once(&conn(&js), subject(), "3-gaoqiao", Vec::new()).await;
    assert!(matches!(once, Err(LogError::Empty)), "{once:?}");
    let mut feed = js.get_stream("XF_FEED").await.expect("stream");
    assert_eq!(feed.info().await.expect("info").state.messages, 0);
}

/// The genesis rule (docs/events.md, "Envelope v2"): an event written before the chain keeps its
/// bytes, its hash is theirs, and the case's first sealed event names it in `prev_hash`; the
/// log verifies. An unsealed event after the first sealed one is a finding.
#[tokio::test]
async fn events_written_before_the_chain_are_its_genesis() {
    // A registration as a build before envelope v2 wrote it, first in a log of its own.
    let source = NatsServer::start();
    let sealed = service(&source).await;
    let p = county();
    let out = sealed
        .execute(CommandRequest::new(&p, None, register()))
        .await
        .expect("register");
    let mut old = sealed
        .history(out.committed.case_id)
        .await
        .expect("history")[0]
        .envelope
        .clone();
    (old.key_id, old.hash, old.sig, old.prev_hash) = (None, None, None, None);
    let server = NatsServer::start();
    let svc = service(&server).await;
    let subject = eventlog::log::case_subject(&old.township, old.case_id);
    let log = log(&server).await;
    log.append(&subject, 0, &old).await.expect("legacy append");
    let accepted = svc
        .execute(CommandRequest::new(
            &p,
            Some(old.case_id),
            Command::Accept(AcceptCase {
                late_reason: None,
                occurred_at: None,
                new_facts: None,
            }),
        ))
        .await
        .expect("accept");
    let history = svc.history(old.case_id).await.expect("history");
    assert!(history[0].envelope.sig.is_none());
    let genesis = integrity::sha256(&history[0].raw);
    assert_eq!(
        history[1].envelope.prev_hash.as_deref(),
        Some(integrity::to_hex(&genesis).as_str())
    );
    let keys = integrity::KeySet::new(vec![integrity::PublicKey::new(
        &testkit::config::signer().public_key(),
        None,
        None,
    )])
    .expect("keys");
    let checkpoints = eventlog::Checkpoints::open(log.connection().expect("on NATS"), 1)
        .await
        .expect("checkpoints");
    let report = maintenance::notary::verify_log(&log, &checkpoints, &keys, true, |_, _| {})
        .await
        .expect("verify");
    assert!(report.ok, "{}", report.text());
    assert_eq!((report.events, report.signatures_checked), (2, 1));

    // An unsealed event after that is not legacy: it is named.
    let mut late = history[1].envelope.clone();
    (late.key_id, late.hash, late.sig) = (None, None, None);
    late.version = 3;
    late.command_id = Uuid::now_v7();
    log.append(&subject, accepted.committed.seq, &late)
        .await
        .expect("append");
    let report = maintenance::notary::verify_log(&log, &checkpoints, &keys, false, |_, _| {})
        .await
        .expect("verify");
    let seq = accepted.committed.seq + 1;
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.seq == Some(seq) && f.code == "unsigned"),
        "{}",
        report.text()
    );
}

/// The notary keeps no store: stopped and started again it resumes from the frontier its last
/// checkpoint carries, and two at once never fork the checkpoints; the log verifies against
/// every checkpoint they wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notaries_resume_from_their_checkpoints_and_never_fork() {
    let server = NatsServer::start();
    let svc = service(&server).await;
    let p = county();
    let log = log(&server).await;
    let checkpoints = eventlog::Checkpoints::open(log.connection().expect("on NATS"), 1)
        .await
        .expect("checkpoints");
    let keys = || {
        integrity::KeySet::new(vec![integrity::PublicKey::new(
            &testkit::config::signer().public_key(),
            None,
            None,
        )])
        .expect("keys")
    };
    let notary = || maintenance::notary::Notary {
        log: log.clone(),
        checkpoints: checkpoints.clone(),
        signer: testkit::config::signer(),
        keys: keys(),
        every: 3,
        interval: Duration::from_millis(300),
    };
    let register_some = |n: usize| {
        let svc = &svc;
        let p = &p;
        async move {
            for _ in 0..n {
                svc.execute(CommandRequest::new(p, None, register()))
                    .await
                    .expect("register");
            }
        }
    };
    let covered = |seq: u64| {
        let checkpoints = checkpoints.clone();
        async move {
            let last = checkpoints.last_seq().await.ok()?;
            let cp = checkpoints.get(last).await.ok()??.ok()?;
            (cp.last_seq >= seq).then_some(last)
        }
    };
    register_some(5).await;
    let first = tokio::spawn(notary().run(std::future::pending()));
    let last = svc.last_seq().await.expect("last");
    testkit::eventually(Duration::from_secs(10), "a checkpoint of 5", || {
        covered(last)
    })
    .await;
    first.abort();
    let _ = first.await;
    register_some(7).await;
    // Two notaries at once, resuming from the first one's checkpoint.
    let (a, b) = (
        tokio::spawn(notary().run(std::future::pending())),
        tokio::spawn(notary().run(std::future::pending())),
    );
    let last = svc.last_seq().await.expect("last");
    testkit::eventually(Duration::from_secs(10), "a checkpoint of 12", || {
        covered(last)
    })
    .await;
    a.abort();
    b.abort();
    let all = checkpoints.all().await.expect("all");
    assert!(all.len() >= 3, "{} checkpoints", all.len());
    let sizes: Vec<u64> = all
        .iter()
        .map(|(_, c)| c.as_ref().expect("a checkpoint").tree_size)
        .collect();
    assert!(
        sizes.windows(2).all(|w| w[0] < w[1]),
        "no fork, no repeat: {sizes:?}"
    );
    let report = maintenance::notary::verify_log(&log, &checkpoints, &keys(), false, |_, _| {})
        .await
        .expect("verify");
    assert!(report.ok, "{}", report.text());
    assert_eq!(report.checkpoint_seq, Some(last));
    assert_eq!(
        report.signatures_checked, 0,
        "every event covered by a checkpoint"
    );
}

/// Issue 31: case numbers are leased in blocks when registrations come fast, one at a time when
/// they come slowly. Two processes drawing at once never share a number; a quiet process draws
/// the next number of the series (no block is taken, so a restart skips none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_numbers_are_leased_in_blocks_only_when_busy_and_never_given_twice() {
    let server = NatsServer::start();
    let js = async_nats::jetstream::new(server.connect().await);
    let (a, b) = (
        Counters::open(&conn(&js), 1).await.expect("counters"),
        Counters::open(&conn(&js), 1).await.expect("counters"),
    );
    // Quiet: three draws, one a second apart in two processes, are 1, 2, 3.
    assert_eq!(a.next("quiet.2026").await.expect("draw"), 1);
    assert_eq!(b.next("quiet.2026").await.expect("draw"), 2);
    assert_eq!(a.next("quiet.2026").await.expect("draw"), 3);

    // Busy: 2 × 400 draws as fast as they go, from both processes at once.
    let draw = |c: Counters| async move {
        let mut got = Vec::new();
        for _ in 0..400 {
            got.push(c.next("busy.2026").await.expect("draw"));
        }
        got
    };
    let (x, y) = tokio::join!(tokio::spawn(draw(a.clone())), tokio::spawn(draw(b.clone())));
    let mut all: Vec<u64> = x
        .expect("task")
        .into_iter()
        .chain(y.expect("task"))
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "a number was given twice");
    // Blocks were leased: far fewer writes than draws (each write is a revision of the bucket;
    // one round trip a draw would make at least 800), and the series advanced past what was
    // drawn by less than two largest blocks (the rest of each process's last block).
    let kv = js.get_key_value("XF_CASE_NUMBERS").await.expect("bucket");
    let entry = kv.entry("busy.2026").await.expect("get").expect("counter");
    let last: u64 = std::str::from_utf8(&entry.value)
        .expect("utf8")
        .parse()
        .expect("number");
    assert!(
        (800..800 + 2 * counters::MAX_LEASE).contains(&last),
        "{last}"
    );
    assert!(
        entry.revision < 400,
        "{} writes for 800 draws",
        entry.revision
    );
}
