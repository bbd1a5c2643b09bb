//! Erasure of a case's personal data (PIPL; api-contract.md "Round 2: integrity"): a county
//! principal asks for it with the reason and the request it answers, a *different* county or
//! auditor principal approves it, and the approval is the event `PersonalDataErased`, after which
//! the command path destroys the case's data key (crypto-shredding, `eventlog::vault`). The case
//! record itself stays: petition archives are kept (docs/operations.md, "Retention").
//!
//! Like the adjustments, the erasure steps are about the record, not the handling: they change
//! neither the status nor the business clock. After the erasure no command may bring personal
//! data back into the case (a correction of its petitioners, evidence).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::case::Case;
use crate::command::{ApproveErasure, RequestErasure};
use crate::error::DomainError;
use crate::event::{Event, PersonalDataErased, PersonalDataErasureRequested};
use crate::ids::{CaseId, PrincipalId};
use crate::policy::Timestamp;

/// Where an erasure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    /// Requested; nothing is erased until another principal approves it.
    Pending,
    /// Approved: the personal data is erased.
    Erased,
}

/// An erasure of a case, as its events left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Erasure {
    #[schema(value_type = String, format = Uuid)]
    pub erasure_id: uuid::Uuid,
    pub reason: String,
    /// The petitioner's request (or order) it answers.
    pub request_ref: String,
    pub status: ErasureStatus,
    #[schema(value_type = String)]
    pub requested_by: PrincipalId,
    #[serde(with = "crate::stamp")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub approved_by: Option<PrincipalId>,
    #[serde(with = "crate::stamp::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<Timestamp>,
}

/// The id of the erasure requested by the event that makes `version` of `case` (known before
/// the event is written, the same when the request is retried).
pub fn erasure_id(case: CaseId, version: u64) -> uuid::Uuid {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"erasure");
    h.update(case.0.as_bytes());
    h.update(version.to_be_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&h.finalize()[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Whether the case's personal data has been erased.
pub fn is_erased(case: &Case) -> bool {
    case.erasures
        .iter()
        .any(|e| e.status == ErasureStatus::Erased)
}

/// The refusal of a step that would bring personal data into an erased case.
pub fn erased_refusal() -> DomainError {
    DomainError::Validation(crate::text!(
        "the personal data of this case has been erased; no step may record personal data in it again",
        "本案的个人信息已删除，不能再记录个人信息"
    ))
}

pub(crate) fn request(
    case: &Case,
    c: &RequestErasure,
    by: &PrincipalId,
) -> Result<Event, DomainError> {
    if is_erased(case) {
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
            reason: crate::decide::text("reason", &c.reason)?,
            request_ref: crate::decide::text("request_ref", &c.request_ref)?,
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

/// `evolve` of the erasure events.
pub(crate) fn evolve(case: &mut Case, event: &Event, at: Timestamp) {
    match event {
        Event::PersonalDataErasureRequested(e) => case.erasures.push(Erasure {
            erasure_id: e.erasure_id,
            reason: e.reason.clone(),
            request_ref: e.request_ref.clone(),
            status: ErasureStatus::Pending,
            requested_by: e.requested_by.clone(),
            requested_at: at,
            approved_by: None,
            approved_at: None,
        }),
        Event::PersonalDataErased(e) => {
            if let Some(x) = case
                .erasures
                .iter_mut()
                .find(|x| x.erasure_id == e.erasure_id)
            {
                x.status = ErasureStatus::Erased;
                x.approved_by = Some(e.approved_by.clone());
                x.approved_at = Some(at);
            }
            // What the log no longer reveals, the case no longer holds.
            crate::PersonalData::redact_personal_data(case);
            if case.accusation {
                case.summary.clear();
            }
        }
        _ => {}
    }
}
