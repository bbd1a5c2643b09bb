//! 核减 (statistic adjustment, domain.md "Counting, round 2"): a county principal asks that a case
//! be removed from one assessed figure (or, with `items`, from every figure), giving the reason and
//! the document that decided it; it takes effect only when a *different* county or auditor
//! principal approves it, and either of them may revoke it later. Each step is an event on the
//! case's subject, so the case's history shows who adjusted which figure, on what authority.
//!
//! The adjustment steps are about the figures, not the handling: they neither change the case's
//! status nor its business clock (`last_occurred_at`), so a township's late, backdated step after
//! an adjustment is taken as before.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::case::Case;
use crate::command::{ApproveAdjustment, RequestAdjustment, RevokeAdjustment};
use crate::error::DomainError;
use crate::event::{AdjustmentApproved, AdjustmentRequested, AdjustmentRevoked, Event};
use crate::ids::{CaseId, PrincipalId};
use crate::policy::Timestamp;

/// The figures a case can be removed from: every count of `<Measures>` and `open_overdue`
/// ([`crate::measures::adjustable`]). `items` removes the case from every measure.
pub use crate::measures::adjustable;

/// Where an adjustment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentStatus {
    /// Requested; no figure changes until another principal approves it.
    Pending,
    /// In force: the adjusted figures leave the case out of its measure.
    Approved,
    /// Revoked (pending or approved before): no figure changes.
    Revoked,
}

impl AdjustmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AdjustmentStatus::Pending => "pending",
            AdjustmentStatus::Approved => "approved",
            AdjustmentStatus::Revoked => "revoked",
        }
    }
}

/// An adjustment of a case, as its events left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Adjustment {
    #[schema(value_type = String, format = Uuid)]
    pub adjustment_id: uuid::Uuid,
    pub measure: String,
    pub reason: String,
    pub document_no: String,
    pub status: AdjustmentStatus,
    pub requested_by: PrincipalId,
    #[serde(with = "crate::stamp")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: Timestamp,
    /// The case version of the request.
    pub version: u64,
    pub approved_by: Option<PrincipalId>,
    #[serde(with = "crate::stamp::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<Timestamp>,
    pub revoked_by: Option<PrincipalId>,
    #[serde(with = "crate::stamp::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    pub revoke_reason: Option<String>,
}

impl Adjustment {
    /// Whether this adjustment (pending or approved) removes the case from `measure`.
    fn covers(&self, measure: &str) -> bool {
        self.status != AdjustmentStatus::Revoked
            && (self.measure == measure || self.measure == "items" || measure == "items")
    }
}

/// The id of the adjustment requested by the event that makes `version` of `case`: known before
/// the event is written, the same when a request is retried, unique in the log.
pub fn adjustment_id(case: CaseId, version: u64) -> uuid::Uuid {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"adjustment");
    h.update(case.0.as_bytes());
    h.update(version.to_be_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&h.finalize()[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

fn find(case: &Case, id: uuid::Uuid) -> Result<&Adjustment, DomainError> {
    case.adjustments
        .iter()
        .find(|a| a.adjustment_id == id)
        .ok_or_else(|| {
            DomainError::Validation(crate::text!(
                "adjustment {id} is not an adjustment of this case",
                "核减 {id} 不是本案的核减"
            ))
        })
}

pub(crate) fn request(
    case: &Case,
    c: &RequestAdjustment,
    by: &PrincipalId,
) -> Result<Event, DomainError> {
    let measure = c.measure.trim();
    if !adjustable(measure) {
        let known = crate::measures::COUNTS.join(", ") + ", " + crate::measures::OPEN_OVERDUE;
        return Err(DomainError::Validation(crate::text!(
            "measure: expected a count measure ({known})",
            "measure：应为计数指标之一（{known}）"
        )));
    }
    if let Some(a) = case.adjustments.iter().find(|a| a.covers(measure)) {
        let (id, m, s, zh) = (
            a.adjustment_id,
            &a.measure,
            a.status.as_str(),
            if a.status == AdjustmentStatus::Pending {
                "待批准"
            } else {
                "已生效"
            },
        );
        return Err(DomainError::Validation(crate::text!(
            "the case already has an adjustment of {m} ({id}, {s}); revoke it first",
            "本案已有 {m} 的核减（{id}，{zh}），须先撤销"
        )));
    }
    Ok(Event::AdjustmentRequested(AdjustmentRequested {
        adjustment_id: adjustment_id(case.id, case.version + 1),
        measure: measure.to_owned(),
        reason: crate::decide::text("reason", &c.reason)?,
        document_no: crate::decide::text("document_no", &c.document_no)?,
        requested_by: by.clone(),
    }))
}

pub(crate) fn approve(
    case: &Case,
    c: &ApproveAdjustment,
    by: &PrincipalId,
) -> Result<Event, DomainError> {
    let a = find(case, c.adjustment_id)?;
    if a.status != AdjustmentStatus::Pending {
        let (id, s) = (a.adjustment_id, a.status.as_str());
        return Err(DomainError::Validation(crate::text!(
            "adjustment {id} is {s}; only a pending adjustment is approved",
            "核减 {id} 的状态为 {s}，只能批准待批准的核减"
        )));
    }
    // Nobody adjusts a figure alone (domain.md, 核减).
    if a.requested_by.same_as(by) {
        return Err(DomainError::Forbidden(crate::text!(
            "an adjustment is approved by another principal than the one who requested it",
            "核减须由申请人以外的人员批准"
        )));
    }
    Ok(Event::AdjustmentApproved(AdjustmentApproved {
        adjustment_id: a.adjustment_id,
        measure: a.measure.clone(),
        approved_by: by.clone(),
    }))
}

pub(crate) fn revoke(
    case: &Case,
    c: &RevokeAdjustment,
    by: &PrincipalId,
) -> Result<Event, DomainError> {
    let a = find(case, c.adjustment_id)?;
    if a.status == AdjustmentStatus::Revoked {
        let id = a.adjustment_id;
        return Err(DomainError::Validation(crate::text!(
            "adjustment {id} is already revoked",
            "核减 {id} 已撤销"
        )));
    }
    Ok(Event::AdjustmentRevoked(AdjustmentRevoked {
        adjustment_id: a.adjustment_id,
        measure: a.measure.clone(),
        reason: crate::decide::text("reason", &c.reason)?,
        revoked_by: by.clone(),
    }))
}

/// `evolve` of the adjustment events.
pub(crate) fn evolve(case: &mut Case, event: &Event, at: Timestamp) {
    fn find(case: &mut Case, id: uuid::Uuid) -> Option<&mut Adjustment> {
        case.adjustments.iter_mut().find(|a| a.adjustment_id == id)
    }
    match event {
        Event::AdjustmentRequested(e) => case.adjustments.push(Adjustment {
            adjustment_id: e.adjustment_id,
            measure: e.measure.clone(),
            reason: e.reason.clone(),
            document_no: e.document_no.clone(),
            status: AdjustmentStatus::Pending,
            requested_by: e.requested_by.clone(),
            requested_at: at,
            version: case.version,
            approved_by: None,
            approved_at: None,
            revoked_by: None,
            revoked_at: None,
            revoke_reason: None,
        }),
        Event::AdjustmentApproved(e) => {
            if let Some(a) = find(case, e.adjustment_id) {
                a.status = AdjustmentStatus::Approved;
                a.approved_by = Some(e.approved_by.clone());
                a.approved_at = Some(at);
            }
        }
        Event::AdjustmentRevoked(e) => {
            if let Some(a) = find(case, e.adjustment_id) {
                a.status = AdjustmentStatus::Revoked;
                a.revoked_by = Some(e.revoked_by.clone());
                a.revoked_at = Some(at);
                a.revoke_reason = Some(e.reason.clone());
            }
        }
        _ => {}
    }
}
