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

/// Issue 30, finding 6: 124,000 wrong tokens a minute at `/console/login` and 136,000 at
/// `GET /v1/me`, all 401. Now an address that failed 30 times in 5 minutes gets 429 for every
/// token it sends (the right one too) until the window ends; the console's sign-in counts the
/// browser's address the same way; other addresses are not affected.
#[tokio::test]
async fn guessing_tokens_is_cut_off_per_address_at_the_api_and_the_console() {
    let app = spawn_app().await;
    let from = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    };
    let me = |client: &reqwest::Client, token: &str| {
        client
            .get(format!("{}/v1/me", app.base))
            .bearer_auth(token)
            .send()
    };
    let guesser = from(11);
    for i in 0..30 {
        let resp = me(&guesser, &format!("guess-{i}")).await.expect("me");
        assert_eq!(resp.status(), 401, "guess {i}");
    }
    let resp = me(&guesser, "guess-31").await.expect("me");
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_problem(429, &body, 429, "too_many_requests");
    let resp = me(&guesser, "county-token").await.expect("me");
    assert_eq!(
        resp.status(),
        429,
        "the right token from the same address waits too"
    );
    let resp = me(&from(12), "county-token").await.expect("me");
    assert_eq!(resp.status(), 200, "another address is served");
    // A request without a token (health, the status page) is not refused.
    let resp = guesser
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("health");
    assert_eq!(resp.status(), 200);

    // The console's sign-in form counts the browser's address.
    let console = from(13);
    let origin = app.base.clone();
    let login = |token: String| {
        console
            .post(format!("{}/console/login", app.base))
            .header("Origin", origin.clone())
            .form(&[("token", token)])
            .send()
    };
    for i in 0..30 {
        let resp = login(format!("console-guess-{i}")).await.expect("login");
        assert_eq!(resp.status(), 401, "guess {i}");
    }
    let resp = login("county-token".into()).await.expect("login");
    assert_eq!(resp.status(), 429);
    assert!(resp
        .text()
        .await
        .expect("page")
        .contains("登录失败次数过多"));
    let resp = from(14)
        .post(format!("{}/console/login", app.base))
        .header("Origin", app.base.clone())
        .form(&[("token", "county-token")])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 303, "another browser signs in");
}

/// Issue 30, finding 5: after sign-out the old cookie still opened the workbench and, with its
/// CSRF token, accepted a case, for 10 hours. Sessions are kept open on the server (a NATS
/// key-value bucket): sign-out ends a session for every copy of its cookie, on every API
/// instance; a second instance serves a session the first opened.
#[tokio::test]
async fn signing_out_ends_the_session_on_every_api_instance() {
    let app = spawn_app().await;
    let (second, _task) = start_api_with(&app.nats, api::server::Limits::default()).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = http
        .post(format!("{}/console/login", app.base))
        .header("Origin", app.base.clone())
        .form(&[("token", "county-token")])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 303);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let page = |base: String| {
        let (http, cookie) = (http.clone(), cookie.clone());
        async move {
            let resp = http
                .get(format!("{base}/console/workbench"))
                .header("Cookie", cookie)
                .send()
                .await
                .expect("workbench");
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap_or_default())
        }
    };
    let (status, body) = page(app.base.clone()).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = page(second.clone()).await;
    assert_eq!(status, 200, "the other instance serves the session");
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf token")
        .to_owned();
    let resp = http
        .post(format!("{}/console/logout", app.base))
        .header("Origin", app.base.clone())
        .header("Cookie", cookie.clone())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), 303);
    // The old cookie opens nothing, here or on the other instance, and acts on nothing.
    for base in [app.base.clone(), second.clone()] {
        let (status, _) = page(base).await;
        assert_eq!(status, 303, "back to the sign-in page");
    }
    let id = app.register().await;
    let resp = http
        .post(format!("{}/console/cases/{id}/act", app.base))
        .header("Origin", app.base.clone())
        .header("Cookie", cookie)
        .form(&[("csrf", csrf.as_str()), ("action", "accept")])
        .send()
        .await
        .expect("act");
    // Sign-in, carrying the step (issue 34: a typed step survives an ended session), not the
    // step taken.
    assert_eq!(resp.status(), 401);
    let page = resp.text().await.unwrap_or_default();
    assert!(page.contains("登录已过期"), "{page}");
    assert!(
        page.contains("name=\"r:action\" value=\"accept\""),
        "{page}"
    );
    let (_, case) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(
        case["status"], "registered",
        "nothing was done with the old cookie"
    );
}
