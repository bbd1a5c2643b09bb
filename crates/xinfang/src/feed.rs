//! `xinfang feed`: delivers every event of a case to each unit that is or was accountable for it,
//! on `xf.feed.<unit>.<case_id>` in the `XF_FEED` stream, so a township's system learns of work
//! sent to it even after an outage.
//!
//! The service follows the log from its own checkpoint and keeps the cases' accountable units in
//! a sled store (`DATA_DIR/feed`). Per batch it publishes (all messages of the batch, then all
//! acknowledgements) and then commits the checkpoint; after a crash in between, the republished
//! messages carry the same `Nats-Msg-Id` (`<seq>-<unit>`) and the stream drops them. Each message
//! carries the event's case version: only a publish that failed and was retried can arrive after
//! a later event of its case.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;

use eventlog::{inbox, EventLog, LogConfig};
use projections::audit::AuditEvent;
use projections::{fold_case, Store};

use crate::config::Config;

/// Wait until `low` clears; false when `shutdown` came first.
async fn space_returned(
    low: &AtomicBool,
    shutdown: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> bool {
    while low.load(Ordering::Relaxed) {
        tokio::select! {
            _ = shutdown.as_mut() => return false,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    true
}

pub async fn run_feed(cfg: Config) -> anyhow::Result<()> {
    let client = crate::serve::connect_cfg(&cfg, "xinfang-feed").await?;
    run_with(&cfg, client, crate::serve::shutdown_signal()).await
}

pub async fn run_with(
    cfg: &Config,
    client: async_nats::Client,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let js = async_nats::jetstream::new(client);
    let log = EventLog::open(
        js.clone(),
        &LogConfig {
            replicas: cfg.replicas,
            ..LogConfig::default()
        },
    )
    .await?;
    inbox::open_feed(&js, cfg.replicas).await?;
    let dir = cfg.data_dir.join("feed");
    let store = open_store(&dir, &log).await?;
    tracing::info!(checkpoint = store.checkpoint()?, "feed starting");
    let storage_low = Arc::new(AtomicBool::new(false));
    crate::storage::watch(
        cfg.data_dir.clone(),
        cfg.min_free_bytes,
        storage_low.clone(),
    );
    tokio::pin!(shutdown);
    loop {
        let mut events = match log.follow_bounded(store.checkpoint()? + 1).await {
            Ok(s) => s.ready_chunks(projections::runner::BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the log; retrying");
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            let batch = tokio::select! {
                _ = &mut shutdown => {
                    store.flush().await?;
                    return Ok(());
                }
                b = events.next() => b,
            };
            let Some(batch) = batch else { break };
            // Free disk space low: take no more until it returns (the store is not written).
            if storage_low.load(Ordering::Relaxed) {
                tracing::warn!("free disk space is low; the feed pauses until it returns");
                if !space_returned(&storage_low, &mut shutdown).await {
                    return Ok(());
                }
                tracing::info!("free disk space is back; the feed resumes");
            }
            let small = batch.len() < projections::runner::BATCH;
            let checkpoint = store.checkpoint()?;
            let mut tx = store.tx();
            tx.set_model_version(projections::Projection::version(&Units));
            let mut last = checkpoint;
            let mut failed = false;
            let mut outgoing = Vec::new();
            for item in batch {
                let ev = match item {
                    Ok(ev) => ev,
                    Err(e) => {
                        tracing::warn!(error = %e, "log stream failed; resuming");
                        failed = true;
                        break;
                    }
                };
                if ev.seq <= checkpoint {
                    continue;
                }
                let (_, case) = fold_case(&mut tx, &ev)?;
                let mut event = AuditEvent::from_stored(&ev);
                // Units see personal data of their cases, except confidential and accusation cases.
                if case.confidential || case.accusation {
                    event.redact_personal_data();
                }
                let body = serde_json::to_vec(&event)?;
                for unit in &case.units {
                    let msg_id = format!("{}-{unit}", ev.seq);
                    outgoing.push((
                        eventlog::subjects::feed(unit, case.id),
                        msg_id,
                        body.clone(),
                    ));
                }
                last = ev.seq;
            }
            // The batch's messages go out together (awaiting each acknowledgement in turn held the
            // feed to one round trip per message, so it fell behind under load and the log's
            // messages piled up in its memory); the checkpoint follows their acknowledgements.
            if let Err(e) = inbox::publish_all(&js, outgoing).await {
                // The feed stream refused (full, or no leader): follow again from the checkpoint
                // after a pause; what was published is deduplicated by its message id.
                tracing::warn!(error = %e, "publishing the feed failed; retrying from the checkpoint");
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(2)) => break,
                }
            }
            if last > checkpoint {
                if let Err(e) = store.commit(tx, last) {
                    // As the projectors do: sled does not recover in this process, so stop
                    // once space is back and let the supervisor start afresh (no restart loop).
                    tracing::error!(error = %e, "the feed's store could not be written; stopping once disk space is available");
                    space_returned(&storage_low, &mut shutdown).await;
                    return Err(e.into());
                }
            }
            if failed {
                break;
            }
            if small {
                // As the projectors do: let the next events gather rather than commit each alone.
                tokio::time::sleep(projections::runner::LINGER).await;
            }
        }
    }
}

/// The feed's store as a read model: the cases' units, as `domain::Case` records.
struct Units;

impl projections::Projection for Units {
    fn name(&self) -> &'static str {
        "feed"
    }

    /// The layout of the stored cases (postcard, positional: see `domain::Case`).
    fn version(&self) -> u32 {
        1
    }

    fn apply(
        &self,
        tx: &mut projections::Tx<'_>,
        event: &eventlog::Stored,
    ) -> Result<(), projections::ProjectionError> {
        fold_case(tx, event).map(|_| ())
    }
}

/// The feed's store under `dir`. One written with another layout is replaced by a rebuild up to
/// its checkpoint: the cases are folded again without publishing anything, and the new
/// generation becomes the live one only when complete (interrupted, the next start does it again).
async fn open_store(dir: &std::path::Path, log: &EventLog) -> anyhow::Result<Store> {
    use projections::Projection as _;
    let opening = || format!("opening {}", dir.display());
    let old = Store::open_current(dir).with_context(opening)?;
    let checkpoint = old.checkpoint()?;
    if checkpoint == 0 || old.model_version()? == Units.version() {
        return Ok(old);
    }
    tracing::warn!(
        checkpoint,
        "feed store written with another layout; folding the cases again"
    );
    drop(old);
    projections::runner::rebuild_upto(&Units, dir, log, checkpoint, |_, _| {}).await?;
    Store::open_current(dir).with_context(opening)
}
