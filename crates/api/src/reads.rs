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
use serde_json::{json, Value};

use domain::auth::{can_read_case, can_see_personal_data};
use domain::Role;
use projections::service::{self, Query as ProjectorQuery, Request};
use projections::{queues, stats};

use crate::error::{ApiError, Failure};
use crate::AppState;

type AppResult = Result<Response, ApiError>;

/// Ask a projector; `(result, applied_seq)`.
pub async fn ask(
    state: &AppState,
    projector: &str,
    query: ProjectorQuery,
    min_seq: Option<u64>,
) -> Result<(Value, u64), Failure> {
    let req = Request {
        min_seq,
        now: state.cases.now(),
        query,
    };
    let body = serde_json::to_vec(&req).unwrap_or_default();
    let client = state.cases.log().jetstream().client();
    let wait = service::MIN_SEQ_WAIT + Duration::from_secs(2);
    let msg = tokio::time::timeout(
        wait,
        client.request(service::subject(projector), body.into()),
    )
    .await
    .map_err(|_| Failure::Unavailable(format!("the {projector} projector did not answer"), 1))?
    .map_err(|e| {
        Failure::Unavailable(
            format!("the {projector} projector is not available: {e}"),
            2,
        )
    })?;
    let resp: service::Response = serde_json::from_slice(&msg.payload)
        .map_err(|e| Failure::Internal(format!("unreadable answer from {projector}: {e}")))?;
    match (resp.result, resp.error) {
        (Some(v), None) => Ok((v, resp.applied_seq)),
        (_, Some(f)) if f.code == "unavailable" => Err(Failure::Unavailable(f.detail, 1)),
        (_, Some(f)) if f.code == "bad_request" => Err(Failure::BadRequest(f.detail)),
        (_, f) => Err(Failure::Internal(format!("{projector}: {f:?}"))),
    }
}

fn with_applied(mut v: Value, applied: u64) -> Response {
    if let Some(obj) = v.as_object_mut() {
        obj.insert("applied_seq".into(), applied.into());
    }
    Json(v).into_response()
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
    match p.role {
        Role::County | Role::Auditor => {}
        Role::Analyst => return Err(forbidden("analysts read statistics, not work queues")),
        Role::Clerk | Role::Handler | Role::System if p.unit.as_ref() == Some(&code) => {}
        _ => return Err(forbidden("a unit sees only its own queue")),
    }
    let filter = params.status.unwrap_or(queues::Filter::Open);
    let (v, applied) = ask(
        &state,
        "queues",
        ProjectorQuery::Queue { unit, filter },
        params.min_seq,
    )
    .await?;
    Ok(with_applied(v, applied))
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
    match p.role {
        Role::Analyst | Role::County | Role::Auditor => {}
        Role::Clerk | Role::System
            if params.township.is_some()
                && p.unit.as_ref().map(|u| u.as_str()) == params.township.as_deref() => {}
        Role::Clerk | Role::System => {
            return Err(forbidden(
                "a township reads statistics only with township = its own",
            ))
        }
        Role::Handler => return Err(forbidden("handlers do not read statistics")),
    }
    period(params.from, params.to)?;
    let q = stats::Query {
        from: params.from,
        to: params.to,
        township: params.township,
        group_by: params.group_by,
        yoy: params.compare == Some(Compare::Yoy),
    };
    let (v, applied) = ask(&state, "stats", ProjectorQuery::Stats(q), params.min_seq).await?;
    Ok(with_applied(v, applied))
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
    if !matches!(p.role, Role::Auditor | Role::County) {
        return Err(forbidden(
            "only auditors and the county read an official's trail",
        ));
    }
    let params = query(params)?;
    period(params.from, params.to)?;
    let q = ProjectorQuery::Actor {
        actor: actor.clone(),
        from: params.from,
        to: params.to,
    };
    let (events, applied) = ask(&state, "audit", q, params.min_seq).await?;
    Ok(with_applied(
        json!({"actor": actor, "events": events}),
        applied,
    ))
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
    let (mut events, applied) = ask(
        &state,
        "audit",
        ProjectorQuery::CaseHistory { case_id },
        min_seq,
    )
    .await?;
    if !can_see_personal_data(&p, &loaded.case) {
        strip_personal_data(&mut events);
    }
    Ok(with_applied(
        json!({"case_id": case_id, "events": events}),
        applied,
    ))
}

fn strip_personal_data(events: &mut Value) {
    for e in events.as_array_mut().into_iter().flatten() {
        if let Some(data) = e.get_mut("data").and_then(Value::as_object_mut) {
            data.remove("petitioners");
        }
    }
}

fn forbidden(why: &str) -> ApiError {
    Failure::Domain(domain::DomainError::Forbidden(why.into())).into()
}

/// Applied sequence of each projector, for `/metrics` (a projector that does not answer in time
/// is left out).
pub async fn projector_status(state: &AppState) -> Vec<(&'static str, u64)> {
    let mut out = Vec::new();
    for name in projections::NAMES {
        let req = Request {
            min_seq: None,
            now: state.cases.now(),
            query: ProjectorQuery::Status,
        };
        let body = serde_json::to_vec(&req).unwrap_or_default();
        let client = state.cases.log().jetstream().client();
        let asked = tokio::time::timeout(
            Duration::from_millis(300),
            client.request(service::subject(name), body.into()),
        )
        .await;
        if let Ok(Ok(msg)) = asked {
            if let Ok(resp) = serde_json::from_slice::<service::Response>(&msg.payload) {
                out.push((name, resp.applied_seq));
            }
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
