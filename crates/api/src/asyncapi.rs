//! The NATS side of the contract as an AsyncAPI 3.0 document (`proto/asyncapi.json`): every
//! subject a township system uses (its inbox, its outcomes, its feed) and the SMS gateway's
//! notices, with the message schemas
//! generated from the same Rust types the ingestor and the feed use. The `proto` system test fails
//! when the committed file is stale.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use domain::Action;
use eventlog::inbox::INBOX_DUPLICATE_WINDOW;
use eventlog::subjects::{self, headers};
use wire::outcome::OutcomeMessage;

use crate::schemas::{collect, Collected};

/// The JSON body of each inbox action: the HTTP command's body type.
fn body_type(action: Action) -> &'static str {
    crate::openapi::body_schema(action)
}

fn msg_id_header(description: &str, pattern: &str) -> Value {
    json!({
        "type": "object",
        "required": [headers::MSG_ID],
        "properties": {
            headers::MSG_ID: {"type": "string", "pattern": pattern, "description": description}
        }
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut all = Collected::new();
    for schema in crate::schemas::COMMANDS.into_iter().chain([
        collect::<OutcomeMessage>,
        collect::<wire::Problem>,
        collect::<wire::audit::AuditEvent>,
        collect::<wire::notice::Notice>,
        collect::<wire::notice::SealedNotice>,
    ]) {
        schema(&mut all);
    }
    let mut schemas: BTreeMap<String, Value> = all
        .into_iter()
        .map(|(name, s)| (name, serde_json::to_value(s).unwrap_or(Value::Null)))
        .collect();
    // A registration on a township's inbox may leave out `township`: the subject says it.
    if let Some(mut register) = schemas.get("RegisterCase").cloned() {
        if let Some(required) = register.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|r| r != "township");
        }
        if let Some(t) = register.pointer_mut("/properties/township") {
            t["description"] =
                json!("The township of the inbox subject; if given, it must be that township.");
        }
        schemas.insert("InboxRegisterCase".into(), register);
    }

    let record_id = msg_id_header(
        &format!(
            "The township's own record id: the durable idempotency key (a message sent again, even days later, is applied once; within {} s the stream itself drops the copy).",
            INBOX_DUPLICATE_WINDOW.as_secs()
        ),
        "^[A-Za-z0-9_-]{1,128}$",
    );
    let mut messages = Map::new();
    let mut inbox_messages = Map::new();
    // Adjustments (核减) are the county's and the auditors', on HTTP only.
    for action in Action::ALL.into_iter().filter(|a| !a.over_http_only()) {
        let name = format!("inbox_{}", action.as_str().replace('-', "_"));
        let payload = if action == Action::Register {
            json!({"$ref": "#/components/schemas/InboxRegisterCase"})
        } else {
            json!({"allOf": [
                {"$ref": format!("#/components/schemas/{}", body_type(action))},
                {"type": "object", "required": ["case_id"], "properties": {
                    "case_id": {"type": "string", "format": "uuid", "description": "The case the step is about."}
                }}
            ]})
        };
        messages.insert(
            name.clone(),
            json!({
                "name": action.as_str(),
                "title": match action {
                    Action::Register => "register (the body of POST /v1/cases)".to_string(),
                    Action::Attach => "attach (evidence stored first with POST /v1/attachments, named by its sha256)".to_string(),
                    a => format!("{} (the body of POST /v1/cases/{{case_id}}/{})", a.as_str(), a.as_str()),
                },
                "contentType": "application/json",
                "headers": record_id,
                "payload": payload,
            }),
        );
        inbox_messages.insert(
            name.clone(),
            json!({"$ref": format!("#/components/messages/{name}")}),
        );
    }
    messages.insert(
        "outcome".into(),
        json!({
            "name": "outcome",
            "contentType": "application/json",
            "payload": {"$ref": "#/components/schemas/OutcomeMessage"},
        }),
    );
    messages.insert(
        "feed_event".into(),
        json!({
            "name": "feed event",
            "contentType": "application/json",
            "headers": msg_id_header("`<log sequence>-<unit>`: a republished message is dropped by the stream.", "^[0-9]+-[a-z0-9_]+$"),
            "payload": {"$ref": "#/components/schemas/AuditEvent"},
        }),
    );
    messages.insert(
        "notice".into(),
        json!({
            "name": "notice",
            "title": "One SMS to one petitioner, sealed to the gateway (its `sealed` opens to a SealedNotice)",
            "contentType": "application/json",
            "headers": msg_id_header("The notice's id: a notice published again is dropped by the stream.", "^[0-9a-f-]{36}-[0-9]+$"),
            "payload": {"$ref": "#/components/schemas/Notice"},
        }),
    );
    messages.insert(
        "checkpoint".into(),
        json!({
            "name": "Checkpoint",
            "title": "A signed checkpoint of the county's event log (docs/events.md, Checkpoints)",
            "contentType": "application/json",
            "payload": {"$ref": "#/components/schemas/Checkpoint"},
        }),
    );
    schemas.insert("Checkpoint".into(), checkpoint_schema());
    let township =
        json!({"description": "The township's unit code (its NATS user may use only its own)."});
    let inbox_address = subjects::inbox("{township}", "{action}");
    let actions: Vec<&str> = Action::ALL
        .iter()
        .filter(|a| !a.over_http_only())
        .map(|a| a.as_str())
        .collect();
    let components_schemas: Map<String, Value> = schemas.into_iter().collect();
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Xinfang: the NATS interface for township systems",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "What a township system publishes and reads on the county's NATS (docs/contract.md, \"NATS: the township interface\"). Inbox and outcomes are JetStream streams; a township reads its outcomes and feed through durable pull consumers the county creates for it, and its replies arrive under its own inbox prefix `_INBOX.<township>`.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "county": {
                "host": "county-nats:4222",
                "protocol": "nats",
                "description": "The county's NATS server or cluster; a township may instead run a leaf node with its own JetStream domain (deploy/township/)."
            }
        },
        "channels": {
            "inbox": {
                "address": inbox_address,
                "title": format!("A township's inbox (stream {})", subjects::inbox_stream("<township>")),
                "parameters": {
                    "township": township,
                    "action": {"enum": actions, "description": "The step, as in the HTTP command paths."}
                },
                "messages": inbox_messages,
            },
            "outcome": {
                "address": subjects::outcome("{township}", "{msg_id}"),
                "title": format!("The county's answer to each inbox message (stream {}, consumer {})", subjects::OUTCOME_STREAM, subjects::outcomes_consumer("<township>")),
                "parameters": {
                    "township": township,
                    "msg_id": {"description": "The inbox message's record id."}
                },
                "messages": {"outcome": {"$ref": "#/components/messages/outcome"}},
            },
            "checkpoints": {
                "address": subjects::CHECKPOINT_SUBJECT,
                "title": format!("The notary's signed checkpoints (stream {}; a township may direct-get them and should keep every one it sees)", subjects::CHECKPOINT_STREAM),
                "messages": {"checkpoint": {"$ref": "#/components/messages/checkpoint"}},
            },
            "feed": {
                "address": subjects::feed_of("{unit}", "{case_id}"),
                "title": format!("Every event of a case the unit holds or held (stream {}, consumer {})", subjects::FEED_STREAM, subjects::feed_consumer("<unit>")),
                "parameters": {
                    "unit": {"description": "The unit's code."},
                    "case_id": {"description": "The case's id."}
                },
                "messages": {"feed_event": {"$ref": "#/components/messages/feed_event"}},
            },
            "notice": {
                "address": subjects::NOTIFY_SMS,
                "title": format!("Notices to petitioners, for the county's SMS gateway alone (stream {}, a work queue kept {} days; the gateway's user makes its own consumer and receives replies under {})", subjects::NOTIFY_STREAM, eventlog::notices::NOTICE_MAX_AGE.as_secs() / 86_400, subjects::NOTIFY_REPLY_PREFIX),
                "messages": {"notice": {"$ref": "#/components/messages/notice"}},
            }
        },
        "operations": {
            "report_step": {
                "action": "send",
                "channel": {"$ref": "#/channels/inbox"},
                "summary": "Report a step the township took; wait for the stream's acknowledgement, retry under the same record id until it comes.",
            },
            "read_outcomes": {
                "action": "receive",
                "channel": {"$ref": "#/channels/outcome"},
                "summary": "Read every outcome, also those published while the township was offline.",
            },
            "read_checkpoints": {
                "action": "receive",
                "channel": {"$ref": "#/channels/checkpoints"},
                "summary": "Fetch the checkpoints (direct get, by sequence or the last) and keep them: a second party holding them makes a rewritten log detectable.",
            },
            "read_feed": {
                "action": "receive",
                "channel": {"$ref": "#/channels/feed"},
                "summary": "Learn of work sent to the unit, durably.",
            },
            "read_notices": {
                "action": "receive",
                "channel": {"$ref": "#/channels/notice"},
                "summary": "The SMS gateway: open each notice, send it once per notice_id, then acknowledge it (which removes it).",
            }
        },
        "components": {
            "messages": messages,
            "schemas": components_schemas,
        }
    })
}

/// `integrity::Checkpoint` (the integrity crate is pure and has no schema derive).
fn checkpoint_schema() -> Value {
    let hex = json!({"type": "string", "pattern": "^[0-9a-f]{64}$"});
    let seq = json!({"type": "integer", "minimum": 0});
    json!({
        "type": "object",
        "required": ["stream", "tree_size", "last_seq", "root", "at", "invalid", "frontier", "key_id", "sig"],
        "properties": {
            "stream": {"type": "string", "description": "The stream the tree is over."},
            "tree_size": seq.clone(),
            "last_seq": seq.clone(),
            "root": hex.clone(),
            "at": {"type": "string", "format": "date-time"},
            "first_signed_seq": {"type": ["integer", "null"], "minimum": 1},
            "invalid": {"type": "array", "items": seq.clone(), "description": "Sequences whose hash or signature did not verify when the notary took them in."},
            "frontier": {
                "type": "object",
                "required": ["size", "nodes"],
                "properties": {"size": {"type": "integer", "minimum": 0}, "nodes": {"type": "array", "items": hex}}
            },
            "migrated": {
                "type": "object",
                "description": "Only on the statement `xinfang migrate` wrote when it rewrote the log (docs/operations.md, \"Migrating a log written before sealing\"): the checkpoints before it are of the old log, whose root it names.",
                "required": ["from_tree_size", "from_last_seq", "from_root", "sealed_events", "rewritten_events"],
                "properties": {
                    "from_tree_size": seq.clone(),
                    "from_last_seq": seq.clone(),
                    "from_root": hex.clone(),
                    "sealed_events": seq.clone(),
                    "rewritten_events": seq.clone()
                }
            },
            "key_id": {"type": "string", "pattern": "^ed25519:[0-9a-f]{16}$"},
            "sig": {"type": "string", "description": "Ed25519 over SHA-256 of the canonical JSON without sig, base64."}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written schema names exactly the fields a checkpoint is written with.
    #[test]
    fn the_checkpoint_schema_matches_the_checkpoint() {
        let mut frontier = integrity::Frontier::default();
        frontier.push(integrity::merkle::leaf(1, &[7; 32]));
        let cp = integrity::Checkpoint {
            stream: "s".into(),
            tree_size: 1,
            last_seq: 1,
            root: integrity::to_hex(&frontier.root()),
            at: chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00+08:00").expect("t"),
            first_signed_seq: Some(1),
            invalid: vec![],
            frontier,
            migrated: Some(integrity::Migrated {
                from_tree_size: 1,
                from_last_seq: 1,
                from_root: integrity::to_hex(&[9; 32]),
                sealed_events: 1,
                rewritten_events: 1,
            }),
            key_id: String::new(),
            sig: String::new(),
        }
        .sign(&integrity::Signer::from_seed([1; 32]));
        let written = serde_json::to_value(&cp).expect("json");
        let schema = checkpoint_schema();
        let keys = |v: &Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&written), keys(&schema["properties"]));
        assert_eq!(
            keys(&written["migrated"]),
            keys(&schema["properties"]["migrated"]["properties"])
        );
        for required in schema["required"].as_array().expect("required") {
            assert!(written.get(required.as_str().expect("name")).is_some());
        }
        let key_id = regex_free_key_id(written["key_id"].as_str().expect("key id"));
        assert!(key_id, "{}", written["key_id"]);
    }

    fn regex_free_key_id(k: &str) -> bool {
        k.strip_prefix("ed25519:")
            .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}
