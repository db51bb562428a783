//! Results pages: for each group and school grade of a bundle, an entry page
//! (the assessment chooser, the IAB dashboard and English learners'
//! progress) and one page per assessment and school year, as CERS shows one
//! assessment at a time. Each assessment page has its Results by Student
//! CSV, its batch print and its item analysis.
//!
//! ```text
//! b/N/UNIT.html              the entry page (UNIT: gG for a group, sS-GRADE for a school grade)
//! b/N/UNIT-aK.html           assessment K of the unit
//! b/N/UNIT-aK.csv            its Results by Student
//! b/N/UNIT-aK-analysis.html  its item, trait and target analysis
//! ```

use super::dashboard;
use crate::access::{Bundle, Kind};
use crate::deployment::Deployment;
use crate::render::filters::Viewer;
use crate::render::views::{self, Base};
use crate::render::{self, analysis, Renderer};
use anyhow::Result;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// A results page of a bundle: a group, or a school's enrolled grade.
pub(super) struct Unit {
    pub(super) name: String,
    pub(super) title: String,
    pub(super) subtitle: String,
    what: &'static str,
    pub(super) exams: Vec<usize>,
    pub(super) with_rows: bool,
    /// A group's roster size (the "m" of the IAB dashboard's "n of m tested").
    roster: Option<usize>,
    /// The group's school, or the school of the grade.
    school: u32,
}

impl Unit {
    /// The school's natural id (CDS code), as an RDW groups file names it.
    fn school_ref(&self, dep: &Deployment) -> String {
        dep.data.institutions.school_ref(self.school as usize)
    }
}

/// The bundle's group and school-grade pages.
pub(super) fn units(dep: &Deployment, b: &Bundle) -> Vec<Unit> {
    let data = &dep.data;
    let mut exams_of: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    for &e in &b.exams {
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
                    let subject = &dep.catalog.families
                        [data.assessments[x.assessment as usize].family]
                        .subject;
                    x.school_year == group.school_year
                        && group
                            .subject
                            .as_deref()
                            .is_none_or(|s| s.eq_ignore_ascii_case(subject))
                })
                .collect();
            Unit {
                name: format!("g{g}"),
                title: group.name.clone(),
                subtitle: format!(
                    "{} · {} · {} students",
                    data.institutions.schools[group.school].name,
                    views::school_year_label(group.school_year),
                    group.students.len()
                ),
                what: "group",
                exams,
                with_rows: true,
                roster: Some(group.students.len()),
                school: group.school as u32,
            }
        })
        .collect();
    out.extend(
        views::by_school_grade(dep, b)
            .into_iter()
            .map(|((school, grade), exams)| Unit {
                name: format!("s{school}-{grade}"),
                title: format!(
                    "{} · {}",
                    data.institutions.schools[school].name,
                    views::grade_title(grade)
                ),
                subtitle: "Results of students enrolled in this grade when tested".into(),
                what: "grade",
                exams,
                with_rows: b.kind.student_level() && b.kind != Kind::Teacher,
                roster: None,
                school: school as u32,
            }),
    );
    out
}

/// What one bundle's results pages need besides the unit.
pub(super) struct Context<'a> {
    pub(super) dep: &'a Deployment,
    pub(super) bundle: &'a Bundle,
    pub(super) renderer: &'a Renderer,
    /// Student → the link to their report.
    pub(super) report: &'a dyn Fn(u32) -> Option<String>,
    /// Section → the link to its batch print.
    pub(super) print: &'a dyn Fn(usize) -> Option<String>,
    pub(super) elpac: &'a crate::stats::elpi::Results,
}

/// An assessment as the chooser lists it.
#[derive(Serialize)]
struct Choice {
    year: String,
    subject: &'static str,
    kind: &'static str,
    name: String,
    href: String,
    results: usize,
}

/// Every page of one unit, into `sink` (a path in the bundle's directory, the bytes).
pub(super) fn pages<'s>(
    cx: &Context,
    unit: &Unit,
    base: &dyn Fn() -> Base<'s>,
    sink: &dyn Fn(String, Vec<u8>) -> Result<()>,
) -> Result<()> {
    let (dep, b, r) = (cx.dep, cx.bundle, cx.renderer);
    let suppress =
        (b.kind == Kind::Aggregate).then_some(dep.settings.suppression_threshold as usize);
    let viewer = unit.with_rows.then_some(Viewer {
        admin: b.kind.admin(),
        school: unit.school,
    });
    let groups = views::section_groups(dep, &unit.exams);
    let mut sections = views::sections(dep, &groups, viewer, suppress, cx.report);
    let choices: Vec<Choice> = sections
        .iter()
        .map(|s| Choice {
            year: s.year.clone(),
            subject: s.subject,
            kind: s.kind,
            name: s.name.clone(),
            href: format!("{}-{}.html", unit.name, s.id),
            results: s.summary.n,
        })
        .collect();
    let school_ref = unit.school_ref(dep);
    let page = Shape {
        unit,
        school_ref: &school_ref,
        threshold: suppress.unwrap_or(0),
        choices: &choices,
    };
    for (k, s) in sections.iter_mut().enumerate() {
        let ((_, family, _), exams) = &groups[k];
        let fam = &dep.catalog.families[*family];
        if let Some(a) = analysis::analysis(dep, fam, exams).filter(|_| !s.summary.suppressed) {
            s.analysis = format!("{}-{}-analysis.html", unit.name, s.id);
            sink(s.analysis.clone(), analysis_page(r, base(), unit, s, a)?)?;
        }
        s.print = (cx.print)(k).unwrap_or_default();
        if !s.rows.is_empty() {
            s.csv = format!("{}-{}.csv", unit.name, s.id);
            let (header, rows) = views::section_csv(s);
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            sink(s.csv.clone(), render::csv(&header, &rows)?)?;
        }
    }
    for (k, s) in sections.into_iter().enumerate() {
        let html = page.assessment(r, base(), k, s)?;
        sink(choices[k].href.clone(), html)?;
    }
    let iabs = views::iab_dashboard(dep, &groups, unit.roster, suppress);
    // Progress counts are per student: not for aggregate reporters.
    let progress = suppress
        .is_none()
        .then(|| dashboard::group_progress(dep, cx.elpac, &unit.exams))
        .flatten();
    sink(
        format!("{}.html", unit.name),
        page.entry(r, base(), iabs, progress)?,
    )
}

/// What a unit's entry page and its assessment pages share.
struct Shape<'a> {
    unit: &'a Unit,
    school_ref: &'a str,
    threshold: usize,
    choices: &'a [Choice],
}

/// The parts every results page shows.
#[derive(Serialize)]
struct Common<'a> {
    #[serde(flatten)]
    base: Base<'a>,
    title: &'a str,
    subtitle: &'a str,
    what: &'a str,
    unit: &'a str,
    /// The school's natural id, for the groups a user saves from the page.
    school_ref: &'a str,
    threshold: usize,
    choices: &'a [Choice],
    years: Vec<&'a str>,
    /// The school year the chooser starts at: the page's, or the latest.
    selected_year: &'a str,
    subjects: Vec<&'a str>,
    kinds: Vec<&'a str>,
}

impl<'a> Shape<'a> {
    fn common(&self, base: Base<'a>, current: Option<usize>) -> Common<'a> {
        /// Distinct values in first-seen order.
        fn distinct<'b>(values: impl Iterator<Item = &'b str>) -> Vec<&'b str> {
            let mut out: Vec<&str> = Vec::new();
            for v in values {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            out
        }
        let mut subjects = distinct(self.choices.iter().map(|c| c.subject));
        subjects.sort_unstable();
        Common {
            base,
            title: &self.unit.title,
            subtitle: &self.unit.subtitle,
            what: self.unit.what,
            unit: &self.unit.name,
            school_ref: self.school_ref,
            threshold: self.threshold,
            choices: self.choices,
            years: distinct(self.choices.iter().map(|c| c.year.as_str())),
            selected_year: current
                .or((!self.choices.is_empty()).then_some(0))
                .map_or("", |k| self.choices[k].year.as_str()),
            subjects,
            kinds: distinct(self.choices.iter().map(|c| c.kind)),
        }
    }

    /// The entry page: the chooser, the IAB dashboard and the English
    /// learners' progress.
    fn entry(
        &self,
        r: &Renderer,
        base: Base<'a>,
        (iab_year, iabs): (String, Vec<views::IabCard>),
        progress: Option<dashboard::GroupProgress>,
    ) -> Result<Vec<u8>> {
        #[derive(Serialize)]
        struct View<'a> {
            #[serde(flatten)]
            common: Common<'a>,
            iab_year: String,
            iabs: Vec<views::IabCard>,
            progress: Option<dashboard::GroupProgress>,
        }
        let view = View {
            common: self.common(base, None),
            iab_year,
            iabs,
            progress,
        };
        Ok(r.render("results.html", &view)?.into_bytes())
    }

    /// The page of section `k`.
    fn assessment(
        &self,
        r: &Renderer,
        base: Base<'a>,
        k: usize,
        s: views::Section,
    ) -> Result<Vec<u8>> {
        #[derive(Serialize)]
        struct View<'a> {
            #[serde(flatten)]
            common: Common<'a>,
            current: usize,
            s: views::Section,
        }
        let view = View {
            common: self.common(base, Some(k)),
            current: k,
            s,
        };
        Ok(r.render("assessment.html", &view)?.into_bytes())
    }
}

/// The analysis page of one section: items, distractors, traits, targets.
fn analysis_page(
    r: &Renderer,
    base: Base,
    unit: &Unit,
    section: &views::Section,
    a: analysis::Analysis,
) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: String,
        subtitle: &'a str,
        back: String,
        a: analysis::Analysis,
    }
    let view = View {
        base,
        title: format!("{} {} · {}", section.name, section.year, unit.title),
        subtitle: &unit.subtitle,
        back: format!("{}-{}.html", unit.name, section.id),
        a,
    };
    Ok(r.render("analysis.html", &view)?.into_bytes())
}
