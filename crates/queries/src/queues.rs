//! The answer of a work queue query (`GET /v1/queues/{unit}`).

use serde::{Deserialize, Serialize};

use domain::{CaseId, Status, Timestamp};

/// Which items a queue query lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    Open,
    DueSoon,
    Overdue,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    pub case_id: CaseId,
    pub case_no: String,
    pub status: Status,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    /// Whole days until `due_at` (negative when overdue); null without a deadline.
    pub days_left: Option<i64>,
    pub overdue: bool,
    pub due_soon: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueCounts {
    pub open: u64,
    pub due_soon: u64,
    pub overdue: u64,
}

/// `GET /v1/queues/{unit}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Queue {
    pub unit: String,
    pub counts: QueueCounts,
    pub items: Vec<Item>,
}
