//! The township integration streams (docs/contract.md, "NATS: the township interface"):
//! the inbox `xf.inbox.<township>.<action>` that township systems publish their steps to, and the
//! outcomes `xf.outcome.<township>.<msg-id>` the county answers each message with. Both are
//! streams, so messages wait while the county is down and an offline township can catch up.
//! Nothing is dropped: an unreadable message gets a rejection outcome and stays in the inbox.

use std::time::Duration;

use async_nats::header::HeaderMap;
use async_nats::jetstream::{self, consumer::pull, stream};
use futures::StreamExt as _;

use domain::UnitCode;

use crate::error::{publish_error, LogError};

use crate::subjects::{self, headers};
pub use crate::subjects::{
    feed_consumer, inbox_stream, outcomes_consumer, FEED_STREAM, INGESTOR, LEAF_INBOX_STREAM,
    LEGACY_INBOX_STREAM, OUTCOME_STREAM,
};

/// Inbox messages and outcomes are kept this long for inspection and catching up.
pub const KEEP: Duration = Duration::from_secs(90 * 24 * 3600);
/// Window in which the inbox stream itself drops a re-sent `Nats-Msg-Id` (the PubAck says
/// `duplicate`); beyond it the durable idempotency record answers.
pub const INBOX_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// A township's record id must be usable as one subject token.
pub fn valid_msg_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

use wire::outcome::{OutcomeMessage, OutcomeStatus};

/// A township as the inbox knows it: its unit code and, for a township that runs its own leaf
/// node server, that server's JetStream domain.
pub struct InboxTownship {
    pub unit: UnitCode,
    pub leaf_domain: Option<String>,
}

/// Every township's inbox messages, merged; each message's stream names its township.
pub type InboxMessages =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<Submission, LogError>> + Send>>;

/// One inbox message as the ingestor takes it: read it, answer it, then acknowledge it (or ask for
/// it again later). Unacknowledged, it is delivered again after the consumer's ack wait.
#[derive(Clone)]
pub struct Submission(jetstream::Message);

/// Where a submission was stored and how often it has been delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The inbox stream (its name says the township whose stream it is).
    pub stream: String,
    /// The message's sequence in that stream.
    pub seq: u64,
    /// 1 on the first delivery.
    pub delivered: i64,
    /// When the message was stored in that stream (the township's own inbox stream): late
    /// entry (补录) of a township's step is judged by it, not by when it is handled.
    pub stored_at: Option<domain::Timestamp>,
}

impl Submission {
    pub fn subject(&self) -> &str {
        self.0.subject.as_str()
    }

    pub fn payload(&self) -> &bytes::Bytes {
        &self.0.payload
    }

    /// The township's record id (`Nats-Msg-Id`), when it sent one.
    pub fn msg_id(&self) -> Option<&str> {
        let value = self.0.headers.as_ref()?.get(headers::MSG_ID)?;
        Some(value.as_str())
    }

    /// Where it was stored; an unknown stream with sequence 0 if the reply subject is unreadable.
    pub fn position(&self) -> Position {
        match self.0.info() {
            Ok(i) => Position {
                stream: i.stream.to_owned(),
                seq: i.stream_sequence,
                delivered: i.delivered,
                stored_at: i64::try_from(i.published.unix_timestamp_nanos())
                    .ok()
                    .map(|n| chrono::DateTime::from_timestamp_nanos(n).fixed_offset()),
            },
            Err(_) => Position {
                stream: String::new(),
                seq: 0,
                delivered: 1,
                stored_at: None,
            },
        }
    }

    /// Answered: not delivered again.
    pub async fn ack(&self) -> Result<(), LogError> {
        self.0
            .ack()
            .await
            .map_err(|e| LogError::unavailable("acknowledging an inbox message", e))
    }

    /// Answered, once the server confirms it has taken the acknowledgement.
    pub async fn ack_confirmed(&self) -> Result<(), LogError> {
        self.0
            .double_ack()
            .await
            .map_err(|e| LogError::unavailable("acknowledging an inbox message", e))
    }

    /// Not answered now: deliver it again after `after`.
    pub async fn retry_after(&self, after: Duration) -> Result<(), LogError> {
        self.0
            .ack_with(jetstream::AckKind::Nak(Some(after)))
            .await
            .map_err(|e| LogError::unavailable("handing back an inbox message", e))
    }

    /// Still being worked on: restart the consumer's ack wait.
    pub async fn in_progress(&self) -> Result<(), LogError> {
        self.0
            .ack_with(jetstream::AckKind::Progress)
            .await
            .map_err(|e| LogError::unavailable("keeping an inbox message", e))
    }
}

#[derive(Clone)]
pub struct Inbox {
    nats: crate::Connection,
}

impl Inbox {
    /// Create or update each township's inbox stream, the outcome stream and the ingestor's
    /// durable consumers, and return the townships' messages merged. A leaf township's stream
    /// also sources the leaf's local inbox, filtered to the township's own subjects.
    ///
    /// The consumers never give up on a message (`max_deliver` unlimited): the ingestor itself
    /// answers a message it cannot process, so every message gets exactly one outcome.
    pub async fn open(
        nats: &crate::Connection,
        replicas: usize,
        townships: &[InboxTownship],
    ) -> Result<(Self, InboxMessages), LogError> {
        let js = nats.jetstream().clone();
        let mut streams = Vec::new();
        if let Some(legacy) = retire_legacy_inbox(&js).await? {
            streams.push(legacy);
        }
        for t in townships {
            let name = inbox_stream(t.unit.as_str());
            kept_stream(
                &js,
                &name,
                &subjects::township_inbox(t.unit.as_str()),
                &format!("Inbox of township {}: steps its system reported", t.unit),
                replicas,
                INBOX_DUPLICATE_WINDOW,
                t.leaf_domain
                    .iter()
                    .map(|domain| leaf_source(&t.unit, domain))
                    .collect(),
            )
            .await?;
            streams.push(name);
        }
        kept_stream(
            &js,
            OUTCOME_STREAM,
            &subjects::all_outcomes(),
            "Outcomes of township inbox messages",
            replicas,
            Duration::from_secs(120),
            Vec::new(),
        )
        .await?;
        let mut merged = futures::stream::SelectAll::new();
        for name in streams {
            merged.push(Box::pin(ingestor_messages(&js, &name).await?));
        }
        let merged = merged.map(|m| {
            m.map(Submission)
                .map_err(|e| LogError::unavailable("reading an inbox stream", e))
        });
        Ok((Inbox { nats: nats.clone() }, Box::pin(merged)))
    }

    /// Publish an outcome (deduplicated by the stream if the same message is answered twice).
    /// An applied record's outcome is final: a later refusal of a message under the same id (a
    /// resend with another body, after the inbox's duplicate window) is published, so a
    /// township reading its outcomes in order sees it, and then the applied outcome again, so
    /// the last outcome of a record id stays what happened to that record (issue 30: the
    /// refusal replaced it). Returns whether the applied outcome was restated.
    pub async fn publish_outcome(
        &self,
        township: &str,
        stream: &str,
        outcome: &OutcomeMessage,
    ) -> Result<bool, LogError> {
        let subject = subjects::outcome(township, &outcome.msg_id);
        let applied = match outcome.status.as_str() {
            "applied" => None,
            _ => self.applied(&subject).await?,
        };
        let body = serde_json::to_vec(outcome).map_err(|e| LogError::Encode {
            what: "an outcome",
            source: e.into(),
        })?;
        let id = format!("outcome-{stream}-{}", outcome.inbox_seq);
        publish_once(&self.nats, subject.clone(), &id, body).await?;
        let Some(applied) = applied else {
            return Ok(false);
        };
        publish_once(&self.nats, subject, &format!("{id}-restated"), applied).await?;
        Ok(true)
    }

    /// The last outcome on `subject` if it says applied.
    async fn applied(&self, subject: &str) -> Result<Option<Vec<u8>>, LogError> {
        use async_nats::jetstream::stream::DirectGetErrorKind;
        let stream = self
            .nats
            .jetstream()
            .get_stream_no_info(OUTCOME_STREAM)
            .await
            .map_err(|e| LogError::unavailable("opening the outcomes", e))?;
        match stream.direct_get_last_for_subject(subject).await {
            Ok(m) => Ok(serde_json::from_slice::<OutcomeMessage>(&m.payload)
                .is_ok_and(|o| o.status == OutcomeStatus::Applied)
                .then(|| m.payload.to_vec())),
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(LogError::unavailable("reading an outcome", e)),
        }
    }
}

impl Inbox {
    /// Erase an answered message from its inbox stream (JetStream's secure delete: the stored
    /// record is overwritten), so its plain personal data is kept no longer than its outcome
    /// takes. `false` when it was gone already.
    pub async fn erase(&self, stream: &str, seq: u64) -> Result<bool, LogError> {
        crate::rewrite::erase_in(self.nats.jetstream(), stream, seq).await
    }
}

/// The ingestor's durable consumer on one inbox stream, and its messages.
async fn ingestor_messages(
    js: &jetstream::Context,
    stream: &str,
) -> Result<pull::Stream, LogError> {
    let consumer: jetstream::consumer::PullConsumer = js
        .get_stream(stream)
        .await
        .map_err(|e| LogError::unavailable("opening an inbox stream", e))?
        .get_or_create_consumer(
            INGESTOR,
            pull::Config {
                durable_name: Some(INGESTOR.into()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_deliver: -1,
                max_ack_pending: 1024,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| LogError::unavailable("creating the ingestor consumer", e))?;
    consumer
        .messages()
        .await
        .map_err(|e| LogError::unavailable("reading an inbox stream", e))
}

/// Earlier versions kept every township's messages in one stream `XF_INBOX` on `xf.inbox.>`,
/// which deduplicated record ids across townships. Its subjects move aside so the per-township
/// streams can take theirs; its stored messages stay (kept `KEEP`) and are still answered.
async fn retire_legacy_inbox(js: &jetstream::Context) -> Result<Option<String>, LogError> {
    let Ok(mut stream) = js.get_stream(LEGACY_INBOX_STREAM).await else {
        return Ok(None);
    };
    let info = stream
        .info()
        .await
        .map_err(|e| LogError::unavailable("reading the legacy inbox stream", e))?;
    let mut config = info.config.clone();
    if config.subjects.iter().any(|s| subjects::is_inbox(s)) {
        config.subjects = vec![subjects::RETIRED_INBOX.into()];
        config.sources = None;
        js.update_stream(config)
            .await
            .map_err(|e| LogError::unavailable("retiring the legacy inbox stream", e))?;
        tracing::info!(
            stream = LEGACY_INBOX_STREAM,
            "the single inbox stream is retired; its messages are still answered"
        );
    }
    Ok(Some(LEGACY_INBOX_STREAM.into()))
}

/// The per-unit feed: every event of a case a unit is or was accountable for, on
/// `xf.feed.<unit>.<case_id>`. A day of duplicate window lets a feed service that crashed between
/// publishing and recording its checkpoint republish without duplicates.
pub async fn open_feed(nats: &crate::Connection, replicas: usize) -> Result<(), LogError> {
    let js = nats.jetstream();
    kept_stream(
        js,
        FEED_STREAM,
        &subjects::all_feeds(),
        "Per-unit feed of case events",
        replicas,
        Duration::from_secs(24 * 3600),
        Vec::new(),
    )
    .await
}

/// A leaf township's local inbox, as a source of the county's: the stream of the same name in the
/// township's JetStream domain, filtered to the township's own subjects whatever its server holds.
fn leaf_source(unit: &UnitCode, domain: &str) -> stream::Source {
    stream::Source {
        name: LEAF_INBOX_STREAM.into(),
        filter_subject: Some(subjects::township_inbox(unit.as_str())),
        external: Some(stream::External {
            api_prefix: subjects::domain_api(domain),
            delivery_prefix: None,
        }),
        ..Default::default()
    }
}

/// Create (or keep) a township's durable pull consumers on `XF_OUTCOMES` and `XF_FEED`, filtered
/// to its own subjects and starting at the beginning, so its first fetch catches up on everything.
pub async fn township_consumers(
    nats: &crate::Connection,
    unit: &UnitCode,
    replicas: usize,
) -> Result<(), LogError> {
    let js = nats.jetstream();
    open_feed(nats, replicas).await?;
    for (stream, name, filter) in [
        (
            OUTCOME_STREAM,
            outcomes_consumer(unit.as_str()),
            subjects::township_outcomes(unit.as_str()),
        ),
        (
            FEED_STREAM,
            feed_consumer(unit.as_str()),
            subjects::unit_feed(unit.as_str()),
        ),
    ] {
        let s = js
            .get_stream(stream)
            .await
            .map_err(|e| LogError::unavailable("opening a township stream", e))?;
        s.get_or_create_consumer::<pull::Config>(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                description: Some(format!("read by the system of {unit}")),
                filter_subject: filter,
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| LogError::unavailable("creating a township consumer", e))?;
    }
    Ok(())
}

/// A file stream of the township integration, kept `KEEP` for inspection and catching up, with
/// direct get for reading one subject's messages.
async fn kept_stream(
    js: &jetstream::Context,
    name: &str,
    subjects: &str,
    description: &str,
    replicas: usize,
    duplicate_window: Duration,
    sources: Vec<stream::Source>,
) -> Result<(), LogError> {
    js.create_or_update_stream(stream::Config {
        name: name.into(),
        subjects: vec![subjects.into()],
        storage: stream::StorageType::File,
        num_replicas: replicas,
        max_age: KEEP,
        duplicate_window,
        max_message_size: 1024 * 1024,
        allow_direct: true,
        description: Some(description.into()),
        sources: (!sources.is_empty()).then_some(sources),
        ..Default::default()
    })
    .await
    .map_err(|e| LogError::unavailable("creating a township stream", e))?;
    Ok(())
}

/// Publish one message, deduplicated by the stream under `msg_id` (outcomes, feed messages);
/// waits for the stream's acknowledgement.
pub async fn publish_once(
    nats: &crate::Connection,
    subject: String,
    msg_id: &str,
    body: Vec<u8>,
) -> Result<(), LogError> {
    let js = nats.jetstream();
    let mut headers = HeaderMap::new();
    headers.insert(headers::MSG_ID, msg_id);
    if body.is_empty() {
        return Err(LogError::Empty);
    }
    let ack = js
        .publish_with_headers(subject, headers, body.into())
        .await
        .map_err(publish_error)?;
    ack.await.map_err(publish_error)?;
    Ok(())
}

/// Publish `messages` (subject, `Nats-Msg-Id`, body) without waiting in between, then wait for
/// every acknowledgement: one round trip for the lot instead of one each. On a single connection
/// the server stores them in the order sent; only when one fails and is sent again (the caller
/// retries the lot; the stream drops the copies it has) can it land after later ones.
pub async fn publish_all(
    nats: &crate::Connection,
    messages: Vec<(String, String, Vec<u8>)>,
) -> Result<(), LogError> {
    let js = nats.jetstream();
    if messages.iter().any(|(_, _, body)| body.is_empty()) {
        return Err(LogError::Empty);
    }
    let mut acks = Vec::with_capacity(messages.len());
    for (subject, msg_id, body) in messages {
        let mut headers = HeaderMap::new();
        headers.insert(headers::MSG_ID, msg_id.as_str());
        acks.push(
            js.publish_with_headers(subject, headers, body.into())
                .await
                .map_err(publish_error)?,
        );
    }
    for ack in acks {
        ack.await.map_err(publish_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids() {
        assert!(valid_msg_id("GQ-2026_0001"));
        for bad in ["", "a.b", "a b", "a*", "a>", &"x".repeat(129)] {
            assert!(!valid_msg_id(bad), "{bad:?}");
        }
    }
}
