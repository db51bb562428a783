//! Page data: what each template shows, built from the dataset and a bundle.

use super::filters::{self, Viewer};
pub use super::isr::{earlier, history, isr, AltView, ClaimView, HistoryRow, Isr};
use super::svg;
use crate::access::{Ids, Kind, SectionKey};
use crate::catalog::{Family, Level};
use crate::deployment::Deployment;
use crate::model::{AdminCondition, Completeness, Exam, Grade};
use crate::stats::{self, distance};
use serde::Serialize;
use std::collections::BTreeMap;

/// Site-wide facts every page shows.
#[derive(Debug, Clone, Serialize)]
pub struct SiteInfo {
    pub name: String,
    pub sandbox: bool,
    pub footer: String,
}

/// What the base template needs.
#[derive(Debug, Serialize)]
pub struct Base<'a> {
    pub site: &'a SiteInfo,
    /// Relative path from the page to the site root ("" or "../../").
    pub root: &'static str,
    pub home: Option<&'static str>,
    pub role: Option<String>,
}

/// A link with a label and an optional note. Hrefs are built from indices
/// only, never from data, so the templates print them unescaped.
#[derive(Debug, Serialize)]
pub struct Link {
    pub label: String,
    pub href: String,
    pub note: String,
}

/// The Results Summary of one assessment, ready to show.
#[derive(Debug, Serialize)]
pub struct SummaryView {
    pub n: usize,
    pub mean: String,
    pub sem: String,
    pub levels: Vec<LevelCell>,
    pub chart: String,
    pub suppressed: bool,
    /// Distance from Standard (`12.3 above`), `—` under the Dashboard's
    /// n, or empty where the family has none.
    pub dfs: String,
}

#[derive(Debug, Serialize)]
pub struct LevelCell {
    pub name: String,
    pub count: String,
    pub percent: String,
}

/// One row of Results by Student.
#[derive(Debug, Serialize)]
pub struct ResultRow {
    pub student: String,
    pub ssid: String,
    pub href: String,
    pub date: String,
    /// The date as the table sorts it (`2024-05-09 13:07`).
    pub date_key: String,
    pub school: String,
    pub grade: String,
    pub status: String,
    pub score: String,
    pub se: String,
    pub level: String,
    pub level_number: u8,
    pub claims: Vec<Ranked>,
    pub alts: Vec<String>,
    /// The Lexile or Quantile measure, where the section shows one.
    pub measure: String,
    /// Distance from Standard (`12 below`), where the section shows it.
    pub dfs: String,
    /// The distance as the table sorts it.
    pub dfs_key: String,
    /// The scale score as the summary adds it up.
    pub score_key: String,
    /// The row's value for each of the section's filters, in their order.
    pub filter: String,
}

/// A level as a table shows it, with its number for sorting (0: none).
#[derive(Debug, Serialize)]
pub struct Ranked {
    pub name: String,
    pub number: u8,
}

/// One assessment's results in a group or school grade.
#[derive(Debug, Serialize)]
pub struct Section {
    pub id: String,
    pub name: String,
    pub family: String,
    pub year: String,
    /// The school year as a number (2025 for 2024–25).
    pub school_year: u16,
    /// The subject and the type of assessment, as the chooser offers them.
    pub subject: &'static str,
    pub kind: &'static str,
    pub summary: SummaryView,
    pub level_names: Vec<String>,
    pub claim_names: Vec<String>,
    pub alt_names: Vec<String>,
    /// "Lexile measure" or "Quantile measure" when a result has one, else empty.
    pub measure_name: String,
    /// True when the section shows Distance from Standard.
    pub dfs: bool,
    pub rows: Vec<ResultRow>,
    /// The advanced filters of Results by Student.
    pub filters: Vec<filters::Filter>,
    /// The deployment's instructional resources for the assessment, by
    /// whom they are for ("Every student", or a level's name).
    pub instructional: Vec<(String, Vec<crate::resources::Resource>)>,
    pub csv: String,
    /// The batch print of this assessment's reports, when there is one.
    pub print: String,
    /// The item, trait and target analysis page, when there is one.
    pub analysis: String,
}

/// The student-facing names of a family's levels.
fn level_names(f: &Family) -> Vec<String> {
    f.levels.iter().map(|l| l.name.clone()).collect()
}

/// Level `l` (1-based) of `levels`.
pub(super) fn level_at(levels: &[Level], l: Option<u8>) -> Option<&Level> {
    levels.get(l?.checked_sub(1)? as usize)
}

/// The short name of level `l`, or blank.
pub(super) fn short_name(levels: &[Level], l: Option<u8>) -> String {
    level_at(levels, l)
        .map(|l| l.short_name.clone())
        .unwrap_or_default()
}

pub(super) fn fmt_score(x: Option<f32>) -> String {
    x.map(|v| whole(v.into())).unwrap_or_default()
}

/// A score, standard error or mean as a whole number, rounded half up as
/// CERS shows them (214.5 → 215; Rust's `{:.0}` would give 214).
pub fn whole(x: f64) -> String {
    format!("{}", x.round())
}

/// "2024–25" for the school year ending in 2025.
pub fn school_year_label(y: u16) -> String {
    format!("{}–{:02}", y - 1, y % 100)
}

pub(super) fn grade_label(g: Grade) -> String {
    match g {
        Grade::K => "Kindergarten".into(),
        Grade::N(n) => format!("Grade {n}"),
        other => other.to_string(),
    }
}

/// A student's display name, "Last, First".
pub fn student_name(dep: &Deployment, student: u32) -> String {
    let s = &dep.data.students[student as usize];
    match (s.last_name.is_empty(), s.first_name.is_empty()) {
        (true, true) => format!("Student {}", s.ssid),
        _ => format!("{}, {}", s.last_name, s.first_name),
    }
}

pub(super) fn status(e: &Exam) -> String {
    let mut parts = Vec::new();
    match e.completeness {
        Completeness::Partial => parts.push("Partial"),
        Completeness::NotReported => parts.push("Completeness not reported"),
        Completeness::Complete => {}
    }
    match e.condition {
        AdminCondition::Invalid => parts.push("Invalid"),
        AdminCondition::Nonstandardized => parts.push("Nonstandard"),
        AdminCondition::NotReported => parts.push("Condition not reported"),
        AdminCondition::Valid | AdminCondition::Standardized => {}
    }
    if parts.is_empty() {
        "Complete".into()
    } else {
        parts.join(", ")
    }
}

/// A distance as the Dashboard words it: `12.3 above`, `35.2 below`, with
/// `decimals` places.
pub fn distance_words(d: f64, decimals: usize) -> String {
    let shown = format!("{:.*}", decimals, d.abs());
    if shown.trim_start_matches(['0', '.']).is_empty() {
        format!("{shown} (at standard)")
    } else if d > 0.0 {
        format!("{shown} above")
    } else {
        format!("{shown} below")
    }
}

/// The summary of `exams`, suppressed (`*`) when `suppress_at` is given and n ≤ it.
pub fn summary(
    dep: &Deployment,
    family: &Family,
    exams: &[usize],
    suppress_at: Option<usize>,
) -> SummaryView {
    let s = stats::summarize(
        exams.iter().map(|&e| {
            (
                dep.data.exams[e].overall.scale,
                dep.data.exams[e].overall.level,
            )
        }),
        family.levels.len(),
    );
    let names = level_names(family);
    let suppressed = stats::suppressed(s.n, suppress_at);
    let star = || "*".to_string();
    let dfs = family.distance_from_standard.then(|| {
        let d = distance::mean(
            exams
                .iter()
                .filter_map(|&e| distance::of_exam(&dep.catalog, &dep.data, e)),
        );
        match d {
            _ if suppressed => star(),
            Some(d) if d.reported() => distance_words(d.mean, 1),
            _ => "—".into(),
        }
    });
    SummaryView {
        n: s.n,
        mean: if suppressed {
            star()
        } else {
            s.mean.map(whole).unwrap_or_else(|| "—".into())
        },
        sem: if suppressed {
            star()
        } else {
            s.sem
                .map(|m| format!("{m:.1}"))
                .unwrap_or_else(|| "—".into())
        },
        levels: s
            .levels
            .iter()
            .zip(&names)
            .map(|(l, name)| LevelCell {
                name: name.clone(),
                count: if suppressed {
                    star()
                } else {
                    l.count.to_string()
                },
                percent: if suppressed {
                    star()
                } else {
                    format!("{:.0}%", l.percent)
                },
            })
            .collect(),
        chart: if suppressed {
            String::new()
        } else {
            svg::distribution(
                &s.levels.iter().map(|l| l.percent).collect::<Vec<_>>(),
                &names,
            )
        },
        suppressed,
        dfs: dfs.unwrap_or_default(),
    }
}

/// One IAB's card on the dashboard.
#[derive(Debug, Serialize)]
pub struct IabCard {
    pub name: String,
    /// The id of the results section it summarises.
    pub section: String,
    /// The link to that section's page, set by the page that shows the card.
    pub href: String,
    pub tested: usize,
    pub of: usize,
    pub summary: SummaryView,
    /// Each tested student's SSID and level (0: none) as `ssid:level`
    /// words, so that the page can redo the card for a group the user made;
    /// empty where the viewer may not see students.
    pub students: String,
}

/// The IAB dashboard: for the latest school year with interim block results,
/// a card per block with "n of m students tested" and the level distribution
/// of each student's latest result. `roster` is the group's size; for a
/// school grade (`None`) it is the students tested in that year.
pub fn iab_dashboard(
    dep: &Deployment,
    ids: &Ids,
    groups: &[(SectionKey, Vec<usize>)],
    roster: Option<usize>,
    suppress_at: Option<usize>,
) -> (String, Vec<IabCard>) {
    use crate::catalog::Kind;
    let data = &dep.data;
    let is_block = |f: usize| matches!(dep.catalog.families[f].kind, Kind::Iab | Kind::Fiab);
    let Some(year) = groups
        .iter()
        .find(|((_, f, _), _)| is_block(*f))
        .map(|((y, ..), _)| *y)
    else {
        return (String::new(), Vec::new());
    };
    let of = roster.unwrap_or_else(|| {
        let mut students: Vec<u32> = groups
            .iter()
            .filter(|((y, ..), _)| *y == year)
            .flat_map(|(_, list)| list.iter().map(|&e| data.exams[e].student))
            .collect();
        students.sort_unstable();
        students.dedup();
        students.len()
    });
    let cards = groups
        .iter()
        .filter(|((y, f, _), _)| *y == year && is_block(*f))
        .map(|((_, f, name), list)| {
            let mut latest: BTreeMap<u32, usize> = BTreeMap::new();
            for &e in list {
                let x = &data.exams[e];
                let slot = latest.entry(x.student).or_insert(e);
                if data.exams[*slot].submitted < x.submitted {
                    *slot = e;
                }
            }
            let exams: Vec<usize> = latest.values().copied().collect();
            let students = match suppress_at {
                Some(_) => Vec::new(),
                None => exams
                    .iter()
                    .map(|&e| {
                        let x = &data.exams[e];
                        let ssid = &data.students[x.student as usize].ssid;
                        format!("{ssid}:{}", x.overall.level.unwrap_or(0))
                    })
                    .collect(),
            };
            IabCard {
                name: name.clone(),
                section: ids.section(year, data.exams[list[0]].assessment),
                href: String::new(),
                tested: exams.len(),
                of: of.max(exams.len()),
                summary: summary(dep, &dep.catalog.families[*f], &exams, suppress_at),
                students: students.join(" "),
            }
        })
        .collect();
    (school_year_label(year), cards)
}

/// The sections of a results page over `groups` (from [`section_groups`](crate::access::section_groups)): summary and, for a
/// `viewer` of students' results, Results by Student, each in the order of [`section_groups`](crate::access::section_groups).
pub fn sections(
    dep: &Deployment,
    ids: &Ids,
    groups: &[(SectionKey, Vec<usize>)],
    viewer: Option<Viewer>,
    suppress_at: Option<usize>,
    link: &dyn Fn(u32) -> Option<String>,
) -> Vec<Section> {
    let data = &dep.data;
    groups
        .iter()
        .map(|((year, family, name), list)| {
            let (year, name) = (*year, name.clone());
            let fam = &dep.catalog.families[*family];
            let mut list = list.clone();
            list.sort_by_key(|&e| student_name(dep, data.exams[e].student));
            let (rows, filters) = match viewer {
                Some(v) => {
                    let f = filters::filters(dep, &list, v);
                    let rows = list.iter().zip(f.rows);
                    let rows = rows.map(|(&e, words)| row(dep, fam, e, words, link));
                    (rows.collect(), f.list)
                }
                None => (Vec::new(), Vec::new()),
            };
            let measured = list.iter().any(|&e| {
                let official = data.exams[e].official.as_deref();
                official.is_some_and(|o| o.measure.is_some())
            });
            Section {
                id: ids.section(year, data.exams[list[0]].assessment),
                instructional: instructional(dep, fam, &name),
                name,
                family: fam.name.clone(),
                year: school_year_label(year),
                school_year: year,
                subject: fam.subject_label(),
                kind: fam.type_label(),
                summary: summary(dep, fam, &list, suppress_at),
                level_names: level_names(fam),
                claim_names: fam
                    .claims
                    .iter()
                    .flat_map(|c| c.items.iter().map(|i| i.name.clone()))
                    .collect(),
                alt_names: fam.alt_scores.iter().map(|a| a.name.clone()).collect(),
                measure_name: if measured {
                    measure_name(fam).to_string()
                } else {
                    String::new()
                },
                dfs: fam.distance_from_standard,
                rows,
                filters,
                csv: String::new(),
                print: String::new(),
                analysis: String::new(),
            }
        })
        .collect()
}

/// The instructional resources of assessment `name`, for every student
/// first, then by level.
fn instructional(
    dep: &Deployment,
    fam: &Family,
    name: &str,
) -> Vec<(String, Vec<crate::resources::Resource>)> {
    let mut by: BTreeMap<u8, Vec<crate::resources::Resource>> = BTreeMap::new();
    for r in dep.resources.for_assessment(&fam.id, name) {
        by.entry(r.level.unwrap_or(0)).or_default().push(r);
    }
    by.into_iter()
        .map(|(l, list)| {
            let whom = match level_at(&fam.levels, Some(l)) {
                Some(level) => format!("Students at {}", level.name),
                None => "Every student".to_string(),
            };
            (whom, list)
        })
        .collect()
}

fn row(
    dep: &Deployment,
    fam: &Family,
    e: usize,
    filter: String,
    link: &dyn Fn(u32) -> Option<String>,
) -> ResultRow {
    let data = &dep.data;
    let exam = &data.exams[e];
    let claims = fam
        .claims
        .iter()
        .flat_map(|c| {
            c.items.iter().map(move |item| {
                let level = exam.claim_levels[item.column as usize - 1];
                Ranked {
                    name: short_name(&c.levels, level),
                    number: level.unwrap_or(0),
                }
            })
        })
        .collect();
    let alts = fam
        .alt_scores
        .iter()
        .map(|a| {
            exam.alt
                .iter()
                .find(|(c, _)| *c == a.column)
                .map(|(_, s)| fmt_score(s.scale))
                .unwrap_or_default()
        })
        .collect();
    let dfs = distance::of_exam(&dep.catalog, data, e);
    ResultRow {
        student: student_name(dep, exam.student),
        ssid: data.students[exam.student as usize].ssid.to_string(),
        href: link(exam.student).unwrap_or_default(),
        date: exam.submitted.format("%m/%d/%Y").to_string(),
        date_key: exam.submitted.format("%Y-%m-%d %H:%M").to_string(),
        school: data.institutions.schools[exam.school as usize].name.clone(),
        grade: exam.grade.to_string(),
        status: status(exam),
        score: fmt_score(exam.overall.scale),
        se: exam.overall.se.map(|s| whole(s.into())).unwrap_or_default(),
        level: short_name(&fam.levels, exam.overall.level),
        level_number: exam.overall.level.unwrap_or(0),
        claims,
        alts,
        measure: measure(dep, e),
        dfs: dfs.map(|d| distance_words(d.into(), 0)).unwrap_or_default(),
        dfs_key: dfs.map(|d| d.to_string()).unwrap_or_default(),
        score_key: exam
            .overall
            .scale
            .map(|s| s.to_string())
            .unwrap_or_default(),
        filter,
    }
}

/// What a family's measure from a Student Score Data File is called: a
/// Lexile measure for ELA, a Quantile measure for mathematics.
pub(super) fn measure_name(fam: &Family) -> &'static str {
    if fam.subject.eq_ignore_ascii_case("Math") {
        "Quantile measure"
    } else {
        "Lexile measure"
    }
}

/// Exam `e`'s Lexile or Quantile measure as its file gives it, or empty.
pub(super) fn measure(dep: &Deployment, e: usize) -> String {
    let official = dep.data.exams[e].official.as_deref();
    official
        .and_then(|o| o.measure)
        .map(|m| dep.data.strings.get(m).to_string())
        .unwrap_or_default()
}

/// CSV rows of a section, in the table's column order.
pub fn section_csv(s: &Section) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header: Vec<String> = [
        "Student",
        "SSID",
        "Date",
        "School",
        "Enrolled grade",
        "Status",
        "Scale score",
        "Standard error",
        "Level",
    ]
    .map(String::from)
    .to_vec();
    header.extend(s.claim_names.iter().cloned());
    header.extend(s.alt_names.iter().cloned());
    if !s.measure_name.is_empty() {
        header.push(s.measure_name.clone());
    }
    if s.dfs {
        header.push("Distance from Standard".into());
    }
    let rows = s
        .rows
        .iter()
        .map(|r| {
            let mut v = vec![
                r.student.clone(),
                r.ssid.clone(),
                r.date.clone(),
                r.school.clone(),
                r.grade.clone(),
                r.status.clone(),
                r.score.clone(),
                r.se.clone(),
                r.level.clone(),
            ];
            v.extend(r.claims.iter().map(|c| c.name.clone()));
            v.extend(r.alts.iter().cloned());
            if !s.measure_name.is_empty() {
                v.push(r.measure.clone());
            }
            if s.dfs {
                v.push(r.dfs_key.clone());
            }
            v
        })
        .collect();
    (header, rows)
}

/// The role a bundle gives, as the chooser and header name it.
pub fn role_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Teacher => "Teacher",
        Kind::School => "School Administrator",
        Kind::District => "District Administrator",
        Kind::State => "State Administrator",
        Kind::Aggregate => "Aggregate Reporter",
    }
}

/// The label of a school grade for links.
pub fn grade_title(g: Grade) -> String {
    grade_label(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_worded_above_or_below() {
        assert_eq!(distance_words(12.34, 1), "12.3 above");
        assert_eq!(distance_words(-35.25, 1), "35.2 below");
        assert_eq!(distance_words(-7.0, 0), "7 below");
        assert_eq!(distance_words(0.04, 1), "0.0 (at standard)");
        assert_eq!(distance_words(-0.0, 0), "0 (at standard)");
    }
}
