//! What the console shows instead of the API's codes: the vocabulary in Chinese, times in the
//! policy time zone.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

/// A word of the API's vocabulary in Chinese (statuses, channels, categories, levels, stages,
/// outcomes, satisfaction, reasons, roles, flags, bands); an unknown word is shown as it is.
pub fn zh(word: &str) -> String {
    if let Some(name) = in_domain(word) {
        return name.to_owned();
    }
    let name = match word {
        "letter" => "来信",
        "visit" => "来访",
        "phone" => "电话",
        "online" => "网上信访",
        "hotline_12345" => "12345 热线",
        "mailbox" => "领导信箱",
        "leader_reception" => "领导接访",
        "village" => "村级",
        "township" => "乡镇级",
        "county" => "县级",
        "city" => "市级",
        "province" => "省级",
        "national" => "国家级",
        "acceptance" => "待受理",
        "handling" => "办理中",
        "awaiting_close" => "待办结",
        "review" => "复查复核",
        "done" => "已完结",
        "satisfied" => "满意",
        "basically_satisfied" => "基本满意",
        "dissatisfied" => "不满意",
        "unreachable" => "联系不上",
        "clerk" => "乡镇登记员",
        "handler" => "承办人员",
        "analyst" => "统计分析人员",
        "auditor" => "纪检审计人员",
        "system" => "乡镇系统",
        "collective" => "集体访",
        "cross_level" => "越级访",
        "repeat" => "重复访",
        "duplicate" => "一信多投",
        "bounced" => "推诿",
        "supervised" => "督办",
        "first_petition" => "初信初访",
        "leader" => "领导包案",
        "unacknowledged" => "超时未签收",
        "escalated" => "超期升级",
        "late_entry" => "补录",
        "backlog" => "积案",
        "individual" => "个体",
        "group" => "多人",
        "open" => "在办",
        "due_soon" => "即将到期",
        "overdue" => "已逾期",
        "pending" => "待批准",
        "approved" => "已批准",
        "revoked" => "已撤销",
        "erased" => "已删除",
        _ => return word.to_owned(),
    };
    name.to_owned()
}

/// A problem's detail without the API field it starts with (`from：开始日期…晚于…` → `开始日期…晚于…`):
/// a page names its own inputs, not the API's parameters.
pub fn without_field(detail: &str) -> &str {
    let Some((head, rest)) = detail.split_once(['：', ':']) else {
        return detail;
    };
    let field = !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'));
    if field {
        rest.trim_start()
    } else {
        detail
    }
}

/// A figure of a report (`items`, `reply_on_time_rate`, …) by its Chinese name; an unknown one as
/// it is.
pub fn measure(word: &str) -> String {
    domain::measures::name_zh(word).map_or_else(|| word.to_owned(), str::to_owned)
}

/// The figures a 核减 may name, by their report names (`domain::measures::adjustable`).
pub fn adjustable_measures() -> Vec<(String, String)> {
    domain::measures::COUNTS
        .iter()
        .copied()
        .chain([domain::measures::OPEN_OVERDUE])
        .filter(|m| domain::measures::adjustable(m))
        .map(|m| (m.to_owned(), measure(m)))
        .collect()
}

/// The Chinese name `domain` gives a word of its vocabulary: statuses, actions, categories,
/// outcomes, reasons for not accepting, documents (one table each, where the documents use them
/// too).
fn in_domain(word: &str) -> Option<&'static str> {
    use domain::{Category, Outcome, RejectReason, Status};
    fn find<T: Copy>(all: &[T], word: &str, code: fn(T) -> &'static str) -> Option<T> {
        all.iter().copied().find(|x| code(*x) == word)
    }
    find(Status::ALL, word, Status::as_str)
        .map(Status::name_zh)
        .or_else(|| domain::command::Action::parse(word).map(|a| a.name_zh()))
        .or_else(|| domain::DocumentKind::parse(word).map(|k| k.name_zh()))
        .or_else(|| find(Category::ALL, word, Category::as_str).map(Category::name_zh))
        .or_else(|| find(Outcome::ALL, word, Outcome::as_str).map(Outcome::name_zh))
        .or_else(|| find(RejectReason::ALL, word, RejectReason::as_str).map(RejectReason::name_zh))
}

/// A role's name in the header.
pub fn role(word: &str) -> String {
    if word == "county" {
        "县局工作人员".to_owned()
    } else {
        zh(word)
    }
}

/// An event type of the log in Chinese.
pub fn event(kind: &str) -> String {
    let name = match kind {
        "CaseRegistered" => "登记",
        "CaseAcknowledged" => "签收",
        "CaseReminded" => "催办",
        "CaseReopened" => "重办",
        "QueryCodeReissued" => "重发查询码",
        "DocumentIssued" => "出具文书",
        "CaseAccepted" => "受理",
        "CaseRejected" => "不予受理",
        "CaseAssigned" => "交办",
        "CaseTransferred" => "转送",
        "CaseSupervised" => "督办",
        "DeadlineExtended" => "延期",
        "CaseReplied" => "答复",
        "FollowUpRecorded" => "回访",
        "CaseClosed" => "办结",
        "ReviewRequested" => "申请复查/复核",
        "ReviewDecided" => "复查/复核意见",
        "CaseMerged" => "合并办理",
        "LeaderAssigned" => "确定包案领导",
        "ResolutionPlanned" => "制定化解方案（一案一策）",
        "AlertReviewed" => "研判预警",
        "RegistrationCorrected" => "更正登记信息",
        "CaseWithdrawn" => "撤回",
        "AttachmentAdded" => "添加证据材料",
        "AdjustmentRequested" => "申请核减",
        "AdjustmentApproved" => "批准核减",
        "AdjustmentRevoked" => "撤销核减",
        "PersonalDataErasureRequested" => "申请删除个人信息",
        "PersonalDataErased" => "删除个人信息",
        other => return other.to_owned(),
    };
    name.to_owned()
}

/// A timestamp of the API (RFC 3339) as a date and minute in the policy time zone.
pub fn time(tz: Tz, rfc3339: &str) -> String {
    match DateTime::<FixedOffset>::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// The date of a timestamp in the policy time zone.
pub fn date(tz: Tz, rfc3339: &str) -> String {
    match DateTime::<FixedOffset>::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.with_timezone(&tz).format("%Y-%m-%d").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// A JSON value as text (strings without quotes, null empty).
pub fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A rate as "62.5%（5/8）".
pub fn rate(r: wire::stats::Rate) -> String {
    let (num, den) = (r.num, r.den);
    match r.value {
        Some(x) => format!("{:.1}%（{num}/{den}）", x * 100.0),
        None => format!("—（{num}/{den}）"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_policy_zone() {
        let tz: Tz = "Asia/Shanghai".parse().expect("tz");
        assert_eq!(time(tz, "2026-03-02T01:30:00Z"), "2026-03-02 09:30");
        assert_eq!(date(tz, "2026-03-01T20:00:00+00:00"), "2026-03-02");
        assert_eq!(zh("registered"), "已登记");
        assert_eq!(zh("hotline_12345"), "12345 热线");
        assert_eq!(zh("follow-up"), "回访");
        // The words `domain` names, as the documents name them.
        assert_eq!(zh("land"), "土地");
        assert_eq!(zh("not_supported"), "不支持");
        assert_eq!(zh("out_of_scope"), "不属于信访事项");
        assert_eq!(zh("acceptance_notice"), "受理告知书");
        assert_eq!(zh("escalated"), "超期升级");
        assert_eq!(rate(wire::stats::Rate::new(5, 8)), "62.5%（5/8）");
    }
}
