//! 查询办理进度 (`/console/status`, no sign-in): case number and query code → how the case
//! stands. Both travel in the form's body, never in a URL; the API limits failed lookups per
//! case number and per browser address.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::FormData;
use crate::backend::{query, seg, Call};
use crate::frame::{render, same_origin, Frame};
use crate::Shared;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    f: Frame,
    case_no: String,
    facts: Vec<(String, String)>,
}

pub async fn form() -> Response {
    render(&StatusPage {
        f: Frame::public("办理进度查询"),
        case_no: String::new(),
        facts: Vec::new(),
    })
}

pub async fn lookup(
    State(console): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !same_origin(&headers) {
        return crate::refusal(
            StatusCode::FORBIDDEN,
            "请求来源与本站不一致，已拒绝（跨站请求）。",
        );
    }
    let form = FormData::parse(&body);
    let (no, code) = (form.get("case_no"), form.get("code"));
    let mut f = Frame::public("办理进度查询");
    let page = |f: Frame, facts| StatusPage {
        f,
        case_no: no.to_owned(),
        facts,
    };
    if no.is_empty() || code.is_empty() {
        f.error = "请填写案件编号和查询码。".into();
        return (StatusCode::BAD_REQUEST, render(&page(f, Vec::new()))).into_response();
    }
    let mut call = Call::get(
        "",
        format!("/v1/status/{}{}", seg(no), query(&[("code", code)])),
    );
    call.token = None;
    // Behind a trusted proxy, the API reads the browser's address from X-Forwarded-For.
    call.peer = Some(peer);
    if let Some(v) = headers.get("x-forwarded-for") {
        call.headers.push((
            axum::http::HeaderName::from_static("x-forwarded-for"),
            v.clone(),
        ));
    }
    let answer = console.api.call(call).await;
    if !answer.ok() {
        f.error = match answer.status.as_u16() {
            404 => "案件编号或查询码不正确。".to_owned(),
            429 => "查询失败次数过多，请稍后再试。".to_owned(),
            _ => answer.detail(),
        };
        return (answer.status, render(&page(f, Vec::new()))).into_response();
    }
    let v: wire::CaseStatus = match answer.read() {
        Ok(v) => v,
        Err(why) => {
            f.error = why;
            return (StatusCode::BAD_GATEWAY, render(&page(f, Vec::new()))).into_response();
        }
    };
    let yes_no = |b: bool| if b { "是" } else { "否" }.to_owned();
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut facts = vec![
        ("案件编号".to_owned(), v.case_no),
        ("办理状态".to_owned(), v.status_name),
        ("办理单位".to_owned(), v.unit_name),
        ("收到日期".to_owned(), v.received_date.to_string()),
        ("办理期限".to_owned(), day(v.due_date)),
        ("是否已答复".to_owned(), yes_no(v.replied)),
    ];
    if let Some(d) = v.reply_date {
        facts.push(("答复日期".to_owned(), d.to_string()));
    }
    if let Some(t) = v.reply_text {
        facts.push(("答复意见".to_owned(), t));
    }
    if let Some(d) = v.review_request_until {
        facts.push(("可申请复查/复核至".to_owned(), d.to_string()));
    }
    if !v.steps.is_empty() {
        let steps: Vec<String> = v
            .steps
            .iter()
            .map(|st| format!("{} {}", st.date, st.step_name))
            .collect();
        facts.push(("办理过程".to_owned(), steps.join("；")));
    }
    if let Some(m) = v.merged_into {
        facts.push(("已并入案件".to_owned(), m.case_no));
        facts.push(("并入案件办理状态".to_owned(), m.status_name));
        facts.push(("并入案件是否已答复".to_owned(), yes_no(m.replied)));
        if let Some(d) = m.reply_date {
            facts.push(("并入案件答复日期".to_owned(), d.to_string()));
        }
        if let Some(t) = m.reply_text {
            facts.push(("并入案件答复意见".to_owned(), t));
        }
    }
    render(&page(f, facts))
}
