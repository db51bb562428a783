//! The CERS District/School Export (59 and 64 columns; CERS Data Dictionary V2).
//!
//! Records are read in batches; each batch's cells are parsed in parallel (rayon)
//! and then added to the dataset in file order, so memory stays bounded by the
//! dataset itself and output does not depend on thread timing.

use super::cers_cells;
pub use super::cers_columns::{
    columns_64, flag_column, is_roster, recognises, COLUMNS_59, COLUMNS_64_EXTRA,
};
use super::cers_columns::{known, Columns};
use super::institutions::Schools;
use super::record::{self, Known, Recent, Record, Shown, Source};
use super::values::{self, Expected};
use super::BATCH;
use crate::catalog::{Catalog, Kind, Level};
use crate::diag::{column_letters, Diagnostics, Location};
use crate::model::{Dataset, Demographics, Elas, Flag, Score, Sex, Sym, RACE_FLAGS};
use rayon::prelude::*;
use std::path::Path;

/// The place of a known column (see [`known`]), found when compiling.
macro_rules! col {
    ($name:literal) => {
        const { known($name) }
    };
}

/// NcesId in the 64-column layout.
pub const NCES_ID: usize = 2;
/// FirstName and LastOrSurname in the 64-column layout.
pub const FIRST_NAME: usize = 6;
pub const LAST_NAME: usize = 7;
/// Both name cells (bit `i` for column `i`).
const NAMES: u64 = 1 << FIRST_NAME | 1 << LAST_NAME;

/// Where each race flag's column is among the known ones.
const RACE_COLUMNS: [usize; RACE_FLAGS.len()] = {
    let mut at = [0; RACE_FLAGS.len()];
    let mut i = 0;
    while i < at.len() {
        at[i] = known(RACE_FLAGS[i].1);
        i += 1;
    }
    at
};

/// A cell that failed to parse: field position and what was expected.
struct CellError {
    field: usize,
    expected: Expected,
}

/// Reads the cells of one record; collects every bad cell rather than stopping at the first.
struct Cells<'a> {
    record: &'a csv::StringRecord,
    cols: &'a Columns,
    errors: Vec<CellError>,
}

impl<'a> Cells<'a> {
    /// The cell of the known column at place `column` (see [`col!`]).
    fn raw(&self, column: usize) -> &'a str {
        self.at(self.cols.field(column))
    }

    /// The cell of `field`; blank when the file has no such column.
    fn at(&self, field: Option<usize>) -> &'a str {
        field.and_then(|i| self.record.get(i)).unwrap_or("")
    }

    fn parse<T>(
        &mut self,
        column: usize,
        f: impl FnOnce(&'a str) -> Result<T, Expected>,
    ) -> Option<T> {
        self.parse_at(self.cols.field(column), f)
    }

    fn parse_at<T>(
        &mut self,
        field: Option<usize>,
        f: impl FnOnce(&'a str) -> Result<T, Expected>,
    ) -> Option<T> {
        match f(self.at(field)) {
            Ok(v) => Some(v),
            Err(expected) => {
                self.errors.push(CellError {
                    field: field.unwrap_or(0),
                    expected,
                });
                None
            }
        }
    }

    /// A level of one of `levels`, number or label.
    fn level(&mut self, field: Option<usize>, levels: &[Level]) -> Option<u8> {
        self.parse_at(field, |t| values::level_named(t, levels))
            .flatten()
    }

    fn score(&mut self, fields: [Option<usize>; 3], levels: &[Level]) -> Score {
        Score {
            level: self.level(fields[0], levels),
            scale: self.parse_at(fields[1], values::number).flatten(),
            se: self.parse_at(fields[2], values::number).flatten(),
        }
    }

    /// A yes/no flag; a column the file lacks leaves it unknown.
    fn flag(&mut self, demo: &mut Demographics, flag: Flag, column: usize, blank_is_no: bool) {
        if self.cols.field(column).is_none() {
            return;
        }
        if let Some(v) = self.parse(column, values::yes_no) {
            demo.set(flag, v.or(blank_is_no.then_some(false)));
        }
    }

    /// The standard error a roster export gives as an error band: half its width.
    fn band(&mut self) -> Option<f32> {
        let min = self.parse(col!("Error Band Min"), values::number).flatten();
        let max = self.parse(col!("Error Band Max"), values::number).flatten();
        Some((max? - min?) / 2.0)
    }
}

/// The catalog family of a row, from Subject, AssessmentType/SubType and the name.
fn family_of(
    catalog: &Catalog,
    subject: &str,
    kind: &str,
    sub_kind: &str,
    name: &str,
) -> Result<usize, Expected> {
    let code = if sub_kind.trim().is_empty() {
        kind
    } else {
        sub_kind
    }
    .trim();
    let is = |s: &str| code.eq_ignore_ascii_case(s);
    let focused = name.contains("FIAB")
        || (name.as_bytes().windows(7)).any(|w| w.eq_ignore_ascii_case(b"focused"));
    let interim = is("IAB") || is("INTERIM");
    let candidates: &[Kind] = if is("SUM") || is("SUMMATIVE") {
        &[Kind::Summative]
    } else if is("ICA") {
        &[Kind::Ica, Kind::Interim]
    } else if interim && focused {
        &[Kind::Fiab, Kind::Iab, Kind::Interim]
    } else if interim {
        &[Kind::Iab, Kind::Interim]
    } else {
        return Err(format!(
            "AssessmentSubType SUM, ICA or IAB, found `{}`",
            code.to_ascii_uppercase()
        ));
    };
    candidates.iter().find_map(|&k| catalog.family_for(subject.trim(), k)).ok_or_else(|| {
        format!("a Subject the catalog has for {} (ELA, Math, CAAELA, CAAMATH, CAASCI, CAST, CSA, ELPAC, ALTELPAC), found `{}`", code.to_ascii_uppercase(), subject.trim())
    })
}

/// What a row's cells parse to, but for its text (ids, names, session,
/// languages, accommodations), which [`Values::record`] takes from the row
/// when it is added: holding no borrow of the row, a batch's values are
/// parsed while the batch before it is added.
struct Values {
    submitted: chrono::NaiveDateTime,
    school_year: u16,
    family: usize,
    grade: crate::model::Grade,
    completeness: crate::model::Completeness,
    condition: crate::model::AdminCondition,
    overall: Score,
    alts: [Score; 6],
    claims: [Option<u8>; 6],
    demographics: Demographics,
    /// The cells (bit `i` for column `i` of the 64-column layout) the
    /// export would not write back as they came in, among those not
    /// [`cers_cells::DECIDED_ELSEWHERE`].
    differs: u64,
}

impl Values {
    /// The record of `row`, whose cells parsed to these values.
    fn record<'a>(&self, row: &'a csv::StringRecord, cols: &Columns) -> Record<'a> {
        let text = |column: usize| text(row, cols, column);
        let id = |column: usize| if cols.roster { "" } else { text(column) };
        Record {
            district_id: id(col!("DistrictId")),
            district_name: text(col!("DistrictName")),
            nces: text(col!("NcesId")),
            school_id: id(col!("SchoolId")),
            school_name: text(col!("SchoolName")),
            ssid: text(col!("StudentIdentifier")),
            first: text(col!("FirstName")),
            last: text(col!("LastOrSurname")),
            family: self.family,
            assessment_name: text(col!("AssessmentName")).into(),
            assessment_grade: None,
            shown: self.shown(row, cols),
            official: None,
        }
    }

    /// What `row`, whose cells parsed to these values, shows of its result.
    fn shown<'a>(&self, row: &'a csv::StringRecord, cols: &Columns) -> Shown<'a> {
        let text = |column: usize| text(row, cols, column);
        Shown {
            submitted: self.submitted,
            school_year: self.school_year,
            session: text(col!("TestSessionId")),
            grade: self.grade,
            completeness: self.completeness,
            condition: self.condition,
            overall: self.overall,
            alts: self.alts,
            claims: self.claims,
            demographics: self.demographics,
            language: text(col!("LanguageCode")),
            language_alt: text(col!("LanguageAltCode")),
            accommodations: text(col!("AssignedAccommodationList")).into(),
        }
    }
}

/// The cell of `record` in the known column at place `column` (see
/// [`col!`]), trimmed; blank when the file has no such column.
fn text<'a>(record: &'a csv::StringRecord, cols: &Columns, column: usize) -> &'a str {
    values::trim(cols.field(column).and_then(|f| record.get(f)).unwrap_or(""))
}

/// The values of `record`'s cells, or every cell that does not parse.
fn parse_row(
    record: &csv::StringRecord,
    cols: &Columns,
    catalog: &Catalog,
) -> Result<Values, Vec<CellError>> {
    let mut c = Cells {
        record,
        cols,
        errors: Vec::new(),
    };
    // Ids are checked here and taken by `Values::record`. A roster export
    // names the school only by name.
    if !cols.roster {
        c.parse(col!("DistrictId"), values::id);
        c.parse(col!("SchoolId"), values::id);
    }
    c.parse(col!("StudentIdentifier"), values::id);
    if values::is_excel_mangled(c.raw(col!("NcesId"))) {
        c.parse(col!("NcesId"), values::id);
    }
    let submitted = c.parse(col!("SubmitDateTime"), values::datetime);
    let school_year = c.parse(col!("SchoolYear"), values::school_year);
    let (subject, kind, sub_kind, name) = (
        c.raw(col!("Subject")),
        c.raw(col!("AssessmentType")),
        c.raw(col!("AssessmentSubType")),
        c.raw(col!("AssessmentName")),
    );
    let family = c.parse(col!("Subject"), |_| {
        family_of(catalog, subject, kind, sub_kind, name)
    });
    let fam = family.map(|f| &catalog.families[f]);
    let levels = fam.map_or(&[][..], |f| &f.levels[..]);
    let claim_levels = fam
        .and_then(|f| f.claims.as_ref())
        .map_or(&[][..], |c| &c.levels[..]);
    let grade = c.parse(col!("GradeLevelWhenAssessed"), values::grade);
    let (completeness, condition) = if cols.roster {
        c.parse(col!("Status"), values::status).unzip()
    } else {
        (
            c.parse(col!("Completeness"), values::completeness),
            c.parse(col!("AdministrationCondition"), values::condition),
        )
    };
    let field = |at: usize| cols.field(at);
    let mut overall = c.score(
        [
            field(col!("ScaleScoreAchievementLevel")),
            field(col!("ScaleScore")),
            field(col!("ScaleScoreStandardError")),
        ],
        levels,
    );
    if cols.roster {
        // An IAB's level is its Reporting Category; the SE is an error band.
        if overall.level.is_none() {
            overall.level = c.level(field(col!("Reporting Category")), levels);
        }
        overall.se = c.band();
    }
    let scores = cols.scores_for(subject);
    let alts: [Score; 6] = std::array::from_fn(|k| {
        let fields = scores.map_or([None; 3], |s| s.alts[k]);
        c.score(fields, levels)
    });
    let claims: [Option<u8>; 6] = std::array::from_fn(|k| {
        let f = scores.and_then(|s| s.claims[k]);
        c.level(f, claim_levels)
    });
    let mut demo = Demographics::default();
    // Race flags: the dictionary says "Yes, Blank (No)".
    for ((flag, _), column) in RACE_FLAGS.into_iter().zip(RACE_COLUMNS) {
        c.flag(&mut demo, flag, column, true);
    }
    c.flag(&mut demo, Flag::Migrant, col!("MigrantStatus"), false);
    c.flag(&mut demo, Flag::Section504, col!("Section504Status"), false);
    c.flag(&mut demo, Flag::Iep, col!("IDEAIndicator"), false);
    c.flag(&mut demo, Flag::Lep, col!("LEPStatus"), false);
    c.flag(
        &mut demo,
        Flag::Military,
        col!("MilitaryConnectedStudentIndicator"),
        false,
    );
    demo.sex = c
        .parse(col!("Sex"), |s| {
            values::opt(s)
                .map(|t| Sex::parse(t).ok_or(format!("F, M, X or blank, found `{t}`")))
                .transpose()
        })
        .flatten();
    demo.elas = c
        .parse(col!("EnglishLanguageAcquisitionStatus"), |s| {
            values::opt(s)
                .map(|t| {
                    Elas::parse(t).ok_or(format!(
                        "EO, IFEP, EL, RFEP, TBD, ADEL or blank, found `{t}`"
                    ))
                })
                .transpose()
        })
        .flatten();
    demo.elas_start = c
        .parse(
            col!("EnglishLanguageAcquisitionStatusStartDate"),
            values::date,
        )
        .flatten();
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    // Every required cell parsed, so these unwraps of `Some` cannot fail.
    let (
        Some(submitted),
        Some(school_year),
        Some(family),
        Some(grade),
        Some(completeness),
        Some(condition),
    ) = (
        submitted,
        school_year,
        family,
        grade,
        completeness,
        condition,
    )
    else {
        return Err(Vec::new());
    };
    Ok(Values {
        submitted,
        school_year,
        family,
        grade,
        completeness,
        condition,
        overall,
        alts,
        claims,
        demographics: demo,
        differs: 0,
    })
}

/// The cells of `record`, which parsed to `values`, that the export would
/// not write back as they came in, among those its own values decide;
/// `written` is room to write them in.
fn differing(
    record: &csv::StringRecord,
    cols: &Columns,
    values: &Values,
    written: &mut cers_cells::Cells,
) -> u64 {
    written.fill_shown(&values.shown(record, cols));
    written.differing(record, &cols.layout, !cers_cells::DECIDED_ELSEWHERE)
}

/// The longest cell accepted: the longest real one (an accommodation list)
/// is a few hundred bytes; a megabyte cell is a broken file or an attack.
pub const MAX_CELL: usize = 64 * 1024;

/// Reads one export of `size` bytes into `data`; `schools` places each
/// row's school.
pub fn load(
    path: &Path,
    reader: impl std::io::Read + Send,
    size: u64,
    catalog: &Catalog,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> u64 {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut header = csv::StringRecord::new();
    match rdr.read_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return 0,
        Err(e) => {
            diags.error(
                Location::at(path, 1, 1),
                format!("cannot read the header: {e}"),
            );
            return 0;
        }
    }
    let names: Vec<String> = header
        .iter()
        .map(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .trim_matches('"')
                .to_string()
        })
        .collect();
    let Some(cols) = Columns::new(&names, path, diags) else {
        return 0;
    };
    let file = data.file_index(path);
    // A roster export's cells are not the District/School Export's: its
    // results are written back from what was loaded.
    if cols.roster {
        data.rosters.insert(file);
    } else {
        data.export_columns.insert(file, cols.mask());
    }
    // Each batch is read and parsed while the one before it is added.
    let width = names.len();
    let (mut current, mut next) = (Batch::default(), Batch::default());
    let mut more = current.read(&mut rdr, path, width);
    current.parse(&cols, catalog);
    reserve(&mut data.exams, current.filled, rdr.position().byte(), size);
    let mut rows = 0;
    loop {
        let (more_next, added) = rayon::join(
            || {
                let more_next = more && next.read(&mut rdr, path, width);
                if more {
                    next.parse(&cols, catalog);
                }
                more_next
            },
            || {
                add_batch(
                    path,
                    file,
                    &mut current,
                    &cols,
                    catalog,
                    data,
                    schools,
                    diags,
                )
            },
        );
        rows += added;
        for (at, message) in current.problems.drain(..) {
            diags.error(at, message);
        }
        if !more {
            break;
        }
        more = more_next;
        std::mem::swap(&mut current, &mut next);
    }
    rows
}

/// Makes room in `exams` for the rows of a file of `size` bytes, estimated
/// from the `rows` its first `bytes` held, so that a large export's exams
/// are not copied each time their list outgrows its room.
fn reserve(exams: &mut Vec<crate::model::Exam>, rows: usize, bytes: u64, size: u64) {
    if rows > 0 && bytes > 0 {
        exams.reserve((size as f64 * rows as f64 / bytes as f64) as usize);
    }
}

/// Up to [`BATCH`] records of an export, each with its line, the values
/// they parse to, and the problems of the rows skipped. Records are reused
/// batch after batch, so reading allocates only while the first batches fill.
#[derive(Default)]
struct Batch {
    records: Vec<(u64, csv::StringRecord)>,
    filled: usize,
    parsed: Vec<Result<Values, Vec<CellError>>>,
    problems: Vec<(Location, String)>,
}

impl Batch {
    /// Parses the records read, in parallel.
    fn parse(&mut self, cols: &Columns, catalog: &Catalog) {
        self.records[..self.filled]
            .par_iter()
            .map_init(cers_cells::Cells::default, |written, (_, r)| {
                let mut values = parse_row(r, cols, catalog)?;
                values.differs = differing(r, cols, &values, written);
                Ok(values)
            })
            .collect_into_vec(&mut self.parsed);
    }

    /// Reads the next records of `rdr`, whose header has `width` fields;
    /// false once the file ends or cannot be read further.
    fn read<R: std::io::Read>(
        &mut self,
        rdr: &mut csv::Reader<R>,
        path: &Path,
        width: usize,
    ) -> bool {
        self.filled = 0;
        while self.filled < BATCH {
            if self.filled == self.records.len() {
                self.records.push((0, csv::StringRecord::new()));
            }
            let (line, record) = &mut self.records[self.filled];
            match rdr.read_record(record) {
                Ok(true) => {}
                Ok(false) => return false,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    self.problems.push((
                        Location::at(path, line, 1),
                        format!("cannot read this record: {e}; expected UTF-8 CSV"),
                    ));
                    return false;
                }
            }
            *line = record.position().map(|p| p.line()).unwrap_or(0);
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if let Some(problem) = problem(record, path, *line, width) {
                self.problems.push(problem);
                continue;
            }
            self.filled += 1;
        }
        true
    }
}

/// Why a record is left out, if it is: a cell too long to be real, or the
/// wrong number of fields.
fn problem(
    record: &csv::StringRecord,
    path: &Path,
    line: u64,
    width: usize,
) -> Option<(Location, String)> {
    let long = record.as_slice().len() > MAX_CELL;
    if let Some(f) = long
        .then(|| record.iter().position(|c| c.len() > MAX_CELL))
        .flatten()
    {
        return Some((
            Location::at(path, line, f as u64 + 1),
            format!(
                "a cell of {} bytes; expected at most {MAX_CELL} (is a quote left open?)",
                record[f].len()
            ),
        ));
    }
    (record.len() != width).then(|| {
        (
            Location::at(path, line, record.len() as u64),
            format!("{} fields; expected {width} as in the header", record.len()),
        )
    })
}

/// Adds the rows of `batch`, parsed, to `data` in file order.
#[allow(clippy::too_many_arguments)]
fn add_batch(
    path: &Path,
    file: u32,
    batch: &mut Batch,
    cols: &Columns,
    catalog: &Catalog,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> u64 {
    let values = std::mem::take(&mut batch.parsed);
    let batch = &batch.records[..batch.filled];
    let parsed: Vec<Result<(Record, Known, u64), Vec<CellError>>> = {
        let data = &*data;
        batch
            .par_iter()
            .zip(values)
            .map_init(Recent::default, |last, ((_, r), values)| {
                let values = values?;
                let row = values.record(r, cols);
                let known = Known::of(&row, data, last);
                Ok((row, known, values.differs))
            })
            .collect()
    };
    let first = data.exams.len();
    // The batch's record of each exam added, in order, with its cells
    // found to differ when it was parsed.
    let mut records: Vec<(&csv::StringRecord, u64)> = Vec::with_capacity(batch.len());
    for ((line, record), result) in batch.iter().zip(parsed) {
        match result {
            Ok((row, known, differs)) => {
                let source = Source {
                    path,
                    file,
                    line: *line,
                };
                if record::add(&source, row, known, data, schools, diags) {
                    records.push((record, differs));
                }
            }
            Err(errors) => {
                for e in errors {
                    let col = e.field as u64 + 1;
                    diags.error(
                        Location::at(path, *line, col),
                        format!(
                            "{} (column {}): expected {}",
                            cols.header.get(e.field).map_or("", String::as_str),
                            column_letters(col),
                            e.expected
                        ),
                    );
                }
            }
        }
    }
    keep_raw_cells(&records, first, cols, catalog, data);
    records.len() as u64
}

/// Keeps, for each exam added from `records` (the exams from `first` on),
/// the cells of its row that the District/School Export would not write back
/// as they came in: those found to differ when the row was parsed, and those
/// [`cers_cells::DECIDED_ELSEWHERE`], compared here. Its names are compared
/// with those its student had once the row was read; a later rename is seen
/// to once every file is read (`keep_names_as_read`). The comparison, and
/// the look-up of kept cells already interned, run in parallel; only new
/// cells are interned in order.
fn keep_raw_cells(
    records: &[(&csv::StringRecord, u64)],
    first: usize,
    cols: &Columns,
    catalog: &Catalog,
    data: &mut Dataset,
) {
    let differing: Vec<Vec<(u8, usize, Option<Sym>)>> = {
        let data = &*data;
        let later = data.renames_after(first);
        records
            .par_iter()
            .zip(&data.exams[first..])
            .enumerate()
            .map_init(
                cers_cells::Cells::default,
                |written, (k, ((record, differs), exam))| {
                    written.fill_elsewhere(data, catalog, exam);
                    let mut cells = differs
                        | written.differing(
                            record,
                            &cols.layout,
                            cers_cells::DECIDED_ELSEWHERE & !NAMES,
                        );
                    let names = data.names_then(&later, exam.student, first + k);
                    for (i, name) in [FIRST_NAME, LAST_NAME].into_iter().zip(names) {
                        if cols.layout[i]
                            .and_then(|f| record.get(f))
                            .is_some_and(|c| !crate::model::same(c, name))
                        {
                            cells |= 1 << i;
                        }
                    }
                    (0..64)
                        .filter(|i| cells & (1 << i) != 0)
                        .filter_map(|i| {
                            let f = cols.layout[i]?;
                            let cell = record.get(f)?;
                            Some((i as u8, f, data.strings.find(cell)))
                        })
                        .collect()
                },
            )
            .collect()
    };
    for (((record, _), keep), e) in records.iter().zip(differing).zip(first..) {
        let raw: Box<[(u8, Sym)]> = keep
            .into_iter()
            .map(|(i, f, known)| (i, known.unwrap_or_else(|| data.strings.intern(&record[f]))))
            .collect();
        data.exams[e].raw = raw;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_comes_from_the_sub_type_in_any_case_and_the_name() {
        let catalog = Catalog::load(None).unwrap();
        let kind = |subject: &str, kind: &str, sub: &str, name: &str| {
            family_of(&catalog, subject, kind, sub, name).map(|f| catalog.families[f].kind)
        };
        assert_eq!(kind("ELA", "Summative", "", "x"), Ok(Kind::Summative));
        assert_eq!(kind("ELA", "Interim", " sum ", "x"), Ok(Kind::Summative));
        assert_eq!(kind("Math", "", "ica", "x"), Ok(Kind::Ica));
        assert_eq!(
            kind("Math", "Interim", "IAB", "Grade 5 Fractions"),
            Ok(Kind::Iab)
        );
        assert_eq!(
            kind("Math", "interim", "", "Grade 5 Fractions"),
            Ok(Kind::Iab)
        );
        for name in ["Grade 5 FIAB", "Grade 5 - FOCUSED Block", "focused Read"] {
            assert_eq!(
                kind("ELA", "Interim", "Iab", name),
                Ok(Kind::Fiab),
                "{name}"
            );
        }
        let wrong = kind("ELA", "Interim", "iabx", "x").unwrap_err();
        assert!(wrong.ends_with("found `IABX`"), "{wrong}");
        let subject = kind("Art", "Interim", "ica", "x").unwrap_err();
        assert!(
            subject.starts_with("a Subject the catalog has for ICA ("),
            "{subject}"
        );
    }
}
