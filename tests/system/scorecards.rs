//! Issue 14: 考核 scorecards through HTTP, under the two rule versions of the test county
//! (`testkit::config::SCORECARDS`): each period is scored under the version in force at its
//! start, every township and department is listed, and `adjusted=true` scores on the figures
//! with the approved 核减 applied.

use serde_json::{json, Value};

use crate::common::*;

/// Register a visit of `headcount` at `township` on `day`; with `reply_at`, accept it the next
/// day, reply at `reply_at` and close it. Returns the case id and the last sequence.
async fn case(
    app: &App,
    township: &str,
    day: &str,
    headcount: u32,
    reply_at: Option<&str>,
) -> (String, u64) {
    let mut body = register_body();
    body["township"] = json!(township);
    body["headcount"] = json!(headcount);
    body["received_at"] = json!(format!("{day}T09:30:00+08:00"));
    let (status, out, _) = app.post("county-token", "/v1/cases", &body).await;
    assert_eq!(status, 201, "{out}");
    let id = out["case_id"].as_str().expect("id").to_owned();
    let mut seq = out["seq"].as_u64().expect("seq");
    if let Some(at) = reply_at {
        for (action, body) in [
            (
                "accept",
                json!({"occurred_at": format!("{day}T15:00:00+08:00")}),
            ),
            (
                "reply",
                json!({"outcome": "explained", "text": "已答复", "occurred_at": at}),
            ),
            ("close", json!({"occurred_at": at})),
        ] {
            let (status, out, _) = app
                .post("county-token", &format!("/v1/cases/{id}/{action}"), &body)
                .await;
            assert_eq!(status, 200, "{action}: {out}");
            seq = out["seq"].as_u64().expect("seq");
        }
    }
    (id, seq)
}

fn unit<'a>(card: &'a Value, code: &str) -> &'a Value {
    card["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["unit"] == code)
        .unwrap_or_else(|| panic!("{code} missing: {card}"))
}

fn indicator<'a>(unit: &'a Value, name: &str) -> &'a Value {
    unit["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing: {unit}"))
}

#[tokio::test]
async fn every_unit_is_scored_under_the_rules_in_force_at_the_start_of_the_period() {
    let app = spawn_app().await;
    // 2025: one closed case at gaoqiao.
    case(
        &app,
        "gaoqiao",
        "2025-03-02",
        1,
        Some("2025-03-20T10:00:00+08:00"),
    )
    .await;
    // 2026: gaoqiao replies on time to a collective visit and leaves an individual one open;
    // dongcheng replies late (after 60 days).
    let (collective, _) = case(
        &app,
        "gaoqiao",
        "2026-03-02",
        6,
        Some("2026-03-20T10:00:00+08:00"),
    )
    .await;
    case(&app, "gaoqiao", "2026-03-03", 1, None).await;
    let (_, seq) = case(
        &app,
        "dongcheng",
        "2026-03-02",
        1,
        Some("2026-06-01T10:00:00+08:00"),
    )
    .await;

    let get = |q: String| {
        let app = &app;
        async move {
            app.get(
                "analyst-token",
                &format!("/v1/scorecards?{q}&min_seq={seq}"),
            )
            .await
        }
    };
    let (status, y2025) = get("from=2025-01-01&to=2025-12-31".into()).await;
    assert_eq!(status, 200, "{y2025}");
    assert_eq!(y2025["rules_version"], "2025版");
    assert_eq!(y2025["max_points"], 100.0);
    let g = unit(&y2025, "gaoqiao");
    assert_eq!(indicator(g, "closure_rate")["num"], 1);
    assert_eq!(
        (g["total"].as_f64(), g["rank"].as_u64()),
        (Some(100.0), Some(1))
    );
    assert_eq!(
        unit(&y2025, "dongcheng")["total"],
        Value::Null,
        "nothing to measure"
    );

    let (status, y2026) = get("from=2026-01-01&to=2026-12-31".into()).await;
    assert_eq!(status, 200, "{y2026}");
    assert_eq!(y2026["rules_version"], "2026版");
    assert_eq!(y2026["adjusted"], false);
    let codes: Vec<&str> = y2026["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| u["unit"].as_str().expect("code"))
        .collect();
    // By rank; the department measured nothing and comes last, unranked; no county row.
    assert_eq!(codes, ["gaoqiao", "dongcheng", "land_bureau"]);
    let g = unit(&y2026, "gaoqiao");
    assert_eq!(g["unit_name"], "高桥镇");
    let reply = indicator(g, "reply_on_time_rate");
    assert_eq!(
        (
            reply["num"].as_i64(),
            reply["den"].as_i64(),
            reply["points"].as_f64()
        ),
        (Some(1), Some(1), Some(60.0))
    );
    // Lower is better: 40 × (1 − 1/2).
    let share = indicator(g, "collective_share");
    assert_eq!(
        (
            share["num"].as_i64(),
            share["den"].as_i64(),
            share["points"].as_f64()
        ),
        (Some(1), Some(2), Some(20.0))
    );
    assert_eq!(
        (g["total"].as_f64(), g["rank"].as_u64()),
        (Some(80.0), Some(1))
    );
    let d = unit(&y2026, "dongcheng");
    assert_eq!(indicator(d, "reply_on_time_rate")["points"], 0.0);
    assert_eq!(
        (d["total"].as_f64(), d["rank"].as_u64()),
        (Some(40.0), Some(2))
    );
    let land = unit(&y2026, "land_bureau");
    assert_eq!(
        (land["kind"].as_str(), &land["rank"]),
        (Some("department"), &Value::Null)
    );
    // The points are those of the statistics: the same num/den as /v1/stats.
    let (_, stats) = app
        .get(
            "analyst-token",
            &format!("/v1/stats?from=2026-01-01&to=2026-12-31&unit=gaoqiao&min_seq={seq}"),
        )
        .await;
    assert_eq!(stats["total"]["collective_share"]["den"], share["den"]);

    // No rules were in force in 2024; the townships' own staff do not read the ranking.
    let (status, body) = get("from=2024-01-01&to=2024-12-31".into()).await;
    assert_problem(status, &body, 422, "validation");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("2024-01-01"),
        "{body}"
    );
    let (status, body) = app
        .get(
            "clerk-gaoqiao-token",
            "/v1/scorecards?from=2026-01-01&to=2026-12-31",
        )
        .await;
    assert_problem(status, &body, 403, "forbidden");

    // 核减 of the collective visit's batch, approved by an auditor: scored on adjusted figures.
    let (status, asked, _) = app
        .post(
            "county-token",
            "/v1/adjustments",
            &json!({"case_id": collective, "measure": "collective_batches",
                    "reason": "经复核系个人访误登", "document_no": "X信联〔2026〕9号"}),
        )
        .await;
    assert_eq!(status, 201, "{asked}");
    let id = asked["adjustment_id"].as_str().expect("id");
    let (status, approved, _) = app
        .post(
            "auditor-token",
            &format!("/v1/adjustments/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    let seq = approved["seq"].as_u64().expect("seq");
    let q = format!("/v1/scorecards?from=2026-01-01&to=2026-12-31&min_seq={seq}");
    let (_, raw) = app.get("analyst-token", &q).await;
    assert_eq!(unit(&raw, "gaoqiao")["total"], 80.0, "raw by default");
    let (status, adjusted) = app
        .get("analyst-token", &format!("{q}&adjusted=true"))
        .await;
    assert_eq!(status, 200, "{adjusted}");
    assert_eq!(adjusted["adjusted"], true);
    let g = unit(&adjusted, "gaoqiao");
    assert_eq!(indicator(g, "collective_share")["num"], 0);
    assert_eq!(g["total"], 100.0);
}
