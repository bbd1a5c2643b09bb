//! `decide`: a command against a case's past gives exactly one new event, or a reason why not.
//!
//! One command yields one event by design (docs/ARCHITECTURE.md): every step of the lifecycle is a
//! single fact, so one command is one JetStream message and atomic without batch publishing.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use loop_steps::{accountability, issue_document, reopen};
use registration::{correct, not_accused, register};

mod adjustments;
mod allowed;
mod erasures;
mod late;
mod loop_steps;
mod registration;

pub use allowed::{allowed_actions, case_steps, status_allows};
pub use late::{late_entry, LateEntry};
pub use loop_steps::{document_series, document_unit, review_alert};
pub use registration::complete_registration;

use crate::auth::{authorize_command, authorize_register, Principal};
use crate::case::Case;
use crate::command::{Command, RegisterCase};
use crate::error::DomainError;
use crate::event::*;
use crate::ids::{CaseId, UnitCode};
use crate::policy::{Policy, Timestamp};
use crate::values::{Status, UnitKind};

/// How far into the future a client clock may be before `occurred_at` counts as "in the future".
pub const CLOCK_SKEW: Duration = Duration::seconds(60);
/// Free-text fields (summary, reasons, replies) are bounded so one event stays far below the
/// stream's message size limit.
pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_PETITIONERS: usize = 500;
pub const MAX_HEADCOUNT: u32 = 100_000;

/// Everything `decide` needs from outside: the clock, the policy, the known units, the caller.
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub policy: &'a Policy,
    pub units: &'a BTreeMap<UnitCode, UnitKind>,
    pub principal: &'a Principal,
    /// The id of the case; for a registration, the id it will get.
    pub case_id: CaseId,
    /// For a registration: its serial in its township's series of the year
    /// ([`case_series`]), allocated by the command path so that case numbers are unique; for a
    /// document's issue, its number in its unit's series of the year ([`document_series`]).
    /// `None` gives the number of earlier versions (day and a tail of the case id).
    pub case_serial: Option<u64>,
    /// The other cases of the case's petitioners (`linking`): for a registration the earlier
    /// ones, for an acceptance all of them with their status. The command path reads them from
    /// the identity index and the log, so they are as current as the case itself. For a
    /// correction of the category, township or petitioners: the cases filed before this one under
    /// its (corrected) petitioners, as for a registration.
    pub peers: &'a [crate::linking::Peer],
    /// For a merge: the case named by `into`, if the caller may see it.
    pub target: Option<&'a Case>,
    /// When the step reached the system, if not `now`: a township's message, when it reached
    /// the township's own stream. Late entry (补录) is judged against it.
    pub reached_at: Option<Timestamp>,
}

/// The series a registration is numbered in: its township and the year it was received (policy
/// time zone), as `("<township>.<year>", year)`.
pub fn case_series(c: &RegisterCase, policy: &Policy) -> (String, i32) {
    let year = chrono::Datelike::year(&policy.local_date(c.received_at));
    (format!("{}.{year}", c.township), year)
}

/// A case number: `GAOQIAO-2026-000123` (township, year received, serial in that series).
pub fn numbered_case_no(township: &UnitCode, year: i32, serial: u64) -> String {
    format!("{}-{year}-{serial:06}", township.as_str().to_uppercase())
}

/// The business time the event will carry, checked against the clock and the case's past.
pub fn occurred_at(
    state: Option<&Case>,
    cmd: &Command,
    now: Timestamp,
) -> Result<Timestamp, DomainError> {
    let field = if matches!(cmd, Command::Register(_)) {
        "received_at"
    } else {
        "occurred_at"
    };
    let at = crate::dates::check_time(field, cmd.occurred_at().unwrap_or(now))?;
    if at > now + CLOCK_SKEW {
        let t = at.to_rfc3339();
        return Err(DomainError::Validation(crate::text!(
            "{field} {t} is in the future",
            "{field}：{t} 晚于当前时间"
        )));
    }
    if let Some(case) = state {
        if at < case.last_occurred_at {
            let (t, prev) = (at.to_rfc3339(), case.last_occurred_at.to_rfc3339());
            return Err(DomainError::Validation(crate::text!(
                "{field} {t} is before the case's previous event ({prev})",
                "{field}：{t} 早于本案上一步的时间（{prev}）"
            )));
        }
    }
    Ok(at)
}

/// Whether a command on `case` would record personal data in it (`personal`).
fn brings_personal_data(cmd: &Command, case: &Case) -> bool {
    match cmd {
        Command::Attach(_) => true,
        Command::Correct(c) => {
            c.changes.petitioners.is_some() || (case.accusation && c.changes.summary.is_some())
        }
        _ => false,
    }
}

pub fn decide(state: Option<&Case>, cmd: &Command, ctx: &Ctx<'_>) -> Result<Event, DomainError> {
    let event = decide_step(state, cmd, ctx)?;
    if cmd.occurred_at().is_some() || cmd.late_reason().is_some() {
        let at = occurred_at(state, cmd, ctx.now)?;
        let reached = ctx.reached_at.unwrap_or(ctx.now);
        late_entry(state, cmd, &event, at, reached, ctx.policy)?;
    }
    Ok(event)
}

fn decide_step(state: Option<&Case>, cmd: &Command, ctx: &Ctx<'_>) -> Result<Event, DomainError> {
    let action = cmd.action();
    let case = match (state, cmd) {
        (None, Command::Register(c)) => {
            authorize_register(ctx.principal, &c.township)?;
            let at = occurred_at(None, cmd, ctx.now)?;
            return register(c, at, ctx);
        }
        (None, _) => return Err(DomainError::NotFound),
        (Some(case), _) => case,
    };
    authorize_command(ctx.principal, action, case)?;
    if case.personal_data_erased() && brings_personal_data(cmd, case) {
        return Err(crate::erasure::erased_refusal());
    }
    let at = occurred_at(Some(case), cmd, ctx.now)?;
    let p = ctx.policy;
    let invalid = || DomainError::InvalidTransition {
        action: action.as_str(),
        status: case.status,
    };
    if !status_allows(action, case) {
        return Err(invalid());
    }
    let handling = matches!(case.status, Status::Accepted | Status::Assigned);

    Ok(match cmd {
        Command::Register(_) => {
            return Err(DomainError::Validation(crate::text!(
                "case already registered",
                "案件已登记"
            )))
        }
        Command::Accept(c) => {
            let new_facts = opt_text("new_facts", &c.new_facts)?;
            let terminated =
                crate::linking::terminated_matter(&case.township, case.category, ctx.peers);
            if let (Some(t), None) = (terminated, &new_facts) {
                let (category, id) = (case.category, t.case_id);
                return Err(DomainError::TerminatedMatter(crate::text!(
                    "the petitioner's matter in category {category} was terminated after re-review (case {id}); \
                     it is accepted again only with new_facts stated, or rejected with reason terminated_same_matter",
                    "信访人的同一事项（类别 {category}）已复核终结（案件 {id}）；须在 new_facts 中写明新的事实和理由方可受理，否则以 terminated_same_matter 不予受理"
                )));
            }
            Event::CaseAccepted(CaseAccepted {
                new_facts,
                reply_due_at: p.deadline_after(at, p.reply_days),
                on_time: at <= case.accept_due_at,
            })
        }
        Command::Reject(c) => Event::CaseRejected(CaseRejected {
            reason_code: c.reason_code,
            reason: text("reason", &c.reason)?,
            on_time: at <= case.accept_due_at,
        }),
        Command::Assign(c) => {
            handling_unit(ctx, &c.unit)?;
            not_accused(case, &c.unit)?;
            if !handling && c.due_date.is_some() {
                return Err(DomainError::Validation(crate::text!(
                    "due_date applies once the case is accepted; before acceptance the acceptance \
                     deadline from receipt runs on",
                    "due_date：受理后才能指定办理期限；受理前按收到之日起的受理期限计算"
                )));
            }
            let (acknowledge_due_at, acknowledged) = accountability(ctx, &c.unit, at);
            Event::CaseAssigned(CaseAssigned {
                unit: c.unit.clone(),
                from_unit: case.unit.clone(),
                due_at: due_date(p, c.due_date, at)?,
                note: opt_text("note", &c.note)?,
                acknowledge_due_at,
                acknowledged,
            })
        }
        Command::Transfer(c) => {
            handling_unit(ctx, &c.unit)?;
            not_accused(case, &c.unit)?;
            if c.unit == case.unit {
                let unit = &c.unit;
                return Err(DomainError::Validation(crate::text!(
                    "case is already with {unit}; a transfer needs another unit",
                    "unit：案件已在 {unit}，转送须转给其他单位"
                )));
            }
            // Every transfer after the first is a bounce (推诿).
            let bounces = case.transfers;
            let (acknowledge_due_at, acknowledged) = accountability(ctx, &c.unit, at);
            Event::CaseTransferred(CaseTransferred {
                unit: c.unit.clone(),
                from_unit: case.unit.clone(),
                reason: text("reason", &c.reason)?,
                bounced: bounces >= p.bounce_threshold.max(1),
                acknowledge_due_at,
                acknowledged,
            })
        }
        Command::Supervise(c) => {
            if c.due_date.is_some() && !handling {
                let (status, zh) = (case.status, case.status.name_zh());
                return Err(DomainError::Validation(crate::text!(
                    "a committed due_date applies to handling (accepted or assigned), not to status {status}",
                    "due_date：承诺办结日期只适用于办理中（已受理或已交办）的案件，不适用于“{zh}”"
                )));
            }
            Event::CaseSupervised(CaseSupervised {
                unit: case.unit.clone(),
                note: text("note", &c.note)?,
                due_at: due_date(p, c.due_date, at)?,
            })
        }
        Command::Extend(c) => {
            if case.extended {
                return Err(DomainError::Validation(crate::text!(
                    "the deadline of this case was already extended once",
                    "本案已延期一次，不能再次延期"
                )));
            }
            if c.days == 0 || c.days > p.max_extension_days {
                let max = p.max_extension_days;
                return Err(DomainError::Validation(crate::text!(
                    "days must be between 1 and {max}",
                    "days：延期天数应在 1 至 {max} 之间"
                )));
            }
            let base = case.reply_due_at.unwrap_or(at);
            let due_at = base
                .checked_add_signed(Duration::days(i64::from(c.days)))
                .ok_or_else(|| {
                    DomainError::Validation(crate::text!(
                        "the extended deadline is out of range",
                        "延期后的期限超出范围"
                    ))
                })?;
            Event::DeadlineExtended(DeadlineExtended {
                days: c.days,
                reason: text("reason", &c.reason)?,
                approved_by: text("approved_by", &c.approved_by)?,
                due_at,
            })
        }
        Command::Reply(c) => Event::CaseReplied(CaseReplied {
            unit: case.unit.clone(),
            outcome: c.outcome,
            text: text("text", &c.text)?,
            on_time: case.reply_due_at.is_none_or(|d| at <= d),
            review_request_until: p.deadline_after(at, p.review_request_days),
        }),
        Command::FollowUp(c) => Event::FollowUpRecorded(FollowUpRecorded {
            satisfaction: c.satisfaction,
            note: opt_text("note", &c.note)?,
        }),
        Command::Close(c) => {
            let note = opt_text("note", &c.note)?;
            if case.dissatisfied_unanswered && note.is_none() {
                return Err(DomainError::NoteRequired(crate::text!(
                    "the petitioner was dissatisfied with the reply and no reply came since: \
                     closing needs a note (or reopen the case)",
                    "note：信访人对答复不满意且此后未再答复，办结须填写说明（或重办）"
                )));
            }
            Event::CaseClosed(CaseClosed { note })
        }
        Command::Acknowledge(_) => Event::CaseAcknowledged(CaseAcknowledged {
            unit: case.unit.clone(),
            on_time: case.acknowledge_due_at.is_none_or(|d| at <= d),
        }),
        Command::Remind(c) => Event::CaseReminded(CaseReminded {
            unit: case.unit.clone(),
            note: text("note", &c.note)?,
        }),
        Command::Reopen(c) => reopen(case, c, at, ctx)?,
        Command::ReissueQueryCode(_) => Event::QueryCodeReissued(QueryCodeReissued {
            seq: case.query_code_seq + 1,
        }),
        Command::IssueDocument(c) => issue_document(case, c, at, ctx)?,
        Command::RequestReview(c) | Command::RequestRereview(c) => {
            let level = if matches!(cmd, Command::RequestReview(_)) {
                1
            } else {
                2
            };
            let until = case.request_window_until.ok_or_else(invalid)?;
            if at > until {
                let (en, zh, t) = (action.as_str(), action.name_zh(), until.to_rfc3339());
                return Err(DomainError::DeadlinePassed(crate::text!(
                    "the window to {en} closed at {t}",
                    "{zh}的期限已于 {t} 届满"
                )));
            }
            Event::ReviewRequested(ReviewRequested {
                level,
                reason: text("reason", &c.reason)?,
                decision_due_at: p.deadline_after(at, p.review_decision_days),
            })
        }
        Command::DecideReview(c) | Command::DecideRereview(c) => {
            let level = if matches!(cmd, Command::DecideReview(_)) {
                1
            } else {
                2
            };
            Event::ReviewDecided(ReviewDecided {
                level,
                outcome: c.outcome,
                text: text("text", &c.text)?,
                on_time: case.decision_due_at.is_none_or(|d| at <= d),
                rereview_request_until: (level == 1)
                    .then(|| p.deadline_after(at, p.review_request_days)),
            })
        }
        Command::AssignLeader(c) => Event::LeaderAssigned(LeaderAssigned {
            name: text("name", &c.name)?,
            title: text("title", &c.title)?,
        }),
        Command::PlanResolution(c) => loop_steps::resolution_plan(case, c, at, p)?,
        Command::Correct(c) => correct(case, c, at, ctx)?,
        Command::Attach(c) => attach(case, c)?,
        Command::RequestAdjustment(c) => adjustments::request(case, c, &ctx.principal.id)?,
        Command::ApproveAdjustment(c) => adjustments::approve(case, c, &ctx.principal.id)?,
        Command::RevokeAdjustment(c) => adjustments::revoke(case, c, &ctx.principal.id)?,
        Command::RequestErasure(c) => erasures::request(case, c, &ctx.principal.id)?,
        Command::ApproveErasure(c) => erasures::approve(case, c, &ctx.principal.id)?,
        Command::Withdraw(c) => Event::CaseWithdrawn(CaseWithdrawn {
            reason: text("reason", &c.reason)?,
        }),
        Command::Merge(c) => {
            let into = ctx.target.filter(|t| t.id == c.into).ok_or_else(|| {
                let into = c.into;
                DomainError::Validation(crate::text!(
                    "into {into} names no case you can see",
                    "into：{into} 不是您可查看的案件"
                ))
            })?;
            if into.id == case.id {
                return Err(DomainError::Validation(crate::text!(
                    "a case cannot be merged into itself",
                    "into：案件不能合并到自身"
                )));
            }
            if !into.status.is_open() {
                let (id, status, zh) = (c.into, into.status, into.status.name_zh());
                return Err(DomainError::Validation(crate::text!(
                    "into {id} is {status}; a case is merged only into an open case",
                    "into：{id} 的状态为“{zh}”，只能合并到未办结的案件"
                )));
            }
            Event::CaseMerged(CaseMerged {
                into: into.id.0,
                into_case_no: into.case_no.clone(),
                reason: text("reason", &c.reason)?,
            })
        }
    })
}

/// Most characters of an attachment's file name or content type.
const MAX_FILENAME_CHARS: usize = 255;

/// 证据材料: the stored bytes named by their SHA-256, once per case.
fn attach(case: &Case, c: &crate::command::AddAttachment) -> Result<Event, DomainError> {
    let sha = c.sha256.to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::Validation(crate::text!(
            "sha256: expected 64 hex digits",
            "sha256：应为 64 位十六进制数字"
        )));
    }
    let filename = text("filename", &c.filename)?;
    if filename.chars().count() > MAX_FILENAME_CHARS || filename.contains(['/', '\\', '\0']) {
        return Err(DomainError::Validation(crate::text!(
            "filename: expected a file name of at most {MAX_FILENAME_CHARS} characters, without / or \\",
            "filename：应为不超过 {MAX_FILENAME_CHARS} 个字符的文件名，不含 / 或 \\"
        )));
    }
    let content_type = text("content_type", &c.content_type)?;
    if content_type.len() > MAX_FILENAME_CHARS {
        return Err(DomainError::Validation(crate::text!(
            "content_type: expected at most {MAX_FILENAME_CHARS} characters",
            "content_type：不能超过 {MAX_FILENAME_CHARS} 个字符"
        )));
    }
    let attachment_id = crate::case::attachment_id(case.id, &sha);
    if case
        .attachments
        .iter()
        .any(|a| a.attachment_id == attachment_id)
    {
        return Err(DomainError::Validation(crate::text!(
            "this file is already attached to the case ({attachment_id})",
            "该文件已是本案的证据材料（{attachment_id}）"
        )));
    }
    Ok(Event::AttachmentAdded(AttachmentAdded {
        attachment_id,
        sha256: sha,
        size: c.size,
        content_type,
        filename,
    }))
}

/// A unit that may be accountable: a township, a department, or the county itself (which may
/// keep a case).
fn handling_unit(ctx: &Ctx<'_>, unit: &UnitCode) -> Result<(), DomainError> {
    match ctx.units.get(unit) {
        Some(UnitKind::Township | UnitKind::Department | UnitKind::County) => Ok(()),
        None => Err(DomainError::Validation(crate::text!(
            "unit names no unit of this county",
            "unit：不是本县的单位"
        ))),
    }
}

fn due_date(
    p: &Policy,
    date: Option<NaiveDate>,
    at: Timestamp,
) -> Result<Option<Timestamp>, DomainError> {
    match date
        .map(|d| crate::dates::check_date("due_date", d))
        .transpose()?
    {
        None => Ok(None),
        Some(d) if d < p.local_date(at) => Err(DomainError::Validation(crate::text!(
            "due_date {d} is before the day of the step",
            "due_date：{d} 早于本步骤的日期"
        ))),
        Some(d) => Ok(Some(p.end_of_day(d))),
    }
}

pub(crate) fn text(field: &str, s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DomainError::Validation(crate::text!(
            "{field} must not be empty",
            "{field}：不能为空"
        )));
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(DomainError::Validation(crate::text!(
            "{field} is longer than {MAX_TEXT_CHARS} characters",
            "{field}：超过 {MAX_TEXT_CHARS} 个字符"
        )));
    }
    Ok(t.to_owned())
}

fn opt_text(field: &str, s: &Option<String>) -> Result<Option<String>, DomainError> {
    match s {
        Some(s) if !s.trim().is_empty() => text(field, s).map(Some),
        _ => Ok(None),
    }
}
