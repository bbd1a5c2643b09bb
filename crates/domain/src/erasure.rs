//! Erasure of a case's personal data (PIPL; docs/contract.md, "HTTP"): a county
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

use crate::error::DomainError;
use crate::event::Event;
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

impl ErasureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureStatus::Pending => "pending",
            ErasureStatus::Erased => "erased",
        }
    }
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

/// The refusal of a step that would bring personal data into an erased case.
pub fn erased_refusal() -> DomainError {
    DomainError::Validation(crate::text!(
        "the personal data of this case has been erased; no step may record personal data in it again",
        "本案的个人信息已删除，不能再记录个人信息"
    ))
}

/// `evolve` of the erasure events.
/// (What an erasure does to the rest of the case is the case's `evolve`.)
pub(crate) fn evolve(erasures: &mut Vec<Erasure>, event: &Event, at: Timestamp) {
    match event {
        Event::PersonalDataErasureRequested(e) => erasures.push(Erasure {
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
            if let Some(x) = erasures.iter_mut().find(|x| x.erasure_id == e.erasure_id) {
                x.status = ErasureStatus::Erased;
                x.approved_by = Some(e.approved_by.clone());
                x.approved_at = Some(at);
            }
        }
        _ => {}
    }
}
