//! The notary: it follows the log, checks each event's hash and signature as it takes it in,
//! adds it to the Merkle tree (`integrity::merkle`) and appends a signed checkpoint to
//! `XF_CHECKPOINTS` at least every `every` events or once the oldest event it has not covered is
//! `interval` old. It is part of the command path because it signs; it keeps no store: the last
//! checkpoint carries the tree's frontier, so it resumes from there, and two notaries (ingestor
//! replicas) never fork the checkpoints (each appends on the last it saw, and the loser resumes).

use std::time::{Duration, Instant};

use futures::StreamExt as _;

use eventlog::{Checkpoints, EventLog, LogError, Stored};
use integrity::merkle::leaf;
use integrity::{Checkpoint, Frontier, KeySet, Opened, Signer};

pub struct Notary {
    pub log: EventLog,
    pub checkpoints: Checkpoints,
    pub signer: Signer,
    /// The keys events may be signed with (the current and the retired ones).
    pub keys: KeySet,
    pub every: u64,
    pub interval: Duration,
}

/// What the notary has taken in since its last checkpoint.
struct State {
    frontier: Frontier,
    last_seq: u64,
    first_signed: Option<u64>,
    invalid: Vec<u64>,
    /// The checkpoint stream's last sequence, which the next append expects.
    expected: u64,
    pending_since: Option<Instant>,
}

impl Notary {
    /// Run until `shutdown`.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let outcome = tokio::select! {
                _ = &mut shutdown => return,
                r = self.follow() => r,
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "notary: resuming from the last checkpoint");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Where the last checkpoint this notary can trust left off.
    async fn resume(&self) -> Result<State, LogError> {
        let expected = self.checkpoints.last_seq().await?;
        let trusted = self
            .checkpoints
            .last_trusted(|cp| self.trusts(cp), u64::MAX)
            .await?
            .map(|(_, cp)| cp);
        Ok(State {
            last_seq: trusted.as_ref().map_or(0, |cp| cp.last_seq),
            first_signed: trusted.as_ref().and_then(|cp| cp.first_signed_seq),
            frontier: trusted.map(|cp| cp.frontier).unwrap_or_default(),
            invalid: Vec::new(),
            expected,
            pending_since: None,
        })
    }

    fn trusts(&self, cp: &Checkpoint) -> bool {
        cp.verify(&self.keys).is_ok()
            && cp.frontier.is_well_formed()
            && cp.frontier.size == cp.tree_size
            && cp.root_hash() == Some(cp.frontier.root())
    }

    async fn follow(&self) -> Result<(), LogError> {
        let mut state = self.resume().await?;
        tracing::info!(
            tree_size = state.frontier.size,
            last_seq = state.last_seq,
            "notary following the log"
        );
        let mut events = self.log.follow(state.last_seq + 1).await?;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if state.pending_since.is_some_and(|t| t.elapsed() >= self.interval) {
                        self.checkpoint(&mut state).await?;
                    }
                }
                next = events.next() => {
                    let Some(stored) = next else { return Ok(()) };
                    self.take(&mut state, &stored?);
                    if state.frontier.size % self.every == 0 {
                        self.checkpoint(&mut state).await?;
                    }
                }
            }
        }
    }

    /// Take one event in: check it, add its leaf.
    fn take(&self, state: &mut State, stored: &Stored) {
        let env = &stored.envelope;
        // A log that judges what it reads (every service's) has checked the seal already, and
        // hashed the event once.
        let valid = if self.log.judges() {
            if integrity::event::is_sealed(&stored.raw) {
                state.first_signed.get_or_insert(stored.seq);
            }
            stored.admitted()
        } else {
            match &integrity::open(&stored.raw) {
                Opened::Sealed {
                    content,
                    claimed,
                    sig,
                } => {
                    state.first_signed.get_or_insert(stored.seq);
                    content == claimed
                        && self
                            .keys
                            .verify(
                                env.key_id.as_deref().unwrap_or(""),
                                claimed,
                                sig,
                                env.migrated_at.unwrap_or(env.recorded_at),
                            )
                            .is_ok()
                }
                Opened::Legacy { .. } => state.first_signed.is_none(),
            }
        };
        if !valid {
            tracing::error!(
                seq = stored.seq,
                case_id = %env.case_id,
                "notary: an event whose hash or signature does not verify (a writer without the signing key?)"
            );
            state.invalid.push(stored.seq);
        }
        state.frontier.push(leaf(stored.seq, &stored.chain_hash()));
        state.last_seq = stored.seq;
        state.pending_since.get_or_insert_with(Instant::now);
    }

    async fn checkpoint(&self, state: &mut State) -> Result<(), LogError> {
        let cp = Checkpoint {
            stream: eventlog::subjects::EVENTS_STREAM.into(),
            tree_size: state.frontier.size,
            last_seq: state.last_seq,
            root: integrity::to_hex(&state.frontier.root()),
            at: chrono::Utc::now().fixed_offset(),
            first_signed_seq: state.first_signed,
            invalid: std::mem::take(&mut state.invalid),
            frontier: state.frontier.clone(),
            migrated: None,
            key_id: String::new(),
            sig: String::new(),
        }
        .sign(&self.signer);
        // A conflict (another notary appended) ends this follower; `run` resumes from the
        // checkpoint stream as it now is.
        state.expected = self.checkpoints.append(&cp, state.expected).await?;
        state.pending_since = None;
        tracing::debug!(
            tree_size = cp.tree_size,
            last_seq = cp.last_seq,
            "checkpoint"
        );
        Ok(())
    }
}

/// Verify the whole log as it is now against every checkpoint (`integrity::verify`): events up
/// to the last sequence when it starts. When a checkpoint's root does not match, verify again
/// with every signature, so the events at fault are named. `progress(done, total)` is called
/// every 10,000 events.
pub async fn verify_log(
    log: &EventLog,
    checkpoints: &Checkpoints,
    keys: &KeySet,
    all_signatures: bool,
    mut progress: impl FnMut(u64, u64),
) -> Result<integrity::Report, LogError> {
    let cps = checkpoints.all().await?;
    let last = log.last_seq().await?;
    let mut all = all_signatures;
    loop {
        let mut v = integrity::LogVerifier::new(keys, cps.clone(), all);
        if last > 0 {
            // Received on one task, verified on another: two cores, about twice the rate.
            let (tx, mut batches) = tokio::sync::mpsc::channel(8);
            let events = log.follow_raw(1).await?;
            let reader = tokio::spawn(read_until(events, last, tx));
            while let Some(batch) = batches.recv().await {
                for (seq, subject, bytes) in batch {
                    v.event(seq, &subject, &bytes);
                    if seq % 100_000 == 0 {
                        progress(seq, last);
                    }
                }
            }
            reader
                .await
                .map_err(|e| LogError::unavailable("reading the log", e))??;
        }
        if v.roots_mismatched() && !all {
            all = true;
            continue;
        }
        return Ok(v.finish());
    }
}

type Raw = (u64, String, bytes::Bytes);

/// Hand the log's events up to `last` to `tx` in batches, then close it. Stops early when
/// nothing follows (`pending` 0) or nothing comes for a while (a deleted tail: the stream's last
/// sequence stays).
async fn read_until(
    events: impl futures::Stream<Item = Result<(u64, String, bytes::Bytes, u64), LogError>> + Unpin,
    last: u64,
    tx: tokio::sync::mpsc::Sender<Vec<Raw>>,
) -> Result<(), LogError> {
    let mut events = events.ready_chunks(1000);
    let idle = Duration::from_secs(5);
    while let Ok(Some(chunk)) = tokio::time::timeout(idle, events.next()).await {
        let mut batch = Vec::with_capacity(chunk.len());
        let mut done = false;
        for item in chunk {
            let (seq, subject, bytes, pending) = item?;
            done |= seq >= last || pending == 0;
            batch.push((seq, subject, bytes));
            if done {
                break;
            }
        }
        if tx.send(batch).await.is_err() || done {
            break;
        }
    }
    Ok(())
}
