//! A case bundle: what `xinfang export case ID --bundle` writes and `xinfang verify --bundle`
//! checks offline with nothing but the public key the auditor brings. JSON Lines:
//!
//! 1. a header: `{"xinfang_bundle":1,"case_id":…,"stream":…,"exported_at":…}`;
//! 2. each event of the case exactly as stored, in log order;
//! 3. proof lines: `{"proof":"event","seq","hash","leaf_index","path"}` per event (the leaf's
//!    audit path in the checkpoint's tree, for events it covers), `{"proof":"checkpoint",…}`
//!    (the signed checkpoint those paths lead to) and `{"proof":"head",…}` (the signed statement
//!    of the case's last event at export time).
//!
//! Nothing in the bundle is trusted for keys: a key inside it would prove nothing.

use serde::{Deserialize, Serialize};

use crate::merkle::{hex_hashes, leaf, verify_inclusion};
use crate::verify::{check_chain, check_event, head, Finding, Report};
use crate::{to_hex, CaseHead, Checkpoint, Hash, KeySet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub xinfang_bundle: u32,
    pub case_id: String,
    pub stream: String,
    pub exported_at: crate::keys::Time,
}

/// Where one event is: its sequence, hash and (when a checkpoint covers it) audit path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub seq: u64,
    pub hash: String,
    pub leaf_index: Option<u64>,
    #[serde(with = "hex_hashes", default)]
    pub path: Vec<Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "proof", rename_all = "snake_case")]
pub enum Proof {
    Event(Position),
    Checkpoint(Checkpoint),
    Head(CaseHead),
}

/// A bundle in memory. `events` are the stored bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub header: Header,
    pub events: Vec<Vec<u8>>,
    pub proofs: Vec<Proof>,
}

impl Bundle {
    pub fn to_jsonl(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut line = |bytes: &[u8]| {
            out.extend_from_slice(bytes);
            out.push(b'\n');
        };
        // Plain structs of strings and numbers always serialize.
        line(&serde_json::to_vec(&self.header).unwrap_or_default());
        for e in &self.events {
            line(e);
        }
        for p in &self.proofs {
            line(&serde_json::to_vec(p).unwrap_or_default());
        }
        out
    }

    /// Read a bundle; an unreadable one is refused with the line.
    pub fn parse(text: &[u8]) -> Result<Bundle, String> {
        let mut lines = text
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace));
        let (_, first) = lines.next().ok_or("the bundle is empty")?;
        let header: Header = serde_json::from_slice(first)
            .map_err(|e| format!("line 1 is not a bundle header: {e}"))?;
        let (mut events, mut proofs) = (Vec::new(), Vec::new());
        for (i, line) in lines {
            #[derive(Deserialize)]
            struct Peek {
                proof: Option<serde::de::IgnoredAny>,
            }
            let peek: Peek = serde_json::from_slice(line)
                .map_err(|e| format!("line {} is not JSON: {e}", i + 1))?;
            if peek.proof.is_some() {
                proofs.push(
                    serde_json::from_slice(line)
                        .map_err(|e| format!("line {} is not a proof: {e}", i + 1))?,
                );
            } else {
                events.push(line.to_vec());
            }
        }
        Ok(Bundle {
            header,
            events,
            proofs,
        })
    }
}

/// Verify a bundle with the keys the auditor trusts.
pub fn verify(bundle: &Bundle, keys: &KeySet) -> Report {
    let mut findings = Vec::new();
    let positions: Vec<&Position> = bundle
        .proofs
        .iter()
        .filter_map(|p| match p {
            Proof::Event(pos) => Some(pos),
            _ => None,
        })
        .collect();
    let checkpoint = bundle.proofs.iter().find_map(|p| match p {
        Proof::Checkpoint(c) => Some(c),
        _ => None,
    });
    let case_head = bundle.proofs.iter().find_map(|p| match p {
        Proof::Head(h) => Some(h),
        _ => None,
    });
    let checkpoint = checkpoint.filter(|cp| match cp.verify(keys) {
        Ok(()) => true,
        Err(e) => {
            findings.push(Finding::new(
                Some(cp.last_seq),
                "checkpoint_signature",
                format!("the checkpoint up to seq {}: {e}", cp.last_seq),
            ));
            false
        }
    });
    let mut prev: Option<(u64, Hash)> = None;
    let mut last: Option<(u64, u64, Hash)> = None;
    let mut signatures = 0;
    for bytes in &bundle.events {
        let h = match head(bytes) {
            Ok(h) => h,
            Err(why) => {
                findings.push(Finding::new(None, "unreadable", why));
                continue;
            }
        };
        let hash = crate::open(bytes).hash();
        let pos = positions.iter().find(|p| p.hash == to_hex(&hash));
        let seq = pos.map(|p| p.seq);
        let (opened, _) = check_event(keys, seq, bytes, &h, true, &mut findings);
        signatures += 1;
        if !opened.is_sealed() && seq.is_none_or(|s| checkpoint.is_none_or(|c| s > c.last_seq)) {
            findings.push(Finding::new(
                seq,
                "unsigned",
                format!(
                    "case {} version {} is neither signed nor covered by the checkpoint",
                    h.case_id, h.version
                ),
            ));
        }
        if h.case_id != bundle.header.case_id {
            findings.push(Finding::new(
                seq,
                "subject",
                format!(
                    "an event of case {} in the bundle of case {}",
                    h.case_id, bundle.header.case_id
                ),
            ));
        }
        check_chain(seq, &h, &opened, prev.as_ref(), &mut findings);
        match (pos, checkpoint) {
            (None, _) => findings.push(Finding::new(
                None,
                "inclusion",
                format!(
                    "case {} version {}: no position in the log is given for this event",
                    h.case_id, h.version
                ),
            )),
            (Some(p), Some(cp)) if p.seq <= cp.last_seq => {
                let proved = p.leaf_index.is_some_and(|i| {
                    cp.root_hash().is_some_and(|root| {
                        verify_inclusion(i, cp.tree_size, &leaf(p.seq, &hash), &p.path, &root)
                    })
                });
                if !proved {
                    findings.push(Finding::new(
                        Some(p.seq),
                        "inclusion",
                        format!("case {} version {}: not proven to be in the log the checkpoint up to seq {} signs", h.case_id, h.version, cp.last_seq),
                    ));
                }
            }
            _ => {}
        }
        if let (Some(p), Some((_, last_seq, _))) = (pos, last) {
            if p.seq <= last_seq {
                findings.push(Finding::new(
                    Some(p.seq),
                    "chain",
                    format!("seq {} comes after seq {last_seq} in the bundle", p.seq),
                ));
            }
        }
        prev = Some((h.version, hash));
        last = Some((h.version, seq.unwrap_or(0), hash));
    }
    match case_head {
        None => findings.push(Finding::new(
            None,
            "head",
            "the bundle has no signed statement of the case's last event",
        )),
        Some(ch) => {
            if let Err(e) = ch.verify(keys) {
                findings.push(Finding::new(
                    Some(ch.last_seq),
                    "head",
                    format!("the head statement: {e}"),
                ));
            } else if ch.case_id != bundle.header.case_id {
                findings.push(Finding::new(
                    Some(ch.last_seq),
                    "head",
                    format!("the head statement is of case {}", ch.case_id),
                ));
            } else {
                let (version, seq, hash) = last.map_or((0, 0, None), |(v, s, h)| (v, s, Some(h)));
                if version != ch.version
                    || seq != ch.last_seq
                    || hash.map(|h| to_hex(&h)) != Some(ch.last_hash.clone())
                {
                    findings.push(Finding::new(
                        Some(ch.last_seq),
                        "truncated",
                        format!(
                            "the bundle ends at version {version} (seq {seq}); the system stated at {} that the case's last event is version {} at seq {}",
                            ch.at.to_rfc3339(), ch.version, ch.last_seq
                        ),
                    ));
                }
            }
        }
    }
    Report {
        ok: findings.is_empty(),
        events: bundle.events.len() as u64,
        checkpoint_seq: checkpoint.map(|c| c.last_seq),
        signatures_checked: signatures,
        findings,
        migrations: Vec::new(),
    }
}
