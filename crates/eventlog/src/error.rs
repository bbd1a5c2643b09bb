//! What the log could not do, and what is safe next.

use async_nats::jetstream::context::PublishErrorKind;

use crate::envelope::CodecError;

/// The error underneath, kept with its type (`source()` and downcasting reach it).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why the log did not do what was asked. Each kind tells the caller what is safe next:
/// `Conflict` re-decide, `Unavailable` retry (nothing stored), `Unknown` re-read (maybe stored),
/// `Full` wait for space, the rest is a bug or damage and is not retried.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The case moved on: the expected last subject sequence did not match (JetStream 10071).
    #[error("the case was changed concurrently")]
    Conflict,
    /// Nothing was stored; safe to retry (no stream leader, no responders, connection lost before
    /// send).
    #[error("event log unavailable while {doing}: {source}")]
    Unavailable {
        doing: &'static str,
        #[source]
        source: Cause,
    },
    /// The outcome is unknown (the ack timed out): the event may or may not be stored.
    #[error("event log did not confirm the append in time")]
    Unknown,
    #[error("stored event unreadable at sequence {seq}: {source}")]
    Corrupt { seq: u64, source: CodecError },
    /// The store refused the write for lack of space (JetStream's storage limit or a full
    /// disk): nothing was stored.
    #[error("event store full: {source}")]
    Full {
        #[source]
        source: Cause,
    },
    /// JetStream refused the write for another reason (a message too large, a stream sealed):
    /// nothing was stored, and sending it again would be refused again.
    #[error("event log refused the write: {source}")]
    Refused {
        #[source]
        source: Cause,
    },
    /// Something could not be encoded for the log; nothing was sent.
    #[error("cannot encode {what}: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: Cause,
    },
    /// What is stored does not match what names it (an attachment whose bytes do not hash to
    /// its name).
    #[error("{0}")]
    Inconsistent(String),
    /// An empty message was about to be written: the log and its companions never store one.
    #[error("an empty message was about to be written")]
    Empty,
    /// A stored record that is not what it must be (damage, or a writer outside Xinfang).
    #[error("an unreadable {what}")]
    Unreadable { what: &'static str },
    /// A message delivered without the JetStream metadata every stored message has.
    #[error("a delivered message lacks JetStream metadata: {source}")]
    NotJetStream {
        #[source]
        source: Cause,
    },
}

impl LogError {
    pub fn unavailable(doing: &'static str, e: impl Into<Cause>) -> LogError {
        LogError::Unavailable {
            doing,
            source: e.into(),
        }
    }

    /// Whether trying again later may succeed with nothing else changed (nothing was stored).
    pub fn is_transient(&self) -> bool {
        matches!(self, LogError::Unavailable { .. })
    }
}

pub(crate) fn publish_error(e: async_nats::jetstream::context::PublishError) -> LogError {
    match e.kind() {
        PublishErrorKind::WrongLastSequence => LogError::Conflict,
        PublishErrorKind::TimedOut => LogError::Unknown,
        PublishErrorKind::StreamNotFound
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending => LogError::unavailable("appending", e),
        _ if is_full(&e.to_string()) => LogError::Full { source: e.into() },
        _ => LogError::Refused { source: e.into() },
    }
}

/// JetStream's answers for a write refused for space: `insufficient resources` (10023) and
/// `insufficient storage resources available` (10047), or the disk's own error.
pub(crate) fn is_full(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("insufficient") || e.contains("no space left") || e.contains("resources exceeded")
}
