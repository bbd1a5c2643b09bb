//! The console's only way to the system: the HTTP API's own router, called in-process with the
//! session's bearer token. The console therefore has exactly the API's powers, its
//! authorization and its problems; nothing here reads a store or the log.

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use tower::ServiceExt as _;

/// Largest API answer the console reads into a page (a trail of an official can be large).
const MAX_ANSWER: usize = 64 << 20;

#[derive(Clone)]
pub struct Api {
    router: Router,
}

/// An API answer read whole. Its body is read only as a type of `wire` (`read`), never field
/// by field: a field renamed there breaks the console's build, not its pages.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    json: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The answer as the type the API writes it with (`wire`): a field renamed there breaks
    /// the console's build, not its pages. The error names the type, not serde's message,
    /// which quotes the value it could not read (that may be personal data).
    pub fn read<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        T::deserialize(&self.json).map_err(|_| {
            let answer = std::any::type_name::<T>();
            format!("the API's answer was not understood as {answer}")
        })
    }

    /// The problem of an answer that is not a success.
    pub fn problem(&self) -> Option<wire::Problem> {
        (!self.ok()).then(|| self.read().ok()).flatten()
    }

    /// The problem's Chinese detail (the API answers in the console's language), or its title.
    pub fn detail(&self) -> String {
        match self.problem() {
            Some(p) if !p.detail.is_empty() => p.detail,
            Some(p) => p.title,
            None => "请求未能完成".to_owned(),
        }
    }

    pub fn code(&self) -> Option<wire::ProblemCode> {
        self.problem().map(|p| p.code)
    }
}

/// One request to the API.
pub struct Call<'a> {
    pub method: Method,
    pub path: String,
    pub token: Option<&'a str>,
    pub body: Body,
    pub content_type: Option<HeaderValue>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    pub peer: Option<SocketAddr>,
}

impl<'a> Call<'a> {
    pub fn get(token: &'a str, path: impl Into<String>) -> Self {
        Call {
            method: Method::GET,
            path: path.into(),
            token: Some(token),
            body: Body::empty(),
            content_type: None,
            headers: Vec::new(),
            peer: None,
        }
    }

    pub fn post_json(
        token: &'a str,
        path: impl Into<String>,
        body: &impl serde::Serialize,
    ) -> Self {
        Call {
            method: Method::POST,
            path: path.into(),
            token: Some(token),
            body: Body::from(serde_json::to_vec(body).unwrap_or_default()),
            content_type: Some(HeaderValue::from_static("application/json")),
            headers: Vec::new(),
            peer: None,
        }
    }
}

impl Api {
    pub fn new(router: Router) -> Self {
        Api { router }
    }

    /// The API's answer as it is (a download is passed on to the browser).
    pub async fn raw(&self, call: Call<'_>) -> Response {
        let mut req = Request::builder()
            .method(call.method)
            .uri(call.path)
            .header(header::ACCEPT_LANGUAGE, "zh-CN");
        if let Some(token) = call.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(ct) = call.content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        for (k, v) in call.headers {
            req = req.header(k, v);
        }
        let Ok(mut req) = req.body(call.body) else {
            return problem_response(StatusCode::BAD_REQUEST, "请求无法构造");
        };
        // What the API limits per client (the status page, failed tokens at sign-in) is
        // limited per browser's address; a call for a signed-in session carries none, so a
        // token withdrawn since is not counted against the console's own address.
        if let Some(peer) = call.peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        match self.router.clone().oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }

    /// The API's answer, its body read as JSON (`null` when it is not).
    pub async fn call(&self, call: Call<'_>) -> Answer {
        let resp = self.raw(call).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), MAX_ANSWER)
            .await
            .unwrap_or_else(|_| Bytes::new());
        Answer {
            status,
            headers,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, token: &str, path: impl Into<String>) -> Answer {
        self.call(Call::get(token, path)).await
    }
}

fn problem_response(status: StatusCode, detail: &str) -> Response {
    let body =
        serde_json::json!({"status": status.as_u16(), "detail": detail, "code": "validation"});
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/problem+json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

/// A query string from pairs, leaving out empty values.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    let q = q.finish();
    if q.is_empty() {
        q
    } else {
        format!("?{q}")
    }
}

/// A path segment, percent-encoded.
pub fn seg(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
