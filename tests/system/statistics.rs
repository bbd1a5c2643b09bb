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
    let (status, p) = app
        .get("analyst-token", &format!("{base}&group_by=unit,unit"))
        .await;
    assert_problem(status, &p, 422, "validation");
    for (query, field) in [
        ("&group_by=", "group_by"),
        ("&township=", "township"),
        ("&channel=visit,", "channel"),
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

/// Issue 14, item 7: "No export". Every case of a period as CSV (with a BOM, for spreadsheets)
/// or JSON Lines, without personal data.
#[tokio::test]
async fn cases_export_as_csv_and_json_lines_without_personal_data() {
    let app = spawn_app().await;
    let mut seq = 0;
    for i in 0..5 {
        let mut body = register_body();
        body["received_at"] = json!(format!("2026-03-0{}T09:30:00+08:00", i + 1));
        body["summary"] = json!("征地补偿款未发放，张三家");
        let (status, out, _) = app.post("county-token", "/v1/cases", &body).await;
        assert_eq!(status, 201, "{out}");
        seq = out["seq"].as_u64().expect("seq");
    }
    let (status, kind, csv) = get_bytes(
        &app,
        "analyst-token",
        &format!("/v1/export/cases?from=2026-03-02&to=2026-03-04&min_seq={seq}"),
    )
    .await;
    assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"));
    assert!(csv.starts_with("\u{feff}case_id,case_no,received_date,".as_bytes()));
    let text = String::from_utf8(csv.to_vec()).expect("utf-8");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(
        lines.len(),
        4,
        "a header and the three cases of 2-4 March: {text}"
    );
    assert!(
        lines[1].contains(",2026-03-02,gaoqiao,gaoqiao,visit,county,land,6,collective,"),
        "{}",
        lines[1]
    );
    for secret in ["张三", "330102199001011234", "13800000000", "征地补偿款"] {
        assert!(!text.contains(secret), "{secret} in the export");
    }
    let (status, kind, jsonl) = get_bytes(
        &app,
        "county-token",
        &format!("/v1/export/cases?from=2026-03-01&to=2026-03-31&format=jsonl&min_seq={seq}"),
    )
    .await;
    assert_eq!((status, kind.as_str()), (200, "application/x-ndjson"));
    let rows: Vec<serde_json::Value> = String::from_utf8(jsonl.to_vec())
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["received_date"], "2026-03-01");
    assert_eq!(rows[4]["received_date"], "2026-03-05");
    let (status, _, body) = get_bytes(
        &app,
        "clerk-gaoqiao-token",
        "/v1/export/cases?from=2026-03-01&to=2026-03-31",
    )
    .await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
}

/// Issue 14, item 7: `xinfang export events --from-seq N`, the log as JSON Lines.
#[tokio::test]
async fn the_log_exports_as_json_lines_from_a_sequence() {
    let app = spawn_app().await;
    let id = app.register().await;
    app.register().await;
    let (status, out, _) = app
        .post(
            "county-token",
            &format!("/v1/cases/{id}/accept"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let js = async_nats::jetstream::new(app.nats.connect().await);
    let log = eventlog::EventLog::open(&conn(&js), &eventlog::LogConfig::default())
        .await
        .expect("log");
    let last = log.last_seq().await.expect("last");
    let mut out = Vec::new();
    let written = log.write_jsonl(2, &mut out).await.expect("export");
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(written as usize, lines.len());
    let seqs: Vec<u64> = lines
        .iter()
        .map(|l| l["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (2..=last).collect::<Vec<_>>());
    assert_eq!(
        lines.last().expect("one")["envelope"]["type"],
        "CaseAccepted"
    );
    assert_eq!(lines.last().expect("one")["envelope"]["case_id"], json!(id));
    let mut none = Vec::new();
    assert_eq!(
        log.write_jsonl(last + 1, &mut none).await.expect("export"),
        0
    );
}

/// Issue 14, item 7: the documented DuckDB query over the CSV export gives the figures of
/// `/v1/stats` (DuckDB installed by scripts/install-nats-server into .tools/duckdb).
#[tokio::test]
async fn the_documented_duckdb_report_over_the_export_matches_the_statistics() {
    let app = spawn_app().await;
    let mut seq = 0;
    for (i, (channel, headcount)) in [("visit", 6), ("visit", 1), ("letter", 30), ("phone", 1)]
        .into_iter()
        .enumerate()
    {
        let mut body = register_body();
        body["channel"] = json!(channel);
        body["headcount"] = json!(headcount);
        let (status, out, _) = app.post("county-token", "/v1/cases", &body).await;
        assert_eq!(status, 201, "{out}");
        seq = out["seq"].as_u64().expect("seq");
        if i == 1 {
            let id = out["case_id"].as_str().expect("id").to_owned();
            for (action, body) in [
                ("accept", json!({})),
                ("reply", json!({"outcome": "explained", "text": "已答复"})),
                ("close", json!({})),
            ] {
                let (status, out, _) = app
                    .post("county-token", &format!("/v1/cases/{id}/{action}"), &body)
                    .await;
                assert_eq!(status, 200, "{out}");
                seq = out["seq"].as_u64().expect("seq");
            }
        }
    }
    let csv = app
        .http
        .get(format!(
            "{}/v1/export/cases?from=2026-03-01&to=2026-03-31&min_seq={seq}",
            app.base
        ))
        .bearer_auth("analyst-token")
        .send()
        .await
        .expect("export")
        .bytes()
        .await
        .expect("csv");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("cases.csv");
    std::fs::write(&path, &csv).expect("write");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new("python3")
        .arg(root.join("docs/examples/duckdb_report.py"))
        .arg(&path)
        .env("PYTHONPATH", root.join(".tools/duckdb"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "the DuckDB example failed (is duckdb installed? run scripts/install-nats-server):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let (_, stats) = app
        .get(
            "analyst-token",
            &format!("/v1/stats?from=2026-03-01&to=2026-03-31&group_by=channel&min_seq={seq}"),
        )
        .await;
    let rows = stats["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    for row in rows {
        let channel = row["key"].as_str().expect("key");
        let ours = &report[channel];
        assert_eq!(ours["batches"], row["batches"], "{channel}: {report} {row}");
        assert_eq!(ours["persons"], row["persons"], "{channel}");
        assert_eq!(
            ours["closure_rate"]["num"], row["closure_rate"]["num"],
            "{channel}"
        );
        assert_eq!(
            ours["closure_rate"]["den"], row["closure_rate"]["den"],
            "{channel}"
        );
    }
    assert_eq!(report["visit"]["persons"], 7);
    assert_eq!(
        report["letter"]["persons"], 1,
        "a joint letter is one person"
    );
}
