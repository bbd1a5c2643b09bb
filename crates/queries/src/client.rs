//! The API's side: ask a projector a typed query and get its typed answer.

use std::time::Duration;

use chrono::NaiveDate;

use domain::{CaseId, Timestamp};
use eventlog::rpc::{self, TransportError};
use eventlog::{subjects, Connection};

use crate::adjustments::AdjustmentRecord;
use crate::audit::AuditEvent;
use crate::cases::{CasePage, CaseSummary, Links, ListCases, Moved, Probe};
use crate::protocol::{
    Answer, ModelDigest, ModelStatus, Query, QueryFailure, QueryReply, QueryRequest, MIN_SEQ_WAIT,
};
use crate::queues::{Queue, QueueQuery};
use crate::stats::{Report, StatsQuery};

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

    /// Ask `projector`; waits for `min_seq` at most [`MIN_SEQ_WAIT`], and for the answer two
    /// seconds more.
    pub async fn ask(
        &self,
        projector: &str,
        query: Query,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Answer>, QueryError> {
        self.ask_within(
            projector,
            query,
            min_seq,
            now,
            match self.at_seq {
                // As of a past point the model replays up to a snapshot interval first.
                Some(_) => AS_OF_WAIT,
                None => MIN_SEQ_WAIT + Duration::from_secs(2),
            },
        )
        .await
    }

    async fn ask_within(
        &self,
        projector: &str,
        query: Query,
        min_seq: Option<u64>,
        now: Timestamp,
        timeout: Duration,
    ) -> Result<Applied<Answer>, QueryError> {
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
        let query = Query::Queue(Box::new(query));
        match self.ask("cases", query, min_seq, now).await? {
            Applied {
                value: Answer::Queue(q),
                applied_seq,
            } => Ok(Applied {
                value: q,
                applied_seq,
            }),
            other => Err(mismatch("queue", &other.value)),
        }
    }

    pub async fn stats(
        &self,
        q: StatsQuery,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Report>, QueryError> {
        match self.ask("stats", Query::Stats(q), min_seq, now).await? {
            Applied {
                value: Answer::Stats(r),
                applied_seq,
            } => Ok(Applied {
                value: *r,
                applied_seq,
            }),
            other => Err(mismatch("stats", &other.value)),
        }
    }

    /// 核减: one adjustment, once the statistics model has applied `min_seq`.
    pub async fn adjustment(
        &self,
        adjustment_id: uuid::Uuid,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Option<AdjustmentRecord>>, QueryError> {
        let q = Query::Adjustment { adjustment_id };
        match self.ask("stats", q, min_seq, now).await? {
            Applied {
                value: Answer::Adjustment(a),
                applied_seq,
            } => Ok(Applied {
                value: a,
                applied_seq,
            }),
            other => Err(mismatch("adjustment", &other.value)),
        }
    }

    /// 核减: the adjustments of the cases received from `from` to `to`.
    pub async fn adjustments(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Vec<AdjustmentRecord>>, QueryError> {
        match self
            .ask("stats", Query::Adjustments { from, to }, min_seq, now)
            .await?
        {
            Applied {
                value: Answer::Adjustments(a),
                applied_seq,
            } => Ok(Applied {
                value: a,
                applied_seq,
            }),
            other => Err(mismatch("adjustments", &other.value)),
        }
    }

    pub async fn case_history(
        &self,
        case_id: CaseId,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Vec<AuditEvent>>, QueryError> {
        match self
            .ask("audit", Query::CaseHistory { case_id }, min_seq, now)
            .await?
        {
            Applied {
                value: Answer::CaseHistory(events),
                applied_seq,
            } => Ok(Applied {
                value: events,
                applied_seq,
            }),
            other => Err(mismatch("case_history", &other.value)),
        }
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
        let query = Query::Positions { case_id, tree_size };
        match self.ask("audit", query, min_seq, now).await?.value {
            Answer::Positions(p) => Ok(p),
            other => Err(mismatch("positions", &other)),
        }
    }

    /// A page of the cases of a period, for export.
    pub async fn export(
        &self,
        query: crate::stats::ExportQuery,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<crate::stats::ExportPage>, QueryError> {
        match self
            .ask("stats", Query::Export(query), min_seq, now)
            .await?
        {
            Applied {
                value: Answer::Export(page),
                applied_seq,
            } => Ok(Applied {
                value: page,
                applied_seq,
            }),
            other => Err(mismatch("export", &other.value)),
        }
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
        let query = Query::Actor {
            actor: actor.to_owned(),
            from,
            to,
            date,
        };
        match self.ask("audit", query, min_seq, now).await? {
            Applied {
                value: Answer::Actor(events),
                applied_seq,
            } => Ok(Applied {
                value: events,
                applied_seq,
            }),
            other => Err(mismatch("actor", &other.value)),
        }
    }

    /// A page of cases, once the cases model has applied `min_seq`.
    pub async fn cases(
        &self,
        list: ListCases,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<CasePage>, QueryError> {
        match self
            .ask("cases", Query::Cases(Box::new(list)), min_seq, now)
            .await?
        {
            Applied {
                value: Answer::Cases(page),
                applied_seq,
            } => Ok(Applied {
                value: page,
                applied_seq,
            }),
            other => Err(mismatch("cases", &other.value)),
        }
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
        let query = Query::Links {
            case_id,
            principal,
            related,
        };
        match self
            .ask_within("cases", query, min_seq, now, timeout)
            .await?
        {
            Applied {
                value: Answer::Links(links),
                applied_seq,
            } => Ok(Applied {
                value: links,
                applied_seq,
            }),
            other => Err(mismatch("links", &other.value)),
        }
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
        let query = Query::MovedAfter { seq };
        match self
            .ask_within("cases", query, min_seq, now, timeout)
            .await?
        {
            Applied {
                value: Answer::Moved(moved),
                applied_seq,
            } => Ok(Applied {
                value: moved,
                applied_seq,
            }),
            other => Err(mismatch("moved_after", &other.value)),
        }
    }

    /// The cases of one petitioner that `principal` may see.
    pub async fn search(
        &self,
        principal: domain::Principal,
        probe: Probe,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Vec<CaseSummary>>, QueryError> {
        let query = Query::Search { principal, probe };
        match self.ask("cases", query, min_seq, now).await? {
            Applied {
                value: Answer::Search(items),
                applied_seq,
            } => Ok(Applied {
                value: items,
                applied_seq,
            }),
            other => Err(mismatch("search", &other.value)),
        }
    }

    /// The case a case number names, once the cases model has applied `min_seq`.
    pub async fn case_by_no(
        &self,
        case_no: &str,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<Applied<Option<CaseId>>, QueryError> {
        let query = Query::CaseByNo {
            case_no: case_no.to_owned(),
        };
        match self.ask("cases", query, min_seq, now).await? {
            Applied {
                value: Answer::CaseByNo(id),
                applied_seq,
            } => Ok(Applied {
                value: id,
                applied_seq,
            }),
            other => Err(mismatch("case_by_no", &other.value)),
        }
    }

    /// A model's progress (once it has applied `min_seq`), waiting at most `timeout` in all.
    pub async fn status(
        &self,
        projector: &str,
        min_seq: Option<u64>,
        now: Timestamp,
        timeout: Duration,
    ) -> Result<ModelStatus, QueryError> {
        match self
            .ask_within(projector, Query::Status, min_seq, now, timeout)
            .await?
            .value
        {
            Answer::Status(s) => Ok(s),
            other => Err(mismatch("status", &other)),
        }
    }

    /// A model's digest once it has applied `min_seq`.
    pub async fn digest(
        &self,
        projector: &str,
        min_seq: Option<u64>,
        now: Timestamp,
    ) -> Result<ModelDigest, QueryError> {
        match self
            .ask(projector, Query::Digest, min_seq, now)
            .await?
            .value
        {
            Answer::Digest(d) => Ok(d),
            other => Err(mismatch("digest", &other)),
        }
    }
}

fn mismatch(asked: &str, got: &Answer) -> QueryError {
    let got = serde_json::to_value(got)
        .ok()
        .and_then(|v| v.get("answer").and_then(|a| a.as_str()).map(str::to_owned))
        .unwrap_or_default();
    QueryError::Internal(format!("asked {asked}, the projector answered {got}"))
}
