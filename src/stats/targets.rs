//! The target report (summative): each target's mean residual over a group,
//! relative to the student's whole test and relative to the Level 3 standard.
//!
//! A group's residual is the mean of its students' residuals, and its
//! standard error is √(Σ SEᵢ²) / n, the error of a mean of independent
//! estimates. The classification is Smarter Balanced's.

use serde::Serialize;

/// Groups smaller than this get a caution on the target report.
pub const CAUTION_BELOW: usize = 10;

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

/// Aggregates `(residual, its SE)` pairs; `None` when there are none.
pub fn aggregate(values: impl IntoIterator<Item = (f32, f32)>) -> Option<Residual> {
    let (mut n, mut sum, mut var) = (0usize, 0f64, 0f64);
    for (r, se) in values {
        n += 1;
        sum += r as f64;
        var += (se as f64) * (se as f64);
    }
    (n > 0).then(|| {
        let (mean, se) = (sum / n as f64, var.sqrt() / n as f64);
        Residual {
            n,
            mean,
            se,
            standing: Standing::of(mean, se),
        }
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
        // Four students: residuals 0.4, 0.2, -0.1, 0.3 with SEs 0.3, 0.4, 0.2, 0.1.
        // Mean 0.2; SE √(0.09 + 0.16 + 0.04 + 0.01) / 4 = √0.30 / 4 ≈ 0.1369: above.
        let r = aggregate([(0.4, 0.3), (0.2, 0.4), (-0.1, 0.2), (0.3, 0.1)]).unwrap();
        assert_eq!(r.n, 4);
        assert!((r.mean - 0.2).abs() < 1e-6);
        assert!((r.se - 0.30f64.sqrt() / 4.0).abs() < 1e-6);
        assert_eq!(r.standing, Standing::Above);
        // One student with SE 0.5: insufficient data.
        assert_eq!(
            aggregate([(1.0, 0.5)]).unwrap().standing,
            Standing::Insufficient
        );
        assert_eq!(aggregate(std::iter::empty()), None);
    }
}
