//! Case state and `evolve`: the fold of a case's events. Pure and total over a well-formed log; a
//! malformed log (an event before the registration, a second registration) is an error, never a
//! panic.

use crate::command::Petitioner;
use crate::event::{Event, Flags};
use crate::ids::{CaseId, UnitCode};
use crate::policy::Timestamp;
use crate::values::{Category, Channel, Level, Satisfaction, Status};

/// Read models store this state in a binary, positional format (postcard), with timestamps as
/// numbers (`stamp`): a change to its fields needs a new model version of every read model that
/// stores it (queues, stats, the feed), which then rebuild from the log by themselves.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub case_no: String,
    /// The township of the matter: the one the petition was registered for, unless a correction
    /// (更正, county only) named another. The case's log subject keeps the registering township.
    pub township: UnitCode,
    /// The one unit accountable now.
    pub unit: UnitCode,
    /// Every unit that has been accountable, in order of first accountability. These units may
    /// read the case.
    pub units: Vec<UnitCode>,
    pub status: Status,
    pub channel: Channel,
    pub headcount: u32,
    pub level_reached: Level,
    pub category: Category,
    pub summary: String,
    #[serde(with = "crate::stamp")]
    pub received_at: Timestamp,
    /// The receipt as first registered (corrections of `received_at` leave it): the start of a
    /// township's correction window.
    #[serde(with = "crate::stamp")]
    pub registered_at: Timestamp,
    pub petitioners: Vec<Petitioner>,
    pub related_case_id: Option<uuid::Uuid>,
    pub accusation: bool,
    pub confidential: bool,
    /// 检举控告: the unit the accusation is against. It never sees the case.
    pub accused_unit: Option<UnitCode>,
    pub flags: Flags,
    /// Number of events applied; the version of the contract.
    pub version: u64,
    #[serde(with = "crate::stamp")]
    pub last_occurred_at: Timestamp,
    #[serde(with = "crate::stamp")]
    pub accept_due_at: Timestamp,
    #[serde(with = "crate::stamp::option")]
    pub accepted_at: Option<Timestamp>,
    /// The reply deadline in force (acceptance + reply_days, or a date set by assign or supervise,
    /// or after an extension).
    #[serde(with = "crate::stamp::option")]
    pub reply_due_at: Option<Timestamp>,
    pub extended: bool,
    #[serde(with = "crate::stamp::option")]
    pub replied_at: Option<Timestamp>,
    pub reply_on_time: Option<bool>,
    /// Until when the petitioner may ask for the next review level.
    #[serde(with = "crate::stamp::option")]
    pub request_window_until: Option<Timestamp>,
    /// Review levels decided so far: 0, 1 (复查) or 2 (复核).
    pub review_level: u8,
    #[serde(with = "crate::stamp::option")]
    pub decision_due_at: Option<Timestamp>,
    /// The latest reply (答复).
    pub reply: Option<Reply>,
    /// The latest follow-up (回访), if any.
    pub follow_up: Option<FollowUp>,
    /// 领导接访: received on a leader reception day.
    #[serde(default)]
    pub leader_reception: bool,
    /// 初信初访: no earlier case of the petitioner existed at registration.
    #[serde(default)]
    pub first_petition: bool,
    /// The case this one was merged into (status `merged`).
    #[serde(default)]
    pub merged_into: Option<uuid::Uuid>,
    /// Transfers so far; every one after the first is a bounce (推诿).
    #[serde(default)]
    pub transfers: u32,
    /// Flagged for the county: bounced `bounce_threshold` times (decided by the transfer).
    #[serde(default)]
    pub bounced: bool,
    /// 督办: how often the county chased the accountable unit.
    #[serde(default)]
    pub supervisions: u32,
    /// The last date a unit committed to when chased (its end, policy time zone).
    #[serde(default, with = "crate::stamp::option")]
    pub committed_at: Option<Timestamp>,
    /// 领导包案: the leader who answers for the case.
    #[serde(default)]
    pub leader: Option<Leader>,
    /// 证据材料, in the order attached.
    pub attachments: Vec<Attachment>,
    /// 核减 of the case's figures, in the order requested.
    #[serde(default)]
    pub adjustments: Vec<crate::adjustment::Adjustment>,
    /// 个人信息删除 of the case, in the order requested.
    #[serde(default)]
    pub erasures: Vec<crate::erasure::Erasure>,
    /// 签收: the limit of the current accountability (none: no acknowledgement is due, as for
    /// one started before issue 33).
    #[serde(default, with = "crate::stamp::option")]
    pub acknowledge_due_at: Option<Timestamp>,
    /// 签收 of the current accountability (none until acknowledged; reset by assign, transfer
    /// and reopen).
    #[serde(default)]
    pub acknowledged: Option<Acknowledged>,
    /// 签收 over every accountability of the case so far.
    #[serde(default)]
    pub acknowledgements: Acknowledgements,
    /// 催办 by the county.
    #[serde(default)]
    pub reminders: Reminders,
    /// 重办: how often the case was reopened.
    #[serde(default)]
    pub reopens: u32,
    /// 重办: whether the latest reply after a reopening came by its deadline (on-time measures
    /// judge the first reply, `reply_on_time`).
    #[serde(default)]
    pub rehandle_on_time: Option<bool>,
    /// When the case was last closed (办结).
    #[serde(default, with = "crate::stamp::option")]
    pub closed_at: Option<Timestamp>,
    /// The latest follow-up was dissatisfied and no reply came after it: closing needs a note,
    /// and the county may reopen.
    #[serde(default)]
    pub dissatisfied_unanswered: bool,
    /// 补录: steps recorded late ([`Entry::late`]).
    #[serde(default)]
    pub late_entries: u32,
    /// 补录: steps on time by their business date but recorded after their deadline.
    #[serde(default)]
    pub on_time_by_late_entry: u32,
    /// The number of the query code in force (0: the one given at registration).
    #[serde(default)]
    pub query_code_seq: u32,
    /// 出具文书: the documents numbered so far, in the order issued.
    #[serde(default)]
    pub documents: Vec<IssuedDocument>,
    /// 积案: the case's place among the cases of the same category of one of its petitioners
    /// (1: the first; 0: not counted, registered before issue 35).
    #[serde(default)]
    pub repeat_rank: u32,
    /// 一案一策: the latest plan to resolve the case.
    #[serde(default)]
    pub resolution_plan: Option<ResolutionPlan>,
}

/// 一案一策: a plan to resolve a case (`ResolutionPlanned`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolutionPlan {
    pub plan: String,
    pub leader: Option<String>,
    pub target_date: chrono::NaiveDate,
    /// Business time of the step.
    #[serde(with = "crate::stamp")]
    pub at: Timestamp,
}

/// A document numbered for a step of the case (`DocumentIssued`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IssuedDocument {
    pub kind: crate::values::DocumentKind,
    pub step_seq: u64,
    pub document_no: String,
    pub unit: UnitCode,
}

impl Case {
    /// The number of the document of `kind` for the step at `step_seq`, once issued.
    pub fn document(
        &self,
        kind: crate::values::DocumentKind,
        step_seq: u64,
    ) -> Option<&IssuedDocument> {
        self.documents
            .iter()
            .find(|d| d.kind == kind && d.step_seq == step_seq)
    }
}

/// 签收 of an accountability.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct Acknowledged {
    /// Business time of the acknowledgement.
    #[serde(with = "crate::stamp")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub on_time: bool,
}

/// 签收 over a case's accountabilities (those started with an obligation, or acknowledged at
/// once; one superseded within its limit is not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Acknowledgements {
    pub started: u32,
    pub acknowledged: u32,
    /// Acknowledged after the limit.
    pub late: u32,
    /// Superseded (assign, transfer, reopen) unacknowledged after the limit had passed.
    pub missed: u32,
}

impl Acknowledgements {
    /// Every accountability was acknowledged (and there was one).
    pub fn all(&self) -> bool {
        self.started > 0 && self.acknowledged == self.started
    }

    /// Every accountability was acknowledged by its limit.
    pub fn all_on_time(&self) -> bool {
        self.all() && self.late == 0
    }

    /// Some accountability has been judged: acknowledged, or superseded past its limit.
    pub fn judged(&self) -> bool {
        self.acknowledged > 0 || self.missed > 0
    }
}

/// 催办 of a case.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub struct Reminders {
    pub count: u32,
    #[serde(default, with = "crate::stamp::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_at: Option<Timestamp>,
}

/// How an event was recorded, beside its business time (its envelope): what `evolve` counts of
/// late entry (补录).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entry {
    /// Dated more than `late_entry_hours` before it was recorded.
    pub late: bool,
    /// On time by its business date, recorded after its deadline.
    pub on_time_by_late_entry: bool,
}

/// Evidence attached to a case (its bytes in the attachment store under `sha256`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    #[schema(value_type = String, format = Uuid)]
    pub attachment_id: uuid::Uuid,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    /// Personal data: empty where it was left out.
    pub filename: String,
    #[serde(with = "crate::stamp")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// The id of the attachment of `sha256` (hex) to `case`: the same file attached to one case twice
/// is one attachment.
pub fn attachment_id(case: CaseId, sha256: &str) -> uuid::Uuid {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(case.0.as_bytes());
    h.update(sha256.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// A case's reply as the petitioner got it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Reply {
    /// The unit that replied (accountable then).
    pub unit: UnitCode,
    pub outcome: crate::values::Outcome,
    pub text: String,
    /// Business time of the reply.
    #[serde(with = "crate::stamp")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// The answer of a follow-up call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub satisfaction: Satisfaction,
    #[serde(with = "crate::stamp")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// A leader who owns a case (领导包案).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Leader {
    pub name: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvolveError {
    #[error("event {0} before the case was registered")]
    NotRegistered(&'static str),
    #[error("case registered twice")]
    RegisteredTwice,
    /// An alert's review (研判) is on its alert's subject, never a case's.
    #[error("event {0} is not a case's")]
    NotACase(&'static str),
}

impl Case {
    /// Whether the case's personal data has been erased (an approved erasure).
    pub fn personal_data_erased(&self) -> bool {
        self.erasures
            .iter()
            .any(|e| e.status == crate::erasure::ErasureStatus::Erased)
    }

    /// The deadline of the current stage (docs/contract.md, "Deadlines"), if the stage has one.
    pub fn due_at(&self) -> Option<Timestamp> {
        match self.status {
            Status::Registered => Some(self.accept_due_at),
            Status::Accepted | Status::Assigned => self.reply_due_at,
            Status::UnderReview | Status::UnderRereview => self.decision_due_at,
            _ => None,
        }
    }

    /// 推诿: transfers after the first.
    pub fn bounces(&self) -> u32 {
        self.transfers.saturating_sub(1)
    }

    /// Where the case stands (docs/contract.md, "Vocabularies").
    pub fn stage(&self) -> crate::values::Stage {
        self.status.stage()
    }

    /// Until when the petitioner may ask for a review (复查) or re-review (复核), while that
    /// window is open.
    pub fn review_request_due_at(&self) -> Option<Timestamp> {
        match self.status {
            Status::Replied | Status::Closed => self.request_window_until,
            _ => None,
        }
    }

    /// The satisfaction of the latest follow-up.
    pub fn last_satisfaction(&self) -> Option<Satisfaction> {
        self.follow_up.as_ref().map(|f| f.satisfaction)
    }

    /// 督办: the committed date of the last supervision has passed while the case is open.
    pub fn committed_overdue(&self, now: Timestamp) -> bool {
        self.status.is_open() && self.committed_at.is_some_and(|d| now > d)
    }

    /// Open and past the current deadline.
    pub fn overdue(&self, now: Timestamp) -> bool {
        self.status.is_open() && self.due_at().is_some_and(|d| now > d)
    }

    /// 催办: open and overdue by more than `days` days.
    pub fn escalated(&self, now: Timestamp, days: u32) -> bool {
        self.status.is_open()
            && self
                .due_at()
                .is_some_and(|d| now > d + chrono::Duration::days(i64::from(days)))
    }

    /// 积案: open, and received more than `backlog_days` calendar days before `now`'s day, or the
    /// `backlog_repeats`-th or later case of its category of one of its petitioners.
    pub fn backlog(&self, now: Timestamp, policy: &crate::policy::Policy) -> bool {
        self.status.is_open()
            && (self.repeat_rank >= policy.backlog_repeats
                || self
                    .backlog_from(policy)
                    .is_some_and(|day| policy.local_date(now) >= day))
    }

    /// 积案 by age: the first day on which the case, open, is backlog by its age alone.
    pub fn backlog_from(&self, policy: &crate::policy::Policy) -> Option<chrono::NaiveDate> {
        policy
            .local_date(self.received_at)
            .checked_add_days(chrono::Days::new(u64::from(policy.backlog_days) + 1))
    }

    /// 一案一策: the plan's target date has passed while the case is open.
    pub fn plan_overdue(&self, now: Timestamp, policy: &crate::policy::Policy) -> bool {
        self.status.is_open()
            && self
                .resolution_plan
                .as_ref()
                .is_some_and(|p| policy.local_date(now) > p.target_date)
    }

    /// 签收: open, the current accountability unacknowledged and past its limit.
    pub fn unacknowledged(&self, now: Timestamp) -> bool {
        self.status.is_open()
            && self.acknowledged.is_none()
            && self.acknowledge_due_at.is_some_and(|d| now > d)
    }
}

mod evolve;
pub use evolve::evolve;
