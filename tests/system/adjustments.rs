//! Issue 14: 核减 through HTTP. A county principal requests, a *different* county or auditor
//! principal approves, another revokes; `/v1/stats?adjusted=true` shows the adjusted figures
//! beside the raw ones and lists what was applied. Nobody adjusts a figure alone.

use serde_json::{json, Value};

use crate::common::*;

const PERIOD: &str = "from=2026-03-01&to=2026-03-31";

async fn stats(app: &App, query: &str, seq: u64) -> Value {
    let (status, r) = app
        .get(
            "analyst-token",
            &format!("/v1/stats?{PERIOD}&min_seq={seq}{query}"),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

#[tokio::test]
async fn an_adjustment_takes_effect_only_when_another_principal_approves_it() {
    let app = spawn_app().await;
    let case = app.register().await;
    app.register().await;
    let request = json!({
        "case_id": case, "measure": "items",
        "reason": "经县联席会议认定属重复登记", "document_no": "X信联〔2026〕7号"
    });
    // Only the county requests, with every field, for a case that exists and a known figure.
    let (status, body, _) = app
        .post("clerk-gaoqiao-token", "/v1/adjustments", &request)
        .await;
    assert_problem(status, &body, 403, "forbidden");
    let (status, body, _) = app.post("auditor-token", "/v1/adjustments", &request).await;
    assert_problem(status, &body, 403, "forbidden");
    let mut bad = request.clone();
    bad["measure"] = json!("persons_total");
    let (status, body, _) = app.post("county-token", "/v1/adjustments", &bad).await;
    assert_problem(status, &body, 422, "validation");
    let mut bad = request.clone();
    bad["case_id"] = json!("0192f0a0-0000-7000-8000-000000000001");
    let (status, body, _) = app.post("county-token", "/v1/adjustments", &bad).await;
    assert_problem(status, &body, 404, "not_found");
    let mut bad = request.clone();
    bad.as_object_mut().expect("object").remove("document_no");
    let (status, body, _) = app.post("county-token", "/v1/adjustments", &bad).await;
    assert_problem(status, &body, 400, "validation");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("document_no"),
        "{body}"
    );
    assert_eq!(
        app.history_len(&case).await,
        1,
        "nothing refused was appended"
    );

    // Requested (a retry with the same key names the same adjustment): pending.
    let key = [("Idempotency-Key", "adjust-1")];
    let (status, asked, headers) = app
        .post_with("county-token", "/v1/adjustments", &request, &key)
        .await;
    assert_eq!(status, 201, "{asked}");
    assert_eq!(asked["status"], "pending");
    let id = asked["adjustment_id"].as_str().expect("id").to_owned();
    assert_eq!(
        headers["location"],
        format!("/v1/adjustments/{id}").as_str()
    );
    let (status, again, _) = app
        .post_with("county-token", "/v1/adjustments", &request, &key)
        .await;
    assert_eq!(
        (status, &again["adjustment_id"]),
        (201, &asked["adjustment_id"])
    );
    let (status, body, _) = app.post("county-token", "/v1/adjustments", &request).await;
    assert_problem(status, &body, 422, "validation");
    let seq = asked["seq"].as_u64().expect("seq");
    let pending = stats(&app, "&adjusted=true", seq).await;
    assert_eq!(
        pending["total"]["items"], 2,
        "a pending adjustment changes nothing"
    );
    assert_eq!(pending["adjustments"], json!([]));

    // The requester cannot approve it, nor can an analyst or a township; nothing is appended.
    let approve = format!("/v1/adjustments/{id}/approve");
    let (status, body, _) = app.post("county-token", &approve, &json!({})).await;
    assert_problem(status, &body, 403, "forbidden");
    for token in ["analyst-token", "clerk-gaoqiao-token"] {
        let (status, body, _) = app.post(token, &approve, &json!({})).await;
        assert_problem(status, &body, 403, "forbidden");
    }
    let (status, body, _) = app
        .post("auditor-token", &approve, &json!({"adjustment_id": id}))
        .await;
    assert_problem(status, &body, 400, "validation");
    let unknown = "/v1/adjustments/0192f0a0-0000-7000-8000-000000000002/approve";
    let (status, body, _) = app.post("auditor-token", unknown, &json!({})).await;
    assert_problem(status, &body, 404, "not_found");
    assert_eq!(app.history_len(&case).await, 2);

    // An auditor approves: the adjusted figures leave the case out, the raw ones stay beside.
    let (status, approved, _) = app.post("auditor-token", &approve, &json!({})).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        (
            approved["status"].as_str(),
            approved["adjustment_id"].as_str()
        ),
        (Some("approved"), Some(id.as_str()))
    );
    let seq = approved["seq"].as_u64().expect("seq");
    let adjusted = stats(&app, "&adjusted=true&group_by=township", seq).await;
    assert_eq!(adjusted["total"]["items"], 1, "{adjusted}");
    assert_eq!(adjusted["total"]["persons"], 6);
    assert_eq!(adjusted["raw_total"]["items"], 2);
    assert_eq!(adjusted["rows"][0]["items"], 1);
    let applied = &adjusted["adjustments"][0];
    assert_eq!(applied["adjustment_id"], id.as_str());
    assert_eq!(applied["approved_by"], "auditor-1");
    assert!(
        applied.get("reason").is_none(),
        "no free text in a report: {applied}"
    );
    let raw = stats(&app, "", seq).await;
    assert_eq!(raw["total"]["items"], 2, "raw by default");
    assert!(raw.get("raw_total").is_none() && raw.get("adjustments").is_none());

    // The county and auditors list the period's adjustments with their reasons.
    let list = format!("/v1/adjustments?{PERIOD}&min_seq={seq}");
    let (status, body) = app.get("analyst-token", &list).await;
    assert_problem(status, &body, 403, "forbidden");
    let (status, listed) = app.get("auditor-token", &list).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"][0]["reason"], "经县联席会议认定属重复登记");
    assert_eq!(listed["items"][0]["requested_by"], "county-1");

    // Another county principal revokes it: counted again; every step is in the case's history.
    let revoke = format!("/v1/adjustments/{id}/revoke");
    let (status, body, _) = app.post("county-2-token", &revoke, &json!({})).await;
    assert_problem(status, &body, 400, "validation");
    let (status, revoked, _) = app
        .post(
            "county-2-token",
            &revoke,
            &json!({"reason": "复核认定不属重复"}),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    let seq = revoked["seq"].as_u64().expect("seq");
    let after = stats(&app, "&adjusted=true", seq).await;
    assert_eq!(after["total"]["items"], 2);
    let (status, one) = app
        .get(
            "county-token",
            &format!("/v1/adjustments/{id}?min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        (one["status"].as_str(), one["revoked_by"].as_str()),
        (Some("revoked"), Some("county-2"))
    );
    let (_, history) = app
        .get("auditor-token", &format!("/v1/cases/{case}/history"))
        .await;
    let steps: Vec<(&str, &str)> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or(""),
                e["actor"]["id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps[1..],
        [
            ("AdjustmentRequested", "county-1"),
            ("AdjustmentApproved", "auditor-1"),
            ("AdjustmentRevoked", "county-2"),
        ]
    );
}
