//! The pages written once and read by several bundles: student reports
//! and batch prints. Who may read each is decided in the site map.

use super::{results, Page};
use crate::access::{Plan, Shared, SiteMap};
use crate::aggregate;
use crate::deployment::Deployment;
use crate::paths;
use crate::render::views::{self, Base, SiteInfo};
use crate::render::Renderer;
use crate::stats::dashboard::Rules;
use crate::stats::elpi;
use anyhow::Result;
use serde::Serialize;

/// What the pages of every bundle draw on, computed once.
pub(super) struct Prepared {
    /// The aggregate reports' comparison rows.
    pub(super) comparisons: aggregate::Comparisons,
    /// The Dashboard preview's rules and every student's ELPAC results.
    pub(super) dashboard: (Rules, elpi::Results),
}

impl Prepared {
    pub(super) fn new(dep: &Deployment) -> Result<Prepared> {
        Ok(Prepared {
            comparisons: aggregate::Comparisons::new(dep),
            dashboard: (
                Rules::builtin().map_err(anyhow::Error::msg)?,
                elpi::Results::new(&dep.catalog, &dep.data),
            ),
        })
    }
}

/// The results of `student` that a batch print's reports may show: those
/// every reader of the print may see.
pub(super) fn visible(
    plan: &Plan,
    by_student: &[Vec<usize>],
    print: &Shared,
    student: u32,
) -> Vec<usize> {
    by_student[student as usize]
        .iter()
        .copied()
        .filter(|&e| SiteMap::print_shows(plan, print, e))
        .collect()
}

/// A batch print's title: its first unit's, its assessment and year.
pub(super) fn print_title(dep: &Deployment, map: &SiteMap, print: &Shared) -> String {
    let data = &dep.data;
    let (b, u) = print.origin;
    let first = &data.exams[print.exams[0]];
    format!(
        "{} · {} {}",
        results::title(dep, &map.units[b][u]),
        data.assessments[first.assessment as usize].name,
        views::school_year_label(first.school_year)
    )
}

/// Every exam index, by student.
pub(super) fn exams_by_student(dep: &Deployment) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); dep.data.students.len()];
    for (e, x) in dep.data.exams.iter().enumerate() {
        out[x.student as usize].push(e);
    }
    out
}

/// The base of a shared page: its Home link is the role chooser, which the
/// script replaces with the home page the reader came from.
fn shared_base(site: &SiteInfo) -> Base<'_> {
    Base {
        site,
        root: "../",
        home: Some("../index.html"),
        role: None,
    }
}

/// A student report: the student's history and an ISR per exam.
pub(super) fn report_page(
    dep: &Deployment,
    r: &Renderer,
    site: &SiteInfo,
    report: &Shared,
) -> Result<Page> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        name: &'a str,
        ssid: String,
        history: Vec<views::HistoryRow>,
        reports: Vec<views::Isr>,
    }
    let student = dep.data.exams[report.exams[0]].student;
    let (history, reports) = views::history(dep, &report.exams);
    let view = View {
        base: shared_base(site),
        name: &views::student_name(dep, student),
        ssid: dep.data.students[student as usize].ssid.to_string(),
        history,
        reports,
    };
    Ok(Page {
        path: paths::report(&report.id),
        bytes: r.render("student.html", &view)?.into_bytes(),
        readers: report.readers.clone(),
        part: Some(paths::report(&report.id)),
    })
}

/// A batch print: one ISR per student, each on its own printed page. The
/// previous results shown are those the site map lets every reader see.
pub(super) fn print_page(
    dep: &Deployment,
    plan: &Plan,
    map: &SiteMap,
    r: &Renderer,
    site: &SiteInfo,
    by_student: &[Vec<usize>],
    print: &Shared,
) -> Result<Page> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: &'a str,
        subtitle: &'a str,
        reports: Vec<views::Isr>,
    }
    let data = &dep.data;
    let mut exams = print.exams.clone();
    exams.sort_by_cached_key(|&e| views::student_name(dep, data.exams[e].student));
    let reports = exams
        .iter()
        .enumerate()
        .map(|(place, &e)| {
            let own = visible(plan, by_student, print, data.exams[e].student);
            views::isr(dep, e, place, &views::earlier(dep, e, &own))
        })
        .collect();
    let title = print_title(dep, map, print);
    let view = View {
        base: shared_base(site),
        title: &title,
        subtitle: "Batch print",
        reports,
    };
    Ok(Page {
        path: paths::print(&print.id),
        bytes: r.render("print.html", &view)?.into_bytes(),
        readers: print.readers.clone(),
        part: Some(paths::print(&print.id)),
    })
}

#[cfg(test)]
mod tests {
    use crate::access::Kind;
    use crate::paths;
    use crate::testing::{deployment, Site, ANA};

    /// The report on student `ssid` that bundle `b` links to.
    fn report<'a>(
        site: &'a Site,
        dep: &crate::deployment::Deployment,
        b: usize,
        ssid: &str,
    ) -> &'a str {
        let s = dep.data.student(ssid).unwrap();
        let n = site.map.report_of[b][&s];
        &site.pages[&paths::report(&site.map.reports[n].id)].0
    }

    #[test]
    fn a_student_report_shows_what_its_readers_may_see() {
        let dep = deployment();
        let site = Site::render(&dep);
        // The teacher's group is ELA: Ana's ELA history, from every school.
        let teacher = report(&site, &dep, site.bundle(Kind::Teacher), ANA);
        assert!(teacher.contains("Grade 4 ELA Summative") && teacher.contains("Previous results"));
        assert!(!teacher.contains("Math"));
        // School 100's administrator: what was taken at School 100.
        let school = report(&site, &dep, site.bundle(Kind::School), ANA);
        assert!(school.contains("Grade 5 Math Summative"));
        assert!(!school.contains("Grade 4 ELA Summative"));
        let district = report(&site, &dep, site.bundle(Kind::District), ANA);
        assert!(district.contains("Grade 4 ELA Summative") && district.contains("Math"));
    }

    #[test]
    fn a_batch_print_shows_earlier_results_only_where_every_reader_may() {
        let dep = deployment();
        let site = Site::render(&dep);
        let teacher = site.bundle(Kind::Teacher);
        let n = site.map.print_of[teacher][&(0, 0)];
        let print = &site.map.prints[n];
        let (text, readers) = &site.pages[&paths::print(&print.id)];
        assert_eq!(readers.len(), 3, "the teacher, the school and the district");
        assert!(text.contains("Period 1 · Grade 5 ELA Summative 2024–25"));
        assert!(text.contains("Lopez, Ana") && text.contains("Kim, Ben"));
        // School 100's administrator may not see Ana's grade 4 result.
        assert!(!text.contains("Grade 4 ELA Summative"));
    }
}
