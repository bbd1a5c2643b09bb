//! The answer of a case's history and an official's trail: events as the audit trail shows them.

use serde::{Deserialize, Serialize};

use eventlog::Stored;

/// Which day an official's trail selects events by: the day they were recorded (the default) or
/// the day they occurred (business time, which a late entry backdates).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrailDate {
    #[default]
    Recorded,
    Occurred,
}

use wire::audit::AuditEvent;

/// An event of the log as the audit trail shows it.
pub fn event_of(s: &Stored) -> AuditEvent {
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
        prev_hash: e.prev_hash.clone(),
        hash: Some(integrity::to_hex(&s.chain_hash())),
        key_id: e.key_id.clone(),
        sig: e.sig.clone(),
        late_entry: e.late_entry,
        on_time_by_late_entry: e.on_time_by_late_entry,
        late_reason: e.late_reason.clone(),
        case_no: None,
        alert_id: e.event.is_alert().then_some(e.case_id.0),
    }
}

/// Put back the personal data of the event as the log holds it (`stored`, the same event), for a
/// reader entitled to it: trails are kept without it.
pub fn restore_personal_data(event: &mut AuditEvent, stored: &Stored) {
    let full = event_of(stored);
    domain::personal::restore_event_json(&mut event.data, &full.data);
}

/// The event without the summary it may carry (a registration's, a correction's before and
/// after), for a feed of an accusation.
pub fn redact_summary(event: &mut AuditEvent) {
    if let Some(o) = event.data.as_object_mut() {
        o.remove("summary");
        for side in ["before", "after"] {
            if let Some(inner) = o.get_mut(side).and_then(|v| v.as_object_mut()) {
                inner.remove("summary");
            }
        }
    }
}

/// The event without personal data, for a reader not entitled to it.
pub fn redact_personal_data(event: &mut AuditEvent) {
    domain::personal::redact_event_json(&mut event.data);
}

#[cfg(test)]
mod tests {
    use super::TrailDate;
    use crate::Query;

    /// An official's trail names the day it selects by, as the HTTP parameter does
    /// (`date=recorded|occurred`); a query without it selects by the day recorded.
    #[test]
    fn a_trail_query_names_its_day_and_defaults_to_recorded() {
        let asked = serde_json::json!({
            "op": "actor", "actor": "clerk-1", "from": "2026-01-01", "to": "2026-01-31",
            "date": "occurred"
        });
        let Query::Actor(crate::protocol::Trail { date, .. }) =
            serde_json::from_value(asked.clone()).expect("query")
        else {
            panic!("not a trail query");
        };
        assert_eq!(date, TrailDate::Occurred);
        let mut without = asked;
        without.as_object_mut().expect("object").remove("date");
        let Query::Actor(crate::protocol::Trail { date, .. }) =
            serde_json::from_value(without).expect("query")
        else {
            panic!("not a trail query");
        };
        assert_eq!(date, TrailDate::Recorded);
    }
}
