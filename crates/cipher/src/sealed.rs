//! A sealed value: a random nonce and the AEAD's ciphertext, bound to a context (the associated
//! data) so that a value sealed for one case or event cannot be passed off as another's.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

/// The stored form: `{"alg", "nonce", "ct"}` with base64 nonce and ciphertext (docs/events.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub alg: String,
    pub nonce: String,
    pub ct: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealedError {
    #[error("sealed with {0}, which this build does not know")]
    Algorithm(String),
    #[error("the sealed value is not base64 of a nonce and a ciphertext")]
    Form,
    #[error(
        "the sealed value does not open with this key for this context (altered, or another key)"
    )]
    Open,
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Seal `plain` under `key` for `context`.
pub(crate) fn seal(key: &[u8; 32], context: &[u8], plain: &[u8]) -> Sealed {
    let (nonce, ct) = encrypt(key, context, plain);
    Sealed {
        alg: crate::ALGORITHM.into(),
        nonce: B64.encode(nonce),
        ct: B64.encode(ct),
    }
}

/// A random nonce and the ciphertext of `plain`.
fn encrypt(key: &[u8; 32], context: &[u8], plain: &[u8]) -> ([u8; 24], Vec<u8>) {
    let nonce: [u8; 24] = crate::random();
    let ct = XChaCha20Poly1305::new(key.into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: context,
            },
        )
        .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 seals any length held in memory"));
    (nonce, ct)
}

fn decrypt(
    key: &[u8; 32],
    context: &[u8],
    nonce: &[u8],
    ct: &[u8],
) -> Result<Vec<u8>, SealedError> {
    if nonce.len() != 24 {
        return Err(SealedError::Form);
    }
    XChaCha20Poly1305::new(key.into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: context,
            },
        )
        .map_err(|_| SealedError::Open)
}

/// Open `sealed` under `key` for `context`.
pub(crate) fn open(
    key: &[u8; 32],
    context: &[u8],
    sealed: &Sealed,
) -> Result<Vec<u8>, SealedError> {
    if sealed.alg != crate::ALGORITHM {
        return Err(SealedError::Algorithm(sealed.alg.clone()));
    }
    let nonce = B64.decode(&sealed.nonce).map_err(|_| SealedError::Form)?;
    let ct = B64.decode(&sealed.ct).map_err(|_| SealedError::Form)?;
    decrypt(key, context, &nonce, &ct)
}

/// Binary form for large values (evidence): the nonce, then the ciphertext.
pub(crate) fn seal_bytes(key: &[u8; 32], context: &[u8], plain: &[u8]) -> Vec<u8> {
    let (nonce, ct) = encrypt(key, context, plain);
    let mut out = Vec::with_capacity(24 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

pub(crate) fn open_bytes(
    key: &[u8; 32],
    context: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, SealedError> {
    if sealed.len() < 24 {
        return Err(SealedError::Form);
    }
    let (nonce, ct) = sealed.split_at(24);
    decrypt(key, context, nonce, ct)
}
