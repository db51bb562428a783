//! TOMS Student Score Data Files for the CAASPP (Smarter Balanced ELA and
//! mathematics, the CAAs, CAST and CSA), as the CDE's Student Data File
//! Layout gives them: fixed-width records of 4,037 characters that end in
//! `ZZ`, or caret-, comma- or tab-delimited with a header of the layout's
//! field names, long (`Statewide Student Identifier (SSID)`) or run
//! together (`StatewideStudentIdentifier`). Field positions are those of the
//! 2021–22 layout; the fields read here keep their places in the other
//! years' layouts, where new fields replace blank ones.
//!
//! A record without a scale score or level (not tested: `NT`, `PGE` …) is
//! an enrolled student, not a result; its student is kept.

use super::record::{self, OfficialText, Record, Source};
use super::values::{self, Expected};
use super::{institutions::Schools, lines};
use crate::catalog::{Catalog, Kind};
use crate::diag::{column_letters, Diagnostics, Location};
use crate::model::{
    AdminCondition, Completeness, Dataset, Demographics, Elas, Flag, Grade, Score, Sex,
};
use chrono::Datelike;
use std::io::BufRead;
use std::path::Path;

/// The fields read, with their layout field number, first and last
/// character (1-based), and header names (compared without case, spaces or
/// punctuation; a parenthesised part may be left out or stand alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    RecordType,
    Ssid,
    Last,
    First,
    Gender,
    Grade,
    Section504,
    Iep,
    Migrant,
    ElStatus,
    Elas,
    Language,
    Military,
    Economic,
    Hispanic,
    AmericanIndian,
    Asian,
    Pacific,
    Filipino,
    Black,
    White,
    TwoOrMore,
    LeaName,
    LeaCode,
    SchoolName,
    SchoolCode,
    Completed,
    ConditionCode,
    Attempted,
    ScoreStatus,
    Include,
    Measure,
    Scale,
    Sem,
    BandMin,
    BandMax,
    Level,
    Domain1,
    Domain2,
    Domain3,
}

/// (field, layout field #, start, end, names), from the 2021–22 CAASPP
/// Student Data File Layout.
const FIELDS: &[(F, u16, usize, usize, &[&str])] = &[
    (F::RecordType, 1, 1, 2, &["Record Type"]),
    (F::Ssid, 2, 3, 12, &["Statewide Student Identifier (SSID)"]),
    (F::Last, 3, 13, 62, &["Student Last Name", "LastOrSurname"]),
    (F::First, 4, 63, 92, &["Student First Name", "FirstName"]),
    (F::Gender, 7, 133, 133, &["Gender"]),
    (F::Grade, 11, 141, 142, &["Grade Assessed"]),
    (F::Section504, 19, 384, 386, &["Section 504 Status"]),
    (F::Iep, 23, 396, 398, &["IDEA Indicator for Testing"]),
    (F::Migrant, 24, 399, 401, &["Migrant Status"]),
    (F::ElStatus, 25, 402, 404, &["EL Status"]),
    (
        F::Elas,
        30,
        445,
        448,
        &["English Language Acquisition Status (ELAS)"],
    ),
    (F::Language, 31, 449, 451, &["Language Code (CEDS)"]),
    (F::Military, 33, 454, 456, &["Military Status"]),
    (
        F::Economic,
        37,
        466,
        468,
        &["Economic Disadvantage Status for Testing"],
    ),
    (
        F::Hispanic,
        39,
        470,
        472,
        &["Hispanic or Latino", "HispanicOrLatinoEthnicity"],
    ),
    (
        F::AmericanIndian,
        40,
        473,
        475,
        &["American Indian or Alaska Native"],
    ),
    (F::Asian, 41, 476, 478, &["Asian"]),
    (
        F::Pacific,
        42,
        479,
        481,
        &["Native Hawaiian or Other Pacific Islander"],
    ),
    (F::Filipino, 43, 482, 484, &["Filipino"]),
    (F::Black, 44, 485, 487, &["Black or African American"]),
    (F::White, 45, 488, 490, &["White"]),
    (F::TwoOrMore, 46, 491, 493, &["Two or More Races"]),
    (F::LeaName, 96, 1614, 1713, &["Final Tested LEA Name"]),
    (
        F::LeaCode,
        97,
        1714,
        1727,
        &["Final Tested County-District Code"],
    ),
    (F::SchoolName, 98, 1728, 1827, &["Final Tested School Name"]),
    (F::SchoolCode, 99, 1828, 1841, &["Final Tested School Code"]),
    (
        F::Completed,
        103,
        1849,
        1858,
        &["Final Test Completed Date"],
    ),
    (F::ConditionCode, 120, 1975, 1978, &["Condition Code"]),
    (F::Attempted, 121, 1979, 1979, &["Attemptedness"]),
    (F::ScoreStatus, 122, 1980, 1980, &["Score Status"]),
    (F::Include, 125, 1983, 1983, &["Include Indicator"]),
    (F::Measure, 131, 1989, 1994, &["Lexile or Quantile Measure"]),
    (F::Scale, 146, 2039, 2042, &["Scale Score"]),
    (
        F::Sem,
        147,
        2043,
        2046,
        &[
            "Standard Error Measurement – SEM",
            "Standard Error Measurement",
        ],
    ),
    (
        F::BandMin,
        148,
        2047,
        2050,
        &["Smarter Scale Scores Error Bands – Min"],
    ),
    (
        F::BandMax,
        149,
        2051,
        2054,
        &["Smarter Scale Scores Error Bands – Max"],
    ),
    (F::Level, 150, 2055, 2055, &["Achievement Levels"]),
    (F::Domain1, 151, 2056, 2056, &["Domain 1 Level"]),
    (F::Domain2, 152, 2057, 2057, &["Domain 2 Level"]),
    (F::Domain3, 153, 2058, 2058, &["Domain 3 Level"]),
];

/// The fields without which no result can be placed or scored.
const REQUIRED: &[F] = &[
    F::RecordType,
    F::Ssid,
    F::Last,
    F::First,
    F::Grade,
    F::LeaCode,
    F::SchoolCode,
    F::Completed,
    F::Scale,
    F::Level,
];

/// A fixed-width record's length, `ZZ` included.
const RECORD: usize = 4037;

/// The CAASPP record types: code, CERS Subject, and the assessment's name.
const TESTS: &[(&str, &str, &str)] = &[
    ("01", "ELA", "ELA"),
    ("02", "Math", "Math"),
    ("03", "CAAELA", "CAA ELA"),
    ("04", "CAAMATH", "CAA Math"),
    ("05", "CAASCI", "CAA Science"),
    ("06", "CAST", "CAST"),
    ("09", "CSA", "CSA"),
];

/// A header name compared: lower case, letters and digits only.
fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Every spelling of a field's names: whole, without a parenthesised tail,
/// and that tail alone (`SSID`).
fn spellings(names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        out.push(key(name));
        if let Some((head, tail)) = name.split_once('(') {
            out.push(key(head));
            out.push(key(tail));
        }
    }
    out
}

/// The delimiter of a delimited file's header line, if it is one.
fn delimiter(first: &str) -> Option<u8> {
    let cell = first.split(['^', ',', '\t']).next()?;
    (key(cell) == "recordtype").then(|| {
        [b'^', b'\t', b',']
            .into_iter()
            .max_by_key(|&d| first.bytes().filter(|&b| b == d).count())
            .unwrap_or(b'^')
    })
}

/// True when the first line is a Student Score Data File's: a long record
/// that starts with a CAASPP record type and an SSID, undelimited
/// (its length is checked record by record), or a delimited header that
/// starts with Record Type and names the SSID.
pub fn recognises(first: &str) -> bool {
    let fixed = first.len() > 2000
        && TESTS.iter().any(|(code, ..)| first.starts_with(code))
        && first.as_bytes()[2..12].iter().all(u8::is_ascii_digit);
    fixed
        || delimiter(first).is_some_and(|_| {
            let keys = spellings(&["Statewide Student Identifier (SSID)"]);
            first
                .split(['^', ',', '\t'])
                .any(|h| keys.contains(&key(h.trim().trim_matches('"'))))
        })
}

/// Where each field is in a file: a character range, or a column.
enum Layout {
    Fixed,
    Columns(Vec<Option<usize>>),
}

/// One record's cells, by field.
struct Cells<'a> {
    cells: Vec<&'a str>,
    errors: Vec<(F, Expected)>,
}

impl<'a> Cells<'a> {
    fn get(&self, f: F) -> &'a str {
        self.cells[f as usize].trim()
    }

    fn parse<T>(&mut self, f: F, p: impl FnOnce(&'a str) -> Result<T, Expected>) -> Option<T> {
        p(self.get(f)).map_err(|e| self.errors.push((f, e))).ok()
    }

    fn flag(&mut self, demo: &mut Demographics, flag: Flag, f: F) {
        if let Some(v) = self.parse(f, values::yes_no) {
            demo.set(flag, v);
        }
    }
}

/// What one record is.
enum Parsed<'a> {
    Result(Box<Record<'a>>),
    /// Enrolled but not scored: (SSID, first, last).
    Enrolled(&'a str, &'a str, &'a str),
}

/// Reads one Student Score Data File into `data`; returns the results
/// added. Students enrolled without a result are kept as students.
pub fn load(
    path: &Path,
    reader: impl std::io::Read,
    catalog: &Catalog,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> u64 {
    let mut lines = std::io::BufReader::new(lines::Lf::new(reader)).lines();
    let Some(Ok(first)) = lines.next() else {
        return 0;
    };
    let first = first.trim_start_matches('\u{feff}').to_string();
    let file = data.file_index(path);
    let (layout, delim) = match delimiter(&first) {
        Some(d) => match columns(path, &first, d, diags) {
            Some(c) => (Layout::Columns(c), Some(d)),
            None => return 0,
        },
        None => (Layout::Fixed, None),
    };
    let mut added = 0;
    let body = (delim.is_none())
        .then(|| Ok(first.clone()))
        .into_iter()
        .chain(lines);
    let mut csv_line = csv::StringRecord::new();
    for (n, line) in body.enumerate() {
        let number = n as u64 + if delim.is_some() { 2 } else { 1 };
        let at = |col: usize| Location::at(path, number, col as u64);
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                diags.error(
                    at(1),
                    format!("cannot read this line: {e}; expected UTF-8 text"),
                );
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let cells = match (&layout, delim) {
            (Layout::Fixed, _) => match fixed_cells(&line) {
                Ok(c) => c,
                Err(msg) => {
                    diags.error(at(1), msg);
                    continue;
                }
            },
            (Layout::Columns(cols), Some(d)) => {
                let mut rdr = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .delimiter(d)
                    .flexible(true)
                    .from_reader(line.as_bytes());
                if !matches!(rdr.read_record(&mut csv_line), Ok(true)) {
                    diags.error(at(1), "cannot read this record; expected delimited text");
                    continue;
                }
                cols.iter()
                    .map(|c| c.and_then(|i| csv_line.get(i)).unwrap_or("").to_string())
                    .collect()
            }
            (Layout::Columns(_), None) => unreachable!("a delimited layout has a delimiter"),
        };
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        match parse(refs, catalog) {
            Ok(Parsed::Result(rec)) => {
                let source = Source {
                    path,
                    file,
                    line: number,
                };
                if record::add(&source, *rec, data, schools, diags) {
                    added += 1;
                }
            }
            Ok(Parsed::Enrolled(ssid, first, last)) => {
                data.upsert_student(ssid, first, last);
            }
            Err(errors) => {
                for (f, expected) in errors {
                    let (col, name) = place(&layout, f);
                    diags.error(at(col), format!("{name}: expected {expected}"));
                }
            }
        }
    }
    added
}

/// The column (or character) where field `f` starts, and how to name it.
fn place(layout: &Layout, f: F) -> (usize, String) {
    let &(_, number, start, end, names) = &FIELDS[f as usize];
    match layout {
        Layout::Fixed => (
            start,
            format!("{} (field {number}, characters {start}–{end})", names[0]),
        ),
        Layout::Columns(cols) => {
            let col = cols[f as usize].map_or(1, |c| c + 1);
            (
                col,
                format!("{} (column {})", names[0], column_letters(col as u64)),
            )
        }
    }
}

/// Finds each field's column by its header name; the fields every report
/// needs must be there, and the others a file lacks are one warning.
fn columns(
    path: &Path,
    first: &str,
    delim: u8,
    diags: &mut Diagnostics,
) -> Option<Vec<Option<usize>>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delim)
        .from_reader(first.as_bytes());
    let mut header = csv::StringRecord::new();
    rdr.read_record(&mut header).ok()?;
    let keys: Vec<String> = header.iter().map(key).collect();
    let cols: Vec<Option<usize>> = FIELDS
        .iter()
        .map(|(_, _, _, _, names)| {
            let want = spellings(names);
            keys.iter().position(|k| want.contains(k))
        })
        .collect();
    let missing = |required: bool| -> Vec<&str> {
        FIELDS
            .iter()
            .zip(&cols)
            .filter(|((f, ..), c)| c.is_none() && REQUIRED.contains(f) == required)
            .map(|((.., names), _)| names[0])
            .collect()
    };
    let (needed, optional) = (missing(true), missing(false));
    if !needed.is_empty() {
        diags.error(
            Location::at(path, 1, 1),
            format!(
                "the header lacks the Student Score Data File fields every report needs: {}",
                needed.join(", ")
            ),
        );
        return None;
    }
    if !optional.is_empty() {
        diags.warn(
            Location::at(path, 1, 1),
            format!(
                "the header lacks these Student Score Data File fields, so their values are unknown for this file's results: {}",
                optional.join(", ")
            ),
        );
    }
    Some(cols)
}

/// A fixed-width record's cells, by field.
fn fixed_cells(line: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() != RECORD || !line.ends_with("ZZ") {
        return Err(format!(
            "a record of {} characters; expected {RECORD} ending in ZZ, as every fixed-width Student Score Data File record",
            chars.len()
        ));
    }
    Ok(FIELDS
        .iter()
        .map(|&(_, _, start, end, _)| chars[start - 1..end].iter().collect())
        .collect())
}

/// One record as a result, or an enrolled student without one.
fn parse<'a>(cells: Vec<&'a str>, catalog: &Catalog) -> Result<Parsed<'a>, Vec<(F, Expected)>> {
    let mut c = Cells {
        cells,
        errors: Vec::new(),
    };
    let ssid = c.parse(F::Ssid, values::id);
    let test = c.parse(F::RecordType, |t| {
        TESTS.iter().find(|(code, ..)| *code == t).ok_or_else(|| {
            format!("a CAASPP Record Type (01 SB ELA, 02 SB math, 03 CAA ELA, 04 CAA math, 05 CAA Science, 06 CAST, 09 CSA), found `{t}`")
        })
    });
    let level = c.parse(F::Level, |t| match t {
        "" | "9" => Ok(None),
        _ => values::level(t),
    });
    let scale = c.parse(F::Scale, values::number).flatten();
    let (Some(ssid), Some(&(_, subject, name)), Some(level)) = (ssid, test, level) else {
        return Err(c.errors);
    };
    if scale.is_none() && level.is_none() {
        return Ok(Parsed::Enrolled(ssid, c.get(F::First), c.get(F::Last)));
    }
    let family = c.parse(F::RecordType, |_| {
        catalog
            .family_for(subject, Kind::Summative)
            .ok_or(format!("a family for {subject} in the catalog"))
    });
    let grade = c.parse(F::Grade, values::grade);
    let completed = c.parse(F::Completed, |t| {
        values::date(t)?.ok_or_else(|| "the date of a scored result (YYYY-MM-DD)".to_string())
    });
    let completeness = c.parse(F::Attempted, |t| match t {
        "Y" => Ok(Completeness::Complete),
        "P" | "N" => Ok(Completeness::Partial),
        "" => Ok(Completeness::NotReported),
        _ => Err(format!("Y, P, N or blank, found `{t}`")),
    });
    let condition = c.parse(F::ScoreStatus, |t| match t {
        "V" => Ok(AdminCondition::Valid),
        "I" => Ok(AdminCondition::Invalid),
        "" => Ok(AdminCondition::NotReported),
        _ => Err(format!("V, I or blank, found `{t}`")),
    });
    let sem = c.parse(F::Sem, values::number).flatten();
    let band = (
        c.parse(F::BandMin, values::number).flatten(),
        c.parse(F::BandMax, values::number).flatten(),
    );
    let domains = [F::Domain1, F::Domain2, F::Domain3].map(|f| c.parse(f, values::level).flatten());
    let demographics = demographics(&mut c);
    let (Some(family), Some(grade), Some(completed), Some(completeness), Some(condition)) =
        (family, grade, completed, completeness, condition)
    else {
        return Err(c.errors);
    };
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let school_year = completed.year() as u16 + u16::from(completed.month() >= 7);
    let mut claims = [None; 6];
    claims[..3].copy_from_slice(&domains);
    let text = |f: F| values::opt(c.get(f));
    Ok(Parsed::Result(Box::new(Record {
        district_id: c.get(F::LeaCode),
        district_name: c.get(F::LeaName),
        nces: "",
        school_id: c.get(F::SchoolCode),
        school_name: c.get(F::SchoolName),
        ssid,
        first: c.get(F::First),
        last: c.get(F::Last),
        submitted: completed.and_hms_opt(0, 0, 0).unwrap_or_default(),
        school_year,
        session: "",
        family,
        assessment_name: assessment_name(grade, name),
        grade,
        completeness,
        condition,
        overall: Score {
            level,
            scale,
            se: sem.or(band.0.zip(band.1).map(|(lo, hi)| (hi - lo) / 2.0)),
        },
        alts: [Score::default(); 6],
        claims,
        demographics,
        language: c.get(F::Language),
        language_alt: "",
        accommodations: "",
        official: Some(OfficialText {
            condition_code: text(F::ConditionCode),
            include: text(F::Include),
            measure: text(F::Measure),
        }),
    })))
}

/// The assessment's name as CERS writes it: `Grade 5 ELA Summative`.
fn assessment_name(grade: Grade, test: &str) -> std::borrow::Cow<'static, str> {
    format!("Grade {grade} {test} Summative").into()
}

/// The student's demographics as the file gives them for testing.
fn demographics(c: &mut Cells) -> Demographics {
    let mut demo = Demographics::default();
    for (flag, f) in [
        (Flag::Hispanic, F::Hispanic),
        (Flag::AmericanIndian, F::AmericanIndian),
        (Flag::Asian, F::Asian),
        (Flag::PacificIslander, F::Pacific),
        (Flag::Filipino, F::Filipino),
        (Flag::Black, F::Black),
        (Flag::White, F::White),
        (Flag::TwoOrMoreRaces, F::TwoOrMore),
        (Flag::Section504, F::Section504),
        (Flag::Iep, F::Iep),
        (Flag::Migrant, F::Migrant),
        (Flag::Lep, F::ElStatus),
        (Flag::Military, F::Military),
        (Flag::EconomicDisadvantage, F::Economic),
    ] {
        c.flag(&mut demo, flag, f);
    }
    demo.sex = c
        .parse(F::Gender, |t| {
            values::opt(t)
                .map(|t| Sex::parse(t).ok_or(format!("F, M, X or blank, found `{t}`")))
                .transpose()
        })
        .flatten();
    demo.elas = c
        .parse(F::Elas, |t| {
            values::opt(t)
                .map(|t| {
                    Elas::parse(t).ok_or(format!(
                        "EO, IFEP, EL, RFEP, TBD, ADEL or blank, found `{t}`"
                    ))
                })
                .transpose()
        })
        .flatten();
    demo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_in_enum_order_and_inside_a_record() {
        for (i, &(f, _, start, end, _)) in FIELDS.iter().enumerate() {
            assert_eq!(f as usize, i, "{f:?}");
            assert!(start <= end && end < RECORD - 1, "{f:?}");
        }
        assert!(
            FIELDS.windows(2).all(|w| w[0].3 < w[1].2),
            "in record order"
        );
    }

    #[test]
    fn header_names_long_and_run_together() {
        let ssid = spellings(FIELDS[F::Ssid as usize].4);
        for name in [
            "Statewide Student Identifier (SSID)",
            "StatewideStudentIdentifier",
            "SSID",
        ] {
            assert!(ssid.contains(&key(name)), "{name}");
        }
        assert_eq!(
            delimiter("Record Type^Statewide Student Identifier (SSID)"),
            Some(b'^')
        );
        assert_eq!(delimiter("RecordType,SSID"), Some(b','));
        assert_eq!(delimiter("DistrictId,SchoolId"), None);
    }
}
