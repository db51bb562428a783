//! The longitudinal report: cohorts followed over school years.

use crate::catalog::Family;
use crate::deployment::Deployment;
use crate::model::Grade;
use crate::stats::distance;
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

/// One group's figures in one year of a cohort's span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub n: usize,
    pub mean: Option<f64>,
    /// Percentage at or above the standard, of results with a level.
    pub met: f64,
    /// Distance from Standard, where the family has one and it is reported.
    pub dfs: Option<f64>,
}

/// One year of a cohort's span: all students tested in the grade, and the
/// cohort; `None` where the group is suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct YearRow {
    pub year: u16,
    pub grade: u8,
    pub all: Option<Figures>,
    pub cohort: Option<Figures>,
}

/// A cohort followed over the school years: students starting in one grade.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub rows: Vec<YearRow>,
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
) -> Vec<Cohort> {
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
            (span.len() >= 2).then(|| follow(dep, family, &by, &span, threshold))
        })
        .collect()
}

/// The figures of `exams`.
fn figures(dep: &Deployment, family: &Family, exams: &[usize]) -> Figures {
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
    let dfs = distance::mean(
        exams
            .iter()
            .filter_map(|&e| distance::of_exam(&dep.catalog, &dep.data, e)),
    )
    .filter(|d| d.reported())
    .map(|d| d.mean);
    Figures {
        n: s.n,
        mean: s.mean,
        met: crate::stats::items::percent(met, with_level),
        dfs,
    }
}

fn follow(
    dep: &Deployment,
    family: &Family,
    by: &BTreeMap<(u16, u8), BTreeMap<u32, usize>>,
    span: &[(u16, u8)],
    threshold: Option<usize>,
) -> Cohort {
    let tested: Vec<BTreeSet<u32>> = span
        .iter()
        .map(|k| by[k].keys().copied().collect())
        .collect();
    let members = cohort(&tested);
    let rows = span
        .iter()
        .map(|&(year, grade)| {
            let students = &by[&(year, grade)];
            let all: Vec<usize> = students.values().copied().collect();
            let mine: Vec<usize> = students
                .iter()
                .filter(|(s, _)| members.contains(s))
                .map(|(_, &e)| e)
                .collect();
            let (all, mine) = (figures(dep, family, &all), figures(dep, family, &mine));
            let hide = |n: usize| crate::stats::suppressed(n, threshold);
            // All students minus the cohort is a group too: when it is small,
            // the cohort row is hidden so that it cannot be subtracted.
            let (an, cn) = (all.n, mine.n);
            let hide_all = hide(an);
            let hide_cohort = hide(cn) || (!hide_all && an > cn && hide(an - cn));
            YearRow {
                year,
                grade,
                all: (!hide_all).then_some(all),
                cohort: (!hide_cohort).then_some(mine),
            }
        })
        .collect();
    Cohort { rows }
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
