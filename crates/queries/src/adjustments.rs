//! 核减 as the statistics model keeps them (`j/<adjustment id>`): what `GET /v1/adjustments`
//! lists, what `adjusted=true` applies, and what approving or revoking one looks up.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::adjustment::{Adjustment, AdjustmentStatus};
use domain::{Case, Timestamp};

/// The case of an adjustment, as a record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRef {
    pub case_id: uuid::Uuid,
    pub case_no: String,
    /// The day received (policy time zone).
    pub received_date: NaiveDate,
    pub township: String,
}

impl CaseRef {
    pub fn new(case: &Case, received_date: NaiveDate) -> CaseRef {
        CaseRef {
            case_id: case.id.0,
            case_no: case.case_no.clone(),
            received_date,
            township: case.township.to_string(),
        }
    }
}

/// One adjustment with the case and the figures it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdjustmentRecord {
    #[schema(value_type = String, format = Uuid)]
    pub adjustment_id: uuid::Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: uuid::Uuid,
    pub case_no: String,
    /// The day the case was received (policy time zone): the period whose figures it adjusts.
    #[schema(value_type = String, format = Date)]
    pub received_date: NaiveDate,
    pub township: String,
    /// A count measure, `open_overdue`, or `items` (every measure).
    pub measure: String,
    /// Free text that may name people: given to the county and auditors, left out of reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub document_no: String,
    pub status: AdjustmentStatus,
    pub requested_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: Timestamp,
    pub approved_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// Free text, as `reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_reason: Option<String>,
}

impl AdjustmentRecord {
    /// Without its free text, as a report lists it.
    pub fn without_text(self) -> AdjustmentRecord {
        AdjustmentRecord {
            reason: None,
            revoke_reason: None,
            ..self
        }
    }

    pub fn new(case: &CaseRef, a: &Adjustment) -> AdjustmentRecord {
        AdjustmentRecord {
            adjustment_id: a.adjustment_id,
            case_id: case.case_id,
            case_no: case.case_no.clone(),
            received_date: case.received_date,
            township: case.township.clone(),
            measure: a.measure.clone(),
            reason: Some(a.reason.clone()),
            document_no: a.document_no.clone(),
            status: a.status,
            requested_by: a.requested_by.to_string(),
            requested_at: a.requested_at,
            approved_by: a.approved_by.as_ref().map(ToString::to_string),
            approved_at: a.approved_at,
            revoked_by: a.revoked_by.as_ref().map(ToString::to_string),
            revoked_at: a.revoked_at,
            revoke_reason: a.revoke_reason.clone(),
        }
    }
}

/// `GET /v1/adjustments?from&to`: the adjustments of cases received in the period, every status.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdjustmentList {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub items: Vec<AdjustmentRecord>,
}
