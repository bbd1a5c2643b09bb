//! `GET /v1/scorecards?from&to[&adjusted=true]` (考核): every township and department scored under
//! the rules version in force at the period's start (`[[scorecard]]`, or the default rules), from
//! the same figures as `/v1/stats?group_by=unit`, so each point can be checked against them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use domain::auth::{can_read_stats, StatsScope};
use domain::values::UnitKind;
use domain::DomainError;
use queries::scorecard::{score, Rules};
use queries::stats::StatsQuery;
use wire::scorecard::Scorecards;
use wire::stats::{Counts, GroupBy, Measures};

use crate::error::{ApiError, Failure};
use crate::params::Params;
use crate::reads::{period, with_applied};
use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardParams {
    #[serde(deserialize_with = "domain::dates::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "domain::dates::date")]
    to: NaiveDate,
    #[serde(default)]
    adjusted: bool,
    min_seq: Option<u64>,
}

pub async fn scorecards(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Params(q): Params<ScorecardParams>,
) -> Result<Response, ApiError> {
    let p = state.tokens.authenticate(&headers)?;
    // A scorecard ranks every unit: the readers of the whole county's figures only.
    can_read_stats(
        &p,
        StatsScope {
            township: None,
            unit: None,
        },
    )?;
    period(q.from, q.to)?;
    let from = q.from;
    let rules = Rules::in_force(&state.scorecards, from).ok_or_else(|| {
        Failure::Domain(DomainError::Validation(domain::text!(
            "from: no scorecard rules are in force on {from}",
            "from：{from} 没有生效的考核规则"
        )))
    })?;
    let query = StatsQuery {
        from: q.from,
        to: q.to,
        group_by: vec![GroupBy::Unit],
        filters: Default::default(),
        yoy: false,
        adjusted: q.adjusted,
        hide_accused: None,
    };
    let report = state
        .queries
        .stats(query, q.min_seq, state.cases.now())
        .await?;
    // Every township and department, measured or not.
    let units = state
        .unit_names
        .iter()
        .filter_map(|(code, name)| {
            let kind = match state.cases.unit_kind(code)? {
                UnitKind::Township => "township",
                UnitKind::Department => "department",
                UnitKind::County => return None,
            };
            let measures = report
                .value
                .current
                .rows
                .iter()
                .find(|r| r.key == code.as_str())
                .map_or_else(
                    || Measures::new(Counts::default(), 0),
                    |r| r.measures.clone(),
                );
            Some((code.to_string(), name.clone(), kind.to_owned(), measures))
        })
        .collect();
    let answer = Scorecards {
        from: q.from,
        to: q.to,
        rules_version: rules.version.clone(),
        effective_from: rules.effective_from,
        max_points: rules.indicators.iter().map(|i| i.weight).sum(),
        adjusted: q.adjusted,
        units: score(&rules, units),
        rules: rules.indicators,
    };
    with_applied(&answer, report.applied_seq)
}
