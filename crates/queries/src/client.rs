//! The API's side: ask a projector a typed query and get its typed answer.

use std::time::Duration;

use chrono::NaiveDate;

use domain::{CaseId, Timestamp};
use eventlog::rpc::{self, TransportError};
use eventlog::{subjects, Connection};

use crate::cases::{Links, ListCases, Moved, Probe};
use crate::protocol::{
    AdjustmentById, AdjustmentsReceived, Answer, Ask, CaseByNo, CaseHistory, LinksOf, MergedInto,
    Model, ModelDigest, ModelStatus, MovedAfter, Positions, Query, QueryFailure, QueryReply,
    QueryRequest, Search, Trail, MIN_SEQ_WAIT,
};
use crate::queues::QueueQuery;
use crate::stats::StatsQuery;
use wire::adjustments::AdjustmentRecord;
use wire::audit::AuditEvent;
use wire::cases::{CasePage, CaseSummary, Queue};
use wire::stats::Report;

/// An answer with the log sequence the model had applied.
#[derive(Debug, Clone)]
pub struct Applied<T> {
    pub value: T,
    pub applied_seq: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No projector of this name answered in time, or none is running.
    #[error("the {projector} projector is not available: {source}")]
    NoAnswer {
        projector: String,
        #[source]
        source: TransportError,
    },
    /// The projector answered that it cannot (yet): `min_seq` not reached.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    BadRequest(String),
    /// The projector builds as many views of past points as it may (answer 429).
    #[error("{0}")]
    Busy(String),
    /// The projector failed, or its answer did not fit the protocol.
    #[error("{0}")]
    Internal(String),
}

/// How long a query as of a past point may take (its view is replayed over the snapshots
/// before the point: at most `[projectors] snapshot_events` events).
pub const AS_OF_WAIT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct QueryClient {
    nats: Connection,
    at_seq: Option<u64>,
}

impl QueryClient {
    pub fn new(nats: impl Into<Connection>) -> Self {
        QueryClient {
            nats: nats.into(),
            at_seq: None,
        }
    }

    /// The same client asking every query as of log sequence `seq` (none: now); pass the point's
    /// time as each query's `now`.
    pub fn at(&self, seq: Option<u64>) -> QueryClient {
        QueryClient {
            nats: self.nats.clone(),
            at_seq: seq,
        }
    }

    /// Ask `request` of the model that answers it; waits for `min_seq` at most
    /// [`MIN_SEQ_WAIT`], and for the answer two seconds more.
    pub async fn ask<R: Ask>(
        &self,
        request: R,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<R::Reply>, QueryError> {
        self.ask_within(request, min_seq, now, self.wait()).await
    }

    /// [`QueryClient::ask`], waiting at most `timeout` in all.
    pub async fn ask_within<R: Ask>(
        &self,
        request: R,
        min_seq: Option<u64>,
        now: Timestamp,
        timeout: Duration,
    ) -> Result<Applied<R::Reply>, QueryError> {
        let answered = self
            .send(R::MODEL, request.into_query(), min_seq, now, timeout)
            .await?;
        match R::reply(answered.value) {
            Ok(value) => Ok(Applied {
                value,
                applied_seq: answered.applied_seq,
            }),
            Err(other) => Err(mismatch(R::MODEL, &other)),
        }
    }

    /// How long an answer may take: as of a past point the model replays up to a snapshot
    /// interval first.
    fn wait(&self) -> Duration {
        match self.at_seq {
            Some(_) => AS_OF_WAIT,
            None => MIN_SEQ_WAIT + Duration::from_secs(2),
        }
    }

    /// Send `query` to `model` as it is, and take whatever it answers: for what every model
    /// answers (`status`, `digest`); everything else goes through [`QueryClient::ask`].
    pub async fn send(
        &self,
        model: Model,
        query: Query,
        min_seq: Option<u64>,
        now: Timestamp,
        timeout: Duration,
    ) -> Result<Applied<Answer>, QueryError> {
        let projector = model.name();
        // As of a past point the model may replay first, whatever the caller would wait now.
        let timeout = match self.at_seq {
            Some(_) => timeout.max(AS_OF_WAIT),
            None => timeout,
        };
        let req = QueryRequest {
            min_seq,
            now,
            at_seq: self.at_seq,
            query,
        };
        let body = serde_json::to_vec(&req)
            .map_err(|e| QueryError::Internal(format!("encoding a query: {e}")))?;
        let bytes = rpc::request(&self.nats, subjects::query(projector), body, timeout)
            .await
            .map_err(|source| QueryError::NoAnswer {
                projector: projector.to_owned(),
                source,
            })?;
        let reply: QueryReply = serde_json::from_slice(&bytes).map_err(|e| {
            QueryError::Internal(format!("unreadable answer from {projector}: {e}"))
        })?;
        match reply.result {
            Ok(value) => Ok(Applied {
                value,
                applied_seq: reply.applied_seq,
            }),
            Err(QueryFailure::Unavailable(d)) => Err(QueryError::Unavailable(d)),
            Err(QueryFailure::BadRequest(d)) => Err(QueryError::BadRequest(d)),
            Err(QueryFailure::Busy(d)) => Err(QueryError::Busy(d)),
            Err(QueryFailure::Internal(d)) => {
                Err(QueryError::Internal(format!("{projector}: {d}")))
            }
        }
    }

    pub async fn queue(
        &self,
        query: QueueQuery,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Queue>, QueryError> {
        self.ask(query, min_seq, now).await
    }

    pub async fn stats(
        &self,
        q: StatsQuery,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Report>, QueryError> {
        let answered = self.ask(q, min_seq, now).await?;
        Ok(Applied {
            value: *answered.value,
            applied_seq: answered.applied_seq,
        })
    }

    /// 核减: one adjustment, once the statistics model has applied `min_seq`.
    pub async fn adjustment(
        &self,
        adjustment_id: uuid::Uuid,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Option<AdjustmentRecord>>, QueryError> {
        self.ask(AdjustmentById { adjustment_id }, min_seq, now)
            .await
    }

    /// 核减: the adjustments of the cases received from `from` to `to`.
    pub async fn adjustments(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Vec<AdjustmentRecord>>, QueryError> {
        self.ask(AdjustmentsReceived { from, to }, min_seq, now)
            .await
    }

    pub async fn case_history(
        &self,
        case_id: CaseId,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Vec<AuditEvent>>, QueryError> {
        self.ask(CaseHistory { case_id }, min_seq, now).await
    }

    /// The cases merged into `case_id`, as far as the audit model has applied the log.
    pub async fn merged_into(
        &self,
        case_id: CaseId,
        now: Timestamp,
    ) -> Result<Vec<CaseId>, QueryError> {
        Ok(self.ask(MergedInto { case_id }, None, now).await?.value)
    }

    /// Where a case's events are in the log, with audit paths in the tree of `tree_size` events
    /// (the audit model has applied at least `min_seq`: the checkpoint's last sequence).
    pub async fn positions(
        &self,
        case_id: CaseId,
        tree_size: u64,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Vec<integrity::bundle::Position>, QueryError> {
        let request = Positions { case_id, tree_size };
        Ok(self.ask(request, min_seq, now).await?.value)
    }

    /// A page of the cases of a period, for export.
    pub async fn export(
        &self,
        query: crate::stats::ExportQuery,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<crate::stats::ExportPage>, QueryError> {
        self.ask(query, min_seq, now).await
    }

    /// The events of `actor` recorded (or, by `date`, that occurred) from `from` to `to`.
    pub async fn actor(
        &self,
        actor: &str,
        (from, to): (NaiveDate, NaiveDate),
        date: crate::audit::TrailDate,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Vec<AuditEvent>>, QueryError> {
        let actor = actor.to_owned();
        let request = Trail {
            actor,
            from,
            to,
            date,
        };
        self.ask(request, min_seq, now).await
    }

    /// A page of cases, once the cases model has applied `min_seq`.
    pub async fn cases(
        &self,
        list: ListCases,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<CasePage>, QueryError> {
        self.ask(list, min_seq, now).await
    }

    /// What the other cases of a case's petitioners tell, once the cases model has applied
    /// `min_seq`, waiting at most `timeout` in all.
    pub async fn links(
        &self,
        case_id: CaseId,
        principal: domain::Principal,
        related: bool,
        min_seq: Option<u64>,
        now: Timestamp,
        timeout: Duration,
    ) -> Result<Applied<Links>, QueryError> {
        let request = LinksOf {
            case_id,
            principal,
            related,
        };
        self.ask_within(request, min_seq, now, timeout).await
    }

    /// The cases whose petitioners a correction changed after log sequence `seq`, once the
    /// cases model has applied `min_seq`, waiting at most `timeout` in all.
    pub async fn moved_after(
        &self,
        seq: u64,
        min_seq: Option<u64>,
        now: Timestamp,
        timeout: Duration,
    ) -> Result<Applied<Moved>, QueryError> {
        self.ask_within(MovedAfter { seq }, min_seq, now, timeout)
            .await
    }

    /// The cases of one petitioner that `principal` may see.
    pub async fn search(
        &self,
        principal: domain::Principal,
        probe: Probe,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Vec<CaseSummary>>, QueryError> {
        self.ask(Search { principal, probe }, min_seq, now).await
    }

    /// The case a case number names, once the cases model has applied `min_seq`.
    pub async fn case_by_no(
        &self,
        case_no: &str,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Option<CaseId>>, QueryError> {
        let case_no = case_no.to_owned();
        self.ask(CaseByNo { case_no }, min_seq, now).await
    }

    /// A model's progress (once it has applied `min_seq`), waiting at most `timeout` in all.
    pub async fn status(
        &self,
        model: Model,
        min_seq: Option<u64>,
        now: Timestamp,
        timeout: Duration,
    ) -> Result<ModelStatus, QueryError> {
        match self
            .send(model, Query::Status, min_seq, now, timeout)
            .await?
            .value
        {
            Answer::Status(s) => Ok(s),
            other => Err(mismatch(model, &other)),
        }
    }

    /// A model's digest once it has applied `min_seq`.
    pub async fn digest(
        &self,
        model: Model,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<ModelDigest, QueryError> {
        match self
            .send(model, Query::Digest, min_seq, now, self.wait())
            .await?
            .value
        {
            Answer::Digest(d) => Ok(d),
            other => Err(mismatch(model, &other)),
        }
    }
}

fn mismatch(model: Model, got: &Answer) -> QueryError {
    let got = serde_json::to_value(got)
        .ok()
        .and_then(|v| v.get("answer").and_then(|a| a.as_str()).map(str::to_owned))
        .unwrap_or_default();
    QueryError::Internal(format!(
        "the {model} model answered {got}, not what was asked"
    ))
}
