//! A notice to a petitioner, on `xf.notify.sms` (stream `XF_NOTIFY`, the AsyncAPI document's
//! `notice` channel), for the county's SMS gateway alone.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The step a notice tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The query code: at registration, and each time it is reissued.
    QueryCode,
    Accepted,
    Rejected,
    Transferred,
    Replied,
    Closed,
}

/// One SMS to one petitioner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notice {
    /// `<event id>-<n>` (the n-th petitioner with a phone): stable, so a redelivery is
    /// recognisable; also the message's `Nats-Msg-Id`.
    pub notice_id: String,
    pub case_no: String,
    pub kind: NoticeKind,
    /// Base64 of a libsodium sealed box (X25519, XSalsa20-Poly1305) to the gateway's public key
    /// (`[notify] public_key`) holding a [`SealedNotice`] as JSON.
    pub sealed: String,
}

/// What only the gateway reads of a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SealedNotice {
    /// The petitioner's phone, as registered (digits; a landline as `0AAA-NNNNNNNN`).
    pub to: String,
    /// The text in Chinese, signed 【<the county bureau>】.
    pub text: String,
}
