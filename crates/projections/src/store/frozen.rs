//! A snapshot file (issue 15, item 3): a model's entries at one sequence, or what a stretch of
//! the log changed (a removal kept as such), written once in key order and never again.
//!
//! Layout: the values one after another (each a little-endian `u32` length, `u32::MAX` for a
//! removal, then the bytes) in compressed blocks (`blocks`), then an `fst` map from every key to
//! its value's place, then the map's offset and length (`u64` each) and a magic. An open
//! snapshot maps its key map into memory read-only (an fst shares the keys' prefixes and
//! suffixes, so a view that reads through dozens of snapshots knows at once which hold a key)
//! and reads a value's block from the file, keeping the last few it read: the kernel keeps the
//! pages a view touches in its page cache, shared and evictable, instead of the process holding
//! every key of the model (a full snapshot of 1.25 million events had a 201 MB map:
//! docs/benchmarks.md, "A read model's memory at full size"). The map is built into a file beside
//! the snapshot as it is written, not in memory. Files of the first layout (`XFSNAP01`: values
//! not compressed, a key's value at its offset) are still read. A sled database per snapshot
//! took several times the bytes it held and a page cache and threads per open snapshot
//! (docs/benchmarks.md).

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fst::{IntoStreamer, Streamer};

use super::StoreError;

mod blocks;

/// Values in compressed blocks.
const MAGIC: &[u8; 8] = b"XFSNAP02";
/// Values one after another, as written before issue 31's sixth part.
const PLAIN: &[u8; 8] = b"XFSNAP01";
const REMOVED: u32 = u32::MAX;
/// Blocks an open snapshot keeps (a scan reads each block once; a few views read at once).
const KEPT_BLOCKS: usize = 4;

/// An entry of a snapshot: a value, or `None` where the key was removed.
pub type Change = (Vec<u8>, Option<Vec<u8>>);

pub struct Frozen {
    path: PathBuf,
    file: File,
    keys: fst::Map<Keys>,
    /// Where the values end (the key map's offset), and whether they are in blocks.
    values_end: u64,
    blocks: bool,
    /// The blocks read last, newest first.
    kept: Mutex<Vec<(u64, Arc<Vec<u8>>)>>,
}

/// The key map of a snapshot file, mapped read-only.
struct Keys(memmap2::Mmap);

impl AsRef<[u8]> for Keys {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Map `len` bytes of `file` at `offset` read-only into memory, for lookups at random places
/// (no read-ahead: a lookup touches a few pages of the map).
#[allow(unsafe_code)]
fn map(file: &File, path: &Path, offset: u64, len: usize) -> Result<Keys, StoreError> {
    let mut options = memmap2::MmapOptions::new();
    options.offset(offset).len(len);
    // SAFETY: a snapshot file is written to a temporary name, synced and renamed into place, and
    // never written, truncated or extended after (`snapshots::write_file`); removing it keeps the
    // mapping valid. So the mapped bytes do not change under the reader. The range was checked
    // against the file's length by the caller.
    let map = unsafe { options.map(file) }.map_err(io(path))?;
    map.advise(memmap2::Advice::Random).map_err(io(path))?;
    Ok(Keys(map))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn corrupt(path: &Path, why: impl ToString) -> StoreError {
    StoreError::Corrupt {
        key: path.display().to_string(),
        why: why.to_string(),
    }
}

/// Write `entries` (in strictly ascending key order) to a new file at `path`, synced. Returns
/// how many were written.
pub fn write(
    path: &Path,
    entries: impl Iterator<Item = Result<Change, StoreError>>,
) -> Result<u64, StoreError> {
    let file = File::create(path).map_err(io(path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    // The key map is built into a file of its own as the keys come (an fst builder keeps only
    // the keys' unfinished suffixes), then copied after the values.
    let side = path.with_extension("keys");
    let keys_file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&side)
        .map_err(io(&side))?;
    let _ = std::fs::remove_file(&side);
    let mut keys = fst::MapBuilder::new(BufWriter::with_capacity(1 << 20, keys_file))
        .map_err(|e| corrupt(path, e))?;
    let mut values = blocks::Writer::new();
    let mut n = 0u64;
    for entry in entries {
        let (key, value) = entry?;
        let len = match &value {
            Some(v) => u32::try_from(v.len())
                .ok()
                .filter(|l| *l != REMOVED)
                .ok_or_else(|| corrupt(path, "a value of 4 GiB or more"))?,
            None => REMOVED,
        };
        let bytes = value.as_deref().unwrap_or_default();
        let place = values
            .push(&[&len.to_le_bytes(), bytes], &mut out)
            .map_err(io(path))?;
        keys.insert(&key, place).map_err(|e| corrupt(path, e))?;
        n += 1;
    }
    let offset = values.finish(&mut out).map_err(io(path))?;
    let keys = keys.into_inner().map_err(|e| corrupt(path, e))?;
    let mut keys = keys.into_inner().map_err(|e| io(&side)(e.into_error()))?;
    keys.rewind().map_err(io(&side))?;
    let keys_len = std::io::copy(&mut keys, &mut out).map_err(io(path))?;
    out.write_all(&offset.to_le_bytes()).map_err(io(path))?;
    out.write_all(&keys_len.to_le_bytes()).map_err(io(path))?;
    out.write_all(MAGIC).map_err(io(path))?;
    let file = out.into_inner().map_err(|e| io(path)(e.into_error()))?;
    file.sync_all().map_err(io(path))?;
    Ok(n)
}

impl Frozen {
    pub fn open(path: &Path) -> Result<Frozen, StoreError> {
        let file = File::open(path).map_err(io(path))?;
        let len = file.metadata().map_err(io(path))?.len();
        let mut footer = [0u8; 24];
        if len < 24 {
            return Err(corrupt(path, "shorter than its footer"));
        }
        file.read_exact_at(&mut footer, len - 24)
            .map_err(io(path))?;
        let word = |i: usize| u64::from_le_bytes(footer[i..i + 8].try_into().unwrap_or_default());
        let blocks = &footer[16..] == MAGIC;
        if !(blocks || &footer[16..] == PLAIN) || word(0).saturating_add(word(8)) != len - 24 {
            return Err(corrupt(path, "not a snapshot file"));
        }
        let keys_len = usize::try_from(word(8)).map_err(|e| corrupt(path, e))?;
        let keys = map(&file, path, word(0), keys_len)?;
        let keys = fst::Map::new(keys).map_err(|e| corrupt(path, e))?;
        Ok(Frozen {
            path: path.to_owned(),
            file,
            keys,
            values_end: word(0),
            blocks,
            kept: Mutex::default(),
        })
    }

    /// The plain bytes of the block at `at`: kept, or read and kept.
    fn block(&self, at: u64) -> Result<Arc<Vec<u8>>, StoreError> {
        let kept = || self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, block)) = kept().iter().find(|(a, _)| *a == at) {
            return Ok(block.clone());
        }
        let block =
            Arc::new(blocks::read(&self.file, at, self.values_end).map_err(io(&self.path))?);
        let mut kept = kept();
        kept.insert(0, (at, block.clone()));
        kept.truncate(KEPT_BLOCKS);
        Ok(block)
    }

    /// The record at `place` in its block: its length word and its bytes.
    fn in_block(&self, place: u64) -> Result<(u32, Arc<Vec<u8>>, usize), StoreError> {
        let (at, start) = blocks::split(place);
        let block = self.block(at)?;
        let len = block
            .get(start..start + 4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .ok_or_else(|| corrupt(&self.path, "a value's place is outside its block"))?;
        let end = match len {
            REMOVED => start + 4,
            len => start + 4 + len as usize,
        };
        if end > block.len() {
            return Err(corrupt(&self.path, "a value runs past its block"));
        }
        Ok((len, block, start + 4))
    }

    /// The length word at `place` (`REMOVED` for a removal).
    fn length(&self, place: u64) -> Result<u32, StoreError> {
        if self.blocks {
            return Ok(self.in_block(place)?.0);
        }
        let mut len = [0u8; 4];
        self.file
            .read_exact_at(&mut len, place)
            .map_err(io(&self.path))?;
        Ok(u32::from_le_bytes(len))
    }

    /// The value at `place`: `None` for a removal. Read from the file, not mapped: values are
    /// most of a snapshot, and a scan through them stays in the page cache, not in the process.
    fn value(&self, place: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if self.blocks {
            let (len, block, start) = self.in_block(place)?;
            return Ok((len != REMOVED).then(|| block[start..start + len as usize].to_vec()));
        }
        let len = self.length(place)?;
        if len == REMOVED {
            return Ok(None);
        }
        let mut value = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut value, place + 4)
            .map_err(io(&self.path))?;
        Ok(Some(value))
    }

    /// What the snapshot holds under `key`: `None` if nothing, `Some(None)` for a removal.
    pub fn get(&self, key: &[u8]) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        match self.keys.get(key) {
            None => Ok(None),
            Some(offset) => self.value(offset).map(Some),
        }
    }

    /// Whether the snapshot names `key`: `None` if not, `Some(false)` for a removal, `Some(true)`
    /// for a value (its length read, not the value).
    pub fn holds(&self, key: &[u8]) -> Result<Option<bool>, StoreError> {
        let Some(offset) = self.keys.get(key) else {
            return Ok(None);
        };
        Ok(Some(self.length(offset)? != REMOVED))
    }

    /// The entries between `lo` and `hi`, in key order.
    pub fn range(
        &self,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
    ) -> impl Iterator<Item = Result<Change, StoreError>> + '_ {
        let range = self.keys.range();
        let range = match &lo {
            Bound::Included(k) => range.ge(k),
            Bound::Excluded(k) => range.gt(k),
            Bound::Unbounded => range,
        };
        let range = match &hi {
            Bound::Included(k) => range.le(k),
            Bound::Excluded(k) => range.lt(k),
            Bound::Unbounded => range,
        };
        Entries {
            frozen: self,
            stream: range.into_stream(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

struct Entries<'a> {
    frozen: &'a Frozen,
    stream: fst::map::Stream<'a>,
}

impl Iterator for Entries<'_> {
    type Item = Result<Change, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (key, offset) = self.stream.next()?;
        let key = key.to_vec();
        Some(self.frozen.value(offset).map(|v| (key, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(k: &str, v: Option<&str>) -> Result<Change, StoreError> {
        Ok((k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
    }

    #[test]
    fn entries_and_removals_read_back_by_key_and_by_range() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.snap");
        let entries = [
            change("a", Some("1")),
            change("b", None),
            change("c", Some("")),
            change("d/1", Some("x".repeat(100_000).as_str())),
            change("d/2", Some("2")),
        ];
        assert_eq!(write(&path, entries.into_iter()).expect("write"), 5);
        let frozen = Frozen::open(&path).expect("open");
        assert_eq!(frozen.len(), 5);
        assert_eq!(frozen.get(b"a").expect("get"), Some(Some(b"1".to_vec())));
        assert_eq!(frozen.get(b"b").expect("get"), Some(None));
        assert_eq!(frozen.get(b"c").expect("get"), Some(Some(Vec::new())));
        assert_eq!(frozen.get(b"zz").expect("get"), None);
        let range: Vec<Change> = frozen
            .range(
                Bound::Included(b"b".to_vec()),
                Bound::Excluded(b"d/2".to_vec()),
            )
            .map(|e| e.expect("entry"))
            .collect();
        let keys: Vec<&[u8]> = range.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, [&b"b"[..], b"c", b"d/1"]);
        assert_eq!(range[2].1.as_ref().map(Vec::len), Some(100_000));
    }

    #[test]
    fn keys_out_of_order_and_a_damaged_file_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.snap");
        let entries = [change("b", Some("1")), change("a", Some("2"))];
        assert!(write(&path, entries.into_iter()).is_err());
        write(&path, [change("a", Some("1"))].into_iter()).expect("write");
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, bytes).expect("write");
        assert!(Frozen::open(&path).is_err());
    }

    /// A snapshot of many keys (its map built into a file as it is written) reads back every
    /// key and any range, and leaves nothing but itself in its directory.
    #[test]
    fn a_large_snapshot_reads_back_and_leaves_no_side_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.snap");
        let key = |i: u32| format!("x/{:08}/{:032x}", i, u128::from(i) * 0x9e37_79b9);
        let entries = (0..50_000u32).map(|i| {
            let value = (i % 7 != 0).then(|| i.to_le_bytes().to_vec());
            Ok((key(i).into_bytes(), value))
        });
        assert_eq!(write(&path, entries).expect("write"), 50_000);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["s.snap"]);
        let frozen = Frozen::open(&path).expect("open");
        assert_eq!(frozen.len(), 50_000);
        for i in [0u32, 1, 7, 12_345, 49_999] {
            let want = (i % 7 != 0).then(|| i.to_le_bytes().to_vec());
            assert_eq!(
                frozen.get(key(i).as_bytes()).expect("get"),
                Some(want),
                "{i}"
            );
            assert_eq!(
                frozen.holds(key(i).as_bytes()).expect("holds"),
                Some(i % 7 != 0)
            );
        }
        assert_eq!(frozen.get(b"x/99999999").expect("get"), None);
        let lo = Bound::Included(key(100).into_bytes());
        let hi = Bound::Excluded(key(200).into_bytes());
        let range: Vec<Change> = frozen.range(lo, hi).map(|e| e.expect("entry")).collect();
        assert_eq!(range.len(), 100);
        assert_eq!(
            range[1],
            (key(101).into_bytes(), Some(101u32.to_le_bytes().to_vec()))
        );
    }

    /// Snapshots written before values were compressed (`XFSNAP01`: each value at its offset)
    /// read as they did, and a damaged block is an error, not a panic or a wrong value.
    #[test]
    fn the_first_layout_still_reads_and_a_damaged_block_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("old.snap");
        let mut values = Vec::new();
        let mut map = fst::MapBuilder::memory();
        for (k, v) in [("a", Some("1")), ("b", None), ("c", Some("three"))] {
            map.insert(k, values.len() as u64).expect("insert");
            let len = v.map_or(REMOVED, |v| v.len() as u32);
            values.extend_from_slice(&len.to_le_bytes());
            values.extend_from_slice(v.unwrap_or_default().as_bytes());
        }
        let map = map.into_inner().expect("map");
        let mut file = values.clone();
        file.extend_from_slice(&map);
        file.extend_from_slice(&(values.len() as u64).to_le_bytes());
        file.extend_from_slice(&(map.len() as u64).to_le_bytes());
        file.extend_from_slice(PLAIN);
        std::fs::write(&path, file).expect("write");
        let old = Frozen::open(&path).expect("open");
        assert_eq!(old.get(b"a").expect("get"), Some(Some(b"1".to_vec())));
        assert_eq!(old.holds(b"b").expect("holds"), Some(false));
        let all: Vec<Change> = old
            .range(Bound::Unbounded, Bound::Unbounded)
            .map(|e| e.expect("entry"))
            .collect();
        assert_eq!(all[2], (b"c".to_vec(), Some(b"three".to_vec())));

        let path = dir.path().join("new.snap");
        let entries =
            (0..2_000u32).map(|i| Ok((format!("k{i:05}").into_bytes(), Some(vec![7; 50]))));
        write(&path, entries).expect("write");
        let mut bytes = std::fs::read(&path).expect("read");
        assert!(
            bytes.len() < 2_000 * 50,
            "the values are compressed: {}",
            bytes.len()
        );
        // The first block's compressed bytes, past its two length words.
        for b in &mut bytes[8..40] {
            *b ^= 0x5a;
        }
        std::fs::write(&path, bytes).expect("write");
        let damaged = Frozen::open(&path).expect("the key map is intact");
        assert!(damaged.get(b"k00000").is_err());
        assert!(damaged.get(b"k01999").expect("a later block").is_some());
    }
}
