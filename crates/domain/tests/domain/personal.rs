//! The one personal-data redaction: the typed one (`PersonalData`) and the one on stored JSON
//! (`PERSONAL_FIELDS`) agree for every event type, and nothing else is removed.

use domain::personal::{redact_event_json, PERSONAL_FIELDS};
use domain::PersonalData;

fn data(event: &domain::Event) -> serde_json::Map<String, serde_json::Value> {
    let v = serde_json::to_value(event).expect("event json");
    v["data"].as_object().cloned().unwrap_or_default()
}

#[test]
fn the_json_redaction_removes_exactly_what_the_typed_one_empties() {
    let mut with_personal_data = 0;
    for event in crate::golden::samples() {
        let before = data(&event);
        let mut typed = event.clone();
        typed.redact_personal_data();
        let after = data(&typed);
        assert_eq!(
            before != after,
            domain::personal::holds_personal_data(&event),
            "{}: PERSONAL_EVENT_TYPES names exactly the types the redaction changes",
            event.type_name()
        );
        // Fields the typed redaction changed are personal fields, and they end up empty.
        for (key, value) in &before {
            if after.get(key) != Some(value) {
                assert!(
                    PERSONAL_FIELDS.contains(&key.as_str()),
                    "{}: {key} is redacted but not in PERSONAL_FIELDS",
                    event.type_name()
                );
                assert_eq!(after[key], serde_json::json!([]), "{key}");
            }
        }
        let mut json = serde_json::Value::Object(before.clone());
        redact_event_json(&mut json);
        let json = json.as_object().cloned().unwrap_or_default();
        for key in before.keys() {
            let personal = PERSONAL_FIELDS.contains(&key.as_str());
            assert_eq!(json.contains_key(key), !personal, "{key}");
            if personal {
                with_personal_data += 1;
                assert_ne!(before[key], serde_json::json!([]), "the sample has {key}");
            } else {
                assert_eq!(json[key], after[key], "{key} is kept as it was");
            }
        }
    }
    assert!(with_personal_data > 0, "some sample carries personal data");
}

#[test]
fn a_case_loses_its_petitioners_and_nothing_else() {
    let registered = crate::golden::samples()
        .into_iter()
        .find(|e| e.type_name() == "CaseRegistered")
        .expect("a registration sample");
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00+08:00").expect("ts");
    let case = domain::evolve(None, domain::CaseId(uuid::Uuid::now_v7()), &registered, at)
        .expect("evolve");
    assert!(!case.petitioners.is_empty());
    let mut redacted = case.clone();
    redacted.redact_personal_data();
    assert!(redacted.petitioners.is_empty());
    redacted.petitioners = case.petitioners.clone();
    assert_eq!(
        serde_json::to_value(&redacted).expect("json"),
        serde_json::to_value(&case).expect("json")
    );
}
