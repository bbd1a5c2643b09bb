//! Old cases in the demo data (积案, issue 35): a wage matter one petitioner has raised three
//! times in ten months, the third still open with a leader and a plan (一案一策), and a land matter
//! open for four months whose plan's date has passed. Most other open cases of the demo older
//! than `backlog_days` are backlog by age too.

use chrono::Duration;

use commands::CaseService;
use domain::command::*;
use domain::*;

use crate::steps::{acknowledge, exec, registration};

/// Returns the cases registered (none without a township).
pub async fn backlog(
    cases: &CaseService,
    loader: &Principal,
    townships: &[UnitCode],
) -> anyhow::Result<usize> {
    let Some(township) = townships.last() else {
        return Ok(0);
    };
    let now = cases.now();
    let mut registered = 0;
    let mut last = None;
    for days in [300, 200, 110] {
        let at = now - Duration::days(days);
        let mut register = RegisterCase {
            channel: Channel::Visit,
            category: Category::Wages,
            level_reached: Level::County,
            ..registration(
                township,
                at,
                "建筑工地拖欠农民工工资，多次讨要未果",
                1,
                "孙立新",
            )
        };
        register.petitioners[0].phone = Some("13700001111".into());
        let id = exec(cases, loader, None, Command::Register(register)).await?;
        registered += 1;
        acknowledge(cases, id, at + Duration::hours(2)).await?;
        let step = |h: i64| Some(at + Duration::hours(h));
        exec(
            cases,
            loader,
            Some(id),
            Command::Accept(AcceptCase {
                new_facts: None,
                occurred_at: step(24),
                late_reason: None,
            }),
        )
        .await?;
        if days > 110 {
            // The earlier two: replied to and closed; the matter came back.
            for cmd in [
                Command::Reply(ReplyCase {
                    outcome: Outcome::Explained,
                    text: "已责成施工方限期支付".into(),
                    occurred_at: step(24 * 20),
                    late_reason: None,
                }),
                Command::Close(CloseCase {
                    note: None,
                    occurred_at: step(24 * 25),
                    late_reason: None,
                }),
            ] {
                exec(cases, loader, Some(id), cmd).await?;
            }
        }
        last = Some((id, at));
    }
    if let Some((id, at)) = last {
        let leader = Command::AssignLeader(AssignLeader {
            name: "王建华".into(),
            title: "副县长".into(),
            occurred_at: Some(at + Duration::days(3)),
            late_reason: None,
        });
        exec(cases, loader, Some(id), leader).await?;
        let plan = Command::PlanResolution(PlanResolution {
            plan: "县人社局牵头，约谈建设单位和总包方，以工程款优先清偿，月底前兑付".into(),
            leader: None,
            target_date: (now + Duration::days(30)).date_naive(),
            occurred_at: Some(now - Duration::days(2)),
            late_reason: None,
        });
        exec(cases, loader, Some(id), plan).await?;
    }
    // Open four months, its plan's date passed a fortnight ago.
    let at = now - Duration::days(125);
    let register = registration(
        township,
        at,
        "村道拓宽占用承包地，补偿至今未落实",
        3,
        "钱桂芳",
    );
    let id = exec(cases, loader, None, Command::Register(register)).await?;
    registered += 1;
    acknowledge(cases, id, at + Duration::hours(3)).await?;
    let plan = Command::PlanResolution(PlanResolution {
        plan: "乡镇会同自然资源局重新丈量，按标准补偿".into(),
        leader: Some("李明".into()),
        target_date: (now - Duration::days(14)).date_naive(),
        occurred_at: Some(now - Duration::days(60)),
        late_reason: None,
    });
    exec(cases, loader, Some(id), plan).await?;
    Ok(registered)
}
