//! 核减 and 个人信息删除 in the console (issue 34, finding 1): the county asks on a case page, a
//! second principal approves (or revokes) on 核减与删除, the page of every adjustment and erasure
//! with who asked and who approved; each a call of the API's own paths, which decide who may.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use wire::adjustments::AdjustmentList;
use wire::erasures::ErasureList;

use super::FormData;
use crate::backend::{query, seg, Call};
use crate::frame::{read_or_page, render, Signed};
use crate::names::{time, zh};
use crate::pages::table::{Cell, Input, Table, TablePage};

type Params = Query<BTreeMap<String, String>>;

/// The notice after a step of the records page.
pub fn done(step: &str) -> &'static str {
    match step {
        "approve-adjustment" => "已批准核减。",
        "revoke-adjustment" => "已撤销核减。",
        "approve-erasure" => "已批准删除，该案的个人信息已删除。",
        _ => "已办理。",
    }
}

/// What a step of the records page is called, for its error.
fn done_label(step: &str) -> &'static str {
    match step {
        "approve-adjustment" => "批准核减",
        "revoke-adjustment" => "撤销核减",
        _ => "批准删除",
    }
}

/// 批准 of a pending adjustment.
pub fn adjustment_steps(
    id: impl std::fmt::Display,
    status: domain::adjustment::AdjustmentStatus,
) -> Cell {
    use domain::adjustment::AdjustmentStatus as S;
    match status {
        S::Pending => Cell::button(
            "批准",
            format!("/console/records/adjustments/{id}/approve"),
            false,
        ),
        _ => Cell::text(""),
    }
}

/// 撤销 of an adjustment not yet revoked, with its reason.
pub fn revoke_step(
    id: impl std::fmt::Display,
    status: domain::adjustment::AdjustmentStatus,
) -> Cell {
    use domain::adjustment::AdjustmentStatus as S;
    match status {
        S::Pending | S::Approved => Cell::button(
            "撤销",
            format!("/console/records/adjustments/{id}/revoke"),
            true,
        ),
        S::Revoked => Cell::text(""),
    }
}

/// 批准 of a pending erasure.
pub fn erasure_step(id: impl std::fmt::Display, status: domain::erasure::ErasureStatus) -> Cell {
    match status {
        domain::erasure::ErasureStatus::Pending => Cell::button(
            "批准删除",
            format!("/console/records/erasures/{id}/approve"),
            false,
        ),
        _ => Cell::text(""),
    }
}

/// A request from a case page: `kind` `adjust` (核减: measure, reason, document number) or
/// `erase` (删除个人信息: reason, request reference).
pub async fn request(
    signed: Result<Signed, Response>,
    Path(case_id): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let path = format!("/console/cases/{case_id}/govern");
    let signed = match super::case::form_session(signed, &form, &case_id, &path).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let (path, body, done) = match form.get("kind") {
        "adjust" => (
            "/v1/adjustments".to_owned(),
            json!({
                "case_id": case_id, "measure": form.get("measure"),
                "reason": form.get("reason"), "document_no": form.get("document_no"),
            }),
            "request-adjustment",
        ),
        _ => (
            format!("/v1/cases/{}/erase-personal-data", seg(&case_id)),
            json!({"reason": form.get("reason"), "request_ref": form.get("request_ref")}),
            "erase-personal-data",
        ),
    };
    let answer = signed
        .console
        .api
        .call(Call::post_json(signed.token(), path, &body))
        .await;
    if answer.ok() {
        return Redirect::to(&format!("/console/cases/{}?done={done}", seg(&case_id)))
            .into_response();
    }
    let msg = format!("{}：{}", crate::names::zh(done), answer.detail());
    super::case::show(
        &signed,
        &case_id,
        "",
        None,
        Some((answer.status, msg)),
        Some(&form),
    )
    .await
}

/// 批准 or 撤销 from the records page: `kind` `adjustments` or `erasures`, `step` `approve` or
/// `revoke` (with the form's reason).
pub async fn step(
    signed: Signed,
    Path((kind, id, step)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return r;
    }
    let (body, done) = match (kind.as_str(), step.as_str()) {
        ("adjustments", "approve") => (json!({}), "approve-adjustment"),
        ("adjustments", "revoke") => (json!({"reason": form.get("reason")}), "revoke-adjustment"),
        ("erasures", "approve") => (json!({}), "approve-erasure"),
        _ => return crate::pages::not_found().await,
    };
    let path = format!("/v1/{kind}/{}/{step}", seg(&id));
    let answer = signed
        .console
        .api
        .call(Call::post_json(signed.token(), path, &body))
        .await;
    if !answer.ok() {
        // Said on the records page itself, which still offers what may be done (issue 34).
        let msg = format!("{}：{}", done_label(done), answer.detail());
        return records_page(
            &signed,
            &std::collections::BTreeMap::new(),
            Some((answer.status, msg)),
        )
        .await;
    }
    Redirect::to(&format!("/console/audit/records?done={done}")).into_response()
}

fn who_when(signed: &Signed, by: Option<&str>, at: Option<domain::Timestamp>) -> String {
    match by {
        Some(b) => {
            let at = at.map(|t| time(signed.console.tz, &t.to_rfc3339()));
            format!("{b}（{}）", at.unwrap_or_default())
        }
        None => String::new(),
    }
}

/// 核减与删除: adjustments of the period and erasures, with who asked and who approved.
pub async fn records(signed: Signed, Query(p): Params) -> Response {
    records_page(&signed, &p, None).await
}

/// The records page, with the error of a step it refused.
pub async fn records_page(
    signed: &Signed,
    p: &BTreeMap<String, String>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let notice = p.get("done").map(|d| done(d).to_owned());
    let (first, today) = super::audit::this_year(signed);
    let from = super::param(p, "from", &first);
    let to = super::param(p, "to", &today);
    let mut page = TablePage::new(
        signed.frame("核减与删除", "/console/audit/records"),
        "核减与个人信息删除",
    );
    page.inputs = vec![
        Input::date("from", "收到日期起", &from),
        Input::date("to", "止", &to),
    ];
    page.f.as_of_allowed = false;
    page.f.notice = notice.unwrap_or_default();
    let api = &signed.console.api;
    let adj = api
        .get(
            signed.token(),
            format!("/v1/adjustments{}", query(&[("from", &from), ("to", &to)])),
        )
        .await;
    let adjustments: AdjustmentList = match read_or_page(&adj) {
        Ok(list) => list,
        Err(page) => return *page,
    };
    let rows = adjustments
        .items
        .iter()
        .map(|a| {
            vec![
                Cell::link(a.case_no.as_str(), format!("/console/cases/{}", a.case_id)),
                Cell::text(a.received_date.to_string()),
                Cell::text(crate::names::measure(&a.measure)),
                Cell::text(a.document_no.as_str()),
                Cell::text(a.reason.clone().unwrap_or_default()),
                Cell::text(zh(a.status.as_str())),
                Cell::text(who_when(
                    signed,
                    Some(&a.requested_by),
                    Some(a.requested_at),
                )),
                Cell::text(who_when(signed, a.approved_by.as_deref(), a.approved_at)),
                Cell::text(who_when(signed, a.revoked_by.as_deref(), a.revoked_at)),
                adjustment_steps(a.adjustment_id, a.status),
                revoke_step(a.adjustment_id, a.status),
            ]
        })
        .collect();
    page.tables.push(Table {
        title: "核减".into(),
        columns: [
            "案件",
            "收到日期",
            "指标",
            "文号",
            "理由",
            "状态",
            "申请",
            "批准",
            "撤销",
            "批准核减",
            "撤销核减",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    let er = api.get(signed.token(), "/v1/erasures").await;
    if let Some(erasures) = er.ok().then(|| er.read::<ErasureList>().ok()).flatten() {
        let rows = erasures
            .items
            .iter()
            .map(|r| {
                let e = &r.erasure;
                let by = |p: &domain::PrincipalId| p.to_string();
                vec![
                    Cell::link(r.case_no.as_str(), format!("/console/cases/{}", r.case_id)),
                    Cell::text(e.request_ref.as_str()),
                    Cell::text(e.reason.as_str()),
                    Cell::text(zh(e.status.as_str())),
                    Cell::text(who_when(
                        signed,
                        Some(&by(&e.requested_by)),
                        Some(e.requested_at),
                    )),
                    Cell::text(who_when(
                        signed,
                        e.approved_by.as_ref().map(by).as_deref(),
                        e.approved_at,
                    )),
                    erasure_step(e.erasure_id, e.status),
                ]
            })
            .collect();
        page.tables.push(Table {
            title: "个人信息删除".into(),
            columns: [
                "案件",
                "申请文号",
                "理由",
                "状态",
                "申请",
                "批准",
                "批准删除",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        });
    }
    match error {
        Some((status, msg)) => {
            page.f.error = msg;
            (status, render(&page)).into_response()
        }
        None => render(&page),
    }
}
