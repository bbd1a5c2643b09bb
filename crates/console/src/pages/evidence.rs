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

/// 签名检查点 (auditors and the county): the notary's checkpoints of the tree over the log, newest
/// first, each as the API checked it against the county's keys; older ones page by page.
pub async fn checkpoints(signed: Signed, Query(p): Query<BTreeMap<String, String>>) -> Response {
    use crate::pages::table::{Cell, Table, TablePage};
    let before = p.get("before").map(|b| b.trim()).unwrap_or_default();
    let answer = signed
        .console
        .api
        .get(
            signed.token(),
            format!(
                "/v1/audit/checkpoints{}",
                crate::backend::query(&[("before", before), ("limit", "50")])
            ),
        )
        .await;
    let list: wire::keys::CheckpointList = match crate::frame::read_or_page(&answer) {
        Ok(list) => list,
        Err(page) => return *page,
    };
    let mut f = signed.frame("签名检查点", "/console/audit/checkpoints");
    f.as_of_allowed = false;
    let mut page = TablePage::new(f, "签名检查点");
    page.intro = format!(
        "公证服务对事件日志的默克尔树根定期签名，共 {} 个检查点。每个检查点都用本县公钥核验签名；任何人改写已签名的日志，案件核验就会与检查点不符。",
        list.last_seq
    );
    let tz = signed.console.tz;
    let rows = list
        .checkpoints
        .iter()
        .map(|c| {
            let verdict = match (&c.problem, c.verified) {
                (None, true) if c.invalid.is_empty() => "签名有效".to_owned(),
                (None, true) => format!(
                    "签名有效；其间未通过核验的事件序号：{}",
                    c.invalid
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                (Some(why), _) => format!("未通过：{why}"),
                (None, false) => "未通过".to_owned(),
            };
            let root: String = c
                .root
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(16)
                .collect();
            vec![
                Cell::text(c.seq.to_string()),
                Cell::text(c.tree_size.map(|n| n.to_string()).unwrap_or_default()),
                Cell::text(c.last_seq.map(|n| n.to_string()).unwrap_or_default()),
                Cell::text(if root.is_empty() {
                    root
                } else {
                    format!("{root}…")
                }),
                Cell::text(
                    c.at.map(|t| crate::names::time(tz, &t.to_rfc3339()))
                        .unwrap_or_default(),
                ),
                Cell::text(c.key_id.clone().unwrap_or_default()),
                Cell::text(if c.migrated { "迁移声明" } else { "" }),
                Cell::text(verdict),
            ]
        })
        .collect();
    page.tables.push(Table {
        title: "检查点（最新在前）".into(),
        columns: [
            "序号",
            "覆盖事件数",
            "最后事件序号",
            "树根",
            "签署时间",
            "密钥",
            "说明",
            "核验",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    if let Some(older) = list.next_before {
        page.next = (
            format!("/console/audit/checkpoints?before={older}"),
            "更早的检查点".into(),
        );
    }
    crate::frame::render(&page)
}
