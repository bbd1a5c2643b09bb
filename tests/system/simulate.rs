//! `xinfang simulate` against `xinfang up` with three townships: every message it sends is
//! answered, applied through the real ingestor, and the county's log agrees with its summary.

use std::process::Command;

use async_nats::jetstream;
use serde_json::Value;

use crate::support::{stored_count, subject_count, Up, BIN};

#[tokio::test]
async fn the_simulator_sends_realistic_traffic_that_is_applied_and_reported() {
    let up = Up::start(&["gaoqiao", "dongcheng", "xishan"]);
    let county = jetstream::new(up.county().await);
    let before = subject_count(&county, "XF_EVENTS", "xf.events.>").await;
    let json = up.dir.path().join("sim.json");
    let out = Command::new(BIN)
        .args(["simulate", "--config"])
        .arg(&up.config)
        .args(["--rate", "80", "--duration", "3s", "--seed", "7", "--json"])
        .arg(&json)
        .output()
        .expect("simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("outcome latency"), "{table}");
    let r: Value = serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("report");
    let sent = r["sent"].as_u64().expect("sent");
    assert!(sent >= 200, "{r}");
    assert_eq!(r["applied"].as_u64(), Some(sent), "{r}");
    assert_eq!(r["rejected"], 0, "{r}");
    assert_eq!(r["unanswered"], 0, "{r}");
    assert_eq!(r["townships"], 3, "{r}");
    assert!(r["latency_ms"]["p99"].as_f64().expect("p99") > 0.0, "{r}");
    // Lifecycle steps, not only registrations; and the log holds exactly what was applied.
    let registered = r["cases_registered"].as_u64().expect("cases");
    assert!(registered > 0 && registered < sent, "{r}");
    let mut inboxes = 0;
    for t in ["gaoqiao", "dongcheng", "xishan"] {
        inboxes += stored_count(&county, &format!("XF_INBOX_{t}")).await;
    }
    assert_eq!(inboxes, sent);
    assert_eq!(
        (subject_count(&county, "XF_EVENTS", "xf.events.>").await - before) as u64,
        sent
    );
    // Every simulated township sent something.
    for t in ["gaoqiao", "dongcheng", "xishan"] {
        assert!(
            stored_count(&county, &format!("XF_INBOX_{t}")).await > 0,
            "{t} sent nothing"
        );
    }
}
