//! Diagnostics: errors and warnings that name a file, a line and a column.

use std::fmt;
use std::path::{Path, PathBuf};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// Where in an input file a diagnostic points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column: a character column for YAML and XML, a field number for CSV.
    pub column: Option<u64>,
}

impl Location {
    /// A location in `file` with no line.
    pub fn file(file: &Path) -> Self {
        Location {
            file: file.to_path_buf(),
            line: None,
            column: None,
        }
    }

    /// A location at `line` and `column` of `file`.
    pub fn at(file: &Path, line: u64, column: u64) -> Self {
        Location {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// One problem found in the inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    pub message: String,
    /// Later places with the very same problem, up to [`LINES_KEPT`] of them.
    pub again: Vec<Location>,
    /// How many times the problem came up again.
    pub repeats: usize,
}

/// How many lines of a repeated problem are named.
pub const LINES_KEPT: usize = 5;

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {kind}: {}", self.location, self.message)?;
        if self.repeats > 0 {
            let places: Vec<String> = self
                .again
                .iter()
                .map(|l| match (l.file == self.location.file, l.line) {
                    (true, Some(line)) => format!("line {line}"),
                    _ => l.to_string(),
                })
                .collect();
            let more = if self.repeats > self.again.len() {
                " …"
            } else {
                ""
            };
            write!(
                f,
                " (and {} more time(s): {}{more})",
                self.repeats,
                places.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Every diagnostic of a run, errors and warnings together. The same problem
/// (same severity and message) is kept once, with a count and its first
/// places, so one bad value repeated on 30 rows, or a quirk shared by a
/// thousand TRT files, is one report.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    seen: std::collections::HashMap<(Severity, String), usize>,
}

impl Diagnostics {
    /// Records an error.
    pub fn error(&mut self, location: Location, message: impl Into<String>) {
        self.push(Severity::Error, location, message.into());
    }

    /// Records a warning.
    pub fn warn(&mut self, location: Location, message: impl Into<String>) {
        self.push(Severity::Warning, location, message.into());
    }

    fn push(&mut self, severity: Severity, location: Location, message: String) {
        let key = (severity, message);
        if let Some(&i) = self.seen.get(&key) {
            let d = &mut self.items[i];
            d.repeats += 1;
            if d.again.len() < LINES_KEPT {
                d.again.push(location);
            }
            return;
        }
        self.seen.insert(key.clone(), self.items.len());
        self.items.push(Diagnostic {
            severity,
            location,
            message: key.1,
            again: Vec::new(),
            repeats: 0,
        });
    }

    /// Moves every diagnostic of `other` into this set, with its places
    /// and repeats.
    pub fn extend(&mut self, other: Diagnostics) {
        for d in other.items {
            let (severity, again) = (d.severity, d.again.len());
            self.push(severity, d.location, d.message.clone());
            for place in d.again {
                self.push(severity, place, d.message.clone());
            }
            let i = self.seen[&(severity, d.message)];
            self.items[i].repeats += d.repeats - again;
        }
    }

    /// All diagnostics, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// The number of warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// True when no error was recorded.
    pub fn is_ok(&self) -> bool {
        self.error_count() == 0
    }

    /// Sorts by file, line and column so output is stable whatever order the work ran in.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            (&a.location.file, a.location.line, a.location.column).cmp(&(
                &b.location.file,
                b.location.line,
                b.location.column,
            ))
        });
        self.seen = self
            .items
            .iter()
            .enumerate()
            .map(|(i, d)| ((d.severity, d.message.clone()), i))
            .collect();
    }
}

/// Spreadsheet column letters for a 1-based field number (1 → A, 27 → AA).
pub fn column_letters(mut n: u64) -> String {
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_places_and_repeats() {
        let at = |line| Location::at(Path::new("a.xml"), line, 1);
        let (mut all, mut part) = (Diagnostics::default(), Diagnostics::default());
        all.warn(at(1), "quirk");
        for line in 2..40 {
            part.warn(at(line), "quirk");
        }
        all.extend(part);
        let d = all.iter().next().unwrap();
        assert_eq!((d.repeats, d.location.line), (38, Some(1)));
        assert_eq!(d.again.len(), LINES_KEPT.min(38));
    }

    #[test]
    fn a_repeated_problem_is_reported_once_with_a_count() {
        let mut d = Diagnostics::default();
        for line in 2..32 {
            d.error(
                Location::at(Path::new("a.csv"), line, 1),
                "DistrictId (column A): expected an identifier, found `8O80`",
            );
        }
        d.warn(Location::at(Path::new("a.csv"), 9, 1), "other");
        assert_eq!(d.error_count(), 1);
        let first = d.iter().next().unwrap();
        assert_eq!(first.repeats, 29);
        assert_eq!(
            first.to_string(),
            "a.csv:2:1: error: DistrictId (column A): expected an identifier, found `8O80` (and 29 more time(s): line 3, line 4, line 5, line 6, line 7 …)"
        );
        // The same quirk in several files is one report naming the others.
        let mut d = Diagnostics::default();
        for f in ["a.xml", "b.xml"] {
            d.warn(Location::at(Path::new(f), 5, 1), "completeness is blank");
        }
        assert_eq!(
            d.iter().next().unwrap().to_string(),
            "a.xml:5:1: warning: completeness is blank (and 1 more time(s): b.xml:5:1)"
        );
    }

    #[test]
    fn letters() {
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(26), "Z");
        assert_eq!(column_letters(27), "AA");
        assert_eq!(column_letters(64), "BL");
    }

    #[test]
    fn display_has_file_line_column() {
        let d = Diagnostic {
            severity: Severity::Error,
            location: Location::at(Path::new("data/a.csv"), 3, 20),
            message: "ScaleScore: expected a number".into(),
            again: Vec::new(),
            repeats: 0,
        };
        assert_eq!(
            d.to_string(),
            "data/a.csv:3:20: error: ScaleScore: expected a number"
        );
    }
}
