//! The answer of a statistics query (`GET /v1/stats`): measures with their arithmetic (rates with
//! numerator and denominator), per period and row; and a case as an analyst exports it.

use std::collections::BTreeMap;

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
    /// Cases the petitioner withdrew (撤回): counted as items, never as closed.
    pub withdrawn: i64,
    /// Visit bands (visits only; policy `group_threshold` and `collective_threshold`): 个人访.
    pub individual_batches: i64,
    pub individual_persons: i64,
    /// 群体访.
    pub group_batches: i64,
    pub group_persons: i64,
    /// Signatories of letters (a joint letter is one letter, one person, with its signatures).
    pub signatures: i64,
    /// 领导接访.
    pub leader_reception_batches: i64,
    pub leader_reception_persons: i64,
    pub repeat_persons: i64,
    /// Terminated after re-review (终结).
    pub terminated: i64,
    /// Replied by the reply deadline in force at the time.
    pub replied_on_time: i64,
    /// 签收: cases every accountability of which was acknowledged.
    #[serde(default)]
    pub acknowledged: i64,
    /// 签收: cases every accountability of which was acknowledged within its limit.
    #[serde(default)]
    pub acknowledged_on_time: i64,
    /// 签收: cases with an accountability judged: acknowledged, or unacknowledged past its limit
    /// (the denominator of `acknowledge_on_time_rate`).
    #[serde(default)]
    pub acknowledge_judged: i64,
    /// 催办: cases the county reminded.
    #[serde(default)]
    pub reminded: i64,
    /// 重办: cases reopened after a dissatisfied follow-up.
    #[serde(default)]
    pub reopened: i64,
    /// 重办: reopened cases whose reply after the reopening came by its deadline.
    #[serde(default)]
    pub rehandled_on_time: i64,
    /// 补录: steps entered late.
    #[serde(default)]
    pub late_entries: i64,
    /// 补录: steps on time by their business date, recorded after their deadline.
    #[serde(default)]
    pub on_time_by_late_entry: i64,
    /// 积案: cases open and backlog at the end of the period (or now, if it has not ended),
    /// whenever received; a month's row at the month's end.
    #[serde(default)]
    pub backlog_open: i64,
    /// 积案: backlog cases that reached `closed` or `terminated` with that step's business date
    /// in the period (a month's row: in the month), whenever received.
    #[serde(default)]
    pub backlog_resolved: i64,
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
        $a.individual_batches $op $b.individual_batches; $a.individual_persons $op $b.individual_persons;
        $a.group_batches $op $b.group_batches; $a.group_persons $op $b.group_persons;
        $a.signatures $op $b.signatures;
        $a.leader_reception_batches $op $b.leader_reception_batches;
        $a.leader_reception_persons $op $b.leader_reception_persons;
        $a.repeat_persons $op $b.repeat_persons; $a.terminated $op $b.terminated;
        $a.replied_on_time $op $b.replied_on_time;
        $a.acknowledged $op $b.acknowledged; $a.acknowledged_on_time $op $b.acknowledged_on_time;
        $a.acknowledge_judged $op $b.acknowledge_judged; $a.reminded $op $b.reminded;
        $a.reopened $op $b.reopened; $a.rehandled_on_time $op $b.rehandled_on_time;
        $a.late_entries $op $b.late_entries; $a.on_time_by_late_entry $op $b.on_time_by_late_entry;
        $a.backlog_open $op $b.backlog_open; $a.backlog_resolved $op $b.backlog_resolved;
    };
}

impl Counts {
    /// Every count by its name, as the API shows it.
    pub fn named(&self) -> Vec<(&'static str, i64)> {
        let v = serde_json::to_value(self).unwrap_or_default();
        domain::measures::COUNTS
            .iter()
            .map(|n| {
                (
                    *n,
                    v.get(*n).and_then(serde_json::Value::as_i64).unwrap_or(0),
                )
            })
            .collect()
    }

    /// This case's contribution to `measure` alone (nothing for a name that is no count).
    pub fn only(&self, measure: &str) -> Counts {
        let fields: serde_json::Map<String, serde_json::Value> = self
            .named()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), (if n == measure { v } else { 0 }).into()))
            .collect();
        serde_json::from_value(fields.into()).unwrap_or_default()
    }

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
    /// Replies by their deadline over replies.
    pub reply_on_time_rate: Rate,
    /// 及时签收率: cases every accountability of which was acknowledged in time, over cases
    /// with an accountability judged.
    pub acknowledge_on_time_rate: Rate,
    /// 积案化解率: backlog cases resolved in the period over those and the ones open at its end.
    pub backlog_resolution_rate: Rate,
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
            reply_on_time_rate: Rate::new(c.replied_on_time, c.replied),
            acknowledge_on_time_rate: Rate::new(c.acknowledged_on_time, c.acknowledge_judged),
            backlog_resolution_rate: Rate::new(
                c.backlog_resolved,
                c.backlog_resolved + c.backlog_open,
            ),
        }
    }

    /// Every rate by its name.
    pub fn rates(&self) -> [(&'static str, Rate); 7] {
        [
            ("closure_rate", self.closure_rate),
            ("on_time_rate", self.on_time_rate),
            ("satisfaction_rate", self.satisfaction_rate),
            ("collective_share", self.collective_share),
            ("reply_on_time_rate", self.reply_on_time_rate),
            ("acknowledge_on_time_rate", self.acknowledge_on_time_rate),
            ("backlog_resolution_rate", self.backlog_resolution_rate),
        ]
    }
}

/// A dimension a report is cut by (`group_by`, up to two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Channel,
    Township,
    Level,
    Category,
    Month,
    /// The accountable unit: at the reply, or now when not replied yet.
    Unit,
    /// A visit's band: individual, group, collective; `-` for other channels.
    Band,
    /// `true` for cases received on a leader reception day.
    LeaderReception,
}

impl GroupBy {
    pub const ALL: [GroupBy; 8] = [
        GroupBy::Channel,
        GroupBy::Township,
        GroupBy::Level,
        GroupBy::Category,
        GroupBy::Month,
        GroupBy::Unit,
        GroupBy::Band,
        GroupBy::LeaderReception,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Channel => "channel",
            GroupBy::Township => "township",
            GroupBy::Level => "level",
            GroupBy::Category => "category",
            GroupBy::Month => "month",
            GroupBy::Unit => "unit",
            GroupBy::Band => "band",
            GroupBy::LeaderReception => "leader_reception",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Row {
    /// The row's values joined by `|`, in the order of `group_by`.
    pub key: String,
    /// The row's value of each dimension.
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    #[serde(flatten)]
    pub measures: Measures,
    /// With `compare=yoy`: the relative change of each count against the same row a year
    /// earlier (null when that was 0), and of each rate the difference in percentage points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<BTreeMap<String, Option<f64>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Period {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub total: Measures,
    pub rows: Vec<Row>,
    /// With `adjusted=true`: the figures before the adjustments (`total` and `rows` are after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_total: Option<Measures>,
    /// With `adjusted=true`: the approved adjustments applied to this period's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustments: Option<Vec<crate::adjustments::AdjustmentRecord>>,
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
    /// With `compare=yoy`: the same days a year earlier, its rows those of the current period
    /// a year earlier (a month's row is the same month of the year before: `2025-07` beside
    /// `2026-07`), zero where nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// One case as an analyst exports it: every dimension and milestone, no personal data and no
/// summary (it may name people).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportRow {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: uuid::Uuid,
    pub case_no: String,
    pub received_date: NaiveDate,
    pub township: String,
    /// The accountable unit: at the reply, or now.
    pub unit: String,
    pub channel: String,
    pub level_reached: String,
    pub category: String,
    pub headcount: u32,
    /// A visit's band; empty for other channels.
    pub band: String,
    pub leader_reception: bool,
    pub collective: bool,
    pub cross_level: bool,
    pub repeat: bool,
    pub first_petition: bool,
    pub status: String,
    pub stage: String,
    pub accepted_date: Option<NaiveDate>,
    pub replied_date: Option<NaiveDate>,
    pub reply_on_time: Option<bool>,
    pub satisfaction: Option<String>,
    pub bounces: u32,
    pub supervisions: u32,
    pub review_level: u8,
    pub merged: bool,
    pub withdrawn: bool,
}

#[cfg(test)]
mod tests {
    use super::{Counts, Measures};
    use domain::measures::{COUNTS, OPEN_OVERDUE, RATES};

    /// The one list of measure names is the figures a report carries, in their order: a field
    /// added to `Counts` or `Measures` without its name, or a name without its field, fails here.
    #[test]
    fn the_measure_names_are_the_figures_of_a_report() {
        let fields = |v: serde_json::Value| -> Vec<String> {
            v.as_object().expect("object").keys().cloned().collect()
        };
        let counts = fields(serde_json::to_value(Counts::default()).expect("json"));
        let mut sorted: Vec<&str> = COUNTS.to_vec();
        sorted.sort_unstable();
        assert_eq!(counts, sorted, "the counts");
        let named: Vec<&str> = Counts::default().named().iter().map(|(n, _)| *n).collect();
        assert_eq!(named, COUNTS);
        let measures = Measures::new(Counts::default(), 0);
        let rates: Vec<&str> = measures.rates().iter().map(|(n, _)| *n).collect();
        assert_eq!(rates, RATES);
        let mut all: Vec<&str> = COUNTS.iter().chain(&RATES).copied().collect();
        all.push(OPEN_OVERDUE);
        all.sort_unstable();
        assert_eq!(fields(serde_json::to_value(measures).expect("json")), all);
    }
}
