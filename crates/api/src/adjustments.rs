//! 核减 over HTTP (docs/contract.md, "HTTP"; docs/rules.md, "核减 (adjustments)"): a county principal requests that a case
//! leave a figure (`POST /v1/adjustments`), a *different* county or auditor principal approves it
//! (`…/{id}/approve`), either may revoke it (`…/{id}/revoke`); the county and auditors list the
//! adjustments of a period. Each step is a command on the case, decided by `domain::adjustment`
//! and appended to the case's subject like any other.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::auth::can_handle_adjustments;
use domain::command::{ApproveAdjustment, RequestAdjustment, RevokeAdjustment};
use domain::{CaseId, Command};
use wire::adjustments::{AdjustmentList, AdjustmentStep, NewAdjustment, RevokeBody};

use crate::error::body_failure;
use crate::error::{ApiError, Failure};
use crate::handlers::execute;
use crate::params::Params;
use crate::reads::{period, with_applied};
use crate::AppState;

type AppResult = Result<Response, ApiError>;

/// `POST /v1/adjustments/{id}/approve` takes no fields (an empty body or `{}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

/// The body as `T`; an error names the field, never the value (400).
pub(crate) fn body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<(T, serde_json::Value), Failure> {
    let body = body.map_err(|r| body_failure(r, crate::DEFAULT_BODY_LIMIT))?;
    let json = serde_json::Value::Object(
        domain::command::decode_object(&body).map_err(|e| Failure::BadRequest(e.0))?,
    );
    let typed = serde_path_to_error::deserialize(json.clone()).map_err(|e| {
        Failure::BadRequest(domain::text::field_error(
            &e.path().to_string(),
            &e.inner().to_string(),
        ))
    })?;
    Ok((typed, json))
}

/// Run one step of adjustment `id` on `case_id` and answer it; a request (no `id` yet) names
/// the adjustment its version makes (the same on a replay).
async fn step(
    state: &AppState,
    principal: &domain::Principal,
    headers: &HeaderMap,
    (case_id, id): (CaseId, Option<uuid::Uuid>),
    command: Command,
    json: serde_json::Value,
) -> Result<(AdjustmentStep, StatusCode), Failure> {
    let done = execute(state, principal, headers, Some(case_id), command, json).await?;
    let c = &done.committed;
    let created = id.is_none();
    let id = id.unwrap_or_else(|| domain::adjustment::adjustment_id(case_id, c.version));
    let a = done
        .case
        .adjustments
        .iter()
        .find(|a| a.adjustment_id == id)
        .ok_or_else(|| Failure::Internal(format!("adjustment {id} missing after its step")))?;
    let answer = AdjustmentStep {
        adjustment_id: id,
        case_id: case_id.0,
        measure: a.measure.clone(),
        status: a.status,
        version: c.version,
        seq: c.seq,
    };
    Ok((
        answer,
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
    ))
}

fn answer((step, status): (AdjustmentStep, StatusCode)) -> Response {
    let location = format!("/v1/adjustments/{}", step.adjustment_id);
    step_answer(step, status, &location)
}

/// A step's answer; a created one names where it is (`Location`).
pub(crate) fn step_answer(step: impl Serialize, status: StatusCode, location: &str) -> Response {
    let mut resp = (status, Json(step)).into_response();
    if status == StatusCode::CREATED {
        if let Ok(v) = HeaderValue::from_str(location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
    }
    resp
}

/// `POST /v1/adjustments`: pending until another principal approves it.
pub async fn request(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    let (b, json) = body::<NewAdjustment>(raw)?;
    let command = Command::RequestAdjustment(RequestAdjustment {
        measure: b.measure,
        reason: b.reason,
        document_no: b.document_no,
    });
    let ids = (CaseId(b.case_id), None);
    Ok(answer(
        step(&state, &p, &headers, ids, command, json).await?,
    ))
}

/// The case of adjustment `id`, once the statistics model has applied the log as it is now (an
/// adjustment requested a moment ago is found).
async fn case_of(state: &AppState, id: &str) -> Result<(CaseId, uuid::Uuid), Failure> {
    let id = uuid::Uuid::parse_str(id).map_err(|_| Failure::NotFound)?;
    let last = state.cases.last_seq().await?;
    let found = state
        .queries
        .adjustment(id, Some(last), state.cases.now())
        .await
        .map_err(crate::error::query_failure)?;
    let record = found.value.ok_or(Failure::NotFound)?;
    Ok((CaseId(record.case_id), id))
}

/// `POST /v1/adjustments/{id}/approve`: by a county or auditor principal other than the requester.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_handle_adjustments(&p)?;
    let (Empty {}, json) = body::<Empty>(raw)?;
    let (case, id) = case_of(&state, &id).await?;
    let command = Command::ApproveAdjustment(ApproveAdjustment { adjustment_id: id });
    Ok(answer(
        step(&state, &p, &headers, (case, Some(id)), command, json).await?,
    ))
}

/// `POST /v1/adjustments/{id}/revoke` `{"reason"}`: by a county or auditor principal.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_handle_adjustments(&p)?;
    let (b, json) = body::<RevokeBody>(raw)?;
    let (case, id) = case_of(&state, &id).await?;
    let command = Command::RevokeAdjustment(RevokeAdjustment {
        adjustment_id: id,
        reason: b.reason,
    });
    Ok(answer(
        step(&state, &p, &headers, (case, Some(id)), command, json).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(deserialize_with = "domain::dates::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "domain::dates::date")]
    to: NaiveDate,
    min_seq: Option<u64>,
}

/// `GET /v1/adjustments?from&to`: every adjustment (any status) of the cases received in the
/// period, in the order requested, with reasons.
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Params(q): Params<ListParams>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_handle_adjustments(&p)?;
    period(q.from, q.to)?;
    let found = state
        .queries
        .adjustments(q.from, q.to, q.min_seq, state.cases.now())
        .await?;
    let list = AdjustmentList {
        from: q.from,
        to: q.to,
        items: found.value,
    };
    with_applied(&list, found.applied_seq)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneParams {
    min_seq: Option<u64>,
}

/// `GET /v1/adjustments/{id}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(q): Params<OneParams>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_handle_adjustments(&p)?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Failure::NotFound)?;
    let found = state
        .queries
        .adjustment(id, q.min_seq, state.cases.now())
        .await?;
    let record = found.value.ok_or(Failure::NotFound)?;
    with_applied(&record, found.applied_seq)
}
