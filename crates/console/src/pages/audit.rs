//! 纪检审计: open any case by its number (its page shows the history and the verification of its
//! hash chain) and an official's trail across cases, either as of a date. Adjustments (核减) and
//! erasures are on 核减与删除 (`governance`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::FormData;
use crate::backend::{query, seg};
use crate::frame::{render, Signed};
use crate::names::{event, time, zh};
use crate::pages::table::{Cell, Input, Table, TablePage};

fn get<'a>(p: &'a BTreeMap<String, String>, k: &str) -> &'a str {
    p.get(k).map_or("", |v| v.trim())
}

/// The first day of this year and today, in the policy time zone.
pub fn this_year(signed: &Signed) -> (String, String) {
    let today = chrono::Utc::now()
        .with_timezone(&signed.console.tz)
        .date_naive();
    (format!("{}-01-01", today.format("%Y")), today.to_string())
}

pub async fn index(signed: Signed) -> Response {
    let mut page = TablePage::new(signed.frame("案件核查", "/console/audit"), "案件核查");
    page.intro = "输入案件编号，查看该案件的全部事件及哈希链核验结果；可在页首选择“截至日期”查看当时的情况。".into();
    page.form_method = "post".into();
    page.inputs = vec![Input::text("case_no", "案件编号", "")];
    // What a case's 核验包 (downloaded from its page) is checked with, offline (issue 34,
    // finding 1): `xinfang verify --bundle FILE --public-key KEY`.
    let keys = signed
        .console
        .api
        .get(signed.token(), "/v1/audit/public-key")
        .await;
    if let Some(keys) = keys
        .ok()
        .then(|| keys.read::<wire::keys::PublicKeys>().ok())
        .flatten()
    {
        let tz = signed.console.tz;
        let when = |t: Option<chrono::DateTime<chrono::FixedOffset>>| {
            t.map(|t| time(tz, &t.to_rfc3339())).unwrap_or_default()
        };
        page.tables.push(Table {
            title: "签名公钥（核验包用 xinfang verify --bundle 文件 --public-key 公钥 离线核验）"
                .into(),
            columns: ["密钥编号", "公钥", "启用", "停用"]
                .map(String::from)
                .to_vec(),
            rows: keys
                .keys
                .iter()
                .map(|k| {
                    vec![
                        Cell::text(k.key_id.as_str()),
                        Cell::text(k.public_key.as_str()),
                        Cell::text(when(k.valid_from)),
                        Cell::text(when(k.valid_to)),
                    ]
                })
                .collect(),
        });
    }
    render(&page)
}

/// A case number (in the body, never in a URL) → that case's page.
pub async fn open_case(signed: Signed, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return r;
    }
    super::open_by_no(&signed, form.get("case_no")).await
}

/// 人员轨迹: every event an official caused, by business or recorded date.
pub async fn actor(signed: Signed, Query(p): Query<BTreeMap<String, String>>) -> Response {
    let (first, today) = this_year(&signed);
    let who = get(&p, "principal");
    let from = super::param(&p, "from", &first);
    let to = super::param(&p, "to", &today);
    let by = if get(&p, "date") == "occurred" {
        "occurred"
    } else {
        "recorded"
    };
    let mut page = TablePage::new(signed.frame("人员轨迹", "/console/audit/actor"), "人员轨迹");
    page.intro = "某一工作人员在各案件中的全部操作。".into();
    // The county's principals to pick from (issue 34, finding 6): an account is chosen, not typed.
    let listed = signed
        .console
        .api
        .get(signed.token(), "/v1/principals")
        .await;
    let principals = listed
        .ok()
        .then(|| listed.read::<wire::Principals>().ok())
        .flatten()
        .map(|p| p.principals)
        .unwrap_or_default();
    // Without the list (the API did not answer) nobody is called unknown.
    let known = principals.is_empty() || principals.iter().any(|p| p.principal_id == who);
    let mut options: Vec<(String, String)> = vec![(String::new(), "请选择工作人员".into())];
    options.extend(principals.iter().map(|p| {
        let unit = p
            .unit_name
            .as_deref()
            .map(|u| format!(" · {u}"))
            .unwrap_or_default();
        (
            p.principal_id.clone(),
            format!("{}（{}{unit}）", p.principal_id, zh(p.role.as_str())),
        )
    }));
    if !who.is_empty() && !known {
        options.push((who.to_owned(), who.to_owned()));
    }
    let options: Vec<(&str, &str)> = options
        .iter()
        .map(|(v, l)| (v.as_str(), l.as_str()))
        .collect();
    page.inputs = vec![
        Input::select("principal", "工作人员", who, &options),
        Input::date("from", "起", &from),
        Input::date("to", "止", &to),
        Input::select(
            "date",
            "按",
            by,
            &[("recorded", "录入日期"), ("occurred", "业务日期")],
        ),
    ];
    if who.is_empty() {
        return render(&page);
    }
    let as_of = match super::end_of_day(&signed.console, get(&p, "as_of")) {
        Ok(at) => at.unwrap_or_default(),
        Err(page) => return *page,
    };
    page.f.as_of = get(&p, "as_of").to_owned();
    page.f.keep = vec![
        ("principal".into(), who.to_owned()),
        ("from".into(), from.clone()),
        ("to".into(), to.clone()),
        ("date".into(), by.to_owned()),
    ];
    let path = format!(
        "/v1/audit/actors/{}{}",
        seg(who),
        query(&[
            ("from", &from),
            ("to", &to),
            ("date", by),
            ("as_of", &as_of)
        ])
    );
    let answer = signed.console.api.get(signed.token(), path).await;
    if !answer.ok() {
        page.f.error = answer.detail();
        return render(&page);
    }
    let tz = signed.console.tz;
    let trail: wire::audit::ActorTrail = match answer.read() {
        Ok(t) => t,
        Err(why) => {
            page.f.error = why;
            return render(&page);
        }
    };
    // An account the county does not have and that did nothing is no clean record: say so.
    if !known && trail.events.is_empty() {
        page.f.error = format!("没有账号为“{who}”的工作人员（也没有该账号的任何操作记录）。");
        return (StatusCode::NOT_FOUND, render(&page)).into_response();
    }
    if let Some(why) = super::before_first_record(Some(trail.applied_seq)) {
        page.f.notice = why;
    }
    let rows: Vec<Vec<Cell>> = trail
        .events
        .iter()
        .map(|e| {
            let case = e.case_id.to_string();
            vec![
                Cell::text(e.seq.to_string()),
                // By its number (issue 34, finding 6); the id's start only for a case the
                // model no longer names.
                Cell::link(
                    e.case_no
                        .clone()
                        .unwrap_or_else(|| case.chars().take(8).collect()),
                    format!("/console/cases/{case}"),
                ),
                Cell::text(event(&e.type_)),
                Cell::text(time(tz, &e.occurred_at.to_rfc3339())),
                Cell::text(time(tz, &e.recorded_at.to_rfc3339())),
            ]
        })
        .collect();
    page.tables.push(Table {
        title: format!("{who} 的操作（{} 条）", rows.len()),
        columns: ["序号", "案件", "操作", "业务时间", "录入时间"]
            .map(String::from)
            .to_vec(),
        rows,
    });
    render(&page)
}
