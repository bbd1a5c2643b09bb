//! Architecture invariant: the domain is pure. It must not depend on IO or async crates.

#[test]
fn domain_has_no_io_dependencies() {
    let manifest = include_str!("../Cargo.toml");
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
