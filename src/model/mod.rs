//! The data model: institutions, students, exams, groups, users and grants.
//!
//! Strings that repeat across millions of exams (sessions, accommodation lists,
//! language codes) are interned as [`Sym`]s so that a large export fits in memory.

use chrono::{NaiveDate, NaiveDateTime};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::fmt;

mod institutions;
mod keys;
pub use institutions::{is_cds, Found, Institutions, Lea, School};
pub use keys::{same, KeyIndex};

/// A grade level, as CERS, CALPADS and TRT files write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grade {
    /// Infant/toddler (IT).
    Infant,
    /// Preschool (PR).
    Preschool,
    /// Prekindergarten (PK).
    PreK,
    /// Transitional kindergarten (TK).
    TransitionalK,
    /// Kindergarten (KG).
    K,
    /// Grades 1 to 13.
    N(u8),
    /// Adult / postsecondary (PS).
    Adult,
    /// Ungraded (UG).
    Ungraded,
}

impl Grade {
    /// Parses `05`, `5`, `G6`, `Grade 6`, `KG`, `KN`, `K`, `UG`, `TK`, `PK`, `IT`, `PR`, `PS`.
    pub fn parse(raw: &str) -> Option<Grade> {
        let s = raw.trim().to_ascii_uppercase();
        let s = s.strip_prefix("GRADE").map(str::trim).unwrap_or(&s);
        let s = s
            .strip_prefix('G')
            .filter(|r| r.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or(s);
        Some(match s {
            "IT" => Grade::Infant,
            "PR" => Grade::Preschool,
            "PK" => Grade::PreK,
            "TK" => Grade::TransitionalK,
            "KG" | "KN" | "K" | "0" | "00" => Grade::K,
            "PS" => Grade::Adult,
            "UG" => Grade::Ungraded,
            digits
                if !digits.is_empty()
                    && digits.len() <= 2
                    && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                match digits.parse::<u8>().ok()? {
                    n @ 1..=13 => Grade::N(n),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grade::Infant => f.write_str("IT"),
            Grade::Preschool => f.write_str("PR"),
            Grade::PreK => f.write_str("PK"),
            Grade::TransitionalK => f.write_str("TK"),
            Grade::K => f.write_str("KG"),
            Grade::N(n) => write!(f, "{n}"),
            Grade::Adult => f.write_str("PS"),
            Grade::Ungraded => f.write_str("UG"),
        }
    }
}

impl<'de> Deserialize<'de> for Grade {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u8),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Num(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        Grade::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a grade (expected KG, 1-13, TK, PK, UG …)"
            ))
        })
    }
}

impl Serialize for Grade {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An interned string: an index into [`Interner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

/// Stores each distinct string once.
#[derive(Debug, Default)]
pub struct Interner {
    ids: KeyIndex,
    strings: Vec<Box<str>>,
}

impl Interner {
    /// The symbol for `s`, when it is interned.
    pub fn find(&self, s: &str) -> Option<Sym> {
        let strings = &self.strings;
        self.ids.find(s, |i| &strings[i as usize]).map(Sym)
    }

    /// The symbol for `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(sym) = self.find(s) {
            return sym;
        }
        let sym = Sym(self.strings.len() as u32);
        self.strings.push(s.into());
        let strings = &self.strings;
        self.ids.insert(sym.0, |i| &strings[i as usize]);
        sym
    }

    /// The string behind `sym`.
    pub fn get(&self, sym: Sym) -> &str {
        &self.strings[sym.0 as usize]
    }
}

/// A student, identified by SSID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub ssid: Box<str>,
    pub first_name: Box<str>,
    pub last_name: Box<str>,
    pub birth_date: Option<NaiveDate>,
}

/// Index into [`Dataset::students`].
pub type StudentIdx = u32;

/// Whether the student answered enough items for the test to be complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Completeness {
    Complete,
    Partial,
    /// Left blank in the source (some TRT files do).
    NotReported,
}

/// CERS AdministrationCondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminCondition {
    /// Summative: valid.
    Valid,
    /// Summative: invalidated.
    Invalid,
    /// Interim: standardized (SD).
    Standardized,
    /// Interim: nonstandardized (NS).
    Nonstandardized,
    /// Left blank in the source (some TRT files do).
    NotReported,
}

impl AdminCondition {
    /// Parses the codes CERS and TRT files use.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.trim().to_ascii_uppercase().as_str() {
            "VALID" => AdminCondition::Valid,
            "IN" | "INVALID" => AdminCondition::Invalid,
            "SD" | "STANDARDIZED" => AdminCondition::Standardized,
            "NS" | "NONSTANDARDIZED" => AdminCondition::Nonstandardized,
            _ => return None,
        })
    }
}

/// A scale score with its standard error and level, any of which may be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    pub scale: Option<f32>,
    pub se: Option<f32>,
    pub level: Option<u8>,
}

impl Score {
    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.scale.is_none() && self.se.is_none() && self.level.is_none()
    }
}

/// Sex as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Female,
    Male,
    Nonbinary,
}

impl Sex {
    /// Parses `F`, `Female`, `M`, `Male`, `X`, `N`, `Nonbinary`.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(raw));
        if is(&["f", "female"]) {
            Some(Sex::Female)
        } else if is(&["m", "male"]) {
            Some(Sex::Male)
        } else if is(&["x", "n", "nonbinary", "non-binary"]) {
            Some(Sex::Nonbinary)
        } else {
            None
        }
    }
}

/// English language acquisition status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Elas {
    Eo,
    Ifep,
    El,
    Rfep,
    Tbd,
    Adel,
}

impl Elas {
    const ALL: [Elas; 6] = [
        Elas::Eo,
        Elas::Ifep,
        Elas::El,
        Elas::Rfep,
        Elas::Tbd,
        Elas::Adel,
    ];

    /// The status's code, as CERS writes it.
    pub fn code(self) -> &'static str {
        match self {
            Elas::Eo => "EO",
            Elas::Ifep => "IFEP",
            Elas::El => "EL",
            Elas::Rfep => "RFEP",
            Elas::Tbd => "TBD",
            Elas::Adel => "ADEL",
        }
    }

    /// Parses EO, IFEP, EL, RFEP, TBD, ADEL, in any case.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|e| e.code().eq_ignore_ascii_case(raw))
    }
}

/// A yes/no demographic flag, recorded at test time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Flag {
    Hispanic = 1 << 0,
    AmericanIndian = 1 << 1,
    Asian = 1 << 2,
    Black = 1 << 3,
    White = 1 << 4,
    PacificIslander = 1 << 5,
    TwoOrMoreRaces = 1 << 6,
    Filipino = 1 << 7,
    Migrant = 1 << 8,
    Section504 = 1 << 9,
    Iep = 1 << 10,
    Lep = 1 << 11,
    Military = 1 << 12,
    EconomicDisadvantage = 1 << 13,
}

/// Every demographic flag.
pub const ALL_FLAGS: [Flag; 14] = [
    Flag::Hispanic,
    Flag::AmericanIndian,
    Flag::Asian,
    Flag::Black,
    Flag::White,
    Flag::PacificIslander,
    Flag::TwoOrMoreRaces,
    Flag::Filipino,
    Flag::Migrant,
    Flag::Section504,
    Flag::Iep,
    Flag::Lep,
    Flag::Military,
    Flag::EconomicDisadvantage,
];

/// The race/ethnicity flags and the column (CERS) or attribute (TRT) names they share.
pub const RACE_FLAGS: [(Flag, &str); 8] = [
    (Flag::Hispanic, "HispanicOrLatinoEthnicity"),
    (Flag::AmericanIndian, "AmericanIndianOrAlaskaNative"),
    (Flag::Asian, "Asian"),
    (Flag::Black, "BlackOrAfricanAmerican"),
    (Flag::White, "White"),
    (
        Flag::PacificIslander,
        "NativeHawaiianOrOtherPacificIslander",
    ),
    (Flag::TwoOrMoreRaces, "TwoOrMoreRaces"),
    (Flag::Filipino, "Filipino"),
];

/// Demographics at test time. A flag is yes, no, or (not in `known`) unreported.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Demographics {
    pub yes: u16,
    pub known: u16,
    pub sex: Option<Sex>,
    pub elas: Option<Elas>,
    pub elas_start: Option<NaiveDate>,
    pub language: Option<Sym>,
    pub language_alt: Option<Sym>,
}

impl Demographics {
    /// Records `flag` as yes (`Some(true)`), no, or unreported (`None`).
    pub fn set(&mut self, flag: Flag, value: Option<bool>) {
        let bit = flag as u16;
        match value {
            Some(v) => {
                self.known |= bit;
                if v {
                    self.yes |= bit;
                } else {
                    self.yes &= !bit;
                }
            }
            None => {
                self.known &= !bit;
                self.yes &= !bit;
            }
        }
    }

    /// The flag's value, or `None` when unreported.
    pub fn get(&self, flag: Flag) -> Option<bool> {
        let bit = flag as u16;
        (self.known & bit != 0).then_some(self.yes & bit != 0)
    }
}

/// An assessment (one test form family at one grade), e.g. "Grade 5 ELA Summative".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The name as the source writes it.
    pub name: String,
    /// Index into the catalog's families.
    pub family: usize,
    /// The grade the assessment is for (from its name), which may differ from the student's.
    pub grade: Option<Grade>,
}

/// Index into [`Dataset::assessments`].
pub type AssessmentIdx = u32;

/// Where an exam came from, for messages and duplicate reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// Index into [`Dataset::files`].
    pub file: u32,
    pub line: u32,
}

/// One test opportunity.
#[derive(Debug, Clone, PartialEq)]
pub struct Exam {
    pub student: StudentIdx,
    pub assessment: AssessmentIdx,
    pub school_year: u16,
    pub submitted: NaiveDateTime,
    pub session: Option<Sym>,
    /// Index into [`Institutions::schools`]: the school at test time.
    pub school: u32,
    /// Enrolled grade at test time.
    pub grade: Grade,
    pub completeness: Completeness,
    pub condition: AdminCondition,
    pub overall: Score,
    /// Claim (or domain) levels from CERS columns Claim1…Claim6.
    pub claim_levels: [Option<u8>; 6],
    /// Alt scores (ELPAC oral and written …) by CERS column number 1…6.
    pub alt: Vec<(u8, Score)>,
    pub demographics: Demographics,
    /// The accommodation list as given (interned; lists repeat a lot).
    pub accommodations: Option<Sym>,
    pub origin: Origin,
    /// Cells of the source export row, by position in the 64-column layout,
    /// that differ from how the District/School Export would write the
    /// loaded values (`5/19/22` dates, `5` grades, each row's own NcesId…),
    /// so that the export gives back what came in. Empty for TRT exams.
    pub raw: Box<[(u8, Sym)]>,
    /// What the CDE's Student Score Data File adds, when one gave this result.
    pub official: Option<Box<Official>>,
}

/// What a TOMS Student Score Data File says of a result beyond the scores:
/// its condition code (`PGE`, `NTE`, `LOSS` …), include-in-aggregate
/// indicator (`Y`, `N`, `T`, `R`, `E`) and Lexile (ELA) or Quantile (math)
/// measure, each as the file writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Official {
    pub condition_code: Option<Sym>,
    pub include: Option<Sym>,
    pub measure: Option<Sym>,
}

/// A student a TOMS Student Score Data File lists without a score (not
/// tested, exempt, or medically excused): who was expected to test, for
/// the participation rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Untested {
    pub student: StudentIdx,
    /// Index into the catalog's families: the test not taken.
    pub family: usize,
    /// Index into [`Institutions::schools`]: where TOMS last registered the student.
    pub school: u32,
    /// The school year of the file's scored records.
    pub school_year: u16,
    /// Grade Assessed.
    pub grade: Grade,
    /// What the file says of the record: condition code (`NT`, `PGE`,
    /// `NTE`, `NEL` …) and include indicator (`N`, `E`, `R` …).
    pub official: Official,
    pub demographics: Demographics,
    pub origin: Origin,
}

/// A student's response to one item, from TRT: what the item reports use,
/// its strings interned in [`Dataset::strings`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemResponse {
    pub bank_key: Sym,
    pub key: Sym,
    pub position: u32,
    /// TRT `contentLevel`, e.g. `2-W|8-6` (claim|target).
    pub content_level: Sym,
    pub score: Option<f32>,
    pub max_score: Option<f32>,
    /// The letters the response holds, upper-case, sorted and each once
    /// (`B,D` is `BD`): all the choice counts read of it. None when it has none.
    pub chosen: Option<Sym>,
}

/// A target's residual scores (summative), from TRT. Their standard errors
/// are not kept: a group's target report gives the standard error of its
/// students' mean residual, from the residuals themselves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetScore {
    /// TRT measureOf, e.g. `1-IT|8-11`.
    pub target: Sym,
    pub student_relative: Option<f32>,
    pub standard_met_relative: Option<f32>,
}

/// A writing trait score (summative ELA), from TRT.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraitScore {
    /// Writing purpose: ARGU, EXPL, INFO, NARR, OPIN, or blank when not given.
    pub purpose: Sym,
    /// Trait: ORG, EVI or CON.
    pub trait_code: &'static str,
    pub score: u8,
}

/// What a TRT file adds to an exam beyond the export columns: what the
/// item, writing trait and target reports read, and nothing more.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExamDetail {
    pub items: Vec<ItemResponse>,
    pub targets: Vec<TargetScore>,
    pub traits: Vec<TraitScore>,
}

/// CERS subject codes, as groups restrict by subject.
pub const SUBJECTS: &[&str] = &[
    "ELA", "Math", "CAAELA", "CAAMATH", "CAASCI", "CAST", "CSA", "ELPAC", "ALTELPAC",
];

/// A student group (roster) and the logins assigned to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    /// Index into [`Institutions::schools`].
    pub school: usize,
    pub school_year: u16,
    /// `None` means all subjects.
    pub subject: Option<String>,
    pub students: Vec<StudentIdx>,
    /// Logins (emails) of the users assigned to the group.
    pub users: Vec<String>,
}

/// A role, as in CERS/TOMS and RDW.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Teacher,
    SchoolAdmin,
    DistrictAdmin,
    StateAdmin,
    AggregateReporter,
}

impl Role {
    /// Parses the snake_case role name.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "teacher" => Role::Teacher,
            "school_admin" => Role::SchoolAdmin,
            "district_admin" => Role::DistrictAdmin,
            "state_admin" => Role::StateAdmin,
            "aggregate_reporter" => Role::AggregateReporter,
            _ => return None,
        })
    }
}

/// The institution a grant covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    School(String),
    Lea(String),
    State,
}

/// A role held over a scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

impl Grant {
    /// Parses `ROLE:SCOPE`: `teacher:SCHOOL`, `school_admin:SCHOOL`, `district_admin:LEA`,
    /// `state_admin` (or `state_admin:state`), and `aggregate_reporter:school:ID`,
    /// `aggregate_reporter:lea:ID` or `aggregate_reporter:state`.
    pub fn parse(text: &str) -> Result<Grant, String> {
        let (role_text, rest) = text.split_once(':').unwrap_or((text, ""));
        let role = Role::parse(role_text.trim()).ok_or_else(|| {
            format!("`{role_text}` is not a role (expected teacher, school_admin, district_admin, state_admin or aggregate_reporter)")
        })?;
        let rest = rest.trim();
        let need = |what: &str| format!("grant `{text}` needs a {what} id, as in `{role_text}:ID`");
        let scope = match role {
            Role::Teacher | Role::SchoolAdmin if rest.is_empty() => return Err(need("school")),
            Role::Teacher | Role::SchoolAdmin => Scope::School(rest.to_string()),
            Role::DistrictAdmin if rest.is_empty() => return Err(need("LEA")),
            Role::DistrictAdmin => Scope::Lea(rest.to_string()),
            Role::StateAdmin if rest.is_empty() || rest.eq_ignore_ascii_case("state") => Scope::State,
            Role::StateAdmin => return Err(format!("grant `{text}`: state_admin takes no scope (write `state_admin`)")),
            Role::AggregateReporter => match rest.split_once(':') {
                Some(("school", id)) if !id.is_empty() => Scope::School(id.to_string()),
                Some(("lea", id)) if !id.is_empty() => Scope::Lea(id.to_string()),
                None if rest.eq_ignore_ascii_case("state") => Scope::State,
                _ => return Err(format!("grant `{text}`: expected aggregate_reporter:school:ID, aggregate_reporter:lea:ID or aggregate_reporter:state")),
            },
        };
        Ok(Grant { role, scope })
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = match self.role {
            Role::Teacher => "teacher",
            Role::SchoolAdmin => "school_admin",
            Role::DistrictAdmin => "district_admin",
            Role::StateAdmin => "state_admin",
            Role::AggregateReporter => "aggregate_reporter",
        };
        match (&self.scope, self.role) {
            (Scope::State, Role::StateAdmin) => f.write_str(role),
            (Scope::State, _) => write!(f, "{role}:state"),
            (Scope::School(id), Role::AggregateReporter) => write!(f, "{role}:school:{id}"),
            (Scope::Lea(id), Role::AggregateReporter) => write!(f, "{role}:lea:{id}"),
            (Scope::School(id) | Scope::Lea(id), _) => write!(f, "{role}:{id}"),
        }
    }
}

/// Someone who may log on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub email: String,
    pub name: Option<String>,
    /// The user's age recipient (`age1…`), once enrolled.
    pub recipient: Option<String>,
    /// The SHA-256 of their credential file, as enrolment recorded it.
    pub credential: Option<String>,
    pub grants: Vec<Grant>,
}

/// Everything loaded from a deployment's data directory.
#[derive(Debug, Default)]
pub struct Dataset {
    pub institutions: Institutions,
    pub students: Vec<Student>,
    /// Students by SSID.
    student_index: KeyIndex,
    pub assessments: Vec<Assessment>,
    assessment_index: HashMap<String, AssessmentIdx>,
    pub exams: Vec<Exam>,
    /// Students listed without a score, from Student Score Data Files;
    /// sorted by school once loading ends ([`Dataset::untested_at`]).
    pub untested: Vec<Untested>,
    /// TRT detail, by index into `exams`.
    pub details: HashMap<usize, ExamDetail>,
    pub groups: Vec<Group>,
    pub strings: Interner,
    /// Input files, indexed by [`Origin::file`].
    pub files: Vec<std::path::PathBuf>,
    /// For each CERS export file: which columns of the 64-column layout its
    /// header has (bit i for column i).
    pub export_columns: HashMap<u32, u64>,
    /// Files read as CERS Student Roster exports, which yield to another
    /// source's row of the same opportunity.
    pub rosters: std::collections::BTreeSet<u32>,
    file_ids: HashMap<std::path::PathBuf, u32>,
    /// Every change of a student's names, in the order read.
    renames: Vec<Rename>,
}

/// A change of a student's names, made while reading the exam at index
/// `at`: the names it replaced (`None` for one left as it was).
#[derive(Debug)]
pub struct Rename {
    pub student: StudentIdx,
    pub at: usize,
    pub first: Option<Box<str>>,
    pub last: Option<Box<str>>,
}

impl Dataset {
    /// The student with this SSID, if known.
    pub fn student(&self, ssid: &str) -> Option<StudentIdx> {
        let students = &self.students;
        self.student_index
            .find(ssid, |i| &students[i as usize].ssid)
    }

    /// Gives student `i` the names that are not blank, and records the
    /// change (`Dataset::renames`); returns `i`.
    pub fn rename_student(&mut self, i: StudentIdx, first: &str, last: &str) -> StudentIdx {
        let s = &mut self.students[i as usize];
        let replace = |name: &mut Box<str>, new: &str| {
            (!new.is_empty() && **name != *new).then(|| std::mem::replace(name, new.into()))
        };
        let first = replace(&mut s.first_name, first);
        let last = replace(&mut s.last_name, last);
        if first.is_some() || last.is_some() {
            self.renames.push(Rename {
                student: i,
                at: self.exams.len(),
                first,
                last,
            });
        }
        i
    }

    /// The changes of students' names made after exam `e` was read, by
    /// student, in order.
    pub fn renames_after(&self, e: usize) -> HashMap<StudentIdx, Vec<&Rename>> {
        let from = self.renames.partition_point(|r| r.at <= e);
        let mut by_student: HashMap<StudentIdx, Vec<&Rename>> = HashMap::default();
        for r in &self.renames[from..] {
            by_student.entry(r.student).or_default().push(r);
        }
        by_student
    }

    /// The first and last names student `s` had once exam `e` was read,
    /// given `later`, the student's renames ([`Dataset::renames_after`]
    /// an exam no later than `e`).
    pub fn names_then<'a>(
        &'a self,
        later: &HashMap<StudentIdx, Vec<&'a Rename>>,
        s: StudentIdx,
        e: usize,
    ) -> [&'a str; 2] {
        let student = &self.students[s as usize];
        let theirs = later.get(&s).map_or(&[][..], Vec::as_slice);
        let then = |name: fn(&Rename) -> Option<&str>| {
            theirs.iter().filter(|r| r.at > e).find_map(|r| name(r))
        };
        [
            then(|r| r.first.as_deref()).unwrap_or(&student.first_name),
            then(|r| r.last.as_deref()).unwrap_or(&student.last_name),
        ]
    }

    /// Adds a student or updates the name of an existing one; returns its index.
    pub fn upsert_student(&mut self, ssid: &str, first: &str, last: &str) -> StudentIdx {
        if let Some(i) = self.student(ssid) {
            return self.rename_student(i, first, last);
        }
        let i = self.students.len() as StudentIdx;
        self.students.push(Student {
            ssid: ssid.into(),
            first_name: first.into(),
            last_name: last.into(),
            birth_date: None,
        });
        let students = &self.students;
        self.student_index.insert(i, |i| &students[i as usize].ssid);
        i
    }

    /// The assessment with this name, adding it when new with the grade
    /// `grade` gives.
    pub fn assessment(
        &mut self,
        name: &str,
        family: usize,
        grade: impl FnOnce() -> Option<Grade>,
    ) -> AssessmentIdx {
        if let Some(&i) = self.assessment_index.get(name) {
            return i;
        }
        let grade = grade();
        let i = self.assessments.len() as AssessmentIdx;
        self.assessments.push(Assessment {
            name: name.to_string(),
            family,
            grade,
        });
        self.assessment_index.insert(name.to_string(), i);
        i
    }

    /// The untested records at school `school`.
    pub fn untested_at(&self, school: usize) -> &[Untested] {
        let from = self
            .untested
            .partition_point(|u| (u.school as usize) < school);
        let to = self
            .untested
            .partition_point(|u| (u.school as usize) <= school);
        &self.untested[from..to]
    }

    /// The index of `path` in `files`, adding it when new.
    pub fn file_index(&mut self, path: &std::path::Path) -> u32 {
        if let Some(&i) = self.file_ids.get(path) {
            return i;
        }
        self.files.push(path.to_path_buf());
        let i = (self.files.len() - 1) as u32;
        self.file_ids.insert(path.to_path_buf(), i);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grade_forms() {
        assert_eq!(Grade::parse("05"), Some(Grade::N(5)));
        assert_eq!(Grade::parse("5"), Some(Grade::N(5)));
        assert_eq!(Grade::parse("G6"), Some(Grade::N(6)));
        assert_eq!(Grade::parse("Grade 6"), Some(Grade::N(6)));
        assert_eq!(Grade::parse("KG"), Some(Grade::K));
        assert_eq!(Grade::parse("UG"), Some(Grade::Ungraded));
        assert_eq!(Grade::parse(" 11 "), Some(Grade::N(11)));
        assert_eq!(Grade::parse("14"), None);
        assert_eq!(Grade::parse("G"), None);
        assert_eq!(Grade::parse("fifth"), None);
    }

    #[test]
    fn grants_round_trip() {
        for text in [
            "teacher:100",
            "school_admin:100",
            "district_admin:8080",
            "state_admin",
            "aggregate_reporter:lea:8080",
            "aggregate_reporter:state",
            "aggregate_reporter:school:100",
        ] {
            assert_eq!(Grant::parse(text).unwrap().to_string(), text);
        }
        assert!(Grant::parse("principal:100").is_err());
        assert!(Grant::parse("teacher").is_err());
        assert!(Grant::parse("aggregate_reporter:100").is_err());
    }

    #[test]
    fn untested_records_are_found_by_school() {
        let mut data = Dataset::default();
        for (student, school) in [(0, 0), (1, 2), (2, 2), (3, 5)] {
            data.untested.push(Untested {
                student,
                family: 0,
                school,
                school_year: 2025,
                grade: Grade::N(5),
                official: Official::default(),
                demographics: Demographics::default(),
                origin: Origin {
                    file: 0,
                    line: student + 2,
                },
            });
        }
        let at = |s| -> Vec<u32> { data.untested_at(s).iter().map(|u| u.student).collect() };
        assert_eq!(at(0), [0]);
        assert_eq!(at(1), [] as [u32; 0]);
        assert_eq!(at(2), [1, 2]);
        assert_eq!(at(5), [3]);
        assert_eq!(at(6), [] as [u32; 0]);
    }

    #[test]
    fn flags_are_tristate() {
        let mut d = Demographics::default();
        assert_eq!(d.get(Flag::Migrant), None);
        d.set(Flag::Migrant, Some(false));
        assert_eq!(d.get(Flag::Migrant), Some(false));
        d.set(Flag::Migrant, Some(true));
        assert_eq!(d.get(Flag::Migrant), Some(true));
        d.set(Flag::Migrant, None);
        assert_eq!(d.get(Flag::Migrant), None);
    }
}
