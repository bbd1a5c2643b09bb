//! Notices to petitioners (issue 33, finding 9), against the real processes of `xinfang up`: each
//! step a petitioner is told of becomes one SMS per petitioner with a phone on `XF_NOTIFY`,
//! sealed to the gateway, which the documented gateway example (docs/examples/sms_gateway.py)
//! alone may read and opens; an erased case's waiting notices go; no phone is stored in plain.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{json, Value};

use crate::erasure::call;
use crate::support::{plain_values, stored_count, subject_count, Up};

const PHONE_A: &str = "13912340001";
const PHONE_B: &str = "13912340002";
const PHONE_C: &str = "13912340003";
const GATEWAY_USER: &str = "sms-gateway";
const GATEWAY_PASSWORD: &str = "sms-gateway-secret-0123456789";

/// A registration received an hour ago (a step older than a week is history, told to nobody).
fn registration(petitioners: Value) -> Value {
    let mut body = testkit::system::register_body();
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    body["received_at"] = json!(hour_ago.to_rfc3339());
    body["petitioners"] = petitioners;
    body
}

async fn ok(up: &Up, token: &str, path: &str, body: Value) -> Value {
    let (s, b) = call(up, token, "POST", path, Some(&body)).await;
    assert!(s == 200 || s == 201, "{path}: {s} {b}");
    b
}

/// The gateway example run until it has been idle for two seconds: its SMS lines and summary.
fn gateway(up: &Up, secret: &str) -> (Vec<Value>, Value) {
    let root = testkit::workspace_root();
    let out = std::process::Command::new("python3")
        .arg(root.join("docs/examples/sms_gateway.py"))
        .args([&up.nats_url, GATEWAY_USER, GATEWAY_PASSWORD, secret])
        .args(["--idle", "2"])
        .env("PYTHONPATH", root.join(".tools/python"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "the gateway example failed (are nats-py and pynacl installed? run \
         scripts/install-nats-server):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("the gateway prints JSON lines"))
        .collect();
    let summary = lines.pop().expect("a summary");
    (lines, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_is_one_sealed_notice_that_only_the_gateway_reads() {
    let (secret, public) = cipher::gateway_key_pair();
    let notify = format!(
        "[notify]\npublic_key = \"{public}\"\nnats_user = \"{GATEWAY_USER}\"\n\
         nats_password = \"{GATEWAY_PASSWORD}\"\n"
    );
    let up = Up::start_custom(|port, data| {
        testkit::TestConfig::new()
            .section(notify)
            .http_port(port)
            .data_dir(data)
            .unit("county", "县信访局", "county")
            .unit("dongcheng", "东城镇", "township")
            .principal("county-token", "county-1", "county", Some("county"))
            .principal("auditor-token", "auditor-1", "auditor", None)
            .township_with_system("gaoqiao")
            .toml()
    });
    let county = "county-token";
    // What the services' user would see of the notices in flight: nothing, the server refuses.
    let mut snoop = up
        .county()
        .await
        .subscribe("xf.notify.>")
        .await
        .expect("sub");

    // A: two petitioners, one with a phone: registered, accepted, replied, closed, code reissued.
    let a = ok(
        &up,
        county,
        "/v1/cases",
        registration(json!([{"name": "甲", "phone": PHONE_A}, {"name": "乙"}])),
    )
    .await;
    let (a_id, a_no) = (
        a["case_id"].as_str().expect("id"),
        a["case_no"].as_str().expect("no"),
    );
    let step = |id: &str, action: &str| format!("/v1/cases/{id}/{action}");
    ok(&up, county, &step(a_id, "accept"), json!({})).await;
    let reply = json!({"outcome": "supported", "text": "补偿款已发放"});
    ok(&up, county, &step(a_id, "reply"), reply).await;
    ok(&up, county, &step(a_id, "close"), json!({})).await;
    let reissued = ok(&up, county, &step(a_id, "reissue-query-code"), json!({})).await;
    let new_code = reissued["query_code"].as_str().expect("a code");
    // B: registered, accepted, transferred to 东城镇.
    let b = ok(
        &up,
        county,
        "/v1/cases",
        registration(json!([{"name": "丙", "phone": PHONE_B}])),
    )
    .await;
    let b_id = b["case_id"].as_str().expect("id");
    ok(&up, county, &step(b_id, "accept"), json!({})).await;
    let transfer = json!({"unit": "dongcheng", "reason": "属地管理"});
    ok(&up, county, &step(b_id, "transfer"), transfer).await;
    // C: registered and accepted, then its personal data erased before the gateway ran.
    let c = ok(
        &up,
        county,
        "/v1/cases",
        registration(json!([{"name": "丁", "phone": PHONE_C}])),
    )
    .await;
    let c_id = c["case_id"].as_str().expect("id");
    ok(&up, county, &step(c_id, "accept"), json!({})).await;

    let services = async_nats::jetstream::new(up.county().await);
    testkit::eventually(Duration::from_secs(30), "ten notices", || {
        let js = services.clone();
        async move {
            let n = subject_count(&js, "XF_NOTIFY", "xf.notify.>").await;
            (n == 10).then_some(())
        }
    })
    .await;

    // The county services' user administers the stream but reads none of it.
    let stream = services.get_stream("XF_NOTIFY").await.expect("stream info");
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("snoop".into()),
            ..Default::default()
        })
        .await;
    assert!(
        consumer.is_err(),
        "the services made a consumer on XF_NOTIFY"
    );
    assert!(
        stream.direct_get(1).await.is_err() && stream.get_raw_message(1).await.is_err(),
        "the services read a notice"
    );

    let erase =
        json!({"reason": "信访人依法申请删除个人信息", "request_ref": "删除申请〔2026〕9号"});
    let asked = ok(&up, county, &step(c_id, "erase-personal-data"), erase).await;
    let approve = format!(
        "/v1/erasures/{}/approve",
        asked["erasure_id"].as_str().expect("id")
    );
    ok(&up, "auditor-token", &approve, json!({})).await;
    testkit::eventually(
        Duration::from_secs(30),
        "the erased case's notices gone",
        || {
            let js = services.clone();
            async move {
                let n = subject_count(&js, "XF_NOTIFY", "xf.notify.>").await;
                (n == 8).then_some(())
            }
        },
    )
    .await;

    let (sms, summary) = gateway(&up, &secret);
    assert_eq!(summary["sent"], 8, "{summary}");
    assert_eq!(summary["repeated"], 0, "{summary}");
    let kinds =
        json!({"query_code": 3, "accepted": 2, "replied": 1, "closed": 1, "transferred": 1});
    assert_eq!(summary["kinds"], kinds, "{summary}");
    let to = |phone: &str| sms.iter().filter(|m| m["to"] == phone).count();
    assert_eq!(
        (to(PHONE_A), to(PHONE_B), to(PHONE_C)),
        (5, 3, 0),
        "{sms:?}"
    );
    let texts: Vec<&str> = sms.iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(
        texts.iter().all(|t| t.starts_with("【县信访局】")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains(a_no) && t.contains(new_code) && t.contains("重新发放")),
        "the reissued code reaches the petitioner: {texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("转送东城镇办理")),
        "{texts:?}"
    );
    // Taken notices leave the work queue; every notice was stored once.
    assert_eq!(
        subject_count(&services, "XF_NOTIFY", "xf.notify.>").await,
        0
    );
    assert_eq!(stored_count(&services, "XF_NOTIFY").await, 10);
    let (again, summary) = gateway(&up, &secret);
    assert_eq!((again.len(), &summary["sent"]), (0, &json!(0)), "{summary}");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), snoop.next())
            .await
            .is_err(),
        "the services saw a notice in flight"
    );

    let data = up.dir.path().join("data");
    assert_eq!(
        plain_values(&data, &[PHONE_A, PHONE_B, PHONE_C], 20),
        Vec::<(String, String)>::new(),
        "a phone in plain at rest"
    );
}
