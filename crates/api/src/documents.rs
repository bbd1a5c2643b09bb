//! `GET /v1/cases/{id}/documents/{kind}[?seq=N]`: the document a bureau sends and files for a
//! step of a case (受理告知书, 不予受理告知书, 转送告知书, 交办单, 督办函, 答复意见书), as PDF.
//!
//! The first request by a principal who may act on the case numbers it (`DocumentIssued`,
//! through the command path, so a number is given once); other readers get `409 not_issued`
//! until then, the same number after. What a document states comes from the step's event and
//! the case; the petitioner's name only for a reader entitled to personal data.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use domain::case::IssuedDocument;
use domain::command::IssueDocument;
use domain::event::Event;
use domain::{Action, Case, CaseId, Command, DocumentKind, DomainError, Principal};
use eventlog::Stored;

use crate::error::{ApiError, Failure};
use crate::params::Params;
use crate::AppState;

/// The query of a document: the step at log sequence `seq` (default: the latest of its kind).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentParams {
    #[serde(default)]
    pub seq: Option<u64>,
}

pub async fn document(
    State(state): State<Arc<AppState>>,
    Path((case_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
    Params(params): Params<DocumentParams>,
) -> Result<Response, ApiError> {
    let p = state.tokens.authenticate(&headers)?;
    domain::auth::can_find_cases(&p)?;
    let case_id = CaseId::parse(&case_id).ok_or(Failure::NotFound)?;
    let kind = DocumentKind::parse(&kind).ok_or(Failure::NotFound)?;
    let loaded = state.cases.read(case_id).await?.ok_or(Failure::NotFound)?;
    crate::merged::may_read(&state, &p, &loaded.case, None).await?;
    let events = state.cases.sealed_history(case_id).await?;
    let step = events
        .iter()
        .rfind(|e| {
            e.admitted()
                && e.envelope.event.type_name() == kind.step_type()
                && params.seq.is_none_or(|s| e.seq == s)
        })
        .ok_or(Failure::Domain(DomainError::InvalidTransition {
            action: Action::IssueDocument.as_str(),
            status: loaded.case.status,
        }))?;
    let (case, issued) = match loaded.case.document(kind, step.seq) {
        Some(d) => (loaded.case.clone(), d.clone()),
        None => issue(&state, &p, &headers, &loaded.case, kind, step.seq).await?,
    };
    let page = page_of(&state, &p, &case, kind, step, &issued);
    let pdf = state.printer.print(&page).map_err(|e| {
        tracing::error!(error = %e, "a document could not be printed");
        Failure::Unavailable(e.to_string(), 60)
    })?;
    let mut resp = (StatusCode::OK, pdf).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "inline; filename=\"{}-{}.pdf\"",
        case.case_no,
        kind.as_str()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Number the document: only a principal who may act on the case (with a unit of its own);
/// another reader is told it is not issued yet.
async fn issue(
    state: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    case: &Case,
    kind: DocumentKind,
    step_seq: u64,
) -> Result<(Case, IssuedDocument), Failure> {
    let unit = domain::decide::document_unit(p);
    let may_issue =
        unit.is_some() && domain::auth::authorize_command(p, Action::IssueDocument, case).is_ok();
    let Some(unit) = unit.filter(|_| may_issue) else {
        let (en, zh) = (kind.as_str(), kind.name_zh());
        return Err(Failure::NotIssued(domain::text!(
            "the {en} of this step has not been issued yet; the accountable unit or the county issues it",
            "该步骤的{zh}尚未出具，须由责任单位或县信访局出具"
        )));
    };
    let command = Command::IssueDocument(IssueDocument {
        kind,
        step_seq,
        unit_name: state.unit_name(&unit),
    });
    let json = command.body();
    match crate::handlers::execute(state, p, headers, Some(case.id), command, json).await {
        Ok(done) => {
            let d = done.case.document(kind, step_seq).cloned();
            d.map(|d| (done.case, d))
                .ok_or_else(|| Failure::Internal("an issued document is not in its case".into()))
        }
        // Another principal issued it meanwhile: the number it was given.
        Err(Failure::Domain(DomainError::Validation(_))) => {
            let again = state.cases.read(case.id).await?.ok_or(Failure::NotFound)?;
            let d = again.case.document(kind, step_seq).cloned();
            d.map(|d| (again.case, d))
                .ok_or_else(|| Failure::Internal("a document neither issued nor issuable".into()))
        }
        Err(e) => Err(e),
    }
}

/// What the document of `kind` for `step` says.
fn page_of(
    state: &AppState,
    p: &Principal,
    case: &Case,
    kind: DocumentKind,
    step: &Stored,
    issued: &IssuedDocument,
) -> ::documents::Page {
    let policy = state.cases.policy();
    let day = |t: domain::Timestamp| {
        let d = policy.local_date(t);
        format!(
            "{}年{}月{}日",
            chrono::Datelike::year(&d),
            chrono::Datelike::month(&d),
            chrono::Datelike::day(&d)
        )
    };
    let name = |u: &domain::UnitCode| state.unit_name(u);
    let on = day(step.envelope.occurred_at);
    let received = day(case.received_at);
    let petitioner = domain::auth::can_see_personal_data(p, case)
        .then(|| case.petitioners.first().map(|x| x.name.clone()))
        .flatten()
        .filter(|n| !n.is_empty());
    let matter = format!(
        "您于{received}反映的{}问题（案件编号 {}）",
        case.category.name_zh(),
        case.case_no
    );
    let mut facts = vec![("案件编号".to_owned(), case.case_no.clone())];
    let paragraphs = match &step.envelope.event {
        Event::CaseAccepted(e) => {
            facts.push(("答复期限".into(), day(e.reply_due_at)));
            vec![format!(
                "{matter}，本机关已于{on}依法受理，将在{}前作出书面答复。",
                day(e.reply_due_at)
            )]
        }
        Event::CaseRejected(e) => vec![
            format!("{matter}，经审查，本机关于{on}决定不予受理。"),
            format!("理由：{}。{}", e.reason_code.name_zh(), e.reason),
        ],
        Event::CaseTransferred(e) => vec![
            format!(
                "{matter}，依照《信访工作条例》的规定，本机关已于{on}转送{}办理。",
                name(&e.unit)
            ),
            format!("转送理由：{}", e.reason),
        ],
        Event::CaseAssigned(e) => {
            if let Some(due) = e.due_at {
                facts.push(("办理期限".into(), day(due)));
            }
            vec![
                format!(
                    "{}：现将案件编号 {} 的信访事项（{}，{received}收到）交由你单位办理，请依法处理并按期报送办理结果。",
                    name(&e.unit),
                    case.case_no,
                    case.category.name_zh()
                ),
                e.note.clone().map(|n| format!("交办意见：{n}")).unwrap_or_default(),
            ]
        }
        Event::CaseSupervised(e) => {
            if let Some(due) = e.due_at {
                facts.push(("承诺办结日期".into(), day(due)));
            }
            vec![
                format!(
                    "{}：案件编号 {} 的信访事项尚未办结，现予督办，请抓紧办理并报告进展。",
                    name(&e.unit),
                    case.case_no
                ),
                format!("督办意见：{}", e.note),
            ]
        }
        Event::CaseReplied(e) => {
            facts.push(("可申请复查至".into(), day(e.review_request_until)));
            vec![
                format!("{matter}，经调查核实，现答复如下："),
                e.text.clone(),
                format!(
                    "答复意见：{}。如不服本答复意见，可自收到之日起三十日内向上一级机关申请复查。",
                    e.outcome.name_zh()
                ),
            ]
        }
        _ => Vec::new(),
    };
    facts.push(("日期".into(), on));
    ::documents::Page {
        issuer: name(&issued.unit),
        title: kind.name_zh().to_owned(),
        number: issued.document_no.clone(),
        addressee: match kind {
            DocumentKind::AssignmentSlip | DocumentKind::SupervisionLetter => None,
            _ => Some(format!(
                "{}：",
                petitioner.unwrap_or_else(|| "信访人".to_owned())
            )),
        },
        paragraphs: paragraphs.into_iter().filter(|s| !s.is_empty()).collect(),
        facts,
        date: day(step.envelope.recorded_at),
    }
}
