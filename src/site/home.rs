//! A bundle's home page: its groups (drawn from data, 25 at a time), school
//! grades, Search by Student, custom aggregate reports, Dashboard preview and
//! District/School Export.

use super::bundle_note;
use crate::access::{Bundle, Kind, SiteMap, UnitOf};
use crate::deployment::Deployment;
use crate::paths::{self, ROOT};
use crate::render::views::{self, Base, Link};
use crate::render::{self, Renderer};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;

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
pub(super) fn home(
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

#[cfg(test)]
mod tests {
    use crate::access::Kind;
    use crate::testing::{deployment, Site, ANA, BEN};

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
}
