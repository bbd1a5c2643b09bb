//! What a command needs and what it gives back: the request, the result, and a case as last seen
//! in the log with the commands its events record.

use uuid::Uuid;

use domain::{Case, CaseId, Command, Principal};
use eventlog::Stored;

use crate::idempotency::Committed;

/// A case as last seen in the log.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub case: Case,
    pub subject: String,
    /// Stream sequence of the case's last event.
    pub seq: u64,
    /// The chain hash of the case's last event: the next event's `prev_hash`.
    pub hash: integrity::Hash,
    /// Every command the case's events record, so a retried command is recognised from the log
    /// itself.
    pub commands: Vec<RecordedCommand>,
    /// The events of the case's subject that are not facts (forged, unsigned, replayed), read
    /// as absent: the case says it was tampered with.
    pub rejected: Vec<RejectedEvent>,
}

use wire::case::RejectedEvent;

/// A command recorded by one of the case's events.
#[derive(Debug, Clone)]
pub struct RecordedCommand {
    pub command_id: Uuid,
    pub committed: Committed,
    /// Of a request with an idempotency key (`None` without one, and in older events).
    pub request_hash: Option<String>,
}

impl RecordedCommand {
    pub(crate) fn of(s: &Stored) -> RecordedCommand {
        RecordedCommand {
            command_id: s.envelope.command_id,
            committed: Committed::of(s),
            request_hash: s.envelope.request_hash.clone(),
        }
    }
}

/// What a command needs besides the command itself.
#[derive(Clone)]
pub struct CommandRequest<'a> {
    pub principal: &'a Principal,
    /// `None` for a registration.
    pub case_id: Option<CaseId>,
    pub command: Command,
    /// `If-Match`: the version the caller decided on.
    pub if_match: Option<u64>,
    /// `Idempotency-Key` and the body as sent (JSON), to detect a different body under one key.
    pub idempotency: Option<(String, serde_json::Value)>,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// When the command reached the system, if not when it is decided: a township's message,
    /// when it reached the township's own stream (补录 is judged against it).
    pub reached_at: Option<domain::Timestamp>,
}

impl<'a> CommandRequest<'a> {
    /// A command with nothing besides: no `If-Match`, no idempotency key, a new correlation id.
    pub fn new(principal: &'a Principal, case_id: Option<CaseId>, command: Command) -> Self {
        CommandRequest {
            principal,
            case_id,
            command,
            if_match: None,
            idempotency: None,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            reached_at: None,
        }
    }
}

/// The result of a command: what was committed and the case as of that version.
#[derive(Debug, Clone)]
pub struct Executed {
    pub committed: Committed,
    pub case: Case,
    /// True when this is a replay of an earlier request (idempotency), nothing appended now.
    pub replayed: bool,
    /// For a registration as first executed: the earlier cases of its petitioners on its
    /// category as the log had them right after (at most 20, the latest), so that its answer can
    /// tell whether it is one matter in several places before any read model knows the case.
    pub peers: Vec<domain::linking::Peer>,
}
