//! 登记: the registration form, with the API's validation shown at the field it names, and the
//! returning-petitioner hints (重复访, 一信多投) before and after registering.

use askama::Template;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::FormData;
use crate::backend::Call;
use wire::case::{CaseView, Registered};
use wire::cases::Checked;

use crate::frame::{problem_page, read_or_page, render, Frame, Signed};
use crate::names::{date, zh};

pub struct RegField {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub options: Vec<(String, String)>,
    pub value: String,
    pub error: String,
}

pub struct Hint {
    pub case_id: String,
    pub case_no: String,
    pub status: String,
    pub unit_name: String,
    pub category: String,
    pub received: String,
    pub open_elsewhere: bool,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    f: Frame,
    /// This rendering's idempotency key: the same form sent twice registers once.
    form_id: String,
    fields: Vec<RegField>,
    hints: Vec<Hint>,
    checked: bool,
}

#[derive(Template)]
#[template(path = "registered.html")]
struct RegisteredPage {
    f: Frame,
    case_id: String,
    case_no: String,
    query_code: String,
    hints: Vec<String>,
}

fn vocab(words: &[&'static str]) -> Vec<(String, String)> {
    words.iter().map(|w| ((*w).to_owned(), zh(w))).collect()
}

async fn fields(signed: &Signed, form: &FormData) -> Vec<RegField> {
    let units = super::units(signed).await;
    let townships: Vec<(String, String)> = units
        .iter()
        .filter(|u| u.kind == "township")
        .filter(|u| signed.role == "county" || u.code == signed.unit)
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    let all_units: Vec<(String, String)> = std::iter::once((String::new(), "（无）".to_owned()))
        .chain(units.into_iter().map(|u| (u.code, u.name)))
        .collect();
    let f =
        |name: &str, label: &str, kind: &str, required: bool, options: Vec<(String, String)>| {
            RegField {
                name: name.into(),
                label: label.into(),
                kind: kind.into(),
                required,
                options,
                value: form.get(name).to_owned(),
                error: String::new(),
            }
        };
    vec![
        f("township", "登记乡镇", "select", true, townships),
        f(
            "channel",
            "渠道",
            "select",
            true,
            vocab(&[
                "visit",
                "letter",
                "phone",
                "online",
                "hotline_12345",
                "mailbox",
                "leader_reception",
            ]),
        ),
        f("received_at", "收到时间", "datetime-local", true, vec![]),
        f(
            "headcount",
            "人数（来信为署名人数）",
            "number",
            true,
            vec![],
        ),
        f(
            "level_reached",
            "已到达层级",
            "select",
            true,
            vocab(&[
                "village", "township", "county", "city", "province", "national",
            ]),
        ),
        f(
            "category",
            "事项类别",
            "select",
            true,
            vocab(&[
                "land",
                "wages",
                "demolition",
                "social_security",
                "urban_management",
                "environment",
                "other",
            ]),
        ),
        f("summary", "事项摘要", "textarea", true, vec![]),
        f("name", "信访人姓名", "text", true, vec![]),
        f("id_number", "身份证号码", "text", false, vec![]),
        f("phone", "联系电话", "text", false, vec![]),
        f("address", "住址", "text", false, vec![]),
        f(
            "others",
            "其他信访人（每行一人：姓名，身份证号码，电话；后两项可省）",
            "textarea",
            false,
            vec![],
        ),
        f(
            "related_case_no",
            "关联的在先案件编号（重复访）",
            "text",
            false,
            vec![],
        ),
        f("leader_reception", "领导接访日", "checkbox", false, vec![]),
        f("accusation", "检举控告", "checkbox", false, vec![]),
        f("accused_unit", "被检举控告单位", "select", false, all_units),
        f("confidential", "涉密或需保护", "checkbox", false, vec![]),
    ]
}

pub async fn form(signed: Signed) -> Response {
    let fields = fields(&signed, &FormData(Vec::new())).await;
    render(&RegisterPage {
        f: signed.frame("登记", "/console/register"),
        form_id: form_id(),
        fields,
        hints: Vec::new(),
        checked: false,
    })
}

/// A new random form id (128 bits, hex).
fn form_id() -> String {
    let mut id = [0u8; 16];
    if getrandom::getrandom(&mut id).is_err() {
        return String::new();
    }
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// 查重: what a registration of the form would be told now (`POST /v1/cases/check`, decided
/// as registration decides, over every case whoever may see it), as notes, and the earlier
/// cases the principal may see. Nothing when the form does not name a petitioner yet, or the
/// API refuses the check (the registration will say why).
async fn hints(signed: &Signed, form: &FormData) -> (Vec<String>, Vec<Hint>) {
    let named = ["name", "id_number", "phone"]
        .iter()
        .any(|k| !form.get(k).is_empty());
    if !named {
        return (Vec::new(), Vec::new());
    }
    let Ok(petitioners) = super::people::petitioners(form) else {
        return (Vec::new(), Vec::new());
    };
    let body = json!({
        "township": form.get("township"),
        "category": form.get("category"),
        "petitioners": petitioners,
    });
    let answer = signed
        .console
        .api
        .call(Call::post_json(signed.token(), "/v1/cases/check", &body))
        .await;
    let Some(checked) = answer.ok().then(|| answer.read::<Checked>().ok()).flatten() else {
        return (Vec::new(), Vec::new());
    };
    let notes = said(&[
        (
            checked.first_petition,
            "初信初访：未查到该信访人的在先案件。",
        ),
        (checked.repeat, REPEAT),
        (checked.duplicate, DUPLICATE),
    ]);
    let category = form.get("category");
    let hints = checked
        .earlier
        .iter()
        .map(|v| Hint {
            case_id: v.case_id.to_string(),
            case_no: v.case_no.clone(),
            status: zh(v.status.as_str()),
            unit_name: v.unit_name.clone(),
            category: zh(v.category.as_str()),
            received: date(signed.console.tz, &v.received_at.to_rfc3339()),
            open_elsewhere: v.stage != domain::Stage::Done && v.category.as_str() == category,
        })
        .collect();
    (notes, hints)
}

/// What 查重 and a registration say of 重复访 and 一信多投.
const REPEAT: &str = "重复访：该信访人此前就同一类别事项有过案件。";
const DUPLICATE: &str = "一信多投：同一信访人同一事项在其他单位有在办案件。";

/// The notes of the flags that are set, in order.
fn said(flags: &[(bool, &str)]) -> Vec<String> {
    flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, text)| (*text).to_owned())
        .collect()
}

/// The field a problem's detail names (`petitioners[0].id_number：…` names `id_number`; a later
/// petitioner's field is in `others`).
fn field_of(detail: &str) -> Option<String> {
    let head = detail.split(['：', ':']).next()?;
    if head.len() == detail.len() || head.contains(' ') {
        return None;
    }
    if head.starts_with("petitioners[") && !head.starts_with("petitioners[0]") {
        return Some("others".to_owned());
    }
    let last = head.rsplit('.').next()?;
    Some(last.split('[').next()?.to_owned())
}

/// 查重 (`check`) or 登记.
pub async fn submit(signed: Result<Signed, Response>, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    // A session that ended while the form was being filled in: sign in again and go on with
    // what was typed (issue 34, finding 2), never a registration lost without a word.
    let signed = match super::resumed(signed, &form, "/console/register") {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return r;
    }
    let mut fields = fields(&signed, &form).await;
    let mut f = signed.frame("登记", "/console/register");
    if form.get("check") == "1" {
        let (notes, hints) = hints(&signed, &form).await;
        f.notice = notes.join(" ");
        return render(&RegisterPage {
            f,
            form_id: form_id(),
            fields,
            hints,
            checked: true,
        });
    }
    let mut errors: Vec<(String, String)> = Vec::new();
    let received = super::local_time(&signed.console, form.get("received_at"));
    if received.is_none() {
        errors.push(("received_at".into(), "请填写收到时间。".into()));
    }
    let headcount = form.get("headcount").parse::<u64>().ok();
    if headcount.is_none() {
        errors.push(("headcount".into(), "人数应为正整数。".into()));
    }
    // Every required field left empty at once, not one per submit (issue 34, finding 3).
    for fd in fields.iter().filter(|f| f.required) {
        if form.get(&fd.name).is_empty() && !errors.iter().any(|(n, _)| *n == fd.name) {
            let label = fd.label.split('（').next().unwrap_or(&fd.label);
            errors.push((fd.name.clone(), format!("请填写{label}。")));
        }
    }
    let petitioners = match super::people::petitioners(&form) {
        Ok(p) => p,
        Err(why) => {
            errors.push(("others".into(), why));
            Vec::new()
        }
    };
    if let Some(h) = headcount.filter(|h| *h > 0 && (*h as usize) < petitioners.len()) {
        errors.push((
            "headcount".into(),
            format!(
                "人数（{h}）少于所列信访人（{} 人），请核对。",
                petitioners.len()
            ),
        ));
    }
    let mut related = Value::Null;
    if !form.get("related_case_no").is_empty() {
        let path = format!(
            "/v1/cases/by-no/{}",
            crate::backend::seg(form.get("related_case_no"))
        );
        let found = signed.console.api.get(signed.token(), path).await;
        if let Some(case) = found.ok().then(|| found.read::<CaseView>().ok()).flatten() {
            related = json!(case.case_id);
        } else {
            errors.push((
                "related_case_no".into(),
                "找不到您可查看的该编号案件。".into(),
            ));
        }
    }
    if errors.is_empty() {
        let accusation = form.get("accusation") == "on";
        // The form's values as given: the API validates them and names the field it refuses.
        let mut body = json!({
            "township": form.get("township"), "channel": form.get("channel"),
            "received_at": received, "headcount": headcount,
            "level_reached": form.get("level_reached"), "category": form.get("category"),
            "summary": form.get("summary"), "petitioners": petitioners,
            "related_case_id": related, "accusation": accusation,
            "confidential": form.get("confidential") == "on",
            "leader_reception": form.get("leader_reception") == "on",
        });
        if let (true, Some(fields)) = (accusation, body.as_object_mut()) {
            if !form.get("accused_unit").is_empty() {
                fields.insert("accused_unit".into(), json!(form.get("accused_unit")));
            }
        }
        let mut call = Call::post_json(signed.token(), "/v1/cases", &body);
        // A double click or a resent form registers once: the key is the form's own.
        if let Ok(v) = axum::http::HeaderValue::from_str(form.get("form_id")) {
            if !form.get("form_id").is_empty() {
                call.headers
                    .push((axum::http::HeaderName::from_static("idempotency-key"), v));
            }
        }
        let answer = signed.console.api.call(call).await;
        if answer.ok() {
            let done: Registered = match read_or_page(&answer) {
                Ok(done) => done,
                Err(page) => return *page,
            };
            let flags = &done.case.flags;
            let notes = said(&[
                (flags.repeat, REPEAT),
                (flags.duplicate, DUPLICATE),
                (flags.collective, "集体访：人数达到集体访标准。"),
                (flags.cross_level, "越级访。"),
                (flags.first_petition, "初信初访。"),
            ]);
            let page = RegisteredPage {
                f: signed.frame("登记完成", "/console/register"),
                case_id: done.case_id.to_string(),
                case_no: done.case_no,
                query_code: done.query_code,
                hints: notes,
            };
            return (StatusCode::CREATED, render(&page)).into_response();
        }
        if answer.status == StatusCode::FORBIDDEN || answer.status == StatusCode::UNAUTHORIZED {
            return problem_page(&answer);
        }
        let detail = answer.detail();
        match field_of(&detail) {
            Some(name) if fields.iter().any(|f| f.name == name) => {
                // At the field, the message without the field's path before it.
                let text = detail
                    .split_once(['：', ':'])
                    .map_or(detail.as_str(), |(_, t)| t.trim());
                errors.push((name, text.to_owned()))
            }
            _ => f.error = detail,
        }
    }
    for (name, msg) in errors {
        if let Some(fl) = fields.iter_mut().find(|f| f.name == name) {
            fl.error = msg;
        }
    }
    if f.error.is_empty() {
        f.error = "请按提示修改标红的项目后再提交。".to_owned();
    }
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&RegisterPage {
            f,
            form_id: form_id(),
            fields,
            hints: hints(&signed, &form).await.1,
            checked: false,
        }),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_problem_names_its_field() {
        assert_eq!(
            super::field_of("petitioners[0].id_number：校验位错误").as_deref(),
            Some("id_number")
        );
        assert_eq!(
            super::field_of("summary: must not be empty").as_deref(),
            Some("summary")
        );
        assert_eq!(super::field_of("案件已登记"), None);
        assert_eq!(
            super::field_of("petitioners[2].phone：号码无效").as_deref(),
            Some("others")
        );
    }
}
