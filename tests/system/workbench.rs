//! Issue 13 (casework 2): the county's workbench.

use serde_json::json;

use crate::common::*;

async fn step(
    app: &App,
    token: &str,
    id: &str,
    action: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, out, _) = app
        .post(token, &format!("/v1/cases/{id}/{action}"), &body)
        .await;
    assert_eq!(status, 200, "{action}: {out}");
    out
}

/// Issue 13, finding 2: a case can be routed before acceptance, and four transfers back and forth
/// (推诿) are flagged, listed for the county and counted.
#[tokio::test]
async fn a_case_bounced_between_units_is_flagged_listed_and_counted() {
    let app = spawn_app().await;
    let (status, reg, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    assert_eq!(status, 201, "{reg}");
    let id = reg["case_id"].as_str().expect("id").to_owned();
    // The wrong township first: routed before acceptance, the clock from receipt runs on.
    let routed = step(
        &app,
        "clerk-gaoqiao-token",
        &id,
        "transfer",
        json!({"unit": "dongcheng", "reason": "属东城镇"}),
    )
    .await;
    assert_eq!(routed["case"]["status"], "registered");
    assert_eq!(routed["case"]["due_at"], reg["case"]["due_at"]);
    step(&app, "clerk-dongcheng-token", &id, "accept", json!({})).await;
    let mut last = routed;
    for (token, to) in [
        ("clerk-dongcheng-token", "land_bureau"),
        ("handler-land-token", "dongcheng"),
        ("clerk-dongcheng-token", "land_bureau"),
    ] {
        last = step(
            &app,
            token,
            &id,
            "transfer",
            json!({"unit": to, "reason": "不归我们管"}),
        )
        .await;
    }
    assert_eq!(last["case"]["bounces"], 3, "{last}");
    assert_eq!(last["case"]["flags"]["bounced"], true);
    let seq = last["seq"].as_u64().expect("seq");
    let (status, list) = app
        .get(
            "county-token",
            &format!("/v1/cases?flag=bounced&min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["case_id"], json!(id));
    assert_eq!(items[0]["bounces"], 3);
    assert_eq!(items[0]["unit_name"], "县自然资源局", "{list}");
    let (status, stats) = app
        .get(
            "analyst-token",
            &format!("/v1/stats?from=2026-03-01&to=2026-03-31&min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["total"]["bounced"], 1, "{stats}");
    // The county may keep a case itself.
    let (_, other, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    let other_id = other["case_id"].as_str().expect("id");
    let kept = step(
        &app,
        "county-token",
        other_id,
        "assign",
        json!({"unit": "county"}),
    )
    .await;
    assert_eq!(kept["case"]["unit"], "county");
    step(&app, "county-token", other_id, "accept", json!({})).await;
}

/// Issue 13, items 3 and 4: the supervision board and leader ownership.
#[tokio::test]
async fn the_supervision_board_and_leader_ownership() {
    let app = spawn_app().await;
    let (_, reg, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    let id = reg["case_id"].as_str().expect("id").to_owned();
    step(
        &app,
        "county-token",
        &id,
        "accept",
        json!({"occurred_at": "2026-03-05T09:00:00+08:00"}),
    )
    .await;
    // Chased twice; the unit committed to a date in the past of the clock (business time lies
    // behind: the case was received in March).
    step(&app, "county-token", &id, "supervise", json!({"note": "请加快办理", "due_date": "2026-04-01", "occurred_at": "2026-03-10T10:00:00+08:00"})).await;
    step(&app, "county-token", &id, "supervise", json!({"note": "再次督办", "due_date": "2026-04-15", "occurred_at": "2026-03-20T10:00:00+08:00"})).await;
    let (status, p, _) = app
        .post(
            "clerk-gaoqiao-token",
            &format!("/v1/cases/{id}/assign-leader"),
            &json!({"name": "王建华", "title": "副县长"}),
        )
        .await;
    assert_eq!(status, 403, "county only: {p}");
    let owned = step(
        &app,
        "county-token",
        &id,
        "assign-leader",
        json!({"name": "王建华", "title": "副县长"}),
    )
    .await;
    assert_eq!(
        owned["case"]["leader"],
        json!({"name": "王建华", "title": "副县长"})
    );
    // Names beside the codes (issue 13, item 8).
    assert_eq!(owned["case"]["township_name"], "高桥镇");
    assert_eq!(owned["case"]["unit_name"], "高桥镇");
    let sup = &owned["case"]["supervision"];
    assert_eq!(sup["count"], 2, "{owned}");
    assert_eq!(sup["committed_date"], "2026-04-15");
    assert_eq!(
        sup["committed_overdue"], true,
        "the date has passed, the case is open"
    );
    let seq = owned["seq"].as_u64().expect("seq");
    for path in [
        format!("/v1/cases?flag=supervised&min_seq={seq}"),
        format!("/v1/cases?leader=%E7%8E%8B%E5%BB%BA%E5%8D%8E&min_seq={seq}"),
    ] {
        let (status, list) = app.get("county-token", &path).await;
        assert_eq!(status, 200, "{list}");
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{path}: {list}");
        assert_eq!(items[0]["supervision"]["count"], 2);
        assert_eq!(items[0]["leader"]["name"], "王建华");
    }
    let (_, none) = app
        .get(
            "county-token",
            &format!("/v1/cases?leader=%E6%9D%8E%E5%9B%9B&min_seq={seq}"),
        )
        .await;
    assert!(none["items"].as_array().expect("items").is_empty());
}
