//! 核减 and 个人信息删除 in the console (issue 34, finding 1): the county asks on a case page, a
//! second principal approves (or revokes) on 核减与删除; each a call of the API's own paths, which
//! decide who may.

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::FormData;
use crate::backend::{seg, Call};
use crate::frame::{problem_page, Signed};
use crate::pages::table::Cell;

/// The notice after a step of the records page.
pub fn done(step: &str) -> &'static str {
    match step {
        "approve-adjustment" => "已批准核减。",
        "revoke-adjustment" => "已撤销核减。",
        "approve-erasure" => "已批准删除，该案的个人信息已删除。",
        _ => "已办理。",
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
pub async fn request(signed: Signed, Path(case_id): Path<String>, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return r;
    }
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
        None,
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
        return problem_page(&answer);
    }
    Redirect::to(&format!("/console/audit/records?done={done}")).into_response()
}
