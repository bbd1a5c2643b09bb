//! The steps of the closed loop (issue 33) that need more than a line of `decide`: what a step
//! that makes a unit accountable owes (签收), reopening (重办), numbering a document (出具文书), and
//! the plan of an old case (一案一策, issue 35).

use chrono::Duration;

use super::{due_date, handling_unit, not_accused, text, Ctx};
use crate::case::Case;
use crate::command::PlanResolution;
use crate::error::DomainError;
use crate::event::{CaseReopened, DocumentIssued, Event, ResolutionPlanned};
use crate::ids::UnitCode;
use crate::policy::{Policy, Timestamp};
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

/// 出具文书: the document of `c.kind` for the step at `c.step_seq` is numbered once, in the
/// series of the issuing unit (the principal's) and the year: `<unit name>〔<year>〕<n>号`, `n`
/// drawn by the command path (`ctx.case_serial`).
pub(super) fn issue_document(
    case: &Case,
    c: &crate::command::IssueDocument,
    at: Timestamp,
    ctx: &Ctx<'_>,
) -> Result<Event, DomainError> {
    if let Some(d) = case.document(c.kind, c.step_seq) {
        let no = &d.document_no;
        return Err(DomainError::Validation(crate::text!(
            "the document was issued already: {no}",
            "该文书已出具，文号 {no}"
        )));
    }
    let unit = document_unit(ctx.principal).ok_or_else(|| {
        DomainError::Forbidden(crate::text!(
            "a document is issued by a principal of a unit",
            "文书须由单位的工作人员出具"
        ))
    })?;
    let year = chrono::Datelike::year(&ctx.policy.local_date(at));
    let n = ctx.case_serial.unwrap_or(case.version);
    Ok(Event::DocumentIssued(DocumentIssued {
        kind: c.kind,
        step_seq: c.step_seq,
        document_no: format!("{}〔{year}〕{n}号", text("unit_name", &c.unit_name)?),
        unit,
    }))
}

/// The unit a principal issues documents for: its own (a county principal's configured unit).
pub fn document_unit(p: &crate::auth::Principal) -> Option<UnitCode> {
    p.unit.clone()
}

/// The series a unit's documents are numbered in, per year: `doc.<unit>.<year>`.
pub fn document_series(unit: &UnitCode, year: i32) -> String {
    format!("doc.{unit}.{year}")
}

/// 一案一策: the county's plan, by a date not before the day of the step, with the leader
/// answering for it (the case's leader when none is named).
pub(super) fn resolution_plan(
    case: &Case,
    c: &PlanResolution,
    at: Timestamp,
    p: &Policy,
) -> Result<Event, DomainError> {
    let target_date = crate::dates::check_date("target_date", c.target_date)?;
    if target_date < p.local_date(at) {
        return Err(DomainError::Validation(crate::text!(
            "target_date {target_date} is before the day of the step",
            "target_date：{target_date} 早于本步骤的日期"
        )));
    }
    let leader = match &c.leader {
        Some(name) => Some(text("leader", name)?),
        None => case.leader.as_ref().map(|l| l.name.clone()),
    };
    Ok(Event::ResolutionPlanned(ResolutionPlanned {
        plan: text("plan", &c.plan)?,
        leader,
        target_date,
    }))
}

/// 研判: the county's review of the alert raised as (`kind`, `category`), from the body's
/// `assessment` and `plan` (each required text). Decided apart from any case: the API has
/// found the alert (an id never raised is 404) and appends the event on its own subject.
pub fn review_alert(
    (kind, category): (crate::alerts::AlertKind, crate::values::Category),
    assessment: &str,
    plan: &str,
) -> Result<Event, DomainError> {
    Ok(Event::AlertReviewed(crate::event::AlertReviewed {
        kind,
        category,
        assessment: text("assessment", assessment)?,
        plan: text("plan", plan)?,
    }))
}
