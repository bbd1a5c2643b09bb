//! `proto/` is generated from the Rust types and must not go stale. After an intended change run
//! `XF_BLESS=1 cargo test -p xinfang --test system proto` and commit the result (old event versions'
//! schemas are never removed: see docs/events.md).

use std::path::PathBuf;

#[test]
fn proto_files_match_the_code() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let bless = std::env::var_os("XF_BLESS").is_some();
    let mut stale = Vec::new();
    for (path, content) in api::proto::files() {
        let file = root.join(&path);
        if bless {
            std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
            std::fs::write(&file, &content).expect("write");
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(content.as_str()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "stale proto files {stale:?}: run XF_BLESS=1 cargo test -p xinfang --test system proto"
    );
}

#[test]
fn every_event_and_command_has_a_schema() {
    let files: Vec<String> = api::proto::files().into_iter().map(|(p, _)| p).collect();
    for t in domain::Event::TYPES {
        assert!(
            files.contains(&format!("schemas/events/{t}.v1.json")),
            "{t}"
        );
    }
    assert!(files.contains(&"schemas/envelope.json".to_string()));
    assert_eq!(
        files
            .iter()
            .filter(|f| f.starts_with("schemas/commands/"))
            .count(),
        // One per body type: the two re-review actions share the bodies of the review ones.
        domain::Action::ALL.len() - 2
    );
}

/// The AsyncAPI document names every subject a township uses and a message for every action.
#[test]
fn the_asyncapi_document_covers_the_township_interface() {
    let doc = api::asyncapi::document();
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert_eq!(
        doc["channels"]["inbox"]["address"],
        "xf.inbox.{township}.{action}"
    );
    assert_eq!(
        doc["channels"]["outcome"]["address"],
        "xf.outcome.{township}.{msg_id}"
    );
    assert_eq!(
        doc["channels"]["feed"]["address"],
        "xf.feed.{unit}.{case_id}"
    );
    // 核减 are the county's, never a township's; nor is a new query code (only its HTTP answer
    // carries it).
    for action in domain::Action::ALL
        .into_iter()
        .filter(|a| !a.over_http_only())
    {
        let name = format!("inbox_{}", action.as_str().replace('-', "_"));
        let message = &doc["components"]["messages"][&name];
        assert_eq!(message["name"], action.as_str(), "{name}");
        assert_eq!(
            message["headers"]["required"][0], "Nats-Msg-Id",
            "{name} carries the record id"
        );
        assert!(
            doc["channels"]["inbox"]["messages"][&name].is_object(),
            "{name} on the inbox channel"
        );
    }
    for action in domain::Action::ALL
        .into_iter()
        .filter(|a| a.over_http_only())
    {
        let name = format!("inbox_{}", action.as_str().replace('-', "_"));
        assert!(doc["components"]["messages"][&name].is_null(), "{name}");
    }
    // Every reference resolves inside the document.
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 20);
    for r in all {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    let outcome = &doc["components"]["schemas"]["OutcomeMessage"];
    assert!(outcome["properties"]["error"]
        .to_string()
        .contains("Problem"));
    let register = &doc["components"]["schemas"]["InboxRegisterCase"];
    assert!(!register["required"].to_string().contains("\"township\""));
}
