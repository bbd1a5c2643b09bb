//! A case as the API shows it (`GET /v1/cases/{case_id}`, and the answer of every step).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::command::Petitioner;
use domain::{CaseId, Category, Channel, Level, Stage, Status, Timestamp, UnitCode};

use crate::Rejection;

/// `<Case>` of the contract.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub case_id: CaseId,
    pub case_no: String,
    pub township: UnitCode,
    /// The registering township's name.
    pub township_name: String,
    /// The accountable unit.
    pub unit: UnitCode,
    /// The accountable unit's name.
    pub unit_name: String,
    pub status: Status,
    pub channel: Channel,
    pub headcount: u32,
    pub level_reached: Level,
    pub category: Category,
    pub summary: String,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// Deadline of the current stage; null when the stage has none.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    pub overdue: bool,
    pub version: u64,
    pub flags: CaseFlags,
    pub accusation: bool,
    pub confidential: bool,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub related_case_id: Option<uuid::Uuid>,
    /// The other cases of the same petitioners (county and auditors only; most recent first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_cases: Option<Vec<crate::cases::CaseSummary>>,
    /// Set when the cases model did not answer in time: `flags.duplicate` and `related_cases`
    /// are then not known (the rest comes from the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links_unknown: Option<bool>,
    /// The case this one was merged into (status `merged`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub merged_into: Option<uuid::Uuid>,
    /// Where the case stands: acceptance, handling, awaiting_close, review or done.
    pub stage: Stage,
    /// 推诿: transfers after the first.
    pub bounces: u32,
    /// 督办, when the county has chased the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervision: Option<crate::cases::Supervision>,
    /// 领导包案: the leader who answers for the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader: Option<domain::Leader>,
    /// 积案: the case's place among the cases of its category of one of its petitioners (1: the
    /// first; absent for a case registered before it was counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_rank: Option<u32>,
    /// 一案一策: the latest plan to resolve the case (absent when none was made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_plan: Option<crate::cases::ResolutionPlan>,
    /// The latest reply (答复): outcome, text and business time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<domain::case::Reply>,
    /// The latest follow-up (回访): satisfaction and business time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<domain::case::FollowUp>,
    /// Until when the petitioner may ask for a review (复查) or re-review (复核), while that
    /// window is open; null otherwise.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub review_request_due_at: Option<Timestamp>,
    /// 检举控告: the unit the accusation is against (county and auditors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accused_unit: Option<UnitCode>,
    /// 证据材料, in the order attached (`GET /v1/cases/{id}/attachments/{attachment_id}` gives
    /// the bytes); file names only for roles entitled to personal data.
    pub attachments: Vec<domain::case::Attachment>,
    /// Every unit that has been accountable, first to last.
    pub units: Vec<UnitCode>,
    /// Whether the deadline was extended (at most once).
    pub extended: bool,
    /// Review levels decided: 0, 1 (复查) or 2 (复核).
    pub review_level: u8,
    /// 签收 of the current accountability (null until acknowledged; reset by assign, transfer
    /// and reopen).
    pub acknowledged: Option<domain::case::Acknowledged>,
    /// 签收: by when the current accountability must be acknowledged (null: acknowledged, or
    /// none is due).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledge_due_at: Option<domain::Timestamp>,
    /// 催办 by the county.
    pub reminders: domain::case::Reminders,
    /// 重办: how often the case was reopened.
    pub reopens: u32,
    /// Only for roles entitled to personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub petitioners: Option<Vec<Petitioner>>,
    /// The case's personal data was erased (PIPL; `PersonalDataErased`): its petitioners,
    /// evidence file names and bytes and an accusation's summary read as erased.
    pub personal_data_erased: bool,
    /// The steps (`POST /v1/cases/{id}/{action}` actions) the caller may take on the case now:
    /// its status admits them, the caller is authorized, and a once-only step or a window is
    /// still open; as of a past point, those of then. Attachments, adjustments and erasure are
    /// not listed.
    pub allowed_actions: Vec<domain::command::Action>,
    /// On reads: events on the case's subject in the log that are not facts (issue 30): forged
    /// (hash or signature), unsigned after the log was sealed, misfiled, or out of order (a
    /// replay); the case is shown as if they were absent. Empty for a case nobody tampered
    /// with; `GET /v1/cases/{id}/verify` tells more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_events: Vec<RejectedEvent>,
    /// On reads: the log position this answer reflects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_seq: Option<u64>,
}

/// A case's flags as the API shows them (docs/rules.md, "Classifications"). Named `Flags` in the
/// OpenAPI document, as before it gained `leader_reception`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Flags)]
pub struct CaseFlags {
    /// 集体访: headcount at or above the collective threshold in force.
    pub collective: bool,
    /// 越级访: raised at county level or above with no earlier case at a lower level.
    pub cross_level: bool,
    /// 重复访: an earlier case of the same petitioner on the same category existed at
    /// registration (or one was named in `related_case_id`).
    pub repeat: bool,
    /// 一信多投: open, with an open case of the same petitioner and category in another unit.
    pub duplicate: bool,
    /// 领导接访: received on a leader reception day.
    pub leader_reception: bool,
    /// 初信初访: no earlier case of the petitioner existed at registration.
    pub first_petition: bool,
    /// 推诿: transferred `bounce_threshold` times after the first transfer.
    pub bounced: bool,
    /// 督办: the county has chased the case.
    pub supervised: bool,
    /// 签收: open, the current accountability unacknowledged past its limit.
    #[serde(default)]
    pub unacknowledged: bool,
    /// 催办: open and overdue by more than `escalate_after_days`.
    #[serde(default)]
    pub escalated: bool,
    /// 补录: some step of the case was entered late.
    #[serde(default)]
    pub late_entry: bool,
    /// 积案: open, and received more than `backlog_days` ago or the `backlog_repeats`-th or later
    /// case of its category of one of its petitioners.
    #[serde(default)]
    pub backlog: bool,
}

/// An event in a case's log that is not a fact, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RejectedEvent {
    pub seq: u64,
    pub reason: Rejection,
}

/// A case verified against the log's last checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    /// Everything verified: no finding.
    pub ok: bool,
    /// The case's events in the log.
    pub events: u64,
    /// The last sequence of the checkpoint the case's events were proven against (absent
    /// before the first checkpoint).
    pub checkpoint_seq: Option<u64>,
    pub signatures_checked: u64,
    pub findings: Vec<FindingView>,
}

/// One thing wrong (`integrity::Finding`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FindingView {
    /// The stream sequence it is at, when there is one.
    pub seq: Option<u64>,
    /// `hash_mismatch`, `signature`, `unsigned`, `chain`, `subject`, `missing`, `rejected`,
    /// `checkpoint_signature`, `checkpoint_root`, `checkpoint_order`, `truncated`,
    /// `inclusion`, `head`, `unreadable`.
    pub code: String,
    pub detail: String,
}

/// The same flags a case summary shows.
impl From<CaseFlags> for crate::cases::SummaryFlags {
    fn from(f: CaseFlags) -> Self {
        crate::cases::SummaryFlags {
            collective: f.collective,
            cross_level: f.cross_level,
            repeat: f.repeat,
            duplicate: f.duplicate,
            leader_reception: f.leader_reception,
            first_petition: f.first_petition,
            bounced: f.bounced,
            supervised: f.supervised,
            unacknowledged: f.unacknowledged,
            escalated: f.escalated,
            late_entry: f.late_entry,
            backlog: f.backlog,
        }
    }
}

/// `POST /v1/cases` → 201.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Registered {
    pub case_id: CaseId,
    pub case_no: String,
    /// For the petitioner: with the case number it opens `GET /v1/status/{case_no}` (the same
    /// code for a replayed registration).
    pub query_code: String,
    pub version: u64,
    /// Stream sequence of the event; use as `min_seq` for read-your-writes.
    pub seq: u64,
    pub case: CaseView,
}

/// `POST /v1/cases/{case_id}/reissue-query-code` → 200: the new code; every earlier one stops
/// working.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueryCodeIssued {
    pub query_code: String,
    /// Stream sequence of the `QueryCodeReissued` event.
    pub seq: u64,
}

/// `POST /v1/cases/{case_id}/{action}` → 200.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Applied {
    pub case_id: CaseId,
    pub version: u64,
    pub seq: u64,
    pub case: CaseView,
}
