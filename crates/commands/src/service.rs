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
//! append, not a re-read of the case (shared/perf-baseline.md). Commands on one case are serialized
//! inside this process by a per-case lock; across processes the expected sequence decides.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use uuid::Uuid;

use domain::{decide, evolve, CaseId, Command, Ctx, DomainError, Policy, UnitCode, UnitKind};

use domain::identity::Keys;
use domain::linking::Peer;
use eventlog::log::case_subject;
use eventlog::{Actor, Counters, Envelope, EventLog, Identities, LogError, Stored};

use crate::idempotency::{Committed, IdempotencyStore};

pub use crate::request::{CommandRequest, Executed, Loaded, RecordedCommand, RejectedEvent};
use crate::{CommandError, Stores};

mod keyed;
mod linked;
mod reading;
mod sealing;
use reading::fold;

/// What a registration drew before its append, kept across its retries: its number and the
/// earlier cases of its petitioners.
struct Prepared {
    serial: u64,
    peers: Vec<Peer>,
}

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

    /// The store of evidence: the API puts an attachment's bytes there before the command that
    /// attaches them.
    pub fn attachments(&self) -> &eventlog::Attachments {
        &self.attachments
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The cases' data keys (evidence is sealed under them; erasure destroys them).
    pub fn vault(&self) -> &eventlog::Vault {
        &self.vault
    }

    /// The command path's signing key (for the statements it makes: a case's head in a bundle).
    pub fn signer(&self) -> &integrity::Signer {
        &self.signer
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

    pub async fn execute(&self, req: CommandRequest<'_>) -> Result<Executed, CommandError> {
        if self.storage_low.load(Ordering::Relaxed) {
            return Err(CommandError::StorageLow);
        }
        match &req.idempotency {
            None => {
                let case_id = req.case_id.unwrap_or_else(|| CaseId(Uuid::now_v7()));
                self.run(&req, case_id, Uuid::now_v7(), None).await
            }
            Some((key, body)) => self.execute_keyed(&req, key, body).await,
        }
    }

    async fn run(
        &self,
        req: &CommandRequest<'_>,
        case_id: CaseId,
        command_id: Uuid,
        hash: Option<&str>,
    ) -> Result<Executed, CommandError> {
        let slot = self.slot(case_id);
        let mut guard = slot.lock().await;
        let give_up = Instant::now() + self.retry_for;
        let mut backoff = Duration::from_millis(20);
        // A cached state may be stale when other processes write; it is trusted for deciding (the
        // expected sequence catches staleness) but refreshed before answering a version conflict.
        let mut fresh = false;
        // A registration's number and earlier cases, drawn once for this request and kept across
        // its retries.
        let mut prepared = None;
        loop {
            match self
                .attempt(
                    req,
                    case_id,
                    command_id,
                    hash,
                    &mut guard,
                    &mut fresh,
                    &mut prepared,
                )
                .await
            {
                Ok(Some(outcome)) => return Ok(outcome),
                Ok(None) => {}
                // Unavailable anywhere (load, re-read, append): nothing is half-done that a retry
                // could double, because every retry carries the same command id.
                Err(e) if e.is_transient() => {
                    if Instant::now() + backoff > give_up {
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

    /// One decide-and-append round. `Ok(None)`: the case moved on; decide again.
    ///
    /// A command whose id the case's events already record was applied before (a retry, or a
    /// twin that ran concurrently): its result is the answer, or `IdempotencyMismatch` when the
    /// two requests differ. The cached state may be stale; a twin appended elsewhere surfaces as
    /// a conflict or a refusal, and both re-read the log before answering.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        req: &CommandRequest<'_>,
        case_id: CaseId,
        command_id: Uuid,
        hash: Option<&str>,
        guard: &mut Option<Loaded>,
        fresh: &mut bool,
        prepared: &mut Option<Prepared>,
    ) -> Result<Option<Executed>, CommandError> {
        if let Command::Register(r) = &req.command {
            if let Some(related) = r.related_case_id {
                // Only a case the caller may see can be named: the same answer for a case that
                // does not exist and one of another township, so nothing leaks.
                let (found, _) = self.refresh(related, None).await?;
                if found
                    .is_none_or(|l| domain::auth::can_read_case(req.principal, &l.case).is_err())
                {
                    return Err(DomainError::Validation(domain::text!(
                        "related_case_id {related} names no case you can see",
                        "related_case_id：{related} 不是您可查看的案件"
                    ))
                    .into());
                }
            }
        }
        if guard.is_none() && !*fresh {
            let (loaded, _) = self.refresh(case_id, None).await?;
            *guard = loaded;
            *fresh = true;
        }
        if let Some(done) = guard
            .as_ref()
            .and_then(|l| l.commands.iter().find(|a| a.command_id == command_id))
        {
            return self.answer_twin(done.clone(), hash).await.map(Some);
        }
        if let (Some(expected), Some(l)) = (req.if_match, guard.as_ref()) {
            // A version is news only to a principal who may see the case; to anyone else the
            // case does not exist (a 409 with its version would be an existence oracle).
            domain::auth::can_read_case(req.principal, &l.case)?;
            if l.case.version != expected {
                if !*fresh {
                    let (loaded, _) = self.refresh(case_id, guard.clone()).await?;
                    *guard = loaded;
                    *fresh = true;
                    return Ok(None);
                }
                return Err(CommandError::VersionConflict {
                    expected,
                    current: l.case.version,
                });
            }
        }
        let state = guard.as_ref().map(|l| &l.case);
        let now = self.now();
        // What the rules need beyond the case: its petitioners' other cases (an acceptance of a
        // repeated terminated matter), a merge's target.
        let peers: Vec<Peer> = match (&req.command, state, prepared.as_ref()) {
            (Command::Accept(_), Some(case), _) if case.status == domain::Status::Registered => {
                self.terminated_peers(case).await?
            }
            (Command::Register(_), None, Some(p)) => p.peers.clone(),
            _ => Vec::new(),
        };
        let target = match (&req.command, state) {
            (Command::Merge(m), Some(_)) => self.visible(req.principal, m.into).await?,
            _ => None,
        };
        let ctx = |case_serial, peers| Ctx {
            now,
            policy: &self.policy,
            units: &self.units,
            principal: req.principal,
            case_id,
            case_serial,
            peers,
            target: target.as_ref(),
        };
        let event = match decide(
            state,
            &req.command,
            &ctx(prepared.as_ref().map(|p| p.serial), peers.as_slice()),
        ) {
            Ok(event) => event,
            // Refused on a cached state: the log may have moved on (another process, or this
            // command's twin), so decide once more on the log's state before answering.
            Err(_) if !*fresh => {
                let (loaded, _) = self.refresh(case_id, guard.clone()).await?;
                *guard = loaded;
                *fresh = true;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        // A registration that decides is filed under its petitioners and numbered only now, so a
        // refused one takes no number; then it is decided again with both. A correction of the
        // facts the index files is filed again, and decided again with its earlier cases.
        let event = match (&req.command, state, prepared.as_ref()) {
            (Command::Correct(_), Some(case), _) => {
                match self.refile_correction(case, &event, now).await? {
                    Some(peers) => decide(state, &req.command, &ctx(None, peers.as_slice()))?,
                    None => event,
                }
            }
            (Command::Register(r), None, None) => {
                let peers = self.file_registration(case_id, r).await?;
                let series = domain::decide::case_series(r, &self.policy).0;
                let serial = self.numbers.next(&series).await?;
                let p = prepared.insert(Prepared { serial, peers });
                decide(
                    state,
                    &req.command,
                    &ctx(Some(p.serial), p.peers.as_slice()),
                )?
            }
            _ => event,
        };
        if let (domain::Event::ReviewDecided(d), Some(case)) = (&event, state) {
            if d.level >= 2 {
                self.mark_terminated(case).await?;
            }
        }
        let occurred_at = domain::decide::occurred_at(state, &req.command, now)?;
        let (subject, expected, township) = match (guard.as_ref(), &event) {
            (Some(l), _) => (l.subject.clone(), l.seq, l.case.township.clone()),
            (None, domain::Event::CaseRegistered(e)) => {
                (case_subject(&e.township, case_id), 0, e.township.clone())
            }
            (None, _) => return Err(DomainError::NotFound.into()),
        };
        let mut envelope = Envelope {
            event_id: Uuid::now_v7(),
            case_id,
            township,
            schema_version: domain::Event::SCHEMA_VERSION,
            version: state.map_or(1, |c| c.version + 1),
            occurred_at,
            recorded_at: now,
            actor: Actor::from(req.principal),
            command_id,
            correlation_id: req.correlation_id,
            causation_id: req.causation_id,
            request_hash: hash.map(str::to_owned),
            prev_hash: guard.as_ref().map(|l| integrity::to_hex(&l.hash)),
            key_id: None,
            hash: None,
            sig: None,
            personal: None,
            migrated_at: None,
            event,
        };
        let plain = self.seal_personal(state, &mut envelope).await?;
        let (bytes, chain_hash) =
            eventlog::envelope::seal(&mut envelope, &self.signer).map_err(|e| {
                CommandError::Log(LogError::Encode {
                    what: "an event",
                    source: e.into(),
                })
            })?;
        match self
            .log
            .append_bytes(&subject, expected, &envelope, bytes)
            .await
        {
            Ok((seq, false)) => {
                if let Some(plain) = plain {
                    envelope.event = plain;
                }
                let (before, mut commands, rejected) = match guard.take() {
                    Some(l) => (Some(l.case), l.commands, l.rejected),
                    None => (None, Vec::new(), Vec::new()),
                };
                let case = evolve(before, case_id, &envelope.event, occurred_at)
                    .map_err(|e| CommandError::Internal(e.to_string()))?;
                commands.push(RecordedCommand {
                    command_id,
                    committed: Committed {
                        case_id,
                        version: case.version,
                        seq,
                    },
                    request_hash: envelope.request_hash.clone(),
                });
                *guard = Some(Loaded {
                    case: case.clone(),
                    subject,
                    seq,
                    hash: chain_hash,
                    commands,
                    rejected,
                });
                let committed = Committed {
                    case_id,
                    version: case.version,
                    seq,
                };
                let peers = match (&envelope.event, prepared.as_ref()) {
                    (domain::Event::CaseRegistered(_), Some(p)) => {
                        self.current_peers(&p.peers, case.category).await
                    }
                    _ => Vec::new(),
                };
                Ok(Some(Executed {
                    committed,
                    case,
                    replayed: false,
                    peers,
                }))
            }
            Ok((seq, true)) => {
                // The stream already holds this command (a retry inside the duplicate window).
                let stored = self.log.get(seq).await?;
                let (loaded, _) = self.refresh(case_id, guard.clone()).await?;
                *guard = loaded;
                self.answer_twin(RecordedCommand::of(&stored), hash)
                    .await
                    .map(Some)
            }
            Err(e @ (LogError::Conflict | LogError::Unknown)) => {
                let (loaded, new_events) = self.refresh(case_id, guard.clone()).await?;
                *guard = loaded;
                *fresh = true;
                if let Some(mine) = new_events
                    .iter()
                    .find(|s| s.envelope.command_id == command_id)
                {
                    return self
                        .answer_twin(RecordedCommand::of(mine), hash)
                        .await
                        .map(Some);
                }
                if matches!(e, LogError::Unknown) && new_events.is_empty() {
                    // Not stored, as far as the log shows, and nothing else happened: retry
                    // within the budget like any unavailability (the same command id keeps a
                    // late landing from counting twice). Retrying at once, without a budget,
                    // hung a request for minutes on a full disk.
                    return Err(CommandError::Log(LogError::Unknown));
                }
                match req.if_match {
                    Some(expected) => {
                        let current = guard.as_ref().map_or(0, |l| l.case.version);
                        Err(CommandError::VersionConflict { expected, current })
                    }
                    None => Ok(None),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

pub(crate) fn committed(s: &Stored) -> Committed {
    Committed {
        case_id: s.envelope.case_id,
        version: s.envelope.version,
        seq: s.seq,
    }
}
