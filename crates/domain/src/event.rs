//! Events: immutable facts, past tense. An event's JSON is a permanent contract: names are fixed
//! with `rename`, golden files under `tests/golden/` pin the stored form, and an incompatible change
//! gets a new schema version that readers upcast (see `docs/events.md`).
//!
//! Deadlines are computed when the fact is decided and stored in it, so replaying the log with a
//! different policy in force reproduces exactly the deadlines that applied at the time.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::command::{Petitioner, RegistrationFacts};
use crate::ids::UnitCode;
use crate::policy::Timestamp;
use crate::values::{Category, Channel, Level, Outcome, RejectReason, Satisfaction};

pub use closed_loop::*;
pub use records::*;

mod closed_loop;
mod records;

/// Classifications derived at registration (docs/rules.md, "Classifications"), never typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Flags {
    /// 集体访: headcount at or above the collective threshold in force.
    pub collective: bool,
    /// 越级访: raised at county level or above with no earlier case at a lower level.
    pub cross_level: bool,
    /// 重复访: an earlier case of the same petitioner on the same category existed at registration
    /// (or one was named in `related_case_id`).
    pub repeat: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseRegistered {
    pub case_no: String,
    pub township: UnitCode,
    pub channel: Channel,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    pub headcount: u32,
    pub level_reached: Level,
    pub category: Category,
    /// Sealed with the personal data when the case is an accusation (absent where unsealed).
    #[serde(default)]
    pub summary: String,
    /// Sealed under the case's data key (absent where unsealed: an erased case, a reader
    /// without the key).
    #[serde(default)]
    pub petitioners: Vec<Petitioner>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub related_case_id: Option<uuid::Uuid>,
    pub accusation: bool,
    pub confidential: bool,
    pub flags: Flags,
    /// 领导接访: received on a leader reception day (absent, false, in events before issue 12).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leader_reception: bool,
    /// 初信初访: no earlier case of the petitioner existed at registration (absent, false, in
    /// events before issue 12, which did not look).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first_petition: bool,
    /// 检举控告: the unit the accusation is against; it never sees the case (absent in events
    /// before issue 13, and when none was named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accused_unit: Option<UnitCode>,
    /// The unit accountable from registration when it is not the township: the county, for an
    /// accusation against the township of the matter (absent: the township).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<UnitCode>,
    /// Acceptance must be decided by this time (received_at + accept_days).
    #[schema(value_type = String, format = DateTime)]
    pub accept_due_at: Timestamp,
    /// 签收: the accountability this step starts must be acknowledged by this time (absent in
    /// events before issue 33, which started no such obligation, and when acknowledged at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledge_due_at: Option<Timestamp>,
    /// 签收: acknowledged at once, the step being taken by a principal of the unit it makes
    /// accountable (absent, false, otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
    /// 积案: the case's place among the cases of the same category of one of its petitioners
    /// (1: the first; absent, 0, in events before issue 35, which did not count).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeat_rank: u32,
}

/// Whether a count is 0 (left out of an event's JSON).
fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseAccepted {
    /// The new facts stated when the case repeats a terminated matter (条例 35).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_facts: Option<String>,
    /// Reply deadline in force from now on (acceptance + reply_days).
    #[schema(value_type = String, format = DateTime)]
    pub reply_due_at: Timestamp,
    /// Whether acceptance was decided by its deadline.
    pub on_time: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseRejected {
    pub reason_code: RejectReason,
    pub reason: String,
    pub on_time: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseAssigned {
    pub unit: UnitCode,
    pub from_unit: UnitCode,
    /// Set when the assignment gave a due date; it replaces the reply deadline.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    pub note: Option<String>,
    /// 签收: the accountability this step starts must be acknowledged by this time (absent in
    /// events before issue 33, which started no such obligation, and when acknowledged at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledge_due_at: Option<Timestamp>,
    /// 签收: acknowledged at once, the step being taken by a principal of the unit it makes
    /// accountable (absent, false, otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseTransferred {
    pub unit: UnitCode,
    pub from_unit: UnitCode,
    pub reason: String,
    /// 推诿: with this transfer the case has been transferred `bounce_threshold` (policy in force)
    /// times after its first transfer, or more (absent, false, in events before issue 13).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bounced: bool,
    /// 签收: the accountability this step starts must be acknowledged by this time (absent in
    /// events before issue 33, which started no such obligation, and when acknowledged at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledge_due_at: Option<Timestamp>,
    /// 签收: acknowledged at once, the step being taken by a principal of the unit it makes
    /// accountable (absent, false, otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseSupervised {
    /// The unit being chased (accountable at the time).
    pub unit: UnitCode,
    pub note: String,
    /// A new committed date, when one was given; it replaces the reply deadline.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeadlineExtended {
    pub days: u32,
    pub reason: String,
    pub approved_by: String,
    /// The reply deadline in force after the extension.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseReplied {
    pub unit: UnitCode,
    pub outcome: Outcome,
    pub text: String,
    /// The reply came on or before the reply deadline in force at that moment.
    pub on_time: bool,
    /// The petitioner may request a review until this time.
    #[schema(value_type = String, format = DateTime)]
    pub review_request_until: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FollowUpRecorded {
    pub satisfaction: Satisfaction,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseClosed {
    pub note: Option<String>,
}

/// `request-review` (level 1, 复查) and `request-rereview` (level 2, 复核).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewRequested {
    pub level: u8,
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub decision_due_at: Timestamp,
}

/// A review decision. Level 1 closes the case again and opens the re-review window; level 2
/// terminates the case (终结).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewDecided {
    pub level: u8,
    pub outcome: Outcome,
    pub text: String,
    pub on_time: bool,
    /// Level 1: the petitioner may request a re-review until this time. Level 2: none.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub rereview_request_until: Option<Timestamp>,
}

/// The case was merged into another case of the same matter (一信多投): it is done, and the
/// matter is counted once, as the case it was merged into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseMerged {
    #[schema(value_type = String, format = Uuid)]
    pub into: uuid::Uuid,
    pub into_case_no: String,
    pub reason: String,
}

/// 领导包案: a named leader answers for the case until it is closed (replacing any earlier one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeaderAssigned {
    pub name: String,
    pub title: String,
}

/// 更正: registration facts corrected. `before` and `after` hold the changed facts only; the
/// classifications and the acceptance deadline are derived again from the corrected facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegistrationCorrected {
    pub reason: String,
    pub before: RegistrationFacts,
    pub after: RegistrationFacts,
    /// The classifications of the corrected registration.
    pub flags: Flags,
    /// 初信初访, judged again when the category, township or petitioners changed.
    pub first_petition: bool,
    /// The acceptance deadline from the (corrected) receipt.
    #[schema(value_type = String, format = DateTime)]
    pub accept_due_at: Timestamp,
    /// The accountable unit after the correction, when a corrected township takes over a case
    /// it was registered for and nobody had moved yet (absent: unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitCode>,
    /// 积案: the case's place among its petitioners' cases of its category after the correction
    /// (absent, 0, in events before issue 35: unchanged).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeat_rank: u32,
}

/// 撤回: the petitioner withdrew; the case is done (and counted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseWithdrawn {
    pub reason: String,
}

/// 证据材料: evidence attached to the case. The bytes are in the attachment store under `sha256`;
/// `attachment_id` is derived from the case and the bytes, so a file is attached to a case once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentAdded {
    #[schema(value_type = String, format = Uuid)]
    pub attachment_id: uuid::Uuid,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    /// Personal data (a file name may name a person): left out where petitioners are, and
    /// sealed under the case's data key.
    #[serde(default)]
    pub filename: String,
}

/// A new query code for the petitioner's status page; every earlier one stops working.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueryCodeReissued {
    /// The code's number: 1 for the first reissue (the code given at registration is 0).
    pub seq: u32,
}

/// Every event of a case. Stored as `{"type": "...", "data": {...}}` inside the envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    #[serde(rename = "CaseRegistered")]
    CaseRegistered(CaseRegistered),
    #[serde(rename = "CaseAcknowledged")]
    CaseAcknowledged(CaseAcknowledged),
    #[serde(rename = "CaseReminded")]
    CaseReminded(CaseReminded),
    #[serde(rename = "CaseReopened")]
    CaseReopened(CaseReopened),
    #[serde(rename = "QueryCodeReissued")]
    QueryCodeReissued(QueryCodeReissued),
    #[serde(rename = "DocumentIssued")]
    DocumentIssued(DocumentIssued),
    #[serde(rename = "CaseAccepted")]
    CaseAccepted(CaseAccepted),
    #[serde(rename = "CaseRejected")]
    CaseRejected(CaseRejected),
    #[serde(rename = "CaseAssigned")]
    CaseAssigned(CaseAssigned),
    #[serde(rename = "CaseTransferred")]
    CaseTransferred(CaseTransferred),
    #[serde(rename = "CaseSupervised")]
    CaseSupervised(CaseSupervised),
    #[serde(rename = "DeadlineExtended")]
    DeadlineExtended(DeadlineExtended),
    #[serde(rename = "CaseReplied")]
    CaseReplied(CaseReplied),
    #[serde(rename = "FollowUpRecorded")]
    FollowUpRecorded(FollowUpRecorded),
    #[serde(rename = "CaseClosed")]
    CaseClosed(CaseClosed),
    #[serde(rename = "ReviewRequested")]
    ReviewRequested(ReviewRequested),
    #[serde(rename = "ReviewDecided")]
    ReviewDecided(ReviewDecided),
    #[serde(rename = "CaseMerged")]
    CaseMerged(CaseMerged),
    #[serde(rename = "LeaderAssigned")]
    LeaderAssigned(LeaderAssigned),
    #[serde(rename = "RegistrationCorrected")]
    RegistrationCorrected(RegistrationCorrected),
    #[serde(rename = "CaseWithdrawn")]
    CaseWithdrawn(CaseWithdrawn),
    #[serde(rename = "ResolutionPlanned")]
    ResolutionPlanned(ResolutionPlanned),
    #[serde(rename = "AttachmentAdded")]
    AttachmentAdded(AttachmentAdded),
    #[serde(rename = "AdjustmentRequested")]
    AdjustmentRequested(AdjustmentRequested),
    #[serde(rename = "AdjustmentApproved")]
    AdjustmentApproved(AdjustmentApproved),
    #[serde(rename = "AdjustmentRevoked")]
    AdjustmentRevoked(AdjustmentRevoked),
    #[serde(rename = "PersonalDataErasureRequested")]
    PersonalDataErasureRequested(PersonalDataErasureRequested),
    #[serde(rename = "PersonalDataErased")]
    PersonalDataErased(PersonalDataErased),
    #[serde(rename = "AlertReviewed")]
    AlertReviewed(AlertReviewed),
}

impl Event {
    /// Every event type name, in lifecycle order.
    pub const TYPES: [&'static str; 29] = [
        "CaseRegistered",
        "CaseAcknowledged",
        "CaseAccepted",
        "CaseRejected",
        "CaseAssigned",
        "CaseTransferred",
        "CaseSupervised",
        "CaseReminded",
        "DeadlineExtended",
        "CaseReplied",
        "FollowUpRecorded",
        "CaseReopened",
        "CaseClosed",
        "ReviewRequested",
        "ReviewDecided",
        "CaseMerged",
        "LeaderAssigned",
        "ResolutionPlanned",
        "RegistrationCorrected",
        "CaseWithdrawn",
        "AttachmentAdded",
        "QueryCodeReissued",
        "DocumentIssued",
        "AdjustmentRequested",
        "AdjustmentApproved",
        "AdjustmentRevoked",
        "PersonalDataErasureRequested",
        "PersonalDataErased",
        "AlertReviewed",
    ];

    /// The current schema version of every event type. Bump one (and add an upcaster in
    /// `eventlog::codec`) when its stored form changes incompatibly.
    pub const SCHEMA_VERSION: u32 = 1;

    pub fn type_name(&self) -> &'static str {
        match self {
            Event::CaseRegistered(_) => "CaseRegistered",
            Event::CaseAcknowledged(_) => "CaseAcknowledged",
            Event::CaseReminded(_) => "CaseReminded",
            Event::CaseReopened(_) => "CaseReopened",
            Event::QueryCodeReissued(_) => "QueryCodeReissued",
            Event::DocumentIssued(_) => "DocumentIssued",
            Event::CaseAccepted(_) => "CaseAccepted",
            Event::CaseRejected(_) => "CaseRejected",
            Event::CaseAssigned(_) => "CaseAssigned",
            Event::CaseTransferred(_) => "CaseTransferred",
            Event::CaseSupervised(_) => "CaseSupervised",
            Event::DeadlineExtended(_) => "DeadlineExtended",
            Event::CaseReplied(_) => "CaseReplied",
            Event::FollowUpRecorded(_) => "FollowUpRecorded",
            Event::CaseClosed(_) => "CaseClosed",
            Event::ReviewRequested(_) => "ReviewRequested",
            Event::ReviewDecided(_) => "ReviewDecided",
            Event::CaseMerged(_) => "CaseMerged",
            Event::LeaderAssigned(_) => "LeaderAssigned",
            Event::ResolutionPlanned(_) => "ResolutionPlanned",
            Event::RegistrationCorrected(_) => "RegistrationCorrected",
            Event::CaseWithdrawn(_) => "CaseWithdrawn",
            Event::AttachmentAdded(_) => "AttachmentAdded",
            Event::AdjustmentRequested(_) => "AdjustmentRequested",
            Event::AdjustmentApproved(_) => "AdjustmentApproved",
            Event::AdjustmentRevoked(_) => "AdjustmentRevoked",
            Event::PersonalDataErasureRequested(_) => "PersonalDataErasureRequested",
            Event::PersonalDataErased(_) => "PersonalDataErased",
            Event::AlertReviewed(_) => "AlertReviewed",
        }
    }

    /// The unit this event makes accountable for its case, when it makes one: the
    /// registration's (the county for an accusation against the township of the matter), an
    /// assignment's, a transfer's, a reopening's, a correction's that moves the case to the corrected township.
    /// The case's `unit` and `units` follow this alone (`case::evolve`), and so does the feed's
    /// row of a case, which keeps no case.
    pub fn accountable_unit(&self) -> Option<&UnitCode> {
        match self {
            Event::CaseRegistered(e) => Some(e.held_by.as_ref().unwrap_or(&e.township)),
            Event::CaseAssigned(e) => Some(&e.unit),
            Event::CaseTransferred(e) => Some(&e.unit),
            Event::RegistrationCorrected(e) => e.unit.as_ref(),
            Event::CaseReopened(e) => Some(&e.unit),
            Event::CaseAcknowledged(_)
            | Event::CaseReminded(_)
            | Event::QueryCodeReissued(_)
            | Event::DocumentIssued(_)
            | Event::CaseAccepted(_)
            | Event::CaseRejected(_)
            | Event::CaseSupervised(_)
            | Event::DeadlineExtended(_)
            | Event::CaseReplied(_)
            | Event::FollowUpRecorded(_)
            | Event::CaseClosed(_)
            | Event::ReviewRequested(_)
            | Event::ReviewDecided(_)
            | Event::CaseMerged(_)
            | Event::LeaderAssigned(_)
            | Event::ResolutionPlanned(_)
            | Event::CaseWithdrawn(_)
            | Event::AttachmentAdded(_)
            | Event::AdjustmentRequested(_)
            | Event::AdjustmentApproved(_)
            | Event::AdjustmentRevoked(_)
            | Event::PersonalDataErasureRequested(_)
            | Event::PersonalDataErased(_)
            | Event::AlertReviewed(_) => None,
        }
    }

    /// 核减 steps: about the figures, not the handling (they leave status and clock alone).
    pub fn is_adjustment(&self) -> bool {
        matches!(
            self,
            Event::AdjustmentRequested(_)
                | Event::AdjustmentApproved(_)
                | Event::AdjustmentRevoked(_)
        )
    }

    /// An event on an alert's subject (研判), not a case's: the case models skip it.
    pub fn is_alert(&self) -> bool {
        matches!(self, Event::AlertReviewed(_))
    }

    /// 个人信息删除 steps: about the record, not the handling (status and clock stay).
    pub fn is_erasure(&self) -> bool {
        matches!(
            self,
            Event::PersonalDataErasureRequested(_) | Event::PersonalDataErased(_)
        )
    }
}
