//! `GET /v1/status/{case_no}?code=…`: how a case stands, for the petitioner, without login
//! (docs/contract.md, "HTTP"). It shows no personal data and no ids. A wrong code
//! answers exactly like an unknown number, and failed lookups are limited per (client address,
//! case number) and per client address (429, `limits`), so the code (50 bits) cannot be guessed
//! and nobody elsewhere can lock a petitioner out; behind a trusted proxy the client address is
//! the one the proxy forwarded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::error::{ApiError, Failure};
use crate::limits::client_key;
use crate::AppState;

use domain::command::Action;
use domain::Event;
use wire::status::{CaseStatus, MergedStatus, Step};

/// Failed lookups allowed per client address within [`WINDOW`].
pub const MAX_FAILURES_PER_CLIENT: u32 = 20;
/// Failed lookups allowed per (client address, case number) within [`WINDOW`].
pub const MAX_FAILURES_PER_CLIENT_AND_CASE: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusParams {
    code: String,
}

pub async fn status(
    State(state): State<Arc<AppState>>,
    Path(case_no): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    // Never per case number alone: failures elsewhere must not lock a petitioner out.
    let client = client_key(peer.ip(), &headers, &state.trusted_proxies);
    let number = format!("{client} {}", case_no.to_ascii_uppercase());
    for (key, max) in [
        (&client, MAX_FAILURES_PER_CLIENT),
        (&number, MAX_FAILURES_PER_CLIENT_AND_CASE),
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
        .map_err(crate::error::query_failure)?
        .value
        .ok_or(Failure::NotFound)?;
    let case = state.cases.read(id).await?.ok_or(Failure::NotFound)?.case;
    // The code in force: a reissued code replaces every earlier one.
    if !state
        .cases
        .query_code_matches(id, case.query_code_seq, code)
    {
        return Err(Failure::NotFound);
    }
    let policy = state.cases.policy();
    let day = |t: domain::Timestamp| policy.local_date(t);
    let steps = state
        .cases
        .sealed_history(id)
        .await?
        .iter()
        .filter(|e| e.admitted())
        .filter_map(|e| {
            step_of(&e.envelope.event).map(|step| Step {
                step,
                step_name: step.name_zh().to_owned(),
                date: day(e.envelope.occurred_at),
            })
        })
        .collect();
    let reply_text = |c: &domain::Case| c.reply.as_ref().map(|r| r.text.clone());
    // The matter goes on in the case it was merged into: its petitioner follows it there.
    let merged_into = match case.merged_into {
        Some(into) => state
            .cases
            .read(domain::CaseId(into))
            .await?
            .map(|l| l.case)
            .map(|into| MergedStatus {
                case_no: into.case_no.clone(),
                status: into.status,
                status_name: into.status.name_zh().to_owned(),
                replied: into.replied_at.is_some(),
                reply_date: into.replied_at.map(day),
                reply_text: reply_text(&into),
            }),
        None => None,
    };
    Ok(CaseStatus {
        case_no: case.case_no.clone(),
        status: case.status,
        status_name: case.status.name_zh().to_owned(),
        unit_name: state.unit_name(&case.unit),
        received_date: day(case.received_at),
        due_date: case.due_at().filter(|_| case.status.is_open()).map(day),
        replied: case.replied_at.is_some(),
        reply_date: case.replied_at.map(day),
        reply_text: reply_text(&case),
        review_request_until: case.request_window_until.map(day),
        steps,
        merged_into,
    })
}

/// The step an event is, as the petitioner is told of it; `None` for the county's own work
/// (签收, 督办, 催办, 延期, 包案, 一案一策, corrections, evidence, a new query code, 核减,
/// erasures; an alert's 研判 is no case's).
fn step_of(event: &Event) -> Option<Action> {
    Some(match event {
        Event::CaseRegistered(_) => Action::Register,
        Event::CaseAccepted(_) => Action::Accept,
        Event::CaseRejected(_) => Action::Reject,
        Event::CaseAssigned(_) => Action::Assign,
        Event::CaseTransferred(_) => Action::Transfer,
        Event::CaseReplied(_) => Action::Reply,
        Event::CaseReopened(_) => Action::Reopen,
        Event::FollowUpRecorded(_) => Action::FollowUp,
        Event::CaseClosed(_) => Action::Close,
        Event::ReviewRequested(e) if e.level > 1 => Action::RequestRereview,
        Event::ReviewRequested(_) => Action::RequestReview,
        Event::ReviewDecided(e) if e.level > 1 => Action::DecideRereview,
        Event::ReviewDecided(_) => Action::DecideReview,
        Event::CaseMerged(_) => Action::Merge,
        Event::CaseWithdrawn(_) => Action::Withdraw,
        Event::CaseSupervised(_)
        | Event::CaseAcknowledged(_)
        | Event::CaseReminded(_)
        | Event::QueryCodeReissued(_)
        | Event::DocumentIssued(_)
        | Event::DeadlineExtended(_)
        | Event::LeaderAssigned(_)
        | Event::ResolutionPlanned(_)
        | Event::RegistrationCorrected(_)
        | Event::AttachmentAdded(_)
        | Event::AdjustmentRequested(_)
        | Event::AdjustmentApproved(_)
        | Event::AdjustmentRevoked(_)
        | Event::PersonalDataErasureRequested(_)
        | Event::PersonalDataErased(_)
        | Event::AlertReviewed(_) => return None,
    })
}
