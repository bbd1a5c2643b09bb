//! `GET /v1/status/{case_no}?code=…`: how a case stands, for the petitioner, without login
//! (api-contract.md, Round 2: casework). It shows no personal data and no ids. A wrong code
//! answers exactly like an unknown number, and failed lookups are limited per case number and per
//! client address (429), so the code (50 bits) cannot be guessed; behind a trusted proxy the
//! client address is the one the proxy forwarded.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Failure};
use crate::AppState;

/// Failed lookups allowed per client address within [`WINDOW`].
pub const MAX_FAILURES_PER_CLIENT: u32 = 20;
/// Failed lookups allowed per case number within [`WINDOW`].
pub const MAX_FAILURES_PER_CASE: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most keys tracked; while full of live entries, keys not yet tracked are refused.
const CAPACITY: usize = 100_000;

/// Failures per key in fixed windows.
pub struct FailureLimiter {
    window: Duration,
    entries: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter::new(WINDOW)
    }
}

impl FailureLimiter {
    pub fn new(window: Duration) -> Self {
        FailureLimiter {
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds to wait)` while `key` has used up `max` failures.
    pub fn blocked(&self, key: &str, max: u32) -> Option<u64> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match entries.get(key) {
            Some((start, _)) if now.duration_since(*start) >= self.window => {
                entries.remove(key);
                None
            }
            Some((start, n)) if *n >= max => {
                Some((self.window - now.duration_since(*start)).as_secs().max(1))
            }
            Some(_) => None,
            None if entries.len() >= CAPACITY => {
                let window = self.window;
                entries.retain(|_, (start, _)| now.duration_since(*start) < window);
                (entries.len() >= CAPACITY).then_some(self.window.as_secs())
            }
            None => None,
        }
    }

    pub fn fail(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let e = entries.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(e.0) >= self.window {
            *e = (now, 0);
        }
        e.1 += 1;
    }
}

/// The client's address: the peer's, or behind a trusted proxy the last address it forwarded
/// that is not itself a trusted proxy.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusParams {
    code: String,
}

/// `GET /v1/status/{case_no}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseStatus {
    pub case_no: String,
    pub status: domain::Status,
    /// The status in Chinese, as a petitioner reads it.
    pub status_name: String,
    /// The unit handling the case.
    pub unit_name: String,
    #[schema(value_type = String, format = Date)]
    pub received_date: chrono::NaiveDate,
    /// The deadline of the current stage, if it has one.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<chrono::NaiveDate>,
    pub replied: bool,
    #[schema(value_type = Option<String>, format = Date)]
    pub reply_date: Option<chrono::NaiveDate>,
    /// The last day a review (复查) or re-review (复核) may be requested.
    #[schema(value_type = Option<String>, format = Date)]
    pub review_request_until: Option<chrono::NaiveDate>,
}

pub async fn status(
    State(state): State<Arc<AppState>>,
    Path(case_no): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let client = format!(
        "client:{}",
        client_address(peer.ip(), &headers, &state.trusted_proxies)
    );
    let number = format!("case:{}", case_no.to_ascii_uppercase());
    for (key, max) in [
        (&client, MAX_FAILURES_PER_CLIENT),
        (&number, MAX_FAILURES_PER_CASE),
    ] {
        if let Some(secs) = state.status_limiter.blocked(key, max) {
            return Err(Failure::TooManyRequests(
                domain::text!(
                    "too many failed status lookups; try again later",
                    "查询失败次数过多，请稍后再试"
                ),
                secs,
            )
            .into());
        }
    }
    // Read after the limits, so a blocked client is told so whatever it sends.
    let params: StatusParams = crate::params::parse(raw.as_deref().unwrap_or(""))?;
    match lookup(&state, &case_no, &params.code).await {
        Ok(found) => Ok(Json(found).into_response()),
        Err(Failure::NotFound) => {
            state.status_limiter.fail(&client);
            state.status_limiter.fail(&number);
            Err(Failure::NotFound.into())
        }
        Err(other) => Err(other.into()),
    }
}

async fn lookup(state: &AppState, case_no: &str, code: &str) -> Result<CaseStatus, Failure> {
    if !crate::handlers::plausible_case_no(case_no) || code.len() > 64 {
        return Err(Failure::NotFound);
    }
    let now = state.cases.now();
    let id = state
        .queries
        .case_by_no(case_no, None, now)
        .await
        .map_err(crate::reads::query_failure)?
        .value
        .ok_or(Failure::NotFound)?;
    if !state.cases.query_code_matches(id, code) {
        return Err(Failure::NotFound);
    }
    let case = state.cases.read(id).await?.ok_or(Failure::NotFound)?.case;
    let policy = state.cases.policy();
    let day = |t: domain::Timestamp| policy.local_date(t);
    Ok(CaseStatus {
        case_no: case.case_no.clone(),
        status: case.status,
        status_name: case.status.name_zh().to_owned(),
        unit_name: state.unit_name(&case.unit),
        received_date: day(case.received_at),
        due_date: case.due_at().filter(|_| case.status.is_open()).map(day),
        replied: case.replied_at.is_some(),
        reply_date: case.replied_at.map(day),
        review_request_until: case.request_window_until.map(day),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_limited_per_key_and_forgotten_after_the_window() {
        let l = FailureLimiter::new(Duration::from_millis(200));
        for _ in 0..3 {
            assert_eq!(l.blocked("a", 3), None);
            l.fail("a");
        }
        assert!(l.blocked("a", 3).is_some());
        assert_eq!(l.blocked("b", 3), None, "another key is not affected");
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(l.blocked("a", 3), None, "a new window");
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().expect("hv"),
        );
        let other: IpAddr = "192.0.2.1".parse().expect("ip");
        assert_eq!(
            client_address(other, &h, &[proxy]),
            other,
            "untrusted peer: its own"
        );
        let last: IpAddr = "198.51.100.7".parse().expect("ip");
        assert_eq!(client_address(proxy, &h, &[proxy]), last);
        // A chain of trusted proxies is skipped from the right.
        h.insert(
            "x-forwarded-for",
            "198.51.100.7, 10.0.0.1".parse().expect("hv"),
        );
        assert_eq!(client_address(proxy, &h, &[proxy]), last);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
