//! Deciding the erasure steps against a case: the request, and its approval by another
//! principal (what they are and how they change a case: `crate::erasure`).

use crate::case::Case;
use crate::command::{ApproveErasure, RequestErasure};
use crate::erasure::{erased_refusal, erasure_id, ErasureStatus};
use crate::error::DomainError;
use crate::event::{Event, PersonalDataErased, PersonalDataErasureRequested};
use crate::ids::PrincipalId;

pub(crate) fn request(
    case: &Case,
    c: &RequestErasure,
    by: &PrincipalId,
) -> Result<Event, DomainError> {
    if case.personal_data_erased() {
        return Err(erased_refusal());
    }
    if let Some(e) = case
        .erasures
        .iter()
        .find(|e| e.status == ErasureStatus::Pending)
    {
        let id = e.erasure_id;
        return Err(DomainError::Validation(crate::text!(
            "the case already has a pending erasure ({id}); approve it",
            "本案已有待批准的个人信息删除申请（{id}）"
        )));
    }
    Ok(Event::PersonalDataErasureRequested(
        PersonalDataErasureRequested {
            erasure_id: erasure_id(case.id, case.version + 1),
            reason: super::text("reason", &c.reason)?,
            request_ref: super::text("request_ref", &c.request_ref)?,
            requested_by: by.clone(),
        },
    ))
}

pub(crate) fn approve(
    case: &Case,
    c: &ApproveErasure,
    by: &PrincipalId,
) -> Result<Event, DomainError> {
    let id = c.erasure_id;
    let e = case
        .erasures
        .iter()
        .find(|e| e.erasure_id == id)
        .ok_or_else(|| {
            DomainError::Validation(crate::text!(
                "erasure {id} is not an erasure of this case",
                "{id} 不是本案的个人信息删除申请"
            ))
        })?;
    if e.status != ErasureStatus::Pending {
        return Err(DomainError::Validation(crate::text!(
            "erasure {id} is already approved",
            "个人信息删除申请 {id} 已批准"
        )));
    }
    // Nobody erases alone, as nobody adjusts a figure alone.
    if e.requested_by.same_as(by) {
        return Err(DomainError::Forbidden(crate::text!(
            "an erasure is approved by another principal than the one who requested it",
            "个人信息删除须由申请人以外的人员批准"
        )));
    }
    Ok(Event::PersonalDataErased(PersonalDataErased {
        erasure_id: id,
        reason: e.reason.clone(),
        request_ref: e.request_ref.clone(),
        requested_by: e.requested_by.clone(),
        approved_by: by.clone(),
    }))
}
