//! Events as the audit trail shows them: a case's history, an official's trail, and the feed's
//! messages (`xf.feed.<unit>.<case_id>`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::{CaseId, Principal, PrincipalId, Role, Timestamp, UnitCode};

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub id: PrincipalId,
    pub role: Role,
    pub unit: Option<UnitCode>,
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Actor {
            id: p.id.clone(),
            role: p.role,
            unit: p.unit.clone(),
        }
    }
}

/// One event as the audit trail shows it (docs/contract.md, "HTTP").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub case_id: CaseId,
    pub seq: u64,
    pub version: u64,
    #[serde(rename = "type")]
    pub type_: String,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
    pub actor: Actor,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Envelope v2: the hash of the case's previous event (absent on its first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// The event's hash in the chain: of its content for an envelope v2, of its stored bytes for
    /// an event written before (the genesis rule, docs/events.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Envelope v2: the key `sig` was made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Envelope v2: the Ed25519 signature of `hash` (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    /// 补录: the step was entered late (its envelope's `late_entry`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late_entry: bool,
    /// 补录: on time by its business date, recorded after its deadline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_time_by_late_entry: bool,
    /// 补录: the reason the step's body gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
    /// An official's trail: the number of the event's case (its registration's `case_no`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_no: Option<String>,
    /// A review of an alert (研判, `AlertReviewed`): the alert's id, which fills the case slot
    /// (`case_id` holds it too); absent on a case's event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub alert_id: Option<uuid::Uuid>,
}

/// `GET /v1/cases/{case_id}/history`: the audit trail, in log order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct History {
    pub case_id: CaseId,
    pub events: Vec<AuditEvent>,
    pub applied_seq: u64,
}

/// `GET /v1/audit/actors/{principal_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActorTrail {
    pub actor: String,
    pub events: Vec<AuditEvent>,
    pub applied_seq: u64,
}
