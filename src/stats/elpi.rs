//! The English Learner Progress Indicator (ELPI): English learners'
//! Summative ELPAC (or Summative Alternate ELPAC) result compared with the
//! prior year's.
//!
//! As the CDE computes it (see `config/dashboard.yaml` for the sources):
//! current English learners in grades 1–12 with a result this year and
//! the year before are counted. Summative ELPAC levels become six ELPI
//! levels (1, 2L, 2H, 3L, 3H, 4); a student who rises one ELPI level or
//! more, or stays at Level 4, is making progress. A Summative Alternate
//! ELPAC student makes progress by rising a level or by 10 scale score
//! points, or by staying at the top level. The status is the percentage
//! making progress.

use crate::catalog::Catalog;
use crate::model::{Dataset, Elas, Flag, Grade};
use rustc_hash::FxHashMap;

/// The six ELPI levels' names, lowest first.
pub const LEVEL_NAMES: [&str; 6] = ["1", "2L", "2H", "3L", "3H", "4"];

/// How a counted student moved from the prior year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Progressed,
    /// Stayed at the top level (ELPAC Level 4; Alternate ELPAC Level 3).
    MaintainedTop,
    Maintained,
    Declined,
}

/// Why a tested student is not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excluded {
    NotGrades1To12,
    NotEnglishLearner,
    NoLevel,
    NoPriorResult,
    /// Summative ELPAC one year, Summative Alternate ELPAC the other.
    OtherTestPrior,
}

/// Every [`Excluded`] reason, in the order a page lists them, with its words.
pub const EXCLUSIONS: [(Excluded, &str); 5] = [
    (
        Excluded::NotGrades1To12,
        "not in grades 1–12 (kindergarten has no prior year)",
    ),
    (
        Excluded::NotEnglishLearner,
        "not an English learner when tested",
    ),
    (Excluded::NoLevel, "no overall level or scale score"),
    (Excluded::NoPriorResult, "no result in the prior year"),
    (
        Excluded::OtherTestPrior,
        "took the other ELPAC (Summative or Alternate) in the prior year",
    ),
];

/// One result as the ELPI reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Taken {
    pub alternate: bool,
    /// The ELPI level (0–5) for the Summative ELPAC; the level (1–3) for the
    /// Alternate ELPAC.
    pub level: u8,
    pub score: Option<f32>,
}

/// The ELPI level (0 = 1, 1 = 2L, …, 5 = 4) of an ELPAC result at `level`
/// with `score`, where Level 2 runs from `cuts[0]` and Level 3 from
/// `cuts[1]` to `cuts[2]`: Levels 2 and 3 are each split into a low and a
/// high half of their scale score range.
pub fn elpi_level(cuts: &[f32], level: u8, score: Option<f32>) -> Option<u8> {
    let half = |from: f32, to: f32| from + ((to - from) / 2.0).floor();
    match level {
        1 => Some(0),
        4 => Some(5),
        2 | 3 => {
            let (from, to) = (
                *cuts.get(level as usize - 2)?,
                *cuts.get(level as usize - 1)?,
            );
            let low = level * 2 - 3;
            Some(if score? >= half(from, to) {
                low + 1
            } else {
                low
            })
        }
        _ => None,
    }
}

/// How `current` moved from `prior`; none when they are different tests.
pub fn progress(prior: Taken, current: Taken) -> Option<Progress> {
    if prior.alternate != current.alternate {
        return None;
    }
    let top = if current.alternate { 3 } else { 5 };
    let gained = match (prior.score, current.score) {
        (Some(p), Some(c)) => current.alternate && c - p >= 10.0,
        _ => false,
    };
    Some(
        if current.level > prior.level || (gained && current.level >= prior.level) {
            Progress::Progressed
        } else if current.level == top && prior.level == top {
            Progress::MaintainedTop
        } else if current.level < prior.level {
            Progress::Declined
        } else {
            Progress::Maintained
        },
    )
}

/// Counts over a student group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub progressed: usize,
    pub maintained_top: usize,
    pub maintained: usize,
    pub declined: usize,
    /// Students tested but not counted, by [`EXCLUSIONS`] order.
    pub excluded: [usize; 5],
}

impl Tally {
    /// Adds one tested student's outcome.
    pub fn add(&mut self, outcome: Result<Progress, Excluded>) {
        match outcome {
            Ok(Progress::Progressed) => self.progressed += 1,
            Ok(Progress::MaintainedTop) => self.maintained_top += 1,
            Ok(Progress::Maintained) => self.maintained += 1,
            Ok(Progress::Declined) => self.declined += 1,
            Err(why) => {
                let k = EXCLUSIONS.iter().position(|(e, _)| *e == why).unwrap_or(0);
                self.excluded[k] += 1;
            }
        }
    }

    /// Students counted.
    pub fn counted(&self) -> usize {
        self.progressed + self.maintained_top + self.maintained + self.declined
    }

    /// The percentage making progress, when anyone is counted.
    pub fn status(&self) -> Option<f64> {
        let n = self.counted();
        (n > 0).then(|| 100.0 * (self.progressed + self.maintained_top) as f64 / n as f64)
    }
}

/// Each student's latest Summative ELPAC or Summative Alternate ELPAC
/// result by school year.
pub struct Results {
    by: FxHashMap<(u32, u16), usize>,
    elpac: Option<usize>,
    alternate: Option<usize>,
}

/// The families the ELPI reads: the Summative ELPAC and the Summative
/// Alternate ELPAC.
pub fn families(catalog: &Catalog) -> (Option<usize>, Option<usize>) {
    (catalog.family("elpac"), catalog.family("alt_elpac"))
}

impl Results {
    /// Indexes `data`'s ELPAC results.
    pub fn new(catalog: &Catalog, data: &Dataset) -> Results {
        let (elpac, alternate) = families(catalog);
        let mut by: FxHashMap<(u32, u16), usize> = FxHashMap::default();
        for (e, x) in data.exams.iter().enumerate() {
            let f = Some(data.assessments[x.assessment as usize].family);
            if f != elpac && f != alternate {
                continue;
            }
            let slot = by.entry((x.student, x.school_year)).or_insert(e);
            if data.exams[*slot].submitted < x.submitted {
                *slot = e;
            }
        }
        Results {
            by,
            elpac,
            alternate,
        }
    }

    /// True when exam `e` is a Summative ELPAC or Alternate ELPAC result.
    pub fn is_elpac(&self, data: &Dataset, e: usize) -> bool {
        let f = Some(data.assessments[data.exams[e].assessment as usize].family);
        f == self.elpac || f == self.alternate
    }

    /// The student's ELPAC result in `year`, if any.
    pub fn of(&self, student: u32, year: u16) -> Option<usize> {
        self.by.get(&(student, year)).copied()
    }

    /// Exam `e` as the ELPI reads it.
    fn taken(&self, catalog: &Catalog, data: &Dataset, e: usize) -> Option<Taken> {
        let x = &data.exams[e];
        let a = &data.assessments[x.assessment as usize];
        let alternate = Some(a.family) == self.alternate;
        let level = x.overall.level?;
        let level = if alternate {
            level
        } else {
            let fam = &catalog.families[a.family];
            let scale = fam.scale(a.grade.unwrap_or(x.grade), x.school_year)?;
            elpi_level(&scale.cuts, level, x.overall.scale)?
        };
        Some(Taken {
            alternate,
            level,
            score: x.overall.scale,
        })
    }

    /// The ELPI outcome of ELPAC exam `e`: how its student moved from the
    /// prior year, or why the student is not counted.
    pub fn outcome(
        &self,
        catalog: &Catalog,
        data: &Dataset,
        e: usize,
    ) -> Result<Progress, Excluded> {
        let x = &data.exams[e];
        if !matches!(x.grade, Grade::N(1..=12)) {
            return Err(Excluded::NotGrades1To12);
        }
        if !english_learner(&x.demographics) {
            return Err(Excluded::NotEnglishLearner);
        }
        let current = self.taken(catalog, data, e).ok_or(Excluded::NoLevel)?;
        let prior = self
            .of(x.student, x.school_year - 1)
            .ok_or(Excluded::NoPriorResult)?;
        let prior = self
            .taken(catalog, data, prior)
            .ok_or(Excluded::NoPriorResult)?;
        progress(prior, current).ok_or(Excluded::OtherTestPrior)
    }
}

/// True when the student was an English learner when tested: ELAS `EL`,
/// or, without an ELAS, a yes LEP status.
pub fn english_learner(d: &crate::model::Demographics) -> bool {
    match d.elas {
        Some(e) => e == Elas::El,
        None => d.get(Flag::Lep) == Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Grade 1 Summative ELPAC: Level 2 from 1411, Level 3 from 1455,
    // Level 4 from 1507.
    const CUTS: [f32; 3] = [1411.0, 1455.0, 1507.0];

    #[test]
    fn levels_2_and_3_split_at_their_midpoints() {
        // Level 2 is 1411–1454 (44 scores): 2L 1411–1432, 2H 1433–1454.
        assert_eq!(elpi_level(&CUTS, 2, Some(1432.0)), Some(1));
        assert_eq!(elpi_level(&CUTS, 2, Some(1433.0)), Some(2));
        // Level 3 is 1455–1506 (52 scores): 3L 1455–1480, 3H 1481–1506.
        assert_eq!(elpi_level(&CUTS, 3, Some(1480.0)), Some(3));
        assert_eq!(elpi_level(&CUTS, 3, Some(1481.0)), Some(4));
        assert_eq!(elpi_level(&CUTS, 1, None), Some(0));
        assert_eq!(elpi_level(&CUTS, 4, None), Some(5));
        assert_eq!(elpi_level(&CUTS, 2, None), None);
    }

    fn elpac(level: u8) -> Taken {
        Taken {
            alternate: false,
            level,
            score: None,
        }
    }

    fn alt(level: u8, score: f32) -> Taken {
        Taken {
            alternate: true,
            level,
            score: Some(score),
        }
    }

    #[test]
    fn progress_between_years() {
        assert_eq!(progress(elpac(1), elpac(2)), Some(Progress::Progressed));
        assert_eq!(progress(elpac(5), elpac(5)), Some(Progress::MaintainedTop));
        assert_eq!(progress(elpac(3), elpac(3)), Some(Progress::Maintained));
        assert_eq!(progress(elpac(4), elpac(2)), Some(Progress::Declined));
        assert_eq!(progress(elpac(5), elpac(4)), Some(Progress::Declined));
        // Alternate ELPAC: a level up, or 10 scale score points.
        assert_eq!(
            progress(alt(1, 520.0), alt(2, 545.0)),
            Some(Progress::Progressed)
        );
        assert_eq!(
            progress(alt(2, 545.0), alt(2, 555.0)),
            Some(Progress::Progressed)
        );
        assert_eq!(
            progress(alt(2, 545.0), alt(2, 554.0)),
            Some(Progress::Maintained)
        );
        assert_eq!(
            progress(alt(3, 570.0), alt(3, 572.0)),
            Some(Progress::MaintainedTop)
        );
        assert_eq!(
            progress(alt(2, 545.0), alt(1, 530.0)),
            Some(Progress::Declined)
        );
        assert_eq!(progress(elpac(2), alt(2, 550.0)), None);
    }

    #[test]
    fn status_is_the_share_making_progress() {
        let mut t = Tally::default();
        for o in [
            Ok(Progress::Progressed),
            Ok(Progress::Progressed),
            Ok(Progress::MaintainedTop),
            Ok(Progress::Maintained),
            Ok(Progress::Declined),
            Err(Excluded::NoPriorResult),
        ] {
            t.add(o);
        }
        assert_eq!(t.counted(), 5);
        assert_eq!(t.status(), Some(60.0));
        assert_eq!(t.excluded[3], 1);
        assert_eq!(Tally::default().status(), None);
    }
}
