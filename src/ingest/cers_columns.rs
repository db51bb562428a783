//! The columns of the CERS exports: the District/School export's 59- and
//! 64-column layouts (Data Dictionary V2, Table 4) and the Student Roster
//! exports' (Tables 5–9), and where a file's header puts each.

use crate::diag::{Diagnostics, Location};
use crate::model::{Flag, RACE_FLAGS};
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

/// Every column a reader looks up by name: the 59-column layout's, the five
/// the 64-column layout adds, then the Student Roster exports' own.
const KNOWN: [&[&str]; 3] = [COLUMNS_59, COLUMNS_64_EXTRA, ROSTER_COLUMNS];

/// The place of column `name` among the `KNOWN` ones, for
/// [`Columns::field`]; meant to be found when compiling, where a name that
/// is not a known column fails the build.
pub const fn known(name: &str) -> usize {
    let mut at = 0;
    let mut list = 0;
    while list < KNOWN.len() {
        let mut i = 0;
        while i < KNOWN[list].len() {
            if same_bytes(KNOWN[list][i].as_bytes(), name.as_bytes()) {
                return at;
            }
            i += 1;
            at += 1;
        }
        list += 1;
    }
    panic!("not a known CERS export column")
}

const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

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
pub struct Scores {
    /// The Subject whose rows these are; empty for every subject.
    pub subject: String,
    pub claims: [Option<usize>; 6],
    /// Per alt score: level, scale score and standard error fields.
    pub alts: [[Option<usize>; 3]; 6],
}

/// Maps column names to field positions, case-insensitively.
pub struct Columns {
    /// The header as the file gives it, for messages.
    pub header: Vec<String>,
    pub index: HashMap<&'static str, usize>,
    /// The field of each [`KNOWN`] column in this file, by its place (see
    /// [`known`]), so that rows find their cells without a look-up by name.
    fields: Vec<Option<usize>>,
    /// For each column of the 64-column layout, its field in this file.
    pub layout: Vec<Option<usize>>,
    /// Claim and composite columns: one set for every subject in a
    /// District/School export, one per subject in a Student Roster export.
    pub scores: Vec<Scores>,
    /// A Student Roster export: schools by name, Status, error bands.
    pub roster: bool,
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
    /// The columns of a file with this header; `None` (with an error naming
    /// them) when it lacks any every report needs.
    pub fn new(header: &[String], file: &Path, diags: &mut Diagnostics) -> Option<Columns> {
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
        let fields = (KNOWN.iter().flat_map(|list| list.iter()))
            .map(|c| index.get(c).copied())
            .collect();
        Some(Columns {
            header: header.to_vec(),
            fields,
            index,
            layout,
            scores,
            roster,
        })
    }

    /// The field of the known column at place `at` (see [`known`]), when
    /// the file has it.
    pub fn field(&self, at: usize) -> Option<usize> {
        self.fields[at]
    }

    /// Bit i set when column i of the 64-column layout is in this file.
    pub fn mask(&self) -> u64 {
        self.layout
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_some())
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    /// Where the claim and composite scores of a row of `subject` are.
    pub fn scores_for(&self, subject: &str) -> Option<&Scores> {
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

pub const ALT_COLUMNS: [(&str, &str, &str); 6] = [
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
pub const CLAIM_COLUMNS: [&str; 6] = [
    "Claim1ScoreAchievementLevel",
    "Claim2ScoreAchievementLevel",
    "Claim3ScoreAchievementLevel",
    "Claim4ScoreAchievementLevel",
    "Claim5ScoreAchievementLevel",
    "Claim6ScoreAchievementLevel",
];

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
