//! 考核 scorecards as the API answers them (`GET /v1/scorecards`): each unit's indicators with
//! their arithmetic, points, total and rank, and the indicators of the rules in force.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Whether a higher or a lower value of an indicator scores better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// The name of a rate of `<Measures>` (`closure_rate`, `on_time_rate`, …).
    pub name: String,
    /// Points for a perfect value; more than 0.
    pub weight: f64,
    pub better: Better,
}

/// One indicator of a unit: the rate with its arithmetic and the points it earns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndicatorScore {
    pub name: String,
    pub num: i64,
    pub den: i64,
    /// `num / den`; null when `den` is 0 (nothing to measure).
    pub value: Option<f64>,
    pub weight: f64,
    pub better: Better,
    /// `weight × value` (`weight × (1 − value)` when lower is better), to 2 decimals; null when
    /// not measured.
    pub points: Option<f64>,
}

/// A unit's scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitScore {
    pub unit: String,
    pub unit_name: String,
    /// `township` or `department`.
    pub kind: String,
    pub indicators: Vec<IndicatorScore>,
    /// The points of the measured indicators scaled to all the weights
    /// (`Σ points × Σ weights / Σ measured weights`), to 2 decimals; null when nothing was
    /// measured.
    pub total: Option<f64>,
    /// 1 for the highest total, equal totals sharing a rank (1, 2, 2, 4); null without a total.
    pub rank: Option<u32>,
}

/// `GET /v1/scorecards`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scorecards {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The rules version in force at `from`, and since when.
    pub rules_version: String,
    #[schema(value_type = String, format = Date)]
    pub effective_from: NaiveDate,
    /// The indicators of that version.
    pub rules: Vec<Indicator>,
    /// Whether the figures are the adjusted ones (核减 applied).
    pub adjusted: bool,
    /// The most a unit can score (the sum of the weights).
    pub max_points: f64,
    /// By rank, then unit code; units without a total last.
    pub units: Vec<UnitScore>,
}
