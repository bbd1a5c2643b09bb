//! What the bench waits for between its phases, and the operator's rebuild it times.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::System;

/// Events per second of `xinfang rebuild NAME` against the system: the operator's command, in a
/// process of its own (the live projector switches to the rebuilt generation afterwards).
pub(super) fn rebuild_rate(sys: &System, name: &str) -> anyhow::Result<f64> {
    let exe = std::env::current_exe().context("locating the xinfang binary")?;
    let out = Command::new(exe)
        .arg("rebuild")
        .arg(name)
        .arg("--config")
        .arg(&sys.config)
        .stderr(std::process::Stdio::null())
        .output()
        .context("running xinfang rebuild")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "xinfang rebuild {name} failed: {stdout}"
    );
    // "rebuilt NAME: N events in S s (R events/s)"
    stdout
        .rsplit_once('(')
        .and_then(|(_, rate)| rate.split_whitespace().next())
        .and_then(|r| r.parse::<f64>().ok())
        .with_context(|| format!("no rate in the output of xinfang rebuild: {stdout}"))
}

/// No consumer of the event log has messages pending.
pub(super) async fn wait_followers(nats: &eventlog::Connection) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    let log = eventlog::EventLog::open(nats, &eventlog::LogConfig::default()).await?;
    loop {
        let pending = log.pending_to_followers().await?;
        if pending == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "followers still have {pending} events to fetch"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The notary has taken in the log up to `seq`, less the events it covers only once its
/// checkpoint interval has passed (fewer than `checkpoint_events`, the bench's systems run the
/// default): its work on a phase's events is then charged to that phase, not to the next one.
/// The bench's systems are one server, so the checkpoint stream is opened as one replica.
pub(super) async fn wait_notarized(nats: &eventlog::Connection, seq: u64) -> anyhow::Result<()> {
    let every = integrity::config::Settings::default().checkpoint_events;
    let deadline = Instant::now() + Duration::from_secs(600);
    let checkpoints = eventlog::Checkpoints::open(nats, 1).await?;
    let wanted = seq.saturating_sub(every - 1);
    loop {
        let covered = match checkpoints.get(checkpoints.last_seq().await?).await? {
            Some(Ok(cp)) => cp.last_seq,
            _ => 0,
        };
        if covered >= wanted {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the notary is stuck at {covered} (wanted {wanted})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a phase of load leaves behind is done before its CPU is read: every projector has
/// applied `seq`, the feed and every other follower have nothing left to fetch, and the notary
/// has covered it.
pub(super) async fn wait_settled(nats: &eventlog::Connection, seq: u64) -> anyhow::Result<()> {
    wait_applied(nats, seq).await?;
    wait_followers(nats).await?;
    wait_notarized(nats, seq).await
}

/// Every projector process has applied `seq`.
pub(super) async fn wait_applied(client: &eventlog::Connection, seq: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    let queries = queries::QueryClient::new(client.clone());
    for model in queries::protocol::Model::ALL {
        let name = model.name();
        loop {
            let applied = queries
                .status(
                    model,
                    None,
                    chrono::Utc::now().fixed_offset(),
                    Duration::from_secs(5),
                )
                .await
                .map(|s| s.applied_seq)
                .unwrap_or(0);
            if applied >= seq {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "projector {name} stuck at {applied}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}
