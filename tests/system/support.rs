//! `xinfang up` as a child process with township systems that have NATS users, for the tests of
//! the township integration. Each township `<unit>` gets user `<unit>`, password `<unit>-secret`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use testkit::free_port;

pub const BIN: &str = env!("CARGO_BIN_EXE_xinfang");

pub struct Up {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub nats_url: String,
    pub base: String,
}

pub fn config_text(
    http_port: u16,
    data: &std::path::Path,
    townships: &[&str],
    extra: &str,
) -> String {
    let mut cfg = testkit::TestConfig::new()
        .section(extra)
        .http_port(http_port)
        .data_dir(data)
        .unit("county", "县信访局", "county")
        .principal("county-token", "county-1", "county", Some("county"));
    for t in townships {
        cfg = cfg.township_with_system(t);
    }
    cfg.toml()
}

impl Up {
    pub fn start(townships: &[&str]) -> Up {
        Self::start_with(townships, "")
    }

    /// `extra` goes at the top of the config (for example a `[nats]` section).
    pub fn start_with(townships: &[&str], extra: &str) -> Up {
        Self::start_custom(|port, data| config_text(port, data, townships, extra))
    }

    /// With a config written by `make(http_port, data_dir)`.
    pub fn start_custom(make: impl FnOnce(u16, &std::path::Path) -> String) -> Up {
        let dir = tempfile::tempdir().expect("tmp");
        let port = free_port();
        let config = dir.path().join("xinfang.toml");
        std::fs::write(&config, make(port, &dir.path().join("data"))).expect("config");
        let (child, lines) =
            xinfang::up::spawn_up(BIN.as_ref(), &config, &[], Duration::from_secs(90))
                .unwrap_or_else(|e| panic!("{e:#}"));
        let nats_url = lines
            .iter()
            .find_map(|l| l.strip_prefix("nats "))
            .unwrap_or_default()
            .to_owned();
        assert!(nats_url.starts_with("nats://"), "up printed no nats line");
        Up {
            child,
            dir,
            config,
            nats_url,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn cfg(&self) -> xinfang::config::Config {
        let mut cfg = xinfang::config::Config::load(&self.config).expect("config");
        cfg.nats_url = Some(self.nats_url.clone());
        cfg
    }

    /// A client as the county services' user (the password `up` generated).
    pub async fn county(&self) -> async_nats::Client {
        let cfg = self.cfg();
        let creds = xinfang::natsauth::county_credentials(&cfg).expect("county credentials");
        xinfang::serve::connect_as(&self.nats_url, "test-county", Some(&creds))
            .await
            .expect("the county connects")
            .into()
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        for _ in 0..150 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many messages `stream` ever stored (its last sequence): an inbox erases each message
/// once it is answered, so what it holds says nothing of what it took.
pub async fn stored_count(js: &jetstream::Context, stream: &str) -> u64 {
    let mut s = js.get_stream(stream).await.expect("stream");
    s.info().await.expect("info").state.last_sequence
}

/// How many messages `stream` holds on subjects matching `filter`.
pub async fn subject_count(js: &jetstream::Context, stream: &str, filter: &str) -> usize {
    let s = js.get_stream(stream).await.expect("stream");
    let mut subjects = s.info_with_subjects(filter).await.expect("info");
    let mut n = 0;
    while let Some(s) = subjects.next().await {
        n += s.expect("subject").1;
    }
    n
}

/// Every file under `dir` holding any of `values` (as UTF-8 bytes): (file, value), sorted. Fails
/// when `dir` holds fewer than `files_at_least` files: a test that greps for plain data must be
/// grepping the stores.
pub fn plain_values(
    dir: &std::path::Path,
    values: &[&str],
    files_at_least: usize,
) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match entry.path() {
                p if p.is_dir() => dirs.push(p),
                p => files.push(p),
            }
        }
    }
    assert!(
        files.len() >= files_at_least,
        "{} holds the stores: {files:?}",
        dir.display()
    );
    let mut found = Vec::new();
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for v in values {
            if bytes.windows(v.len()).any(|w| w == v.as_bytes()) {
                found.push((file.display().to_string(), (*v).to_owned()));
            }
        }
    }
    found.sort();
    found
}

/// The file name the personal-data tests give their evidence (plain data: it names a person).
pub const EVIDENCE_FILENAME: &str = "甄士隐来信.pdf";

/// Upload a PDF holding `evidence` to case `case_id` as the county, named
/// [`EVIDENCE_FILENAME`]: its bytes and the answer (201).
pub async fn upload_evidence(
    base: &str,
    case_id: &str,
    evidence: &str,
) -> (Vec<u8>, serde_json::Value) {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend_from_slice(evidence.as_bytes());
    let resp = reqwest::Client::new()
        .post(format!("{base}/v1/cases/{case_id}/attachments"))
        .bearer_auth("county-token")
        .header("Content-Type", "application/pdf")
        .header(
            "Content-Disposition",
            "attachment; filename*=UTF-8''%E7%94%84%E5%A3%AB%E9%9A%90%E6%9D%A5%E4%BF%A1.pdf",
        )
        .body(pdf.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 201);
    (pdf, resp.json().await.expect("json"))
}
