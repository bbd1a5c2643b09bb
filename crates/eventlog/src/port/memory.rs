//! The ports in memory, with JetStream's semantics where the command path depends on them (and
//! `tests/ports.rs` checks them against a real nats-server): an expected last subject sequence
//! that is not the subject's last is a conflict, checked first; then a message id seen before is
//! a duplicate, answered with the original's sequence (so a repeated append with an expected
//! sequence is a conflict once the first is stored); a key is created once and updated by
//! revision. Faults are injected one
//! append at a time ([`Fault`]) to exercise what a server does under failure: an outage, a full
//! store, an acknowledgement lost after the message was stored or before.
//!
//! For unit tests and tools; the message id window is unbounded and nothing is persisted.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt as _;

use super::{subject_matches, Ack, BucketPort, Entry, Message, MessagePort, ObjectPort};
use crate::error::LogError;
use crate::subjects::headers;

/// What the next append meets instead of a healthy server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No leader, no responders: nothing stored, `Unavailable`.
    Unavailable,
    /// The store is full: nothing stored, `Full`.
    Full,
    /// The message is stored but its acknowledgement is lost: `Unknown`.
    StoredUnacknowledged,
    /// The message never arrives and no acknowledgement comes: `Unknown`.
    Lost,
}

#[derive(Default)]
struct Stream {
    messages: BTreeMap<u64, Message>,
    last: u64,
    ids: HashMap<String, u64>,
    faults: VecDeque<Fault>,
    publishes: u64,
    /// Reads time out (a server restarting): `Unavailable`.
    reads_down: bool,
}

/// A stream in memory.
#[derive(Clone, Default)]
pub struct MemoryMessages {
    inner: Arc<Mutex<Stream>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryMessages {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next appends meet `faults`, in order, one each.
    pub fn inject(&self, faults: &[Fault]) {
        lock(&self.inner).faults.extend(faults);
    }

    /// While `down`, every read is `Unavailable` (a server restarting); appends: [`Self::inject`].
    pub fn set_reads_down(&self, down: bool) {
        lock(&self.inner).reads_down = down;
    }

    fn read<T>(&self, f: impl FnOnce(&Stream) -> T) -> Result<T, LogError> {
        let s = lock(&self.inner);
        if s.reads_down {
            return Err(LogError::unavailable(
                "reading",
                "request timed out (injected)",
            ));
        }
        Ok(f(&s))
    }

    /// How many appends were tried (each fault and duplicate included).
    pub fn publishes(&self) -> u64 {
        lock(&self.inner).publishes
    }

    /// How many messages the stream holds.
    pub fn len(&self) -> usize {
        lock(&self.inner).messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn append(&self, subject: String, headers: HeaderMap, payload: Bytes) -> Result<Ack, LogError> {
        let mut s = lock(&self.inner);
        s.publishes += 1;
        let fault = s.faults.pop_front();
        match fault {
            Some(Fault::Unavailable) => {
                return Err(LogError::unavailable(
                    "appending",
                    "no responders (injected)",
                ))
            }
            Some(Fault::Full) => {
                return Err(LogError::Full {
                    source: "insufficient storage resources available (injected)".into(),
                })
            }
            Some(Fault::Lost) => return Err(LogError::Unknown),
            Some(Fault::StoredUnacknowledged) | None => {}
        }
        if let Some(expected) = headers.get(headers::EXPECTED_LAST_SUBJECT_SEQUENCE) {
            let expected: u64 = expected.as_str().parse().map_err(|_| LogError::Refused {
                source: "an expected sequence that is not a number".into(),
            })?;
            let last = s
                .messages
                .values()
                .rev()
                .find(|m| m.subject == subject)
                .map_or(0, |m| m.seq);
            if last != expected {
                return Err(LogError::Conflict);
            }
        }
        let id = headers.get(headers::MSG_ID).map(|v| v.as_str().to_owned());
        if let Some(&seq) = id.as_ref().and_then(|id| s.ids.get(id)) {
            return Ok(Ack {
                seq,
                duplicate: true,
            });
        }
        s.last += 1;
        let seq = s.last;
        if let Some(id) = id {
            s.ids.insert(id, seq);
        }
        s.messages.insert(
            seq,
            Message {
                seq,
                subject,
                payload,
                headers,
            },
        );
        match fault {
            Some(Fault::StoredUnacknowledged) => Err(LogError::Unknown),
            _ => Ok(Ack {
                seq,
                duplicate: false,
            }),
        }
    }
}

impl MessagePort for MemoryMessages {
    fn publish(
        &self,
        subject: String,
        headers: HeaderMap,
        payload: Bytes,
    ) -> BoxFuture<'_, Result<Ack, LogError>> {
        let out = self.append(subject, headers, payload);
        async move { out }.boxed()
    }

    fn next_for_subject<'a>(
        &'a self,
        subject: &'a str,
        from: u64,
    ) -> BoxFuture<'a, Result<Option<Message>, LogError>> {
        let found = self.read(|s| {
            s.messages
                .range(from.max(1)..)
                .map(|(_, m)| m)
                .find(|m| subject_matches(subject, &m.subject))
                .cloned()
        });
        async move { found }.boxed()
    }

    fn last_for_subject<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Option<Message>, LogError>> {
        let found = self.read(|s| {
            s.messages
                .values()
                .rev()
                .find(|m| subject_matches(subject, &m.subject))
                .cloned()
        });
        async move { found }.boxed()
    }

    fn get(&self, seq: u64) -> BoxFuture<'_, Result<Option<Message>, LogError>> {
        let found = self.read(|s| s.messages.get(&seq).cloned());
        async move { found }.boxed()
    }

    fn subject_count<'a>(
        &'a self,
        filter: &'a str,
    ) -> BoxFuture<'a, Result<Option<(String, u64)>, LogError>> {
        let s = lock(&self.inner);
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for m in s
            .messages
            .values()
            .filter(|m| subject_matches(filter, &m.subject))
        {
            *counts.entry(m.subject.as_str()).or_default() += 1;
        }
        let found = counts.into_iter().next().map(|(s, n)| (s.to_owned(), n));
        drop(s);
        async move { Ok(found) }.boxed()
    }

    fn erase(&self, seq: u64) -> BoxFuture<'_, Result<bool, LogError>> {
        let erased = lock(&self.inner).messages.remove(&seq).is_some();
        async move { Ok(erased) }.boxed()
    }
}

#[derive(Default)]
struct Kv {
    entries: BTreeMap<String, Entry>,
    revision: u64,
    down: bool,
}

impl Kv {
    fn write(&mut self, key: &str, value: Option<Bytes>) {
        self.revision += 1;
        let revision = self.revision;
        self.entries
            .insert(key.to_owned(), Entry { value, revision });
    }
}

/// A key-value bucket in memory.
#[derive(Clone, Default)]
pub struct MemoryBucket {
    inner: Arc<Mutex<Kv>>,
}

impl MemoryBucket {
    pub fn new() -> Self {
        Self::default()
    }

    /// While `down`, every operation is `Unavailable` (nothing changes).
    pub fn set_down(&self, down: bool) {
        lock(&self.inner).down = down;
    }

    fn with<T>(&self, doing: &'static str, f: impl FnOnce(&mut Kv) -> T) -> Result<T, LogError> {
        let mut kv = lock(&self.inner);
        if kv.down {
            return Err(LogError::unavailable(doing, "no responders (injected)"));
        }
        Ok(f(&mut kv))
    }
}

impl BucketPort for MemoryBucket {
    fn entry<'a>(
        &'a self,
        key: &'a str,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<Option<Entry>, LogError>> {
        let out = self.with(doing, |kv| kv.entries.get(key).cloned());
        async move { out }.boxed()
    }

    fn create<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<bool, LogError>> {
        let out = self.with(doing, |kv| {
            if kv.entries.get(key).is_some_and(|e| e.value.is_some()) {
                return false;
            }
            kv.write(key, Some(value));
            true
        });
        async move { out }.boxed()
    }

    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        revision: u64,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<bool, LogError>> {
        let out = self.with(doing, |kv| {
            if kv.entries.get(key).map(|e| e.revision) != Some(revision) {
                return false;
            }
            kv.write(key, Some(value));
            true
        });
        async move { out }.boxed()
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<(), LogError>> {
        let out = self.with(doing, |kv| kv.write(key, Some(value)));
        async move { out }.boxed()
    }

    fn purge<'a>(
        &'a self,
        key: &'a str,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<(), LogError>> {
        let out = self.with(doing, |kv| kv.write(key, None));
        async move { out }.boxed()
    }

    fn keys(&self, doing: &'static str) -> BoxFuture<'_, Result<Vec<String>, LogError>> {
        let out = self.with(doing, |kv| {
            kv.entries
                .iter()
                .filter(|(_, e)| e.value.is_some())
                .map(|(k, _)| k.clone())
                .collect()
        });
        async move { out }.boxed()
    }
}

/// Objects by name: their bytes and when they were stored (Unix seconds).
type Blobs = BTreeMap<String, (Vec<u8>, i64)>;

/// An object store in memory; each object remembers when it was stored.
#[derive(Clone, Default)]
pub struct MemoryObjects {
    inner: Arc<Mutex<Blobs>>,
}

impl MemoryObjects {
    pub fn new() -> Self {
        Self::default()
    }
}

impl ObjectPort for MemoryObjects {
    fn size<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<usize>, LogError>> {
        let size = lock(&self.inner).get(name).map(|(b, _)| b.len());
        async move { Ok(size) }.boxed()
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, LogError>> {
        let bytes = lock(&self.inner).get(name).map(|(b, _)| b.clone());
        async move { Ok(bytes) }.boxed()
    }

    fn put<'a>(&'a self, name: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, Result<(), LogError>> {
        let now = chrono::Utc::now().timestamp();
        lock(&self.inner).insert(name.to_owned(), (bytes.to_vec(), now));
        async move { Ok(()) }.boxed()
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>, LogError>> {
        let all = lock(&self.inner)
            .iter()
            .map(|(n, (_, at))| (n.clone(), *at))
            .collect();
        async move { Ok(all) }.boxed()
    }

    fn erase<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), LogError>> {
        if let Some((mut bytes, _)) = lock(&self.inner).remove(name) {
            bytes.fill(0);
        }
        async move { Ok(()) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::subjects::headers::append as headers;

    #[tokio::test]
    async fn appends_follow_jetstream_rules() {
        let m = MemoryMessages::new();
        let put = |subject: &str, expected, id| {
            m.publish(
                subject.into(),
                headers(expected, id),
                Bytes::from_static(b"x"),
            )
        };
        assert_eq!(put("a.1", Some(0), Some("c1")).await.expect("first").seq, 1);
        assert!(matches!(
            put("a.1", Some(0), Some("c2")).await,
            Err(LogError::Conflict)
        ));
        // The expected sequence is checked before the message id.
        assert!(matches!(
            put("a.1", Some(0), Some("c1")).await,
            Err(LogError::Conflict)
        ));
        let dup = put("a.1", Some(1), Some("c1")).await.expect("duplicate");
        assert_eq!((dup.seq, dup.duplicate), (1, true));
        assert_eq!(
            put("a.2", Some(0), None).await.expect("other subject").seq,
            2
        );
        assert_eq!(put("a.1", Some(1), None).await.expect("next").seq, 3);
        m.inject(&[Fault::StoredUnacknowledged, Fault::Lost]);
        assert!(matches!(
            put("a.1", Some(3), Some("c3")).await,
            Err(LogError::Unknown)
        ));
        assert!(matches!(
            put("a.1", Some(4), Some("c4")).await,
            Err(LogError::Unknown)
        ));
        assert_eq!(m.len(), 4, "stored unacknowledged: kept; lost: not");
        assert_eq!(
            m.subject_count("a.*").await.expect("count"),
            Some(("a.1".into(), 3))
        );
        let next = m
            .next_for_subject("a.1", 2)
            .await
            .expect("next")
            .expect("one");
        assert_eq!(next.seq, 3);
        assert!(m.erase(3).await.expect("erase"));
        assert_eq!(m.get(3).await.expect("get").map(|m| m.seq), None);
    }

    #[tokio::test]
    async fn a_key_is_created_once_and_updated_by_revision() {
        let b = MemoryBucket::new();
        assert!(b
            .create("k", Bytes::from_static(b"1"), "t")
            .await
            .expect("create"));
        assert!(!b
            .create("k", Bytes::from_static(b"2"), "t")
            .await
            .expect("again"));
        let rev = b
            .entry("k", "t")
            .await
            .expect("entry")
            .expect("one")
            .revision;
        assert!(!b
            .update("k", Bytes::from_static(b"3"), rev + 1, "t")
            .await
            .expect("stale"));
        assert!(b
            .update("k", Bytes::from_static(b"3"), rev, "t")
            .await
            .expect("update"));
        b.purge("k", "t").await.expect("purge");
        assert_eq!(b.keys("t").await.expect("keys"), Vec::<String>::new());
        assert!(b
            .create("k", Bytes::from_static(b"4"), "t")
            .await
            .expect("after purge"));
        b.set_down(true);
        assert!(matches!(
            b.keys("t").await,
            Err(LogError::Unavailable { .. })
        ));
    }
}
