//! The storage ports: the kinds of store the command path writes, as traits, each with a
//! JetStream implementation (`nats`) and an in-memory one (`memory`) that keeps the same
//! semantics, so the command path's branches (a concurrent writer first, a duplicate, an append
//! whose outcome is unknown) are unit-tested without a server. The system tests run the same code
//! on real NATS.
//!
//! - [`Messages`]: a stream of messages on subjects, each with a sequence; an append may require
//!   the subject's last sequence (`Nats-Expected-Last-Subject-Sequence`) and carry a message id
//!   the stream deduplicates (`Nats-Msg-Id`). The event log and the data keys live in one each.
//! - [`Bucket`]: a key-value bucket with revisions, atomic create and compare-and-set. The
//!   idempotency claims, case numbers, identity index and erasure register are one each.
//! - [`Objects`]: named blobs whose erasure overwrites them; the evidence.
//!
//! Failures other than the semantic answers (`Conflict`, an existing key, a wrong revision) are
//! [`LogError`]s saying what is safe next, as everywhere in the adapter.

use std::sync::Arc;

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::future::BoxFuture;

use crate::error::LogError;

pub mod memory;
pub mod nats;

/// A message as stored.
#[derive(Debug, Clone)]
pub struct Message {
    pub seq: u64,
    pub subject: String,
    pub payload: Bytes,
    pub headers: HeaderMap,
}

/// What a stream said to an append: the message's sequence, and whether the stream held its
/// message id already (then nothing was stored and `seq` is the original's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub seq: u64,
    pub duplicate: bool,
}

/// A stream of messages on subjects (one JetStream stream).
pub trait MessagePort: Send + Sync {
    /// Append: `Conflict` when the headers require a subject's last sequence that is not it,
    /// `Unknown` when the stream did not confirm in time (it may hold the message), `Full`,
    /// `Refused` or `Unavailable` (nothing stored) otherwise.
    fn publish(
        &self,
        subject: String,
        headers: HeaderMap,
        payload: Bytes,
    ) -> BoxFuture<'_, Result<Ack, LogError>>;

    /// The first message on `subject` (wildcards allowed) at or after sequence `from`.
    fn next_for_subject<'a>(
        &'a self,
        subject: &'a str,
        from: u64,
    ) -> BoxFuture<'a, Result<Option<Message>, LogError>>;

    /// The last message on `subject`.
    fn last_for_subject<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Option<Message>, LogError>>;

    /// The message at `seq`; `None` when there is none (never stored, or erased).
    fn get(&self, seq: u64) -> BoxFuture<'_, Result<Option<Message>, LogError>>;

    /// The first subject matching `filter` that holds messages, and how many it holds.
    fn subject_count<'a>(
        &'a self,
        filter: &'a str,
    ) -> BoxFuture<'a, Result<Option<(String, u64)>, LogError>>;

    /// Erase the message at `seq` (its stored record overwritten); `false` when there was none.
    fn erase(&self, seq: u64) -> BoxFuture<'_, Result<bool, LogError>>;
}

/// A stream, shared.
pub type Messages = Arc<dyn MessagePort>;

/// A key's entry: its value (`None` once deleted or purged) and revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: Option<Bytes>,
    pub revision: u64,
}

/// A key-value bucket (one JetStream KV bucket). Each method's `doing` names the operation in an
/// `Unavailable` error ("reading a claim").
pub trait BucketPort: Send + Sync {
    fn entry<'a>(
        &'a self,
        key: &'a str,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<Option<Entry>, LogError>>;

    /// Create `key` with `value`; `false` when it exists (not deleted) already.
    fn create<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<bool, LogError>>;

    /// Write `value` if `key`'s revision is still `revision`; `false` when it is not.
    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        revision: u64,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<bool, LogError>>;

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<(), LogError>>;

    /// Remove `key` and its history.
    fn purge<'a>(
        &'a self,
        key: &'a str,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<(), LogError>>;

    /// Every key holding a value.
    fn keys(&self, doing: &'static str) -> BoxFuture<'_, Result<Vec<String>, LogError>>;
}

/// A bucket, shared.
pub type Bucket = Arc<dyn BucketPort>;

/// An object store (one JetStream object store): named blobs.
pub trait ObjectPort: Send + Sync {
    /// The size of object `name`, if stored.
    fn size<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<usize>, LogError>>;

    /// The bytes of object `name`, if stored.
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, LogError>>;

    fn put<'a>(&'a self, name: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, Result<(), LogError>>;

    /// Every stored object's name and when it was stored (Unix seconds).
    fn list(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>, LogError>>;

    /// Remove object `name`, its bytes erased (not only unlinked); nothing when not stored.
    fn erase<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), LogError>>;
}

/// An object store, shared.
pub type Objects = Arc<dyn ObjectPort>;

/// The value of `key`, if it holds one.
pub async fn value(
    bucket: &dyn BucketPort,
    key: &str,
    doing: &'static str,
) -> Result<Option<Bytes>, LogError> {
    Ok(bucket.entry(key, doing).await?.and_then(|e| e.value))
}

/// Whether `subject` matches `filter` (NATS wildcards: `*` one token, `>` the rest).
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut f = filter.split('.');
    let mut s = subject.split('.');
    loop {
        match (f.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::subject_matches;

    #[test]
    fn wildcards_match_as_nats_does() {
        assert!(subject_matches("a.*.c", "a.b.c"));
        assert!(!subject_matches("a.*.c", "a.b.d"));
        assert!(!subject_matches("a.*", "a.b.c"));
        assert!(subject_matches("a.>", "a.b.c"));
        assert!(!subject_matches("a.>", "a"));
        assert!(subject_matches("a.b", "a.b"));
        assert!(!subject_matches("a.b", "a.b.c"));
    }
}
