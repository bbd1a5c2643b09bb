//! Messages for people in English and Simplified Chinese: every refusal carries both, and the
//! API answers in the language the caller prefers (`Accept-Language`). A message never repeats a
//! value of the request that may be personal data.

use std::fmt;

/// A message in English (`en`, also its `Display`) and Simplified Chinese (`zh`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

impl Text {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// The message in `lang`.
    pub fn in_lang(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }

    /// Both messages behind `field: ` (`field：` in Chinese).
    pub fn for_field(self, field: &str) -> Text {
        Text {
            en: format!("{field}: {}", self.en),
            zh: format!("{field}：{}", self.zh),
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// A language the API answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// The language an `Accept-Language` header prefers among those we answer in (RFC 9110: the
    /// highest weight wins, the first on a tie; `*` and unknown tags do not choose).
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            let lang = match tag.split('-').next() {
                Some("zh") => Lang::Zh,
                Some("en") => Lang::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }
}

/// `Text` from an English and a Chinese format string, with the variables in scope:
/// `text!("{field} must not be empty", "{field} 不能为空")`.
#[macro_export]
macro_rules! text {
    ($en:literal, $zh:literal $(,)?) => {
        $crate::text::Text {
            en: format!($en),
            zh: format!($zh),
        }
    };
}

/// What a body or query field failed as, from a serde message, in both languages: the field
/// named and the expected form, never the value given (it may be personal data). `path` is the
/// field (`petitioners[0].phone`), `.` or empty for the whole body.
pub fn field_error(path: &str, serde_msg: &str) -> Text {
    let msg = strip_position(serde_msg);
    let quoted = |s: &str| -> Vec<String> {
        s.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let whole = path.is_empty() || path == ".";
    let named = |t: Text| if whole { t } else { t.for_field(path) };
    if let Some(rest) = msg.strip_prefix("missing field ") {
        let field = quoted(rest).into_iter().next().unwrap_or_default();
        let field = if whole {
            field
        } else {
            format!("{path}.{field}")
        };
        return Text::new(format!("{field}: required"), format!("{field}：必填"));
    }
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let names = quoted(rest);
        let field = names.first().cloned().unwrap_or_default();
        // serde_path_to_error already names the unknown key in the path.
        let field = if whole || path == field || path.ends_with(&format!(".{field}")) {
            if whole {
                field
            } else {
                path.to_owned()
            }
        } else {
            format!("{path}.{field}")
        };
        let expected = &names[names.len().min(1)..];
        return if expected.is_empty() {
            Text::new(
                format!("{field}: unknown field; this body takes no fields"),
                format!("{field}：未知字段，此处不接受任何字段"),
            )
        } else {
            Text::new(
                format!(
                    "{field}: unknown field; expected one of {}",
                    expected.join(", ")
                ),
                format!("{field}：未知字段，应为 {} 之一", expected.join("、")),
            )
        };
    }
    if let Some(rest) = msg.strip_prefix("duplicate field ") {
        let field = quoted(rest).into_iter().next().unwrap_or_default();
        return named(Text::new(
            format!("field {field} given twice"),
            format!("字段 {field} 重复"),
        ));
    }
    if msg.starts_with("unknown variant") {
        let tail = msg.split_once("expected").map_or("", |(_, t)| t);
        let expected = quoted(tail);
        return named(Text::new(
            format!("expected one of {}", expected.join(", ")),
            format!("应为 {} 之一", expected.join("、")),
        ));
    }
    if msg.starts_with("invalid type")
        || msg.starts_with("invalid value")
        || msg.starts_with("invalid length")
    {
        let expected = msg.split_once(", expected ").map_or("", |(_, e)| e).trim();
        return named(Text::new(
            format!("expected {}", expected_en(expected)),
            format!("类型或取值错误，应为{}", expected_zh(expected)),
        ));
    }
    for (en, zh) in KNOWN {
        if msg.starts_with(en) || msg == *en {
            return named(Text::new(*en, *zh));
        }
    }
    if msg.starts_with("UUID parsing failed") {
        return named(Text::new(
            "expected a case id (a UUID, e.g. 0192f0a0-0000-7000-8000-0000deadbeef)",
            "应为案件 ID（UUID，例如 0192f0a0-0000-7000-8000-0000deadbeef）",
        ));
    }
    if msg.starts_with("unit code") {
        return named(Text::new(
            "expected a unit code: 1 to 32 of a-z, 0-9, _ and -",
            "应为单位代码：1 至 32 个字符，可用 a-z、0-9、_ 和 -",
        ));
    }
    // A message of ours or of serde that is not known here: the English, in both.
    let en = redact(msg);
    named(Text::new(en.clone(), format!("无效：{en}")))
}

/// A body that is not JSON: where and why, in both languages.
pub fn malformed_json(serde_msg: &str) -> Text {
    let (what, at) = match serde_msg.rsplit_once(" at line ") {
        Some((what, pos)) => (what, Some(pos)),
        None => (serde_msg, None),
    };
    let (line, column) = at
        .and_then(|p| p.split_once(" column "))
        .map_or(("?", "?"), |(l, c)| (l, c));
    let zh = [
        ("EOF while parsing", "内容意外结束（JSON 不完整）"),
        ("expected value", "此处应为一个值"),
        ("expected `,` or `}`", "此处应为逗号或 }"),
        ("expected `,` or `]`", "此处应为逗号或 ]"),
        ("expected `:`", "此处应为冒号"),
        ("key must be a string", "对象的键必须是字符串"),
        ("trailing characters", "JSON 之后还有多余的字符"),
        ("trailing comma", "多余的逗号"),
        ("invalid escape", "无效的转义字符"),
        ("invalid number", "无效的数字"),
        ("number out of range", "数字超出范围"),
        ("control character", "字符串中有控制字符"),
        ("invalid unicode code point", "无效的 Unicode 码点"),
        ("lone leading surrogate", "无效的 Unicode 代理项"),
        ("unexpected end of hex escape", "转义序列不完整"),
        ("recursion limit exceeded", "嵌套层数过多"),
        ("expected ident", "无效的字面量"),
        ("EOF while parsing a string", "字符串未结束"),
    ]
    .iter()
    .rev()
    .find(|(en, _)| what.starts_with(en))
    .map_or("格式错误", |(_, zh)| zh);
    let en_what = redact(what);
    match at {
        Some(_) => Text::new(
            format!("malformed JSON: {en_what} at line {line} column {column}"),
            format!("JSON 格式错误：第 {line} 行第 {column} 列，{zh}"),
        ),
        None => Text::new(
            format!("malformed JSON: {en_what}"),
            format!("JSON 格式错误：{zh}"),
        ),
    }
}

/// What a timestamp in a body must be (error messages; [`KNOWN`] has it in Chinese).
pub const TIME_EXPECTED: &str =
    "expected an RFC 3339 time with offset, e.g. 2026-03-05T09:30:00+08:00";
/// What a date in a body must be.
pub const DATE_EXPECTED: &str = "expected a date YYYY-MM-DD, e.g. 2026-03-05";
/// What a whole number in a body must be.
pub const WHOLE_EXPECTED: &str = "expected a whole number from 0 to 4294967295";
/// What a resident ID number must be, for error messages.
pub const ID_NUMBER_EXPECTED: &str = "expected an 18-character resident ID number (GB 11643-1999): \
     17 digits with a valid birth date (YYYYMMDD from the 7th digit), then the check digit (0-9 or X)";

/// What a phone number must be, for error messages.
pub const PHONE_EXPECTED: &str = "expected a mainland mobile number (11 digits starting 13-19, \
     optionally +86) or a landline with its area code (0 and 2-3 digits, then 7-8 digits)";

/// The messages of our own decoders (`dates`, `identity`), in both languages.
const KNOWN: &[(&str, &str)] = &[
    (
        TIME_EXPECTED,
        "应为带时区偏移的 RFC 3339 时间，例如 2026-03-05T09:30:00+08:00",
    ),
    (
        DATE_EXPECTED,
        "应为 YYYY-MM-DD 格式的日期，例如 2026-03-05",
    ),
    (
        WHOLE_EXPECTED,
        "应为 0 至 4294967295 之间的整数",
    ),
    (
        ID_NUMBER_EXPECTED,
        "应为 18 位公民身份号码（GB 11643-1999）：17 位数字（第 7 位起为有效的出生日期 YYYYMMDD）加校验码（0-9 或 X）",
    ),
    (
        PHONE_EXPECTED,
        "应为大陆手机号码（11 位，以 13-19 开头，可带 +86）或带区号的固定电话（0 加 2-3 位区号，再加 7-8 位号码）",
    ),
];

fn strip_position(msg: &str) -> &str {
    match msg.rsplit_once(" at line ") {
        Some((head, tail)) if tail.contains(" column ") => head,
        _ => msg,
    }
}

/// serde's "expected …" in plain words.
fn expected_en(e: &str) -> String {
    match e {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "an array".into(),
        "a map" => "an object".into(),
        e if e.starts_with("struct ") => "an object".into(),
        e => e.trim_matches('`').to_owned(),
    }
}

fn expected_zh(e: &str) -> String {
    match e {
        "u8" | "u16" | "u32" | "u64" | "usize" => "非负整数".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "整数".into(),
        "f32" | "f64" => "数字".into(),
        "a string" => "字符串".into(),
        "a boolean" => " true 或 false".into(),
        "a sequence" => "数组".into(),
        "a map" => "对象".into(),
        e if e.starts_with("struct ") => "对象".into(),
        e if e.starts_with("a UUID") || e.contains("UUID") => " UUID".into(),
        e => format!(" {}", e.trim_matches('`')),
    }
}

/// Remove the values serde quotes in an error message (`invalid type: integer `13800000000``,
/// `unit code "…" must match`), keeping field names and what was expected.
pub fn redact(msg: &str) -> String {
    const NAMES_A_FIELD: [&str; 3] = ["missing field", "unknown field", "duplicate field"];
    if NAMES_A_FIELD.iter().any(|p| msg.starts_with(p)) {
        return msg.to_owned();
    }
    let (head, tail) = msg.split_at(msg.find(", expected").unwrap_or(msg.len()));
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in head.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '`' || c == '"' => quote = Some(c),
            None => out.push(c),
        }
    }
    let head = out.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{head}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_language_is_the_weightiest_we_speak() {
        for (header, want) in [
            ("zh-CN", Lang::Zh),
            ("zh-CN,zh;q=0.9,en;q=0.8", Lang::Zh),
            ("en-US,en;q=0.9,zh-CN;q=0.8", Lang::En),
            ("fr, zh;q=0.5", Lang::Zh),
            ("de", Lang::En),
            ("zh;q=0", Lang::En),
            ("", Lang::En),
            ("en;q=0.4, zh-Hans;q=0.6", Lang::Zh),
            ("*", Lang::En),
        ] {
            assert_eq!(Lang::from_accept_language(header), want, "{header}");
        }
    }

    #[test]
    fn a_field_error_names_the_field_and_the_expected_form_in_both_languages() {
        let t = field_error(
            "channel",
            "unknown variant `来访`, expected one of `letter`, `visit`",
        );
        assert_eq!(t.en, "channel: expected one of letter, visit");
        assert_eq!(t.zh, "channel：应为 letter、visit 之一");
        assert!(
            !t.en.contains("来访") && !t.zh.contains("来访"),
            "the value is not echoed"
        );
        let t = field_error("received_at", TIME_EXPECTED);
        assert!(t
            .en
            .starts_with("received_at: expected an RFC 3339 time with offset"));
        assert!(t
            .zh
            .starts_with("received_at：应为带时区偏移的 RFC 3339 时间"));
        let t = field_error(".", "missing field `township`");
        assert_eq!(
            (t.en.as_str(), t.zh.as_str()),
            ("township: required", "township：必填")
        );
        let t = field_error(
            "petitioners[0]",
            "unknown field `nmae`, expected one of `name`, `phone`",
        );
        assert_eq!(
            t.en,
            "petitioners[0].nmae: unknown field; expected one of name, phone"
        );
        let t = field_error(
            "petitioners[0].nmae",
            "unknown field `nmae`, expected one of `name`, `phone`",
        );
        assert_eq!(
            t.en,
            "petitioners[0].nmae: unknown field; expected one of name, phone"
        );
        let t = field_error("headcount", "invalid type: string \"6\", expected u32");
        assert_eq!(t.en, "headcount: expected a whole number, 0 or more");
        assert!(!t.en.contains('6'));
        assert_eq!(t.zh, "headcount：类型或取值错误，应为非负整数");
    }

    #[test]
    fn malformed_json_says_where_in_both_languages() {
        let Err(err) = serde_json::from_str::<serde_json::Value>("{\"township\": \"gaoqiao\", ")
        else {
            panic!("cut short")
        };
        let t = malformed_json(&err.to_string());
        assert!(
            t.en.starts_with("malformed JSON: EOF while parsing"),
            "{}",
            t.en
        );
        assert!(t.zh.starts_with("JSON 格式错误：第 1 行第 "), "{}", t.zh);
        assert!(t.zh.contains("不完整"), "{}", t.zh);
    }
}
