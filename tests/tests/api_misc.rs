//! OpenAPI, health, metrics, read-your-writes.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn openapi_lists_every_path_and_schema() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .http
        .get(format!("{}/v1/openapi.json", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    for path in [
        "/v1/cases/{case_id}",
        "/v1/cases/{case_id}/history",
        "/v1/queues/{unit}",
        "/v1/stats",
        "/v1/audit/actors/{principal_id}",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    for action in domain::Action::ALL {
        let path = if action == domain::Action::Register {
            "/v1/cases".to_string()
        } else {
            format!("/v1/cases/{{case_id}}/{}", action.as_str())
        };
        assert!(doc["paths"][&path]["post"].is_object(), "{path} missing");
    }
    for schema in [
        "RegisterCase",
        "CaseView",
        "Problem",
        "Petitioner",
        "Flags",
        "Channel",
        "Queue",
        "Report",
        "Measures",
        "Rate",
        "AuditEvent",
        "ActorTrail",
        "History",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
}

#[tokio::test]
async fn min_seq_waits_for_the_log_and_gives_up_with_503() {
    let app = spawn_app().await;
    let (_, reg, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    let id = reg["case_id"].as_str().expect("id");
    let seq = reg["seq"].as_u64().expect("seq");
    let (s, c) = app
        .get("county-token", &format!("/v1/cases/{id}?min_seq={seq}"))
        .await;
    assert_eq!(s, 200);
    assert!(c["applied_seq"].as_u64().expect("applied") >= seq);
    let resp = app
        .http
        .get(format!("{}/v1/cases/{id}?min_seq={}", app.base, seq + 1000))
        .bearer_auth("county-token")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 503);
    assert!(resp.headers().get("retry-after").is_some());
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_problem(503, &body, 503, "unavailable");
}

#[tokio::test]
async fn metrics_count_commands_and_carry_no_personal_data() {
    let app = spawn_app().await;
    let id = app.register().await;
    let _ = app
        .post("county-token", &format!("/v1/cases/{id}/close"), &json!({}))
        .await;
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"xf_commands_total{action="register",outcome="applied"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"xf_commands_total{action="close",outcome="invalid_transition"} 1"#),
        "{text}"
    );
    for secret in ["张三", "330102199001011234", "13800000000"] {
        assert!(!text.contains(secret));
    }
    let health: serde_json::Value = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn metrics_show_each_projector() {
    let app = spawn_app().await;
    let id = app.register().await;
    assert_eq!(
        app.history_len(&id).await,
        1,
        "the audit projector has the case"
    );
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    for name in projections::NAMES {
        assert!(
            text.contains(&format!("xf_projector_applied_seq{{projector=\"{name}\"}}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("xf_projector_lag{{projector=\"{name}\"}}")),
            "{text}"
        );
    }
}
