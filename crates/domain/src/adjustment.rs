//! 核减 (statistic adjustment, docs/rules.md, "核减 (adjustments)"): a county principal asks that a case
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

use crate::event::Event;
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
    pub(crate) fn covers(&self, measure: &str) -> bool {
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

/// `evolve` of the adjustment events.
/// `version` is the case's version with the event applied.
pub(crate) fn evolve(
    adjustments: &mut Vec<Adjustment>,
    version: u64,
    event: &Event,
    at: Timestamp,
) {
    fn find(all: &mut [Adjustment], id: uuid::Uuid) -> Option<&mut Adjustment> {
        all.iter_mut().find(|a| a.adjustment_id == id)
    }
    match event {
        Event::AdjustmentRequested(e) => adjustments.push(Adjustment {
            adjustment_id: e.adjustment_id,
            measure: e.measure.clone(),
            reason: e.reason.clone(),
            document_no: e.document_no.clone(),
            status: AdjustmentStatus::Pending,
            requested_by: e.requested_by.clone(),
            requested_at: at,
            version,
            approved_by: None,
            approved_at: None,
            revoked_by: None,
            revoked_at: None,
            revoke_reason: None,
        }),
        Event::AdjustmentApproved(e) => {
            if let Some(a) = find(adjustments, e.adjustment_id) {
                a.status = AdjustmentStatus::Approved;
                a.approved_by = Some(e.approved_by.clone());
                a.approved_at = Some(at);
            }
        }
        Event::AdjustmentRevoked(e) => {
            if let Some(a) = find(adjustments, e.adjustment_id) {
                a.status = AdjustmentStatus::Revoked;
                a.revoked_by = Some(e.revoked_by.clone());
                a.revoked_at = Some(at);
                a.revoke_reason = Some(e.reason.clone());
            }
        }
        _ => {}
    }
}
