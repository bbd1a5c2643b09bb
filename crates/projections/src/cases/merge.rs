//! Several listing indexes read as one, in their common order (newest received first): each
//! index is sorted by the same order key, so the merge takes the least next key of any, and a
//! case under two of them comes once.

use std::iter::Peekable;

use crate::{Store, StoreError};

type Keys<'a> = Peekable<Box<dyn Iterator<Item = Result<String, StoreError>> + 'a>>;

/// The orders (key tails) of several index prefixes, merged; each read from its own start.
pub(super) struct Merged<'a> {
    sources: Vec<(usize, Keys<'a>)>,
    last: Option<String>,
}

impl<'a> Merged<'a> {
    /// `sources`: (index prefix, the order to start at) each.
    pub(super) fn new(store: &'a Store, sources: &'a [(String, String)]) -> Merged<'a> {
        Merged {
            sources: sources
                .iter()
                .map(|(prefix, start)| {
                    let keys: Box<dyn Iterator<Item = _>> =
                        Box::new(store.keys_from(prefix, &format!("{prefix}{start}")));
                    (prefix.len(), keys.peekable())
                })
                .collect(),
            last: None,
        }
    }

    /// The next order of any source (the least), with the source it came from taken past it.
    fn least(&mut self) -> Result<Option<String>, StoreError> {
        let mut best: Option<(usize, String)> = None;
        for (i, (len, keys)) in self.sources.iter_mut().enumerate() {
            match keys.peek() {
                Some(Ok(k)) => {
                    let order = &k[*len..];
                    if best.as_ref().is_none_or(|(_, b)| order < b.as_str()) {
                        best = Some((i, order.to_owned()));
                    }
                }
                Some(Err(_)) => {
                    if let Some(Err(e)) = keys.next() {
                        return Err(e);
                    }
                }
                None => {}
            }
        }
        Ok(best.map(|(i, order)| {
            self.sources[i].1.next();
            order
        }))
    }
}

impl Iterator for Merged<'_> {
    type Item = Result<String, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.least() {
                Err(e) => return Some(Err(e)),
                Ok(None) => return None,
                // The same case under two sources (old and repeated) comes once.
                Ok(Some(order)) if self.last.as_ref() == Some(&order) => continue,
                Ok(Some(order)) => {
                    self.last = Some(order.clone());
                    return Some(Ok(order));
                }
            }
        }
    }
}
