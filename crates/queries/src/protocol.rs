//! Queries and replies as they travel between the API and a projector, on
//! `eventlog::subjects::query(<projector>)`.

use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::{CaseId, Timestamp};

use crate::cases::{Links, ListCases, Moved, Probe};
use crate::queues::QueueQuery;
use crate::stats::StatsQuery;
use wire::adjustments::AdjustmentRecord;
use wire::audit::AuditEvent;
use wire::cases::{CasePage, CaseSummary, Queue};
use wire::stats::Report;

/// A read model that answers queries: the type the client names it by, and its name on the
/// command line and in query subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    Cases,
    Stats,
    Audit,
}

impl Model {
    pub const ALL: [Model; 3] = [Model::Cases, Model::Stats, Model::Audit];

    pub const fn name(self) -> &'static str {
        match self {
            Model::Cases => "cases",
            Model::Stats => "stats",
            Model::Audit => "audit",
        }
    }

    /// The model a name means: its own, or an alias of earlier versions ([`ALIASES`]).
    pub fn named(name: &str) -> Option<Model> {
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, now)| now);
        Model::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The read models' names, as on the command line and in query subjects.
pub const PROJECTORS: [&str; 3] = [
    Model::Cases.name(),
    Model::Stats.name(),
    Model::Audit.name(),
];

/// Names of earlier versions still taken on the command line, and the projector each now is:
/// the queues model was folded into the cases model (issue 13), which serves queues since.
pub const ALIASES: [(&str, &str); 1] = [("queues", "cases")];

/// How long a query may wait for `min_seq` before answering `unavailable`.
pub const MIN_SEQ_WAIT: Duration = Duration::from_secs(5);

/// What the API may ask a projector. Each query but `Status` and `Digest` (which every model
/// answers) is a request type of its own, with the reply it gets and the model that answers it
/// ([`Ask`]).
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
    Adjustment(AdjustmentById),
    /// 核减: the adjustments of the cases received in a period.
    Adjustments(AdjustmentsReceived),
    CaseHistory(CaseHistory),
    /// The cases merged into a case (合并办理), oldest merge first.
    MergedInto(MergedInto),
    /// Where each of a case's events is in the log, with its audit path in the tree of the
    /// first `tree_size` events (integrity::bundle::Position).
    Positions(Positions),
    /// The case a case number names.
    CaseByNo(CaseByNo),
    /// A page of the cases `principal` may see that pass the filters.
    Cases(Box<ListCases>),
    /// What the other cases of a case's petitioners tell (with them, if `related`).
    Links(LinksOf),
    /// The cases whose petitioners a correction changed after log sequence `seq`.
    MovedAfter(MovedAfter),
    /// The cases of one petitioner that `principal` may see.
    Search(Search),
    /// An official's trail.
    Actor(Trail),
    /// 苗头预警: the alerts of a period.
    Alerts(crate::alerts::AlertsQuery),
    /// 苗头预警: one alert by its id (研判).
    Alert(crate::alerts::AlertById),
}

/// 核减: one adjustment by its id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdjustmentById {
    pub adjustment_id: uuid::Uuid,
}

/// 核减: the adjustments of the cases received from `from` to `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdjustmentsReceived {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A case's events as the audit model keeps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseHistory {
    pub case_id: CaseId,
}

/// The cases merged into a case, as the audit model keeps its merges.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergedInto {
    pub case_id: CaseId,
}

/// Where a case's events are in the log, with audit paths in the tree of `tree_size` events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Positions {
    pub case_id: CaseId,
    pub tree_size: u64,
}

/// The case a case number names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseByNo {
    pub case_no: String,
}

/// What the other cases of a case's petitioners tell (with them, if `related`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinksOf {
    pub case_id: CaseId,
    pub principal: domain::Principal,
    pub related: bool,
}

/// The cases whose petitioners a correction changed after log sequence `seq`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MovedAfter {
    pub seq: u64,
}

/// The cases of one petitioner that `principal` may see.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Search {
    pub principal: domain::Principal,
    pub probe: Probe,
}

/// The events of `actor` recorded (or, by `date`, that occurred) from `from` to `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trail {
    pub actor: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Which day `from` and `to` select by.
    #[serde(default)]
    pub date: crate::audit::TrailDate,
}

impl Query {
    /// The model that answers this query; `None` for what every model answers.
    pub fn model(&self) -> Option<Model> {
        match self {
            Query::Status | Query::Digest => None,
            Query::Queue(_)
            | Query::CaseByNo(_)
            | Query::Cases(_)
            | Query::Search(_)
            | Query::Links(_)
            | Query::MovedAfter(_)
            | Query::Alerts(_)
            | Query::Alert(_) => Some(Model::Cases),
            Query::Stats(_) | Query::Export(_) | Query::Adjustment(_) | Query::Adjustments(_) => {
                Some(Model::Stats)
            }
            Query::CaseHistory(_)
            | Query::MergedInto(_)
            | Query::Positions(_)
            | Query::Actor(_) => Some(Model::Audit),
        }
    }
}

/// A request with the reply it gets and the model that answers it: the client takes one and
/// gives back the other, so no call site names a model or unwraps an answer by hand.
pub trait Ask {
    type Reply;
    const MODEL: Model;
    fn into_query(self) -> Query;
    /// The reply in `answer`, or the answer back when it is of another kind (a projector that
    /// does not speak this protocol).
    fn reply(answer: Answer) -> Result<Self::Reply, Box<Answer>>;
}

macro_rules! ask {
    ($request:ty => $model:ident, |$q:ident| $query:expr, $answer:ident($reply:ty)) => {
        impl Ask for $request {
            type Reply = $reply;
            const MODEL: Model = Model::$model;
            fn into_query(self) -> Query {
                let $q = self;
                $query
            }
            fn reply(answer: Answer) -> Result<$reply, Box<Answer>> {
                match answer {
                    Answer::$answer(reply) => Ok(reply),
                    other => Err(Box::new(other)),
                }
            }
        }
    };
}

ask!(QueueQuery => Cases, |q| Query::Queue(Box::new(q)), Queue(Queue));
ask!(ListCases => Cases, |q| Query::Cases(Box::new(q)), Cases(CasePage));
ask!(CaseByNo => Cases, |q| Query::CaseByNo(q), CaseByNo(Option<CaseId>));
ask!(LinksOf => Cases, |q| Query::Links(q), Links(Links));
ask!(MovedAfter => Cases, |q| Query::MovedAfter(q), Moved(Moved));
ask!(Search => Cases, |q| Query::Search(q), Search(Vec<CaseSummary>));
ask!(StatsQuery => Stats, |q| Query::Stats(q), Stats(Box<Report>));
ask!(crate::stats::ExportQuery => Stats, |q| Query::Export(q), Export(crate::stats::ExportPage));
ask!(AdjustmentById => Stats, |q| Query::Adjustment(q), Adjustment(Option<AdjustmentRecord>));
ask!(AdjustmentsReceived => Stats, |q| Query::Adjustments(q), Adjustments(Vec<AdjustmentRecord>));
ask!(CaseHistory => Audit, |q| Query::CaseHistory(q), CaseHistory(Vec<AuditEvent>));
ask!(MergedInto => Audit, |q| Query::MergedInto(q), MergedInto(Vec<CaseId>));
ask!(Positions => Audit, |q| Query::Positions(q), Positions(Vec<integrity::bundle::Position>));
ask!(Trail => Audit, |q| Query::Actor(q), Actor(Vec<AuditEvent>));
ask!(crate::alerts::AlertsQuery => Cases, |q| Query::Alerts(q), Alerts(wire::alerts::AlertList));
ask!(crate::alerts::AlertById => Cases, |q| Query::Alert(q), Alert(Option<crate::alerts::RaisedAlert>));

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryRequest {
    /// Wait (at most [`MIN_SEQ_WAIT`]) until the model has applied this log sequence.
    #[serde(default)]
    pub min_seq: Option<u64>,
    /// The clock to compute overdue and due-soon against (the API's, or the point in time an
    /// as-of query asks about).
    pub now: Timestamp,
    /// As of this log sequence (docs/contract.md, "Requests and answers"): the model as it was when
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
    MergedInto(Vec<CaseId>),
    Positions(Vec<integrity::bundle::Position>),
    CaseByNo(Option<CaseId>),
    Cases(CasePage),
    Search(Vec<CaseSummary>),
    Links(Links),
    Moved(Moved),
    Actor(Vec<AuditEvent>),
    Alerts(wire::alerts::AlertList),
    Alert(Option<crate::alerts::RaisedAlert>),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn model_of<R: Ask + Clone>(request: &R) -> (Model, Option<Model>) {
        (R::MODEL, request.clone().into_query().model())
    }

    /// Each request goes to the model that answers it: the client routes by `Ask::MODEL`, the
    /// projector refuses by `Query::model`, and the two must agree.
    #[test]
    fn each_request_names_the_model_that_answers_it() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let case_id = CaseId(uuid::Uuid::nil());
        let principal = domain::Principal {
            id: domain::PrincipalId("p".into()),
            role: domain::Role::County,
            unit: None,
        };
        let pairs = [
            model_of(&CaseByNo {
                case_no: "x".into(),
            }),
            model_of(&LinksOf {
                case_id,
                principal,
                related: false,
            }),
            model_of(&MovedAfter { seq: 1 }),
            model_of(&AdjustmentById {
                adjustment_id: uuid::Uuid::nil(),
            }),
            model_of(&AdjustmentsReceived { from: day, to: day }),
            model_of(&CaseHistory { case_id }),
            model_of(&MergedInto { case_id }),
            model_of(&Positions {
                case_id,
                tree_size: 1,
            }),
            model_of(&Trail {
                actor: "a".into(),
                from: day,
                to: day,
                date: Default::default(),
            }),
        ];
        for (asked, answers) in pairs {
            assert_eq!(Some(asked), answers);
        }
        assert_eq!(Model::named("queues"), Some(Model::Cases));
        assert_eq!(Model::named("feed"), None);
        assert_eq!(PROJECTORS, Model::ALL.map(Model::name));
    }

    /// The wire is what it was with struct variants: the request's fields beside `op`.
    #[test]
    fn a_request_travels_as_its_fields_beside_op() {
        let q = CaseHistory {
            case_id: CaseId(uuid::Uuid::nil()),
        }
        .into_query();
        assert_eq!(
            serde_json::to_value(&q).expect("json"),
            serde_json::json!({"op": "case_history", "case_id": uuid::Uuid::nil()})
        );
    }
}
