//! The site map: every results page of every bundle, and the pages several
//! bundles share (student reports and batch prints) with exactly who may
//! read each, decided before anything renders.
//!
//! - A bundle has a results unit per group it shows and, above teachers,
//!   per school and enrolled grade.
//! - A student report shows one student's exams that a bundle may see. It is
//!   written once per distinct set of exams, and readable by exactly the
//!   bundles that show that set.
//! - A batch print shows one summative assessment of one unit. It is written
//!   once per distinct set of exams; the earlier results each report in it
//!   shows are those that every reader of the print may see.

use super::ids::{self, Ids};
use super::{Bundle, Kind, Plan};
use crate::catalog::{self, Catalog};
use crate::model::{Dataset, Grade};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// What a results unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitOf {
    /// A group (index into the dataset's groups).
    Group(usize),
    /// A school (index into institutions) and enrolled grade.
    Grade(usize, Grade),
}

/// A bundle's results unit: a group, or a school's enrolled grade.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Its stable id, the stem of its pages' names.
    pub id: String,
    pub of: UnitOf,
    /// The exams it shows.
    pub exams: Vec<usize>,
    /// True when it lists students (Results by Student).
    pub with_rows: bool,
    /// The group's school, or the school of the grade.
    pub school: u32,
}

/// A page written once and read by several bundles.
#[derive(Debug, Clone)]
pub struct Shared {
    /// Its stable id, the stem of its page name.
    pub id: String,
    /// The exams it shows, sorted.
    pub exams: Vec<usize>,
    /// The bundles that may read it (indices into the plan), sorted.
    pub readers: Vec<usize>,
    /// The first bundle and unit that shows it (prints), for its title.
    pub origin: (usize, usize),
}

/// (school year, family, assessment name): one assessment section of a unit.
pub type SectionKey = (u16, usize, String);

/// Every unit and shared page of a plan.
pub struct SiteMap {
    pub ids: Ids,
    /// Per bundle: its units.
    pub units: Vec<Vec<Unit>>,
    /// One per student and set of exams shown.
    pub reports: Vec<Shared>,
    /// Per bundle: student → report.
    pub report_of: Vec<FxHashMap<u32, usize>>,
    /// One per summative assessment section with students.
    pub prints: Vec<Shared>,
    /// Per bundle: (unit, section) → print.
    pub print_of: Vec<FxHashMap<(usize, usize), usize>>,
}

impl SiteMap {
    /// The site map of `plan`; `key` keys the names derived from students.
    pub fn new(data: &Dataset, catalog: &Catalog, plan: &Plan, key: &[u8]) -> SiteMap {
        let ids = Ids::new(data, key);
        let units: Vec<Vec<Unit>> = plan
            .bundles
            .par_iter()
            .map(|b| units(data, catalog, &ids, b))
            .collect();
        let mut map = SiteMap {
            ids,
            units: Vec::new(),
            reports: Vec::new(),
            report_of: Vec::new(),
            prints: Vec::new(),
            print_of: Vec::new(),
        };
        let mut reports = FxHashMap::default();
        let mut prints = FxHashMap::default();
        // Each bundle's pages are found in parallel, a few bundles at a time
        // so that their lists never all wait at once; they are shared in
        // plan order, which numbers the shared pages.
        let order: Vec<usize> = (0..plan.bundles.len()).collect();
        for chunk in order.chunks(2 * rayon::current_num_threads().max(1)) {
            let found: Vec<Found> = chunk
                .par_iter()
                .map(|&i| found(data, catalog, &plan.bundles[i], &units[i]))
                .collect();
            for (&i, found) in chunk.iter().zip(found) {
                let mut report_of = FxHashMap::default();
                let mut print_of = FxHashMap::default();
                for (s, exams) in found.reports {
                    let n = share(&mut map.reports, &mut reports, (i, 0), exams);
                    report_of.insert(s, n);
                }
                for (at, exams) in found.prints {
                    let n = share(&mut map.prints, &mut prints, (i, at.0), exams);
                    print_of.insert(at, n);
                }
                map.report_of.push(report_of);
                map.print_of.push(print_of);
            }
        }
        let ids = &map.ids;
        (map.reports.par_iter_mut())
            .chain(map.prints.par_iter_mut())
            .for_each(|page| page.id = ids.exams(data, &page.exams));
        map.units = units;
        map
    }

    /// True when every reader of `print` may see exam `e`: the earlier
    /// results its reports may show.
    pub fn print_shows(plan: &Plan, print: &Shared, e: usize) -> bool {
        print.readers.iter().all(|&b| plan.holds(b, e))
    }
}

/// The shared pages one bundle shows: a student-level bundle's report of
/// each student, and its print of each summative section of a unit with
/// rows, by (unit, section).
#[derive(Default)]
struct Found {
    reports: BTreeMap<u32, Vec<usize>>,
    prints: Vec<((usize, usize), Vec<usize>)>,
}

/// The shared pages bundle `b`, whose units are `units`, shows.
fn found(data: &Dataset, catalog: &Catalog, b: &Bundle, units: &[Unit]) -> Found {
    let mut found = Found::default();
    if !b.kind.student_level() {
        return found;
    }
    for &e in &b.exams {
        let student = data.exams[e].student;
        found.reports.entry(student).or_default().push(e);
    }
    for (u, unit) in units.iter().enumerate().filter(|(_, u)| u.with_rows) {
        let sections = section_groups(data, &unit.exams).into_iter().enumerate();
        for (k, ((_, family, _), exams)) in sections {
            if catalog.families[family].kind == catalog::Kind::Summative {
                found.prints.push(((u, k), exams));
            }
        }
    }
    found
}

/// The shared page showing `exams` (reused when one exists), now readable by
/// the bundle of `origin`.
fn share(
    pages: &mut Vec<Shared>,
    index: &mut FxHashMap<Vec<usize>, usize>,
    origin: (usize, usize),
    mut exams: Vec<usize>,
) -> usize {
    exams.sort_unstable();
    let n = *index.entry(exams).or_insert_with_key(|exams| {
        pages.push(Shared {
            id: String::new(),
            exams: exams.clone(),
            readers: Vec::new(),
            origin,
        });
        pages.len() - 1
    });
    if pages[n].readers.last() != Some(&origin.0) {
        pages[n].readers.push(origin.0);
    }
    n
}

/// A bundle's units: its groups, then (above teachers) its school grades.
fn units(data: &Dataset, catalog: &Catalog, ids: &Ids, b: &Bundle) -> Vec<Unit> {
    // A teacher's groups need each student's exams; a school or district,
    // whose bundle has no groups, does not.
    let mut exams_of: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    for &e in b.exams.iter().filter(|_| !b.groups.is_empty()) {
        exams_of.entry(data.exams[e].student).or_default().push(e);
    }
    let mut out: Vec<Unit> = b
        .groups
        .iter()
        .map(|&g| {
            let group = &data.groups[g];
            let exams = group
                .students
                .iter()
                .flat_map(|s| exams_of.get(s).into_iter().flatten().copied())
                .filter(|&e| {
                    let x = &data.exams[e];
                    let subject =
                        &catalog.families[data.assessments[x.assessment as usize].family].subject;
                    x.school_year == group.school_year
                        && group
                            .subject
                            .as_deref()
                            .is_none_or(|s| s.eq_ignore_ascii_case(subject))
                })
                .collect();
            Unit {
                id: format!("g-{}", ids.group(g)),
                of: UnitOf::Group(g),
                exams,
                with_rows: true,
                school: group.school as u32,
            }
        })
        .collect();
    if b.kind != Kind::Teacher {
        out.extend(
            by_school_grade(data, b)
                .into_iter()
                .map(|((school, grade), exams)| Unit {
                    id: ids::school_grade(data, school, grade),
                    of: UnitOf::Grade(school, grade),
                    exams,
                    with_rows: b.kind.student_level(),
                    school: school as u32,
                }),
        );
    }
    out
}

/// Exams of `bundle` grouped by (school, enrolled grade), each group in
/// the bundle's order.
pub fn by_school_grade(data: &Dataset, bundle: &Bundle) -> BTreeMap<(usize, Grade), Vec<usize>> {
    let mut keyed: Vec<((usize, Grade), usize)> = (bundle.exams.iter().enumerate())
        .map(|(i, &e)| ((data.exams[e].school as usize, data.exams[e].grade), i))
        .collect();
    keyed.sort_unstable();
    keyed
        .chunk_by(|a, b| a.0 == b.0)
        .map(|run| {
            (
                run[0].0,
                run.iter().map(|&(_, i)| bundle.exams[i]).collect(),
            )
        })
        .collect()
}

/// `exams` by assessment section: latest school year first, then family and
/// assessment name; each section's exams in the order given.
pub fn section_groups(data: &Dataset, exams: &[usize]) -> Vec<(SectionKey, Vec<usize>)> {
    // Sorting (year, assessment, position) groups the exams, in order, by
    // comparing integers; only the few groups' names are compared.
    let mut keyed: Vec<(std::cmp::Reverse<u16>, u32, u32)> = (exams.iter().enumerate())
        .map(|(i, &e)| {
            let x = &data.exams[e];
            (std::cmp::Reverse(x.school_year), x.assessment, i as u32)
        })
        .collect();
    keyed.sort_unstable();
    let mut runs: Vec<_> = keyed
        .chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
        .map(|run| {
            let a = &data.assessments[run[0].1 as usize];
            ((run[0].0, a.family, a.name.as_str()), run)
        })
        .collect();
    runs.sort_by_key(|(key, _)| *key);
    // Assessments of one family and name make one section.
    runs.chunk_by(|a, b| a.0 == b.0)
        .map(|same| {
            let ((year, family, name), _) = same[0];
            let mut at: Vec<u32> = same
                .iter()
                .flat_map(|(_, run)| run.iter().map(|k| k.2))
                .collect();
            if same.len() > 1 {
                at.sort_unstable();
            }
            let list = at.into_iter().map(|i| exams[i as usize]).collect();
            ((year.0, family, name.to_string()), list)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{data, map, ANA, BEN};

    fn bundle(plan: &Plan, kind: Kind) -> usize {
        plan.bundles.iter().position(|b| b.kind == kind).unwrap()
    }

    #[test]
    fn sections_group_by_year_family_and_name_keeping_the_order_given() {
        let catalog = Catalog::builtin().unwrap();
        let mut data = data(&catalog, true);
        // Two assessments of one family and name (grades apart) make one section.
        let first = &data.exams[0];
        let a = first.assessment as usize;
        let b = (data.exams.iter())
            .find(|x| x.school_year == first.school_year && x.assessment as usize != a)
            .expect("two assessments in one year")
            .assessment as usize;
        data.assessments[b].family = data.assessments[a].family;
        data.assessments[b].name = data.assessments[a].name.clone();
        let mut exams: Vec<usize> = (0..data.exams.len()).rev().collect();
        let third = exams.len() / 3;
        exams.rotate_left(third);
        let mut expected: BTreeMap<(std::cmp::Reverse<u16>, usize, String), Vec<usize>> =
            BTreeMap::new();
        for &e in &exams {
            let x = &data.exams[e];
            let a = &data.assessments[x.assessment as usize];
            let key = (std::cmp::Reverse(x.school_year), a.family, a.name.clone());
            expected.entry(key).or_default().push(e);
        }
        let expected: Vec<(SectionKey, Vec<usize>)> = expected
            .into_iter()
            .map(|((y, f, n), list)| ((y.0, f, n), list))
            .collect();
        assert!(expected.iter().any(|(_, list)| {
            let of = |e: &usize| data.exams[*e].assessment as usize;
            list.iter().any(|e| of(e) == a) && list.iter().any(|e| of(e) == b)
        }));
        assert_eq!(section_groups(&data, &exams), expected);
    }

    #[test]
    fn a_report_is_read_by_exactly_the_student_level_bundles_that_show_all_its_exams() {
        let catalog = Catalog::builtin().unwrap();
        let data = data(&catalog, false);
        let (plan, map) = map(&data, &catalog);
        for report in &map.reports {
            let student = data.exams[report.exams[0]].student;
            let showing: Vec<usize> = (0..plan.bundles.len())
                .filter(|&b| plan.bundles[b].kind.student_level())
                .filter(|&b| {
                    let own: Vec<usize> = (plan.bundles[b].exams.iter().copied())
                        .filter(|&e| data.exams[e].student == student)
                        .collect();
                    own == report.exams
                })
                .collect();
            assert_eq!(report.readers, showing, "report {}", report.id);
        }
        // Student 2's one result is seen alike by the teacher, the school
        // and the district: one report for the three. Student 1's three
        // bundles each see a different history: three reports.
        let of = |ssid: &str| {
            let s = data.student(ssid).unwrap();
            let mut readers: Vec<Vec<usize>> = map
                .reports
                .iter()
                .filter(|r| data.exams[r.exams[0]].student == s)
                .map(|r| r.readers.clone())
                .collect();
            readers.sort();
            readers
        };
        let (t, a, d) = (
            bundle(&plan, Kind::Teacher),
            bundle(&plan, Kind::School),
            bundle(&plan, Kind::District),
        );
        let mut three = vec![t, a, d];
        three.sort();
        assert_eq!(of(BEN), vec![three]);
        assert_eq!(of(ANA).len(), 3);
        let agg = bundle(&plan, Kind::Aggregate);
        assert!(
            map.report_of[agg].is_empty(),
            "no student pages for aggregates"
        );
    }

    #[test]
    fn a_print_shows_only_earlier_results_every_reader_may_see() {
        let catalog = Catalog::builtin().unwrap();
        let data = data(&catalog, false);
        let (plan, map) = map(&data, &catalog);
        // The group's ELA 2025 results: the teacher's group page, the
        // school's and district's group and grade pages share one print.
        let ela25: Vec<usize> = vec![0, 3];
        let prints: Vec<&Shared> = map.prints.iter().filter(|p| p.exams == ela25).collect();
        assert_eq!(prints.len(), 1);
        let print = prints[0];
        assert_eq!(print.readers.len(), 3);
        // Student 1's 2024 result at school 200: the teacher and the
        // district see it, the school's administrator does not.
        assert!(!SiteMap::print_shows(&plan, print, 2));
        assert!(SiteMap::print_shows(&plan, print, 0));
        let teacher = bundle(&plan, Kind::Teacher);
        assert!(plan.bundles[teacher].exams.contains(&2));
    }

    #[test]
    fn names_come_from_what_pages_show_not_from_positions() {
        let catalog = Catalog::builtin().unwrap();
        let data = data(&catalog, false);
        let (plan, map) = map(&data, &catalog);
        let ids: Vec<&str> = plan.bundles.iter().map(|b| b.id.as_str()).collect();
        assert!(ids.contains(&"school-s100"), "{ids:?}");
        assert!(ids.contains(&"district-lL1"), "{ids:?}");
        assert!(ids.contains(&"aggregate-lL1"), "{ids:?}");
        assert!(ids.iter().any(|i| i.starts_with("teacher-")));
        let a = bundle(&plan, Kind::School);
        let units: Vec<&str> = map.units[a].iter().map(|u| u.id.as_str()).collect();
        assert_eq!(units.len(), 2, "the group and grade 5: {units:?}");
        assert!(units.contains(&"s-100-5"));
        assert_eq!(
            map.ids.section(2025, data.exams[0].assessment),
            "a2025-grade-5-ela-summative"
        );

        // More data elsewhere — a new student and group at school 200,
        // loaded first — renames nothing that was there.
        let more = crate::testing::data(&catalog, true);
        let (plan2, map2) = crate::testing::map(&more, &catalog);
        let report_ids = |m: &SiteMap, d: &Dataset, ssid: &str| -> Vec<String> {
            let s = d.student(ssid).unwrap();
            let mut v: Vec<String> = (m.reports.iter())
                .filter(|r| d.exams[r.exams[0]].student == s)
                .map(|r| r.id.clone())
                .collect();
            v.sort();
            v
        };
        assert_eq!(report_ids(&map, &data, ANA), report_ids(&map2, &more, ANA));
        assert_eq!(map.ids.group(0), map2.ids.group(1));
        for b in &plan.bundles {
            if b.kind != Kind::Teacher {
                assert!(plan2.bundles.iter().any(|c| c.id == b.id), "{}", b.id);
            }
        }
        // A key of another deployment names student pages otherwise.
        let other = SiteMap::new(&data, &catalog, &plan, b"another key");
        assert_ne!(map.reports[0].id, other.reports[0].id);
    }
}
