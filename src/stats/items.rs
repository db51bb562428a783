//! Item-level statistics: point distributions (items and writing traits),
//! full credit, and the share of students choosing each option.

use serde::Serialize;

/// How many results scored each point value 0…max.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Points {
    /// Results counted (with a score).
    pub n: usize,
    /// Count at each point value 0…max.
    pub counts: Vec<usize>,
}

impl Points {
    /// Counts `scores` on a 0…`max` scale. Scores are rounded; those outside
    /// the scale are not counted.
    pub fn count(scores: impl IntoIterator<Item = f32>, max: u8) -> Points {
        let mut counts = vec![0usize; max as usize + 1];
        for s in scores {
            let p = s.round();
            if (0.0..=max as f32).contains(&p) {
                counts[p as usize] += 1;
            }
        }
        Points {
            n: counts.iter().sum(),
            counts,
        }
    }

    /// The highest point value.
    pub fn max(&self) -> usize {
        self.counts.len() - 1
    }

    /// Percent of results at point value `p`.
    pub fn percent(&self, p: usize) -> f64 {
        percent(self.counts.get(p).copied().unwrap_or(0), self.n)
    }

    /// Percent of results with full credit (the maximum).
    pub fn full_credit(&self) -> f64 {
        self.percent(self.max())
    }

    /// The mean points.
    pub fn mean(&self) -> Option<f64> {
        let total: usize = self.counts.iter().enumerate().map(|(p, c)| p * c).sum();
        (self.n > 0).then(|| total as f64 / self.n as f64)
    }
}

/// `count` as a percentage of `n` (0 when `n` is 0).
pub fn percent(count: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * count as f64 / n as f64
    }
}

/// The share of responses choosing each option of a selected-response item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choices {
    /// Responses counted (answered).
    pub n: usize,
    /// (option letter, responses choosing it), in option order.
    pub counts: Vec<(String, usize)>,
}

impl Choices {
    /// Counts `responses` over `options`. A multiple-select response such as
    /// `AC` or `A,C` chooses each letter it holds; blank responses are not counted.
    pub fn count<'a>(responses: impl IntoIterator<Item = &'a str>, options: &[String]) -> Choices {
        let mut counts: Vec<(String, usize)> = options.iter().map(|o| (o.clone(), 0)).collect();
        let mut n = 0;
        for r in responses {
            let chosen: Vec<char> = r
                .chars()
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            if chosen.is_empty() {
                continue;
            }
            n += 1;
            for (o, c) in counts.iter_mut() {
                if o.chars().all(|l| chosen.contains(&l.to_ascii_uppercase())) {
                    *c += 1;
                }
            }
        }
        Choices { n, counts }
    }

    /// Percent of responses choosing option `i`.
    pub fn percent(&self, i: usize) -> f64 {
        percent(self.counts[i].1, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_credit_and_distribution() {
        // Scores on a 2-point item: 0, 1, 1, 2, 2, 2, 2 and a 3 that is off the scale.
        let p = Points::count([0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0], 2);
        assert_eq!(p.n, 7);
        assert_eq!(p.counts, vec![1, 2, 4]);
        assert!((p.full_credit() - 400.0 / 7.0).abs() < 1e-9);
        assert!((p.percent(1) - 200.0 / 7.0).abs() < 1e-9);
        assert!((p.mean().unwrap() - 10.0 / 7.0).abs() < 1e-9);
        let one = Points::count([1.0, 0.0, 1.0, 1.0], 1);
        assert_eq!(one.full_credit(), 75.0);
        assert_eq!(Points::count([], 1).full_credit(), 0.0);
        assert_eq!(Points::count([], 1).mean(), None);
    }

    #[test]
    fn trait_distribution() {
        // Organization/Purpose 0–4 for five essays, Conventions 0–2 for four.
        let org = Points::count([4.0, 3.0, 3.0, 2.0, 0.0], 4);
        assert_eq!(org.counts, vec![1, 0, 1, 2, 1]);
        assert_eq!(org.percent(3), 40.0);
        assert_eq!(org.mean(), Some(2.4));
        let con = Points::count([2.0, 2.0, 1.0, 0.0], 2);
        assert_eq!(con.counts, vec![1, 1, 2]);
        assert_eq!(con.full_credit(), 50.0);
    }

    #[test]
    fn distractor_percentages() {
        let options: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
        // Ten answers: 5 B (the key), 3 C, 1 A, 1 D, and one blank not counted.
        let answers = ["B", "B", "C", "A", "B", "C", "D", "B", "C", "B", ""];
        let c = Choices::count(answers, &options);
        assert_eq!(c.n, 10);
        assert_eq!(
            c.counts.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            vec![1, 5, 3, 1]
        );
        assert_eq!(c.percent(1), 50.0);
        assert_eq!(c.percent(2), 30.0);
        // Multiple select: each chosen letter counts once per response.
        let ms = Choices::count(["AC", "A,B", "c"], &options);
        assert_eq!(
            ms.counts.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            vec![2, 1, 2, 0]
        );
        assert!((ms.percent(0) - 200.0 / 3.0).abs() < 1e-9);
    }
}
