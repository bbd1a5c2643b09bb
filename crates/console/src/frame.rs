//! What every page shares: the signed-in principal ([`Signed`]), the frame around a page
//! ([`Frame`]: title, navigation for the role, CSRF token, the "as of" date), and the pages for
//! a refusal or a problem of the API.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::backend::Answer;
use crate::session::{self, Session};
use crate::Shared;

/// To the sign-in page, which returns to the page asked for (a link followed while signed out;
/// a form sent without a session is not a page to return to).
fn sign_in_first(parts: &Parts) -> Response {
    let asked = (parts.method == Method::GET || parts.method == Method::HEAD)
        .then(|| parts.uri.path_and_query().map(|p| p.as_str()))
        .flatten();
    match asked.filter(|a| safe_next(a).is_some()) {
        Some(next) => {
            let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            Redirect::to(&format!("/console/login?next={next}")).into_response()
        }
        None => Redirect::to("/console/login").into_response(),
    }
}

/// `next` if it is a page of the console to return to after signing in: a path of this site under
/// `/console/` (never another site's address, `//host`, the sign-in page itself, nor `/console/`,
/// which leads to the role's first page anyway).
pub fn safe_next(next: &str) -> Option<&str> {
    let page = next.strip_prefix("/console/")?;
    let bad = page.is_empty()
        || next.contains("//")
        || next.contains('\\')
        || next.chars().any(char::is_control)
        || page.starts_with("login")
        || page.starts_with("logout");
    (!bad).then_some(next)
}

/// A request of a signed-in principal: the session and who the API says the token is.
pub struct Signed {
    pub console: Arc<Shared>,
    pub session: Session,
    pub principal_id: String,
    pub role: String,
    pub unit: String,
    pub unit_name: String,
    pub peer: Option<SocketAddr>,
}

impl FromRequestParts<Arc<Shared>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Shared>,
    ) -> Result<Self, Self::Rejection> {
        let now = chrono::Utc::now().timestamp();
        let session = parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| session::cookie(c, session::COOKIE))
            .and_then(|v| console.keys.read(v, now))
            .ok_or_else(|| sign_in_first(parts))?;
        // Signed out or expired on the server: the cookie alone opens nothing.
        match console.sessions.is_open(&session.id, now).await {
            Ok(true) => {}
            Ok(false) => return Err(sign_in_first(parts)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read console sessions");
                return Err(message_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "暂时无法确认登录状态，请稍后再试。",
                )
                .into_response());
            }
        }
        if parts.method != Method::GET
            && parts.method != Method::HEAD
            && !same_origin(&parts.headers)
        {
            return Err(crate::refusal(
                StatusCode::FORBIDDEN,
                "请求来源与本站不一致，已拒绝（跨站请求）。",
            ));
        }
        let me = console.api.get(&session.token, "/v1/me").await;
        if me.status == StatusCode::UNAUTHORIZED {
            return Err(sign_in_first(parts));
        }
        if !me.ok() {
            return Err(problem_page(&me));
        }
        let me: wire::Me = me
            .read()
            .map_err(|why| crate::refusal(StatusCode::BAD_GATEWAY, &why))?;
        Ok(Signed {
            console: console.clone(),
            principal_id: me.principal_id,
            role: me.role.as_str().to_owned(),
            unit: me.unit.unwrap_or_default(),
            unit_name: me.unit_name.unwrap_or_default(),
            session,
            peer: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        })
    }
}

/// A POST comes from the console's own pages: its `Origin` (or, without one, `Referer`) names
/// the host the request was sent to. Browsers send `Origin` on every POST.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let from = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match (host, from) {
        (Some(host), Some(from)) => {
            let rest = from
                .strip_prefix("https://")
                .or_else(|| from.strip_prefix("http://"))
                .unwrap_or("");
            rest.split('/').next() == Some(host)
        }
        _ => false,
    }
}

impl Signed {
    pub fn token(&self) -> &str {
        &self.session.token
    }

    pub fn csrf(&self) -> String {
        self.console.keys.csrf(&self.session)
    }

    /// The refusal of a form without this session's CSRF token (`None`: the token is right).
    pub fn csrf_refused(&self, given: Option<&str>) -> Option<Response> {
        match given {
            Some(t) if self.console.keys.csrf_ok(&self.session, t) => None,
            _ => Some(crate::refusal(
                StatusCode::FORBIDDEN,
                "表单已失效或不是从本系统提交的，请返回页面刷新后重试。",
            )),
        }
    }

    pub fn is(&self, roles: &[&str]) -> bool {
        roles.contains(&self.role.as_str())
    }

    /// The frame of a page titled `title`, navigation `active`.
    pub fn frame(&self, title: &str, active: &str) -> Frame {
        let mut nav = Vec::new();
        let mut add = |href: &str, label: &str| {
            nav.push(NavItem {
                href: href.to_owned(),
                label: label.to_owned(),
                active: href == active,
            })
        };
        match self.role.as_str() {
            "clerk" | "handler" | "system" => {
                add("/console/queue", "我的待办");
                if self.role != "handler" {
                    add("/console/register", "登记");
                }
                add("/console/cases", "案件查询");
                if self.role == "clerk" {
                    add("/console/alerts", "预警");
                }
            }
            "county" => {
                add("/console/workbench", "工作台");
                add("/console/workbench?flag=supervised", "督办");
                add("/console/alerts", "预警");
                add("/console/backlog", "积案");
                add("/console/register", "登记");
                add("/console/cases", "案件查询");
                add("/console/stats", "统计");
                add("/console/audit/records", "核减与删除");
            }
            "auditor" => {
                add("/console/audit", "案件核查");
                add("/console/audit/actor", "人员轨迹");
                add("/console/audit/records", "核减与删除");
                add("/console/audit/checkpoints", "检查点");
                add("/console/workbench", "工作台");
                add("/console/alerts", "预警");
                add("/console/backlog", "积案");
                add("/console/stats", "统计");
            }
            _ => {
                add("/console/stats", "统计");
                add("/console/scorecards", "考核");
            }
        }
        let unit = if self.unit_name.is_empty() {
            String::new()
        } else {
            format!(" · {}", self.unit_name)
        };
        Frame {
            title: title.to_owned(),
            user: format!(
                "{}{unit} · {}",
                self.principal_id,
                crate::names::role(&self.role)
            ),
            nav,
            csrf: self.csrf(),
            as_of_allowed: self.is(&["county", "auditor"]),
            as_of: String::new(),
            keep: Vec::new(),
            notice: String::new(),
            error: String::new(),
        }
    }
}

pub struct NavItem {
    pub href: String,
    pub label: String,
    pub active: bool,
}

/// The frame around a page.
pub struct Frame {
    pub title: String,
    /// Who is signed in (empty on the pages before sign-in).
    pub user: String,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    /// Whether the page offers "as of a date" (county and auditors).
    pub as_of_allowed: bool,
    /// The date the page is shown as of (`YYYY-MM-DD`), empty for now.
    pub as_of: String,
    /// The page's own parameters, which choosing a date keeps.
    pub keep: Vec<(String, String)>,
    pub notice: String,
    pub error: String,
}

impl Frame {
    /// The frame of a page shown without sign-in.
    pub fn public(title: &str) -> Frame {
        Frame {
            title: title.to_owned(),
            user: String::new(),
            nav: Vec::new(),
            csrf: String::new(),
            as_of_allowed: false,
            as_of: String::new(),
            keep: Vec::new(),
            notice: String::new(),
            error: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    f: Frame,
    status: u16,
    heading: String,
    message: String,
}

/// A page that says what went wrong, with its status.
pub fn message_page(status: StatusCode, message: &str) -> Response {
    let heading = match status.as_u16() {
        401 => "请先登录",
        403 => "无权访问",
        404 => "未找到",
        409 => "案件已被他人更新",
        413 => "文件过大",
        429 => "请求过于频繁",
        503 | 507 => "系统暂时不可用",
        s if s >= 500 => "系统错误",
        _ => "无法完成",
    };
    let page = MessagePage {
        f: Frame::public(heading),
        status: status.as_u16(),
        heading: heading.to_owned(),
        message: message.to_owned(),
    };
    (status, render(&page)).into_response()
}

/// The page for an API problem: its status and Chinese detail, never a stack trace.
pub fn problem_page(answer: &Answer) -> Response {
    let status = answer.status;
    let message = match status.as_u16() {
        403 => format!("您的账号无权查看或办理此项。{}", answer.detail()),
        404 => "没有这个案件或页面，或您无权查看。".to_owned(),
        _ => answer.detail(),
    };
    message_page(status, &message)
}

/// A success's answer as the type the API writes it with, or the page to show instead: the
/// problem's page, or an error page when the answer is not what the API's type says.
pub fn read_or_page<T: serde::de::DeserializeOwned>(answer: &Answer) -> Result<T, Box<Response>> {
    if !answer.ok() {
        return Err(Box::new(problem_page(answer)));
    }
    answer
        .read()
        .map_err(|why| Box::new(crate::refusal(StatusCode::BAD_GATEWAY, &why)))
}

/// A rendered template as HTML (a template error, which the tests rule out, is a 500 page).
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><meta charset=utf-8><p>页面生成失败</p>".to_owned()),
            )
                .into_response()
        }
    }
}
