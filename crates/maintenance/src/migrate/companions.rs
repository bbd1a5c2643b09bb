//! Step 6 of the migration: the companions of the log that held personal data in plain.

use std::collections::{BTreeMap, HashMap};

use eventlog::rewrite;
use eventlog::subjects;
use serde_json::Value;

use super::Stores;
use super::{bad, each, CaseInfo, MigrateError};

/// Feed messages with personal data: published again without it, then the original erased.
pub(super) async fn feed(
    nats: &eventlog::Connection,
    scanned: &HashMap<String, CaseInfo>,
) -> Result<u64, MigrateError> {
    if rewrite::consumers_of(nats, subjects::FEED_STREAM)
        .await?
        .is_none()
    {
        return Ok(0);
    }
    let mut redacted = Vec::new();
    each(nats, subjects::FEED_STREAM, |raw| {
        let Ok(mut v) = serde_json::from_slice::<Value>(&raw.payload) else {
            return Ok(());
        };
        let accusation = v["case_id"]
            .as_str()
            .and_then(|c| scanned.get(c))
            .is_some_and(|i| i.accusation);
        let Some(data) = v.get_mut("data") else {
            return Ok(());
        };
        let before = data.clone();
        domain::personal::redact_event_json(data);
        if accusation {
            domain::personal::take_fields(data, &["summary", "before.summary", "after.summary"]);
        }
        if *data != before {
            let body = serde_json::to_vec(&v).map_err(|e| bad(e.to_string()))?;
            redacted.push((raw.seq, raw.subject, body));
        }
        Ok(())
    })
    .await?;
    let n = redacted.len() as u64;
    for (seq, subject, body) in redacted {
        eventlog::inbox::publish_once(nats, subject, &format!("migrated-{seq}"), body).await?;
        rewrite::erase_message(nats, subjects::FEED_STREAM, seq).await?;
    }
    Ok(n)
}

/// Plain evidence objects the log names: sealed for each case that attached them (not for an
/// erased one), then erased.
pub(super) async fn evidence(
    cases: &Stores<'_>,
    scanned: &HashMap<String, CaseInfo>,
) -> Result<u64, MigrateError> {
    let mut holders: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
    for (case, info) in scanned {
        for sha in &info.attachments {
            holders.entry(sha).or_default().push((case, info.erased));
        }
    }
    let mut n = 0;
    for (sha, of) in holders {
        let Some(bytes) = cases.attachments.get(sha).await? else {
            continue;
        };
        for (case, _) in of.into_iter().filter(|(_, erased)| !erased) {
            let id =
                domain::CaseId::parse(case).ok_or_else(|| bad(format!("no case id {case}")))?;
            let key = cases.vault.key_or_create(id).await?;
            cases.attachments.put_sealed(id, &key, &bytes).await?;
        }
        cases.attachments.erase_plain(sha).await?;
        n += 1;
    }
    Ok(n)
}
