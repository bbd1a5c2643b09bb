//! Issue 33 (casework 3): the closed loop of a petition over HTTP: 签收, 催办, 回访 → 重办, the
//! note on closing after 不满意, late entry (补录), a reissued query code.

use serde_json::{json, Value};

use crate::common::*;

/// Now, an hour ago and today (policy time zone, Asia/Shanghai).
fn clock() -> (String, String) {
    let now =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+08"));
    let received = (now - chrono::Duration::hours(1)).to_rfc3339();
    let today = (now - chrono::Duration::hours(1)).date_naive().to_string();
    (received, today)
}

async fn step(app: &App, token: &str, id: &str, action: &str, body: Value) -> (u16, Value) {
    let (status, answer, _) = app
        .post(token, &format!("/v1/cases/{id}/{action}"), &body)
        .await;
    (status, answer)
}

async fn ok(app: &App, token: &str, id: &str, action: &str, body: Value) -> Value {
    let (status, answer) = step(app, token, id, action, body).await;
    assert_eq!(status, 200, "{action}: {answer}");
    answer
}

/// The loop of the issue: register → 签收 on time → 催办 → reply → 不满意 → close refused
/// without a note → 重办 → second reply → 满意 → close; the statistics count it.
#[tokio::test]
async fn a_petition_goes_round_the_loop_and_the_figures_show_it() {
    let app = spawn_app().await;
    let (received, today) = clock();
    let mut body = register_body();
    body["received_at"] = json!(received);
    let (status, reg, _) = app.post("county-token", "/v1/cases", &body).await;
    assert_eq!(status, 201, "{reg}");
    let id = reg["case_id"].as_str().expect("id").to_owned();
    // The county registered for gaoqiao: gaoqiao owes the acknowledgement, and only gaoqiao.
    assert_eq!(reg["case"]["acknowledged"], Value::Null, "{reg}");
    assert!(reg["case"]["acknowledge_due_at"].is_string(), "{reg}");
    let (status, p) = step(&app, "county-token", &id, "acknowledge", json!({})).await;
    assert_problem(status, &p, 403, "forbidden");
    let (status, p) = step(&app, "clerk-dongcheng-token", &id, "acknowledge", json!({})).await;
    assert_problem(status, &p, 404, "not_found");
    let a = ok(&app, "clerk-gaoqiao-token", &id, "acknowledge", json!({})).await;
    assert_eq!(a["case"]["acknowledged"]["on_time"], true, "{a}");
    let (status, p) = step(&app, "clerk-gaoqiao-token", &id, "acknowledge", json!({})).await;
    assert_problem(status, &p, 422, "invalid_transition");
    // 催办: the county's alone.
    let (status, p) = step(
        &app,
        "clerk-gaoqiao-token",
        &id,
        "remind",
        json!({"note": "x"}),
    )
    .await;
    assert_problem(status, &p, 403, "forbidden");
    let r = ok(
        &app,
        "county-token",
        &id,
        "remind",
        json!({"note": "请尽快办理"}),
    )
    .await;
    assert_eq!(r["case"]["reminders"]["count"], 1, "{r}");
    ok(&app, "clerk-gaoqiao-token", &id, "accept", json!({})).await;
    ok(
        &app,
        "clerk-gaoqiao-token",
        &id,
        "reply",
        json!({"outcome": "supported", "text": "已答复"}),
    )
    .await;
    ok(
        &app,
        "county-token",
        &id,
        "follow-up",
        json!({"satisfaction": "dissatisfied"}),
    )
    .await;
    let (status, p) = step(&app, "county-token", &id, "close", json!({})).await;
    assert_problem(status, &p, 422, "note_required");
    let (status, p) = step(
        &app,
        "clerk-gaoqiao-token",
        &id,
        "reopen",
        json!({"reason": "r"}),
    )
    .await;
    assert_problem(status, &p, 403, "forbidden");
    let re = ok(
        &app,
        "county-token",
        &id,
        "reopen",
        json!({"reason": "补偿标准未予说明"}),
    )
    .await;
    assert_eq!(re["case"]["status"], "assigned", "{re}");
    assert_eq!(re["case"]["unit"], "gaoqiao", "the unit that replied");
    assert_eq!(re["case"]["reopens"], 1);
    assert_eq!(
        re["case"]["acknowledged"],
        Value::Null,
        "a new accountability"
    );
    ok(&app, "clerk-gaoqiao-token", &id, "acknowledge", json!({})).await;
    ok(
        &app,
        "clerk-gaoqiao-token",
        &id,
        "reply",
        json!({"outcome": "supported", "text": "重新答复：补偿标准已书面说明"}),
    )
    .await;
    ok(
        &app,
        "county-token",
        &id,
        "follow-up",
        json!({"satisfaction": "satisfied"}),
    )
    .await;
    let closed = ok(&app, "county-token", &id, "close", json!({})).await;
    assert_eq!(closed["case"]["status"], "closed", "{closed}");
    let seq = closed["seq"].as_u64().expect("seq");
    let (status, stats) = app
        .get(
            "county-token",
            &format!("/v1/stats?from={today}&to={today}&min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{stats}");
    let total = &stats["total"];
    for (measure, want) in [
        ("acknowledged", 1),
        ("acknowledged_on_time", 1),
        ("reminded", 1),
        ("reopened", 1),
        ("rehandled_on_time", 1),
        ("replied_on_time", 1),
        ("late_entries", 0),
    ] {
        assert_eq!(total[measure], want, "{measure}: {total}");
    }
    assert_eq!(total["acknowledge_on_time_rate"]["value"], 1.0, "{total}");
    // The petitioner's page tells the re-handling among the steps.
    let code = reg["query_code"].as_str().expect("code");
    let no = reg["case_no"].as_str().expect("no");
    let (status, page) = status_page(&app, no, code).await;
    assert_eq!(status, 200, "{page}");
    let steps: Vec<&str> = page["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step_name"].as_str())
        .collect();
    assert!(steps.contains(&"重办"), "{steps:?}");
    assert!(
        !steps.contains(&"签收") && !steps.contains(&"催办"),
        "{steps:?}"
    );
    assert_eq!(page["reply_text"], "重新答复：补偿标准已书面说明");
}

/// 补录: under `require_late_reason` a backdated registration needs its reason; with one it is
/// recorded as a late entry, listed under `flag=late_entry`, shown in the history.
#[tokio::test]
async fn a_late_entry_states_its_reason_and_is_listed() {
    let app = testkit::system::spawn_with(|c| c.policy.require_late_reason = true).await;
    let (status, p, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    assert_problem(status, &p, 422, "late_reason_required");
    let mut body = register_body();
    body["late_reason"] = json!("历史数据导入");
    let (status, late, _) = app.post("county-token", "/v1/cases", &body).await;
    assert_eq!(status, 201, "{late}");
    assert_eq!(late["case"]["flags"]["late_entry"], true, "{late}");
    let (received, _) = clock();
    let mut prompt = register_body();
    prompt["received_at"] = json!(received);
    let (status, fresh, _) = app.post("county-token", "/v1/cases", &prompt).await;
    assert_eq!(
        status, 201,
        "a step entered in time needs no reason: {fresh}"
    );
    let seq = fresh["seq"].as_u64().expect("seq");
    for token in ["county-token", "auditor-token"] {
        let (status, list) = app
            .get(token, &format!("/v1/cases?flag=late_entry&min_seq={seq}"))
            .await;
        assert_eq!(status, 200, "{list}");
        let ids: Vec<&Value> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| &i["case_id"])
            .collect();
        assert_eq!(ids, vec![&late["case_id"]], "{token}: {list}");
    }
    let id = late["case_id"].as_str().expect("id");
    let (status, history) = app
        .get(
            "auditor-token",
            &format!("/v1/cases/{id}/history?min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let first = &history["events"][0];
    assert_eq!(first["late_entry"], true, "{first}");
    assert_eq!(first["late_reason"], "历史数据导入", "{first}");
    // A step of the late case entered now, dated now, is no late entry.
    let a = ok(
        &app,
        "county-token",
        id,
        "remind",
        json!({"note": "请尽快受理"}),
    )
    .await;
    let (_, history) = app
        .get(
            "auditor-token",
            &format!("/v1/cases/{id}/history?min_seq={}", a["seq"]),
        )
        .await;
    assert_eq!(history["events"][1]["late_entry"], Value::Null, "{history}");
    // The registration is an overdue case that was never acknowledged: escalated and flagged.
    let (_, case) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(case["flags"]["unacknowledged"], true, "{case}");
    assert_eq!(case["flags"]["escalated"], true, "{case}");
    let (_, escalated) = app
        .get(
            "county-token",
            &format!("/v1/cases?flag=escalated&min_seq={seq}"),
        )
        .await;
    let ids: Vec<&Value> = escalated["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["case_id"])
        .collect();
    assert_eq!(ids, vec![&late["case_id"]], "{escalated}");
}

/// A lost query code is reissued by the registering township or the county; the old code stops
/// working, the new one opens the page.
#[tokio::test]
async fn a_reissued_query_code_replaces_the_old_one() {
    let app = spawn_app().await;
    let (status, reg, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    assert_eq!(status, 201, "{reg}");
    let (id, no) = (
        reg["case_id"].as_str().expect("id"),
        reg["case_no"].as_str().expect("no"),
    );
    let old = reg["query_code"].as_str().expect("code");
    let (status, p) = step(
        &app,
        "clerk-dongcheng-token",
        id,
        "reissue-query-code",
        json!({}),
    )
    .await;
    assert_problem(status, &p, 404, "not_found");
    let (status, p) = step(&app, "auditor-token", id, "reissue-query-code", json!({})).await;
    assert_problem(status, &p, 403, "forbidden");
    let issued = ok(
        &app,
        "clerk-gaoqiao-token",
        id,
        "reissue-query-code",
        json!({}),
    )
    .await;
    let new = issued["query_code"].as_str().expect("new code");
    assert!(issued["seq"].as_u64() > reg["seq"].as_u64(), "{issued}");
    assert_ne!(new, old);
    let (status, _) = status_page(&app, no, old).await;
    assert_eq!(status, 404, "the old code stops working");
    let (status, page) = status_page(&app, no, new).await;
    assert_eq!(status, 200, "{page}");
    // The county may too, and a reissue is never a step the petitioner is told of.
    let again = ok(&app, "county-token", id, "reissue-query-code", json!({})).await;
    let newest = again["query_code"].as_str().expect("code");
    let (status, _) = status_page(&app, no, new).await;
    assert_eq!(status, 404);
    let (status, page) = status_page(&app, no, newest).await;
    assert_eq!(status, 200);
    assert!(
        !page.to_string().contains("重发查询码"),
        "not a step of the petition: {page}"
    );
}
