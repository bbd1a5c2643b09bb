//! Evidence an inbox `attach` names by its hash: stored over HTTP first, waiting sealed under its
//! own key (or plain, from before that) or already sealed as the case's, and of the size and
//! type the message says.

use domain::{CaseId, DomainError};

use crate::{Failure, Ingestor};

impl Ingestor {
    /// Whether the bytes an `attach` names are stored, of the size and type it says: `Err(None)`
    /// while they are not (yet) stored, or the store cannot be read.
    pub(crate) async fn evidence(
        &self,
        case: Option<CaseId>,
        a: &domain::command::AddAttachment,
    ) -> Result<(), Option<Failure>> {
        let sha = a.sha256.to_ascii_lowercase();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            // `decide` refuses it with its reason.
            return Ok(());
        }
        // Waiting under its plain name, or already sealed as this case's evidence.
        let stored = match case {
            Some(case) => match self.cases.vault().key(case).await {
                Ok(key) => {
                    self.cases
                        .attachments()
                        .get_of(case, key.as_ref(), &sha)
                        .await
                }
                Err(e) => Err(e),
            },
            None => self.cases.attachments().get(&sha).await,
        };
        // Uploaded over HTTP, waiting sealed under its own key.
        let stored = match stored {
            Ok(None) => {
                let id = eventlog::Attachments::waiting_key_id(&sha);
                match self.cases.vault().key(id).await {
                    Ok(Some(key)) => self.cases.attachments().get_waiting(&key, &sha).await,
                    other => other.map(|_| None),
                }
            }
            other => other,
        };
        let bytes = match stored {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(None),
            Err(e) => {
                tracing::warn!(error = %e, "the attachment store could not be read");
                return Err(None);
            }
        };
        if bytes.len() as u64 != a.size {
            let n = bytes.len();
            return Err(Some(Failure::Domain(DomainError::Validation(
                domain::text!(
                    "size: the stored bytes are {n} bytes",
                    "size：已存储的文件为 {n} 字节"
                ),
            ))));
        }
        domain::evidence::check_media(Some(&a.content_type), &bytes)
            .map(|_| ())
            .map_err(|why| Some(Failure::UnsupportedMediaType(why)))
    }
}
