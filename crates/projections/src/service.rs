//! Queries on a read model over NATS request/reply. sled is single-process, so the projector that
//! owns a model answers for it; several replicas of a projector share `xf.query.<name>` in a
//! queue group. The API is the only public door; this is its internal protocol.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use domain::{CaseId, Policy, Timestamp};

use crate::runner::Shared;
use crate::{audit, queues, stats, StoreError};

pub use eventlog::subjects::query as subject;

/// How long a query may wait for `min_seq` before answering `unavailable`.
pub const MIN_SEQ_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Query {
    Status,
    Digest,
    Queue {
        unit: String,
        filter: queues::Filter,
    },
    Stats(stats::Query),
    CaseHistory {
        case_id: CaseId,
    },
    Actor {
        actor: String,
        from: NaiveDate,
        to: NaiveDate,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    #[serde(default)]
    pub min_seq: Option<u64>,
    /// The clock to compute overdue and due-soon against (the API's).
    pub now: Timestamp,
    pub query: Query,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// `unavailable` (min_seq not reached), `bad_request`, `internal`.
    pub code: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub applied_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
}

fn fail(applied_seq: u64, code: &str, detail: String) -> Response {
    Response {
        applied_seq,
        result: None,
        error: Some(Failure {
            code: code.into(),
            detail,
        }),
    }
}

/// Answer one request.
pub async fn answer(shared: &Shared, policy: &Policy, payload: &[u8]) -> Response {
    let mut applied = shared.applied.subscribe();
    let req: Request = match serde_json::from_slice(payload) {
        Ok(r) => r,
        Err(e) => return fail(*applied.borrow(), "bad_request", e.to_string()),
    };
    if let Some(min) = req.min_seq {
        let reached = tokio::time::timeout(MIN_SEQ_WAIT, applied.wait_for(|a| *a >= min))
            .await
            .is_ok_and(|r| r.is_ok());
        if !reached {
            let now = *applied.borrow();
            return fail(
                now,
                "unavailable",
                format!("min_seq {min} not reached; applied {now}"),
            );
        }
    }
    let applied_seq = *applied.borrow();
    let store = shared.store();
    let result: Result<serde_json::Value, StoreError> = (|| {
        Ok(match &req.query {
            Query::Status => {
                serde_json::json!({"applied_seq": store.checkpoint()?, "generation": store.generation})
            }
            Query::Digest => {
                serde_json::json!({"digest": store.digest()?, "applied_seq": store.checkpoint()?})
            }
            Query::Queue { unit, filter } => to_json(&queues::query(
                &store,
                unit,
                *filter,
                req.now,
                policy.due_soon_days,
            )?),
            Query::Stats(q) => to_json(&stats::query(&store, q, req.now)?),
            Query::CaseHistory { case_id } => to_json(&audit::case_history(&store, *case_id)?),
            Query::Actor { actor, from, to } => {
                to_json(&audit::actor_events(&store, actor, *from, *to)?)
            }
        })
    })();
    match result {
        Ok(v) => Response {
            applied_seq,
            result: Some(v),
            error: None,
        },
        Err(e) => {
            tracing::error!(error = %e, "query failed");
            fail(
                applied_seq,
                "internal",
                "read model error; it has been logged".into(),
            )
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    // Read-model types are plain data; serializing them cannot fail.
    serde_json::to_value(v).unwrap_or_default()
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
            let bytes = serde_json::to_vec(&resp).unwrap_or_default();
            if let Err(e) = client.publish(reply, bytes.into()).await {
                tracing::warn!(error = %e, "could not send a query reply");
            }
        });
    }
    Ok(())
}
