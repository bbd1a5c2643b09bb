//! Commands: what a principal asks the system to do. The bodies are exactly the HTTP and NATS
//! inbox bodies of the contract (docs/contract.md); unknown fields are refused so that a misspelt
//! optional field (`occured_at`) is an error, not a silent default.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{CaseId, UnitCode};
use crate::policy::Timestamp;
use crate::values::{Category, Channel, Level, Outcome, RejectReason, Satisfaction};

pub use crate::text::redact;
pub use action::Action;
pub use decode::{decode_object, BodyError};

mod action;
mod decode;

/// Personal data of one petitioner. Visible only to entitled roles (see `auth`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Petitioner {
    pub name: String,
    /// Resident ID number (GB 11643-1999): 17 digits with a valid birth date, then the check
    /// digit (0-9 or X). A registration keeps it with a capital X (registrations recorded before
    /// this check keep what was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "cn-resident-id")]
    pub id_number: Option<String>,
    /// A mainland mobile number (optionally +86) or a landline with its area code; spaces,
    /// hyphens and parentheses are allowed. A registration keeps it as digits (a landline as
    /// `0AAA-NNNNNNNN`; registrations recorded before this check keep what was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "cn-phone")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `POST /v1/cases`: register a petition (登记).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterCase {
    pub township: UnitCode,
    pub channel: Channel,
    /// Business time of the registration.
    #[serde(deserialize_with = "crate::dates::time")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    #[serde(deserialize_with = "crate::dates::whole_u32")]
    pub headcount: u32,
    pub level_reached: Level,
    pub category: Category,
    pub summary: String,
    pub petitioners: Vec<Petitioner>,
    #[serde(default)]
    pub related_case_id: Option<CaseId>,
    #[serde(default)]
    pub accusation: bool,
    #[serde(default)]
    pub confidential: bool,
    /// 领导接访: received on a leader reception day (a flag beside the channel; a registration
    /// on the channel `leader_reception` is one too).
    #[serde(default)]
    pub leader_reception: bool,
    /// 检举控告: the unit the accusation is against (only with `accusation: true`). It never sees
    /// the case; an accusation against the township of the matter is held by the county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accused_unit: Option<UnitCode>,
}

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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectCase {
    pub reason_code: RejectReason,
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferCase {
    pub unit: UnitCode,
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyCase {
    pub outcome: Outcome,
    pub text: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCase {
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

/// `request-review` and `request-rereview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReview {
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
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
}

/// `withdraw` (撤回): the petitioner withdrew the petition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawCase {
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
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

/// Every command, as decided by [`crate::decide`].
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Register(RegisterCase),
    Accept(AcceptCase),
    Reject(RejectCase),
    Assign(AssignCase),
    Transfer(TransferCase),
    Supervise(SuperviseCase),
    Extend(ExtendDeadline),
    Reply(ReplyCase),
    FollowUp(RecordFollowUp),
    Close(CloseCase),
    RequestReview(RequestReview),
    DecideReview(DecideReview),
    RequestRereview(RequestReview),
    DecideRereview(DecideReview),
    Merge(MergeCase),
    AssignLeader(AssignLeader),
    Correct(CorrectRegistration),
    Withdraw(WithdrawCase),
    Attach(AddAttachment),
    RequestAdjustment(RequestAdjustment),
    ApproveAdjustment(ApproveAdjustment),
    RevokeAdjustment(RevokeAdjustment),
    RequestErasure(RequestErasure),
    ApproveErasure(ApproveErasure),
}

impl Command {
    /// The JSON body of this command, as the HTTP API and the township inbox take it.
    pub fn body(&self) -> serde_json::Value {
        let v = match self {
            Command::Register(c) => serde_json::to_value(c),
            Command::Accept(c) => serde_json::to_value(c),
            Command::Reject(c) => serde_json::to_value(c),
            Command::Assign(c) => serde_json::to_value(c),
            Command::Transfer(c) => serde_json::to_value(c),
            Command::Supervise(c) => serde_json::to_value(c),
            Command::Extend(c) => serde_json::to_value(c),
            Command::Reply(c) => serde_json::to_value(c),
            Command::FollowUp(c) => serde_json::to_value(c),
            Command::Close(c) => serde_json::to_value(c),
            Command::RequestReview(c) | Command::RequestRereview(c) => serde_json::to_value(c),
            Command::DecideReview(c) | Command::DecideRereview(c) => serde_json::to_value(c),
            Command::Merge(c) => serde_json::to_value(c),
            Command::AssignLeader(c) => serde_json::to_value(c),
            Command::Correct(c) => serde_json::to_value(c),
            Command::Withdraw(c) => serde_json::to_value(c),
            Command::Attach(c) => serde_json::to_value(c),
            Command::RequestAdjustment(c) => serde_json::to_value(c),
            Command::ApproveAdjustment(c) => serde_json::to_value(c),
            Command::RevokeAdjustment(c) => serde_json::to_value(c),
            Command::RequestErasure(c) => serde_json::to_value(c),
            Command::ApproveErasure(c) => serde_json::to_value(c),
        };
        // Serializing these plain structs cannot fail.
        v.unwrap_or_default()
    }

    pub fn action(&self) -> Action {
        match self {
            Command::Register(_) => Action::Register,
            Command::Accept(_) => Action::Accept,
            Command::Reject(_) => Action::Reject,
            Command::Assign(_) => Action::Assign,
            Command::Transfer(_) => Action::Transfer,
            Command::Supervise(_) => Action::Supervise,
            Command::Extend(_) => Action::Extend,
            Command::Reply(_) => Action::Reply,
            Command::FollowUp(_) => Action::FollowUp,
            Command::Close(_) => Action::Close,
            Command::RequestReview(_) => Action::RequestReview,
            Command::DecideReview(_) => Action::DecideReview,
            Command::RequestRereview(_) => Action::RequestRereview,
            Command::DecideRereview(_) => Action::DecideRereview,
            Command::Merge(_) => Action::Merge,
            Command::AssignLeader(_) => Action::AssignLeader,
            Command::Correct(_) => Action::Correct,
            Command::Withdraw(_) => Action::Withdraw,
            Command::Attach(_) => Action::Attach,
            Command::RequestAdjustment(_) => Action::RequestAdjustment,
            Command::ApproveAdjustment(_) => Action::ApproveAdjustment,
            Command::RevokeAdjustment(_) => Action::RevokeAdjustment,
            Command::RequestErasure(_) => Action::RequestErasure,
            Command::ApproveErasure(_) => Action::ApproveErasure,
        }
    }

    /// Where a command on an existing case keeps its `occurred_at`; `None` for a registration
    /// (its business time is `received_at`) and the adjustments (their time is when they are
    /// recorded: they are about figures, not the handling).
    pub fn occurred_at_mut(&mut self) -> Option<&mut Option<Timestamp>> {
        Some(match self {
            Command::Register(_)
            | Command::RequestAdjustment(_)
            | Command::ApproveAdjustment(_)
            | Command::RevokeAdjustment(_)
            | Command::RequestErasure(_)
            | Command::ApproveErasure(_) => return None,
            Command::Accept(c) => &mut c.occurred_at,
            Command::Reject(c) => &mut c.occurred_at,
            Command::Assign(c) => &mut c.occurred_at,
            Command::Transfer(c) => &mut c.occurred_at,
            Command::Supervise(c) => &mut c.occurred_at,
            Command::Extend(c) => &mut c.occurred_at,
            Command::Reply(c) => &mut c.occurred_at,
            Command::FollowUp(c) => &mut c.occurred_at,
            Command::Close(c) => &mut c.occurred_at,
            Command::RequestReview(c) | Command::RequestRereview(c) => &mut c.occurred_at,
            Command::DecideReview(c) | Command::DecideRereview(c) => &mut c.occurred_at,
            Command::Merge(c) => &mut c.occurred_at,
            Command::AssignLeader(c) => &mut c.occurred_at,
            Command::Correct(c) => &mut c.occurred_at,
            Command::Withdraw(c) => &mut c.occurred_at,
            Command::Attach(c) => &mut c.occurred_at,
        })
    }

    /// The business time the command asks for; for a registration that is `received_at`.
    pub fn occurred_at(&self) -> Option<Timestamp> {
        match self {
            Command::Register(c) => Some(c.received_at),
            Command::Accept(c) => c.occurred_at,
            Command::Reject(c) => c.occurred_at,
            Command::Assign(c) => c.occurred_at,
            Command::Transfer(c) => c.occurred_at,
            Command::Supervise(c) => c.occurred_at,
            Command::Extend(c) => c.occurred_at,
            Command::Reply(c) => c.occurred_at,
            Command::FollowUp(c) => c.occurred_at,
            Command::Close(c) => c.occurred_at,
            Command::RequestReview(c) | Command::RequestRereview(c) => c.occurred_at,
            Command::DecideReview(c) | Command::DecideRereview(c) => c.occurred_at,
            Command::Merge(c) => c.occurred_at,
            Command::AssignLeader(c) => c.occurred_at,
            Command::Correct(c) => c.occurred_at,
            Command::Withdraw(c) => c.occurred_at,
            Command::Attach(c) => c.occurred_at,
            Command::RequestAdjustment(_)
            | Command::ApproveAdjustment(_)
            | Command::RevokeAdjustment(_)
            | Command::RequestErasure(_)
            | Command::ApproveErasure(_) => None,
        }
    }
}
