//! Queries and replies as they travel between the API and a projector, on
//! `eventlog::subjects::query(<projector>)`.

use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::{CaseId, Timestamp};

use crate::adjustments::AdjustmentRecord;
use crate::audit::AuditEvent;
use crate::cases::{CasePage, CaseSummary, Links, ListCases, Moved, Probe};
use crate::queues::{Queue, QueueQuery};
use crate::stats::{Report, StatsQuery};

/// The read models that answer queries, as named on the command line and in query subjects.
pub const PROJECTORS: [&str; 3] = ["cases", "stats", "audit"];

/// Names of earlier versions still taken on the command line, and the projector each now is:
/// the queues model was folded into the cases model (issue 13), which serves queues since.
pub const ALIASES: [(&str, &str); 1] = [("queues", "cases")];

/// How long a query may wait for `min_seq` before answering `unavailable`.
pub const MIN_SEQ_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Query {
    Status,
    Digest,
    /// A page of a work queue or the workbench.
    Queue(Box<QueueQuery>),
    Stats(StatsQuery),
    /// A page of the cases of a period, for export.
    Export(crate::stats::ExportQuery),
    /// 核减: one adjustment by its id.
    Adjustment {
        adjustment_id: uuid::Uuid,
    },
    /// 核减: the adjustments of the cases received in a period.
    Adjustments {
        from: NaiveDate,
        to: NaiveDate,
    },
    CaseHistory {
        case_id: CaseId,
    },
    /// Where each of a case's events is in the log, with its audit path in the tree of the
    /// first `tree_size` events (integrity::bundle::Position).
    Positions {
        case_id: CaseId,
        tree_size: u64,
    },
    /// The case a case number names.
    CaseByNo {
        case_no: String,
    },
    /// A page of the cases `principal` may see that pass the filters.
    Cases(Box<ListCases>),
    /// What the other cases of a case's petitioners tell (with them, if `related`).
    Links {
        case_id: CaseId,
        principal: domain::Principal,
        related: bool,
    },
    /// The cases whose petitioners a correction changed after log sequence `seq`.
    MovedAfter {
        seq: u64,
    },
    /// The cases of one petitioner that `principal` may see.
    Search {
        principal: domain::Principal,
        probe: Probe,
    },
    Actor {
        actor: String,
        from: NaiveDate,
        to: NaiveDate,
        /// Which day `from` and `to` select by.
        #[serde(default)]
        date: crate::audit::TrailDate,
    },
}

impl Query {
    /// The projector that answers this query; `None` for what every projector answers.
    pub fn projector(&self) -> Option<&'static str> {
        match self {
            Query::Status | Query::Digest => None,
            Query::Queue(_) => Some("cases"),
            Query::Stats(_)
            | Query::Export(_)
            | Query::Adjustment { .. }
            | Query::Adjustments { .. } => Some("stats"),
            Query::CaseHistory { .. } | Query::Positions { .. } | Query::Actor { .. } => {
                Some("audit")
            }
            Query::CaseByNo { .. }
            | Query::Cases(_)
            | Query::Search { .. }
            | Query::Links { .. }
            | Query::MovedAfter { .. } => Some("cases"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryRequest {
    /// Wait (at most [`MIN_SEQ_WAIT`]) until the model has applied this log sequence.
    #[serde(default)]
    pub min_seq: Option<u64>,
    /// The clock to compute overdue and due-soon against (the API's, or the point in time an
    /// as-of query asks about).
    pub now: Timestamp,
    /// As of this log sequence (api-contract.md, Round 2: integrity): the model as it was when
    /// it had applied exactly the log up to it.
    #[serde(default)]
    pub at_seq: Option<u64>,
    pub query: Query,
}

/// A model's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelStatus {
    pub applied_seq: u64,
    pub generation: String,
    /// Events of the log the model did not take as facts (forged, replayed: issue 30).
    #[serde(default)]
    pub rejected_events: u64,
}

/// A digest of a model's content, to compare a live model with a rebuild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDigest {
    pub digest: String,
    pub applied_seq: u64,
}

/// What a projector answers, one variant per query.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "answer", content = "result", rename_all = "snake_case")]
pub enum Answer {
    Status(ModelStatus),
    Digest(ModelDigest),
    Queue(Queue),
    Stats(Box<Report>),
    Export(crate::stats::ExportPage),
    Adjustment(Option<AdjustmentRecord>),
    Adjustments(Vec<AdjustmentRecord>),
    CaseHistory(Vec<AuditEvent>),
    Positions(Vec<integrity::bundle::Position>),
    CaseByNo(Option<CaseId>),
    Cases(CasePage),
    Search(Vec<CaseSummary>),
    Links(Links),
    Moved(Moved),
    Actor(Vec<AuditEvent>),
}

/// Why a projector did not answer a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum QueryFailure {
    /// `min_seq` was not reached in time.
    #[error("{0}")]
    Unavailable(String),
    /// The request could not be read.
    #[error("{0}")]
    BadRequest(String),
    /// The read model failed (logged by the projector).
    #[error("{0}")]
    Internal(String),
    /// The model builds as many views of past points as it may; ask again shortly.
    #[error("{0}")]
    Busy(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryReply {
    /// The last log sequence the model had applied when it answered.
    pub applied_seq: u64,
    pub result: Result<Answer, QueryFailure>,
}
