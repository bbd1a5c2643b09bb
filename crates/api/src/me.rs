//! `GET /v1/me`: who a token stands for (issue 16: the console signs in with a token and shows
//! each role its own pages, so it asks the API, not its own copy of the principals).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::ApiError;
use crate::AppState;

use wire::{Me, Principals, UnitEntry, Units};

type AppResult = Result<Response, ApiError>;

/// `GET /v1/me`: any principal.
pub async fn me(State(state): State<Arc<AppState>>, headers: HeaderMap) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    Ok(Json(describe(&state, p)).into_response())
}

/// A principal as the API describes it: id, role, unit and the unit's name.
fn describe(state: &AppState, p: domain::Principal) -> Me {
    Me {
        principal_id: p.id.0.clone(),
        role: p.role,
        unit_name: p.unit.as_ref().map(|u| state.unit_name(u)),
        unit: p.unit.map(|u| u.to_string()),
    }
}

/// `GET /v1/principals`: those who read officials' trails (the county and auditors), to pick
/// whose to read and to tell an unknown account from one that did nothing.
pub async fn principals(State(state): State<Arc<AppState>>, headers: HeaderMap) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    domain::auth::can_read_trail(&p)?;
    let mut all = state.tokens.principals();
    all.extend(state.acting.iter().cloned());
    all.sort_by(|a, b| a.id.0.cmp(&b.id.0));
    all.dedup_by(|a, b| a.id == b.id);
    let principals = all.into_iter().map(|p| describe(&state, p)).collect();
    Ok(Json(Principals { principals }).into_response())
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
