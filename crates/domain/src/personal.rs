//! Personal data of petitioners (names, ID numbers, phones, addresses): the one place that removes
//! it. Who may see it is [`crate::auth::can_see_personal_data`]; everything that hands a case or an
//! event to someone who may not (a read model, a unit's feed, a trail) redacts it through
//! [`PersonalData`], so a new event type with personal data has exactly one place to say so.

use crate::{Case, Event};

/// A value that can hold personal data.
pub trait PersonalData {
    /// Remove every piece of personal data, keeping everything else.
    fn redact_personal_data(&mut self);
}

impl PersonalData for Case {
    fn redact_personal_data(&mut self) {
        self.petitioners.clear();
        for a in &mut self.attachments {
            a.filename.clear();
        }
        // An accusation's summary may name the people it accuses: sealed like personal data.
        if self.accusation {
            self.summary.clear();
        }
    }
}

impl PersonalData for Event {
    fn redact_personal_data(&mut self) {
        // Only the registration and its corrections carry personal data.
        match self {
            Event::CaseRegistered(e) => e.petitioners.clear(),
            Event::RegistrationCorrected(e) => {
                e.before.petitioners = None;
                e.after.petitioners = None;
            }
            Event::AttachmentAdded(e) => e.filename.clear(),
            _ => {}
        }
    }
}

/// Whether an event holds personal data at all (read models store such events redacted; a
/// reader entitled to the data gets it from the log).
pub fn holds_personal_data(event: &Event) -> bool {
    PERSONAL_EVENT_TYPES.contains(&event.type_name())
}

/// The event types that hold personal data (a test checks them against [`PersonalData`]).
pub const PERSONAL_EVENT_TYPES: &[&str] =
    &["CaseRegistered", "RegistrationCorrected", "AttachmentAdded"];

/// The JSON paths (`object.field`) of the fields that hold personal data in an event's `data`
/// (the stored form). A test checks them against [`PersonalData`] for every event type.
pub const PERSONAL_FIELDS: &[&str] = &[
    "petitioners",
    "before.petitioners",
    "after.petitioners",
    "filename",
];

/// The object holding the last segment of `path` in `data`, and that segment.
fn parent<'a, 'p>(
    data: &'a mut serde_json::Value,
    path: &'p str,
) -> Option<(&'a mut serde_json::Map<String, serde_json::Value>, &'p str)> {
    let (head, field) = match path.rsplit_once('.') {
        Some((head, field)) => (Some(head), field),
        None => (None, path),
    };
    let mut at = data;
    for segment in head.into_iter().flat_map(|h| h.split('.')) {
        at = at.get_mut(segment)?;
    }
    Some((at.as_object_mut()?, field))
}

/// An event's `data` as JSON (the stored `{"type", "data"}` form's `data`), without personal
/// data: the fields that hold it are left out, as views without personal data leave them out.
pub fn redact_event_json(data: &mut serde_json::Value) {
    for path in PERSONAL_FIELDS {
        if let Some((object, field)) = parent(data, path) {
            object.remove(field);
        }
    }
}

/// Put the personal fields of `full` (the same event's `data` as the log holds it) back into
/// `data`, a redacted copy.
pub fn restore_event_json(data: &mut serde_json::Value, full: &serde_json::Value) {
    for path in &sealed_paths(true) {
        let mut from = full.clone();
        let value = parent(&mut from, path).and_then(|(o, f)| o.remove(f));
        if let (Some(value), Some((into, field))) = (value, parent(data, path)) {
            into.insert(field.to_owned(), value);
        }
    }
}

/// The JSON paths of an event's `data` sealed under its case's data key (crypto-shredding,
/// `cipher`): the personal fields, and for an accusation (检举控告) also its summary, which may
/// name the people it accuses.
pub fn sealed_paths(accusation: bool) -> Vec<&'static str> {
    let mut paths = PERSONAL_FIELDS.to_vec();
    if accusation {
        paths.extend(["summary", "before.summary", "after.summary"]);
    }
    paths
}

/// Take the fields at `paths` out of `data`: an object of path → value (empty when `data` has
/// none of them).
pub fn take_fields(
    data: &mut serde_json::Value,
    paths: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    let mut taken = serde_json::Map::new();
    for path in paths {
        if let Some((object, field)) = parent(data, path) {
            if let Some(value) = object.remove(field) {
                taken.insert((*path).to_owned(), value);
            }
        }
    }
    taken
}

/// Put fields taken by [`take_fields`] back where they were.
pub fn put_fields(
    data: &mut serde_json::Value,
    fields: serde_json::Map<String, serde_json::Value>,
) {
    for (path, value) in fields {
        if let Some((object, field)) = parent(data, &path) {
            object.insert(field.to_owned(), value);
        }
    }
}

/// The fields of command bodies kept in a rejected message's copy: those that name a
/// vocabulary, a unit, a case, a date, a number or a flag, never free text nor a person.
const KEPT_FIELDS: &[&str] = &[
    "township",
    "channel",
    "received_at",
    "occurred_at",
    "headcount",
    "level_reached",
    "category",
    "related_case_id",
    "accusation",
    "accused_unit",
    "confidential",
    "leader_reception",
    "unit",
    "due_date",
    "days",
    "outcome",
    "satisfaction",
    "into",
    "measure",
    "adjustment_id",
    "erasure_id",
    "case_id",
    "reason_code",
    "content_type",
    "size",
    "changes",
];

/// A command body as a township sent it (an inbox message), without personal data: for keeping
/// a rejected message for inspection once its plain copy is erased. An allow-list (issue 30: a
/// deny-list of field names kept a misspelled `petitioner` or `contact` in plain): only the
/// fields of [`KEPT_FIELDS`] stay, and of them only numbers, flags and short ASCII words that
/// hold no run of 7 digits (a phone or ID number put in the wrong field); `changes` is kept the
/// same way. How many other fields there were is said (`other_fields`), never their names. A
/// body that is not a JSON object is kept only as its size.
pub fn redact_command_body(body: &[u8]) -> serde_json::Value {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => serde_json::Value::Object(kept(map, 0)),
        _ => serde_json::json!({ "unreadable_bytes": body.len() }),
    }
}

fn kept(
    map: serde_json::Map<String, serde_json::Value>,
    depth: u8,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut out = serde_json::Map::new();
    let mut other = 0u64;
    for (key, value) in map {
        if !KEPT_FIELDS.contains(&key.as_str()) {
            other += 1;
            continue;
        }
        let value = match value {
            Value::Object(inner) if key == "changes" && depth == 0 => {
                Value::Object(kept(inner, depth + 1))
            }
            Value::String(s) if harmless(&s) => Value::String(s),
            v @ (Value::Number(_) | Value::Bool(_) | Value::Null) => v,
            _ => {
                other += 1;
                continue;
            }
        };
        out.insert(key, value);
    }
    if other > 0 {
        out.insert("other_fields".into(), other.into());
    }
    out
}

/// A short ASCII word, code, id or date: no run of 7 digits (a phone or an ID number).
fn harmless(s: &str) -> bool {
    let mut run = 0;
    s.len() <= 64
        && s.chars().all(|c| {
            run = if c.is_ascii_digit() { run + 1 } else { 0 };
            run < 7 && (c.is_ascii_alphanumeric() || "-_:.+T".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 30, finding 8: personal data under a misspelled key stayed in plain for 90 days.
    #[test]
    fn a_rejected_body_keeps_only_allowed_fields_of_harmless_form() {
        let body = serde_json::json!({
            "township": "gaoqiao", "channel": "visit", "received_at": "2026-03-02T09:30:00+08:00",
            "headcount": 6, "confidential": false,
            "petitioner": [{"name": "张三", "id_number": "330102199001011234"}],
            "Petitioners": [{"phone": "13800000000"}],
            "contact": "13800000000",
            "summary": "张三的土地",
            "unit": "13800000000",
            "changes": {"category": "land", "address": "高桥镇一村", "township": "张三"},
        });
        let kept = redact_command_body(body.to_string().as_bytes());
        let text = kept.to_string();
        for secret in [
            "张三",
            "330102199001011234",
            "13800000000",
            "高桥镇一村",
            "contact",
            "etitioner",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(kept["channel"], "visit");
        assert_eq!(kept["received_at"], "2026-03-02T09:30:00+08:00");
        assert_eq!(kept["headcount"], 6);
        assert_eq!(kept["changes"]["category"], "land");
        assert_eq!(kept["other_fields"], 5, "{kept}");
        assert_eq!(kept["changes"]["other_fields"], 2, "{kept}");
        assert_eq!(
            redact_command_body(b"not json"),
            serde_json::json!({"unreadable_bytes": 8})
        );
    }
}
