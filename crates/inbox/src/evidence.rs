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
        // Waiting under its plain name, sealed as this case's evidence, or uploaded over HTTP
        // and sealed under its own key.
        let stored = self.cases.evidence_to_attach(case, &sha).await;
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
