//! Lists of cases as the API answers them: a case's summary, a page of them, a work queue.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::{CaseId, Category, Channel, Stage, Status, Timestamp, UnitCode};

/// `<CaseSummary>` of the contract (unit names added by the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    pub case_id: CaseId,
    pub case_no: String,
    pub township: UnitCode,
    #[serde(default)]
    pub township_name: String,
    /// The accountable unit.
    pub unit: UnitCode,
    #[serde(default)]
    pub unit_name: String,
    pub status: Status,
    pub stage: Stage,
    pub category: Category,
    pub channel: Channel,
    pub headcount: u32,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// Absent for an accusation, except for the county and auditors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Deadline of the current stage; null when it has none.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    /// Whole days until `due_at` (negative when overdue).
    pub days_left: Option<i64>,
    pub overdue: bool,
    /// Not overdue, and due within the policy's `due_soon_days`.
    #[serde(default)]
    pub due_soon: bool,
    pub flags: SummaryFlags,
    /// 推诿: transfers after the first.
    pub bounces: u32,
    /// 督办, when the county has chased the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervision: Option<Supervision>,
    /// 领导包案: the leader who answers for the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<domain::Leader>,
    /// What the case is to its accountable unit's queue until the unit acknowledges (签收) it:
    /// `returned` or `new` (absent for neither, once acknowledged, and for a case not open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<WorkMark>,
    /// 积案: the case's place among the cases of its category of one of its petitioners (1: the
    /// first; absent for a case registered before it was counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_rank: Option<u32>,
    /// 一案一策: the latest plan to resolve the case (absent when none was made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_plan: Option<ResolutionPlan>,
}

/// 一案一策: a case's plan to resolve it (`resolution-plan`), the latest one made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResolutionPlan {
    pub plan: String,
    /// The leader answering for it (the case's leader when the plan named none).
    pub leader: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub target_date: chrono::NaiveDate,
    /// Business time of the step.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The target date has passed while the case is open (by the clock of the answer).
    pub overdue: bool,
}

impl ResolutionPlan {
    /// A case's plan as of `now`.
    pub fn of(
        case: &domain::Case,
        now: Timestamp,
        policy: &domain::Policy,
    ) -> Option<ResolutionPlan> {
        case.resolution_plan.as_ref().map(|p| ResolutionPlan {
            plan: p.plan.clone(),
            leader: p.leader.clone(),
            target_date: p.target_date,
            at: p.at,
            overdue: case.plan_overdue(now, policy),
        })
    }
}

/// A mark of work in a queue (issue 34): what the accountable unit must look at first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkMark {
    /// 新到: its current accountability is not yet acknowledged (签收) by the unit.
    New,
    /// 退回/重办: it came back to the unit: reopened (重办), or accountable again for a unit
    /// that had it before (a transfer back).
    Returned,
}

impl WorkMark {
    /// The mark of an open case, from its record: none once the unit has acknowledged (签收)
    /// its current accountability.
    pub fn of(c: &domain::Case) -> Option<WorkMark> {
        if !c.status.is_open() || c.acknowledged.is_some() {
            return None;
        }
        let held_before = c
            .units
            .iter()
            .position(|u| *u == c.unit)
            .is_some_and(|i| i + 1 < c.units.len());
        if c.reopens > 0 || held_before {
            Some(WorkMark::Returned)
        } else if c.acknowledge_due_at.is_some() {
            Some(WorkMark::New)
        } else {
            None
        }
    }
}

/// 督办: how often a case was chased, the last date its unit committed to, and whether that date
/// has passed while the case is open (against the clock of the answer, like `overdue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Supervision {
    pub count: u32,
    #[schema(value_type = Option<String>, format = Date)]
    pub committed_date: Option<chrono::NaiveDate>,
    pub committed_overdue: bool,
}

/// The flags of a case summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SummaryFlags {
    pub collective: bool,
    pub cross_level: bool,
    pub repeat: bool,
    pub duplicate: bool,
    pub leader_reception: bool,
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

/// A page of case summaries, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    /// Where the next page starts; null on the last page.
    pub next_cursor: Option<String>,
}

/// The counts of a queue's open cases (`counts`: all of them, whatever the filters of the page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueCounts {
    pub open: u64,
    pub due_soon: u64,
    pub overdue: u64,
    /// Replied, waiting for follow-up and closure: no deadline runs (stage `awaiting_close`).
    pub awaiting_close: u64,
}

/// `GET /v1/queues/{unit}` and `GET /v1/workbench`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    /// The unit of a work queue (absent on the workbench).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub counts: QueueCounts,
    /// With the `flag` of a board, `supervised` (督办) or `leader` (领导包案), and no `stage`
    /// and no `unit` within a `township`: the counts of the open cases it selects, so the board
    /// counts its own. Absent for any other filter (`counts` are then the whole list's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching: Option<QueueCounts>,
    /// Soonest deadline first; replied cases (no deadline) last.
    pub items: Vec<CaseSummary>,
    /// Where the next page starts; null on the last page.
    pub next_cursor: Option<String>,
    /// On reads: the log position this answer reflects (0: as of a time before the first
    /// event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_seq: Option<u64>,
}

impl SummaryFlags {
    /// Each flag by its name, in the order of the names.
    pub fn named(&self) -> [(&'static str, bool); 12] {
        [
            ("backlog", self.backlog),
            ("bounced", self.bounced),
            ("collective", self.collective),
            ("cross_level", self.cross_level),
            ("duplicate", self.duplicate),
            ("escalated", self.escalated),
            ("first_petition", self.first_petition),
            ("late_entry", self.late_entry),
            ("leader_reception", self.leader_reception),
            ("repeat", self.repeat),
            ("supervised", self.supervised),
            ("unacknowledged", self.unacknowledged),
        ]
    }
}

/// `POST /v1/cases/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchCases {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(format = "cn-resident-id", nullable = false)]
    pub id_number: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(format = "cn-phone", nullable = false)]
    pub phone: Option<String>,
    /// With `phone`: tells people who share a phone apart.
    #[serde(
        default,
        deserialize_with = "string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(max_length = 100, nullable = false)]
    pub name: Option<String>,
}

/// A field that is a string when given: `null` is refused (leave the field out instead).
fn string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// An identifier field, a string when given: `null` and an empty string are refused (leave the field
/// out instead), as the OpenAPI document's formats say.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Err(serde::de::Error::custom(
            "expected a value, not an empty one (leave the field out instead)",
        ));
    }
    Ok(Some(s))
}

/// `POST /v1/cases/search` → 200.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Found {
    pub items: Vec<CaseSummary>,
    pub applied_seq: u64,
}

/// `POST /v1/cases/check` (查重): the parts of a registration's body that decide its flags.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRegistration {
    pub township: UnitCode,
    pub category: Category,
    pub petitioners: Vec<domain::command::Petitioner>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_case_id: Option<CaseId>,
}

/// `POST /v1/cases/check` → 200: exactly the flags a registration of that body would get now
/// (its earlier cases counted as registration counts them, whether or not the caller may see
/// them), and the earlier cases the caller may see.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Checked {
    /// 重复访: an earlier case of a petitioner on the same category (or a related case named).
    pub repeat: bool,
    /// 一信多投: an open case of a petitioner on the same category in another unit.
    pub duplicate: bool,
    /// 初信初访: no earlier case of the petitioners at all (and no related case named).
    pub first_petition: bool,
    /// The earlier cases of the petitioners the caller may see, newest first.
    pub earlier: Vec<CaseSummary>,
}
