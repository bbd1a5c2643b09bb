//! Durable idempotency far beyond the stream's duplicate window.
//!
//! For a request with an idempotency key (an `Idempotency-Key`, or a township's record id):
//! 1. The command id is derived from (principal, key), so every retry carries the same
//!    `Nats-Msg-Id` and the stream drops a copy that arrives within its duplicate window.
//! 2. Before deciding, a `pending` record (request hash, case id) is created in a key-value
//!    bucket; `create` is atomic, so of two concurrent requests one owns the key, and the record
//!    is read only when the key is taken. A key taken by another request (another body, another
//!    case) is `IdempotencyMismatch`.
//! 3. Whether the command was applied is read from the log: its event carries the command id and
//!    the request hash, and the loaded case keeps them (`service.rs`), so success writes nothing
//!    more and a retry on an existing case is answered from the case's events, for as long as the
//!    log is kept. A twin running concurrently in another process loses on the expected sequence
//!    and finds the winner's event when it re-reads the case. A registration's retry looks in the
//!    case the record names: found, that is the result (and the record becomes `done`); not
//!    found, it executes again under the same case id and command id, where expected sequence 0
//!    lets only one land. Records written `done` by earlier versions answer directly.
//! 4. A command refused by a rule frees its key, so a corrected retry can use it.
//!
//! The record holds no personal data: the response's case is re-rendered from the log as of the
//! recorded version.

use std::time::Duration;

use eventlog::claims::Claims;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use domain::CaseId;

use eventlog::LogError;

use crate::CommandError;

/// The stored outcome of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    pub case_id: CaseId,
    pub version: u64,
    pub seq: u64,
}

impl Committed {
    /// The outcome a stored event records.
    pub(crate) fn of(s: &eventlog::Stored) -> Committed {
        Committed {
            case_id: s.envelope.case_id,
            version: s.envelope.version,
            seq: s.seq,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Record {
    Pending {
        request_hash: String,
        case_id: CaseId,
    },
    Done {
        request_hash: String,
        result: Committed,
    },
}

impl Record {
    pub fn request_hash(&self) -> &str {
        match self {
            Record::Pending { request_hash, .. } | Record::Done { request_hash, .. } => {
                request_hash
            }
        }
    }
}

/// A record as stored; never an empty default, which would read back as no record at all.
fn encode_record(record: &Record) -> Result<Vec<u8>, CommandError> {
    serde_json::to_vec(record)
        .map_err(|e| CommandError::Internal(format!("encoding an idempotency record: {e}")))
}

/// A key as the caller gave it, scoped to the caller.
pub fn command_id_for(principal: &str, key: &str) -> Uuid {
    let digest = Sha256::new()
        .chain_update(principal.as_bytes())
        .chain_update([0u8])
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Hash of what the request asks for: the action, the target and the body as canonical JSON, so
/// that white space or key order do not make "the same body" different.
pub fn request_hash(action: &str, target: Option<CaseId>, body: &serde_json::Value) -> String {
    let canonical = serde_json::to_vec(body).unwrap_or_default();
    let target = target.map(|c| c.to_string()).unwrap_or_default();
    hex::encode(
        Sha256::new()
            .chain_update(action.as_bytes())
            .chain_update([0u8])
            .chain_update(target.as_bytes())
            .chain_update([0u8])
            .chain_update(&canonical)
            .finalize(),
    )
}

/// The claims of idempotency keys, as records.
#[derive(Clone)]
pub struct IdempotencyStore {
    claims: Claims,
}

impl IdempotencyStore {
    pub async fn open(
        nats: &eventlog::Connection,
        replicas: usize,
        max_age: Duration,
    ) -> Result<Self, LogError> {
        Ok(IdempotencyStore {
            claims: Claims::open(nats, replicas, max_age).await?,
        })
    }

    /// The records in `claims` (in memory, for unit tests).
    pub fn on(claims: Claims) -> Self {
        IdempotencyStore { claims }
    }

    pub async fn get(&self, command_id: Uuid) -> Result<Option<Record>, CommandError> {
        match self.claims.get(command_id).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| CommandError::Internal(format!("unreadable idempotency record: {e}"))),
        }
    }

    /// Create the pending record; `false` if a record exists already.
    pub async fn reserve(&self, command_id: Uuid, record: &Record) -> Result<bool, CommandError> {
        Ok(self
            .claims
            .create(command_id, encode_record(record)?)
            .await?)
    }

    pub async fn complete(&self, command_id: Uuid, record: &Record) -> Result<(), CommandError> {
        Ok(self.claims.put(command_id, encode_record(record)?).await?)
    }

    /// Free a key whose command definitely appended nothing (refused by a rule, or a conflict).
    pub async fn release(&self, command_id: Uuid) -> Result<(), CommandError> {
        Ok(self.claims.purge(command_id).await?)
    }
}
