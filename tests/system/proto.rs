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
        12
    );
}
