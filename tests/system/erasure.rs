//! Issue 15, item 5, against the real processes of `xinfang up`: personal data is stored only
//! sealed under its case's data key (the whole data directory — NATS's store, every sled
//! directory, the logs — holds none of it in plain), reads show it to those entitled, and an
//! erasure requested by one principal and approved by another destroys the key: the case stays,
//! its personal data reads as erased, search no longer finds the person, the log still verifies,
//! and the data directory still holds none of it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::Up;

const NAME: &str = "甄士隐";
const ID_NUMBER: &str = "330102199001011234";
const PHONE: &str = "13912345678";
const ADDRESS: &str = "葫芦庙仁清巷八号";
const ACCUSATION: &str = "举报葫芦庙住持挪用香火钱";
const FILENAME: &str = crate::support::EVIDENCE_FILENAME;
const EVIDENCE: &str = "EVIDENCE-OF-ZHEN-7781";
/// Of a township system's registration over NATS, and of a message of it that is rejected.
const INBOX_NAME: &str = "贾雨村";
const INBOX_PHONE: &str = "13711112222";
const REJECTED_NAME: &str = "封肃";

/// Publish `body` as township gaoqiao's message `msg_id` on `action`; its outcome.
async fn township(up: &Up, action: &str, msg_id: &str, body: &Value) -> Value {
    let client = async_nats::ConnectOptions::with_user_and_password(
        "gaoqiao".into(),
        "gaoqiao-secret".into(),
    )
    .custom_inbox_prefix("_INBOX.gaoqiao")
    .connect(up.nats_url.as_str())
    .await
    .expect("the township connects");
    let js = async_nats::jetstream::new(client);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", msg_id);
    let subject = format!("xf.inbox.gaoqiao.{action}");
    js.publish_with_headers(subject, headers, body.to_string().into())
        .await
        .expect("publish")
        .await
        .expect("stored in the inbox");
    let outcomes = js
        .get_stream_no_info("XF_OUTCOMES")
        .await
        .expect("outcomes");
    let subject = format!("xf.outcome.gaoqiao.{msg_id}");
    testkit::eventually(Duration::from_secs(20), "an outcome", || {
        let (outcomes, subject) = (outcomes.clone(), subject.clone());
        async move {
            let m = outcomes.direct_get_last_for_subject(subject).await.ok()?;
            serde_json::from_slice::<Value>(&m.payload).ok()
        }
    })
    .await
}

pub(crate) async fn call(
    up: &Up,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("{}{path}", up.base);
    let req = match method {
        "GET" => http.get(url),
        _ => http.post(url).json(body.unwrap_or(&json!({}))),
    };
    let resp = req.bearer_auth(token).send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_sealed_at_rest_and_an_approved_erasure_destroys_it_for_good() {
    let up = Up::start_custom(|port, data| {
        testkit::TestConfig::new()
            .http_port(port)
            .data_dir(data)
            .unit("county", "县信访局", "county")
            .principal("county-token", "county-1", "county", Some("county"))
            .principal("county-2-token", "county-2", "county", Some("county"))
            .principal("auditor-token", "auditor-1", "auditor", None)
            .township_with_system("gaoqiao")
            .toml()
    });
    let mut body = testkit::system::register_body();
    body["petitioners"] =
        json!([{"name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "address": ADDRESS}]);
    let (s, case) = call(&up, "county-token", "POST", "/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{case}");
    let id = case["case_id"].as_str().expect("id").to_owned();
    let mut accusation = testkit::system::register_body();
    accusation["accusation"] = json!(true);
    accusation["summary"] = json!(ACCUSATION);
    accusation["petitioners"] = json!([{"name": "匿名", "phone": "13800000001"}]);
    let (s, acc) = call(&up, "county-token", "POST", "/v1/cases", Some(&accusation)).await;
    assert_eq!(s, 201, "{acc}");
    let (pdf, uploaded) = crate::support::upload_evidence(&up.base, &id, EVIDENCE).await;
    let seq = uploaded["seq"].as_u64().expect("seq");

    // Entitled readers see it all: the case, its history and its evidence.
    let (_, read) = call(&up, "county-token", "GET", &format!("/v1/cases/{id}"), None).await;
    assert_eq!(read["petitioners"][0]["id_number"], ID_NUMBER, "{read}");
    assert_eq!(read["attachments"][0]["filename"], FILENAME, "{read}");
    let (_, acc_read) = call(
        &up,
        "county-token",
        "GET",
        &format!("/v1/cases/{}", acc["case_id"].as_str().expect("id")),
        None,
    )
    .await;
    assert_eq!(acc_read["summary"], ACCUSATION, "{acc_read}");
    let history_path = format!("/v1/cases/{id}/history?min_seq={seq}");
    let (_, history) = call(&up, "county-token", "GET", &history_path, None).await;
    assert_eq!(
        history["events"][0]["data"]["petitioners"][0]["name"], NAME,
        "{history}"
    );
    let attachment = read["attachments"][0]["attachment_id"]
        .as_str()
        .expect("attachment");
    let download = format!("{}/v1/cases/{id}/attachments/{attachment}", up.base);
    let got = reqwest::Client::new()
        .get(&download)
        .bearer_auth("county-token")
        .send()
        .await
        .expect("download");
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().await.expect("bytes").to_vec(), pdf);
    // Search finds the person (once the cases model has the registration).
    let search = json!({"id_number": ID_NUMBER});
    testkit::eventually(
        Duration::from_secs(20),
        "search finds the petitioner",
        || async {
            let (_, found) = call(
                &up,
                "county-token",
                "POST",
                "/v1/cases/search",
                Some(&search),
            )
            .await;
            (found["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|c| c["case_id"] == id.as_str())))
            .then_some(())
        },
    )
    .await;

    // A township system's registration over NATS, and a message of it that is refused: the
    // inbox keeps neither's plain body once answered; the refused one is kept for inspection in
    // its outcome, without its personal data.
    let mut reg = testkit::system::register_body();
    reg.as_object_mut().expect("object").remove("township");
    reg["petitioners"] = json!([{"name": INBOX_NAME, "phone": INBOX_PHONE}]);
    let applied = township(&up, "register", "GQ-ERASE-1", &reg).await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let mut bad = reg.clone();
    bad["petitioners"] = json!([{"name": REJECTED_NAME, "phone": "12"}]);
    let rejected = township(&up, "register", "GQ-ERASE-2", &bad).await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    assert_eq!(rejected["body"]["channel"], "visit", "{rejected}");

    // At rest: nowhere in plain (sled flushes within half a second; NATS writes at once).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let values = [
        NAME, ID_NUMBER, PHONE, ADDRESS, ACCUSATION, FILENAME, EVIDENCE,
    ];
    let data = up.dir.path().join("data");
    assert_eq!(
        crate::support::plain_values(&data, &values, 20),
        Vec::<(String, String)>::new(),
        "plain personal data at rest"
    );

    // The erasure: requested by the county, not approved by the requester, approved by an auditor.
    let erase =
        json!({"reason": "信访人依法申请删除个人信息", "request_ref": "删除申请〔2026〕3号"});
    let (s, asked) = call(
        &up,
        "county-token",
        "POST",
        &format!("/v1/cases/{id}/erase-personal-data"),
        Some(&erase),
    )
    .await;
    assert_eq!(s, 201, "{asked}");
    assert_eq!(asked["status"], "pending");
    let erasure = asked["erasure_id"].as_str().expect("erasure id").to_owned();
    let (s, again) = call(
        &up,
        "county-token",
        "POST",
        &format!("/v1/cases/{id}/erase-personal-data"),
        Some(&erase),
    )
    .await;
    assert_eq!(s, 422, "a second request while one is pending: {again}");
    let approve = format!("/v1/erasures/{erasure}/approve");
    let (s, own) = call(&up, "county-token", "POST", &approve, None).await;
    assert_eq!(s, 403, "the requester approves alone: {own}");
    let (s, analyst) = call(
        &up,
        "county-token",
        "POST",
        "/v1/erasures/00000000-0000-0000-0000-000000000000/approve",
        None,
    )
    .await;
    assert_eq!(s, 404, "{analyst}");
    let (_, still) = call(&up, "county-token", "GET", &format!("/v1/cases/{id}"), None).await;
    assert_eq!(
        still["petitioners"][0]["name"], NAME,
        "nothing erased while pending: {still}"
    );
    assert_eq!(still["personal_data_erased"], false, "{still}");
    let (s, done) = call(&up, "auditor-token", "POST", &approve, None).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["status"], "erased");
    let erased_seq = done["seq"].as_u64().expect("seq");

    // Every read shows the case without its personal data, and says it was erased.
    let (s, after) = call(&up, "county-token", "GET", &format!("/v1/cases/{id}"), None).await;
    assert_eq!(s, 200, "the case record stays: {after}");
    assert_eq!(after["petitioners"], json!([]), "{after}");
    assert_eq!(after["personal_data_erased"], true, "{after}");
    assert_eq!(after["attachments"][0]["filename"], "", "{after}");
    assert_eq!(after["case_no"], case["case_no"]);
    let history_path = format!("/v1/cases/{id}/history?min_seq={erased_seq}");
    let (_, history) = call(&up, "auditor-token", "GET", &history_path, None).await;
    let events = history["events"].as_array().expect("events");
    assert_eq!(
        events.last().expect("last")["type"],
        "PersonalDataErased",
        "{history}"
    );
    assert_eq!(
        events.last().expect("last")["data"]["approved_by"],
        "auditor-1"
    );
    assert!(
        !history.to_string().contains(ID_NUMBER) && !history.to_string().contains(NAME),
        "{history}"
    );
    let got = reqwest::Client::new()
        .get(&download)
        .bearer_auth("county-token")
        .send()
        .await
        .expect("download");
    assert_eq!(got.status().as_u16(), 422, "the evidence went with the key");
    let (_, list) = call(&up, "auditor-token", "GET", "/v1/erasures", None).await;
    assert_eq!(list["items"][0]["erasure_id"], erasure.as_str(), "{list}");
    assert_eq!(list["items"][0]["requested_by"], "county-1");
    assert_eq!(list["items"][0]["approved_by"], "auditor-1");
    // No step brings personal data back.
    let correct =
        json!({"reason": "补录", "changes": {"petitioners": [{"name": NAME, "phone": PHONE}]}});
    let (s, refused) = call(
        &up,
        "county-token",
        "POST",
        &format!("/v1/cases/{id}/correct"),
        Some(&correct),
    )
    .await;
    assert_eq!(s, 422, "{refused}");
    // Search no longer finds the person.
    testkit::eventually(
        Duration::from_secs(20),
        "search no longer finds the petitioner",
        || async {
            let (_, found) = call(
                &up,
                "county-token",
                "POST",
                "/v1/cases/search",
                Some(&search),
            )
            .await;
            (found["items"] == json!([])).then_some(())
        },
    )
    .await;
    // The log still verifies.
    let verified = testkit::eventually(
        Duration::from_secs(20),
        "a checkpoint covering the erasure",
        || async {
            let (_, v) = call(
                &up,
                "auditor-token",
                "GET",
                &format!("/v1/cases/{id}/verify"),
                None,
            )
            .await;
            (v["checkpoint_seq"].as_u64() >= Some(erased_seq)).then_some(v)
        },
    )
    .await;
    assert_eq!(verified["ok"], true, "{verified}");
    // The key itself is gone from the key stream.
    let js = async_nats::jetstream::new(up.county().await);
    let keys = js.get_stream("XF_KEYS").await.expect("key stream");
    let subject = format!("xf.keys.{id}");
    assert!(
        keys.direct_get_last_for_subject(subject.as_str())
            .await
            .is_err(),
        "the data key is erased"
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        crate::support::plain_values(&data, &values, 20),
        Vec::<(String, String)>::new(),
        "plain personal data after erasure"
    );
}

/// Issue 32, item 6: erasures were authorized as adjustments, so a refused clerk read that only
/// the county and auditors "handle adjustments of the figures".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_refused_an_erasure_is_told_about_erasures() {
    let app = crate::common::spawn_app().await;
    let approve = "/v1/erasures/00000000-0000-0000-0000-000000000000/approve";
    for token in ["clerk-gaoqiao-token", "analyst-token"] {
        let (s, listed) = app.get(token, "/v1/erasures").await;
        assert_eq!(s, 403, "{listed}");
        let (s, approved, _) = app.post(token, approve, &json!({})).await;
        assert_eq!(s, 403, "{approved}");
        for refused in [&listed, &approved] {
            let detail = refused["detail"].as_str().expect("detail");
            assert!(
                detail.contains("erasures") && !detail.contains("adjustments"),
                "{refused}"
            );
        }
    }
}
