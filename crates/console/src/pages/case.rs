//! 案件页: a case with its timeline (business and recorded time, who, for which unit), its
//! evidence, its verification (county, auditors) and a form for exactly each step the API says
//! the principal may take now (`allowed_actions`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Map, Value};

use super::FormData;
use crate::backend::{query, seg, Call};
use crate::frame::{read_or_page, render, Frame, Signed};
use crate::names::{date, event, text, time, zh};
use crate::pages::steps::{form_of, ActionForm};
use crate::pages::timeline::{details, Event};
#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub f: Frame,
    pub case_id: String,
    pub version: String,
    pub facts: Vec<(String, String)>,
    pub summary: String,
    pub petitioners: Vec<String>,
    pub flags: Vec<String>,
    pub overdue: bool,
    pub events: Vec<Event>,
    pub history_note: String,
    pub attachments: Vec<(String, String, String)>,
    pub can_attach: bool,
    pub verification: String,
    pub verified: bool,
    /// The other cases of the same petitioners (county, auditors): id, number, status, unit.
    pub related: Vec<(String, String, String, String)>,
    pub forms: Vec<ActionForm>,
    /// 文书 the case's steps have: (kind, label).
    pub documents: Vec<(String, String)>,
    /// 核减 and 删除 may be asked here (the county, on the case as it is now), for these figures.
    pub govern: Vec<(String, String)>,
    /// What was typed in a governance request the API refused, shown again in its form.
    pub kept: super::steps::GovernKept,
}

async fn unit_choices(signed: &Signed) -> Vec<(String, String)> {
    super::units(signed)
        .await
        .into_iter()
        .filter(|u| u.kind != "county" || u.code == "county")
        .map(|u| (u.code, u.name))
        .collect()
}

/// The case page.
pub async fn page(
    signed: Signed,
    Path(case_id): Path<String>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    let notice = p.get("done").map(|done| format!("已{}。", zh(done)));
    let as_of = p.get("as_of").map(String::as_str).unwrap_or("");
    show(&signed, &case_id, as_of, notice, None, None).await
}

pub(super) async fn show(
    signed: &Signed,
    case_id: &str,
    as_of_date: &str,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
    typed: Option<&FormData>,
) -> Response {
    let c = &signed.console;
    let as_of = match super::end_of_day(c, as_of_date) {
        Ok(at) => at.unwrap_or_default(),
        Err(page) => return *page,
    };
    let q = query(&[("as_of", &as_of)]);
    let case = c
        .api
        .get(signed.token(), format!("/v1/cases/{}{q}", seg(case_id)))
        .await;
    let v: wire::case::CaseView = match read_or_page(&case) {
        Ok(v) => v,
        Err(page) => return *page,
    };
    let units: BTreeMap<String, String> = unit_choices(signed).await.into_iter().collect();
    let history = c
        .api
        .get(
            signed.token(),
            format!("/v1/cases/{}/history{q}", seg(case_id)),
        )
        .await;
    let mut history_note = String::new();
    let mut documents = Vec::new();
    let events = match history.read::<wire::audit::History>() {
        Ok(h) if history.ok() => {
            let types: Vec<&str> = h.events.iter().map(|e| e.type_.as_str()).collect();
            documents = super::documents::offered(&types);
            h.events
                .iter()
                .map(|e| {
                    let occurred = e.occurred_at.to_rfc3339();
                    let recorded = e.recorded_at.to_rfc3339();
                    let late = e.late_entry;
                    let actor = &e.actor;
                    let actor_unit = actor
                        .unit
                        .as_ref()
                        .and_then(|u| units.get(u.as_str()))
                        .cloned()
                        .unwrap_or_default();
                    Event {
                        seq: e.seq.to_string(),
                        kind: event(&e.type_),
                        occurred: time(c.tz, &occurred),
                        recorded: time(c.tz, &recorded),
                        late,
                        actor: format!(
                            "{}（{}{}）",
                            actor.id.0,
                            crate::names::role(actor.role.as_str()),
                            if actor_unit.is_empty() {
                                String::new()
                            } else {
                                format!(" · {actor_unit}")
                            }
                        ),
                        details: match &e.late_reason {
                            Some(why) => {
                                format!("{}；补录理由：{why}", details(&e.data, &units, c.tz))
                            }
                            None => details(&e.data, &units, c.tz),
                        },
                    }
                })
                .collect()
        }
        _ => {
            history_note = history.detail();
            Vec::new()
        }
    };
    let (verification, verified) = if signed.is(&["county", "auditor"]) && as_of.is_empty() {
        let ver = c
            .api
            .get(signed.token(), format!("/v1/cases/{}/verify", seg(case_id)))
            .await;
        match ver.read::<wire::case::Verification>() {
            Ok(v) if ver.ok() && v.ok => (
                format!("已核验：{} 个事件的哈希链与签名完整，未被篡改。", v.events),
                true,
            ),
            Ok(v) if ver.ok() => {
                let findings: Vec<String> = v
                    .findings
                    .iter()
                    .map(|f| match f.seq {
                        Some(seq) => format!("序号 {seq}：{}（{}）", f.detail, f.code),
                        None => format!("{}（{}）", f.detail, f.code),
                    })
                    .collect();
                (format!("核验未通过：{}", findings.join("；")), false)
            }
            _ => (format!("无法核验：{}", ver.detail()), false),
        }
    } else {
        (String::new(), false)
    };
    let unit_list: Vec<(String, String)> =
        units.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut forms: Vec<ActionForm> = v
        .allowed_actions
        .iter()
        .map(|a| form_of(a.as_str(), &unit_list))
        .collect();
    let lines = v.petitioners.as_deref().map(super::people::lines);
    super::steps::petitioners_for(&mut forms, lines);
    if let Some(typed) = typed {
        super::steps::keep_typed(&mut forms, typed);
    }
    let at =
        |t: Option<domain::Timestamp>| t.map(|t| time(c.tz, &t.to_rfc3339())).unwrap_or_default();
    let mut facts = vec![
        ("案件编号".to_owned(), v.case_no.clone()),
        ("状态".to_owned(), zh(v.status.as_str())),
        ("责任单位".to_owned(), v.unit_name.clone()),
        ("登记乡镇".to_owned(), v.township_name.clone()),
        ("渠道".to_owned(), zh(v.channel.as_str())),
        ("类别".to_owned(), zh(v.category.as_str())),
        ("到达层级".to_owned(), zh(v.level_reached.as_str())),
        ("人数".to_owned(), v.headcount.to_string()),
        ("收到时间".to_owned(), at(Some(v.received_at))),
        ("当前期限".to_owned(), at(v.due_at)),
    ];
    if let Some(r) = &v.reply {
        facts.push((
            "答复".to_owned(),
            format!(
                "{}（{}）：{}",
                zh(r.outcome.as_str()),
                at(Some(r.at)),
                r.text
            ),
        ));
    }
    facts.push((
        "签收".to_owned(),
        match (&v.acknowledged, v.acknowledge_due_at) {
            (Some(a), _) if a.on_time => format!("已签收（{}）", at(Some(a.at))),
            (Some(a), _) => format!("已签收，超时（{}）", at(Some(a.at))),
            (None, Some(due)) => format!("待签收，期限 {}", at(Some(due))),
            (None, None) => "—".to_owned(),
        },
    ));
    if v.reminders.count > 0 {
        facts.push((
            "催办".to_owned(),
            format!("{} 次，最近 {}", v.reminders.count, at(v.reminders.last_at)),
        ));
    }
    if v.reopens > 0 {
        facts.push(("重办".to_owned(), format!("{} 次", v.reopens)));
    }
    if let Some(until) = v.review_request_due_at {
        facts.push(("可申请复查/复核至".to_owned(), at(Some(until))));
    }
    if let Some(l) = &v.leader {
        facts.push(("包案领导".to_owned(), format!("{} {}", l.title, l.name)));
    }
    // In the order of their names, as the page always listed them.
    let flags = wire::cases::SummaryFlags::from(v.flags)
        .named()
        .iter()
        .filter(|(_, on)| *on)
        .map(|(k, _)| zh(k))
        .collect();
    let petitioners = v
        .petitioners
        .iter()
        .flatten()
        .map(|p| {
            std::iter::once(&p.name)
                .chain([&p.id_number, &p.phone, &p.address].into_iter().flatten())
                .filter(|x| !x.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join("，")
        })
        .collect();
    let attachments = v
        .attachments
        .iter()
        .map(|x| {
            let name = if x.filename.is_empty() {
                "（文件名不可见）".to_owned()
            } else {
                x.filename.clone()
            };
            (
                x.attachment_id.to_string(),
                name,
                format!("{} 字节", x.size),
            )
        })
        .collect();
    let related = v
        .related_cases
        .iter()
        .flatten()
        .map(|r| {
            let received = date(c.tz, &r.received_at.to_rfc3339());
            let what = format!("{} · {received}", zh(r.category.as_str()));
            (
                r.case_id.to_string(),
                r.case_no.clone(),
                zh(r.status.as_str()),
                format!("{} · {what}", r.unit_name),
            )
        })
        .collect();
    let mut f = signed.frame(&format!("案件 {}", v.case_no), "");
    f.as_of = as_of_date.to_owned();
    if let Some(notice) = notice {
        f.notice = notice;
    }
    let status = match error {
        Some((status, msg)) => {
            f.error = msg;
            status
        }
        None => StatusCode::OK,
    };
    let page = CasePage {
        f,
        case_id: case_id.to_owned(),
        version: v.version.to_string(),
        facts,
        summary: v.summary.clone(),
        petitioners,
        flags,
        overdue: v.overdue,
        events,
        history_note,
        attachments,
        can_attach: !forms.is_empty() && as_of_date.is_empty(),
        verification,
        verified,
        related,
        forms: if as_of_date.is_empty() {
            forms
        } else {
            Vec::new()
        },
        documents,
        govern: if signed.role == "county" && as_of_date.is_empty() {
            crate::names::adjustable_measures()
        } else {
            Vec::new()
        },
        kept: typed.map(super::steps::GovernKept::of).unwrap_or_default(),
    };
    (status, render(&page)).into_response()
}

/// The session a case page's form (sent to `path`) acts in; otherwise the page to answer with:
/// sign-in carrying the form when the session ended, a CSRF refusal, or, back from signing in
/// again (`check=1`), the case page with the form as it was typed, to check and send.
pub(super) async fn form_session(
    signed: Result<Signed, Response>,
    form: &FormData,
    case_id: &str,
    path: &str,
) -> Result<Signed, Box<Response>> {
    let signed = super::resumed(signed, form, path)?;
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return Err(Box::new(r));
    }
    if form.get("check") == "1" {
        let notice = "已恢复您填写的内容，请核对后提交。".to_owned();
        return Err(Box::new(
            show(&signed, case_id, "", Some(notice), None, Some(form)).await,
        ));
    }
    Ok(signed)
}

/// A step from the case page's form: its body built from the fields, sent with `If-Match` so a
/// case changed meanwhile is not acted on blindly.
pub async fn act(
    signed: Result<Signed, Response>,
    Path(case_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let path = format!("/console/cases/{case_id}/act");
    let signed = match form_session(signed, &form, &case_id, &path).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let action = form.get("action").to_owned();
    let mut b = Map::new();
    for (k, v) in &form.0 {
        let v = v.trim();
        if v.is_empty() || matches!(k.as_str(), "csrf" | "action" | "version") {
            continue;
        }
        let value = match k.as_str() {
            "days" | "headcount" => match v.parse::<u64>() {
                Ok(n) => json!(n),
                Err(_) => json!(v),
            },
            "occurred_at" | "received_at" => match super::local_time(&signed.console, v) {
                Some(t) => json!(t),
                None => json!(v),
            },
            _ => json!(v),
        };
        b.insert(k.clone(), value);
    }
    if action == "merge" {
        let no = b
            .remove("into_case_no")
            .map(|v| text(&v))
            .unwrap_or_default();
        let target = signed
            .console
            .api
            .get(signed.token(), format!("/v1/cases/by-no/{}", seg(&no)))
            .await;
        let into = target
            .ok()
            .then(|| target.read::<wire::case::CaseView>().ok())
            .flatten();
        let Some(into) = into else {
            let msg = format!("并入案件编号：找不到您可查看的案件 {no}。");
            return show(
                &signed,
                &case_id,
                "",
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, msg)),
                Some(&form),
            )
            .await;
        };
        b.insert("into".into(), json!(into.case_id));
    }
    if action == "correct" {
        let mut changes = Map::new();
        for k in [
            "summary",
            "headcount",
            "category",
            "channel",
            "level_reached",
            "received_at",
        ] {
            if let Some(v) = b.remove(k) {
                changes.insert(k.into(), v);
            }
        }
        b.remove("petitioners");
        b.remove("petitioners_was");
        match super::people::correction(&form) {
            Ok(Some(all)) => {
                changes.insert("petitioners".into(), all);
            }
            Ok(None) => {}
            Err(why) => {
                let error = Some((StatusCode::UNPROCESSABLE_ENTITY, why));
                return show(&signed, &case_id, "", None, error, Some(&form)).await;
            }
        }
        b.insert("changes".into(), Value::Object(changes));
    }
    let body = Value::Object(b);
    let send = |version: String| {
        let mut call = Call::post_json(
            signed.token(),
            format!("/v1/cases/{}/{}", seg(&case_id), seg(&action)),
            &body,
        );
        if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
            call.headers.push((header::IF_MATCH, v));
        }
        signed.console.api.call(call)
    };
    let mut answer = send(form.get("version").to_owned()).await;
    if answer.code() == Some(wire::ProblemCode::VersionConflict) {
        // Printing a document numbers it (an event): that changed nothing the step was decided
        // on, so the step is sent again on the case as it now is.
        if let Some(now) =
            super::documents::only_documents_since(&signed, &case_id, form.get("version")).await
        {
            answer = send(now.to_string()).await;
        }
    }
    if answer.ok() && action == "reissue-query-code" {
        // Shown once, on this page (never in a URL): the clerk tells the petitioner.
        let issued = answer.read::<wire::case::QueryCodeIssued>();
        let notice = issued.map(|i| {
            format!(
                "新的查询码：{}。原查询码已作废，请告知信访人。",
                i.query_code
            )
        });
        return show(&signed, &case_id, "", notice.ok(), None, None).await;
    }
    if answer.ok() {
        return Redirect::to(&format!(
            "/console/cases/{}?done={}",
            seg(&case_id),
            seg(&action)
        ))
        .into_response();
    }
    let msg = match answer.code() {
        Some(wire::ProblemCode::VersionConflict) => {
            "案件已被他人更新，页面已刷新为最新情况，请核对后重试。".to_owned()
        }
        _ => format!(
            "{}：{}",
            zh(&action),
            super::steps::in_labels(&action, &answer.detail())
        ),
    };
    if matches!(answer.status.as_u16(), 401) {
        return super::resume_sign_in(&form, &format!("/console/cases/{case_id}/act"));
    }
    let error = Some((answer.status, msg));
    show(&signed, &case_id, "", None, error, Some(&form)).await
}
