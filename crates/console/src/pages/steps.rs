//! The form of each step a case page offers: the fields of its body (docs/contract.md,
//! Commands), with the vocabulary in Chinese and units by name.

use domain::{Category, Channel, Level};

use crate::names::zh;

pub struct Field {
    pub name: String,
    pub label: String,
    /// `text`, `textarea`, `date`, `number`, `select`, `hidden`.
    pub kind: String,
    pub required: bool,
    pub options: Vec<(String, String)>,
    /// What was typed, when the form comes back after an error or a conflict.
    pub value: String,
}

pub struct ActionForm {
    pub action: String,
    pub label: String,
    pub fields: Vec<Field>,
    /// Shown open: the step that was sent and came back.
    pub open: bool,
}

/// The step `typed` was sent for, shown again open with what was typed in it (issue 34,
/// finding 2: an error or a concurrent change no longer empties the form).
pub fn keep_typed(forms: &mut [ActionForm], typed: &crate::pages::FormData) {
    let action = typed.get("action");
    for form in forms.iter_mut().filter(|f| f.action == action) {
        form.open = true;
        for field in &mut form.fields {
            field.value = typed.get(&field.name).to_owned();
        }
    }
}

/// The 更正 form with the case's petitioners to correct (`lines`), or without its petitioner
/// fields for a reader who may not see them.
pub fn petitioners_for(forms: &mut [ActionForm], lines: Option<String>) {
    for form in forms.iter_mut().filter(|f| f.action == "correct") {
        match &lines {
            Some(text) => {
                for field in &mut form.fields {
                    if matches!(field.name.as_str(), "petitioners" | "petitioners_was") {
                        field.value = text.clone();
                    }
                }
            }
            None => form
                .fields
                .retain(|f| !matches!(f.name.as_str(), "petitioners" | "petitioners_was")),
        }
    }
}

/// A problem's detail with the form's own labels for the body's field names it starts with
/// (`due_date: …` → `办理期限…：…`), so a message names what the clerk sees.
pub fn in_labels(action: &str, detail: &str) -> String {
    let form = form_of(action, &[]);
    for f in &form.fields {
        for sep in [": ", "：", ":"] {
            if let Some(rest) = detail.strip_prefix(&format!("{}{sep}", f.name)) {
                let label = f.label.split('（').next().unwrap_or(&f.label);
                return format!("{label}：{rest}");
            }
        }
    }
    detail.to_owned()
}

fn field(name: &str, label: &str, kind: &str, required: bool) -> Field {
    Field {
        name: name.into(),
        label: label.into(),
        kind: kind.into(),
        required,
        options: Vec::new(),
        value: String::new(),
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

/// The units to pick from, after an empty first choice: a picker asks, it does not default to
/// whichever unit comes first (issue 34, finding 4).
fn ask(units: &[(String, String)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), "请选择单位".to_owned()))
        .chain(units.iter().cloned())
        .collect()
}

/// An optional choice of a correction among the words of a vocabulary (`domain`'s order): empty
/// (不改) first.
fn unchanged<T: Copy>(name: &str, label: &str, all: &[T], code: fn(T) -> &'static str) -> Field {
    let mut options = vec![(String::new(), "（不改）".to_owned())];
    options.extend(all.iter().map(|w| (code(*w).to_owned(), zh(code(*w)))));
    Field {
        required: false,
        ..select(name, label, options)
    }
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
            select("unit", "交办单位", ask(units)),
            field("due_date", "办理期限（受理后可指定）", "date", false),
            field("note", "交办意见", "textarea", false),
        ],
        "transfer" => vec![select("unit", "转送单位", ask(units)), reason()],
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
                open: false,
            }
        }
        "assign-leader" => vec![
            field("name", "包案领导姓名", "text", true),
            field("title", "职务", "text", true),
        ],
        // 一案一策 (issue 35).
        "resolution-plan" => vec![
            field("plan", "化解方案", "textarea", true),
            field("leader", "责任领导（留空为本案包案领导）", "text", false),
            field("target_date", "化解期限", "date", true),
        ],
        "merge" => vec![
            field("into_case_no", "并入案件编号", "text", true),
            reason(),
        ],
        // Every fact of the registration the API corrects (issue 34, finding 3); a field left
        // empty is not changed.
        "correct" => vec![
            reason(),
            unchanged("category", "新的类别", Category::ALL, Category::as_str),
            unchanged("channel", "新的渠道", Channel::ALL, Channel::as_str),
            unchanged("level_reached", "新的已到达层级", Level::ALL, Level::as_str),
            field(
                "received_at",
                "新的收到时间（不改则留空）",
                "datetime-local",
                false,
            ),
            field("summary", "新的事项摘要（不改则留空）", "textarea", false),
            field("headcount", "新的人数（不改则留空）", "number", false),
            // Shown with the case's petitioners (`petitioners_for`); changed, they replace them.
            field(
                "petitioners",
                "信访人（每行一位：姓名、身份证号、电话，住址写在“住址：”之后；改动后整体替换）",
                "textarea",
                false,
            ),
            field("petitioners_was", "", "hidden", false),
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
        open: false,
    }
}

/// A governance request's fields as typed (issue 34, finding 2: a refused request keeps them).
#[derive(Default)]
pub struct GovernKept {
    /// `adjust`, `erase`, or empty when no request was refused.
    pub kind: String,
    pub measure: String,
    pub reason: String,
    pub document_no: String,
    pub request_ref: String,
}

impl GovernKept {
    pub fn of(typed: &crate::pages::FormData) -> GovernKept {
        GovernKept {
            kind: typed.get("kind").to_owned(),
            measure: typed.get("measure").to_owned(),
            reason: typed.get("reason").to_owned(),
            document_no: typed.get("document_no").to_owned(),
            request_ref: typed.get("request_ref").to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_problem_names_the_forms_label_not_the_bodys_field() {
        assert_eq!(
            super::in_labels("extend", "days: must be between 1 and 30"),
            "延期天数：must be between 1 and 30"
        );
        assert_eq!(
            super::in_labels("assign", "due_date：日期无效"),
            "办理期限：日期无效"
        );
        assert_eq!(super::in_labels("reply", "案件已办结"), "案件已办结");
    }
}
