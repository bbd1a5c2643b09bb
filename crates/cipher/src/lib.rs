//! Crypto-shredding (docs/ARCHITECTURE.md, "Personal data at rest"): every case has its own data
//! key, and the personal data of its events and its evidence is stored only encrypted under it
//! (XChaCha20-Poly1305, an AEAD whose 24-byte nonces may be drawn at random). A data key is
//! stored only wrapped (encrypted) by a key-encryption key (KEK) that NATS never holds, so
//! destroying the one stored copy of the wrapped data key makes the case's personal data
//! unreadable everywhere it was ever written, backups included once the KEK has been rotated.
//!
//! Pure: no IO besides the kernel's random numbers. It must never decide what is personal (the
//! domain's to say, `domain::personal`) nor where the wrapped keys live (the event log's,
//! `eventlog::vault`).

mod gateway;
mod keys;
mod sealed;

pub use gateway::{gateway_key_pair, open_sealed, GatewayKey, GatewayKeyError};

pub use keys::{DataKey, Kek, KekError, Keyring, Wrapped};
pub use sealed::{Sealed, SealedError};

/// The AEAD every key and value here is sealed with.
pub const ALGORITHM: &str = "xchacha20poly1305";

/// `n` random bytes from the kernel.
fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The kernel's generator does not fail on Linux once booted; a failure is no state to go on in.
    getrandom::getrandom(&mut out)
        .unwrap_or_else(|e| panic!("no random numbers from the kernel: {e}"));
    out
}
