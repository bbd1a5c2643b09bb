//! Issue 35, early warning (苗头预警) over HTTP: alerts computed from the log, one spell each with
//! a stable id, as of a past point, and seen by who may.

use serde_json::{json, Value};

use crate::common::*;

/// Days before today at 10:00 in Asia/Shanghai (a business time in the past, entered late).
fn days_ago(n: i64) -> (String, String) {
    let zone = chrono::FixedOffset::east_opt(8 * 3600).expect("+08");
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let day = today - chrono::Duration::days(n);
    let at = day
        .and_hms_opt(10, 0, 0)
        .expect("time")
        .and_local_timezone(zone)
        .single()
        .expect("one time");
    (at.to_rfc3339(), day.to_string())
}

struct Registered {
    case_no: String,
    seq: u64,
}

async fn register(app: &App, township: &str, category: &str, ago: i64, extra: Value) -> Registered {
    let mut body = register_body();
    body["township"] = json!(township);
    body["category"] = json!(category);
    body["received_at"] = json!(days_ago(ago).0);
    body["channel"] = json!("letter");
    body["headcount"] = json!(1);
    let n = rand_suffix();
    body["petitioners"] = json!([{"name": format!("预警{n}"), "phone": format!("139{n:08}")}]);
    if let Value::Object(more) = extra {
        for (k, v) in more {
            body[k] = v;
        }
    }
    let (status, reg, _) = app.post("county-token", "/v1/cases", &body).await;
    assert_eq!(status, 201, "{reg}");
    Registered {
        case_no: reg["case_no"].as_str().expect("no").to_owned(),
        seq: reg["seq"].as_u64().expect("seq"),
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn of<'a>(answer: &'a Value, kind: &str, township: &str, category: &str) -> Vec<&'a Value> {
    answer["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|a| a["kind"] == kind && a["township"] == township && a["category"] == category)
        .collect()
}

fn case_nos(alert: &Value) -> Vec<String> {
    let mut out: Vec<String> = alert["case_nos"]
        .as_array()
        .expect("case_nos")
        .iter()
        .map(|n| n.as_str().expect("no").to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn alerts_are_raised_from_the_log_keep_their_ids_and_are_seen_by_who_may() {
    let app = spawn_app().await;
    // gaoqiao, wages: one case a month, then seven in a week (one a day, 20 to 14 days ago).
    for ago in [110, 80, 50] {
        register(&app, "gaoqiao", "wages", ago, json!({})).await;
    }
    let mut surge = Vec::new();
    for ago in (14..=20).rev() {
        surge.push(register(&app, "gaoqiao", "wages", ago, json!({})).await);
    }
    // dongcheng, wages: a busy day below surge_min.
    for _ in 0..4 {
        register(&app, "dongcheng", "wages", 20, json!({})).await;
    }
    // gaoqiao, environment: a busy place (40 cases over the 100 days before, one every two or
    // three days) with the same seven in a week: within surge_factor × its baseline, no surge.
    for i in 0..40 {
        register(&app, "gaoqiao", "environment", 21 + i * 5 / 2, json!({})).await;
    }
    for ago in 14..=20 {
        register(&app, "gaoqiao", "environment", ago, json!({})).await;
    }
    // gaoqiao, land: two collective visits ten days apart.
    let collective = json!({"channel": "visit", "headcount": 6});
    let mut visits = Vec::new();
    for ago in [20, 10] {
        visits.push(register(&app, "gaoqiao", "land", ago, collective.clone()).await);
    }
    // dongcheng, environment: one petitioner's third case in 90 days (by ID number).
    let same = json!({"petitioners": [{"name": "重复者", "id_number": "330102199001011234"}]});
    let mut repeated = Vec::new();
    for ago in [30, 20, 10] {
        repeated.push(register(&app, "dongcheng", "environment", ago, same.clone()).await);
    }
    // dongcheng, urban management: four cases and an accusation against dongcheng on one day:
    // a surge for the county, none for dongcheng, which may not read the accusation.
    for _ in 0..4 {
        register(&app, "dongcheng", "urban_management", 15, json!({})).await;
    }
    let accusation = json!({"accusation": true, "accused_unit": "dongcheng"});
    let last = register(&app, "dongcheng", "urban_management", 15, accusation).await;
    let period = format!("from={}&to={}", days_ago(40).1, days_ago(0).1);
    let path = |seq: u64| format!("/v1/alerts?{period}&min_seq={seq}");
    let (status, first) = app.get("county-token", &path(last.seq)).await;
    assert_eq!(status, 200, "{first}");

    let surges = of(&first, "surge", "gaoqiao", "wages");
    assert_eq!(surges.len(), 1, "exactly one surge: {first}");
    let mut seven: Vec<String> = surge.iter().map(|r| r.case_no.clone()).collect();
    seven.sort();
    assert_eq!(case_nos(surges[0]), seven, "it names the seven");
    assert_eq!(surges[0]["count"], 7);
    assert_eq!(surges[0]["township_name"], "高桥镇");
    let baseline = surges[0]["baseline"].as_f64().expect("baseline");
    assert!((baseline - 3.0 * 7.0 / 90.0).abs() < 1e-9, "{baseline}");
    assert_eq!(surges[0]["window"]["from"], json!(days_ago(20).1));
    assert_eq!(surges[0]["reviewed"], Value::Null);
    assert!(
        of(&first, "surge", "dongcheng", "wages").is_empty(),
        "below surge_min"
    );
    assert!(
        of(&first, "surge", "gaoqiao", "environment").is_empty(),
        "a busy place within its factor: {first}"
    );
    let repeats = of(&first, "collective_repeat", "gaoqiao", "land");
    assert_eq!(repeats.len(), 1, "{first}");
    let mut two: Vec<String> = visits.iter().map(|r| r.case_no.clone()).collect();
    two.sort();
    assert_eq!(case_nos(repeats[0]), two);
    let petitioner = of(&first, "repeat_petitioner", "dongcheng", "environment");
    assert_eq!(petitioner.len(), 1, "{first}");
    assert_eq!(petitioner[0]["count"], 3);
    let text = first.to_string();
    assert!(
        !text.contains("重复者") && !text.contains("330102199001011234"),
        "no person: {text}"
    );
    assert_eq!(
        of(&first, "surge", "dongcheng", "urban_management").len(),
        1
    );

    // An eighth case joins the spell: same id, eight cases. As of before it, the first answer.
    let id = surges[0]["alert_id"].clone();
    let eighth = register(&app, "gaoqiao", "wages", 16, json!({})).await;
    let (_, later) = app.get("county-token", &path(eighth.seq)).await;
    let grown = of(&later, "surge", "gaoqiao", "wages");
    assert_eq!(grown.len(), 1, "{later}");
    assert_eq!(
        (&grown[0]["alert_id"], &grown[0]["count"]),
        (&id, &json!(8))
    );
    let (status, then) = app
        .get(
            "county-token",
            &format!("/v1/alerts?{period}&at_seq={}", last.seq),
        )
        .await;
    assert_eq!(status, 200, "{then}");
    assert_eq!(
        then["items"], first["items"],
        "as of then, what was shown then"
    );

    // Who sees what: a township its own, without what holds only through a hidden case.
    let (status, own) = app.get("clerk-dongcheng-token", &path(eighth.seq)).await;
    assert_eq!(status, 200, "{own}");
    let kinds: Vec<(&str, &str)> = own["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().expect("kind"),
                a["category"].as_str().expect("category"),
            )
        })
        .collect();
    assert_eq!(kinds, [("repeat_petitioner", "environment")], "{own}");
    let (status, p) = app
        .get(
            "clerk-dongcheng-token",
            &format!("{}&township=gaoqiao", path(0)),
        )
        .await;
    assert_problem(status, &p, 403, "forbidden");
    for token in ["handler-land-token", "analyst-token"] {
        let (status, p) = app.get(token, &path(0)).await;
        assert_problem(status, &p, 403, "forbidden");
    }
    let (status, audited) = app.get("auditor-token", &path(eighth.seq)).await;
    assert_eq!(status, 200);
    assert_eq!(audited["items"], later["items"]);
    let (status, p) = app
        .get(
            "county-token",
            &format!("/v1/alerts?from={}&to={}", days_ago(0).1, days_ago(3).1),
        )
        .await;
    assert_problem(status, &p, 422, "validation");
    let _ = repeated;
    // Holding today: the collective visits (until 30 days after the first) and the petitioner's
    // cases (until 90 days after the first); the surges ended days ago.
    let metrics = reqwest::get(format!("{}/metrics", app.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for (kind, n) in [
        ("surge", 0),
        ("collective_repeat", 1),
        ("repeat_petitioner", 1),
    ] {
        let line = format!("xinfang_alerts_open{{kind=\"{kind}\"}} {n}");
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
}
