//! Distance from Standard (DFS), the California School Dashboard's
//! Academic Indicator measure: each result's scale score minus the lowest
//! score of the level that meets the standard (Level 3), and a group's DFS
//! as the mean of its results' distances.

use crate::catalog::Catalog;
use crate::model::Dataset;

/// The fewest results a group's DFS is reported for: the Dashboard reports
/// status for a student group of 11 or more.
pub const STATUS_MIN_N: usize = 11;

/// A group's Distance from Standard: how many results it averages, and
/// their mean distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distance {
    pub n: usize,
    pub mean: f64,
}

impl Distance {
    /// True when the group is large enough for the Dashboard to report it.
    pub fn reported(&self) -> bool {
        self.n >= STATUS_MIN_N
    }
}

/// Exam `e`'s distance, when its family, grade and year have one and it has
/// a scale score. The assessment's grade decides the cut, as it decides
/// the level.
pub fn of_exam(catalog: &Catalog, data: &Dataset, e: usize) -> Option<f32> {
    let exam = &data.exams[e];
    let a = &data.assessments[exam.assessment as usize];
    let grade = a.grade.unwrap_or(exam.grade);
    catalog.families[a.family].distance_from_standard(grade, exam.school_year, exam.overall.scale?)
}

/// The mean of `distances`, or none when there are none.
pub fn mean(distances: impl IntoIterator<Item = f32>) -> Option<Distance> {
    let (n, sum) = distances
        .into_iter()
        .fold((0usize, 0f64), |(n, sum), d| (n + 1, sum + d as f64));
    mean_of(n, sum)
}

/// The mean of `n` distances adding up to `sum`, or none when `n` is 0.
pub fn mean_of(n: usize, sum: f64) -> Option<Distance> {
    (n > 0).then(|| Distance {
        n,
        mean: sum / n as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_distance_is_the_mean_of_its_students() {
        // Grade 3 (cut 2432) and grade 4 (cut 2473) students in one group:
        // 2450 − 2432 = 18 and 2400 − 2473 = −73; mean −27.5.
        let d = mean([18.0, -73.0]).unwrap();
        assert_eq!((d.n, d.mean), (2, -27.5));
        assert_eq!(mean(std::iter::empty()), None);
    }

    #[test]
    fn status_is_reported_from_11_results() {
        assert!(!mean([0.0; 10]).unwrap().reported());
        assert!(mean([0.0; 11]).unwrap().reported());
    }
}
