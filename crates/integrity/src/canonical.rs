//! The canonical JSON an event's hash and a statement's signature are taken over: every object's
//! members sorted by the UTF-8 bytes of their names, no whitespace, strings escaped as JSON
//! requires and no more (non-ASCII as UTF-8), numbers as serde_json writes them. This is what
//! Python's `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes
//! for the values Xinfang stores (integers, strings, booleans, null, arrays, objects), so an
//! auditor can check it with nothing of ours.
//!
//! Written here rather than left to `serde_json::to_vec`: whether that sorts depends on a cargo
//! feature (`preserve_order`) any other crate in the build may switch on.

use serde_json::Value;

/// `value` in canonical form.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(k, out);
                out.push(b':');
                write(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(v, out);
            }
            out.push(b']');
        }
        Value::String(s) => string(s, out),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Null => out.extend_from_slice(b"null"),
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_sorted_at_every_depth_and_nothing_is_padded() {
        let v: Value = serde_json::from_str(
            r#"{"b": 1, "a": {"z": [true, null, "x"], "é": "高桥", "A": -3}, "c": "q\"\\\n\u0001"}"#,
        )
        .expect("json");
        assert_eq!(
            String::from_utf8(to_vec(&v)).expect("utf-8"),
            r#"{"a":{"A":-3,"z":[true,null,"x"],"é":"高桥"},"b":1,"c":"q\"\\\n\u0001"}"#
        );
    }

    #[test]
    fn parsing_the_canonical_form_and_writing_it_again_changes_nothing() {
        let v = serde_json::json!({"k": {"y": 2, "x": [1, {"b": "2", "a": 1}]}, "s": "\t"});
        let once = to_vec(&v);
        let again = to_vec(&serde_json::from_slice(&once).expect("parse"));
        assert_eq!(once, again);
    }
}
