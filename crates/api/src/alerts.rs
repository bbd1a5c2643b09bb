//! 苗头预警 (issue 35): `GET /v1/alerts`, the alerts of a period as the cases model computes
//! them from the log, for the county, auditors and each township (its own); `POST
//! /v1/alerts/{id}/review`, the county's 研判 of one, appended on the alert's own subject.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use commands::AlertReview;
use domain::alerts::AlertKind;
use queries::alerts::{AlertById, AlertsQuery};
use wire::alerts::{ReviewAnswer, ReviewBody};

use crate::error::{ApiError, Failure};
use crate::params::Params;
use crate::reads::{known_unit, period, with_applied};
use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    #[serde(deserialize_with = "domain::dates::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "domain::dates::date")]
    to: NaiveDate,
    kind: Option<AlertKind>,
    township: Option<String>,
    min_seq: Option<u64>,
    at_seq: Option<u64>,
    #[serde(default, deserialize_with = "domain::dates::option_time")]
    as_of: Option<domain::Timestamp>,
}

pub async fn alerts(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Params(params): Params<AlertParams>,
) -> Result<Response, ApiError> {
    let p = state.tokens.authenticate(&headers)?;
    period(params.from, params.to)?;
    let township = known_unit(&state, "township", params.township)?;
    let is_township =
        |u: &domain::UnitCode| state.cases.unit_kind(u) == Some(domain::UnitKind::Township);
    let reader =
        domain::auth::alerts_reader(&p, township.as_ref(), is_township).map_err(Failure::Domain)?;
    let q = AlertsQuery {
        from: params.from,
        to: params.to,
        kind: params.kind,
        township: township.or_else(|| reader.clone()),
        reader,
    };
    let at = crate::asof::point(&state, params.at_seq, params.as_of).await?;
    let (queries, now) = state.reader(at);
    let mut answer = queries.ask(q, params.min_seq, now).await?;
    for a in &mut answer.value.items {
        a.township_name = state.unit_name(&a.township);
    }
    with_applied(&answer.value, answer.applied_seq)
}

/// `POST /v1/alerts/{id}/review` (county): 研判, an event on the alert's own subject; the
/// latest review holds. An id never raised is 404.
pub async fn review(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let result = reviewed(&state, &id, &headers, raw).await;
    let outcome = match &result {
        Ok((_, true)) => "replayed",
        Ok((_, false)) => "applied",
        Err(_) => "refused",
    };
    state
        .metrics
        .command("review-alert", outcome, started.elapsed());
    Ok(Json(result?.0).into_response())
}

async fn reviewed(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(ReviewAnswer, bool), ApiError> {
    let p = state.tokens.authenticate(headers)?;
    domain::auth::can_review_alerts(&p).map_err(Failure::Domain)?;
    let alert_id = uuid::Uuid::parse_str(id).map_err(|_| Failure::NotFound)?;
    let (body, json) = crate::adjustments::body::<ReviewBody>(raw)?;
    // Raised by anything the log holds now (the cases model catches up to it first).
    let last = state.cases.last_seq().await?;
    let now = state.cases.now();
    let raised = state
        .queries
        .ask(AlertById { alert_id }, Some(last), now)
        .await?
        .value
        .ok_or(Failure::NotFound)?;
    let event =
        domain::decide::review_alert((raised.kind, raised.category), &body.assessment, &body.plan)
            .map_err(Failure::Domain)?;
    let done = state
        .cases
        .review_alert(AlertReview {
            principal: &p,
            alert_id,
            township: raised.township,
            event,
            correlation_id: crate::handlers::correlation_id(headers),
            idempotency: crate::handlers::idempotency_key(headers)?.map(|k| (k, json)),
        })
        .await?;
    let now = state.cases.now();
    let mut after = state
        .queries
        .ask(AlertById { alert_id }, Some(done.seq), now)
        .await?
        .value
        .ok_or(Failure::NotFound)?;
    if let Some(a) = &mut after.alert {
        a.township_name = state.unit_name(&a.township);
    }
    let answer = ReviewAnswer {
        alert_id,
        seq: done.seq,
        alert: after.alert,
    };
    Ok((answer, done.replayed))
}
