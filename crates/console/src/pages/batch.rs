//! 批量交办 and 批量督办 from the workbench (issue 34, finding 4): the county ticks cases of the
//! list and sends one step to each, as the API's own step of each case (which decides whether
//! it may be taken now); the answer is a result per case, so a refusal of one loses none of the
//! others and is said beside its case.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::table::{Cell, Table, TablePage};
use super::FormData;
use crate::backend::{seg, Call};
use crate::frame::{render, Signed};

/// The most cases one batch acts on (a page of the workbench holds 50).
pub const MAX_BATCH: usize = 100;

/// The picker of a batch under the workbench's list: the units a case may be assigned to.
pub struct BatchForm {
    pub units: Vec<(String, String)>,
    /// The workbench page to go back to (its path and filters).
    pub back: String,
}

/// The step's body from the form, or what is missing, in the form's words.
fn body_of(action: &str, form: &FormData) -> Result<Value, String> {
    let mut b = Map::new();
    let due = form.get("due_date");
    let note = form.get("note");
    match action {
        "assign" => {
            let unit = form.get("unit");
            if unit.is_empty() {
                return Err("交办须选择交办单位。".into());
            }
            b.insert("unit".into(), json!(unit));
        }
        "supervise" => {
            if note.is_empty() {
                return Err("督办须填写督办意见。".into());
            }
        }
        _ => return Err("请选择要办理的操作（交办或督办）。".into()),
    }
    if !note.is_empty() {
        b.insert("note".into(), json!(note));
    }
    if !due.is_empty() {
        b.insert("due_date".into(), json!(due));
    }
    Ok(Value::Object(b))
}

/// `POST /console/workbench/batch`: the ticked cases (`case` = `<id>|<number>`), the step and
/// its fields.
pub async fn batch(signed: Signed, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return r;
    }
    let action = form.get("action");
    let picked: Vec<(&str, &str)> = form
        .0
        .iter()
        .filter(|(k, _)| k == "case")
        .filter_map(|(_, v)| v.split_once('|'))
        .collect();
    let back = crate::frame::safe_next(form.get("back")).unwrap_or("/console/workbench");
    let name = match action {
        "assign" => "交办",
        "supervise" => "督办",
        _ => "办理",
    };
    let mut page = TablePage::new(
        signed.frame(&format!("批量{name}"), "/console/workbench"),
        &format!("批量{name}结果"),
    );
    page.f.as_of_allowed = false;
    page.next = (back.to_owned(), "回到工作台".into());
    let refuse = |mut page: TablePage, why: String| {
        page.f.error = why;
        (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
    };
    if picked.is_empty() {
        return refuse(
            page,
            "没有选择案件：请在工作台的列表中勾选要办理的案件。".into(),
        );
    }
    if picked.len() > MAX_BATCH {
        let why = format!(
            "一次最多办理 {MAX_BATCH} 件，本次选择了 {} 件。",
            picked.len()
        );
        return refuse(page, why);
    }
    let body = match body_of(action, &form) {
        Ok(b) => b,
        Err(why) => return refuse(page, why),
    };
    let mut rows = Vec::with_capacity(picked.len());
    let mut done = 0;
    // One after another: each is a command of its own, as if sent from its case page.
    for (id, no) in &picked {
        let path = format!("/v1/cases/{}/{action}", seg(id));
        let answer = signed
            .console
            .api
            .call(Call::post_json(signed.token(), path, &body))
            .await;
        let result = if answer.ok() {
            done += 1;
            format!("已{name}")
        } else {
            format!(
                "未{name}：{}",
                super::steps::in_labels(action, &answer.detail())
            )
        };
        rows.push(vec![
            Cell::link(*no, format!("/console/cases/{}", seg(id))),
            Cell::text(result),
        ]);
    }
    page.intro = format!(
        "共 {} 件：已{name} {done} 件，未{name} {} 件（原因见各案）。",
        picked.len(),
        picked.len() - done
    );
    if done > 0 {
        page.f.notice = format!("已{name} {done} 件。");
    }
    page.tables.push(Table {
        title: format!("各案{name}结果"),
        columns: vec!["案件编号".into(), "结果".into()],
        rows,
    });
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_batch_says_what_its_step_lacks_in_the_forms_words() {
        let lacks = |action: &str| body_of(action, &form(&[])).expect_err("refused");
        assert!(lacks("assign").contains("交办单位"));
        assert!(lacks("supervise").contains("督办意见"));
        assert!(lacks("").contains("请选择"));
        let b = body_of("assign", &form(&[("unit", "land_bureau"), ("note", "")]));
        assert_eq!(b, Ok(json!({"unit": "land_bureau"})));
        let b = body_of(
            "supervise",
            &form(&[("note", "从速"), ("due_date", "2026-12-31")]),
        );
        assert_eq!(b, Ok(json!({"note": "从速", "due_date": "2026-12-31"})));
    }
}
