//! The steps of the closed loop (issue 33) that need more than a line of `decide`: what a step
//! that makes a unit accountable owes (签收), and reopening (重办).

use chrono::Duration;

use super::{due_date, handling_unit, not_accused, text, Ctx};
use crate::case::Case;
use crate::error::DomainError;
use crate::event::{CaseReopened, Event};
use crate::ids::UnitCode;
use crate::policy::Timestamp;
use crate::values::Status;

/// 签收: what a step that makes `unit` accountable at `at` starts: acknowledged at once when a
/// principal of that unit takes it, else due within `acknowledge_hours`.
pub(super) fn accountability(
    ctx: &Ctx<'_>,
    unit: &UnitCode,
    at: Timestamp,
) -> (Option<Timestamp>, bool) {
    if crate::auth::acts_for(ctx.principal, unit) {
        (None, true)
    } else {
        let hours = Duration::hours(i64::from(ctx.policy.acknowledge_hours));
        (Some(at + hours), false)
    }
}

/// 重办: the county reopens a case whose petitioner was dissatisfied with the reply, from
/// `replied`, or from `closed` within `reopen_days` and before any review.
pub(super) fn reopen(
    case: &Case,
    c: &crate::command::ReopenCase,
    at: Timestamp,
    ctx: &Ctx<'_>,
) -> Result<Event, DomainError> {
    let p = ctx.policy;
    if !case.dissatisfied_unanswered {
        return Err(DomainError::Validation(crate::text!(
            "a case is reopened after a dissatisfied follow-up that no reply has answered",
            "只有回访不满意且此后未再答复的案件可以重办"
        )));
    }
    if case.status == Status::Closed {
        let until = p.deadline_after(case.closed_at.unwrap_or(at), p.reopen_days);
        if at > until {
            let t = until.to_rfc3339();
            return Err(DomainError::DeadlinePassed(crate::text!(
                "the window to reopen closed at {t}",
                "重办的期限已于 {t} 届满"
            )));
        }
    }
    let unit = match &c.unit {
        Some(u) => u.clone(),
        None => case.reply.as_ref().map_or(&case.unit, |r| &r.unit).clone(),
    };
    handling_unit(ctx, &unit)?;
    not_accused(case, &unit)?;
    let reply_due_at = match due_date(p, c.due_date, at)? {
        Some(d) => d,
        None => p.deadline_after(at, p.rehandle_days),
    };
    let (acknowledge_due_at, acknowledged) = accountability(ctx, &unit, at);
    Ok(Event::CaseReopened(CaseReopened {
        reason: text("reason", &c.reason)?,
        unit,
        from_unit: case.unit.clone(),
        reply_due_at,
        acknowledge_due_at,
        acknowledged,
    }))
}
