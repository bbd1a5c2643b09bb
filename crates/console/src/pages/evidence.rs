//! 证据材料 on the case page: an upload passed to the API as the browser sent it, and a download
//! of what the API gives this principal.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, Query, Request};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Redirect, Response};

use crate::backend::{seg, Call};
use crate::frame::Signed;

/// 证据材料 upload: the browser's multipart body goes to the API as it is (the API checks its
/// size and type); the CSRF token comes in the form's URL, since the body is not read here.
pub async fn upload(
    signed: Signed,
    Path(case_id): Path<String>,
    Query(p): Query<BTreeMap<String, String>>,
    req: Request,
) -> Response {
    if let Some(r) = signed.csrf_refused(p.get("csrf").map(String::as_str)) {
        return r;
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).cloned();
    let call = Call {
        method: Method::POST,
        path: format!("/v1/cases/{}/attachments", seg(&case_id)),
        token: Some(signed.token()),
        body: Body::new(req.into_body()),
        content_type,
        headers: Vec::new(),
        peer: signed.peer,
    };
    let answer = signed.console.api.call(call).await;
    if answer.ok() {
        return Redirect::to(&format!("/console/cases/{}?done=attach", seg(&case_id)))
            .into_response();
    }
    super::case::show(
        &signed,
        &case_id,
        "",
        None,
        Some((answer.status, format!("上传证据材料：{}", answer.detail()))),
        None,
    )
    .await
}

/// An attachment's bytes, as the API gives them to this principal.
pub async fn download(
    signed: Signed,
    Path((case_id, attachment_id)): Path<(String, String)>,
) -> Response {
    let resp = signed
        .console
        .api
        .raw(Call::get(
            signed.token(),
            format!(
                "/v1/cases/{}/attachments/{}",
                seg(&case_id),
                seg(&attachment_id)
            ),
        ))
        .await;
    if resp.status().is_success() {
        return resp;
    }
    let status = resp.status();
    crate::frame::message_page(status, "无法取得该证据材料，或您无权查看。")
}
