//! Results pages: for each group and school grade of a bundle, an entry page
//! (the assessment chooser, the IAB dashboard and English learners'
//! progress) and one page per assessment and school year, as CERS shows one
//! assessment at a time. Each assessment page has its Results by Student
//! CSV, its batch print and its item analysis.
//!
//! Which units a bundle has and what each shows is decided in the site map
//! ([`crate::access::SiteMap`]); their names are in [`crate::paths`].

use super::dashboard;
use crate::access::{Bundle, Ids, Kind, Unit, UnitOf};
use crate::deployment::Deployment;
use crate::paths;
use crate::render::filters::Viewer;
use crate::render::views::{self, Base};
use crate::render::{self, analysis, Renderer};
use anyhow::Result;
use serde::Serialize;

/// How a unit names itself on its pages.
struct Named {
    title: String,
    subtitle: String,
    what: &'static str,
    /// A group's roster size (the "m" of the IAB dashboard's "n of m tested").
    roster: Option<usize>,
}

fn named(dep: &Deployment, unit: &Unit) -> Named {
    let data = &dep.data;
    let schools = &data.institutions.schools;
    match unit.of {
        UnitOf::Group(g) => {
            let group = &data.groups[g];
            Named {
                title: group.name.clone(),
                subtitle: format!(
                    "{} · {} · {} students",
                    schools[group.school].name,
                    views::school_year_label(group.school_year),
                    group.students.len()
                ),
                what: "group",
                roster: Some(group.students.len()),
            }
        }
        UnitOf::Grade(school, grade) => Named {
            title: format!("{} · {}", schools[school].name, views::grade_title(grade)),
            subtitle: "Results of students enrolled in this grade when tested".into(),
            what: "grade",
            roster: None,
        },
    }
}

/// A unit's title: the group's name, or the school and grade.
pub(super) fn title(dep: &Deployment, unit: &Unit) -> String {
    named(dep, unit).title
}

/// What one bundle's results pages need besides the unit.
pub(super) struct Context<'a> {
    pub(super) dep: &'a Deployment,
    pub(super) bundle: &'a Bundle,
    pub(super) renderer: &'a Renderer,
    pub(super) ids: &'a Ids,
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
    let groups = crate::access::section_groups(&dep.data, &unit.exams);
    let mut sections = views::sections(dep, cx.ids, &groups, viewer, suppress, cx.report);
    let choices: Vec<Choice> = sections
        .iter()
        .map(|s| Choice {
            year: s.year.clone(),
            subject: s.subject,
            kind: s.kind,
            name: s.name.clone(),
            href: paths::section(&unit.id, &s.id),
            results: s.summary.n,
        })
        .collect();
    let school_ref = dep.data.institutions.school_ref(unit.school as usize);
    let name = named(dep, unit);
    let page = Shape {
        unit,
        name: &name,
        school_ref: &school_ref,
        threshold: suppress.unwrap_or(0),
        choices: &choices,
    };
    for (k, s) in sections.iter_mut().enumerate() {
        let ((_, family, _), exams) = &groups[k];
        let fam = &dep.catalog.families[*family];
        if let Some(a) = analysis::analysis(dep, fam, exams).filter(|_| !s.summary.suppressed) {
            s.analysis = paths::analysis(&unit.id, &s.id);
            sink(
                s.analysis.clone(),
                analysis_page(r, base(), unit, &name, s, a)?,
            )?;
        }
        s.print = (cx.print)(k).unwrap_or_default();
        if !s.rows.is_empty() {
            s.csv = paths::section_csv(&unit.id, &s.id);
            let (header, rows) = views::section_csv(s);
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            sink(s.csv.clone(), render::csv(&header, &rows)?)?;
        }
    }
    for (k, s) in sections.into_iter().enumerate() {
        let html = page.assessment(r, base(), k, s)?;
        sink(choices[k].href.clone(), html)?;
    }
    let (iab_year, mut iabs) = views::iab_dashboard(dep, cx.ids, &groups, name.roster, suppress);
    for card in &mut iabs {
        card.href = paths::section(&unit.id, &card.section);
    }
    // Progress counts are per student: not for aggregate reporters.
    let progress = suppress
        .is_none()
        .then(|| dashboard::group_progress(dep, cx.elpac, &unit.exams))
        .flatten();
    sink(
        paths::unit(&unit.id),
        page.entry(r, base(), (iab_year, iabs), progress)?,
    )
}

/// What a unit's entry page and its assessment pages share.
struct Shape<'a> {
    unit: &'a Unit,
    name: &'a Named,
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
    /// The unit's entry page.
    entry: String,
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
            title: &self.name.title,
            subtitle: &self.name.subtitle,
            what: self.name.what,
            entry: paths::unit(&self.unit.id),
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
    name: &Named,
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
        title: format!("{} {} · {}", section.name, section.year, name.title),
        subtitle: &name.subtitle,
        back: paths::section(&unit.id, &section.id),
        a,
    };
    Ok(r.render("analysis.html", &view)?.into_bytes())
}

#[cfg(test)]
mod tests {
    use crate::access::Kind;
    use crate::paths;
    use crate::testing::{deployment, Site, ANA, BEN};

    #[test]
    fn the_entry_page_offers_each_assessment_of_the_unit() {
        let site = Site::render(&deployment());
        let school = site.bundle(Kind::School);
        let grade = site.map.units[school]
            .iter()
            .find(|u| u.id == "s-100-5")
            .unwrap();
        let entry = site.page(school, &paths::unit(&grade.id));
        for name in ["grade-5-ela-summative", "grade-5-math-summative"] {
            let href = paths::section(&grade.id, &format!("a2025-{name}"));
            assert!(entry.contains(&format!("href=\"{href}\"")), "{href}");
            site.page(school, &href);
        }
        assert!(!entry.contains("grade-4"), "another school's result");
    }

    #[test]
    fn an_assessment_page_summarises_and_lists_its_students() {
        let site = Site::render(&deployment());
        let teacher = site.bundle(Kind::Teacher);
        let group = &site.map.units[teacher][0].id;
        let section = "a2025-grade-5-ela-summative";
        let page = site.page(teacher, &paths::section(group, section));
        // n = 2, mean (2500 + 2600) / 2 with its standard error, one
        // student at Level 2 and one at Level 4.
        assert!(
            page.contains("2550 <span class=\"pm\">± 50.0</span>"),
            "the mean and its SEM"
        );
        assert_eq!(
            page.matches("50% <span class=\"count\">(1)</span>").count(),
            2
        );
        for name in ["Lopez, Ana", "Kim, Ben"] {
            assert!(page.contains(name), "{name}");
        }
        let csv = site.page(teacher, &paths::section_csv(group, section));
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), 2);
        // Distance from Standard: the Level 3 cut for grade 5 ELA is 2502.
        assert!(rows.iter().any(|r| r.contains(BEN) && r.ends_with(",98")));
        assert!(rows.iter().any(|r| r.contains(ANA) && r.ends_with(",-2")));
        // Without item detail there is no item analysis.
        assert!(site.pages.keys().all(|p| !p.ends_with("-analysis.html")));
    }

    #[test]
    fn aggregate_reporters_see_grade_summaries_without_rows() {
        let site = Site::render(&deployment());
        let reporter = site.bundle(Kind::Aggregate);
        let page = site.page(
            reporter,
            &paths::section("s-100-5", "a2025-grade-5-ela-summative"),
        );
        assert!(!page.contains("Results by Student"));
        assert!(site.paths_of(reporter).iter().all(|p| !p.ends_with(".csv")));
    }
}
