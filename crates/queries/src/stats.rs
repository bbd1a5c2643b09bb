//! The answer of a statistics query (`GET /v1/stats`): measures with their arithmetic (rates with
//! numerator and denominator), per period and row, and the query itself.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Counters that a case contributes to its bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    pub items: i64,
    pub batches: i64,
    pub persons: i64,
    pub collective_batches: i64,
    pub collective_persons: i64,
    pub cross_level_batches: i64,
    pub repeat_batches: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub replied: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub follow_ups: i64,
    pub satisfied: i64,
    /// Cases merged into another case of the same matter (一信多投): counted here only, the
    /// matter itself as the case it was merged into.
    pub merged: i64,
    /// Cases flagged for bouncing between units (推诿, `bounce_threshold` transfers after the
    /// first).
    pub bounced: i64,
    /// Cases the petitioner withdrew (撤回): done, and counted as every case is.
    pub withdrawn: i64,
}

macro_rules! each_field {
    ($a:ident, $b:ident, $op:tt) => {
        $a.items $op $b.items; $a.batches $op $b.batches; $a.persons $op $b.persons;
        $a.collective_batches $op $b.collective_batches; $a.collective_persons $op $b.collective_persons;
        $a.cross_level_batches $op $b.cross_level_batches; $a.repeat_batches $op $b.repeat_batches;
        $a.accepted $op $b.accepted; $a.rejected $op $b.rejected; $a.replied $op $b.replied;
        $a.closed $op $b.closed; $a.closed_on_time $op $b.closed_on_time;
        $a.follow_ups $op $b.follow_ups; $a.satisfied $op $b.satisfied;
        $a.merged $op $b.merged; $a.bounced $op $b.bounced; $a.withdrawn $op $b.withdrawn;
    };
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        each_field!(self, o, +=);
    }
    pub fn sub(&mut self, o: &Counts) {
        each_field!(self, o, -=);
    }
}

/// A rate with its numerator and denominator; `value` is null when the denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rate {
    pub num: i64,
    pub den: i64,
    pub value: Option<f64>,
}

impl Rate {
    pub fn new(num: i64, den: i64) -> Rate {
        Rate {
            num,
            den,
            value: (den != 0).then(|| num as f64 / den as f64),
        }
    }
}

/// `<Measures>` of the contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Measures {
    #[serde(flatten)]
    pub counts: Counts,
    pub open_overdue: i64,
    pub closure_rate: Rate,
    pub on_time_rate: Rate,
    pub satisfaction_rate: Rate,
    pub collective_share: Rate,
}

impl Measures {
    pub fn new(counts: Counts, open_overdue: i64) -> Measures {
        let c = counts;
        Measures {
            counts,
            open_overdue,
            closure_rate: Rate::new(c.closed, c.items),
            on_time_rate: Rate::new(c.closed_on_time, c.closed),
            satisfaction_rate: Rate::new(c.satisfied, c.follow_ups),
            collective_share: Rate::new(c.collective_batches, c.batches),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Channel,
    Township,
    Level,
    Category,
    Month,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Row {
    pub key: String,
    #[serde(flatten)]
    pub measures: Measures,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Period {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub total: Measures,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    pub items: Option<f64>,
    pub batches: Option<f64>,
    pub persons: Option<f64>,
}

/// `GET /v1/stats`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    #[serde(flatten)]
    pub current: Period,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// A statistics query (`GET /v1/stats` after authorization).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub township: Option<String>,
    pub group_by: Option<GroupBy>,
    #[serde(default)]
    pub yoy: bool,
    /// Leave out the accusations against this unit (the reader acts for it: 条例 30).
    #[serde(default)]
    pub hide_accused: Option<String>,
}
