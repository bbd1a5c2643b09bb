//! Tamper evidence for the case log (issue 15; docs/events.md, "Envelope v2"; ARCHITECTURE.md,
//! "The proof"). Owns the canonical encoding an event's hash is taken over, the sealed form of a
//! stored event (`event`), the signing and public keys with their ids and validity (`keys`), the
//! Merkle tree over all events in the manner of RFC 6962 (`merkle`), the signed statements:
//! checkpoints and a case's head (`statement`), and verifying a log (`verify`) and an exported
//! case bundle (`bundle`), each finding naming the sequence and what is wrong.
//!
//! Pure: it never does I/O (no NATS, no files, no clock); callers hand it bytes and times. It
//! must never trust a key it finds inside what it verifies: the keys come from its caller.

pub mod bundle;
pub mod canonical;
pub mod config;
pub mod event;
pub mod keys;
pub mod merkle;
pub mod statement;
pub mod verify;

pub use event::{open, Opened};
pub use keys::{KeyError, KeySet, PublicKey, Signer};
pub use merkle::{Frontier, Hash};
pub use statement::{CaseHead, Checkpoint, Migrated};
pub use verify::{Finding, LogVerifier, Report};

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// A hash as the envelope and the statements spell it: lower-case hex.
pub fn to_hex(h: &Hash) -> String {
    hex::encode(h)
}

/// A hash spelled in hex (either case), or `None`. By table: `verify` reads one an event
/// (`hex::decode_to_slice` was 2.3 % of a verification's CPU: docs/benchmarks.md).
pub fn from_hex(s: &str) -> Option<Hash> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (hi, lo) = (NIBBLE[pair[0] as usize], NIBBLE[pair[1] as usize]);
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(out)
}

/// Whether `s` is `h` as `to_hex` spells it, without spelling it.
pub fn spells(s: &str, h: &Hash) -> bool {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let s = s.as_bytes();
    s.len() == 64
        && h.iter().zip(s.chunks_exact(2)).all(|(b, pair)| {
            pair[0] == DIGITS[usize::from(b >> 4)] && pair[1] == DIGITS[usize::from(b & 0x0f)]
        })
}

/// A hex digit's value, or 0xff for any other byte.
const NIBBLE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

#[cfg(test)]
mod hex_tests {
    use super::{from_hex, sha256, spells, to_hex};

    /// The table reads what the `hex` crate reads, and `spells` holds exactly when `to_hex`
    /// would spell the same string.
    #[test]
    fn hashes_in_hex_read_and_compare_as_the_hex_crate_spells_them() {
        for i in 0u32..200 {
            let h = sha256(&i.to_le_bytes());
            let s = to_hex(&h);
            assert_eq!(from_hex(&s), Some(h));
            assert_eq!(from_hex(&s.to_uppercase()), Some(h));
            assert!(spells(&s, &h));
            assert!(!spells(&s.to_uppercase(), &h) || !s.chars().any(|c| c.is_ascii_alphabetic()));
            assert!(!spells(&s[..62], &h));
            assert_eq!(from_hex(&s[..62]), None);
            let other = sha256(&(i + 1).to_le_bytes());
            assert!(!spells(&s, &other));
        }
        let s = to_hex(&sha256(b"x"));
        for byte in 0u8..=255 {
            let mut bytes = s.clone().into_bytes();
            bytes[17] = byte;
            let Ok(t) = String::from_utf8(bytes) else {
                continue;
            };
            let mut want = [0u8; 32];
            let want = hex::decode_to_slice(&t, &mut want).ok().map(|()| want);
            assert_eq!(from_hex(&t), want, "byte {byte}");
        }
    }
}
