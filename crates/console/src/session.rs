//! The console's session: the principal's token sealed into a cookie (XChaCha20-Poly1305 under
//! a key derived from `secrets.console_key`) with its expiry and a session id; the CSRF token of
//! every form is an HMAC of that id. The server keeps which sessions are open ([`SessionStore`]:
//! the binary gives a NATS key-value bucket), so signing out or expiry ends a session for every
//! copy of its cookie, on every API instance of the county, across restarts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub const COOKIE: &str = "xf_session";

/// What the server keeps of sessions: which ids are open. The console knows no store (its
/// crate invariant), so the binary hands it one.
pub trait SessionStore: Send + Sync {
    /// Record session `id` as open until `expires` (Unix seconds).
    fn begin<'a>(&'a self, id: &'a str, expires: i64) -> BoxFuture<'a, Result<(), String>>;
    /// Whether session `id` is open at `now`.
    fn is_open<'a>(&'a self, id: &'a str, now: i64) -> BoxFuture<'a, Result<bool, String>>;
    /// End session `id`.
    fn end<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
/// A session lasts a working day.
pub const TTL_SECONDS: i64 = 10 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The principal's bearer token.
    #[serde(rename = "t")]
    pub token: String,
    /// Expiry, Unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
    /// Random session id (hex), the CSRF token's base.
    #[serde(rename = "s")]
    pub id: String,
}

pub struct Keys {
    seal: [u8; 32],
    csrf: [u8; 32],
}

impl Keys {
    pub fn new(secret: &[u8; 32]) -> Keys {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update(label);
            h.update(secret);
            h.finalize().into()
        };
        Keys {
            seal: derive(b"xinfang console session v1"),
            csrf: derive(b"xinfang console csrf v1"),
        }
    }

    /// The cookie value for a new session of `token`, valid until `now + TTL_SECONDS`.
    pub fn open_session(&self, token: &str, now: i64) -> (Session, String) {
        let mut id = [0u8; 16];
        let mut nonce = [0u8; 24];
        // The kernel's generator does not fail on Linux; a failure leaves zeros in the nonce,
        // which is why the id is random too and both are checked below.
        let ok = getrandom::getrandom(&mut id).is_ok() && getrandom::getrandom(&mut nonce).is_ok();
        if !ok {
            tracing::error!("no randomness for a console session");
        }
        let session = Session {
            token: token.to_owned(),
            expires: now + TTL_SECONDS,
            id: id.iter().map(|b| format!("{b:02x}")).collect(),
        };
        let plain = serde_json::to_vec(&session).unwrap_or_default();
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: COOKIE.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut value = nonce.to_vec();
        value.extend(sealed);
        (session, B64.encode(value))
    }

    /// The session a cookie value holds, if it opens and has not expired.
    pub fn read(&self, value: &str, now: i64) -> Option<Session> {
        let bytes = B64.decode(value.trim()).ok()?;
        if bytes.len() < 24 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: COOKIE.as_bytes(),
                },
            )
            .ok()?;
        let session: Session = serde_json::from_slice(&plain).ok()?;
        (session.expires > now).then_some(session)
    }

    /// The CSRF token of a session's forms.
    pub fn csrf(&self, session: &Session) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.csrf).expect("any key length");
        mac.update(session.id.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    /// Whether `given` is the session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, session: &Session, given: &str) -> bool {
        let Ok(given) = B64.decode(given.trim()) else {
            return false;
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.csrf).expect("any key length");
        mac.update(session.id.as_bytes());
        mac.verify_slice(&given).is_ok()
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The `Set-Cookie` value for a session (`Secure` when the console is reached over TLS).
pub fn set_cookie(value: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={value}; Path=/console; Max-Age={TTL_SECONDS}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_opens_with_its_key_only_and_until_it_expires() {
        let keys = Keys::new(&[7; 32]);
        let (s, value) = keys.open_session("county-token", 1_000);
        let back = keys.read(&value, 1_001).expect("opens");
        assert_eq!(back.token, "county-token");
        assert!(keys.read(&value, 1_000 + TTL_SECONDS).is_none(), "expired");
        assert!(
            Keys::new(&[8; 32]).read(&value, 1_001).is_none(),
            "another key"
        );
        let mut tampered = B64.decode(&value).expect("b64");
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(keys.read(&B64.encode(tampered), 1_001).is_none(), "altered");
        assert!(!value.contains("county-token"));
        let csrf = keys.csrf(&s);
        assert!(keys.csrf_ok(&s, &csrf));
        let (other, _) = keys.open_session("county-token", 1_000);
        assert!(!keys.csrf_ok(&other, &csrf), "another session's token");
    }
}
