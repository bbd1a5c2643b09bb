//! Issue 14 (statistics as county reports cut them), over HTTP: two-way cuts, repeated filters,
//! and parameters that say what is wrong.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_two_way_cut_with_repeated_filters_over_http() {
    let app = spawn_app().await;
    let mut seq = 0;
    for (channel, headcount) in [
        ("visit", 1),
        ("visit", 3),
        ("leader_reception", 6),
        ("letter", 40),
    ] {
        let mut body = register_body();
        body["channel"] = json!(channel);
        body["headcount"] = json!(headcount);
        let (status, out, _) = app.post("county-token", "/v1/cases", &body).await;
        assert_eq!(status, 201, "{out}");
        seq = out["seq"].as_u64().expect("seq");
    }
    let base = format!("/v1/stats?from=2026-03-01&to=2026-03-31&min_seq={seq}");
    let (status, r) = app
        .get(
            "analyst-token",
            &format!("{base}&group_by=channel,band&channel=visit&channel=leader_reception"),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let rows: Vec<(String, i64)> = r["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            (
                row["key"].as_str().expect("key").to_owned(),
                row["persons"].as_i64().expect("persons"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("leader_reception|collective".to_owned(), 6),
            ("visit|group".to_owned(), 3),
            ("visit|individual".to_owned(), 1),
        ]
    );
    assert_eq!(
        r["rows"][0]["keys"],
        json!({"channel": "leader_reception", "band": "collective"})
    );
    let (_, all) = app.get("analyst-token", &base).await;
    assert_eq!(all["total"]["signatures"], 40, "{all}");
    assert_eq!(
        all["total"]["collective_batches"], 1,
        "visits only: the joint letter is a letter"
    );
    for (query, field) in [
        ("&group_by=channel,band,level", "group_by"),
        ("&group_by=weather", "group_by"),
        ("&band=huge", "band"),
        ("&channel=carrier_pigeon", "channel"),
        ("&colour=red", "colour"),
    ] {
        let (status, p) = app.get("analyst-token", &format!("{base}{query}")).await;
        assert_problem(status, &p, 400, "validation");
        assert!(
            p["detail"].as_str().expect("detail").starts_with(field),
            "{p}"
        );
    }
    // A township's clerk reads its own township, exactly.
    let (status, _) = app
        .get(
            "clerk-gaoqiao-token",
            &format!("{base}&township=gaoqiao&township=dongcheng"),
        )
        .await;
    assert_eq!(status, 403);
    let (status, mine) = app
        .get("clerk-gaoqiao-token", &format!("{base}&township=gaoqiao"))
        .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["total"]["items"], 4);
}

/// Issue 14, item 3: figures by responsible unit; a unit's staff read their own unit's.
#[tokio::test]
async fn figures_by_responsible_unit_and_a_handler_reads_its_own() {
    let app = spawn_app().await;
    let answered = app.register().await;
    app.register().await;
    let step = |id: String, token: &'static str, action: &'static str, body: serde_json::Value| {
        let app = &app;
        async move {
            let (status, out, _) = app
                .post(token, &format!("/v1/cases/{id}/{action}"), &body)
                .await;
            assert_eq!(status, 200, "{action}: {out}");
            out["seq"].as_u64().expect("seq")
        }
    };
    step(
        answered.clone(),
        "county-token",
        "accept",
        json!({"occurred_at": "2026-03-03T09:00:00+08:00"}),
    )
    .await;
    step(
        answered.clone(),
        "county-token",
        "assign",
        json!({"unit": "land_bureau", "occurred_at": "2026-03-03T10:00:00+08:00"}),
    )
    .await;
    let seq = step(
        answered.clone(),
        "handler-land-token",
        "reply",
        json!({"outcome": "supported", "text": "已答复", "occurred_at": "2026-03-10T10:00:00+08:00"}),
    )
    .await;
    let base = format!("/v1/stats?from=2026-03-01&to=2026-03-31&min_seq={seq}");
    let (status, by_unit) = app
        .get("county-token", &format!("{base}&group_by=unit"))
        .await;
    assert_eq!(status, 200, "{by_unit}");
    let rows: Vec<(&str, i64, i64)> = by_unit["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().expect("key"),
                r["items"].as_i64().expect("items"),
                r["replied"].as_i64().expect("replied"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("gaoqiao", 1, 0), ("land_bureau", 1, 1)],
        "the unit that replied; else the one accountable now"
    );
    let (status, mine) = app
        .get("handler-land-token", &format!("{base}&unit=land_bureau"))
        .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["total"]["reply_on_time_rate"]["num"], 1, "{mine}");
    for query in ["", "&unit=gaoqiao", "&unit=land_bureau&unit=gaoqiao"] {
        let (status, p) = app
            .get("handler-land-token", &format!("{base}{query}"))
            .await;
        assert_problem(status, &p, 403, "forbidden");
    }
}
