//! The closed loop of a petition in the demo data (issue 33): a case registered by the county for
//! a township, acknowledged (签收), reminded (催办), replied to, found wanting at the follow-up
//! (不满意) and reopened (重办); one of them handled again to the petitioner's satisfaction and
//! closed, the other still being handled again.

use chrono::Duration;

use commands::CaseService;
use domain::command::*;
use domain::*;

use crate::steps::{acknowledge, exec, registration};

/// Returns the cases registered (none without a township).
pub async fn closed_loop(
    cases: &CaseService,
    loader: &Principal,
    townships: &[UnitCode],
) -> anyhow::Result<usize> {
    let Some(township) = townships.first() else {
        return Ok(0);
    };
    let mut registered = 0;
    for (name, settled) in [("周秀英", true), ("吴建军", false)] {
        let at = cases.now() - Duration::days(20);
        let hours = |h: i64| Some(at + Duration::hours(h));
        let register = RegisterCase {
            channel: Channel::Phone,
            level_reached: Level::Township,
            category: Category::SocialSecurity,
            ..registration(township, at, "农村养老金停发三个月，未说明原因", 1, name)
        };
        let id = exec(cases, loader, None, Command::Register(register)).await?;
        registered += 1;
        acknowledge(cases, id, at + Duration::hours(2)).await?;
        let reply = |text: &str, h: i64| {
            Command::Reply(ReplyCase {
                outcome: Outcome::Explained,
                text: text.into(),
                occurred_at: hours(h),
                late_reason: None,
            })
        };
        let follow_up = |satisfaction: Satisfaction, h: i64| {
            Command::FollowUp(RecordFollowUp {
                satisfaction,
                note: None,
                occurred_at: hours(h),
                late_reason: None,
            })
        };
        let steps = [
            Command::Remind(RemindCase {
                note: "请三日内答复".into(),
                occurred_at: hours(24),
                late_reason: None,
            }),
            Command::Accept(AcceptCase {
                new_facts: None,
                occurred_at: hours(26),
                late_reason: None,
            }),
            reply("经核查系身份信息比对异常，已恢复发放", 72),
            follow_up(Satisfaction::Dissatisfied, 96),
            Command::Reopen(ReopenCase {
                reason: "信访人反映停发期间的养老金未补发".into(),
                unit: None,
                due_date: None,
                occurred_at: hours(100),
                late_reason: None,
            }),
        ];
        for step in steps {
            exec(cases, loader, Some(id), step).await?;
        }
        acknowledge(cases, id, at + Duration::hours(101)).await?;
        if settled {
            let close = Command::Close(CloseCase {
                note: None,
                occurred_at: hours(170),
                late_reason: None,
            });
            for step in [
                reply("停发期间的养老金已于本月补发到账", 140),
                follow_up(Satisfaction::Satisfied, 160),
                close,
            ] {
                exec(cases, loader, Some(id), step).await?;
            }
        }
    }
    Ok(registered)
}
