//! Issue 15, item 5: `xinfang migrate` seals, once, a log written before sealing existed. The
//! log here is what earlier versions wrote: the first events before the chain (envelope v1), the
//! rest signed (envelope v2), all with their personal data in plain; the township feed carrying
//! it, an answered inbox message holding it, evidence stored under its plain name. After the
//! migration none of it is anywhere in the NATS store in plain, the log verifies (naming the
//! migration), every case reads as before to those entitled, stream times (`as_of`) are kept,
//! and a second run changes nothing.

use crate::common::conn;
use std::collections::BTreeMap;
use std::process::Command;

use async_nats::jetstream;
use futures::StreamExt as _;
use serde_json::{json, Value};

use crate::support::BIN;

const NAME: &str = "甄士隐";
const ID_NUMBER: &str = "330102199001011234";
const ACCUSATION: &str = "举报葫芦庙住持挪用香火钱";
const FILENAME: &str = crate::support::EVIDENCE_FILENAME;
const EVIDENCE: &str = "EVIDENCE-OF-ZHEN-7781";
const INBOX_NAME: &str = "贾雨村";

fn xinfang(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run xinfang");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The log as an earlier version would have written it: the cases' events with their personal
/// data opened and not sealed; the first `legacy` events without the chain (v1), the rest
/// signed as the chain's first version did.
fn written_before(
    events: &BTreeMap<u64, (String, eventlog::Envelope)>,
    legacy: u64,
) -> Vec<(String, Vec<u8>)> {
    let signer = testkit::config::signer();
    let mut last: BTreeMap<domain::CaseId, integrity::Hash> = BTreeMap::new();
    let mut out = Vec::new();
    for (seq, (subject, env)) in events {
        let mut env = env.clone();
        env.personal = None;
        env.key_id = None;
        env.hash = None;
        env.sig = None;
        env.prev_hash = None;
        let (bytes, hash) = if *seq <= legacy {
            let bytes = eventlog::envelope::encode(&env).expect("encode");
            let hash = integrity::sha256(&bytes);
            (bytes, hash)
        } else {
            env.prev_hash = last.get(&env.case_id).map(integrity::to_hex);
            eventlog::envelope::seal(&mut env, &signer).expect("seal")
        };
        last.insert(env.case_id, hash);
        out.push((subject.clone(), bytes));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_seals_a_log_written_before_sealing_and_keeps_it_verifiable() {
    // Cases with personal data, written by the current command path.
    let sys = testkit::system::spawn().await;
    let mut body = testkit::system::register_body();
    body["petitioners"] = json!([{"name": NAME, "id_number": ID_NUMBER, "phone": "13912345678"}]);
    let (s, case, _) = sys.post("county-token", "/v1/cases", &body).await;
    assert_eq!(s, 201, "{case}");
    let mut accusation = testkit::system::register_body();
    accusation["accusation"] = json!(true);
    accusation["summary"] = json!(ACCUSATION);
    let (s, acc, _) = sys.post("county-token", "/v1/cases", &accusation).await;
    assert_eq!(s, 201, "{acc}");
    let id = case["case_id"].as_str().expect("id").to_owned();
    let (pdf, _) = crate::support::upload_evidence(&sys.base, &id, EVIDENCE).await;
    let (s, accepted, _) = sys
        .post(
            "clerk-gaoqiao-token",
            &format!("/v1/cases/{id}/accept"),
            &json!({}),
        )
        .await;
    assert!(s < 300, "{accepted}");
    let ids: Vec<domain::CaseId> = [&case, &acc]
        .iter()
        .map(|c| domain::CaseId::parse(c["case_id"].as_str().expect("id")).expect("id"))
        .collect();
    let cases = sys.cases().await;
    let mut events = BTreeMap::new();
    for id in &ids {
        for s in cases.history(*id).await.expect("history") {
            events.insert(s.seq, (s.subject, s.envelope));
        }
    }
    let types: Vec<_> = events.values().map(|(_, e)| e.event.type_name()).collect();
    assert_eq!(
        events.len(),
        4,
        "two registrations, evidence, acceptance: {types:?}"
    );
    drop(sys);

    // The same log as written before sealing, with its companions, on a server of its own.
    let old = testkit::NatsServer::start();
    let js = jetstream::new(old.connect().await);
    let log = eventlog::EventLog::open(&conn(&js), &eventlog::LogConfig::default())
        .await
        .expect("log");
    for (subject, bytes) in written_before(&events, 2) {
        js.publish(subject, bytes.into())
            .await
            .expect("publish")
            .await
            .expect("ack");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let attachments = eventlog::Attachments::open(&conn(&js), 1)
        .await
        .expect("store");
    let sha = attachments.put(&pdf).await.expect("plain evidence");
    eventlog::inbox::open_feed(&conn(&js), 1)
        .await
        .expect("feed");
    let (_, (_, registration)) = events.first_key_value().expect("first");
    let mut feed_event = serde_json::to_value(&registration.event).expect("event");
    feed_event["case_id"] = json!(id);
    feed_event["seq"] = json!(1);
    let feed_subject = eventlog::subjects::feed_of("county", &id);
    eventlog::inbox::publish_once(
        &conn(&js),
        feed_subject,
        "1-county",
        feed_event.to_string().into_bytes(),
    )
    .await
    .expect("feed message");
    let township = eventlog::inbox::InboxTownship {
        unit: domain::UnitCode::parse("gaoqiao").expect("unit"),
        leaf_domain: None,
    };
    let (_, mut inbox) = eventlog::inbox::Inbox::open(&conn(&js), 1, &[township])
        .await
        .expect("inbox");
    let mut reg = testkit::system::register_body();
    reg["petitioners"] = json!([{"name": INBOX_NAME, "phone": "13711112222"}]);
    js.publish(
        eventlog::subjects::inbox("gaoqiao", "register"),
        reg.to_string().into(),
    )
    .await
    .expect("publish")
    .await
    .expect("stored");
    let answered = inbox.next().await.expect("a message").expect("message");
    answered.ack_confirmed().await.expect("answered");
    let times: Vec<_> = {
        let mut t = Vec::new();
        for seq in 1..=4 {
            t.push(log.stream_time(seq).await.expect("time").expect("stored"));
        }
        t
    };

    let values = [NAME, ID_NUMBER, ACCUSATION, FILENAME, EVIDENCE, INBOX_NAME];
    let before = crate::support::plain_values(old.store.path(), &values, 15);
    for v in values {
        assert!(
            before.iter().any(|(_, found)| found == v),
            "{v} is in plain in the old store: {before:?}"
        );
    }

    // Migrate.
    let dir = tempfile::tempdir().expect("dir");
    let config = testkit::TestConfig::county()
        .nats_url(old.url())
        .http_port(testkit::free_port())
        .data_dir(&dir.path().join("data"))
        .write(dir.path());
    let cfg = config.to_string_lossy().into_owned();
    let (ok, out, err) = xinfang(&["migrate", "--config", &cfg]);
    assert!(ok, "migrate: {out}{err}");
    let done: Value = serde_json::from_str(out.split("rebuilt").next().unwrap_or(&out))
        .unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(done["events"], 4, "{done}");
    // Both registrations and the evidence held personal data; the acceptance followed them.
    assert_eq!(done["sealed_events"], 3, "{done}");
    assert_eq!(done["rewritten_events"], 4, "{done}");
    assert_eq!(done["feed_messages"], 1, "{done}");
    assert_eq!(done["inbox_messages_erased"], 1, "{done}");
    assert_eq!(done["attachments_sealed"], 1, "{done}");

    let after = crate::support::plain_values(old.store.path(), &values, 15);
    assert_eq!(
        after,
        Vec::<(String, String)>::new(),
        "plain personal data after migrating"
    );
    assert_eq!(
        crate::support::plain_values(dir.path(), &values, 3),
        Vec::<(String, String)>::new()
    );

    // The log verifies and names the migration; the old checkpoints are of the old log.
    let (ok, out, err) = xinfang(&["verify", "--config", &cfg]);
    assert!(ok, "verify after migrating: {out}{err}");
    assert!(out.contains("migrated at"), "{out}");

    // Stream times are those of the original messages, so `as_of` answers as before.
    let log = eventlog::EventLog::open(&conn(&js), &eventlog::LogConfig::default())
        .await
        .expect("log");
    for (i, t) in times.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(
            log.stream_time(seq).await.expect("time").as_ref(),
            Some(t),
            "seq {seq}"
        );
    }

    // Those entitled read every case as before; the evidence opens under its case's key.
    let migrated = xinfang::serve::cases_of(&config, "test-migrated")
        .await
        .expect("cases");
    for id in &ids {
        let now = migrated.history(*id).await.expect("history");
        let was: Vec<_> = events.values().filter(|(_, e)| e.case_id == *id).collect();
        assert_eq!(now.len(), was.len());
        for (n, (_, w)) in now.iter().zip(&was) {
            assert_eq!(n.envelope.event, w.event, "case {id} version {}", w.version);
            assert!(n.envelope.migrated_at.is_some(), "{:?}", n.envelope);
        }
    }
    let opened = migrated
        .evidence(ids[0], false, &sha)
        .await
        .expect("evidence");
    assert_eq!(opened, Some(pdf));
    drop(migrated);

    // Once is enough: a second run finds nothing to do and writes nothing.
    let checkpoints = eventlog::Checkpoints::open(&conn(&js), 1)
        .await
        .expect("checkpoints");
    let (cps, last) = (
        checkpoints.last_seq().await.expect("cps"),
        log.last_seq().await.expect("last"),
    );
    let (ok, out, err) = xinfang(&["migrate", "--config", &cfg]);
    assert!(ok, "second migrate: {out}{err}");
    let again: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(again["rewritten_events"], 0, "{again}");
    assert_eq!(again["feed_messages"], 0, "{again}");
    assert_eq!(checkpoints.last_seq().await.expect("cps"), cps);
    assert_eq!(log.last_seq().await.expect("last"), last);
}
