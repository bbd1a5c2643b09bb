//! The names of `<Measures>`, the figures of a report, in one list each: what statistics count
//! and show (`queries::stats`), what a scorecard may weigh, what an adjustment (核减) may take a
//! case out of.

/// Every count of `<Measures>`, in the order reports show them.
pub const COUNTS: [&str; 37] = [
    "items",
    "batches",
    "persons",
    "collective_batches",
    "collective_persons",
    "cross_level_batches",
    "repeat_batches",
    "accepted",
    "rejected",
    "replied",
    "closed",
    "closed_on_time",
    "follow_ups",
    "satisfied",
    "merged",
    "bounced",
    "withdrawn",
    "individual_batches",
    "individual_persons",
    "group_batches",
    "group_persons",
    "signatures",
    "leader_reception_batches",
    "leader_reception_persons",
    "repeat_persons",
    "terminated",
    "replied_on_time",
    "acknowledged",
    "acknowledged_on_time",
    "acknowledge_judged",
    "reminded",
    "reopened",
    "rehandled_on_time",
    "late_entries",
    "on_time_by_late_entry",
    "backlog_open",
    "backlog_resolved",
];

/// 积案: the counts of the backlog, which are not counts of a period's registrations (open at
/// the period's end, resolved within it, whenever received): no adjustment takes a case out of
/// them.
pub const BACKLOG: [&str; 2] = ["backlog_open", "backlog_resolved"];

/// Every rate of `<Measures>`: each a count over another.
pub const RATES: [&str; 7] = [
    "closure_rate",
    "on_time_rate",
    "satisfaction_rate",
    "collective_share",
    "reply_on_time_rate",
    "acknowledge_on_time_rate",
    "backlog_resolution_rate",
];

/// Open cases past their deadline: a figure of `<Measures>` that is neither a count of
/// registrations nor a rate.
pub const OPEN_OVERDUE: &str = "open_overdue";

/// The Chinese name of a figure of `<Measures>` (a count, a rate or `open_overdue`), as a county
/// report words it; `None` for a word that is none.
pub fn name_zh(measure: &str) -> Option<&'static str> {
    Some(match measure {
        "items" => "件",
        "batches" => "批次",
        "persons" => "人次",
        "collective_batches" => "集体访批次",
        "collective_persons" => "集体访人次",
        "cross_level_batches" => "越级访批次",
        "repeat_batches" => "重复访批次",
        "accepted" => "受理",
        "rejected" => "不予受理",
        "replied" => "答复",
        "closed" => "办结",
        "closed_on_time" => "按期办结",
        "follow_ups" => "回访",
        "satisfied" => "满意",
        "merged" => "合并办理",
        "bounced" => "推诿",
        "withdrawn" => "撤回",
        "individual_batches" => "个体访批次",
        "individual_persons" => "个体访人次",
        "group_batches" => "多人访批次",
        "group_persons" => "多人访人次",
        "signatures" => "联名人数",
        "leader_reception_batches" => "领导接访批次",
        "leader_reception_persons" => "领导接访人次",
        "repeat_persons" => "重复访人次",
        "terminated" => "终结",
        "replied_on_time" => "按期答复",
        "acknowledged" => "签收",
        "acknowledged_on_time" => "及时签收",
        "acknowledge_judged" => "应签收",
        "reminded" => "催办",
        "reopened" => "重办",
        "rehandled_on_time" => "重办按期答复",
        "late_entries" => "补录",
        "on_time_by_late_entry" => "补录后按期",
        "backlog_open" => "积案存量",
        "backlog_resolved" => "积案化解",
        "backlog_resolution_rate" => "积案化解率",
        "closure_rate" => "办结率",
        "on_time_rate" => "按期办结率",
        "satisfaction_rate" => "满意率",
        "collective_share" => "集体访占比",
        "reply_on_time_rate" => "按期答复率",
        "acknowledge_on_time_rate" => "及时签收率",
        OPEN_OVERDUE => "逾期未办结",
        _ => return None,
    })
}

/// Whether an adjustment (核减) may name `measure`: every count of registrations and
/// `open_overdue` (not the backlog's counts).
pub fn adjustable(measure: &str) -> bool {
    measure == OPEN_OVERDUE || (COUNTS.contains(&measure) && !BACKLOG.contains(&measure))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_figure_has_a_chinese_name_of_its_own() {
        let all: Vec<&str> = super::COUNTS
            .iter()
            .chain(super::RATES.iter())
            .chain([&super::OPEN_OVERDUE])
            .copied()
            .collect();
        let mut names: Vec<&str> = all
            .iter()
            .map(|m| super::name_zh(m).unwrap_or_else(|| panic!("{m} has no name")))
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "two figures share a name");
        assert_eq!(super::name_zh("nope"), None);
    }
}
