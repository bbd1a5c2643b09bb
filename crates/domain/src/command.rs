//! Commands: what a principal asks the system to do. The bodies are exactly the HTTP and NATS
//! inbox bodies of the contract (docs/contract.md); unknown fields are refused so that a misspelt
//! optional field (`occured_at`) is an error, not a silent default.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{CaseId, UnitCode};
use crate::policy::Timestamp;
use crate::values::{Category, Channel, Level};

pub use crate::text::redact;
pub use action::Action;
pub use decode::{decode_object, BodyError};

mod action;
mod bodies;
mod decode;

pub use bodies::*;

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
    /// 补录: why a step dated long before it is recorded comes late; the event keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
}

/// Every command, as decided by [`crate::decide`].
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Register(RegisterCase),
    Acknowledge(AcknowledgeCase),
    Accept(AcceptCase),
    Reject(RejectCase),
    Assign(AssignCase),
    Transfer(TransferCase),
    Supervise(SuperviseCase),
    Remind(RemindCase),
    Extend(ExtendDeadline),
    Reply(ReplyCase),
    FollowUp(RecordFollowUp),
    Reopen(ReopenCase),
    Close(CloseCase),
    RequestReview(RequestReview),
    DecideReview(DecideReview),
    RequestRereview(RequestReview),
    DecideRereview(DecideReview),
    Merge(MergeCase),
    AssignLeader(AssignLeader),
    PlanResolution(PlanResolution),
    Correct(CorrectRegistration),
    Withdraw(WithdrawCase),
    Attach(AddAttachment),
    ReissueQueryCode(ReissueQueryCode),
    IssueDocument(IssueDocument),
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
            Command::Acknowledge(c) => serde_json::to_value(c),
            Command::Remind(c) => serde_json::to_value(c),
            Command::Reopen(c) => serde_json::to_value(c),
            Command::ReissueQueryCode(c) => serde_json::to_value(c),
            Command::IssueDocument(c) => serde_json::to_value(c),
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
            Command::PlanResolution(c) => serde_json::to_value(c),
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
            Command::Acknowledge(_) => Action::Acknowledge,
            Command::Remind(_) => Action::Remind,
            Command::Reopen(_) => Action::Reopen,
            Command::ReissueQueryCode(_) => Action::ReissueQueryCode,
            Command::IssueDocument(_) => Action::IssueDocument,
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
            Command::PlanResolution(_) => Action::ResolutionPlan,
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
            | Command::ApproveErasure(_)
            | Command::ReissueQueryCode(_)
            | Command::IssueDocument(_) => return None,
            Command::Acknowledge(c) => &mut c.occurred_at,
            Command::Remind(c) => &mut c.occurred_at,
            Command::Reopen(c) => &mut c.occurred_at,
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
            Command::PlanResolution(c) => &mut c.occurred_at,
            Command::Correct(c) => &mut c.occurred_at,
            Command::Withdraw(c) => &mut c.occurred_at,
            Command::Attach(c) => &mut c.occurred_at,
        })
    }

    /// The business time the command asks for; for a registration that is `received_at`.
    pub fn occurred_at(&self) -> Option<Timestamp> {
        match self {
            Command::Register(c) => Some(c.received_at),
            Command::Acknowledge(c) => c.occurred_at,
            Command::Remind(c) => c.occurred_at,
            Command::Reopen(c) => c.occurred_at,
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
            Command::PlanResolution(c) => c.occurred_at,
            Command::Correct(c) => c.occurred_at,
            Command::Withdraw(c) => c.occurred_at,
            Command::Attach(c) => c.occurred_at,
            Command::RequestAdjustment(_)
            | Command::ApproveAdjustment(_)
            | Command::RevokeAdjustment(_)
            | Command::RequestErasure(_)
            | Command::ApproveErasure(_)
            | Command::ReissueQueryCode(_)
            | Command::IssueDocument(_) => None,
        }
    }

    /// 补录: why the step comes late, as the body stated it.
    pub fn late_reason(&self) -> Option<&str> {
        let reason = match self {
            Command::Register(c) => &c.late_reason,
            Command::Acknowledge(c) => &c.late_reason,
            Command::Remind(c) => &c.late_reason,
            Command::Reopen(c) => &c.late_reason,
            Command::Accept(c) => &c.late_reason,
            Command::Reject(c) => &c.late_reason,
            Command::Assign(c) => &c.late_reason,
            Command::Transfer(c) => &c.late_reason,
            Command::Supervise(c) => &c.late_reason,
            Command::Extend(c) => &c.late_reason,
            Command::Reply(c) => &c.late_reason,
            Command::FollowUp(c) => &c.late_reason,
            Command::Close(c) => &c.late_reason,
            Command::RequestReview(c) | Command::RequestRereview(c) => &c.late_reason,
            Command::DecideReview(c) | Command::DecideRereview(c) => &c.late_reason,
            Command::Merge(c) => &c.late_reason,
            Command::AssignLeader(c) => &c.late_reason,
            Command::PlanResolution(c) => &c.late_reason,
            Command::Correct(c) => &c.late_reason,
            Command::Withdraw(c) => &c.late_reason,
            Command::Attach(c) => &c.late_reason,
            Command::RequestAdjustment(_)
            | Command::ApproveAdjustment(_)
            | Command::RevokeAdjustment(_)
            | Command::RequestErasure(_)
            | Command::ApproveErasure(_)
            | Command::ReissueQueryCode(_)
            | Command::IssueDocument(_) => return None,
        };
        reason.as_deref()
    }
}
