//! As-of views (issue 15, item 3): a snapshot's database with the events after it replayed over
//! it in memory. The replay writes into a `Tx` as a live batch would; instead of committing, its
//! writes become the view's overlay, which every read of the `Store` consults before the
//! database. Queries run on a view unchanged.

use std::collections::BTreeMap;
use std::iter::Peekable;

use super::{Pending, StoreError, Tx, CHECKPOINT};

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

/// The database's entries with an overlay's over them, in key order: an overlay entry replaces
/// the database's under the same key, and a removal hides it.
pub struct Merged<'a, I: Iterator<Item = Entry>> {
    base: Peekable<I>,
    over: Peekable<std::collections::btree_map::Range<'a, Vec<u8>, Option<Vec<u8>>>>,
}

impl<'a, I: Iterator<Item = Entry>> Merged<'a, I> {
    pub fn new(
        base: I,
        over: std::collections::btree_map::Range<'a, Vec<u8>, Option<Vec<u8>>>,
    ) -> Self {
        Merged {
            base: base.peekable(),
            over: over.peekable(),
        }
    }
}

impl<I: Iterator<Item = Entry>> Iterator for Merged<'_, I> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            let order = match (self.base.peek(), self.over.peek()) {
                (None, None) => return None,
                (Some(Err(_)), _) => return self.base.next(),
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(Ok((b, _))), Some((o, _))) => o.as_slice().cmp(b.as_slice()),
            };
            if order == std::cmp::Ordering::Equal {
                // The overlay's value (or removal) stands for the database's.
                self.base.next();
            }
            let take_over = order != std::cmp::Ordering::Greater;
            if !take_over {
                return self.base.next();
            }
            match self.over.next() {
                Some((k, Some(v))) => return Some(Ok((k.clone(), v.clone()))),
                Some((_, None)) => continue,
                None => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlay_replaces_and_hides_and_interleaves_in_order() {
        let base: Vec<Entry> = ["a", "c", "e", "g"]
            .iter()
            .map(|k| Ok((k.as_bytes().to_vec(), b"base".to_vec())))
            .collect();
        let mut over = Overlay::new();
        over.insert(b"b".to_vec(), Some(b"new".to_vec()));
        over.insert(b"c".to_vec(), Some(b"changed".to_vec()));
        over.insert(b"e".to_vec(), None);
        over.insert(b"h".to_vec(), Some(b"last".to_vec()));
        let merged: Vec<(String, String)> =
            Merged::new(base.into_iter(), over.range::<Vec<u8>, _>(..))
                .map(|e| e.expect("entry"))
                .map(|(k, v)| {
                    (
                        String::from_utf8(k).expect("k"),
                        String::from_utf8(v).expect("v"),
                    )
                })
                .collect();
        let want = [
            ("a", "base"),
            ("b", "new"),
            ("c", "changed"),
            ("g", "base"),
            ("h", "last"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(merged, want);
    }
}
