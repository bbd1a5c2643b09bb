//! The events about the record rather than the handling: adjustments of the figures (核减) and
//! erasures of personal data.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{PrincipalId, UnitCode};
use crate::values::DocumentKind;

/// 出具文书: a document for a step of the case was numbered, once; every later print of it
/// carries the same number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentIssued {
    pub kind: DocumentKind,
    /// The stream sequence of the step's event.
    pub step_seq: u64,
    /// `<unit name>〔<year>〕<n>号`: `n` runs per issuing unit and year.
    pub document_no: String,
    /// The issuing unit.
    pub unit: UnitCode,
}

/// 核减 requested: remove the case from `measure` (every measure with `items`) once another
/// principal approves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentRequested {
    /// Derived from the case and this event's version ([`crate::adjustment::adjustment_id`]).
    #[schema(value_type = String, format = Uuid)]
    pub adjustment_id: uuid::Uuid,
    pub measure: String,
    pub reason: String,
    pub document_no: String,
    /// Who asked (also the envelope's actor): another principal must approve.
    #[schema(value_type = String)]
    pub requested_by: PrincipalId,
}

/// 核减 approved by a principal other than the requester: the adjusted figures leave the case
/// out of `measure` from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentApproved {
    #[schema(value_type = String, format = Uuid)]
    pub adjustment_id: uuid::Uuid,
    pub measure: String,
    #[schema(value_type = String)]
    pub approved_by: PrincipalId,
}

/// 核减 revoked (pending or approved): no figure leaves the case out for it any more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentRevoked {
    #[schema(value_type = String, format = Uuid)]
    pub adjustment_id: uuid::Uuid,
    pub measure: String,
    pub reason: String,
    #[schema(value_type = String)]
    pub revoked_by: PrincipalId,
}

/// 个人信息删除 requested: erase the case's personal data once another principal approves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PersonalDataErasureRequested {
    /// Derived from the case and this event's version ([`crate::erasure::erasure_id`]).
    #[schema(value_type = String, format = Uuid)]
    pub erasure_id: uuid::Uuid,
    pub reason: String,
    /// The petitioner's request (or the order) the erasure answers.
    pub request_ref: String,
    #[schema(value_type = String)]
    pub requested_by: PrincipalId,
}

/// 个人信息已删除: approved by a principal other than the requester; the case's data key is
/// destroyed, so the personal data its events hold sealed can no longer be read anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PersonalDataErased {
    #[schema(value_type = String, format = Uuid)]
    pub erasure_id: uuid::Uuid,
    pub reason: String,
    pub request_ref: String,
    #[schema(value_type = String)]
    pub requested_by: PrincipalId,
    #[schema(value_type = String)]
    pub approved_by: PrincipalId,
}
