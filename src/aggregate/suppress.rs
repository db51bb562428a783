//! Small-cell suppression over everything one viewer sees, as linked
//! tables: dimensions and their totals, schools and their scope, the state
//! and its LEAs.

use super::{Key, Tally};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// One institution's cells as suppression sees them, in key order.
pub(super) struct Row<'a> {
    pub(super) cells: &'a [(&'a Key, &'a Tally)],
    /// Fine rows (an administrator's own schools) are shown whole.
    pub(super) fine: bool,
    /// For a comparison row: the viewer's own part of it, which the viewer
    /// can subtract, so only the results beyond it count.
    pub(super) mine: Option<&'a BTreeMap<Key, Tally>>,
}

/// Rows that add up: `total`'s cell of each key is the sum of `parts`'
/// cells, plus, when the parts are not `complete`, a remainder the viewer
/// never sees (the state row is the viewer's LEA plus every other LEA).
pub(super) struct Rollup {
    pub(super) total: usize,
    pub(super) parts: Vec<usize>,
    pub(super) complete: bool,
}

/// The cells to suppress, per row, treating everything one viewer sees as
/// linked tables: each row's overall cell is the sum of each dimension's
/// values, and each [`Rollup`] (a scope and its schools; the state and its
/// LEA rows) sums rows. A cell of `threshold` or fewer results (beyond the
/// viewer's own, for comparison rows) is hidden; then, until nothing
/// changes, in every such sum where anything is hidden, at least two cells
/// are hidden and the hidden parts together hold more than `threshold`
/// results, else the smallest shown part is hidden too. So no hidden group
/// of `threshold` or fewer can be recovered by subtracting shown cells. An
/// unseen remainder counts as hidden; alone it gives away only a group of
/// more than `threshold`.
/// Returns, for each row, whether each of its cells is hidden.
pub(super) fn suppressed(rows: &[Row], rollups: &[Rollup], threshold: usize) -> Vec<Vec<bool>> {
    // Every suppressible cell, with the results it tells the viewer about.
    let mut ids: Vec<(usize, usize)> = Vec::new();
    let mut n: Vec<usize> = Vec::new();
    let mut index: FxHashMap<(usize, &Key), usize> = FxHashMap::default();
    for (r, row) in rows.iter().enumerate().filter(|(_, row)| !row.fine) {
        for (i, &(k, t)) in row.cells.iter().enumerate() {
            let own = row.mine.and_then(|m| m.get(k)).map_or(0, |o| o.n);
            index.insert((r, k), ids.len());
            ids.push((r, i));
            n.push(t.n.saturating_sub(own) as usize);
        }
    }
    let mut hidden: Vec<bool> = n.iter().map(|&n| n > 0 && n <= threshold).collect();
    // Sums: (total, parts).
    let mut sums: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
    let mut dims: BTreeMap<(usize, u16, u32, usize), Vec<usize>> = BTreeMap::new();
    for (c, &(r, i)) in ids.iter().enumerate() {
        let k = rows[r].cells[i].0;
        if let Some(d) = k.2.iter().position(|&v| v >= 0) {
            dims.entry((r, k.0, k.1, d)).or_default().push(c);
        }
    }
    for ((r, year, a, _), parts) in dims {
        let total = index.get(&(r, &(year, a, [-1i8; 10]))).copied();
        sums.push((total, parts));
    }
    // Unseen remainders: always hidden, never counted as a recovered group.
    let seen = ids.len();
    for rollup in rollups {
        for &(k, _) in rows[rollup.total].cells {
            let total = index.get(&(rollup.total, k)).copied();
            let mut parts: Vec<usize> = rollup
                .parts
                .iter()
                .filter_map(|&p| index.get(&(p, k)).copied())
                .collect();
            if !rollup.complete {
                let shown: usize = parts.iter().map(|&p| n[p]).sum();
                let rest = total.map_or(0, |t| n[t]).saturating_sub(shown);
                if rest > 0 {
                    parts.push(n.len());
                    n.push(rest);
                    hidden.push(true);
                }
            }
            sums.push((total, parts));
        }
    }
    let unseen = |c: usize| c >= seen;
    let mut changed = true;
    while changed {
        changed = false;
        for (total, parts) in &sums {
            let hidden_parts = || parts.iter().copied().filter(|&p| hidden[p]);
            let first_hidden = hidden_parts().next();
            let hidden_n: usize = hidden_parts().map(|p| n[p]).sum();
            let parts_hidden = hidden_parts().count();
            let total_hidden = total.is_some_and(|t| hidden[t]);
            let count = parts_hidden + total_hidden as usize;
            let lone_remainder = count == 1
                && !total_hidden
                && first_hidden.is_some_and(unseen)
                && hidden_n > threshold;
            let exposed = (count == 1 && !lone_remainder)
                || (!total_hidden && count > 0 && hidden_n <= threshold);
            if !exposed {
                continue;
            }
            let next = parts
                .iter()
                .copied()
                .filter(|&p| !hidden[p] && n[p] > 0)
                .min_by_key(|&p| n[p])
                .or(total.filter(|&t| !hidden[t]));
            if let Some(c) = next {
                hidden[c] = true;
                changed = true;
            }
        }
    }
    let mut out: Vec<Vec<bool>> = rows.iter().map(|r| vec![false; r.cells.len()]).collect();
    for (c, &(r, i)) in ids.iter().enumerate() {
        out[r][i] = hidden[c];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The keys of each row's cells that [`suppressed`] hides.
    fn hidden_keys(rows: &[Row], rollups: &[Rollup], threshold: usize) -> Vec<BTreeSet<Key>> {
        let hidden = suppressed(rows, rollups, threshold);
        (rows.iter().zip(hidden))
            .map(|(row, hidden)| {
                (row.cells.iter().zip(hidden))
                    .filter(|(_, h)| *h)
                    .map(|((k, _), _)| **k)
                    .collect()
            })
            .collect()
    }

    fn cells(list: &[(i8, i8, u32)]) -> BTreeMap<Key, Tally> {
        list.iter()
            .map(|&(gender, grade, n)| {
                let mut sig = [-1i8; 10];
                sig[0] = gender;
                sig[9] = grade;
                let t = Tally {
                    n,
                    ..Tally::default()
                };
                ((2025, 0, sig), t)
            })
            .collect()
    }

    /// Every cell of `cells`, as a row holds them.
    fn view(cells: &BTreeMap<Key, Tally>) -> Vec<(&Key, &Tally)> {
        cells.iter().collect()
    }

    fn hidden(list: &[(i8, i8, u32)], mine: &[(i8, i8, u32)]) -> Vec<(i8, i8)> {
        let mine = (!mine.is_empty()).then(|| cells(mine));
        let cells = cells(list);
        let cells = view(&cells);
        let row = Row {
            cells: &cells,
            fine: false,
            mine: mine.as_ref(),
        };
        hidden_keys(&[row], &[], 10)[0]
            .iter()
            .map(|k| (k.2[0], k.2[9]))
            .collect()
    }

    #[test]
    fn suppression_at_the_threshold_and_by_subtraction() {
        // Overall 41; gender 20 + 11 + 10; grade 30 + 11.
        let list = [
            (-1, -1, 41),
            (0, -1, 20),
            (1, -1, 11),
            (2, -1, 10),
            (-1, 4, 30),
            (-1, 5, 11),
        ];
        // n = 10 is hidden, and so is the next smallest gender (11), or
        // 41 − 20 − 11 would give it away; grade 5 (n = 11) is shown.
        assert_eq!(hidden(&list, &[]), vec![(1, -1), (2, -1)]);
        // A comparison row whose results beyond the viewer's own are few:
        // 3 more grade-5 results than the viewer's own 8 hides grade 5, then
        // grade 4; 6 more male results than the viewer's 5 hides male, then
        // female (14 beyond the viewer's), not nonbinary, which has nothing
        // beyond the viewer's own and so would protect nothing.
        let mine = [
            (-1, -1, 21),
            (0, -1, 6),
            (1, -1, 5),
            (2, -1, 10),
            (-1, 4, 13),
            (-1, 5, 8),
        ];
        assert_eq!(
            hidden(&list, &mine),
            vec![(-1, 4), (-1, 5), (0, -1), (1, -1)]
        );
        // Nothing small: nothing hidden.
        assert!(hidden(&[(-1, -1, 40), (0, -1, 29), (1, -1, 11)], &[]).is_empty());
        // Three small values of one dimension (3 + 4 + 2 = 9) would add up
        // to a small group: the next value is hidden too.
        let many = [
            (-1, -1, 100),
            (0, -1, 3),
            (1, -1, 4),
            (2, -1, 2),
            (3, -1, 91),
        ];
        assert_eq!(hidden(&many, &[]), vec![(0, -1), (1, -1), (2, -1), (3, -1)]);
    }

    #[test]
    fn school_rows_and_their_total_are_one_linked_table() {
        // School A has 2 IEP results, school B 15; the LEA row shows 17.
        // Hiding A's cell alone would leave LEA − B = 2: B's is hidden too.
        let a = cells(&[(-1, -1, 40), (0, -1, 2), (1, -1, 38)]);
        let b = cells(&[(-1, -1, 60), (0, -1, 15), (1, -1, 45)]);
        let lea = cells(&[(-1, -1, 100), (0, -1, 17), (1, -1, 83)]);
        let (a, b, lea) = (view(&a), view(&b), view(&lea));
        let row = |c| Row {
            cells: c,
            fine: false,
            mine: None,
        };
        let rollup = Rollup {
            total: 2,
            parts: vec![0, 1],
            complete: true,
        };
        let hidden = hidden_keys(&[row(&a), row(&b), row(&lea)], &[rollup], 10);
        let gender = |h: &BTreeSet<Key>| -> Vec<i8> { h.iter().map(|k| k.2[0]).collect() };
        // In each school, the small value and its complement; and across
        // schools, B's value for the small group as well.
        assert_eq!(gender(&hidden[0]), vec![0, 1]);
        assert_eq!(gender(&hidden[1]), vec![0, 1]);
        assert!(
            hidden[2].is_empty(),
            "the LEA row stays: A and B hidden together hold 17"
        );
        // Nothing that is hidden can be recovered: every sum has two or more
        // hidden cells holding more than 10 results.
    }

    /// A school's LEA and state comparison rows.
    fn linked<'a>(
        lea: &'a [(&'a Key, &'a Tally)],
        state: &'a [(&'a Key, &'a Tally)],
        school: &'a BTreeMap<Key, Tally>,
    ) -> [Row<'a>; 2] {
        [lea, state].map(|cells| Row {
            cells,
            fine: false,
            mine: Some(school),
        })
    }

    #[test]
    fn the_state_row_is_the_lea_row_plus_what_the_viewer_never_sees() {
        // A principal's school has 3 of the LEA's 20 female results; the
        // state has 22, so 2 are at other LEAs. State − LEA would give them.
        let school = cells(&[(-1, -1, 40), (0, -1, 3), (1, -1, 37)]);
        let lea = cells(&[(-1, -1, 100), (0, -1, 20), (1, -1, 80)]);
        let state = cells(&[(-1, -1, 160), (0, -1, 22), (1, -1, 138)]);
        let (lea, state) = (view(&lea), view(&state));
        let rows = linked(&lea, &state, &school);
        let rollup = |complete| Rollup {
            total: 1,
            parts: vec![0],
            complete,
        };
        let gender = |h: &BTreeSet<Key>| -> Vec<i8> { h.iter().map(|k| k.2[0]).collect() };
        let hidden = hidden_keys(&rows, &[rollup(false)], 10);
        assert_eq!(gender(&hidden[0]), vec![0, 1], "the LEA's female cell goes");
        assert!(
            hidden[1].is_empty(),
            "the state row hides 58 unseen results"
        );
        // Unlinked, nothing would have been hidden.
        assert!(hidden_keys(&rows, &[], 10).iter().all(|h| h.is_empty()));
        // Where the other LEAs have none, a hidden LEA cell is the state's:
        // the LEA's 5 male results hide its 30 female ones, which the state
        // row would show as they are (and so the 5 as 35 − 30).
        let school = cells(&[(-1, -1, 3), (0, -1, 3)]);
        let lea = cells(&[(-1, -1, 35), (0, -1, 30), (1, -1, 5)]);
        let state = cells(&[(-1, -1, 85), (0, -1, 30), (1, -1, 55)]);
        let (lea, state) = (view(&lea), view(&state));
        let rows = linked(&lea, &state, &school);
        let hidden = hidden_keys(&rows, &[rollup(false)], 10);
        assert_eq!(gender(&hidden[0]), vec![0, 1]);
        assert_eq!(gender(&hidden[1]), vec![0, 1]);
        assert!(hidden_keys(&rows, &[], 10)[1].is_empty());
    }
}
