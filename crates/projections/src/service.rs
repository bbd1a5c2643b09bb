//! Queries on a read model over NATS request/reply. sled is single-process, so the projector that
//! owns a model answers for it; several replicas of a projector share `xf.query.<name>` in a
//! queue group. The API is the only public door; this is its internal protocol.

use std::sync::Arc;

use futures::StreamExt;

use domain::Policy;
use queries::{Answer, ModelDigest, ModelStatus, Query, QueryFailure, QueryReply, QueryRequest};

use crate::runner::Shared;
use crate::{audit, cases, stats, StoreError};

pub use eventlog::subjects::query as subject;
pub use queries::protocol::MIN_SEQ_WAIT;

fn fail(applied_seq: u64, failure: QueryFailure) -> QueryReply {
    QueryReply {
        applied_seq,
        result: Err(failure),
    }
}

/// Answer one request.
pub async fn answer(shared: &Shared, policy: &Policy, payload: &[u8]) -> QueryReply {
    let mut applied = shared.applied.subscribe();
    let req: QueryRequest = match serde_json::from_slice(payload) {
        Ok(r) => r,
        Err(e) => return fail(*applied.borrow(), QueryFailure::BadRequest(e.to_string())),
    };
    if let Some(min) = req.min_seq {
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
    let applied_seq = *applied.borrow();
    let store = shared.store();
    let clock = cases::Clock {
        now: req.now,
        due_soon_days: policy.due_soon_days,
    };
    let result: Result<Answer, StoreError> = (|| {
        Ok(match &req.query {
            Query::Status => Answer::Status(ModelStatus {
                applied_seq: store.checkpoint()?,
                generation: store.generation.clone(),
            }),
            Query::Digest => Answer::Digest(ModelDigest {
                digest: store.digest()?,
                applied_seq: store.checkpoint()?,
            }),
            Query::Queue(q) => Answer::Queue(cases::queue(&store, q, clock)?),
            Query::Stats(q) => Answer::Stats(Box::new(stats::query(&store, q, req.now, policy)?)),
            Query::Export(q) => Answer::Export(stats::export(&store, q, policy)?),
            Query::Adjustment { adjustment_id } => {
                Answer::Adjustment(stats::adjustment(&store, *adjustment_id)?)
            }
            Query::Adjustments { from, to } => {
                Answer::Adjustments(stats::adjustments(&store, *from, *to)?)
            }
            Query::CaseHistory { case_id } => {
                Answer::CaseHistory(audit::case_history(&store, *case_id)?)
            }
            Query::Positions { case_id, tree_size } => {
                Answer::Positions(audit::positions(&store, *case_id, *tree_size)?)
            }
            Query::CaseByNo { case_no } => Answer::CaseByNo(cases::case_by_no(&store, case_no)?),
            Query::Cases(list) => Answer::Cases(cases::list(&store, list, clock)?),
            Query::Links {
                case_id,
                principal,
                related,
            } => Answer::Links(cases::links(&store, *case_id, principal, *related, clock)?),
            Query::Search { principal, probe } => {
                Answer::Search(cases::search(&store, principal, probe, clock)?)
            }
            Query::Actor {
                actor,
                from,
                to,
                occurred,
            } => {
                let date = if *occurred {
                    audit::TrailDate::Occurred
                } else {
                    audit::TrailDate::Recorded
                };
                Answer::Actor(audit::actor_events(&store, actor, (*from, *to), date)?)
            }
        })
    })();
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

/// Serve queries for `projector` until the subscription ends.
pub async fn serve(
    client: async_nats::Client,
    projector: &'static str,
    shared: Arc<Shared>,
    policy: Policy,
) -> Result<(), async_nats::SubscribeError> {
    let mut sub = client
        .queue_subscribe(
            subject(projector),
            eventlog::subjects::query_group(projector),
        )
        .await?;
    while let Some(msg) = sub.next().await {
        let Some(reply) = msg.reply.clone() else {
            continue;
        };
        let (client, shared, policy) = (client.clone(), shared.clone(), policy.clone());
        tokio::spawn(async move {
            let resp = answer(&shared, &policy, &msg.payload).await;
            let bytes = match serde_json::to_vec(&resp) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "could not encode a query reply");
                    return;
                }
            };
            if let Err(e) = queries::transport::reply(&client, reply, bytes).await {
                tracing::warn!(error = %e, "could not send a query reply");
            }
        });
    }
    Ok(())
}
