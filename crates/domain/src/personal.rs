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

/// A command body as a township sent it (an inbox message), without personal data: for keeping
/// a rejected message for inspection once its plain copy is erased. The fields that may hold
/// personal data in any command body are left out (and a summary, which an accusation's may
/// be); a body that is not a JSON object is kept only as its size.
pub fn redact_command_body(body: &[u8]) -> serde_json::Value {
    const PATHS: &[&str] = &[
        "petitioners",
        "changes.petitioners",
        "filename",
        "summary",
        "changes.summary",
    ];
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) if v.is_object() => {
            take_fields(&mut v, PATHS);
            v
        }
        _ => serde_json::json!({ "unreadable_bytes": body.len() }),
    }
}
