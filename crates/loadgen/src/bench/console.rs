//! The web console's pages on the loaded log (issue 16: every page in < 200 ms server time): a
//! session signed in as the county, then each page timed over loopback, whole (the console's
//! calls to the API's router, the API's queries and the rendering are all inside it).

use std::time::Instant;

use super::{result, say, BenchResult, Percentiles, System};

/// Sign in as `token` and return the session cookie (`xf_session=…`).
async fn sign_in(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let r = http
        .post(format!("{base}/console/login"))
        .header("Origin", base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_redirection(), "sign-in: {}", r.status());
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("xf_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("sign-in set no session cookie"))
}

pub async fn results(
    sys: &System,
    token: &str,
    case_id: &str,
    samples: usize,
) -> anyhow::Result<Vec<BenchResult>> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = sign_in(&http, &sys.base, token).await?;
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Duration::days(365);
    let mut out = Vec::new();
    for (name, path) in [
        ("console_workbench", "/console/workbench".to_owned()),
        (
            "console_workbench_overdue",
            "/console/workbench?status=overdue".to_owned(),
        ),
        (
            "console_workbench_supervised",
            "/console/workbench?flag=supervised".to_owned(),
        ),
        ("console_queue", "/console/queue".to_owned()),
        ("console_case", format!("/console/cases/{case_id}")),
        ("console_register_form", "/console/register".to_owned()),
        (
            "console_stats",
            format!("/console/stats?from={year_ago}&to={today}"),
        ),
        (
            "console_stats_csv",
            format!("/console/stats.csv?from={year_ago}&to={today}"),
        ),
        (
            "console_scorecards",
            format!("/console/scorecards?from={year_ago}&to={today}"),
        ),
        (
            "console_records",
            format!("/console/audit/records?from={year_ago}&to={today}"),
        ),
        (
            "console_checkpoints",
            "/console/audit/checkpoints".to_owned(),
        ),
        ("console_status_form", "/console/status".to_owned()),
    ] {
        say(&format!("console: {path}"));
        let url = format!("{}{path}", sys.base);
        let mut lat = Vec::with_capacity(samples);
        for _ in 0..samples {
            let t = Instant::now();
            let r = http.get(&url).header("Cookie", &cookie).send().await?;
            anyhow::ensure!(r.status().is_success(), "GET {path}: {}", r.status());
            r.bytes().await?;
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let p = Percentiles::of(lat);
        out.push(result(&format!("{name}_p50_ms"), p.p50, "ms"));
        out.push(result(&format!("{name}_p99_ms"), p.p99, "ms").target("< 200"));
    }
    Ok(out)
}
