//! The target report (summative): each target's mean residual over a group,
//! relative to the student's whole test and relative to the Level 3 standard.
//!
//! As RDW computes it, a group's residual is the mean of its students'
//! residuals and its standard error is the standard error of that mean: the
//! sample standard deviation of the residuals over √n. The students' own
//! standard errors are not used (real TRT files leave them blank). Sources:
//! RDW_Reporting `webapp/…/target-statistics-calculator.ts` (`getReportingLevel`:
//! `average` and `standardErrorOfMean` of the scored residuals) and
//! `aggregate-service/…/target-report-template.sql.yml`
//! (`stddev_samp(residual)/sqrt(count(*))`). With one student the error is
//! unknown, so the target is *insufficient data*. The classification is
//! Smarter Balanced's.

use serde::Serialize;

/// Where a group stands on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Standing {
    Above,
    Near,
    Below,
    Insufficient,
}

impl Standing {
    /// Classifies a mean residual with its standard error: insufficient data
    /// if SE > 0.2; above if mean ≥ SE; below if mean ≤ −SE; near otherwise.
    pub fn of(mean: f64, se: f64) -> Standing {
        if se > 0.2 {
            Standing::Insufficient
        } else if mean >= se {
            Standing::Above
        } else if mean <= -se {
            Standing::Below
        } else {
            Standing::Near
        }
    }

    /// The label the report shows.
    pub fn label(self, relative_to_standard: bool) -> &'static str {
        match (self, relative_to_standard) {
            (Standing::Above, false) => "Performance better than on the entire test",
            (Standing::Near, false) => "Performance similar to the entire test",
            (Standing::Below, false) => "Performance worse than on the entire test",
            (Standing::Above, true) => "Above Standard",
            (Standing::Near, true) => "Near Standard",
            (Standing::Below, true) => "Below Standard",
            (Standing::Insufficient, _) => "Insufficient data",
        }
    }
}

/// A group's mean residual on one target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Residual {
    pub n: usize,
    pub mean: f64,
    pub se: f64,
    pub standing: Standing,
}

/// Aggregates the students' residuals; `None` when there are none.
pub fn aggregate(residuals: impl IntoIterator<Item = f32>) -> Option<Residual> {
    let values: Vec<f64> = residuals.into_iter().map(f64::from).collect();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some(Residual {
            n,
            mean,
            se: f64::NAN,
            standing: Standing::Insufficient,
        });
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = variance.sqrt() / (n as f64).sqrt();
    Some(Residual {
        n,
        mean,
        se,
        standing: Standing::of(mean, se),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_at_and_around_the_thresholds() {
        assert_eq!(Standing::of(0.5, 0.21), Standing::Insufficient);
        assert_eq!(Standing::of(-0.5, 0.2001), Standing::Insufficient);
        assert_eq!(Standing::of(0.2, 0.2), Standing::Above);
        assert_eq!(Standing::of(0.15, 0.15), Standing::Above);
        assert_eq!(Standing::of(0.1499, 0.15), Standing::Near);
        assert_eq!(Standing::of(0.0, 0.15), Standing::Near);
        assert_eq!(Standing::of(-0.1499, 0.15), Standing::Near);
        assert_eq!(Standing::of(-0.15, 0.15), Standing::Below);
        assert_eq!(Standing::of(-0.9, 0.05), Standing::Below);
    }

    #[test]
    fn group_residual_and_error() {
        // Four students: residuals 0.4, 0.2, -0.1, 0.3. Mean 0.2; squared
        // deviations 0.04 + 0 + 0.09 + 0.01 = 0.14; sample variance 0.14 / 3;
        // SE √(0.14 / 3) / √4 ≈ 0.1080: above (0.2 ≥ 0.108).
        let r = aggregate([0.4, 0.2, -0.1, 0.3]).unwrap();
        assert_eq!(r.n, 4);
        assert!((r.mean - 0.2).abs() < 1e-6);
        assert!((r.se - (0.14f64 / 3.0).sqrt() / 2.0).abs() < 1e-6);
        assert_eq!(r.standing, Standing::Above);
        // Widely spread residuals: SE = √((0.25+0.25)/1)/√2 = 0.5 > 0.2, insufficient.
        assert_eq!(
            aggregate([0.5, -0.5]).unwrap().standing,
            Standing::Insufficient
        );
        // One student: no error to judge by.
        assert_eq!(aggregate([1.0]).unwrap().standing, Standing::Insufficient);
        assert_eq!(aggregate(std::iter::empty()), None);
    }
}
