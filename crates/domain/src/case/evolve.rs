//! `evolve`: one event onto the case.

use super::*;

/// Apply one event. `occurred_at` is the event's business time and `entry` how it was recorded,
/// both from its envelope.
pub fn evolve(
    state: Option<Case>,
    id: CaseId,
    event: &Event,
    occurred_at: Timestamp,
    entry: Entry,
) -> Result<Case, EvolveError> {
    if event.is_alert() {
        return Err(EvolveError::NotACase(event.type_name()));
    }
    let mut case = match (state, event) {
        (None, Event::CaseRegistered(e)) => {
            // An accusation against the township of the matter is held by the county from the
            // start: the township is never among the units that may read it.
            let unit = event.accountable_unit().unwrap_or(&e.township).clone();
            let mut case = Case {
                id,
                case_no: e.case_no.clone(),
                township: e.township.clone(),
                unit: unit.clone(),
                units: vec![unit],
                status: Status::Registered,
                channel: e.channel,
                headcount: e.headcount,
                level_reached: e.level_reached,
                category: e.category,
                summary: e.summary.clone(),
                received_at: e.received_at,
                registered_at: e.received_at,
                petitioners: e.petitioners.clone(),
                related_case_id: e.related_case_id,
                accusation: e.accusation,
                confidential: e.confidential,
                accused_unit: e.accused_unit.clone(),
                flags: e.flags,
                leader_reception: e.leader_reception,
                version: 1,
                last_occurred_at: occurred_at,
                accept_due_at: e.accept_due_at,
                accepted_at: None,
                reply_due_at: None,
                extended: false,
                replied_at: None,
                reply_on_time: None,
                request_window_until: None,
                review_level: 0,
                decision_due_at: None,
                reply: None,
                follow_up: None,
                first_petition: e.first_petition,
                merged_into: None,
                transfers: 0,
                bounced: false,
                supervisions: 0,
                committed_at: None,
                leader: None,
                attachments: Vec::new(),
                adjustments: Vec::new(),
                erasures: Vec::new(),
                acknowledge_due_at: None,
                acknowledged: None,
                acknowledgements: Acknowledgements::default(),
                reminders: Reminders::default(),
                reopens: 0,
                rehandle_on_time: None,
                closed_at: None,
                dissatisfied_unanswered: false,
                late_entries: 0,
                on_time_by_late_entry: 0,
                query_code_seq: 0,
                documents: Vec::new(),
                repeat_rank: e.repeat_rank,
                resolution_plan: None,
            };
            account(&mut case, e.acknowledge_due_at, e.acknowledged, occurred_at);
            count_entry(&mut case, entry);
            return Ok(case);
        }
        (Some(_), Event::CaseRegistered(_)) => return Err(EvolveError::RegisteredTwice),
        (None, e) => return Err(EvolveError::NotRegistered(e.type_name())),
        (Some(case), _) => case,
    };
    case.version += 1;
    if event.is_adjustment() {
        crate::adjustment::evolve(&mut case.adjustments, case.version, event, occurred_at);
        return Ok(case);
    }
    if event.is_erasure() {
        crate::erasure::evolve(&mut case.erasures, event, occurred_at);
        if matches!(event, Event::PersonalDataErased(_)) {
            // What the log no longer reveals, the case no longer holds.
            crate::PersonalData::redact_personal_data(&mut case);
            if case.accusation {
                case.summary.clear();
            }
        }
        return Ok(case);
    }
    case.last_occurred_at = occurred_at;
    count_entry(&mut case, entry);
    match event {
        Event::CaseRegistered(_) => {}
        Event::CaseAccepted(e) => {
            case.status = Status::Accepted;
            case.accepted_at = Some(occurred_at);
            case.reply_due_at = Some(e.reply_due_at);
        }
        Event::CaseRejected(_) => case.status = Status::Rejected,
        Event::CaseAssigned(e) => {
            // Before acceptance the case stays to be accepted, by its new unit.
            if case.status != Status::Registered {
                case.status = Status::Assigned;
            }
            if let Some(due) = e.due_at {
                case.reply_due_at = Some(due);
            }
            account(&mut case, e.acknowledge_due_at, e.acknowledged, occurred_at);
        }
        Event::CaseTransferred(e) => {
            if case.status != Status::Registered {
                case.status = Status::Assigned;
            }
            case.transfers += 1;
            case.bounced |= e.bounced;
            account(&mut case, e.acknowledge_due_at, e.acknowledged, occurred_at);
        }
        Event::CaseAcknowledged(e) => {
            let tally = &mut case.acknowledgements;
            if case.acknowledge_due_at.is_none() {
                // An accountability from before issue 33 acknowledged all the same.
                tally.started += 1;
            }
            tally.acknowledged += 1;
            tally.late += u32::from(!e.on_time);
            case.acknowledged = Some(Acknowledged {
                at: occurred_at,
                on_time: e.on_time,
            });
        }
        Event::CaseReminded(_) => {
            case.reminders.count += 1;
            case.reminders.last_at = Some(occurred_at);
        }
        Event::CaseReopened(e) => {
            case.status = Status::Assigned;
            case.reopens += 1;
            case.reply_due_at = Some(e.reply_due_at);
            case.request_window_until = None;
            case.extended = false;
            case.committed_at = None;
            account(&mut case, e.acknowledge_due_at, e.acknowledged, occurred_at);
        }
        Event::QueryCodeReissued(e) => case.query_code_seq = e.seq,
        Event::DocumentIssued(e) => case.documents.push(IssuedDocument {
            kind: e.kind,
            step_seq: e.step_seq,
            document_no: e.document_no.clone(),
            unit: e.unit.clone(),
        }),
        Event::CaseSupervised(e) => {
            case.supervisions += 1;
            if let Some(due) = e.due_at {
                case.reply_due_at = Some(due);
                case.committed_at = Some(due);
            }
        }
        Event::DeadlineExtended(e) => {
            case.extended = true;
            case.reply_due_at = Some(e.due_at);
        }
        Event::CaseReplied(e) => {
            case.status = Status::Replied;
            case.reply = Some(Reply {
                unit: e.unit.clone(),
                outcome: e.outcome,
                text: e.text.clone(),
                at: occurred_at,
            });
            case.replied_at = Some(occurred_at);
            // On-time measures judge the first reply; a re-handling's reply is judged apart.
            if case.reopens == 0 {
                case.reply_on_time = Some(e.on_time);
            } else {
                case.rehandle_on_time = Some(e.on_time);
            }
            case.request_window_until = Some(e.review_request_until);
            case.dissatisfied_unanswered = false;
        }
        Event::FollowUpRecorded(e) => {
            case.follow_up = Some(FollowUp {
                satisfaction: e.satisfaction,
                at: occurred_at,
            });
            case.dissatisfied_unanswered = e.satisfaction == Satisfaction::Dissatisfied;
        }
        Event::CaseClosed(_) => {
            case.status = Status::Closed;
            case.closed_at = Some(occurred_at);
        }
        Event::ReviewRequested(e) => {
            case.status = if e.level <= 1 {
                Status::UnderReview
            } else {
                Status::UnderRereview
            };
            case.decision_due_at = Some(e.decision_due_at);
            case.request_window_until = None;
        }
        Event::ReviewDecided(e) => {
            case.review_level = e.level;
            case.decision_due_at = None;
            case.request_window_until = e.rereview_request_until;
            case.status = if e.level <= 1 {
                Status::Closed
            } else {
                Status::Terminated
            };
        }
        Event::CaseMerged(e) => {
            case.status = Status::Merged;
            case.merged_into = Some(e.into);
        }
        Event::LeaderAssigned(e) => {
            case.leader = Some(Leader {
                name: e.name.clone(),
                title: e.title.clone(),
            });
        }
        Event::RegistrationCorrected(e) => {
            let a = &e.after;
            if let Some(t) = &a.township {
                case.township = t.clone();
            }
            if let Some(x) = a.channel {
                case.channel = x;
            }
            if let Some(x) = a.received_at {
                case.received_at = x;
            }
            if let Some(x) = a.headcount {
                case.headcount = x;
            }
            if let Some(x) = a.level_reached {
                case.level_reached = x;
            }
            if let Some(x) = a.category {
                case.category = x;
            }
            if let Some(x) = &a.summary {
                case.summary = x.clone();
            }
            if let Some(x) = &a.petitioners {
                case.petitioners = x.clone();
            }
            if let Some(x) = a.leader_reception {
                case.leader_reception = x;
            }
            case.flags = e.flags;
            case.first_petition = e.first_petition;
            case.accept_due_at = e.accept_due_at;
            if e.repeat_rank > 0 {
                case.repeat_rank = e.repeat_rank;
            }
        }
        Event::CaseWithdrawn(_) => case.status = Status::Withdrawn,
        Event::ResolutionPlanned(e) => {
            case.resolution_plan = Some(crate::case::ResolutionPlan {
                plan: e.plan.clone(),
                leader: e.leader.clone(),
                target_date: e.target_date,
                at: occurred_at,
            });
        }
        Event::AttachmentAdded(e) => case.attachments.push(Attachment {
            attachment_id: e.attachment_id,
            sha256: e.sha256.clone(),
            size: e.size,
            content_type: e.content_type.clone(),
            filename: e.filename.clone(),
            at: occurred_at,
        }),
        Event::AdjustmentRequested(_)
        | Event::AdjustmentApproved(_)
        | Event::AdjustmentRevoked(_)
        | Event::PersonalDataErasureRequested(_)
        | Event::PersonalDataErased(_)
        | Event::AlertReviewed(_) => {}
    }
    if let Some(unit) = event.accountable_unit() {
        set_unit(&mut case, unit);
    }
    Ok(case)
}

fn set_unit(case: &mut Case, unit: &UnitCode) {
    case.unit = unit.clone();
    if !case.units.contains(unit) {
        case.units.push(unit.clone());
    }
}

/// 签收: a step starts a new accountability, due by `due` (none: no obligation, as before issue
/// 33) or acknowledged at once. The one it supersedes is missed if its limit had passed
/// unacknowledged, and not counted at all if it had not.
fn account(case: &mut Case, due: Option<Timestamp>, at_once: bool, at: Timestamp) {
    let tally = &mut case.acknowledgements;
    if let (Some(limit), None) = (case.acknowledge_due_at, case.acknowledged) {
        if at > limit {
            tally.missed += 1;
        } else {
            tally.started = tally.started.saturating_sub(1);
        }
    }
    case.acknowledge_due_at = due;
    case.acknowledged = None;
    if at_once {
        tally.started += 1;
        tally.acknowledged += 1;
        case.acknowledged = Some(Acknowledged { at, on_time: true });
    } else if due.is_some() {
        tally.started += 1;
    }
}

/// 补录, as the envelope recorded it.
fn count_entry(case: &mut Case, entry: Entry) {
    case.late_entries += u32::from(entry.late);
    case.on_time_by_late_entry += u32::from(entry.on_time_by_late_entry);
}
