//! Configuration parsing (`xinfang::config`): good files, and errors that name the file, the key
//! and the problem.

use std::path::Path;

use domain::Policy;
use xinfang::config::*;

fn parse(text: &str) -> anyhow::Result<Config> {
    Config::parse(Path::new("x.toml"), text)
}

const OK: &str = r#"
[http]
addr = "127.0.0.1:8080"
[[unit]]
code = "gaoqiao"
name = "高桥镇"
kind = "township"
[[principal]]
token = "secret-123"
id = "clerk-1"
role = "clerk"
unit = "gaoqiao"
"#;

/// Issue 30, finding 6: tokens may be 8 characters. Shorter than 20 they are refused while the
/// API listens beyond loopback, and warned of on loopback (demo and test configurations).
#[test]
fn short_tokens_are_refused_beyond_loopback_and_warned_of_on_it() {
    let c = parse(OK).expect("loopback");
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0].contains("principal[0].token"),
        "{:?}",
        c.warnings
    );
    let e = parse(&OK.replace("127.0.0.1:8080", "0.0.0.0:8080"))
        .expect_err("short token beyond loopback")
        .to_string();
    assert!(
        e.contains("principal[0].token") && e.contains("loopback"),
        "{e}"
    );
    let long = OK
        .replace("127.0.0.1:8080", "0.0.0.0:8080")
        .replace("secret-123", "a-long-random-token-of-32-chars!");
    assert!(parse(&long).expect("a long token").warnings.is_empty());
}

#[test]
fn a_good_file_parses_with_policy_defaults() {
    let c = parse(OK).expect("valid");
    assert_eq!(c.policy, Policy::default());
    assert_eq!(c.units.len(), 1);
    assert_eq!(
        c.principals[0].principal.unit.as_ref().map(|u| u.as_str()),
        Some("gaoqiao")
    );
}

#[test]
fn township_systems_have_nats_users_and_leaf_domains() {
    let text = OK.replace(
        "kind = \"township\"",
        "kind = \"township\"\njetstream_domain = \"gaoqiao\"",
    ) + "[[principal]]\ntoken = \"system-token\"\nid = \"sys-1\"\nrole = \"system\"\n\
               unit = \"gaoqiao\"\nnats_user = \"gaoqiao\"\nnats_password = \"pw\"\n";
    let c = parse(&text).expect("valid");
    let users: Vec<_> = c
        .nats_townships()
        .map(|(u, cr)| (u.as_str().to_owned(), cr.user.clone()))
        .collect();
    assert_eq!(users, [("gaoqiao".to_owned(), "gaoqiao".to_owned())]);
    assert_eq!(c.units[0].jetstream_domain.as_deref(), Some("gaoqiao"));
    let twice = text.clone()
        + "[[principal]]\ntoken = \"system-token-2\"\nid = \"sys-2\"\nrole = \"system\"\n\
               unit = \"gaoqiao\"\nnats_user = \"gaoqiao\"\nnats_password = \"pw\"\n";
    let e = parse(&twice).expect_err("a user twice").to_string();
    assert!(e.contains("principal[2].nats_user"), "{e}");
}

#[test]
fn errors_name_the_file_the_key_and_the_problem() {
    let cases = [
        (OK.replace("127.0.0.1:8080", "nope"), "http.addr"),
        (
            OK.replace("unit = \"gaoqiao\"", "unit = \"mars\""),
            "principal[0].unit",
        ),
        (OK.replace("unit = \"gaoqiao\"", ""), "principal[0].unit"),
        (OK.replace("secret-123", "short"), "principal[0].token"),
        (
            OK.replace("kind = \"township\"", "kind = \"village\""),
            "unknown variant",
        ),
        (
            OK.to_string() + "[policy]\naccept_days = 0\n",
            "policy.accept_days",
        ),
        (
            OK.to_string() + "[policy]\ntimezone = \"Mars/Olympus\"\n",
            "policy.timezone",
        ),
        (OK.to_string() + "[policy]\nreply_dayz = 3\n", "reply_dayz"),
        // The backlog and the alerts (issue 35).
        (
            OK.to_string() + "[policy]\nsurge_factor = 0\n",
            "policy.surge_factor",
        ),
        (
            OK.to_string() + "[policy]\nsurge_window_days = 14\nsurge_baseline_days = 7\n",
            "policy.surge_baseline_days",
        ),
        (
            OK.to_string() + "[policy]\nbacklog_repeats = 21\n",
            "policy.backlog_repeats",
        ),
        (
            OK.to_string() + "[policy]\nrepeat_alert_cases = 1\n",
            "policy.repeat_alert_cases",
        ),
        (
            OK.to_string() + "[policy]\nbacklog_days = 0\n",
            "policy.backlog_days",
        ),
        (format!("[nats]\nuser = \"xinfang\"\n{OK}"), "nats.user"),
        (
            format!("[nats]\nuser = \"a.b\"\npassword = \"p\"\n{OK}"),
            "nats.user",
        ),
        (
            OK.replace(
                "unit = \"gaoqiao\"",
                "unit = \"gaoqiao\"\nnats_user = \"g\"\nnats_password = \"p\"",
            ),
            "principal[0].nats_user",
        ),
        (
            OK.replace(
                "kind = \"township\"",
                "kind = \"department\"\njetstream_domain = \"x\"",
            ),
            "unit[0].jetstream_domain",
        ),
        (
            OK.to_string()
                + "[[scorecard]]\nversion = \"v1\"\neffective_from = 2026-01-01\n\
                   indicators = [{ name = \"speed\", weight = 1, better = \"higher\" }]\n",
            "scorecard[0]`: version \"v1\": indicator \"speed\"",
        ),
        (
            OK.to_string()
                + "[[scorecard]]\nversion = \"v1\"\neffective_from = \"2026-02-30\"\n\
                   indicators = []\n",
            "effective_from",
        ),
    ];
    // The SMS gateway's key and user (issue 33, finding 9).
    let notify = |section: &str| format!("[notify]\n{section}\n{OK}");
    let key = "public_key = \"Ubk6yMku9NejZVxSHp/wBYj5HwXSLcaxzZjlygXoWzc=\"";
    let cases = cases
        .into_iter()
        .chain([
            (notify("public_key = \"AAAA\""), "notify.public_key"),
            (
                notify("nats_user = \"sms\"\nnats_password = \"p\""),
                "notify.public_key",
            ),
            (
                notify(&format!("{key}\nnats_user = \"sms\"")),
                "notify.nats_user",
            ),
            (
                notify(&format!(
                    "{key}\nnats_user = \"s.ms\"\nnats_password = \"p\""
                )),
                "notify.nats_user",
            ),
            (notify("phone = \"x\""), "unknown field `phone`"),
        ])
        .collect::<Vec<_>>();
    // Issue 30, finding 9: ids that differ only in case or spaces are one principal twice.
    let twin = |id: &str| {
        format!(
            "{OK}[[principal]]\ntoken = \"secret-456\"\nid = \"{id}\"\nrole = \"clerk\"\nunit = \"gaoqiao\"\n"
        )
    };
    let cases = cases
        .into_iter()
        .chain([
            (twin("Clerk-1"), "principal[1].id"),
            (twin("clerk-1 "), "principal[1].id"),
            (twin("CLERK-1"), "principal[1].id"),
        ])
        .collect::<Vec<_>>();
    for (text, key) in cases {
        let e = parse(&text).expect_err(key).to_string();
        assert!(e.contains("x.toml") && e.contains(key), "{key}: {e}");
    }
}

/// `[notify]` absent sends no notices; present, it names the gateway's key and its NATS user,
/// who must not be the services' own.
#[test]
fn notices_go_to_a_gateway_with_its_own_key_and_user() {
    assert!(parse(OK).expect("ok").notify.is_none());
    let (_, public) = cipher::gateway_key_pair();
    let section = format!(
        "[nats]\nuser = \"xinfang\"\npassword = \"pw\"\n[notify]\npublic_key = \"{public}\"\n\
         nats_user = \"sms\"\nnats_password = \"sms-pw\"\n{OK}"
    );
    let cfg = parse(&section).expect("a gateway");
    let notify = cfg.notify.as_ref().expect("notify");
    assert_eq!(
        notify.gateway.as_ref().map(|g| g.user.as_str()),
        Some("sms")
    );
    let block = xinfang::natsauth::print_nats_config(&cfg).expect("block");
    assert!(
        block.contains("\"sms\"") && block.contains("XF_NOTIFY"),
        "{block}"
    );
    let same = section.replace("nats_user = \"sms\"", "nats_user = \"xinfang\"");
    let e = parse(&same).expect_err("the services' user").to_string();
    assert!(e.contains("notify.nats_user"), "{e}");
}

#[test]
fn scorecard_rules_are_read_by_version() {
    let c = parse(testkit::config::SCORECARDS).map(|_| ());
    assert!(
        c.is_err(),
        "no [http]: the rules alone are no configuration"
    );
    let c = parse(&format!("{OK}{}", testkit::config::SCORECARDS)).expect("valid");
    let versions: Vec<(&str, String)> = c
        .scorecards
        .iter()
        .map(|r| (r.version.as_str(), r.effective_from.to_string()))
        .collect();
    assert_eq!(
        versions,
        [
            ("2025版", "2025-01-01".into()),
            ("2026版", "2026-01-01".into())
        ]
    );
    assert_eq!(c.scorecards[1].indicators[1].weight, 40.0);
    assert!(
        parse(OK).expect("valid").scorecards.is_empty(),
        "none: the default rules"
    );
}

#[test]
fn projectors_are_co_hosted_unless_the_file_says_otherwise() {
    assert!(parse(OK).expect("valid").cohost_projectors);
    let separate = format!("[projectors]\ncohost = false\n{OK}");
    assert!(!parse(&separate).expect("valid").cohost_projectors);
    let bad = format!("[projectors]\ncohost = \"yes\"\n{OK}");
    assert!(parse(&bad).is_err());
}

#[test]
fn secrets_come_from_the_file_or_the_data_dir_and_are_checked() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = format!("[data]\ndir = {:?}\n", dir.path().display().to_string());
    // Neither configured nor generated: the error says where to put one.
    let c = parse(&format!("{data}{OK}")).expect("valid");
    let err = format!("{:#}", c.keys().expect_err("no secrets"));
    assert!(
        err.contains("identity_key") && err.contains("xinfang up"),
        "{err}"
    );
    // Generated into the data dir (as `up` does): read from there.
    let configured: Vec<_> = c
        .secrets
        .values
        .iter()
        .map(|(s, v)| (*s, v.as_deref()))
        .collect();
    ops::secrets::generate_missing(&configured, dir.path()).expect("generate");
    c.keys().expect("keys from the data dir");
    // The key-encryption key too (generated as 32 bytes of hex); a previous one being rotated
    // away must be a key as well, and the error names it.
    c.keyring().expect("KEK from the data dir");
    let bad = parse(&format!("[secrets]\nprevious_keks = [\"abc\"]\n{data}{OK}")).expect("parses");
    let err = format!("{:#}", bad.keyring().expect_err("not a key"));
    assert!(
        err.contains("previous_keks") && err.contains("64 hex"),
        "{err}"
    );
    // Configured ones win, and must be long enough.
    let short = format!(
        "[secrets]\nidentity_key = \"short\"\nquery_code_key = {:?}\n{data}{OK}",
        "q".repeat(40)
    );
    let err = format!(
        "{:#}",
        parse(&short)
            .expect("parses")
            .keys()
            .expect_err("too short")
    );
    assert!(
        err.contains("secrets.identity_key") && err.contains("32"),
        "{err}"
    );
}

#[test]
fn trusted_proxies_are_ip_addresses() {
    let bad = OK.replace("[http]\n", "[http]\ntrusted_proxies = [\"proxy.local\"]\n");
    let err = format!("{:#}", parse(&bad).expect_err("refused"));
    assert!(
        err.contains("http.trusted_proxies") && err.contains("proxy.local"),
        "{err}"
    );
    let good = OK.replace(
        "[http]\n",
        "[http]\ntrusted_proxies = [\"10.0.0.1\", \"::1\"]\n",
    );
    assert_eq!(parse(&good).expect("valid").trusted_proxies.len(), 2);
}

/// `[integrity]`: retired keys with their validity are listed after the current one (what
/// `GET /v1/audit/public-key` answers), and a key that is not one, a time that is not one, or a
/// checkpoint interval of 0 is refused naming the key.
#[test]
fn signing_keys_rotate_through_the_integrity_section() {
    let old = integrity::Signer::from_seed([5; 32]);
    let old_key = integrity::PublicKey::new(&old.public_key(), None, None).public_key;
    let section = format!(
        "[integrity]\ncheckpoint_events = 500\nsigning_key_valid_from = \"2027-01-01T00:00:00+08:00\"\n\
         [[integrity.retired_key]]\npublic_key = \"{old_key}\"\nvalid_from = \"2026-01-01T00:00:00+08:00\"\n\
         valid_to = \"2027-01-01T00:00:00+08:00\"\n"
    );
    let c = parse(&format!("{section}{OK}")).expect("valid");
    assert_eq!(c.integrity.checkpoint_events, 500);
    let current = testkit::config::signer();
    let keys = c.integrity.public_keys(&current);
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].key_id, current.key_id());
    assert_eq!(
        keys[0].valid_from.map(|t| t.to_rfc3339()).as_deref(),
        Some("2027-01-01T00:00:00+08:00")
    );
    assert_eq!(keys[1].key_id, old.key_id());
    assert!(keys[1].valid_to.is_some());
    // The old key's signatures verify inside its period only, the new key's after its start.
    let set = integrity::KeySet::new(keys).expect("keys");
    let hash = integrity::sha256(b"an event");
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).expect("time");
    assert!(set
        .verify(
            old.key_id(),
            &hash,
            &old.sign(&hash),
            at("2026-06-01T00:00:00+08:00")
        )
        .is_ok());
    assert!(set
        .verify(
            old.key_id(),
            &hash,
            &old.sign(&hash),
            at("2027-06-01T00:00:00+08:00")
        )
        .is_err());
    assert!(set
        .verify(
            current.key_id(),
            &hash,
            &current.sign(&hash),
            at("2026-06-01T00:00:00+08:00")
        )
        .is_err());
    assert!(set
        .verify(
            current.key_id(),
            &hash,
            &current.sign(&hash),
            at("2027-06-01T00:00:00+08:00")
        )
        .is_ok());

    for (bad, key) in [
        (
            section.replace(&old_key, "not-a-key"),
            "integrity.retired_key[0].public_key",
        ),
        (
            section.replace("valid_to = \"2027", "valid_to = \"soon"),
            "integrity.retired_key[0].valid_to",
        ),
        (
            section.replace("checkpoint_events = 500", "checkpoint_events = 0"),
            "integrity.checkpoint_events",
        ),
    ] {
        let err = parse(&format!("{bad}{OK}"))
            .expect_err("refused")
            .to_string();
        assert!(err.contains(key) && err.contains("x.toml"), "{err}");
    }
}
