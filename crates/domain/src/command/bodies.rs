//! The bodies of the steps on an existing case, as the HTTP API and the township inbox take them.
//! Every step with a business time may carry `occurred_at` (absent: now) and `late_reason` (补录).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Petitioner;
use crate::ids::{CaseId, UnitCode};
use crate::policy::Timestamp;
use crate::values::{Category, Channel, Level, Outcome, RejectReason, Satisfaction};

/// Every command on an existing case may carry `occurred_at`; its absence means "now".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptCase {
    /// Required when the case repeats a terminated matter (条例 35): the new facts and reasons
    /// that make it a new matter.
    #[serde(default)]
    pub new_facts: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectCase {
    pub reason_code: RejectReason,
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignCase {
    pub unit: UnitCode,
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferCase {
    pub unit: UnitCode,
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseCase {
    pub note: String,
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendDeadline {
    #[serde(deserialize_with = "crate::dates::whole_u32")]
    pub days: u32,
    pub reason: String,
    pub approved_by: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyCase {
    pub outcome: Outcome,
    pub text: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFollowUp {
    pub satisfaction: Satisfaction,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCase {
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `request-review` and `request-rereview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReview {
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `decide-review` and `decide-rereview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideReview {
    pub outcome: Outcome,
    pub text: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `assign-leader` (county): a named leader answers for the case until it is closed (领导包案).
/// The leader is a person, not necessarily a principal of the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignLeader {
    pub name: String,
    pub title: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `resolution-plan` (一案一策, county): the plan to resolve the case, the leader answering for
/// it (default: the case's leader) and the date it should be resolved by (not before the day of
/// the step). A later plan replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanResolution {
    pub plan: String,
    #[serde(default)]
    pub leader: Option<String>,
    #[serde(deserialize_with = "crate::dates::date")]
    #[schema(value_type = String, format = Date)]
    pub target_date: NaiveDate,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `merge` (county): the case is the same matter as `into` (一信多投) and is merged into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeCase {
    pub into: CaseId,
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// Registration facts (更正): in a `correct` command the ones to change, in `RegistrationCorrected`
/// the changed ones as they were and as they are. Only the fields given are changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationFacts {
    /// The township of the matter (county only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub township: Option<UnitCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(
        default,
        deserialize_with = "crate::dates::option_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<Timestamp>,
    #[serde(
        default,
        deserialize_with = "crate::dates::option_whole_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub headcount: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_reached: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Personal data: replaces the petitioners as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub petitioners: Option<Vec<Petitioner>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_reception: Option<bool>,
}

impl RegistrationFacts {
    pub fn is_empty(&self) -> bool {
        *self == RegistrationFacts::default()
    }
}

/// `correct` (更正): registration facts were recorded wrongly. The county may correct any case;
/// the township it was registered for within `correction_days` of receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectRegistration {
    pub reason: String,
    pub changes: RegistrationFacts,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `withdraw` (撤回): the petitioner withdrew the petition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawCase {
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// Evidence (证据材料) attached to a case: the bytes are stored first (content-addressed by
/// `sha256`), then this names them. Over HTTP it is `POST /v1/cases/{id}/attachments` with the
/// bytes; the API builds this command, never a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddAttachment {
    /// SHA-256 of the bytes, lowercase hex: the object's name in the attachment store.
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    /// Personal data (a file name may name a person).
    pub filename: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `POST /v1/adjustments` (核减, county): remove the case from `measure` (every measure with
/// `items`) once another principal approves. Over HTTP the body also names `case_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestAdjustment {
    /// A count measure of `<Measures>`, or `open_overdue`.
    pub measure: String,
    pub reason: String,
    /// The document that decided the adjustment (文号).
    pub document_no: String,
}

/// `POST /v1/adjustments/{id}/approve` (county or auditor, not the requester).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveAdjustment {
    #[schema(value_type = String, format = Uuid)]
    pub adjustment_id: uuid::Uuid,
}

/// `POST /v1/adjustments/{id}/revoke` (county or auditor); over HTTP the body is `{"reason"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeAdjustment {
    #[schema(value_type = String, format = Uuid)]
    pub adjustment_id: uuid::Uuid,
    pub reason: String,
}

/// `POST /v1/cases/{id}/erase-personal-data` (county): erase the case's personal data once
/// another principal approves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestErasure {
    pub reason: String,
    /// The petitioner's request (or the order) the erasure answers.
    pub request_ref: String,
}

/// `POST /v1/erasures/{id}/approve` (county or auditor, not the requester).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveErasure {
    #[schema(value_type = String, format = Uuid)]
    pub erasure_id: uuid::Uuid,
}

/// `acknowledge` (签收): the accountable unit confirms it has the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeCase {
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `remind` (催办, county): the county reminds the accountable unit of the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemindCase {
    pub note: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `reopen` (重办, county): the petitioner was dissatisfied with the reply; the case is handled
/// again, by `unit` (default: the unit that replied) by `due_date` (default: `rehandle_days`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenCase {
    pub reason: String,
    #[serde(default)]
    pub unit: Option<UnitCode>,
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// `reissue-query-code` (registering unit, county): a new query code for the petitioner's status
/// page; the old one stops working.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueQueryCode {}

/// 出具文书: the first request of a document by a principal who may act on the case numbers it.
/// The API builds this command (`GET /v1/cases/{id}/documents/{kind}`), never a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueDocument {
    pub kind: crate::values::DocumentKind,
    /// The stream sequence of the step's event.
    pub step_seq: u64,
    /// The issuing unit's name, as its document numbers begin (`<name>〔<year>〕<n>号`).
    pub unit_name: String,
}
