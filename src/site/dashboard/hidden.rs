//! What an aggregate reporter's Dashboard preview hides, so that no group
//! of `threshold` or fewer students can be worked out from it, alone or
//! with the aggregate reports.
//!
//! A row's status is the mean over its students, whose results the
//! aggregate reports show by test and grade. So a row is shown only when
//! its students number 0 or more than the threshold, and so do those of
//! its test-and-grade parts of `threshold` or fewer together (what the
//! reports hide and the row would give back). The same holds for what a
//! viewer can subtract: all students less an English learner,
//! socioeconomically disadvantaged or disabilities group, and all students
//! less the shown races or schools, which part them; while that remainder
//! fails, the smallest shown part is hidden too.
//!
//! A row that fails only because of what it could give away with other
//! figures, while it has more than `threshold` students itself, still shows
//! its status and change levels and its colour: bands that wide give no
//! student's score away.

use super::academic::{Part, FIRST_RACE, FLAG_GROUPS};
use std::collections::BTreeMap;

/// Students by test and grade.
pub(super) type Parts = BTreeMap<Part, usize>;

/// True when `parts` give away no group of `threshold` or fewer.
fn safe(parts: &Parts, threshold: usize) -> bool {
    let ok = |n: usize| n == 0 || n > threshold;
    let total = parts.values().sum();
    let small = parts.values().filter(|&&n| n <= threshold).sum();
    ok(total) && ok(small)
}

/// `all` less each of `less`.
fn minus<'a>(all: &Parts, less: impl IntoIterator<Item = &'a Parts>) -> Parts {
    let mut rest = all.clone();
    for parts in less {
        for (k, n) in parts {
            if let Some(r) = rest.get_mut(k) {
                *r = r.saturating_sub(*n);
            }
        }
    }
    rest.retain(|_, n| *n > 0);
    rest
}

/// Hides parts of `all` (`shown[i]` false) until what the shown ones leave
/// of `all` is safe: the smallest shown part first.
fn partition(all: &Parts, parts: &[&Parts], shown: &mut [bool], threshold: usize) {
    loop {
        let rest = minus(
            all,
            parts
                .iter()
                .zip(&*shown)
                .filter(|(_, s)| **s)
                .map(|(p, _)| *p),
        );
        if safe(&rest, threshold) {
            return;
        }
        let smallest = (0..parts.len())
            .map(|i| (i, parts[i].values().sum::<usize>()))
            .filter(|&(i, n)| shown[i] && n > 0)
            .min_by_key(|&(_, n)| n)
            .map(|(i, _)| i);
        match smallest {
            Some(i) => shown[i] = false,
            None => return,
        }
    }
}

/// How much of a row an aggregate reporter may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shown {
    /// Every figure.
    Whole,
    /// The status and change levels and the colour, not the figures.
    Levels,
    Nothing,
}

/// What of each group row (indexed as the groups are) and school row an
/// aggregate reporter may see, given each row's parts.
pub(super) fn shown(
    groups: &[&Parts],
    schools: &[&Parts],
    threshold: usize,
) -> (Vec<Shown>, Vec<Shown>) {
    let (g, s) = whole(groups, schools, threshold);
    let of = |parts: &[&Parts], whole: Vec<bool>| -> Vec<Shown> {
        parts
            .iter()
            .zip(whole)
            .map(|(p, w)| match (w, p.values().sum::<usize>() > threshold) {
                (true, _) => Shown::Whole,
                (false, true) => Shown::Levels,
                (false, false) => Shown::Nothing,
            })
            .collect()
    };
    (of(groups, g), of(schools, s))
}

/// Which group and school rows may be shown whole.
fn whole(groups: &[&Parts], schools: &[&Parts], threshold: usize) -> (Vec<bool>, Vec<bool>) {
    let empty = Parts::new();
    let all = groups.first().copied().unwrap_or(&empty);
    let mut g: Vec<bool> = groups.iter().map(|p| safe(p, threshold)).collect();
    for f in FLAG_GROUPS.into_iter().filter(|&f| f < groups.len()) {
        g[f] &= safe(&minus(all, [groups[f]]), threshold);
    }
    if groups.len() > FIRST_RACE {
        partition(all, &groups[FIRST_RACE..], &mut g[FIRST_RACE..], threshold);
    }
    let mut s: Vec<bool> = schools.iter().map(|p| safe(p, threshold)).collect();
    partition(all, schools, &mut s, threshold);
    (g, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Grade;

    fn parts(cells: &[(u8, usize)]) -> Parts {
        cells.iter().map(|&(g, n)| ((0, Grade::N(g)), n)).collect()
    }

    #[test]
    fn a_row_hides_when_its_small_cells_give_a_small_group_away() {
        // 40 in grade 5 and 4 in grade 6: the reports hide grade 6, so
        // the row less grade 5 would give the 4 away.
        assert!(!safe(&parts(&[(5, 40), (6, 4)]), 10));
        // 4 and 8 hidden cells together are 12 students: safe.
        assert!(safe(&parts(&[(5, 40), (6, 4), (7, 8)]), 10));
        assert!(!safe(&parts(&[(5, 9)]), 10));
        assert!(safe(&parts(&[(5, 11)]), 10));
        assert!(safe(&Parts::new(), 10));
    }

    #[test]
    fn complements_and_partitions_are_checked() {
        let all = parts(&[(5, 50)]);
        let el = parts(&[(5, 45)]);
        let sed = parts(&[(5, 20)]);
        let swd = parts(&[(5, 12)]);
        // Races: 30 Hispanic, 12 White, 5 Asian, 3 not stated.
        let (hisp, white, asian) = (parts(&[(5, 30)]), parts(&[(5, 12)]), parts(&[(5, 5)]));
        let none = Parts::new();
        let mut groups: Vec<&Parts> = vec![&all, &el, &sed, &swd];
        groups.extend([&hisp, &none, &asian, &none, &white, &none, &none, &none]);
        let a = parts(&[(5, 44)]);
        let b = parts(&[(5, 6)]);
        let (g, s) = whole(&groups, &[&a, &b], 10);
        // All 50 shown; English learners hidden: all less them is 5.
        assert_eq!(&g[..4], &[true, false, true, true]);
        // Asian (5) hidden; with 3 not stated, 8 remain: White (the
        // smallest shown race) is hidden too, leaving 20.
        assert_eq!((g[4], g[6], g[8]), (true, false, false));
        // School B (6) is hidden, and then School A to protect it.
        assert_eq!(s, vec![false, false]);
        // English learners (45), White (12) and School A (44) still show
        // their levels; Asian (5) and School B (6) nothing.
        let (g, s) = shown(&groups, &[&a, &b], 10);
        assert_eq!(
            (g[1], g[6], g[8]),
            (Shown::Levels, Shown::Nothing, Shown::Levels)
        );
        assert_eq!(s, vec![Shown::Levels, Shown::Nothing]);
    }
}
