//! The pages written once and read by several bundles: student reports
//! and batch prints, and which bundles may read each.

use super::{Page, Unit};
use crate::access::Plan;
use crate::aggregate;
use crate::catalog;
use crate::deployment::Deployment;
use crate::render::views::{self, Base, SiteInfo};
use crate::render::Renderer;
use crate::stats::dashboard::Rules;
use crate::stats::elpi;
use anyhow::Result;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// A page written once for every bundle that shows the same exams.
pub(super) struct SharedPage {
    pub(super) title: String,
    pub(super) exams: Vec<usize>,
    pub(super) readers: Vec<usize>,
}

/// The shared pages and, per bundle, where its links to them go.
pub(super) struct Shared {
    /// One per student and set of visible exams.
    pub(super) reports: Vec<SharedPage>,
    /// Per bundle: student → report.
    pub(super) report_of: Vec<FxHashMap<u32, usize>>,
    /// One per summative assessment section with students.
    pub(super) prints: Vec<SharedPage>,
    /// Per bundle: (unit, section) → print.
    pub(super) print_of: Vec<FxHashMap<(usize, usize), usize>>,
    /// The aggregate reports' comparison rows.
    pub(super) comparisons: aggregate::Comparisons,
    /// The Dashboard preview's rules and every student's ELPAC results.
    pub(super) dashboard: (Rules, elpi::Results),
}

impl Shared {
    pub(super) fn plan(dep: &Deployment, plan: &Plan, units: &[Vec<Unit>]) -> Result<Shared> {
        let data = &dep.data;
        let rules = Rules::builtin().map_err(anyhow::Error::msg)?;
        let mut shared = Shared {
            reports: Vec::new(),
            report_of: Vec::new(),
            prints: Vec::new(),
            print_of: Vec::new(),
            comparisons: aggregate::Comparisons::new(dep),
            dashboard: (rules, elpi::Results::new(&dep.catalog, data)),
        };
        let mut reports: FxHashMap<Vec<usize>, usize> = FxHashMap::default();
        let mut prints: FxHashMap<Vec<usize>, usize> = FxHashMap::default();
        for (i, b) in plan.bundles.iter().enumerate() {
            let mut report_of = FxHashMap::default();
            let mut print_of = FxHashMap::default();
            if b.kind.student_level() {
                let mut exams_of: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
                for &e in &b.exams {
                    exams_of.entry(data.exams[e].student).or_default().push(e);
                }
                for (s, exams) in exams_of {
                    let title = views::student_name(dep, s);
                    let n = share(&mut shared.reports, &mut reports, i, exams, || title);
                    report_of.insert(s, n);
                }
                for (u, unit) in units[i].iter().enumerate().filter(|(_, u)| u.with_rows) {
                    for (k, ((year, family, name), exams)) in
                        views::section_groups(dep, &unit.exams)
                            .into_iter()
                            .enumerate()
                    {
                        if dep.catalog.families[family].kind != catalog::Kind::Summative {
                            continue;
                        }
                        let title = || {
                            format!("{} · {name} {}", unit.title, views::school_year_label(year))
                        };
                        let n = share(&mut shared.prints, &mut prints, i, exams, title);
                        print_of.insert((u, k), n);
                    }
                }
            }
            shared.report_of.push(report_of);
            shared.print_of.push(print_of);
        }
        Ok(shared)
    }
}

/// The shared page showing `exams` (reused when one exists), now readable by `bundle`.
fn share(
    pages: &mut Vec<SharedPage>,
    index: &mut FxHashMap<Vec<usize>, usize>,
    bundle: usize,
    mut exams: Vec<usize>,
    title: impl FnOnce() -> String,
) -> usize {
    exams.sort_unstable();
    let n = *index.entry(exams).or_insert_with_key(|exams| {
        pages.push(SharedPage {
            title: title(),
            exams: exams.clone(),
            readers: Vec::new(),
        });
        pages.len() - 1
    });
    if pages[n].readers.last() != Some(&bundle) {
        pages[n].readers.push(bundle);
    }
    n
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

/// Student report `n`: the student's history and an ISR per exam.
pub(super) fn report_page(
    dep: &Deployment,
    r: &Renderer,
    site: &SiteInfo,
    n: usize,
    report: &SharedPage,
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
        name: &report.title,
        ssid: dep.data.students[student as usize].ssid.to_string(),
        history,
        reports,
    };
    Ok(Page {
        path: format!("r/{n}.html"),
        bytes: r.render("student.html", &view)?.into_bytes(),
        readers: report.readers.clone(),
    })
}

/// Batch print `n`: one ISR per student, each on its own printed page. The
/// previous results shown are those every reader may see.
pub(super) fn print_page(
    dep: &Deployment,
    plan: &Plan,
    r: &Renderer,
    site: &SiteInfo,
    by_student: &[Vec<usize>],
    n: usize,
    print: &SharedPage,
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
    let visible = |e: &usize| {
        print
            .readers
            .iter()
            .all(|&b| plan.bundles[b].exams.binary_search(e).is_ok())
    };
    let reports = exams
        .iter()
        .map(|&e| {
            let own: Vec<usize> = by_student[data.exams[e].student as usize]
                .iter()
                .copied()
                .filter(visible)
                .collect();
            views::isr(dep, e, &views::earlier(dep, e, &own))
        })
        .collect();
    let view = View {
        base: shared_base(site),
        title: &print.title,
        subtitle: "Batch print",
        reports,
    };
    Ok(Page {
        path: format!("p/{n}.html"),
        bytes: r.render("print.html", &view)?.into_bytes(),
        readers: print.readers.clone(),
    })
}
