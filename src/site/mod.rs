//! The site writer: every page of every planned bundle, rendered in parallel
//! from the site map (see [`paths`] for the layout).
//!
//! Student reports and batch prints are written once and linked from every
//! bundle that shows them; each page records the bundles that may read it,
//! so that the secure build can seal it to exactly those.

use crate::access::{Bundle, Kind, Plan, SiteMap, UnitOf};
use crate::aggregate;
use crate::catalog;
use crate::deployment::Deployment;
use crate::render::export;
use crate::render::views::{self, Base, Link, SiteInfo};
use crate::render::{self, Renderer};
use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

mod dashboard;
mod results;
mod shared;
use crate::output::{Output, Page, Plain, Written};
use crate::paths::{self, ROOT};
use shared::{exams_by_student, print_page, report_page, Prepared};

/// Renders the plan's bundles as a plaintext site into `dir`.
pub fn write(
    dep: &Deployment,
    plan: &Plan,
    map: &SiteMap,
    site: &SiteInfo,
    dir: &Path,
) -> Result<Written> {
    let out = Plain::new(dir);
    render(dep, plan, map, site, &out)?;
    Ok(out.tally.written())
}

/// Renders every page of the site into `out`, in parallel. The role chooser
/// is the sandbox's front page; a secure site's front page is its logon shell.
pub fn render(
    dep: &Deployment,
    plan: &Plan,
    map: &SiteMap,
    site: &SiteInfo,
    out: &dyn Output,
) -> Result<()> {
    let sink = |p: Page| out.page(p);
    let r = Renderer::new()?;
    if site.sandbox {
        sink(landing(dep, plan, site, &r)?)?;
    }
    for page in help(site, &r)? {
        sink(page)?;
    }
    for (path, text) in render::ASSETS {
        sink(Page::public(*path, text.as_bytes().to_vec()))?;
    }
    let prepared = Prepared::new(dep)?;
    plan.bundles
        .par_iter()
        .enumerate()
        .try_for_each(|(i, b)| bundle_pages(dep, i, b, map, &prepared, site, &r, out))?;
    map.reports
        .par_iter()
        .try_for_each(|s| sink(report_page(dep, &r, site, s)?))?;
    let by_student = exams_by_student(dep);
    map.prints
        .par_iter()
        .try_for_each(|s| sink(print_page(dep, plan, map, &r, site, &by_student, s)?))
}

#[derive(Serialize)]
struct RoleChoice {
    title: &'static str,
    /// What the entries are, for the list's find box and pages.
    plural: &'static str,
    description: &'static str,
    entries: Vec<Link>,
}

/// The landing page: a role chooser with an entry per bundle.
fn landing(dep: &Deployment, plan: &Plan, site: &SiteInfo, r: &Renderer) -> Result<Page> {
    let kinds = [
        (
            Kind::Teacher,
            "Teacher",
            "teachers",
            "Results for your assigned groups: group results, each student's history and reports.",
        ),
        (
            Kind::School,
            "School Administrator",
            "schools",
            "Every result at the school: school and grade results, all groups, student lookup.",
        ),
        (
            Kind::District,
            "District Administrator",
            "districts",
            "Every school in the district, with school and grade results and student lookup.",
        ),
        (
            Kind::State,
            "State Administrator",
            "states",
            "Every result in the state.",
        ),
        (
            Kind::Aggregate,
            "Aggregate Reporter",
            "scopes",
            "Aggregate results only, without students; small groups are suppressed.",
        ),
    ];
    let roles = kinds
        .iter()
        .map(|&(kind, title, plural, description)| RoleChoice {
            title,
            plural,
            description,
            entries: plan
                .bundles
                .iter()
                .filter(|b| b.kind == kind)
                .map(|b| Link {
                    label: b.label(dep),
                    href: paths::home(&b.id),
                    note: bundle_note(dep, b),
                })
                .collect(),
        })
        .filter(|c| !c.entries.is_empty())
        .collect::<Vec<_>>();
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        roles: Vec<RoleChoice>,
    }
    let html = r.render(
        "landing.html",
        &View {
            base: Base {
                site,
                root: "",
                home: None,
                role: None,
            },
            roles,
        },
    )?;
    Ok(Page::public("index.html", html.into_bytes()))
}

/// What a bundle covers: its schools, and a teacher's groups.
pub fn bundle_note(dep: &Deployment, b: &Bundle) -> String {
    match b.kind {
        Kind::Teacher => {
            let schools: std::collections::BTreeSet<&str> = b
                .groups
                .iter()
                .map(|&g| {
                    dep.data.institutions.schools[dep.data.groups[g].school]
                        .name
                        .as_str()
                })
                .collect();
            let n = b.groups.len();
            format!(
                "{} · {n} group{}",
                schools.into_iter().collect::<Vec<_>>().join(", "),
                if n == 1 { "" } else { "s" }
            )
        }
        _ if b.schools.len() == 1 => "1 school".into(),
        _ => format!("{} schools", b.schools.len()),
    }
}

/// Help pages from the Markdown content.
fn help(site: &SiteInfo, r: &Renderer) -> Result<Vec<Page>> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: &'a str,
        body: String,
        pages: Vec<Link>,
    }
    render::CONTENT
        .iter()
        .map(|(name, title, md)| {
            let pages = render::CONTENT
                .iter()
                .map(|(n, t, _)| Link {
                    label: t.to_string(),
                    href: format!("{n}.html"),
                    note: String::new(),
                })
                .collect();
            let view = View {
                base: Base {
                    site,
                    root: "../",
                    home: Some("../index.html"),
                    role: None,
                },
                title,
                body: render::markdown(md),
                pages,
            };
            Ok(Page::public(
                paths::help(name),
                r.render("help.html", &view)?.into_bytes(),
            ))
        })
        .collect()
}

/// Every page of bundle `i`.
#[allow(clippy::too_many_arguments)]
fn bundle_pages(
    dep: &Deployment,
    i: usize,
    b: &Bundle,
    map: &SiteMap,
    prepared: &Prepared,
    site: &SiteInfo,
    r: &Renderer,
    out: &dyn Output,
) -> Result<()> {
    let sink = |p: Page| out.page(p);
    let base = || Base {
        site,
        root: ROOT,
        home: Some("index.html"),
        role: Some(views::role_name(b.kind).to_string()),
    };
    let reports = &map.report_of[i];
    let link = |s: u32| {
        let n = reports.get(&s)?;
        Some(format!("{ROOT}{}", paths::report(&map.reports[*n].id)))
    };
    let page = |path: String, bytes: Vec<u8>| Page {
        path: paths::in_bundle(&b.id, &path),
        bytes,
        readers: vec![i],
    };
    let families = if aggregate::has_reports(b.kind) {
        aggregate::families(dep, b)
    } else {
        Vec::new()
    };
    let exports = exports(dep, b);
    let (rules, elpac) = &prepared.dashboard;
    let preview = if b.kind.admin() {
        dashboard::page(dep, b, rules, elpac, base(), r)?
    } else {
        None
    };
    let html = home(
        dep,
        (i, b),
        map,
        &families,
        &exports,
        preview.is_some(),
        base(),
        r,
    )?;
    sink(page("index.html".into(), html))?;
    if let Some(html) = preview {
        sink(page(paths::DASHBOARD.into(), html))?;
    }
    for &f in &families {
        sink(page(
            paths::aggregate(&dep.catalog.families[f].id),
            aggregate_page(dep, &prepared.comparisons, b, f, base(), r)?,
        ))?;
    }
    for (year, exams) in &exports {
        sink(page(paths::export(*year), export::export(dep, exams)?))?;
    }
    for (u, unit) in map.units[i].iter().enumerate() {
        let print = |k: usize| {
            let n = map.print_of[i].get(&(u, k))?;
            Some(format!("{ROOT}{}", paths::print(&map.prints[*n].id)))
        };
        let cx = results::Context {
            dep,
            bundle: b,
            renderer: r,
            ids: &map.ids,
            report: &link,
            print: &print,
            elpac,
        };
        results::pages(&cx, unit, &base, &|path, bytes| sink(page(path, bytes)))?;
    }
    Ok(())
}

/// An administrator bundle's exams by school year, for the District/School
/// Export (none for other bundles).
fn exports(dep: &Deployment, b: &Bundle) -> BTreeMap<u16, Vec<usize>> {
    let mut years: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for &e in b.exams.iter().filter(|_| b.kind.admin()) {
        years
            .entry(dep.data.exams[e].school_year)
            .or_default()
            .push(e);
    }
    years
}

/// Groups a home page lists at a time.
const GROUPS_PAGE: usize = 25;

#[derive(Serialize)]
struct GroupLink {
    /// A stable, opaque key for My Groups.
    key: String,
    name: String,
    href: String,
    school: String,
    year: String,
    subject: String,
    students: usize,
}

#[derive(Serialize)]
struct SchoolLinks {
    label: String,
    grades: Vec<Link>,
}

/// A bundle's home page; `families` have custom aggregate reports,
/// `exports` are the District/School Export's files, and `dashboard` says
/// whether it has a Dashboard preview.
#[allow(clippy::too_many_arguments)]
fn home(
    dep: &Deployment,
    (i, b): (usize, &Bundle),
    map: &SiteMap,
    families: &[usize],
    exports: &BTreeMap<u16, Vec<usize>>,
    dashboard: bool,
    base: Base,
    r: &Renderer,
) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: String,
        subtitle: String,
        admin: bool,
        search: bool,
        aggregate: bool,
        /// The first page of groups, drawn without the script; the script
        /// draws every page from `groups_json`.
        groups: &'a [GroupLink],
        groups_total: usize,
        groups_json: String,
        schools: Vec<SchoolLinks>,
        reports: Vec<Link>,
        exports: Vec<Link>,
        dashboard: bool,
        students_json: String,
    }
    let data = &dep.data;
    let mut groups: Vec<GroupLink> = b
        .groups
        .iter()
        .map(|&g| {
            let group = &data.groups[g];
            GroupLink {
                key: map.ids.group(g).to_string(),
                name: group.name.clone(),
                href: paths::unit(&format!("g-{}", map.ids.group(g))),
                school: data.institutions.schools[group.school].name.clone(),
                year: views::school_year_label(group.school_year),
                subject: group.subject.clone().unwrap_or_else(|| "All".into()),
                students: group.students.len(),
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.year
            .cmp(&a.year)
            .then(a.school.cmp(&b.school))
            .then(a.name.cmp(&b.name))
    });
    let mut schools: BTreeMap<usize, Vec<Link>> = BTreeMap::new();
    if b.kind != Kind::Teacher {
        for unit in &map.units[i] {
            if let UnitOf::Grade(school, grade) = unit.of {
                schools.entry(school).or_default().push(Link {
                    label: views::grade_title(grade),
                    href: paths::unit(&unit.id),
                    note: String::new(),
                });
            }
        }
    }
    // Search by Student: every student with a report, by name and SSID.
    let mut students: Vec<[String; 3]> = map.report_of[i]
        .iter()
        .map(|(&s, &n)| {
            [
                data.students[s as usize].ssid.to_string(),
                views::student_name(dep, s),
                format!("{ROOT}{}", paths::report(&map.reports[n].id)),
            ]
        })
        .collect();
    students.sort();
    // Every group as [key, name, href, school, year, subject, students].
    let rows: Vec<_> = groups
        .iter()
        .map(|g| {
            (
                &g.key, &g.name, &g.href, &g.school, &g.year, &g.subject, g.students,
            )
        })
        .collect();
    let view = View {
        title: format!("{} Home", views::role_name(b.kind)),
        subtitle: format!("{} · {}", b.label(dep), bundle_note(dep, b)),
        admin: b.kind.admin(),
        search: !students.is_empty(),
        aggregate: b.kind == Kind::Aggregate,
        groups: &groups[..groups.len().min(GROUPS_PAGE)],
        groups_total: groups.len(),
        groups_json: render::script_json(&rows)?,
        schools: schools
            .into_iter()
            .map(|(s, grades)| SchoolLinks {
                label: data.institutions.schools[s].name.clone(),
                grades,
            })
            .collect(),
        reports: families
            .iter()
            .map(|&f| Link {
                label: dep.catalog.families[f].name.clone(),
                href: paths::aggregate(&dep.catalog.families[f].id),
                note: String::new(),
            })
            .collect(),
        exports: exports
            .iter()
            .rev()
            .map(|(year, exams)| Link {
                label: views::school_year_label(*year),
                href: paths::export(*year),
                note: format!("{} rows", exams.len()),
            })
            .collect(),
        students_json: serde_json::to_string(&students)?,
        dashboard,
        base,
    };
    Ok(r.render("home.html", &view)?.into_bytes())
}

/// The custom aggregate report page of family `f`: the builder with its
/// cube, and the longitudinal report.
fn aggregate_page(
    dep: &Deployment,
    comparisons: &aggregate::Comparisons,
    b: &Bundle,
    f: usize,
    base: Base,
    r: &Renderer,
) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: String,
        subtitle: String,
        threshold: usize,
        years: Vec<Link>,
        assessments: &'a [aggregate::AssessmentInfo],
        dimensions: &'a [aggregate::Dimension],
        fine: bool,
        comparison: String,
        schools: bool,
        claims: bool,
        claim_label: String,
        alts: String,
        cube: String,
        longitudinal: Vec<render::longitudinal::Trajectory>,
        longitudinal_where: String,
        cutoff_name: String,
        dfs: bool,
    }
    let fam = &dep.catalog.families[f];
    let threshold = dep.settings.suppression_threshold as usize;
    let cube = aggregate::cube(dep, comparisons, b, f, threshold);
    let exams: Vec<usize> = b
        .exams
        .iter()
        .copied()
        .filter(|&e| dep.data.assessments[dep.data.exams[e].assessment as usize].family == f)
        .collect();
    let longitudinal = if fam.kind == catalog::Kind::Summative {
        let hide = (b.kind == Kind::Aggregate).then_some(threshold);
        let cohorts = aggregate::longitudinal(dep, fam, &exams, hide);
        render::longitudinal::trajectories(&cohorts, fam.distance_from_standard)
    } else {
        Vec::new()
    };
    let comparison: Vec<&str> = cube
        .institutions
        .iter()
        .filter(|i| !i.own)
        .map(|i| i.name.as_str())
        .collect();
    let view = View {
        title: format!("Custom aggregate report · {}", fam.name),
        subtitle: format!("{} · {}", b.label(dep), bundle_note(dep, b)),
        threshold: if b.kind == Kind::Aggregate {
            threshold
        } else {
            0
        },
        years: cube
            .years
            .iter()
            .map(|&y| Link {
                label: views::school_year_label(y),
                href: y.to_string(),
                note: String::new(),
            })
            .collect(),
        assessments: &cube.assessments,
        dimensions: &cube.dimensions,
        fine: cube.institutions.iter().any(|i| i.fine),
        comparison: match comparison.as_slice() {
            [] => String::new(),
            names => format!("comparison rows for {}", names.join(" and ")),
        },
        schools: cube.institutions.iter().filter(|i| i.own).count() > 1,
        claims: !cube.claims.is_empty(),
        claim_label: fam
            .claims
            .as_ref()
            .map(|c| c.label.clone())
            .unwrap_or_default(),
        alts: cube.alts.join(", "),
        cube: render::script_json(&cube)?,
        longitudinal,
        longitudinal_where: b.label(dep),
        cutoff_name: fam
            .levels
            .get(fam.standard_cutoff.saturating_sub(1) as usize)
            .map(|l| l.name.clone())
            .unwrap_or_default(),
        dfs: fam.distance_from_standard,
        base,
    };
    Ok(r.render("aggregate.html", &view)?.into_bytes())
}

#[cfg(test)]
mod tests {
    use crate::access::Kind;
    use crate::testing::{deployment, Site, ANA, BEN};

    #[test]
    fn the_landing_page_enters_each_bundle_by_role() {
        let site = Site::render(&deployment());
        let (landing, readers) = &site.pages["index.html"];
        assert!(readers.is_empty(), "the landing page is public");
        for b in &site.plan.bundles {
            let href = format!("href=\"b/{}/index.html\"", b.id);
            assert!(landing.contains(&href), "{href}");
        }
        assert!(landing.contains("Enter as School Administrator"));
        assert!(
            !landing.contains("Enter as State Administrator"),
            "no state bundle"
        );
    }

    #[test]
    fn home_pages_list_what_the_role_may_open() {
        let site = Site::render(&deployment());
        let teacher = site.bundle(Kind::Teacher);
        let home = site.page(teacher, "index.html");
        let group = &site.map.units[teacher][0].id;
        assert!(
            home.contains(&format!("\"{group}.html\"")),
            "the group is listed"
        );
        assert!(
            !home.contains("s-100-5.html"),
            "a teacher has no grade pages"
        );
        // Search by Student: both students of the group, linked to reports.
        let search = home.replace("&quot;", "\"").replace("&#x2F;", "/");
        for ssid in [ANA, BEN] {
            assert!(
                search.contains(&format!("[\"{ssid}\",")),
                "{ssid} is searchable"
            );
        }
        for n in site.map.report_of[teacher].values() {
            let report = crate::paths::report(&site.map.reports[*n].id);
            assert!(search.contains(&report) && site.pages.contains_key(&report));
        }
        let school = site.bundle(Kind::School);
        let home = site.page(school, "index.html");
        assert!(
            home.contains("href=\"s-100-5.html\""),
            "grade 5 of School 100"
        );
        assert!(!home.contains("s-200-4.html"), "another school's grade");
        assert!(home.contains("href=\"dashboard.html\""));
        assert!(home.contains("href=\"export-2025.csv\"") && !home.contains("export-2024"));
    }

    #[test]
    fn the_export_holds_every_result_of_the_scope_and_year() {
        let site = Site::render(&deployment());
        let rows =
            |b: usize, year: u16| site.page(b, &crate::paths::export(year)).lines().count() - 1;
        let district = site.bundle(Kind::District);
        assert_eq!(rows(district, 2025), 3);
        assert_eq!(rows(district, 2024), 1);
        let school = site.bundle(Kind::School);
        assert_eq!(rows(school, 2025), 3);
        let teacher = site.bundle(Kind::Teacher);
        assert!(site
            .paths_of(teacher)
            .iter()
            .all(|p| !p.starts_with("export-")));
    }

    #[test]
    fn aggregate_reports_hold_no_student_for_aggregate_reporters() {
        let site = Site::render(&deployment());
        let reporter = site.bundle(Kind::Aggregate);
        let paths = site.paths_of(reporter);
        assert!(paths.contains(&"agg-sb_ela_summative.html"));
        for p in paths {
            let text = site.page(reporter, p);
            for name in [ANA, BEN, "Lopez", "Kim, Ben", "Period 1"] {
                assert!(!text.contains(name), "{p} shows {name}");
            }
        }
        let district = site.bundle(Kind::District);
        let page = site.page(district, "agg-sb_ela_summative.html");
        assert!(page.contains("School 100") && page.contains("School 200"));
    }
}
