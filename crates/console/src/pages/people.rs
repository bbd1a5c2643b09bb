//! The petitioners of the registration form: the first from its own fields, the others one per
//! line of free text, each part told apart by its form and never dropped; and a correction's
//! petitioners (更正), all of them as such lines.

use serde_json::{json, Value};

use super::FormData;

/// The form's petitioners: the first from its fields, the others one per line; or what is wrong
/// with a line of the others.
pub fn petitioners(form: &FormData) -> Result<Vec<Value>, String> {
    let mut petitioner = serde_json::Map::new();
    for k in ["name", "id_number", "phone", "address"] {
        if !form.get(k).is_empty() {
            petitioner.insert(k.into(), json!(form.get(k)));
        }
    }
    let mut petitioners = vec![Value::Object(petitioner)];
    petitioners.extend(others(form.get("others"))?);
    Ok(petitioners)
}

/// The case's petitioners as the correction form's lines (what `others` reads back).
pub fn lines(petitioners: &[domain::command::Petitioner]) -> String {
    petitioners
        .iter()
        .map(|p| {
            let mut parts = vec![p.name.clone()];
            parts.extend(p.id_number.clone());
            parts.extend(p.phone.clone());
            parts.extend(p.address.as_ref().map(|a| format!("{ADDRESS}{a}")));
            parts.join("，")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// 更正 of the petitioners: the form's lines, when they differ from those it was shown with
/// (`petitioners_was`), become the body's `changes.petitioners`, replacing them all; unchanged,
/// nothing about them is sent.
pub fn correction(form: &FormData) -> Result<Option<Value>, String> {
    let (now, was) = (form.get("petitioners"), form.get("petitioners_was"));
    if now.trim().is_empty() || normal(now) == normal(was) {
        return Ok(None);
    }
    let all = others(now).map_err(|e| format!("信访人：{e}"))?;
    Ok(Some(Value::Array(all)))
}

fn normal(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

/// How a line's address begins (an address may hold digits and spaces: it is the line's rest).
const ADDRESS: &str = "住址：";

/// The other petitioners, one per line: a name, then an ID number and a phone number in any
/// order (told apart by their form), separated by commas or spaces, and last an address after
/// 住址：. A part that is none of them (a number too short for a phone, a second name) is
/// refused with its line, never dropped.
fn others(text: &str) -> Result<Vec<Value>, String> {
    let mut all = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut p = serde_json::Map::new();
        let (line, address) = match line
            .split_once(ADDRESS)
            .or_else(|| line.split_once("住址:"))
        {
            Some((head, address)) => (head, Some(address.trim())),
            None => (line, None),
        };
        if let Some(a) = address.filter(|a| !a.is_empty()) {
            p.insert("address".into(), json!(a));
        }
        let parts = line
            .split([',', '，', '、', ' ', '\t', '\u{3000}'])
            .filter(|x| !x.is_empty());
        for part in parts {
            let digits = part.chars().filter(char::is_ascii_digit).count();
            let key = match digits {
                15.. => "id_number",
                7.. => "phone",
                0 => "name",
                _ => {
                    return Err(format!(
                        "第 {} 行的“{part}”既不是身份证号码也不是电话号码，请核对。",
                        n + 1
                    ))
                }
            };
            if p.contains_key(key) {
                return Err(format!(
                    "第 {} 行有两个{}（“{part}”）：每行只写一位信访人。",
                    n + 1,
                    match key {
                        "name" => "姓名",
                        "id_number" => "身份证号码",
                        _ => "电话号码",
                    }
                ));
            }
            p.insert(key.into(), json!(part));
        }
        if !p.contains_key("name") {
            return Err(format!("第 {} 行没有姓名。", n + 1));
        }
        all.push(Value::Object(p));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    #[test]
    fn other_petitioners_are_read_one_per_line() {
        let ps = super::others("李四，330102198001011235，13900000000\n\n王五 13800000001\n赵六")
            .expect("three");
        assert_eq!(
            ps,
            [
                serde_json::json!({"name": "李四", "id_number": "330102198001011235", "phone": "13900000000"}),
                serde_json::json!({"name": "王五", "phone": "13800000001"}),
                serde_json::json!({"name": "赵六"}),
            ]
        );
        // Issue 34, finding 3: what is none of a name, an ID number or a phone is refused with
        // its line, never dropped.
        let e = super::others("甲\n乙，12345").expect_err("five digits");
        assert!(e.contains("第 2 行") && e.contains("12345"), "{e}");
        let e = super::others("乙 丙").expect_err("two names");
        assert!(e.contains("两个姓名"), "{e}");
        assert!(super::others("13900000000").is_err(), "no name");
    }

    #[test]
    fn a_correction_reads_back_its_own_lines_and_sends_nothing_unchanged() {
        let shown = vec![domain::command::Petitioner {
            name: "张三".into(),
            id_number: Some("330102198001011235".into()),
            phone: Some("13900000000".into()),
            address: Some("文三路 100 号 2 单元".into()),
        }];
        let text = super::lines(&shown);
        assert_eq!(
            super::others(&text).expect("its own lines"),
            [
                serde_json::json!({"name": "张三", "id_number": "330102198001011235",
                "phone": "13900000000", "address": "文三路 100 号 2 单元"})
            ]
        );
        let form = |now: &str| {
            super::FormData(vec![
                ("petitioners".into(), now.into()),
                ("petitioners_was".into(), text.clone()),
            ])
        };
        assert_eq!(super::correction(&form(&format!("{text}\n"))), Ok(None));
        let added = super::correction(&form(&format!("{text}\n李四 13800000001")));
        assert_eq!(
            added.expect("read").map(|v| v.as_array().map(Vec::len)),
            Some(Some(2))
        );
        let e = super::correction(&form("李四，123")).expect_err("refused");
        assert!(e.starts_with("信访人：") && e.contains("123"), "{e}");
    }
}
