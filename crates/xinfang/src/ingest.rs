//! `xinfang ingestor`: turns township inbox messages into commands on the same path as HTTP and
//! answers each with an outcome. Several instances share the durable consumer.
//!
//! Rules: the township comes from the subject (NATS permissions guarantee it), never from the body;
//! `Nats-Msg-Id` is the township's record id and the durable idempotency key; a message that cannot
//! be applied gets a `rejected` outcome with the same problem object as HTTP, and stays in the
//! inbox stream. An action on a case that does not exist yet is redelivered with back-off (its
//! registration may still be on the way through another instance) before it is rejected.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use futures::StreamExt;
use serde_json::Value;
use uuid::Uuid;

use domain::{Action, CaseId, DomainError, Principal, PrincipalId, Role, UnitKind};
use eventlog::inbox::{self, Inbox, Outcome};
use eventlog::{CaseService, CommandError, Request};

use crate::config::Config;

/// The principal each township system acts as: its `[[principal]]` of role `system`, or a
/// synthetic `system-<township>` when the config names none.
pub fn township_principals(cfg: &Config) -> BTreeMap<String, Principal> {
    let mut out = BTreeMap::new();
    for code in cfg.units_of(UnitKind::Township) {
        let configured = cfg
            .principals
            .iter()
            .find(|p| p.principal.role == Role::System && p.principal.unit.as_ref() == Some(&code))
            .map(|p| p.principal.clone());
        let principal = configured.unwrap_or_else(|| Principal {
            id: PrincipalId(format!("system-{code}")),
            role: Role::System,
            unit: Some(code.clone()),
        });
        out.insert(code.to_string(), principal);
    }
    out
}

/// Inbox messages handled at once by one ingestor (each takes a few NATS round trips).
pub const WORKERS: usize = 64;

/// What orders inbox messages: the case they are about, else the record id, else the sequence.
fn ordering_key(msg: &jetstream::Message) -> u64 {
    #[derive(serde::Deserialize)]
    struct About<'a> {
        #[serde(borrow)]
        case_id: Option<&'a str>,
    }
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match serde_json::from_slice::<About<'_>>(&msg.payload) {
        Ok(About { case_id: Some(id) }) => id.hash(&mut h),
        _ => match msg.headers.as_ref().and_then(|h| h.get("Nats-Msg-Id")) {
            Some(id) => id.as_str().hash(&mut h),
            None => msg.payload.hash(&mut h),
        },
    }
    h.finish()
}

pub struct Ingestor {
    cases: Arc<CaseService>,
    inbox: Inbox,
    principals: BTreeMap<String, Principal>,
}

enum Verdict {
    Answer(Outcome),
    Retry(Duration),
}

fn rejected(msg_id: &str, inbox_seq: u64, problem: api::Problem) -> Verdict {
    Verdict::Answer(Outcome {
        msg_id: msg_id.to_owned(),
        status: "rejected".into(),
        case_id: None,
        version: None,
        seq: None,
        error: serde_json::to_value(problem).ok(),
        inbox_seq,
    })
}

fn bad(msg_id: &str, inbox_seq: u64, why: String) -> Verdict {
    rejected(msg_id, inbox_seq, api::ApiError::BadRequest(why).problem())
}

impl Ingestor {
    pub fn new(
        cases: Arc<CaseService>,
        inbox: Inbox,
        principals: BTreeMap<String, Principal>,
    ) -> Self {
        Ingestor {
            cases,
            inbox,
            principals,
        }
    }

    /// Consume until `shutdown` resolves. Messages are handled by [`WORKERS`] tasks; all messages
    /// about one case (or, for a registration, with one record id) go to the same worker, in
    /// inbox order, so a township's steps on a case are applied in the order it sent them while
    /// different cases proceed in parallel.
    pub async fn run(
        self: Arc<Self>,
        mut messages: jetstream::consumer::pull::Stream,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let mut lanes = Vec::with_capacity(WORKERS);
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..WORKERS {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<jetstream::Message>(16);
            lanes.push(tx);
            let this = self.clone();
            workers.spawn(async move {
                while let Some(msg) = rx.recv().await {
                    this.handle(msg).await;
                }
            });
        }
        tokio::pin!(shutdown);
        let result = loop {
            tokio::select! {
                _ = &mut shutdown => break Ok(()),
                next = messages.next() => match next {
                    None => break Err(anyhow::anyhow!("the inbox consumer ended")),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "inbox read failed; continuing");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Some(Ok(msg)) => {
                        let lane = ordering_key(&msg) as usize % WORKERS;
                        if lanes[lane].send(msg).await.is_err() {
                            break Err(anyhow::anyhow!("an inbox worker stopped"));
                        }
                    }
                },
            }
        };
        // Let the workers finish what they hold; anything unacknowledged is redelivered.
        drop(lanes);
        while workers.join_next().await.is_some() {}
        result
    }

    async fn handle(&self, msg: jetstream::Message) {
        let (inbox_seq, delivered) = match msg.info() {
            Ok(i) => (i.stream_sequence, i.delivered),
            Err(_) => (0, 1),
        };
        let (township, verdict) = self.decide(&msg, inbox_seq, delivered).await;
        match verdict {
            Verdict::Retry(after) => {
                let _ = msg.ack_with(AckKind::Nak(Some(after))).await;
            }
            Verdict::Answer(outcome) => {
                tracing::info!(township, msg_id = %outcome.msg_id, status = %outcome.status, inbox_seq, "inbox message answered");
                match self.inbox.publish_outcome(&township, &outcome).await {
                    Ok(()) => {
                        if let Err(e) = msg.double_ack().await {
                            tracing::warn!(error = %e, inbox_seq, "ack failed; the message will be answered again (same outcome)");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, inbox_seq, "could not publish the outcome; retrying");
                        let _ = msg
                            .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                            .await;
                    }
                }
            }
        }
    }

    async fn decide(
        &self,
        msg: &jetstream::Message,
        inbox_seq: u64,
        delivered: i64,
    ) -> (String, Verdict) {
        let Some((township, action)) = inbox::parse_subject(msg.subject.as_str()) else {
            return (
                "unknown".into(),
                bad(
                    &format!("seq-{inbox_seq}"),
                    inbox_seq,
                    format!(
                        "subject {} is not xf.inbox.<township>.<action>",
                        msg.subject
                    ),
                ),
            );
        };
        let township = township.to_owned();
        let header_id = msg
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned());
        let msg_id = match header_id {
            Some(id) if inbox::valid_msg_id(&id) => id,
            Some(id) => {
                return (
                    township,
                    bad(
                        &format!("seq-{inbox_seq}"),
                        inbox_seq,
                        format!("Nats-Msg-Id {id:?} must match [A-Za-z0-9_-]{{1,128}}"),
                    ),
                )
            }
            None => {
                return (
                    township,
                    bad(
                        &format!("seq-{inbox_seq}"),
                        inbox_seq,
                        "Nats-Msg-Id (the township's record id) is required".into(),
                    ),
                )
            }
        };
        let Some(principal) = self.principals.get(&township) else {
            return (
                township.clone(),
                rejected(
                    &msg_id,
                    inbox_seq,
                    api::ApiError::Domain(DomainError::Validation(format!(
                        "{township} is not a township of this county"
                    )))
                    .problem(),
                ),
            );
        };
        let Some(action) = Action::parse(action) else {
            return (
                township,
                bad(&msg_id, inbox_seq, format!("unknown action {action:?}")),
            );
        };
        let mut body: serde_json::Map<String, Value> = match serde_json::from_slice(&msg.payload) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return (
                    township,
                    bad(&msg_id, inbox_seq, "the body must be a JSON object".into()),
                )
            }
            Err(e) => {
                return (
                    township,
                    bad(&msg_id, inbox_seq, format!("malformed JSON: {e}")),
                )
            }
        };
        let case_id = if action == Action::Register {
            match body.get("township").and_then(Value::as_str) {
                Some(t) if t != township => {
                    return (
                        township.clone(),
                        rejected(
                            &msg_id,
                            inbox_seq,
                            api::ApiError::Domain(DomainError::Forbidden(format!(
                                "a message on {township}'s inbox registers for {township}, not {t}"
                            )))
                            .problem(),
                        ),
                    )
                }
                _ => {
                    body.insert("township".into(), Value::String(township.clone()));
                }
            }
            None
        } else {
            match body
                .remove("case_id")
                .as_ref()
                .and_then(Value::as_str)
                .and_then(CaseId::parse)
            {
                Some(id) => Some(id),
                None => {
                    return (
                        township,
                        bad(
                            &msg_id,
                            inbox_seq,
                            format!("{} needs case_id (a UUID)", action.as_str()),
                        ),
                    )
                }
            }
        };
        let json = Value::Object(body);
        let command = match action.parse_body(json.to_string().as_bytes()) {
            Ok(c) => c,
            Err(e) => {
                return (
                    township,
                    bad(
                        &msg_id,
                        inbox_seq,
                        format!("invalid {} body: {e}", action.as_str()),
                    ),
                )
            }
        };
        let req = Request {
            principal,
            case_id,
            command,
            if_match: None,
            idempotency: Some((msg_id.clone(), json)),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        };
        let verdict = match self.cases.execute(req).await {
            Ok(out) => Verdict::Answer(Outcome {
                msg_id,
                status: "applied".into(),
                case_id: Some(out.committed.case_id),
                version: Some(out.committed.version),
                seq: Some(out.committed.seq),
                error: None,
                inbox_seq,
            }),
            Err(CommandError::Domain(DomainError::NotFound))
                if delivered < inbox::MAX_DELIVER && !self.exists(case_id).await =>
            {
                // The registration may still be on its way (another instance, a resync burst).
                Verdict::Retry(Duration::from_millis(500 * delivered.max(1) as u64))
            }
            Err(CommandError::Unavailable(_)) if delivered < inbox::MAX_DELIVER => {
                Verdict::Retry(Duration::from_secs(2))
            }
            Err(e) => rejected(&msg_id, inbox_seq, api::ApiError::from(e).problem()),
        };
        (township, verdict)
    }

    async fn exists(&self, case: Option<CaseId>) -> bool {
        match case {
            Some(id) => matches!(self.cases.log().locate(id).await, Ok(Some(_))),
            None => false,
        }
    }
}

/// Open the inbox and run an ingestor on `client` until `shutdown`.
pub async fn run_with(
    cfg: &Config,
    client: async_nats::Client,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let cases = crate::serve::case_service(cfg, client.clone()).await?;
    let js = jetstream::new(client);
    let leaves: Vec<_> = cfg
        .units
        .iter()
        .filter_map(|u| Some((u.code.clone(), u.jetstream_domain.clone()?)))
        .collect();
    let (inbox, messages) = Inbox::open(js.clone(), cfg.replicas, &leaves).await?;
    for (unit, _) in cfg.nats_townships() {
        inbox::township_consumers(&js, unit, cfg.replicas).await?;
    }
    Arc::new(Ingestor::new(cases, inbox, township_principals(cfg)))
        .run(messages, shutdown)
        .await
}

pub async fn run_ingestor(cfg: Config) -> anyhow::Result<()> {
    let client = crate::serve::connect_cfg(&cfg, "xinfang-ingestor").await?;
    tracing::info!("ingestor consuming the township inbox");
    run_with(&cfg, client, crate::serve::shutdown_signal()).await?;
    tracing::info!("ingestor stopped");
    Ok(())
}
