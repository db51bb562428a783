//! The one place YAML is parsed, so the YAML crate can be swapped in one line.

use crate::diag::Location;
use serde::de::DeserializeOwned;
use std::path::Path;

/// A YAML document that could not be read as the expected type.
#[derive(Debug, thiserror::Error)]
#[error("{location}: error: {message}")]
pub struct YamlError {
    pub location: Location,
    pub message: String,
}

/// Parses `text`, read from `file`, as a `T`, pointing errors at their line and column.
pub fn parse<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, YamlError> {
    serde_yaml::from_str(text).map_err(|e| {
        let location = match e.location() {
            Some(l) => Location::at(file, l.line() as u64, l.column() as u64),
            None => Location::file(file),
        };
        YamlError {
            location,
            message: e.to_string(),
        }
    })
}

/// The 1-based line of the first occurrence of `needle` at or after line `from`, if any.
///
/// serde gives no positions for values that parse but fail a later check (a grant
/// to an unknown school, say), so such errors find their line in the source text.
pub fn find_line(text: &str, needle: &str, from: u64) -> Option<u64> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i as u64 + 1)
}

/// Writes `value` as a YAML document.
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(value)
}
