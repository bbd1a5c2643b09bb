//! Response bodies. Personal data is included only where `domain::auth` says so.

use serde::Serialize;
use utoipa::ToSchema;

use domain::auth::can_see_personal_data;
use domain::command::Petitioner;
use domain::{
    Case, CaseId, Category, Channel, Level, Principal, Stage, Status, Timestamp, UnitCode,
};

/// `<Case>` of the contract.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    pub related_cases: Option<Vec<queries::cases::CaseSummary>>,
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
    pub supervision: Option<queries::cases::Supervision>,
    /// 领导包案: the leader who answers for the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader: Option<domain::Leader>,
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
    pub allowed_actions: Vec<String>,
    /// On reads: events on the case's subject in the log that are not facts (issue 30): forged
    /// (hash or signature), unsigned after the log was sealed, misfiled, or out of order (a
    /// replay); the case is shown as if they were absent. Empty for a case nobody tampered
    /// with; `GET /v1/cases/{id}/verify` tells more.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected_events: Vec<commands::RejectedEvent>,
    /// On reads: the log position this answer reflects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_seq: Option<u64>,
}

/// A case's flags as the API shows them (docs/rules.md, "Classifications"). Named `Flags` in the
/// OpenAPI document, as before it gained `leader_reception`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
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
}

impl CaseView {
    pub fn new(case: &Case, viewer: &Principal, now: Timestamp) -> Self {
        CaseView {
            case_id: case.id,
            case_no: case.case_no.clone(),
            township: case.township.clone(),
            township_name: case.township.to_string(),
            unit: case.unit.clone(),
            unit_name: case.unit.to_string(),
            status: case.status,
            channel: case.channel,
            headcount: case.headcount,
            level_reached: case.level_reached,
            category: case.category,
            summary: case.summary.clone(),
            received_at: case.received_at,
            due_at: case.due_at(),
            overdue: case.overdue(now),
            version: case.version,
            flags: CaseFlags {
                collective: case.flags.collective,
                cross_level: case.flags.cross_level,
                repeat: case.flags.repeat,
                duplicate: false,
                leader_reception: case.leader_reception,
                first_petition: case.first_petition,
                bounced: case.bounced,
                supervised: case.supervisions > 0,
            },
            bounces: case.bounces(),
            supervision: queries::cases::supervision_of(case, now),
            leader: case.leader.clone(),
            accusation: case.accusation,
            confidential: case.confidential,
            related_case_id: case.related_case_id,
            related_cases: None,
            links_unknown: None,
            merged_into: case.merged_into,
            reply: case.reply.clone(),
            follow_up: case.follow_up.clone(),
            review_request_due_at: case.review_request_due_at(),
            accused_unit: domain::auth::reads_county_wide(viewer)
                .then(|| case.accused_unit.clone())
                .flatten(),
            stage: case.stage(),
            attachments: case
                .attachments
                .iter()
                .map(|a| domain::case::Attachment {
                    filename: if can_see_personal_data(viewer, case) {
                        a.filename.clone()
                    } else {
                        String::new()
                    },
                    ..a.clone()
                })
                .collect(),
            units: case.units.clone(),
            extended: case.extended,
            review_level: case.review_level,
            petitioners: can_see_personal_data(viewer, case).then(|| case.petitioners.clone()),
            personal_data_erased: case.personal_data_erased(),
            allowed_actions: Vec::new(),
            rejected_events: Vec::new(),
            applied_seq: None,
        }
    }
}

/// `POST /v1/cases` → 201.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

/// `POST /v1/cases/{case_id}/{action}` → 200.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Applied {
    pub case_id: CaseId,
    pub version: u64,
    pub seq: u64,
    pub case: CaseView,
}

/// `GET /v1/cases/{case_id}/history`: the audit trail, in log order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct History {
    pub case_id: CaseId,
    pub events: Vec<queries::audit::AuditEvent>,
    pub applied_seq: u64,
}

/// `GET /v1/audit/actors/{principal_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorTrail {
    pub actor: String,
    pub events: Vec<queries::audit::AuditEvent>,
    pub applied_seq: u64,
}
