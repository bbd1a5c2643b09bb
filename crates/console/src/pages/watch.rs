//! 苗头预警 (issue 35): the warning board. The county (and auditors) see every township's alerts
//! of a period with the cases each names; a township's staff see their own township's. An
//! alert is computed from the log (a surge of a matter, collective visits again within a month,
//! one petitioner's cases again and again); the cases it names open by their numbers. The
//! county records its 研判 of an alert (an assessment and a plan) on the board; the latest holds.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::FormData;
use crate::backend::{seg, Call};
use crate::frame::{read_or_page, render, Signed};
use crate::names::zh;
use crate::pages::table::{Cell, Input, Table, TablePage};

const KINDS: [(&str, &str); 4] = [
    ("", "全部类型"),
    ("surge", "信访量激增"),
    ("collective_repeat", "集体访反复"),
    ("repeat_petitioner", "重复信访"),
];

fn kind_name(kind: domain::alerts::AlertKind) -> &'static str {
    kind.name_zh()
}

pub async fn board(signed: Signed, Query(p): Query<BTreeMap<String, String>>) -> Response {
    board_page(&signed, &p, None).await
}

/// 研判 from the board (county): the alert's review, then the board again with the same filters.
pub async fn review(
    signed: Signed,
    Path(id): Path<String>,
    Query(p): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return r;
    }
    let body = serde_json::json!({"assessment": form.get("assessment"), "plan": form.get("plan")});
    let path = format!("/v1/alerts/{}/review", seg(&id));
    let answer = signed
        .console
        .api
        .call(Call::post_json(signed.token(), path, &body))
        .await;
    if !answer.ok() {
        let msg = format!("研判：{}", answer.detail());
        return board_page(&signed, &p, Some((answer.status, msg))).await;
    }
    let mut back = p.clone();
    back.insert("done".into(), "review".into());
    let pairs: Vec<(&str, &str)> = back.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Redirect::to(&format!("/console/alerts{}", crate::backend::query(&pairs))).into_response()
}

async fn board_page(
    signed: &Signed,
    p: &BTreeMap<String, String>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let p = p.clone();
    let tz = signed.console.tz;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let month_ago = (today - chrono::Duration::days(30)).to_string();
    let from = super::param(&p, "from", &month_ago);
    let to = super::param(&p, "to", &today.to_string());
    let kind = p.get("kind").map(|k| k.trim()).unwrap_or_default();
    let township = p.get("township").map(|t| t.trim()).unwrap_or_default();
    let answer = signed
        .console
        .api
        .get(
            signed.token(),
            format!(
                "/v1/alerts{}",
                crate::backend::query(&[
                    ("from", &from),
                    ("to", &to),
                    ("kind", kind),
                    ("township", township),
                ])
            ),
        )
        .await;
    let list: wire::alerts::AlertList = match read_or_page(&answer) {
        Ok(list) => list,
        Err(page) => return *page,
    };
    let county = signed.is(&["county", "auditor"]);
    let reviews = signed.is(&["county"]);
    let mut f = signed.frame("苗头预警", "/console/alerts");
    f.as_of_allowed = false;
    if p.get("done").is_some_and(|d| d == "review") {
        f.notice = "已记录研判。".into();
    }
    // A review comes back to the board as it was (its filters).
    let filters = crate::backend::query(&[
        ("from", &from),
        ("to", &to),
        ("kind", kind),
        ("township", township),
    ]);
    let mut page = TablePage::new(
        f,
        if county {
            "苗头预警（全县）"
        } else {
            "苗头预警（本乡镇）"
        },
    );
    let unreviewed = list.items.iter().filter(|a| a.reviewed.is_none()).count();
    page.intro = format!(
        "{from} 至 {to} 期间出现的预警 {} 条，其中尚未研判 {unreviewed} 条。预警由系统按登记数据自动判断，不能手工录入：某乡镇某类事项一周内的件数远高于平常（信访量激增），同一事项 30 天内两次以上集体访（集体访反复），同一信访人同类事项 90 天内三件以上（重复信访，只列案件，不列个人）。最新出现的排在最前。",
        list.items.len()
    );
    let mut inputs = vec![
        Input::date("from", "开始日期", &from),
        Input::date("to", "结束日期", &to),
        Input::select("kind", "预警类型", kind, &KINDS),
    ];
    if county {
        let townships = super::township_choices(signed).await;
        let options: Vec<(&str, &str)> = townships
            .iter()
            .map(|(c, n)| (c.as_str(), n.as_str()))
            .collect();
        inputs.push(Input::select("township", "乡镇", township, &options));
    }
    page.inputs = inputs;
    let rows = list
        .items
        .iter()
        .map(|a| {
            let cases = a
                .case_nos
                .iter()
                .map(|no| {
                    (
                        format!("/console/cases/no/{}", crate::backend::seg(no)),
                        no.clone(),
                    )
                })
                .collect::<Vec<_>>();
            let reviewed = match &a.reviewed {
                Some(r) => format!(
                    "{}；措施：{}（{}，{}）",
                    r.assessment,
                    r.plan,
                    r.by,
                    crate::names::time(tz, &r.at.to_rfc3339())
                ),
                None => "未研判".to_owned(),
            };
            let mut row = vec![
                Cell::text(kind_name(a.kind)),
                Cell::text(a.township_name.clone()),
                Cell::text(zh(a.category.as_str())),
                Cell::text(a.count.to_string()),
                Cell::text(
                    a.baseline
                        .map(|b| format!("平常一周约 {b:.1} 件"))
                        .unwrap_or_default(),
                ),
                Cell::text(format!("{} 至 {}", a.window.from, a.window.to)),
                Cell::text(crate::names::time(tz, &a.first_at.to_rfc3339())),
            ];
            row.push(Cell::links(cases));
            row.push(Cell::text(reviewed));
            if reviews {
                row.push(Cell::form(
                    if a.reviewed.is_some() {
                        "重新研判"
                    } else {
                        "研判"
                    },
                    format!("/console/alerts/{}/review{filters}", a.alert_id),
                    &[("assessment", "研判意见"), ("plan", "处置措施")],
                ));
            }
            row
        })
        .collect();
    page.tables.push(Table {
        title: "预警".into(),
        columns: [
            "类型",
            "乡镇",
            "类别",
            "件数",
            "基线",
            "涉及案件日期",
            "开始于",
            "涉及案件",
            "研判",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    if reviews {
        page.tables[0].columns.push("记录研判".into());
    }
    match error {
        Some((status, msg)) => {
            page.f.error = msg;
            (status, render(&page)).into_response()
        }
        None => render(&page),
    }
}

/// A case by its number (the warning board links the cases an alert names by number).
pub async fn by_no(signed: Signed, Path(no): Path<String>) -> Response {
    super::open_by_no(&signed, &no).await
}
