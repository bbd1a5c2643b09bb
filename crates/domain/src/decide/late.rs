//! 补录 (late entry): a step dated more than `late_entry_hours` before it reached the system. It
//! is decided once, when the step is recorded, and kept in its envelope, so every on-time figure
//! it moves can be counted and listed.

use chrono::Duration;

use crate::case::{Case, Entry};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::Event;
use crate::policy::{Policy, Timestamp};

/// How a step is entered: late or not, and the reason the body gave (kept whether late or not).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LateEntry {
    pub entry: Entry,
    pub reason: Option<String>,
}

/// The late entry of `event`, decided by `cmd` against `case` (before the event) at business
/// time `at`, reaching the system at `reached`: when the request arrived, or when a township's
/// message reached the township's own stream (a broken link delays a message, it does not make
/// it late). A late entry without a reason is refused when the policy requires one.
pub fn late_entry(
    case: Option<&Case>,
    cmd: &Command,
    event: &Event,
    at: Timestamp,
    reached: Timestamp,
    policy: &Policy,
) -> Result<LateEntry, DomainError> {
    let reason = super::opt_text("late_reason", &cmd.late_reason().map(str::to_owned))?;
    let late = at + Duration::hours(i64::from(policy.late_entry_hours)) < reached;
    if late && reason.is_none() && policy.require_late_reason {
        let hours = policy.late_entry_hours;
        return Err(DomainError::LateReasonRequired(crate::text!(
            "the step is dated more than {hours} hours before it is recorded: state late_reason",
            "late_reason：该步骤的业务时间早于录入时间 {hours} 小时以上（补录），须说明补录理由"
        )));
    }
    let on_time_by_late_entry = late
        && case
            .and_then(|c| step_deadline(c, event))
            .is_some_and(|due| reached > due);
    Ok(LateEntry {
        entry: Entry {
            late,
            on_time_by_late_entry,
        },
        reason,
    })
}

/// The deadline an on-time step met by its business date: acceptance, a reply, a review
/// decision, an acknowledgement (none for a step that was late anyway, or has no deadline).
fn step_deadline(case: &Case, event: &Event) -> Option<Timestamp> {
    match event {
        Event::CaseAccepted(e) if e.on_time => Some(case.accept_due_at),
        Event::CaseRejected(e) if e.on_time => Some(case.accept_due_at),
        Event::CaseReplied(e) if e.on_time => case.reply_due_at,
        Event::ReviewDecided(e) if e.on_time => case.decision_due_at,
        Event::CaseAcknowledged(e) if e.on_time => case.acknowledge_due_at,
        _ => None,
    }
}
