//! The wire contract as files under `proto/`: a JSON Schema (draft 2020-12) for every command body,
//! every event payload and the envelope, plus the OpenAPI document, all generated from the Rust
//! types. the `proto` system test (`tests/system/proto.rs`) fails when the committed files are stale; `XF_BLESS=1` rewrites them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use domain::event::*;
use domain::Event;
use eventlog::Envelope;

use crate::schemas::{collect, Collected, COMMANDS};

fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    out.insert(name.to_owned());
                }
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                *r = r.replace("#/components/schemas/", "#/$defs/");
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// A standalone schema for `root`, with every schema it references under `$defs`.
fn standalone(root: &str, id: &str, defs: &BTreeMap<String, Value>) -> Value {
    let mut needed = BTreeSet::new();
    let mut todo = vec![root.to_owned()];
    while let Some(name) = todo.pop() {
        if let Some(schema) = defs.get(&name) {
            let mut found = BTreeSet::new();
            refs(schema, &mut found);
            for f in found {
                if f != root && needed.insert(f.clone()) {
                    todo.push(f);
                }
            }
        }
    }
    let mut doc = defs.get(root).cloned().unwrap_or(Value::Null);
    if let Value::Object(map) = &mut doc {
        map.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        map.insert(
            "$id".into(),
            json!(format!("https://xinfang.dev/proto/{id}")),
        );
        map.insert("title".into(), json!(root));
        if !needed.is_empty() {
            let d: serde_json::Map<String, Value> = needed
                .iter()
                .filter_map(|n| defs.get(n).map(|s| (n.clone(), s.clone())))
                .collect();
            map.insert("$defs".into(), Value::Object(d));
        }
    }
    rewrite_refs(&mut doc);
    doc
}

/// Every file under `proto/`, as (relative path, content).
pub fn files() -> Vec<(String, String)> {
    let mut all = Collected::new();
    let commands = COMMANDS.map(|c| c(&mut all));
    let events = [
        collect::<CaseRegistered>(&mut all),
        collect::<CaseAcknowledged>(&mut all),
        collect::<CaseReminded>(&mut all),
        collect::<CaseReopened>(&mut all),
        collect::<QueryCodeReissued>(&mut all),
        collect::<DocumentIssued>(&mut all),
        collect::<CaseAccepted>(&mut all),
        collect::<CaseRejected>(&mut all),
        collect::<CaseAssigned>(&mut all),
        collect::<CaseTransferred>(&mut all),
        collect::<CaseSupervised>(&mut all),
        collect::<DeadlineExtended>(&mut all),
        collect::<CaseReplied>(&mut all),
        collect::<FollowUpRecorded>(&mut all),
        collect::<CaseClosed>(&mut all),
        collect::<ReviewRequested>(&mut all),
        collect::<ReviewDecided>(&mut all),
        collect::<CaseMerged>(&mut all),
        collect::<LeaderAssigned>(&mut all),
        collect::<ResolutionPlanned>(&mut all),
        collect::<RegistrationCorrected>(&mut all),
        collect::<CaseWithdrawn>(&mut all),
        collect::<AttachmentAdded>(&mut all),
        collect::<AdjustmentRequested>(&mut all),
        collect::<AdjustmentApproved>(&mut all),
        collect::<AdjustmentRevoked>(&mut all),
        collect::<PersonalDataErasureRequested>(&mut all),
        collect::<PersonalDataErased>(&mut all),
        collect::<AlertReviewed>(&mut all),
    ];
    let envelope = collect::<Envelope>(&mut all);
    collect::<Event>(&mut all);
    let defs: BTreeMap<String, Value> = all
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or(Value::Null)))
        .collect();
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    let mut out = Vec::new();
    for c in commands {
        let path = format!("schemas/commands/{c}.json");
        out.push((path.clone(), pretty(&standalone(&c, &path, &defs))));
    }
    for e in events {
        let path = format!("schemas/events/{e}.v{}.json", Event::SCHEMA_VERSION);
        out.push((path.clone(), pretty(&standalone(&e, &path, &defs))));
    }
    let path = "schemas/envelope.json".to_string();
    out.push((path.clone(), pretty(&standalone(&envelope, &path, &defs))));
    let openapi = serde_json::to_value(crate::openapi::document()).unwrap_or(Value::Null);
    out.push(("openapi.json".into(), pretty(&openapi)));
    out.push(("asyncapi.json".into(), pretty(&crate::asyncapi::document())));
    out
}
