//! Reads served by the projectors (queues, statistics, audit trails), asked over NATS
//! request/reply and answered here as the contract says.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use domain::auth::{
    can_read_case, can_read_queue, can_read_stats, can_read_trail, can_see_personal_data,
};
use queries::queues;
use queries::stats::{self, StatsQuery};
use queries::QueryError;

use crate::error::{ApiError, Failure};
use crate::views::{ActorTrail, History};
use crate::AppState;

type AppResult = Result<Response, ApiError>;

fn query_failure(e: QueryError) -> Failure {
    match e {
        QueryError::NoAnswer { .. } | QueryError::Unavailable(_) => {
            Failure::Unavailable(e.to_string(), 1)
        }
        QueryError::BadRequest(d) => Failure::BadRequest(d),
        QueryError::Internal(d) => Failure::Internal(d),
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError(query_failure(e))
    }
}

/// The answer with `applied_seq` added, as the contract's read answers carry it.
fn with_applied<T: serde::Serialize>(answer: &T, applied: u64) -> Result<Response, ApiError> {
    let mut v = serde_json::to_value(answer)
        .map_err(|e| Failure::Internal(format!("encoding an answer: {e}")))?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("applied_seq".into(), applied.into());
    }
    Ok(Json(v).into_response())
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Failure> {
    q.map(|Query(v)| v)
        .map_err(|e| Failure::BadRequest(domain::command::redact(&e.body_text())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    status: Option<queues::Filter>,
    min_seq: Option<u64>,
}

pub async fn queue(
    State(state): State<Arc<AppState>>,
    Path(unit): Path<String>,
    headers: HeaderMap,
    params: Result<Query<QueueParams>, QueryRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    let params = query(params)?;
    let code = domain::UnitCode::parse(&unit).map_err(|_| Failure::NotFound)?;
    if state.cases.unit_kind(&code).is_none() {
        return Err(Failure::NotFound.into());
    }
    can_read_queue(&p, &code)?;
    let filter = params.status.unwrap_or(queues::Filter::Open);
    let queue = state
        .queries
        .queue(&unit, filter, params.min_seq, state.cases.now())
        .await?;
    with_applied(&queue.value, queue.applied_seq)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    #[serde(deserialize_with = "domain::dates::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "domain::dates::date")]
    to: NaiveDate,
    township: Option<String>,
    group_by: Option<stats::GroupBy>,
    compare: Option<Compare>,
    min_seq: Option<u64>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    Yoy,
}

pub async fn stats(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    let params = query(params)?;
    can_read_stats(&p, params.township.as_deref())?;
    period(params.from, params.to)?;
    let q = StatsQuery {
        from: params.from,
        to: params.to,
        township: params.township,
        group_by: params.group_by,
        yoy: params.compare == Some(Compare::Yoy),
    };
    let report = state
        .queries
        .stats(q, params.min_seq, state.cases.now())
        .await?;
    with_applied(&report.value, report.applied_seq)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorParams {
    #[serde(deserialize_with = "domain::dates::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "domain::dates::date")]
    to: NaiveDate,
    min_seq: Option<u64>,
}

pub async fn actor(
    State(state): State<Arc<AppState>>,
    Path(actor): Path<String>,
    headers: HeaderMap,
    params: Result<Query<ActorParams>, QueryRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_read_trail(&p)?;
    let params = query(params)?;
    period(params.from, params.to)?;
    let trail = state
        .queries
        .actor(
            &actor,
            params.from,
            params.to,
            params.min_seq,
            state.cases.now(),
        )
        .await?;
    Ok(Json(ActorTrail {
        actor,
        events: trail.value,
        applied_seq: trail.applied_seq,
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    min_seq: Option<u64>,
}

/// The audit trail of a case, from the audit projector; who may read it and whether personal
/// data is shown is decided on the case as it is in the log.
pub async fn history(
    State(state): State<Arc<AppState>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    let params = query(params)?;
    let case_id = domain::CaseId::parse(&case_id).ok_or(Failure::NotFound)?;
    let loaded = state.cases.read(case_id).await?.ok_or(Failure::NotFound)?;
    can_read_case(&p, &loaded.case)?;
    // The projector must at least have applied the case's events as this read sees them.
    let min_seq = Some(params.min_seq.unwrap_or(0).max(loaded.seq));
    let mut history = state
        .queries
        .case_history(case_id, min_seq, state.cases.now())
        .await?;
    if !can_see_personal_data(&p, &loaded.case) {
        for event in &mut history.value {
            event.redact_personal_data();
        }
    }
    Ok(Json(History {
        case_id,
        events: history.value,
        applied_seq: history.applied_seq,
    })
    .into_response())
}

/// Applied sequence of each projector, for `/metrics` (a projector that does not answer in time
/// is left out).
pub async fn projector_status(state: &AppState) -> Vec<(&'static str, u64)> {
    let mut out = Vec::new();
    for name in queries::protocol::PROJECTORS {
        let asked = state
            .queries
            .status(name, None, state.cases.now(), Duration::from_millis(300))
            .await;
        if let Ok(status) = asked {
            out.push((name, status.applied_seq));
        }
    }
    out
}

/// A period of days: both ends in the documented range, the start not after the end (422).
fn period(from: NaiveDate, to: NaiveDate) -> Result<(), Failure> {
    domain::dates::check_date("from", from)?;
    domain::dates::check_date("to", to)?;
    if from > to {
        return Err(Failure::Domain(domain::DomainError::Validation(format!(
            "from {from} is after to {to}"
        ))));
    }
    Ok(())
}
