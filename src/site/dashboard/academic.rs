//! The Academic Indicator's students in one scope, subject and year: each
//! tested student's latest result and each student a Student Score Data
//! File lists as expected to test without one, with the Dashboard groups
//! they belong to, tallied by group and by school with the participation
//! rule applied.

use crate::access::Bundle;
use crate::aggregate;
use crate::deployment::Deployment;
use crate::model::{Demographics, Elas, Flag, Grade};
use crate::stats::elpi;
use crate::stats::participation::{self, Taking, Tally};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// The Dashboard student groups the files can tell: all students, English
/// learners, socioeconomically disadvantaged, students with disabilities,
/// then each race or ethnicity.
pub(super) fn group_names() -> Vec<&'static str> {
    let mut names = vec![
        "All students",
        "English learners",
        "Socioeconomically disadvantaged",
        "Students with disabilities",
    ];
    names.extend(RACES.iter().map(|&(_, name)| name));
    names
}

/// The groups with a complement a viewer can work out: all students less
/// the group (English learners, socioeconomically disadvantaged, students
/// with disabilities), as indices into [`group_names`].
pub(super) const FLAG_GROUPS: [usize; 3] = [1, 2, 3];

/// The first race group's index into [`group_names`]; the races after it
/// part all students (with those whose race is not stated).
pub(super) const FIRST_RACE: usize = 4;

/// Races as the Dashboard names them, by value of the aggregate race dimension.
const RACES: [(u8, &str); 8] = [
    (0, "Hispanic"),
    (1, "American Indian or Alaska Native"),
    (2, "Asian"),
    (3, "African American"),
    (4, "White"),
    (5, "Pacific Islander"),
    (6, "Two or more races"),
    (7, "Filipino"),
];

/// The groups (indices into [`group_names`]) a student with demographics
/// `d`, tested in `school_year`, is in.
fn groups_of(d: &Demographics, school_year: u16) -> Vec<usize> {
    let mut out = vec![0];
    if elpi::english_learner(d) || recently_reclassified(d, school_year) {
        out.push(1);
    }
    if d.get(Flag::EconomicDisadvantage) == Some(true) {
        out.push(2);
    }
    if d.get(Flag::Iep) == Some(true) {
        out.push(3);
    }
    let race = aggregate::race(d);
    if let Some(k) = RACES.iter().position(|&(v, _)| v == race) {
        out.push(FIRST_RACE + k);
    }
    out
}

/// True for a student reclassified (RFEP) in the school year tested or the
/// three before it, by the ELAS start date; the Dashboard's English learner
/// group for the Academic Indicator includes them.
fn recently_reclassified(d: &Demographics, school_year: u16) -> bool {
    let since = NaiveDate::from_ymd_opt(school_year as i32 - 4, 7, 1);
    d.elas == Some(Elas::Rfep) && d.elas_start.zip(since).is_some_and(|(d, s)| d >= s)
}

/// A test and grade, whose results an aggregate report shows as one cell.
pub(super) type Part = (usize, Grade);

/// One student of the indicator.
struct Entry {
    school: u32,
    groups: Vec<usize>,
    /// The tested student's test and grade.
    part: Option<Part>,
    taking: Taking,
}

/// A group's tally, whether every school in it lists who was expected to
/// test, and its tested students by test and grade.
#[derive(Debug, Clone, Default)]
pub(super) struct Count {
    pub(super) tally: Tally,
    pub(super) unlisted: bool,
    pub(super) parts: BTreeMap<Part, usize>,
}

impl Count {
    fn add(&mut self, e: &Entry, listed: &BTreeSet<(u32, u16)>, year: u16) {
        self.tally.add(e.taking);
        self.unlisted |= !listed.contains(&(e.school, year));
        if let Some(p) = e.part {
            *self.parts.entry(p).or_default() += 1;
        }
    }

    /// Whether the participation rule can be applied.
    pub(super) fn known(&self) -> bool {
        !self.unlisted
    }
}

/// An indicator's tallies in one year: by group (indexed as
/// [`group_names`]) and by school.
pub(super) struct Counts {
    pub(super) groups: Vec<Count>,
    pub(super) schools: BTreeMap<usize, Count>,
}

/// The (school, year) pairs whose students expected to test are listed: a
/// Student Score Data File gave a result or an untested record there.
pub(super) fn listed(dep: &Deployment, b: &Bundle) -> BTreeSet<(u32, u16)> {
    let data = &dep.data;
    let from_results = b.exams.iter().filter_map(|&e| {
        let x = &data.exams[e];
        x.official
            .as_ref()
            .filter(|o| o.include.is_some())
            .map(|_| (x.school, x.school_year))
    });
    let from_untested = b
        .schools
        .iter()
        .flat_map(|&s| data.untested_at(s))
        .map(|u| (u.school, u.school_year));
    from_results.chain(from_untested).collect()
}

/// The subject ("ela" or "math") of family `f`, when the indicator uses it.
fn subject_of(dep: &Deployment, f: usize) -> Option<&'static str> {
    let fam = &dep.catalog.families[f];
    if !fam.distance_from_standard {
        return None;
    }
    match fam.subject.as_str() {
        "ELA" | "CAAELA" => Some("ela"),
        "Math" | "CAAMATH" => Some("math"),
        _ => None,
    }
}

/// Every student of `subject` in `year` in bundle `b`'s scope: the latest
/// result of each tested student, then each listed student without one.
fn entries(dep: &Deployment, b: &Bundle, subject: &str, year: u16) -> Vec<Entry> {
    let data = &dep.data;
    let mut latest: BTreeMap<u32, usize> = BTreeMap::new();
    for &e in &b.exams {
        let x = &data.exams[e];
        let family = data.assessments[x.assessment as usize].family;
        if x.school_year != year || subject_of(dep, family) != Some(subject) {
            continue;
        }
        let slot = latest.entry(x.student).or_insert(e);
        if data.exams[*slot].submitted < x.submitted {
            *slot = e;
        }
    }
    let mut out: Vec<Entry> = Vec::new();
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    for (&student, &e) in &latest {
        let Some(taking) = participation::of_exam(&dep.catalog, data, e) else {
            continue;
        };
        let x = &data.exams[e];
        let a = &data.assessments[x.assessment as usize];
        seen.insert(student);
        out.push(Entry {
            school: x.school,
            groups: groups_of(&x.demographics, year),
            part: matches!(taking, Taking::Tested(_))
                .then(|| (a.family, a.grade.unwrap_or(x.grade))),
            taking,
        });
    }
    for u in b.schools.iter().flat_map(|&s| data.untested_at(s)) {
        if u.school_year != year
            || subject_of(dep, u.family) != Some(subject)
            || !seen.insert(u.student)
        {
            continue;
        }
        if let Some(taking) = participation::of_untested(&dep.catalog, data, u, subject == "ela") {
            out.push(Entry {
                school: u.school,
                groups: groups_of(&u.demographics, year),
                part: None,
                taking,
            });
        }
    }
    out
}

/// The tallies of `subject` in `year`, or none when nobody in scope
/// tested or was expected to.
pub(super) fn counts(
    dep: &Deployment,
    b: &Bundle,
    listed: &BTreeSet<(u32, u16)>,
    subject: &str,
    year: u16,
) -> Option<Counts> {
    let entries = entries(dep, b, subject, year);
    if entries.is_empty() {
        return None;
    }
    let mut groups = vec![Count::default(); group_names().len()];
    let mut schools: BTreeMap<usize, Count> = BTreeMap::new();
    for e in &entries {
        for &g in &e.groups {
            groups[g].add(e, listed, year);
        }
        schools
            .entry(e.school as usize)
            .or_default()
            .add(e, listed, year);
    }
    Some(Counts { groups, schools })
}
