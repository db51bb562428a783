//! The longitudinal report: cohorts followed over school years.

use crate::catalog::Family;
use crate::deployment::Deployment;
use crate::model::Grade;
use crate::stats::distance;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The cohort of a span of school years: the students tested at the
/// institution in every one of them (`tested[k]`: students tested in year k).
pub fn cohort(tested: &[BTreeSet<u32>]) -> BTreeSet<u32> {
    let Some((first, rest)) = tested.split_first() else {
        return BTreeSet::new();
    };
    first
        .iter()
        .copied()
        .filter(|s| rest.iter().all(|y| y.contains(s)))
        .collect()
}

/// One row of a cohort's longitudinal table.
#[derive(Debug, Serialize)]
pub struct LongRow {
    pub year: String,
    pub grade: String,
    pub all_n: String,
    pub all_mean: String,
    pub all_met: String,
    /// Distance from Standard, where the family has one (else empty).
    pub all_dfs: String,
    pub cohort_n: String,
    pub cohort_mean: String,
    pub cohort_met: String,
    pub cohort_dfs: String,
}

/// A cohort followed over the school years: students starting in one grade.
#[derive(Debug, Serialize)]
pub struct Trajectory {
    pub title: String,
    pub chart: String,
    pub rows: Vec<LongRow>,
}

/// The longitudinal report of `exams` (one family, one scope): for each
/// grade tested in the first school year, that grade's students followed a
/// grade a year. Each year shows all students tested in the grade and the
/// cohort tested in the scope every year. Groups of `threshold` or fewer are
/// suppressed when it is given.
pub fn longitudinal(
    dep: &Deployment,
    family: &Family,
    exams: &[usize],
    threshold: Option<usize>,
) -> Vec<Trajectory> {
    let data = &dep.data;
    // (year, test grade) → student → latest exam.
    let mut by: BTreeMap<(u16, u8), BTreeMap<u32, usize>> = BTreeMap::new();
    for &e in exams {
        let x = &data.exams[e];
        let Some(Grade::N(g)) = data.assessments[x.assessment as usize].grade else {
            continue;
        };
        let slot = by
            .entry((x.school_year, g))
            .or_default()
            .entry(x.student)
            .or_insert(e);
        if data.exams[*slot].submitted < x.submitted {
            *slot = e;
        }
    }
    let years: BTreeSet<u16> = by.keys().map(|k| k.0).collect();
    let years: Vec<u16> = years.into_iter().collect();
    if years.len() < 2 {
        return Vec::new();
    }
    let first = years[0];
    let starts: Vec<u8> = by.keys().filter(|k| k.0 == first).map(|k| k.1).collect();
    starts
        .into_iter()
        .filter_map(|g0| {
            let span: Vec<(u16, u8)> = years
                .iter()
                .enumerate()
                .map(|(k, &y)| (y, g0 + k as u8))
                .take_while(|key| by.contains_key(key))
                .collect();
            (span.len() >= 2).then(|| trajectory(dep, family, &by, &span, threshold))
        })
        .collect()
}

fn trajectory(
    dep: &Deployment,
    family: &Family,
    by: &BTreeMap<(u16, u8), BTreeMap<u32, usize>>,
    span: &[(u16, u8)],
    threshold: Option<usize>,
) -> Trajectory {
    use crate::render::views::school_year_label;
    let tested: Vec<BTreeSet<u32>> = span
        .iter()
        .map(|k| by[k].keys().copied().collect())
        .collect();
    let members = cohort(&tested);
    let stat = |exams: Vec<usize>| {
        let s = crate::stats::summarize(
            exams.iter().map(|&e| {
                let o = &dep.data.exams[e].overall;
                (o.scale, o.level)
            }),
            family.levels.len(),
        );
        let met: usize = s
            .levels
            .iter()
            .filter(|l| l.level >= family.standard_cutoff)
            .map(|l| l.count)
            .sum();
        let with_level: usize = s.levels.iter().map(|l| l.count).sum();
        let dfs = family.distance_from_standard.then(|| {
            let d = distance::mean(
                exams
                    .iter()
                    .filter_map(|&e| distance::of_exam(&dep.catalog, &dep.data, e)),
            );
            match d {
                Some(d) if d.reported() => distance::words(d.mean, 1),
                _ => "—".to_string(),
            }
        });
        (
            s.n,
            s.mean,
            crate::stats::items::percent(met, with_level),
            dfs.unwrap_or_default(),
        )
    };
    let mut all_means = Vec::new();
    let mut cohort_means = Vec::new();
    let rows = span
        .iter()
        .map(|k| {
            let students = &by[k];
            let (an, am, ap, ad) = stat(students.values().copied().collect());
            let (cn, cm, cp, cd) = stat(
                students
                    .iter()
                    .filter(|(s, _)| members.contains(s))
                    .map(|(_, &e)| e)
                    .collect(),
            );
            let hide = |n: usize| crate::stats::suppressed(n, threshold);
            // All students minus the cohort is a group too: when it is small,
            // the cohort row is hidden so that it cannot be subtracted.
            let hide_all = hide(an);
            let hide_cohort = hide(cn) || (!hide_all && an > cn && hide(an - cn));
            all_means.push(am.filter(|_| !hide_all));
            cohort_means.push(cm.filter(|_| !hide_cohort));
            let show = |hidden: bool, n: usize, m: Option<f64>, p: f64, d: String| {
                if hidden {
                    let star = if d.is_empty() { "" } else { "*" };
                    ("*".into(), "*".into(), "*".into(), star.to_string())
                } else {
                    (
                        n.to_string(),
                        m.map(crate::render::views::whole)
                            .unwrap_or_else(|| "—".into()),
                        format!("{p:.0}%"),
                        d,
                    )
                }
            };
            let (all_n, all_mean, all_met, all_dfs) = show(hide_all, an, am, ap, ad);
            let (cohort_n, cohort_mean, cohort_met, cohort_dfs) = show(hide_cohort, cn, cm, cp, cd);
            LongRow {
                year: school_year_label(k.0),
                grade: k.1.to_string(),
                all_n,
                all_mean,
                all_met,
                all_dfs,
                cohort_n,
                cohort_mean,
                cohort_met,
                cohort_dfs,
            }
        })
        .collect();
    let title = format!(
        "Grade {} in {} to grade {} in {}",
        span[0].1,
        school_year_label(span[0].0),
        span[span.len() - 1].1,
        school_year_label(span[span.len() - 1].0)
    );
    let labels: Vec<String> = span
        .iter()
        .map(|k| format!("Gr {} · {}", k.1, school_year_label(k.0)))
        .collect();
    let chart = crate::render::svg::lines(
        &labels,
        &[
            ("All students".into(), all_means),
            ("Cohort".into(), cohort_means),
        ],
        &format!("Average scale score, {title}: all students (solid) and the cohort (dashed)"),
    );
    Trajectory { title, chart, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cohort_is_those_tested_every_year() {
        let years: Vec<BTreeSet<u32>> =
            vec![[1, 2, 3, 4].into(), [2, 3, 4, 5].into(), [3, 4, 6].into()];
        assert_eq!(cohort(&years), [3, 4].into());
        assert_eq!(cohort(&years[..1]), [1, 2, 3, 4].into());
        assert_eq!(cohort(&[]), BTreeSet::new());
        assert_eq!(cohort(&[[1].into(), BTreeSet::new()]), BTreeSet::new());
    }
}
