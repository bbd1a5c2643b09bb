//! The web console (issue 16): Chinese pages for clerks and handlers, the county bureau,
//! auditors, analysts, and a status page for petitioners, served by `xinfang api` under
//! `/console/`.
//!
//! Server-rendered (askama templates compiled into the binary; docs/ARCHITECTURE.md says why).
//! Every page asks the HTTP API — its own router, called in-process with the session's token
//! ([`backend`]) — so the console can do nothing the API does not allow that principal. Its
//! session is a sealed cookie whose id the server keeps while it is open ([`session`]).
//!
//! It must never read a store, the log or NATS, nor hold a token anywhere but in the sealed
//! cookie; it never decides who may do what (it offers the steps the API lists for the case) and
//! never puts personal data in a URL (searches and the petitioner's code travel in POST bodies).

pub mod backend;
mod frame;
pub mod names;
mod pages;
pub mod session;

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono_tz::Tz;

pub use frame::{Frame, Signed};

/// What the console needs: the session key, the policy time zone and the proxies whose
/// `X-Forwarded-Proto` tells that the browser came over TLS.
pub struct Console {
    pub keys: session::Keys,
    pub tz: Tz,
    pub trusted_proxies: Vec<IpAddr>,
    /// Which sessions are open.
    pub sessions: Arc<dyn session::SessionStore>,
}

impl Console {
    pub fn new(
        key: [u8; 32],
        tz: Tz,
        trusted_proxies: Vec<IpAddr>,
        sessions: Arc<dyn session::SessionStore>,
    ) -> Self {
        Console {
            keys: session::Keys::new(&key),
            tz,
            trusted_proxies,
            sessions,
        }
    }
}

/// The console as its pages use it: its settings and the API's router.
pub struct Shared {
    pub api: backend::Api,
    pub settings: Console,
}

impl std::ops::Deref for Shared {
    type Target = Console;
    fn deref(&self) -> &Console {
        &self.settings
    }
}

/// The API's router with the console beside it: `/` and `/console` lead to `/console/`, the
/// console's pages and assets under `/console/`, everything else to the API.
pub fn mount(api: Router, console: Console) -> Router {
    let console = Arc::new(Shared {
        api: backend::Api::new(api.clone()),
        settings: console,
    });
    use pages::{
        audit, backlog, batch, case, csv, documents, evidence, governance, register, scorecards,
        stats, status, watch, work,
    };
    let to_console = || async { Redirect::to("/console/") };
    Router::new()
        .route("/", get(to_console))
        .route("/console", get(to_console))
        .route("/ui", get(to_console))
        .route("/console/", get(pages::home))
        .route("/console/login", get(pages::login_form).post(pages::login))
        .route("/console/logout", post(pages::logout))
        .route("/console/status", get(status::form).post(status::lookup))
        .route("/console/queue", get(work::queue))
        .route("/console/workbench", get(work::workbench))
        .route("/console/workbench.csv", get(csv::workbench_csv))
        .route("/console/workbench/batch", post(batch::batch))
        .route("/console/backlog", get(backlog::board))
        .route("/console/alerts", get(watch::board))
        .route("/console/alerts/{id}/review", post(watch::review))
        .route("/console/cases/no/{case_no}", get(watch::by_no))
        .route("/console/cases", get(work::find).post(work::find_post))
        .route(
            "/console/register",
            get(register::form).post(register::submit),
        )
        .route("/console/cases/{case_id}", get(case::page))
        .route("/console/cases/{case_id}/act", post(case::act))
        .route("/console/cases/{case_id}/govern", post(governance::request))
        .route(
            "/console/records/{kind}/{id}/{step}",
            post(governance::step),
        )
        .route(
            "/console/cases/{case_id}/evidence",
            // The API applies its own limit to the bytes passed on.
            post(evidence::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/console/cases/{case_id}/evidence/{attachment_id}",
            get(evidence::download),
        )
        .route("/console/cases/{case_id}/bundle", get(evidence::bundle))
        .route(
            "/console/cases/{case_id}/documents/{kind}",
            get(documents::print),
        )
        .route("/console/audit", get(audit::index).post(audit::open_case))
        .route("/console/audit/actor", get(audit::actor))
        .route("/console/audit/records", get(governance::records))
        .route("/console/audit/checkpoints", get(evidence::checkpoints))
        .route("/console/stats", get(stats::page))
        .route("/console/stats.csv", get(stats::csv))
        .route("/console/scorecards", get(scorecards::scorecards))
        .route("/console/scorecards.csv", get(scorecards::scorecards_csv))
        .route("/console/assets/{file}", get(pages::asset))
        .route("/console/{*rest}", axum::routing::any(pages::not_found))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(console)
        .fallback_service(api)
}

/// Every console answer: no framing by other sites, scripts and styles from the console only,
/// and nothing cached that a shared computer's next user could read back.
async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    resp
}

/// Whether the browser reached the console over TLS: told by a trusted proxy that terminates
/// it (`X-Forwarded-Proto: https`).
fn over_tls(console: &Console, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
    let trusted = peer.is_some_and(|p| console.trusted_proxies.contains(&p));
    trusted
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A plain answer of the console's own (a refused form, an unknown page), as a page.
fn refusal(status: StatusCode, message: &str) -> Response {
    frame::message_page(status, message).into_response()
}
