//! The item bank: what the item views know of each item beyond its
//! responses (claim, target, depth of knowledge, standard, difficulty, the
//! practice item itself and its rubric).
//!
//! A deployment may give one as `items.yaml`; the sandbox writes its own
//! practice items (`sandbox-data/items.yaml`) into every deployment it emits.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The sandbox's practice items.
pub const SANDBOX: &str = include_str!("../sandbox-data/items.yaml");

/// An item bank: sets of items, each standing in for an interim block.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemBank {
    pub bank: u32,
    pub sets: Vec<ItemSet>,
}

/// Practice items standing in for one interim block in some grades.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSet {
    pub block: String,
    pub subject: String,
    pub grades: Vec<u8>,
    #[serde(default)]
    pub passage: Option<Passage>,
    pub items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Passage {
    pub title: String,
    pub text: String,
}

/// One practice item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub key: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub claim: String,
    pub target: String,
    pub dok: u8,
    pub standard: String,
    pub points: u8,
    pub difficulty: f64,
    pub stem: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The key: an option letter (or letters, for MS), or the EQ answer.
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub lure: Option<String>,
    /// Typical wrong EQ answers.
    #[serde(default)]
    pub wrong: Vec<String>,
    #[serde(default)]
    pub rubric: Vec<String>,
    /// Sample SA responses by score point.
    #[serde(default)]
    pub samples: Vec<String>,
}

impl ItemBank {
    /// The sandbox's practice items.
    pub fn builtin() -> ItemBank {
        crate::yaml::parse(std::path::Path::new("sandbox-data/items.yaml"), SANDBOX)
            .expect("sandbox-data/items.yaml is valid (tested)")
    }

    /// The set standing in for `block` of `subject` at `grade`.
    pub fn set_for(&self, subject: &str, block: &str, grade: u8) -> Option<&ItemSet> {
        self.sets
            .iter()
            .find(|s| s.subject == subject && s.block == block && s.grades.contains(&grade))
    }

    /// The item with bank key `bank` and item key `key`, with its set.
    pub fn item(&self, bank: &str, key: &str) -> Option<(&ItemSet, &Item)> {
        if bank.trim() != self.bank.to_string() {
            return None;
        }
        let key: u32 = key.trim().parse().ok()?;
        self.sets
            .iter()
            .find_map(|s| s.items.iter().find(|i| i.key == key).map(|i| (s, i)))
    }
}
