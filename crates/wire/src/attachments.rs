//! Evidence (证据材料) as the API answers its upload: stored content-addressed, then attached.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::CaseId;

/// What an upload answers (201), and a case lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Uploaded {
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub attachment_id: uuid::Uuid,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub filename: String,
    pub version: u64,
    pub seq: u64,
}

/// What `POST /v1/attachments` answers (201): the bytes are stored, not yet attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}
