//! Early warning in the demo data (苗头预警, issue 35): a township's wage complaints surging in the
//! last week (seven after about one a month), and two collective visits on one land matter within
//! a fortnight, so the warning board shows a surge and a repeated collective visit.

use chrono::Duration;

use commands::CaseService;
use domain::command::*;
use domain::*;

use crate::steps::{exec, registration};

/// Returns the cases registered (none without two townships).
pub async fn watch(
    cases: &CaseService,
    loader: &Principal,
    townships: &[UnitCode],
) -> anyhow::Result<usize> {
    let (Some(surging), Some(visited)) = (townships.get(1), townships.first()) else {
        return Ok(0);
    };
    let now = cases.now();
    let mut registered = 0;
    let workers = [
        "刘志强",
        "陈美玲",
        "黄德明",
        "周春燕",
        "徐建国",
        "马秀芳",
        "朱永红",
    ];
    for (n, name) in workers.iter().enumerate() {
        let at = now - Duration::days(6 - n as i64) - Duration::hours(3);
        let register = RegisterCase {
            channel: Channel::Phone,
            category: Category::Wages,
            level_reached: Level::Township,
            ..registration(
                surging,
                at,
                "工业园区电子厂停产，拖欠工人三个月工资",
                1,
                name,
            )
        };
        exec(cases, loader, None, Command::Register(register)).await?;
        registered += 1;
    }
    for (days, leader) in [(15, "赵长林"), (3, "孙玉兰")] {
        let at = now - Duration::days(days);
        let register = registration(
            visited,
            at,
            "高速公路征地补偿标准争议，村民集体到县上访",
            8,
            leader,
        );
        exec(cases, loader, None, Command::Register(register)).await?;
        registered += 1;
    }
    Ok(registered)
}
