//! 核减 as the statistics model keeps them (`j/<adjustment id>`): what `GET /v1/adjustments`
//! lists, what `adjusted=true` applies, and what approving or revoking one looks up.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::adjustment::Adjustment;
use domain::Case;
use wire::adjustments::AdjustmentRecord;

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

/// The record of adjustment `a` of `case`.
pub fn record_of(case: &CaseRef, a: &Adjustment) -> AdjustmentRecord {
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
