//! Queries on a read model over NATS request/reply. sled is single-process, so the projector that
//! owns a model answers for it; several replicas of a projector share `xf.query.<name>` in a
//! queue group. The API is the only public door; this is its internal protocol.

use std::sync::Arc;

use futures::StreamExt;

use domain::Policy;
use queries::protocol::Model;
use queries::{Answer, ModelDigest, ModelStatus, Query, QueryFailure, QueryReply, QueryRequest};

use crate::apply::Shared;
use crate::{audit, cases, stats, ProjectionError, Store, StoreError};

pub use crate::snapshots::AsOf;
pub use eventlog::subjects::query as subject;
pub use queries::protocol::MIN_SEQ_WAIT;

fn fail(applied_seq: u64, failure: QueryFailure) -> QueryReply {
    QueryReply {
        applied_seq,
        result: Err(failure),
    }
}

/// Answer one request to the model `model`.
pub async fn answer(
    model: Model,
    shared: &Shared,
    policy: &Policy,
    as_of: Option<&AsOf>,
    payload: &[u8],
) -> QueryReply {
    let mut applied = shared.applied.subscribe();
    let req: QueryRequest = match serde_json::from_slice(payload) {
        Ok(r) => r,
        Err(e) => return fail(*applied.borrow(), QueryFailure::BadRequest(e.to_string())),
    };
    // A query of another model is refused: this store would answer it empty (issue 32).
    if let Some(owner) = req.query.model().filter(|owner| *owner != model) {
        let why = format!("the {model} model does not answer this query; the {owner} model does");
        return fail(*applied.borrow(), QueryFailure::BadRequest(why));
    }
    // As of a sequence: a view built from a snapshot, or (events) the live model once it has
    // applied the sequence, its answer cut there.
    let mut upto = None;
    let mut view = None;
    match (req.at_seq, as_of) {
        (None, _) => {}
        (
            Some(n),
            Some(AsOf {
                log,
                snapshots: Some(s),
            }),
        ) => match s.view(log, n).await {
            Ok(v) => view = Some(v),
            Err(e @ ProjectionError::Busy { .. }) => {
                return fail(*applied.borrow(), QueryFailure::Busy(e.to_string()));
            }
            Err(e) => {
                tracing::warn!(error = %e, at_seq = n, "no view as of the sequence");
                let why = format!("the model as of seq {n} could not be built");
                return fail(n, QueryFailure::Unavailable(why));
            }
        },
        (
            Some(n),
            Some(AsOf {
                snapshots: None, ..
            }),
        ) => upto = Some(n),
        (Some(_), None) => {
            let why = "this model does not answer as of a past sequence".to_owned();
            return fail(*applied.borrow(), QueryFailure::BadRequest(why));
        }
    }
    if let Some(min) = req.min_seq.max(upto).filter(|_| view.is_none()) {
        let reached = tokio::time::timeout(MIN_SEQ_WAIT, applied.wait_for(|a| *a >= min))
            .await
            .is_ok_and(|r| r.is_ok());
        if !reached {
            let now = *applied.borrow();
            return fail(
                now,
                QueryFailure::Unavailable(format!("min_seq {min} not reached; applied {now}")),
            );
        }
    }
    let (store, mut applied_seq) = match (view, req.at_seq) {
        (Some(v), Some(n)) => (v, n),
        (_, Some(n)) => (shared.store(), n),
        _ => (shared.store(), *applied.borrow()),
    };
    let mut result = None;
    if req.at_seq.is_none() {
        // A live answer says exactly which log prefix it reflects: the checkpoint before and
        // after it agree (a batch committed meanwhile: ask again), so the same question as of
        // `applied_seq` gets the same answer.
        for _ in 0..3 {
            let before = store.checkpoint();
            let answer = run(&store, &req, policy);
            match (before, store.checkpoint()) {
                (Ok(b), Ok(a)) if a == b => {
                    (result, applied_seq) = (Some(answer), a);
                    break;
                }
                _ => result = Some(answer),
            }
        }
    }
    let result = result.unwrap_or_else(|| run(&store, &req, policy));
    let result = result.map(|answer| match (answer, upto) {
        (Answer::CaseHistory(mut events), Some(n)) => {
            events.retain(|e| e.seq <= n);
            Answer::CaseHistory(events)
        }
        (Answer::Actor(mut events), Some(n)) => {
            events.retain(|e| e.seq <= n);
            Answer::Actor(events)
        }
        (answer, _) => answer,
    });
    match result {
        Ok(answer) => QueryReply {
            applied_seq,
            result: Ok(answer),
        },
        Err(e) => {
            tracing::error!(error = %e, "query failed");
            fail(
                applied_seq,
                QueryFailure::Internal("read model error; it has been logged".into()),
            )
        }
    }
}

/// One query on `store` (a live model or a view).
fn run(store: &Store, req: &QueryRequest, policy: &Policy) -> Result<Answer, StoreError> {
    let clock = cases::Clock::of(policy, req.now);
    Ok(match &req.query {
        Query::Status => Answer::Status(ModelStatus {
            applied_seq: store.checkpoint()?,
            generation: store.generation.clone(),
            rejected_events: crate::rejected_count(store)?,
        }),
        Query::Digest => Answer::Digest(ModelDigest {
            digest: store.digest()?,
            applied_seq: store.checkpoint()?,
        }),
        Query::Queue(q) => Answer::Queue(cases::queue(store, q, clock)?),
        Query::Stats(q) => Answer::Stats(Box::new(stats::query(store, q, req.now, policy)?)),
        Query::Export(q) => Answer::Export(stats::export(store, q, policy)?),
        Query::Adjustment(q) => Answer::Adjustment(stats::adjustment(store, q.adjustment_id)?),
        Query::Adjustments(q) => Answer::Adjustments(stats::adjustments(store, q.from, q.to)?),
        Query::CaseHistory(q) => Answer::CaseHistory(audit::case_history(store, q.case_id)?),
        Query::MergedInto(q) => Answer::MergedInto(audit::merged_into(store, q.case_id)?),
        Query::Positions(q) => Answer::Positions(audit::positions(store, q.case_id, q.tree_size)?),
        Query::CaseByNo(q) => Answer::CaseByNo(cases::case_by_no(store, &q.case_no)?),
        Query::Cases(list) => Answer::Cases(cases::list(store, list, clock)?),
        Query::Links(q) => Answer::Links(cases::links(
            store,
            q.case_id,
            &q.principal,
            q.related,
            clock,
        )?),
        Query::MovedAfter(q) => {
            Answer::Moved(cases::moved_after(store, q.seq, queries::cases::MAX_MOVED)?)
        }
        Query::Search(q) => Answer::Search(cases::search(store, &q.principal, &q.probe, clock)?),
        Query::Actor(q) => Answer::Actor(audit::actor_events(
            store,
            &q.actor,
            (q.from, q.to),
            q.date,
        )?),
        Query::Alerts(q) => Answer::Alerts(cases::alerts(store, q, clock)?),
        Query::Alert(q) => Answer::Alert(cases::alert_by_id(store, q.alert_id, clock)?),
    })
}

/// Serve queries for `model` until the subscription ends.
pub async fn serve(
    nats: eventlog::Connection,
    model: Model,
    shared: Arc<Shared>,
    policy: Policy,
    as_of: Option<Arc<AsOf>>,
) -> Result<(), eventlog::rpc::TransportError> {
    let mut requests = eventlog::rpc::requests(
        &nats,
        subject(model.name()),
        eventlog::subjects::query_group(model.name()),
    )
    .await?;
    while let Some(request) = requests.next().await {
        let (shared, policy) = (shared.clone(), policy);
        let as_of = as_of.clone();
        tokio::spawn(async move {
            let payload = request.payload();
            let resp = answer(model, &shared, &policy, as_of.as_deref(), payload).await;
            let bytes = match serde_json::to_vec(&resp) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "could not encode a query reply");
                    return;
                }
            };
            if let Err(e) = request.reply(bytes).await {
                tracing::warn!(error = %e, "could not send a query reply");
            }
        });
    }
    Ok(())
}
