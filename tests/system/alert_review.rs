//! Issue 35, 研判: the county's review of an alert is an event on the alert's own subject,
//! chained, signed and verified like a case's, in the actor trail with the alert's id, on no
//! feed; the latest review holds, and as of a past point only the reviews up to it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

/// Two collective visits at gaoqiao on land, 12 and 5 days ago: a `collective_repeat` alert.
async fn collective_alert(app: &App) -> (String, u64) {
    let zone = chrono::FixedOffset::east_opt(8 * 3600).expect("+08");
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let mut last = 0;
    for ago in [12, 5] {
        let mut body = register_body();
        body["township"] = json!("gaoqiao");
        body["category"] = json!("land");
        body["channel"] = json!("visit");
        body["headcount"] = json!(6);
        let day = today - chrono::Duration::days(ago);
        body["received_at"] = json!(format!("{day}T10:00:00+08:00"));
        let (status, reg, _) = app.post("county-token", "/v1/cases", &body).await;
        assert_eq!(status, 201, "{reg}");
        last = reg["seq"].as_u64().expect("seq");
    }
    let path = format!(
        "/v1/alerts?from={}&to={today}&min_seq={last}",
        today - chrono::Duration::days(30)
    );
    let (status, list) = app.get("county-token", &path).await;
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["kind"], "collective_repeat");
    (items[0]["alert_id"].as_str().expect("id").to_owned(), last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_is_an_event_on_the_alerts_own_subject_verified_like_a_case() {
    let app = spawn_app().await;
    let data = tempfile::tempdir().expect("tmp");
    let feed = crate::feed::start_feed(&app, data.path()).await;
    let (id, before) = collective_alert(&app).await;
    let review = format!("/v1/alerts/{id}/review");
    let body =
        json!({"assessment": "征地补偿分歧，可能再次集体访", "plan": "镇长包案，周五前入户"});

    // Who may, and what is refused: the county alone; a never-raised id; bad bodies.
    for token in ["clerk-gaoqiao-token", "auditor-token", "analyst-token"] {
        let (status, p, _) = app.post(token, &review, &body).await;
        assert_problem(status, &p, 403, "forbidden");
    }
    let never = format!("/v1/alerts/{}/review", uuid::Uuid::new_v4());
    let (status, p, _) = app.post("county-token", &never, &body).await;
    assert_problem(status, &p, 404, "not_found");
    let (status, p, _) = app
        .post("county-token", &review, &json!({"assessment": "只有意见"}))
        .await;
    assert_problem(status, &p, 400, "validation");
    let (status, p, _) = app
        .post(
            "county-token",
            &review,
            &json!({"assessment": " ", "plan": "x"}),
        )
        .await;
    assert_problem(status, &p, 422, "validation");

    // Recorded and shown; a retry with its key is the same review.
    let key = [("Idempotency-Key", "review-1")];
    let (status, first, _) = app.post_with("county-token", &review, &body, &key).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["alert_id"], json!(id));
    let seq = first["seq"].as_u64().expect("seq");
    let reviewed = &first["alert"]["reviewed"];
    assert_eq!(reviewed["assessment"], body["assessment"]);
    assert_eq!(reviewed["plan"], body["plan"]);
    assert_eq!(reviewed["by"], "county-1");
    assert_eq!(first["alert"]["count"], 2);
    let (status, again, _) = app.post_with("county-token", &review, &body, &key).await;
    assert_eq!((status, &again["seq"]), (200, &json!(seq)), "{again}");
    let other = json!({"assessment": "另一个", "plan": "另一个"});
    let (status, p, _) = app.post_with("county-token", &review, &other, &key).await;
    assert_problem(status, &p, 422, "idempotency_mismatch");

    // The latest review holds; as of a past point, the reviews up to it.
    let second = json!({"assessment": "已化解", "plan": "三十日后回访"});
    let (status, latest, _) = app.post("county-token", &review, &second).await;
    assert_eq!(status, 200, "{latest}");
    let last = latest["seq"].as_u64().expect("seq");
    let zone = chrono::FixedOffset::east_opt(8 * 3600).expect("+08");
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let period = format!("from={}&to={today}", today - chrono::Duration::days(30));
    let shown = |q: String| {
        let app = &app;
        let period = period.clone();
        async move {
            let (status, list) = app
                .get("county-token", &format!("/v1/alerts?{period}&{q}"))
                .await;
            assert_eq!(status, 200, "{list}");
            list["items"][0]["reviewed"].clone()
        }
    };
    assert_eq!(
        shown(format!("min_seq={last}")).await["assessment"],
        "已化解"
    );
    assert_eq!(
        shown(format!("at_seq={seq}")).await["assessment"],
        body["assessment"]
    );
    assert_eq!(shown(format!("at_seq={before}")).await, Value::Null);
    let (status, own) = app
        .get(
            "clerk-gaoqiao-token",
            &format!("/v1/alerts?{period}&min_seq={last}"),
        )
        .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["items"][0]["reviewed"]["plan"], "三十日后回访");

    // Its own subject: no case has the id; verified like a case (two reviews, chained, signed).
    let (status, p) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_problem(status, &p, 404, "not_found");
    let (status, v) = app
        .get("auditor-token", &format!("/v1/cases/{id}/verify"))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!((&v["ok"], &v["events"]), (&json!(true), &json!(2)), "{v}");
    let (status, p) = app
        .get("clerk-gaoqiao-token", &format!("/v1/cases/{id}/verify"))
        .await;
    assert_problem(status, &p, 403, "forbidden");
    let (status, _, bytes) =
        get_bytes(&app, "county-token", &format!("/v1/cases/{id}/bundle")).await;
    let bundle = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(status, 200, "{bundle}");
    let events: Vec<Value> = bundle
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["type"] == "AlertReviewed")
        .collect();
    assert_eq!(events.len(), 2, "{bundle}");
    assert_eq!(events[0]["version"], 1);
    assert_eq!(events[1]["version"], 2);
    assert_eq!(events[1]["township"], "gaoqiao");
    assert_eq!(events[1]["prev_hash"], events[0]["hash"]);
    assert!(events[1]["sig"].is_string(), "{}", events[1]);

    // The actor trail names the alert.
    let day = today.to_string();
    let (status, trail) = app
        .get(
            "auditor-token",
            &format!("/v1/audit/actors/county-1?from={day}&to={day}&min_seq={last}"),
        )
        .await;
    assert_eq!(status, 200, "{trail}");
    let mine: Vec<&Value> = trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "AlertReviewed")
        .collect();
    assert_eq!(mine.len(), 2, "{trail}");
    assert!(mine.iter().all(|e| e["alert_id"] == json!(id)), "{trail}");

    // On no feed, and every model goes on past it: a case registered after is fed and counted.
    let after = app.register().await;
    let js = async_nats::jetstream::new(app.nats.connect().await);
    testkit::eventually(Duration::from_secs(20), "the later case fed", || {
        let js = js.clone();
        let after = after.clone();
        async move {
            let stream = js.get_stream("XF_FEED").await.ok()?;
            let subject = format!("xf.feed.gaoqiao.{after}");
            stream
                .get_last_raw_message_by_subject(&subject)
                .await
                .ok()
                .map(drop)
        }
    })
    .await;
    let stream = js.get_stream("XF_FEED").await.expect("feed");
    for unit in ["gaoqiao", "county"] {
        let subject = format!("xf.feed.{unit}.{id}");
        assert!(
            stream
                .get_last_raw_message_by_subject(&subject)
                .await
                .is_err(),
            "nothing fed on {subject}"
        );
    }
    let (status, stats) = app
        .get(
            "county-token",
            &format!("/v1/stats?from={day}&to={day}&min_seq={last}"),
        )
        .await;
    assert_eq!(status, 200, "{stats}");
    feed.abort();
}
