//! `GET /v1/queues/{unit}` (a unit's work queue) and `GET /v1/workbench` (every unit's open
//! cases, for the county and auditors), answered by the cases model.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use domain::auth::can_read_queue;
use domain::{Principal, Stage};
use queries::cases::Flag;
use queries::queues::{DueCursor, Filter, QueueOrder, QueueQuery, Scope};

use crate::error::{ApiError, Failure};
use crate::params::Params;
use crate::reads::{foreign_cursor, known_unit, page_limit, with_applied};
use crate::AppState;

/// The filters and page of a queue; the workbench adds `unit` and `township`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    status: Option<Filter>,
    sort: Option<QueueOrder>,
    stage: Option<Stage>,
    flag: Option<Flag>,
    limit: Option<usize>,
    cursor: Option<String>,
    min_seq: Option<u64>,
    at_seq: Option<u64>,
    #[serde(default, deserialize_with = "domain::dates::option_time")]
    as_of: Option<domain::Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkbenchParams {
    unit: Option<String>,
    township: Option<String>,
    status: Option<Filter>,
    sort: Option<QueueOrder>,
    stage: Option<Stage>,
    flag: Option<Flag>,
    limit: Option<usize>,
    cursor: Option<String>,
    min_seq: Option<u64>,
    at_seq: Option<u64>,
    #[serde(default, deserialize_with = "domain::dates::option_time")]
    as_of: Option<domain::Timestamp>,
}

/// The filters, order and page a queue's parameters ask for.
struct Asked<'a> {
    status: Option<Filter>,
    sort: Option<QueueOrder>,
    stage: Option<Stage>,
    flag: Option<Flag>,
    limit: Option<usize>,
    cursor: Option<&'a str>,
}

/// The query for a page of `scope` (and, within a township, of one unit) as `asked`.
fn queue_query(
    state: &AppState,
    principal: Principal,
    (scope, unit): (Scope, Option<domain::UnitCode>),
    asked: Asked<'_>,
) -> Result<QueueQuery, Failure> {
    let limit = page_limit(asked.limit)?;
    // A cursor, as this API gave it, keeps the sort of the page it came from: `sort` orders the
    // first page.
    let (order, cursor, after) = match asked.cursor {
        None => (asked.sort.unwrap_or_default(), None, None),
        Some(c) => match queries::queues::decode_received(c) {
            Some(after) => (QueueOrder::Received, None, Some(after)),
            None => {
                let due = DueCursor::decode(c).ok_or_else(foreign_cursor)?;
                (QueueOrder::Due, Some(due), None)
            }
        },
    };
    Ok(QueueQuery {
        principal,
        scope,
        filter: asked.status.unwrap_or(Filter::Open),
        stage: open_stage(asked.stage)?,
        flag: asked.flag,
        unit,
        limit,
        cursor,
        order,
        after,
        due_soon_days: state.cases.policy().due_soon_days,
    })
}

/// Only open cases are in a queue: a stage that has none finds nothing, and says so.
fn open_stage(stage: Option<Stage>) -> Result<Option<Stage>, Failure> {
    if stage == Some(Stage::Done) {
        return Err(crate::reads::invalid(domain::text!(
            "stage: a queue holds open cases; expected acceptance, handling, awaiting_close or review",
            "stage：待办只含未办结的案件，应为 acceptance、handling、awaiting_close 或 review"
        )));
    }
    Ok(stage)
}

async fn answer(
    state: &AppState,
    q: QueueQuery,
    min_seq: Option<u64>,
    (at_seq, as_of): (Option<u64>, Option<domain::Timestamp>),
) -> Result<Response, ApiError> {
    let at = crate::asof::point(state, at_seq, as_of).await?;
    let (queries, now) = state.reader(at);
    let mut queue = queries.queue(q, min_seq, now).await?;
    state.name_units(&mut queue.value.items);
    with_applied(&queue.value, queue.applied_seq)
}

pub async fn queue(
    State(state): State<Arc<AppState>>,
    Path(unit): Path<String>,
    headers: HeaderMap,
    Params(params): Params<QueueParams>,
) -> Result<Response, ApiError> {
    let p = state.tokens.authenticate(&headers)?;
    let code = domain::UnitCode::parse(&unit).map_err(|_| Failure::NotFound)?;
    if state.cases.unit_kind(&code).is_none() {
        return Err(Failure::NotFound.into());
    }
    can_read_queue(&p, &code)?;
    let asked = Asked {
        status: params.status,
        sort: params.sort,
        stage: params.stage,
        flag: params.flag,
        limit: params.limit,
        cursor: params.cursor.as_deref(),
    };
    let q = queue_query(&state, p, (Scope::Unit(code), None), asked)?;
    answer(&state, q, params.min_seq, (params.at_seq, params.as_of)).await
}

pub async fn workbench(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Params(params): Params<WorkbenchParams>,
) -> Result<Response, ApiError> {
    let p = state.tokens.authenticate(&headers)?;
    domain::auth::can_read_workbench(&p).map_err(Failure::Domain)?;
    let unit = known_unit(&state, "unit", params.unit)?;
    let township = known_unit(&state, "township", params.township)?;
    // The narrowest index: a unit's queue, else a township's open cases, else all.
    let (scope, also_unit) = match (unit, township) {
        (Some(u), None) => (Scope::Unit(u), None),
        (u, Some(t)) => (Scope::Township(t), u),
        (None, None) => (Scope::All, None),
    };
    let asked = Asked {
        status: params.status,
        sort: params.sort,
        stage: params.stage,
        flag: params.flag,
        limit: params.limit,
        cursor: params.cursor.as_deref(),
    };
    let q = queue_query(&state, p, (scope, also_unit), asked)?;
    answer(&state, q, params.min_seq, (params.at_seq, params.as_of)).await
}
