//! Evidence (证据材料): `POST /v1/cases/{id}/attachments` stores the bytes (raw with
//! `Content-Type` and `Content-Disposition: attachment; filename=…`, or multipart with one file)
//! in the object store under their SHA-256, then attaches them with an `AttachmentAdded` event;
//! `GET /v1/cases/{id}/attachments/{attachment_id}` gives them back to whoever may read the case.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use wire::attachments::{Stored, Uploaded};

use domain::auth::{authorize_command, can_read_case, can_see_personal_data};
use domain::command::AddAttachment;
use domain::{Action, CaseId, Command};

use crate::error::{ApiError, Failure};
use crate::AppState;

/// The media types evidence may have (for the OpenAPI document).
pub(crate) fn media_types() -> impl Iterator<Item = &'static str> {
    domain::evidence::MEDIA_TYPES.iter().map(|(t, _)| *t)
}

fn check_type(content_type: Option<&str>, bytes: &[u8]) -> Result<String, Failure> {
    domain::evidence::check_media(content_type, bytes).map_err(Failure::UnsupportedMediaType)
}

/// A percent-encoded UTF-8 value (RFC 5987 `filename*=UTF-8''…`).
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = (bytes.next()? as char).to_digit(16)?;
            let lo = (bytes.next()? as char).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// The file name of a `Content-Disposition` (`filename*` preferred), without any directory.
fn filename_of(disposition: Option<&str>) -> Option<String> {
    let d = disposition?;
    let mut plain = None;
    let mut extended = None;
    for part in d.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let v = v.trim_matches('"');
            let encoded = v.split_once("''").map_or(v, |(_, e)| e);
            extended = percent_decode(encoded);
        } else if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim_matches('"').to_owned());
        }
    }
    let name = extended.or(plain)?;
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    (!base.is_empty()).then_some(base)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The one file of a body: (bytes, declared type, file name).
async fn file_of(
    state: &Arc<AppState>,
    req: Request,
) -> Result<(Bytes, Option<String>, Option<String>), Failure> {
    let limit = state.attachment_limit;
    let too_large = || {
        Failure::PayloadTooLarge(domain::text!(
            "the attachment is larger than {limit} bytes",
            "证据材料超过 {limit} 字节"
        ))
    };
    let content_type = header_str(req.headers(), header::CONTENT_TYPE);
    let disposition = header_str(req.headers(), header::CONTENT_DISPOSITION);
    if content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"))
    {
        let broken = |why: String| {
            Failure::BadRequest(domain::text!(
                "multipart body: {why}",
                "multipart 请求体无法读取：{why}"
            ))
        };
        let failed = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                broken(e.body_text())
            }
        };
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| broken(e.body_text()))?;
        let mut found = None;
        while let Some(field) = form.next_field().await.map_err(failed)? {
            // The file: a part with a file name, or the part named `file`.
            if field.file_name().is_none() && field.name() != Some("file") {
                continue;
            }
            if found.is_some() {
                return Err(Failure::BadRequest(domain::text!(
                    "multipart body: expected one file",
                    "multipart 请求体：只能包含一个文件"
                )));
            }
            let name = field
                .file_name()
                .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim().to_owned());
            let kind = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.map_err(failed)?;
            found = Some((bytes, kind, name));
        }
        return found.ok_or_else(|| {
            Failure::BadRequest(domain::text!(
                "multipart body: expected a file part (named file, or with a filename)",
                "multipart 请求体：缺少文件（名为 file 或带 filename 的部分）"
            ))
        });
    }
    let name = filename_of(disposition.as_deref());
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|r| crate::error::body_failure(r, limit))?;
    Ok((bytes, content_type, name))
}

/// The file of a request, checked (not empty, an evidence type, bytes of that type) and stored;
/// with its file name, if it had one.
/// `case`: the case it is evidence of, sealed under its key (else it waits unattached).
async fn receive(
    state: &Arc<AppState>,
    req: Request,
    case: Option<CaseId>,
) -> Result<(Stored, Option<String>), Failure> {
    // Under the same free-space watermark as commands (a clerk filled the store with uploads).
    if state
        .cases
        .storage_low()
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err(commands::CommandError::StorageLow.into());
    }
    let _receiving = state.uploads.clone().try_acquire_owned().map_err(|_| {
        let n = crate::UPLOADS;
        Failure::TooManyRequests(
            domain::text!(
                "the API receives {n} uploads at once; send this one again shortly",
                "系统同时只接收 {n} 个上传，请稍后重新上传"
            ),
            2,
        )
    })?;
    let (bytes, declared, name) = file_of(state, req).await?;
    if bytes.is_empty() {
        return Err(Failure::Domain(domain::DomainError::Validation(
            domain::text!("the attachment is empty", "证据材料为空文件"),
        )));
    }
    let content_type = check_type(declared.as_deref(), &bytes)?;
    // Without a case: sealed under its own key until an `attach` adopts it, erased if none does.
    let sha256 = state.cases.store_evidence(case, &bytes).await?;
    let stored = Stored {
        sha256,
        size: bytes.len() as u64,
        content_type,
    };
    Ok((stored, name))
}

/// `POST /v1/cases/{case_id}/attachments` → 201.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    Path(case_id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let headers = req.headers().clone();
    let principal = state.tokens.authenticate(&headers)?;
    let case_id = CaseId::parse(&case_id).ok_or(Failure::NotFound)?;
    // Who may attach is known before a byte is stored.
    let loaded = state.cases.read(case_id).await?.ok_or(Failure::NotFound)?;
    can_read_case(&principal, &loaded.case)?;
    authorize_command(&principal, Action::Attach, &loaded.case)?;
    if loaded.case.personal_data_erased() {
        return Err(Failure::Domain(domain::erasure::erased_refusal()).into());
    }
    let (stored, name) = receive(&state, req, Some(case_id)).await?;
    let command = AddAttachment {
        late_reason: None,
        sha256: stored.sha256,
        size: stored.size,
        content_type: stored.content_type,
        filename: name.unwrap_or_else(|| "attachment".to_owned()),
        occurred_at: None,
    };
    let json = serde_json::to_value(&command).unwrap_or_default();
    let outcome = crate::handlers::execute(
        &state,
        &principal,
        &headers,
        Some(case_id),
        Command::Attach(command.clone()),
        json,
    )
    .await?;
    let id = domain::case::attachment_id(case_id, &command.sha256);
    let body = Uploaded {
        case_id,
        attachment_id: id,
        sha256: command.sha256,
        size: command.size,
        content_type: command.content_type,
        filename: command.filename,
        version: outcome.committed.version,
        seq: outcome.committed.seq,
    };
    let status = if outcome.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(body)).into_response())
}

/// `POST /v1/attachments` → 201: store evidence without attaching it. A township system then
/// names it by `sha256` in an inbox message `attach` (docs/integration.md, "Evidence").
pub async fn store(State(state): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let principal = state.tokens.authenticate(req.headers())?;
    domain::auth::can_store_evidence(&principal).map_err(Failure::Domain)?;
    let (stored, _) = receive(&state, req, None).await?;
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

/// `GET /v1/cases/{case_id}/attachments/{attachment_id}`: the bytes, to whoever may read the
/// case (the file name only to those who may see personal data).
pub async fn download(
    State(state): State<Arc<AppState>>,
    Path((case_id, attachment_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = state.tokens.authenticate(&headers)?;
    let case_id = CaseId::parse(&case_id).ok_or(Failure::NotFound)?;
    let wanted = uuid::Uuid::parse_str(&attachment_id).map_err(|_| Failure::NotFound)?;
    let loaded = state.cases.read(case_id).await?.ok_or(Failure::NotFound)?;
    can_read_case(&principal, &loaded.case)?;
    let a = loaded
        .case
        .attachments
        .iter()
        .find(|a| a.attachment_id == wanted)
        .ok_or(Failure::NotFound)?;
    // Erased with the case's personal data: the key that opened the bytes is gone.
    let erased = loaded.case.personal_data_erased();
    let bytes = state
        .cases
        .evidence(case_id, erased, &a.sha256)
        .await?
        .ok_or(Failure::Domain(domain::erasure::erased_refusal()))?;
    let name = if can_see_personal_data(&principal, &loaded.case) {
        a.filename.clone()
    } else {
        a.attachment_id.to_string()
    };
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, a.content_type.clone());
    set(
        h,
        header::CONTENT_DISPOSITION,
        format!("attachment; filename*=UTF-8''{encoded}"),
    );
    set(h, header::ETAG, format!("\"{}\"", a.sha256));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_comes_from_either_form_without_directories() {
        assert_eq!(
            filename_of(Some("attachment; filename=\"scan.pdf\"")).as_deref(),
            Some("scan.pdf")
        );
        assert_eq!(
            filename_of(Some(
                "attachment; filename=\"x.pdf\"; filename*=UTF-8''%E6%9D%A5%E4%BF%A1.pdf"
            ))
            .as_deref(),
            Some("来信.pdf")
        );
        assert_eq!(
            filename_of(Some("attachment; filename=\"../../etc/passwd\"")).as_deref(),
            Some("passwd")
        );
        assert_eq!(filename_of(Some("attachment")), None);
    }
}
