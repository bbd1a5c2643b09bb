use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use uuid::Uuid;

use commands::{CommandRequest, Executed};
use domain::{Action, CaseId, Command};

use crate::error::{ApiError, Failure};
use crate::params::Params;
use crate::AppState;
use wire::case::{Applied, CaseView, Registered};

type AppResult = Result<Response, ApiError>;

const MIN_SEQ_WAIT: Duration = Duration::from_secs(5);
const MAX_IDEMPOTENCY_KEY: usize = 255;

pub async fn count_responses(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let resp = next.run(req).await;
    state.metrics.request(resp.status().as_u16());
    resp
}

pub async fn register(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult {
    let principal = state.tokens.authenticate(&headers)?;
    let outcome = run_command(&state, &principal, &headers, Action::Register, None, body).await?;
    // A replayed registration asks the model (rare); the first answer judges on its peers.
    let links = if outcome.replayed {
        Links::Replay {
            seq: outcome.committed.seq,
        }
    } else {
        Links::Command {
            registration: true,
            peers: &outcome.peers,
        }
    };
    let view = view(&state, &outcome.case, &principal, links).await?;
    let c = &outcome.committed;
    let body = Registered {
        case_id: c.case_id,
        case_no: outcome.case.case_no.clone(),
        query_code: state.cases.query_code(c.case_id, 0),
        version: c.version,
        seq: c.seq,
        case: view,
    };
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    set_etag(&mut resp, c.version);
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/cases/{}", c.case_id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

pub async fn command(
    State(state): State<Arc<AppState>>,
    Path((case_id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult {
    let principal = state.tokens.authenticate(&headers)?;
    // Registration has its own path, evidence is uploaded with its bytes
    // (`POST /v1/cases/{id}/attachments`), never named by a client, and adjustments have theirs.
    let action = Action::parse(&action)
        .filter(|a| a.on_case_url())
        .ok_or(Failure::NotFound)?;
    let case_id = parse_case_id(&case_id)?;
    let outcome = run_command(&state, &principal, &headers, action, Some(case_id), body).await?;
    let c = &outcome.committed;
    if action == Action::ReissueQueryCode {
        // The code in force (a replayed request answers the same one).
        let query_code = state
            .cases
            .query_code(c.case_id, outcome.case.query_code_seq);
        return Ok(Json(wire::case::QueryCodeIssued {
            query_code,
            seq: c.seq,
        })
        .into_response());
    }
    let body = Applied {
        case_id: c.case_id,
        version: c.version,
        seq: c.seq,
        case: view(
            &state,
            &outcome.case,
            &principal,
            Links::Command {
                registration: false,
                peers: &[],
            },
        )
        .await?,
    };
    let mut resp = Json(body).into_response();
    set_etag(&mut resp, c.version);
    Ok(resp)
}

/// Where a case view's links come from.
enum Links<'a> {
    /// A read: from the cases model once it has applied the case's last event `seq`, with the
    /// related cases for the county and auditors; as of `at`, from the log as it was then
    /// (`asof::links`).
    Read {
        seq: u64,
        at: Option<crate::asof::Point>,
    },
    /// An answer to a command. A registration is judged on the earlier cases the command path
    /// read (`peers`, exact at that moment). Any other command's answer does not ask the cases
    /// model (a query per command cost more than the command itself, docs/benchmarks.md): its
    /// links are unknown; `GET` tells them. It carries no related cases.
    Command {
        registration: bool,
        peers: &'a [domain::linking::Peer],
    },
    /// The answer to a replayed registration (rare): from the model, once it has applied the
    /// registration (`seq`), without related cases.
    Replay { seq: u64 },
}

/// A case as `principal` sees it, with what its petitioners' other cases tell: the duplicate
/// flag and, on a read, the related cases. When the cases model does not answer within
/// [`crate::LINKS_WAIT`], the case is answered anyway with `links_unknown` set: the case comes from the
/// log, only its links from the model.
async fn view(
    state: &AppState,
    case: &domain::Case,
    principal: &domain::Principal,
    links: Links<'_>,
) -> Result<CaseView, Failure> {
    let at = match links {
        Links::Read { at, .. } => at,
        _ => None,
    };
    let (queries, now) = state.reader(at);
    let mut view = crate::views::case_view(case, principal, now, state.cases.policy());
    view.township_name = state.unit_name(&case.township);
    view.unit_name = state.unit_name(&case.unit);
    // As of a past point: the steps that were open then (an as-of answer is the live one of then).
    view.allowed_actions =
        domain::decide::allowed_actions(case, principal, state.cases.policy(), now);
    let (seq, read) = match links {
        Links::Command {
            registration: true,
            peers,
        } => {
            view.flags.duplicate = domain::linking::duplicate(
                &case.township,
                case.category,
                &case.unit,
                case.status,
                peers,
            );
            return Ok(view);
        }
        Links::Command { .. } => {
            view.links_unknown = Some(true);
            return Ok(view);
        }
        Links::Read { seq, .. } => (seq, true),
        Links::Replay { seq } => (seq, false),
    };
    let related = read && domain::auth::reads_county_wide(principal);
    if let Some(point) = at {
        match crate::asof::links(state, case, principal, related, point).await {
            Ok(Some((duplicate, items))) => {
                view.flags.duplicate = duplicate;
                view.related_cases = related.then_some(items);
                return Ok(view);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(case_id = %case.id, error = ?e, "a case as of a past point answered without its links");
                view.links_unknown = Some(true);
                return Ok(view);
            }
        }
    }
    let asked = queries
        .links(
            case.id,
            principal.clone(),
            related,
            Some(seq),
            now,
            crate::LINKS_WAIT,
        )
        .await;
    match asked {
        Ok(known) if known.value.known => {
            view.flags.duplicate = known.value.duplicate;
            if related {
                let mut items = known.value.related;
                state.name_units(&mut items);
                view.related_cases = Some(items);
            }
        }
        Ok(_) => view.links_unknown = Some(true),
        Err(e) => {
            tracing::warn!(case_id = %case.id, error = %e, "a case answered without the cases model's links");
            view.links_unknown = Some(true);
        }
    }
    Ok(view)
}

async fn run_command(
    state: &AppState,
    principal: &domain::Principal,
    headers: &HeaderMap,
    action: Action,
    case_id: Option<CaseId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Executed, Failure> {
    let body = body.map_err(|r| crate::error::body_failure(r, crate::DEFAULT_BODY_LIMIT))?;
    let (command, json) = parse_body(action, &body)?;
    execute(state, principal, headers, case_id, command, json).await
}

/// Execute `command` (its body `json`) with the headers of the request: If-Match,
/// Idempotency-Key, X-Correlation-Id; counted in the metrics.
pub(crate) async fn execute(
    state: &AppState,
    principal: &domain::Principal,
    headers: &HeaderMap,
    case_id: Option<CaseId>,
    command: Command,
    json: serde_json::Value,
) -> Result<Executed, Failure> {
    let started = Instant::now();
    let action = command.action();
    let if_match = parse_if_match(headers)?;
    let idempotency = idempotency_key(headers)?.map(|k| (k, json));
    let correlation_id = correlation_id(headers);
    let req = CommandRequest {
        reached_at: None,
        principal,
        case_id,
        command,
        if_match,
        idempotency,
        correlation_id,
        causation_id: None,
    };
    let result = state.cases.execute(req).await;
    let outcome_label = match &result {
        Ok(o) if o.replayed => "replayed",
        Ok(_) => "applied",
        Err(e) => e.code(),
    };
    state
        .metrics
        .command(action.as_str(), outcome_label, started.elapsed());
    Ok(result?)
}

/// Malformed JSON, a non-object body, a wrong field type, a missing or unknown field: 400.
fn parse_body(action: Action, body: &[u8]) -> Result<(Command, serde_json::Value), Failure> {
    action.decode(body).map_err(|e| Failure::BadRequest(e.0))
}

fn parse_if_match(headers: &HeaderMap) -> Result<Option<u64>, Failure> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .map_err(|_| {
            Failure::BadRequest(domain::text!(
                "If-Match: expected \"<version>\", e.g. \"3\"",
                "If-Match：应为 \"<版本号>\"，例如 \"3\""
            ))
        })?
        .trim();
    if s == "*" {
        return Ok(None);
    }
    s.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| {
            Failure::BadRequest(domain::text!(
                "If-Match: expected \"<version>\", e.g. \"3\"",
                "If-Match：应为 \"<版本号>\"，例如 \"3\""
            ))
        })
}

/// `X-Correlation-Id` (a UUID), or a new one.
pub(crate) fn correlation_id(headers: &HeaderMap) -> Uuid {
    headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .unwrap_or_else(Uuid::now_v7)
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .ok()
        // Exactly what the OpenAPI document promises: visible ASCII, no space (the fuzzer sent
        // one with a space, which HTTP allows in a header value, and it was taken).
        .filter(|s| {
            !s.is_empty()
                && s.len() <= MAX_IDEMPOTENCY_KEY
                && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
        })
        .ok_or_else(|| {
            Failure::BadRequest(domain::text!(
                "Idempotency-Key: expected 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters",
                "Idempotency-Key：应为 1 至 {MAX_IDEMPOTENCY_KEY} 个可见 ASCII 字符"
            ))
        })?;
    Ok(Some(s.to_owned()))
}

fn parse_case_id(s: &str) -> Result<CaseId, Failure> {
    CaseId::parse(s).ok_or(Failure::NotFound)
}

fn set_etag(resp: &mut Response, version: u64) {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        resp.headers_mut().insert(header::ETAG, v);
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadParams {
    min_seq: Option<u64>,
    at_seq: Option<u64>,
    #[serde(default, deserialize_with = "domain::dates::option_time")]
    as_of: Option<domain::Timestamp>,
}

/// Wait until the log holds `min_seq`; the case reads fold straight from the log, so the log's
/// last sequence is what they have applied.
async fn applied_seq(state: &AppState, min_seq: Option<u64>) -> Result<u64, Failure> {
    // Without min_seq the case's own last sequence (the caller takes the max) is what the answer
    // reflects; asking the stream would cost a round trip on every read.
    if min_seq.is_none() {
        return Ok(0);
    }
    let deadline = Instant::now() + MIN_SEQ_WAIT;
    loop {
        let last = state.cases.last_seq().await?;
        match min_seq {
            Some(min) if last < min => {
                if Instant::now() >= deadline {
                    return Err(Failure::Unavailable(
                        format!("min_seq {min} not reached; applied {last}"),
                        1,
                    ));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            _ => return Ok(last),
        }
    }
}

/// The case as `principal` may see it, once the log holds `min_seq`: (loaded, applied_seq).
async fn visible_case(
    state: &AppState,
    principal: &domain::Principal,
    case_id: &str,
    min_seq: Option<u64>,
    at: Option<crate::asof::Point>,
) -> Result<(commands::Loaded, u64), Failure> {
    let case_id = parse_case_id(case_id)?;
    if let Some(at) = at {
        // As of a past point: the case's events up to it (none then: it did not exist).
        let loaded = state.cases.read_at(case_id, at.seq).await?;
        let loaded = loaded.ok_or(Failure::NotFound)?;
        crate::merged::may_read(state, principal, &loaded.case, Some(at.seq)).await?;
        return Ok((loaded, at.seq));
    }
    let applied = applied_seq(state, min_seq).await?;
    let loaded = state.cases.read(case_id).await?.ok_or(Failure::NotFound)?;
    crate::merged::may_read(state, principal, &loaded.case, None).await?;
    let applied = applied.max(loaded.seq);
    Ok((loaded, applied))
}

pub async fn get_case(
    State(state): State<Arc<AppState>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    Params(params): Params<ReadParams>,
) -> AppResult {
    let principal = state.tokens.authenticate(&headers)?;
    let at = crate::asof::point(&state, params.at_seq, params.as_of).await?;
    let (loaded, applied) = visible_case(&state, &principal, &case_id, params.min_seq, at).await?;
    case_response(&state, &loaded, &principal, applied, at).await
}

/// `GET /v1/cases/by-no/{case_no}`: the case a case number names, exactly as `GET` on its id
/// (another unit's case is 404, as an unknown number).
pub async fn get_case_by_no(
    State(state): State<Arc<AppState>>,
    Path(case_no): Path<String>,
    headers: HeaderMap,
    Params(params): Params<ReadParams>,
) -> AppResult {
    let principal = state.tokens.authenticate(&headers)?;
    domain::auth::can_find_cases(&principal)?;
    if !plausible_case_no(&case_no) {
        return Err(Failure::NotFound.into());
    }
    let found = state
        .queries
        .case_by_no(&case_no, params.min_seq, state.cases.now())
        .await?;
    let case_id = found.value.ok_or(Failure::NotFound)?;
    let at = crate::asof::point(&state, params.at_seq, params.as_of).await?;
    if at.is_some() {
        let id = case_id.to_string();
        let (loaded, applied) = visible_case(&state, &principal, &id, None, at).await?;
        return case_response(&state, &loaded, &principal, applied, at).await;
    }
    let loaded = state.cases.read(case_id).await?.ok_or(Failure::NotFound)?;
    crate::merged::may_read(&state, &principal, &loaded.case, None).await?;
    let applied = found.applied_seq.max(loaded.seq);
    case_response(&state, &loaded, &principal, applied, None).await
}

/// A read case as `principal` sees it, reflecting the log up to `applied` (its links at least
/// the case's own events and the client's `min_seq`), with its version as ETag.
async fn case_response(
    state: &AppState,
    loaded: &commands::Loaded,
    principal: &domain::Principal,
    applied: u64,
    at: Option<crate::asof::Point>,
) -> AppResult {
    let links = Links::Read { seq: applied, at };
    let mut view = view(state, &loaded.case, principal, links).await?;
    view.applied_seq = Some(applied);
    view.rejected_events = loaded.rejected.clone();
    let mut resp = Json(view).into_response();
    set_etag(&mut resp, loaded.case.version);
    Ok(resp)
}

/// Whether `s` could be a case number at all (what is not is never looked up).
pub(crate) fn plausible_case_no(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.clone(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError(Failure::NotFound)
}

pub async fn method_not_allowed() -> ApiError {
    ApiError(Failure::MethodNotAllowed)
}
