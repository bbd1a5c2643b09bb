//! The answer of a case's history and an official's trail: events as the audit trail shows them.

use serde::{Deserialize, Serialize};

use domain::{CaseId, Timestamp};
use eventlog::{Actor, Stored};

/// One event as the audit trail shows it (api-contract.md, history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
}

impl AuditEvent {
    pub fn from_stored(s: &Stored) -> AuditEvent {
        let e = &s.envelope;
        let data = serde_json::to_value(&e.event)
            .ok()
            .and_then(|mut v| v.get_mut("data").map(serde_json::Value::take))
            .unwrap_or_default();
        AuditEvent {
            case_id: e.case_id,
            seq: s.seq,
            version: e.version,
            type_: e.event.type_name().into(),
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            actor: e.actor.clone(),
            data,
        }
    }
}

impl AuditEvent {
    /// The event without personal data, for a reader not entitled to it.
    pub fn redact_personal_data(&mut self) {
        domain::personal::redact_event_json(&mut self.data);
    }
}
