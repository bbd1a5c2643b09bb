//! Signing keys and the public keys that check them. A key's id is derived from its public key
//! (`ed25519:` and the first 8 bytes of its SHA-256, in hex), so a bare public key handed to an
//! auditor names itself. Each public key has a validity period; an event or statement signed
//! outside its key's period does not verify, which is what makes rotation mean something.

use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::Hash;

pub type Time = DateTime<FixedOffset>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why a signature did not verify, or a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("signed with key {0}, which is not among the trusted public keys")]
    UnknownKey(String),
    #[error("signed with key {key_id} at {at}, outside its validity ({from} .. {to})")]
    OutsideValidity {
        key_id: String,
        at: String,
        from: String,
        to: String,
    },
    #[error("the signature does not verify with key {0}")]
    BadSignature(String),
    #[error("the signature is not 64 bytes of base64")]
    MalformedSignature,
    #[error("{0}")]
    Malformed(String),
}

/// The id of a public key.
pub fn key_id(key: &VerifyingKey) -> String {
    format!(
        "ed25519:{}",
        hex::encode(&crate::sha256(key.as_bytes())[..8])
    )
}

/// The key that signs: held only by the command path (api, ingestor, notary).
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("key_id", &self.id).finish()
    }
}

impl Signer {
    /// From the 32-byte seed, spelled in hex (64 characters).
    pub fn from_seed_hex(seed: &str) -> Result<Signer, KeyError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(seed.trim(), &mut bytes).map_err(|_| {
            KeyError::Malformed("a signing key is 64 hex characters (a 32-byte seed)".into())
        })?;
        Ok(Signer::from_seed(bytes))
    }

    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(&key.verifying_key());
        Signer { key, id }
    }

    pub fn key_id(&self) -> &str {
        &self.id
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The signature of `hash`, in base64.
    pub fn sign(&self, hash: &Hash) -> String {
        B64.encode(self.key.sign(hash).to_bytes())
    }

    /// The key of the county services' own mark on the events they append
    /// ([`crate::event::event_mac`]), derived from the signing seed: whoever holds it could
    /// sign as well, so it adds nobody who can forge.
    pub fn event_mac_key(&self) -> crate::event::MacKey {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(b"xinfang event mac v1");
        h.update(self.key.to_bytes());
        h.finalize().into()
    }
}

/// A public key with its validity, as `GET /v1/audit/public-key` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub key_id: String,
    pub algorithm: String,
    /// The 32-byte key in base64.
    pub public_key: String,
    pub valid_from: Option<Time>,
    pub valid_to: Option<Time>,
}

impl PublicKey {
    pub fn new(key: &VerifyingKey, valid_from: Option<Time>, valid_to: Option<Time>) -> Self {
        PublicKey {
            key_id: key_id(key),
            algorithm: "ed25519".into(),
            public_key: B64.encode(key.as_bytes()),
            valid_from,
            valid_to,
        }
    }

    /// From base64 (valid at any time).
    pub fn from_base64(text: &str) -> Result<PublicKey, KeyError> {
        Ok(PublicKey::new(&decode_key(text)?, None, None))
    }

    fn key(&self) -> Result<VerifyingKey, KeyError> {
        let key = decode_key(&self.public_key)?;
        if key_id(&key) != self.key_id {
            return Err(KeyError::Malformed(format!(
                "key {} is listed under the id of another key",
                self.key_id
            )));
        }
        Ok(key)
    }
}

fn decode_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|_| KeyError::Malformed("a public key is 32 bytes in base64".into()))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| KeyError::Malformed("a public key is 32 bytes in base64".into()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| KeyError::Malformed("not an Ed25519 public key".into()))
}

/// The public keys a verifier trusts.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<(PublicKey, VerifyingKey)>,
}

impl KeySet {
    pub fn new(keys: Vec<PublicKey>) -> Result<KeySet, KeyError> {
        let keys = keys
            .into_iter()
            .map(|k| Ok((k.key()?, k)))
            .collect::<Result<Vec<_>, KeyError>>()?
            .into_iter()
            .map(|(v, k)| (k, v))
            .collect();
        Ok(KeySet { keys })
    }

    /// What an auditor passes in: one base64 key, or the JSON `GET /v1/audit/public-key`
    /// answers (`{"keys": [...]}`), or a list of such keys.
    pub fn parse(text: &str) -> Result<KeySet, KeyError> {
        let text = text.trim();
        if text.starts_with('{') || text.starts_with('[') {
            #[derive(Deserialize)]
            #[serde(untagged)]
            enum Listed {
                Wrapped { keys: Vec<PublicKey> },
                Bare(Vec<PublicKey>),
            }
            let listed: Listed = serde_json::from_str(text)
                .map_err(|e| KeyError::Malformed(format!("public keys: {e}")))?;
            let (Listed::Wrapped { keys } | Listed::Bare(keys)) = listed;
            return KeySet::new(keys);
        }
        KeySet::new(vec![PublicKey::from_base64(text)?])
    }

    pub fn keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.iter().map(|(k, _)| k)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `sig` (base64) is a signature of `hash` by any of the keys, whatever its validity
    /// (for bytes that do not say which key: an event that does not decode).
    pub fn signed_by_any(&self, hash: &Hash, sig: &str) -> bool {
        let Some(bytes) = B64
            .decode(sig)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        let sig = Signature::from_bytes(&bytes);
        self.keys
            .iter()
            .any(|(_, key)| key.verify(hash, &sig).is_ok())
    }

    /// For each `(key_id, hash, sig, at)`, whether it verifies as [`verify`](Self::verify)
    /// would. Checked together by one batch verification (about half the work of checking each
    /// alone: every reader of the log checks every event, issue 30); when the batch fails, each
    /// is checked alone to tell which.
    pub fn verify_all(&self, items: &[(&str, &Hash, &str, Time)]) -> Vec<bool> {
        let mut ok = vec![false; items.len()];
        let (mut at, mut hashes, mut sigs, mut keys) = (vec![], vec![], vec![], vec![]);
        for (i, (key_id, hash, sig, when)) in items.iter().enumerate() {
            let Some((info, key)) = self.keys.iter().find(|(k, _)| k.key_id == *key_id) else {
                continue;
            };
            let outside = info.valid_from.is_some_and(|f| *when < f)
                || info.valid_to.is_some_and(|t| *when >= t);
            let bytes = B64
                .decode(sig)
                .ok()
                .and_then(|b| <[u8; 64]>::try_from(b).ok());
            if let (false, Some(bytes)) = (outside, bytes) {
                at.push(i);
                hashes.push(hash.as_slice());
                sigs.push(Signature::from_bytes(&bytes));
                keys.push(*key);
            }
        }
        if at.len() > 1 && ed25519_dalek::verify_batch(&hashes, &sigs, &keys).is_ok() {
            at.iter().for_each(|&i| ok[i] = true);
        } else {
            for (n, &i) in at.iter().enumerate() {
                ok[i] = keys[n].verify(hashes[n], &sigs[n]).is_ok();
            }
        }
        ok
    }

    /// Whether `sig` (base64) is `key_id`'s signature of `hash`, made at `at` inside the key's
    /// validity.
    pub fn verify(&self, key_id: &str, hash: &Hash, sig: &str, at: Time) -> Result<(), KeyError> {
        let (info, key) = self
            .keys
            .iter()
            .find(|(k, _)| k.key_id == key_id)
            .ok_or_else(|| KeyError::UnknownKey(key_id.to_owned()))?;
        let before = info.valid_from.is_some_and(|f| at < f);
        let after = info.valid_to.is_some_and(|t| at >= t);
        if before || after {
            let show = |t: Option<Time>| t.map_or_else(|| "…".to_owned(), |t| t.to_rfc3339());
            return Err(KeyError::OutsideValidity {
                key_id: key_id.to_owned(),
                at: at.to_rfc3339(),
                from: show(info.valid_from),
                to: show(info.valid_to),
            });
        }
        let bytes = B64.decode(sig).map_err(|_| KeyError::MalformedSignature)?;
        let bytes: [u8; 64] = bytes.try_into().map_err(|_| KeyError::MalformedSignature)?;
        key.verify(hash, &Signature::from_bytes(&bytes))
            .map_err(|_| KeyError::BadSignature(key_id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Time {
        DateTime::parse_from_rfc3339(s).expect("time")
    }

    #[test]
    fn a_signature_verifies_only_with_its_key_inside_its_validity() {
        let signer = Signer::from_seed([7; 32]);
        let other = Signer::from_seed([8; 32]);
        let hash = crate::sha256(b"event");
        let sig = signer.sign(&hash);
        let keys = KeySet::new(vec![PublicKey::new(
            &signer.public_key(),
            Some(at("2026-01-01T00:00:00+08:00")),
            Some(at("2027-01-01T00:00:00+08:00")),
        )])
        .expect("keys");
        let inside = at("2026-06-01T00:00:00+08:00");
        assert_eq!(keys.verify(signer.key_id(), &hash, &sig, inside), Ok(()));
        assert!(matches!(
            keys.verify(signer.key_id(), &crate::sha256(b"other"), &sig, inside),
            Err(KeyError::BadSignature(_))
        ));
        assert!(matches!(
            keys.verify(
                signer.key_id(),
                &hash,
                &sig,
                at("2027-01-01T00:00:00+08:00")
            ),
            Err(KeyError::OutsideValidity { .. })
        ));
        assert!(matches!(
            keys.verify(other.key_id(), &hash, &other.sign(&hash), inside),
            Err(KeyError::UnknownKey(_))
        ));
        // Another key's signature under this key's id.
        assert!(matches!(
            keys.verify(signer.key_id(), &hash, &other.sign(&hash), inside),
            Err(KeyError::BadSignature(_))
        ));
    }

    /// Checked together, each signature gets the verdict it gets alone.
    #[test]
    fn a_batch_tells_exactly_which_signatures_hold() {
        let signer = Signer::from_seed([7; 32]);
        let other = Signer::from_seed([8; 32]);
        let keys =
            KeySet::new(vec![PublicKey::new(&signer.public_key(), None, None)]).expect("keys");
        let t = at("2026-06-01T00:00:00+08:00");
        let hashes: Vec<Hash> = (0..40u8).map(|i| crate::sha256(&[i])).collect();
        let sigs: Vec<String> = hashes.iter().map(|h| signer.sign(h)).collect();
        let all: Vec<_> = hashes
            .iter()
            .zip(&sigs)
            .map(|(h, s)| (signer.key_id(), h, s.as_str(), t))
            .collect();
        assert!(keys.verify_all(&all).iter().all(|ok| *ok));
        let forged = other.sign(&hashes[3]);
        let mut some = all.clone();
        some[3].2 = &forged;
        some[7].1 = &hashes[8];
        some[11].0 = other.key_id();
        some[13].2 = "not base64";
        let verdicts = keys.verify_all(&some);
        let bad: Vec<usize> = (0..40).filter(|i| !verdicts[*i]).collect();
        assert_eq!(bad, [3, 7, 11, 13]);
        for (item, verdict) in some.iter().zip(&verdicts) {
            assert_eq!(
                keys.verify(item.0, item.1, item.2, item.3).is_ok(),
                *verdict
            );
        }
        assert_eq!(keys.verify_all(&[]), Vec::<bool>::new());
        assert_eq!(keys.verify_all(&all[..1]), [true]);
    }

    #[test]
    fn keys_are_read_bare_or_as_the_endpoint_lists_them() {
        let signer = Signer::from_seed([7; 32]);
        let listed = PublicKey::new(&signer.public_key(), None, None);
        let bare = KeySet::parse(&listed.public_key).expect("bare");
        assert_eq!(bare.keys().next(), Some(&listed));
        let json = serde_json::json!({ "keys": [listed.clone()] }).to_string();
        assert_eq!(KeySet::parse(&json).expect("listed").keys().count(), 1);
        let mut renamed = listed;
        renamed.key_id = "ed25519:0000000000000000".into();
        assert!(
            KeySet::new(vec![renamed]).is_err(),
            "an id that is not the key's"
        );
        assert!(KeySet::parse("not base64!").is_err());
    }
}
