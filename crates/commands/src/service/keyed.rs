//! Commands with an idempotency key (protocol in `idempotency.rs`): a record claims the key, and
//! the case's own events answer a retry.

use uuid::Uuid;

use domain::CaseId;

use super::{CaseService, CommandRequest, Executed, RecordedCommand};
use crate::idempotency::{command_id_for, request_hash, Committed, Record};
use crate::CommandError;

impl CaseService {
    pub(super) async fn execute_keyed(
        &self,
        req: &CommandRequest<'_>,
        key: &str,
        body: &serde_json::Value,
        retry_for: std::time::Duration,
    ) -> Result<Executed, CommandError> {
        let command_id = command_id_for(&req.principal.id.0, key);
        let hash = request_hash(req.command.action().as_str(), req.case_id, body);
        // The record makes a key used for another request (another body, another case) an error,
        // and keeps the case id a registration's first attempt chose. Whether the command was
        // applied is found in the case's own events, so success writes nothing more.
        // `minted`: the key was new and the case id made for this request, so no case has it.
        let (case_id, minted) = loop {
            // Most keys are new: try to own the key first (one round trip), and read the record
            // only when it is taken.
            let fresh = req.case_id.unwrap_or_else(|| CaseId(Uuid::now_v7()));
            let pending = Record::Pending {
                request_hash: hash.clone(),
                case_id: fresh,
            };
            if self.idem.reserve(command_id, &pending).await? {
                break (fresh, req.case_id.is_none());
            }
            match self.idem.get(command_id).await? {
                Some(rec) if rec.request_hash() != hash => {
                    return Err(CommandError::IdempotencyMismatch)
                }
                Some(Record::Done { result, .. }) => return self.replay(result).await,
                // A command on an existing case: `attempt` finds it among the case's events.
                Some(Record::Pending { case_id, .. }) if req.case_id.is_some() => {
                    break (case_id, false)
                }
                Some(Record::Pending { case_id, .. }) => {
                    if let Some(result) = self.find_committed(case_id, command_id).await? {
                        self.idem
                            .complete(
                                command_id,
                                &Record::Done {
                                    request_hash: hash,
                                    result: result.clone(),
                                },
                            )
                            .await?;
                        return self.replay(result).await;
                    }
                    break (case_id, false);
                }
                // Released in between (the other request appended nothing): try again.
                None => {}
            }
        };
        let round = super::Round {
            req,
            case_id,
            command_id,
            hash: Some(&hash),
            minted,
            retry_for,
        };
        match self.run(&round).await {
            // The pending record names the case, whose log now holds the command: a retry finds
            // it there (and completes the record then), so success costs no second write.
            Ok(outcome) => Ok(outcome),
            Err(e @ (CommandError::Domain(_) | CommandError::VersionConflict { .. })) => {
                // This attempt appended nothing. But a concurrent request with the same key may
                // have (and made this one fail, e.g. "accept twice"): then its result is ours.
                if let Some(result) = self.find_committed(case_id, command_id).await? {
                    let done = Record::Done {
                        request_hash: hash,
                        result: result.clone(),
                    };
                    self.idem.complete(command_id, &done).await?;
                    return self.replay(result).await;
                }
                // Nothing appended under this key: free it so a corrected retry can use it.
                self.idem.release(command_id).await?;
                Err(e)
            }
            // The case's log holds this key's command with another body (its claim had expired):
            // this request appended nothing, and its claim must not outlive it, or the retry
            // with the body the log holds would be refused too.
            Err(e @ CommandError::IdempotencyMismatch) => {
                self.idem.release(command_id).await?;
                Err(e)
            }
            // Executed unknown: the pending record stays and the next retry resolves it from the log.
            Err(e) => Err(e),
        }
    }

    pub(super) async fn replay(&self, result: Committed) -> Result<Executed, CommandError> {
        let case = self
            .case_at(result.case_id, result.version)
            .await?
            .ok_or_else(|| {
                CommandError::Internal(format!(
                    "idempotency record names missing case {}",
                    result.case_id
                ))
            })?;
        Ok(Executed {
            committed: result,
            case,
            replayed: true,
            peers: Vec::new(),
        })
    }

    async fn find_committed(
        &self,
        case_id: CaseId,
        command_id: Uuid,
    ) -> Result<Option<Committed>, CommandError> {
        Ok(self
            .history(case_id)
            .await?
            .into_iter()
            .find(|s| s.admitted() && s.envelope.command_id == command_id)
            .map(|s| Committed::of(&s)))
    }

    /// The answer to a command its case's log records already: that command's result, unless the
    /// request differs from the one that was applied.
    pub(super) async fn answer_twin(
        &self,
        done: RecordedCommand,
        hash: Option<&str>,
    ) -> Result<Executed, CommandError> {
        if let (Some(theirs), Some(mine)) = (done.request_hash.as_deref(), hash) {
            if theirs != mine {
                return Err(CommandError::IdempotencyMismatch);
            }
        }
        self.replay(done.committed).await
    }
}
