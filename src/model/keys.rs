//! Positions in a list found by a string key that the list itself holds, so
//! that each key is stored once (interned strings, student SSIDs).

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Whether two strings hold the same bytes. A plain loop rather than `==`:
/// glibc's AVX-512 `memcmp`, which `==` calls, takes about twice as long on
/// memory that is not yet cached (measured on AMD EPYC), and ingest compares
/// millions of short, freshly read cells and keys.
pub fn same(a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> bool {
    let (a, b) = (a.as_ref(), b.as_ref());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

fn hash(key: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(key)
}

/// Positions (u32) by key; the caller says what key each position has.
/// A key of up to 11 bytes (`SHORT`) (an SSID, a session id, a language code)
/// is held in the index too, so finding it reads nothing else.
#[derive(Debug, Default, Clone)]
pub struct KeyIndex(HashTable<Entry>);

/// The longest key an [`Entry`] holds itself.
const SHORT: usize = 11;

/// A position and its key's bytes, zero-padded, then the key's length; a
/// longer key's length is written as `u8::MAX` and its bytes are not held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    at: u32,
    key: [u8; SHORT + 1],
}

impl Entry {
    fn new(at: u32, key: &str) -> Self {
        let mut bytes = [0; SHORT + 1];
        if key.len() <= SHORT {
            bytes[..key.len()].copy_from_slice(key.as_bytes());
            bytes[SHORT] = key.len() as u8;
        } else {
            bytes[SHORT] = u8::MAX;
        }
        Entry { at, key: bytes }
    }

    /// The key, when it is held here.
    fn short(&self) -> Option<&str> {
        let len = usize::from(self.key[SHORT]);
        // The bytes were copied whole from a `str`.
        (len <= SHORT).then(|| std::str::from_utf8(&self.key[..len]).unwrap_or_default())
    }
}

impl KeyIndex {
    /// The position whose key is `key`; `key_of` gives each position's key.
    pub fn find<'a>(&self, key: &str, key_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        let probe = Entry::new(0, key);
        let found = if key.len() <= SHORT {
            self.0.find(hash(key), |e| e.key == probe.key)
        } else {
            self.0
                .find(hash(key), |e| e.key == probe.key && same(key_of(e.at), key))
        };
        found.map(|e| e.at)
    }

    /// Records position `at`, whose key (`key_of(at)`) no other position has.
    pub fn insert<'a>(&mut self, at: u32, key_of: impl Fn(u32) -> &'a str) {
        let key = key_of(at);
        self.0.insert_unique(hash(key), Entry::new(at, key), |e| {
            hash(e.short().unwrap_or_else(|| key_of(e.at)))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_key_and_only_it() {
        let keys = [
            "a",
            "b",
            "",
            "ab",
            "ba",
            "12345678901",
            "123456789012",
            "123456789013",
            "1234567890",
        ];
        let mut index = KeyIndex::default();
        for at in 0..keys.len() as u32 {
            index.insert(at, |i| keys[i as usize]);
        }
        for (at, key) in keys.iter().enumerate() {
            assert_eq!(index.find(key, |i| keys[i as usize]), Some(at as u32));
        }
        for absent in ["abc", "a\0", "1234567890123", "12345678901\0"] {
            assert_eq!(index.find(absent, |i| keys[i as usize]), None, "{absent:?}");
        }
        assert!(same("ab", "ab") && !same("ab", "ba") && !same("a", "ab"));
    }
}
