//! The case event stream on JetStream: setup, subjects, optimistic appends and case reads.

use std::time::Duration;

use async_nats::header::HeaderMap;
use async_nats::jetstream::{self, stream};
use chrono::{DateTime, Utc};

use domain::CaseId;

use std::sync::Arc;

use crate::admission::Admission;
use crate::envelope::{encode, Envelope};
use crate::port::{nats::NatsMessages, Messages};
use ::wire::Rejection;

pub use crate::error::{Cause, LogError};
pub use crate::subjects::case_subject;

mod decoding;
use crate::subjects::{self, headers};

/// How long one pull of a pulled follower ([`EventLog::follow_bounded`]) waits for events. The
/// client sets the server's idle heartbeat to half of it and re-creates the consumer after two
/// missed heartbeats: a follower resumes about two seconds after its server restarted.
pub const PULL_EXPIRES: Duration = Duration::from_secs(1);

/// How the stream is created.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub stream: String,
    pub replicas: usize,
    /// Window in which the stream itself drops a re-sent `Nats-Msg-Id`. Durable idempotency
    /// beyond it is the idempotency store's job.
    pub duplicate_window: Duration,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            stream: subjects::EVENTS_STREAM.into(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
        }
    }
}

/// One event read back from the stream.
#[derive(Debug, Clone)]
pub struct Stored {
    pub seq: u64,
    pub subject: String,
    pub envelope: Envelope,
    /// The bytes as stored (what the chain's hashes are over).
    pub raw: bytes::Bytes,
    /// Why this event is not a fact, judged by its seal as it was read (`admission`); `None`
    /// when it is admitted, or read by a log without keys (tools that verify by themselves).
    pub rejected: Option<Rejection>,
    /// [`Stored::chain_hash`], computed once as the event is read and judged.
    pub(crate) hash: integrity::Hash,
}

impl Stored {
    /// An event that is not from the log (tests, replays in memory): its bytes are its encoding.
    pub fn unsigned(seq: u64, subject: String, envelope: Envelope) -> Stored {
        let raw: bytes::Bytes = encode(&envelope).unwrap_or_default().into();
        Stored {
            seq,
            subject,
            envelope,
            hash: integrity::open(&raw).hash(),
            raw,
            rejected: None,
        }
    }

    /// Whether this event is taken as a fact (its seal held when it was read).
    pub fn admitted(&self) -> bool {
        self.rejected.is_none()
    }

    /// The event's hash in the chain and the Merkle tree: of its content for an envelope v2, of
    /// its bytes for an event written before (`integrity::event`).
    pub fn chain_hash(&self) -> integrity::Hash {
        self.hash
    }
}

#[derive(Clone)]
pub struct EventLog {
    /// Appends and the reads of one case or event go through the port (JetStream, or memory in
    /// unit tests).
    messages: Messages,
    /// Following and the stream's state need JetStream itself; `None` for a log in memory.
    nats: Option<Nats>,
    /// Judges each event's seal as it is read; services always have it (`with_admission`).
    admission: Option<Arc<Admission>>,
}

#[derive(Clone)]
struct Nats {
    conn: crate::Connection,
    js: jetstream::Context,
    stream: stream::Stream,
}

impl EventLog {
    /// Create or update the stream and return a handle.
    pub async fn open(conn: &crate::Connection, cfg: &LogConfig) -> Result<Self, LogError> {
        let js = conn.jetstream().clone();
        let config = stream::Config {
            name: cfg.stream.clone(),
            subjects: vec![subjects::all_events()],
            storage: stream::StorageType::File,
            num_replicas: cfg.replicas,
            duplicate_window: cfg.duplicate_window,
            // The log is evidence: nothing is deleted or purged, ever.
            deny_delete: true,
            deny_purge: true,
            allow_direct: true,
            max_message_size: 1024 * 1024,
            description: Some("Xinfang case events (immutable)".into()),
            ..Default::default()
        };
        js.create_or_update_stream(config)
            .await
            .map_err(|e| LogError::unavailable("creating the event stream", e))?;
        let stream = js
            .get_stream(&cfg.stream)
            .await
            .map_err(|e| LogError::unavailable("opening the event stream", e))?;
        Ok(EventLog {
            messages: Arc::new(NatsMessages::new(js.clone(), stream.clone())),
            nats: Some(Nats {
                conn: conn.clone(),
                js,
                stream,
            }),
            admission: None,
        })
    }

    /// A log on `messages` alone (in memory, for unit tests of the command path): appends and
    /// the reads of a case work; following and the stream's state are `Unavailable`.
    pub fn on(messages: Messages) -> Self {
        EventLog {
            messages,
            nats: None,
            admission: None,
        }
    }

    fn nats(&self) -> Result<&Nats, LogError> {
        self.nats
            .as_ref()
            .ok_or_else(|| LogError::unavailable("reaching JetStream", "this log is in memory"))
    }

    /// This log, judging every event it reads by its seal (`Stored::rejected`).
    pub fn with_admission(mut self, admission: Arc<Admission>) -> Self {
        self.admission = Some(admission);
        self
    }

    /// Whether this log judges the events it reads (`with_admission`).
    pub fn judges(&self) -> bool {
        self.admission.is_some()
    }

    /// The connection the log is on (to open its companions); `Unavailable` in memory.
    pub fn connection(&self) -> Result<&crate::Connection, LogError> {
        Ok(&self.nats()?.conn)
    }

    /// Events the log's consumers (the followers: projectors, feed, notary) have still to fetch,
    /// all together.
    pub async fn pending_to_followers(&self) -> Result<u64, LogError> {
        use futures::TryStreamExt as _;
        self.nats()?
            .stream
            .consumers()
            .map_ok(|c| c.num_pending)
            .try_fold(0, |sum, n| async move { Ok(sum + n) })
            .await
            .map_err(|e| LogError::unavailable("reading the log's consumers", e))
    }

    /// Append one event if the case's last sequence is still `expected` (0: new case).
    /// Returns the stream sequence and whether the stream saw the command id before (a duplicate,
    /// in which case the returned sequence is the original's and nothing was appended).
    pub async fn append(
        &self,
        subject: &str,
        expected: u64,
        env: &Envelope,
    ) -> Result<(u64, bool), LogError> {
        let bytes = encode(env).map_err(|e| LogError::Encode {
            what: "an event",
            source: e.into(),
        })?;
        self.append_bytes(subject, expected, env, bytes).await
    }

    /// Append `bytes`, the stored form of `env` (sealed by the command path).
    pub async fn append_bytes(
        &self,
        subject: &str,
        expected: u64,
        env: &Envelope,
        bytes: Vec<u8>,
    ) -> Result<(u64, bool), LogError> {
        let mut headers =
            headers::append(Some(expected), Some(env.command_id.to_string().as_str()));
        headers.insert(headers::EVENT_TYPE, env.event.type_name());
        if let Some(mark) = self
            .admission
            .as_ref()
            .and_then(|a| a.mark(subject, &bytes))
        {
            headers.insert(headers::MARK, mark.as_str());
        }
        let ack = self
            .messages
            .publish(subject.to_owned(), headers, bytes.into())
            .await?;
        Ok((ack.seq, ack.duplicate))
    }

    /// The subject and number of events of a case, or `None` if it does not exist.
    pub async fn locate(&self, case: CaseId) -> Result<Option<(String, u64)>, LogError> {
        self.messages
            .subject_count(&subjects::case_events(case))
            .await
    }

    /// Events of one subject with sequence >= `from`, in log order, at most `limit`.
    pub async fn read_subject(
        &self,
        subject: &str,
        from: u64,
        limit: u64,
    ) -> Result<Vec<Stored>, LogError> {
        let mut out = Vec::new();
        let mut next = from.max(1);
        while (out.len() as u64) < limit {
            let Some(msg) = self.messages.next_for_subject(subject, next).await? else {
                break;
            };
            next = msg.seq + 1;
            let mark = mark_of(Some(&msg.headers));
            out.push((msg.seq, msg.subject, msg.payload, mark));
        }
        self.decode_all(out).into_iter().collect()
    }

    /// The event at a stream sequence.
    pub async fn get(&self, seq: u64) -> Result<Stored, LogError> {
        let msg = self.messages.get(seq).await?.ok_or_else(|| {
            LogError::unavailable("reading an event", format!("no event at sequence {seq}"))
        })?;
        let mark = mark_of(Some(&msg.headers));
        let mut one = self.decode_all(vec![(seq, msg.subject, msg.payload, mark)]);
        one.pop().unwrap_or(Err(LogError::Empty))
    }

    /// Every event from sequence `from` on, in log order, then new ones as they are appended.
    /// An ordered push consumer (no server-side state to clean up; it re-creates itself on gaps,
    /// and after a server restart within seconds). The stream never ends by itself
    /// (a JetStream consumer is endless: end it yourself). A reader that falls behind buffers up to the client's
    /// subscription capacity: see [`follow_bounded`](Self::follow_bounded).
    pub async fn follow(
        &self,
        from: u64,
    ) -> Result<impl futures::Stream<Item = Result<Stored, LogError>> + Send + Unpin, LogError>
    {
        use futures::StreamExt;
        let messages = self.pushed(from).await?;
        Ok(self.decoded(
            messages.map(|m| m.map_err(|e| LogError::unavailable("following the log", e))),
        ))
    }

    /// The messages of an ordered push consumer from `from` on.
    async fn pushed(
        &self,
        from: u64,
    ) -> Result<async_nats::jetstream::consumer::push::Ordered, LogError> {
        use async_nats::jetstream::consumer::push;
        let nats = self.nats()?;
        nats.stream
            .create_consumer(push::OrderedConfig {
                deliver_subject: nats.js.client().new_inbox(),
                deliver_policy: deliver_from(from),
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("creating a consumer", e))?
            .messages()
            .await
            .map_err(|e| LogError::unavailable("following the log", e))
    }

    /// The same events through an ordered pull consumer, fetched in batches of 500, so a reader
    /// that falls behind holds about a batch, not everything the server could send it: what the
    /// services follow the log with (pushed, the feed's backlog reached 206 MiB after a million
    /// events, and the cases projector held ~55 MiB while it lagged). Each pull expires after
    /// [`PULL_EXPIRES`], so the server's idle heartbeats come twice a second and a follower whose
    /// server restarted notices two missed ones and resumes within seconds (with the client's
    /// defaults, 30 s expiries and 15 s heartbeats, it took up to 30 s). Replaying is 15-20 %
    /// slower than pushed, which is why a rebuild uses [`follow`](Self::follow).
    pub async fn follow_bounded(
        &self,
        from: u64,
    ) -> Result<impl futures::Stream<Item = Result<Stored, LogError>> + Send + Unpin, LogError>
    {
        use async_nats::jetstream::consumer::pull;
        use futures::StreamExt;
        let messages = self
            .nats()?
            .stream
            .create_consumer(pull::OrderedConfig {
                deliver_policy: deliver_from(from),
                max_expires: PULL_EXPIRES,
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("creating a consumer", e))?
            .messages()
            .await
            .map_err(|e| LogError::unavailable("following the log", e))?;
        Ok(self.decoded(
            messages.map(|m| m.map_err(|e| LogError::unavailable("following the log", e))),
        ))
    }

    /// The stored bytes of every event from `from` on, undecoded: (seq, subject, bytes, how many
    /// follow it now). For verifying, which hashes bytes and needs no typed event.
    pub async fn follow_raw(
        &self,
        from: u64,
    ) -> Result<
        impl futures::Stream<Item = Result<(u64, String, bytes::Bytes, u64), LogError>> + Send + Unpin,
        LogError,
    > {
        use futures::StreamExt;
        let messages = self.pushed(from).await?;
        Ok(messages.map(|m| {
            let m = m.map_err(|e| LogError::unavailable("following the log", e))?;
            let info = m.info().map_err(|e| LogError::NotJetStream { source: e })?;
            let (seq, pending) = (info.stream_sequence, info.pending);
            Ok((seq, m.subject.to_string(), m.payload.clone(), pending))
        }))
    }

    /// The first event at or after `seq` and when JetStream stored it, or `None` past the end.
    async fn stored_at_or_after(
        &self,
        seq: u64,
    ) -> Result<Option<(u64, chrono::DateTime<chrono::Utc>)>, LogError> {
        use async_nats::jetstream::stream::DirectGetErrorKind;
        match self
            .nats()?
            .stream
            .direct_get_next_for_subject(subjects::all_events(), Some(seq.max(1)))
            .await
        {
            Ok(msg) => {
                let nanos = msg.time.unix_timestamp_nanos();
                let time = chrono::DateTime::from_timestamp_nanos(nanos as i64);
                Ok(Some((msg.sequence, stored_at(Some(&msg.headers), time))))
            }
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(LogError::unavailable("reading the log's stream times", e)),
        }
    }

    /// When JetStream stored the event at `seq` (or the next one after a gap), if any; for an
    /// event `xinfang migrate` rewrote, when the original was (`Xf-Stored-At`).
    pub async fn stream_time(
        &self,
        seq: u64,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, LogError> {
        Ok(self.stored_at_or_after(seq).await?.map(|(_, t)| t))
    }

    /// The last sequence JetStream stored at or before `t` (0: none), by bisection over the
    /// stream times, which never decrease along the log: about 20 direct gets for a million.
    pub async fn last_seq_at(&self, t: chrono::DateTime<chrono::Utc>) -> Result<u64, LogError> {
        let last = self.last_seq().await?;
        let Some((first, first_time)) = self.stored_at_or_after(1).await? else {
            return Ok(0);
        };
        if first_time > t {
            return Ok(0);
        }
        match self.stored_at_or_after(last).await? {
            Some((_, time)) if time <= t => return Ok(last),
            None => return Ok(last),
            _ => {}
        }
        // time(lo) <= t < time(hi)
        let (mut lo, mut hi) = (first, last);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match self.stored_at_or_after(mid).await? {
                Some((seq, time)) if time <= t => lo = seq.min(hi - 1).max(mid),
                _ => hi = mid,
            }
        }
        Ok(lo)
    }

    /// The stream's last sequence (for read-your-writes and lag).
    pub async fn last_seq(&self) -> Result<u64, LogError> {
        Ok(self.state().await?.last_sequence)
    }

    /// The bytes the stream's store holds (the figure snapshots on disk are held against).
    pub async fn stored_bytes(&self) -> Result<u64, LogError> {
        Ok(self.state().await?.bytes)
    }

    async fn state(&self) -> Result<stream::State, LogError> {
        let info = self
            .nats()?
            .stream
            .get_info()
            .await
            .map_err(|e| LogError::unavailable("reading the stream's state", e))?;
        Ok(info.state)
    }
}

fn deliver_from(from: u64) -> async_nats::jetstream::consumer::DeliverPolicy {
    use async_nats::jetstream::consumer::DeliverPolicy;
    if from <= 1 {
        DeliverPolicy::All
    } else {
        DeliverPolicy::ByStartSequence {
            start_sequence: from,
        }
    }
}

/// The services' mark on a message, if it carries one.
fn mark_of(headers: Option<&HeaderMap>) -> Option<String> {
    Some(headers?.get(headers::MARK)?.as_str().to_owned())
}

/// The stream time of a message: its `Xf-Stored-At` when it was migrated, else JetStream's.
pub(crate) fn stored_at(headers: Option<&HeaderMap>, stream_time: DateTime<Utc>) -> DateTime<Utc> {
    headers
        .and_then(|h| h.get(headers::STORED_AT))
        .and_then(|v| DateTime::parse_from_rfc3339(v.as_str()).ok())
        .map_or(stream_time, |t| t.with_timezone(&Utc))
}
