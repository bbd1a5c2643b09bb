//! The command path shared by HTTP and (later) the NATS inbox: load the case, `decide`, append
//! with the expected last subject sequence, and handle what can go wrong in between.
//!
//! - Conflict (another writer appended first): re-read the new events and re-decide, unless the
//!   caller pinned a version with `If-Match` (then `VersionConflict`).
//! - Unavailable (no leader, no responders): nothing was stored; back off and retry.
//! - Unknown (ack timed out): the append may have landed. Re-read, and if an event with this
//!   command id is there, that is the result; otherwise re-decide. The command id is also the
//!   `Nats-Msg-Id`, so a second copy inside the duplicate window is dropped by the stream.
//!
//! Idempotency (`idempotency.rs`): a key-value record claims each key, so a key reused for another
//! request is refused, and keeps the case id a registration's first attempt chose; whether a
//! command was applied is read from the log, where its event carries the command id and request
//! hash, which the loaded case keeps.
//!
//! Recently used case states stay in memory with their last sequence, so a command costs one
//! append, not a re-read of the case (which costs more than the append). Commands on one case are serialized
//! inside this process by a per-case lock; across processes the expected sequence decides.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use uuid::Uuid;

use domain::{CaseId, Policy, UnitCode, UnitKind};

use domain::identity::Keys;
use eventlog::{Counters, EventLog, Identities};

use crate::idempotency::IdempotencyStore;

pub use crate::request::{CommandRequest, Executed, Loaded, RecordedCommand};
use crate::{CommandError, Stores};
pub use alerts::{AlertReview, Reviewed};
pub use past::PastLinks;

mod alerts;
mod evidence;
mod keyed;
mod linked;
mod past;
mod reading;
mod round;
mod sealing;
#[cfg(test)]
mod tests;
use reading::fold;
use round::{Progress, Round};

type Slot = Arc<tokio::sync::Mutex<Option<Loaded>>>;

pub struct CaseService {
    log: EventLog,
    idem: IdempotencyStore,
    numbers: Counters,
    identities: Identities,
    attachments: eventlog::Attachments,
    vault: eventlog::Vault,
    erasures: eventlog::Erasures,
    /// The county's secrets: identity hashes and query codes.
    keys: Keys,
    /// The key every event is signed with (envelope v2); only the command path holds it.
    signer: integrity::Signer,
    policy: Policy,
    units: BTreeMap<UnitCode, UnitKind>,
    slots: Mutex<HashMap<CaseId, Slot>>,
    cache_capacity: usize,
    /// How long to keep retrying while the log is unavailable (R3 leader elections take 4-10 s).
    retry_for: Duration,
    /// Set while free disk space is below the watermark (`storage::watch` in the binary):
    /// commands are refused at once instead of filling the disk.
    storage_low: Arc<AtomicBool>,
}

impl CaseService {
    pub fn new(
        stores: Stores,
        policy: Policy,
        units: BTreeMap<UnitCode, UnitKind>,
        keys: Keys,
        signer: integrity::Signer,
    ) -> Self {
        let Stores {
            log,
            idem,
            numbers,
            identities,
            attachments,
            vault,
            erasures,
        } = stores;
        CaseService {
            log,
            idem,
            numbers,
            identities,
            attachments,
            vault,
            erasures,
            keys,
            signer,
            policy,
            units,
            slots: Mutex::new(HashMap::new()),
            cache_capacity: 50_000,
            retry_for: Duration::from_secs(15),
            storage_low: Arc::default(),
        }
    }

    /// The flag that refuses commands while storage is low; a watcher of the disk sets it.
    pub fn storage_low(&self) -> Arc<AtomicBool> {
        self.storage_low.clone()
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn unit_kind(&self, unit: &UnitCode) -> Option<UnitKind> {
        self.units.get(unit).copied()
    }

    /// Sign a statement the command path makes (a case's head in a bundle) with its key.
    pub fn sign_head(&self, head: integrity::CaseHead) -> integrity::CaseHead {
        head.sign(&self.signer)
    }

    /// The log's last sequence (for read-your-writes and health).
    pub async fn last_seq(&self) -> Result<u64, CommandError> {
        Ok(self.log.last_seq().await?)
    }

    pub fn now(&self) -> domain::Timestamp {
        Utc::now()
            .with_timezone(&self.policy.timezone)
            .fixed_offset()
    }

    fn slot(&self, id: CaseId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= self.cache_capacity {
            // Drop idle entries (nobody holds their lock); they are re-read from the log on demand.
            slots.retain(|_, s| Arc::strong_count(s) > 1);
            if slots.len() >= self.cache_capacity {
                slots.clear();
            }
        }
        slots.entry(id).or_default().clone()
    }

    /// Execute a command, waiting out the log's unavailability for up to 15 s (HTTP: a client
    /// waits for its answer).
    pub async fn execute(&self, req: CommandRequest<'_>) -> Result<Executed, CommandError> {
        self.execute_within(req, self.retry_for).await
    }

    /// Execute a command without waiting for an unavailable log: its first transient failure is
    /// the answer, for a caller with a retry policy of its own (the ingestor, whose message
    /// waits in its stream), so that two policies do not stack.
    pub async fn execute_once(&self, req: CommandRequest<'_>) -> Result<Executed, CommandError> {
        self.execute_within(req, Duration::ZERO).await
    }

    async fn execute_within(
        &self,
        req: CommandRequest<'_>,
        retry_for: Duration,
    ) -> Result<Executed, CommandError> {
        if self.storage_low.load(Ordering::Relaxed) {
            return Err(CommandError::StorageLow);
        }
        match &req.idempotency {
            None => {
                let minted = req.case_id.is_none();
                let case_id = req.case_id.unwrap_or_else(|| CaseId(Uuid::now_v7()));
                let round = Round {
                    req: &req,
                    case_id,
                    command_id: Uuid::now_v7(),
                    hash: None,
                    minted,
                    retry_for,
                };
                self.run(&round).await
            }
            Some((key, body)) => self.execute_keyed(&req, key, body, retry_for).await,
        }
    }

    /// Rounds until one answers; the log's unavailability is waited out for the round's
    /// `retry_for`.
    async fn run(&self, round: &Round<'_, '_>) -> Result<Executed, CommandError> {
        let case_id = round.case_id;
        let slot = self.slot(case_id);
        let mut guard = slot.lock().await;
        let give_up = Instant::now() + round.retry_for;
        let mut backoff = Duration::from_millis(20);
        let mut progress = Progress {
            guard: &mut guard,
            fresh: false,
            prepared: None,
        };
        loop {
            match self.attempt(round, &mut progress).await {
                Ok(Some(outcome)) => return Ok(outcome),
                Ok(None) => {}
                // Unavailable anywhere (load, re-read, append): nothing is half-done that a retry
                // could double, because every retry carries the same command id.
                Err(e) if e.is_transient() => {
                    if round.retry_for.is_zero() || Instant::now() + backoff > give_up {
                        return Err(e);
                    }
                    tracing::warn!(%case_id, error = %e, "event log unavailable, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(e),
            }
        }
    }
}
