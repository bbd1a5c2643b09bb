//! The HTTP API of Xinfang (docs/contract.md): an axum router over the command path and the case
//! reads, bearer auth, problem+json errors, `If-Match`/`ETag`, `Idempotency-Key`, `min_seq`, the
//! OpenAPI document, `/healthz` and `/metrics`.
//!
//! It is the only crate that knows HTTP. It must never decide a domain rule itself (that is
//! `domain`), never touch NATS or a store directly (commands go through `commands`, reads through
//! `queries`; it has neither async-nats nor sled among its dependencies), and no input may make it
//! answer a 5xx other than 503 for an unavailable log.

pub mod adjustments;
pub mod alerts;
pub mod asof;
pub mod asyncapi;
pub mod attachments;
pub mod auth;
mod check;
mod documents;
pub mod erasures;
pub mod error;
pub mod export;
mod handlers;
mod health;
pub mod integrity;
pub mod lang;
pub mod limits;
pub mod me;
mod merged;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod proto;
mod queues;
pub mod reads;
mod schemas;
pub mod scorecards;
pub mod server;
pub mod stats;
pub mod status;
pub mod views;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use auth::Tokens;
/// The router `router` returns, for the binary that composes it with the console.
pub use axum::Router;
use commands::CaseService;
use domain::UnitCode;
pub use error::{ApiError, Failure};
use queries::QueryClient;

/// Largest accepted request body. A registration with hundreds of petitioners stays far below.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// How long a case view waits for the cases model's links (the case itself is read from the log).
pub(crate) const LINKS_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// Uploads one API receives at once; one more is answered 429 (issue 30: 8 uploads of 49 MiB at
/// once took the API from 48 MB to 1 GB).
pub const UPLOADS: usize = 2;
/// The largest attachment when the configuration sets none (`[limits] attachment_mb`, 50 MB).
pub const DEFAULT_ATTACHMENT_LIMIT: usize = 50 << 20;

pub struct AppState {
    pub cases: Arc<CaseService>,
    pub queries: QueryClient,
    pub tokens: Tokens,
    pub metrics: metrics::Metrics,
    /// The units' names, as answers show them beside the codes.
    pub unit_names: BTreeMap<UnitCode, String>,
    /// Proxies whose `X-Forwarded-For` names the client (`[http] trusted_proxies`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Failed status lookups per client and per (client, case number).
    pub status_limiter: limits::FailureLimiter,
    /// Failed bearer tokens per client (`limits::auth_failures`).
    pub auth_limiter: limits::FailureLimiter,
    /// The largest attachment accepted, in bytes (`[limits] attachment_mb`).
    pub attachment_limit: usize,
    /// Uploads received at once (each is held whole in memory while it is checked and sealed).
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// 考核 rules by version (`[[scorecard]]`); none: the default rules.
    pub scorecards: Vec<queries::scorecard::Rules>,
    /// The public keys and checkpoints (absent: the integrity endpoints answer 503).
    pub integrity: Option<integrity::Integrity>,
    /// Prints the documents (`[documents] font`).
    pub printer: Arc<::documents::Printer>,
    /// Principals that act without a token of their own (each township system over NATS when
    /// no `[[principal]]` names it): `GET /v1/principals` lists them too, since trails name them.
    pub acting: Vec<domain::Principal>,
    openapi_json: String,
}

impl AppState {
    pub fn new(cases: Arc<CaseService>, queries: QueryClient, tokens: Tokens) -> Self {
        AppState {
            cases,
            queries,
            tokens,
            metrics: metrics::Metrics::default(),
            unit_names: BTreeMap::new(),
            trusted_proxies: Vec::new(),
            status_limiter: limits::FailureLimiter::new(status::WINDOW),
            auth_limiter: limits::FailureLimiter::new(limits::AUTH_WINDOW),
            attachment_limit: DEFAULT_ATTACHMENT_LIMIT,
            uploads: Arc::new(tokio::sync::Semaphore::new(UPLOADS)),
            scorecards: Vec::new(),
            integrity: None,
            printer: Arc::new(::documents::Printer::new(None)),
            acting: Vec::new(),
            openapi_json: openapi::document().to_pretty_json().unwrap_or_default(),
        }
    }

    /// A unit's name (its code when it has none).
    pub fn unit_name(&self, unit: &UnitCode) -> String {
        self.unit_names
            .get(unit)
            .cloned()
            .unwrap_or_else(|| unit.to_string())
    }

    /// Each case's township and unit by name.
    pub(crate) fn name_units(&self, items: &mut [wire::cases::CaseSummary]) {
        for item in items {
            item.township_name = self.unit_name(&item.township);
            item.unit_name = self.unit_name(&item.unit);
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/cases", post(handlers::register).get(reads::list_cases))
        .route("/v1/cases/search", post(reads::search))
        .route("/v1/cases/check", post(check::check))
        .route("/v1/status/{case_no}", get(status::status))
        .route("/v1/cases/{case_id}", get(handlers::get_case))
        .route("/v1/cases/by-no/{case_no}", get(handlers::get_case_by_no))
        .route("/v1/cases/{case_id}/history", get(reads::history))
        .route(
            "/v1/cases/{case_id}/documents/{kind}",
            get(documents::document),
        )
        .route(
            "/v1/cases/{case_id}/attachments",
            post(attachments::upload).layer(DefaultBodyLimit::max(state.attachment_limit)),
        )
        .route(
            "/v1/cases/{case_id}/attachments/{attachment_id}",
            get(attachments::download),
        )
        .route(
            "/v1/attachments",
            post(attachments::store).layer(DefaultBodyLimit::max(state.attachment_limit)),
        )
        .route("/v1/queues/{unit}", get(queues::queue))
        .route("/v1/workbench", get(queues::workbench))
        .route("/v1/stats", get(stats::stats))
        .route("/v1/export/cases", get(export::cases))
        .route(
            "/v1/adjustments",
            post(adjustments::request).get(adjustments::list),
        )
        .route("/v1/adjustments/{id}", get(adjustments::get))
        .route("/v1/scorecards", get(scorecards::scorecards))
        .route("/v1/adjustments/{id}/approve", post(adjustments::approve))
        .route("/v1/adjustments/{id}/revoke", post(adjustments::revoke))
        .route("/v1/audit/actors/{principal_id}", get(reads::actor))
        .route("/v1/audit/checkpoints", get(integrity::checkpoints))
        .route("/v1/alerts", get(alerts::alerts))
        .route("/v1/alerts/{alert_id}/review", post(alerts::review))
        .route("/v1/audit/public-key", get(integrity::public_key))
        .route("/v1/me", get(me::me))
        .route("/v1/units", get(me::units))
        .route("/v1/principals", get(me::principals))
        .route("/v1/cases/{case_id}/verify", get(integrity::verify))
        .route("/v1/cases/{case_id}/bundle", get(integrity::bundle))
        .route(
            "/v1/cases/{case_id}/erase-personal-data",
            post(erasures::request),
        )
        .route("/v1/erasures", get(erasures::list))
        .route("/v1/erasures/{id}/approve", post(erasures::approve))
        .route("/v1/cases/{case_id}/{action}", post(handlers::command))
        .route("/v1/openapi.json", get(handlers::openapi))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::auth_failures,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            handlers::count_responses,
        ))
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        // A panic is a bug, but it answers 500 problem+json instead of dropping the connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::map_response(problem_for_bare_errors))
        // Outermost: every problem inside, the framework's too, is answered in its language.
        .layer(axum::middleware::from_fn(lang::scope))
        .with_state(state)
}

/// Every error is problem+json: an error answer of the framework itself (a path that is not
/// UTF-8, a caught panic) is replaced by the problem for its status. Its text is not repeated:
/// it may quote the request.
async fn problem_for_bare_errors(resp: axum::response::Response) -> axum::response::Response {
    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse as _;
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return resp;
    }
    if status.is_server_error() {
        tracing::error!(%status, "an answer of the framework itself (a caught panic?)");
    }
    let detail = match status.as_u16() {
        400 => domain::Text::new(
            "the request is malformed (a path or query parameter could not be read)",
            "请求格式错误（路径或查询参数无法读取）",
        ),
        404 => domain::Text::new("no such resource", "没有这个资源"),
        413 => domain::Text::new(
            format!("request body is larger than {DEFAULT_BODY_LIMIT} bytes"),
            format!("请求内容超过 {DEFAULT_BODY_LIMIT} 字节"),
        ),
        _ => {
            let reason = status.canonical_reason().unwrap_or("error");
            domain::Text::new(reason, format!("请求未能完成（{reason}）"))
        }
    };
    let problem = commands::problem::for_status_in(status.as_u16(), &detail, lang::current());
    (
        status,
        [(CONTENT_TYPE, "application/problem+json")],
        serde_json::to_vec(&problem).unwrap_or_default(),
    )
        .into_response()
}

/// Serve until `shutdown` resolves, then finish in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, router(state), server::Limits::default(), shutdown).await
}
