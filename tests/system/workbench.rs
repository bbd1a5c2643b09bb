//! Issue 13 (casework 2): the county's workbench.

use serde_json::{json, Value};

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

/// Register `n` cases in gaoqiao, received on different days of March, `parallel` at a time;
/// returns their ids and the last sequence.
async fn register_many(app: &App, n: usize, offset: usize) -> (Vec<String>, u64) {
    use futures::StreamExt as _;
    let results: Vec<(String, u64)> = futures::stream::iter(0..n)
        .map(|i| async move {
            let mut body = register_body();
            let k = i + offset;
            body["received_at"] = json!(format!(
                "2026-03-{:02}T{:02}:{:02}:00+08:00",
                1 + k % 28,
                8 + (k / 28) % 10,
                k % 60
            ));
            body["headcount"] = json!(1 + k % 3);
            // Different people, known by name only (one petitioner with thousands of open
            // cases would be a test of the identity index instead).
            body["petitioners"] = json!([{"name": format!("信访人{k}")}]);
            let (status, out, _) = app.post("county-token", "/v1/cases", &body).await;
            assert_eq!(status, 201, "{out}");
            (
                out["case_id"].as_str().expect("id").to_owned(),
                out["seq"].as_u64().expect("seq"),
            )
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let seq = results.iter().map(|r| r.1).max().unwrap_or(0);
    (results.into_iter().map(|r| r.0).collect(), seq)
}

/// Issue 13, finding 3 and item 5: the county's workbench pages through every unit's open cases
/// with cursors that stay stable while cases are being added; nothing is seen twice or skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbench_pages_through_2000_open_cases_with_stable_cursors_while_cases_are_added() {
    let app = std::sync::Arc::new(spawn_app().await);
    let (ids, seq) = register_many(&app, 2000, 0).await;
    // The cases model catches up (a debug build applies a few hundred events a second).
    testkit::eventually(
        std::time::Duration::from_secs(120),
        "the cases model to catch up",
        || {
            let app = app.clone();
            async move {
                let (status, _) = app
                    .get(
                        "county-token",
                        &format!("/v1/workbench?limit=1&min_seq={seq}"),
                    )
                    .await;
                (status == 200).then_some(())
            }
        },
    )
    .await;
    let adding = {
        let app = app.clone();
        tokio::spawn(async move { register_many(&app, 300, 5000).await })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let mut last_due: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/workbench?limit=100&cursor={c}"),
            None => "/v1/workbench?limit=100".to_owned(),
        };
        let (status, page) = app.get("auditor-token", &path).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 100);
        for item in items {
            // Soonest deadline first, across pages.
            let due = item["due_at"].as_str().map(str::to_owned);
            if let (Some(prev), Some(d)) = (&last_due, &due) {
                let (p, d) = (
                    chrono::DateTime::parse_from_rfc3339(prev).expect("due"),
                    chrono::DateTime::parse_from_rfc3339(d).expect("due"),
                );
                assert!(p <= d, "{prev} then {d}");
            }
            last_due = due;
            seen.push(item["case_id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let (added, _) = adding.await.expect("adding");
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no case twice");
    for id in &ids {
        assert!(
            unique.contains(id),
            "case {id} of the first 2000 was skipped"
        );
    }
    assert!(seen.iter().all(|s| ids.contains(s) || added.contains(s)));
    assert!(pages >= 20, "{pages} pages");
    // Newest received first: every open case once, in order; a cursor keeps the sort of the
    // page it came from, whatever `sort` says (any schema-valid pair is answered).
    let mut newest: Vec<(String, String)> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/workbench?limit=250&sort=due&cursor={c}"),
            None => "/v1/workbench?limit=250&sort=received".to_owned(),
        };
        let (status, page) = app.get("auditor-token", &path).await;
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().expect("items") {
            let at = item["received_at"].as_str().expect("received");
            let at = chrono::DateTime::parse_from_rfc3339(at)
                .expect("time")
                .to_rfc3339();
            newest.push((at, item["case_id"].as_str().expect("id").to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert!(c.starts_with("r1"), "{c}");
                cursor = Some(c.to_owned());
            }
            None => break,
        }
    }
    let received: Vec<&String> = newest.iter().map(|(at, _)| at).collect();
    assert!(received.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let once: std::collections::BTreeSet<&String> = newest.iter().map(|(_, id)| id).collect();
    assert_eq!(once.len(), newest.len(), "no case twice");
    assert!(ids.iter().all(|id| once.contains(id)), "every open case");
    // The counts cover the whole workbench; the county's own queue is only its own unit's.
    let (_, last) = app
        .get(
            "county-token",
            &format!("/v1/workbench?limit=1&min_seq={seq}"),
        )
        .await;
    assert!(
        last["counts"]["open"].as_u64().expect("open") >= 2000,
        "{last}"
    );
    assert_eq!(
        last["counts"]["overdue"], last["counts"]["open"],
        "received in March: all overdue"
    );
    let (_, own) = app.get("county-token", "/v1/queues/county").await;
    assert_eq!(own["counts"]["open"], 0, "{own}");
    assert_eq!(own["unit"], "county");
}

/// Issue 13, finding 3: queue items carried only id, number, status and due date, and replied
/// cases were mixed with cases on the clock.
#[tokio::test]
async fn queue_items_are_case_summaries_and_replied_cases_are_their_own_stage() {
    let app = spawn_app().await;
    let a = app.register().await;
    let b = app.register().await;
    step(
        &app,
        "clerk-gaoqiao-token",
        &b,
        "accept",
        json!({"occurred_at": "2026-03-03T10:00:00+08:00"}),
    )
    .await;
    let seq = step(
        &app,
        "clerk-gaoqiao-token",
        &b,
        "reply",
        json!({"outcome": "explained", "text": "已答复", "occurred_at": "2026-03-04T10:00:00+08:00"}),
    )
    .await["seq"]
        .as_u64()
        .expect("seq");
    let (status, q) = app
        .get(
            "clerk-gaoqiao-token",
            &format!("/v1/queues/gaoqiao?min_seq={seq}"),
        )
        .await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["counts"]["open"], 2, "{q}");
    assert_eq!(q["counts"]["awaiting_close"], 1);
    assert_eq!(
        q["counts"]["overdue"], 1,
        "the unaccepted one, received in March"
    );
    let items = q["items"].as_array().expect("items");
    assert_eq!(items[0]["case_id"], json!(a), "on the clock first");
    assert_eq!(items[1]["case_id"], json!(b), "awaiting closure after");
    let first = &items[0];
    for field in [
        "summary",
        "category",
        "channel",
        "headcount",
        "unit_name",
        "township_name",
        "stage",
        "days_left",
        "flags",
        "bounces",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    assert_eq!(first["unit_name"], "高桥镇");
    assert_eq!(first["stage"], "acceptance");
    let (_, replied) = app
        .get(
            "clerk-gaoqiao-token",
            &format!("/v1/queues/gaoqiao?stage=awaiting_close&min_seq={seq}"),
        )
        .await;
    let only: Vec<&Value> = replied["items"].as_array().expect("items").iter().collect();
    assert_eq!(only.len(), 1, "{replied}");
    assert_eq!(only[0]["case_id"], json!(b));
    assert!(only[0]["due_at"].is_null());
    let (status, done) = app
        .get("clerk-gaoqiao-token", "/v1/queues/gaoqiao?stage=done")
        .await;
    assert_problem(status, &done, 422, "validation");
    let (status, bad) = app
        .get("clerk-gaoqiao-token", "/v1/queues/gaoqiao?cursor=c1nope")
        .await;
    assert_problem(status, &bad, 400, "validation");
    let (status, other) = app.get("clerk-gaoqiao-token", "/v1/workbench").await;
    assert_problem(status, &other, 403, "forbidden");
}
