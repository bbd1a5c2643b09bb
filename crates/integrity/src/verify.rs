//! Verifying the log: every event in sequence order, against the checkpoints.
//!
//! For each event: its content hashes to the hash it carries; it is signed (from the first
//! signed event on, every event must be) by a trusted key valid when it was recorded; it follows
//! its case's previous event (`prev_hash`, version + 1) on its case's subject; no sequence is
//! missing. Its leaf goes into the Merkle tree, whose root must equal each checkpoint's at the
//! checkpoint's size, and the log must reach the last checkpoint (else its tail was cut).
//!
//! Signatures of events a verified checkpoint covers were checked by the notary when it took
//! them in (a checkpoint lists the ones that failed), and the checkpoint's root covers their
//! content, so they are checked again only on request (`all_signatures`); that is what lets a
//! million events verify in seconds. When a root does not match, the caller verifies again with
//! every signature to name the events.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::event::{open, Opened};
use crate::keys::{KeySet, Time};
use crate::merkle::{leaf, Frontier};
use crate::{to_hex, Checkpoint, Hash, Migrated};

/// One thing wrong, with the sequence it is at when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub seq: Option<u64>,
    /// A machine code: `unreadable`, `hash_mismatch`, `signature`, `unsigned`, `chain`,
    /// `subject`, `missing`, `rejected`, `checkpoint_signature`, `checkpoint_root`,
    /// `checkpoint_order`, `truncated`, `inclusion`, `head`.
    pub code: String,
    pub detail: String,
}

impl Finding {
    pub fn new(seq: Option<u64>, code: &str, detail: impl Into<String>) -> Self {
        Finding {
            seq,
            code: code.into(),
            detail: detail.into(),
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub ok: bool,
    pub events: u64,
    /// The last sequence a verified checkpoint covers.
    pub checkpoint_seq: Option<u64>,
    pub signatures_checked: u64,
    pub findings: Vec<Finding>,
    /// The migrations the checkpoint stream records (`xinfang migrate`): the log was rewritten
    /// then, and the checkpoints before each are of the log as it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<Migration>,
}

/// A migration as a report names it: when, the log's size then, and what it rewrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    pub at: Time,
    pub last_seq: u64,
    #[serde(flatten)]
    pub migrated: Migrated,
}

impl Report {
    /// The findings one per line (`seq N: code: detail`) and a summary line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for m in &self.migrations {
            out.push_str(&format!(
                "migrated at {}: the log up to seq {} (old root {}) rewritten, {} events sealed, {} rewritten\n",
                m.at.to_rfc3339(),
                m.last_seq,
                m.migrated.from_root,
                m.migrated.sealed_events,
                m.migrated.rewritten_events
            ));
        }
        for f in &self.findings {
            let at = f.seq.map_or_else(|| "-".to_owned(), |s| s.to_string());
            out.push_str(&format!("seq {at}: {}: {}\n", f.code, f.detail));
        }
        out.push_str(&format!(
            "{}: {} events, checkpoint up to seq {}, {} signatures checked, {} findings\n",
            if self.ok { "ok" } else { "FAILED" },
            self.events,
            self.checkpoint_seq.map_or("-".into(), |s| s.to_string()),
            self.signatures_checked,
            self.findings.len()
        ));
        out
    }
}

/// The envelope fields the chain needs, borrowed from the stored bytes where they can be (a
/// million events verify on them; `recorded_at` is parsed only for a signature checked).
#[derive(Deserialize)]
pub(crate) struct Head<'a> {
    #[serde(borrow)]
    pub case_id: Cow<'a, str>,
    #[serde(borrow)]
    pub township: Cow<'a, str>,
    pub version: u64,
    #[serde(default, borrow)]
    pub prev_hash: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub key_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub recorded_at: Cow<'a, str>,
    /// Set on an event `xinfang migrate` rewrote (and signed) then: the time its key must have
    /// been valid at.
    #[serde(default, borrow)]
    pub migrated_at: Option<Cow<'a, str>>,
}

pub(crate) fn head(bytes: &[u8]) -> Result<Head<'_>, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not an event envelope: {e}"))
}

/// Checks one event's hash and (when `check_sig`) signature; returns its hash.
pub(crate) fn check_event(
    keys: &KeySet,
    seq: Option<u64>,
    bytes: &[u8],
    h: &Head<'_>,
    check_sig: bool,
    findings: &mut Vec<Finding>,
) -> (Opened, bool) {
    let opened = open(bytes);
    let mut checked = false;
    if let Opened::Sealed {
        content,
        claimed,
        sig,
    } = &opened
    {
        if content != claimed {
            findings.push(Finding::new(
                seq,
                "hash_mismatch",
                format!(
                    "case {} version {}: the content hashes to {}, the event says {}: it was altered after it was written",
                    h.case_id,
                    h.version,
                    to_hex(content),
                    to_hex(claimed)
                ),
            ));
        }
        if check_sig {
            checked = true;
            let key = h.key_id.as_deref().unwrap_or("");
            let signed_at = h.migrated_at.as_deref().unwrap_or(&h.recorded_at);
            let verified = match Time::parse_from_rfc3339(signed_at) {
                Ok(at) => keys
                    .verify(key, claimed, sig, at)
                    .map_err(|e| e.to_string()),
                Err(_) => Err("recorded_at is not an RFC 3339 time".to_owned()),
            };
            if let Err(e) = verified {
                findings.push(Finding::new(
                    seq,
                    "signature",
                    format!("case {} version {}: {e}", h.case_id, h.version),
                ));
            }
        }
    }
    (opened, checked)
}

/// Checks that an event follows its case's previous one.
pub(crate) fn check_chain(
    seq: Option<u64>,
    h: &Head<'_>,
    opened: &Opened,
    prev: Option<&(u64, Hash)>,
    findings: &mut Vec<Finding>,
) {
    let expected = prev.map_or(1, |(v, _)| v + 1);
    if h.version != expected {
        findings.push(Finding::new(
            seq,
            "chain",
            format!(
                "case {} version {} follows version {}: an event before it is missing, moved or inserted",
                h.case_id,
                h.version,
                expected - 1
            ),
        ));
        return;
    }
    if opened.is_sealed() {
        let linked = match (h.prev_hash.as_deref(), prev) {
            (None, None) => true,
            (Some(given), Some((_, hash))) => crate::spells(given, hash),
            _ => false,
        };
        if !linked {
            let want = prev.map(|(_, hash)| to_hex(hash));
            findings.push(Finding::new(
                seq,
                "chain",
                format!(
                    "case {} version {}: prev_hash {} is not the hash of the case's previous event ({})",
                    h.case_id,
                    h.version,
                    h.prev_hash.as_deref().unwrap_or("(none)"),
                    want.as_deref().unwrap_or("none: it is the first")
                ),
            ));
        }
    }
}

/// Verifies a whole log streamed in sequence order.
pub struct LogVerifier<'k> {
    keys: &'k KeySet,
    checkpoints: Vec<Checkpoint>,
    next: usize,
    /// Events up to this sequence are covered by a checkpoint whose signature verified.
    covered_to: u64,
    all_signatures: bool,
    cases: HashMap<String, (u64, Hash)>,
    frontier: Frontier,
    last_seq: u64,
    first_signed: Option<u64>,
    verified_to: Option<u64>,
    signatures_checked: u64,
    findings: Vec<Finding>,
    migrations: Vec<Migration>,
}

impl<'k> LogVerifier<'k> {
    /// `checkpoints`: each message of the checkpoint stream with its sequence, in order (one that
    /// is not a checkpoint, with why).
    pub fn new(
        keys: &'k KeySet,
        checkpoints: Vec<(u64, Result<Checkpoint, String>)>,
        all_signatures: bool,
    ) -> Self {
        let mut findings = Vec::new();
        let mut good: Vec<Checkpoint> = Vec::new();
        let mut migrations = Vec::new();
        let mut last_stream_seq = 0;
        for (stream_seq, cp) in checkpoints {
            if stream_seq != last_stream_seq + 1 {
                findings.push(Finding::new(
                    None,
                    "missing",
                    format!(
                        "checkpoints {}..{} are missing from the checkpoint stream",
                        last_stream_seq + 1,
                        stream_seq - 1
                    ),
                ));
            }
            last_stream_seq = stream_seq;
            let cp = match cp {
                Ok(cp) => cp,
                Err(why) => {
                    findings.push(Finding::new(
                        None,
                        "checkpoint_signature",
                        format!("message {stream_seq} of the checkpoint stream: {why}"),
                    ));
                    continue;
                }
            };
            if let Err(e) = cp.verify(keys) {
                findings.push(Finding::new(
                    Some(cp.last_seq),
                    "checkpoint_signature",
                    format!("checkpoint {stream_seq} (up to seq {}): {e}", cp.last_seq),
                ));
                continue;
            }
            if let Some(m) = &cp.migrated {
                // The log was rewritten: what the checkpoints before said was of the old log.
                good.clear();
                migrations.push(Migration {
                    at: cp.at,
                    last_seq: cp.last_seq,
                    migrated: m.clone(),
                });
            }
            if let Some(prev) = good.last() {
                if cp.tree_size < prev.tree_size || cp.last_seq < prev.last_seq {
                    findings.push(Finding::new(
                        Some(cp.last_seq),
                        "checkpoint_order",
                        format!(
                            "checkpoint {stream_seq} covers {} events, fewer than the one before ({})",
                            cp.tree_size, prev.tree_size
                        ),
                    ));
                    continue;
                }
            }
            for seq in &cp.invalid {
                findings.push(Finding::new(
                    Some(*seq),
                    "rejected",
                    "the notary found this event's hash or signature invalid when it took it in (a writer without the signing key)",
                ));
            }
            good.push(cp);
        }
        let covered_to = good.last().map_or(0, |c| c.last_seq);
        LogVerifier {
            keys,
            checkpoints: good,
            next: 0,
            covered_to,
            all_signatures,
            cases: HashMap::new(),
            frontier: Frontier::default(),
            last_seq: 0,
            first_signed: None,
            verified_to: None,
            signatures_checked: 0,
            findings,
            migrations,
        }
    }

    /// The next event of the log.
    pub fn event(&mut self, seq: u64, subject: &str, bytes: &[u8]) {
        if seq != self.last_seq + 1 {
            self.findings.push(Finding::new(
                Some(seq),
                "missing",
                format!(
                    "sequences {}..{} are missing: events were deleted",
                    self.last_seq + 1,
                    seq - 1
                ),
            ));
        }
        self.last_seq = seq;
        let findings = &mut self.findings;
        let hash = match head(bytes) {
            Err(why) => {
                findings.push(Finding::new(Some(seq), "unreadable", why));
                crate::sha256(bytes)
            }
            Ok(h) => {
                let check_sig = self.all_signatures || seq > self.covered_to;
                let (opened, checked) =
                    check_event(self.keys, Some(seq), bytes, &h, check_sig, findings);
                self.signatures_checked += u64::from(checked);
                match (&opened, self.first_signed) {
                    (Opened::Sealed { .. }, None) => self.first_signed = Some(seq),
                    (Opened::Legacy { .. }, Some(first)) => findings.push(Finding::new(
                        Some(seq),
                        "unsigned",
                        format!(
                            "case {} version {} is not signed, but every event from seq {first} on must be",
                            h.case_id, h.version
                        ),
                    )),
                    _ => {}
                }
                let on_subject = subject
                    .strip_suffix(&*h.case_id)
                    .and_then(|s| s.strip_suffix('.'))
                    .and_then(|s| s.strip_suffix(&*h.township))
                    .is_some_and(|s| s.ends_with('.'));
                if !on_subject {
                    findings.push(Finding::new(
                        Some(seq),
                        "subject",
                        format!("case {} is stored on subject {subject}", h.case_id),
                    ));
                }
                let prev = self.cases.get(&*h.case_id);
                check_chain(Some(seq), &h, &opened, prev, findings);
                let hash = opened.hash();
                match self.cases.get_mut(&*h.case_id) {
                    Some(entry) => *entry = (h.version, hash),
                    None => {
                        self.cases.insert(h.case_id.into_owned(), (h.version, hash));
                    }
                }
                hash
            }
        };
        self.frontier.push(leaf(seq, &hash));
        self.check_checkpoint(seq);
    }

    fn check_checkpoint(&mut self, seq: u64) {
        while let Some(cp) = self.checkpoints.get(self.next) {
            if cp.tree_size > self.frontier.size {
                return;
            }
            self.next += 1;
            if cp.tree_size < self.frontier.size {
                continue;
            }
            let root = to_hex(&self.frontier.root());
            if root != cp.root || cp.last_seq != seq {
                let from = self.verified_to.map_or(1, |s| s + 1);
                self.findings.push(Finding::new(
                    Some(cp.last_seq),
                    "checkpoint_root",
                    format!(
                        "the log's first {} events (up to seq {seq}) have root {root}, the checkpoint signed {} (up to seq {}): events between seq {from} and {seq} were altered, removed, reordered or inserted",
                        cp.tree_size, cp.root, cp.last_seq
                    ),
                ));
            } else {
                self.verified_to = Some(seq);
            }
        }
    }

    /// Whether any checkpoint's root did not match (then verify again with every signature).
    pub fn roots_mismatched(&self) -> bool {
        self.findings.iter().any(|f| f.code == "checkpoint_root")
    }

    pub fn finish(mut self) -> Report {
        let events = self.frontier.size;
        for cp in &self.checkpoints[self.next..] {
            self.findings.push(Finding::new(
                Some(cp.last_seq),
                "truncated",
                format!(
                    "a checkpoint covers {} events up to seq {}, the log has {events} up to seq {}: its tail was cut",
                    cp.tree_size, cp.last_seq, self.last_seq
                ),
            ));
        }
        Report {
            ok: self.findings.is_empty(),
            events,
            checkpoint_seq: self.verified_to,
            signatures_checked: self.signatures_checked,
            findings: self.findings,
            migrations: self.migrations,
        }
    }
}
