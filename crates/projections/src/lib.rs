//! Read models of Xinfang, built by following the case event log: the cases to find and work on
//! (listings, search, work queues), statistics and audit trails. Each is a reducer over events into its own sled database, with the checkpoint in
//! the same atomic batch as the data, plus the queries on it.
//!
//! Projections must never emit events or write to the log; a read model is disposable and can be
//! rebuilt from the log at any time. Reducers are deterministic: no clock, no randomness, so a
//! rebuild gives a byte-identical database (`Store::digest`).

mod apply;
pub mod audit;
pub mod cases;
pub mod feed;
pub mod keys;
pub mod names;
pub mod notify;
mod rebuild;
pub mod runner;
pub mod service;
mod sink;
pub mod snapshots;
pub mod stats;
pub mod store;
#[cfg(test)]
mod testing;

use domain::{evolve, Case, PersonalData as _};
use eventlog::Stored;

pub use store::{Store, StoreError, Tx};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event at seq {seq} does not apply: {why}")]
    Apply { seq: u64, why: String },
    /// What an event needs from the log could not be read now (a server restarting, a timeout):
    /// nothing was applied, and the same events apply once it can be read.
    #[error("the log could not be read for the events from seq {seq}: {why}")]
    Unavailable { seq: u64, why: String },
    /// The log itself could not be reached (its stream's state, a follower): nothing was applied.
    #[error("the log could not be read: {0}")]
    Log(String),
    /// As many views as a model builds at once are being built; the point at `seq` is not.
    #[error("the model is building as many past views as it may; seq {seq} has to wait")]
    Busy { seq: u64 },
}

/// A read model: how one event changes it.
pub trait Projection: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// The layout of the model this reducer writes. A projector that finds a model written by
    /// another version starts a fresh one and replays the log into it.
    fn version(&self) -> u32 {
        1
    }
    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError>;
    /// The data keys, for a model that needs what a case's personal data identifies (the
    /// cases model keeps its petitioners' keyed hashes); its events are opened before `apply`
    /// (`runner::open_personal`). Every other model sees events sealed.
    fn vault(&self) -> Option<&eventlog::Vault> {
        None
    }
}

/// The case before and after `event`, as kept under `c/<case_id>` in the model (without personal
/// data: no read model needs it, and statistics must never hold it); `None` when the event is not
/// a fact (`admitted`): the model then stays as it was.
pub fn fold_case(
    tx: &mut Tx<'_>,
    event: &Stored,
) -> Result<Option<(Option<Case>, Case)>, ProjectionError> {
    let env = &event.envelope;
    // An alert's review (研判) is on the alert's subject: no case to fold.
    if env.event.is_alert() {
        return Ok(None);
    }
    let key = keys::shared::case(env.case_id);
    let before: Option<Case> = tx.get(&key)?;
    if !admitted(tx, event, before.as_ref().map(|c| c.version)) {
        return Ok(None);
    }
    let mut after = evolve(
        before.clone(),
        env.case_id,
        &env.event,
        env.occurred_at,
        env.entry(),
    )
    .map_err(|e| ProjectionError::Apply {
        seq: event.seq,
        why: e.to_string(),
    })?;
    after.redact_personal_data();
    tx.put(key, after.clone());
    Ok(Some((before, after)))
}

// A model keeps the events of the log it did not take as facts (`keys::shared::rejected`, the
// seq → why), so that they are counted (`rejected_count`) after a restart as after a rebuild.

/// Whether `event` is a fact for a model whose case's last admitted version is `last`: its seal
/// held as it was read, and it follows that version (issue 30: a replayed or forged event is
/// read as absent instead of stopping the model). One that is not is recorded under `~rejected/`.
pub fn admitted(tx: &mut Tx<'_>, event: &Stored, last: Option<u64>) -> bool {
    let why = match event.rejected {
        Some(why) => why,
        None if eventlog::admission::follows(last, event.envelope.version) => return true,
        None => {
            tracing::error!(
                seq = event.seq,
                case_id = %event.envelope.case_id,
                version = event.envelope.version,
                last = last.unwrap_or(0),
                "an event in the log does not follow its case's last one (a replay?); it is read as absent"
            );
            wire::Rejection::OutOfOrder
        }
    };
    tx.put(keys::shared::rejected(event.seq), why);
    false
}

/// A publishing sink's own record of the case of `event` (under `key`), as it stood before the
/// event: made by `registered` from the case's registration; `None` when the event is not a fact
/// (`admitted`, judged against the record's `version`). Anything but a registration first, or a
/// second one, is a bug or damage, never skipped. The caller applies the event and puts it back.
pub(crate) fn case_record<R>(
    tx: &mut Tx<'_>,
    event: &Stored,
    key: &str,
    version: fn(&R) -> u64,
    registered: impl FnOnce(&domain::event::CaseRegistered) -> R,
) -> Result<Option<R>, ProjectionError>
where
    R: serde::de::DeserializeOwned + Clone + 'static,
{
    // An alert's review (研判) is on no feed and notifies no one.
    if event.envelope.event.is_alert() {
        return Ok(None);
    }
    let before: Option<R> = tx.get(key)?;
    if !admitted(tx, event, before.as_ref().map(version)) {
        return Ok(None);
    }
    let refused = |e: domain::EvolveError| ProjectionError::Apply {
        seq: event.seq,
        why: e.to_string(),
    };
    match (before, &event.envelope.event) {
        (None, domain::Event::CaseRegistered(e)) => Ok(Some(registered(e))),
        (Some(_), domain::Event::CaseRegistered(_)) => {
            Err(refused(domain::EvolveError::RegisteredTwice))
        }
        (None, e) => Err(refused(domain::EvolveError::NotRegistered(e.type_name()))),
        (Some(r), _) => Ok(Some(r)),
    }
}

/// How many events of the log `store`'s model did not take as facts.
pub fn rejected_count(store: &Store) -> Result<u64, StoreError> {
    Ok(store.scan::<wire::Rejection>(keys::shared::REJECTED)?.len() as u64)
}

/// The names of the projectors, as used on the command line and in query subjects.
pub const NAMES: [&str; 3] = queries::protocol::PROJECTORS;

/// The projector a name on the command line means: one of [`NAMES`], or an alias of earlier
/// versions (`queues`: the cases model serves the work queues).
pub fn canonical(name: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|n| *n == name).or_else(|| {
        queries::protocol::ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map(|(_, n)| *n)
    })
}

/// The projection called `name` (`keys`: the county's identity key, and `vault` the data keys,
/// for the cases model).
pub fn by_name(
    name: &str,
    policy: &domain::Policy,
    keys: &domain::identity::Keys,
    vault: Option<&eventlog::Vault>,
) -> Option<Box<dyn Projection>> {
    match canonical(name)? {
        "stats" => Some(Box::new(stats::Stats { policy: *policy })),
        "audit" => Some(Box::new(audit::Audit { policy: *policy })),
        "cases" => Some(Box::new(cases::Cases {
            keys: keys.clone(),
            policy: *policy,
            vault: vault.cloned(),
        })),
        _ => None,
    }
}

/// A task aborted when this is dropped: a reader feeding a replay that stopped early, a
/// projector's query services and snapshot keepers when it stops.
pub struct AbortOnDrop<T>(pub tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
