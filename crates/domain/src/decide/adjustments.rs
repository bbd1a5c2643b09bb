//! Deciding the adjustment steps (核减) against a case: request, approval by another principal,
//! revocation (what they are and how they change a case: `crate::adjustment`).

use crate::adjustment::{adjustable, adjustment_id, Adjustment, AdjustmentStatus};
use crate::case::Case;
use crate::command::{ApproveAdjustment, RequestAdjustment, RevokeAdjustment};
use crate::error::DomainError;
use crate::event::{AdjustmentApproved, AdjustmentRequested, AdjustmentRevoked, Event};
use crate::ids::PrincipalId;

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
        reason: super::text("reason", &c.reason)?,
        document_no: super::text("document_no", &c.document_no)?,
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
    // Nobody adjusts a figure alone (docs/rules.md, "核减 (adjustments)").
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
        reason: super::text("reason", &c.reason)?,
        revoked_by: by.clone(),
    }))
}
