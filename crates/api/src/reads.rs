//! Reads served by the projectors (cases, statistics, audit trails), asked over NATS
//! request/reply and answered here as the contract says.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use domain::auth::{can_find_cases, can_read_trail, can_see_personal_data};
use domain::UnitCode;
use queries::cases::{CaseFilter, Cursor, Flag, ListCases, Probe, DEFAULT_LIMIT, MAX_LIMIT};
use queries::QueryError;

use crate::error::{ApiError, Failure};
use crate::params::Params;
use crate::AppState;
use wire::audit::{ActorTrail, History};
use wire::cases::{Found, SearchCases};

type AppResult = Result<Response, ApiError>;

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError(crate::error::query_failure(e))
    }
}

/// The answer with `applied_seq` added, as the contract's read answers carry it.
pub(crate) fn with_applied<T: serde::Serialize>(
    answer: &T,
    applied: u64,
) -> Result<Response, ApiError> {
    let mut v = serde_json::to_value(answer)
        .map_err(|e| Failure::Internal(format!("encoding an answer: {e}")))?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("applied_seq".into(), applied.into());
    }
    Ok(Json(v).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorParams {
    #[serde(deserialize_with = "domain::dates::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "domain::dates::date")]
    to: NaiveDate,
    /// Which day `from` and `to` select by: `recorded` (the default) or `occurred`.
    date: Option<queries::audit::TrailDate>,
    min_seq: Option<u64>,
    at_seq: Option<u64>,
    #[serde(default, deserialize_with = "domain::dates::option_time")]
    as_of: Option<domain::Timestamp>,
}

pub async fn actor(
    State(state): State<Arc<AppState>>,
    Path(actor): Path<String>,
    headers: HeaderMap,
    Params(params): Params<ActorParams>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_read_trail(&p)?;
    period(params.from, params.to)?;
    let at = crate::asof::point(&state, params.at_seq, params.as_of).await?;
    let (queries, now) = state.reader(at);
    let trail = queries
        .actor(
            &actor,
            (params.from, params.to),
            params.date.unwrap_or_default(),
            params.min_seq,
            now,
        )
        .await?;
    Ok(Json(ActorTrail {
        actor,
        events: trail.value,
        applied_seq: trail.applied_seq,
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    min_seq: Option<u64>,
    at_seq: Option<u64>,
    #[serde(default, deserialize_with = "domain::dates::option_time")]
    as_of: Option<domain::Timestamp>,
}

/// The audit trail of a case, from the audit projector; who may read it and whether personal
/// data is shown is decided on the case as it is in the log.
pub async fn history(
    State(state): State<Arc<AppState>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    Params(params): Params<HistoryParams>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    let case_id = domain::CaseId::parse(&case_id).ok_or(Failure::NotFound)?;
    let at = crate::asof::point(&state, params.at_seq, params.as_of).await?;
    let loaded = match at {
        Some(at) => state.cases.read_at(case_id, at.seq).await?,
        None => state.cases.read(case_id).await?,
    };
    let loaded = loaded.ok_or(Failure::NotFound)?;
    crate::merged::may_read(&state, &p, &loaded.case, at.map(|a| a.seq)).await?;
    // The projector must at least have applied the case's events as this read sees them.
    let min_seq = Some(params.min_seq.unwrap_or(0).max(loaded.seq));
    let (queries, now) = state.reader(at);
    let mut history = queries.case_history(case_id, min_seq, now).await?;
    // The model keeps no personal data: an entitled reader gets it from the log's event.
    if can_see_personal_data(&p, &loaded.case) {
        for event in &mut history.value {
            let personal = domain::personal::PERSONAL_EVENT_TYPES.contains(&event.type_.as_str());
            if personal && event.case_id == case_id {
                let erased = loaded.case.personal_data_erased();
                let stored = state.cases.event_opened(event.seq, erased).await?;
                queries::audit::restore_personal_data(event, &stored);
            }
        }
    }
    Ok(Json(History {
        case_id,
        events: history.value,
        applied_seq: history.applied_seq,
    })
    .into_response())
}

/// Each projector's status, for `/metrics` and `/healthz` (a projector that does not answer in
/// 300 ms is `None`); asked all at once.
pub async fn projector_status(
    state: &AppState,
) -> Vec<(&'static str, Option<queries::ModelStatus>)> {
    let now = state.cases.now();
    let asked = queries::protocol::Model::ALL.map(|model| async move {
        let status = state
            .queries
            .status(model, None, now, Duration::from_millis(300))
            .await
            .ok();
        (model.name(), status)
    });
    futures::future::join_all(asked).await
}

/// A period of days: both ends in the documented range, the start not after the end (422).
pub(crate) fn period(from: NaiveDate, to: NaiveDate) -> Result<(), Failure> {
    domain::dates::check_date("from", from)?;
    domain::dates::check_date("to", to)?;
    if from > to {
        return Err(Failure::Domain(domain::DomainError::Validation(
            domain::text!(
                "from {from} is after to {to}",
                "from：开始日期 {from} 晚于结束日期 {to}"
            ),
        )));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    case_no: Option<String>,
    q: Option<String>,
    township: Option<String>,
    unit: Option<String>,
    status: Option<domain::Status>,
    stage: Option<domain::Stage>,
    category: Option<domain::Category>,
    channel: Option<domain::Channel>,
    #[serde(default, deserialize_with = "domain::dates::option_date")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "domain::dates::option_date")]
    to: Option<NaiveDate>,
    flag: Option<Flag>,
    leader: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    min_seq: Option<u64>,
}

/// A query that fits the schema but breaks a rule (422 `validation`).
pub(crate) fn invalid(why: domain::Text) -> Failure {
    Failure::Domain(domain::DomainError::Validation(why))
}

/// A page's `limit`: [`DEFAULT_LIMIT`] when not given, at most [`MAX_LIMIT`].
pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, Failure> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Failure::BadRequest(domain::text!(
            "limit: expected a whole number from 1 to {MAX_LIMIT}",
            "limit：应为 1 至 {MAX_LIMIT} 之间的整数"
        )));
    }
    Ok(limit)
}

/// A `cursor` this API did not give.
pub(crate) fn foreign_cursor() -> Failure {
    Failure::BadRequest(domain::text!(
        "cursor: expected a next_cursor this API gave, as it came",
        "cursor：应为本接口返回的 next_cursor，原样传回"
    ))
}

/// Longest `q` (characters).
const MAX_Q_CHARS: usize = 200;

/// A unit code given as a filter: a unit of this county, or 400.
pub(crate) fn known_unit(
    state: &AppState,
    field: &str,
    code: Option<String>,
) -> Result<Option<UnitCode>, Failure> {
    code.map(|c| {
        UnitCode::parse(&c)
            .ok()
            .filter(|u| state.cases.unit_kind(u).is_some())
            .ok_or_else(|| {
                invalid(domain::text!(
                    "{field} names no unit of this county",
                    "{field}：不是本县的单位"
                ))
            })
    })
    .transpose()
}

/// `GET /v1/cases`: the cases the caller may see that pass the filters, newest first, in pages.
pub async fn list_cases(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Params(params): Params<ListParams>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_find_cases(&p)?;
    let limit = page_limit(params.limit)?;
    let cursor = params
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(c).ok_or_else(foreign_cursor))
        .transpose()?;
    if params
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_Q_CHARS || q.trim().is_empty())
    {
        return Err(invalid(domain::text!(
            "q must be 1 to {MAX_Q_CHARS} characters, not only spaces",
            "q：应为 1 至 {MAX_Q_CHARS} 个字符，且不能只有空格"
        ))
        .into());
    }
    // The forms the OpenAPI document gives them (400: the request does not fit its schema).
    if params.case_no.as_deref().is_some_and(|n| {
        n.is_empty()
            || n.len() > 64
            || !n
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }) {
        return Err(Failure::BadRequest(domain::text!(
            "case_no: expected a case number, 1 to 64 of A-Z, a-z, 0-9, _ and -",
            "case_no：应为案件编号，1 至 64 个字符：A-Z、a-z、0-9、_ 或 -"
        ))
        .into());
    }
    if params
        .leader
        .as_deref()
        .is_some_and(|l| l.is_empty() || l.chars().count() > 100)
    {
        return Err(Failure::BadRequest(domain::text!(
            "leader: expected a name of 1 to 100 characters",
            "leader：应为 1 至 100 个字符的姓名"
        ))
        .into());
    }
    if let (Some(from), Some(to)) = (params.from, params.to) {
        period(from, to)?;
    }
    let policy = state.cases.policy();
    let bound = |field: &str,
                 d: Option<NaiveDate>,
                 next_day: bool|
     -> Result<Option<domain::Timestamp>, Failure> {
        d.map(|d| {
            domain::dates::check_date(field, d)?;
            let d = if next_day {
                d.succ_opt().unwrap_or(d)
            } else {
                d
            };
            Ok(policy.start_of_day(d))
        })
        .transpose()
    };
    let filter = CaseFilter {
        case_no: params.case_no,
        q: params.q.map(|q| q.trim().to_owned()),
        township: known_unit(&state, "township", params.township)?,
        unit: known_unit(&state, "unit", params.unit)?,
        status: params.status,
        stage: params.stage,
        category: params.category,
        channel: params.channel,
        from: bound("from", params.from, false)?,
        until: bound("to", params.to, true)?,
        flag: params.flag,
        leader: params.leader,
    };
    let list = ListCases {
        principal: p,
        filter,
        limit,
        cursor,
    };
    let mut page = state
        .queries
        .cases(list, params.min_seq, state.cases.now())
        .await?;
    state.name_units(&mut page.value.items);
    with_applied(&page.value, page.applied_seq)
}

/// `POST /v1/cases/search`: the caller's visible cases of one petitioner. The identifiers travel
/// in the body, never in a URL, and become keyed hashes before they leave the API.
pub async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_find_cases(&p)?;
    let body = body.map_err(|r| crate::error::body_failure(r, crate::DEFAULT_BODY_LIMIT))?;
    let object = domain::command::decode_object(&body).map_err(|e| Failure::BadRequest(e.0))?;
    let s: SearchCases = serde_path_to_error::deserialize(serde_json::Value::Object(object))
        .map_err(|e| {
            Failure::BadRequest(domain::text::field_error(
                &e.path().to_string(),
                &e.inner().to_string(),
            ))
        })?;
    let bad = |field: &str, why: &str| Failure::BadRequest(domain::text::field_error(field, why));
    let nonempty = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let id = nonempty(s.id_number)
        .map(|v| domain::identity::normalize_id_number(&v).map_err(|why| bad("id_number", why)))
        .transpose()?;
    let phone = nonempty(s.phone)
        .map(|v| domain::identity::normalize_phone(&v).map_err(|why| bad("phone", why)))
        .transpose()?;
    let name = nonempty(s.name);
    if id.is_none() && phone.is_none() && name.is_none() {
        return Err(invalid(domain::text!(
            "give id_number, phone or name (a name with a phone tells people who share the phone apart)",
            "请提供 id_number、phone 或 name（电话可附姓名，以区分共用电话的人）"
        ))
        .into());
    }
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(Failure::BadRequest(domain::text!(
            "name: expected at most 100 characters",
            "name：最多 100 个字符"
        ))
        .into());
    }
    let person = state
        .cases
        .person(name.as_deref(), id.as_deref(), phone.as_deref());
    // A name alone finds the petitioners of that name: a name identifies nobody, so it is
    // looked for only when nothing else is given.
    let name = match (&id, &phone, &name) {
        (None, None, Some(n)) => state.cases.name_digest(n),
        _ => None,
    };
    let found = state
        .queries
        .search(p, Probe { person, name }, None, state.cases.now())
        .await?;
    let mut items = found.value;
    state.name_units(&mut items);
    Ok(Json(Found {
        items,
        applied_seq: found.applied_seq,
    })
    .into_response())
}
