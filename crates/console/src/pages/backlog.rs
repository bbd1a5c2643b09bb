//! 积案 (issue 35): the board of old cases, for the county (and auditors, who read): every open
//! case that is backlog (`flag=backlog`), plans past their date first, then the oldest; with its
//! age, its place among its petitioner's cases of the matter, its leader and its plan (一案一策).
//! A plan is set on the case page (制定化解方案).

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::response::Response;

use crate::frame::Signed;
use crate::pages::table::{Cell, Input, Table, TablePage};

/// Most cases the board lists (one page of the API).
const MOST: usize = 1000;

pub async fn board(signed: Signed, Query(p): Query<BTreeMap<String, String>>) -> Response {
    let township = p.get("township").map(|t| t.trim()).unwrap_or_default();
    let limit = MOST.to_string();
    let answer = signed
        .console
        .api
        .get(
            signed.token(),
            format!(
                "/v1/cases{}",
                crate::backend::query(&[
                    ("flag", "backlog"),
                    ("limit", &limit),
                    ("township", township),
                ])
            ),
        )
        .await;
    let page: wire::cases::CasePage = match crate::frame::read_or_page(&answer) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    let tz = signed.console.tz;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let mut items = page.items;
    // Plans past their date first, then the cases without a plan, then the rest; oldest first.
    items.sort_by_key(|c| {
        let rank = match &c.resolution_plan {
            Some(p) if p.overdue => 0,
            None => 1,
            Some(_) => 2,
        };
        (rank, c.received_at, c.case_no.clone())
    });
    let overdue = items
        .iter()
        .filter(|c| c.resolution_plan.as_ref().is_some_and(|p| p.overdue))
        .count();
    let unplanned = items.iter().filter(|c| c.resolution_plan.is_none()).count();
    let mut f = signed.frame("积案", "/console/backlog");
    f.as_of_allowed = false;
    let mut board = TablePage::new(f, "积案（一案一策）");
    board.intro = format!(
        "在办且收到超过规定天数，或同一信访人同类事项达到规定件数（第三件起，以政策为准）的案件，共 {} 件：化解方案逾期 {overdue} 件，尚未制定方案 {unplanned} 件。方案逾期的排在最前，其次是未制定方案的，各按收到时间从早到晚。{}",
        items.len(),
        if page.next_cursor.is_some() {
            format!("（仅列出前 {MOST} 件，请按乡镇筛选。）")
        } else {
            String::new()
        }
    );
    let townships = super::township_choices(&signed).await;
    let options: Vec<(&str, &str)> = townships
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    board.inputs = vec![Input::select("township", "乡镇", township, &options)];
    let rows = items
        .iter()
        .map(|c| {
            let received = c.received_at.with_timezone(&tz).date_naive();
            let age = (today - received).num_days();
            let plan = c.resolution_plan.as_ref();
            let verdict = match plan {
                Some(p) if p.overdue => "方案已逾期".to_owned(),
                Some(_) => "化解中".to_owned(),
                None => "未制定方案".to_owned(),
            };
            vec![
                Cell::link(c.case_no.clone(), format!("/console/cases/{}", c.case_id)),
                Cell::text(c.township_name.clone()),
                Cell::text(c.unit_name.clone()),
                Cell::text(crate::names::zh(c.category.as_str())),
                Cell::text(received.to_string()),
                Cell::text(format!("{age} 天")),
                Cell::text(
                    c.repeat_rank
                        .filter(|r| *r > 1)
                        .map(|r| format!("第 {r} 件"))
                        .unwrap_or_default(),
                ),
                Cell::text(
                    c.leader
                        .as_ref()
                        .map(|l| l.name.clone())
                        .unwrap_or_default(),
                ),
                Cell::text(plan.map(|p| p.plan.clone()).unwrap_or_default()),
                Cell::text(plan.and_then(|p| p.leader.clone()).unwrap_or_default()),
                Cell::text(plan.map(|p| p.target_date.to_string()).unwrap_or_default()),
                Cell::text(verdict),
            ]
        })
        .collect();
    board.tables.push(Table {
        title: "积案".into(),
        columns: [
            "案件编号",
            "乡镇",
            "承办单位",
            "类别",
            "收到日期",
            "已历时",
            "同类重复",
            "包案领导",
            "化解方案",
            "责任领导",
            "化解期限",
            "状态",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    crate::frame::render(&board)
}
