//! The one rewrite of stored messages there is: `xinfang migrate` (docs/operations.md,
//! "Migrating a log written before sealing"), which seals the personal data of a log written
//! before sealing existed. Reading a whole stream as stored (headers and stream times too),
//! writing messages at exactly the sequences they had, erasing single messages, and the staging
//! stream the rewritten log waits in before it replaces `XF_EVENTS`.
//!
//! Nothing here decides what is rewritten: that is `maintenance::migrate`.

use std::collections::VecDeque;

use async_nats::header::HeaderMap;
use async_nats::jetstream::{self, context::PublishAckFuture, stream};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde::Deserialize;

use crate::error::{publish_error, LogError};
use crate::log::stored_at;
use crate::subjects::{self, headers};

/// One stored message, as stored.
#[derive(Debug, Clone)]
pub struct Raw {
    pub seq: u64,
    pub subject: String,
    pub headers: HeaderMap,
    pub payload: bytes::Bytes,
    /// When JetStream stored it (for a message migrated before, when the original was).
    pub stored_at: DateTime<Utc>,
}

/// Whether `name` exists, and how many consumers read it (0 when it does not exist).
pub async fn consumers_of(nats: &crate::Connection, name: &str) -> Result<Option<usize>, LogError> {
    let js = nats.jetstream();
    match js.get_stream(name).await {
        Ok(mut s) => {
            let info = s
                .info()
                .await
                .map_err(|e| LogError::unavailable("reading a stream", e))?;
            Ok(Some(info.state.consumer_count))
        }
        Err(e)
            if matches!(
                e.kind(),
                jetstream::context::GetStreamErrorKind::JetStream(ref j)
                    if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(LogError::unavailable("reading a stream", e)),
    }
}

/// How many consumers of `name` have a reader now: a push consumer someone subscribes to, a
/// pull consumer with a request waiting (a stopped process's consumer lingers, unread, until
/// the server removes it). `None` when the stream does not exist.
pub async fn live_consumers(
    nats: &crate::Connection,
    name: &str,
) -> Result<Option<usize>, LogError> {
    let js = nats.jetstream();
    if consumers_of(nats, name).await?.is_none() {
        return Ok(None);
    }
    let stream = js
        .get_stream_no_info(name)
        .await
        .map_err(|e| LogError::unavailable("reading a stream", e))?;
    let mut consumers = stream.consumers();
    let mut live = 0;
    while let Some(info) = consumers.next().await {
        let info = info.map_err(|e| LogError::unavailable("listing consumers", e))?;
        live += usize::from(info.push_bound || info.num_waiting > 0);
    }
    Ok(Some(live))
}

/// Delete a whole stream (its files go with it). `false` when there was none.
pub async fn delete_stream(nats: &crate::Connection, name: &str) -> Result<bool, LogError> {
    let js = nats.jetstream();
    if consumers_of(nats, name).await?.is_none() {
        return Ok(false);
    }
    js.delete_stream(name)
        .await
        .map_err(|e| LogError::unavailable("deleting a stream", e))?;
    Ok(true)
}

/// Create the staging stream, empty (an earlier one is deleted first).
pub async fn create_staging(nats: &crate::Connection, replicas: usize) -> Result<(), LogError> {
    let js = nats.jetstream();
    delete_stream(nats, subjects::MIGRATION_STREAM).await?;
    js.create_stream(stream::Config {
        name: subjects::MIGRATION_STREAM.into(),
        subjects: vec![subjects::all_migration()],
        storage: stream::StorageType::File,
        num_replicas: replicas,
        allow_direct: true,
        max_message_size: 1024 * 1024,
        description: Some("Xinfang: the case log rewritten by `xinfang migrate`".into()),
        ..Default::default()
    })
    .await
    .map_err(|e| LogError::unavailable("creating the migration stream", e))?;
    Ok(())
}

/// Every message of `name` stored now, in order, handed over a channel as it is read (an error
/// ends it). Messages stored after the call are not read.
pub async fn read_stream(
    nats: &crate::Connection,
    name: &str,
) -> Result<tokio::sync::mpsc::Receiver<Result<Raw, LogError>>, LogError> {
    let js = nats.jetstream();
    use jetstream::consumer::push;
    let mut stream = js
        .get_stream(name)
        .await
        .map_err(|e| LogError::unavailable("opening a stream", e))?;
    let state = stream
        .info()
        .await
        .map_err(|e| LogError::unavailable("reading a stream", e))?
        .state
        .clone();
    let (tx, rx) = tokio::sync::mpsc::channel(4096);
    if state.messages == 0 {
        return Ok(rx);
    }
    let mut messages = stream
        .create_consumer(push::OrderedConfig {
            deliver_subject: js.client().new_inbox(),
            ..Default::default()
        })
        .await
        .map_err(|e| LogError::unavailable("creating a consumer", e))?
        .messages()
        .await
        .map_err(|e| LogError::unavailable("reading a stream", e))?;
    tokio::spawn(async move {
        while let Some(m) = messages.next().await {
            let raw = m
                .map_err(|e| LogError::unavailable("reading a stream", e))
                .and_then(|m| {
                    let info = m.info().map_err(|e| LogError::NotJetStream { source: e })?;
                    let (seq, pending) = (info.stream_sequence, info.pending);
                    let time = DateTime::from_timestamp_nanos(
                        info.published.unix_timestamp_nanos() as i64,
                    );
                    let raw = Raw {
                        seq,
                        subject: m.subject.to_string(),
                        stored_at: stored_at(m.headers.as_ref(), time),
                        headers: m.headers.clone().unwrap_or_default(),
                        payload: m.payload.clone(),
                    };
                    Ok((raw, pending == 0 || seq >= state.last_sequence))
                });
            let (item, done) = match raw {
                Ok((raw, done)) => (Ok(raw), done),
                Err(e) => (Err(e), true),
            };
            if tx.send(item).await.is_err() || done {
                return;
            }
        }
    });
    Ok(rx)
}

/// Writes messages into a stream at the sequences they are given: each publish expects the
/// stream's last sequence to be the one before it (`Nats-Expected-Last-Sequence`), so nothing
/// else can slip in; a gap is kept by a placeholder that is then deleted. Publishes are
/// pipelined (up to 512 in flight) and their acknowledgements checked in order.
pub struct SeqWriter {
    js: jetstream::Context,
    stream: String,
    next: u64,
    in_flight: VecDeque<(u64, PublishAckFuture)>,
    gaps: Vec<u64>,
}

impl SeqWriter {
    /// A writer to `stream`, which must be empty.
    pub fn new(nats: &crate::Connection, stream: &str) -> SeqWriter {
        SeqWriter {
            js: nats.jetstream().clone(),
            stream: stream.into(),
            next: 1,
            in_flight: VecDeque::new(),
            gaps: Vec::new(),
        }
    }

    /// Write `payload` at `seq` on `subject` with `headers`; `Xf-Stored-At` is set to
    /// `stored_at`, and any header that is a condition of the original publish is left out.
    pub async fn write(
        &mut self,
        seq: u64,
        subject: String,
        original: &HeaderMap,
        stored_at: DateTime<Utc>,
        payload: bytes::Bytes,
    ) -> Result<(), LogError> {
        while self.next < seq {
            let gap = self.next;
            self.publish(
                gap,
                subjects::migration_subject("gap"),
                HeaderMap::new(),
                bytes::Bytes::from_static(b"-"),
            )
            .await?;
            self.gaps.push(gap);
        }
        let mut h = HeaderMap::new();
        for (name, values) in original.iter() {
            let name: &str = name.as_ref();
            if headers::is_jetstream(name) || name == headers::STORED_AT {
                continue;
            }
            for v in values {
                h.append(name, v.as_str());
            }
        }
        h.insert(
            headers::STORED_AT,
            stored_at
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
                .as_str(),
        );
        self.publish(seq, subject, h, payload).await
    }

    async fn publish(
        &mut self,
        seq: u64,
        subject: String,
        mut h: HeaderMap,
        payload: bytes::Bytes,
    ) -> Result<(), LogError> {
        h.insert(
            headers::EXPECTED_LAST_SEQUENCE,
            (seq - 1).to_string().as_str(),
        );
        let ack = self
            .js
            .publish_with_headers(subject, h, payload)
            .await
            .map_err(publish_error)?;
        self.in_flight.push_back((seq, ack));
        self.next = seq + 1;
        if self.in_flight.len() >= 512 {
            self.settle_one().await?;
        }
        Ok(())
    }

    async fn settle_one(&mut self) -> Result<(), LogError> {
        if let Some((want, ack)) = self.in_flight.pop_front() {
            let ack = ack.await.map_err(publish_error)?;
            if ack.sequence != want {
                return Err(LogError::Inconsistent(format!(
                    "{} stored a rewritten message at sequence {}, not {want}",
                    self.stream, ack.sequence
                )));
            }
        }
        Ok(())
    }

    /// Wait for every acknowledgement and delete the placeholders; the last sequence written.
    pub async fn finish(mut self) -> Result<u64, LogError> {
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        for gap in std::mem::take(&mut self.gaps) {
            erase_in(&self.js, &self.stream, gap).await?;
        }
        Ok(self.next - 1)
    }
}

/// Erase one message of `stream` (JetStream's secure delete: the stored record is overwritten).
/// `false` when it was gone already.
pub async fn erase_message(
    nats: &crate::Connection,
    stream: &str,
    seq: u64,
) -> Result<bool, LogError> {
    erase_in(nats.jetstream(), stream, seq).await
}

pub(crate) async fn erase_in(
    js: &jetstream::Context,
    stream: &str,
    seq: u64,
) -> Result<bool, LogError> {
    #[derive(Deserialize)]
    struct Deleted {
        #[serde(default)]
        success: bool,
    }
    let answer: Result<Deleted, _> = js
        .request(
            subjects::erase_message(stream),
            &serde_json::json!({ "seq": seq, "no_erase": false }),
        )
        .await;
    match answer {
        Ok(d) => Ok(d.success),
        Err(e) if e.kind() == jetstream::context::RequestErrorKind::Other => Ok(false),
        Err(e) => Err(LogError::unavailable("erasing a message", e)),
    }
}

/// Every inbox stream (the township ones and the retired single one) with the last sequence its
/// ingestor consumer has answered (0: none, or no consumer yet).
pub async fn answered_inbox_messages(
    nats: &crate::Connection,
) -> Result<Vec<(String, u64, u64)>, LogError> {
    let js = nats.jetstream();
    let mut names = js.stream_names();
    let mut out = Vec::new();
    while let Some(name) = names.next().await {
        let name = name.map_err(|e| LogError::unavailable("listing streams", e))?;
        let inbox = subjects::township_of_inbox_stream(&name).is_some()
            || name == subjects::LEGACY_INBOX_STREAM;
        if !inbox {
            continue;
        }
        let mut stream = js
            .get_stream(&name)
            .await
            .map_err(|e| LogError::unavailable("opening an inbox stream", e))?;
        let first = stream
            .info()
            .await
            .map_err(|e| LogError::unavailable("reading an inbox stream", e))?
            .state
            .first_sequence;
        let answered = match stream.consumer_info(subjects::INGESTOR).await {
            Ok(info) => info.ack_floor.stream_sequence,
            Err(_) => 0,
        };
        out.push((name, first, answered));
    }
    Ok(out)
}
