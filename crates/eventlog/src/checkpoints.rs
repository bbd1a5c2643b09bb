//! The stream of signed checkpoints (`XF_CHECKPOINTS`): the notary appends one at least every N
//! events or T seconds, each on the last (`Nats-Expected-Last-Sequence`), so two notaries never
//! fork it; verifiers read them all. Like the log, it is never deleted from or purged.

use async_nats::header::HeaderMap;
use async_nats::jetstream::{self, stream};

use integrity::Checkpoint;

use crate::error::{publish_error, LogError};
use crate::subjects::{headers, CHECKPOINT_STREAM, CHECKPOINT_SUBJECT};

#[derive(Clone)]
pub struct Checkpoints {
    js: jetstream::Context,
    stream: stream::Stream,
}

impl Checkpoints {
    pub async fn open(nats: &crate::Connection, replicas: usize) -> Result<Self, LogError> {
        let js = nats.jetstream();
        let config = stream::Config {
            name: CHECKPOINT_STREAM.into(),
            subjects: vec![CHECKPOINT_SUBJECT.into()],
            storage: stream::StorageType::File,
            num_replicas: replicas,
            deny_delete: true,
            deny_purge: true,
            allow_direct: true,
            description: Some("Xinfang signed checkpoints of XF_EVENTS (immutable)".into()),
            ..Default::default()
        };
        js.create_or_update_stream(config)
            .await
            .map_err(|e| LogError::unavailable("creating the checkpoint stream", e))?;
        let stream = js
            .get_stream(CHECKPOINT_STREAM)
            .await
            .map_err(|e| LogError::unavailable("opening the checkpoint stream", e))?;
        Ok(Checkpoints {
            js: js.clone(),
            stream,
        })
    }

    /// The stream's last sequence (0: no checkpoint yet).
    pub async fn last_seq(&self) -> Result<u64, LogError> {
        let mut stream = self.stream.clone();
        let info = stream
            .info()
            .await
            .map_err(|e| LogError::unavailable("reading the checkpoint stream", e))?;
        Ok(info.state.last_sequence)
    }

    /// The message at `seq` of this stream: a checkpoint, or why it is not one (something a
    /// writer without the notary's key put there), or `None` when there is none.
    pub async fn get(&self, seq: u64) -> Result<Option<Result<Checkpoint, String>>, LogError> {
        use async_nats::jetstream::stream::DirectGetErrorKind;
        match self.stream.direct_get(seq).await {
            Ok(msg) => Ok(Some(parse(&msg.payload))),
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(LogError::unavailable("reading a checkpoint", e)),
        }
    }

    /// Every message of this stream in order, with its sequence: each a checkpoint or why not.
    pub async fn all(&self) -> Result<Vec<(u64, Result<Checkpoint, String>)>, LogError> {
        use async_nats::jetstream::stream::DirectGetErrorKind;
        let mut out = Vec::new();
        let mut next = 1;
        loop {
            match self
                .stream
                .direct_get_next_for_subject(CHECKPOINT_SUBJECT, Some(next))
                .await
            {
                Ok(msg) => {
                    next = msg.sequence + 1;
                    out.push((msg.sequence, parse(&msg.payload)));
                }
                Err(e) if e.kind() == DirectGetErrorKind::NotFound => return Ok(out),
                Err(e) => return Err(LogError::unavailable("reading the checkpoints", e)),
            }
        }
    }

    /// The last checkpoint `trusted` accepts (those after it, written by anyone else, are passed
    /// over), with its sequence in this stream; looks back at most `limit` messages.
    pub async fn last_trusted(
        &self,
        trusted: impl Fn(&Checkpoint) -> bool,
        limit: u64,
    ) -> Result<Option<(u64, Checkpoint)>, LogError> {
        let last = self.last_seq().await?;
        for seq in (1..=last)
            .rev()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
        {
            match self.get(seq).await? {
                Some(Ok(cp)) if trusted(&cp) => return Ok(Some((seq, cp))),
                _ => tracing::warn!(seq, "checkpoint {seq} is not a trusted one; passed over"),
            }
        }
        Ok(None)
    }

    /// Append `cp` if the stream's last sequence is still `expected` (0: empty). `Conflict`
    /// when another notary got there first.
    pub async fn append(&self, cp: &Checkpoint, expected: u64) -> Result<u64, LogError> {
        let body = serde_json::to_vec(cp).map_err(|e| LogError::Encode {
            what: "a checkpoint",
            source: e.into(),
        })?;
        let mut h = HeaderMap::new();
        h.insert(
            headers::EXPECTED_LAST_SEQUENCE,
            expected.to_string().as_str(),
        );
        h.insert(
            headers::MSG_ID,
            format!("checkpoint-{}", cp.tree_size).as_str(),
        );
        let ack = self
            .js
            .publish_with_headers(CHECKPOINT_SUBJECT, h, body.into())
            .await
            .map_err(publish_error)?;
        Ok(ack.await.map_err(publish_error)?.sequence)
    }
}

fn parse(payload: &[u8]) -> Result<Checkpoint, String> {
    serde_json::from_slice(payload).map_err(|e| format!("not a checkpoint: {e}"))
}
