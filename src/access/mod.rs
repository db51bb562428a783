//! Access planning: from the users' grants, which bundles exist and what each
//! may hold. The sandbox writes these bundles as they are; the secure build
//! encrypts each to the users who hold it.
//!
//! - A teacher bundle holds the groups assigned to the teacher's login at the
//!   grant's school, their students, and those students' exams in the groups'
//!   subjects (every subject for a group without one) of the group's school
//!   year and the years before it (`group_years: all` in `scoresite.yaml`
//!   lifts the limit).
//! - A school, LEA or state bundle holds every exam taken at its schools, the
//!   students who took them, and the schools' groups.
//! - An aggregate bundle holds the same exams for aggregates only: no student
//!   pages, and small groups suppressed.
//!
//! Users whose grants give the same contents share one bundle.

mod ids;
mod sitemap;
pub use ids::{Ids, PUBLIC_KEY};
pub use sitemap::{by_school_grade, section_groups, SectionKey, Shared, SiteMap, Unit, UnitOf};

use crate::catalog::Catalog;
use crate::deployment::{Deployment, GroupYears};
use crate::model::{Dataset, Role, Scope, StudentIdx, User};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What kind of bundle this is, which decides its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Teacher,
    School,
    District,
    State,
    Aggregate,
}

impl Kind {
    /// True when the bundle has student-level pages.
    pub fn student_level(self) -> bool {
        self != Kind::Aggregate
    }

    /// True for administrators (school search, student lookup, admin tools).
    pub fn admin(self) -> bool {
        matches!(self, Kind::School | Kind::District | Kind::State)
    }
}

/// One bundle: a set of pages readable by the users who hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Its stable id, from its kind and scope (see `access::ids`).
    pub id: String,
    pub kind: Kind,
    /// Schools in scope (indices into institutions), sorted.
    pub schools: Vec<usize>,
    /// Groups shown (indices into the dataset's groups), sorted.
    pub groups: Vec<usize>,
    /// Students with pages, sorted.
    pub students: Vec<StudentIdx>,
    /// Exams the bundle may show (indices into the dataset's exams), sorted.
    pub exams: Vec<usize>,
    /// Users who hold the bundle, by email.
    pub holders: Vec<String>,
}

impl Bundle {
    /// Who a bundle is for, as the chooser lists it.
    pub fn label(&self, dep: &Deployment) -> String {
        let b = self;
        let inst = &dep.data.institutions;
        match b.kind {
            Kind::Teacher => {
                let names: Vec<String> = b
                    .holders
                    .iter()
                    .map(|h| {
                        dep.users
                            .iter()
                            .find(|u| &u.email == h)
                            .and_then(|u| u.name.clone())
                            .unwrap_or_else(|| h.clone())
                    })
                    .collect();
                names.join(", ")
            }
            Kind::School => b
                .schools
                .iter()
                .map(|&s| inst.schools[s].name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            Kind::District => b
                .schools
                .first()
                .map(|&s| inst.leas[inst.schools[s].lea].name.clone())
                .unwrap_or_default(),
            Kind::State => dep.settings.state.clone(),
            // Every school of a one-LEA deployment is that LEA's total, not the state's.
            Kind::Aggregate => match b.schools.len() {
                1 => inst.schools[b.schools[0]].name.clone(),
                n if n == inst.schools.len() && inst.leas.len() > 1 => dep.settings.state.clone(),
                _ => b
                    .schools
                    .first()
                    .map(|&s| inst.leas[inst.schools[s].lea].name.clone())
                    .unwrap_or_default(),
            },
        }
    }
}

/// Every bundle and who holds which.
#[derive(Debug, Default)]
pub struct Plan {
    pub bundles: Vec<Bundle>,
    /// The bundles each holder (lower-case email) holds, in order.
    holdings: HashMap<String, Vec<usize>>,
    /// Each large bundle's exams as a bit set (see [`Plan::holds`]).
    exam_sets: Vec<Option<Vec<u64>>>,
}

/// How many exams a bundle holds before [`Plan::holds`] keeps them as a
/// bit set rather than searching its sorted list.
const SET_FROM: usize = 1 << 16;

impl Plan {
    /// The plan of `bundles`, indexed by holder.
    pub fn new(bundles: Vec<Bundle>) -> Plan {
        let mut holdings: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, b) in bundles.iter().enumerate() {
            for h in &b.holders {
                let held = holdings.entry(h.to_ascii_lowercase()).or_default();
                if held.last() != Some(&i) {
                    held.push(i);
                }
            }
        }
        let exam_sets = bundles.iter().map(|b| exam_set(&b.exams)).collect();
        Plan {
            bundles,
            holdings,
            exam_sets,
        }
    }

    /// True when bundle `b` may show exam `e`. A district's bundle holds
    /// millions of exams, and a batch print's fingerprint asks this of
    /// every earlier result of its students for every reader: a bit set
    /// answers at once where a binary search missed the cache at each step.
    pub fn holds(&self, b: usize, e: usize) -> bool {
        match &self.exam_sets[b] {
            Some(bits) => bits.get(e / 64).is_some_and(|w| w >> (e % 64) & 1 == 1),
            None => self.bundles[b].exams.binary_search(&e).is_ok(),
        }
    }

    /// The bundles `email` holds.
    pub fn bundles_of<'a>(&'a self, email: &str) -> impl Iterator<Item = (usize, &'a Bundle)> + 'a {
        let held = self.holdings.get(&email.to_ascii_lowercase());
        held.into_iter().flatten().map(|&i| (i, &self.bundles[i]))
    }
}

/// `exams` (sorted) as a bit set, when there are enough to be worth one.
fn exam_set(exams: &[usize]) -> Option<Vec<u64>> {
    let last = *exams.last().filter(|_| exams.len() >= SET_FROM)?;
    let mut bits = vec![0u64; last / 64 + 1];
    for &e in exams {
        bits[e / 64] |= 1 << (e % 64);
    }
    Some(bits)
}

/// Plans the bundles for `users` over `data`; `years` says which years of a
/// student's results a teacher's group shows.
pub fn plan(data: &Dataset, catalog: &Catalog, users: &[User], years: GroupYears) -> Plan {
    let mut by_login: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (g, group) in data.groups.iter().enumerate() {
        for u in &group.users {
            by_login.entry(u.to_ascii_lowercase()).or_default().push(g);
        }
    }
    let mut by_contents: BTreeMap<(Kind, Vec<usize>, Vec<usize>), Vec<String>> = BTreeMap::new();
    for user in users {
        let assigned = by_login
            .get(&user.email.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for grant in &user.grants {
            if let Some(key) = scope_of(data, grant.role, &grant.scope, assigned) {
                let holders = by_contents.entry(key).or_default();
                if !holders.contains(&user.email) {
                    holders.push(user.email.clone());
                }
            }
        }
    }
    let index = Index::new(data);
    let group_ids = ids::group_ids(data);
    let bundles = by_contents
        .into_iter()
        .map(|((kind, schools, groups), holders)| {
            let id = ids::bundle(data, &group_ids, kind, &schools, &groups);
            let mut b = fill(data, catalog, &index, years, kind, schools, groups, holders);
            b.id = id;
            b
        })
        .collect();
    Plan::new(bundles)
}

/// Exams by student and by school, so that filling a bundle reads only its own.
struct Index {
    by_student: Vec<Vec<usize>>,
    by_school: Vec<Vec<usize>>,
}

impl Index {
    fn new(data: &Dataset) -> Index {
        let mut by_student = vec![Vec::new(); data.students.len()];
        let mut by_school = vec![Vec::new(); data.institutions.schools.len()];
        for (i, e) in data.exams.iter().enumerate() {
            by_student[e.student as usize].push(i);
            by_school[e.school as usize].push(i);
        }
        Index {
            by_student,
            by_school,
        }
    }
}

/// The kind, schools and groups a grant covers; `None` when it covers nothing.
fn scope_of(
    data: &Dataset,
    role: Role,
    scope: &Scope,
    assigned: &[usize],
) -> Option<(Kind, Vec<usize>, Vec<usize>)> {
    let inst = &data.institutions;
    let schools: Vec<usize> = match scope {
        Scope::School(id) => vec![inst.school(id)?],
        Scope::Lea(id) => {
            let lea = inst.lea(id)?;
            (0..inst.schools.len())
                .filter(|&s| inst.schools[s].lea == lea)
                .collect()
        }
        Scope::State => (0..inst.schools.len()).collect(),
    };
    let in_scope = |g: &crate::model::Group| schools.contains(&g.school);
    let kind = match (role, scope) {
        (Role::Teacher, _) => Kind::Teacher,
        (Role::SchoolAdmin, _) => Kind::School,
        (Role::DistrictAdmin, _) => Kind::District,
        (Role::StateAdmin, _) => Kind::State,
        (Role::AggregateReporter, _) => Kind::Aggregate,
    };
    let groups: Vec<usize> = match kind {
        Kind::Teacher => assigned
            .iter()
            .copied()
            .filter(|&g| in_scope(&data.groups[g]))
            .collect(),
        Kind::Aggregate => Vec::new(),
        _ => (0..data.groups.len())
            .filter(|&g| in_scope(&data.groups[g]))
            .collect(),
    };
    if kind == Kind::Teacher && groups.is_empty() {
        return None;
    }
    Some((
        kind,
        if kind == Kind::Teacher {
            Vec::new()
        } else {
            schools
        },
        groups,
    ))
}

/// The students and exams of a bundle.
#[allow(clippy::too_many_arguments)]
fn fill(
    data: &Dataset,
    catalog: &Catalog,
    index: &Index,
    years: GroupYears,
    kind: Kind,
    schools: Vec<usize>,
    groups: Vec<usize>,
    holders: Vec<String>,
) -> Bundle {
    let (students, exams) = if kind == Kind::Teacher {
        // Each student, with the subjects (None = all) and the last school
        // year their groups allow.
        let mut allowed: BTreeMap<StudentIdx, BTreeSet<(Option<&str>, u16)>> = BTreeMap::new();
        for &g in &groups {
            let group = &data.groups[g];
            let last = match years {
                GroupYears::ThroughGroupYear => group.school_year,
                GroupYears::All => u16::MAX,
            };
            for &s in &group.students {
                allowed
                    .entry(s)
                    .or_default()
                    .insert((group.subject.as_deref(), last));
            }
        }
        let mut exams: Vec<usize> = allowed
            .iter()
            .flat_map(|(&student, subjects)| {
                index.by_student[student as usize]
                    .iter()
                    .copied()
                    .filter(move |&e| {
                        let exam = &data.exams[e];
                        let subject = catalog.families
                            [data.assessments[exam.assessment as usize].family]
                            .subject
                            .as_str();
                        subjects.iter().any(|(s, last)| {
                            exam.school_year <= *last
                                && s.is_none_or(|s| s.eq_ignore_ascii_case(subject))
                        })
                    })
            })
            .collect();
        exams.sort_unstable();
        (allowed.into_keys().collect(), exams)
    } else {
        let mut exams: Vec<usize> = schools
            .iter()
            .flat_map(|&s| index.by_school[s].iter().copied())
            .collect();
        exams.sort_unstable();
        let students: BTreeSet<StudentIdx> = if kind.student_level() {
            exams
                .iter()
                .map(|&e| data.exams[e].student)
                .chain(
                    groups
                        .iter()
                        .flat_map(|&g| data.groups[g].students.iter().copied()),
                )
                .collect()
        } else {
            BTreeSet::new()
        };
        (students.into_iter().collect(), exams)
    };
    Bundle {
        id: String::new(),
        kind,
        schools,
        groups,
        students,
        exams,
        holders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_holds_exactly_its_exams_whether_listed_or_in_a_bit_set() {
        let bundle = |exams: Vec<usize>| Bundle {
            id: String::new(),
            kind: Kind::District,
            schools: Vec::new(),
            groups: Vec::new(),
            students: Vec::new(),
            exams,
            holders: Vec::new(),
        };
        let large: Vec<usize> = (0..SET_FROM * 3).filter(|e| e % 3 != 1).collect();
        let plan = Plan::new(vec![bundle(vec![2, 5, 64, 65]), bundle(large.clone())]);
        assert!(plan.exam_sets[0].is_none() && plan.exam_sets[1].is_some());
        for e in 0..SET_FROM * 3 + 130 {
            assert_eq!(plan.holds(0, e), [2, 5, 64, 65].contains(&e), "{e}");
            assert_eq!(plan.holds(1, e), large.binary_search(&e).is_ok(), "{e}");
        }
    }
}
