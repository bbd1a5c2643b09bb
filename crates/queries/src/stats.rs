//! A statistics query (`GET /v1/stats` after authorization) and a page of an export; their
//! answers are `wire::stats`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use wire::stats::GroupBy;

/// The filters of a report: a case counts when, for every dimension given, its value is one of
/// those given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    pub channel: Vec<String>,
    pub level: Vec<String>,
    pub category: Vec<String>,
    pub township: Vec<String>,
    pub unit: Vec<String>,
    pub band: Vec<String>,
}

/// A statistics query (`GET /v1/stats` after authorization).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Up to two dimensions.
    #[serde(default)]
    pub group_by: Vec<GroupBy>,
    #[serde(default)]
    pub filters: Filters,
    #[serde(default)]
    pub yoy: bool,
    /// 核减: apply the approved adjustments (the raw figures beside them).
    #[serde(default)]
    pub adjusted: bool,
    /// Leave out the accusations against this unit (the reader acts for it: 条例 30).
    #[serde(default)]
    pub hide_accused: Option<String>,
}

/// A page of the cases of a period for export (`GET /v1/export/cases`), in the order received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Leave out the accusations against this unit.
    #[serde(default)]
    pub hide_accused: Option<String>,
    /// Where the previous page ended (the model's key), if any.
    #[serde(default)]
    pub after: Option<String>,
    pub limit: usize,
}

/// A page of an export and where the next one starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportPage {
    pub rows: Vec<wire::stats::ExportRow>,
    pub next: Option<String>,
}
