//! The form of each step a case page offers: the fields of its body (docs/contract.md,
//! Commands), with the vocabulary in Chinese and units by name.

use crate::names::zh;

pub struct Field {
    pub name: String,
    pub label: String,
    /// `text`, `textarea`, `date`, `number`, `select`.
    pub kind: String,
    pub required: bool,
    pub options: Vec<(String, String)>,
}

pub struct ActionForm {
    pub action: String,
    pub label: String,
    pub fields: Vec<Field>,
}

fn field(name: &str, label: &str, kind: &str, required: bool) -> Field {
    Field {
        name: name.into(),
        label: label.into(),
        kind: kind.into(),
        required,
        options: Vec::new(),
    }
}

fn select(name: &str, label: &str, options: Vec<(String, String)>) -> Field {
    Field {
        options,
        ..field(name, label, "select", true)
    }
}

fn vocab(words: &[&str]) -> Vec<(String, String)> {
    words.iter().map(|w| ((*w).to_owned(), zh(w))).collect()
}

const OUTCOMES: [&str; 3] = ["supported", "explained", "not_supported"];

/// The form of one step: the fields its body has (docs/contract.md, "HTTP").
pub fn form_of(action: &str, units: &[(String, String)]) -> ActionForm {
    let reason = || field("reason", "理由", "textarea", true);
    let fields = match action {
        "accept" => vec![field(
            "new_facts",
            "新的事实和理由（同一事项已终结时必填）",
            "textarea",
            false,
        )],
        "reject" => vec![
            select(
                "reason_code",
                "不予受理理由",
                vocab(&[
                    "litigation",
                    "in_progress_elsewhere",
                    "terminated_same_matter",
                    "out_of_scope",
                    "other",
                ]),
            ),
            reason(),
        ],
        "assign" => vec![
            select("unit", "交办单位", units.to_vec()),
            field("due_date", "办理期限（受理后可指定）", "date", false),
            field("note", "交办意见", "textarea", false),
        ],
        "transfer" => vec![select("unit", "转送单位", units.to_vec()), reason()],
        "supervise" => vec![
            field("note", "督办意见", "textarea", true),
            field("due_date", "承诺办结日期", "date", false),
        ],
        "extend" => vec![
            field("days", "延期天数", "number", true),
            reason(),
            field("approved_by", "批准人", "text", true),
        ],
        "reply" | "decide-review" | "decide-rereview" => vec![
            select("outcome", "意见", vocab(&OUTCOMES)),
            field("text", "答复内容", "textarea", true),
        ],
        "follow-up" => vec![
            select(
                "satisfaction",
                "回访结果",
                vocab(&[
                    "satisfied",
                    "basically_satisfied",
                    "dissatisfied",
                    "unreachable",
                ]),
            ),
            field("note", "备注", "textarea", false),
        ],
        "close" => vec![field(
            "note",
            "办结说明（回访不满意且未再答复时必填）",
            "textarea",
            false,
        )],
        "acknowledge" => Vec::new(),
        "remind" => vec![field("note", "催办意见", "textarea", true)],
        "reopen" => {
            let mut choices = vec![(String::new(), "（原答复单位）".to_owned())];
            choices.extend(units.iter().cloned());
            vec![
                field("reason", "重办理由", "textarea", true),
                Field {
                    required: false,
                    ..select("unit", "重办单位", choices)
                },
                field("due_date", "重办期限（留空按政策天数）", "date", false),
            ]
        }
        // A new code has no business time: nothing to fill in.
        "reissue-query-code" => {
            return ActionForm {
                action: action.to_owned(),
                label: zh(action),
                fields: Vec::new(),
            }
        }
        "assign-leader" => vec![
            field("name", "包案领导姓名", "text", true),
            field("title", "职务", "text", true),
        ],
        "merge" => vec![
            field("into_case_no", "并入案件编号", "text", true),
            reason(),
        ],
        "correct" => vec![
            reason(),
            field("summary", "新的事项摘要（不改则留空）", "textarea", false),
            field("headcount", "新的人数（不改则留空）", "number", false),
        ],
        _ => vec![reason()],
    };
    let mut fields = fields;
    fields.push(field(
        "occurred_at",
        "业务时间（留空为现在）",
        "datetime-local",
        false,
    ));
    fields.push(field(
        "late_reason",
        "补录理由（业务时间早于录入时间较久时填写）",
        "text",
        false,
    ));
    ActionForm {
        action: action.to_owned(),
        label: zh(action),
        fields,
    }
}
