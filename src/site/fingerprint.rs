//! Fingerprints of what a part of the site shows, so that a rebuild can keep
//! the pages of a part whose fingerprint did not change without rendering
//! them (see [`crate::output::Output::kept`]).
//!
//! A fingerprint errs on the side of change. It covers:
//!
//! - everything every page may read: this program (its templates and rules
//!   are built in), the deployment's settings, catalog overrides, items and
//!   instructional resources ([`crate::deployment::CONFIG_FILES`]), the
//!   site's name and footer, and every school and LEA;
//! - every result the part shows, with its student, assessment and school,
//!   interned strings resolved, and its TRT detail;
//! - for a student report or a batch print, every result of its students,
//!   in any year and at any school (a report lists the student's history);
//!   for a results unit, its students and every ELPAC result of theirs, in
//!   any year and at any school, which English learners' progress reads;
//!   for a custom aggregate report, its comparison rows (the LEA's, the
//!   state's) as it shows them;
//! - the part's own names and links: its id, its bundle's kind, its group,
//!   its sections' ids and the ids of the reports and prints it links to.

use crate::access::{Bundle, Shared, SiteMap, Unit, UnitOf};
use crate::aggregate;
use crate::deployment::Deployment;
use crate::model::{Dataset, ExamDetail, Sym};
use crate::render::views::SiteInfo;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

type Hash = [u8; 32];

/// The fingerprints of one build, computed on first use.
pub(super) struct Fingerprints<'a> {
    dep: &'a Deployment,
    site: &'a SiteInfo,
    by_student: &'a [Vec<usize>],
    /// The families English learners' progress reads.
    elpac: (Option<usize>, Option<usize>),
    global: OnceLock<Hash>,
    exams: OnceLock<Vec<Hash>>,
    /// Each student's own fields (name, SSID, birth date), hashed.
    people: OnceLock<Vec<Hash>>,
    /// Each student's fingerprints: with every result of theirs, and with
    /// their ELPAC results ([`Shown`]).
    students: OnceLock<Vec<[Hash; 2]>>,
}

/// Which results of a student a part shows, wherever they were taken.
#[derive(Clone, Copy)]
enum Shown {
    /// All of them: a student report or a batch print lists the history.
    All = 0,
    /// Their ELPAC results, which English learners' progress reads.
    Elpac = 1,
}

impl<'a> Fingerprints<'a> {
    pub(super) fn new(
        dep: &'a Deployment,
        site: &'a SiteInfo,
        by_student: &'a [Vec<usize>],
    ) -> Fingerprints<'a> {
        Fingerprints {
            dep,
            site,
            by_student,
            elpac: crate::stats::elpi::families(&dep.catalog),
            global: OnceLock::new(),
            exams: OnceLock::new(),
            people: OnceLock::new(),
            students: OnceLock::new(),
        }
    }

    /// A hasher that holds what every page may read.
    fn start(&self, what: &str) -> Sha256 {
        let global = self.global.get_or_init(|| global(self.dep, self.site));
        let mut h = Sha256::new();
        h.update(global);
        h.update(what.as_bytes());
        h.update([0]);
        h
    }

    /// Computes every exam's and every student's fingerprints now, on
    /// every core. Left to their first use, inside one part's check, they
    /// would run on that part's thread alone: the other threads, wanting
    /// them too, would wait rather than help.
    pub(super) fn warm(&self) {
        self.all();
        self.student_digests();
    }

    /// Every exam's fingerprint.
    fn all(&self) -> &[Hash] {
        let people = self.people();
        self.exams.get_or_init(|| {
            (0..self.dep.data.exams.len())
                .into_par_iter()
                .map(|e| exam(self.dep, people, e))
                .collect()
        })
    }

    /// Each student's own fields, hashed once rather than with each of
    /// their results.
    fn people(&self) -> &[Hash] {
        self.people.get_or_init(|| {
            (self.dep.data.students.par_iter())
                .map(|s| Sha256::digest(format!("{s:?}")).into())
                .collect()
        })
    }

    /// Every student's fingerprints, each computed once: the student, and
    /// the results of theirs that each [`Shown`] keeps, in any year and at
    /// any school.
    fn student_digests(&self) -> &[[Hash; 2]] {
        let people = self.people();
        self.students.get_or_init(|| {
            let data = &self.dep.data;
            (0..data.students.len())
                .into_par_iter()
                .map(|s| {
                    let mut student = Sha256::new();
                    student.update(people[s]);
                    let digest = |shown: &dyn Fn(usize) -> bool| -> Hash {
                        let mut h = student.clone();
                        let own: Vec<usize> = (self.by_student[s].iter().copied())
                            .filter(|&e| shown(e))
                            .collect();
                        self.exams(&mut h, &own);
                        h.finalize().into()
                    };
                    [digest(&|_| true), digest(&|e| self.elpac(e))]
                })
                .collect()
        })
    }

    /// Adds each of `students` (sorted, deduplicated) with the results of
    /// theirs that `shown` keeps.
    fn students(&self, h: &mut Sha256, mut students: Vec<u32>, shown: Shown) {
        let digests = self.student_digests();
        students.sort_unstable();
        students.dedup();
        h.update((students.len() as u64).to_le_bytes());
        for s in students {
            h.update(digests[s as usize][shown as usize]);
        }
    }

    /// Whether exam `e` is an ELPAC result, which English learners' progress
    /// reads wherever it was taken; a results unit shows no other result of
    /// its students than its own.
    fn elpac(&self, e: usize) -> bool {
        let data = &self.dep.data;
        let f = Some(data.assessments[data.exams[e].assessment as usize].family);
        f == self.elpac.0 || f == self.elpac.1
    }

    /// Adds `exams` by their fingerprints, in the order given. The plan
    /// and the load fix that order, so the same results come in the same
    /// order; another order reads as a change, which errs on the safe side.
    fn exams(&self, h: &mut Sha256, exams: &[usize]) {
        let all = self.all();
        h.update((exams.len() as u64).to_le_bytes());
        for &e in exams {
            h.update(all[e]);
        }
    }

    /// A results unit of bundle `b`, with the links its pages carry.
    pub(super) fn unit(&self, b: &Bundle, unit: &Unit, links: &[String]) -> String {
        let data = &self.dep.data;
        let mut h = self.start("unit");
        h.update(format!(
            "{}\0{:?}\0{}\0{}\0{}\0",
            b.id, b.kind, unit.id, unit.school, unit.with_rows
        ));
        let mut students: Vec<u32> = unit.exams.iter().map(|&e| data.exams[e].student).collect();
        if let UnitOf::Group(g) = unit.of {
            let group = &data.groups[g];
            h.update(format!(
                "{}\0{}\0{:?}\0",
                group.name, group.school_year, group.subject
            ));
            for &s in &group.students {
                h.update(data.students[s as usize].ssid.as_bytes());
                h.update([0]);
            }
            students.extend(&group.students);
        }
        self.students(&mut h, students, Shown::Elpac);
        self.exams(&mut h, &unit.exams);
        for link in links {
            h.update(link.as_bytes());
            h.update([0]);
        }
        hex(h)
    }

    /// Bundle `b`'s custom aggregate report of family `f`, which `note`
    /// describes: the bundle's results of the family, and its comparison
    /// rows (its LEA's, the state's) as the report shows them.
    pub(super) fn aggregate(
        &self,
        comparisons: &aggregate::Comparisons,
        b: &Bundle,
        note: &str,
        f: usize,
    ) -> String {
        let data = &self.dep.data;
        let mut h = self.start("aggregate");
        let label = b.label(self.dep);
        let family = &self.dep.catalog.families[f].id;
        h.update(format!(
            "{}\0{:?}\0{label}\0{note}\0{family}\0",
            b.id, b.kind
        ));
        let own = comparisons.own(b, f);
        self.exams(&mut h, &own);
        let mut assessments: Vec<u32> = own.iter().map(|&e| data.exams[e].assessment).collect();
        assessments.sort_unstable();
        assessments.dedup();
        let shown = (f, &assessments[..]);
        aggregate::compared_cells(self.dep, comparisons, b, shown, |name, cell| {
            h.update(name.as_bytes());
            h.update([0]);
            for v in cell {
                h.update(v.to_le_bytes());
            }
        });
        hex(h)
    }

    /// The District/School Export (or the part of one) at `path`, of `exams`.
    pub(super) fn export(&self, path: &str, exams: &[usize]) -> String {
        let mut h = self.start("export");
        h.update(path.as_bytes());
        h.update([0]);
        self.exams(&mut h, exams);
        hex(h)
    }

    /// A student report.
    pub(super) fn report(&self, report: &Shared) -> String {
        let student = self.dep.data.exams[report.exams[0]].student;
        let mut h = self.start("report");
        h.update(report.id.as_bytes());
        self.students(&mut h, vec![student], Shown::All);
        self.exams(&mut h, &report.exams);
        hex(h)
    }

    /// A batch print titled `title`, whose reports may show `visible`
    /// earlier results.
    pub(super) fn print(&self, print: &Shared, title: &str, visible: &[usize]) -> String {
        let data = &self.dep.data;
        let mut h = self.start("print");
        h.update(format!("{}\0{title}\0", print.id));
        let students: Vec<u32> = print.exams.iter().map(|&e| data.exams[e].student).collect();
        self.students(&mut h, students, Shown::All);
        self.exams(&mut h, &print.exams);
        self.exams(&mut h, visible);
        hex(h)
    }
}

/// The links of bundle `i`'s unit `u`: its sections' ids, and the reports
/// and prints it links to.
pub(super) fn unit_links(map: &SiteMap, dep: &Deployment, i: usize, u: usize) -> Vec<String> {
    let data = &dep.data;
    let unit = &map.units[i][u];
    let mut links: Vec<String> = crate::access::section_groups(data, &unit.exams)
        .iter()
        .enumerate()
        .map(|(k, ((year, _, _), list))| {
            let print = map.print_of[i]
                .get(&(u, k))
                .map_or("", |&n| map.prints[n].id.as_str());
            let section = map.ids.section(*year, data.exams[list[0]].assessment);
            format!("{section} {print}")
        })
        .collect();
    let mut students: Vec<u32> = unit.exams.iter().map(|&e| data.exams[e].student).collect();
    if let UnitOf::Group(g) = unit.of {
        students.extend(&data.groups[g].students);
    }
    students.sort_unstable();
    students.dedup();
    links.extend(students.iter().map(|s| {
        map.report_of[i]
            .get(s)
            .map_or(String::new(), |&n| map.reports[n].id.clone())
    }));
    links
}

/// What every page may read; see the module's documentation.
fn global(dep: &Deployment, site: &SiteInfo) -> Hash {
    let mut h = Sha256::new();
    h.update(b"scoresite fingerprints 1\0");
    if let Ok(program) = std::env::current_exe().and_then(|p| crate::seal::file_digest(&p)) {
        h.update(program);
    } else {
        // No program to hash: nothing can be kept.
        h.update(crate::seal::random_bytes(32).unwrap_or_default());
    }
    for name in crate::deployment::CONFIG_FILES {
        h.update(name.as_bytes());
        match std::fs::read(dep.root.join(name)) {
            Ok(bytes) => h.update(Sha256::digest(bytes)),
            Err(_) => h.update(b"absent"),
        }
    }
    h.update(format!("{}\0{}\0", site.name, site.footer));
    let inst = &dep.data.institutions;
    h.update(format!("{:?}\0{:?}\0", inst.leas, inst.schools));
    h.finalize().into()
}

/// The bytes values' `Hash` writes, gathered to be hashed with SHA-256.
/// `Hash` ends each string with a byte UTF-8 never holds, gives each list
/// its length and each enum its variant, so no two values write the same
/// bytes (within one build of this program, which every fingerprint holds).
struct Written<'a>(&'a mut Vec<u8>);

impl std::hash::Hasher for Written<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// Unused: the bytes are what is kept.
    fn finish(&self) -> u64 {
        0
    }
}

/// A score's fields as `Hash` writes them (floats by their bits).
fn score(s: &crate::model::Score) -> (Option<u32>, Option<u32>, Option<u8>) {
    (s.scale.map(f32::to_bits), s.se.map(f32::to_bits), s.level)
}

/// The fingerprint of exam `e`: every field a page may show, with its
/// student, assessment and school, interned strings resolved, and its TRT
/// detail. `students` holds each student's own fields, hashed. The school
/// is known by its index: every fingerprint starts with every school
/// ([`global`]).
fn exam(dep: &Deployment, students: &[Hash], e: usize) -> Hash {
    use std::hash::Hash as _;
    let data = &dep.data;
    let x = &data.exams[e];
    let sym = |s: Option<Sym>| s.map_or("", |s| data.strings.get(s));
    let a = &data.assessments[x.assessment as usize];
    let d = &x.demographics;
    let mut bytes = Vec::with_capacity(256);
    let w = &mut Written(&mut bytes);
    let family = &dep.catalog.families[a.family].id;
    (
        x.school,
        &a.name,
        family,
        a.grade,
        x.school_year,
        x.submitted,
    )
        .hash(w);
    (sym(x.session), x.grade, x.completeness, x.condition).hash(w);
    (score(&x.overall), x.claim_levels).hash(w);
    x.alt.len().hash(w);
    for (column, s) in &x.alt {
        (column, score(s)).hash(w);
    }
    (d.yes, d.known, d.sex, d.elas, d.elas_start).hash(w);
    (sym(d.language), sym(d.language_alt), sym(x.accommodations)).hash(w);
    x.raw.len().hash(w);
    for (column, s) in &x.raw {
        (column, data.strings.get(*s)).hash(w);
    }
    (x.official.as_deref())
        .map(|o| [sym(o.condition_code), sym(o.include), sym(o.measure)])
        .hash(w);
    match data.details.get(&e) {
        Some(d) => {
            bytes.push(1);
            detail(data, d, &mut bytes);
        }
        None => bytes.push(0),
    }
    let mut h = Sha256::new();
    h.update(students[x.student as usize]);
    h.update(bytes);
    h.finalize().into()
}

/// Appends TRT detail to `out` as bytes, its interned strings resolved: the
/// same detail reads the same whatever else was loaded. Every list and
/// string is preceded by its length and every optional value by whether it
/// is there, so that no two details write the same bytes.
fn detail(data: &Dataset, d: &ExamDetail, out: &mut Vec<u8>) {
    fn len(out: &mut Vec<u8>, n: usize) {
        out.extend((n as u32).to_le_bytes());
    }
    let text = |out: &mut Vec<u8>, s: &str| {
        len(out, s.len());
        out.extend(s.as_bytes());
    };
    let sym = |out: &mut Vec<u8>, s: Sym| text(out, data.strings.get(s));
    let number = |out: &mut Vec<u8>, v: Option<f32>| match v {
        Some(v) => {
            out.push(1);
            out.extend(v.to_bits().to_le_bytes());
        }
        None => out.push(0),
    };
    len(out, d.items.len());
    for i in &d.items {
        sym(out, i.bank_key);
        sym(out, i.key);
        out.extend(i.position.to_le_bytes());
        sym(out, i.content_level);
        number(out, i.score);
        number(out, i.max_score);
        match i.chosen {
            Some(c) => {
                out.push(1);
                sym(out, c);
            }
            None => out.push(0),
        }
    }
    len(out, d.targets.len());
    for t in &d.targets {
        sym(out, t.target);
        number(out, t.student_relative);
        number(out, t.standard_met_relative);
    }
    len(out, d.traits.len());
    for t in &d.traits {
        sym(out, t.purpose);
        text(out, t.trait_code);
        out.push(t.score);
    }
}

fn hex(h: Sha256) -> String {
    crate::seal::hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use crate::access::Kind;
    use crate::deployment::Deployment;
    use crate::model::{Elas, Grade};
    use crate::output::{Output, Page, Part};
    use crate::testing::{deployment, map, ANA};
    use chrono::Datelike;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// Each part's fingerprint and pages, as a build renders them.
    #[derive(Default)]
    struct Parts {
        inputs: Mutex<BTreeMap<String, String>>,
        pages: Mutex<BTreeMap<String, BTreeMap<String, Vec<u8>>>>,
    }

    impl Output for Parts {
        fn page(&self, page: Page) -> anyhow::Result<()> {
            if let Some(key) = page.part {
                let mut pages = self.pages.lock().unwrap();
                pages.entry(key).or_default().insert(page.path, page.bytes);
            }
            Ok(())
        }

        fn kept(&self, part: &Part, input: &dyn Fn() -> String) -> anyhow::Result<bool> {
            let mut inputs = self.inputs.lock().unwrap();
            inputs.insert(part.key.clone(), input());
            Ok(false)
        }
    }

    fn parts(dep: &Deployment) -> Parts {
        let (plan, map) = map(&dep.data, &dep.catalog);
        let info = crate::render::views::SiteInfo {
            name: dep.settings.name.clone(),
            sandbox: false,
            footer: String::new(),
        };
        let parts = Parts::default();
        crate::site::render(dep, &plan, &map, &info, &parts).unwrap();
        parts
    }

    /// The test deployment at suppression `threshold` (0: none, so that the
    /// comparison rows show every figure) with Cy Diaz, who took
    /// grade 5 ELA at school 200 in 2025 (school 100's reports compare with
    /// it), and with Ana an
    /// English learner who took the Summative ELPAC at school 200 in 2024
    /// and at school 100 in 2025, so that school 100's results show her
    /// progress from a result elsewhere.
    fn with_elpac(threshold: u32) -> Deployment {
        let mut dep = deployment();
        dep.data = crate::testing::data(&dep.catalog, true);
        dep.settings.suppression_threshold = threshold;
        let family = dep.catalog.family("elpac").unwrap();
        let data = &mut dep.data;
        let ana = data.student(ANA).unwrap();
        let first = data.exams.iter().position(|x| x.student == ana).unwrap();
        for (year, school, grade, scale, level) in
            [(2024, 1, 4, 1500.0, 2), (2025, 0, 5, 1560.0, 3)]
        {
            let name = format!("Grade {grade} Summative ELPAC");
            let assessment = data.assessment(&name, family, || None);
            let mut x = data.exams[first].clone();
            x.assessment = assessment;
            x.school_year = year;
            x.school = school;
            x.grade = Grade::N(grade);
            x.overall.scale = Some(scale);
            x.overall.level = Some(level);
            x.demographics.elas = Some(Elas::El);
            x.submitted = x.submitted.with_year(year as i32).unwrap();
            data.exams.push(x);
        }
        dep
    }

    /// Every result changed in turn, by its scale score and level: each
    /// part either has a new fingerprint or renders the very pages it
    /// rendered before, so that a rebuild may keep it. A part of school
    /// 100 is kept when only Ana's 2024 ELA result at school 200 changes,
    /// and is not when her 2024 ELPAC result there does.
    #[test]
    fn a_part_whose_fingerprint_is_unchanged_renders_the_same_pages() {
        for threshold in [0, 10] {
            each_change_keeps_only_same_pages(threshold);
        }
    }

    fn each_change_keeps_only_same_pages(threshold: u32) {
        let base = with_elpac(threshold);
        let before = parts(&base);
        let (plan, _) = map(&base.data, &base.catalog);
        let school = plan
            .bundles
            .iter()
            .find(|b| b.kind == Kind::School)
            .unwrap();
        let school_unit = |parts: &Parts| -> (String, String) {
            let inputs = parts.inputs.lock().unwrap();
            let (key, input) = inputs
                .iter()
                .find(|(k, _)| k.contains(&format!("{}/s-", school.id)))
                .unwrap_or_else(|| panic!("no unit of {}: {:?}", school.id, inputs.keys()));
            (key.clone(), input.clone())
        };
        let (unit_key, unit_input) = school_unit(&before);
        assert!(before.pages.lock().unwrap()[&unit_key]
            .values()
            .any(|p| String::from_utf8_lossy(p).contains("English Learner Progress")));
        let data = &base.data;
        let ana = data.student(ANA).unwrap();
        let family = |e: usize| {
            &base.catalog.families[data.assessments[data.exams[e].assessment as usize].family].id
        };
        let mut kept_for_ela = None;
        let mut kept_for_elpac = None;
        for e in 0..data.exams.len() {
            let mut changed = with_elpac(threshold);
            let x = &mut changed.data.exams[e];
            x.overall.scale = x.overall.scale.map(|s| s + 60.0);
            x.overall.level = x.overall.level.map(|l| l % 4 + 1);
            let after = parts(&changed);
            let (inputs, pages) = (before.inputs.lock().unwrap(), before.pages.lock().unwrap());
            let (new_inputs, new_pages) =
                (after.inputs.lock().unwrap(), after.pages.lock().unwrap());
            let mut differ = 0;
            for (key, input) in inputs.iter() {
                if new_inputs.get(key) == Some(input) {
                    assert!(
                        new_pages.get(key) == pages.get(key),
                        "{key}: same fingerprint, other pages, when exam {e} changed (threshold {threshold})"
                    );
                } else {
                    differ += 1;
                }
            }
            assert!(differ > 0, "changing exam {e} changed no fingerprint");
            let x = &data.exams[e];
            if x.student == ana && x.school == 1 && x.school_year == 2024 {
                let same = new_inputs[&unit_key] == unit_input;
                match family(e).as_str() {
                    "elpac" => kept_for_elpac = Some(same),
                    _ => kept_for_ela = Some(same),
                }
            }
        }
        assert_eq!(kept_for_ela, Some(true), "a result the unit does not show");
        assert_eq!(
            kept_for_elpac,
            Some(false),
            "a prior ELPAC result the unit reads"
        );
    }
}
