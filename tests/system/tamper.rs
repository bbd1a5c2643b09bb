//! Issue 15, items 1 and 2, against the real processes of `xinfang up`: every event is sealed
//! (envelope v2), the notary writes signed checkpoints, a case verifies over HTTP, the whole log
//! with `xinfang verify`, and a case bundle offline with only the public key. The tamper suite:
//! a rogue writer with the county's stream credentials appends a forged event to the live log,
//! and rewrites a copy of the log (on a server of its own) in every way the issue names; each is
//! found, at its sequence.

use std::process::Command;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::{json, Value};

use crate::support::{Up, BIN};

/// A stream's messages: (subject, bytes).
type Messages = Vec<(String, Vec<u8>)>;

async fn get(up: &Up, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", up.base))
        .bearer_auth("county-token")
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post(up: &Up, path: &str, body: &Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", up.base))
        .bearer_auth("county-token")
        .json(body)
        .send()
        .await
        .expect("request");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.expect("json")
}

/// `xinfang <args>`: (success, stdout).
fn xinfang(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().expect("run xinfang");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.success(),
        stdout + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Every message of `stream` on `js`: (subject, bytes).
async fn messages(js: &jetstream::Context, stream: &str) -> Vec<(String, Vec<u8>)> {
    let s = js.get_stream(stream).await.expect("stream");
    let last = s.cached_info().state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        let m = s.direct_get(seq).await.expect("direct get");
        out.push((m.subject.to_string(), m.payload.to_vec()));
    }
    out
}

/// Write `events` and `checkpoints` as the rogue's rebuilt streams on `js` (replacing any).
async fn rewrite(
    js: &jetstream::Context,
    events: &[(String, Vec<u8>)],
    checkpoints: &[(String, Vec<u8>)],
) {
    for (name, subjects, msgs) in [
        ("XF_EVENTS", "xf.events.>", events),
        ("XF_CHECKPOINTS", "xf.checkpoints", checkpoints),
    ] {
        let _ = js.delete_stream(name).await;
        js.create_stream(jetstream::stream::Config {
            name: name.into(),
            subjects: vec![subjects.into()],
            allow_direct: true,
            ..Default::default()
        })
        .await
        .expect("create");
        for (subject, bytes) in msgs {
            js.publish(subject.clone(), bytes.clone().into())
                .await
                .expect("publish")
                .await
                .expect("ack");
        }
    }
}

fn edit(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    assert!(text.contains(from), "{from} in {text}");
    text.replacen(from, to, 1).into_bytes()
}

/// An event sealed by a key that is not the county's, following `prev` on its case.
pub(crate) fn forged(prev: &[u8], rogue: &integrity::Signer) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(prev).expect("json");
    let o = v.as_object_mut().expect("object");
    o.remove("sig");
    let prev_hash = o.remove("hash").expect("hash");
    o.insert("prev_hash".into(), prev_hash);
    o.insert(
        "version".into(),
        json!(o["version"].as_u64().expect("version") + 1),
    );
    o.insert("event_id".into(), json!(uuid::Uuid::now_v7()));
    o.insert("command_id".into(), json!(uuid::Uuid::now_v7()));
    o.insert("key_id".into(), json!(rogue.key_id()));
    o.insert("type".into(), json!("CaseClosed"));
    o.insert("data".into(), json!({"note": "closed by nobody"}));
    integrity::event::seal(&integrity::canonical::to_vec(&v), rogue).bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_signed_checkpointed_verified_and_every_alteration_is_found() {
    let up = Up::start(&["gaoqiao"]);
    let mut cases = Vec::new();
    let mut last_seq = 0;
    for i in 0..3 {
        let mut body = testkit::system::register_body();
        body["summary"] = json!(format!("matter {i}"));
        let case = post(&up, "/v1/cases", &body).await;
        let id = case["case_id"].as_str().expect("id").to_owned();
        let accepted = post(&up, &format!("/v1/cases/{id}/accept"), &json!({})).await;
        last_seq = accepted["seq"].as_u64().expect("seq");
        cases.push(id);
    }
    let (status, keys) = get(&up, "/v1/audit/public-key").await;
    assert_eq!(status, 200, "{keys}");
    let key = keys["keys"][0]["public_key"]
        .as_str()
        .expect("key")
        .to_owned();
    assert_eq!(keys["keys"][0]["algorithm"], "ed25519");

    // The history shows the chain; the case verifies once a checkpoint covers it.
    let (_, history) = get(
        &up,
        &format!("/v1/cases/{}/history?min_seq={last_seq}", cases[2]),
    )
    .await;
    let events = history["events"].as_array().expect("events");
    assert_eq!(events.len(), 2);
    assert!(events[0]["prev_hash"].is_null() && events[0]["sig"].is_string());
    assert_eq!(events[1]["prev_hash"], events[0]["hash"]);
    let verified = testkit::eventually(
        Duration::from_secs(20),
        "a checkpoint covering the log",
        || async {
            let (_, v) = get(&up, &format!("/v1/cases/{}/verify", cases[2])).await;
            (v["checkpoint_seq"].as_u64() >= Some(last_seq)).then_some(v)
        },
    )
    .await;
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(verified["events"], 2);

    // The whole log, and a bundle offline.
    let config = up.config.to_string_lossy().into_owned();
    let (ok, out) = xinfang(&["verify", "--config", &config]);
    assert!(ok && out.contains("ok: 6 events"), "{out}");
    let file = up.dir.path().join("case.jsonl");
    let file = file.to_string_lossy().into_owned();
    let (ok, out) = xinfang(&[
        "export", "case", &cases[1], "--bundle", &file, "--config", &config,
    ]);
    assert!(ok, "{out}");
    let (ok, out) = xinfang(&["verify", "--bundle", &file, "--public-key", &key]);
    assert!(ok, "{out}");
    let rogue = integrity::Signer::from_seed([9; 32]);
    let rogue_key = integrity::PublicKey::new(&rogue.public_key(), None, None).public_key;
    let (ok, out) = xinfang(&["verify", "--bundle", &file, "--public-key", &rogue_key]);
    assert!(
        !ok && out.contains("signature"),
        "a key inside the bundle proves nothing: {out}"
    );
    let text = std::fs::read_to_string(&file).expect("bundle");
    std::fs::write(&file, text.replacen("matter 1", "matter 9", 1)).expect("write");
    let (ok, out) = xinfang(&["verify", "--bundle", &file, "--public-key", &key]);
    assert!(!ok && out.contains("hash_mismatch"), "{out}");

    // A rogue writer with the county's stream credentials appends a forged event.
    let county = up.county().await;
    let js = jetstream::new(county);
    let original = messages(&js, "XF_EVENTS").await;
    let checkpoints = messages(&js, "XF_CHECKPOINTS").await;
    let (subject, first) = original
        .iter()
        .find(|(s, _)| s.ends_with(&cases[0]))
        .expect("case 0")
        .clone();
    let second = original
        .iter()
        .filter(|(s, _)| *s == subject)
        .nth(1)
        .expect("its 2nd")
        .1
        .clone();
    js.publish(subject.clone(), forged(&second, &rogue).into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    let forged_seq = last_seq + 1;
    let (_, v) = get(
        &up,
        &format!("/v1/cases/{}/verify?min_seq={forged_seq}", cases[0]),
    )
    .await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["seq"] == forged_seq && f["code"] == "signature"),
        "{v}"
    );
    let (ok, out) = xinfang(&["verify", "--config", &config]);
    assert!(
        !ok && out.contains(&format!("seq {forged_seq}: signature")),
        "{out}"
    );
    // The notary names it in its next checkpoint too.
    testkit::eventually(
        Duration::from_secs(20),
        "a checkpoint naming the forged event",
        || async {
            let cps = messages(&js, "XF_CHECKPOINTS").await;
            cps.iter()
                .any(|(_, b)| {
                    serde_json::from_slice::<Value>(b)
                        .is_ok_and(|c| c["invalid"] == json!([forged_seq]))
                })
                .then_some(())
        },
    )
    .await;

    // The rogue rewrites the log on a server of its own; `verify` with the county's key.
    let copy = testkit::NatsServer::start();
    let cjs = jetstream::new(copy.connect().await);
    let cfg_path = up.dir.path().join("copy.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "[nats]\nurl = {:?}\n[http]\naddr = \"127.0.0.1:1\"\n[data]\ndir = {:?}\n",
            copy.url(),
            up.dir.path().join("copy-data")
        ),
    )
    .expect("config");
    let copy_cfg = cfg_path.to_string_lossy().into_owned();
    let verify_copy = || xinfang(&["verify", "--config", &copy_cfg, "--public-key", &key]);
    rewrite(&cjs, &original, &checkpoints).await;
    let (ok, out) = verify_copy();
    assert!(ok, "the copy as it was verifies: {out}");

    let seq_of = |case: usize, n: usize| {
        original
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| s.ends_with(&cases[case]))
            .nth(n)
            .expect("event")
            .0
            + 1
    };
    let mut tampered: Vec<(&str, Messages, Messages, String)> = Vec::new();
    let mut altered = original.clone();
    let k = seq_of(1, 0) - 1;
    altered[k].1 = edit(&altered[k].1, "matter 1", "matter 7");
    tampered.push((
        "altered field",
        altered,
        checkpoints.clone(),
        format!("seq {}: hash_mismatch", k + 1),
    ));
    let mut deleted = original.clone();
    deleted.remove(seq_of(0, 0) - 1);
    tampered.push((
        "deleted event",
        deleted,
        checkpoints.clone(),
        ": chain".into(),
    ));
    let mut swapped = original.clone();
    swapped.swap(seq_of(2, 0) - 1, seq_of(2, 1) - 1);
    tampered.push(("swapped", swapped, checkpoints.clone(), ": chain".into()));
    let mut inserted = original.clone();
    inserted.insert(seq_of(0, 1), (subject.clone(), forged(&second, &rogue)));
    tampered.push((
        "forged insert",
        inserted,
        checkpoints.clone(),
        format!("seq {}: signature", seq_of(0, 1) + 1),
    ));
    let mut truncated = original.clone();
    truncated.truncate(original.len() - 2);
    tampered.push((
        "truncated tail",
        truncated,
        checkpoints.clone(),
        ": truncated|: checkpoint_root".into(),
    ));
    let removed: Vec<_> = original
        .iter()
        .filter(|(s, _)| !s.ends_with(&cases[1]))
        .cloned()
        .collect();
    // Shorter than the checkpoints say, or a root that differs: which depends on how many
    // checkpoints the notary wrote while the cases came in.
    tampered.push((
        "case removed",
        removed,
        checkpoints.clone(),
        ": checkpoint_root|: truncated".into(),
    ));
    let mut resigned = checkpoints.clone();
    let last = resigned.last_mut().expect("a checkpoint");
    let cp: integrity::Checkpoint = serde_json::from_slice(&last.1).expect("checkpoint");
    last.1 = serde_json::to_vec(&cp.sign(&rogue)).expect("json");
    tampered.push((
        "checkpoint re-signed",
        original.clone(),
        resigned,
        "checkpoint_signature".into(),
    ));
    let _ = first;
    for (what, events, cps, expected) in tampered {
        rewrite(&cjs, &events, &cps).await;
        let (ok, out) = verify_copy();
        assert!(!ok, "{what} went unnoticed: {out}");
        assert!(
            expected.split('|').any(|e| out.contains(e)),
            "{what}: expected {expected:?} in {out}"
        );
    }
}

/// Who may verify: auditors and the county; a clerk may not, whichever case (403: nothing about
/// the case leaks), nor an analyst. Before any checkpoint a case verifies
/// on its signatures and chain alone (`checkpoint_seq` null); the public keys are for anyone
/// signed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_is_for_auditors_and_the_county() {
    let app = testkit::system::spawn().await;
    let id = app.register().await;
    let (status, v) = app
        .get("auditor-token", &format!("/v1/cases/{id}/verify"))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["events"], 1);
    assert!(v["checkpoint_seq"].is_null(), "{v}");
    assert_eq!(v["signatures_checked"], 1);
    for (token, expected) in [
        ("clerk-gaoqiao-token", 403),
        ("analyst-token", 403),
        ("clerk-dongcheng-token", 403),
    ] {
        for what in ["verify", "bundle"] {
            let (status, body) = app.get(token, &format!("/v1/cases/{id}/{what}")).await;
            assert_eq!(status, expected, "{token} {what}: {body}");
        }
    }
    let (status, keys) = app.get("clerk-gaoqiao-token", "/v1/audit/public-key").await;
    assert_eq!(status, 200, "{keys}");
    let signer = testkit::config::signer();
    assert_eq!(keys["keys"][0]["key_id"], signer.key_id());
    let (status, _) = app.get("nobody", "/v1/audit/public-key").await;
    assert_eq!(status, 401);
}
