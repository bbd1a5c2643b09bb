//! Carrying out the demo's and the bench's steps through the command path: as whom (签收 by a
//! clerk of the accountable unit), and with the reason for entering history late (补录).

use chrono::Duration;

use commands::{CaseService, CommandError, CommandRequest};
use domain::command::*;
use domain::*;

/// 签收 at `t` by a clerk of the unit accountable for the case now.
pub(crate) async fn acknowledge(
    cases: &CaseService,
    case_id: CaseId,
    t: Timestamp,
) -> anyhow::Result<()> {
    let Some(loaded) = cases.read(case_id).await? else {
        return Ok(());
    };
    let unit = loaded.case.unit;
    let clerk = Principal {
        id: PrincipalId(format!("demo-{unit}")),
        role: Role::Clerk,
        unit: Some(unit),
    };
    let ack = Command::Acknowledge(AcknowledgeCase {
        occurred_at: Some(t),
        late_reason: None,
    });
    exec(cases, &clerk, Some(case_id), ack).await?;
    Ok(())
}

/// A visit registered at county level about land, by one petitioner known by name alone: the
/// demo's hand-made cases start from it.
pub(crate) fn registration(
    township: &UnitCode,
    at: Timestamp,
    summary: &str,
    headcount: u32,
    name: &str,
) -> RegisterCase {
    RegisterCase {
        late_reason: None,
        township: township.clone(),
        channel: Channel::Visit,
        received_at: at,
        headcount,
        level_reached: Level::County,
        category: Category::Land,
        summary: summary.into(),
        petitioners: vec![Petitioner {
            name: name.into(),
            id_number: None,
            phone: None,
            address: None,
        }],
        related_case_id: None,
        accusation: false,
        confidential: false,
        leader_reception: false,
        accused_unit: None,
    }
}

/// Carry out `command` as `who`; a step dated long before now states why it is entered late
/// (补录: the demo imports history).
pub(crate) async fn exec(
    cases: &CaseService,
    who: &Principal,
    case_id: Option<CaseId>,
    command: Command,
) -> Result<CaseId, CommandError> {
    let policy = cases.policy();
    let late = command
        .occurred_at()
        .is_some_and(|t| t + Duration::hours(i64::from(policy.late_entry_hours)) < cases.now());
    let command = if late {
        stating_late_reason(command)
    } else {
        command
    };
    let out = cases
        .execute(CommandRequest::new(who, case_id, command))
        .await?;
    Ok(out.committed.case_id)
}

/// The reason the demo and the bench give for entering history late.
pub const LATE_REASON: &str = "历史数据导入";

/// `command` with `late_reason` set (by its body, so every step with a business time has it).
pub fn stating_late_reason(command: Command) -> Command {
    let action = command.action();
    let mut body = command.body();
    if let Some(obj) = body.as_object_mut() {
        obj.insert("late_reason".into(), LATE_REASON.into());
    }
    action.from_json(body).unwrap_or(command)
}
