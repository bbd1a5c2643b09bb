//! Issue 12 (casework 1): finding a case.

use serde_json::json;

use crate::common::*;

/// `GET /v1/cases/by-no/{case_no}`: the case exactly as `GET` on its id shows it, to whoever may
/// read it; another township's clerk and an unknown number get the same 404; analysts 403.
#[tokio::test]
async fn a_case_is_found_by_its_number_by_those_who_may_read_it() {
    let app = spawn_app().await;
    let (status, reg, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    assert_eq!(status, 201, "{reg}");
    let no = reg["case"]["case_no"].as_str().expect("case_no").to_owned();
    let seq = reg["seq"].as_u64().expect("seq");
    let by_no = |token: &'static str, no: String| {
        let app = &app;
        async move {
            app.get(token, &format!("/v1/cases/by-no/{no}?min_seq={seq}"))
                .await
        }
    };
    for token in ["county-token", "auditor-token", "clerk-gaoqiao-token"] {
        let (status, case) = by_no(token, no.clone()).await;
        assert_eq!(status, 200, "{token}: {case}");
        assert_eq!(case["case_id"], reg["case_id"], "{token}");
        assert_eq!(case["case_no"], json!(no));
        assert!(case["applied_seq"].as_u64() >= Some(seq));
    }
    // The clerk of another township learns nothing: the answer of an unknown number.
    let (status, other) = by_no("clerk-dongcheng-token", no.clone()).await;
    assert_problem(status, &other, 404, "not_found");
    let (status, unknown) = by_no("county-token", "GAOQIAO-2026-999999".into()).await;
    assert_problem(status, &unknown, 404, "not_found");
    assert_eq!(other["detail"], unknown["detail"]);
    // The same holds for GET on the case's id.
    let id = reg["case_id"].as_str().expect("id");
    let (status, by_id) = app
        .get("clerk-dongcheng-token", &format!("/v1/cases/{id}"))
        .await;
    let (_, unknown_id) = app
        .get(
            "clerk-dongcheng-token",
            "/v1/cases/0192f0a0-0000-7000-8000-000000000000",
        )
        .await;
    assert_problem(status, &by_id, 404, "not_found");
    assert_eq!(by_id, unknown_id);
    let (status, p) = by_no("analyst-token", no.clone()).await;
    assert_problem(status, &p, 403, "forbidden");
    // Nothing a case number could be.
    for bad in ["x%2F..", &"A".repeat(65), "%E9%AB%98"] {
        let (status, p) = by_no("county-token", bad.to_string()).await;
        assert_problem(status, &p, 404, "not_found");
    }
}

/// Issue 12, finding 8: a registration records `leader_reception`, a flag beside the channel.
#[tokio::test]
async fn a_leader_reception_day_visit_is_flagged() {
    let app = spawn_app().await;
    let mut body = register_body();
    body["leader_reception"] = json!(true);
    let (status, reg, _) = app.post("county-token", "/v1/cases", &body).await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["case"]["channel"], "visit");
    assert_eq!(reg["case"]["flags"]["leader_reception"], true, "{reg}");
    let id = reg["case_id"].as_str().expect("id");
    let (_, case) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(case["flags"]["leader_reception"], true, "{case}");
    let (status, plain, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    assert_eq!(status, 201, "{plain}");
    assert_eq!(plain["case"]["flags"]["leader_reception"], false);
    let (status, history) = app
        .get(
            "auditor-token",
            &format!("/v1/cases/{id}/history?min_seq={}", reg["seq"]),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["events"][0]["data"]["leader_reception"], true);
}
