//! `GET /v1/me`: who a token stands for (issue 16: the console signs in with a token and shows
//! each role its own pages, so it asks the API, not its own copy of the principals).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::error::ApiError;
use crate::AppState;

type AppResult = Result<Response, ApiError>;

/// The principal behind the request's token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub principal_id: String,
    #[schema(inline)]
    pub role: domain::Role,
    /// The principal's unit (none for the county-wide roles without one).
    pub unit: Option<String>,
    /// The unit's name.
    pub unit_name: Option<String>,
}

/// `GET /v1/me`: any principal.
pub async fn me(State(state): State<Arc<AppState>>, headers: HeaderMap) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    Ok(Json(Me {
        principal_id: p.id.0.clone(),
        role: p.role,
        unit_name: p.unit.as_ref().map(|u| state.unit_name(u)),
        unit: p.unit.map(|u| u.to_string()),
    })
    .into_response())
}

/// One unit of the county.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitEntry {
    pub code: String,
    pub name: String,
    /// `county`, `township` or `department`.
    pub kind: String,
}

/// `GET /v1/units`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Units {
    pub units: Vec<UnitEntry>,
}

/// `GET /v1/units`: any principal (the console's forms name units, never show codes).
pub async fn units(State(state): State<Arc<AppState>>, headers: HeaderMap) -> AppResult {
    state.tokens.authenticate(&headers)?;
    let units = state
        .unit_names
        .iter()
        .map(|(code, name)| UnitEntry {
            code: code.to_string(),
            name: name.clone(),
            kind: state
                .cases
                .unit_kind(code)
                .map(|k| k.as_str().to_owned())
                .unwrap_or_default(),
        })
        .collect();
    Ok(Json(Units { units }).into_response())
}
