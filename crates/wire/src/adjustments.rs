//! 核减 (adjustments) as the API lists them (`GET /v1/adjustments`, a report's `adjustments`),
//! and the bodies and answers of their steps.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::adjustment::AdjustmentStatus;
use domain::Timestamp;

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

/// `POST /v1/adjustments`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdjustment {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: uuid::Uuid,
    /// A count measure of `Measures`, `open_overdue`, or `items` (every measure).
    pub measure: String,
    pub reason: String,
    /// The document that decided it (文号).
    pub document_no: String,
}

/// `POST /v1/adjustments/{id}/revoke`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    pub reason: String,
}

/// The answer to a step of an adjustment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdjustmentStep {
    #[schema(value_type = String, format = Uuid)]
    pub adjustment_id: uuid::Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: uuid::Uuid,
    pub measure: String,
    pub status: AdjustmentStatus,
    /// The case's version after the step.
    pub version: u64,
    /// The log sequence of the step: `min_seq` for a read that must show it.
    pub seq: u64,
}
