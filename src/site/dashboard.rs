//! The Dashboard preview page of an administrator's scope: Distance from
//! Standard in ELA and mathematics and the English Learner Progress
//! Indicator, by student group and school, with status, change from the
//! prior year and the five-by-five colour, as the California School
//! Dashboard computes them (rules in `config/dashboard.yaml`).

use crate::access::Bundle;
use crate::aggregate;
use crate::deployment::Deployment;
use crate::model::{Elas, Exam, Flag};
use crate::render::views::{self, Base};
use crate::render::Renderer;
use crate::stats::dashboard::{tenth, Indicator, Rules};
use crate::stats::distance::{self, Distance};
use crate::stats::elpi::{self, Results};
use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// The Dashboard student groups the files can tell: all students, English
/// learners, socioeconomically disadvantaged, students with disabilities,
/// then each race or ethnicity.
fn group_names() -> Vec<&'static str> {
    let mut names = vec![
        "All students",
        "English learners",
        "Socioeconomically disadvantaged",
        "Students with disabilities",
    ];
    names.extend(RACES.iter().map(|&(_, name)| name));
    names
}

/// Races as the Dashboard names them, by value of the aggregate race dimension.
const RACES: [(u8, &str); 8] = [
    (0, "Hispanic"),
    (1, "American Indian or Alaska Native"),
    (2, "Asian"),
    (3, "African American"),
    (4, "White"),
    (5, "Pacific Islander"),
    (6, "Two or more races"),
    (7, "Filipino"),
];

/// The groups (indices into [`group_names`]) exam `x`'s student is in.
fn groups_of(x: &Exam) -> Vec<usize> {
    let mut out = vec![0];
    if elpi::english_learner(x) || recently_reclassified(x) {
        out.push(1);
    }
    if x.demographics.get(Flag::EconomicDisadvantage) == Some(true) {
        out.push(2);
    }
    if x.demographics.get(Flag::Iep) == Some(true) {
        out.push(3);
    }
    let race = aggregate::subgroups(x)[1];
    if let Some(k) = RACES.iter().position(|&(v, _)| v == race) {
        out.push(4 + k);
    }
    out
}

/// True for a student reclassified (RFEP) in the school year tested or the
/// three before it, by the ELAS start date; the Dashboard's English learner
/// group for the Academic Indicator includes them.
fn recently_reclassified(x: &Exam) -> bool {
    let since = NaiveDate::from_ymd_opt(x.school_year as i32 - 4, 7, 1);
    x.demographics.elas == Some(Elas::Rfep)
        && x.demographics
            .elas_start
            .zip(since)
            .is_some_and(|(d, s)| d >= s)
}

/// One row of an indicator's table.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    n: String,
    status: String,
    status_level: String,
    prior_n: String,
    prior: String,
    change: String,
    change_level: String,
    color: String,
    /// ELPI only: progressed, maintained Level 4, maintained, declined.
    counts: Vec<usize>,
}

/// The five-by-five grid with the rows placed in each cell.
#[derive(Debug, Serialize)]
struct Grid {
    changes: Vec<String>,
    rows: Vec<GridRow>,
}

#[derive(Debug, Serialize)]
struct GridRow {
    status: String,
    cells: Vec<GridCell>,
}

#[derive(Debug, Serialize)]
struct GridCell {
    color: String,
    placed: Vec<String>,
}

#[derive(Debug, Serialize)]
struct IndicatorView {
    id: String,
    name: String,
    measure: String,
    groups: Vec<Row>,
    schools: Vec<Row>,
    grid: Grid,
    /// ELPI only: tested students not counted, by reason.
    excluded: Vec<(String, usize)>,
}

/// A statistic of one year: its n and value.
type Stat = Option<(usize, f64)>;

/// An indicator's row for a group with `now` and `before` (each n and value).
fn row(rules: &Rules, ind: &Indicator, name: &str, now: Stat, before: Stat, unit: &str) -> Row {
    let shown = |s: Stat| match s {
        Some((n, v)) if n >= rules.status_min_n => format!("{:.1}{unit}", tenth(v)),
        Some(_) => format!("— (fewer than {})", rules.status_min_n),
        None => "—".into(),
    };
    let placement = now.and_then(|(n, v)| rules.place(ind, n, v, before));
    let n_of = |s: Stat| s.map(|(n, _)| n.to_string()).unwrap_or_else(|| "0".into());
    Row {
        name: name.to_string(),
        n: n_of(now),
        status: shown(now),
        status_level: placement
            .as_ref()
            .map(|p| ind.status[p.status_level].level.clone())
            .unwrap_or_default(),
        prior_n: n_of(before),
        prior: shown(before),
        change: placement
            .as_ref()
            .and_then(|p| p.change)
            .map(|c| format!("{c:+.1}"))
            .unwrap_or_else(|| "—".into()),
        change_level: placement
            .as_ref()
            .and_then(|p| p.change_level)
            .map(|c| ind.change[c].level.clone())
            .unwrap_or_default(),
        color: placement.and_then(|p| p.color).unwrap_or_default(),
        counts: Vec::new(),
    }
}

/// The grid of `ind` with each row of `rows` that has a colour placed.
fn grid(rules: &Rules, ind: &Indicator, rows: &[&Row]) -> Grid {
    Grid {
        changes: ind.change.iter().map(|b| b.level.clone()).collect(),
        rows: ind
            .status
            .iter()
            .enumerate()
            .map(|(s, band)| GridRow {
                status: band.level.clone(),
                cells: ind
                    .change
                    .iter()
                    .enumerate()
                    .map(|(c, change)| GridCell {
                        color: rules.colors[s][c].clone(),
                        placed: rows
                            .iter()
                            .filter(|r| {
                                !r.color.is_empty()
                                    && r.status_level == band.level
                                    && r.change_level == change.level
                            })
                            .map(|r| r.name.clone())
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Each student's latest result of `subject` ("ela" or "math") in `year`
/// with a Distance from Standard, among `exams`.
fn academic(dep: &Deployment, exams: &[usize], subject: &str, year: u16) -> Vec<(usize, f32)> {
    let data = &dep.data;
    let mut latest: BTreeMap<u32, usize> = BTreeMap::new();
    for &e in exams {
        let x = &data.exams[e];
        let fam = &dep.catalog.families[data.assessments[x.assessment as usize].family];
        let of = match fam.subject.as_str() {
            "ELA" | "CAAELA" => "ela",
            "Math" | "CAAMATH" => "math",
            _ => continue,
        };
        if x.school_year != year || of != subject || !fam.distance_from_standard {
            continue;
        }
        let slot = latest.entry(x.student).or_insert(e);
        if data.exams[*slot].submitted < x.submitted {
            *slot = e;
        }
    }
    latest
        .into_values()
        .filter_map(|e| Some((e, distance::of_exam(&dep.catalog, data, e)?)))
        .collect()
}

/// The mean distance of each group (indexed as [`group_names`]).
fn by_group(dep: &Deployment, results: &[(usize, f32)], groups: usize) -> Vec<Option<Distance>> {
    let mut lists: Vec<Vec<f32>> = vec![Vec::new(); groups];
    for &(e, d) in results {
        for g in groups_of(&dep.data.exams[e]) {
            lists[g].push(d);
        }
    }
    lists.into_iter().map(distance::mean).collect()
}

fn stat(d: Option<Distance>) -> Stat {
    d.map(|d| (d.n, d.mean))
}

/// The ELPI tally of `exams` in `year`, all together and by school.
fn elpi_tallies(
    dep: &Deployment,
    results: &Results,
    exams: &[usize],
    year: u16,
) -> (elpi::Tally, BTreeMap<usize, elpi::Tally>) {
    let data = &dep.data;
    let mut all = elpi::Tally::default();
    let mut schools: BTreeMap<usize, elpi::Tally> = BTreeMap::new();
    for &e in exams {
        let x = &data.exams[e];
        if x.school_year != year
            || !results.is_elpac(data, e)
            || results.of(x.student, year) != Some(e)
        {
            continue;
        }
        let outcome = results.outcome(&dep.catalog, data, e);
        all.add(outcome);
        schools.entry(x.school as usize).or_default().add(outcome);
    }
    (all, schools)
}

fn elpi_stat(t: Option<&elpi::Tally>) -> Stat {
    t.and_then(|t| Some((t.counted(), t.status()?)))
}

/// The Dashboard preview of bundle `b`, or none when its scope has no
/// result the Dashboard uses.
pub(super) fn page(
    dep: &Deployment,
    b: &Bundle,
    rules: &Rules,
    results: &Results,
    base: Base,
    r: &Renderer,
) -> Result<Option<Vec<u8>>> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: String,
        subtitle: String,
        year: String,
        prior: String,
        status_min_n: usize,
        color_min_n: usize,
        indicators: Vec<IndicatorView>,
    }
    let data = &dep.data;
    let Some(year) = b
        .exams
        .iter()
        .filter(|&&e| {
            let fam = data.assessments[data.exams[e].assessment as usize].family;
            dep.catalog.families[fam].distance_from_standard || results.is_elpac(data, e)
        })
        .map(|&e| data.exams[e].school_year)
        .max()
    else {
        return Ok(None);
    };
    let names = group_names();
    let school_name = |s: usize| data.institutions.schools[s].name.clone();
    let mut indicators = Vec::new();
    for id in ["ela", "math"] {
        let Some(ind) = rules.indicator(id) else {
            continue;
        };
        let (now, before) = (
            academic(dep, &b.exams, id, year),
            academic(dep, &b.exams, id, year - 1),
        );
        if now.is_empty() {
            continue;
        }
        let (g_now, g_before) = (
            by_group(dep, &now, names.len()),
            by_group(dep, &before, names.len()),
        );
        let groups: Vec<Row> = names
            .iter()
            .enumerate()
            .filter(|(g, _)| g_now[*g].is_some())
            .map(|(g, name)| row(rules, ind, name, stat(g_now[g]), stat(g_before[g]), ""))
            .collect();
        let mut schools = Vec::new();
        if b.schools.len() > 1 {
            for &s in &b.schools {
                let at = |list: &[(usize, f32)]| {
                    distance::mean(
                        list.iter()
                            .filter(|(e, _)| data.exams[*e].school as usize == s)
                            .map(|&(_, d)| d),
                    )
                };
                if let Some(d) = at(&now) {
                    let before = at(&before);
                    schools.push(row(
                        rules,
                        ind,
                        &school_name(s),
                        stat(Some(d)),
                        stat(before),
                        "",
                    ));
                }
            }
        }
        let placed: Vec<&Row> = groups.iter().collect();
        indicators.push(IndicatorView {
            id: id.into(),
            name: ind.name.clone(),
            measure: ind.measure.clone(),
            grid: grid(rules, ind, &placed),
            groups,
            schools,
            excluded: Vec::new(),
        });
    }
    if let Some(ind) = rules.indicator("elpi") {
        let (now, now_schools) = elpi_tallies(dep, results, &b.exams, year);
        let (before, before_schools) = elpi_tallies(dep, results, &b.exams, year - 1);
        if now.counted() + now.excluded.iter().sum::<usize>() > 0 {
            let with_counts = |mut row: Row, t: &elpi::Tally| {
                row.counts = vec![t.progressed, t.maintained_top, t.maintained, t.declined];
                row
            };
            let scope = with_counts(
                row(
                    rules,
                    ind,
                    &b.label(dep),
                    elpi_stat(Some(&now)),
                    elpi_stat(Some(&before)),
                    "%",
                ),
                &now,
            );
            let schools: Vec<Row> = if b.schools.len() > 1 {
                now_schools
                    .iter()
                    .map(|(&s, t)| {
                        let r = row(
                            rules,
                            ind,
                            &school_name(s),
                            elpi_stat(Some(t)),
                            elpi_stat(before_schools.get(&s)),
                            "%",
                        );
                        with_counts(r, t)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut placed: Vec<&Row> = vec![&scope];
            placed.extend(schools.iter());
            indicators.push(IndicatorView {
                id: "elpi".into(),
                name: ind.name.clone(),
                measure: ind.measure.clone(),
                grid: grid(rules, ind, &placed),
                excluded: elpi::EXCLUSIONS
                    .iter()
                    .zip(now.excluded)
                    .map(|((_, why), n)| (why.to_string(), n))
                    .collect(),
                groups: vec![scope],
                schools,
            });
        }
    }
    let view = View {
        title: "Dashboard preview".into(),
        subtitle: format!("{} · {}", b.label(dep), super::bundle_note(dep, b)),
        year: views::school_year_label(year),
        prior: views::school_year_label(year - 1),
        status_min_n: rules.status_min_n,
        color_min_n: rules.color_min_n,
        indicators,
        base,
    };
    Ok(Some(r.render("dashboard.html", &view)?.into_bytes()))
}

/// English Learner Progress of a results page's students in the latest
/// school year with an ELPAC result: who moved how, and who is not counted.
#[derive(Debug, Serialize)]
pub(super) struct GroupProgress {
    year: String,
    counted: usize,
    counts: Vec<usize>,
    status: String,
    excluded: Vec<(String, usize)>,
}

/// The English Learner Progress of `exams`, when any is an ELPAC result
/// in grades 1–12.
pub(super) fn group_progress(
    dep: &Deployment,
    results: &Results,
    exams: &[usize],
) -> Option<GroupProgress> {
    let data = &dep.data;
    let year = exams
        .iter()
        .filter(|&&e| results.is_elpac(data, e))
        .map(|&e| data.exams[e].school_year)
        .max()?;
    let (t, _) = elpi_tallies(dep, results, exams, year);
    // Kindergarten alone: the indicator does not apply.
    if t.counted() + t.excluded[1..].iter().sum::<usize>() == 0 {
        return None;
    }
    Some(GroupProgress {
        year: views::school_year_label(year),
        counted: t.counted(),
        counts: vec![t.progressed, t.maintained_top, t.maintained, t.declined],
        status: t
            .status()
            .map(|s| format!("{s:.1}%"))
            .unwrap_or_else(|| "—".into()),
        excluded: elpi::EXCLUSIONS
            .iter()
            .zip(t.excluded)
            .filter(|(_, n)| *n > 0)
            .map(|((_, why), n)| (why.to_string(), n))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use crate::access::Kind;
    use crate::paths::DASHBOARD;
    use crate::testing::{deployment, Site};

    #[test]
    fn administrators_have_a_dashboard_preview_of_their_scope() {
        let site = Site::render(&deployment());
        for kind in [Kind::Teacher, Kind::Aggregate] {
            let b = site.bundle(kind);
            assert!(!site.paths_of(b).contains(&DASHBOARD), "{kind:?}");
        }
        // ELA, all students: 2024–25 students, status, status level,
        // 2023–24 students.
        let cells = |page: &str| -> Vec<String> {
            let ela = &page[page.find("English Language Arts by student group").unwrap()..];
            let row = &ela[ela.find("All students").unwrap()..];
            let row = &row[..row.find("</tr>").unwrap()];
            row.split("<td")
                .skip(1)
                .map(|c| {
                    c[c.find('>').unwrap() + 1..]
                        .split('<')
                        .next()
                        .unwrap()
                        .trim()
                        .to_string()
                })
                .collect()
        };
        let school = cells(site.page(site.bundle(Kind::School), DASHBOARD));
        // Two results in 2024–25: counted, but no status under 11; none
        // at School 100 the year before.
        assert_eq!(school[0], "2");
        assert!(school[1].contains("fewer than 11"), "{school:?}");
        assert_eq!(school[3], "0");
        // The district also holds Ana's 2023–24 result at School 200.
        let district = cells(site.page(site.bundle(Kind::District), DASHBOARD));
        assert_eq!((district[0].as_str(), district[3].as_str()), ("2", "1"));
    }
}
