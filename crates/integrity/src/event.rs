//! The sealed form of a stored event (envelope v2). The stored JSON is the envelope without
//! `hash` and `sig` in canonical form (`canonical`), with `"hash"` and `"sig"` appended as its
//! last two members:
//!
//! ```text
//! {…canonical content…,"hash":"<64 hex>","sig":"<88 base64>"}
//! ```
//!
//! `hash` is the SHA-256 of the content (the stored bytes without that suffix, closed with `}`),
//! `sig` the Ed25519 signature of `hash`. So a verifier hashes the bytes it holds, never an
//! encoding of its own, and needs no JSON parser to do it.
//!
//! Events written before envelope v2 (no suffix) are "legacy": their hash is the SHA-256 of their
//! stored bytes, as they are. That is the genesis rule: they are chained and covered by the
//! checkpoints from the first one on, and never rewritten (docs/events.md).

use crate::{from_hex, sha256, Hash, Signer};

const HASH_KEY: &[u8] = b",\"hash\":\"";
const SIG_KEY: &[u8] = b"\",\"sig\":\"";
const HEX_LEN: usize = 64;
const SIG_LEN: usize = 88;
/// Length of `,"hash":"…","sig":"…"}`.
pub const SUFFIX_LEN: usize = HASH_KEY.len() + HEX_LEN + SIG_KEY.len() + SIG_LEN + 2;

/// A stored event, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// An envelope v2: `content` is the SHA-256 of its content, `claimed` the hash it carries.
    Sealed {
        content: Hash,
        claimed: Hash,
        sig: String,
    },
    /// Written before envelope v2: its hash is that of its bytes.
    Legacy { hash: Hash },
}

impl Opened {
    /// The hash the chain and the Merkle tree use: the content's (never the claimed one, which
    /// could have been edited together with the content).
    pub fn hash(&self) -> Hash {
        match self {
            Opened::Sealed { content, .. } => *content,
            Opened::Legacy { hash } => *hash,
        }
    }

    pub fn is_sealed(&self) -> bool {
        matches!(self, Opened::Sealed { .. })
    }
}

/// A sealed event: the bytes to store, its hash and signature.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub bytes: Vec<u8>,
    pub hash: Hash,
    pub sig: String,
}

/// Seal `content` (the canonical JSON of the envelope without `hash` and `sig`).
pub fn seal(content: &[u8], signer: &Signer) -> Sealed {
    let hash = sha256(content);
    let sig = signer.sign(&hash);
    let mut out = Vec::with_capacity(content.len() + SUFFIX_LEN);
    out.extend_from_slice(&content[..content.len().saturating_sub(1)]);
    out.extend_from_slice(HASH_KEY);
    out.extend_from_slice(hex::encode(hash).as_bytes());
    out.extend_from_slice(SIG_KEY);
    out.extend_from_slice(sig.as_bytes());
    out.extend_from_slice(b"\"}");
    Sealed {
        bytes: out,
        hash,
        sig,
    }
}

/// Open stored bytes: sealed when they end with the suffix, legacy otherwise.
pub fn open(stored: &[u8]) -> Opened {
    match split(stored) {
        Some((body, claimed, sig)) => {
            use sha2::Digest as _;
            let mut h = sha2::Sha256::new();
            h.update(body);
            h.update(b"}");
            Opened::Sealed {
                content: h.finalize().into(),
                claimed,
                sig: sig.to_owned(),
            }
        }
        None => Opened::Legacy {
            hash: sha256(stored),
        },
    }
}

/// Whether `stored` is an envelope v2 (it carries a hash and a signature), without hashing it.
pub fn is_sealed(stored: &[u8]) -> bool {
    split(stored).is_some()
}

fn split(stored: &[u8]) -> Option<(&[u8], Hash, &str)> {
    let n = stored.len();
    if n < SUFFIX_LEN + 2 || !stored.ends_with(b"\"}") {
        return None;
    }
    let suffix = &stored[n - SUFFIX_LEN..];
    let (hash_key, rest) = suffix.split_at(HASH_KEY.len());
    let (hash, rest) = rest.split_at(HEX_LEN);
    let (sig_key, rest) = rest.split_at(SIG_KEY.len());
    let sig = &rest[..SIG_LEN];
    if hash_key != HASH_KEY || sig_key != SIG_KEY {
        return None;
    }
    let claimed = from_hex(std::str::from_utf8(hash).ok()?)?;
    Some((
        &stored[..n - SUFFIX_LEN],
        claimed,
        std::str::from_utf8(sig).ok()?,
    ))
}

/// The key of [`event_mac`].
pub type MacKey = [u8; 32];

/// The county services' mark on an event they appended (a header beside the stored bytes, not
/// part of them): HMAC-SHA256 under `key` of the subject and the event's hash, in hex. A reader
/// that holds the key takes an event with a right mark as sealed by the county without checking
/// its signature (about 1 us instead of 30: every service reads every event); an event without
/// it, or with a wrong one, has its signature checked. It proves nothing to anyone else: the
/// signature stays the evidence.
pub fn event_mac(key: &MacKey, subject: &str, hash: &Hash) -> String {
    use hmac::Mac as _;
    hex::encode(event_hmac(key, subject, hash).finalize().into_bytes())
}

/// Whether `mark` (hex) is [`event_mac`] of the subject and hash, compared in constant time.
pub fn event_mac_ok(key: &MacKey, subject: &str, hash: &Hash, mark: &str) -> bool {
    use hmac::Mac as _;
    let Ok(given) = hex::decode(mark) else {
        return false;
    };
    event_hmac(key, subject, hash).verify_slice(&given).is_ok()
}

fn event_hmac(key: &MacKey, subject: &str, hash: &Hash) -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key)
        .expect("HMAC takes any key length");
    mac.update(subject.as_bytes());
    mac.update(&[0]);
    mac.update(hash);
    mac
}

#[cfg(test)]
mod tests {
    /// The services' mark holds for its subject and hash only, and garbage is no mark.
    #[test]
    fn a_mark_is_bound_to_its_subject_and_hash() {
        let (key, other) = ([1u8; 32], [2u8; 32]);
        let (h, g) = (crate::sha256(b"event"), crate::sha256(b"other"));
        let mark = super::event_mac(&key, "subject-1", &h);
        assert!(super::event_mac_ok(&key, "subject-1", &h, &mark));
        assert!(!super::event_mac_ok(&key, "subject-2", &h, &mark));
        assert!(!super::event_mac_ok(&key, "subject-1", &g, &mark));
        assert!(!super::event_mac_ok(&other, "subject-1", &h, &mark));
        assert!(!super::event_mac_ok(&key, "subject-1", &h, "not hex"));
    }

    use super::*;

    #[test]
    fn a_sealed_event_opens_to_its_content_hash_and_any_edit_shows() {
        let signer = Signer::from_seed([1; 32]);
        let content = br#"{"a":1,"case_id":"c","data":{"name":"x"}}"#;
        let Sealed {
            bytes: stored,
            hash,
            ..
        } = seal(content, &signer);
        let v: serde_json::Value = serde_json::from_slice(&stored).expect("still JSON");
        assert_eq!(v["hash"], hex::encode(hash));
        assert_eq!(v["data"]["name"], "x");
        let opened = open(&stored);
        assert_eq!(
            opened,
            Opened::Sealed {
                content: hash,
                claimed: hash,
                sig: signer.sign(&hash)
            }
        );
        let edited = String::from_utf8(stored.clone())
            .expect("utf-8")
            .replace("\"x\"", "\"y\"");
        match open(edited.as_bytes()) {
            Opened::Sealed {
                content, claimed, ..
            } => assert_ne!(content, claimed),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_event_without_the_suffix_is_legacy_and_hashed_as_stored() {
        let stored = br#"{"a":1,"hash":"nope"}"#;
        assert_eq!(
            open(stored),
            Opened::Legacy {
                hash: sha256(stored)
            }
        );
    }
}
