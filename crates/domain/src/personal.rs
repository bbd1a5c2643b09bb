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
    }
}

impl PersonalData for Event {
    fn redact_personal_data(&mut self) {
        // Only the registration carries personal data.
        if let Event::CaseRegistered(e) = self {
            e.petitioners.clear();
        }
    }
}

/// Whether an event holds personal data at all (read models store such events redacted; a
/// reader entitled to the data gets it from the log).
pub fn holds_personal_data(event: &Event) -> bool {
    PERSONAL_EVENT_TYPES.contains(&event.type_name())
}

/// The event types that hold personal data (a test checks them against [`PersonalData`]).
pub const PERSONAL_EVENT_TYPES: &[&str] = &["CaseRegistered"];

/// The JSON names of the fields that hold personal data in an event's `data` (the stored form).
/// A test checks them against [`PersonalData`] for every event type.
pub const PERSONAL_FIELDS: &[&str] = &["petitioners"];

/// An event's `data` as JSON (the stored `{"type", "data"}` form's `data`), without personal
/// data: the fields that hold it are left out, as views without personal data leave them out.
pub fn redact_event_json(data: &mut serde_json::Value) {
    if let Some(object) = data.as_object_mut() {
        for field in PERSONAL_FIELDS {
            object.remove(*field);
        }
    }
}
