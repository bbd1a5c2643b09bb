//! Evidence (`eventlog::attachments`), sealed under the case's data key: stored before the
//! command that attaches it, found when an `attach` names it, read back for an entitled reader.

use domain::CaseId;
use eventlog::Attachments;

use super::CaseService;
use crate::CommandError;

impl CaseService {
    /// Store an upload's bytes and return the SHA-256 they are named by: sealed under `case`'s
    /// data key, or, before any case names them, under a key of their own until an `attach`
    /// adopts them (`expire_waiting` erases them if none does).
    pub async fn store_evidence(
        &self,
        case: Option<CaseId>,
        bytes: &[u8],
    ) -> Result<String, CommandError> {
        let sha256 = match case {
            Some(case) => {
                let key = self.vault.key_or_create(case).await?;
                self.attachments.put_sealed(case, &key, bytes).await?
            }
            None => {
                let id = Attachments::waiting_key_id(&eventlog::attachments::sha256_hex(bytes));
                let key = self.vault.key_or_create(id).await?;
                self.attachments.put_waiting(&key, bytes).await?
            }
        };
        Ok(sha256)
    }

    /// The bytes of `case`'s evidence `sha256`; `None` when they are gone, or when the case's
    /// personal data is `erased` (its key with it, whatever a cache still holds).
    pub async fn evidence(
        &self,
        case: CaseId,
        erased: bool,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>, CommandError> {
        let key = match erased {
            true => None,
            false => self.vault.key(case).await?,
        };
        Ok(self.attachments.get_of(case, key.as_ref(), sha256).await?)
    }

    /// The bytes an `attach` names, wherever they wait: sealed as `case`'s evidence, stored in
    /// plain by a township system, or sealed under their own key (uploaded over HTTP).
    pub async fn evidence_to_attach(
        &self,
        case: Option<CaseId>,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>, CommandError> {
        let stored = match case {
            Some(case) => self.evidence(case, false, sha256).await?,
            None => self.attachments.get(sha256).await?,
        };
        if stored.is_some() {
            return Ok(stored);
        }
        let id = Attachments::waiting_key_id(sha256);
        Ok(match self.vault.key(id).await? {
            Some(key) => self.attachments.get_waiting(&key, sha256).await?,
            None => None,
        })
    }

    /// Rewrap every data key under the current key-encryption key (`xinfang rotate-kek`).
    pub async fn rotate_data_keys(&self) -> Result<eventlog::vault::Rotation, CommandError> {
        Ok(self.vault.rotate().await?)
    }
}
