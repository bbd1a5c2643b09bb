//! Concurrent writers on one case: nothing lost, nothing overwritten.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_commands_without_if_match_are_each_applied_once() {
    let app = spawn_app().await;
    let id = app.register().await;
    let (s, b, _) = app
        .post(
            "county-token",
            &format!("/v1/cases/{id}/accept"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    // Supervision notes: all legal in any order, so every one must land exactly once. Half go
    // through a second API instance, so the two really race on the expected sequence.
    let (second, _task) = app.second_api().await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let http = app.http.clone();
        let base = if i % 2 == 0 { &app.base } else { &second };
        let url = format!("{base}/v1/cases/{id}/supervise");
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth("county-token")
                .json(&json!({"note": format!("chase {i}")}))
                .send()
                .await
                .expect("send");
            r.status().as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        assert_eq!(t.await.expect("task"), 200);
        ok += 1;
    }
    let (s, case) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(
        case["version"],
        2 + ok,
        "1 registration + 1 acceptance + every supervision"
    );
    let (_, history) = app
        .get("county-token", &format!("/v1/cases/{id}/history"))
        .await;
    let notes: std::collections::BTreeSet<String> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "CaseSupervised")
        .map(|e| e["data"]["note"].as_str().expect("note").to_owned())
        .collect();
    assert_eq!(notes.len(), 64, "each supervision exactly once");
    let versions: Vec<u64> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["version"].as_u64().expect("v"))
        .collect();
    assert_eq!(
        versions,
        (1..=66).collect::<Vec<u64>>(),
        "versions are gapless"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_commands_with_the_same_if_match_have_exactly_one_winner() {
    let app = spawn_app().await;
    let id = app.register().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let http = app.http.clone();
        let url = format!("{}/v1/cases/{id}/supervise", app.base);
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth("county-token")
                .header("If-Match", "\"1\"")
                .json(&json!({"note": format!("chase {i}")}))
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.expect("json");
            (status, body)
        }));
    }
    let mut won = 0;
    for t in tasks {
        let (status, body) = t.await.expect("task");
        match status {
            200 => won += 1,
            409 => assert_problem(status, &body, 409, "version_conflict"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(app.history_len(&id).await, 2, "losers appended nothing");
}
