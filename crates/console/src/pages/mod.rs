//! The console's pages, by who uses them.

pub mod audit;
pub mod backlog;
pub mod batch;
pub mod case;
pub mod csv;
pub mod documents;
pub mod evidence;
mod figures;
pub mod governance;
mod people;
pub mod register;
pub mod scorecards;
pub mod stats;
pub mod status;
mod steps;
pub mod table;
mod timeline;
pub mod watch;
pub mod work;

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::backend::Call;
use crate::frame::{render, same_origin, Frame, Signed};
use crate::{session, Console, Shared};

/// A form's fields in order (a field may repeat).
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }
}

/// `/console/`: the role's own first page.
/// The county's units (`GET /v1/units`); none when the API does not answer (a form then offers
/// none, and the API refuses what names an unknown unit).
async fn units(signed: &Signed) -> Vec<wire::UnitEntry> {
    let answer = signed.console.api.get(signed.token(), "/v1/units").await;
    answer
        .read::<wire::Units>()
        .map(|u| u.units)
        .unwrap_or_default()
}

/// The townships to pick from, after 全县 (every township).
async fn township_choices(signed: &Signed) -> Vec<(String, String)> {
    std::iter::once((String::new(), "全县".to_owned()))
        .chain(
            units(signed)
                .await
                .into_iter()
                .filter(|u| u.kind == "township")
                .map(|u| (u.code, u.name)),
        )
        .collect()
}

/// The case page of the case a number names, or the API's answer as a page (not found: 404).
async fn open_by_no(signed: &Signed, no: &str) -> Response {
    let found = signed
        .console
        .api
        .get(
            signed.token(),
            format!("/v1/cases/by-no/{}", crate::backend::seg(no)),
        )
        .await;
    match crate::frame::read_or_page::<wire::case::CaseView>(&found) {
        Ok(case) => Redirect::to(&format!("/console/cases/{}", case.case_id)).into_response(),
        Err(page) => *page,
    }
}

pub async fn home(signed: Signed) -> Response {
    let to = match signed.role.as_str() {
        "county" => "/console/workbench",
        "auditor" => "/console/audit",
        "analyst" => "/console/stats",
        _ => "/console/queue",
    };
    Redirect::to(to).into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    f: Frame,
    /// The page to return to once signed in (a checked `/console/…` path, or empty).
    next: String,
    /// A form sent after the session ended: its fields, carried through sign-in (in the page
    /// only, never stored) to be resumed.
    resume: Vec<(String, String)>,
}

/// The form to go on with after signing in again: its fields and a fresh CSRF token, sent back
/// with `check=1`, which shows the form filled in again (and the 查重 hints) without acting.
#[derive(Template)]
#[template(path = "resume.html")]
struct ResumePage {
    f: Frame,
    action: String,
    csrf: String,
    fields: Vec<(String, String)>,
}

/// Sign-in for a form sent without a session: the form's fields ride along.
pub fn resume_sign_in(form: &FormData, next: &str) -> Response {
    let mut f = Frame::public("登录");
    f.error = "登录已过期。您填写的内容已保留：请重新登录，然后继续。".to_owned();
    let resume = form
        .0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "check"))
        .cloned()
        .collect();
    let page = LoginPage {
        f,
        next: crate::frame::safe_next(next).unwrap_or_default().to_owned(),
        resume,
    };
    (StatusCode::UNAUTHORIZED, render(&page)).into_response()
}

/// The session of a form sent to `path`, or, when it ended while the form was being filled in,
/// sign-in that carries the form back (issue 34, finding 2).
pub fn resumed(
    signed: Result<Signed, Response>,
    form: &FormData,
    path: &str,
) -> Result<Signed, Box<Response>> {
    match signed {
        Ok(s) => Ok(s),
        Err(r) if r.status().is_redirection() => Err(Box::new(resume_sign_in(form, path))),
        Err(r) => Err(Box::new(r)),
    }
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_form(Query(q): Query<LoginQuery>) -> Response {
    render(&LoginPage {
        f: Frame::public("登录"),
        next: crate::frame::safe_next(&q.next)
            .unwrap_or_default()
            .to_owned(),
        resume: Vec::new(),
    })
}

/// Sign-in: the token is checked by the API (`GET /v1/me`) and sealed into the session cookie.
pub async fn login(
    State(console): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut f = Frame::public("登录");
    if !same_origin(&headers) {
        return crate::refusal(
            StatusCode::FORBIDDEN,
            "请求来源与本站不一致，已拒绝（跨站请求）。",
        );
    }
    let form = FormData::parse(&body);
    let token = form.get("token");
    let next = crate::frame::safe_next(form.get("next"))
        .unwrap_or_default()
        .to_owned();
    let resume: Vec<(String, String)> = form
        .0
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("r:")?.to_owned(), v.clone())))
        .collect();
    if token.is_empty() {
        f.error = "请输入令牌。".to_owned();
        let page = LoginPage { f, next, resume };
        return (StatusCode::BAD_REQUEST, render(&page)).into_response();
    }
    // The API counts failed tokens per browser address (behind a trusted proxy, the one it
    // forwarded), so guessing through this form is limited like guessing at the API.
    let mut call = Call::get(token, "/v1/me");
    call.peer = Some(peer);
    if let Some(v) = headers.get("x-forwarded-for") {
        call.headers.push((
            header::HeaderName::from_static("x-forwarded-for"),
            v.clone(),
        ));
    }
    let me = console.api.call(call).await;
    if !me.ok() {
        let status = me.status;
        f.error = match status {
            StatusCode::UNAUTHORIZED => "令牌无效，请核对后重试。".to_owned(),
            StatusCode::TOO_MANY_REQUESTS => "该地址登录失败次数过多，请稍后再试。".to_owned(),
            _ => me.detail(),
        };
        let status = if status == StatusCode::TOO_MANY_REQUESTS {
            status
        } else {
            StatusCode::UNAUTHORIZED
        };
        return (status, render(&LoginPage { f, next, resume })).into_response();
    }
    let now = chrono::Utc::now().timestamp();
    let (session, value) = console.keys.open_session(token, now);
    if let Err(e) = console.sessions.begin(&session.id, session.expires).await {
        tracing::warn!(error = %e, "cannot record a console session");
        return crate::frame::message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "暂时无法登录，请稍后再试。",
        )
        .into_response();
    }
    let secure = crate::over_tls(&console, &headers, Some(peer.ip()));
    let cookie = [(header::SET_COOKIE, session::set_cookie(&value, secure))];
    if !resume.is_empty() && !next.is_empty() {
        let page = ResumePage {
            f: Frame::public("继续填写"),
            action: next,
            csrf: console.keys.csrf(&session),
            fields: resume,
        };
        return (cookie, render(&page)).into_response();
    }
    (
        cookie,
        Redirect::to(if next.is_empty() { "/console/" } else { &next }),
    )
        .into_response()
}

pub async fn logout(
    signed: Signed,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return r;
    }
    // Ended on the server, so a copy of the cookie opens nothing any more.
    if let Err(e) = signed.console.sessions.end(&signed.session.id).await {
        tracing::warn!(error = %e, "cannot end a console session");
        return crate::frame::message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "暂时无法退出，请稍后再试。",
        )
        .into_response();
    }
    let secure = crate::over_tls(&signed.console, &headers, Some(peer.ip()));
    (
        [(header::SET_COOKIE, session::clear_cookie(secure))],
        Redirect::to("/console/login"),
    )
        .into_response()
}

pub async fn not_found() -> Response {
    crate::frame::message_page(StatusCode::NOT_FOUND, "没有这个页面。")
}

/// The embedded assets. Their names carry their version, so they may be cached for long.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "console-3.css" => (
            include_bytes!("../../assets/console.css"),
            "text/css; charset=utf-8",
        ),
        "console-3.js" => (
            include_bytes!("../../assets/console.js"),
            "text/javascript; charset=utf-8",
        ),
        "textsize-1.js" => (
            include_bytes!("../../assets/textsize.js"),
            "text/javascript; charset=utf-8",
        ),
        "echarts-5.6.0.min.js" => (
            include_bytes!("../../assets/vendor/echarts-5.6.0.min.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return not_found().await,
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}

/// A date the user typed (`YYYY-MM-DD`) as the end of that day in the policy time zone, for the
/// API's `as_of`; `None` when empty, not a date, or today (the live answer).
pub fn end_of_day(console: &Console, date: &str) -> Result<Option<String>, Box<Response>> {
    use chrono::TimeZone as _;
    let date = date.trim();
    if date.is_empty() {
        return Ok(None);
    }
    // A date that is none is said so, never shown as the live state (issue 34, finding 6).
    let invalid = || {
        Box::new(crate::frame::message_page(
            StatusCode::BAD_REQUEST,
            &format!("截至日期“{date}”不是有效的日期，请按“年-月-日”选择。"),
        ))
    };
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| invalid())?;
    let Some(t) = d
        .and_hms_opt(23, 59, 59)
        .and_then(|t| console.tz.from_local_datetime(&t).earliest())
    else {
        return Err(invalid());
    };
    // A day not over yet: as it is now, which is the live answer (the API refuses a time in the
    // future, and a second ago would miss what was done in the last second).
    Ok((t < chrono::Utc::now().with_timezone(&console.tz)).then(|| t.to_rfc3339()))
}

/// A local date and time from a form (`YYYY-MM-DDTHH:MM`) in the policy time zone, RFC 3339.
pub fn local_time(console: &Console, v: &str) -> Option<String> {
    use chrono::TimeZone as _;
    let t = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M").ok()?;
    Some(console.tz.from_local_datetime(&t).earliest()?.to_rfc3339())
}

/// A query parameter, trimmed; `default` when absent or empty.
pub fn param(p: &std::collections::BTreeMap<String, String>, k: &str, default: &str) -> String {
    match p.get(k).map(|v| v.trim()) {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => default.to_owned(),
    }
}

/// What a page shown as of a date says when the date is before the log's first event (its
/// answer reflects sequence 0): why it is empty (issue 34, finding 6).
pub fn before_first_record(applied_seq: Option<u64>) -> Option<String> {
    (applied_seq == Some(0)).then(|| {
        "所选日期早于本系统的第一条记录：当时系统中还没有任何案件或操作，所以这里是空的。请选择更晚的日期。".to_owned()
    })
}
