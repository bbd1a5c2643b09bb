//! Following the log into sinks: read models and the feed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use eventlog::{EventLog, LogError};

pub use crate::apply::{
    apply_batch, apply_batch_recorded, open_personal, Shared, SinkError, REBUILD_BATCH,
};
pub use crate::rebuild::{rebuild, rebuild_upto};
pub use crate::sink::{ModelSink, Sink};
use crate::ProjectionError;

/// Largest number of events applied in one sled batch.
pub const BATCH: usize = 1000;
/// How long a projector that has caught up waits before it takes the next events (2 ms until
/// issue 31: 5 ms took 3-10 % off the CPU per command for 2.5 ms more lag at the median).
pub const LINGER: Duration = Duration::from_millis(5);
/// Follows the log once for several sinks: each event is read and decoded once and handed to
/// every sink in log order; each sink keeps its own store and checkpoint. One loop, one failure
/// policy, for the read models and the feed alike:
/// - the log stream fails: follow again from the lowest checkpoint (a sink skips what it has);
/// - a stored event does not decode or apply: stop with the error rather than skip it;
/// - what an event needs from the log (its data key) cannot be read now, a server restarting:
///   pause, then follow again from the lowest checkpoint (nothing of the batch was committed);
/// - a store cannot be written: wait until disk space is back, then stop, so the supervisor starts
///   a fresh process (sled does not recover from a failed write in-process) without a restart
///   loop while the disk is full;
/// - a sink cannot publish: pause, then follow again from the lowest checkpoint (what was
///   published is deduplicated by its message id);
/// - free disk space is low: take no more events until it returns (queries go on).
pub struct Runner {
    pub log: EventLog,
    pub sinks: Vec<Sink>,
    /// Set while free disk space is below the watermark (watched by the binary).
    pub storage_low: Arc<AtomicBool>,
}

impl Runner {
    pub fn new(log: EventLog, sinks: Vec<Sink>) -> Self {
        Runner {
            log,
            sinks,
            storage_low: Arc::default(),
        }
    }

    fn names(&self) -> String {
        let names: Vec<&str> = self.sinks.iter().map(Sink::name).collect();
        names.join(",")
    }

    fn from(&self) -> Result<u64, ProjectionError> {
        let mut from = u64::MAX;
        for sink in &self.sinks {
            from = from.min(sink.checkpoint()?);
        }
        Ok(if from == u64::MAX { 1 } else { from + 1 })
    }

    async fn flush(&self) -> Result<(), ProjectionError> {
        for sink in &self.sinks {
            sink.flush().await?;
        }
        Ok(())
    }

    async fn wait_for_space(
        &self,
        shutdown: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    ) -> bool {
        while self.storage_low.load(Ordering::Relaxed) {
            tokio::select! {
                _ = shutdown.as_mut() => return false,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        true
    }

    /// Follow the log until `shutdown` resolves.
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ProjectionError> {
        tokio::pin!(shutdown);
        let names = self.names();
        let mut generation_check = tokio::time::interval(Duration::from_secs(1));
        loop {
            let from = self.from()?;
            // Pulled: a projector that falls behind holds a batch, not the server's backlog.
            let followed = self.log.follow_bounded(from).await;
            let mut events = match followed {
                Ok(s) => s.ready_chunks(BATCH),
                Err(e) => {
                    tracing::warn!(sinks = %names, error = %e, "cannot follow the log; retrying");
                    tokio::select! {
                        _ = &mut shutdown => return self.flush().await,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            loop {
                tokio::select! {
                    _ = &mut shutdown => return self.flush().await,
                    _ = generation_check.tick() => {
                        let mut switched = false;
                        for sink in &mut self.sinks {
                            switched |= sink.switch_if_rebuilt()?;
                        }
                        if switched {
                            break;
                        }
                    }
                    batch = events.next() => {
                        let Some(batch) = batch else { break };
                        if self.storage_low.load(Ordering::Relaxed) {
                            tracing::warn!(sinks = %names, "free disk space is low; pausing until it returns");
                            if !self.wait_for_space(&mut shutdown).await {
                                return Ok(());
                            }
                            tracing::info!(sinks = %names, "free disk space is back; resuming");
                        }
                        let mut ok = Vec::with_capacity(batch.len());
                        let mut failure: Option<LogError> = None;
                        for item in batch {
                            match item {
                                Ok(ev) => ok.push(ev),
                                Err(e) => {
                                    failure = Some(e);
                                    break;
                                }
                            }
                        }
                        let mut refollow = false;
                        for sink in &mut self.sinks {
                            match sink.write(&ok).await {
                                Ok(_) => {}
                                Err(SinkError::Store(e)) => {
                                    tracing::error!(sink = sink.name(), error = %e, "a store could not be written; stopping once disk space is available");
                                    loop {
                                        tokio::select! {
                                            _ = &mut shutdown => return Err(e.into()),
                                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                                        }
                                        if !self.storage_low.load(Ordering::Relaxed) {
                                            return Err(e.into());
                                        }
                                    }
                                }
                                Err(SinkError::Apply(e)) => return Err(e),
                                // The log could not be read for an event, or publishing
                                // failed: nothing was committed; again from the checkpoint.
                                Err(e @ (SinkError::Unavailable(_) | SinkError::Publish(_))) => {
                                    tracing::warn!(sink = sink.name(), error = %e, "retrying from the checkpoint");
                                    refollow = true;
                                }
                            }
                        }
                        if refollow {
                            tokio::select! {
                                _ = &mut shutdown => return self.flush().await,
                                _ = tokio::time::sleep(Duration::from_secs(2)) => break,
                            }
                        }
                        if ok.len() < BATCH {
                            // Under a steady stream every event would be a batch of its own, and
                            // a sled commit per event cost more than the events themselves. A
                            // pause lets the next events gather; it adds at most LINGER to the lag.
                            tokio::time::sleep(LINGER).await;
                        }
                        if let Some(e) = failure {
                            if let LogError::Corrupt { seq, .. } = e {
                                return Err(ProjectionError::Apply { seq, why: e.to_string() });
                            }
                            tracing::warn!(sinks = %names, error = %e, "log stream failed; resuming");
                            break;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use eventlog::Stored;
    use std::path::Path;

    /// A registration whose petitioners are sealed (what they hold does not matter: the data
    /// keys are read first).
    fn sealed_registration() -> Stored {
        let mut log = crate::testing::Log::new();
        let at = "2026-03-02T09:00:00+08:00";
        log.run(
            None,
            crate::testing::register("gaoqiao", domain::Channel::Visit, 1, at),
            at,
        );
        let mut event = log.events.remove(0);
        event.envelope.personal = Some(cipher::Sealed {
            alg: "x".into(),
            nonce: String::new(),
            ct: String::new(),
        });
        event
    }

    /// Before: a timeout reading the data keys (a server restarting) stopped the projector as if
    /// the event were broken ("event at seq 1 does not apply"), found by the system test
    /// `every_model_resumes_within_seconds_of_its_server_restarting`. Now it is a transient
    /// failure the runner waits out.
    #[tokio::test]
    async fn a_log_that_cannot_be_read_now_is_waited_out_not_taken_for_a_broken_event() {
        let messages = eventlog::port::memory::MemoryMessages::new();
        let ring = cipher::Keyring::new(
            cipher::Kek::from_hex(&"ab".repeat(32)).expect("kek"),
            vec![],
        );
        let cases = crate::cases::Cases {
            keys: domain::identity::Keys::new(&"i".repeat(32), &"q".repeat(32)).expect("keys"),
            policy: domain::Policy::default(),
            vault: Some(eventlog::Vault::on(Arc::new(messages.clone()), ring)),
        };
        let batch = [sealed_registration()];
        messages.set_reads_down(true);
        let e = open_personal(&cases, &batch)
            .await
            .expect_err("keys unreadable");
        assert!(
            matches!(e, ProjectionError::Unavailable { seq: 1, .. }),
            "{e}"
        );
        assert!(matches!(SinkError::from(e), SinkError::Unavailable(_)));
        // Readable again: this event has no data key (never sealed by this vault), so it is
        // opened as far as it can be, without an error.
        messages.set_reads_down(false);
        assert!(open_personal(&cases, &batch).await.is_ok());
    }

    fn write(dir: &Path, version: u32, checkpoint: u64) {
        let store = Store::open_current(dir).expect("open");
        let mut tx = store.tx();
        tx.set_model_version(version);
        tx.put("k".into(), 5u32);
        store.commit(tx, checkpoint).expect("commit");
    }

    #[test]
    fn a_model_written_by_another_reducer_version_starts_afresh() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), 1, 10);
        let shared = Shared::open(dir.path(), 1).expect("same version");
        assert_eq!(*shared.applied.borrow(), 10, "kept");
        drop(shared);
        let shared = Shared::open(dir.path(), 2).expect("newer version");
        assert_eq!(*shared.applied.borrow(), 0, "replayed from the start");
        assert_eq!(shared.store().get::<u32>("k").expect("get"), None);
        let generations = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
            .count();
        assert_eq!(generations, 1, "the old generation is deleted");
    }
}
