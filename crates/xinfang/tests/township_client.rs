//! The township client example of docs/integration.md (Python, nats-py) against a real
//! nats-server and a real `xinfang ingestor` process. `scripts/test` installs nats-py into
//! `.tools/python`; without it this test fails rather than skips.

use std::process::{Command, Stdio};
use std::time::Duration;

use testkit::{eventually, free_port, workspace_root, NatsServer};

const BIN: &str = env!("CARGO_BIN_EXE_xinfang");

#[tokio::test]
async fn the_documented_python_client_registers_and_accepts_over_nats() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("xinfang.toml");
    let text = format!(
        "[nats]\nurl = \"{}\"\n[http]\naddr = \"127.0.0.1:{}\"\n[data]\ndir = \"{}\"\n\
         [[unit]]\ncode = \"gaoqiao\"\nname = \"高桥镇\"\nkind = \"township\"\n",
        nats.url(),
        free_port(),
        dir.path().join("data").display()
    );
    std::fs::write(&cfg, text).expect("config");
    let mut ingestor = Command::new(BIN)
        .args(["ingestor", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ingestor");
    // The inbox exists once the ingestor has set it up.
    let client = nats.connect().await;
    let js = async_nats::jetstream::new(client);
    eventually(Duration::from_secs(20), "the inbox stream", || {
        let js = js.clone();
        async move { js.get_stream("XF_OUTCOMES").await.ok() }
    })
    .await;

    let root = workspace_root();
    let out = Command::new("python3")
        .arg(root.join("docs/examples/township_client.py"))
        .arg(nats.url())
        .arg("gaoqiao")
        .env("PYTHONPATH", root.join(".tools/python"))
        .output()
        .expect("python3");
    let _ = ingestor.kill();
    let _ = ingestor.wait();
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
    let summary: serde_json::Value = serde_json::from_str(&last).expect("a JSON summary line");
    assert_eq!(
        summary,
        serde_json::json!({"register": "applied", "accept": "applied", "version": 2,
                           "resend_same_case": true, "close": "rejected", "close_code": "invalid_transition"})
    );
}
