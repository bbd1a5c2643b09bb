//! Request/reply with replies of any size. Core NATS refuses a message larger than the server's
//! `max_payload` (1 MiB by default); a queue of a big county or a long history can be larger. A
//! reply that does not fit is sent as parts, each with the header `Xf-Chunk: <i>/<n>`; the asker
//! subscribes to its own reply subject for the request and joins the parts. A reply that fits is
//! one message without the header, as before.

use std::time::Duration;

use async_nats::HeaderMap;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use crate::subjects::headers::CHUNK;
use crate::{Cause, Connection};

/// Room left in each part for the headers and the protocol line.
const HEADROOM: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("no one answers on {0}")]
    NoResponders(String),
    #[error("no answer on {0} in time")]
    TimedOut(String),
    #[error("a malformed reply part: {0}")]
    BadPart(String),
    #[error("NATS: {0}")]
    Nats(#[source] Cause),
}

fn nats_error(e: impl Into<Cause>) -> TransportError {
    TransportError::Nats(e.into())
}

/// Send `body` to `subject` and wait (at most `timeout` in all) for the whole reply.
pub async fn request(
    nats: &Connection,
    subject: String,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Bytes, TransportError> {
    let client = nats.client();
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await.map_err(nats_error)?;
    client
        .publish_with_reply(subject.clone(), inbox, body.into())
        .await
        .map_err(nats_error)?;
    let collect = async {
        let mut parts: Vec<Option<Bytes>> = Vec::new();
        while let Some(msg) = replies.next().await {
            if msg.status == Some(async_nats::StatusCode::NO_RESPONDERS) {
                return Err(TransportError::NoResponders(subject.clone()));
            }
            let Some((i, n)) = part_of(msg.headers.as_ref())? else {
                return Ok(msg.payload);
            };
            if parts.is_empty() {
                parts = vec![None; n];
            }
            if parts.len() != n || i == 0 || i > n {
                return Err(TransportError::BadPart(format!("{i}/{n}")));
            }
            parts[i - 1] = Some(msg.payload);
            if parts.iter().all(Option::is_some) {
                let mut whole = BytesMut::new();
                for p in parts.into_iter().flatten() {
                    whole.extend_from_slice(&p);
                }
                return Ok(whole.freeze());
            }
        }
        Err(TransportError::TimedOut(subject.clone()))
    };
    tokio::time::timeout(timeout, collect)
        .await
        .map_err(|_| TransportError::TimedOut(subject.clone()))?
}

/// `Some((i, n))` for part `i` of `n`; `None` for a whole reply.
fn part_of(headers: Option<&HeaderMap>) -> Result<Option<(usize, usize)>, TransportError> {
    let Some(value) = headers.and_then(|h| h.get(CHUNK)) else {
        return Ok(None);
    };
    let bad = || TransportError::BadPart(value.as_str().to_owned());
    let (i, n) = value.as_str().split_once('/').ok_or_else(bad)?;
    let i = i.parse::<usize>().map_err(|_| bad())?;
    let n = n.parse::<usize>().map_err(|_| bad())?;
    Ok(Some((i, n)))
}

/// One request taken by [`requests`]: its body, and where its reply goes.
pub struct Request {
    nats: Connection,
    reply_to: async_nats::Subject,
    payload: Bytes,
}

impl Request {
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Send `body` as the reply: one message if it fits the server's max payload, else numbered
    /// parts.
    pub async fn reply(&self, body: Vec<u8>) -> Result<(), TransportError> {
        reply(&self.nats, self.reply_to.clone(), body).await
    }
}

/// The requests sent to `subject`, shared with the other members of queue `group` (each request
/// goes to one of them). A message without a reply subject is not a request and is skipped.
pub async fn requests(
    nats: &Connection,
    subject: String,
    group: String,
) -> Result<impl Stream<Item = Request> + Send + Unpin + 'static, TransportError> {
    let sub = nats
        .client()
        .queue_subscribe(subject, group)
        .await
        .map_err(nats_error)?;
    let nats = nats.clone();
    Ok(sub.filter_map(move |msg| {
        let request = msg.reply.map(|reply_to| Request {
            nats: nats.clone(),
            reply_to,
            payload: msg.payload,
        });
        std::future::ready(request)
    }))
}

/// Send `body` as the reply to a request on `reply_to` (see [`Request::reply`]).
async fn reply(
    nats: &Connection,
    reply_to: async_nats::Subject,
    body: Vec<u8>,
) -> Result<(), TransportError> {
    let client = nats.client();
    let max = client.server_info().max_payload;
    let part = max.saturating_sub(HEADROOM).max(1024);
    if body.len() <= part {
        return client
            .publish(reply_to, body.into())
            .await
            .map_err(nats_error);
    }
    let n = body.len().div_ceil(part);
    for (i, chunk) in body.chunks(part).enumerate() {
        let mut headers = HeaderMap::new();
        headers.insert(CHUNK, format!("{}/{n}", i + 1).as_str());
        client
            .publish_with_headers(reply_to.clone(), headers, Bytes::copy_from_slice(chunk))
            .await
            .map_err(nats_error)?;
    }
    Ok(())
}
