//! The events of the closed loop of a petition (issue 33: 签收, 催办, 重办), of the plan of an
//! old case (issue 35: 一案一策) and of the review of an alert (issue 35: 研判).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::UnitCode;
use crate::policy::Timestamp;

/// 签收: the accountable unit confirmed it has the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseAcknowledged {
    pub unit: UnitCode,
    /// By the limit of the accountability (always, for one started before issue 33).
    pub on_time: bool,
}

/// 催办: the county reminded the accountable unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseReminded {
    /// The unit reminded (accountable at the time).
    pub unit: UnitCode,
    pub note: String,
}

/// 重办: after a dissatisfied follow-up the case is handled again by `unit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseReopened {
    pub reason: String,
    pub unit: UnitCode,
    pub from_unit: UnitCode,
    /// The reply deadline of the re-handling (`due_date`, or rehandle_days).
    #[schema(value_type = String, format = DateTime)]
    pub reply_due_at: Timestamp,
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

/// 一案一策: the county's plan to resolve a case, with the leader answering for it and the date
/// it should be resolved by; a later plan replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResolutionPlanned {
    pub plan: String,
    /// The leader answering for the plan (the case's leader when none was named; absent when
    /// the case has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub target_date: chrono::NaiveDate,
}

/// 研判: the county's assessment of an alert and what it will do, on the alert's own subject
/// (`xf.events.<township>.<alert_id>`: the alert's id fills the case slot, the envelope's
/// `version` counts the alert's reviews). The latest review holds. No case is changed by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertReviewed {
    /// What the alert is, as it was raised (its id is a hash of these, its township and its
    /// first day).
    pub kind: crate::alerts::AlertKind,
    pub category: crate::values::Category,
    pub assessment: String,
    pub plan: String,
}
