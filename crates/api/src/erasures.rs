//! 个人信息删除 over HTTP (docs/contract.md, "HTTP"): a county principal asks for the
//! erasure of a case's personal data (`POST /v1/cases/{id}/erase-personal-data`), a *different*
//! county or auditor principal approves it (`POST /v1/erasures/{id}/approve`), whereupon the
//! case's data key is destroyed (`CaseService::complete_erasure`). County and auditors list the
//! erasures and who approved them (`GET /v1/erasures`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use domain::auth::can_handle_erasures;
use domain::command::{ApproveErasure, RequestErasure};
use domain::erasure::ErasureStatus;
use domain::{CaseId, Command};

use wire::erasures::{EraseBody, ErasureList, ErasureRecord, ErasureStep};

use crate::adjustments::{body, Empty};
use crate::error::{ApiError, Failure};
use crate::handlers::execute;
use crate::AppState;

type AppResult = Result<Response, ApiError>;

fn answer(step: ErasureStep, status: StatusCode) -> Response {
    let location = format!("/v1/erasures/{}", step.erasure_id);
    crate::adjustments::step_answer(step, status, &location)
}

/// `POST /v1/cases/{id}/erase-personal-data` (county): pending until another principal approves.
pub async fn request(
    State(state): State<Arc<AppState>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    let case_id = CaseId(uuid::Uuid::parse_str(&case_id).map_err(|_| Failure::NotFound)?);
    let (b, json) = body::<EraseBody>(raw)?;
    let command = Command::RequestErasure(RequestErasure {
        reason: b.reason,
        request_ref: b.request_ref,
    });
    let done = execute(&state, &p, &headers, Some(case_id), command, json).await?;
    let c = &done.committed;
    let id = domain::erasure::erasure_id(case_id, c.version);
    // Filed once the request is in the log (a retry with its Idempotency-Key files it again).
    state.cases.file_erasure(id, case_id).await?;
    let step = ErasureStep {
        erasure_id: id,
        case_id: case_id.0,
        status: ErasureStatus::Pending,
        version: c.version,
        seq: c.seq,
    };
    Ok(answer(step, StatusCode::CREATED))
}

async fn case_of(state: &AppState, id: &str) -> Result<(CaseId, uuid::Uuid), Failure> {
    let id = uuid::Uuid::parse_str(id).map_err(|_| Failure::NotFound)?;
    let case = state
        .cases
        .case_of_erasure(id)
        .await?
        .ok_or(Failure::NotFound)?;
    Ok((case, id))
}

/// `POST /v1/erasures/{id}/approve` (county or auditor, not the requester): the personal data
/// is erased now.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_handle_erasures(&p)?;
    let (Empty {}, json) = body::<Empty>(raw)?;
    let (case_id, id) = case_of(&state, &id).await?;
    let command = Command::ApproveErasure(ApproveErasure { erasure_id: id });
    let done = execute(&state, &p, &headers, Some(case_id), command, json).await?;
    // The key goes now; were this process to stop first, the ingestor re-applies the erasure
    // when it starts.
    state.cases.complete_erasure(case_id).await?;
    let c = &done.committed;
    let step = ErasureStep {
        erasure_id: id,
        case_id: case_id.0,
        status: ErasureStatus::Erased,
        version: c.version,
        seq: c.seq,
    };
    Ok(answer(step, StatusCode::OK))
}

/// `GET /v1/erasures` (county, auditors): every erasure requested, with who asked and who
/// approved, in the order requested.
pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_handle_erasures(&p)?;
    let mut items = Vec::new();
    let cases = state.cases.cases_with_erasures().await?;
    for case in cases {
        if let Some(loaded) = state.cases.read(case).await? {
            items.extend(loaded.case.erasures.iter().map(|e| ErasureRecord {
                case_id: case.0,
                case_no: loaded.case.case_no.clone(),
                erasure: e.clone(),
            }));
        }
    }
    items.sort_by_key(|r| r.erasure.requested_at);
    Ok(Json(ErasureList { items }).into_response())
}
