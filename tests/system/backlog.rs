//! Issue 35, the backlog (积案) over HTTP: a petitioner's third case of a category and a case
//! received 100 days ago are listed under `flag=backlog`; the county sets a plan (一案一策); closing
//! the old case moves `backlog_resolved` and the rate.

use serde_json::{json, Value};

use crate::common::*;

async fn step(app: &App, token: &str, id: &str, action: &str, body: Value) -> (u16, Value) {
    let (status, answer, _) = app
        .post(token, &format!("/v1/cases/{id}/{action}"), &body)
        .await;
    (status, answer)
}

async fn register(app: &App, body: &Value) -> (String, Value) {
    let (status, reg, _) = app.post("county-token", "/v1/cases", body).await;
    assert_eq!(status, 201, "{reg}");
    let id = reg["case_id"].as_str().expect("id").to_owned();
    (id, reg)
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["case_id"].as_str().expect("id"))
        .collect()
}

#[tokio::test]
async fn backlog_cases_are_listed_planned_and_counted_when_resolved() {
    let app = spawn_app().await;
    let now =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+08"));
    let hour_ago = (now - chrono::Duration::hours(1)).to_rfc3339();
    let today = now.date_naive();
    // One petitioner's three cases of one category: the third is backlog from registration.
    let mut body = register_body();
    body["received_at"] = json!(hour_ago);
    let mut cases = Vec::new();
    for _ in 0..3 {
        cases.push(register(&app, &body).await);
    }
    let ranks: Vec<(u64, bool)> = cases
        .iter()
        .map(|(_, r)| {
            let c = &r["case"];
            (
                c["repeat_rank"].as_u64().expect("rank"),
                c["flags"]["backlog"].as_bool().expect("flag"),
            )
        })
        .collect();
    assert_eq!(ranks, [(1, false), (2, false), (3, true)]);
    let third = cases[2].0.clone();
    // Another petitioner's case received 100 days ago (entered late): backlog by its age.
    let mut old = register_body();
    old["received_at"] = json!((now - chrono::Duration::days(100)).to_rfc3339());
    old["petitioners"] = json!([{"name": "李四", "phone": "13900000000"}]);
    old["late_reason"] = json!("历史积案补录");
    let (old_id, reg) = register(&app, &old).await;
    assert_eq!(reg["case"]["flags"]["backlog"], true, "{reg}");
    let seq = reg["seq"].as_u64().expect("seq");
    let (status, page) = app
        .get(
            "county-token",
            &format!("/v1/cases?flag=backlog&min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), [third.as_str(), old_id.as_str()], "{page}");

    // 一案一策: the county's, by a date not before today; the plan shows on the case and in lists.
    let target = (today + chrono::Duration::days(30)).to_string();
    let plan =
        json!({"plan": "县信访局牵头约谈，分期清偿", "leader": "王建华", "target_date": target});
    let (status, p) = step(
        &app,
        "clerk-gaoqiao-token",
        &old_id,
        "resolution-plan",
        plan.clone(),
    )
    .await;
    assert_problem(status, &p, 403, "forbidden");
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    let (status, p) = step(
        &app,
        "county-token",
        &old_id,
        "resolution-plan",
        json!({"plan": "约谈", "target_date": yesterday}),
    )
    .await;
    assert_problem(status, &p, 422, "validation");
    let (status, planned) = step(&app, "county-token", &old_id, "resolution-plan", plan).await;
    assert_eq!(status, 200, "{planned}");
    let shown = &planned["case"]["resolution_plan"];
    assert_eq!(
        (&shown["leader"], &shown["target_date"], &shown["overdue"]),
        (&json!("王建华"), &json!(target), &json!(false)),
        "{planned}"
    );
    let seq = planned["seq"].as_u64().expect("seq");
    let (_, page) = app
        .get(
            "county-token",
            &format!("/v1/cases?flag=backlog&min_seq={seq}"),
        )
        .await;
    assert_eq!(
        page["items"][1]["resolution_plan"]["plan"],
        "县信访局牵头约谈，分期清偿"
    );

    // The month so far: two backlog cases open, none resolved.
    let month = format!("from={}&to={today}", today.format("%Y-%m-01"));
    let figures = |seq: u64| {
        let path = format!("/v1/stats?{month}&min_seq={seq}");
        let app = &app;
        async move {
            let (status, stats) = app.get("county-token", &path).await;
            assert_eq!(status, 200, "{stats}");
            let t = &stats["total"];
            (
                t["backlog_open"].as_i64().expect("open"),
                t["backlog_resolved"].as_i64().expect("resolved"),
                t["backlog_resolution_rate"]["value"].as_f64(),
            )
        }
    };
    assert_eq!(figures(seq).await, (2, 0, Some(0.0)));
    // Resolved: accepted, replied and closed today.
    let mut seq = seq;
    for (action, body) in [
        ("accept", json!({})),
        ("reply", json!({"outcome": "supported", "text": "已答复"})),
        ("close", json!({})),
    ] {
        let (status, answer) = step(&app, "county-token", &old_id, action, body).await;
        assert_eq!(status, 200, "{action}: {answer}");
        seq = answer["seq"].as_u64().expect("seq");
        if action == "close" {
            assert_eq!(answer["case"]["flags"]["backlog"], false, "{answer}");
        }
    }
    assert_eq!(figures(seq).await, (1, 1, Some(0.5)));
    let (_, page) = app
        .get(
            "county-token",
            &format!("/v1/cases?flag=backlog&min_seq={seq}"),
        )
        .await;
    assert_eq!(ids(&page), [third.as_str()]);
    // A done case takes no plan.
    let (status, p) = step(
        &app,
        "county-token",
        &old_id,
        "resolution-plan",
        json!({"plan": "约谈", "target_date": target}),
    )
    .await;
    assert_problem(status, &p, 422, "invalid_transition");
}
