//! A delivered inbox message as the workers take it, and the lane it goes to.

use eventlog::inbox::Submission;

use crate::{Parsed, Refusal};

/// What orders inbox messages: the case they are about, else the record id, else the sequence.
pub(crate) fn ordering_key(d: &Delivery, parsed: &Result<Parsed, Refusal>) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match (parsed, &d.msg_id) {
        (
            Ok(Parsed {
                case_id: Some(id), ..
            }),
            _,
        ) => id.to_string().hash(&mut h),
        (_, Some(id)) => id.as_str().hash(&mut h),
        (_, None) => d.payload.hash(&mut h),
    }
    h.finish()
}

/// The parts of a delivered message the worker needs (the message itself stays with the caller,
/// which acknowledges it, also when handling it panicked).
pub(crate) struct Delivery {
    pub(crate) stream: String,
    pub(crate) stream_township: String,
    pub(crate) subject: String,
    pub(crate) msg_id: Option<String>,
    pub(crate) payload: bytes::Bytes,
    pub(crate) inbox_seq: u64,
    pub(crate) delivered: i64,
    /// When the message reached the township's inbox stream.
    pub(crate) stored_at: Option<domain::Timestamp>,
}

impl Delivery {
    pub(crate) fn of(msg: &Submission) -> Delivery {
        let position = msg.position();
        let stream_township = eventlog::subjects::township_of_inbox_stream(&position.stream)
            .unwrap_or("unknown")
            .to_owned();
        Delivery {
            stream: position.stream,
            stream_township,
            subject: msg.subject().to_owned(),
            msg_id: msg.msg_id().map(str::to_owned),
            payload: msg.payload().clone(),
            inbox_seq: position.seq,
            delivered: position.delivered,
            stored_at: position.stored_at,
        }
    }
}
