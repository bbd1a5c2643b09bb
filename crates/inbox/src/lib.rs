//! The township ingestor (`xinfang ingestor`): turns township inbox messages into commands on the
//! same path as HTTP and answers each with an outcome. Several instances share the durable
//! consumer. A pure [`parse_message`] reads a message; [`run`] consumes until shutdown.
//!
//! It owns the inbox's delivery rules (ordering per case, redelivery of a case not found yet,
//! poison messages, waiting while the log is down). It must never decide a rule itself (that is
//! `domain` through `commands`) and never answers a message twice or not at all.
//!
//! Rules: the township comes from the subject (NATS permissions guarantee it), never from the body;
//! `Nats-Msg-Id` is the township's record id and the durable idempotency key; a message that cannot
//! be applied gets a `rejected` outcome with the same problem object as HTTP, and stays in the
//! inbox stream. An action on a case that does not exist yet is redelivered with back-off (its
//! registration may still be on the way through another instance) before it is rejected.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use uuid::Uuid;

use commands::problem::Failure;
use commands::{CaseService, CommandError, CommandRequest, Remedy};
use domain::{CaseId, DomainError, Principal};
use eventlog::inbox::Submission;
use eventlog::inbox::{self, Inbox, InboxTownship};
use wire::outcome::{OutcomeMessage, OutcomeStatus};

/// Inbox messages handled at once by one ingestor (each takes a few NATS round trips).
pub const WORKERS: usize = 64;

mod delivery;
mod evidence;
mod parse;

use delivery::{ordering_key, Delivery};

pub use parse::{parse_message, Parsed, Refusal};

pub struct Ingestor {
    cases: Arc<CaseService>,
    inbox: Inbox,
    principals: BTreeMap<String, Principal>,
    /// Turns true when the ingestor stops: a message waiting for the log is then left for
    /// redelivery instead of holding the shutdown.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// The first wait of a message for an unavailable log; it doubles up to [`LAST_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const LAST_BACKOFF: Duration = Duration::from_secs(10);

/// Deliveries of a message whose case does not exist yet before it is rejected `not_found` (its
/// registration may still be on the way through another instance or a resync burst).
pub const NOT_FOUND_TRIES: i64 = 8;
/// Deliveries after which a message is answered `rejected` (`internal`) without trying it again:
/// it was taken this often without an answer, so processing it ends the process (a poison
/// message). The consumer itself never gives up on a message, so nothing is dropped unanswered.
pub const POISON_AFTER: i64 = 12;

/// A delivered message, what the worker needs of it, and what it says.
type Job = (Submission, Delivery, Result<Parsed, Refusal>);

/// What became of one delivery.
enum Verdict {
    Answer {
        township: String,
        outcome: Box<OutcomeMessage>,
    },
    /// Not yet: deliver again after this long.
    Retry(Duration),
    /// The ingestor is stopping: neither answered nor given back; it is delivered again after
    /// the acknowledgement wait.
    Leave,
}

fn answer(refusal: Refusal, inbox_seq: u64) -> Verdict {
    Verdict::Answer {
        township: refusal.township,
        outcome: Box::new(OutcomeMessage {
            msg_id: refusal.msg_id,
            status: OutcomeStatus::Rejected,
            case_id: None,
            version: None,
            seq: None,
            case_no: None,
            query_code: None,
            error: Some(refusal.error.problem()),
            body: None,
            inbox_seq,
        }),
    }
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
            stopping: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Consume until `shutdown` resolves. Messages are handled by [`WORKERS`] tasks; all messages
    /// about one case (or, for a registration, with one record id) go to the same worker, in
    /// inbox order, so a township's steps on a case are applied in the order it sent them while
    /// different cases proceed in parallel.
    pub async fn run(
        self: Arc<Self>,
        mut messages: inbox::InboxMessages,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), Stopped> {
        let mut lanes = Vec::with_capacity(WORKERS);
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..WORKERS {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Job>(16);
            lanes.push(tx);
            let this = self.clone();
            workers.spawn(async move {
                while let Some((msg, d, parsed)) = rx.recv().await {
                    this.handle(msg, d, parsed).await;
                }
            });
        }
        tokio::pin!(shutdown);
        let result = loop {
            tokio::select! {
                _ = &mut shutdown => break Ok(()),
                next = messages.next() => match next {
                    None => break Err(Stopped::ConsumerEnded),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "inbox read failed; continuing");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Some(Ok(msg)) => {
                        // Parsed once, here: the lane follows from what it is about.
                        let d = Delivery::of(&msg);
                        let parsed = self.parse(&d);
                        let lane = ordering_key(&d, &parsed) as usize % WORKERS;
                        if lanes[lane].send((msg, d, parsed)).await.is_err() {
                            break Err(Stopped::WorkerStopped);
                        }
                    }
                },
            }
        };
        // Let the workers finish what they hold; anything unacknowledged is redelivered.
        self.stopping.send_replace(true);
        drop(lanes);
        while workers.join_next().await.is_some() {}
        result
    }

    fn parse(&self, d: &Delivery) -> Result<Parsed, Refusal> {
        parse_message(
            &d.stream_township,
            &d.subject,
            d.msg_id.as_deref(),
            &d.payload,
            d.inbox_seq,
            &self.principals,
        )
    }

    async fn handle(
        self: &Arc<Self>,
        msg: Submission,
        d: Delivery,
        parsed: Result<Parsed, Refusal>,
    ) {
        let d = Arc::new(d);
        let verdict = if d.delivered > POISON_AFTER {
            tracing::error!(stream = %d.stream, inbox_seq = d.inbox_seq, delivered = d.delivered, "inbox message delivered too often without an answer; rejected");
            answer(
                self.refusal(
                    &d,
                    "this message was taken repeatedly without being answered; it was not applied",
                ),
                d.inbox_seq,
            )
        } else {
            // A panic while deciding must not take the worker (and the process) down: the
            // message is answered as an internal error instead.
            let (this, d2, m2) = (self.clone(), d.clone(), msg.clone());
            match tokio::spawn(async move { this.verdict(&d2, &m2, parsed).await }).await {
                Ok(verdict) => verdict,
                Err(e) => {
                    tracing::error!(stream = %d.stream, inbox_seq = d.inbox_seq, error = %e, "handling an inbox message failed; rejected");
                    answer(
                        self.refusal(
                            &d,
                            "the county could not process this message; it was not applied",
                        ),
                        d.inbox_seq,
                    )
                }
            }
        };
        match verdict {
            Verdict::Retry(after) => {
                let _ = msg.retry_after(after).await;
            }
            Verdict::Leave => {}
            Verdict::Answer {
                township,
                mut outcome,
            } => {
                // Kept for inspection without personal data; the inbox's copy goes below.
                if outcome.status == OutcomeStatus::Rejected {
                    outcome.body = Some(domain::personal::redact_command_body(msg.payload()));
                }
                tracing::info!(township, msg_id = %outcome.msg_id, status = %outcome.status, stream = %d.stream, inbox_seq = d.inbox_seq, "inbox message answered");
                match self
                    .inbox
                    .publish_outcome(&township, &d.stream, &outcome)
                    .await
                {
                    Ok(restated) => {
                        if restated {
                            tracing::warn!(township, msg_id = %outcome.msg_id, inbox_seq = d.inbox_seq, "a message under the id of a record already applied was refused; the applied outcome is restated after the refusal");
                        }
                        // The outcome is stored, so the message is answered: it is erased (its
                        // plain personal data) and acknowledged without waiting for the server's
                        // confirmation. A lost acknowledgement of a message still there makes it
                        // answered again, with the same outcome id, which the outcome stream
                        // drops; an erased one is not delivered again.
                        if let Err(e) = self.inbox.erase(&d.stream, d.inbox_seq).await {
                            tracing::warn!(error = %e, inbox_seq = d.inbox_seq, "could not erase an answered inbox message; it stays until the stream's age limit");
                        }
                        if let Err(e) = msg.ack().await {
                            tracing::warn!(error = %e, inbox_seq = d.inbox_seq, "ack failed; the message will be answered again (same outcome)");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, inbox_seq = d.inbox_seq, "could not publish the outcome; retrying");
                        let _ = msg.retry_after(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }

    /// An internal-error refusal of a delivery, addressed like any other answer.
    fn refusal(&self, d: &Delivery, why: &str) -> Refusal {
        let township = eventlog::subjects::parse_inbox(&d.subject)
            .map_or(d.stream_township.as_str(), |(t, _)| t)
            .to_owned();
        Refusal {
            township,
            msg_id: d
                .msg_id
                .clone()
                .filter(|id| inbox::valid_msg_id(id))
                .unwrap_or_else(|| format!("seq-{}", d.inbox_seq)),
            error: Failure::Internal(why.into()),
        }
    }

    async fn verdict(
        &self,
        d: &Delivery,
        msg: &Submission,
        parsed: Result<Parsed, Refusal>,
    ) -> Verdict {
        let parsed = match parsed {
            Ok(p) => p,
            Err(refusal) => return answer(refusal, d.inbox_seq),
        };
        let Parsed {
            township,
            msg_id,
            principal,
            case_id,
            command,
            body,
        } = parsed;
        // Evidence named by its hash must be stored (uploaded over HTTP) and be what it says.
        if let domain::Command::Attach(a) = &command {
            match self.evidence(case_id, a).await {
                Ok(()) => {}
                Err(None) if d.delivered < NOT_FOUND_TRIES => {
                    return Verdict::Retry(Duration::from_millis(500 * d.delivered.max(1) as u64));
                }
                Err(why) => {
                    let error = why.unwrap_or_else(|| {
                        Failure::Domain(DomainError::Validation(domain::text!(
                            "sha256: no evidence is stored under it; upload the bytes first (POST /v1/attachments)",
                            "sha256：未找到对应的证据材料，请先上传文件（POST /v1/attachments）"
                        )))
                    });
                    return answer(
                        Refusal {
                            township,
                            msg_id,
                            error,
                        },
                        d.inbox_seq,
                    );
                }
            }
        }
        let req = CommandRequest {
            principal: &principal,
            case_id,
            command,
            if_match: None,
            idempotency: Some((msg_id.clone(), body)),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            reached_at: d.stored_at,
        };
        let registers = matches!(req.command, domain::Command::Register(_));
        // The one retry policy of an inbox message while the log is unavailable: the command
        // path does not wait (execute_once), this loop does, keeping the message ours.
        let mut backoff = FIRST_BACKOFF;
        loop {
            let refused = match self.cases.execute_once(req.clone()).await {
                Ok(out) => {
                    let id = out.committed.case_id;
                    return Verdict::Answer {
                        township,
                        outcome: Box::new(OutcomeMessage {
                            msg_id,
                            status: OutcomeStatus::Applied,
                            case_id: Some(out.committed.case_id),
                            version: Some(out.committed.version),
                            seq: Some(out.committed.seq),
                            case_no: registers.then(|| out.case.case_no.clone()),
                            query_code: registers.then(|| self.cases.query_code(id, 0)),
                            error: None,
                            inbox_seq: d.inbox_seq,
                            body: None,
                        }),
                    };
                }
                Err(CommandError::Domain(DomainError::NotFound))
                    if d.delivered < NOT_FOUND_TRIES && !self.exists(case_id).await =>
                {
                    return Verdict::Retry(Duration::from_millis(500 * d.delivered.max(1) as u64));
                }
                // The log is down: the message waits here (not redelivered, so an outage does not
                // count towards POISON_AFTER) until it is back.
                Err(why) if matches!(why.remedy(), Remedy::RetryLater | Remedy::WaitForSpace) => {
                    tracing::warn!(%why, inbox_seq = d.inbox_seq, "event log unavailable; the inbox message waits");
                    // Keep the message ours meanwhile (ack_wait is 30 s).
                    let _ = msg.in_progress().await;
                    let mut stopping = self.stopping.subscribe();
                    if *stopping.borrow() {
                        return Verdict::Leave;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stopping.changed() => return Verdict::Leave,
                    }
                    backoff = (backoff * 2).min(LAST_BACKOFF);
                    continue;
                }
                Err(e) => e,
            };
            return answer(
                Refusal {
                    township,
                    msg_id,
                    error: Failure::from(refused),
                },
                d.inbox_seq,
            );
        }
    }

    async fn exists(&self, case: Option<CaseId>) -> bool {
        match case {
            Some(id) => matches!(self.cases.in_log(id).await, Ok(true)),
            None => false,
        }
    }
}

/// What an ingestor needs: the command path, the connection to NATS, the county's townships and
/// the principal each township system acts as.
pub struct Deps {
    pub cases: Arc<CaseService>,
    pub nats: eventlog::Connection,
    pub replicas: usize,
    pub townships: Vec<InboxTownship>,
    /// Townships whose systems read outcomes and feed through consumers the county creates.
    pub with_consumers: Vec<domain::UnitCode>,
    pub principals: BTreeMap<String, Principal>,
}

/// Open the inbox and run an ingestor until `shutdown`.
pub async fn run(
    deps: Deps,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Stopped> {
    let (inbox, messages) = Inbox::open(&deps.nats, deps.replicas, &deps.townships).await?;
    for unit in &deps.with_consumers {
        inbox::township_consumers(&deps.nats, unit, deps.replicas).await?;
    }
    // Erasures are carried out again at every start: a data key restored from a backup of
    // the key stream is erased again (docs/operations.md, "Erasure of personal data").
    let cases = deps.cases.clone();
    tokio::spawn(async move {
        match cases.reapply_erasures().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                keys = n,
                "erased data keys again that erased cases still had (restored from a backup?)"
            ),
            Err(e) => {
                tracing::error!(error = %e, "could not re-apply the erasures of personal data")
            }
        }
    });
    // Uploads never attached are erased after WAITING_DAYS, sealed copy and key.
    let cases = deps.cases.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match cases.expire_waiting(WAITING).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(uploads = n, "erased uploads never attached"),
                Err(e) => tracing::warn!(error = %e, "could not expire uploads never attached"),
            }
        }
    });
    tracing::info!("ingestor consuming the township inbox");
    Arc::new(Ingestor::new(deps.cases, inbox, deps.principals))
        .run(messages, shutdown)
        .await?;
    tracing::info!("ingestor stopped");
    Ok(())
}

/// How long an upload waits for the `attach` that names it (`POST /v1/attachments`).
pub const WAITING: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why an ingestor stopped before it was told to.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    #[error(transparent)]
    Log(#[from] eventlog::LogError),
    #[error("the inbox consumer ended")]
    ConsumerEnded,
    #[error("an inbox worker stopped")]
    WorkerStopped,
}
