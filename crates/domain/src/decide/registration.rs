//! Deciding a registration and its corrections: the facts checked, the classifications derived,
//! the unit that holds an accusation.

use chrono::NaiveDate;

use super::{numbered_case_no, opt_text, text, Ctx, MAX_HEADCOUNT, MAX_PETITIONERS};
use crate::case::Case;
use crate::command::{CorrectRegistration, RegisterCase, RegistrationFacts};
use crate::error::DomainError;
use crate::event::*;
use crate::ids::{CaseId, UnitCode};
use crate::policy::Timestamp;
use crate::values::{Channel, Level, Role, Status, UnitKind};

pub(super) fn register(
    c: &RegisterCase,
    at: Timestamp,
    ctx: &Ctx<'_>,
) -> Result<Event, DomainError> {
    let p = ctx.policy;
    match ctx.units.get(&c.township) {
        Some(UnitKind::Township) => {}
        Some(kind) => {
            let t = &c.township;
            return Err(DomainError::Validation(crate::text!(
                "township {t} is a {kind}, not a township",
                "township：{t} 不是乡镇（而是 {kind}）"
            )));
        }
        None => {
            // Not echoed: an unknown code may be anything the caller typed.
            return Err(DomainError::Validation(crate::text!(
                "township names no township of this county",
                "township：不是本县的乡镇"
            )));
        }
    }
    if c.headcount == 0 || c.headcount > MAX_HEADCOUNT {
        return Err(DomainError::Validation(crate::text!(
            "headcount must be between 1 and {MAX_HEADCOUNT}",
            "headcount：人数应在 1 至 {MAX_HEADCOUNT} 之间"
        )));
    }
    check_petitioners("petitioners", &c.petitioners)?;
    let summary = text("summary", &c.summary)?;
    let held_by = accused_holder(c, ctx)?;
    let related = c.related_case_id.map(|id| id.0);
    if related == Some(ctx.case_id.0) {
        return Err(DomainError::Validation(crate::text!(
            "a case cannot be related to itself",
            "related_case_id：案件不能关联自身"
        )));
    }
    let local_day = p.local_date(at);
    let held = held_by.as_ref().unwrap_or(&c.township);
    let (acknowledge_due_at, acknowledged) = super::accountability(ctx, held, at);
    let mut event = CaseRegistered {
        case_no: case_no(&c.township, local_day, ctx.case_id),
        township: c.township.clone(),
        channel: c.channel,
        received_at: at,
        headcount: c.headcount,
        level_reached: c.level_reached,
        category: c.category,
        summary,
        petitioners: c.petitioners.clone(),
        related_case_id: related,
        accusation: c.accusation,
        confidential: c.confidential,
        flags: Flags {
            collective: c.headcount >= p.collective_threshold,
            cross_level: false,
            repeat: false,
        },
        first_petition: false,
        leader_reception: c.leader_reception || c.channel == Channel::LeaderReception,
        accused_unit: c.accused_unit.clone(),
        held_by,
        accept_due_at: p.deadline_after(at, p.accept_days),
        acknowledge_due_at,
        acknowledged,
        repeat_rank: 1,
    };
    complete_registration(&mut event, ctx.case_serial, ctx.peers, p);
    Ok(Event::CaseRegistered(event))
}

/// Give a decided registration what it takes from outside the case: its number in its series
/// (`None`: a number made of its day and id) and what its petitioners' earlier cases make of it
/// (repeat, first petition, cross-level). `decide` does this with the context's lookups; the
/// command path decides a registration once without them (a refused one draws no number and is
/// filed nowhere), then draws and files it, and completes it here.
pub fn complete_registration(
    event: &mut CaseRegistered,
    serial: Option<u64>,
    peers: &[crate::linking::Peer],
    policy: &crate::policy::Policy,
) {
    if let Some(serial) = serial {
        // The series' year, as `case_series` draws it: the county's local date of receipt.
        let year = chrono::Datelike::year(&policy.local_date(event.received_at));
        event.case_no = numbered_case_no(&event.township, year, serial);
    }
    let related = event.related_case_id.is_some();
    let (repeat, first_petition) =
        crate::linking::registration_flags(&event.township, event.category, peers);
    event.flags.cross_level = crate::linking::cross_level(
        (&event.township, event.category, event.level_reached),
        related,
        peers,
    );
    event.flags.repeat = repeat || related;
    event.first_petition = first_petition && !related;
    event.repeat_rank = crate::linking::repeat_rank(&event.township, event.category, peers);
}

/// 检举控告: check `accused_unit`, and name the county as holder when the accusation is against
/// the township of the matter.
fn accused_holder(c: &RegisterCase, ctx: &Ctx<'_>) -> Result<Option<UnitCode>, DomainError> {
    let Some(accused) = &c.accused_unit else {
        return Ok(None);
    };
    if !c.accusation {
        return Err(DomainError::Validation(crate::text!(
            "accused_unit: given only with accusation: true",
            "accused_unit：只有检举控告（accusation: true）才能指明被检举单位"
        )));
    }
    match ctx.units.get(accused) {
        None => Err(DomainError::Validation(crate::text!(
            "accused_unit: names no unit of this county",
            "accused_unit：不是本县的单位"
        ))),
        Some(UnitKind::County) => Err(DomainError::Validation(crate::text!(
            "accused_unit: an accusation against the county bureau goes to the level above; \
             it cannot be the county",
            "accused_unit：检举县信访局的事项应向上级反映，被检举单位不能是县信访局"
        ))),
        Some(_) if *accused == c.township => county_unit(ctx).map(Some),
        Some(_) => Ok(None),
    }
}

/// The county's own unit (the first of kind `county`).
fn county_unit(ctx: &Ctx<'_>) -> Result<UnitCode, DomainError> {
    ctx.units
        .iter()
        .find(|(_, kind)| **kind == UnitKind::County)
        .map(|(code, _)| code.clone())
        .ok_or_else(|| {
            DomainError::Validation(crate::text!(
                "no unit of kind county is configured to hold an accusation against its township",
                "未配置县级单位，无法由县里直接办理检举乡镇的事项"
            ))
        })
}

/// A case is never given to the unit its accusation is against.
pub(super) fn not_accused(case: &Case, unit: &UnitCode) -> Result<(), DomainError> {
    if case.accused_unit.as_ref() == Some(unit) {
        return Err(DomainError::AccusedUnit(crate::text!(
            "the accusation is against {unit}; it cannot be given the case",
            "unit：该检举控告针对 {unit}，不能交由其办理"
        )));
    }
    Ok(())
}

/// 更正: the changed facts as they were and will be, checked as a registration checks them, with
/// the classifications and the acceptance deadline derived again.
pub(super) fn correct(
    case: &Case,
    c: &CorrectRegistration,
    at: Timestamp,
    ctx: &Ctx<'_>,
) -> Result<Event, DomainError> {
    let p = ctx.policy;
    let reason = text("reason", &c.reason)?;
    if ctx.principal.role != Role::County {
        let until = p.deadline_after(case.registered_at, p.correction_days);
        if ctx.now > until {
            let (t, days) = (until.to_rfc3339(), p.correction_days);
            return Err(DomainError::DeadlinePassed(crate::text!(
                "a township may correct a registration until {t} ({days} days after receipt); \
                 later only the county may",
                "乡镇只能在收到后 {days} 日内（{t} 前）更正登记信息，逾期只能由县信访局更正"
            )));
        }
        if c.changes.township.is_some() {
            return Err(DomainError::Forbidden(crate::text!(
                "only the county corrects the township of a case (a township moves a case by transfer)",
                "只有县信访局可以更正案件所属乡镇（乡镇可通过转送移交案件）"
            )));
        }
    }
    let ch = &c.changes;
    let mut before = RegistrationFacts::default();
    let mut after = RegistrationFacts::default();
    macro_rules! diff {
        ($field:ident, $current:expr) => {
            if let Some(new) = &ch.$field {
                if *new != $current {
                    before.$field = Some($current.clone());
                    after.$field = Some(new.clone());
                }
            }
        };
    }
    diff!(township, case.township);
    diff!(channel, case.channel);
    diff!(received_at, case.received_at);
    diff!(headcount, case.headcount);
    diff!(level_reached, case.level_reached);
    diff!(category, case.category);
    diff!(leader_reception, case.leader_reception);
    if let Some(summary) = &ch.summary {
        let summary = text("changes.summary", summary)?;
        if summary != case.summary {
            before.summary = Some(case.summary.clone());
            after.summary = Some(summary);
        }
    }
    if let Some(petitioners) = &ch.petitioners {
        check_petitioners("changes.petitioners", petitioners)?;
        if *petitioners != case.petitioners {
            before.petitioners = Some(case.petitioners.clone());
            after.petitioners = Some(petitioners.clone());
        }
    }
    if after.is_empty() {
        return Err(DomainError::Validation(crate::text!(
            "changes: name at least one registration fact that differs from the case",
            "changes：至少应有一项与现登记信息不同的更正"
        )));
    }
    let township = after
        .township
        .clone()
        .unwrap_or_else(|| case.township.clone());
    if after.township.is_some() && ctx.units.get(&township) != Some(&UnitKind::Township) {
        return Err(DomainError::Validation(crate::text!(
            "changes.township: names no township of this county",
            "changes.township：不是本县的乡镇"
        )));
    }
    let headcount = after.headcount.unwrap_or(case.headcount);
    if headcount == 0 || headcount > MAX_HEADCOUNT {
        return Err(DomainError::Validation(crate::text!(
            "changes.headcount: must be between 1 and {MAX_HEADCOUNT}",
            "changes.headcount：人数应在 1 至 {MAX_HEADCOUNT} 之间"
        )));
    }
    let received_at = after.received_at.unwrap_or(case.received_at);
    if after.received_at.is_some() {
        crate::dates::check_time("changes.received_at", received_at)?;
        let latest = case.accepted_at.unwrap_or(at);
        if received_at > latest {
            let t = latest.to_rfc3339();
            return Err(DomainError::Validation(crate::text!(
                "changes.received_at: must not be after {t} (the case's acceptance, or the correction)",
                "changes.received_at：不能晚于 {t}（受理或更正的时间）"
            )));
        }
    }
    let level = after.level_reached.unwrap_or(case.level_reached);
    let category = after.category.unwrap_or(case.category);
    let related = case.related_case_id;
    let relinked =
        after.category.is_some() || after.petitioners.is_some() || after.township.is_some();
    let (repeat, first_petition, repeat_rank) = if relinked {
        let (repeat, first) = crate::linking::registration_flags(&township, category, ctx.peers);
        (
            repeat || related.is_some(),
            first && related.is_none(),
            crate::linking::repeat_rank(&township, category, ctx.peers),
        )
    } else {
        (case.flags.repeat, case.first_petition, case.repeat_rank)
    };
    // Judged again on the peers when the case is filed again; else a level corrected upward is
    // cross-level unless it was known not to be (an earlier case at township level).
    let cross_level = if relinked {
        crate::linking::cross_level((&township, category, level), related.is_some(), ctx.peers)
    } else {
        level > Level::Township
            && related.is_none()
            && (case.flags.cross_level || case.level_reached == Level::Township)
    };
    // A corrected township takes over a case registered for the wrong one while nobody has
    // moved it; an accusation against the corrected township is held by the county.
    let unit = match &after.township {
        Some(t) if case.accused_unit.as_ref() == Some(t) => {
            let county = county_unit(ctx)?;
            (case.unit != county).then_some(county)
        }
        Some(t) if case.status == Status::Registered && case.units.len() == 1 => Some(t.clone()),
        _ => None,
    };
    Ok(Event::RegistrationCorrected(RegistrationCorrected {
        reason,
        before,
        after,
        flags: Flags {
            collective: headcount >= p.collective_threshold,
            cross_level,
            repeat,
        },
        first_petition,
        accept_due_at: p.deadline_after(received_at, p.accept_days),
        unit,
        repeat_rank,
    }))
}

fn check_petitioners(
    field: &str,
    petitioners: &[crate::command::Petitioner],
) -> Result<(), DomainError> {
    if petitioners.is_empty() || petitioners.len() > MAX_PETITIONERS {
        return Err(DomainError::Validation(crate::text!(
            "{field}: between 1 and {MAX_PETITIONERS} petitioners are required",
            "{field}：信访人应为 1 至 {MAX_PETITIONERS} 人"
        )));
    }
    for (i, pet) in petitioners.iter().enumerate() {
        text(&format!("{field}[{i}].name"), &pet.name)?;
        for (f, value) in [
            ("id_number", &pet.id_number),
            ("phone", &pet.phone),
            ("address", &pet.address),
        ] {
            opt_text(&format!("{field}[{i}].{f}"), value)?;
        }
    }
    Ok(())
}

/// A human-readable case number: township, local registration day, and the random tail of the
/// case id (32 bits; a collision among one township's cases of one day is negligible and harmless,
/// since the case id is the identity).
/// The case number of earlier versions: day received and a tail of the case id (may collide).
fn case_no(township: &UnitCode, day: NaiveDate, id: CaseId) -> String {
    let bytes = id.0.as_bytes();
    format!(
        "{}-{}-{:02x}{:02x}{:02x}{:02x}",
        township.as_str().to_uppercase(),
        day.format("%Y%m%d"),
        bytes[12],
        bytes[13],
        bytes[14],
        bytes[15]
    )
}
