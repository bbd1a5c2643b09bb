//! A case's timeline: each event's data in a line, by Chinese names.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::names::{time, zh};

pub struct Event {
    pub seq: String,
    pub kind: String,
    pub occurred: String,
    pub recorded: String,
    pub late: bool,
    pub actor: String,
    pub details: String,
}

/// What an event's data says, in a line: the fields a reader needs, by their Chinese names
/// (personal data only as the API shows it; hashes and signatures are for `verify`).
pub fn details(data: &Value, units: &BTreeMap<String, String>, tz: chrono_tz::Tz) -> String {
    let Some(data) = data.as_object() else {
        return String::new();
    };
    let unit = |k: &str| units.get(k).cloned().unwrap_or_else(|| k.to_owned());
    let show = |k: &str, val: &Value| -> Option<String> {
        Some(match (k, val) {
            ("unit" | "from_unit" | "accused_unit" | "township", Value::String(u)) => unit(u),
            ("on_time" | "leader_reception", Value::Bool(b)) => {
                if *b { "是" } else { "否" }.to_owned()
            }
            (_, Value::String(w)) if w.len() >= 20 && w.as_bytes().get(10) == Some(&b'T') => {
                time(tz, w)
            }
            (_, Value::String(w)) => zh(w),
            (_, Value::Number(n)) => n.to_string(),
            // Petitioners as the API shows them to this reader: their names.
            ("petitioners", Value::Array(ps)) => ps
                .iter()
                .filter_map(|p| p.get("name").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("、"),
            _ => return None,
        })
    };
    let mut parts = Vec::new();
    for (k, val) in data {
        let Some(name) = label(k) else { continue };
        if let Some(shown) = show(k, val).filter(|s| !s.is_empty()) {
            parts.push(format!("{name}：{shown}"));
        }
    }
    // A correction: each fact it changed, old → new (issue 34, finding 3).
    if let (Some(Value::Object(before)), Some(Value::Object(after))) =
        (data.get("before"), data.get("after"))
    {
        for (k, new) in after.iter().filter(|(_, v)| !v.is_null()) {
            let Some(name) = fact(k) else { continue };
            let old = before.get(k).and_then(|v| show(k, v)).unwrap_or_default();
            let new = show(k, new).unwrap_or_default();
            parts.push(format!("{name}：{old} → {new}"));
        }
    }
    parts.join("；")
}

/// The facts a correction may change, by their names on the registration form.
fn fact(k: &str) -> Option<&'static str> {
    Some(match k {
        "township" => "登记乡镇",
        "channel" => "渠道",
        "received_at" => "收到时间",
        "headcount" => "人数",
        "level_reached" => "已到达层级",
        "category" => "类别",
        "summary" => "摘要",
        "petitioners" => "信访人",
        "leader_reception" => "领导接访",
        _ => return None,
    })
}

fn label(k: &str) -> Option<&'static str> {
    Some(match k {
        "unit" => "单位",
        "from_unit" => "原单位",
        "accused_unit" => "被检举控告单位",
        "reason" => "理由",
        "reason_code" => "理由类别",
        "note" => "意见",
        "outcome" => "意见",
        "text" => "内容",
        "new_facts" => "新的事实和理由",
        "satisfaction" => "回访结果",
        "accept_due_at" => "受理期限",
        "reply_due_at" => "答复期限",
        "due_at" => "期限",
        "decision_due_at" => "决定期限",
        "review_request_until" => "可申请复查至",
        "rereview_request_until" => "可申请复核至",
        "days" => "天数",
        "approved_by" => "批准人",
        "channel" => "渠道",
        "category" => "类别",
        "headcount" => "人数",
        "summary" => "摘要",
        "name" => "姓名",
        "title" => "职务",
        "filename" => "文件",
        "on_time" => "按期",
        "into_case_no" => "并入案件",
        "measure" => "指标",
        "document_no" => "文号",
        "acknowledge_due_at" => "签收期限",
        "seq" => "查询码序号",
        "kind" => "文书",
        "step_seq" => "环节序号",
        _ => return None,
    })
}
