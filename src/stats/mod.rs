//! Aggregate statistics of a set of results: count, mean scale score with its
//! standard error (sample SD / √n), and the level distribution.

pub mod dashboard;
pub mod distance;
pub mod elpi;
pub mod items;
pub mod participation;
pub mod targets;

use serde::Serialize;

/// True when a group of `n` results is hidden (`*`): a threshold applies and
/// n is at or below it.
pub fn suppressed(n: usize, threshold: Option<usize>) -> bool {
    threshold.is_some_and(|t| n <= t)
}

/// The Results Summary of a set of exams.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Results counted (with a score or a level).
    pub n: usize,
    /// Results with a scale score, which the mean uses.
    pub scored: usize,
    pub mean: Option<f64>,
    /// Standard error of the mean: sample standard deviation / √scored (needs 2 scores).
    pub sem: Option<f64>,
    /// Count and percentage of results at each level 1…k, of those with a level.
    pub levels: Vec<LevelShare>,
}

/// Results at one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelShare {
    pub level: u8,
    pub count: usize,
    pub percent: f64,
}

/// Summarises `(scale score, level)` pairs over a family with `levels` levels.
pub fn summarize(
    results: impl IntoIterator<Item = (Option<f32>, Option<u8>)>,
    levels: usize,
) -> Summary {
    let (mut n, mut scored, mut sum, mut sum_sq) = (0usize, 0usize, 0f64, 0f64);
    let mut counts = vec![0usize; levels];
    for (score, level) in results {
        if score.is_none() && level.is_none() {
            continue;
        }
        n += 1;
        if let Some(s) = score {
            scored += 1;
            sum += s as f64;
            sum_sq += (s as f64) * (s as f64);
        }
        if let Some(l) = level.filter(|&l| (1..=levels as u8).contains(&l)) {
            counts[l as usize - 1] += 1;
        }
    }
    let mean = (scored > 0).then(|| sum / scored as f64);
    let sem = mean.filter(|_| scored > 1).map(|m| {
        let variance = ((sum_sq - scored as f64 * m * m) / (scored - 1) as f64).max(0.0);
        (variance / scored as f64).sqrt()
    });
    let with_level: usize = counts.iter().sum();
    let levels = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| LevelShare {
            level: i as u8 + 1,
            count,
            percent: if with_level == 0 {
                0.0
            } else {
                100.0 * count as f64 / with_level as f64
            },
        })
        .collect();
    Summary {
        n,
        scored,
        mean,
        sem,
        levels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_at_the_threshold() {
        assert!(suppressed(10, Some(10)));
        assert!(!suppressed(11, Some(10)));
        assert!(suppressed(0, Some(10)));
        assert!(!suppressed(3, None));
    }

    #[test]
    fn mean_sem_and_levels_by_hand() {
        // Scores 2400, 2500, 2600: mean 2500; sample SD 100; SEM 100/√3 = 57.735.
        let s = summarize(
            [
                (Some(2400.0), Some(1)),
                (Some(2500.0), Some(2)),
                (Some(2600.0), Some(4)),
            ],
            4,
        );
        assert_eq!(s.n, 3);
        assert_eq!(s.mean, Some(2500.0));
        assert!((s.sem.unwrap() - 57.735_026_9).abs() < 1e-6);
        let counts: Vec<usize> = s.levels.iter().map(|l| l.count).collect();
        assert_eq!(counts, [1, 1, 0, 1]);
        assert!((s.levels[0].percent - 33.333_333).abs() < 1e-5);
        assert_eq!(s.levels[2].percent, 0.0);
    }

    #[test]
    fn one_score_has_no_sem_and_blank_results_are_skipped() {
        let s = summarize([(Some(2450.0), Some(2)), (None, None), (None, Some(3))], 3);
        assert_eq!((s.n, s.scored), (2, 1));
        assert_eq!(s.mean, Some(2450.0));
        assert_eq!(s.sem, None);
        // Percentages are of results with a level: 1 of 2 each.
        assert_eq!(s.levels[1].percent, 50.0);
        assert_eq!(s.levels[2].percent, 50.0);
        let empty = summarize(std::iter::empty(), 3);
        assert_eq!((empty.n, empty.mean, empty.sem), (0, None, None));
    }

    #[test]
    fn identical_scores_have_zero_sem() {
        let s = summarize([(Some(2500.0), Some(3)); 4], 4);
        assert_eq!(s.sem, Some(0.0));
        assert_eq!(s.levels[2].percent, 100.0);
    }
}
