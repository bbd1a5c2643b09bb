//! Township integration over NATS: inbox messages become commands, every message gets an outcome,
//! Nats-Msg-Id is the durable idempotency key, nothing is dropped.

use std::time::Duration;

use crate::common::*;
use async_nats::HeaderMap;
use serde_json::{json, Value};

struct Township {
    js: async_nats::jetstream::Context,
    outcomes: async_nats::jetstream::stream::Stream,
}

impl Township {
    async fn publish(&self, subject: &str, msg_id: Option<&str>, body: &[u8]) {
        let mut h = HeaderMap::new();
        if let Some(id) = msg_id {
            h.insert("Nats-Msg-Id", id);
        }
        self.js
            .publish_with_headers(subject.to_owned(), h, body.to_vec().into())
            .await
            .expect("publish")
            .await
            .expect("stored in the inbox");
    }

    /// The outcome for one message id, waiting for it.
    async fn outcome(&self, township: &str, msg_id: &str) -> Value {
        let subject = format!("xf.outcome.{township}.{msg_id}");
        testkit::eventually(Duration::from_secs(20), "an outcome", || {
            let (s, subject) = (self.outcomes.clone(), subject.clone());
            async move {
                let m = s.direct_get_last_for_subject(subject).await.ok()?;
                serde_json::from_slice(&m.payload).ok()
            }
        })
        .await
    }
}

async fn start(app: &App) -> Township {
    let cfg = test_config();
    let client = app.nats.connect().await;
    let c2 = client.clone();
    tokio::spawn(async move {
        xinfang::serve::run_ingestor_with(&cfg, c2, std::future::pending()).await
    });
    let js = async_nats::jetstream::new(client);
    let outcomes = testkit::eventually(Duration::from_secs(10), "the outcome stream", || {
        let js = js.clone();
        async move { js.get_stream("XF_OUTCOMES").await.ok() }
    })
    .await;
    Township { js, outcomes }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_messages_are_applied_once_and_answered() {
    let app = spawn_app().await;
    let t = start(&app).await;
    let mut reg = register_body();
    reg.as_object_mut().expect("obj").remove("township");
    t.publish(
        "xf.inbox.gaoqiao.register",
        Some("GQ-0001"),
        reg.to_string().as_bytes(),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-0001").await;
    assert_eq!(out["status"], "applied", "{out}");
    assert_eq!(out["version"], 1);
    let id = out["case_id"].as_str().expect("case id").to_owned();
    // A registration's outcome tells the petitioner's case number and query code.
    assert!(
        out["case_no"]
            .as_str()
            .is_some_and(|n| n.starts_with("GAOQIAO-")),
        "{out}"
    );
    assert!(
        out["query_code"].as_str().is_some_and(|c| c.len() >= 8),
        "{out}"
    );

    let accept = json!({"case_id": id, "occurred_at": "2026-03-03T09:00:00+08:00"});
    t.publish(
        "xf.inbox.gaoqiao.accept",
        Some("GQ-0002"),
        accept.to_string().as_bytes(),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-0002").await;
    assert_eq!(
        (out["status"].as_str(), out["version"].as_u64()),
        (Some("applied"), Some(2)),
        "{out}"
    );

    // The same record sent again (a township resync): answered with the original result, not applied twice.
    t.publish(
        "xf.inbox.gaoqiao.accept",
        Some("GQ-0002"),
        accept.to_string().as_bytes(),
    )
    .await;
    t.publish(
        "xf.inbox.gaoqiao.register",
        Some("GQ-0001"),
        reg.to_string().as_bytes(),
    )
    .await;
    assert_eq!(app.history_len(&id).await, 2);
    let (_, case) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(case["version"], 2);
    assert_eq!(case["township"], "gaoqiao");

    // An illegal transition is rejected with the same problem object as HTTP.
    t.publish(
        "xf.inbox.gaoqiao.close",
        Some("GQ-0003"),
        json!({"case_id": id}).to_string().as_bytes(),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-0003").await;
    assert_eq!(out["status"], "rejected");
    assert_eq!(out["error"]["code"], "invalid_transition", "{out}");
    assert_eq!(out["error"]["status"], 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_get_a_rejection_and_stay_inspectable() {
    let app = spawn_app().await;
    let t = start(&app).await;
    let gaoqiao_case = app.register().await;
    // Unreadable JSON, a missing case id, an unknown action, a wrong field type.
    t.publish("xf.inbox.dongcheng.register", Some("DC-1"), b"{not json")
        .await;
    t.publish("xf.inbox.dongcheng.accept", Some("DC-2"), b"{}")
        .await;
    t.publish("xf.inbox.dongcheng.fly", Some("DC-3"), b"{}")
        .await;
    t.publish(
        "xf.inbox.dongcheng.register",
        Some("DC-4"),
        br#"{"channel": 5}"#,
    )
    .await;
    for id in ["DC-1", "DC-2", "DC-3", "DC-4"] {
        let out = t.outcome("dongcheng", id).await;
        assert_eq!(
            (out["status"].as_str(), out["error"]["code"].as_str()),
            (Some("rejected"), Some("validation")),
            "{id}: {out}"
        );
    }
    // Another township's case does not exist for dongcheng; registering for another township is refused.
    t.publish(
        "xf.inbox.dongcheng.accept",
        Some("DC-5"),
        json!({"case_id": gaoqiao_case}).to_string().as_bytes(),
    )
    .await;
    let out = t.outcome("dongcheng", "DC-5").await;
    assert_eq!(out["error"]["code"], "not_found", "{out}");
    t.publish(
        "xf.inbox.dongcheng.register",
        Some("DC-6"),
        register_body().to_string().as_bytes(),
    )
    .await;
    let out = t.outcome("dongcheng", "DC-6").await;
    assert_eq!(out["error"]["code"], "forbidden", "{out}");
    // The rejected message stays inspectable in its outcome, without its personal data.
    assert_eq!(out["body"]["channel"], "visit", "{out}");
    assert!(out["body"].get("petitioners").is_none(), "{out}");
    assert!(!out.to_string().contains("330102199001011234"), "{out}");
    let unreadable = t.outcome("dongcheng", "DC-1").await;
    assert_eq!(
        unreadable["body"],
        json!({"unreadable_bytes": 9}),
        "{unreadable}"
    );
    // No msg id: still answered, under the inbox sequence.
    t.publish("xf.inbox.dongcheng.accept", None, b"{}").await;
    let mut stream = t.js.get_stream("XF_INBOX_dongcheng").await.expect("inbox");
    let last = stream.info().await.expect("info").state.last_sequence;
    let out = t.outcome("dongcheng", &format!("seq-{last}")).await;
    assert_eq!(out["status"], "rejected");
    // Every answered message is erased from the inbox stream (its plain body goes with it), and
    // nothing reached the case log.
    testkit::eventually(Duration::from_secs(10), "the inbox emptied", || {
        let mut stream = stream.clone();
        async move { (stream.info().await.ok()?.state.messages == 0).then_some(()) }
    })
    .await;
    assert_eq!(app.history_len(&gaoqiao_case).await, 1);
}

/// Finding 1: two townships that number their records alike. Each township's inbox is its own
/// stream, so the same `Nats-Msg-Id` is stored, applied and answered for both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn townships_numbering_alike_do_not_suppress_each_other() {
    let app = spawn_app().await;
    let t = start(&app).await;
    let mut acks = Vec::new();
    for township in ["dongcheng", "gaoqiao"] {
        let mut reg = register_body();
        reg["township"] = json!(township);
        let mut h = HeaderMap::new();
        h.insert("Nats-Msg-Id", "REC-1");
        let ack =
            t.js.publish_with_headers(
                format!("xf.inbox.{township}.register"),
                h,
                reg.to_string().into_bytes().into(),
            )
            .await
            .expect("publish")
            .await
            .expect("stored");
        acks.push(ack);
    }
    assert!(acks.iter().all(|a| !a.duplicate), "{acks:?}");
    let mut cases = Vec::new();
    for township in ["dongcheng", "gaoqiao"] {
        let out = t.outcome(township, "REC-1").await;
        assert_eq!(out["status"], "applied", "{township}: {out}");
        let id = out["case_id"].as_str().expect("case id").to_owned();
        let (_, case) = app.get("county-token", &format!("/v1/cases/{id}")).await;
        assert_eq!(case["township"], township);
        cases.push(id);
    }
    assert_ne!(cases[0], cases[1]);
}

/// Findings 6 and 7: a subject with an extra token is answered on the township's own outcome
/// subject under its record id; an error never repeats a value of the body (a phone sent as a
/// number came back in the stored outcome).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_subjects_and_bodies_are_answered_where_the_township_reads() {
    let app = spawn_app().await;
    let t = start(&app).await;
    t.publish(
        "xf.inbox.gaoqiao.register.extra",
        Some("GQ-X1"),
        register_body().to_string().as_bytes(),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-X1").await;
    assert_eq!(out["status"], "rejected", "{out}");
    assert_eq!(out["error"]["code"], "validation", "{out}");
    assert!(out["error"]["detail"]
        .as_str()
        .expect("detail")
        .contains("register.extra"));

    let mut reg = register_body();
    reg["petitioners"][0]["phone"] = json!(13912345678u64);
    t.publish(
        "xf.inbox.gaoqiao.register",
        Some("GQ-X2"),
        reg.to_string().as_bytes(),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-X2").await;
    assert_eq!(out["error"]["code"], "validation", "{out}");
    let text = out.to_string();
    assert!(
        !text.contains("13912345678"),
        "personal data echoed: {text}"
    );
    assert!(text.contains("petitioners[0].phone"), "{text}");
}

/// A message that was taken many times without an answer (an ingestor that died on it each
/// time) is answered `rejected` once, never dropped by a delivery limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_gets_a_rejection_not_silence() {
    use futures::StreamExt as _;
    let app = spawn_app().await;
    let client = app.nats.connect().await;
    let js = async_nats::jetstream::new(client);
    let townships = [eventlog::inbox::InboxTownship {
        unit: domain::UnitCode::parse("gaoqiao").expect("unit"),
        leaf_domain: None,
    }];
    let (_, mut messages) = eventlog::inbox::Inbox::open(&conn(&js), 1, &townships)
        .await
        .expect("inbox");
    let mut h = HeaderMap::new();
    h.insert("Nats-Msg-Id", "GQ-POISON");
    js.publish_with_headers("xf.inbox.gaoqiao.accept", h, "{}".into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    // Crashed ingestors: the message is taken and given back more often than the ingestor allows.
    for round in 0..=inbox::POISON_AFTER {
        let msg = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("delivered")
            .expect("a message")
            .expect("ok");
        // The last one comes back only after this crashed ingestor's pull requests are gone,
        // so the real ingestor gets it.
        let delay = (round == inbox::POISON_AFTER).then(|| Duration::from_secs(3));
        msg.retry_after(delay.unwrap_or_default())
            .await
            .expect("nak");
    }
    drop(messages);
    let t = start(&app).await;
    // Should a delivery still go to the dropped pull, it comes back after the 30 s ack wait.
    let out: Value = testkit::eventually(Duration::from_secs(60), "the poison outcome", || {
        let s = t.outcomes.clone();
        async move {
            let m = s
                .direct_get_last_for_subject("xf.outcome.gaoqiao.GQ-POISON")
                .await
                .ok()?;
            serde_json::from_slice(&m.payload).ok()
        }
    })
    .await;
    assert_eq!(out["status"], "rejected", "{out}");
    assert_eq!(out["error"]["code"], "internal", "{out}");
}

/// A record id re-used with another body: inside the stream's duplicate window the PubAck says
/// `duplicate` and the first outcome stands; after it the message is stored and answered
/// `idempotency_mismatch` (docs/integration.md). The window is shortened to 1 s for the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_id_reused_with_another_body_is_a_mismatch_after_the_window() {
    let app = spawn_app().await;
    let t = start(&app).await;
    let mut stream = testkit::eventually(Duration::from_secs(10), "the inbox", || {
        let js = t.js.clone();
        async move { js.get_stream("XF_INBOX_gaoqiao").await.ok() }
    })
    .await;
    let mut config = stream.info().await.expect("info").config.clone();
    config.duplicate_window = Duration::from_secs(1);
    t.js.update_stream(config).await.expect("a 1 s window");
    let publish = |body: Value| {
        let js = t.js.clone();
        async move {
            let mut h = HeaderMap::new();
            h.insert("Nats-Msg-Id", "GQ-REUSE");
            js.publish_with_headers("xf.inbox.gaoqiao.register", h, body.to_string().into())
                .await
                .expect("publish")
                .await
                .expect("stored")
        }
    };
    let first = register_body();
    let mut other = register_body();
    other["summary"] = json!("another matter");
    assert!(!publish(first).await.duplicate);
    let out = t.outcome("gaoqiao", "GQ-REUSE").await;
    assert_eq!(out["status"], "applied", "{out}");
    // Inside the window: not stored, the first outcome stands.
    assert!(publish(other.clone()).await.duplicate);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // After it: stored and refused.
    assert!(!publish(other).await.duplicate);
    // The refusal is in the outcomes, in order; then (issue 30, finding 11: the refusal replaced
    // it) the applied outcome again, so the record's last outcome is what happened to it.
    let subject = "xf.outcome.gaoqiao.GQ-REUSE";
    let all = testkit::eventually(Duration::from_secs(20), "the mismatch", || {
        let s = t.outcomes.clone();
        async move {
            let mut all = Vec::new();
            let mut from = 1;
            while let Ok(m) = s.direct_get_next_for_subject(subject, Some(from)).await {
                from = m.sequence + 1;
                all.push(serde_json::from_slice::<Value>(&m.payload).ok()?);
            }
            (all.len() == 3).then_some(all)
        }
    })
    .await;
    let statuses: Vec<&str> = all.iter().filter_map(|o| o["status"].as_str()).collect();
    assert_eq!(statuses, ["applied", "rejected", "applied"], "{all:?}");
    assert_eq!(all[1]["error"]["code"], "idempotency_mismatch", "{all:?}");
    assert_eq!(all[2], all[0], "the applied outcome restated as it was");
    // Both were taken (and, answered, erased).
    assert_eq!(stream.info().await.expect("info").state.last_sequence, 2);
}

/// Issue 12, finding 3, on the inbox: a township's registration with a bad ID number is rejected
/// with the same 400 `validation` problem as over HTTP, naming the field and not the value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_id_number_on_the_inbox_is_rejected_naming_the_field() {
    let app = spawn_app().await;
    let t = start(&app).await;
    let mut body = register_body();
    body["petitioners"][0]["id_number"] = json!("330102199001011239");
    t.publish(
        "xf.inbox.gaoqiao.register",
        Some("GQ-ID-1"),
        &serde_json::to_vec(&body).expect("json"),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-ID-1").await;
    assert_eq!(out["status"], "rejected", "{out}");
    assert_eq!(out["error"]["status"], 400, "{out}");
    assert_eq!(out["error"]["code"], "validation", "{out}");
    assert!(
        out["error"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("petitioners[0].id_number")),
        "{out}"
    );
    assert!(!out.to_string().contains("330102199001011239"), "{out}");
}

/// Issue 13, item 7: evidence referenced from the inbox. The bytes are stored over HTTP first;
/// the `attach` step names them by hash, and waits a little for bytes not stored yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_is_stored_over_http_and_attached_from_the_inbox() {
    let app = spawn_app().await;
    let t = start(&app).await;
    let id = app.register().await;
    let scan = b"%PDF-1.4\n% a scanned letter of the township\n%%EOF\n".to_vec();
    let resp = app
        .http
        .post(format!("{}/v1/attachments", app.base))
        .bearer_auth("clerk-gaoqiao-token")
        .header("Content-Type", "application/pdf")
        .body(scan.clone())
        .send()
        .await
        .expect("store");
    assert_eq!(resp.status().as_u16(), 201);
    let stored: Value = resp.json().await.expect("json");
    let sha = stored["sha256"].as_str().expect("sha256").to_owned();
    // Issue 30, finding 11: a waiting upload stayed in plain in the object store. It is sealed
    // under its own key now.
    let marker = "a scanned letter of the township";
    let plain = crate::support::plain_values(app.nats.store.path(), &[marker], 1);
    assert!(plain.is_empty(), "in plain: {plain:?}");
    let resp = app
        .http
        .post(format!("{}/v1/attachments", app.base))
        .bearer_auth("analyst-token")
        .header("Content-Type", "application/pdf")
        .body(scan.clone())
        .send()
        .await
        .expect("store");
    assert_eq!(resp.status().as_u16(), 403, "analysts store no evidence");

    let attach = |sha: &str, size: usize, kind: &str| {
        json!({"case_id": id, "sha256": sha, "size": size, "content_type": kind, "filename": "来信.pdf"})
            .to_string()
    };
    t.publish(
        "xf.inbox.gaoqiao.attach",
        Some("GQ-A1"),
        attach(&sha, scan.len(), "application/pdf").as_bytes(),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-A1").await;
    assert_eq!(out["status"], "applied", "{out}");
    let (_, case) = app
        .get("clerk-gaoqiao-token", &format!("/v1/cases/{id}"))
        .await;
    let att = case["attachments"][0]["attachment_id"]
        .as_str()
        .expect("attached")
        .to_owned();
    let resp = app
        .http
        .get(format!("{}/v1/cases/{id}/attachments/{att}", app.base))
        .bearer_auth("county-token")
        .send()
        .await
        .expect("download");
    assert!(resp.bytes().await.expect("bytes").as_ref() == scan.as_slice());
    // Adopted: its waiting copy and key are gone; nothing expires that is attached.
    let waiting = eventlog::Attachments::waiting_key_id(&sha);
    let cases = app.cases().await;
    let nats = eventlog::Connection::from(app.nats.connect().await);
    assert!(!key_stored(&nats, waiting).await);
    // Issue 30, finding 4: an upload never attached was kept for ever. Past its age it is
    // erased, copy and key (the ingestor sweeps every hour with an age of 7 days).
    let stray = b"%PDF-1.4\n% never attached\n%%EOF\n".to_vec();
    let resp = app
        .http
        .post(format!("{}/v1/attachments", app.base))
        .bearer_auth("clerk-gaoqiao-token")
        .header("Content-Type", "application/pdf")
        .body(stray.clone())
        .send()
        .await
        .expect("store");
    assert_eq!(resp.status().as_u16(), 201);
    let stray_sha = eventlog::attachments::sha256_hex(&stray);
    let stray_id = eventlog::Attachments::waiting_key_id(&stray_sha);
    assert!(key_stored(&nats, stray_id).await);
    assert_eq!(
        cases
            .expire_waiting(Duration::from_secs(3600))
            .await
            .expect("sweep"),
        0,
        "not old enough"
    );
    assert_eq!(
        cases.expire_waiting(Duration::ZERO).await.expect("sweep"),
        1
    );
    assert!(!key_stored(&nats, stray_id).await);
    assert!(eventlog::Attachments::open(&nats, 1)
        .await
        .expect("evidence")
        .size(&format!("waiting.{stray_sha}"))
        .await
        .expect("size")
        .is_none());

    // What it says must be what is stored.
    t.publish(
        "xf.inbox.gaoqiao.attach",
        Some("GQ-A2"),
        attach(&sha, 7, "application/pdf").as_bytes(),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-A2").await;
    assert_eq!(
        (out["status"].as_str(), out["error"]["code"].as_str()),
        (Some("rejected"), Some("validation")),
        "{out}"
    );
    t.publish(
        "xf.inbox.gaoqiao.attach",
        Some("GQ-A3"),
        attach(&sha, scan.len(), "image/png").as_bytes(),
    )
    .await;
    let out = t.outcome("gaoqiao", "GQ-A3").await;
    assert_eq!(out["error"]["code"], "unsupported_media_type", "{out}");
    // Bytes the county does not hold: it waits, then says to upload them first.
    let unknown = "0".repeat(64);
    t.publish(
        "xf.inbox.gaoqiao.attach",
        Some("GQ-A4"),
        attach(&unknown, 10, "application/pdf").as_bytes(),
    )
    .await;
    let out = testkit::eventually(
        Duration::from_secs(60),
        "the missing bytes' outcome",
        || {
            let (s, subject) = (t.outcomes.clone(), "xf.outcome.gaoqiao.GQ-A4".to_owned());
            async move {
                let m = s.direct_get_last_for_subject(subject).await.ok()?;
                serde_json::from_slice::<Value>(&m.payload).ok()
            }
        },
    )
    .await;
    assert_eq!(out["status"], "rejected", "{out}");
    assert!(
        out["error"]["detail"]
            .as_str()
            .expect("detail")
            .contains("upload the bytes first"),
        "{out}"
    );
}

/// Issue 30, finding 11: a resend refused after the inbox's duplicate window replaced the
/// applied outcome of its record on the outcome's subject. An applied outcome is final: a later
/// refusal under the same record id is not published over it (a later applied one is).
#[tokio::test]
async fn a_refused_resend_never_replaces_an_applied_outcome() {
    let nats = testkit::NatsServer::start();
    let js = async_nats::jetstream::new(nats.connect().await);
    let townships = [eventlog::inbox::InboxTownship {
        unit: domain::UnitCode::parse("gaoqiao").expect("unit"),
        leaf_domain: None,
    }];
    let (inbox, _messages) = eventlog::inbox::Inbox::open(&conn(&js), 1, &townships)
        .await
        .expect("inbox");
    use wire::outcome::OutcomeStatus::{Applied, Rejected};
    let outcome = |status, inbox_seq: u64| wire::outcome::OutcomeMessage {
        msg_id: "GQ-7".into(),
        status,
        case_id: None,
        version: None,
        seq: None,
        case_no: None,
        query_code: None,
        error: None,
        inbox_seq,
        body: None,
    };
    let last = || async {
        let stream = js.get_stream("XF_OUTCOMES").await.expect("outcomes");
        let m = stream
            .direct_get_last_for_subject("xf.outcome.gaoqiao.GQ-7")
            .await
            .expect("last outcome");
        serde_json::from_slice::<Value>(&m.payload).expect("json")
    };
    let stream = "XF_INBOX_gaoqiao";
    let publish = |o| {
        let inbox = inbox.clone();
        async move {
            inbox
                .publish_outcome("gaoqiao", stream, &o)
                .await
                .expect("publish")
        }
    };
    assert!(!publish(outcome(Rejected, 1)).await);
    assert_eq!(
        last().await["status"],
        "rejected",
        "a refusal before any applied one is last"
    );
    assert!(!publish(outcome(Applied, 2)).await);
    assert!(
        publish(outcome(Rejected, 3)).await,
        "the applied outcome is restated"
    );
    let kept = last().await;
    assert_eq!(
        (kept["status"].as_str(), kept["inbox_seq"].as_u64()),
        (Some("applied"), Some(2))
    );
}

/// Whether the data key `id` is in the key stream (read afresh: a vault caches the keys it read).
async fn key_stored(nats: &eventlog::Connection, id: domain::CaseId) -> bool {
    eventlog::Vault::open(nats, 1, testkit::config::keyring())
        .await
        .expect("vault")
        .key(id)
        .await
        .expect("vault")
        .is_some()
}
