//! Which steps a case allows now: the status each action needs (one table, which `decide` checks
//! and the API shows as `<Case>.allowed_actions`, so a console offers exactly the steps that would
//! be accepted).

use crate::auth::{authorize_command, Principal};
use crate::case::Case;
use crate::command::Action;
use crate::policy::{Policy, Timestamp};
use crate::values::{Role, Status};

/// The steps on a case a console offers as buttons, in the order of the lifecycle: the actions
/// taken on a case's step URL (attachments, adjustments and erasures have their own forms).
pub fn case_steps() -> impl Iterator<Item = Action> {
    Action::ALL.into_iter().filter(|a| a.on_case_url())
}

/// Whether the case's status admits `action` (otherwise `decide` answers `invalid_transition`).
/// Actions whose rules are not about the status (correction, attachments, adjustments, erasure)
/// are decided by their own checks.
pub fn status_allows(action: Action, case: &Case) -> bool {
    let status = case.status;
    let handling = matches!(status, Status::Accepted | Status::Assigned);
    match action {
        Action::Accept | Action::Reject => status == Status::Registered,
        // Triage: a case may be assigned or transferred before acceptance, too.
        Action::Assign | Action::Transfer => handling || status == Status::Registered,
        Action::Supervise => status.is_open() && status != Status::Replied,
        Action::Extend | Action::Reply => handling,
        Action::FollowUp => matches!(status, Status::Replied | Status::Closed),
        Action::Close => status == Status::Replied,
        Action::Acknowledge => status.is_open() && case.acknowledged.is_none(),
        Action::Remind => status.is_open(),
        Action::Reopen => {
            status == Status::Replied || (status == Status::Closed && case.review_level == 0)
        }
        Action::ReissueQueryCode | Action::IssueDocument => true,
        Action::RequestReview => status == Status::Closed && case.review_level == 0,
        Action::RequestRereview => status == Status::Closed && case.review_level == 1,
        Action::DecideReview => status == Status::UnderReview,
        Action::DecideRereview => status == Status::UnderRereview,
        Action::AssignLeader | Action::Withdraw | Action::Merge => status.is_open(),
        // 一案一策: any case not done.
        Action::ResolutionPlan => status.stage() != crate::values::Stage::Done,
        Action::Register => false,
        Action::Correct
        | Action::Attach
        | Action::RequestAdjustment
        | Action::ApproveAdjustment
        | Action::RevokeAdjustment
        | Action::RequestErasure
        | Action::ApproveErasure => true,
    }
}

/// The steps of [`case_steps`] `principal` may take on `case` at `now`: its status admits them,
/// the principal is authorized, and a step that can be taken once (an extension) or within a
/// window (a review request, a township's correction) still can.
pub fn allowed_actions(
    case: &Case,
    principal: &Principal,
    policy: &Policy,
    now: Timestamp,
) -> Vec<Action> {
    case_steps()
        .filter(|&a| status_allows(a, case) && authorize_command(principal, a, case).is_ok())
        .filter(|&a| match a {
            Action::Extend => !case.extended,
            Action::Reopen => {
                case.dissatisfied_unanswered
                    && (case.status != Status::Closed
                        || case
                            .closed_at
                            .is_none_or(|c| now <= policy.deadline_after(c, policy.reopen_days)))
            }
            Action::RequestReview | Action::RequestRereview => {
                case.request_window_until.is_some_and(|until| now <= until)
            }
            Action::Correct if principal.role != Role::County => {
                now <= policy.deadline_after(case.registered_at, policy.correction_days)
            }
            _ => true,
        })
        .collect()
}
