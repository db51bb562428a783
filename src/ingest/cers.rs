//! The CERS District/School Export (59 and 64 columns; CERS Data Dictionary V2).
//!
//! Records are read in batches; each batch's cells are parsed in parallel (rayon)
//! and then added to the dataset in file order, so memory stays bounded by the
//! dataset itself and output does not depend on thread timing.

use super::institutions::Schools;
use super::record::{self, Record, Source};
use super::values::{self, Expected};
use crate::catalog::{Catalog, Kind, Level};
use crate::diag::{column_letters, Diagnostics, Location};
use crate::model::{Dataset, Demographics, Elas, Flag, Score, Sex, Sym, RACE_FLAGS};
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

/// True when a header line looks like a CERS export, even one that lacks
/// columns (which its reader then names).
pub fn recognises(header: &[String]) -> bool {
    let has = |name: &str| header.iter().any(|h| h.eq_ignore_ascii_case(name));
    has("StudentIdentifier") && (has("AssessmentName") || has("ScaleScore"))
}

/// True when a CERS export's header is a Student Roster export's: no
/// DistrictId or SchoolId, and a column only those exports have.
pub fn is_roster(header: &[String]) -> bool {
    let has = |name: &str| header.iter().any(|h| h.eq_ignore_ascii_case(name));
    !has("DistrictId") && !has("SchoolId") && ROSTER_COLUMNS.iter().any(|c| has(c))
}

/// The columns every report needs in a District/School export; one of
/// AssessmentType and AssessmentSubType is needed as well.
const DISTRICT_REQUIRED: &[&str] = &[
    "DistrictId",
    "DistrictName",
    "SchoolId",
    "SchoolName",
    "StudentIdentifier",
    "FirstName",
    "LastOrSurname",
    "SubmitDateTime",
    "SchoolYear",
    "AssessmentName",
    "Subject",
    "GradeLevelWhenAssessed",
    "Completeness",
    "AdministrationCondition",
    "ScaleScoreAchievementLevel",
    "ScaleScore",
];

/// Columns of the Student Roster exports (CERS Data Dictionary V2, Tables
/// 5–9) that the District/School export lacks; `Language` is its
/// `LanguageCode`.
const ROSTER_COLUMNS: &[&str] = &[
    "Status",
    "Reporting Category",
    "Error Band Min",
    "Error Band Max",
];

/// The columns every report needs in a Student Roster export.
const ROSTER_REQUIRED: &[&str] = &[
    "StudentIdentifier",
    "FirstName",
    "LastOrSurname",
    "SubmitDateTime",
    "SchoolName",
    "SchoolYear",
    "AssessmentType",
    "AssessmentName",
    "Subject",
    "GradeLevelWhenAssessed",
    "Status",
    "ScaleScoreAchievementLevel",
    "ScaleScore",
];

/// The other columns a Student Roster export has in every table; then the
/// race flags and accommodations, as the District/School export ends.
const ROSTER_OPTIONAL: &[&str] = &[
    "TestSessionId",
    "Reporting Category",
    "Error Band Min",
    "Error Band Max",
    "MigrantStatus",
    "EnglishLanguageAcquisitionStatus",
    "LanguageCode",
];

/// Where a Student Roster export's subject-named score column goes: a claim
/// (1–6) or a composite (alt 1–6: level, scale score, standard error).
#[derive(Clone, Copy)]
enum Slot {
    Claim(usize),
    Alt(usize, usize),
}

/// The subject-named score columns of the Student Roster exports (CERS Data
/// Dictionary V2, Tables 6–9, and the District Report column each is).
const ROSTER_SCORES: &[(&str, Slot)] = &[
    ("ELA: Reading", Slot::Claim(1)),
    ("ELA: Writing", Slot::Claim(2)),
    ("ELA: Listening", Slot::Claim(3)),
    ("ELA: Research and Inquiry", Slot::Claim(4)),
    ("Math: Concepts and Procedures", Slot::Claim(1)),
    (
        "Math: Problem Solving and Modeling & Data Analysis",
        Slot::Claim(2),
    ),
    ("Math: Communicating Reasoning", Slot::Claim(3)),
    ("CAST: Life Sciences", Slot::Claim(1)),
    ("CAST: Physical Sciences", Slot::Claim(2)),
    ("CAST: Earth and Space Sciences", Slot::Claim(3)),
    ("ELPAC: Listening", Slot::Claim(1)),
    ("ELPAC: Speaking", Slot::Claim(2)),
    ("ELPAC: Reading", Slot::Claim(3)),
    ("ELPAC: Writing", Slot::Claim(4)),
    ("ELPAC: Oral Language Level", Slot::Alt(1, 0)),
    ("ELPAC: Oral Language Scale Score", Slot::Alt(1, 1)),
    ("ELPAC: Oral Language Standard Error", Slot::Alt(1, 2)),
    ("ELPAC: Written Language Level", Slot::Alt(2, 0)),
    ("ELPAC: Written Language Scale Score", Slot::Alt(2, 1)),
    ("ELPAC: Written Language Standard Error", Slot::Alt(2, 2)),
];

/// Where one subject's claim and composite scores are in a file.
#[derive(Default)]
struct Scores {
    /// The Subject whose rows these are; empty for every subject.
    subject: String,
    claims: [Option<usize>; 6],
    /// Per alt score: level, scale score and standard error fields.
    alts: [[Option<usize>; 3]; 6],
}

/// Maps column names to field positions, case-insensitively.
struct Columns {
    /// The header as the file gives it, for messages.
    header: Vec<String>,
    index: HashMap<&'static str, usize>,
    /// For each column of the 64-column layout, its field in this file.
    layout: Vec<Option<usize>>,
    /// Claim and composite columns: one set for every subject in a
    /// District/School export, one per subject in a Student Roster export.
    scores: Vec<Scores>,
    /// A Student Roster export: schools by name, Status, error bands.
    roster: bool,
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
        let roster = is_roster(header);
        let position = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let mut index = HashMap::default();
        let known: Vec<&'static str> = COLUMNS_59
            .iter()
            .chain(COLUMNS_64_EXTRA)
            .chain(if roster { ROSTER_COLUMNS } else { &[] })
            .copied()
            .collect();
        for name in &known {
            if let Some(i) = position(name) {
                index.insert(*name, i);
            }
        }
        let mut scores = Vec::new();
        if roster {
            if let Some(i) = position("Language") {
                index.insert("LanguageCode", i);
            }
            scores = roster_scores(header);
        } else {
            let mut all = Scores::default();
            for (k, col) in CLAIM_COLUMNS.iter().enumerate() {
                all.claims[k] = index.get(col).copied();
            }
            for (k, cols) in ALT_COLUMNS.iter().enumerate() {
                all.alts[k] = [cols.0, cols.1, cols.2].map(|c| index.get(c).copied());
            }
            scores.push(all);
        }
        for (i, h) in header.iter().enumerate() {
            let used = index.values().any(|&f| f == i)
                || scores.iter().any(|s| {
                    s.claims.contains(&Some(i)) || s.alts.iter().any(|a| a.contains(&Some(i)))
                });
            if !used {
                diags.warn(
                    Location::at(file, 1, i as u64 + 1),
                    format!("column `{h}` is not in the CERS export layout and is ignored"),
                );
            }
        }
        let (required, layout_name) = if roster {
            (ROSTER_REQUIRED, "Student Roster export")
        } else {
            (DISTRICT_REQUIRED, "District/School export")
        };
        let mut missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !index.contains_key(c))
            .collect();
        if !roster
            && !index.contains_key("AssessmentType")
            && !index.contains_key("AssessmentSubType")
        {
            missing.push("AssessmentType or AssessmentSubType");
        }
        if !missing.is_empty() {
            diags.error(
                Location::at(file, 1, 1),
                format!(
                    "the header lacks the CERS {layout_name} columns every report needs: {}",
                    missing.join(", ")
                ),
            );
            return None;
        }
        let absent = absent_optional(&index, roster);
        if !absent.is_empty() {
            diags.warn(
                Location::at(file, 1, 1),
                format!(
                    "the header lacks these CERS {layout_name} columns, so their values are unknown for this file's results: {}",
                    absent.join(", ")
                ),
            );
        }
        let layout = if roster {
            vec![None; 64]
        } else {
            columns_64().iter().map(|c| index.get(c).copied()).collect()
        };
        Some(Columns {
            header: header.to_vec(),
            index,
            layout,
            scores,
            roster,
        })
    }

    /// Bit i set when column i of the 64-column layout is in this file.
    fn mask(&self) -> u64 {
        self.layout
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_some())
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    /// Where the claim and composite scores of a row of `subject` are.
    fn scores_for(&self, subject: &str) -> Option<&Scores> {
        self.scores
            .iter()
            .find(|s| s.subject.is_empty() || s.subject.eq_ignore_ascii_case(subject.trim()))
    }
}

/// The optional columns a header lacks. The five that the 64-column layout
/// adds are one group: a 59-column file lacks them all, and says nothing.
fn absent_optional(index: &HashMap<&'static str, usize>, roster: bool) -> Vec<&'static str> {
    let optional: Vec<&'static str> = if roster {
        let tail = COLUMNS_59
            .iter()
            .position(|c| *c == "HispanicOrLatinoEthnicity")
            .unwrap_or(COLUMNS_59.len());
        ROSTER_OPTIONAL
            .iter()
            .chain(&COLUMNS_59[tail..])
            .copied()
            .collect()
    } else {
        let extras = COLUMNS_64_EXTRA.iter().any(|c| index.contains_key(c));
        COLUMNS_59
            .iter()
            .chain(if extras { COLUMNS_64_EXTRA } else { &[] })
            .copied()
            .filter(|c| !DISTRICT_REQUIRED.contains(c))
            .filter(|c| !matches!(*c, "AssessmentType" | "AssessmentSubType"))
            .collect()
    };
    optional
        .into_iter()
        .filter(|c| !index.contains_key(c))
        .collect()
}

/// A Student Roster export's subject-named score columns, per subject.
fn roster_scores(header: &[String]) -> Vec<Scores> {
    let mut scores: Vec<Scores> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let Some(&(name, slot)) = ROSTER_SCORES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(h.trim()))
        else {
            continue;
        };
        let subject = name.split(':').next().unwrap_or_default();
        let at = match scores.iter().position(|s| s.subject == subject) {
            Some(at) => at,
            None => {
                scores.push(Scores {
                    subject: subject.to_string(),
                    ..Scores::default()
                });
                scores.len() - 1
            }
        };
        match slot {
            Slot::Claim(c) => scores[at].claims[c - 1] = Some(i),
            Slot::Alt(a, part) => scores[at].alts[a - 1][part] = Some(i),
        }
    }
    scores
}

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
    fn raw(&self, column: &'static str) -> &'a str {
        self.at(self.cols.index.get(column).copied())
    }

    /// The cell of `field`; blank when the file has no such column.
    fn at(&self, field: Option<usize>) -> &'a str {
        field.and_then(|i| self.record.get(i)).unwrap_or("")
    }

    fn parse<T>(
        &mut self,
        column: &'static str,
        f: impl FnOnce(&'a str) -> Result<T, Expected>,
    ) -> Option<T> {
        self.parse_at(self.cols.index.get(column).copied(), f)
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
    fn flag(
        &mut self,
        demo: &mut Demographics,
        flag: Flag,
        column: &'static str,
        blank_is_no: bool,
    ) {
        if !self.cols.index.contains_key(column) {
            return;
        }
        if let Some(v) = self.parse(column, values::yes_no) {
            demo.set(flag, v.or(blank_is_no.then_some(false)));
        }
    }

    /// The standard error a roster export gives as an error band: half its width.
    fn band(&mut self) -> Option<f32> {
        let min = self.parse("Error Band Min", values::number).flatten();
        let max = self.parse("Error Band Max", values::number).flatten();
        Some((max? - min?) / 2.0)
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
) -> Result<Record<'a>, Vec<CellError>> {
    let mut c = Cells {
        record,
        cols,
        errors: Vec::new(),
    };
    // A roster export names the school only by name.
    let (district_id, school_id) = if cols.roster {
        (Some(""), Some(""))
    } else {
        (
            c.parse("DistrictId", values::id),
            c.parse("SchoolId", values::id),
        )
    };
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
    let fam = family.map(|f| &catalog.families[f]);
    let levels = fam.map_or(&[][..], |f| &f.levels[..]);
    let claim_levels = fam
        .and_then(|f| f.claims.as_ref())
        .map_or(&[][..], |c| &c.levels[..]);
    let grade = c.parse("GradeLevelWhenAssessed", values::grade);
    let (completeness, condition) = if cols.roster {
        c.parse("Status", values::status).unzip()
    } else {
        (
            c.parse("Completeness", values::completeness),
            c.parse("AdministrationCondition", values::condition),
        )
    };
    let field = |name: &'static str| cols.index.get(name).copied();
    let mut overall = c.score(
        [
            field("ScaleScoreAchievementLevel"),
            field("ScaleScore"),
            field("ScaleScoreStandardError"),
        ],
        levels,
    );
    if cols.roster {
        // An IAB's level is its Reporting Category; the SE is an error band.
        if overall.level.is_none() {
            overall.level = c.level(field("Reporting Category"), levels);
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
    Ok(Record {
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
        assessment_name: name.trim().into(),
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
        official: None,
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
    // A roster export's cells are not the District/School Export's: its
    // results are written back from what was loaded.
    if cols.roster {
        data.rosters.insert(file);
    } else {
        data.export_columns.insert(file, cols.mask());
    }
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
    let parsed: Vec<Result<Record, Vec<CellError>>> = batch
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
                if record::add(&source, row, data, schools, diags) {
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
