//! Issue 33, finding 8: the documents a bureau sends and files, as PDF with an embedded CJK font,
//! read back with Debian's `pdftotext` (poppler-utils; missing, the test fails).

use serde_json::{json, Value};

use crate::common::*;

/// The text of a PDF, as `pdftotext` extracts it.
fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let out = std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn problem(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

async fn registered_and_accepted(app: &App) -> (String, String) {
    let (status, reg, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    assert_eq!(status, 201, "{reg}");
    let id = reg["case_id"].as_str().expect("id").to_owned();
    let (status, a, _) = app
        .post(
            "clerk-gaoqiao-token",
            &format!("/v1/cases/{id}/accept"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    (id, reg["case_no"].as_str().expect("no").to_owned())
}

#[tokio::test]
async fn a_document_is_numbered_once_by_who_may_act_and_reads_back_from_its_pdf() {
    let app = spawn_app().await;
    let (id, case_no) = registered_and_accepted(&app).await;
    let path = format!("/v1/cases/{id}/documents/acceptance_notice");
    // Before it is issued: a reader who may not act is told so; others learn nothing.
    let (status, _, body) = get_bytes(&app, "auditor-token", &path).await;
    assert_problem(status, &problem(&body), 409, "not_issued");
    let (status, _, body) = get_bytes(&app, "analyst-token", &path).await;
    assert_problem(status, &problem(&body), 403, "forbidden");
    let (status, _, body) = get_bytes(&app, "clerk-dongcheng-token", &path).await;
    assert_problem(status, &problem(&body), 404, "not_found");
    let reply = format!("/v1/cases/{id}/documents/reply_opinion");
    let (status, _, body) = get_bytes(&app, "clerk-gaoqiao-token", &reply).await;
    assert_problem(status, &problem(&body), 422, "invalid_transition");
    let (status, _, body) =
        get_bytes(&app, "county-token", &format!("/v1/cases/{id}/documents/x")).await;
    assert_problem(status, &problem(&body), 404, "not_found");

    // The accountable township issues it: 高桥镇〔<year>〕1号, its first of the year.
    let (status, kind, pdf) = get_bytes(&app, "clerk-gaoqiao-token", &path).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(kind, "application/pdf");
    let text = text_of(&pdf);
    let year = chrono::Utc::now().format("%Y").to_string();
    let number = format!("高桥镇〔{year}〕1号");
    for wanted in [
        "受理告知书",
        case_no.as_str(),
        number.as_str(),
        "答复期限",
        "张三",
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in {text}");
    }
    // A reprint, by anyone who may read it, carries the same number; the auditor's has no name.
    let (status, _, again) = get_bytes(&app, "county-token", &path).await;
    assert_eq!(status, 200);
    assert!(text_of(&again).contains(&number));
    let (status, _, audited) = get_bytes(&app, "auditor-token", &path).await;
    assert_eq!(status, 200);
    let audited = text_of(&audited);
    assert!(audited.contains(&number), "{audited}");
    let (status, history) = app
        .get("auditor-token", &format!("/v1/cases/{id}/history"))
        .await;
    assert_eq!(status, 200);
    let issued: Vec<&Value> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "DocumentIssued")
        .collect();
    assert_eq!(issued.len(), 1, "issued once: {history}");
    assert_eq!(issued[0]["data"]["document_no"], json!(number));

    // The township's next document of the year takes the next number, never the same one.
    let (other, _) = registered_and_accepted(&app).await;
    let (status, _, pdf) = get_bytes(
        &app,
        "clerk-gaoqiao-token",
        &format!("/v1/cases/{other}/documents/acceptance_notice"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(text_of(&pdf).contains(&format!("高桥镇〔{year}〕2号")));
}

/// Every kind of document, for the steps that have one, states the step's facts.
#[tokio::test]
async fn each_kind_states_its_step() {
    let app = spawn_app().await;
    let (id, case_no) = registered_and_accepted(&app).await;
    let steps = [
        (
            "transfer",
            json!({"unit": "dongcheng", "reason": "土地位于东城镇"}),
        ),
        (
            "assign",
            json!({"unit": "land_bureau", "note": "请依法核查"}),
        ),
        ("supervise", json!({"note": "请于本周内报告进展"})),
        (
            "reply",
            json!({"outcome": "supported", "text": "补偿款已于本月发放到位"}),
        ),
    ];
    for (action, body) in steps {
        let (status, b, _) = app
            .post("county-token", &format!("/v1/cases/{id}/{action}"), &body)
            .await;
        assert_eq!(status, 200, "{action}: {b}");
    }
    for (kind, wanted) in [
        (
            "transfer_notice",
            vec!["转送告知书", "东城镇", "土地位于东城镇"],
        ),
        (
            "assignment_slip",
            vec!["交办单", "县自然资源局", "请依法核查"],
        ),
        ("supervision_letter", vec!["督办函", "请于本周内报告进展"]),
        (
            "reply_opinion",
            vec!["答复意见书", "补偿款已于本月发放到位", "支持"],
        ),
    ] {
        let (status, _, pdf) = get_bytes(
            &app,
            "county-token",
            &format!("/v1/cases/{id}/documents/{kind}"),
        )
        .await;
        assert_eq!(status, 200, "{kind}: {}", String::from_utf8_lossy(&pdf));
        let text = text_of(&pdf);
        for w in wanted.iter().chain([&case_no.as_str(), &"县信访局"]) {
            assert!(text.contains(w), "{kind}: {w:?} not in {text}");
        }
    }
}
