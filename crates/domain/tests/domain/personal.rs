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
        let name = event.type_name();
        let before = data(&event);
        let mut typed = event.clone();
        typed.redact_personal_data();
        assert_eq!(
            before != data(&typed),
            domain::personal::holds_personal_data(&event),
            "{name}: PERSONAL_EVENT_TYPES names exactly the types the redaction changes"
        );
        // The JSON redaction of the original and of the typed redaction agree: the typed one
        // changed nothing but personal fields.
        let mut json = serde_json::Value::Object(before.clone());
        redact_event_json(&mut json);
        let mut typed_json = serde_json::Value::Object(data(&typed));
        redact_event_json(&mut typed_json);
        assert_eq!(json, typed_json, "{name}");
        if json != serde_json::Value::Object(before.clone()) {
            with_personal_data += 1;
        }
        // Restoring from the original gives the original back.
        let mut restored = json.clone();
        domain::personal::restore_event_json(
            &mut restored,
            &serde_json::Value::Object(before.clone()),
        );
        assert_eq!(
            restored,
            serde_json::Value::Object(before.clone()),
            "{name}"
        );
        // Every personal path present in a sample is gone after the redaction.
        for path in PERSONAL_FIELDS {
            let pointer = format!("/{}", path.replace('.', "/"));
            assert!(json.pointer(&pointer).is_none(), "{name}: {path}");
        }
    }
    assert!(with_personal_data >= 2, "samples carry personal data");
}

#[test]
fn a_case_loses_its_petitioners_and_nothing_else() {
    let registered = crate::golden::samples()
        .into_iter()
        .find(|e| e.type_name() == "CaseRegistered")
        .expect("a registration sample");
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00+08:00").expect("ts");
    let case = domain::evolve(
        None,
        domain::CaseId(uuid::Uuid::now_v7()),
        &registered,
        at,
        Default::default(),
    )
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
