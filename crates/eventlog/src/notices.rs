//! The notices to petitioners (`XF_NOTIFY`): a work queue the county's SMS gateway alone reads
//! (`subjects::gateway_permissions`), each message kept at most [`NOTICE_MAX_AGE`]. What a notice
//! says is sealed to the gateway before it gets here; this only stores, deduplicates (the notice's
//! id is its `Nats-Msg-Id`) and erases.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::stream;
use async_nats::HeaderMap;

use crate::error::LogError;
use crate::port::nats::NatsMessages;
use crate::port::Messages;
use crate::subjects::{all_notices, headers, NOTIFY_SMS, NOTIFY_STREAM};

/// How long the stream keeps a notice nobody took: a gateway down for longer loses it (an SMS a
/// week late is no notice).
pub const NOTICE_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long the stream remembers a notice's id: a sink that crashed after publishing and before
/// its checkpoint publishes the batch again, which the stream drops within this time.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct Notices {
    messages: Messages,
}

/// A notice as it is published: its stable id and its body (`{"notice_id", "case_no", "kind",
/// "sealed"}`).
pub struct Outgoing {
    pub notice_id: String,
    pub body: Vec<u8>,
}

impl Notices {
    /// Create (or keep) `XF_NOTIFY`.
    pub async fn open(nats: &crate::Connection, replicas: usize) -> Result<Notices, LogError> {
        let js = nats.jetstream();
        let created = js
            .create_or_update_stream(stream::Config {
                name: NOTIFY_STREAM.into(),
                description: Some(
                    "Notices to petitioners, sealed to the county's SMS gateway; read by the gateway alone"
                        .into(),
                ),
                subjects: vec![all_notices()],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                num_replicas: replicas,
                max_age: NOTICE_MAX_AGE,
                duplicate_window: DUPLICATE_WINDOW,
                max_message_size: 64 * 1024,
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("opening the notices stream", e))?;
        let stream = js
            .get_stream(NOTIFY_STREAM)
            .await
            .map_err(|e| LogError::unavailable("opening the notices stream", e))?;
        drop(created);
        Ok(Notices {
            messages: Arc::new(NatsMessages::new(js.clone(), stream)),
        })
    }

    /// Notices in `messages` (in memory, for unit tests).
    pub fn on(messages: Messages) -> Notices {
        Notices { messages }
    }

    /// Publish `notices` together (one round trip for the lot) and return each one's sequence in
    /// the stream, in order: a notice the stream held already keeps its first sequence.
    pub async fn publish(&self, notices: Vec<Outgoing>) -> Result<Vec<u64>, LogError> {
        if notices.iter().any(|n| n.body.is_empty()) {
            return Err(LogError::Empty);
        }
        let sends = notices.into_iter().map(|n| {
            let mut h = HeaderMap::new();
            h.insert(headers::MSG_ID, n.notice_id.as_str());
            self.messages.publish(NOTIFY_SMS.into(), h, n.body.into())
        });
        let acks = futures::future::try_join_all(sends).await?;
        Ok(acks.into_iter().map(|a| a.seq).collect())
    }

    /// Erase the notices at `seqs` that are still there (taken ones are gone already).
    pub async fn erase(&self, seqs: &[u64]) -> Result<u64, LogError> {
        let erased = futures::future::try_join_all(seqs.iter().map(|s| self.messages.erase(*s)));
        Ok(erased.await?.into_iter().filter(|e| *e).count() as u64)
    }
}
