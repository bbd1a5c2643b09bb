//! 文书: a case page's print buttons open the document of a step as the API prints it (PDF);
//! the first print by a principal who may act on the case numbers it.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

use crate::backend::{seg, Call};
use crate::frame::Signed;

/// The documents a case's timeline has steps for: (kind, 打印<name>), in the order of the kinds.
pub fn offered(event_types: &[&str]) -> Vec<(String, String)> {
    domain::DocumentKind::ALL
        .iter()
        .filter(|k| event_types.contains(&k.step_type()))
        .map(|k| (k.as_str().to_owned(), format!("打印{}", k.name_zh())))
        .collect()
}

pub async fn print(signed: Signed, Path((case_id, kind)): Path<(String, String)>) -> Response {
    let resp = signed
        .console
        .api
        .raw(Call::get(
            signed.token(),
            format!("/v1/cases/{}/documents/{}", seg(&case_id), seg(&kind)),
        ))
        .await;
    let status = resp.status();
    if status.is_success() {
        return resp;
    }
    let why = match status {
        StatusCode::CONFLICT => "该文书尚未出具：须由责任单位或县信访局先行出具（编号）。",
        StatusCode::UNPROCESSABLE_ENTITY => "本案尚无对应的办理环节，不能出具该文书。",
        StatusCode::SERVICE_UNAVAILABLE => {
            "暂时无法打印文书（服务不可用或未安装中文字体），请稍后重试。"
        }
        _ => "无法取得该文书，或您无权查看。",
    };
    crate::frame::message_page(status, why)
}

/// The case's version now, if every event after `version` numbered a document (so a step
/// decided on `version` is decided on the same case); `None` otherwise.
pub async fn only_documents_since(signed: &Signed, case_id: &str, version: &str) -> Option<u64> {
    let version: u64 = version.parse().ok()?;
    let history = signed
        .console
        .api
        .get(
            signed.token(),
            format!("/v1/cases/{}/history", seg(case_id)),
        )
        .await;
    let h = history.read::<wire::audit::History>().ok()?;
    let newer: Vec<_> = h.events.iter().filter(|e| e.version > version).collect();
    let last = newer.last()?.version;
    newer
        .iter()
        .all(|e| e.type_ == "DocumentIssued")
        .then_some(last)
}
