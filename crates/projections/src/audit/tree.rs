//! The Merkle tree over the whole log (`integrity::merkle`), kept in the audit model so that a
//! case's inclusion proofs are a few reads: the leaves in chunks of 256 (`l/<chunk>`), the roots
//! of the perfect subtrees of 256 leaves and up (`t/<level>/<index>`), and the size (`t/size`).
//! `t/size` holds the size and the last sequence taken in. A subtree below 256 leaves is hashed from its chunk when a proof needs it.
//!
//! The model is not trusted for this: a verifier checks every path against the root a signed
//! checkpoint states, so a wrong tree here makes a proof fail, never pass.

use integrity::merkle::{self, node, perfect_from_leaves, Hash};

use crate::{Store, StoreError, Tx};

/// log2 of the leaves per chunk.
const CHUNK_LEVEL: u32 = 8;
const CHUNK: u64 = 1 << CHUNK_LEVEL;
use crate::keys::audit::{leaves as chunk_key, node as node_key, TREE_SIZE as SIZE};

/// Add the leaf of the event at `seq` with `hash`; returns its index, or `None` for an event at
/// or below the last one taken in (a replay changes nothing).
pub(super) fn append(tx: &mut Tx<'_>, seq: u64, hash: &Hash) -> Result<Option<u64>, StoreError> {
    let (index, last): (u64, u64) = tx.get(SIZE)?.unwrap_or((0, 0));
    if seq <= last {
        return Ok(None);
    }
    let leaf = merkle::leaf(seq, hash);
    let chunk = index >> CHUNK_LEVEL;
    let full = tx.update(chunk_key(chunk), |leaves: &mut Vec<Hash>| {
        if leaves.len() as u64 == index % CHUNK {
            leaves.push(leaf);
        }
        (leaves.len() as u64 == CHUNK).then(|| leaves.clone())
    })?;
    tx.put(SIZE.into(), (index + 1, seq));
    if let Some(leaves) = full {
        let root = perfect_from_leaves(&leaves, CHUNK_LEVEL, 0).unwrap_or_default();
        tx.put(node_key(CHUNK_LEVEL, chunk), root);
        // Each perfect subtree this leaf completes, up the levels.
        let (mut level, mut i) = (CHUNK_LEVEL, chunk);
        while i & 1 == 1 {
            let left: Hash = tx.get(&node_key(level, i - 1))?.unwrap_or_default();
            let right: Hash = tx.get(&node_key(level, i))?.unwrap_or_default();
            level += 1;
            i >>= 1;
            tx.put(node_key(level, i), node(&left, &right));
        }
    }
    Ok(Some(index))
}

/// The number of leaves.
pub fn size(store: &Store) -> Result<u64, StoreError> {
    Ok(store.get::<(u64, u64)>(SIZE)?.map_or(0, |(size, _)| size))
}

/// The audit path of leaf `index` in the tree of the first `tree_size` leaves.
pub fn proof(store: &Store, index: u64, tree_size: u64) -> Result<Vec<Hash>, StoreError> {
    let mut chunks: std::collections::HashMap<u64, Vec<Hash>> = Default::default();
    merkle::inclusion_proof(index, tree_size, &mut |level, i| {
        if level >= CHUNK_LEVEL {
            return Ok(store.get(&node_key(level, i))?.unwrap_or_default());
        }
        let first = i << level;
        let chunk = first >> CHUNK_LEVEL;
        let leaves = match chunks.entry(chunk) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(
                store
                    .get::<Vec<Hash>>(&chunk_key(chunk))?
                    .unwrap_or_default(),
            ),
        };
        Ok(perfect_from_leaves(leaves, level, (first % CHUNK) >> level).unwrap_or_default())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use integrity::Frontier;

    /// Proofs from the stored tree (chunks of 256 leaves, perfect subtrees above) verify against
    /// the root of a frontier built leaf by leaf, for sizes around the chunk boundaries, however
    /// the leaves were batched.
    #[test]
    fn stored_proofs_verify_against_the_root_across_chunks() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open_dir(dir.path(), "g".into()).expect("store");
        let n = 1100u64;
        let hashes: Vec<Hash> = (1..=n)
            .map(|s| integrity::sha256(&s.to_be_bytes()))
            .collect();
        let mut roots = vec![merkle::empty_root()];
        let mut frontier = Frontier::default();
        let mut seq = 0;
        for batch in [1usize, 254, 3, 300, 500, 42] {
            let mut tx = store.tx();
            for _ in 0..batch {
                seq += 1;
                let leaf = merkle::leaf(seq, &hashes[seq as usize - 1]);
                frontier.push(leaf);
                roots.push(frontier.root());
                assert_eq!(
                    append(&mut tx, seq, &hashes[seq as usize - 1]).expect("append"),
                    Some(seq - 1)
                );
            }
            // A replay of the batch's last event changes nothing.
            assert_eq!(
                append(&mut tx, seq, &hashes[seq as usize - 1]).expect("again"),
                None
            );
            store.commit(tx, seq).expect("commit");
        }
        assert_eq!(seq, n);
        assert_eq!(size(&store).expect("size"), n);
        for tree_size in [1, 255, 256, 257, 511, 512, 513, 768, 1024, 1025, n] {
            for index in [
                0,
                1,
                200,
                255,
                256,
                300,
                511,
                512,
                1023,
                1024,
                tree_size - 1,
            ] {
                if index >= tree_size {
                    continue;
                }
                let path = proof(&store, index, tree_size).expect("proof");
                let leaf = merkle::leaf(index + 1, &hashes[index as usize]);
                assert!(
                    merkle::verify_inclusion(
                        index,
                        tree_size,
                        &leaf,
                        &path,
                        &roots[tree_size as usize]
                    ),
                    "leaf {index} in a tree of {tree_size}"
                );
            }
        }
    }
}
