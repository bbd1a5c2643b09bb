//! Response bodies. Personal data is included only where `domain::auth` says so.

use domain::auth::can_see_personal_data;
use domain::{Case, Principal, Timestamp};

use wire::case::{CaseFlags, CaseView};

/// A case as `viewer` sees it at `now` (without unit names, links and allowed actions, which
/// the handler adds).
pub fn case_view(
    case: &Case,
    viewer: &Principal,
    now: Timestamp,
    policy: &domain::Policy,
) -> CaseView {
    CaseView {
        case_id: case.id,
        case_no: case.case_no.clone(),
        township: case.township.clone(),
        township_name: case.township.to_string(),
        unit: case.unit.clone(),
        unit_name: case.unit.to_string(),
        status: case.status,
        channel: case.channel,
        headcount: case.headcount,
        level_reached: case.level_reached,
        category: case.category,
        summary: case.summary.clone(),
        received_at: case.received_at,
        due_at: case.due_at(),
        overdue: case.overdue(now),
        version: case.version,
        flags: CaseFlags {
            collective: case.flags.collective,
            cross_level: case.flags.cross_level,
            repeat: case.flags.repeat,
            duplicate: false,
            leader_reception: case.leader_reception,
            first_petition: case.first_petition,
            bounced: case.bounced,
            supervised: case.supervisions > 0,
            unacknowledged: case.unacknowledged(now),
            escalated: case.escalated(now, policy.escalate_after_days),
            late_entry: case.late_entries > 0,
            backlog: case.backlog(now, policy),
        },
        bounces: case.bounces(),
        supervision: queries::cases::supervision_of(case, now),
        leader: case.leader.clone(),
        repeat_rank: (case.repeat_rank > 0).then_some(case.repeat_rank),
        resolution_plan: wire::cases::ResolutionPlan::of(case, now, policy),
        accusation: case.accusation,
        confidential: case.confidential,
        related_case_id: case.related_case_id,
        related_cases: None,
        links_unknown: None,
        merged_into: case.merged_into,
        reply: case.reply.clone(),
        follow_up: case.follow_up.clone(),
        review_request_due_at: case.review_request_due_at(),
        accused_unit: domain::auth::reads_county_wide(viewer)
            .then(|| case.accused_unit.clone())
            .flatten(),
        stage: case.stage(),
        attachments: case
            .attachments
            .iter()
            .map(|a| domain::case::Attachment {
                filename: if can_see_personal_data(viewer, case) {
                    a.filename.clone()
                } else {
                    String::new()
                },
                ..a.clone()
            })
            .collect(),
        units: case.units.clone(),
        extended: case.extended,
        review_level: case.review_level,
        acknowledged: case.acknowledged,
        acknowledge_due_at: case
            .acknowledge_due_at
            .filter(|_| case.acknowledged.is_none()),
        reminders: case.reminders,
        reopens: case.reopens,
        petitioners: can_see_personal_data(viewer, case).then(|| case.petitioners.clone()),
        personal_data_erased: case.personal_data_erased(),
        allowed_actions: Vec::new(),
        rejected_events: Vec::new(),
        applied_seq: None,
    }
}
