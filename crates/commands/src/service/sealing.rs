//! Personal data on the command path (crypto-shredding, `eventlog::vault`): sealed under the
//! case's data key before an event is signed and appended, opened when the case is read, and
//! destroyed with the key when an erasure is approved.

use domain::{Case, CaseId, Event};
use eventlog::{Envelope, Stored, Vault};

use super::CaseService;
use crate::CommandError;

/// Whether the case is (or by its registration becomes) an accusation, whose summary is
/// sealed too.
fn accusation(state: Option<&Case>, event: &Event) -> bool {
    state.is_some_and(|c| c.accusation) || matches!(event, Event::CaseRegistered(e) if e.accusation)
}

impl CaseService {
    /// Seal the personal fields of `env`'s event for the log; returns the event as decided (with
    /// its personal data, for the case this process keeps) when anything was sealed.
    pub(super) async fn seal_personal(
        &self,
        state: Option<&Case>,
        env: &mut Envelope,
    ) -> Result<Option<Event>, CommandError> {
        // The events that hold personal data are also the only ones with a summary.
        if !domain::personal::holds_personal_data(&env.event) {
            return Ok(None);
        }
        let accusation = accusation(state, &env.event);
        let plain = env.event.clone();
        let key = self.vault.key_or_create(env.case_id).await?;
        // Evidence waiting (sealed under its own key, or plain from before) is sealed as the
        // case's now, and the waiting copy and its key are erased.
        if let Event::AttachmentAdded(a) = &env.event {
            let waiting_id = eventlog::Attachments::waiting_key_id(&a.sha256);
            let waiting = self.vault.key(waiting_id).await?;
            let adopted = self
                .attachments
                .adopt(env.case_id, &key, &a.sha256, waiting.as_ref());
            if adopted.await? {
                self.vault.erase(waiting_id).await?;
            }
        }
        Vault::seal(env, &key, accusation)?;
        Ok(env.personal.is_some().then_some(plain))
    }

    /// Open the personal data of one case's `events` (nothing once its log shows an erasure,
    /// or when `erased` says an earlier part of it did).
    pub(super) async fn open_events(
        &self,
        events: &mut [Stored],
        erased: bool,
    ) -> Result<(), CommandError> {
        // An event that is not a fact neither erases nor is opened (a forged one may carry
        // anything in its `personal`).
        let erased = erased
            || events
                .iter()
                .any(|s| s.admitted() && matches!(s.envelope.event, Event::PersonalDataErased(_)));
        for s in events.iter_mut().filter(|s| s.admitted()) {
            self.vault.open_envelope(&mut s.envelope, erased).await?;
        }
        Ok(())
    }

    /// Carry out an approved erasure of `case`'s personal data: its data key is erased (so
    /// every sealed field of it, wherever the log was copied, stays shut) and its petitioners
    /// leave the identity index. Safe to repeat (the ingestor re-applies every erasure of the
    /// log when it starts, so a key restored from a backup is erased again).
    pub async fn complete_erasure(&self, case: CaseId) -> Result<u64, CommandError> {
        self.unfile_erased(case).await?;
        let erased = self.vault.erase(case).await?;
        // The cached state held the personal data in memory: read it again from the log.
        if let Ok(mut slots) = self.slots.lock() {
            slots.remove(&case);
        }
        Ok(erased)
    }

    /// Take the petitioners of `case` out of the identity index (while its key still opens
    /// them: the erasure's own event leaves the case without petitioners).
    async fn unfile_erased(&self, case: CaseId) -> Result<(), CommandError> {
        let Some((subject, _)) = self.log.locate(case).await? else {
            return Ok(());
        };
        let mut events = self.log.read_subject(&subject, 1, u64::MAX).await?;
        events.retain(|s| !s.envelope.event.is_erasure());
        self.open_events(&mut events, false).await?;
        if let Some(before) = super::fold(None, events.iter())?.case {
            self.unfile(&before).await?;
        }
        Ok(())
    }
}

impl CaseService {
    /// File erasure `id` of `case` in the register (once its request is in the log).
    pub async fn file_erasure(&self, id: uuid::Uuid, case: CaseId) -> Result<(), CommandError> {
        Ok(self.erasures.file(id, case).await?)
    }

    /// The case erasure `id` was requested for, if it is filed.
    pub async fn case_of_erasure(&self, id: uuid::Uuid) -> Result<Option<CaseId>, CommandError> {
        Ok(self.erasures.case_of(id).await?)
    }

    /// Every case an erasure was filed for.
    pub async fn cases_with_erasures(&self) -> Result<Vec<CaseId>, CommandError> {
        Ok(self.erasures.cases().await?)
    }

    /// Carry out again every approved erasure in the register (at start: a data key restored
    /// from a backup is erased again). Returns how many keys were erased now.
    pub async fn reapply_erasures(&self) -> Result<u64, CommandError> {
        let mut erased = 0;
        for case in self.erasures.cases().await? {
            let Some(loaded) = self.read(case).await? else {
                continue;
            };
            if loaded.case.personal_data_erased() && self.vault.key(case).await?.is_some() {
                erased += self.complete_erasure(case).await?;
            }
        }
        Ok(erased)
    }

    /// Erase the uploads that waited for their case longer than `age` (never attached), and
    /// their keys. Returns how many.
    pub async fn expire_waiting(&self, age: std::time::Duration) -> Result<usize, CommandError> {
        let old = self.attachments.waiting_older_than(age).await?;
        for sha in &old {
            self.attachments.erase_waiting(sha).await?;
            self.vault
                .erase(eventlog::Attachments::waiting_key_id(sha))
                .await?;
        }
        Ok(old.len())
    }
}
