//! Audit trails: every event of a case in log order, and everything one principal did across
//! cases by day. Stored with personal data (the API filters it per role when answering).
//!
//! The per-actor index is keyed by the day the event was *recorded* (policy time zone): what an
//! official did in the system on a day, whatever business time they entered.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::{CaseId, Policy, Timestamp};
use eventlog::{Actor, Stored};

use crate::{Projection, ProjectionError, Store, StoreError, Tx};

pub struct Audit {
    pub policy: Policy,
}

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

/// `e/<case>/<seq>`: the event in its case's trail.
fn case_entry_key(case: CaseId, seq: u64) -> String {
    format!("e/{case}/{seq:020}")
}

fn actor_prefix(actor: &str) -> String {
    // Principal ids are free text; hex keeps one id's keys from being a prefix of another's.
    format!("a/{}/", hex::encode(actor))
}

impl Projection for Audit {
    fn name(&self) -> &'static str {
        "audit"
    }

    /// 2: the actor index holds the key of the case entry, not a second copy of the event.
    fn version(&self) -> u32 {
        2
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        let a = AuditEvent::from_stored(event);
        let day = self.policy.local_date(a.recorded_at);
        let entry = case_entry_key(a.case_id, a.seq);
        tx.put_bytes(
            format!("{}{day}/{:020}", actor_prefix(&a.actor.id.0), a.seq),
            entry.clone().into_bytes(),
        );
        tx.put_bytes(entry, serde_json::to_vec(&a).unwrap_or_default());
        Ok(())
    }
}

pub fn case_history(store: &Store, case: CaseId) -> Result<Vec<AuditEvent>, StoreError> {
    Ok(store
        .scan::<AuditEvent>(&format!("e/{case}/"))?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

/// Events recorded by `actor` on days `from..=to`, in log order within each day.
pub fn actor_events(
    store: &Store,
    actor: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<AuditEvent>, StoreError> {
    let p = actor_prefix(actor);
    let mut events = Vec::new();
    for (_, entry) in store.range_raw(&format!("{p}{from}"), &format!("{p}{to}/\u{10FFFF}"))? {
        let key = String::from_utf8_lossy(&entry).into_owned();
        if let Some(e) = store.get::<AuditEvent>(&key)? {
            events.push(e);
        }
    }
    events.sort_by_key(|e| e.seq);
    Ok(events)
}
