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
    // Petitioners registered so far, with their matter: about one case in eight is a returning
    // petitioner (重复访 when on the same matter).
    let mut seen: Vec<(Petitioner, Category)> = Vec::new();
    for i in 0..DEMO_CASES {
        let mut plan = plan_case(&mut rng, townships, departments, |rng| {
            now - Duration::days(1 + rng.below(150) as i64)
                - Duration::minutes(rng.below(600) as i64)
        });
        if !seen.is_empty() && rng.chance(12) {
            let (petitioner, category) = rng.pick(&seen).clone();
            plan.register.petitioners = vec![petitioner];
            if rng.chance(60) {
                plan.register.category = category;
            }
        }
        seen.push((plan.register.petitioners[0].clone(), plan.register.category));
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
    Ok(DEMO_CASES + one_matter_in_two_places(cases, &loader, townships).await?)
}

/// 一信多投: one petitioner's matter registered yesterday in two townships, both still open, for
/// the county's duplicates list (`GET /v1/cases?flag=duplicate`) and a merge. Returns the cases
/// registered (none with a single township).
async fn one_matter_in_two_places(
    cases: &CaseService,
    loader: &Principal,
    townships: &[UnitCode],
) -> anyhow::Result<usize> {
    let [first, second, ..] = townships else {
        return Ok(0);
    };
    let at = cases.now() - Duration::days(1);
    for (township, hours) in [(first, 0), (second, 3)] {
        let register = RegisterCase {
            township: township.clone(),
            channel: Channel::Letter,
            received_at: at + Duration::hours(hours),
            headcount: 1,
            level_reached: Level::Township,
            category: Category::Wages,
            summary: "建筑工地拖欠农民工工资八个月，同一封信寄往两个乡镇".into(),
            petitioners: vec![Petitioner {
                name: "刘建国".into(),
                id_number: domain::identity::with_check_digit("33010219780512345"),
                phone: Some("13905710001".into()),
                address: None,
            }],
            related_case_id: None,
            accusation: false,
            confidential: false,
            leader_reception: false,
            accused_unit: None,
        };
        exec(cases, loader, None, Command::Register(register)).await?;
    }
    Ok(2)
}

fn set_occurred_at(cmd: &mut Command, t: Timestamp) {
    if let Some(slot) = cmd.occurred_at_mut() {
        *slot = Some(t);
    }
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
