//! TOMS Student Score Data Files, as the CDE's Student Data File Layouts
//! give them: the CAASPP file (Smarter Balanced ELA and mathematics, the
//! CAAs, CAST and CSA; 2021–22 layout) and the Summative ELPAC file
//! (2020–21 layout). Each is fixed-width (records of 4,037 and 3,968
//! characters that end in `ZZ`) or caret-, comma- or tab-delimited with a
//! header of the layout's field names, long (`Statewide Student Identifier
//! (SSID)`) or short (`SSID`, `StudentLastName`). The fields read keep
//! their places in the other years' layouts, where new fields replace blank
//! ones.
//!
//! A record without a scale score or level (not tested: `NT`, `PGE`, `NS`
//! …) is a student expected to test, not a result: it is kept as an
//! [`Untested`](crate::model::Untested) record, dated by the file's scored
//! records, for the participation rate.

mod layouts;

use super::record::{self, Known, OfficialText, Recent, Record, Shown, Source, Unscored};
use super::values::{self, Expected};
use super::{
    institutions::{Place, Schools},
    lines, BATCH,
};
use crate::catalog::{Catalog, Kind};
use crate::diag::{column_letters, Diagnostics, Location};
use crate::model::{
    AdminCondition, Completeness, Dataset, Demographics, Elas, Flag, Grade, Score, Sex,
};
use chrono::Datelike;
use layouts::{Spec, F, FIELD_COUNT, SPECS};
use rayon::prelude::*;
use std::io::{BufRead, Read};
use std::path::Path;

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

/// The header cells of a delimited file's first line.
fn header_cells(first: &str, delim: u8) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delim)
        .from_reader(first.as_bytes());
    let mut header = csv::StringRecord::new();
    match rdr.read_record(&mut header) {
        Ok(true) => header.iter().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Where each of `spec`'s fields is in a delimited header, by name.
fn find_columns(spec: &Spec, header: &[String]) -> Vec<Option<usize>> {
    let keys: Vec<String> = header.iter().map(|h| key(h)).collect();
    spec.fields
        .iter()
        .map(|(.., names)| {
            let want = spellings(names);
            keys.iter().position(|k| want.contains(k))
        })
        .collect()
}

/// The layout of a file from its first line: a long record that starts
/// with one of a layout's record types and then digits (the SSID or UIN),
/// or a delimited header that starts with Record Type and names the SSID,
/// matched to the layout whose fields it names most.
fn spec_of(first: &str) -> Option<&'static Spec> {
    if let Some(d) = delimiter(first) {
        let header = header_cells(first, d);
        let ssid = spellings(&["Statewide Student Identifier (SSID)"]);
        if !header.iter().any(|h| ssid.contains(&key(h))) {
            return None;
        }
        return SPECS
            .into_iter()
            .max_by_key(|spec| find_columns(spec, &header).iter().flatten().count());
    }
    let digits = first.len() > 2000 && first.as_bytes()[2..12].iter().all(u8::is_ascii_digit);
    SPECS
        .into_iter()
        .find(|spec| digits && spec.tests.iter().any(|(code, ..)| first.starts_with(code)))
}

/// True when the first line `first` is a Student Score Data File's.
pub fn recognises(first: &str) -> bool {
    spec_of(first).is_some()
}

/// Where each field is in a file: a character range, or a column.
enum Layout {
    Fixed,
    Columns(Vec<Option<usize>>),
}

/// One record's cells, by field ([`F`]); blank where the layout has none.
struct Cells<'a> {
    cells: [&'a str; FIELD_COUNT],
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

    /// A score cell: blank, `NS` (no score) and a level 9 are none.
    fn score<T>(
        &mut self,
        f: F,
        p: impl FnOnce(&'a str) -> Result<Option<T>, Expected>,
    ) -> Option<T> {
        self.parse(f, |t| match t {
            "" | "NS" => Ok(None),
            "9" if matches!(f, F::Level) => Ok(None),
            _ => p(t),
        })
        .flatten()
    }
}

/// What one record is.
enum Parsed<'a> {
    Result(Box<Record<'a>>),
    /// Listed without a score: who was expected to test.
    Untested(Box<Unscored<'a>>),
    /// Listed without a score or a grade: (SSID, first, last).
    Enrolled(&'a str, &'a str, &'a str),
}

/// The records of a file after its first line: each line's cells in the
/// order of its layout's fields, with its line number.
enum Records<R: BufRead> {
    Fixed(std::io::Lines<R>, u64),
    Delimited(csv::Reader<R>, Vec<Option<usize>>, csv::StringRecord),
}

impl<R: BufRead> Records<R> {
    /// The next record: its line and cells, or its line and what is wrong.
    fn next(&mut self, spec: &Spec) -> Option<(u64, Result<Vec<String>, String>)> {
        match self {
            Records::Fixed(lines, n) => loop {
                *n += 1;
                match lines.next()? {
                    Err(e) => {
                        return Some((
                            *n,
                            Err(format!("cannot read this line: {e}; expected UTF-8 text")),
                        ))
                    }
                    Ok(line) if line.trim().is_empty() => continue,
                    Ok(line) => return Some((*n, fixed_cells(spec, &line))),
                }
            },
            Records::Delimited(rdr, cols, record) => loop {
                match rdr.read_record(record) {
                    Ok(false) => return None,
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line()) + 1;
                        return Some((
                            line,
                            Err(format!(
                                "cannot read this record: {e}; expected delimited UTF-8 text"
                            )),
                        ));
                    }
                    Ok(true) if record.iter().all(|c| c.trim().is_empty()) => continue,
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| p.line()) + 1;
                        let cells = cols
                            .iter()
                            .map(|c| c.and_then(|i| record.get(i)).unwrap_or("").to_string())
                            .collect();
                        return Some((line, Ok(cells)));
                    }
                }
            },
        }
    }
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
    let mut input = std::io::BufReader::with_capacity(1 << 16, lines::Lf::new(reader));
    let mut first = String::new();
    if input.read_line(&mut first).is_err() {
        return 0;
    }
    let first = first
        .trim_end_matches('\n')
        .trim_start_matches('\u{feff}')
        .to_string();
    let Some(spec) = spec_of(&first) else {
        return 0;
    };
    let file = data.file_index(path);
    let (mut records, layout) = match delimiter(&first) {
        Some(d) => {
            let Some(cols) = columns(path, spec, &header_cells(&first, d), diags) else {
                return 0;
            };
            let rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .delimiter(d)
                .flexible(true)
                .from_reader(std::io::Cursor::new(String::new()).chain(input));
            (
                Records::Delimited(rdr, cols.clone(), csv::StringRecord::new()),
                Layout::Columns(cols),
            )
        }
        None if first.chars().count() != spec.length => {
            diags.error(
                Location::at(path, 1, 1),
                format!(
                    "a fixed-width {} Student Score Data File with records of {} characters; expected {} (the {} layout). \
                     Other years' fixed-width layouts place fields elsewhere: load the caret-delimited file from the same TOMS download, which is read by field name in any year",
                    spec.name,
                    first.chars().count(),
                    spec.length,
                    spec.year,
                ),
            );
            return 0;
        }
        None => {
            // The first line is a record: read it again with the rest.
            let lines = std::io::Cursor::new(format!("{first}\n"))
                .chain(input)
                .lines();
            (Records::Fixed(lines, 0), Layout::Fixed)
        }
    };
    let (exams_from, untested_from) = (data.exams.len(), data.untested.len());
    let mut added = 0;
    let mut batch: Vec<(u64, Vec<String>)> = Vec::with_capacity(BATCH);
    loop {
        batch.clear();
        while batch.len() < BATCH {
            match records.next(spec) {
                None => break,
                Some((line, Ok(cells))) => batch.push((line, cells)),
                Some((line, Err(msg))) => diags.error(Location::at(path, line, 1), msg),
            }
        }
        if batch.is_empty() {
            break;
        }
        added += add_batch(
            path, file, spec, &layout, &batch, catalog, data, schools, diags,
        );
    }
    date_untested(path, data, exams_from, untested_from, diags);
    added
}

/// Gives the untested records read from `untested_from` on the school year
/// of the file's latest scored record (a file is one administration; a
/// grade 12 student's CAST record of an earlier year is older). With no
/// scored record to date them, they are dropped with a warning.
fn date_untested(
    path: &Path,
    data: &mut Dataset,
    exams_from: usize,
    untested_from: usize,
    diags: &mut Diagnostics,
) {
    let untested = data.untested.len() - untested_from;
    if untested == 0 {
        return;
    }
    match data.exams[exams_from..].iter().map(|x| x.school_year).max() {
        Some(year) => {
            for u in &mut data.untested[untested_from..] {
                u.school_year = year;
            }
        }
        None => {
            data.untested.truncate(untested_from);
            diags.warn(
                Location::at(path, 1, 1),
                format!(
                    "{untested} records without a score, and none with one to tell the school year they are for; \
                     they are left out of participation rates (load the file with its scored records)"
                ),
            );
        }
    }
}

/// Parses a batch of records in parallel, then adds them in file order.
#[allow(clippy::too_many_arguments)]
fn add_batch(
    path: &Path,
    file: u32,
    spec: &Spec,
    layout: &Layout,
    batch: &[(u64, Vec<String>)],
    catalog: &Catalog,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> u64 {
    let parsed: Vec<_> = batch
        .par_iter()
        .map_init(Recent::default, |recent, (_, cells)| {
            let mut by_field = [""; FIELD_COUNT];
            for ((f, ..), cell) in spec.fields.iter().zip(cells) {
                by_field[*f as usize] = cell;
            }
            let parsed = parse(spec, by_field, catalog);
            let known = match &parsed {
                Ok(Parsed::Result(rec)) => Known::of(rec, data, recent),
                _ => Known::default(),
            };
            (parsed, known)
        })
        .collect();
    let mut added = 0;
    for ((line, _), (result, known)) in batch.iter().zip(parsed) {
        match result {
            Ok(Parsed::Result(rec)) => {
                let source = Source {
                    path,
                    file,
                    line: *line,
                };
                if record::add(&source, *rec, known, data, schools, diags) {
                    added += 1;
                }
            }
            Ok(Parsed::Untested(row)) => {
                let source = Source {
                    path,
                    file,
                    line: *line,
                };
                record::add_untested(&source, *row, data, schools, diags);
            }
            Ok(Parsed::Enrolled(ssid, first, last)) => {
                data.upsert_student(ssid, first, last);
            }
            Err(errors) => {
                for (f, expected) in errors {
                    let (col, name) = place(spec, layout, f);
                    diags.error(
                        Location::at(path, *line, col as u64),
                        format!("{name}: expected {expected}"),
                    );
                }
            }
        }
    }
    added
}

/// The column (or character) where field `f` starts, and how to name it.
fn place(spec: &Spec, layout: &Layout, f: F) -> (usize, String) {
    let Some(i) = spec.fields.iter().position(|(g, ..)| *g == f) else {
        return (1, format!("{f:?}"));
    };
    let (_, number, start, end, names) = spec.fields[i];
    match layout {
        Layout::Fixed => (
            start,
            format!("{} (field {number}, characters {start}–{end})", names[0]),
        ),
        Layout::Columns(cols) => {
            let col = cols[i].map_or(1, |c| c + 1);
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
    spec: &Spec,
    header: &[String],
    diags: &mut Diagnostics,
) -> Option<Vec<Option<usize>>> {
    let cols = find_columns(spec, header);
    let missing = |required: bool| -> Vec<&str> {
        spec.fields
            .iter()
            .zip(&cols)
            .filter(|((f, ..), c)| c.is_none() && spec.required.contains(f) == required)
            .map(|((.., names), _)| names[0])
            .collect()
    };
    let (needed, optional) = (missing(true), missing(false));
    if !needed.is_empty() {
        diags.error(
            Location::at(path, 1, 1),
            format!(
                "the header lacks the {} Student Score Data File fields every report needs: {}",
                spec.name,
                needed.join(", ")
            ),
        );
        return None;
    }
    if !optional.is_empty() {
        diags.warn(
            Location::at(path, 1, 1),
            format!(
                "the header lacks these {} Student Score Data File fields, so their values are unknown for this file's results: {}",
                spec.name,
                optional.join(", ")
            ),
        );
    }
    Some(cols)
}

/// A fixed-width record's cells, in the order of `spec`'s fields.
fn fixed_cells(spec: &Spec, line: &str) -> Result<Vec<String>, String> {
    if line.is_ascii() && line.len() == spec.length && line.ends_with("ZZ") {
        return Ok(spec
            .fields
            .iter()
            .map(|&(_, _, start, end, _)| line[start - 1..end].to_string())
            .collect());
    }
    let chars: Vec<char> = line.chars().collect();
    if chars.len() != spec.length || !line.ends_with("ZZ") {
        return Err(format!(
            "a record of {} characters; expected {} ending in ZZ, as every fixed-width {} Student Score Data File record",
            chars.len(),
            spec.length,
            spec.name
        ));
    }
    Ok(spec
        .fields
        .iter()
        .map(|&(_, _, start, end, _)| chars[start - 1..end].iter().collect())
        .collect())
}

/// One record as a result, or an enrolled student without one.
fn parse<'a>(
    spec: &Spec,
    cells: [&'a str; FIELD_COUNT],
    catalog: &Catalog,
) -> Result<Parsed<'a>, Vec<(F, Expected)>> {
    let mut c = Cells {
        cells,
        errors: Vec::new(),
    };
    let ssid = c.parse(F::Ssid, values::id);
    let test = c.parse(F::RecordType, |t| {
        spec.tests
            .iter()
            .find(|(code, ..)| *code == t)
            .ok_or_else(|| {
                let codes: Vec<String> = spec
                    .tests
                    .iter()
                    .map(|(code, _, name)| format!("{code} {name}"))
                    .collect();
                format!(
                    "a {} Record Type ({}), found `{t}`",
                    spec.name,
                    codes.join(", ")
                )
            })
    });
    let level = c.score(F::Level, values::level);
    let scale = c.score(F::Scale, values::number);
    let (Some(ssid), Some(&(_, subject, name))) = (ssid, test) else {
        return Err(c.errors);
    };
    let family = c.parse(F::RecordType, |_| {
        catalog
            .family_for(subject, Kind::Summative)
            .ok_or(format!("a family for {subject} in the catalog"))
    });
    if scale.is_none() && level.is_none() {
        return unscored(c, ssid, family);
    }
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
    let sem = c.score(F::Sem, values::number);
    let band = (
        c.score(F::BandMin, values::number),
        c.score(F::BandMax, values::number),
    );
    let domains =
        [F::Domain1, F::Domain2, F::Domain3, F::Domain4].map(|f| c.score(f, values::level));
    let composites = [
        (F::OralLevel, F::OralScale, F::OralSem),
        (F::WrittenLevel, F::WrittenScale, F::WrittenSem),
    ]
    .map(|(l, s, e)| Score {
        level: c.score(l, values::level),
        scale: c.score(s, values::number),
        se: c.score(e, values::number),
    });
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
    claims[..4].copy_from_slice(&domains);
    let mut alts = [Score::default(); 6];
    alts[..2].copy_from_slice(&composites);
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
        family,
        assessment_name: assessment_name(grade, name),
        assessment_grade: None,
        shown: Shown {
            submitted: completed.and_hms_opt(0, 0, 0).unwrap_or_default(),
            school_year,
            session: "",
            grade,
            completeness,
            condition,
            overall: Score {
                level,
                scale,
                se: sem.or(band.0.zip(band.1).map(|(lo, hi)| (hi - lo) / 2.0)),
            },
            alts,
            claims,
            demographics,
            language: c.get(F::Language),
            language_alt: "",
            accommodations: "".into(),
        },
        official: Some(OfficialText {
            condition_code: text(F::ConditionCode),
            include: text(F::Include),
            measure: text(F::Measure),
        }),
    })))
}

/// A record without a score: an untested student, or (without a grade)
/// only a student.
fn unscored<'a>(
    mut c: Cells<'a>,
    ssid: &'a str,
    family: Option<usize>,
) -> Result<Parsed<'a>, Vec<(F, Expected)>> {
    if c.get(F::Grade).is_empty() {
        return match c.errors.is_empty() {
            true => Ok(Parsed::Enrolled(ssid, c.get(F::First), c.get(F::Last))),
            false => Err(c.errors),
        };
    }
    let grade = c.parse(F::Grade, values::grade);
    let demographics = demographics(&mut c);
    let (Some(family), Some(grade), true) = (family, grade, c.errors.is_empty()) else {
        return Err(c.errors);
    };
    let text = |f: F| values::opt(c.get(f));
    Ok(Parsed::Untested(Box::new(Unscored {
        place: Place {
            district_id: c.get(F::LeaCode),
            district_name: c.get(F::LeaName),
            school_id: c.get(F::SchoolCode),
            school_name: c.get(F::SchoolName),
        },
        ssid,
        first: c.get(F::First),
        last: c.get(F::Last),
        family,
        grade,
        official: OfficialText {
            condition_code: text(F::ConditionCode),
            include: text(F::Include),
            measure: None,
        },
        demographics,
    })))
}

/// The assessment's name as CERS writes it: `Grade 5 ELA Summative`,
/// `Kindergarten ELPAC Summative`.
fn assessment_name(grade: Grade, test: &str) -> std::borrow::Cow<'static, str> {
    match grade {
        Grade::K => format!("Kindergarten {test} Summative"),
        _ => format!("Grade {grade} {test} Summative"),
    }
    .into()
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
    fn fields_lie_inside_a_record_in_order() {
        for spec in SPECS {
            for &(f, _, start, end, _) in spec.fields {
                assert!(
                    start <= end && end < spec.length - 1,
                    "{}: {f:?}",
                    spec.name
                );
            }
            assert!(
                spec.fields.windows(2).all(|w| w[0].3 < w[1].2),
                "{}",
                spec.name
            );
            assert!(spec
                .required
                .iter()
                .all(|r| spec.fields.iter().any(|f| f.0 == *r)));
        }
    }

    #[test]
    fn header_names_long_and_run_together() {
        let ssid = spellings(layouts::CAASPP.fields[F::Ssid as usize].4);
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
