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
}

/// Apply one event. `occurred_at` is the event's business time, from its envelope.
pub fn evolve(
    state: Option<Case>,
    id: CaseId,
    event: &Event,
    occurred_at: Timestamp,
) -> Result<Case, EvolveError> {
    let mut case = match (state, event) {
        (None, Event::CaseRegistered(e)) => {
            // An accusation against the township of the matter is held by the county from the
            // start: the township is never among the units that may read it.
            let unit = event.accountable_unit().unwrap_or(&e.township).clone();
            return Ok(Case {
                id,
                case_no: e.case_no.clone(),
                township: e.township.clone(),
                unit: unit.clone(),
                units: vec![unit],
                status: Status::Registered,
                channel: e.channel,
                headcount: e.headcount,
                level_reached: e.level_reached,
                category: e.category,
                summary: e.summary.clone(),
                received_at: e.received_at,
                registered_at: e.received_at,
                petitioners: e.petitioners.clone(),
                related_case_id: e.related_case_id,
                accusation: e.accusation,
                confidential: e.confidential,
                accused_unit: e.accused_unit.clone(),
                flags: e.flags,
                leader_reception: e.leader_reception,
                version: 1,
                last_occurred_at: occurred_at,
                accept_due_at: e.accept_due_at,
                accepted_at: None,
                reply_due_at: None,
                extended: false,
                replied_at: None,
                reply_on_time: None,
                request_window_until: None,
                review_level: 0,
                decision_due_at: None,
                reply: None,
                follow_up: None,
                first_petition: e.first_petition,
                merged_into: None,
                transfers: 0,
                bounced: false,
                supervisions: 0,
                committed_at: None,
                leader: None,
                attachments: Vec::new(),
                adjustments: Vec::new(),
                erasures: Vec::new(),
            });
        }
        (Some(_), Event::CaseRegistered(_)) => return Err(EvolveError::RegisteredTwice),
        (None, e) => return Err(EvolveError::NotRegistered(e.type_name())),
        (Some(case), _) => case,
    };
    case.version += 1;
    if event.is_adjustment() {
        crate::adjustment::evolve(&mut case.adjustments, case.version, event, occurred_at);
        return Ok(case);
    }
    if event.is_erasure() {
        crate::erasure::evolve(&mut case.erasures, event, occurred_at);
        if matches!(event, Event::PersonalDataErased(_)) {
            // What the log no longer reveals, the case no longer holds.
            crate::PersonalData::redact_personal_data(&mut case);
            if case.accusation {
                case.summary.clear();
            }
        }
        return Ok(case);
    }
    case.last_occurred_at = occurred_at;
    match event {
        Event::CaseRegistered(_) => {}
        Event::CaseAccepted(e) => {
            case.status = Status::Accepted;
            case.accepted_at = Some(occurred_at);
            case.reply_due_at = Some(e.reply_due_at);
        }
        Event::CaseRejected(_) => case.status = Status::Rejected,
        Event::CaseAssigned(e) => {
            // Before acceptance the case stays to be accepted, by its new unit.
            if case.status != Status::Registered {
                case.status = Status::Assigned;
            }
            if let Some(due) = e.due_at {
                case.reply_due_at = Some(due);
            }
        }
        Event::CaseTransferred(e) => {
            if case.status != Status::Registered {
                case.status = Status::Assigned;
            }
            case.transfers += 1;
            case.bounced |= e.bounced;
        }
        Event::CaseSupervised(e) => {
            case.supervisions += 1;
            if let Some(due) = e.due_at {
                case.reply_due_at = Some(due);
                case.committed_at = Some(due);
            }
        }
        Event::DeadlineExtended(e) => {
            case.extended = true;
            case.reply_due_at = Some(e.due_at);
        }
        Event::CaseReplied(e) => {
            case.status = Status::Replied;
            case.reply = Some(Reply {
                unit: e.unit.clone(),
                outcome: e.outcome,
                text: e.text.clone(),
                at: occurred_at,
            });
            case.replied_at = Some(occurred_at);
            case.reply_on_time = Some(e.on_time);
            case.request_window_until = Some(e.review_request_until);
        }
        Event::FollowUpRecorded(e) => {
            case.follow_up = Some(FollowUp {
                satisfaction: e.satisfaction,
                at: occurred_at,
            })
        }
        Event::CaseClosed(_) => case.status = Status::Closed,
        Event::ReviewRequested(e) => {
            case.status = if e.level <= 1 {
                Status::UnderReview
            } else {
                Status::UnderRereview
            };
            case.decision_due_at = Some(e.decision_due_at);
            case.request_window_until = None;
        }
        Event::ReviewDecided(e) => {
            case.review_level = e.level;
            case.decision_due_at = None;
            case.request_window_until = e.rereview_request_until;
            case.status = if e.level <= 1 {
                Status::Closed
            } else {
                Status::Terminated
            };
        }
        Event::CaseMerged(e) => {
            case.status = Status::Merged;
            case.merged_into = Some(e.into);
        }
        Event::LeaderAssigned(e) => {
            case.leader = Some(Leader {
                name: e.name.clone(),
                title: e.title.clone(),
            });
        }
        Event::RegistrationCorrected(e) => {
            let a = &e.after;
            if let Some(t) = &a.township {
                case.township = t.clone();
            }
            if let Some(x) = a.channel {
                case.channel = x;
            }
            if let Some(x) = a.received_at {
                case.received_at = x;
            }
            if let Some(x) = a.headcount {
                case.headcount = x;
            }
            if let Some(x) = a.level_reached {
                case.level_reached = x;
            }
            if let Some(x) = a.category {
                case.category = x;
            }
            if let Some(x) = &a.summary {
                case.summary = x.clone();
            }
            if let Some(x) = &a.petitioners {
                case.petitioners = x.clone();
            }
            if let Some(x) = a.leader_reception {
                case.leader_reception = x;
            }
            case.flags = e.flags;
            case.first_petition = e.first_petition;
            case.accept_due_at = e.accept_due_at;
        }
        Event::CaseWithdrawn(_) => case.status = Status::Withdrawn,
        Event::AttachmentAdded(e) => case.attachments.push(Attachment {
            attachment_id: e.attachment_id,
            sha256: e.sha256.clone(),
            size: e.size,
            content_type: e.content_type.clone(),
            filename: e.filename.clone(),
            at: occurred_at,
        }),
        Event::AdjustmentRequested(_)
        | Event::AdjustmentApproved(_)
        | Event::AdjustmentRevoked(_)
        | Event::PersonalDataErasureRequested(_)
        | Event::PersonalDataErased(_) => {}
    }
    if let Some(unit) = event.accountable_unit() {
        set_unit(&mut case, unit);
    }
    Ok(case)
}

fn set_unit(case: &mut Case, unit: &UnitCode) {
    case.unit = unit.clone();
    if !case.units.contains(unit) {
        case.units.push(unit.clone());
    }
}
