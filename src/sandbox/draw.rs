//! Seeded random draws. Every student, school and class gets its own stream,
//! derived from the seed and its index, so generation can run in parallel and
//! still give byte-identical output for the same seed.

use fake::rand::rngs::ChaCha8Rng;
use fake::rand::{RngExt, SeedableRng};

/// Independent streams of draws.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Schools = 1,
    Teachers = 2,
    Students = 3,
    Classes = 4,
    Results = 5,
    Plans = 6,
}

/// The random generator for item `index` of `stream`.
pub fn rng(seed: u64, stream: Stream, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(seed ^ (stream as u64) << 56) ^ index))
}

/// A stable hash of a string, for keying streams by name.
pub fn key(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draws used by the generator.
pub trait Draws {
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool;
    /// A standard normal deviate.
    fn normal(&mut self) -> f64;
    /// A uniform number in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64;
    /// An index picked with the given weights.
    fn weighted(&mut self, weights: &[f64]) -> usize;
    /// A uniform integer below `n` (which must be positive).
    fn below(&mut self, n: usize) -> usize;
}

impl<R: RngExt> Draws for R {
    fn chance(&mut self, p: f64) -> bool {
        self.random::<f64>() < p
    }

    fn normal(&mut self) -> f64 {
        // Box–Muller; 1 - u keeps the logarithm finite.
        let (u, v): (f64, f64) = (1.0 - self.random::<f64>(), self.random());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.random::<f64>()
    }

    fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.random::<f64>() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    fn below(&mut self, n: usize) -> usize {
        self.random_range(0..n)
    }
}

/// The standard normal quantile function (Acklam's rational approximation,
/// relative error below 1.2e-9).
pub fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The standard normal distribution function (via the complementary error
/// function of Numerical Recipes, error below 1.2e-7).
pub fn phi(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let erfc = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        1.0 - erfc / 2.0
    } else {
        erfc / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probit_and_phi_invert_each_other() {
        assert!((probit(0.5)).abs() < 1e-9);
        assert!((probit(0.975) - 1.959_964).abs() < 1e-5);
        assert!((probit(0.01) + 2.326_348).abs() < 1e-5);
        for p in [0.001, 0.1, 0.32, 0.5, 0.9, 0.999] {
            assert!((phi(probit(p)) - p).abs() < 1e-6, "{p}");
        }
    }

    #[test]
    fn streams_are_stable_and_distinct() {
        let draw = |s, i| rng(7, s, i).random::<u64>();
        assert_eq!(draw(Stream::Students, 3), draw(Stream::Students, 3));
        assert_ne!(draw(Stream::Students, 3), draw(Stream::Students, 4));
        assert_ne!(draw(Stream::Students, 3), draw(Stream::Results, 3));
        let mut r = rng(1, Stream::Results, 0);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
