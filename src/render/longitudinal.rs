//! The longitudinal report as a page shows it: each cohort's table, with
//! its figures formatted, and its line chart.

use super::{svg, views};
use crate::aggregate::{Cohort, Figures};
use serde::Serialize;

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

/// A cohort as the page shows it.
#[derive(Debug, Serialize)]
pub struct Trajectory {
    pub title: String,
    pub chart: String,
    pub rows: Vec<LongRow>,
}

/// A group's n, mean, % at or above standard and DFS as shown: `*` when
/// the group is suppressed; a DFS only when `dfs`.
fn shown(f: Option<Figures>, dfs: bool) -> [String; 4] {
    let Some(f) = f else {
        let star = if dfs { "*" } else { "" };
        return ["*".into(), "*".into(), "*".into(), star.into()];
    };
    [
        f.n.to_string(),
        f.mean.map(views::whole).unwrap_or_else(|| "—".into()),
        format!("{:.0}%", f.met),
        if dfs {
            f.dfs
                .map(|d| views::distance_words(d, 1))
                .unwrap_or_else(|| "—".into())
        } else {
            String::new()
        },
    ]
}

/// Each cohort's table and chart; `dfs` when the family has a Distance
/// from Standard.
pub fn trajectories(cohorts: &[Cohort], dfs: bool) -> Vec<Trajectory> {
    cohorts.iter().map(|c| trajectory(c, dfs)).collect()
}

fn trajectory(c: &Cohort, dfs: bool) -> Trajectory {
    let (first, last) = (&c.rows[0], &c.rows[c.rows.len() - 1]);
    let title = format!(
        "Grade {} in {} to grade {} in {}",
        first.grade,
        views::school_year_label(first.year),
        last.grade,
        views::school_year_label(last.year)
    );
    let rows = c
        .rows
        .iter()
        .map(|r| {
            let [all_n, all_mean, all_met, all_dfs] = shown(r.all, dfs);
            let [cohort_n, cohort_mean, cohort_met, cohort_dfs] = shown(r.cohort, dfs);
            LongRow {
                year: views::school_year_label(r.year),
                grade: r.grade.to_string(),
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
    let labels: Vec<String> = c
        .rows
        .iter()
        .map(|r| format!("Gr {} · {}", r.grade, views::school_year_label(r.year)))
        .collect();
    let mean = |f: Option<Figures>| f.and_then(|f| f.mean);
    let chart = svg::lines(
        &labels,
        &[
            (
                "All students".into(),
                c.rows.iter().map(|r| mean(r.all)).collect(),
            ),
            (
                "Cohort".into(),
                c.rows.iter().map(|r| mean(r.cohort)).collect(),
            ),
        ],
        &format!("Average scale score, {title}: all students (solid) and the cohort (dashed)"),
    );
    Trajectory { title, chart, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::YearRow;

    #[test]
    fn a_cohort_table_shows_figures_stars_and_distances() {
        let f = |n, mean, dfs| {
            Some(Figures {
                n,
                mean: Some(mean),
                met: 40.0,
                dfs,
            })
        };
        let c = Cohort {
            rows: vec![
                YearRow {
                    year: 2024,
                    grade: 3,
                    all: f(30, 2420.4, Some(-11.62)),
                    cohort: None,
                },
                YearRow {
                    year: 2025,
                    grade: 4,
                    all: f(12, 2480.6, None),
                    cohort: f(11, 2478.0, Some(5.0)),
                },
            ],
        };
        let t = &trajectories(&[c], true)[0];
        assert_eq!(t.title, "Grade 3 in 2023–24 to grade 4 in 2024–25");
        let r = &t.rows;
        assert_eq!(
            [&r[0].all_n, &r[0].all_mean, &r[0].all_met, &r[0].all_dfs],
            ["30", "2420", "40%", "11.6 below"]
        );
        assert_eq!([&r[0].cohort_n, &r[0].cohort_dfs], ["*", "*"]);
        assert_eq!([&r[1].all_dfs, &r[1].cohort_dfs], ["—", "5.0 above"]);
        assert!(t.chart.contains("<svg"));
    }
}
