//! Realistic petitions for the demo data and the simulator: the channel mix, headcounts
//! (collective visits), levels, categories and lifecycle steps of a county's petitions, from a
//! seeded generator so a run can be repeated.

use domain::command::*;
use domain::*;

/// splitmix64: enough randomness for demo data without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇",
];
const VILLAGES: &[&str] = &[
    "东风", "红星", "新华", "联合", "前进", "和平", "长青", "团结",
];
const SUMMARIES: &[(Category, &str)] = &[
    (Category::Land, "征收耕地的补偿款未足额发放"),
    (Category::Land, "与村委会就承包地边界发生争议"),
    (Category::Wages, "建筑工人自春节以来工资被拖欠"),
    (Category::Demolition, "拆迁时承诺的安置房至今未交付"),
    (Category::SocialSecurity, "农村养老金无故停发"),
    (Category::UrbanManagement, "摊位被没收，未出具书面决定"),
    (Category::Environment, "村旁采石场夜间噪声和扬尘扰民"),
    (Category::Other, "请求审查村集体收益的分配"),
];

/// One petition: its registration and the steps that follow, each with the days after the
/// previous step at which it happens.
pub struct Plan {
    pub register: RegisterCase,
    pub steps: Vec<(i64, Command)>,
}

/// A petition in one of `townships`, received when `received` says; assignments go to one of
/// `departments`.
pub fn plan_case(
    rng: &mut Rng,
    townships: &[UnitCode],
    departments: &[UnitCode],
    received: impl FnOnce(&mut Rng) -> Timestamp,
) -> Plan {
    let township = rng.pick(townships).clone();
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
    let t = received(rng);
    let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN));
    let register = Command::Register(RegisterCase {
        late_reason: None,
        township: township.clone(),
        channel,
        received_at: t,
        headcount,
        level_reached: level,
        category,
        summary: summary.into(),
        petitioners: vec![Petitioner {
            name,
            // A valid resident ID: Hangzhou districts, born 1950-2005, any sequence.
            id_number: domain::identity::with_check_digit(&format!(
                "3301{:02}{}{:02}{:02}{:03}",
                1 + rng.below(9),
                1950 + rng.below(56),
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(1000)
            )),
            phone: Some(format!("138{:08}", rng.below(10u64.pow(8)))),
            address: Some(format!(
                "{}村{}组",
                VILLAGES[rng.below(VILLAGES.len() as u64) as usize],
                1 + rng.below(20)
            )),
        }],
        related_case_id: None,
        accusation: rng.chance(2),
        confidential: rng.chance(3),
        // About one visit in ten is received on a leader reception day.
        leader_reception: channel == Channel::Visit && rng.below(10) == 0,
        accused_unit: None,
    });
    let mut steps: Vec<(i64, Command)> = Vec::new();
    if rng.chance(8) {
        // Still waiting for the acceptance decision.
    } else if rng.chance(5) {
        steps.push((
            rng.below(10) as i64,
            Command::Reject(RejectCase {
                late_reason: None,
                reason_code: RejectReason::Litigation,
                reason: "该事项已由人民法院受理".into(),
                occurred_at: None,
            }),
        ));
    } else {
        steps.push((
            rng.below(12) as i64,
            Command::Accept(AcceptCase {
                late_reason: None,
                occurred_at: None,
                new_facts: None,
            }),
        ));
        if !departments.is_empty() && rng.chance(40) {
            let unit = rng.pick(departments).clone();
            steps.push((
                1,
                Command::Assign(AssignCase {
                    late_reason: None,
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
                    late_reason: None,
                    unit: other,
                    reason: "土地位于相邻乡镇".into(),
                    occurred_at: None,
                }),
            ));
            // 签收: the receiving township confirms it has the case.
            steps.push((
                0,
                Command::Acknowledge(AcknowledgeCase {
                    occurred_at: None,
                    late_reason: None,
                }),
            ));
        }
        if rng.chance(10) {
            steps.push((
                20,
                Command::Extend(ExtendDeadline {
                    late_reason: None,
                    days: 30,
                    reason: "需要现场勘查".into(),
                    approved_by: "局长".into(),
                    occurred_at: None,
                }),
            ));
        }
        steps.push((
            5 + rng.below(70) as i64,
            Command::Reply(ReplyCase {
                late_reason: None,
                outcome: *rng.pick(&[
                    Outcome::Supported,
                    Outcome::Explained,
                    Outcome::Explained,
                    Outcome::NotSupported,
                ]),
                text: "书面答复意见已送达信访人".into(),
                occurred_at: None,
            }),
        ));
        let mut dissatisfied = false;
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
                    late_reason: None,
                    satisfaction: s,
                    note: None,
                    occurred_at: None,
                }),
            ));
            dissatisfied = s == Satisfaction::Dissatisfied;
        }
        if rng.chance(85) {
            steps.push((
                2,
                Command::Close(CloseCase {
                    late_reason: None,
                    // After 不满意 a closure states why the case is not handled again.
                    note: dissatisfied.then(|| "信访人仍不满意，已告知申请复查的途径".into()),
                    occurred_at: None,
                }),
            ));
            if rng.chance(6) {
                steps.push((
                    10,
                    Command::RequestReview(RequestReview {
                        late_reason: None,
                        reason: "信访人对答复意见不服".into(),
                        occurred_at: None,
                    }),
                ));
            }
        }
    }
    Plan {
        register: match register {
            Command::Register(r) => r,
            _ => unreachable!("built as a registration above"),
        },
        steps,
    }
}
