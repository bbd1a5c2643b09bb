//! 个人信息删除 (erasure of a case's personal data) as the API lists it (`GET /v1/erasures`),
//! and the body and answer of its steps.

use serde::{Deserialize, Serialize};

use domain::erasure::{Erasure, ErasureStatus};

/// The answer to a step of an erasure.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErasureStep {
    #[schema(value_type = String, format = Uuid)]
    pub erasure_id: uuid::Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: uuid::Uuid,
    pub status: ErasureStatus,
    /// The case's version after the step.
    pub version: u64,
    /// The log sequence of the step (`min_seq` for a read that must show it).
    pub seq: u64,
}

/// One erasure with its case, as `GET /v1/erasures` lists them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErasureRecord {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: uuid::Uuid,
    pub case_no: String,
    #[serde(flatten)]
    pub erasure: Erasure,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErasureList {
    pub items: Vec<ErasureRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    pub reason: String,
    /// The petitioner's request (or the order) the erasure answers.
    pub request_ref: String,
}
