//! A snapshot file (issue 15, item 3): a model's entries at one sequence, or what a stretch of
//! the log changed (a removal kept as such), written once in key order and never again.
//!
//! Layout: the values one after another (each a little-endian `u32` length, `u32::MAX` for a
//! removal, then the bytes), then an `fst` map from every key to the offset of its value, then
//! the map's offset and length (`u64` each) and a magic. The map is held in memory (an fst shares
//! the keys' prefixes and suffixes, so a view that reads through dozens of snapshots knows at
//! once which hold a key); values are read from the file at their offset. A sled database per
//! snapshot took several times the bytes it held and a page cache and threads per open snapshot
//! (docs/benchmarks.md).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use fst::{IntoStreamer, Streamer};

use super::StoreError;

const MAGIC: &[u8; 8] = b"XFSNAP01";
const REMOVED: u32 = u32::MAX;

/// An entry of a snapshot: a value, or `None` where the key was removed.
pub type Change = (Vec<u8>, Option<Vec<u8>>);

pub struct Frozen {
    path: PathBuf,
    file: File,
    keys: fst::Map<Vec<u8>>,
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
    let mut keys = fst::MapBuilder::memory();
    let mut offset = 0u64;
    let mut n = 0u64;
    for entry in entries {
        let (key, value) = entry?;
        keys.insert(&key, offset).map_err(|e| corrupt(path, e))?;
        let len = match &value {
            Some(v) => u32::try_from(v.len())
                .ok()
                .filter(|l| *l != REMOVED)
                .ok_or_else(|| corrupt(path, "a value of 4 GiB or more"))?,
            None => REMOVED,
        };
        out.write_all(&len.to_le_bytes()).map_err(io(path))?;
        let bytes = value.as_deref().unwrap_or_default();
        out.write_all(bytes).map_err(io(path))?;
        offset += 4 + bytes.len() as u64;
        n += 1;
    }
    let keys = keys.into_inner().map_err(|e| corrupt(path, e))?;
    out.write_all(&keys).map_err(io(path))?;
    out.write_all(&offset.to_le_bytes()).map_err(io(path))?;
    out.write_all(&(keys.len() as u64).to_le_bytes())
        .map_err(io(path))?;
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
        if &footer[16..] != MAGIC || word(0).saturating_add(word(8)) != len - 24 {
            return Err(corrupt(path, "not a snapshot file"));
        }
        let mut keys = vec![0u8; usize::try_from(word(8)).map_err(|e| corrupt(path, e))?];
        file.read_exact_at(&mut keys, word(0)).map_err(io(path))?;
        let keys = fst::Map::new(keys).map_err(|e| corrupt(path, e))?;
        Ok(Frozen {
            path: path.to_owned(),
            file,
            keys,
        })
    }

    /// The value at `offset`: `None` for a removal.
    fn value(&self, offset: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let mut len = [0u8; 4];
        self.file
            .read_exact_at(&mut len, offset)
            .map_err(io(&self.path))?;
        let len = u32::from_le_bytes(len);
        if len == REMOVED {
            return Ok(None);
        }
        let mut value = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut value, offset + 4)
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
        let mut len = [0u8; 4];
        self.file
            .read_exact_at(&mut len, offset)
            .map_err(io(&self.path))?;
        Ok(Some(u32::from_le_bytes(len) != REMOVED))
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
}
