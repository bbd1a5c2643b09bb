//! The language of an answer's problems: `Accept-Language` of the request (`domain::Lang`), kept
//! for the request's task so that every problem, the handlers' and the framework's alike, is
//! answered in it. Machine `code`s never change.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use domain::Lang;

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being answered (English outside a request).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// Middleware: answer the request in the language it prefers.
pub async fn scope(req: Request, next: Next) -> Response {
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default();
    let mut resp = LANG.scope(lang, next.run(req)).await;
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        let h = resp.headers_mut();
        h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
        h.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(match lang {
                Lang::En => "en",
                Lang::Zh => "zh-CN",
            }),
        );
    }
    resp
}
