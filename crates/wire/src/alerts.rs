//! 苗头预警 (issue 35): the alerts of a period (`GET /v1/alerts`) and the review of one
//! (`POST /v1/alerts/{id}/review`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::alerts::AlertKind;
use domain::{Category, Timestamp, UnitCode};

/// `GET /v1/alerts`: the alerts that held on any day of the period, newest `first_at` first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertList {
    /// The log position this answer reflects.
    pub applied_seq: Option<u64>,
    pub items: Vec<Alert>,
}

/// One spell of a condition on a (kind, township, category): computed from the log, never typed
/// in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    /// A UUID v5 of the kind, township, category and the spell's first day; it stays for the
    /// spell (a late entry joins it, never re-keys it).
    #[schema(value_type = String, format = Uuid)]
    pub alert_id: uuid::Uuid,
    pub kind: AlertKind,
    pub township: UnitCode,
    pub township_name: String,
    pub category: Category,
    /// The cases the alert names (those the caller may read).
    pub count: u32,
    /// `surge`: the cases a window usually has, B × w / b, on the spell's first day (null for
    /// the other kinds).
    pub baseline: Option<f64>,
    /// The days the first and last of the cases named were received (policy time zone).
    pub window: AlertWindow,
    /// When the case that started the spell was received.
    #[schema(value_type = String, format = DateTime)]
    pub first_at: Timestamp,
    /// The cases named, in the order received.
    pub case_nos: Vec<String>,
    /// The bureau's latest 研判 of the alert; null until reviewed.
    pub reviewed: Option<AlertReview>,
}

/// The days of the cases an alert names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertWindow {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
}

/// 研判: the county's assessment of an alert and its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertReview {
    pub assessment: String,
    pub plan: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The principal who reviewed it.
    pub by: String,
}

/// `POST /v1/alerts/{id}/review`: 研判, the county's assessment of an alert and its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    pub assessment: String,
    pub plan: String,
}

/// The answer to a review: where it is in the log, and the alert with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewAnswer {
    #[schema(value_type = String, format = Uuid)]
    pub alert_id: uuid::Uuid,
    /// The review's position in the log (`min_seq` for a read that shows it).
    pub seq: u64,
    /// The alert now, with this review (null only when its spell is no longer keyed by this id:
    /// a correction took its cases away).
    pub alert: Option<Alert>,
}
