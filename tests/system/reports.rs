//! Issue 14: a second report of our own making ("东城区 2026 年上半年信访情况", the worked example
//! of the counting rules is `readside`), re-entered case by case and every stated figure checked through
//! HTTP: closure per channel with num/den, a two-way cut, year-on-year per row, visit bands and
//! the signatures of a joint letter.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use commands::CaseService;
use domain::command::*;
use domain::*;
use futures::StreamExt;
use serde_json::Value;

use crate::common::*;

/// One line of the report: `n` cases of `channel` reaching `level`, `headcount` each, received
/// on `day`, the first `closed` of them accepted, replied to and closed within a week.
struct Line {
    n: usize,
    channel: Channel,
    level: Level,
    headcount: u32,
    day: &'static str,
    closed: usize,
}

const fn line(
    n: usize,
    channel: Channel,
    level: Level,
    headcount: u32,
    day: &'static str,
    closed: usize,
) -> Line {
    Line {
        n,
        channel,
        level,
        headcount,
        day,
        closed,
    }
}

async fn enter(cases: Arc<CaseService>, lines: &[Line]) -> u64 {
    let mut specs = Vec::new();
    for l in lines {
        let at = DateTime::parse_from_rfc3339(&format!("{}T09:30:00+08:00", l.day)).expect("day");
        for i in 0..l.n {
            specs.push((l.channel, l.level, l.headcount, at, i < l.closed));
        }
    }
    futures::stream::iter(specs)
        .map(|spec| {
            let cases = cases.clone();
            async move { one(&cases, spec).await }
        })
        .buffer_unordered(16)
        .fold(0, |m, s| async move { m.max(s) })
        .await
}

async fn one(
    cases: &CaseService,
    (channel, level, headcount, at, close): (Channel, Level, u32, DateTime<FixedOffset>, bool),
) -> u64 {
    let mut register = register_command(channel, headcount, at);
    if let Command::Register(r) = &mut register {
        r.level_reached = level;
    }
    handled(cases, register, at, close).await
}

fn row<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key}: {body}"))
}

fn pair(v: &Value, a: &str, b: &str) -> (i64, i64) {
    (v[a].as_i64().expect(a), v[b].as_i64().expect(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_year_report_with_a_two_way_cut_bands_and_year_on_year_per_row() {
    use Channel::*;
    use Level::{County, Township};
    let app = spawn_app().await;
    let lines = [
        // 2026 H1. Visits reaching the county: 20 individual, 10 groups of 3, 4 collective of 6.
        line(20, Visit, County, 1, "2026-02-10", 10),
        line(10, Visit, County, 3, "2026-03-10", 5),
        line(4, Visit, County, 6, "2026-04-10", 2),
        // Visits at the township, all closed; letters (one joint letter of 40 signatures) and calls.
        line(12, Visit, Township, 1, "2026-05-10", 12),
        line(14, Letter, County, 1, "2026-03-15", 14),
        line(1, Letter, County, 40, "2026-03-16", 1),
        line(30, Phone, County, 1, "2026-06-30", 30),
        // 2025 H1: visits to the county 16 + 10 groups of 3 + 5 collective of 6; others.
        line(16, Visit, County, 1, "2025-02-10", 16),
        line(10, Visit, County, 3, "2025-03-10", 0),
        line(5, Visit, County, 6, "2025-04-10", 0),
        line(15, Visit, Township, 1, "2025-05-10", 0),
        line(20, Letter, County, 1, "2025-03-15", 0),
        line(24, Phone, County, 1, "2025-06-30", 0),
        // Outside both periods.
        line(3, Phone, County, 1, "2026-07-01", 0),
    ];
    let last = enter(app.cases().await, &lines).await;
    let get = |q: &'static str| {
        let app = &app;
        async move {
            let path = format!("/v1/stats?from=2026-01-01&to=2026-06-30&min_seq={last}&{q}");
            let (status, body) = app.get("analyst-token", &path).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };

    // "本期共受理信访 91 件次 131 人次，同比增长 1.11%": the joint letter is one person.
    let report = get("group_by=channel&compare=yoy").await;
    assert_eq!(pair(&report["total"], "items", "persons"), (91, 131));
    assert_eq!(
        pair(&report["previous"]["total"], "items", "persons"),
        (90, 135)
    );
    assert_eq!(report["change"]["items"].as_f64(), Some(1.0 / 90.0));
    assert_eq!(
        report["total"]["signatures"], 54,
        "14 letters of one and one of 40"
    );
    // Closure per channel, with the arithmetic: visits 29 of 46, letters 15 of 15, calls 30 of 30.
    for (channel, num, den) in [("visit", 29, 46), ("letter", 15, 15), ("phone", 30, 30)] {
        assert_eq!(
            pair(&row(&report, channel)["closure_rate"], "num", "den"),
            (num, den),
            "{channel}"
        );
    }
    // Per-row year-on-year: visits 46 against 46 (0 %), letters 15 against 20, calls 30 against 24;
    // closure of letters in points: 100 % now against 0 % then.
    let change = |channel: &str, measure: &str| row(&report, channel)["change"][measure].as_f64();
    assert_eq!(change("visit", "batches"), Some(0.0));
    assert_eq!(change("letter", "items"), Some(-0.25));
    assert_eq!(change("phone", "items"), Some(0.25));
    assert_eq!(change("letter", "closure_rate"), Some(100.0));
    assert_eq!(
        row(&report["previous"], "letter")["items"],
        20,
        "previous has the same rows"
    );

    // "到县访 34 批 74 人次，同比增长 9.68%" from the two-way cut channel × level.
    let cut = get("group_by=channel,level&compare=yoy").await;
    let county_visits = row(&cut, "visit|county");
    assert_eq!(pair(county_visits, "batches", "persons"), (34, 74));
    assert_eq!(county_visits["keys"]["level"], "county");
    assert_eq!(
        county_visits["change"]["batches"].as_f64(),
        Some(3.0 / 31.0)
    );
    assert_eq!(
        county_visits["change"]["persons"].as_f64(),
        Some((74.0 - 76.0) / 76.0)
    );
    assert_eq!(
        pair(row(&cut, "visit|township"), "batches", "persons"),
        (12, 12)
    );
    assert_eq!(
        pair(row(&cut, "letter|county"), "batches", "persons"),
        (15, 15)
    );
    // The filter gives the same figure as the row.
    let filtered = get("channel=visit&level=county").await;
    assert_eq!(pair(&filtered["total"], "batches", "persons"), (34, 74));

    // Bands of visits: 个人访 32/32, 群体访 10/30, 集体访 4/24; letters form no band.
    let bands = get("group_by=band&channel=visit").await;
    for (band, batches, persons) in [
        ("individual", 32, 32),
        ("group", 10, 30),
        ("collective", 4, 24),
    ] {
        assert_eq!(
            pair(row(&bands, band), "batches", "persons"),
            (batches, persons),
            "{band}"
        );
    }
    let t = &bands["total"];
    assert_eq!(pair(t, "group_batches", "group_persons"), (10, 30));
    assert_eq!(pair(t, "collective_batches", "collective_persons"), (4, 24));
    let all = get("").await;
    assert_eq!(
        all["total"]["collective_batches"], 4,
        "the joint letter is no collective visit"
    );
    assert_eq!(
        pair(&all["total"]["collective_share"], "num", "den"),
        (4, 91)
    );
}

/// 越级访 of matters the county registers at its own office (issue 14): the county names the
/// township of the matter; the case is cross-level only when the petitioner had no earlier case
/// of the matter at that township (it was flagged for every such case before).
#[tokio::test]
async fn a_matter_registered_at_the_county_is_cross_level_only_when_the_township_never_had_it() {
    let app = spawn_app().await;
    let register = |level: &str, id_number: &str| {
        let mut body = register_body();
        body["level_reached"] = serde_json::json!(level);
        body["petitioners"][0]["id_number"] = serde_json::json!(id_number);
        body
    };
    let id = |digits: &str| domain::identity::with_check_digit(digits).expect("id");
    let (known, unknown) = (id("11010119900307451"), id("11010119800101005"));
    let (known, unknown) = (known.as_str(), unknown.as_str());
    let (status, first, _) = app
        .post("county-token", "/v1/cases", &register("township", known))
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["case"]["flags"]["cross_level"], false);
    let (status, again, _) = app
        .post("county-token", "/v1/cases", &register("county", known))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        again["case"]["flags"]["cross_level"], false,
        "gaoqiao had the matter first"
    );
    assert_eq!(again["case"]["flags"]["repeat"], true);
    let (status, straight, _) = app
        .post("county-token", "/v1/cases", &register("county", unknown))
        .await;
    assert_eq!(status, 201, "{straight}");
    assert_eq!(
        straight["case"]["flags"]["cross_level"], true,
        "straight to the county"
    );
    let seq = straight["seq"].as_u64().expect("seq");
    let (_, stats) = app
        .get(
            "analyst-token",
            &format!("/v1/stats?from=2026-03-01&to=2026-03-31&min_seq={seq}"),
        )
        .await;
    assert_eq!(stats["total"]["cross_level_batches"], 1, "{stats}");
}
