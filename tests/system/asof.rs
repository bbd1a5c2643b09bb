//! Issue 15, item 3: every read as of a past point answers what the live read answered then.
//! Live answers are taken while cases are registered and accepted; each is asked again later
//! with `at_seq=<its applied_seq>&as_of=<when it was answered>` and must be identical apart from
//! `applied_seq`. The projectors keep a snapshot every 10 events, so the answers come from
//! snapshots with the events since replayed, and from the log prefix itself.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{assert_problem, conn};

fn registration(i: usize) -> Value {
    json!({
        "township": "gaoqiao", "channel": if i.is_multiple_of(3) { "letter" } else { "visit" },
        "received_at": "2026-11-02T09:30:00+08:00",
        "headcount": 1 + i % 7, "level_reached": "township", "category": "land",
        "summary": format!("matter {i}"),
        "petitioners": [{"name": format!("申请人{i}"), "phone": format!("138{:08}", 10_000 + i)}],
        "related_case_id": null, "accusation": false, "confidential": false
    })
}

fn without_applied(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("applied_seq");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_as_of_a_past_point_are_the_live_answers_of_then() {
    let app = Arc::new(testkit::system::spawn_with(|c| c.snapshot_events = 10).await);
    let (status, first, _) = app
        .post("county-token", "/v1/cases", &registration(0))
        .await;
    assert_eq!(status, 201, "{first}");
    let first = first["case_id"].as_str().expect("id").to_owned();
    let writer = {
        let app = app.clone();
        let first = first.clone();
        tokio::spawn(async move {
            for i in 1..40 {
                let (s, body, _) = app
                    .post("county-token", "/v1/cases", &registration(i))
                    .await;
                assert_eq!(s, 201, "{body}");
                let id = body["case_id"].as_str().expect("id").to_owned();
                let target = if i == 20 { first.clone() } else { id };
                if i.is_multiple_of(2) || i == 20 {
                    let path = format!("/v1/cases/{target}/accept");
                    let (s, body, _) = app.post("clerk-gaoqiao-token", &path, &json!({})).await;
                    assert_eq!(s, 200, "{body}");
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };
    let reads = [
        ("clerk-gaoqiao-token", format!("/v1/cases/{first}")),
        ("county-token", format!("/v1/cases/{first}/history")),
        (
            "clerk-gaoqiao-token",
            "/v1/queues/gaoqiao?limit=100".to_owned(),
        ),
        (
            "county-token",
            "/v1/stats?from=2026-01-01&to=2026-12-31&group_by=channel".to_owned(),
        ),
        (
            "auditor-token",
            "/v1/audit/actors/county-1?from=2026-01-01&to=2026-12-31".to_owned(),
        ),
    ];
    let mut taken = Vec::new();
    while !writer.is_finished() {
        for (token, path) in &reads {
            let (status, live) = app.get(token, path).await;
            assert_eq!(status, 200, "{path}: {live}");
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            taken.push((*token, path.clone(), live, at));
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    writer.await.expect("writer");
    let seqs: std::collections::BTreeSet<u64> = taken
        .iter()
        .filter_map(|t| t.2["applied_seq"].as_u64())
        .collect();
    assert!(
        seqs.len() >= 10,
        "the answers were taken while the log grew: {seqs:?}"
    );
    for (token, path, live, at) in taken {
        let seq = live["applied_seq"].as_u64().expect("applied_seq");
        let sep = if path.contains('?') { '&' } else { '?' };
        let then = format!("{path}{sep}at_seq={seq}&as_of={at}");
        let (status, asked) = app.get(token, &then).await;
        assert_eq!(status, 200, "{then}: {asked}");
        assert_eq!(asked["applied_seq"], seq, "{then}");
        assert_eq!(without_applied(asked), without_applied(live), "{then}");
    }

    // A case as of before it existed, and points that name nothing.
    let (status, body) = app
        .get("county-token", &format!("/v1/cases/{first}?at_seq=0"))
        .await;
    assert_problem(status, &body, 422, "validation");
    let (status, body) = app
        .get(
            "county-token",
            "/v1/stats?from=2026-01-01&to=2026-12-31&at_seq=100000",
        )
        .await;
    assert_problem(status, &body, 422, "validation");
    let (status, body) = app
        .get(
            "county-token",
            "/v1/queues/gaoqiao?as_of=2999-01-01T00:00:00Z",
        )
        .await;
    assert_problem(status, &body, 422, "validation");
    let (status, body) = app
        .get("county-token", "/v1/queues/gaoqiao?as_of=yesterday")
        .await;
    assert_problem(status, &body, 400, "validation");
    let (_, later, _) = app
        .post("county-token", "/v1/cases", &registration(99))
        .await;
    let later = later["case_id"].as_str().expect("id");
    let (status, body) = app
        .get("county-token", &format!("/v1/cases/{later}?at_seq=1"))
        .await;
    assert_problem(status, &body, 404, "not_found");
    let (status, body) = app
        .get(
            "county-token",
            &format!("/v1/cases/{later}/history?as_of=2026-01-01T00:00:00Z"),
        )
        .await;
    assert_problem(status, &body, 404, "not_found");
}

/// A view as of any sequence (its snapshots with the events since replayed over them) holds
/// exactly what a model rebuilt from the log up to that sequence holds: the same digest, for the
/// cases and the stats model, between snapshots, on them and before the first, through a level
/// (every third point: 21, stacking the deltas up to it) and deltas over it and over the empty
/// model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_as_of_a_sequence_is_the_model_rebuilt_up_to_it() {
    let app = testkit::system::spawn_with(|c| {
        c.snapshot_events = 7;
        c.snapshot_layers = 3;
    })
    .await;
    for i in 0..25 {
        let (s, body, _) = app
            .post("county-token", "/v1/cases", &registration(i))
            .await;
        assert_eq!(s, 201, "{body}");
        if i.is_multiple_of(3) {
            let id = body["case_id"].as_str().expect("id");
            let path = format!("/v1/cases/{id}/accept");
            let (s, body, _) = app.post("clerk-gaoqiao-token", &path, &json!({})).await;
            assert_eq!(s, 200, "{body}");
        }
    }
    let cases = app.cases().await;
    let last = cases.last_seq().await.expect("last");
    let queries = queries::QueryClient::new(app.nats.connect().await);
    let now = chrono::Utc::now().fixed_offset();
    let cfg = testkit::system::test_config();
    let keys = cfg.keys().expect("keys");
    let dir = tempfile::tempdir().expect("tmp");
    let js = async_nats::jetstream::new(app.nats.connect().await);
    let vault = eventlog::Vault::open(&conn(&js), 1, testkit::config::keyring())
        .await
        .expect("vault");
    let log = xinfang::serve::open_log_with(&cfg, app.nats.connect().await)
        .await
        .expect("the log");
    for name in ["cases", "stats"] {
        let projection =
            projections::by_name(name, &cfg.policy, &keys, Some(&vault)).expect("projection");
        // Snapshots are written in the background; the views are built on them.
        let snapshots = app
            .models
            .path()
            .join("projections")
            .join(name)
            .join("snapshots");
        // A delta at every point (written by the projector as it went), and a level stacking
        // the three up to 21.
        let level = format!("v{}-{:020}-from-{:020}.snap", projection.version(), 21, 0);
        testkit::eventually(Duration::from_secs(30), "the snapshots", || {
            let snapshots = snapshots.clone();
            let level = level.clone();
            async move {
                let names: Vec<String> = std::fs::read_dir(&snapshots)
                    .ok()?
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".snap") && !n.starts_with("tmp-"))
                    .collect();
                (names.len() as u64 == last / 7 + 1 && names.contains(&level)).then_some(())
            }
        })
        .await;
        for seq in [1, 6, 7, 8, 14, 20, 21, 22, 28, 30, last - 1, last] {
            let view = queries
                .at(Some(seq))
                .digest(
                    queries::protocol::Model::named(name).expect("model"),
                    None,
                    now,
                )
                .await
                .expect("view");
            let rebuilt = dir.path().join(format!("{name}-{seq}"));
            projections::runner::rebuild_upto(projection.as_ref(), &rebuilt, &log, seq, |_, _| {})
                .await
                .expect("rebuild");
            let rebuilt = projections::Store::open_current(&rebuilt).expect("rebuilt");
            assert_eq!(view.applied_seq, seq);
            assert_eq!(
                view.digest,
                rebuilt.digest().expect("digest"),
                "{name} as of seq {seq}"
            );
        }
    }
}

/// Issue 30, finding 7: 100 distinct `at_seq` at once took the projector's memory from 316 to
/// 681 MB, answered 53 of them 503 after 10 s, and held another user's live read 7 s. Now a
/// model replays at most two points at once and refuses one more at once with 429 and
/// `Retry-After`; the live read is answered meanwhile, and each refused point is built when
/// asked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_past_points_at_once_are_bounded_and_refused_clearly() {
    let app = Arc::new(testkit::system::spawn_with(|c| c.snapshot_events = 10_000).await);
    let mut last = 0;
    for i in 0..60 {
        let (status, reg, _) = app
            .post("county-token", "/v1/cases", &registration(i))
            .await;
        assert_eq!(status, 201, "{reg}");
        last = reg["seq"].as_u64().expect("seq");
    }
    let (status, _) = app
        .get(
            "county-token",
            &format!("/v1/queues/gaoqiao?min_seq={last}"),
        )
        .await;
    assert_eq!(status, 200);
    let asked = futures::future::join_all((1..=last).map(|n| {
        let app = app.clone();
        async move {
            let resp = app
                .http
                .get(format!("{}/v1/queues/gaoqiao?at_seq={n}", app.base))
                .bearer_auth("county-token")
                .send()
                .await
                .expect("request");
            let retry = resp.headers().contains_key("retry-after");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (n, status, retry, body)
        }
    }));
    let live = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        app.get("county-token", "/v1/queues/gaoqiao").await.0
    };
    let (answers, live) = tokio::join!(asked, live);
    assert_eq!(live, 200, "a live read is answered during the burst");
    let refused: Vec<u64> = answers
        .iter()
        .filter(|(_, status, ..)| *status == 429)
        .map(|(n, ..)| *n)
        .collect();
    for (n, status, retry, body) in &answers {
        match status {
            200 => {}
            429 => {
                assert!(retry, "Retry-After");
                assert_problem(429, body, 429, "too_many_requests");
            }
            other => panic!("at_seq={n}: {other} {body}"),
        }
    }
    assert!(
        !refused.is_empty(),
        "{last} points at once were all built at once"
    );
    for n in refused.iter().take(5) {
        let (status, body) = app
            .get("county-token", &format!("/v1/queues/gaoqiao?at_seq={n}"))
            .await;
        assert_eq!(status, 200, "at_seq={n} asked again: {body}");
    }
}

/// A case as of a past point carries the links it had then, read from the log: the same
/// petitioner's case in another township (related, and both 一信多投) as it was, a later case of
/// the petitioner not yet, and a case whose petitioner was corrected away since still as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_as_of_a_past_point_has_the_links_it_had_then() {
    let app = testkit::system::spawn_with(|c| c.snapshot_events = 10).await;
    let petition = |township: &str, name: &str, phone: &str| {
        let mut r = registration(1);
        r["township"] = json!(township);
        r["petitioners"] = json!([{"name": name, "phone": phone}]);
        r
    };
    let register = |body: Value| {
        let app = &app;
        async move {
            let (status, out, _) = app.post("county-token", "/v1/cases", &body).await;
            assert_eq!(status, 201, "{out}");
            let seq = out["seq"].as_u64().expect("seq");
            (out["case_id"].as_str().expect("id").to_owned(), seq)
        }
    };
    let (first, _) = register(petition("gaoqiao", "陈建国", "13800000001")).await;
    let (other, _) = register(petition("dongcheng", "陈建国", "13800000001")).await;
    let (_, seq) = register(petition("dongcheng", "李四", "13800000002")).await;
    let case = format!("/v1/cases/{first}");
    // A live read that has seen the log up to `seq`, and when it was answered.
    let read = |seq: u64| {
        let (app, case) = (&app, &case);
        async move {
            let path = format!("{case}?min_seq={seq}");
            let (status, live) = app.get("county-token", &path).await;
            assert_eq!(status, 200, "{path}: {live}");
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            (live, at)
        }
    };
    let (linked, linked_at) = read(seq).await;
    assert_eq!(linked["flags"]["duplicate"], true, "{linked}");
    let related: Vec<&Value> = linked["related_cases"]
        .as_array()
        .expect("related")
        .iter()
        .collect();
    assert_eq!(related.len(), 1, "{linked}");
    assert_eq!(related[0]["case_id"], other.as_str());
    assert_eq!(related[0]["flags"]["duplicate"], true);

    // The other case's petitioner was somebody else; then the petitioner comes again.
    let body = json!({"reason": "录错了人", "changes": {"petitioners": [{"name": "王五", "phone": "13800000003"}]}});
    let (status, out, _) = app
        .post("county-token", &format!("/v1/cases/{other}/correct"), &body)
        .await;
    assert_eq!(status, 200, "{out}");
    let (alone, alone_at) = read(out["seq"].as_u64().expect("seq")).await;
    assert_eq!(alone["flags"]["duplicate"], false, "{alone}");
    assert_eq!(alone["related_cases"], json!([]), "{alone}");
    let (later, seq) = register(petition("gaoqiao", "陈建国", "13800000001")).await;
    let (again, _) = read(seq).await;
    assert_eq!(
        again["related_cases"][0]["case_id"],
        later.as_str(),
        "{again}"
    );

    for (live, at) in [(linked, linked_at), (alone, alone_at)] {
        let seq = live["applied_seq"].as_u64().expect("applied_seq");
        let then = format!("{case}?at_seq={seq}&as_of={at}");
        let (status, asked) = app.get("county-token", &then).await;
        assert_eq!(status, 200, "{then}: {asked}");
        assert_eq!(without_applied(asked), without_applied(live), "{then}");
    }
}
