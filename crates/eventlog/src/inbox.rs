//! The township integration streams (api-contract.md, "NATS interface for township systems"):
//! the inbox `xf.inbox.<township>.<action>` that township systems publish their steps to, and the
//! outcomes `xf.outcome.<township>.<msg-id>` the county answers each message with. Both are
//! streams, so messages wait while the county is down and an offline township can catch up.
//! Nothing is dropped: an unreadable message gets a rejection outcome and stays in the inbox.

use std::time::Duration;

use async_nats::header::HeaderMap;
use async_nats::jetstream::{self, consumer::pull, stream};
use serde::{Deserialize, Serialize};

use domain::{CaseId, UnitCode};

use crate::log::LogError;

pub const INBOX_STREAM: &str = "XF_INBOX";
pub const OUTCOME_STREAM: &str = "XF_OUTCOMES";
pub const INGESTOR: &str = "xf-ingestor";
/// Inbox messages and outcomes are kept this long for inspection and catching up.
pub const KEEP: Duration = Duration::from_secs(90 * 24 * 3600);
/// Deliveries of one inbox message before it is rejected for good (for example an action whose
/// registration has not been applied yet, or a log that stays unavailable).
pub const MAX_DELIVER: i64 = 8;

pub fn outcome_subject(township: &str, msg_id: &str) -> String {
    format!("xf.outcome.{township}.{msg_id}")
}

/// A township's record id must be usable as one subject token.
pub fn valid_msg_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What an inbox subject names: `xf.inbox.<township>.<action>`.
pub fn parse_subject(subject: &str) -> Option<(&str, &str)> {
    let mut t = subject.split('.');
    match (t.next(), t.next(), t.next(), t.next(), t.next()) {
        (Some("xf"), Some("inbox"), Some(township), Some(action), None) => Some((township, action)),
        _ => None,
    }
}

/// The county's answer to one inbox message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcome {
    pub msg_id: String,
    /// `applied` or `rejected`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<CaseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The same problem object (RFC 9457 fields and `code`) the HTTP API answers with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
    /// Inbox stream sequence of the message this answers.
    pub inbox_seq: u64,
}

#[derive(Clone)]
pub struct Inbox {
    js: jetstream::Context,
}

impl Inbox {
    /// Create or update both streams and the ingestor's durable consumer. `leaves` are the
    /// townships that run their own leaf node server, with its JetStream domain: the county's
    /// inbox sources their local `XF_INBOX`, only their own subjects.
    pub async fn open(
        js: jetstream::Context,
        replicas: usize,
        leaves: &[(UnitCode, String)],
    ) -> Result<(Self, pull::Stream), LogError> {
        let unavailable =
            |what: &str, e: &dyn std::fmt::Display| LogError::Unavailable(format!("{what}: {e}"));
        kept_stream(
            &js,
            INBOX_STREAM,
            "xf.inbox.>",
            "Township inbox: steps reported by township systems",
            replicas,
            Duration::from_secs(120),
            leaves
                .iter()
                .map(|(unit, domain)| leaf_source(unit, domain))
                .collect(),
        )
        .await?;
        kept_stream(
            &js,
            OUTCOME_STREAM,
            "xf.outcome.>",
            "Outcomes of township inbox messages",
            replicas,
            Duration::from_secs(120),
            Vec::new(),
        )
        .await?;
        let stream = js
            .get_stream(INBOX_STREAM)
            .await
            .map_err(|e| unavailable("opening the inbox", &e))?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                INGESTOR,
                pull::Config {
                    durable_name: Some(INGESTOR.into()),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    max_deliver: MAX_DELIVER,
                    max_ack_pending: 1024,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| unavailable("creating the ingestor consumer", &e))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| unavailable("reading the inbox", &e))?;
        Ok((Inbox { js }, messages))
    }

    /// Publish an outcome (deduplicated by the stream if the same message is answered twice).
    pub async fn publish_outcome(&self, township: &str, outcome: &Outcome) -> Result<(), LogError> {
        publish_once(
            &self.js,
            outcome_subject(township, &outcome.msg_id),
            &format!("outcome-{township}-{}", outcome.inbox_seq),
            serde_json::to_vec(outcome).unwrap_or_default(),
        )
        .await
    }
}

pub const FEED_STREAM: &str = "XF_FEED";

pub fn feed_subject(unit: &UnitCode, case: CaseId) -> String {
    format!("xf.feed.{unit}.{case}")
}

/// The per-unit feed: every event of a case a unit is or was accountable for, on
/// `xf.feed.<unit>.<case_id>`. A day of duplicate window lets a feed service that crashed between
/// publishing and recording its checkpoint republish without duplicates.
pub async fn open_feed(js: &jetstream::Context, replicas: usize) -> Result<(), LogError> {
    kept_stream(
        js,
        FEED_STREAM,
        "xf.feed.>",
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
        name: INBOX_STREAM.into(),
        filter_subject: Some(format!("xf.inbox.{unit}.>")),
        external: Some(stream::External {
            api_prefix: format!("$JS.{domain}.API"),
            delivery_prefix: None,
        }),
        ..Default::default()
    }
}

/// The durable consumer a township reads its outcomes through (it may not create consumers).
pub fn outcomes_consumer(unit: &str) -> String {
    format!("outcomes-{unit}")
}

/// The durable consumer a unit's system reads its feed through.
pub fn feed_consumer(unit: &str) -> String {
    format!("feed-{unit}")
}

/// Create (or keep) a township's durable pull consumers on `XF_OUTCOMES` and `XF_FEED`, filtered
/// to its own subjects and starting at the beginning, so its first fetch catches up on everything.
pub async fn township_consumers(
    js: &jetstream::Context,
    unit: &UnitCode,
    replicas: usize,
) -> Result<(), LogError> {
    open_feed(js, replicas).await?;
    for (stream, name, filter) in [
        (
            OUTCOME_STREAM,
            outcomes_consumer(unit.as_str()),
            format!("xf.outcome.{unit}.>"),
        ),
        (
            FEED_STREAM,
            feed_consumer(unit.as_str()),
            format!("xf.feed.{unit}.>"),
        ),
    ] {
        let s = js
            .get_stream(stream)
            .await
            .map_err(|e| LogError::Unavailable(format!("opening {stream}: {e}")))?;
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
        .map_err(|e| LogError::Unavailable(format!("creating consumer {name}: {e}")))?;
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
    .map_err(|e| LogError::Unavailable(format!("creating stream {name}: {e}")))?;
    Ok(())
}

/// Publish one message, deduplicated by the stream under `msg_id` (outcomes, feed messages);
/// waits for the stream's acknowledgement.
pub async fn publish_once(
    js: &jetstream::Context,
    subject: String,
    msg_id: &str,
    body: Vec<u8>,
) -> Result<(), LogError> {
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", msg_id);
    let ack = js
        .publish_with_headers(subject, headers, body.into())
        .await
        .map_err(|e| LogError::Unavailable(e.to_string()))?;
    ack.await
        .map_err(|e| LogError::Unavailable(e.to_string()))?;
    Ok(())
}

/// Publish `messages` (subject, `Nats-Msg-Id`, body) without waiting in between, then wait for
/// every acknowledgement: one round trip for the lot instead of one each. On a single connection
/// the server stores them in the order sent; only when one fails and is sent again (the caller
/// retries the lot; the stream drops the copies it has) can it land after later ones.
pub async fn publish_all(
    js: &jetstream::Context,
    messages: Vec<(String, String, Vec<u8>)>,
) -> Result<(), LogError> {
    let mut acks = Vec::with_capacity(messages.len());
    for (subject, msg_id, body) in messages {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg_id.as_str());
        acks.push(
            js.publish_with_headers(subject, headers, body.into())
                .await
                .map_err(|e| LogError::Unavailable(e.to_string()))?,
        );
    }
    for ack in acks {
        ack.await
            .map_err(|e| LogError::Unavailable(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_ids() {
        assert_eq!(
            parse_subject("xf.inbox.gaoqiao.register"),
            Some(("gaoqiao", "register"))
        );
        assert_eq!(parse_subject("xf.inbox.gaoqiao"), None);
        assert_eq!(parse_subject("xf.inbox.a.b.c"), None);
        assert!(valid_msg_id("GQ-2026_0001"));
        for bad in ["", "a.b", "a b", "a*", "a>", &"x".repeat(129)] {
            assert!(!valid_msg_id(bad), "{bad:?}");
        }
    }
}
