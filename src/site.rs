//! The site writer: every page of every planned bundle, rendered in parallel.
//!
//! Layout (all links relative, so the site works from any static host and
//! from `file://`):
//!
//! ```text
//! index.html                 landing page with the role chooser
//! help/*.html                help and interpretive guide
//! assets/                    stylesheet and script
//! b/N/index.html             bundle N's home page
//! b/N/gG.html                group G's results
//! b/N/sS-GRADE.html          school S, enrolled grade results
//! b/N/tT.html                student T's history and reports
//! b/N/*.csv                  each Results by Student table
//! ```

use crate::access::{Bundle, Kind, Plan};
use crate::deployment::Deployment;
use crate::render::views::{self, Base, Link, SiteInfo};
use crate::render::{self, Renderer};
use anyhow::{Context as _, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What a build wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub pages: usize,
    pub files: usize,
    pub bytes: u64,
}

/// One output file.
struct Page {
    path: String,
    bytes: Vec<u8>,
}

/// Renders the plan's bundles as a plaintext site into `dir`.
pub fn write(dep: &Deployment, plan: &Plan, site: &SiteInfo, dir: &Path) -> Result<Written> {
    let renderer = Renderer::new()?;
    let mut shared = vec![landing(dep, plan, site, &renderer)?];
    shared.extend(help(site, &renderer)?);
    for (path, text) in render::ASSETS {
        shared.push(Page {
            path: path.to_string(),
            bytes: text.as_bytes().to_vec(),
        });
    }
    let mut written = save(dir, &shared)?;
    let per_bundle: Vec<Result<Written>> = plan
        .bundles
        .par_iter()
        .enumerate()
        .map(|(i, b)| {
            let pages = bundle_pages(
                dep,
                b,
                site,
                &renderer,
                dep.settings.suppression_threshold as usize,
            )?;
            save(&dir.join("b").join(i.to_string()), &pages)
        })
        .collect();
    for w in per_bundle {
        let w = w?;
        written.pages += w.pages;
        written.files += w.files;
        written.bytes += w.bytes;
    }
    Ok(written)
}

fn save(dir: &Path, pages: &[Page]) -> Result<Written> {
    let mut w = Written::default();
    for p in pages {
        let path = dir.join(&p.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &p.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        w.files += 1;
        w.pages += p.path.ends_with(".html") as usize;
        w.bytes += p.bytes.len() as u64;
    }
    Ok(w)
}

#[derive(Serialize)]
struct RoleChoice {
    title: &'static str,
    description: &'static str,
    entries: Vec<Link>,
}

/// The landing page: a role chooser with an entry per bundle.
fn landing(dep: &Deployment, plan: &Plan, site: &SiteInfo, r: &Renderer) -> Result<Page> {
    let kinds = [
        (
            Kind::Teacher,
            "Teacher",
            "Results for your assigned groups: group results, each student's history and reports.",
        ),
        (
            Kind::School,
            "School Administrator",
            "Every result at the school: school and grade results, all groups, student lookup.",
        ),
        (
            Kind::District,
            "District Administrator",
            "Every school in the district, with school and grade results and student lookup.",
        ),
        (
            Kind::State,
            "State Administrator",
            "Every result in the state.",
        ),
        (
            Kind::Aggregate,
            "Aggregate Reporter",
            "Aggregate results only, without students; small groups are suppressed.",
        ),
    ];
    let roles = kinds
        .iter()
        .map(|&(kind, title, description)| RoleChoice {
            title,
            description,
            entries: plan
                .bundles
                .iter()
                .enumerate()
                .filter(|(_, b)| b.kind == kind)
                .map(|(i, b)| Link {
                    label: bundle_label(dep, b),
                    href: format!("b/{i}/index.html"),
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
    Ok(Page {
        path: "index.html".into(),
        bytes: html.into_bytes(),
    })
}

/// Who a bundle is for, as the chooser lists it.
fn bundle_label(dep: &Deployment, b: &Bundle) -> String {
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
        Kind::Aggregate => match b.schools.len() {
            1 => inst.schools[b.schools[0]].name.clone(),
            n if n == inst.schools.len() => dep.settings.state.clone(),
            _ => b
                .schools
                .first()
                .map(|&s| inst.leas[inst.schools[s].lea].name.clone())
                .unwrap_or_default(),
        },
    }
}

fn bundle_note(dep: &Deployment, b: &Bundle) -> String {
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
            format!(
                "{} · {} groups",
                schools.into_iter().collect::<Vec<_>>().join(", "),
                b.groups.len()
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
            Ok(Page {
                path: format!("help/{name}.html"),
                bytes: r.render("help.html", &view)?.into_bytes(),
            })
        })
        .collect()
}

const ROOT: &str = "../../";

/// Every page of one bundle.
fn bundle_pages(
    dep: &Deployment,
    b: &Bundle,
    site: &SiteInfo,
    r: &Renderer,
    threshold: usize,
) -> Result<Vec<Page>> {
    let base = || Base {
        site,
        root: ROOT,
        home: Some("index.html"),
        role: Some(views::role_name(b.kind).to_string()),
    };
    let student_level = b.kind.student_level();
    let students: std::collections::BTreeSet<u32> = b.students.iter().copied().collect();
    let link = |s: u32| (student_level && students.contains(&s)).then(|| format!("t{s}.html"));
    let suppress = (b.kind == Kind::Aggregate).then_some(threshold);
    let mut pages = vec![home(dep, b, base(), r)?];
    let exams_of_student = {
        let mut m: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for &e in &b.exams {
            m.entry(dep.data.exams[e].student).or_default().push(e);
        }
        m
    };
    for &g in &b.groups {
        let group = &dep.data.groups[g];
        let exams: Vec<usize> = group
            .students
            .iter()
            .flat_map(|s| exams_of_student.get(s).into_iter().flatten().copied())
            .filter(|&e| {
                let x = &dep.data.exams[e];
                let subject = &dep.catalog.families
                    [dep.data.assessments[x.assessment as usize].family]
                    .subject;
                x.school_year == group.school_year
                    && group
                        .subject
                        .as_deref()
                        .is_none_or(|s| s.eq_ignore_ascii_case(subject))
            })
            .collect();
        let school = &dep.data.institutions.schools[group.school].name;
        let subtitle = format!(
            "{school} · {} · {} students",
            views::school_year_label(group.school_year),
            group.students.len()
        );
        pages.extend(results_page(
            dep,
            r,
            base(),
            &format!("g{g}"),
            &group.name,
            &subtitle,
            "group",
            &exams,
            true,
            None,
            &link,
        )?);
    }
    for ((school, grade), exams) in views::by_school_grade(dep, b) {
        let title = format!(
            "{} · {}",
            dep.data.institutions.schools[school].name,
            views::grade_title(grade)
        );
        let name = format!("s{school}-{grade}");
        pages.extend(results_page(
            dep,
            r,
            base(),
            &name,
            &title,
            "Results of students enrolled in this grade when tested",
            "grade",
            &exams,
            student_level && b.kind != Kind::Teacher,
            suppress,
            &link,
        )?);
    }
    if student_level {
        for (&s, exams) in &exams_of_student {
            pages.push(student_page(dep, r, base(), s, exams)?);
        }
    }
    Ok(pages)
}

#[derive(Serialize)]
struct GroupLink {
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

fn home(dep: &Deployment, b: &Bundle, base: Base, r: &Renderer) -> Result<Page> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: String,
        subtitle: String,
        admin: bool,
        aggregate: bool,
        groups: Vec<GroupLink>,
        schools: Vec<SchoolLinks>,
        students_json: String,
    }
    let data = &dep.data;
    let mut groups: Vec<GroupLink> = b
        .groups
        .iter()
        .map(|&g| {
            let group = &data.groups[g];
            GroupLink {
                name: group.name.clone(),
                href: format!("g{g}.html"),
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
        for (school, grade) in views::by_school_grade(dep, b).into_keys() {
            schools.entry(school).or_default().push(Link {
                label: views::grade_title(grade),
                href: format!("s{school}-{grade}.html"),
                note: String::new(),
            });
        }
    }
    let students: BTreeMap<String, String> = if b.kind.admin() {
        b.students
            .iter()
            .map(|&s| {
                (
                    data.students[s as usize].ssid.to_string(),
                    format!("t{s}.html"),
                )
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    let view = View {
        title: format!("{} Home", views::role_name(b.kind)),
        subtitle: format!("{} · {}", bundle_label(dep, b), bundle_note(dep, b)),
        admin: b.kind.admin(),
        aggregate: b.kind == Kind::Aggregate,
        groups,
        schools: schools
            .into_iter()
            .map(|(s, grades)| SchoolLinks {
                label: data.institutions.schools[s].name.clone(),
                grades,
            })
            .collect(),
        students_json: serde_json::to_string(&students)?,
        base,
    };
    Ok(Page {
        path: "index.html".into(),
        bytes: r.render("home.html", &view)?.into_bytes(),
    })
}

/// A group or school-grade results page, and a CSV per Results by Student table.
#[allow(clippy::too_many_arguments)]
fn results_page(
    dep: &Deployment,
    r: &Renderer,
    base: Base,
    name: &str,
    title: &str,
    subtitle: &str,
    what: &str,
    exams: &[usize],
    with_rows: bool,
    suppress: Option<usize>,
    link: &dyn Fn(u32) -> Option<String>,
) -> Result<Vec<Page>> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: &'a str,
        subtitle: &'a str,
        what: &'a str,
        threshold: usize,
        sections: Vec<views::Section>,
    }
    let mut sections = views::sections(dep, exams, with_rows, suppress, link);
    let mut pages = Vec::new();
    for s in &mut sections {
        if !s.rows.is_empty() {
            s.csv = format!("{name}-{}.csv", s.id);
            let (header, rows) = views::section_csv(s);
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            pages.push(Page {
                path: s.csv.clone(),
                bytes: render::csv(&header, &rows)?,
            });
        }
    }
    let view = View {
        base,
        title,
        subtitle,
        what,
        threshold: suppress.unwrap_or(0),
        sections,
    };
    pages.push(Page {
        path: format!("{name}.html"),
        bytes: r.render("results.html", &view)?.into_bytes(),
    });
    Ok(pages)
}

fn student_page(
    dep: &Deployment,
    r: &Renderer,
    base: Base,
    student: u32,
    exams: &[usize],
) -> Result<Page> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        name: String,
        ssid: String,
        history: Vec<views::HistoryRow>,
        reports: Vec<views::Isr>,
    }
    let (history, reports) = views::history(dep, exams);
    let view = View {
        base,
        name: views::student_name(dep, student),
        ssid: dep.data.students[student as usize].ssid.to_string(),
        history,
        reports,
    };
    Ok(Page {
        path: format!("t{student}.html"),
        bytes: r.render("student.html", &view)?.into_bytes(),
    })
}
