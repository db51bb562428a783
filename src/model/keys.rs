//! Positions in a list found by a string key that the list itself holds, so
//! that each key is stored once (interned strings, student SSIDs).

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Whether two strings hold the same bytes. A plain loop rather than `==`:
/// glibc's AVX-512 `memcmp`, which `==` calls, takes about twice as long on
/// memory that is not yet cached (measured on AMD EPYC), and ingest compares
/// millions of short, freshly read cells and keys.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

fn hash(key: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(key)
}

/// Positions (u32) by key; the caller says what key each position has.
#[derive(Debug, Default, Clone)]
pub struct KeyIndex(HashTable<u32>);

impl KeyIndex {
    /// The position whose key is `key`; `key_of` gives each position's key.
    pub fn find<'a>(&self, key: &str, key_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        self.0.find(hash(key), |&i| same(key_of(i), key)).copied()
    }

    /// Records position `at`, whose key (`key_of(at)`) no other position has.
    pub fn insert<'a>(&mut self, at: u32, key_of: impl Fn(u32) -> &'a str) {
        self.0
            .insert_unique(hash(key_of(at)), at, |&i| hash(key_of(i)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_key_and_only_it() {
        let keys = ["a", "b", "", "ab", "ba"];
        let mut index = KeyIndex::default();
        for at in 0..keys.len() as u32 {
            index.insert(at, |i| keys[i as usize]);
        }
        for (at, key) in keys.iter().enumerate() {
            assert_eq!(index.find(key, |i| keys[i as usize]), Some(at as u32));
        }
        assert_eq!(index.find("abc", |i| keys[i as usize]), None);
        assert!(same("ab", "ab") && !same("ab", "ba") && !same("a", "ab"));
    }
}
