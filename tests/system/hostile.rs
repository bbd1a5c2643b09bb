//! Issue 30, findings 2 and 3, against the real processes of `xinfang up`, as the probe did it:
//! with the county's NATS user, the exact bytes of a signed registration are published again on
//! its subject, then an event with a recomputed hash and another key's signature, then one with
//! no seal at all. None of them is state: the case reads as before and says it was tampered
//! with, the next command chains onto the last real event, the projectors keep following the
//! log (no restart loop, no 503), and `/healthz` and `/metrics` raise the alarm.

use std::time::Duration;

use async_nats::jetstream;
use serde_json::{json, Value};

use crate::support::Up;

async fn call(up: &Up, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", up.base))
        .bearer_auth("county-token");
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn publish(js: &jetstream::Context, subject: &str, bytes: Vec<u8>) -> u64 {
    js.publish(subject.to_owned(), bytes.into())
        .await
        .expect("publish")
        .await
        .expect("ack")
        .sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_forged_and_unsigned_events_are_never_state_and_raise_the_alarm() {
    let up = Up::start(&["gaoqiao"]);
    let (status, reg) = call(
        &up,
        reqwest::Method::POST,
        "/v1/cases",
        Some(&testkit::system::register_body()),
    )
    .await;
    assert_eq!(status, 201, "{reg}");
    let id = reg["case_id"].as_str().expect("id").to_owned();
    let (status, accepted) = call(
        &up,
        reqwest::Method::POST,
        &format!("/v1/cases/{id}/accept"),
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{accepted}");

    // The county's NATS user, as the probe used it.
    let js = jetstream::new(up.county().await);
    let stream = js.get_stream("XF_EVENTS").await.expect("stream");
    let first = stream
        .direct_get(reg["seq"].as_u64().expect("seq"))
        .await
        .expect("the registration");
    let second = stream
        .direct_get(accepted["seq"].as_u64().expect("seq"))
        .await
        .expect("the acceptance");
    let subject = first.subject.to_string();
    let replayed = publish(&js, &subject, first.payload.to_vec()).await;
    let rogue = integrity::Signer::from_seed([7; 32]);
    // The services mark what they append (a header); the forger copies the acceptance's mark,
    // which is bound to that event's hash, so the forged event's signature is checked.
    let mark = second
        .headers
        .get("Xf-Mark")
        .expect("the services' mark")
        .clone();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Xf-Mark", mark);
    let forged = js
        .publish_with_headers(
            subject.clone(),
            headers,
            crate::tamper::forged(&second.payload, &rogue).into(),
        )
        .await
        .expect("publish")
        .await
        .expect("ack")
        .sequence;
    // No seal at all: the acceptance's content as an old (v1) envelope, one version on.
    let mut bare: Value = serde_json::from_slice(&second.payload).expect("json");
    for k in ["hash", "sig", "key_id", "prev_hash"] {
        bare.as_object_mut().expect("object").remove(k);
    }
    bare["version"] = json!(3);
    bare["type"] = json!("CaseClosed");
    bare["data"] = json!({"note": "closed without a seal"});
    bare["event_id"] = json!(uuid::Uuid::now_v7());
    // With sealed personal data taken from the registration: a reader that opened it would fail.
    let registration: Value = serde_json::from_slice(&first.payload).expect("json");
    assert!(registration["personal"].is_object(), "{registration}");
    bare["personal"] = registration["personal"].clone();
    let unsigned = publish(&js, &subject, serde_json::to_vec(&bare).expect("json")).await;
    // Bytes that are no event at all.
    let garbage = publish(&js, &subject, b"\x00 not an event {".to_vec()).await;

    // The case reads as it was, and says which events are not facts.
    let (status, case) = call(
        &up,
        reqwest::Method::GET,
        &format!("/v1/cases/{id}?min_seq={garbage}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{case}");
    assert_eq!(
        (case["status"].as_str(), case["version"].as_u64()),
        (Some("accepted"), Some(2)),
        "{case}"
    );
    assert_eq!(
        case["rejected_events"],
        json!([
            {"seq": replayed, "reason": "out_of_order"},
            {"seq": forged, "reason": "forged"},
            {"seq": unsigned, "reason": "unsigned"},
            {"seq": garbage, "reason": "unreadable"},
        ]),
        "{case}"
    );

    // The next command is decided on the real case and chains onto its last real event.
    let (status, supervised) = call(
        &up,
        reqwest::Method::POST,
        &format!("/v1/cases/{id}/supervise"),
        Some(&json!({"note": "督办", "due_date": "2026-12-31"})),
    )
    .await;
    assert_eq!(status, 200, "{supervised}");
    assert_eq!(supervised["version"], 3, "{supervised}");
    let third = stream
        .direct_get(supervised["seq"].as_u64().expect("seq"))
        .await
        .expect("the supervision");
    let third: Value = serde_json::from_slice(&third.payload).expect("json");
    let second: Value = serde_json::from_slice(&second.payload).expect("json");
    assert_eq!(third["prev_hash"], second["hash"]);

    // The read side kept following: the projectors answer past the bad events, with the case
    // as it is, and its history holds only its facts.
    let last = supervised["seq"].as_u64().expect("seq");
    let (status, list) = call(
        &up,
        reqwest::Method::GET,
        &format!("/v1/cases?min_seq={last}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let item = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["case_id"] == id.as_str())
        .cloned()
        .expect("the case is listed");
    assert_eq!(item["status"], "accepted", "{item}");
    let (status, stats) = call(
        &up,
        reqwest::Method::GET,
        &format!("/v1/stats?from=2026-03-01&to=2026-03-31&min_seq={last}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["total"]["items"], 1, "counted once: {stats}");
    let (status, history) = call(
        &up,
        reqwest::Method::GET,
        &format!("/v1/cases/{id}/history?min_seq={last}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{history}");
    let seqs: Vec<u64> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(seqs.len(), 3, "{history}");
    assert!(![replayed, forged, unsigned]
        .iter()
        .any(|s| seqs.contains(s)));
    // The notary went on too: a checkpoint covers them and what came after.
    testkit::eventually(
        Duration::from_secs(20),
        "a checkpoint past them",
        || async {
            let (_, v) = call(
                &up,
                reqwest::Method::GET,
                &format!("/v1/cases/{id}/verify"),
                None,
            )
            .await;
            (v["checkpoint_seq"].as_u64() >= Some(last)).then_some(())
        },
    )
    .await;
    // `verify` still names each of them at its sequence.
    let (_, verified) = call(
        &up,
        reqwest::Method::GET,
        &format!("/v1/cases/{id}/verify"),
        None,
    )
    .await;
    assert_eq!(verified["ok"], false, "{verified}");

    // The alarm: /healthz degraded, the metric per model.
    let health: Value =
        testkit::eventually(Duration::from_secs(10), "a degraded health", || async {
            let (_, h) = call(&up, reqwest::Method::GET, "/healthz", None).await;
            let all = ["cases", "stats", "audit"]
                .iter()
                .all(|m| h["projectors"][m]["rejected_events"].is_u64());
            (h["status"] == "degraded" && all).then_some(h)
        })
        .await;
    assert_eq!(
        health["projectors"]["cases"]["rejected_events"], 4,
        "{health}"
    );
    assert_eq!(
        health["projectors"]["stats"]["rejected_events"], 4,
        "{health}"
    );
    assert_eq!(
        health["projectors"]["audit"]["rejected_events"], 4,
        "{health}"
    );
    let metrics = reqwest::get(format!("{}/metrics", up.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(r#"xf_projector_rejected_events{projector="cases"} 4"#),
        "{metrics}"
    );
}
