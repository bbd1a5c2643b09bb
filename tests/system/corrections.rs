//! Issue 13: corrections as facts (更正), withdrawal (撤回), the complete case view, and
//! accusations kept from the accused unit (检举控告), over real HTTP and NATS.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

/// A registration received an hour ago (a township's correction window runs from receipt).
fn recent(township: &str, headcount: u32) -> Value {
    let mut body = register_body();
    let at = (chrono::Utc::now() - chrono::Duration::hours(1))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"));
    body["received_at"] = json!(at.to_rfc3339());
    body["township"] = json!(township);
    body["headcount"] = json!(headcount);
    body
}

async fn registered(app: &App, token: &str, body: &Value) -> (String, u64) {
    let (status, out, _) = app.post(token, "/v1/cases", body).await;
    assert_eq!(status, 201, "{out}");
    (
        out["case_id"].as_str().expect("id").to_owned(),
        out["seq"].as_u64().expect("seq"),
    )
}

async fn step(app: &App, token: &str, id: &str, action: &str, body: Value) -> Value {
    let (status, out, _) = app
        .post(token, &format!("/v1/cases/{id}/{action}"), &body)
        .await;
    assert_eq!(status, 200, "{action}: {out}");
    out
}

fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive()
        .to_string()
}

async fn stats(app: &App, token: &str, query: &str, seq: u64) -> Value {
    let day = today();
    let from = (chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").expect("day")
        - chrono::Duration::days(2))
    .to_string();
    let (status, out) = app
        .get(
            token,
            &format!("/v1/stats?from={from}&to={day}&min_seq={seq}{query}"),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    out
}

/// Issue 13, finding 1: a wrong headcount or category no longer stays in the statistics forever.
#[tokio::test]
async fn a_correction_changes_the_statistics_and_the_history_shows_before_and_after() {
    let app = spawn_app().await;
    let (id, seq) = registered(&app, "clerk-gaoqiao-token", &recent("gaoqiao", 6)).await;
    let before = stats(&app, "analyst-token", "", seq).await;
    assert_eq!(before["total"]["collective_batches"], 1, "{before}");
    assert_eq!(before["total"]["persons"], 6);

    // Another township does not learn of the case; nothing to change is an error.
    let body = json!({"reason": "人数登记错误", "changes": {"headcount": 2, "category": "wages"}});
    let (status, out, _) = app
        .post(
            "clerk-dongcheng-token",
            &format!("/v1/cases/{id}/correct"),
            &body,
        )
        .await;
    assert_problem(status, &out, 404, "not_found");
    let (status, out, _) = app
        .post(
            "clerk-gaoqiao-token",
            &format!("/v1/cases/{id}/correct"),
            &json!({"reason": "x", "changes": {}}),
        )
        .await;
    assert_problem(status, &out, 422, "validation");
    // The registering township corrects within the window, never the township itself.
    let (status, out, _) = app
        .post(
            "clerk-gaoqiao-token",
            &format!("/v1/cases/{id}/correct"),
            &json!({"reason": "镇别错误", "changes": {"township": "dongcheng"}}),
        )
        .await;
    assert_problem(status, &out, 403, "forbidden");
    let out = step(&app, "clerk-gaoqiao-token", &id, "correct", body).await;
    assert_eq!(out["case"]["headcount"], 2, "{out}");
    assert_eq!(out["case"]["category"], "wages");
    assert_eq!(out["case"]["flags"]["collective"], false);
    let seq = out["seq"].as_u64().expect("seq");

    let after = stats(&app, "analyst-token", "&group_by=category", seq).await;
    assert_eq!(after["total"]["collective_batches"], 0, "{after}");
    assert_eq!(after["total"]["persons"], 2);
    assert_eq!(after["total"]["items"], 1, "one case, counted once");
    let rows: Vec<&str> = after["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["key"].as_str().expect("key"))
        .collect();
    assert_eq!(rows, ["wages"], "the case moved to its corrected category");

    let (status, history) = app
        .get(
            "county-token",
            &format!("/v1/cases/{id}/history?min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let corrected = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == "RegistrationCorrected")
        .expect("the correction is in the history")
        .clone();
    assert_eq!(corrected["data"]["before"]["headcount"], 6, "{corrected}");
    assert_eq!(corrected["data"]["after"]["headcount"], 2);
    assert_eq!(corrected["data"]["before"]["category"], "land");
    assert_eq!(corrected["data"]["after"]["category"], "wages");
    assert_eq!(corrected["actor"]["id"], "clerk-gaoqiao");

    // The county corrects a mistyped township: the case moves to the other township's figures
    // and queue, and that township's clerk now acts on it.
    let out = step(
        &app,
        "county-token",
        &id,
        "correct",
        json!({"reason": "镇别登记错误", "changes": {"township": "dongcheng"}}),
    )
    .await;
    assert_eq!(out["case"]["township"], "dongcheng", "{out}");
    assert_eq!(out["case"]["unit"], "dongcheng");
    assert_eq!(out["case"]["township_name"], "东城镇");
    let seq = out["seq"].as_u64().expect("seq");
    let moved = stats(&app, "clerk-dongcheng-token", "&township=dongcheng", seq).await;
    assert_eq!(moved["total"]["items"], 1, "{moved}");
    let old = stats(&app, "clerk-gaoqiao-token", "&township=gaoqiao", seq).await;
    assert_eq!(old["total"]["items"], 0, "{old}");
    let (status, queue) = app
        .get(
            "clerk-dongcheng-token",
            &format!("/v1/queues/dongcheng?min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue["items"][0]["case_id"], json!(id), "{queue}");
    step(&app, "clerk-dongcheng-token", &id, "accept", json!({})).await;
}

#[tokio::test]
async fn a_withdrawn_case_is_done_and_counted() {
    let app = spawn_app().await;
    let (id, _) = registered(&app, "clerk-gaoqiao-token", &recent("gaoqiao", 1)).await;
    let out = step(
        &app,
        "clerk-gaoqiao-token",
        &id,
        "withdraw",
        json!({"reason": "信访人撤回"}),
    )
    .await;
    assert_eq!(out["case"]["status"], "withdrawn", "{out}");
    assert_eq!(out["case"]["stage"], "done");
    let seq = out["seq"].as_u64().expect("seq");
    let (status, again, _) = app
        .post(
            "county-token",
            &format!("/v1/cases/{id}/withdraw"),
            &json!({"reason": "again"}),
        )
        .await;
    assert_problem(status, &again, 422, "invalid_transition");
    let s = stats(&app, "analyst-token", "", seq).await;
    assert_eq!(
        (
            s["total"]["items"].as_i64(),
            s["total"]["withdrawn"].as_i64()
        ),
        (Some(1), Some(1)),
        "{s}"
    );
    let (_, queue) = app
        .get(
            "clerk-gaoqiao-token",
            &format!("/v1/queues/gaoqiao?min_seq={seq}"),
        )
        .await;
    assert_eq!(queue["counts"]["open"], 0, "{queue}");
}

/// Issue 13, finding 6: an accusation's summary reached the accused township's feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accused_unit_finds_no_trace_of_the_accusation() {
    let app = spawn_app().await;
    let data = tempfile::tempdir().expect("tmp");
    let feed = crate::feed::start_feed(&app, data.path()).await;
    let js = async_nats::jetstream::new(app.nats.connect().await);
    let summary = "举报镇长收受贿赂";
    let mut body = recent("gaoqiao", 1);
    body["accusation"] = json!(true);
    body["accused_unit"] = json!("gaoqiao");
    body["summary"] = json!(summary);
    // Registered by the accused township's own clerk: the county holds it from registration.
    let (status, reg, _) = app.post("clerk-gaoqiao-token", "/v1/cases", &body).await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["case"]["unit"], "county", "{reg}");
    let id = reg["case_id"].as_str().expect("id").to_owned();
    let case_no = reg["case_no"].as_str().expect("case_no").to_owned();
    // Assigning or transferring it to the accused unit is refused.
    for (action, body) in [
        ("assign", json!({"unit": "gaoqiao"})),
        ("transfer", json!({"unit": "gaoqiao", "reason": "属地"})),
    ] {
        let (status, out, _) = app
            .post("county-token", &format!("/v1/cases/{id}/{action}"), &body)
            .await;
        assert_problem(status, &out, 422, "accused_unit");
    }
    // An accusation against a department, handled by dongcheng: its summary stays out of the feed.
    let mut other = recent("dongcheng", 1);
    other["accusation"] = json!(true);
    other["accused_unit"] = json!("land_bureau");
    other["summary"] = json!(summary);
    let (other_id, _) = registered(&app, "county-token", &other).await;
    let seq = step(
        &app,
        "county-token",
        &id,
        "supervise",
        json!({"note": "督办"}),
    )
    .await["seq"]
        .as_u64()
        .expect("seq");
    let (status, county_view) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        county_view["accused_unit"], "gaoqiao",
        "the county sees whom it accuses"
    );

    // No endpoint gives the accused township a trace.
    for (token, path) in [
        ("clerk-gaoqiao-token", format!("/v1/cases/{id}")),
        ("clerk-gaoqiao-token", format!("/v1/cases/{id}/history")),
        ("clerk-gaoqiao-token", format!("/v1/cases/by-no/{case_no}")),
        ("handler-land-token", format!("/v1/cases/{other_id}")),
    ] {
        let (status, out) = app.get(token, &path).await;
        assert_problem(status, &out, 404, "not_found");
    }
    for (token, path) in [
        ("clerk-gaoqiao-token", format!("/v1/cases?min_seq={seq}")),
        (
            "clerk-gaoqiao-token",
            format!("/v1/cases?q=%E4%B8%BE%E6%8A%A5&min_seq={seq}"),
        ),
        (
            "clerk-gaoqiao-token",
            format!("/v1/queues/gaoqiao?min_seq={seq}"),
        ),
        (
            "handler-land-token",
            format!("/v1/queues/land_bureau?min_seq={seq}"),
        ),
    ] {
        let (status, out) = app.get(token, &path).await;
        assert_eq!(status, 200, "{path}: {out}");
        assert!(
            !out.to_string().contains(&id) && !out.to_string().contains(&other_id),
            "{path}: {out}"
        );
    }
    let (status, found, _) = app
        .post(
            "clerk-gaoqiao-token",
            "/v1/cases/search",
            &json!({"id_number": "330102199001011234"}),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["items"], json!([]), "{found}");
    // Not even in a figure: the township's own statistics leave the case out; the county's count it.
    let mine = stats(&app, "clerk-gaoqiao-token", "&township=gaoqiao", seq).await;
    assert_eq!(mine["total"]["items"], 0, "{mine}");
    let county = stats(&app, "county-token", "&township=gaoqiao", seq).await;
    assert_eq!(county["total"]["items"], 1, "{county}");

    // The feed: nothing of the first case for the accused township, and no summary anywhere.
    testkit::eventually(Duration::from_secs(20), "the feed to deliver", || {
        let js = js.clone();
        let other_id = other_id.clone();
        async move {
            let n = crate::support::subject_count(
                &js,
                "XF_FEED",
                &format!("xf.feed.dongcheng.{other_id}"),
            )
            .await;
            (n >= 1).then_some(())
        }
    })
    .await;
    let mut stream = js.get_stream("XF_FEED").await.expect("feed");
    let info = stream.info().await.expect("info").clone();
    let mut in_feed = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        let msg = stream.get_raw_message(seq).await.expect("message");
        in_feed.push((
            msg.subject.to_string(),
            String::from_utf8_lossy(&msg.payload).to_string(),
        ));
    }
    assert!(!in_feed.is_empty());
    for (subject, payload) in &in_feed {
        assert!(!subject.starts_with("xf.feed.gaoqiao."), "{subject}");
        assert!(!subject.starts_with("xf.feed.land_bureau."), "{subject}");
        assert!(!payload.contains(summary), "{subject}: {payload}");
    }
    feed.abort();
}

/// Issue 13, finding 8: the case view lacked the reply, the satisfaction and the review deadline.
#[tokio::test]
async fn the_case_view_shows_the_reply_the_follow_up_and_the_review_deadline() {
    let app = spawn_app().await;
    let id = app.register().await;
    step(
        &app,
        "county-token",
        &id,
        "accept",
        json!({"occurred_at": "2026-03-03T10:00:00+08:00"}),
    )
    .await;
    let replied = step(
        &app,
        "clerk-gaoqiao-token",
        &id,
        "reply",
        json!({"outcome": "supported", "text": "补偿款已发放", "occurred_at": "2026-03-10T10:00:00+08:00"}),
    )
    .await;
    let case = &replied["case"];
    assert_eq!(case["reply"]["outcome"], "supported", "{case}");
    assert_eq!(case["reply"]["text"], "补偿款已发放");
    assert_eq!(case["reply"]["at"], "2026-03-10T10:00:00+08:00");
    assert_eq!(case["review_request_due_at"], "2026-04-09T23:59:59+08:00");
    assert_eq!(case["stage"], "awaiting_close");
    let followed = step(
        &app,
        "clerk-gaoqiao-token",
        &id,
        "follow-up",
        json!({"satisfaction": "satisfied", "occurred_at": "2026-03-11T10:00:00+08:00"}),
    )
    .await;
    assert_eq!(followed["case"]["follow_up"]["satisfaction"], "satisfied");
    assert_eq!(
        followed["case"]["follow_up"]["at"],
        "2026-03-11T10:00:00+08:00"
    );
    let (status, read) = app
        .get("clerk-gaoqiao-token", &format!("/v1/cases/{id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(read["reply"], case["reply"]);
    assert_eq!(read["unit_name"], "高桥镇");
    assert!(read.get("accused_unit").is_none());
}
