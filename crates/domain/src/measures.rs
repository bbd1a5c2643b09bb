//! The names of `<Measures>`, the figures of a report, in one list each: what statistics count
//! and show (`queries::stats`), what a scorecard may weigh, what an adjustment (核减) may take a
//! case out of.

/// Every count of `<Measures>`, in the order reports show them.
pub const COUNTS: [&str; 35] = [
    "items",
    "batches",
    "persons",
    "collective_batches",
    "collective_persons",
    "cross_level_batches",
    "repeat_batches",
    "accepted",
    "rejected",
    "replied",
    "closed",
    "closed_on_time",
    "follow_ups",
    "satisfied",
    "merged",
    "bounced",
    "withdrawn",
    "individual_batches",
    "individual_persons",
    "group_batches",
    "group_persons",
    "signatures",
    "leader_reception_batches",
    "leader_reception_persons",
    "repeat_persons",
    "terminated",
    "replied_on_time",
    "acknowledged",
    "acknowledged_on_time",
    "acknowledge_judged",
    "reminded",
    "reopened",
    "rehandled_on_time",
    "late_entries",
    "on_time_by_late_entry",
];

/// Every rate of `<Measures>`: each a count over another.
pub const RATES: [&str; 6] = [
    "closure_rate",
    "on_time_rate",
    "satisfaction_rate",
    "collective_share",
    "reply_on_time_rate",
    "acknowledge_on_time_rate",
];

/// Open cases past their deadline: a figure of `<Measures>` that is neither a count of
/// registrations nor a rate.
pub const OPEN_OVERDUE: &str = "open_overdue";

/// Whether an adjustment (核减) may name `measure`: every count and `open_overdue`.
pub fn adjustable(measure: &str) -> bool {
    measure == OPEN_OVERDUE || COUNTS.contains(&measure)
}
