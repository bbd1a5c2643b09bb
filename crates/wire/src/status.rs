//! How a case stands, for its petitioner (`GET /v1/status/{case_no}`, no sign-in): no personal
//! data and no ids.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /v1/status/{case_no}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseStatus {
    pub case_no: String,
    pub status: domain::Status,
    /// The status in Chinese, as a petitioner reads it.
    pub status_name: String,
    /// The unit handling the case.
    pub unit_name: String,
    #[schema(value_type = String, format = Date)]
    pub received_date: chrono::NaiveDate,
    /// The deadline of the current stage, if it has one.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<chrono::NaiveDate>,
    pub replied: bool,
    #[schema(value_type = Option<String>, format = Date)]
    pub reply_date: Option<chrono::NaiveDate>,
    /// The reply's text (答复意见), once replied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_text: Option<String>,
    /// The last day a review (复查) or re-review (复核) may be requested.
    #[schema(value_type = Option<String>, format = Date)]
    pub review_request_until: Option<chrono::NaiveDate>,
    /// The steps taken, in order (登记, 受理/不予受理, 交办, 转送, 答复, 回访, 办结, 复查, 复核,
    /// 合并, 撤回): never who took them.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// 合并办理: the case this one was merged into, where the matter is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<MergedStatus>,
}

/// A step of a case as its petitioner reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Step {
    pub step: domain::command::Action,
    /// The step in Chinese.
    pub step_name: String,
    /// The step's business date (policy time zone).
    #[schema(value_type = String, format = Date)]
    pub date: chrono::NaiveDate,
}

/// How the case a case was merged into stands, for the merged case's petitioner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MergedStatus {
    pub case_no: String,
    pub status: domain::Status,
    pub status_name: String,
    pub replied: bool,
    #[schema(value_type = Option<String>, format = Date)]
    pub reply_date: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_text: Option<String>,
}
