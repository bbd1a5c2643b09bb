//! `xinfang up --demo`: a few hundred realistic cases across the configured townships, driven
//! through the real command path (`CaseService::execute`, the same `decide` and append as HTTP),
//! with business times spread over the last five months and the same months a year earlier.
//! Deterministic (seeded), and skipped when the log already holds events, so a restart never
//! doubles the demo.

use chrono::Duration;

use commands::{CaseService, CommandError};
use domain::command::*;
use domain::*;

use crate::scenario::{plan_case, Rng};
use crate::steps::{acknowledge, exec, registration};

pub const DEMO_CASES: usize = 300;
/// Cases of the same months a year earlier.
pub const PRIOR_YEAR_CASES: usize = 120;

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
    // The same months a year earlier first (so that `compare=yoy` shows a change), then this year.
    let mut loaded = 0;
    for (n, year_ago) in [(PRIOR_YEAR_CASES, 365), (DEMO_CASES, 0)] {
        for _ in 0..n {
            let mut plan = plan_case(&mut rng, townships, departments, |rng| {
                now - Duration::days(year_ago + 1 + rng.below(150) as i64)
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
            // 签收 by the township, mostly within the quarter hour; some never acknowledge.
            if rng.chance(85) {
                acknowledge(cases, case_id, t + Duration::minutes(15)).await?;
            }
            for (days, mut cmd) in plan.steps {
                t += Duration::days(days) + Duration::minutes(30);
                if t > now {
                    break;
                }
                set_occurred_at(&mut cmd, t);
                let assigned = matches!(cmd, Command::Assign(_));
                if matches!(cmd, Command::Acknowledge(_)) {
                    acknowledge(cases, case_id, t).await?;
                } else {
                    exec(cases, &loader, Some(case_id), cmd).await?;
                }
                if assigned && rng.chance(85) {
                    acknowledge(cases, case_id, t + Duration::minutes(15)).await?;
                }
            }
            loaded += 1;
            if loaded % 100 == 0 {
                tracing::info!(loaded, of = DEMO_CASES + PRIOR_YEAR_CASES, "demo data");
            }
        }
    }
    let pair = one_matter_in_two_places(cases, &loader, townships).await?;
    let work = casework(cases, &loader, townships, departments).await?;
    let looped = crate::demo_loop::closed_loop(cases, &loader, townships).await?;
    let old = crate::demo_backlog::backlog(cases, &loader, townships).await?;
    let watched = crate::demo_watch::watch(cases, &loader, townships).await?;
    Ok(loaded + pair + work + looped + old + watched)
}

/// The county's casework at a glance (issue 13): an accusation against a township (held by the
/// county), a registration corrected, a withdrawal, a case with evidence and a leader who owns
/// it. Returns the cases registered.
async fn casework(
    cases: &CaseService,
    loader: &Principal,
    townships: &[UnitCode],
    departments: &[UnitCode],
) -> anyhow::Result<usize> {
    let Some(township) = townships.first() else {
        return Ok(0);
    };
    let at = cases.now() - Duration::days(2);
    let register = |summary: &str, headcount: u32, name: &str| {
        registration(township, at, summary, headcount, name)
    };
    let step = |t: i64| Some(at + Duration::hours(t));
    // Against the township (the county holds it) when the county has a unit of its own to hold
    // it; else against a department.
    let accuse = |unit: &UnitCode| RegisterCase {
        accusation: true,
        accused_unit: Some(unit.clone()),
        ..register("举报村干部截留征地补偿款", 1, "匿名")
    };
    let held = exec(cases, loader, None, Command::Register(accuse(township))).await;
    match (held, departments.first()) {
        (Ok(_), _) => {}
        (Err(CommandError::Domain(DomainError::Validation(_))), Some(department)) => {
            exec(cases, loader, None, Command::Register(accuse(department))).await?;
        }
        (Err(CommandError::Domain(DomainError::Validation(_))), None) => {}
        (Err(e), _) => return Err(e.into()),
    }
    let new_case = |r: RegisterCase| exec(cases, loader, None, Command::Register(r));
    let corrected = new_case(register("征地补偿标准过低，集体来访", 6, "陈国平")).await?;
    let correct = CorrectRegistration {
        late_reason: None,
        reason: "来访人数登记有误，实为 2 人".into(),
        changes: RegistrationFacts {
            headcount: Some(2),
            ..Default::default()
        },
        occurred_at: step(1),
    };
    exec(cases, loader, Some(corrected), Command::Correct(correct)).await?;
    let withdrawn = new_case(register("宅基地界址纠纷", 1, "赵秀兰")).await?;
    let withdraw = WithdrawCase {
        late_reason: None,
        reason: "双方已自行协商解决，信访人申请撤回".into(),
        occurred_at: step(2),
    };
    exec(cases, loader, Some(withdrawn), Command::Withdraw(withdraw)).await?;
    let evidence = new_case(register("征地后未安置，附来信扫描件", 1, "孙立军")).await?;
    let scan = b"%PDF-1.4\n% demo: a scanned letter\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
    let sha256 = cases.store_evidence(Some(evidence), scan).await?;
    let attach = AddAttachment {
        late_reason: None,
        sha256,
        size: scan.len() as u64,
        content_type: "application/pdf".into(),
        filename: "来信扫描件.pdf".into(),
        occurred_at: step(1),
    };
    exec(cases, loader, Some(evidence), Command::Attach(attach)).await?;
    let lead = AssignLeader {
        late_reason: None,
        name: "王建华".into(),
        title: "副县长".into(),
        occurred_at: step(2),
    };
    exec(cases, loader, Some(evidence), Command::AssignLeader(lead)).await?;
    Ok(4)
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
            late_reason: None,
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
