//! Notices to the SMS gateway, sealed to its public key (libsodium's `crypto_box_seal`: an
//! ephemeral X25519 key and XSalsa20-Poly1305), so only the holder of the gateway's secret key
//! reads a phone number or a text, whoever else relays or stores the message.

use base64::Engine as _;
use crypto_box::{PublicKey, SecretKey};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GatewayKeyError {
    #[error("not base64 of a 32-byte X25519 public key")]
    Form,
    #[error("the sealed notice does not open with this key")]
    Open,
}

/// The gateway's public key (`[notify] public_key`, base64 of 32 bytes).
#[derive(Clone)]
pub struct GatewayKey(PublicKey);

impl std::fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GatewayKey({})", B64.encode(self.0.as_bytes()))
    }
}

impl GatewayKey {
    pub fn from_base64(text: &str) -> Result<GatewayKey, GatewayKeyError> {
        let bytes = B64.decode(text.trim()).map_err(|_| GatewayKeyError::Form)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| GatewayKeyError::Form)?;
        Ok(GatewayKey(PublicKey::from(bytes)))
    }

    /// `plain` sealed to the gateway, as base64.
    pub fn seal(&self, plain: &[u8]) -> String {
        let sealed = self
            .0
            .seal(&mut crypto_box::aead::OsRng, plain)
            .unwrap_or_else(|e| panic!("sealing to a valid public key cannot fail: {e}"));
        B64.encode(sealed)
    }
}

/// A gateway's key pair, for tests and tools that play the gateway: (secret, public) as base64.
pub fn gateway_key_pair() -> (String, String) {
    let secret = SecretKey::from(crate::random::<32>());
    (
        B64.encode(secret.to_bytes()),
        B64.encode(secret.public_key().as_bytes()),
    )
}

/// Open a notice sealed by [`GatewayKey::seal`] with the gateway's secret key (base64).
pub fn open_sealed(secret: &str, sealed: &str) -> Result<Vec<u8>, GatewayKeyError> {
    let key: [u8; 32] = B64
        .decode(secret.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(GatewayKeyError::Form)?;
    let sealed = B64.decode(sealed).map_err(|_| GatewayKeyError::Open)?;
    SecretKey::from(key)
        .unseal(&sealed)
        .map_err(|_| GatewayKeyError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_opens_with_the_gateways_secret_alone() {
        let (secret, public) = gateway_key_pair();
        let key = GatewayKey::from_base64(&public).expect("key");
        let sealed = key.seal("{\"to\":\"13800000000\"}".as_bytes());
        assert!(!sealed.contains("1380"));
        assert_eq!(
            open_sealed(&secret, &sealed).expect("opens"),
            b"{\"to\":\"13800000000\"}"
        );
        assert_ne!(key.seal(b"x"), key.seal(b"x"), "an ephemeral key each time");
        let (other, _) = gateway_key_pair();
        assert_eq!(open_sealed(&other, &sealed), Err(GatewayKeyError::Open));
        assert_eq!(
            GatewayKey::from_base64("AAAA").map(drop),
            Err(GatewayKeyError::Form)
        );
    }
}
