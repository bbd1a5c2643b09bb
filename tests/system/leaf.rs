//! A township running its own nats-server as a leaf node (deploy/township/): its systems publish
//! into the local inbox stream, the county sources it. The link is cut by stopping the county
//! server; what the township publishes meanwhile is applied exactly once when the link is back.
//! The county server is configured from `xinfang nats-config`, as an operator would.

use std::time::Duration;

use async_nats::jetstream;
use serde_json::{json, Value};

use crate::support::{stored_count, subject_count, Up, BIN};
use testkit::{eventually, free_port, workspace_root, NatsServer};

const TOWNSHIP: &str = "gaoqiao";

fn registration(i: usize) -> Value {
    json!({
        "channel": "letter",
        "received_at": "2026-03-02T09:30:00+08:00",
        "headcount": 1,
        "level_reached": "township",
        "category": "land",
        "summary": format!("Boundary dispute {i}"),
        "petitioners": [{"name": "李四"}],
    })
}

async fn publish(js: &jetstream::Context, i: usize) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", format!("GQ-{i}").as_str());
    let ack = js
        .publish_with_headers(
            format!("xf.inbox.{TOWNSHIP}.register"),
            headers,
            registration(i).to_string().into(),
        )
        .await
        .expect("publish at the leaf");
    let ack = ack.await.expect("the leaf's own stream acknowledges");
    assert_eq!(ack.stream, "XF_INBOX");
}

async fn all_applied(county: &jetstream::Context, n: usize) -> Option<()> {
    let outcomes = county.get_stream_no_info("XF_OUTCOMES").await.ok()?;
    for i in 0..n {
        let msg = outcomes
            .direct_get_last_for_subject(format!("xf.outcome.{TOWNSHIP}.GQ-{i}"))
            .await
            .ok()?;
        let o: Value = serde_json::from_slice(&msg.payload).ok()?;
        assert_eq!(o["status"], "applied", "{o}");
    }
    Some(())
}

#[tokio::test]
async fn a_leaf_township_keeps_publishing_through_a_cut_link_and_everything_arrives_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let leaf_port = free_port();
    let county_cfg = dir.path().join("county.toml");
    let config = |county_url: &str, http_port: u16, data: &std::path::Path| {
        testkit::TestConfig::new()
            .section(format!(
                "[nats]\nurl = \"{county_url}\"\nuser = \"xinfang\"\n\
                 password = \"county-secret\"\nleafnodes = \"127.0.0.1:{leaf_port}\""
            ))
            .http_port(http_port)
            .data_dir(data)
            .leaf_township(TOWNSHIP, TOWNSHIP)
            .township_system(TOWNSHIP)
            .toml()
    };
    std::fs::write(
        &county_cfg,
        config("nats://127.0.0.1:4222", free_port(), dir.path()),
    )
    .expect("config");

    // The county server: what `xinfang nats-config` prints, plus its JetStream domain.
    let block = std::process::Command::new(BIN)
        .args(["nats-config", "--config"])
        .arg(&county_cfg)
        .output()
        .expect("nats-config");
    assert!(
        block.status.success(),
        "{}",
        String::from_utf8_lossy(&block.stderr)
    );
    let conf = dir.path().join("county.conf");
    std::fs::write(
        &conf,
        format!(
            "jetstream {{ domain: county }}\n{}",
            String::from_utf8_lossy(&block.stdout)
        ),
    )
    .expect("county.conf");
    let conf = conf.to_string_lossy().into_owned();
    let mut county_server = NatsServer::start_with(&["-c", &conf]);

    // The township's server, from deploy/township/.
    let leaf_conf = workspace_root().join("deploy/township/nats-leaf.conf");
    let leaf_url = format!("nats-leaf://{TOWNSHIP}-leaf:{TOWNSHIP}-secret@127.0.0.1:{leaf_port}");
    let leaf = NatsServer::start_with_env(
        &["-c", &leaf_conf.to_string_lossy()],
        &[("XF_TOWNSHIP", TOWNSHIP), ("XF_COUNTY_LEAF_URL", &leaf_url)],
    );
    let leaf_js = jetstream::new(leaf.connect().await);
    let spec = std::fs::read_to_string(workspace_root().join("deploy/township/inbox-stream.json"))
        .expect("inbox-stream.json");
    let spec: jetstream::stream::Config =
        serde_json::from_str(&spec.replace("gaoqiao", TOWNSHIP)).expect("a stream config");
    leaf_js
        .create_stream(spec)
        .await
        .expect("the township's inbox");

    let county_url = county_server.url();
    let up = Up::start_custom(|port, data| config(&county_url, port, data));
    let county_client = async_nats::ConnectOptions::with_user_and_password(
        "xinfang".into(),
        "county-secret".into(),
    )
    .connect(county_server.url())
    .await
    .expect("county");
    let county = jetstream::new(county_client);

    // With the link up.
    for i in 0..5 {
        publish(&leaf_js, i).await;
    }
    eventually(Duration::from_secs(30), "the first 5 applied", || {
        all_applied(&county, 5)
    })
    .await;

    // The link cut: the township keeps publishing (and resends a few records).
    county_server.kill();
    for i in 5..25 {
        publish(&leaf_js, i).await;
    }
    for i in [3, 10, 20] {
        publish(&leaf_js, i).await;
    }
    county_server.restart();
    let county = jetstream::new(
        async_nats::ConnectOptions::with_user_and_password(
            "xinfang".into(),
            "county-secret".into(),
        )
        .connect(county_server.url())
        .await
        .expect("county again"),
    );
    // The county retries its source with a back-off after a restart: about 40 s here.
    eventually(Duration::from_secs(120), "all 25 applied", || {
        all_applied(&county, 25)
    })
    .await;

    // Exactly once where it counts: 25 registrations in the log, and each record's last
    // outcome says applied (above). The inbox is the transport: 25 records stored, or more when
    // nats-server sourced some twice across the restart of the sourcing server
    // (nats-io/nats-server#7796, open; one copy seen in CI once, five in another run: the
    // records in flight when it stopped). Never more than one copy of each record. Every stored
    // message is answered once, so a copy adds its own answer: applied, the registration it
    // replays.
    assert_eq!(
        subject_count(&county, "XF_EVENTS", &format!("xf.events.{TOWNSHIP}.>")).await,
        25
    );
    let stored = stored_count(&county, &format!("XF_INBOX_{TOWNSHIP}")).await;
    assert!((25..=50).contains(&stored), "{stored} records stored");
    let copies = (stored - 25) as usize;
    assert_eq!(
        subject_count(&county, "XF_OUTCOMES", &format!("xf.outcome.{TOWNSHIP}.>")).await,
        25 + copies
    );
    drop(up);
}
