//! The Dashboard preview page of an administrator's scope: Distance from
//! Standard in ELA and mathematics and the English Learner Progress
//! Indicator, by student group and school, with status, change from the
//! prior year and the five-by-five colour, as the California School
//! Dashboard computes them (rules in `config/dashboard.yaml`).

mod academic;
mod hidden;

use crate::access::{Bundle, Kind};
use crate::deployment::Deployment;
use crate::render::views::{self, Base};
use crate::render::Renderer;
use crate::stats::dashboard::{tenth, Indicator, Rules};
use crate::stats::elpi::{self, Results};
use academic::{group_names, Count, Counts};
use anyhow::Result;
use hidden::{Parts, Shown};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

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
    /// Academic only: who tested of those expected to.
    participation: String,
    /// Academic only: lowest scores added for the participation rule.
    penalty: String,
}

/// What a hidden statistic shows.
const HIDDEN: &str = "*";

impl Row {
    /// A row whose figures the viewer may not see.
    fn hidden(name: &str) -> Row {
        let star = || HIDDEN.to_string();
        Row {
            name: name.to_string(),
            n: star(),
            status: star(),
            status_level: String::new(),
            prior_n: star(),
            prior: star(),
            change: "—".into(),
            change_level: String::new(),
            color: String::new(),
            counts: Vec::new(),
            participation: star(),
            penalty: String::new(),
        }
    }

    /// Hides what `now` and `prior` say the viewer may not see of this
    /// year's and the prior year's figures; a row without a prior year
    /// (`has_prior` false) has nothing of it to hide.
    fn limit(&mut self, (now, prior): (Shown, Shown), has_prior: bool) {
        let prior = if has_prior { prior } else { Shown::Whole };
        if now == Shown::Levels {
            self.n = HIDDEN.into();
            self.status = HIDDEN.into();
            self.penalty = HIDDEN.into();
            self.change = "—".into();
        }
        match prior {
            Shown::Whole => {}
            Shown::Levels => {
                self.prior_n = HIDDEN.into();
                self.prior = HIDDEN.into();
                self.change = "—".into();
            }
            Shown::Nothing => {
                self.prior_n = HIDDEN.into();
                self.prior = HIDDEN.into();
                self.change = "—".into();
                self.change_level.clear();
                self.color.clear();
            }
        }
    }
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
    excluded: Vec<(String, String)>,
    /// Academic only: students not expected to test, by reason.
    exempt: Vec<(String, usize)>,
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
        participation: String::new(),
        penalty: String::new(),
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

/// Who may see what: everything, or (an aggregate reporter) only what
/// gives no group of `threshold` or fewer away.
#[derive(Clone, Copy)]
enum Viewer {
    Administrator,
    Aggregate { threshold: usize },
}

/// A group's Distance from Standard with the participation rule applied.
fn academic_stat(rules: &Rules, c: Option<&Count>) -> Stat {
    let c = c?;
    let a = c.tally.adjusted(c.known(), rules.participation_target)?;
    Some((a.distance.n, a.distance.mean))
}

/// An academic row: the group's status with the participation rule
/// applied, its participation, and the lowest scores added; `shown` says
/// whether this year's and the prior year's figures may be seen.
fn academic_row(
    rules: &Rules,
    ind: &Indicator,
    name: &str,
    (now, before): (&Count, Option<&Count>),
    shown: (Shown, Shown),
    viewer: Viewer,
) -> Row {
    if shown.0 == Shown::Nothing {
        return Row::hidden(name);
    }
    let prior = match shown.1 {
        Shown::Nothing => None,
        _ => academic_stat(rules, before),
    };
    let mut r = row(rules, ind, name, academic_stat(rules, Some(now)), prior, "");
    let t = &now.tally;
    let target = rules.participation_target;
    r.participation = match (now.known(), t.rate(), viewer) {
        (false, ..) | (_, None, _) => "not known".into(),
        (true, Some(rate), Viewer::Administrator) => {
            format!("{} of {} ({:.1}%)", t.tested, t.expected(), tenth(rate))
        }
        (true, Some(rate), Viewer::Aggregate { .. }) => match rate >= target as f64 {
            true => format!("{target}% or more"),
            false => format!("below {target}%"),
        },
    };
    r.penalty = match t.adjusted(now.known(), target) {
        Some(a) if a.added > 0 => {
            let scores = if a.added == 1 { "score" } else { "scores" };
            match (a.unadjusted, viewer) {
                (Some(own), Viewer::Administrator) => format!(
                    "{} lowest {scores} added; {:.1} without",
                    a.added,
                    tenth(own)
                ),
                _ => format!("{} lowest {scores} added", a.added),
            }
        }
        _ => "none".into(),
    };
    r.limit(shown, before.is_some());
    r
}

/// Which group and school rows of `counts` the viewer may see.
fn visible(counts: Option<&Counts>, viewer: Viewer) -> (Vec<Shown>, BTreeMap<usize, Shown>) {
    let Some(c) = counts else {
        return (vec![Shown::Whole; group_names().len()], BTreeMap::new());
    };
    match viewer {
        Viewer::Administrator => (
            vec![Shown::Whole; c.groups.len()],
            c.schools.keys().map(|&s| (s, Shown::Whole)).collect(),
        ),
        Viewer::Aggregate { threshold } => {
            let groups: Vec<&Parts> = c.groups.iter().map(|g| &g.parts).collect();
            let schools: Vec<&Parts> = c.schools.values().map(|s| &s.parts).collect();
            let (g, s) = hidden::shown(&groups, &schools, threshold);
            (g, c.schools.keys().copied().zip(s).collect())
        }
    }
}

/// The ELA or mathematics indicator of bundle `b` in `year`, or none when
/// nobody in scope tested or was expected to.
fn academic_view(
    dep: &Deployment,
    b: &Bundle,
    rules: &Rules,
    ind: &Indicator,
    listed: &BTreeSet<(u32, u16)>,
    (year, viewer): (u16, Viewer),
) -> Option<IndicatorView> {
    let now = academic::counts(dep, b, listed, &ind.id, year)?;
    let before = academic::counts(dep, b, listed, &ind.id, year - 1);
    let (g_shown, s_shown) = visible(Some(&now), viewer);
    let (g_before, s_before) = visible(before.as_ref(), viewer);
    let names = group_names();
    let groups: Vec<Row> = names
        .iter()
        .enumerate()
        .filter(|(g, _)| now.groups[*g].tally.expected() > 0)
        .map(|(g, name)| {
            let prior = before.as_ref().map(|c| &c.groups[g]);
            let shown = (g_shown[g], g_before[g]);
            academic_row(rules, ind, name, (&now.groups[g], prior), shown, viewer)
        })
        .collect();
    let schools: Vec<Row> = if b.schools.len() > 1 {
        now.schools
            .iter()
            .filter(|(_, c)| c.tally.expected() > 0)
            .map(|(&s, c)| {
                let prior = before.as_ref().and_then(|p| p.schools.get(&s));
                let was = s_before.get(&s).copied().unwrap_or(Shown::Whole);
                let shown = (s_shown[&s], was);
                let name = &dep.data.institutions.schools[s].name;
                academic_row(rules, ind, name, (c, prior), shown, viewer)
            })
            .collect()
    } else {
        Vec::new()
    };
    let all = &now.groups[0].tally;
    let exempt = [
        ("a significant medical emergency", all.medical),
        (
            "an English learner in a U.S. school for under 12 months (ELA only)",
            all.new_english_learners,
        ),
    ];
    let placed: Vec<&Row> = groups.iter().collect();
    Some(IndicatorView {
        id: ind.id.clone(),
        name: ind.name.clone(),
        measure: ind.measure.clone(),
        grid: grid(rules, ind, &placed),
        groups,
        schools,
        excluded: Vec::new(),
        exempt: match viewer {
            Viewer::Administrator => exempt
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(why, n)| (why.to_string(), n))
                .collect(),
            Viewer::Aggregate { .. } => Vec::new(),
        },
    })
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

/// An ELPI tally as the parts suppression weighs: its counted students.
fn elpi_parts(t: &elpi::Tally) -> Parts {
    Parts::from([((0, crate::model::Grade::K), t.counted())])
}

/// Which of the scope row and the school rows `tallies` the viewer may see.
fn elpi_visible(
    all: &elpi::Tally,
    schools: &BTreeMap<usize, elpi::Tally>,
    viewer: Viewer,
) -> (Shown, BTreeMap<usize, Shown>) {
    let Viewer::Aggregate { threshold } = viewer else {
        return (
            Shown::Whole,
            schools.keys().map(|&s| (s, Shown::Whole)).collect(),
        );
    };
    let parts: Vec<Parts> = schools.values().map(elpi_parts).collect();
    let (g, s) = hidden::shown(
        &[&elpi_parts(all)],
        &parts.iter().collect::<Vec<_>>(),
        threshold,
    );
    (g[0], schools.keys().copied().zip(s).collect())
}

/// The English Learner Progress indicator of bundle `b` in `year`.
fn elpi_view(
    dep: &Deployment,
    b: &Bundle,
    rules: &Rules,
    ind: &Indicator,
    results: &Results,
    year: u16,
    viewer: Viewer,
) -> Option<IndicatorView> {
    let (now, now_schools) = elpi_tallies(dep, results, &b.exams, year);
    let (before, before_schools) = elpi_tallies(dep, results, &b.exams, year - 1);
    if now.counted() + now.excluded.iter().sum::<usize>() == 0 {
        return None;
    }
    let (all_shown, s_shown) = elpi_visible(&now, &now_schools, viewer);
    let (all_before, s_before) = elpi_visible(&before, &before_schools, viewer);
    let make = |name: &str, t: &elpi::Tally, prior: Option<&elpi::Tally>, shown: (Shown, Shown)| {
        if shown.0 == Shown::Nothing {
            return Row::hidden(name);
        }
        let before = match shown.1 {
            Shown::Nothing => None,
            _ => elpi_stat(prior),
        };
        let mut r = row(rules, ind, name, elpi_stat(Some(t)), before, "%");
        r.limit(shown, prior.is_some());
        if let Viewer::Administrator = viewer {
            r.counts = vec![t.progressed, t.maintained_top, t.maintained, t.declined];
        }
        r
    };
    let scope = make(&b.label(dep), &now, Some(&before), (all_shown, all_before));
    let schools: Vec<Row> = if b.schools.len() > 1 {
        now_schools
            .iter()
            .map(|(&s, t)| {
                let was = s_before.get(&s).copied().unwrap_or(Shown::Whole);
                let shown = (s_shown[&s], was);
                let name = &dep.data.institutions.schools[s].name;
                make(name, t, before_schools.get(&s), shown)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut placed: Vec<&Row> = vec![&scope];
    placed.extend(schools.iter());
    let count = |n: usize| match viewer {
        Viewer::Aggregate { threshold } if n <= threshold => format!("{threshold} or fewer"),
        _ => n.to_string(),
    };
    Some(IndicatorView {
        id: "elpi".into(),
        name: ind.name.clone(),
        measure: ind.measure.clone(),
        grid: grid(rules, ind, &placed),
        excluded: elpi::EXCLUSIONS
            .iter()
            .zip(now.excluded)
            .filter(|(_, n)| *n > 0)
            .map(|((_, why), n)| (why.to_string(), count(n)))
            .collect(),
        exempt: Vec::new(),
        groups: vec![scope],
        schools,
    })
}

/// The Dashboard preview of bundle `b`, or none when its scope has no
/// result the Dashboard uses. An aggregate reporter's hides what could
/// give a small group away (see [`hidden`]).
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
        participation_target: u32,
        /// Administrators see counts; aggregate reporters see `*` for small groups.
        detail: bool,
        threshold: usize,
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
    let threshold = dep.settings.suppression_threshold as usize;
    let viewer = match b.kind {
        Kind::Aggregate => Viewer::Aggregate { threshold },
        _ => Viewer::Administrator,
    };
    let listed = academic::listed(dep, b);
    let mut indicators: Vec<IndicatorView> = ["ela", "math"]
        .iter()
        .filter_map(|id| {
            let ind = rules.indicator(id)?;
            academic_view(dep, b, rules, ind, &listed, (year, viewer))
        })
        .collect();
    if let Some(ind) = rules.indicator("elpi") {
        indicators.extend(elpi_view(dep, b, rules, ind, results, year, viewer));
    }
    let view = View {
        title: "Dashboard preview".into(),
        subtitle: format!("{} · {}", b.label(dep), super::bundle_note(dep, b)),
        year: views::school_year_label(year),
        prior: views::school_year_label(year - 1),
        status_min_n: rules.status_min_n,
        color_min_n: rules.color_min_n,
        participation_target: rules.participation_target,
        detail: matches!(viewer, Viewer::Administrator),
        threshold,
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
        let teacher = site.bundle(Kind::Teacher);
        assert!(!site.paths_of(teacher).contains(&DASHBOARD));
        // ELA, all students: 2024–25 students, tested of expected, lowest
        // scores added, status, status level, 2023–24 students.
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
        // No Student Score Data File lists who was expected to test.
        assert_eq!(
            (school[1].as_str(), school[2].as_str()),
            ("not known", "none")
        );
        assert!(school[3].contains("fewer than 11"), "{school:?}");
        assert_eq!(school[5], "0");
        // The district also holds Ana's 2023–24 result at School 200.
        let district = cells(site.page(site.bundle(Kind::District), DASHBOARD));
        assert_eq!((district[0].as_str(), district[5].as_str()), ("2", "1"));
        // The aggregate reporter's preview hides the group of 2.
        let agg = cells(site.page(site.bundle(Kind::Aggregate), DASHBOARD));
        assert_eq!((agg[0].as_str(), agg[3].as_str()), ("*", "*"));
    }
}
