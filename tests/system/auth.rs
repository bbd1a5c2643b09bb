//! Each role's allowed and forbidden actions over HTTP; another township's case is invisible.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn roles_and_units() {
    let app = spawn_app().await;
    // Registration: clerks only for their own township; auditors and analysts never.
    let (s, b, _) = app
        .post("clerk-dongcheng-token", "/v1/cases", &register_body())
        .await;
    assert_problem(s, &b, 403, "forbidden");
    for token in ["auditor-token", "analyst-token"] {
        let (s, b, _) = app.post(token, "/v1/cases", &register_body()).await;
        assert_problem(s, &b, 403, "forbidden");
    }
    let (s, b, _) = app
        .post("clerk-gaoqiao-token", "/v1/cases", &register_body())
        .await;
    assert_eq!(s, 201, "{b}");
    let id = b["case_id"].as_str().expect("id").to_owned();
    assert!(
        b["case"]["petitioners"].is_array(),
        "the registering clerk sees personal data"
    );
    let path = |a: &str| format!("/v1/cases/{id}/{a}");

    // Another township: the case does not exist for it, neither to read nor to act on.
    let (s, b) = app
        .get("clerk-dongcheng-token", &format!("/v1/cases/{id}"))
        .await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b) = app
        .get("clerk-dongcheng-token", &format!("/v1/cases/{id}/history"))
        .await;
    assert_problem(s, &b, 404, "not_found");
    let (s, b, _) = app
        .post("clerk-dongcheng-token", &path("accept"), &json!({}))
        .await;
    assert_problem(s, &b, 404, "not_found");
    // Analysts never read cases; auditors read everything but change nothing.
    let (s, b) = app.get("analyst-token", &format!("/v1/cases/{id}")).await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app
        .get("analyst-token", &format!("/v1/cases/{id}/history"))
        .await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b) = app
        .get("auditor-token", &format!("/v1/cases/{id}/history"))
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(
        b["events"][0]["data"]["petitioners"].is_array(),
        "auditors see personal data"
    );
    let (s, b, _) = app.post("auditor-token", &path("accept"), &json!({})).await;
    assert_problem(s, &b, 403, "forbidden");

    // The accountable unit accepts; county-only steps stay county-only.
    assert_eq!(
        app.post("clerk-gaoqiao-token", &path("accept"), &json!({}))
            .await
            .0,
        200
    );
    let (s, b, _) = app
        .post(
            "clerk-gaoqiao-token",
            &path("assign"),
            &json!({"unit": "land_bureau"}),
        )
        .await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b, _) = app
        .post(
            "clerk-gaoqiao-token",
            &path("supervise"),
            &json!({"note": "n"}),
        )
        .await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b, _) = app
        .post(
            "county-token",
            &path("assign"),
            &json!({"unit": "land_bureau"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    // gaoqiao held the case: it still reads it, but the land bureau now acts.
    let (s, b) = app
        .get("clerk-gaoqiao-token", &format!("/v1/cases/{id}"))
        .await;
    assert_eq!((s, b["unit"].as_str()), (200, Some("land_bureau")));
    let (s, b, _) = app
        .post(
            "clerk-gaoqiao-token",
            &path("reply"),
            &json!({"outcome": "explained", "text": "t"}),
        )
        .await;
    assert_problem(s, &b, 403, "forbidden");
    let (s, b, _) = app
        .post(
            "handler-land-token",
            &path("reply"),
            &json!({"outcome": "explained", "text": "t"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        app.post("handler-land-token", &path("close"), &json!({}))
            .await
            .0,
        200
    );
    let (s, b, _) = app
        .post(
            "handler-land-token",
            &path("request-review"),
            &json!({"reason": "r"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b, _) = app
        .post(
            "handler-land-token",
            &path("decide-review"),
            &json!({"outcome": "explained", "text": "t"}),
        )
        .await;
    assert_problem(s, &b, 403, "forbidden");
    assert_eq!(
        app.post(
            "county-token",
            &path("decide-review"),
            &json!({"outcome": "explained", "text": "t"})
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn confidential_and_accusation_cases_hide_personal_data_from_units() {
    let app = spawn_app().await;
    for flag in ["confidential", "accusation"] {
        let mut body = register_body();
        body[flag] = json!(true);
        let (s, b, _) = app.post("clerk-gaoqiao-token", "/v1/cases", &body).await;
        assert_eq!(s, 201, "{b}");
        assert!(
            b["case"].get("petitioners").is_none(),
            "{flag}: not even the registering clerk"
        );
        let id = b["case_id"].as_str().expect("id");
        let (s, h) = app
            .get("clerk-gaoqiao-token", &format!("/v1/cases/{id}/history"))
            .await;
        assert_eq!(s, 200, "{h}");
        assert_eq!(h["events"][0]["type"], "CaseRegistered", "{h}");
        assert!(
            h["events"][0]["data"].get("petitioners").is_none(),
            "{flag}: history strips it too"
        );
        assert!(
            !h.to_string().contains("330102199001011234"),
            "{flag}: no ID number anywhere"
        );
        let (s, c) = app.get("county-token", &format!("/v1/cases/{id}")).await;
        assert_eq!(s, 200, "{c}");
        assert!(c["petitioners"].is_array(), "{flag}: county sees it");
    }
}
