//! The report figures the statistics page and its CSV show, by their report names, each with
//! its definition (口径) as the API counts it (docs/rules.md, "Counting").

use wire::stats::{Change, Measures, Rate};

/// A count shown: its report name, its value, its definition (口径) and its year-on-year change
/// where the report gives one.
pub struct Count {
    pub label: &'static str,
    pub of: fn(&Measures) -> i64,
    pub what: &'static str,
    pub change: Option<fn(&Change) -> Option<f64>>,
}

const fn count(label: &'static str, of: fn(&Measures) -> i64, what: &'static str) -> Count {
    Count {
        label,
        of,
        what,
        change: None,
    }
}

/// The counts shown, in their order, defined as the API counts them (docs/rules.md,
/// "Counting"). 领导接访 and 重复访 are the API's own figures (a leader's reception is counted
/// whatever channel the petition came by, not from the channel row); the bands are of visits
/// only (issue 34, finding 5).
pub const COUNTS: [Count; 21] = [
    Count {
        change: Some(|c| c.items),
        ..count(
            "件",
            |m| m.counts.items,
            "期内收到的信访事项，每案一件（并案的只计所并入的案件）",
        )
    },
    Count {
        change: Some(|c| c.batches),
        ..count("批次", |m| m.counts.batches, "每案一批次，不论渠道")
    },
    Count {
        change: Some(|c| c.persons),
        ..count(
            "人次",
            |m| m.counts.persons,
            "走访（含领导接访日）按登记人数，其他渠道每案一人次",
        )
    },
    count(
        "个体访批次（走访）",
        |m| m.counts.individual_batches,
        "仅走访：人数少于多人访起点（政策 group_threshold）",
    ),
    count(
        "个体访人次（走访）",
        |m| m.counts.individual_persons,
        "仅走访：个体访的人数合计",
    ),
    count(
        "多人访批次（走访）",
        |m| m.counts.group_batches,
        "仅走访：人数不少于 group_threshold、少于集体访起点",
    ),
    count(
        "多人访人次（走访）",
        |m| m.counts.group_persons,
        "仅走访：多人访的人数合计",
    ),
    count(
        "集体访批次（走访）",
        |m| m.counts.collective_batches,
        "仅走访：人数达到集体访起点（政策 collective_threshold，默认 5 人）",
    ),
    count(
        "集体访人次（走访）",
        |m| m.counts.collective_persons,
        "仅走访：集体访的人数合计",
    ),
    count(
        "重复访批次",
        |m| m.counts.repeat_batches,
        "登记时同一信访人同类事项已有在先案件（或登记时指明关联案件）",
    ),
    count(
        "重复访人次",
        |m| m.counts.repeat_persons,
        "重复访案件的人次合计",
    ),
    count(
        "领导接访批次",
        |m| m.counts.leader_reception_batches,
        "领导接访日收到的案件，不论渠道",
    ),
    count(
        "领导接访人次",
        |m| m.counts.leader_reception_persons,
        "领导接访案件的人次合计",
    ),
    count(
        "越级访批次",
        |m| m.counts.cross_level_batches,
        "事项到达乡镇以上层级，且信访人此前未在乡镇就同一事项信访",
    ),
    count("受理", |m| m.counts.accepted, "已受理的案件"),
    count("答复", |m| m.counts.replied, "已出具答复意见的案件"),
    count(
        "办结",
        |m| m.counts.closed,
        "已办结的案件（含办结后申请复查、终结的）",
    ),
    count(
        "按期办结",
        |m| m.counts.closed_on_time,
        "已办结且在期限内答复的案件",
    ),
    count(
        "逾期未办结",
        |m| m.open_overdue,
        "查询时仍在办且已过期限的案件",
    ),
    count(
        "积案存量",
        |m| m.counts.backlog_open,
        "期末（未结束的期间为现在）仍在办的积案，不论何时收到：收到超过 backlog_days 天（默认 90），或同一信访人同类事项第 backlog_repeats 件起（默认 3）；按月分组时为各月月末",
    ),
    count(
        "积案化解",
        |m| m.counts.backlog_resolved,
        "积案在期内办结或终结（以该步骤的业务日期计），不论何时收到",
    ),
];

pub type RateOf = fn(&Measures) -> Rate;

/// The rates shown, with their report names and definitions.
pub const RATES: [(&str, RateOf, &str); 5] = [
    ("办结率", |m| m.closure_rate, "办结 ÷ 件"),
    ("按期办结率", |m| m.on_time_rate, "按期办结 ÷ 办结"),
    (
        "满意率",
        |m| m.satisfaction_rate,
        "满意与基本满意 ÷ 回访到信访人的次数",
    ),
    ("集体访占比", |m| m.collective_share, "集体访批次 ÷ 批次"),
    (
        "积案化解率",
        |m| m.backlog_resolution_rate,
        "积案化解 ÷ （积案化解 + 积案存量）",
    ),
];
