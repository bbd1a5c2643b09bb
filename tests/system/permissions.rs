//! NATS permissions of township systems (docs/integration.md, "Credentials"), against the server that
//! `xinfang up` configures: a township publishes only into its own inbox and reads only its own
//! outcomes and feed; anonymous clients are refused. Also the documented Python client, which
//! uses the township's credentials the same way.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use serde_json::{json, Value};

use crate::support::{stored_count, Up};
use testkit::{eventually, workspace_root};

/// A township's client as the docs describe it: its user, and replies under `_INBOX.<unit>`.
async fn township(url: &str, unit: &str) -> (async_nats::Client, Arc<Mutex<Vec<String>>>) {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    let client =
        async_nats::ConnectOptions::with_user_and_password(unit.into(), format!("{unit}-secret"))
            .custom_inbox_prefix(format!("_INBOX.{unit}"))
            .event_callback(move |e| {
                let seen = seen.clone();
                async move {
                    if let async_nats::Event::ServerError(e) = e {
                        seen.lock().expect("lock").push(e.to_string());
                    }
                }
            })
            .connect(url)
            .await
            .expect("a township connects with its credentials");
    (client, errors)
}

fn registration() -> Value {
    json!({
        "channel": "visit",
        "received_at": "2026-03-02T09:30:00+08:00",
        "headcount": 1,
        "level_reached": "county",
        "category": "land",
        "summary": "Irrigation channel blocked",
        "petitioners": [{"name": "张三", "phone": "13800000000"}],
    })
}

async fn send(js: &jetstream::Context, unit: &str, msg_id: &str) -> Result<u64, String> {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", msg_id);
    let ack = js
        .publish_with_headers(
            format!("xf.inbox.{unit}.register"),
            headers,
            registration().to_string().into(),
        )
        .await
        .map_err(|e| e.to_string())?;
    ack.await.map(|a| a.sequence).map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_township_cannot_touch_another_townships_inbox_outcomes_or_feed() {
    let up = Up::start(&["gaoqiao", "dongcheng"]);
    let county = jetstream::new(up.county().await);

    // Anonymous clients are refused.
    let anonymous = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(&up.nats_url)
        .await;
    assert!(anonymous.is_err(), "an anonymous client was let in");

    let (dong, _) = township(&up.nats_url, "dongcheng").await;
    let dong_js = jetstream::new(dong);
    send(&dong_js, "dongcheng", "DC-1")
        .await
        .expect("dongcheng publishes into its own inbox");

    let (gao, errors) = township(&up.nats_url, "gaoqiao").await;
    let mut gao_js = jetstream::new(gao.clone());
    gao_js.set_timeout(Duration::from_secs(2));
    send(&gao_js, "gaoqiao", "GQ-1")
        .await
        .expect("gaoqiao publishes into its own inbox");

    // Its own outcome by direct get, and through its durable consumers.
    let outcome = eventually(Duration::from_secs(20), "gaoqiao's outcome", || {
        let js = gao_js.clone();
        async move {
            let stream = js.get_stream_no_info("XF_OUTCOMES").await.ok()?;
            stream
                .direct_get_last_for_subject("xf.outcome.gaoqiao.GQ-1")
                .await
                .ok()
        }
    })
    .await;
    let outcome: Value = serde_json::from_slice(&outcome.payload).expect("outcome json");
    assert_eq!(outcome["status"], "applied", "{outcome}");
    for (stream, consumer, prefix) in [
        ("XF_OUTCOMES", "outcomes-gaoqiao", "xf.outcome.gaoqiao."),
        ("XF_FEED", "feed-gaoqiao", "xf.feed.gaoqiao."),
    ] {
        let msg = eventually(Duration::from_secs(20), consumer, || {
            let js = gao_js.clone();
            async move {
                let s = js.get_stream_no_info(stream).await.ok()?;
                let c: jetstream::consumer::PullConsumer = s.get_consumer(consumer).await.ok()?;
                let mut batch = c
                    .fetch()
                    .max_messages(1)
                    .expires(Duration::from_millis(500))
                    .messages()
                    .await
                    .ok()?;
                batch.next().await?.ok()
            }
        })
        .await;
        assert!(msg.subject.starts_with(prefix), "{}", msg.subject);
        msg.ack().await.expect("ack");
    }

    // Another township's inbox: refused by the server, and nothing lands there.
    let before = stored_count(&county, "XF_INBOX_dongcheng").await;
    assert!(send(&gao_js, "dongcheng", "GQ-EVIL").await.is_err());
    assert_eq!(stored_count(&county, "XF_INBOX_dongcheng").await, before);
    assert_eq!(before, 1);

    // Another township's outcome by direct get, and its durable consumers: no answer.
    let outcomes = gao_js
        .get_stream_no_info("XF_OUTCOMES")
        .await
        .expect("a handle");
    assert!(outcomes
        .direct_get_last_for_subject("xf.outcome.dongcheng.DC-1")
        .await
        .is_err());
    for (stream, consumer) in [
        ("XF_OUTCOMES", "outcomes-dongcheng"),
        ("XF_FEED", "feed-dongcheng"),
    ] {
        let s = gao_js.get_stream_no_info(stream).await.expect("a handle");
        assert!(
            s.get_consumer::<jetstream::consumer::pull::Config>(consumer)
                .await
                .is_err(),
            "{consumer} visible to gaoqiao"
        );
    }
    // Nor may it make a consumer of its own on another's subjects, or read the event log.
    let feed = gao_js.get_stream_no_info("XF_FEED").await.expect("handle");
    assert!(feed
        .create_consumer(jetstream::consumer::pull::Config {
            filter_subject: "xf.feed.dongcheng.>".into(),
            ..Default::default()
        })
        .await
        .is_err());
    assert!(gao_js.get_stream("XF_EVENTS").await.is_err());

    // Plain subscriptions to others' subjects or reply inboxes are refused.
    let mut sneaky = Vec::new();
    for subject in ["xf.outcome.dongcheng.>", "xf.feed.>", "_INBOX.dongcheng.>"] {
        sneaky.push(gao.subscribe(subject).await.expect("subscribe is sent"));
    }
    gao.flush().await.expect("flush");
    send(&dong_js, "dongcheng", "DC-2")
        .await
        .expect("dongcheng");
    eventually(Duration::from_secs(10), "the server's refusals", || {
        let errors = errors.clone();
        async move {
            let e = errors.lock().expect("lock").join("\n");
            let refused = e.contains("xf.inbox.dongcheng.register")
                && e.contains("xf.outcome.dongcheng.>")
                && e.contains("xf.feed.>")
                && e.contains("_INBOX.dongcheng.>");
            refused.then_some(())
        }
    })
    .await;
    for mut sub in sneaky {
        let got = tokio::time::timeout(Duration::from_millis(300), sub.next()).await;
        assert!(
            !matches!(got, Ok(Some(_))),
            "gaoqiao received another township's message"
        );
    }
}

#[tokio::test]
async fn the_documented_python_client_works_with_its_credentials() {
    let up = Up::start(&["gaoqiao"]);
    let root = workspace_root();
    let out = std::process::Command::new("python3")
        .arg(root.join("docs/examples/township_client.py"))
        .args([&up.nats_url, "gaoqiao", "gaoqiao", "gaoqiao-secret"])
        .env("PYTHONPATH", root.join(".tools/python"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "the example failed (is nats-py installed? run scripts/install-nats-server):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let report: Value = serde_json::from_str(&last).expect("the example prints a JSON summary");
    assert_eq!(report["register"], "applied", "{report}");
    assert_eq!(report["accept"], "applied", "{report}");
    assert_eq!(report["version"], 2, "{report}");
    assert_eq!(report["resend_same_case"], true, "{report}");
    assert_eq!(report["close"], "rejected", "{report}");
    assert_eq!(report["close_code"], "invalid_transition", "{report}");
    // REC-0001, REC-0002 and REC-0003 (the resend of REC-0001 is the same record).
    assert_eq!(report["outcomes_read"], 3, "{report}");
    assert_eq!(report["feed_events"], 2, "{report}");
}
