#![allow(dead_code)]
//! The system tests' helpers: the test system of the test kit under its short names, request
//! bodies and the problem+json check.

use chrono::{DateTime, Duration, FixedOffset};
use commands::{CaseService, CommandRequest};
use domain::command::{AcceptCase, CloseCase, Petitioner, RegisterCase, ReplyCase};
use domain::{Category, Channel, Command, Level, Outcome, Principal, PrincipalId, Role, UnitCode};
use serde_json::Value;

pub use testkit::system::{
    register_body, spawn as spawn_app, start_api_with, test_config, TestSystem as App,
};

/// Every response that is an error must be problem+json with the documented fields.
pub fn assert_problem(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "problem without {field}: {body}");
    }
}

/// The county's principal, for commands run in-process through the command path.
pub fn county() -> Principal {
    Principal {
        id: PrincipalId("county-1".into()),
        role: Role::County,
        unit: None,
    }
}

/// A registration in gaoqiao, for commands run in-process (no body decoding).
pub fn register_command(channel: Channel, headcount: u32, at: DateTime<FixedOffset>) -> Command {
    Command::Register(RegisterCase {
        late_reason: None,
        township: UnitCode::parse("gaoqiao").expect("unit"),
        channel,
        received_at: at,
        headcount,
        level_reached: Level::Township,
        category: Category::Land,
        summary: "s".into(),
        petitioners: vec![Petitioner {
            name: "赵六".into(),
            id_number: Some("110101199003074518".into()),
            phone: None,
            address: None,
        }],
        related_case_id: None,
        accusation: false,
        confidential: false,
        leader_reception: false,
        accused_unit: None,
    })
}

/// Run `register` (received `at`) as the county through the command path and, if `close`,
/// accept it a day later, reply on the fifth day and close it on the sixth; returns the last seq.
pub async fn handled(
    cases: &CaseService,
    register: Command,
    at: DateTime<FixedOffset>,
    close: bool,
) -> u64 {
    let p = county();
    let run = |id, cmd| cases.execute(CommandRequest::new(&p, id, cmd));
    let out = run(None, register).await.expect("register");
    let (id, mut seq) = (out.committed.case_id, out.committed.seq);
    if close {
        for cmd in [
            Command::Accept(AcceptCase {
                late_reason: None,
                new_facts: None,
                occurred_at: Some(at + Duration::days(1)),
            }),
            Command::Reply(ReplyCase {
                late_reason: None,
                outcome: Outcome::Explained,
                text: "t".into(),
                occurred_at: Some(at + Duration::days(5)),
            }),
            Command::Close(CloseCase {
                late_reason: None,
                note: None,
                occurred_at: Some(at + Duration::days(6)),
            }),
        ] {
            seq = run(Some(id), cmd).await.expect("step").committed.seq;
        }
    }
    seq
}

/// The adapter's handle on a JetStream context a test made itself.
pub fn conn(js: &async_nats::jetstream::Context) -> eventlog::Connection {
    js.into()
}

/// The petitioner's status page (no login): its status and body.
pub async fn status_page(app: &App, no: &str, code: &str) -> (u16, Value) {
    let resp = app
        .http
        .get(format!("{}/v1/status/{no}?code={code}", app.base))
        .send()
        .await
        .expect("status");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A GET as `token` whose body is not JSON (a PDF, CSV): status, content type and bytes.
pub async fn get_bytes(app: &App, token: &str, path: &str) -> (u16, String, Vec<u8>) {
    let resp = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, resp.bytes().await.expect("body").to_vec())
}
