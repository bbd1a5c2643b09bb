//! Read models through the HTTP contract: statistics (the worked example of the counting rules and
//! year-on-year), queue deadlines, and what analysts may see.

use std::sync::Arc;

use crate::common::*;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use commands::{CaseService, CommandRequest};
use domain::command::*;
use domain::*;
use futures::StreamExt;
use serde_json::{json, Value};

fn ts(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("ts")
}

async fn exec(cases: &CaseService, case_id: Option<CaseId>, command: Command) -> (CaseId, u64) {
    let p = county();
    let req = CommandRequest::new(&p, case_id, command);
    let out = cases.execute(req).await.expect("command");
    (out.committed.case_id, out.committed.seq)
}

/// Load many cases, 16 at a time; returns the highest seq.
async fn load(
    cases: Arc<CaseService>,
    specs: Vec<(Channel, u32, DateTime<FixedOffset>, bool)>,
) -> u64 {
    futures::stream::iter(specs)
        .map(|(c, h, at, close)| {
            let cases = cases.clone();
            async move { handled(&cases, register_command(c, h, at), at, close).await }
        })
        .buffer_unordered(16)
        .fold(0, |m, s| async move { m.max(s) })
        .await
}

fn row<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key}: {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_reproduce_the_worked_example() {
    let app = spawn_app().await;
    let at = ts("2026-03-02T09:30:00+08:00");
    let mut specs = Vec::new();
    // Visits: 973 batches, 2935 persons (957 groups of 3 and 16 of 4), 681 closed (70 %).
    for i in 0..973 {
        specs.push((Channel::Visit, if i < 16 { 4 } else { 3 }, at, i < 681));
    }
    for i in 0..56 {
        specs.push((Channel::Letter, 1, at, i < 55)); // 98.2 % closed (the report says 98.5 %)
    }
    specs.extend((0..628).map(|_| (Channel::Phone, 1, at, true)));
    specs.extend((0..53).map(|_| (Channel::Online, 1, at, true)));
    let last = load(app.cases().await, specs).await;

    let (s, body) = app
        .get(
            "analyst-token",
            &format!("/v1/stats?from=2026-01-01&to=2026-12-31&group_by=channel&min_seq={last}"),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(body["applied_seq"].as_u64().expect("applied") >= last);
    let total = &body["total"];
    assert_eq!(
        (
            total["items"].as_i64(),
            total["batches"].as_i64(),
            total["persons"].as_i64()
        ),
        (Some(1710), Some(1710), Some(3672))
    );
    for (channel, batches, persons, closed) in [
        ("visit", 973, 2935, 681),
        ("letter", 56, 56, 55),
        ("phone", 628, 628, 628),
        ("online", 53, 53, 53),
    ] {
        let r = row(&body, channel);
        assert_eq!(
            (r["batches"].as_i64(), r["persons"].as_i64()),
            (Some(batches), Some(persons)),
            "{channel}"
        );
        assert_eq!(r["closure_rate"]["num"], closed, "{channel}");
        assert_eq!(r["closure_rate"]["den"], batches, "{channel}");
    }
    let visit_rate = row(&body, "visit")["closure_rate"]["value"]
        .as_f64()
        .expect("rate");
    assert!((visit_rate - 681.0 / 973.0).abs() < 1e-12);
    assert_eq!(total["closure_rate"]["num"], 681 + 55 + 628 + 53);
    assert_eq!(
        total["on_time_rate"]["num"], total["on_time_rate"]["den"],
        "every reply came in time"
    );
    assert!(
        !body.to_string().contains("赵六") && !body.to_string().contains("110101199003074518"),
        "no personal data in statistics"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn year_on_year_compares_the_same_period_a_year_earlier() {
    let app = spawn_app().await;
    let mut specs = Vec::new();
    // March 2025: 8 items (5 visits of 2 people, 3 calls) = 13 persons.
    specs.extend((0..5).map(|_| (Channel::Visit, 2, ts("2025-03-10T10:00:00+08:00"), false)));
    specs.extend((0..3).map(|_| (Channel::Phone, 1, ts("2025-03-20T10:00:00+08:00"), false)));
    // March 2026: 10 items (4 visits of 6: collective, 6 calls) = 30 persons; one outside the period.
    specs.extend((0..4).map(|_| (Channel::Visit, 6, ts("2026-03-01T00:30:00+08:00"), true)));
    specs.extend((0..6).map(|_| (Channel::Phone, 1, ts("2026-03-31T23:30:00+08:00"), false)));
    specs.push((Channel::Phone, 1, ts("2026-04-01T00:10:00+08:00"), false));
    let last = load(app.cases().await, specs).await;
    let (s, body) = app
        .get(
            "county-token",
            &format!(
                "/v1/stats?from=2026-03-01&to=2026-03-31&compare=yoy&group_by=month&min_seq={last}"
            ),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["total"]["items"], 10,
        "both ends inclusive, in the policy time zone"
    );
    assert_eq!(body["total"]["persons"], 30);
    assert_eq!(body["total"]["collective_batches"], 4);
    assert_eq!(body["total"]["collective_share"]["num"], 4);
    assert_eq!(body["previous"]["total"]["items"], 8);
    assert_eq!(body["previous"]["total"]["persons"], 13);
    assert_eq!(body["change"]["items"].as_f64(), Some(0.25));
    assert_eq!(
        body["change"]["persons"].as_f64(),
        Some((30.0 - 13.0) / 13.0)
    );
    assert_eq!(row(&body, "2026-03")["items"], 10);
    // A clerk may read only its own township's statistics.
    let (s, _) = app
        .get(
            "clerk-dongcheng-token",
            "/v1/stats?from=2026-03-01&to=2026-03-31",
        )
        .await;
    assert_eq!(s, 403);
    let (s, b) = app
        .get(
            "clerk-gaoqiao-token",
            &format!("/v1/stats?from=2026-03-01&to=2026-03-31&township=gaoqiao&min_seq={last}"),
        )
        .await;
    assert_eq!((s, b["total"]["items"].as_i64()), (200, Some(10)));
    let (s, b) = app
        .get("analyst-token", "/v1/stats?from=2026-03-31&to=2026-03-01")
        .await;
    // A well-formed period that breaks a rule is 422, as the contract has it for every broken
    // rule (it was 400 until the fuzzing showed the schema could not say so).
    assert_problem(s, &b, 422, "validation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_show_legal_deadlines_against_the_clock() {
    let app = spawn_app().await;
    let cases = app.cases().await;
    let now = Utc::now().fixed_offset();
    let days = |n: i64| now - Duration::days(n);
    // Acceptance: 16 days ago is overdue (15-day limit), 13 days ago is due soon, 5 days ago is fine.
    let (late_accept, _) = exec(&cases, None, register_command(Channel::Letter, 1, days(16))).await;
    let (soon, _) = exec(&cases, None, register_command(Channel::Letter, 1, days(13))).await;
    let (fresh, _) = exec(&cases, None, register_command(Channel::Letter, 1, days(5))).await;
    // Reply: accepted 70 days ago is overdue (60 days) ...
    let (late_reply, _) = exec(&cases, None, register_command(Channel::Letter, 1, days(72))).await;
    exec(
        &cases,
        Some(late_reply),
        Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: Some(days(70)),
        }),
    )
    .await;
    // ... unless extended by 30 days.
    let (extended, _) = exec(&cases, None, register_command(Channel::Letter, 1, days(72))).await;
    exec(
        &cases,
        Some(extended),
        Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: Some(days(70)),
        }),
    )
    .await;
    exec(
        &cases,
        Some(extended),
        Command::Extend(ExtendDeadline {
            late_reason: None,
            days: 30,
            reason: "survey".into(),
            approved_by: "director".into(),
            occurred_at: Some(days(69)),
        }),
    )
    .await;
    // Review decision: requested 31 days ago is overdue (30 days).
    let (review, _) = exec(&cases, None, register_command(Channel::Letter, 1, days(60))).await;
    exec(
        &cases,
        Some(review),
        Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: Some(days(59)),
        }),
    )
    .await;
    exec(
        &cases,
        Some(review),
        Command::Reply(ReplyCase {
            late_reason: None,
            outcome: Outcome::Explained,
            text: "t".into(),
            occurred_at: Some(days(40)),
        }),
    )
    .await;
    exec(
        &cases,
        Some(review),
        Command::Close(CloseCase {
            late_reason: None,
            note: None,
            occurred_at: Some(days(40)),
        }),
    )
    .await;
    exec(
        &cases,
        Some(review),
        Command::RequestReview(RequestReview {
            late_reason: None,
            reason: "r".into(),
            occurred_at: Some(days(31)),
        }),
    )
    .await;
    // A transfer moves a case to the other township's queue.
    let (moved, _) = exec(&cases, None, register_command(Channel::Letter, 1, days(3))).await;
    exec(
        &cases,
        Some(moved),
        Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: Some(days(2)),
        }),
    )
    .await;
    let (_, last) = exec(
        &cases,
        Some(moved),
        Command::Transfer(TransferCase {
            late_reason: None,
            unit: UnitCode::parse("dongcheng").expect("u"),
            reason: "r".into(),
            occurred_at: Some(days(1)),
        }),
    )
    .await;

    let (s, q) = app
        .get(
            "county-token",
            &format!("/v1/queues/gaoqiao?min_seq={last}"),
        )
        .await;
    assert_eq!(s, 200, "{q}");
    let item = |id: CaseId| {
        q["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["case_id"] == id.to_string())
            .cloned()
    };
    let flag = |id: CaseId, f: &str| {
        item(id).unwrap_or_else(|| panic!("{id} not queued: {q}"))[f].as_bool()
    };
    assert_eq!(flag(late_accept, "overdue"), Some(true));
    assert_eq!(flag(soon, "overdue"), Some(false));
    assert_eq!(flag(soon, "due_soon"), Some(true));
    assert_eq!(flag(fresh, "overdue"), Some(false));
    assert_eq!(flag(fresh, "due_soon"), Some(false));
    assert_eq!(flag(late_reply, "overdue"), Some(true));
    assert_eq!(flag(extended, "overdue"), Some(false));
    assert_eq!(flag(review, "overdue"), Some(true));
    assert!(item(moved).is_none(), "transferred away");
    assert_eq!(q["counts"]["open"], 6);
    assert_eq!(q["counts"]["overdue"], 3);
    assert!(item(late_accept)
        .and_then(|i| i["days_left"].as_i64())
        .is_some_and(|d| d < 0));
    let (_, overdue_only) = app
        .get(
            "county-token",
            &format!("/v1/queues/gaoqiao?status=overdue&min_seq={last}"),
        )
        .await;
    assert_eq!(overdue_only["items"].as_array().map(Vec::len), Some(3));
    let (s, dq) = app
        .get(
            "clerk-dongcheng-token",
            &format!("/v1/queues/dongcheng?min_seq={last}"),
        )
        .await;
    assert_eq!((s, dq["counts"]["open"].as_i64()), (200, Some(1)));
    let (s, _) = app.get("clerk-dongcheng-token", "/v1/queues/gaoqiao").await;
    assert_eq!(s, 403, "a unit sees only its own queue");

    // A late reply counts as not on time in the statistics.
    let last = exec(
        &cases,
        Some(late_reply),
        Command::Reply(ReplyCase {
            late_reason: None,
            outcome: Outcome::Supported,
            text: "t".into(),
            occurred_at: None,
        }),
    )
    .await
    .1;
    let last = last.max(
        exec(
            &cases,
            Some(late_reply),
            Command::Close(CloseCase {
                late_reason: None,
                note: None,
                occurred_at: None,
            }),
        )
        .await
        .1,
    );
    // Up to today in the county's time zone (UTC+8): a period that has not ended counts
    // open_overdue now (one that has ended, at its end).
    let local = now.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"));
    let from = (local - Duration::days(80)).date_naive();
    let (s, st) = app
        .get(
            "county-token",
            &format!(
                "/v1/stats?from={from}&to={}&min_seq={last}",
                local.date_naive()
            ),
        )
        .await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["total"]["closed"], 2, "{st}");
    assert_eq!(
        st["total"]["closed_on_time"], 1,
        "the review case replied in time, the late one did not"
    );
    assert_eq!(
        st["total"]["open_overdue"], 2,
        "late acceptance and the review decision, now"
    );
}

#[tokio::test]
async fn analysts_never_see_personal_data_or_cases() {
    let app = spawn_app().await;
    let id = app.register().await;
    for path in [
        format!("/v1/cases/{id}"),
        format!("/v1/cases/{id}/history"),
        "/v1/queues/gaoqiao".into(),
        "/v1/audit/actors/county-1?from=2026-01-01&to=2026-12-31".into(),
    ] {
        let (s, b) = app.get("analyst-token", &path).await;
        assert_problem(s, &b, 403, "forbidden");
    }
    let (s, b) = app
        .get(
            "analyst-token",
            "/v1/stats?from=2026-01-01&to=2026-12-31&group_by=township&min_seq=1",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["total"]["items"], 1);
    for secret in ["张三", "330102199001011234", "13800000000", "高桥镇一村"] {
        assert!(!b.to_string().contains(secret));
    }
    // Auditors read an official's trail across cases, with personal data.
    let (s, trail) = app
        .get(
            "auditor-token",
            "/v1/audit/actors/county-1?from=2026-01-01&to=2030-12-31&min_seq=1",
        )
        .await;
    assert_eq!(s, 200, "{trail}");
    assert_eq!(trail["events"][0]["case_id"], json!(id));
    assert_eq!(trail["events"][0]["type"], "CaseRegistered");
}

/// The actor trail by business date (issue 15, item 4): a registration entered today for a
/// petition received on 2 March is in 2 March's trail by `date=occurred` and in today's by the
/// recorded date (the default), so late entry shows.
#[tokio::test]
async fn the_actor_trail_by_business_date_shows_late_entry() {
    let app = spawn_app().await;
    let (status, reg, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    assert_eq!(status, 201, "{reg}");
    let seq = reg["seq"].as_u64().expect("seq");
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let trail = |query: String| {
        let app = &app;
        async move {
            let path = format!("/v1/audit/actors/county-1?{query}&min_seq={seq}");
            let (status, body) = app.get("auditor-token", &path).await;
            assert_eq!(status, 200, "{body}");
            body["events"].as_array().expect("events").len()
        }
    };
    let received = "from=2026-03-02&to=2026-03-02";
    assert_eq!(trail(format!("{received}&date=occurred")).await, 1);
    assert_eq!(
        trail(received.to_owned()).await,
        0,
        "recorded today, not on 2 March"
    );
    assert_eq!(trail(format!("{received}&date=recorded")).await, 0);
    assert_eq!(trail(format!("from={today}&to={today}")).await, 1);
    let (status, body) = app
        .get(
            "auditor-token",
            &format!("/v1/audit/actors/county-1?{received}&date=business"),
        )
        .await;
    assert_problem(status, &body, 400, "validation");
}
