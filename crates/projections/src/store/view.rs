//! As-of views (issue 15, item 3): snapshot files (`frozen`: each the keys a stretch of the log
//! changed, oldest first, the first over the empty model) and the events after the last of them
//! replayed over them in memory. The replay writes into a `Tx` as a live batch would; instead of
//! committing, its writes become the view's overlay, which every read of the `Store` consults
//! first, then the snapshots newest first (a removal in one hides what is below). Queries run
//! on a view unchanged.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::Arc;

use super::frozen::{Change, Frozen};
use super::{Pending, Store, StoreError, Tx, CHECKPOINT};

/// Values written over a snapshot: `None` where a key was removed.
pub type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

impl Tx<'_> {
    /// The batch's writes (and the checkpoint `seq`) as an overlay, instead of committing them.
    pub fn freeze(self, seq: u64) -> Overlay {
        let mut out: Overlay = self
            .overlay
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Pending::Bytes(b) => Some(b),
                    Pending::Typed(t) => Some(t.encode()),
                    Pending::Removed => None,
                };
                (k, v)
            })
            .collect();
        out.insert(CHECKPOINT.to_vec(), Some(seq.to_be_bytes().to_vec()));
        out
    }
}

type Entry = Result<(Vec<u8>, Vec<u8>), StoreError>;
/// An entry of a layer over the database: a value, or `None` where the key was removed.
type Over = Result<Change, StoreError>;

impl Store {
    /// The snapshots `layers` (oldest first) over `empty`, an empty database, read only: the
    /// model as it was at the last of them.
    pub fn layered(empty: Arc<Store>, layers: Vec<Arc<Frozen>>) -> Store {
        Store {
            db: empty.db.clone(),
            generation: format!("snapshots+{}", layers.len()),
            layers,
            base: Some(empty),
            overlay: None,
        }
    }

    /// The stored bytes under `key`: the overlay's, else the newest snapshot's, else the
    /// database's.
    pub(super) fn raw_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = self.overlay.as_ref().and_then(|o| o.get(key)) {
            return Ok(v.clone());
        }
        for layer in self.layers.iter().rev() {
            if let Some(v) = layer.get(key)? {
                return Ok(v);
            }
        }
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    /// Whether a value is stored under `key` (as `raw_get`, without reading a snapshot's value).
    pub fn holds(&self, key: &[u8]) -> Result<bool, StoreError> {
        if let Some(v) = self.overlay.as_ref().and_then(|o| o.get(key)) {
            return Ok(v.is_some());
        }
        for layer in self.layers.iter().rev() {
            if let Some(held) = layer.holds(key)? {
                return Ok(held);
            }
        }
        Ok(self.db.contains_key(key)?)
    }

    /// Entries between `lo` and `hi` in key order, each layer's over those below it.
    pub(super) fn entries(
        &self,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
    ) -> Box<dyn Iterator<Item = Entry> + '_> {
        let range = (lo, hi);
        let mut merged: Box<dyn Iterator<Item = Over> + '_> =
            Box::new(self.db.range::<Vec<u8>, _>(range.clone()).map(|item| {
                item.map(|(k, v)| (k.to_vec(), Some(v.to_vec())))
                    .map_err(Into::into)
            }));
        for layer in &self.layers {
            let over = layer.range(range.0.clone(), range.1.clone());
            merged = Box::new(Merged::new(merged, over));
        }
        if let Some(overlay) = &self.overlay {
            let over = overlay
                .range::<Vec<u8>, _>(range)
                .map(|(k, v)| Ok((k.clone(), v.clone())));
            merged = Box::new(Merged::new(merged, over));
        }
        Box::new(merged.filter_map(|e| match e {
            Ok((k, Some(v))) => Some(Ok((k, v))),
            Ok((_, None)) => None,
            Err(e) => Some(Err(e)),
        }))
    }

    /// This view's overlay in key order (what the events replayed over its snapshots changed,
    /// the checkpoint among it): a snapshot delta.
    pub fn changes(&self) -> impl Iterator<Item = Result<Change, StoreError>> + '_ {
        self.overlay
            .iter()
            .flat_map(|o| o.iter())
            .map(|(k, v)| Ok((k.clone(), v.clone())))
    }

    /// Every entry of this store as a snapshot's: the whole model (the tests compare a view with
    /// a model rebuilt from the log; nothing writes a whole model since levels replaced full
    /// snapshots).
    #[cfg(test)]
    pub fn everything(&self) -> impl Iterator<Item = Result<Change, StoreError>> + '_ {
        self.entries(Bound::Unbounded, Bound::Unbounded)
            .map(|e| e.map(|(k, v)| (k, Some(v))))
    }
}

/// The entries of snapshots `layers` (oldest first) stacked, removals kept, in key order: what
/// the stretches they cover changed together, each key as the newest of them left it.
pub fn stacked(layers: &[Arc<Frozen>]) -> impl Iterator<Item = Over> + '_ {
    let mut merged: Box<dyn Iterator<Item = Over> + '_> = Box::new(std::iter::empty());
    for layer in layers {
        let over = layer.range(Bound::Unbounded, Bound::Unbounded);
        merged = Box::new(Merged::new(merged, over));
    }
    merged
}

/// The entries below with a layer's over them, in key order: a layer's entry (a value or a
/// removal) replaces the one below under the same key. Removals are passed on, for the layers
/// above and for the reader to drop.
pub struct Merged<I: Iterator<Item = Over>, J: Iterator<Item = Over>> {
    base: Peekable<I>,
    over: Peekable<J>,
}

impl<I: Iterator<Item = Over>, J: Iterator<Item = Over>> Merged<I, J> {
    pub fn new(base: I, over: J) -> Self {
        Merged {
            base: base.peekable(),
            over: over.peekable(),
        }
    }
}

impl<I: Iterator<Item = Over>, J: Iterator<Item = Over>> Iterator for Merged<I, J> {
    type Item = Over;

    fn next(&mut self) -> Option<Over> {
        let order = match (self.base.peek(), self.over.peek()) {
            (None, None) => return None,
            (Some(Err(_)), _) => return self.base.next(),
            (_, Some(Err(_))) => return self.over.next(),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(Ok((b, _))), Some(Ok((o, _)))) => o.as_slice().cmp(b.as_slice()),
        };
        match order {
            std::cmp::Ordering::Greater => self.base.next(),
            std::cmp::Ordering::Equal => {
                // The layer's value (or removal) stands for the one below.
                self.base.next();
                self.over.next()
            }
            std::cmp::Ordering::Less => self.over.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot file with `writes` (`None`: a removal).
    fn layer(dir: &std::path::Path, name: &str, writes: &[(&str, Option<&str>)]) -> Arc<Frozen> {
        let path = dir.join(name);
        let mut sorted: Vec<Change> = writes
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect();
        sorted.sort();
        super::super::frozen::write(&path, sorted.into_iter().map(Ok)).expect("write");
        Arc::new(Frozen::open(&path).expect("open"))
    }

    #[test]
    fn a_view_reads_its_overlay_then_its_snapshots_newest_first() {
        let dir = tempfile::tempdir().expect("tmp");
        let empty =
            Arc::new(Store::open_dir(&dir.path().join("empty"), "e".into()).expect("empty"));
        let full = layer(
            dir.path(),
            "full",
            &[("a", Some("1")), ("b", Some("1")), ("c", Some("1"))],
        );
        let older = layer(
            dir.path(),
            "d1",
            &[("b", None), ("d", Some("2")), ("a", Some("2"))],
        );
        let newer = layer(dir.path(), "d2", &[("a", Some("3")), ("b", Some("3"))]);
        let mut overlay = Overlay::new();
        overlay.insert(b"d".to_vec(), None);
        overlay.insert(b"e".to_vec(), Some(b"4".to_vec()));
        let layers = vec![full.clone(), older.clone(), newer];
        let view = Store::layered(empty.clone(), layers).view(overlay);
        let get = |k: &str| {
            view.raw_get(k.as_bytes())
                .expect("get")
                .map(|v| String::from_utf8(v).expect("utf8"))
        };
        assert_eq!(get("a").as_deref(), Some("3"));
        assert_eq!(get("b").as_deref(), Some("3"));
        assert_eq!(get("c").as_deref(), Some("1"));
        assert_eq!(get("d"), None);
        assert_eq!(get("e").as_deref(), Some("4"));
        let all: Vec<(String, String)> = view
            .entries(Bound::Unbounded, Bound::Unbounded)
            .map(|e| e.expect("entry"))
            .map(|(k, v)| {
                (
                    String::from_utf8(k).expect("k"),
                    String::from_utf8(v).expect("v"),
                )
            })
            .collect();
        let want: Vec<(String, String)> = [("a", "3"), ("b", "3"), ("c", "1"), ("e", "4")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(all, want);
        // The older delta over the full snapshot: b removed, d added.
        let at_older = Store::layered(empty, vec![full, older]);
        assert_eq!(at_older.raw_get(b"b").expect("get"), None);
        assert_eq!(at_older.raw_get(b"d").expect("get"), Some(b"2".to_vec()));
        assert_eq!(at_older.raw_get(b"c").expect("get"), Some(b"1".to_vec()));
    }

    #[test]
    fn the_overlay_replaces_and_hides_and_interleaves_in_order() {
        let base: Vec<Over> = ["a", "c", "e", "g"]
            .iter()
            .map(|k| Ok((k.as_bytes().to_vec(), Some(b"base".to_vec()))))
            .collect();
        let mut over = Overlay::new();
        over.insert(b"b".to_vec(), Some(b"new".to_vec()));
        over.insert(b"c".to_vec(), Some(b"changed".to_vec()));
        over.insert(b"e".to_vec(), None);
        over.insert(b"h".to_vec(), Some(b"last".to_vec()));
        let over = over.into_iter().map(Ok);
        let merged = strings(Merged::new(base.into_iter(), over));
        // The removal of e stands for it, for the reader to drop.
        let want = [
            ("a", Some("base")),
            ("b", Some("new")),
            ("c", Some("changed")),
            ("e", None),
            ("g", Some("base")),
            ("h", Some("last")),
        ];
        assert_eq!(merged, owned(&want));
    }

    fn strings(entries: impl Iterator<Item = Over>) -> Vec<(String, Option<String>)> {
        entries
            .map(|e| e.expect("entry"))
            .map(|(k, v)| {
                let v = v.map(|v| String::from_utf8(v).expect("v"));
                (String::from_utf8(k).expect("k"), v)
            })
            .collect()
    }

    fn owned(want: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        want.iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    /// Snapshots stacked into one (a level over the deltas of its span): each key as the newest
    /// layer left it, a removal kept as a removal, in key order.
    #[test]
    fn stacked_snapshots_keep_the_newest_entry_of_each_key_and_its_removals() {
        let dir = tempfile::tempdir().expect("tmp");
        let older = layer(
            dir.path(),
            "d1",
            &[("a", Some("1")), ("b", None), ("c", Some("1"))],
        );
        let middle = layer(dir.path(), "d2", &[("a", None), ("d", Some("2"))]);
        let newer = layer(dir.path(), "d3", &[("a", Some("3")), ("c", None)]);
        let all = strings(stacked(&[older, middle, newer]));
        let want = [("a", Some("3")), ("b", None), ("c", None), ("d", Some("2"))];
        assert_eq!(all, owned(&want));
        assert!(stacked(&[]).next().is_none());
    }
}
