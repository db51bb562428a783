//! Participation in the ELA and mathematics tests the Academic Indicator
//! uses, and its 95% rule.
//!
//! As the CDE applies it (sources in `config/dashboard.yaml`): students
//! expected to test are those tested plus those who were not (not tested,
//! a parent or guardian exemption, only one part taken, a test
//! invalidated). A significant medical emergency (`NTE`) takes a student
//! out, and so, for ELA only, does being an English learner in a U.S.
//! school for under 12 months (`NEL`, include indicator `E`). When fewer
//! than the target share tested, each student needed to reach it counts in
//! the Distance from Standard with the lowest obtainable scale score.

use super::distance::Distance;
use crate::catalog::Catalog;
use crate::model::{AdminCondition, Dataset, Official, Untested};

/// How one student expected to take a subject's test counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Taking {
    /// Tested, at this Distance from Standard.
    Tested(f32),
    /// Expected to test and did not; the lowest obtainable score's distance
    /// for the student's grade, when the catalog knows the scale.
    Missed(Option<f32>),
    /// Not expected: a significant medical emergency.
    Medical,
    /// Not expected in ELA: an English learner in a U.S. school for under
    /// 12 months.
    NewEnglishLearner,
}

/// One group's participation and distances in one subject and year.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub tested: usize,
    sum: f64,
    pub missed: usize,
    /// Lowest-score distances of the missed students the catalog scales.
    loss_sum: f64,
    loss_n: usize,
    pub medical: usize,
    pub new_english_learners: usize,
}

/// A group's status once the participation rule is applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adjusted {
    /// The distance the Dashboard would report: the tested students' and,
    /// below the target, one lowest score for each student needed.
    pub distance: Distance,
    /// Lowest scores added for the students needed to reach the target.
    pub added: usize,
    /// The tested students' own mean distance, when scores were added.
    pub unadjusted: Option<f64>,
}

impl Tally {
    /// Counts one student.
    pub fn add(&mut self, taking: Taking) {
        match taking {
            Taking::Tested(d) => {
                self.tested += 1;
                self.sum += d as f64;
            }
            Taking::Missed(loss) => {
                self.missed += 1;
                if let Some(d) = loss {
                    self.loss_n += 1;
                    self.loss_sum += d as f64;
                }
            }
            Taking::Medical => self.medical += 1,
            Taking::NewEnglishLearner => self.new_english_learners += 1,
        }
    }

    /// Students expected to test.
    pub fn expected(&self) -> usize {
        self.tested + self.missed
    }

    /// Tested as a percentage of those expected, when any were.
    pub fn rate(&self) -> Option<f64> {
        let expected = self.expected();
        (expected > 0).then(|| 100.0 * self.tested as f64 / expected as f64)
    }

    /// How many more students had to test for `target` percent: the
    /// target share of those expected, rounded up, less those tested.
    pub fn needed(&self, target: u32) -> usize {
        let at_least = (self.expected() * target as usize).div_ceil(100);
        at_least.saturating_sub(self.tested)
    }

    /// The tested students' Distance from Standard, with the rule applied
    /// when `known` (the files list who was expected to test). Each added
    /// score is the mean lowest-score distance of the students who missed
    /// the test, since the CDE does not say which of them fill the gap.
    pub fn adjusted(&self, known: bool, target: u32) -> Option<Adjusted> {
        let own = super::distance::mean_of(self.tested, self.sum)?;
        let added = if known { self.needed(target) } else { 0 };
        if added == 0 || self.loss_n == 0 {
            return Some(Adjusted {
                distance: own,
                added: 0,
                unadjusted: None,
            });
        }
        let loss = self.loss_sum / self.loss_n as f64;
        let n = self.tested + added;
        Some(Adjusted {
            distance: Distance {
                n,
                mean: (self.sum + added as f64 * loss) / n as f64,
            },
            added,
            unadjusted: Some(own.mean),
        })
    }
}

/// True when the file's indicator or condition says the result is not one
/// the Dashboard counts: invalidated (`R`), not tested (`N`) or exempt (`E`).
fn not_counted(official: &Official, data: &Dataset) -> bool {
    official
        .include
        .is_some_and(|s| matches!(data.strings.get(s), "N" | "R" | "E"))
}

/// How exam `e` counts: tested at its distance, or (invalidated) missed.
/// None when it has no Distance from Standard.
pub fn of_exam(catalog: &Catalog, data: &Dataset, e: usize) -> Option<Taking> {
    let x = &data.exams[e];
    let d = super::distance::of_exam(catalog, data, e)?;
    let invalid = x.condition == AdminCondition::Invalid
        || x.official.as_deref().is_some_and(|o| not_counted(o, data));
    Some(match invalid {
        false => Taking::Tested(d),
        true => Taking::Missed(lowest_distance(catalog, data, e)),
    })
}

/// The distance of the lowest obtainable score of exam `e`'s test.
fn lowest_distance(catalog: &Catalog, data: &Dataset, e: usize) -> Option<f32> {
    let x = &data.exams[e];
    let a = &data.assessments[x.assessment as usize];
    let fam = &catalog.families[a.family];
    let grade = a.grade.unwrap_or(x.grade);
    fam.distance_from_standard(grade, x.school_year, fam.scale(grade, x.school_year)?.min)
}

/// How an untested student counts in `ela` (or mathematics). None when the
/// grade or test is not one the Academic Indicator uses.
pub fn of_untested(catalog: &Catalog, data: &Dataset, u: &Untested, ela: bool) -> Option<Taking> {
    let fam = &catalog.families[u.family];
    let scale = fam.scale(u.grade, u.school_year);
    let loss = scale.and_then(|s| fam.distance_from_standard(u.grade, u.school_year, s.min));
    // The family must be one the indicator uses, for a grade it measures.
    fam.distance_from_standard(u.grade, u.school_year, 0.0)?;
    let text = |s: Option<crate::model::Sym>| s.map_or("", |s| data.strings.get(s));
    let (code, include) = (text(u.official.condition_code), text(u.official.include));
    Some(if code == "NTE" {
        Taking::Medical
    } else if ela && (code == "NEL" || include == "E") {
        Taking::NewEnglishLearner
    } else {
        Taking::Missed(loss)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(tested: &[f32], missed: &[f32]) -> Tally {
        let mut t = Tally::default();
        tested.iter().for_each(|&d| t.add(Taking::Tested(d)));
        missed.iter().for_each(|&d| t.add(Taking::Missed(Some(d))));
        t
    }

    #[test]
    fn students_needed_round_the_target_share_up() {
        // 38 of 41: 95% of 41 is 38.95, so 39 must test; one is needed.
        let t = tally(&[0.0; 38], &[-300.0; 3]);
        assert_eq!((t.expected(), t.needed(95)), (41, 1));
        assert!((t.rate().unwrap() - 92.682).abs() < 0.001);
        // 19 of 20 is exactly 95%: none needed.
        assert_eq!(tally(&[0.0; 19], &[-300.0]).needed(95), 0);
        // 94 of 100: one needed; 100 of 100: none.
        assert_eq!(tally(&[0.0; 94], &[-300.0; 6]).needed(95), 1);
        assert_eq!(tally(&[0.0; 100], &[]).needed(95), 0);
        assert_eq!(Tally::default().rate(), None);
    }

    #[test]
    fn exempt_students_are_not_expected() {
        let mut t = tally(&[0.0; 19], &[]);
        t.add(Taking::Medical);
        t.add(Taking::NewEnglishLearner);
        assert_eq!((t.expected(), t.needed(95)), (19, 0));
        assert_eq!((t.medical, t.new_english_learners), (1, 1));
    }

    #[test]
    fn each_student_needed_counts_at_the_lowest_score() {
        // 38 tested at −10 (sum −380); 3 missed in grade 5 ELA, where the
        // lowest score 2200 is 302 below the 2502 cut. One is needed:
        // (−380 − 302) / 39 = −17.487…
        let t = tally(&[-10.0; 38], &[-302.0; 3]);
        let a = t.adjusted(true, 95).unwrap();
        assert_eq!((a.distance.n, a.added), (39, 1));
        assert!((a.distance.mean - (-682.0 / 39.0)).abs() < 1e-9);
        assert_eq!(a.unadjusted, Some(-10.0));
        // Two grades missed: the added score is their mean distance.
        let t = tally(&[-10.0; 38], &[-302.0, -318.0, -310.0]);
        let a = t.adjusted(true, 95).unwrap();
        assert!((a.distance.mean - (-380.0 - 310.0) / 39.0).abs() < 1e-9);
        // Unknown participation, or met: the tested students' own mean.
        let a = t.adjusted(false, 95).unwrap();
        assert_eq!((a.distance.n, a.added, a.unadjusted), (38, 0, None));
        let met = tally(&[-10.0; 19], &[-302.0]).adjusted(true, 95).unwrap();
        assert_eq!((met.distance.n, met.distance.mean), (19, -10.0));
        // Nobody tested: no status at all.
        assert_eq!(tally(&[], &[-302.0; 3]).adjusted(true, 95), None);
    }
}
