//! Tidy checks that run as ordinary tests.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_nats_server_pin_is_the_same_everywhere() {
    let v = ops::natsbin::NATS_SERVER_VERSION;
    assert_eq!(testkit::NATS_SERVER_VERSION, v, "test kit");
    let script =
        std::fs::read_to_string(root().join("scripts/install-nats-server")).expect("script");
    assert!(
        script.contains(&format!("NATS_SERVER_VERSION={v}\n")),
        "scripts/install-nats-server pins another version"
    );
}

#[test]
fn no_source_file_is_over_500_lines_and_no_println_in_services() {
    let mut stack = vec![root().join("crates")];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("read dir")
            .map_while(Result::ok)
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                // Services log with tracing; only the binary's command output (up's two lines,
                // bench and simulate reports, case history) prints, each under an explicit
                // allow of clippy's print_stdout, which the workspace warns on.
                // The load tools (bench, simulate and their helpers) report on the terminal.
                let tool = path.components().any(|c| {
                    [
                        "bench",
                        "simulate.rs",
                        "rawbench.rs",
                        "scenario.rs",
                        "demo.rs",
                        "main.rs",
                    ]
                    .contains(&c.as_os_str().to_str().unwrap_or(""))
                });
                let in_library = path.components().any(|c| c.as_os_str() == "src") && !tool;
                for (n, line) in text.lines().enumerate() {
                    let prints = ["println!(", "print!(", "eprintln!(", "dbg!("]
                        .iter()
                        .any(|m| line.contains(m));
                    let allowed = text.contains("allow(clippy::print_stdout)")
                        || line.trim_start().starts_with("//");
                    assert!(
                        !(prints && in_library && !allowed),
                        "{}:{}: prints outside an allowed command output; use tracing",
                        path.display(),
                        n + 1
                    );
                }
                let lines = text.lines().count();
                assert!(
                    lines <= 500,
                    "{} has {lines} lines; split it",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "walked the crates ({checked} files)");
}

#[test]
fn every_library_crate_says_what_it_is_for() {
    for krate in ["domain", "eventlog", "api", "testkit", "xinfang"] {
        let lib = std::fs::read_to_string(root().join(format!("crates/{krate}/src/lib.rs")))
            .expect("lib.rs");
        assert!(
            lib.starts_with("//! "),
            "crates/{krate}/src/lib.rs must start with a //! paragraph"
        );
    }
}

#[test]
fn docs_events_md_describes_every_event_type_at_its_version() {
    let doc = std::fs::read_to_string(root().join("docs/events.md")).expect("docs/events.md");
    for t in domain::Event::TYPES {
        let heading = format!("### `{t}` v{}", domain::Event::SCHEMA_VERSION);
        assert!(doc.contains(&heading), "docs/events.md lacks {heading}");
    }
}

#[test]
fn deploy_configs_are_valid() {
    let deploy = root().join("deploy");
    for toml in ["xinfang.toml", "xinfang-cluster.toml"] {
        let path = deploy.join(toml);
        xinfang::config::Config::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
    }
    // The authorization block `nats-config` prints for the cluster config is valid server syntax.
    let cluster = xinfang::config::Config::load(&deploy.join("xinfang-cluster.toml"))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let block = xinfang::natsauth::print_nats_config(&cluster).expect("nats-config");
    let dir = tempfile::tempdir().expect("tmp");
    let generated = dir.path().join("generated.conf");
    std::fs::write(&generated, format!("listen: 127.0.0.1:4222\n{block}")).expect("write");
    let mut confs = vec![deploy.join("nats-single.conf"), generated];
    confs.push(deploy.join("township/nats-leaf.conf"));
    confs.extend((1..=3).map(|i| deploy.join(format!("cluster/nats-{i}.conf"))));
    for conf in confs {
        // `-t` checks a configuration and exits.
        let out = std::process::Command::new(testkit::nats_server_bin())
            .arg("-t")
            .env("XF_TOWNSHIP", "gaoqiao")
            .env("XF_NATS_STORE", dir.path())
            .env(
                "XF_COUNTY_LEAF_URL",
                "nats-leaf://gaoqiao-leaf:pw@127.0.0.1:7422",
            )
            .arg("-c")
            .arg(&conf)
            .output()
            .expect("run nats-server -t");
        assert!(
            out.status.success(),
            "{}: {}{}",
            conf.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Architecture invariant: the domain is pure. It must not depend on IO or async crates.
#[test]
fn domain_has_no_io_dependencies() {
    let manifest =
        std::fs::read_to_string(root().join("crates/domain/Cargo.toml")).expect("domain manifest");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .expect("a [dependencies] table");
    for forbidden in [
        "tokio",
        "async-nats",
        "sled",
        "axum",
        "tracing",
        "reqwest",
        "hyper",
    ] {
        let found = deps
            .lines()
            .any(|l| l.split(['=', '.', ' ']).next() == Some(forbidden));
        assert!(!found, "xinfang-domain must not depend on {forbidden}");
    }
}
