//! The Merkle tree over every event of the log in sequence order, as RFC 6962 (§2.1) defines
//! it: a leaf is `SHA-256(0x00 || seq as 8 bytes big-endian || event hash)`, a node
//! `SHA-256(0x01 || left || right)`, the tree of n leaves splits at the largest power of two
//! below n. Binding the sequence into the leaf makes an inclusion proof say where the event is.
//!
//! A `Frontier` (the roots of the perfect subtrees the leaves so far make, largest first) is all
//! that is needed to go on appending and to compute the root; a checkpoint carries it, so a
//! notary resumes from the last checkpoint without any store of its own.

use serde::{Deserialize, Serialize};

use crate::sha256;

pub type Hash = [u8; 32];

pub fn leaf(seq: u64, event_hash: &Hash) -> Hash {
    let mut buf = [0u8; 41];
    buf[1..9].copy_from_slice(&seq.to_be_bytes());
    buf[9..].copy_from_slice(event_hash);
    sha256(&buf)
}

pub fn node(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    sha256(&buf)
}

/// The root of the empty tree.
pub fn empty_root() -> Hash {
    sha256(b"")
}

/// The roots of the perfect subtrees of the leaves so far, largest (leftmost) first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frontier {
    pub size: u64,
    #[serde(with = "hex_hashes")]
    pub nodes: Vec<Hash>,
}

impl Frontier {
    pub fn push(&mut self, leaf: Hash) {
        self.nodes.push(leaf);
        self.size += 1;
        // A binary counter: each trailing 1 bit of the new size merges two equal subtrees.
        let mut size = self.size;
        while size & 1 == 0 {
            let right = self.nodes.pop();
            let left = self.nodes.pop();
            if let (Some(l), Some(r)) = (left, right) {
                self.nodes.push(node(&l, &r));
            }
            size >>= 1;
        }
    }

    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return empty_root();
        };
        nodes.fold(*last, |acc, left| node(left, &acc))
    }

    /// Whether the nodes are as many as the size's binary digits say.
    pub fn is_well_formed(&self) -> bool {
        self.nodes.len() == self.size.count_ones() as usize
    }
}

fn split(n: u64) -> u64 {
    // The largest power of two below n (n > 1).
    1 << (63 - (n - 1).leading_zeros())
}

/// The root of leaves `start..end`, from `perfect(level, index)`: the root of the aligned
/// perfect subtree of `2^level` leaves starting at `index << level`. Every subtree RFC 6962's
/// recursion asks for is aligned, so this is all a store must answer.
pub fn range_root<E>(
    start: u64,
    end: u64,
    perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Hash, E> {
    let n = end - start;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return perfect(level, start >> level);
    }
    let k = split(n);
    let left = range_root(start, start + k, perfect)?;
    let right = range_root(start + k, end, perfect)?;
    Ok(node(&left, &right))
}

/// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 6962 PATH), from
/// the leaf's sibling up.
pub fn inclusion_proof<E>(
    index: u64,
    size: u64,
    perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    fn path<E>(
        m: u64,
        start: u64,
        end: u64,
        perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
        out: &mut Vec<Hash>,
    ) -> Result<(), E> {
        let n = end - start;
        if n <= 1 {
            return Ok(());
        }
        let k = split(n);
        if m < k {
            path(m, start, start + k, perfect, out)?;
            out.push(range_root(start + k, end, perfect)?);
        } else {
            path(m - k, start + k, end, perfect, out)?;
            out.push(range_root(start, start + k, perfect)?);
        }
        Ok(())
    }
    let mut out = Vec::new();
    if index < size {
        path(index, 0, size, perfect, &mut out)?;
    }
    Ok(out)
}

/// Whether `leaf` is leaf `index` of the tree of `size` leaves with `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Perfect subtree roots computed from a slice of leaves (for tests, and for a store that keeps
/// only leaves below some level).
pub fn perfect_from_leaves(leaves: &[Hash], level: u32, index: u64) -> Option<Hash> {
    let start = usize::try_from(index << level).ok()?;
    let mut layer: Vec<Hash> = leaves.get(start..start + (1usize << level))?.to_vec();
    while layer.len() > 1 {
        layer = layer.chunks(2).map(|p| node(&p[0], &p[1])).collect();
    }
    layer.first().copied()
}

pub(crate) mod hex_hashes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[super::Hash], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(hex::encode))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<super::Hash>, D::Error> {
        let texts: Vec<String> = Vec::deserialize(d)?;
        texts
            .iter()
            .map(|t| crate::from_hex(t).ok_or_else(|| serde::de::Error::custom("not a hex hash")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962's MTH, straight from its definition.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf(i + 1, &sha256(&i.to_be_bytes())))
            .collect()
    }

    #[test]
    fn the_frontier_and_range_roots_agree_with_the_definition() {
        let all = leaves(70);
        let mut frontier = Frontier::default();
        assert_eq!(frontier.root(), empty_root());
        for n in 1..=70u64 {
            frontier.push(all[n as usize - 1]);
            assert!(frontier.is_well_formed());
            let want = mth(&all[..n as usize]);
            assert_eq!(frontier.root(), want, "frontier at {n}");
            let got = range_root::<()>(0, n, &mut |l, i| {
                Ok(perfect_from_leaves(&all, l, i).expect("inside"))
            });
            assert_eq!(got, Ok(want), "range root at {n}");
        }
    }

    #[test]
    fn every_leaf_of_every_size_proves_and_nothing_else_does() {
        let all = leaves(40);
        for size in 1..=40u64 {
            let root = mth(&all[..size as usize]);
            for index in 0..size {
                let proof = inclusion_proof::<()>(index, size, &mut |l, i| {
                    Ok(perfect_from_leaves(&all, l, i).expect("inside"))
                })
                .expect("proof");
                let leaf = &all[index as usize];
                assert!(verify_inclusion(index, size, leaf, &proof, &root));
                assert!(!verify_inclusion(index, size, &all[39], &proof, &root) || index == 39);
                if size > 1 {
                    let other = (index + 1) % size;
                    assert!(!verify_inclusion(other, size, leaf, &proof, &root));
                    assert!(!verify_inclusion(index, size, leaf, &proof[1..], &root));
                }
            }
        }
    }
}
