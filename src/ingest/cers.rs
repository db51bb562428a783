//! The CERS District/School Export (59 and 64 columns; CERS Data Dictionary V2).
//!
//! Records are read in batches; each batch's cells are parsed in parallel (rayon)
//! and then added to the dataset in file order, so memory stays bounded by the
//! dataset itself and output does not depend on thread timing.

use super::institutions::{Place, Schools};
use super::values::{self, Expected};
use crate::catalog::{Catalog, Kind};
use crate::diag::{column_letters, Diagnostics, Location};
use crate::model::{
    Completeness, Dataset, Demographics, Elas, Exam, Flag, Grade, Origin, Score, Sex, Sym,
    RACE_FLAGS,
};
use chrono::NaiveDateTime;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

/// The columns every CERS export has (the 59-column layout).
pub const COLUMNS_59: &[&str] = &[
    "DistrictId",
    "DistrictName",
    "NcesId",
    "SchoolId",
    "SchoolName",
    "StudentIdentifier",
    "FirstName",
    "LastOrSurname",
    "SubmitDateTime",
    "SchoolYear",
    "TestSessionId",
    "AssessmentType",
    "AssessmentSubType",
    "AssessmentName",
    "Subject",
    "GradeLevelWhenAssessed",
    "Completeness",
    "AdministrationCondition",
    "ScaleScoreAchievementLevel",
    "ScaleScore",
    "ScaleScoreStandardError",
    "Alt1ScoreAchievementLevel",
    "Alt1ScaleScore",
    "Alt1ScaleScoreStandardError",
    "Alt2ScoreAchievementLevel",
    "Alt2ScaleScore",
    "Alt2ScaleScoreStandardError",
    "Alt3ScoreAchievementLevel",
    "Alt3ScaleScore",
    "Alt3ScaleScoreStandardError",
    "Alt4ScoreAchievementLevel",
    "Alt4ScaleScore",
    "Alt4ScaleScoreStandardError",
    "Alt5ScoreAchievementLevel",
    "Alt5ScaleScore",
    "Alt5ScaleScoreStandardError",
    "Alt6ScoreAchievementLevel",
    "Alt6ScaleScore",
    "Alt6ScaleScoreStandardError",
    "Claim1ScoreAchievementLevel",
    "Claim2ScoreAchievementLevel",
    "Claim3ScoreAchievementLevel",
    "Claim4ScoreAchievementLevel",
    "Claim5ScoreAchievementLevel",
    "Claim6ScoreAchievementLevel",
    "MigrantStatus",
    "LanguageCode",
    "LanguageAltCode",
    "EnglishLanguageAcquisitionStatus",
    "EnglishLanguageAcquisitionStatusStartDate",
    "HispanicOrLatinoEthnicity",
    "AmericanIndianOrAlaskaNative",
    "Asian",
    "BlackOrAfricanAmerican",
    "White",
    "NativeHawaiianOrOtherPacificIslander",
    "TwoOrMoreRaces",
    "Filipino",
    "AssignedAccommodationList",
];

/// The five columns the 64-column layout adds.
pub const COLUMNS_64_EXTRA: &[&str] = &[
    "Sex",
    "Section504Status",
    "IDEAIndicator",
    "LEPStatus",
    "MilitaryConnectedStudentIndicator",
];

/// The 64-column layout, in CERS's order.
pub fn columns_64() -> Vec<&'static str> {
    let mut cols = COLUMNS_59.to_vec();
    let at = cols
        .iter()
        .position(|c| *c == "MigrantStatus")
        .unwrap_or(cols.len());
    cols.insert(at, "Sex");
    let at = at + 2;
    for (i, c) in ["Section504Status", "IDEAIndicator", "LEPStatus"]
        .iter()
        .enumerate()
    {
        cols.insert(at + i, c);
    }
    let at = cols
        .iter()
        .position(|c| *c == "LanguageAltCode")
        .unwrap_or(cols.len())
        + 1;
    cols.insert(at, "MilitaryConnectedStudentIndicator");
    cols
}

/// True when a header line looks like a CERS export.
pub fn recognises(header: &[String]) -> bool {
    let has = |name: &str| header.iter().any(|h| h.eq_ignore_ascii_case(name));
    has("StudentIdentifier") && has("AssessmentName") && has("ScaleScore")
}

/// Maps column names to field positions, case-insensitively.
struct Columns {
    index: HashMap<&'static str, usize>,
    /// For each column of the 64-column layout, its field in this file.
    layout: Vec<Option<usize>>,
}

/// The 64-column layout position of the export column that holds `flag`.
pub fn flag_column(flag: Flag) -> Option<usize> {
    let name = match flag {
        Flag::Migrant => "MigrantStatus",
        Flag::Section504 => "Section504Status",
        Flag::Iep => "IDEAIndicator",
        Flag::Lep => "LEPStatus",
        Flag::Military => "MilitaryConnectedStudentIndicator",
        Flag::EconomicDisadvantage => return None,
        race => RACE_FLAGS.iter().find(|(f, _)| *f == race)?.1,
    };
    columns_64().iter().position(|c| *c == name)
}

impl Columns {
    fn new(header: &[String], file: &Path, diags: &mut Diagnostics) -> Option<Columns> {
        let mut index = HashMap::default();
        let mut missing = Vec::new();
        let known: Vec<&'static str> = COLUMNS_59.iter().chain(COLUMNS_64_EXTRA).copied().collect();
        for name in &known {
            match header.iter().position(|h| h.eq_ignore_ascii_case(name)) {
                Some(i) => {
                    index.insert(*name, i);
                }
                None if COLUMNS_64_EXTRA.contains(name) => {}
                None => missing.push(*name),
            }
        }
        for (i, h) in header.iter().enumerate() {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(h)) {
                diags.warn(
                    Location::at(file, 1, i as u64 + 1),
                    format!("column `{h}` is not in the CERS export layout and is ignored"),
                );
            }
        }
        if !missing.is_empty() {
            diags.error(
                Location::at(file, 1, 1),
                format!("the header lacks CERS export columns: {}; expected the 59- or 64-column District/School export layout", missing.join(", ")),
            );
            return None;
        }
        let layout = columns_64().iter().map(|c| index.get(c).copied()).collect();
        Some(Columns { index, layout })
    }

    /// Bit i set when column i of the 64-column layout is in this file.
    fn mask(&self) -> u64 {
        self.layout
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_some())
            .fold(0, |m, (i, _)| m | 1 << i)
    }
}

/// One record's cells, parsed but not yet added to the dataset.
struct Row<'a> {
    district_id: &'a str,
    district_name: &'a str,
    nces: &'a str,
    school_id: &'a str,
    school_name: &'a str,
    ssid: &'a str,
    first: &'a str,
    last: &'a str,
    submitted: NaiveDateTime,
    school_year: u16,
    session: &'a str,
    family: usize,
    assessment_name: &'a str,
    grade: Grade,
    completeness: Completeness,
    condition: crate::model::AdminCondition,
    overall: Score,
    alts: [Score; 6],
    claims: [Option<u8>; 6],
    demographics: Demographics,
    language: &'a str,
    language_alt: &'a str,
    accommodations: &'a str,
}

/// A cell that failed to parse: field position and what was expected.
struct CellError {
    field: usize,
    column: &'static str,
    expected: Expected,
}

/// Reads the cells of one record; collects every bad cell rather than stopping at the first.
struct Cells<'a> {
    record: &'a csv::StringRecord,
    cols: &'a Columns,
    errors: Vec<CellError>,
}

impl<'a> Cells<'a> {
    fn raw(&self, column: &'static str) -> &'a str {
        self.cols
            .index
            .get(column)
            .and_then(|&i| self.record.get(i))
            .unwrap_or("")
    }

    fn parse<T>(
        &mut self,
        column: &'static str,
        f: impl FnOnce(&'a str) -> Result<T, Expected>,
    ) -> Option<T> {
        match f(self.raw(column)) {
            Ok(v) => Some(v),
            Err(expected) => {
                let field = self.cols.index.get(column).copied().unwrap_or(0);
                self.errors.push(CellError {
                    field,
                    column,
                    expected,
                });
                None
            }
        }
    }

    fn score(&mut self, level: &'static str, scale: &'static str, se: &'static str) -> Score {
        Score {
            level: self.parse(level, values::level).flatten(),
            scale: self.parse(scale, values::number).flatten(),
            se: self.parse(se, values::number).flatten(),
        }
    }

    fn flag(
        &mut self,
        demo: &mut Demographics,
        flag: Flag,
        column: &'static str,
        blank_is_no: bool,
    ) {
        if let Some(v) = self.parse(column, values::yes_no) {
            demo.set(flag, v.or(blank_is_no.then_some(false)));
        }
    }
}

const ALT_COLUMNS: [(&str, &str, &str); 6] = [
    (
        "Alt1ScoreAchievementLevel",
        "Alt1ScaleScore",
        "Alt1ScaleScoreStandardError",
    ),
    (
        "Alt2ScoreAchievementLevel",
        "Alt2ScaleScore",
        "Alt2ScaleScoreStandardError",
    ),
    (
        "Alt3ScoreAchievementLevel",
        "Alt3ScaleScore",
        "Alt3ScaleScoreStandardError",
    ),
    (
        "Alt4ScoreAchievementLevel",
        "Alt4ScaleScore",
        "Alt4ScaleScoreStandardError",
    ),
    (
        "Alt5ScoreAchievementLevel",
        "Alt5ScaleScore",
        "Alt5ScaleScoreStandardError",
    ),
    (
        "Alt6ScoreAchievementLevel",
        "Alt6ScaleScore",
        "Alt6ScaleScoreStandardError",
    ),
];
const CLAIM_COLUMNS: [&str; 6] = [
    "Claim1ScoreAchievementLevel",
    "Claim2ScoreAchievementLevel",
    "Claim3ScoreAchievementLevel",
    "Claim4ScoreAchievementLevel",
    "Claim5ScoreAchievementLevel",
    "Claim6ScoreAchievementLevel",
];

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
    .trim()
    .to_ascii_uppercase();
    let focused = name.contains("FIAB") || name.to_ascii_lowercase().contains("focused");
    let candidates: &[Kind] = match code.as_str() {
        "SUM" | "SUMMATIVE" => &[Kind::Summative],
        "ICA" => &[Kind::Ica, Kind::Interim],
        "IAB" | "INTERIM" if focused => &[Kind::Fiab, Kind::Iab, Kind::Interim],
        "IAB" | "INTERIM" => &[Kind::Iab, Kind::Interim],
        _ => return Err(format!("AssessmentSubType SUM, ICA or IAB, found `{code}`")),
    };
    candidates.iter().find_map(|&k| catalog.family_for(subject.trim(), k)).ok_or_else(|| {
        format!("a Subject the catalog has for {code} (ELA, Math, CAAELA, CAAMATH, CAASCI, CAST, CSA, ELPAC, ALTELPAC), found `{}`", subject.trim())
    })
}

fn parse_row<'a>(
    record: &'a csv::StringRecord,
    cols: &'a Columns,
    catalog: &Catalog,
) -> Result<Row<'a>, Vec<CellError>> {
    let mut c = Cells {
        record,
        cols,
        errors: Vec::new(),
    };
    let district_id = c.parse("DistrictId", values::id);
    let school_id = c.parse("SchoolId", values::id);
    let ssid = c.parse("StudentIdentifier", values::id);
    if values::is_excel_mangled(c.raw("NcesId")) {
        c.parse("NcesId", values::id);
    }
    let submitted = c.parse("SubmitDateTime", values::datetime);
    let school_year = c.parse("SchoolYear", values::school_year);
    let (subject, kind, sub_kind, name) = (
        c.raw("Subject"),
        c.raw("AssessmentType"),
        c.raw("AssessmentSubType"),
        c.raw("AssessmentName"),
    );
    let family = c.parse("Subject", |_| {
        family_of(catalog, subject, kind, sub_kind, name)
    });
    let grade = c.parse("GradeLevelWhenAssessed", values::grade);
    let completeness = c.parse("Completeness", values::completeness);
    let condition = c.parse("AdministrationCondition", values::condition);
    let overall = c.score(
        "ScaleScoreAchievementLevel",
        "ScaleScore",
        "ScaleScoreStandardError",
    );
    let alts = ALT_COLUMNS.map(|(l, s, e)| c.score(l, s, e));
    let claims = CLAIM_COLUMNS.map(|col| c.parse(col, values::level).flatten());
    let mut demo = Demographics::default();
    // Race flags: the dictionary says "Yes, Blank (No)".
    for (flag, col) in RACE_FLAGS {
        c.flag(&mut demo, flag, col, true);
    }
    c.flag(&mut demo, Flag::Migrant, "MigrantStatus", false);
    c.flag(&mut demo, Flag::Section504, "Section504Status", false);
    c.flag(&mut demo, Flag::Iep, "IDEAIndicator", false);
    c.flag(&mut demo, Flag::Lep, "LEPStatus", false);
    c.flag(
        &mut demo,
        Flag::Military,
        "MilitaryConnectedStudentIndicator",
        false,
    );
    demo.sex = c
        .parse("Sex", |s| {
            values::opt(s)
                .map(|t| Sex::parse(t).ok_or(format!("F, M, X or blank, found `{t}`")))
                .transpose()
        })
        .flatten();
    demo.elas = c
        .parse("EnglishLanguageAcquisitionStatus", |s| {
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
        .parse("EnglishLanguageAcquisitionStatusStartDate", values::date)
        .flatten();
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    // Every required cell parsed, so these unwraps of `Some` cannot fail.
    let (
        Some(district_id),
        Some(school_id),
        Some(ssid),
        Some(submitted),
        Some(school_year),
        Some(family),
        Some(grade),
        Some(completeness),
        Some(condition),
    ) = (
        district_id,
        school_id,
        ssid,
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
    Ok(Row {
        district_id,
        district_name: c.raw("DistrictName").trim(),
        nces: c.raw("NcesId").trim(),
        school_id,
        school_name: c.raw("SchoolName").trim(),
        ssid,
        first: c.raw("FirstName").trim(),
        last: c.raw("LastOrSurname").trim(),
        submitted,
        school_year,
        session: c.raw("TestSessionId").trim(),
        family,
        assessment_name: name.trim(),
        grade,
        completeness,
        condition,
        overall,
        alts,
        claims,
        demographics: demo,
        language: c.raw("LanguageCode").trim(),
        language_alt: c.raw("LanguageAltCode").trim(),
        accommodations: c.raw("AssignedAccommodationList").trim(),
    })
}

/// The longest cell accepted: the longest real one (an accommodation list)
/// is a few hundred bytes; a megabyte cell is a broken file or an attack.
pub const MAX_CELL: usize = 64 * 1024;

/// How many records are parsed in parallel at a time.
const BATCH: usize = 8192;

/// Reads one export into `data`; `schools` places each row's school.
pub fn load(
    path: &Path,
    reader: impl std::io::Read,
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
    data.export_columns.insert(file, cols.mask());
    // Records are reused batch after batch, so reading allocates only while the first batch fills.
    let mut batch: Vec<(u64, csv::StringRecord)> = Vec::with_capacity(BATCH);
    let mut filled = 0;
    let mut rows = 0;
    loop {
        if filled == batch.len() {
            batch.push((0, csv::StringRecord::new()));
        }
        let more = match rdr.read_record(&mut batch[filled].1) {
            Ok(more) => more,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                diags.error(
                    Location::at(path, line, 1),
                    format!("cannot read this record: {e}; expected UTF-8 CSV"),
                );
                false
            }
        };
        if more {
            let record = &batch[filled].1;
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if let Some(f) = record.iter().position(|c| c.len() > MAX_CELL) {
                diags.error(
                    Location::at(path, line, f as u64 + 1),
                    format!(
                        "a cell of {} bytes; expected at most {MAX_CELL} (is a quote left open?)",
                        record[f].len()
                    ),
                );
                continue;
            }
            if record.len() != names.len() {
                diags.error(
                    Location::at(path, line, record.len() as u64),
                    format!(
                        "{} fields; expected {} as in the header",
                        record.len(),
                        names.len()
                    ),
                );
                continue;
            }
            batch[filled].0 = line;
            filled += 1;
        }
        if filled == BATCH || (!more && filled > 0) {
            rows += add_batch(
                path,
                file,
                &batch[..filled],
                &cols,
                catalog,
                data,
                schools,
                diags,
            );
            filled = 0;
        }
        if !more {
            break;
        }
    }
    rows
}

#[allow(clippy::too_many_arguments)]
fn add_batch(
    path: &Path,
    file: u32,
    batch: &[(u64, csv::StringRecord)],
    cols: &Columns,
    catalog: &Catalog,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> u64 {
    let parsed: Vec<Result<Row, Vec<CellError>>> = batch
        .par_iter()
        .map(|(_, r)| parse_row(r, cols, catalog))
        .collect();
    let first = data.exams.len();
    // The batch's record of each exam added, in order.
    let mut records: Vec<&csv::StringRecord> = Vec::with_capacity(batch.len());
    for ((line, record), result) in batch.iter().zip(parsed) {
        match result {
            Ok(row) => {
                let source = Source {
                    path,
                    file,
                    line: *line,
                };
                if add_row(&source, row, data, schools, diags) {
                    records.push(record);
                }
            }
            Err(errors) => {
                for e in errors {
                    let col = e.field as u64 + 1;
                    diags.error(
                        Location::at(path, *line, col),
                        format!(
                            "{} (column {}): expected {}",
                            e.column,
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

/// Where a row came from: its file and line.
struct Source<'a> {
    path: &'a Path,
    file: u32,
    line: u64,
}

fn add_row(
    source: &Source,
    row: Row,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> bool {
    let Source { path, file, line } = *source;
    let place = Place {
        district_id: row.district_id,
        district_name: row.district_name,
        school_id: row.school_id,
        school_name: row.school_name,
    };
    let at = Location::at(path, line, 1);
    let school = match schools.resolve(&mut data.institutions, &place, &at, diags) {
        Ok(s) => s,
        Err(msg) => {
            diags.error(Location::at(path, line, 4), msg);
            return false;
        }
    };
    let lea = &mut data.institutions.leas[data.institutions.schools[school].lea];
    match &lea.nces {
        None if !row.nces.is_empty() => lea.nces = Some(row.nces.to_string()),
        Some(first) if !row.nces.is_empty() && first != row.nces => diags.warn(
            Location::at(path, line, 3),
            format!(
                "NcesId differs from `{first}`, the first NcesId given for DistrictId `{}`; each row keeps its own in the District/School Export",
                lea.id
            ),
        ),
        _ => {}
    }
    let student = data.upsert_student(row.ssid, row.first, row.last);
    let assessment_grade = values::grade_in_name(row.assessment_name);
    let assessment = data.assessment(row.assessment_name, row.family, assessment_grade);
    let mut demographics = row.demographics;
    demographics.language = values::opt(row.language).map(|s| data.strings.intern(s));
    demographics.language_alt = values::opt(row.language_alt).map(|s| data.strings.intern(s));
    let exam = Exam {
        student,
        assessment,
        school_year: row.school_year,
        submitted: row.submitted,
        session: values::opt(row.session).map(|s| data.strings.intern(s)),
        school: school as u32,
        grade: row.grade,
        completeness: row.completeness,
        condition: row.condition,
        overall: row.overall,
        claim_levels: row.claims,
        alt: row
            .alts
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_empty())
            .map(|(i, s)| (i as u8 + 1, *s))
            .collect(),
        demographics,
        accommodations: values::opt(row.accommodations).map(|s| data.strings.intern(s)),
        origin: Origin {
            file,
            line: line as u32,
        },
        raw: Box::default(),
    };
    data.exams.push(exam);
    true
}

/// Keeps, for each exam added from `records` (the exams from `first` on),
/// the cells of its row that the District/School Export would not write back
/// as they came in, with the student's names, which later rows may change.
/// The comparison runs in parallel; only the kept cells are interned.
fn keep_raw_cells(
    records: &[&csv::StringRecord],
    first: usize,
    cols: &Columns,
    catalog: &Catalog,
    data: &mut Dataset,
) {
    const NAMES: [usize; 2] = [6, 7];
    let differing: Vec<Vec<(u8, usize)>> = {
        let data = &*data;
        records
            .par_iter()
            .zip(&data.exams[first..])
            .map(|(record, exam)| {
                let written = super::cers_cells::cells(data, catalog, exam);
                cols.layout
                    .iter()
                    .enumerate()
                    .filter_map(|(i, field)| {
                        let f = (*field)?;
                        let cell = record.get(f)?;
                        (NAMES.contains(&i) || cell != written[i]).then_some((i as u8, f))
                    })
                    .collect()
            })
            .collect()
    };
    for ((record, keep), e) in records.iter().zip(differing).zip(first..) {
        let raw: Box<[(u8, Sym)]> = keep
            .into_iter()
            .map(|(i, f)| (i, data.strings.intern(&record[f])))
            .collect();
        data.exams[e].raw = raw;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_64_order() {
        let cols = columns_64();
        assert_eq!(cols.len(), 64);
        let at = |n: &str| cols.iter().position(|c| *c == n).unwrap();
        assert_eq!(at("Sex"), 45);
        assert_eq!(at("MigrantStatus"), 46);
        assert_eq!(at("IDEAIndicator"), 48);
        assert_eq!(at("MilitaryConnectedStudentIndicator"), 52);
        assert_eq!(at("AssignedAccommodationList"), 63);
    }
}
