//! `xinfang up --demo`: a few hundred realistic cases across the configured townships, driven
//! through the real command path (`CaseService::execute`, the same `decide` and append as HTTP),
//! with business times spread over the last five months. Deterministic (seeded), and skipped when
//! the log already holds events, so a restart never doubles the demo.

use chrono::Duration;

use commands::{CaseService, CommandError, CommandRequest};
use domain::command::*;
use domain::*;

use crate::scenario::{plan_case, Rng};

pub const DEMO_CASES: usize = 300;

/// Load the demo set; returns the number of cases registered (0 when skipped).
pub async fn load(
    cases: &CaseService,
    townships: &[UnitCode],
    departments: &[UnitCode],
) -> anyhow::Result<usize> {
    if cases.last_seq().await? > 0 {
        tracing::info!("the log already holds events; demo data is not loaded again");
        return Ok(0);
    }
    anyhow::ensure!(
        !townships.is_empty(),
        "--demo needs at least one [[unit]] of kind township"
    );
    let loader = Principal {
        id: PrincipalId("demo-loader".into()),
        role: Role::County,
        unit: None,
    };
    let now = cases.now();
    let mut rng = Rng(20_260_302);
    for i in 0..DEMO_CASES {
        let plan = plan_case(&mut rng, townships, departments, |rng| {
            now - Duration::days(1 + rng.below(150) as i64)
                - Duration::minutes(rng.below(600) as i64)
        });
        let mut t = plan.register.received_at;
        let case_id = exec(cases, &loader, None, Command::Register(plan.register)).await?;
        let steps = plan.steps;
        for (days, mut cmd) in steps {
            t += Duration::days(days) + Duration::minutes(30);
            if t > now {
                break;
            }
            set_occurred_at(&mut cmd, t);
            exec(cases, &loader, Some(case_id), cmd).await?;
        }
        if (i + 1) % 100 == 0 {
            tracing::info!(loaded = i + 1, of = DEMO_CASES, "demo data");
        }
    }
    Ok(DEMO_CASES)
}

fn set_occurred_at(cmd: &mut Command, t: Timestamp) {
    let slot = match cmd {
        Command::Register(_) => return,
        Command::Accept(c) => &mut c.occurred_at,
        Command::Reject(c) => &mut c.occurred_at,
        Command::Assign(c) => &mut c.occurred_at,
        Command::Transfer(c) => &mut c.occurred_at,
        Command::Supervise(c) => &mut c.occurred_at,
        Command::Extend(c) => &mut c.occurred_at,
        Command::Reply(c) => &mut c.occurred_at,
        Command::FollowUp(c) => &mut c.occurred_at,
        Command::Close(c) => &mut c.occurred_at,
        Command::RequestReview(c) | Command::RequestRereview(c) => &mut c.occurred_at,
        Command::DecideReview(c) | Command::DecideRereview(c) => &mut c.occurred_at,
    };
    *slot = Some(t);
}

async fn exec(
    cases: &CaseService,
    who: &Principal,
    case_id: Option<CaseId>,
    command: Command,
) -> Result<CaseId, CommandError> {
    let out = cases
        .execute(CommandRequest::new(who, case_id, command))
        .await?;
    Ok(out.committed.case_id)
}
