//! Files of a case page: 证据材料 uploaded as the browser sent them and downloaded as the API
//! gives them, and the case's 核验包 (its events with their proofs, for offline verification).

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

/// 核验包: the case's bundle as the API gives it (auditors and the county), to check offline with
/// `xinfang verify --bundle FILE --public-key KEY`.
pub async fn bundle(signed: Signed, Path(case_id): Path<String>) -> Response {
    let resp = signed
        .console
        .api
        .raw(Call::get(
            signed.token(),
            format!("/v1/cases/{}/bundle", seg(&case_id)),
        ))
        .await;
    if !resp.status().is_success() {
        let status = resp.status();
        return crate::frame::message_page(status, "无法取得该案件的核验包，或您无权下载。");
    }
    let mut resp = resp;
    let name = format!("attachment; filename=\"xinfang-bundle-{case_id}.json\"");
    if let Ok(v) = header::HeaderValue::from_str(&name) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
