//! `at_seq` and `as_of` (docs/contract.md, "HTTP"): a read as the system showed it
//! at a past point of the log. `at_seq=N` is the log up to sequence N with the clock at N's
//! stream time; `as_of=T` the log up to the last sequence stored at or before T with the clock
//! at T; both together, the log up to N with the clock at T. The answer has the same shape as a
//! live one, its `applied_seq` the point's sequence.

use domain::{DomainError, Timestamp};
use queries::QueryClient;

use crate::error::Failure;
use crate::AppState;

/// A point of the log: the events up to `seq`, the clock at `time`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub seq: u64,
    pub time: Timestamp,
}

fn invalid(text: domain::Text) -> Failure {
    Failure::Domain(DomainError::Validation(text))
}

/// The point `at_seq` and `as_of` name, or `None` for now.
pub async fn point(
    state: &AppState,
    at_seq: Option<u64>,
    as_of: Option<Timestamp>,
) -> Result<Option<Point>, Failure> {
    if at_seq.is_none() && as_of.is_none() {
        return Ok(None);
    }
    let tz = state.cases.policy().timezone;
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).fixed_offset();
    let last = state.cases.last_seq().await?;
    if let Some(t) = as_of {
        domain::dates::check_time("as_of", t)?;
        if t > state.cases.now() {
            return Err(invalid(domain::text!(
                "as_of: the time is in the future",
                "as_of：时间不能晚于现在"
            )));
        }
    }
    let seq = match (at_seq, as_of) {
        (Some(0), _) => {
            return Err(invalid(domain::text!(
                "at_seq: the log starts at sequence 1",
                "at_seq：日志序号从 1 开始"
            )))
        }
        (Some(n), _) if n > last => {
            return Err(invalid(domain::text!(
                "at_seq: {n} is beyond the log's last sequence {last}",
                "at_seq：{n} 超出日志的最后序号 {last}"
            )))
        }
        (Some(n), _) => n,
        (None, Some(t)) => {
            state
                .cases
                .last_seq_at(t.with_timezone(&chrono::Utc))
                .await?
        }
        (None, None) => return Ok(None),
    };
    let stored = match seq {
        0 => None,
        _ => state.cases.stored_at(seq).await?,
    };
    let time = match (as_of, stored) {
        (Some(t), Some(s)) if t < local(s) => {
            let stored = local(s).to_rfc3339();
            return Err(invalid(domain::text!(
                "as_of: before the time sequence {seq} was stored ({stored})",
                "as_of：早于序号 {seq} 的写入时间（{stored}）"
            )));
        }
        (Some(t), _) => t,
        (None, Some(s)) => local(s),
        (None, None) => state.cases.now(),
    };
    Ok(Some(Point { seq, time }))
}

impl AppState {
    /// The query client and clock for a read at `point` (now when there is none).
    pub fn reader(&self, point: Option<Point>) -> (QueryClient, Timestamp) {
        match point {
            Some(p) => (self.queries.at(Some(p.seq)), p.time),
            None => (self.queries.clone(), self.cases.now()),
        }
    }
}

/// What a case's petitioners' other cases told at `point` (the case as it was then), computed
/// from the log: the duplicate flag and, for a `related` reader, the related cases it may see.
/// `None` when more cases had their petitioners corrected since than the cases model names at
/// once: the caller asks the model as it was then instead.
pub(crate) async fn links(
    state: &AppState,
    case: &domain::Case,
    principal: &domain::Principal,
    related: bool,
    point: Point,
) -> Result<Option<(bool, Vec<wire::cases::CaseSummary>)>, Failure> {
    // Every correction appended so far: the index below files the cases as they are after it.
    let last = state.cases.last_seq().await?;
    let moved = state
        .queries
        .moved_after(point.seq, Some(last), state.cases.now(), crate::LINKS_WAIT)
        .await
        .map_err(crate::error::query_failure)?
        .value;
    if !moved.complete {
        return Ok(None);
    }
    let viewer = related.then_some((principal, queries::cases::MAX_RELATED));
    let links = state
        .cases
        .links_at(case, point.seq, &moved.cases, viewer)
        .await?;
    let clock = queries::cases::Clock::of(state.cases.policy(), point.time);
    let mut items: Vec<_> = links
        .related
        .iter()
        .map(|(c, duplicate)| queries::cases::summary_of(c, *duplicate, principal, clock))
        .collect();
    state.name_units(&mut items);
    Ok(Some((links.duplicate, items)))
}
