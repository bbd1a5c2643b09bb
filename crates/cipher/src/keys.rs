//! Data keys and the key-encryption keys that wrap them.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::sealed::{self, Sealed, SealedError};

/// A case's data key. Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// A new random key.
    pub fn generate() -> DataKey {
        DataKey(Zeroizing::new(crate::random()))
    }

    /// Seal a JSON-sized value for `context`.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Sealed {
        sealed::seal(&self.0, context.as_bytes(), plain)
    }

    pub fn open(&self, context: &str, sealed: &Sealed) -> Result<Vec<u8>, SealedError> {
        sealed::open(&self.0, context.as_bytes(), sealed)
    }

    /// Seal bytes of any size (evidence) in the binary form (nonce, then ciphertext).
    pub fn seal_bytes(&self, context: &str, plain: &[u8]) -> Vec<u8> {
        sealed::seal_bytes(&self.0, context.as_bytes(), plain)
    }

    pub fn open_bytes(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealedError> {
        sealed::open_bytes(&self.0, context.as_bytes(), sealed)
    }
}

/// A data key as stored: sealed by the key-encryption key `kek_id` for its case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrapped {
    pub kek_id: String,
    #[serde(flatten)]
    pub sealed: Sealed,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KekError {
    #[error("a key-encryption key is 64 hex digits (32 bytes)")]
    Form,
    #[error("data key wrapped by key-encryption key {0}, which is not configured (rotated away?)")]
    Unknown(String),
    #[error("wrapped data key does not open: {0}")]
    Open(#[from] SealedError),
}

/// A key-encryption key: 32 bytes, named by a hash of itself (so a configuration names no key it
/// does not hold, and two different keys never share an id).
pub struct Kek {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({})", self.id)
    }
}

impl Kek {
    /// A key from its configured form: 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Kek, KekError> {
        let bytes = hex::decode(s.trim()).map_err(|_| KekError::Form)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KekError::Form)?;
        let mut h = Sha256::new();
        h.update(b"xinfang key-encryption key id\n");
        h.update(key);
        let id = format!("kek:{}", hex::encode(&h.finalize()[..8]));
        Ok(Kek {
            id,
            key: Zeroizing::new(key),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn context(case: &str) -> String {
        format!("xinfang data key v1\n{case}")
    }

    /// Wrap `key`, the data key of `case`.
    pub fn wrap(&self, case: &str, key: &DataKey) -> Wrapped {
        Wrapped {
            kek_id: self.id.clone(),
            sealed: sealed::seal(&self.key, Kek::context(case).as_bytes(), &key.0[..]),
        }
    }

    fn unwrap(&self, case: &str, wrapped: &Wrapped) -> Result<DataKey, KekError> {
        let plain = Zeroizing::new(sealed::open(
            &self.key,
            Kek::context(case).as_bytes(),
            &wrapped.sealed,
        )?);
        let key: [u8; 32] = plain[..].try_into().map_err(|_| KekError::Form)?;
        Ok(DataKey(Zeroizing::new(key)))
    }
}

/// The key-encryption keys a process holds: the current one, which wraps every new data key,
/// and during a rotation the previous ones, which only unwrap (docs/operations.md, "Rotating
/// the key-encryption key").
#[derive(Debug)]
pub struct Keyring {
    current: Kek,
    previous: Vec<Kek>,
}

impl Keyring {
    pub fn new(current: Kek, previous: Vec<Kek>) -> Keyring {
        let previous = previous
            .into_iter()
            .filter(|k| k.id != current.id)
            .collect();
        Keyring { current, previous }
    }

    pub fn current(&self) -> &Kek {
        &self.current
    }

    /// Wrap a case's data key with the current KEK.
    pub fn wrap(&self, case: &str, key: &DataKey) -> Wrapped {
        self.current.wrap(case, key)
    }

    /// Unwrap a case's data key with whichever configured KEK wrapped it.
    pub fn unwrap(&self, case: &str, wrapped: &Wrapped) -> Result<DataKey, KekError> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == wrapped.kek_id)
            .ok_or_else(|| KekError::Unknown(wrapped.kek_id.clone()))?
            .unwrap(case, wrapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0101010101010101010101010101010101010101010101010101010101010101";
    const B: &str = "0202020202020202020202020202020202020202020202020202020202020202";

    #[test]
    fn a_wrapped_key_opens_only_for_its_case_with_a_configured_kek() {
        let key = DataKey::generate();
        let sealed = key.seal("ctx", b"Zhang San");
        let ring = Keyring::new(Kek::from_hex(A).expect("hex"), vec![]);
        let wrapped = ring.wrap("case-1", &key);
        let back = ring.unwrap("case-1", &wrapped).expect("unwraps");
        assert_eq!(back.open("ctx", &sealed).expect("opens"), b"Zhang San");
        assert_eq!(
            ring.unwrap("case-2", &wrapped).expect_err("another case"),
            KekError::Open(SealedError::Open)
        );
        // Rotated: B is current, A previous; then A is dropped and the old wrapping is dead.
        let rotated = Keyring::new(
            Kek::from_hex(B).expect("hex"),
            vec![Kek::from_hex(A).expect("hex")],
        );
        assert!(rotated.unwrap("case-1", &wrapped).is_ok());
        assert_eq!(rotated.wrap("case-1", &key).kek_id, rotated.current().id());
        let after = Keyring::new(Kek::from_hex(B).expect("hex"), vec![]);
        assert!(matches!(
            after.unwrap("case-1", &wrapped),
            Err(KekError::Unknown(_))
        ));
        assert_eq!(Kek::from_hex("abc").expect_err("short"), KekError::Form);
    }

    #[test]
    fn sealed_values_are_bound_to_their_context_and_detect_alteration() {
        let key = DataKey::generate();
        let sealed = key.seal("event-1", b"330102199001011234");
        assert!(!sealed.ct.contains("330102"));
        assert_eq!(key.open("event-2", &sealed), Err(SealedError::Open));
        let mut altered = sealed.clone();
        altered.ct.replace_range(
            0..1,
            if altered.ct.starts_with('A') {
                "B"
            } else {
                "A"
            },
        );
        assert_eq!(key.open("event-1", &altered), Err(SealedError::Open));
        assert_eq!(
            DataKey::generate().open("event-1", &sealed),
            Err(SealedError::Open)
        );
        let bytes = key.seal_bytes("file", b"scan");
        assert_eq!(key.open_bytes("file", &bytes).expect("opens"), b"scan");
        assert_eq!(key.open_bytes("other", &bytes), Err(SealedError::Open));
        assert_eq!(key.open_bytes("file", &bytes[..10]), Err(SealedError::Form));
    }
}
