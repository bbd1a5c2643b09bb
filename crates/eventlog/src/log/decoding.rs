//! Decoding and judging what is read from the log (`admission`), many messages at once.

use super::{EventLog, LogError, Stored};
use crate::envelope::decode;
use ::wire::Rejection;

/// A message as read: its sequence, subject, bytes and the services' mark, if any.
pub(super) type Raw = (u64, String, bytes::Bytes, Option<String>);

impl EventLog {
    /// Messages of the log as stored events, judged a ready chunk at a time (the signatures of
    /// a chunk are checked in one batch; a chunk is what has arrived, so nothing waits for it).
    pub(super) fn decoded(
        &self,
        messages: impl futures::Stream<Item = Result<async_nats::jetstream::Message, LogError>>
            + Send
            + Unpin,
    ) -> impl futures::Stream<Item = Result<Stored, LogError>> + Send + Unpin {
        use futures::StreamExt;
        let log = self.clone();
        messages.ready_chunks(256).flat_map(move |chunk| {
            let mut out = Vec::with_capacity(chunk.len());
            let mut raw = Vec::with_capacity(chunk.len());
            for m in chunk {
                let info = m.and_then(|m| {
                    let seq = m
                        .info()
                        .map_err(|e| LogError::NotJetStream { source: e })?
                        .stream_sequence;
                    let mark = super::mark_of(m.headers.as_ref());
                    Ok((seq, m.subject.to_string(), m.payload.clone(), mark))
                });
                match info {
                    Ok(r) => raw.push(r),
                    Err(e) => {
                        out.extend(log.decode_all(std::mem::take(&mut raw)));
                        out.push(Err(e));
                    }
                }
            }
            out.extend(log.decode_all(raw));
            futures::stream::iter(out)
        })
    }

    /// Messages of the log as stored events, judged together (`admission`). Bytes that do not
    /// decode stop the reader (`Corrupt`) when the county sealed them or the log does not judge;
    /// otherwise they are a rejected event of their own (`Unreadable`), passed over like the
    /// others.
    pub(super) fn decode_all(&self, raw: Vec<Raw>) -> Vec<Result<Stored, LogError>> {
        let decoded: Vec<_> = raw.iter().map(|(_, _, r, _)| decode(r)).collect();
        // Hashed once here: the judge, the chain (`Stored::chain_hash`) and the notary use it.
        let opened: Vec<_> = raw.iter().map(|(_, _, r, _)| integrity::open(r)).collect();
        let judged: Vec<crate::admission::Judged> = raw
            .iter()
            .zip(&decoded)
            .zip(&opened)
            .filter_map(|(((seq, subject, _, mark), d), opened)| {
                Some(crate::admission::Judged {
                    seq: *seq,
                    subject,
                    envelope: d.as_ref().ok()?,
                    mark: mark.as_deref(),
                    opened,
                })
            })
            .collect();
        let mut verdicts = match &self.admission {
            Some(a) => a.judge_all(&judged),
            None => vec![None; judged.len()],
        }
        .into_iter();
        let mut out = Vec::with_capacity(raw.len());
        for (((seq, subject, raw, _), decoded), opened) in raw.into_iter().zip(decoded).zip(opened)
        {
            let (envelope, rejected) = match (decoded, &self.admission) {
                (Ok(envelope), _) => {
                    let rejected = verdicts.next().flatten();
                    (envelope, rejected)
                }
                (Err(source), Some(a)) if !a.genuine(&raw) => {
                    tracing::error!(
                        seq,
                        subject,
                        error = %source,
                        "a message in the log is not an event, and nobody with the signing key wrote it; it is read as absent"
                    );
                    let envelope = crate::admission::placeholder(&subject);
                    (envelope, Some(Rejection::Unreadable))
                }
                (Err(source), _) => {
                    out.push(Err(LogError::Corrupt { seq, source }));
                    continue;
                }
            };
            if let Some(why) = rejected.filter(|w| *w != Rejection::Unreadable) {
                tracing::error!(
                    seq,
                    case_id = %envelope.case_id,
                    rejected = why.as_str(),
                    "an event in the log is not a fact (a writer without the signing key?); it is read as absent"
                );
            }
            out.push(Ok(Stored {
                seq,
                subject,
                envelope,
                raw,
                rejected,
                hash: opened.hash(),
            }));
        }
        out
    }
}
