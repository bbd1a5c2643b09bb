//! `xinfang up --demo`: a few hundred realistic cases across the configured townships, driven
//! through the real command path (`CaseService::execute`, the same `decide` and append as HTTP),
//! with business times spread over the last five months. Deterministic (seeded), and skipped when
//! the log already holds events, so a restart never doubles the demo.

use chrono::Duration;
use uuid::Uuid;

use domain::command::*;
use domain::*;
use eventlog::{CaseService, CommandError, Request};

use crate::config::Config;

pub const DEMO_CASES: usize = 300;

/// splitmix64: enough randomness for demo data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇",
];
const SUMMARIES: &[(Category, &str)] = &[
    (
        Category::Land,
        "Compensation for requisitioned farmland not paid in full",
    ),
    (
        Category::Land,
        "Boundary dispute over contracted land with the village committee",
    ),
    (
        Category::Wages,
        "Construction workers' wages unpaid since the spring festival",
    ),
    (
        Category::Demolition,
        "Resettlement housing promised at demolition not delivered",
    ),
    (
        Category::SocialSecurity,
        "Rural pension payments stopped without explanation",
    ),
    (
        Category::UrbanManagement,
        "Street stall confiscated without a written decision",
    ),
    (
        Category::Environment,
        "Night-time noise and dust from a quarry near the village",
    ),
    (
        Category::Other,
        "Request to review the allocation of village collective income",
    ),
];

/// Load the demo set; returns the number of cases registered (0 when skipped).
pub async fn load(cases: &CaseService, cfg: &Config) -> anyhow::Result<usize> {
    if cases.log().last_seq().await? > 0 {
        tracing::info!("the log already holds events; demo data is not loaded again");
        return Ok(0);
    }
    let townships: Vec<UnitCode> = cfg
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::Township)
        .map(|u| u.code.clone())
        .collect();
    let departments: Vec<UnitCode> = cfg
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::Department)
        .map(|u| u.code.clone())
        .collect();
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
        let township = rng.pick(&townships).clone();
        let (category, summary) = *rng.pick(SUMMARIES);
        // Channel mix of a county report: mostly visits and phone calls.
        let channel = match rng.below(100) {
            0..=49 => Channel::Visit,
            50..=79 => Channel::Phone,
            80..=84 => Channel::Letter,
            85..=89 => Channel::Online,
            90..=94 => Channel::Hotline12345,
            95..=97 => Channel::Mailbox,
            _ => Channel::LeaderReception,
        };
        let headcount = if channel.is_visit() && rng.chance(15) {
            5 + rng.below(40) as u32
        } else {
            1 + rng.below(3) as u32
        };
        let level = *rng.pick(&[
            Level::Township,
            Level::Township,
            Level::County,
            Level::County,
            Level::City,
            Level::Village,
        ]);
        let mut t = now
            - Duration::days(1 + rng.below(150) as i64)
            - Duration::minutes(rng.below(600) as i64);
        let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN));
        let register = Command::Register(RegisterCase {
            township: township.clone(),
            channel,
            received_at: t,
            headcount,
            level_reached: level,
            category,
            summary: summary.into(),
            petitioners: vec![Petitioner {
                name,
                id_number: Some(format!("3301{:014}", rng.below(10u64.pow(14)))),
                phone: Some(format!("138{:08}", rng.below(10u64.pow(8)))),
                address: Some(format!("{township} village {}", 1 + rng.below(20))),
            }],
            related_case_id: None,
            accusation: rng.chance(2),
            confidential: rng.chance(3),
        });
        let case_id = exec(cases, &loader, None, register).await?;
        let mut steps: Vec<(i64, Command)> = Vec::new();
        if rng.chance(8) {
            // Still waiting for the acceptance decision.
        } else if rng.chance(5) {
            steps.push((
                rng.below(10) as i64,
                Command::Reject(RejectCase {
                    reason_code: RejectReason::Litigation,
                    reason: "The matter is before the people's court".into(),
                    occurred_at: None,
                }),
            ));
        } else {
            steps.push((
                rng.below(12) as i64,
                Command::Accept(AcceptCase { occurred_at: None }),
            ));
            if !departments.is_empty() && rng.chance(40) {
                let unit = rng.pick(&departments).clone();
                steps.push((
                    1,
                    Command::Assign(AssignCase {
                        unit,
                        due_date: None,
                        note: Some("交办".into()),
                        occurred_at: None,
                    }),
                ));
            } else if townships.len() > 1 && rng.chance(10) {
                let other = townships
                    .iter()
                    .find(|u| **u != township)
                    .cloned()
                    .unwrap_or_else(|| township.clone());
                steps.push((
                    2,
                    Command::Transfer(TransferCase {
                        unit: other,
                        reason: "The land lies in the neighbouring township".into(),
                        occurred_at: None,
                    }),
                ));
            }
            if rng.chance(10) {
                steps.push((
                    20,
                    Command::Extend(ExtendDeadline {
                        days: 30,
                        reason: "Site survey needed".into(),
                        approved_by: "bureau director".into(),
                        occurred_at: None,
                    }),
                ));
            }
            steps.push((
                5 + rng.below(70) as i64,
                Command::Reply(ReplyCase {
                    outcome: *rng.pick(&[
                        Outcome::Supported,
                        Outcome::Explained,
                        Outcome::Explained,
                        Outcome::NotSupported,
                    ]),
                    text: "Written reply delivered to the petitioner".into(),
                    occurred_at: None,
                }),
            ));
            if rng.chance(70) {
                let s = *rng.pick(&[
                    Satisfaction::Satisfied,
                    Satisfaction::Satisfied,
                    Satisfaction::BasicallySatisfied,
                    Satisfaction::Dissatisfied,
                    Satisfaction::Unreachable,
                ]);
                steps.push((
                    3,
                    Command::FollowUp(RecordFollowUp {
                        satisfaction: s,
                        note: None,
                        occurred_at: None,
                    }),
                ));
            }
            if rng.chance(85) {
                steps.push((
                    2,
                    Command::Close(CloseCase {
                        note: None,
                        occurred_at: None,
                    }),
                ));
                if rng.chance(6) {
                    steps.push((
                        10,
                        Command::RequestReview(RequestReview {
                            reason: "The petitioner disagrees with the reply".into(),
                            occurred_at: None,
                        }),
                    ));
                }
            }
        }
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
        .execute(Request {
            principal: who,
            case_id,
            command,
            if_match: None,
            idempotency: None,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        })
        .await?;
    Ok(out.committed.case_id)
}
