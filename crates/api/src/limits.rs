//! Limits on failures per client, so that a code or a token cannot be guessed (issue 30,
//! findings 6 and 10):
//!
//! - the petitioner's status page: failed lookups per (client address, case number) and per
//!   client address, never per case number alone, so nobody can lock a petitioner out of their
//!   own case from elsewhere (`status`);
//! - bearer tokens, on every route and the console's sign-in: failed authentications (401) per
//!   client address; past the limit the address's requests that carry a token are answered 429
//!   until the window ends, and the address is logged once per window.
//!
//! A client is its address, an IPv6 client its /64 (one subscriber's block), behind a trusted
//! proxy the address the proxy forwarded. The table holds at most [`CAPACITY`] keys; full, it
//! forgets the oldest windows first, so many addresses can make it forget but never make it
//! refuse anyone who has not failed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::error::{ApiError, Failure};
use crate::AppState;

/// Most keys a limiter tracks.
pub const CAPACITY: usize = 100_000;
/// Failed authentications allowed per client within [`AUTH_WINDOW`].
pub const MAX_AUTH_FAILURES: u32 = 30;
pub const AUTH_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Failures per key in fixed windows.
pub struct FailureLimiter {
    window: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new(window: Duration) -> Self {
        Self::with_capacity(window, CAPACITY)
    }

    pub fn with_capacity(window: Duration, capacity: usize) -> Self {
        FailureLimiter {
            window,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds to wait)` while `key` has used up `max` failures in its window.
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
            _ => None,
        }
    }

    /// Count a failure of `key`; the number of failures in its window so far.
    pub fn fail(&self, key: &str) -> u32 {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if !entries.contains_key(key) && entries.len() >= self.capacity {
            let window = self.window;
            entries.retain(|_, (start, _)| now.duration_since(*start) < window);
            if entries.len() >= self.capacity {
                // Forget the oldest eighth: whoever filled the table loses its own counts first.
                let mut starts: Vec<Instant> = entries.values().map(|(s, _)| *s).collect();
                let cut = starts.len() / 8;
                starts.select_nth_unstable(cut);
                let oldest = starts[cut];
                entries.retain(|_, (start, _)| *start > oldest);
            }
        }
        let e = entries.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(e.0) >= self.window {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

/// The key a client is counted under: its address, an IPv6 address's /64.
pub fn client_key(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    match client_address(peer, headers, trusted) {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.to_string(), |v4| v4.to_string()),
        ip => ip.to_string(),
    }
}

/// Failed bearer tokens per client: past [`MAX_AUTH_FAILURES`] in [`AUTH_WINDOW`], a request
/// with a token is answered 429 (with `Retry-After`) before it is authenticated. A request the
/// server did not receive from a client (the console's own calls for a signed-in session carry
/// no address) is not counted.
pub async fn auth_failures(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| client_key(c.0.ip(), req.headers(), &state.trusted_proxies));
    let Some(client) = client.filter(|_| req.headers().contains_key(header::AUTHORIZATION)) else {
        return next.run(req).await;
    };
    if let Some(secs) = state.auth_limiter.blocked(&client, MAX_AUTH_FAILURES) {
        return ApiError(Failure::TooManyRequests(
            domain::text!(
                "too many failed tokens from this address; try again later",
                "该地址令牌验证失败次数过多，请稍后再试"
            ),
            secs,
        ))
        .into_response();
    }
    let response = next.run(req).await;
    if response.status() == StatusCode::UNAUTHORIZED
        && state.auth_limiter.fail(&client) == MAX_AUTH_FAILURES
    {
        tracing::warn!(
            client = %client,
            failures = MAX_AUTH_FAILURES,
            window_s = AUTH_WINDOW.as_secs(),
            "too many failed tokens from one client; refusing its tokens until the window ends"
        );
    }
    response
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

    /// Issue 30, finding 10: a full table refused every new visitor.
    #[test]
    fn a_full_table_forgets_its_oldest_and_never_refuses_a_new_key() {
        let l = FailureLimiter::with_capacity(Duration::from_secs(60), 1000);
        l.fail("victim");
        for i in 0..5000 {
            l.fail(&format!("flood-{i}"));
            assert!(l.len() <= 1000);
        }
        assert_eq!(l.blocked("newcomer", 1), None);
        assert_eq!(l.blocked("victim", 1), None, "forgotten, not locked");
        for _ in 0..3 {
            l.fail("newcomer");
        }
        assert!(
            l.blocked("newcomer", 3).is_some(),
            "still counted while fresh"
        );
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

    #[test]
    fn an_ipv6_client_is_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let none = HeaderMap::new();
        assert_eq!(client_key(a, &none, &[]), client_key(b, &none, &[]));
        assert_eq!(client_key(a, &none, &[]), "2001:db8:1:2::/64");
        let v4: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(client_key(v4, &none, &[]), "192.0.2.1");
    }
}
