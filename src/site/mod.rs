//! The site writer: every page of every planned bundle, rendered in parallel
//! from the site map (see [`paths`] for the layout).
//!
//! Student reports and batch prints are written once and linked from every
//! bundle that shows them; each page records the bundles that may read it,
//! so that the secure build can seal it to exactly those.

use crate::access::{Bundle, Kind, Plan, SiteMap};
use crate::aggregate;
use crate::deployment::Deployment;
use crate::render::export;
use crate::render::views::{self, Base, SiteInfo};
use crate::render::{self, Renderer};
use anyhow::Result;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::path::Path;

mod aggregate_page;
mod dashboard;
mod fingerprint;
mod home;
mod landing;
mod results;
mod shared;
use crate::output::{Fill, Output, Page, Part, Plain, Written};
use crate::paths::{self, ROOT};
use fingerprint::{unit_links, Fingerprints};
use shared::{exams_by_student, print_page, print_title, report_page, visible, Prepared};

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
        sink(landing::landing(dep, plan, site, &r)?)?;
    }
    for page in landing::help(site, &r)? {
        sink(page)?;
    }
    for (path, text) in render::ASSETS {
        sink(Page::public(*path, text.as_bytes().to_vec()))?;
    }
    let prepared = Prepared::new(dep)?;
    let by_student = exams_by_student(dep);
    let fp = Fingerprints::new(dep, site, &by_student);
    if out.keeps() {
        fp.warm();
    }
    let cx = (&prepared, &fp);
    let exports: Vec<Exports> = plan.bundles.par_iter().map(|b| exports(dep, b)).collect();
    let bundles = || {
        (plan.bundles.par_iter().enumerate())
            .try_for_each(|(i, b)| bundle_pages(dep, (i, b, &exports[i]), map, cx, site, &r, out))
    };
    let reports = || {
        map.reports.par_iter().try_for_each(|s| {
            let part = Part {
                key: paths::report(&s.id),
                readers: &s.readers,
            };
            if out.kept(&part, &|| fp.report(s))? {
                return Ok(());
            }
            sink(report_page(dep, &r, site, s)?)
        })
    };
    let prints = || {
        map.prints.par_iter().try_for_each(|s| {
            let part = Part {
                key: paths::print(&s.id),
                readers: &s.readers,
            };
            let input = || {
                let mut shown: Vec<usize> = s
                    .exams
                    .iter()
                    .flat_map(|&e| visible(plan, &by_student, s, dep.data.exams[e].student))
                    .collect();
                shown.sort_unstable();
                shown.dedup();
                fp.print(s, &print_title(dep, map, s), &shown)
            };
            if out.kept(&part, &input)? {
                return Ok(());
            }
            sink(print_page(dep, plan, map, &r, site, &by_student, s)?)
        })
    };
    // The exports are few and large (a district's year can be most of a
    // gigabyte): they are written beside the other pages rather than after
    // them, so that no core waits while the last of them is written.
    let (exported, rest) = rayon::join(
        || export_pages(dep, (plan, map), &exports, &fp, site, out),
        || bundles().and_then(|()| reports()).and_then(|()| prints()),
    );
    exported.and(rest)
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

/// Every page of bundle `i`, `b`, but its District/School Exports
/// (`exports`, which its home page links to; see [`export_pages`]).
#[allow(clippy::too_many_arguments)]
fn bundle_pages(
    dep: &Deployment,
    (i, b, exports): (usize, &Bundle, &Exports),
    map: &SiteMap,
    (prepared, fp): (&Prepared, &Fingerprints),
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
        part: None,
    };
    let families = if aggregate::has_reports(b.kind) {
        aggregate::families(dep, b)
    } else {
        Vec::new()
    };
    let (rules, elpac) = &prepared.dashboard;
    let preview = if b.kind != Kind::Teacher {
        dashboard::page(dep, b, rules, elpac, base(), r)?
    } else {
        None
    };
    let html = home::home(
        dep,
        (i, b),
        map,
        &families,
        exports,
        preview.is_some(),
        base(),
        r,
    )?;
    sink(page("index.html".into(), html))?;
    if let Some(html) = preview {
        sink(page(paths::DASHBOARD.into(), html))?;
    }
    // A page that is a part of its own, kept while its fingerprint is
    // unchanged, and streamed to the output as `render` writes it.
    let own_part = |path: String, input: &dyn Fn() -> String, render: Fill| -> Result<()> {
        let part = Part {
            key: paths::in_bundle(&b.id, &path),
            readers: &[i],
        };
        if out.kept(&part, input)? {
            return Ok(());
        }
        let page = Page {
            part: Some(part.key.clone()),
            ..page(path, Vec::new())
        };
        out.stream(vec![page], render)
    };
    // The parts of a bundle render in parallel too, so that the largest
    // bundle (a district's) does not finish the build on one core.
    families.par_iter().try_for_each(|&f| {
        own_part(
            paths::aggregate(&dep.catalog.families[f].id),
            &|| fp.aggregate(&prepared.comparisons, b, &bundle_note(dep, b), f),
            &|w| {
                let html = aggregate_page::page(dep, &prepared.comparisons, b, f, base(), r)?;
                Ok(w.write_all(&html)?)
            },
        )
    })?;
    map.units[i]
        .par_iter()
        .enumerate()
        .try_for_each(|(u, unit)| {
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
            let part = Part {
                key: paths::in_bundle(&b.id, &unit.id),
                readers: &[i],
            };
            if out.kept(&part, &|| fp.unit(b, unit, &unit_links(map, dep, i, u)))? {
                return Ok(());
            }
            results::pages(&cx, unit, &base, &|path, bytes| {
                let p = Page {
                    part: Some(part.key.clone()),
                    ..page(path, bytes)
                };
                sink(p)
            })
        })
}

/// A bundle's exams by school year, for the District/School Export.
type Exports = BTreeMap<u16, Vec<usize>>;

/// An administrator bundle's [`Exports`] (none for other bundles).
fn exports(dep: &Deployment, b: &Bundle) -> Exports {
    let mut years = Exports::new();
    for &e in b.exams.iter().filter(|_| b.kind.admin()) {
        years
            .entry(dep.data.exams[e].school_year)
            .or_default()
            .push(e);
    }
    years
}

/// Every administrator bundle's District/School Exports. The sandbox writes
/// each as one file ([`whole_exports`]), which opens from `file://`; the
/// secure build in parts ([`export_parts`]).
fn export_pages(
    dep: &Deployment,
    (plan, map): (&Plan, &SiteMap),
    exports: &[Exports],
    fp: &Fingerprints,
    site: &SiteInfo,
    out: &dyn Output,
) -> Result<()> {
    match site.sandbox {
        true => whole_exports(dep, plan, exports, fp, out),
        false => export_parts(dep, (plan, map), exports, fp, out),
    }
}

/// Each export whole, a part of its own. Bundles whose export of a year
/// holds the same rows (a district's and a state viewer's, in a one-LEA
/// deployment) share one rendering of it, which the output takes as each
/// bundle's own page.
fn whole_exports(
    dep: &Deployment,
    plan: &Plan,
    exports: &[Exports],
    fp: &Fingerprints,
    out: &dyn Output,
) -> Result<()> {
    let mut same: BTreeMap<(u16, &[usize]), Vec<usize>> = BTreeMap::new();
    for (b, years) in exports.iter().enumerate() {
        for (year, exams) in years {
            same.entry((*year, exams)).or_default().push(b);
        }
    }
    let same: Vec<_> = same.into_iter().collect();
    same.par_iter().try_for_each(|((year, exams), bundles)| {
        let mut pages = Vec::new();
        for b in bundles {
            let bundle = &plan.bundles[*b];
            let part = Part {
                key: paths::in_bundle(&bundle.id, &paths::export(*year)),
                readers: std::slice::from_ref(b),
            };
            if !out.kept(&part, &|| fp.export(&part.key, exams))? {
                pages.push(Page {
                    path: part.key.clone(),
                    bytes: Vec::new(),
                    readers: vec![*b],
                    part: Some(part.key),
                });
            }
        }
        if pages.is_empty() {
            return Ok(());
        }
        out.stream(pages, &|w| export::write(dep, exams, w))
    })
}

/// Each export as the list of its parts ([`crate::layout::ExportParts`]):
/// one school's rows of the year each, in the order of the schools, a part
/// of its own sealed once to every bundle whose export holds those rows. A
/// change to one school's results then writes that school's parts again,
/// not every export that holds them.
fn export_parts(
    dep: &Deployment,
    (plan, map): (&Plan, &SiteMap),
    exports: &[Exports],
    fp: &Fingerprints,
    out: &dyn Output,
) -> Result<()> {
    // The parts, each one school's rows of a year with the bundles whose
    // export holds them; and each bundle's exports by year, as its parts.
    let mut parts: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let mut index: FxHashMap<(u16, Vec<usize>), usize> = FxHashMap::default();
    let mut lists: Vec<(usize, u16, Vec<usize>)> = Vec::new();
    for (b, years) in exports.iter().enumerate() {
        for (year, exams) in years {
            let mut by_school: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            for &e in exams {
                by_school
                    .entry(dep.data.exams[e].school)
                    .or_default()
                    .push(e);
            }
            let listed = (by_school.into_values())
                .map(|rows| {
                    let n = *index.entry((*year, rows)).or_insert_with_key(|(_, rows)| {
                        parts.push((rows.clone(), Vec::new()));
                        parts.len() - 1
                    });
                    parts[n].1.push(b);
                    n
                })
                .collect();
            lists.push((b, *year, listed));
        }
    }
    drop(index);
    let paths: Vec<String> = (parts.par_iter())
        .map(|(rows, _)| paths::export_part(&map.ids.exams(&dep.data, rows)))
        .collect();
    parts
        .par_iter()
        .zip(&paths)
        .try_for_each(|((rows, readers), path)| {
            let part = Part {
                key: path.clone(),
                readers,
            };
            if out.kept(&part, &|| fp.export(path, rows))? {
                return Ok(());
            }
            let page = Page {
                path: path.clone(),
                bytes: Vec::new(),
                readers: readers.clone(),
                part: Some(path.clone()),
            };
            out.stream(vec![page], &|w| export::rows(dep, rows, w))
        })?;
    let mut header = Vec::new();
    export::header(&mut header)?;
    let header = String::from_utf8(header)?;
    lists.par_iter().try_for_each(|(b, year, listed)| {
        let listed = crate::layout::ExportParts {
            header: header.clone(),
            parts: listed.iter().map(|&n| paths[n].clone()).collect(),
        };
        out.page(Page {
            path: paths::in_bundle(&plan.bundles[*b].id, &paths::export(*year)),
            bytes: serde_json::to_vec(&listed)?,
            readers: vec![*b],
            part: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use crate::access::Kind;
    use crate::output::{Fill, Output, Page};
    use crate::testing::{deployment, Site};
    use std::sync::Mutex;

    #[test]
    fn bundles_whose_export_holds_the_same_rows_share_its_rendering() {
        /// A streamed rendering: its rows and its pages' paths and readers.
        type Rendering = (usize, Vec<(String, Vec<usize>)>);
        #[derive(Default)]
        struct Streams(Mutex<Vec<Rendering>>);
        impl Output for Streams {
            fn page(&self, _: Page) -> anyhow::Result<()> {
                Ok(())
            }
            fn stream(&self, pages: Vec<Page>, fill: Fill) -> anyhow::Result<()> {
                let mut bytes = Vec::new();
                fill(&mut bytes)?;
                let rows = bytes
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count()
                    - 1;
                let mut pages: Vec<_> = pages.into_iter().map(|p| (p.path, p.readers)).collect();
                pages.sort();
                self.0.lock().unwrap().push((rows, pages));
                Ok(())
            }
        }
        let dep = deployment();
        let (plan, map) = crate::testing::map(&dep.data, &dep.catalog);
        let info = crate::render::views::SiteInfo {
            name: String::new(),
            sandbox: true,
            footer: String::new(),
        };
        let streams = Streams::default();
        super::render(&dep, &plan, &map, &info, &streams).unwrap();
        let mut exports: Vec<_> = streams.0.into_inner().unwrap();
        exports.retain(|(_, pages)| pages[0].0.contains("/export-"));
        exports.sort();
        let at = |kind: Kind, year: u16| {
            let b = plan.bundles.iter().position(|b| b.kind == kind).unwrap();
            let path = crate::paths::in_bundle(&plan.bundles[b].id, &crate::paths::export(year));
            (path, vec![b])
        };
        // Every 2025 result is at school 100, so its administrator's export
        // of 2025 and the district's hold the same rows: rendered once, a
        // page for each. Only the district's has 2024's result.
        let mut shared = vec![at(Kind::School, 2025), at(Kind::District, 2025)];
        shared.sort();
        assert_eq!(
            exports,
            vec![(1, vec![at(Kind::District, 2024)]), (3, shared)]
        );
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
}
