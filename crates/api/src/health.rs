//! `/healthz` and `/metrics`: whether the system serves, and its figures for Prometheus.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::ApiError;
use crate::AppState;

type AppResult = Result<Response, ApiError>;

/// How far behind the log a projector may be before `/healthz` calls the system degraded.
const HEALTHY_LAG: u64 = 10_000;

/// `ok` while the log answers, every projector answers and keeps up, and no projector found an
/// event in the log that is not a fact; `degraded` (still 200: the API serves) with the reasons
/// otherwise; 503 when the log does not answer.
pub async fn healthz(State(state): State<Arc<AppState>>) -> AppResult {
    let seq = state.cases.last_seq().await?;
    let mut problems = Vec::new();
    let mut projectors = serde_json::Map::new();
    for (name, status) in crate::reads::projector_status(&state).await {
        let Some(status) = status else {
            problems.push(format!("projector {name} does not answer"));
            projectors.insert(name.into(), serde_json::Value::Null);
            continue;
        };
        let lag = seq.saturating_sub(status.applied_seq);
        if lag > HEALTHY_LAG {
            problems.push(format!("projector {name} is {lag} events behind the log"));
        }
        if status.rejected_events > 0 {
            problems.push(format!(
                "projector {name} found {} events in the log that are not facts (forged or replayed): run xinfang verify",
                status.rejected_events
            ));
        }
        projectors.insert(
            name.into(),
            serde_json::json!({"applied_seq": status.applied_seq, "lag": lag, "rejected_events": status.rejected_events}),
        );
    }
    let status = if problems.is_empty() {
        "ok"
    } else {
        "degraded"
    };
    Ok(Json(serde_json::json!({
        "status": status,
        "last_seq": seq,
        "projectors": projectors,
        "problems": problems,
    }))
    .into_response())
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let now = state.cases.now();
    let today = state.cases.policy().local_date(now);
    let open = queries::alerts::AlertsQuery {
        from: today,
        to: today,
        kind: None,
        township: None,
        reader: None,
    };
    let (last, status, alerts) = tokio::join!(
        state.cases.last_seq(),
        crate::reads::projector_status(&state),
        state
            .queries
            .ask_within(open, None, now, std::time::Duration::from_millis(500))
    );
    let last = last.unwrap_or(0);
    let text = state
        .metrics
        .render(last, &status, alerts.ok().map(|a| a.value).as_ref());
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}
