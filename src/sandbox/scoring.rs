//! How a fictitious student of a given ability scores: the scale score and
//! level of an opportunity, and the response to each practice item.

use super::draw::{self, Draws};
use super::results::ItemResult;
use crate::catalog::Scale;
use crate::items::Item;
use fake::rand::rngs::ChaCha8Rng;

/// Maps ability onto `scale` so that a standard-normal population falls into
/// the levels in the proportions of `mix`: piecewise linear through the cuts
/// at the mix's normal quantiles. Returns the rounded score and the slope
/// (points per unit of ability).
pub(super) fn scale_score(theta: f64, scale: &Scale, mix: &[f64]) -> (f32, f32) {
    let cuts: Vec<f64> = scale.cuts.iter().map(|&c| c as f64).collect();
    let knots: Vec<(f64, f64)> = if mix.len() == cuts.len() + 1 && !cuts.is_empty() {
        let mut cumulative = 0.0;
        cuts.iter()
            .zip(mix)
            .map(|(&c, p)| {
                cumulative += p;
                (draw::probit(cumulative), c)
            })
            .collect()
    } else {
        vec![(-3.0, scale.min as f64), (3.0, scale.max as f64)]
    };
    let slope_of = |a: (f64, f64), b: (f64, f64)| (b.1 - a.1) / (b.0 - a.0);
    let (slope, score) = if knots.len() == 1 {
        let s = (scale.max - scale.min) as f64 / 6.0;
        (s, knots[0].1 + s * (theta - knots[0].0))
    } else {
        let i = knots
            .windows(2)
            .position(|w| theta < w[1].0)
            .unwrap_or(knots.len() - 2);
        let s = slope_of(knots[i], knots[i + 1]);
        (s, knots[i].1 + s * (theta - knots[i].0))
    };
    (
        score.round().clamp(scale.min as f64, scale.max as f64) as f32,
        slope as f32,
    )
}

/// The level whose share of a standard-normal population holds `theta`.
pub(super) fn quantile_level(theta: f64, mix: &[f64], levels: usize) -> u8 {
    let p = draw::phi(theta);
    let mut cumulative = 0.0;
    for (i, share) in mix.iter().enumerate().take(levels) {
        cumulative += share;
        if p < cumulative {
            return i as u8 + 1;
        }
    }
    levels as u8
}

/// A response to a practice item by a student of ability `theta`.
pub(super) fn respond<'a>(
    rng: &mut ChaCha8Rng,
    item: &'a Item,
    position: usize,
    theta: f64,
    grade: u8,
) -> ItemResult<'a> {
    let p = 1.0 / (1.0 + (-1.7 * (theta - item.difficulty)).exp());
    let letters: Vec<&String> = item
        .options
        .keys()
        .filter(|k| !item.answer.contains(k.as_str()))
        .collect();
    let (score, response) = match item.kind.as_str() {
        "MC" | "MS" => {
            let p = if item.kind == "MC" { 0.2 + 0.8 * p } else { p };
            if rng.chance(p) {
                (1, item.answer.clone())
            } else {
                let lure = item.lure.clone().unwrap_or_default();
                let wrong =
                    if rng.chance(if theta < 0.0 { 0.6 } else { 0.45 }) || letters.is_empty() {
                        lure
                    } else {
                        letters[rng.below(letters.len())].clone()
                    };
                let response = if item.kind == "MS" {
                    // Some of the keys, and usually a wrong option too (always
                    // when every key was chosen).
                    let mut picked: Vec<char> =
                        item.answer.chars().filter(|_| rng.chance(0.7)).collect();
                    if picked.len() == item.answer.len() || rng.chance(0.8) {
                        picked.extend(wrong.chars());
                    }
                    picked.sort_unstable();
                    picked.dedup();
                    picked.into_iter().collect()
                } else {
                    wrong
                };
                (0, response)
            }
        }
        "EQ" => {
            if rng.chance(p) {
                (1, item.answer.clone())
            } else {
                let weights: Vec<f64> = (0..item.wrong.len())
                    .map(|i| 1.0 / (i + 1) as f64)
                    .collect();
                (0, item.wrong[rng.weighted(&weights)].clone())
            }
        }
        _ => {
            let score = (0..item.points).filter(|_| rng.chance(p)).count() as u8;
            (
                score,
                item.samples
                    .get(score as usize)
                    .cloned()
                    .unwrap_or_default(),
            )
        }
    };
    ItemResult {
        item,
        position,
        content_level: format!("{}|{}-{grade}", item.claim, item.target),
        score,
        response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Grade;

    #[test]
    fn scale_score_reproduces_the_mix() {
        let scale = Scale {
            grades: vec![Grade::N(5)],
            from_year: None,
            to_year: None,
            min: 2200.0,
            max: 2730.0,
            cuts: vec![2442.0, 2502.0, 2582.0],
        };
        let mix = [0.32, 0.21, 0.25, 0.22];
        // At the normal quantile of each cumulative share the score is the cut.
        assert_eq!(scale_score(draw::probit(0.32), &scale, &mix).0, 2442.0);
        assert_eq!(scale_score(draw::probit(0.53), &scale, &mix).0, 2502.0);
        assert_eq!(scale_score(draw::probit(0.78), &scale, &mix).0, 2582.0);
        assert_eq!(scale_score(-9.0, &scale, &mix).0, 2200.0);
        assert_eq!(scale_score(9.0, &scale, &mix).0, 2730.0);
        assert_eq!(quantile_level(draw::probit(0.31), &mix, 4), 1);
        assert_eq!(quantile_level(draw::probit(0.54), &mix, 4), 3);
    }
}
