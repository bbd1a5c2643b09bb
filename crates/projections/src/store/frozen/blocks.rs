//! A snapshot file's values in blocks of about `BLOCK` bytes, each compressed with zstd: a
//! block is a little-endian `u32` of its compressed length and one of its plain length, then
//! the compressed bytes. A value's place (what the key map holds for its key) is its block's
//! offset in the file above `IN_BLOCK` bits and where it starts in the plain block below them;
//! a value is never split across blocks. The values of a read model compress two to five times
//! (rows, summaries and index entries repeat their townships, dates and field names), about a
//! third of its snapshots' size (docs/benchmarks.md, "Sixth part"); a block of 8 KiB is plain
//! again in a few microseconds.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;

/// A block is closed once its plain bytes reach this.
const BLOCK: usize = 8 * 1024;
/// zstd's fastest level: a delta of 10,000 events compresses in a few milliseconds.
const LEVEL: i32 = 1;
/// Bits of a place that say where a value starts in its block (which is under `BLOCK` bytes).
const IN_BLOCK: u32 = 24;

/// Gathers values into blocks and writes each as it is full.
pub(super) struct Writer {
    plain: Vec<u8>,
    /// Where the next block starts in the file.
    at: u64,
}

impl Writer {
    pub(super) fn new() -> Writer {
        Writer {
            plain: Vec::with_capacity(2 * BLOCK),
            at: 0,
        }
    }

    /// Add a value's record (its length word, then its bytes) and return its place.
    pub(super) fn push(&mut self, record: &[&[u8]], out: &mut impl Write) -> std::io::Result<u64> {
        if self.at >= 1 << (64 - IN_BLOCK) {
            return Err(std::io::Error::other("a snapshot of 1 TiB or more"));
        }
        let place = (self.at << IN_BLOCK) | self.plain.len() as u64;
        for part in record {
            self.plain.extend_from_slice(part);
        }
        if self.plain.len() >= BLOCK {
            self.flush(out)?;
        }
        Ok(place)
    }

    /// Write the block gathered so far, if any.
    fn flush(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        if self.plain.is_empty() {
            return Ok(());
        }
        let packed = zstd::bulk::compress(&self.plain, LEVEL)?;
        let word = |n: usize| {
            u32::try_from(n).map_err(|_| std::io::Error::other("a block of 4 GiB or more"))
        };
        out.write_all(&word(packed.len())?.to_le_bytes())?;
        out.write_all(&word(self.plain.len())?.to_le_bytes())?;
        out.write_all(&packed)?;
        self.at += 8 + packed.len() as u64;
        self.plain.clear();
        Ok(())
    }

    /// Write the last block; returns the length of the values' part of the file.
    pub(super) fn finish(mut self, out: &mut impl Write) -> std::io::Result<u64> {
        self.flush(out)?;
        Ok(self.at)
    }
}

/// The block a place is in (its offset in the file) and where in it the value starts.
pub(super) fn split(place: u64) -> (u64, usize) {
    (place >> IN_BLOCK, (place & ((1 << IN_BLOCK) - 1)) as usize)
}

/// The plain bytes of the block at `at` of `file`, whose values' part ends at `end`.
pub(super) fn read(file: &File, at: u64, end: u64) -> std::io::Result<Vec<u8>> {
    let mut head = [0u8; 8];
    file.read_exact_at(&mut head, at)?;
    let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let (packed_len, plain_len) = (u64::from(word(0)), word(4) as usize);
    if at + 8 + packed_len > end {
        return Err(std::io::Error::other("a block runs past the values"));
    }
    let mut packed = vec![0u8; packed_len as usize];
    file.read_exact_at(&mut packed, at + 8)?;
    let plain = zstd::bulk::decompress(&packed, plain_len)?;
    if plain.len() != plain_len {
        return Err(std::io::Error::other("a block is shorter than it says"));
    }
    Ok(plain)
}
