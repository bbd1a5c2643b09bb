//! 苗头预警 (issue 35): `GET /v1/alerts`, the alerts of a period as the cases model computes
//! them from the log, for the county, auditors and each township (its own).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use domain::alerts::AlertKind;
use queries::alerts::AlertsQuery;

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
