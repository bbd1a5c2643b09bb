//! What the county answers each township inbox message with, on `xf.outcome.<township>.<msg_id>`
//! (the AsyncAPI document's `outcome` channel).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::CaseId;

use crate::Problem;

/// What happened to an inbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The step was taken (or had been: a record id sent again gets the first outcome).
    Applied,
    /// The step was refused; `error` says why.
    Rejected,
}

impl OutcomeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Applied => "applied",
            OutcomeStatus::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for OutcomeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The county's answer to one inbox message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeMessage {
    pub msg_id: String,
    pub status: OutcomeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<CaseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// A registration's case number, for the petitioner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_no: Option<String>,
    /// A registration's query code, for the petitioner (`GET /v1/status/{case_no}?code=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_code: Option<String>,
    /// Why the message was rejected: the same problem object (RFC 9457 fields and `code`) as
    /// over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
    /// Sequence of the message this answers in its township's inbox stream.
    pub inbox_seq: u64,
    /// A rejected message as it was received, without personal data, kept here for inspection:
    /// every message's plain copy is erased from the inbox once it is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<serde_json::Value>,
}
