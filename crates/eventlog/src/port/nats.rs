//! The ports on JetStream: a stream read with direct gets, a key-value bucket.

use async_nats::jetstream::{self, kv, object_store, stream};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt as _, TryStreamExt as _};

use super::{Ack, BucketPort, Entry, Message, MessagePort, ObjectPort};
use crate::error::{publish_error, LogError};

/// One JetStream stream.
#[derive(Clone)]
pub struct NatsMessages {
    js: jetstream::Context,
    stream: stream::Stream,
}

impl NatsMessages {
    pub fn new(js: jetstream::Context, stream: stream::Stream) -> Self {
        NatsMessages { js, stream }
    }
}

fn message(m: jetstream::message::StreamMessage) -> Message {
    Message {
        seq: m.sequence,
        subject: m.subject.to_string(),
        payload: m.payload,
        headers: m.headers,
    }
}

/// A direct get's answer: the message, none, or the stream unreachable.
fn found(
    got: Result<jetstream::message::StreamMessage, stream::DirectGetError>,
    doing: &'static str,
) -> Result<Option<Message>, LogError> {
    match got {
        Ok(m) => Ok(Some(message(m))),
        Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(None),
        Err(e) => Err(LogError::unavailable(doing, e)),
    }
}

impl MessagePort for NatsMessages {
    fn publish(
        &self,
        subject: String,
        headers: HeaderMap,
        payload: Bytes,
    ) -> BoxFuture<'_, Result<Ack, LogError>> {
        async move {
            let ack = self
                .js
                .publish_with_headers(subject, headers, payload)
                .await
                .map_err(publish_error)?
                .await
                .map_err(publish_error)?;
            Ok(Ack {
                seq: ack.sequence,
                duplicate: ack.duplicate,
            })
        }
        .boxed()
    }

    fn next_for_subject<'a>(
        &'a self,
        subject: &'a str,
        from: u64,
    ) -> BoxFuture<'a, Result<Option<Message>, LogError>> {
        async move {
            found(
                self.stream
                    .direct_get_next_for_subject(subject, Some(from.max(1)))
                    .await,
                "reading a subject",
            )
        }
        .boxed()
    }

    fn last_for_subject<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Option<Message>, LogError>> {
        async move {
            found(
                self.stream.direct_get_last_for_subject(subject).await,
                "reading a subject's last message",
            )
        }
        .boxed()
    }

    fn get(&self, seq: u64) -> BoxFuture<'_, Result<Option<Message>, LogError>> {
        async move { found(self.stream.direct_get(seq).await, "reading a message") }.boxed()
    }

    fn subject_count<'a>(
        &'a self,
        filter: &'a str,
    ) -> BoxFuture<'a, Result<Option<(String, u64)>, LogError>> {
        async move {
            let mut info = self
                .stream
                .info_with_subjects(filter)
                .await
                .map_err(|e| LogError::unavailable("locating a subject", e))?;
            let found = info
                .try_next()
                .await
                .map_err(|e| LogError::unavailable("locating a subject", e))?;
            Ok(found.map(|(subject, count)| (subject, count as u64)))
        }
        .boxed()
    }

    fn erase(&self, seq: u64) -> BoxFuture<'_, Result<bool, LogError>> {
        async move {
            match self.stream.delete_message(seq).await {
                Ok(deleted) => Ok(deleted),
                // JetStream's answer for a message that is not there (erased meanwhile).
                Err(e) if matches!(e.kind(), stream::DeleteMessageErrorKind::JetStream(_)) => {
                    Ok(false)
                }
                Err(e) => Err(LogError::unavailable("erasing a message", e)),
            }
        }
        .boxed()
    }
}

/// One JetStream key-value bucket.
#[derive(Clone)]
pub struct NatsBucket {
    kv: kv::Store,
}

impl NatsBucket {
    pub fn new(kv: kv::Store) -> Self {
        NatsBucket { kv }
    }

    /// Create or update the bucket `config` describes and open it.
    pub async fn open(
        js: &jetstream::Context,
        config: kv::Config,
        doing: &'static str,
    ) -> Result<Self, LogError> {
        let kv = js
            .create_or_update_key_value(config)
            .await
            .map_err(|e| LogError::unavailable(doing, e))?;
        Ok(NatsBucket { kv })
    }
}

impl BucketPort for NatsBucket {
    fn entry<'a>(
        &'a self,
        key: &'a str,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<Option<Entry>, LogError>> {
        async move {
            let entry = self
                .kv
                .entry(key)
                .await
                .map_err(|e| LogError::unavailable(doing, e))?;
            Ok(entry.map(|e| Entry {
                value: (e.operation == kv::Operation::Put).then_some(e.value),
                revision: e.revision,
            }))
        }
        .boxed()
    }

    fn create<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<bool, LogError>> {
        async move {
            match self.kv.create(key, value).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(LogError::unavailable(doing, e)),
            }
        }
        .boxed()
    }

    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        revision: u64,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<bool, LogError>> {
        async move {
            match self.kv.update(key, value, revision).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(false),
                Err(e) => Err(LogError::unavailable(doing, e)),
            }
        }
        .boxed()
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<(), LogError>> {
        async move {
            self.kv
                .put(key, value)
                .await
                .map(|_| ())
                .map_err(|e| LogError::unavailable(doing, e))
        }
        .boxed()
    }

    fn purge<'a>(
        &'a self,
        key: &'a str,
        doing: &'static str,
    ) -> BoxFuture<'a, Result<(), LogError>> {
        async move {
            self.kv
                .purge(key)
                .await
                .map_err(|e| LogError::unavailable(doing, e))
        }
        .boxed()
    }

    fn keys(&self, doing: &'static str) -> BoxFuture<'_, Result<Vec<String>, LogError>> {
        async move {
            self.kv
                .keys()
                .await
                .map_err(|e| LogError::unavailable(doing, e))?
                .try_collect()
                .await
                .map_err(|e| LogError::unavailable(doing, e))
        }
        .boxed()
    }
}

/// One JetStream object store; an erasure overwrites the object's chunks (JetStream's secure
/// message delete) before it removes the object, since an object store's delete only purges them
/// and the bytes stay on disk until compacted.
#[derive(Clone)]
pub struct NatsObjects {
    store: object_store::ObjectStore,
    js: jetstream::Context,
}

impl NatsObjects {
    pub fn new(js: jetstream::Context, store: object_store::ObjectStore) -> Self {
        NatsObjects { store, js }
    }

    async fn info(&self, name: &str) -> Result<Option<object_store::ObjectInfo>, LogError> {
        match self.store.info(name).await {
            Ok(info) if !info.deleted => Ok(Some(info)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == object_store::InfoErrorKind::NotFound => Ok(None),
            Err(e) => Err(LogError::unavailable("reading the attachment store", e)),
        }
    }
}

impl ObjectPort for NatsObjects {
    fn size<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<usize>, LogError>> {
        async move { Ok(self.info(name).await?.map(|i| i.size)) }.boxed()
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, LogError>> {
        async move {
            use tokio::io::AsyncReadExt as _;
            let mut object = match self.store.get(name).await {
                Ok(o) => o,
                Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(LogError::unavailable("reading an attachment", e)),
            };
            let mut bytes = Vec::with_capacity(object.info().size);
            object
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| LogError::unavailable("reading an attachment", e))?;
            Ok(Some(bytes))
        }
        .boxed()
    }

    fn put<'a>(&'a self, name: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, Result<(), LogError>> {
        async move {
            let mut reader = bytes;
            self.store
                .put(name, &mut reader)
                .await
                .map(|_| ())
                .map_err(|e| LogError::unavailable("storing an attachment", e))
        }
        .boxed()
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>, LogError>> {
        async move {
            let mut list = self
                .store
                .list()
                .await
                .map_err(|e| LogError::unavailable("listing the attachment store", e))?;
            let mut out = Vec::new();
            while let Some(info) = list
                .try_next()
                .await
                .map_err(|e| LogError::unavailable("listing the attachment store", e))?
            {
                if !info.deleted {
                    let at = info.modified.map_or(i64::MAX, |m| m.unix_timestamp());
                    out.push((info.name, at));
                }
            }
            Ok(out)
        }
        .boxed()
    }

    fn erase<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), LogError>> {
        async move {
            let Some(info) = self.info(name).await? else {
                return Ok(());
            };
            let stream_name = crate::subjects::attachment_stream();
            let stream = self
                .js
                .get_stream_no_info(&stream_name)
                .await
                .map_err(|e| LogError::unavailable("opening the attachment store", e))?;
            let chunks = crate::subjects::attachment_chunks(&info.nuid);
            let mut from = 1;
            loop {
                let seq = match stream
                    .direct_get_next_for_subject(chunks.as_str(), Some(from))
                    .await
                {
                    Ok(m) => m.sequence,
                    Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => break,
                    Err(e) => return Err(LogError::unavailable("reading the attachment store", e)),
                };
                crate::rewrite::erase_in(&self.js, &stream_name, seq).await?;
                from = seq + 1;
            }
            self.store
                .delete(name)
                .await
                .map_err(|e| LogError::unavailable("removing an attachment", e))
        }
        .boxed()
    }
}
