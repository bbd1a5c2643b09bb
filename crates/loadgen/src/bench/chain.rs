//! The cost of the signed hash chain (issue 15): what sealing adds to each command, what the
//! notary spends checking each event, and how fast `verify` replays the log.

use std::time::Instant;

use eventlog::Checkpoints;
use integrity::{KeySet, PublicKey};

use super::system::Stores;
use super::{result, BenchResult};

/// The chain's figures: per event (on the log's first event) and the verify rate.
pub async fn results(
    cases: &Stores,
    nats: &eventlog::Connection,
    last: u64,
) -> anyhow::Result<Vec<BenchResult>> {
    let cost = seal_cost(cases, 1, 20_000).await?;
    let (verified, secs) = verify_rate(cases, nats, last).await?;
    let (read, read_secs) = read_rate(cases, last).await?;
    Ok(vec![
        result("read_log_raw_per_s", read as f64 / read_secs, "events/s"),
        result("encode_event_us", cost.encode_us, "us"),
        result("seal_event_us", cost.seal_us, "us").against("encode_event_us", cost.encode_us),
        result("notary_check_event_us", cost.check_us, "us"),
        result("seal_personal_data_us", cost.personal_us, "us"),
        result("verify_events", verified as f64, "events"),
        result("verify_events_per_s", verified as f64 / secs, "events/s")
            .against("read_log_raw_per_s", read as f64 / read_secs)
            .target("ratio >= 0.8 (quick), 0.9 (full)"),
    ])
}

/// Per event, in microseconds, on a real event of the log (at `seq`): encoding as before the
/// chain, sealing (canonical JSON, SHA-256, Ed25519), and the notary's check (hash, signature).
pub struct SealCost {
    pub encode_us: f64,
    pub seal_us: f64,
    pub check_us: f64,
    /// Sealing a registration's personal data under its case's key (XChaCha20-Poly1305).
    pub personal_us: f64,
}

pub async fn seal_cost(cases: &Stores, seq: u64, n: u32) -> anyhow::Result<SealCost> {
    let stored = cases.log.get(seq).await?;
    let signer = &cases.signer;
    let keys = KeySet::new(vec![PublicKey::new(&signer.public_key(), None, None)])?;
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    };
    let mut env = stored.envelope.clone();
    let encode_us = time(&mut || {
        std::hint::black_box(eventlog::envelope::encode(&env).ok());
    });
    let mut bytes = Vec::new();
    let seal_us = time(&mut || {
        bytes = eventlog::envelope::seal(&mut env, signer).map_or_else(|_| Vec::new(), |s| s.0);
    });
    // A registration's personal data opened, then sealed again as the command path does.
    let vault = &cases.vault;
    let data_key = vault.key_or_create(stored.envelope.case_id).await?;
    let mut plain = stored.envelope.clone();
    vault.open_envelope(&mut plain, false).await?;
    let personal_us = time(&mut || {
        let mut e = plain.clone();
        std::hint::black_box(eventlog::Vault::seal(&mut e, &data_key, false).is_ok());
    });
    let key = signer.key_id().to_owned();
    let check_us = time(&mut || {
        if let integrity::Opened::Sealed { claimed, sig, .. } = integrity::open(&bytes) {
            std::hint::black_box(keys.verify(&key, &claimed, &sig, env.recorded_at).is_ok());
        }
    });
    Ok(SealCost {
        encode_us,
        seal_us,
        check_us,
        personal_us,
    })
}

/// `xinfang verify` over the whole log: (events, seconds), once a checkpoint covers `last`.
pub async fn verify_rate(
    cases: &Stores,
    nats: &eventlog::Connection,
    last: u64,
) -> anyhow::Result<(u64, f64)> {
    let checkpoints = Checkpoints::open(nats, 1).await?;
    let deadline = Instant::now() + std::time::Duration::from_secs(600);
    while checkpoints.last_seq().await? == 0
        || checkpoints
            .get(checkpoints.last_seq().await?)
            .await?
            .and_then(Result::ok)
            .is_none_or(|c| c.last_seq < last)
    {
        anyhow::ensure!(Instant::now() < deadline, "no checkpoint covers seq {last}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let keys = KeySet::new(vec![PublicKey::new(&cases.signer.public_key(), None, None)])?;
    let t = Instant::now();
    let report =
        maintenance::notary::verify_log(&cases.log, &checkpoints, &keys, false, |_, _| {}).await?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.ok,
        "the bench's log does not verify: {}",
        report.text()
    );
    Ok((report.events, secs))
}

/// The whole log read as `verify` reads it, without verifying: (events, seconds).
async fn read_rate(cases: &Stores, last: u64) -> anyhow::Result<(u64, f64)> {
    use futures::StreamExt;
    let t = Instant::now();
    let mut events = cases.log.follow_raw(1).await?;
    let mut n = 0u64;
    while let Some(next) = events.next().await {
        let (seq, _, _, pending) = next?;
        n += 1;
        if seq >= last || pending == 0 {
            break;
        }
    }
    Ok((n, t.elapsed().as_secs_f64()))
}
