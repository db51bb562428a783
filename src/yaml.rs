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

/// The largest YAML file read (settings, users, catalog, item bank).
pub const MAX_BYTES: usize = 32 << 20;
/// The deepest nesting accepted, counting indentation steps, `- ` items on
/// one line and `[`/`{` brackets: deeply nested documents make the parser
/// slow, and no scoresite file nests more than a few levels.
pub const MAX_DEPTH: usize = 64;

/// Where `text` is too large or nests too deeply to be parsed safely.
fn too_big(file: &Path, text: &str) -> Option<YamlError> {
    if text.len() > MAX_BYTES {
        return Some(YamlError {
            location: Location::file(file),
            message: format!(
                "the file is {} bytes; expected at most {MAX_BYTES}",
                text.len()
            ),
        });
    }
    let mut indents: Vec<usize> = vec![0];
    let mut brackets = 0usize;
    for (i, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        while indents.last().is_some_and(|&d| d > indent) {
            indents.pop();
        }
        if indents.last().is_some_and(|&d| d < indent) {
            indents.push(indent);
        }
        let dashes = body
            .as_bytes()
            .chunks(2)
            .take_while(|c| *c == b"- ")
            .count();
        let mut deepest = brackets;
        for c in body.chars() {
            match c {
                '[' | '{' => {
                    brackets += 1;
                    deepest = deepest.max(brackets);
                }
                ']' | '}' => brackets = brackets.saturating_sub(1),
                _ => {}
            }
        }
        let depth = indents.len() + dashes + deepest;
        if depth > MAX_DEPTH {
            return Some(YamlError {
                location: Location::at(file, i as u64 + 1, 1),
                message: format!(
                    "nesting is {depth} levels deep here; expected at most {MAX_DEPTH}"
                ),
            });
        }
    }
    None
}

/// Parses `text`, read from `file`, as a `T`, pointing errors at their line and column.
/// Files too large or too deeply nested are refused before parsing.
pub fn parse<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, YamlError> {
    if let Some(e) = too_big(file, text) {
        return Err(e);
    }
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

/// A YAML text's lines, for placing values that parsed but failed a later
/// check (a grant to an unknown school, say): serde gives no positions for
/// them, so they are found in the text.
pub struct Lines<'a> {
    text: &'a str,
    /// The byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    /// The lines of `text`, with where each starts.
    pub fn new(text: &'a str) -> Lines<'a> {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .filter(|&i| i < text.len())
            .collect();
        Lines { text, starts }
    }

    /// The 1-based line of the first occurrence of `needle` at or after
    /// line `from`, if any. It reads the text from that line on only, so
    /// entries looked up in file order cost one pass over the text.
    pub fn find(&self, needle: &str, from: u64) -> Option<u64> {
        let start = *self.starts.get(from.max(1) as usize - 1)?;
        let at = start + memchr::memmem::find(&self.text.as_bytes()[start..], needle.as_bytes())?;
        Some(self.starts.partition_point(|&s| s <= at) as u64)
    }

    /// Like [`Lines::find`], but from the top when nothing at or after
    /// `from` matches: entries looked up in file order start from the last
    /// one's line.
    pub fn find_next(&self, needle: &str, from: u64) -> Option<u64> {
        self.find(needle, from).or_else(|| self.find(needle, 1))
    }
}

/// Writes `value` as a YAML document.
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_find_the_first_line_from_a_start() {
        let lines = Lines::new("users:\n- email: a@x.org\n  grants: [x]\n- email: a@x.org\n");
        assert_eq!(lines.find("a@x.org", 1), Some(2));
        assert_eq!(lines.find("a@x.org", 3), Some(4));
        assert_eq!(lines.find("a@x.org", 5), None);
        assert_eq!(lines.find("grants", 0), Some(3));
        assert_eq!(lines.find("b@x.org", 1), None);
        assert_eq!(lines.find_next("grants", 4), Some(3));
        assert_eq!(Lines::new("").find("", 1), None);
    }

    #[test]
    fn deep_nesting_is_refused_quickly() {
        let file = Path::new("users.yaml");
        let flow = format!("users: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse::<serde_yaml::Value>(file, &flow).unwrap_err();
        assert!(e.message.contains("nesting"), "{}", e.message);
        let dashes = format!("users:\n  {}x\n", "- ".repeat(100_000));
        assert!(parse::<serde_yaml::Value>(file, &dashes).is_err());
        let block: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let e = parse::<serde_yaml::Value>(file, &block).unwrap_err();
        assert_eq!(e.location.line, Some(65));
        let fine = "users:\n  - email: a@b.org\n    grants: [teacher:1]\n";
        assert!(parse::<serde_yaml::Value>(file, fine).is_ok());
    }
}
