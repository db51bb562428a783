//! Aggregation: the cubes behind the custom aggregate reports, computed once
//! at build time, and cohort membership for the longitudinal report.
//!
//! A cube covers one assessment family for one bundle. Each cell holds, for
//! one institution, school year, assessment and set of subgroup values, the
//! count, the sums the mean and its standard error need, and the level,
//! claim-level and alt-score counts. The page's builder adds cells up.
//!
//! - Schools in an administrator's own scope get *fine* cells (every
//!   dimension set), so any grouping or custom combination can be summed in
//!   the browser; the administrator may see these students' results anyway.
//! - Everything else (an aggregate reporter's scope, and comparison rows for
//!   institutions outside the viewer's scope) gets *marginal* cells only:
//!   overall and one dimension at a time, with small groups suppressed
//!   before they are written, so that the page holds nothing the viewer may
//!   not see.

mod dimensions;
mod longitudinal;
mod suppress;

use dimensions::disabled;
pub use dimensions::{race, subgroups, DIMENSIONS};
pub use longitudinal::{cohort, longitudinal, Cohort, Figures, YearRow};
use suppress::{suppressed, Rollup, Row};

use crate::access::{Bundle, Kind};
use crate::catalog::Family;
use crate::deployment::Deployment;
use crate::model::{Exam, Score};
use crate::stats::distance;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Sums over a set of results, enough for n, mean, SEM and every count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub n: u32,
    pub scored: u32,
    pub sum: f64,
    pub sum_sq: f64,
    /// Results with a Distance from Standard, and the distances' sum.
    pub dfs_n: u32,
    pub dfs_sum: f64,
    pub levels: Vec<u32>,
    /// Claim × claim level counts, flattened.
    pub claims: Vec<u32>,
    /// Per alt score: results, scored, sum, sum of squares, then level counts.
    pub alts: Vec<f64>,
}

/// The shape of a family's tallies.
struct Shape {
    /// Dimensions not to split by.
    disabled: [bool; 10],
    levels: usize,
    claims: Vec<u8>,
    claim_levels: usize,
    alts: Vec<u8>,
}

impl Shape {
    fn of(dep: &Deployment, f: &Family) -> Shape {
        Shape {
            disabled: disabled(dep),
            levels: f.levels.len(),
            claims: f
                .claims
                .iter()
                .flat_map(|c| c.items.iter().map(|i| i.column))
                .collect(),
            claim_levels: f.claims.as_ref().map_or(0, |c| c.levels.len()),
            alts: f.alt_scores.iter().map(|a| a.column).collect(),
        }
    }

    /// The most values a cell of this shape holds (see [`cell`]).
    fn width(&self) -> usize {
        10 + self.levels
            + self.claims.len() * self.claim_levels
            + self.alts.len() * (4 + self.levels)
    }

    fn empty(&self) -> Tally {
        Tally {
            levels: vec![0; self.levels],
            claims: vec![0; self.claims.len() * self.claim_levels],
            alts: vec![0.0; self.alts.len() * (4 + self.levels)],
            ..Tally::default()
        }
    }
}

impl Tally {
    /// Counts exam `c`, whose alt scores (read only when the family has
    /// them) are `alt`.
    fn add(&mut self, shape: &Shape, c: &Counted, alt: &[(u8, Score)]) {
        if !c.result {
            return;
        }
        self.n += 1;
        if !c.dfs.is_nan() {
            self.dfs_n += 1;
            self.dfs_sum += c.dfs as f64;
        }
        if let Some(s) = c.scale {
            self.scored += 1;
            self.sum += s as f64;
            self.sum_sq += (s as f64) * (s as f64);
        }
        if (1..=shape.levels).contains(&(c.level as usize)) {
            self.levels[c.level as usize - 1] += 1;
        }
        for (k, &col) in shape.claims.iter().enumerate() {
            let l = c.claims[col as usize - 1] as usize;
            if (1..=shape.claim_levels).contains(&l) {
                self.claims[k * shape.claim_levels + l - 1] += 1;
            }
        }
        let width = 4 + shape.levels;
        for (k, &col) in shape.alts.iter().enumerate() {
            let Some((_, s)) = alt.iter().find(|(c, s)| *c == col && !s.is_empty()) else {
                continue;
            };
            let slot = &mut self.alts[k * width..(k + 1) * width];
            slot[0] += 1.0;
            if let Some(v) = s.scale {
                slot[1] += 1.0;
                slot[2] += v as f64;
                slot[3] += (v as f64) * (v as f64);
            }
            if let Some(l) = s.level.filter(|&l| (1..=shape.levels as u8).contains(&l)) {
                slot[4 + l as usize - 1] += 1.0;
            }
        }
    }

    /// Adds the results `o` counts to these.
    fn merge(&mut self, o: &Tally) {
        self.n += o.n;
        self.scored += o.scored;
        self.sum += o.sum;
        self.sum_sq += o.sum_sq;
        self.dfs_n += o.dfs_n;
        self.dfs_sum += o.dfs_sum;
        let pairs = self.levels.iter_mut().zip(&o.levels);
        pairs
            .chain(self.claims.iter_mut().zip(&o.claims))
            .for_each(|(a, b)| *a += b);
        self.alts.iter_mut().zip(&o.alts).for_each(|(a, b)| *a += b);
    }
}

/// The marginal cells (see [`Comparisons::tally`]) of the results that
/// `rows`, tallied by `split`, count between them, summed from their cells
/// rather than counted again from the exams.
fn marginal_of(shape: &Shape, rows: &[BTreeMap<Key, Tally>], split: Split) -> BTreeMap<Key, Tally> {
    let mut out: FxHashMap<Key, Tally> = FxHashMap::default();
    for (&(year, a, sig), t) in rows.iter().flatten() {
        let mut add = |target: Signature| {
            (out.entry((year, a, target)))
                .or_insert_with(|| shape.empty())
                .merge(t)
        };
        if split == Split::Marginal {
            add(sig);
            continue;
        }
        add([-1; 10]);
        for (d, &v) in sig.iter().enumerate().filter(|(_, v)| **v >= 0) {
            let mut single = [-1i8; 10];
            single[d] = v;
            add(single);
        }
    }
    out.into_iter().collect()
}

/// What a tally reads of one exam, in a compact record: scans of a cube's
/// exams read these rather than the exams themselves, whose records are
/// several cache lines each and are read once for every cube that counts
/// them.
#[derive(Debug, Clone, Copy)]
struct Counted {
    assessment: u32,
    scale: Option<f32>,
    /// The Distance from Standard; NaN when there is none.
    dfs: f32,
    year: u16,
    /// The overall level; 0 when there is none.
    level: u8,
    /// False when the exam has no overall result at all.
    result: bool,
    /// Each claim's level; 0 when there is none.
    claims: [u8; 6],
    /// The exam's value of each dimension; -1 for a disabled dimension.
    values: [i8; 10],
}

impl Counted {
    fn of(x: &Exam, dfs: Option<f32>, disabled: &[bool; 10]) -> Counted {
        let v = subgroups(x);
        Counted {
            assessment: x.assessment,
            scale: x.overall.scale,
            dfs: dfs.unwrap_or(f32::NAN),
            year: x.school_year,
            level: x.overall.level.unwrap_or(0),
            result: !x.overall.is_empty(),
            claims: x.claim_levels.map(|l| l.unwrap_or(0)),
            values: std::array::from_fn(|d| if disabled[d] { -1 } else { v[d] as i8 }),
        }
    }
}

/// One institution a cube has rows for.
#[derive(Debug, Serialize)]
pub struct Institution {
    pub name: String,
    /// Its 14-digit CDS code (the state's is all zeros); empty when unknown.
    pub cds: String,
    /// "school", "lea" or "state".
    pub kind: &'static str,
    /// Fine cells: any grouping can be summed. Otherwise marginals only.
    pub fine: bool,
    /// For a scope made of the cube's own schools: the institutions it sums.
    pub sums: Vec<usize>,
    /// True for the viewer's own scope (as opposed to a comparison row).
    pub own: bool,
}

/// The comparison rows every bundle shares: marginal tallies of each LEA's
/// and of the state's results, per family, computed once when first needed.
pub struct Comparisons {
    /// Whether the data covers more than one LEA (and so has a state row).
    pub several_leas: bool,
    /// Per family: per LEA.
    leas: Vec<Vec<OnceLock<BTreeMap<Key, Tally>>>>,
    state: Vec<OnceLock<BTreeMap<Key, Tally>>>,
    /// Per family: its exams.
    exams: Vec<OnceLock<Vec<usize>>>,
    /// Each exam's family, in a compact array that scans of a bundle's
    /// exams read instead of the exams themselves.
    family_of: Vec<u16>,
    /// Each exam's school, likewise.
    school_of: Vec<u32>,
    /// What each exam counts for, with its Distance from Standard and its
    /// value of each dimension, found once rather than in every cube that
    /// counts the exam.
    counted: Vec<Counted>,
}

impl Comparisons {
    /// Empty tables for `dep`'s families and LEAs, and what each exam
    /// counts for, found now on every core: found on first use, by one
    /// cube, the others would wait for them.
    pub fn new(dep: &Deployment) -> Comparisons {
        let inst = &dep.data.institutions;
        let families = dep.catalog.families.len();
        let leas_with_schools: BTreeSet<usize> = inst.schools.iter().map(|s| s.lea).collect();
        let disabled = disabled(dep);
        Comparisons {
            several_leas: leas_with_schools.len() > 1,
            leas: (0..families)
                .map(|_| (0..inst.leas.len()).map(|_| OnceLock::new()).collect())
                .collect(),
            state: (0..families).map(|_| OnceLock::new()).collect(),
            exams: (0..families).map(|_| OnceLock::new()).collect(),
            family_of: dep
                .data
                .exams
                .iter()
                .map(|e| dep.data.assessments[e.assessment as usize].family as u16)
                .collect(),
            school_of: dep.data.exams.iter().map(|e| e.school).collect(),
            counted: (dep.data.exams.par_iter().enumerate())
                .map(|(e, x)| {
                    let dfs = distance::of_exam(&dep.catalog, &dep.data, e);
                    Counted::of(x, dfs, &disabled)
                })
                .collect(),
        }
    }

    /// Bundle `b`'s exams of `family`, in the bundle's order.
    pub fn own(&self, b: &Bundle, family: usize) -> Vec<usize> {
        (b.exams.iter().copied())
            .filter(|&e| self.family_of[e] as usize == family)
            .collect()
    }

    fn exams(&self, dep: &Deployment, family: usize) -> &[usize] {
        self.exams[family].get_or_init(|| {
            (0..dep.data.exams.len())
                .filter(|&e| self.family_of[e] as usize == family)
                .collect()
        })
    }

    /// LEA `lea`'s marginal tallies of `family`.
    fn lea(&self, dep: &Deployment, family: usize, lea: usize) -> &BTreeMap<Key, Tally> {
        self.leas[family][lea].get_or_init(|| {
            let inst = &dep.data.institutions;
            let exams = self
                .exams(dep, family)
                .iter()
                .copied()
                .filter(|&e| inst.schools[self.school_of[e] as usize].lea == lea);
            self.tally(
                dep,
                &Shape::of(dep, &dep.catalog.families[family]),
                exams,
                Split::Marginal,
            )
        })
    }

    /// The state's marginal tallies of `family`.
    fn state(&self, dep: &Deployment, family: usize) -> &BTreeMap<Key, Tally> {
        self.state[family].get_or_init(|| {
            let exams = self.exams(dep, family).iter().copied();
            self.tally(
                dep,
                &Shape::of(dep, &dep.catalog.families[family]),
                exams,
                Split::Marginal,
            )
        })
    }

    /// Tallies `exams` by (year, assessment, signature): fine cells (every
    /// dimension set; -1 for a disabled one) or marginal ones (the overall
    /// cell and one per single dimension). Keys whose results are all
    /// unscored (an invalidated test, say) count for nothing and are left out.
    fn tally(
        &self,
        dep: &Deployment,
        shape: &Shape,
        exams: impl Iterator<Item = usize>,
        split: Split,
    ) -> BTreeMap<Key, Tally> {
        // The exams' records are gathered first, in a loop of independent
        // reads that the processor overlaps: they are scattered, and each
        // read would otherwise wait for the tally of the one before.
        let exams: Vec<usize> = exams.collect();
        let counted: Vec<Counted> = exams.iter().map(|&e| self.counted[e]).collect();
        let mut fine: FxHashMap<Key, Tally> = FxHashMap::default();
        // Marginal cells by (year, assessment): one look-up per exam.
        let mut margins: FxHashMap<(u16, u32), Margins> = FxHashMap::default();
        for (&e, c) in exams.iter().zip(&counted) {
            let alt = if shape.alts.is_empty() {
                &[][..]
            } else {
                &dep.data.exams[e].alt[..]
            };
            match split {
                Split::Fine => fine
                    .entry((c.year, c.assessment, c.values))
                    .or_insert_with(|| shape.empty())
                    .add(shape, c, alt),
                Split::Marginal => margins
                    .entry((c.year, c.assessment))
                    .or_insert_with(|| Margins::new(shape))
                    .add(shape, c, alt),
            }
        }
        let marginal = margins
            .into_iter()
            .flat_map(|((year, a), m)| m.cells().map(move |(sig, t)| ((year, a, sig), t)));
        fine.into_iter()
            .chain(marginal)
            .filter(|(_, t)| t.n > 0)
            .collect()
    }
}

/// Which cells a tally holds: fine (every dimension set), or marginal (the
/// overall cell and one per single dimension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    Fine,
    Marginal,
}

/// The marginal cells of one year and assessment: the overall cell, and a
/// cell for each value of each dimension, found by index.
struct Margins {
    overall: Tally,
    by: [Vec<Option<Tally>>; 10],
}

impl Margins {
    fn new(shape: &Shape) -> Margins {
        Margins {
            overall: shape.empty(),
            by: Default::default(),
        }
    }

    /// Counts exam `c` in each of its cells.
    fn add(&mut self, shape: &Shape, c: &Counted, alt: &[(u8, Score)]) {
        self.overall.add(shape, c, alt);
        for (cells, &value) in self.by.iter_mut().zip(&c.values) {
            let Ok(i) = usize::try_from(value) else {
                continue;
            };
            if cells.len() <= i {
                cells.resize_with(i + 1, || None);
            }
            cells[i]
                .get_or_insert_with(|| shape.empty())
                .add(shape, c, alt);
        }
    }

    /// Each cell with its signature.
    fn cells(self) -> impl Iterator<Item = (Signature, Tally)> {
        let by = self.by.into_iter().enumerate().flat_map(|(d, cells)| {
            cells.into_iter().enumerate().filter_map(move |(i, t)| {
                let mut sig = [-1i8; 10];
                sig[d] = i as i8;
                Some((sig, t?))
            })
        });
        std::iter::once(([-1i8; 10], self.overall)).chain(by)
    }
}

/// The cube of one family for one bundle, as the page embeds it.
#[derive(Debug, Serialize)]
pub struct Cube {
    pub family: String,
    pub kind: String,
    pub subject: String,
    pub levels: Vec<String>,
    /// Levels below this one are "below standard".
    pub cutoff: u8,
    pub claims: Vec<String>,
    pub claim_levels: Vec<String>,
    pub alts: Vec<String>,
    pub dimensions: Vec<Dimension>,
    pub assessments: Vec<AssessmentInfo>,
    pub years: Vec<u16>,
    pub institutions: Vec<Institution>,
    /// Suppression threshold for marginal cells (0: none).
    pub threshold: usize,
    /// True when the family has a Distance from Standard.
    pub dfs: bool,
    /// Each cell: [institution, year, assessment, signature, n, scored, sum,
    /// sum of squares, DFS n, DFS sum, levels…, claims…, alts…]; n is -1
    /// when suppressed. A cell of an institution that is not fine holds the
    /// shown mean and SEM (-1: none) and the mean DFS to one decimal in place
    /// of the sums, in its alts as well.
    /// A signature's dimension value is -1 when the cell spans every value.
    pub signatures: Vec<Signature>,
    pub cells: Cells,
}

/// A cube's cells, stored end to end in one list; each is written out as
/// an array of its own.
#[derive(Debug, Default)]
pub struct Cells {
    values: Vec<f64>,
    /// Where each cell ends in `values`.
    ends: Vec<usize>,
}

impl Cells {
    /// The number of cells.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are no cells.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each cell's values, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[f64]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.values[a..b])
    }
}

impl Serialize for Cells {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[derive(Debug, Serialize)]
pub struct Dimension {
    pub id: &'static str,
    pub label: &'static str,
    pub values: &'static [&'static str],
    /// Disabled by the deployment's field settings: not offered, not split by.
    pub disabled: bool,
}

#[derive(Debug, Serialize)]
pub struct AssessmentInfo {
    pub name: String,
    pub grade: String,
}

/// A cell's value in each of the 10 subgroup dimensions; -1 where it spans
/// every value.
pub type Signature = [i8; 10];

type Key = (u16, u32, Signature);

/// Families with results in `b`, in catalog order.
pub fn families(dep: &Deployment, b: &Bundle) -> Vec<usize> {
    let set: BTreeSet<usize> = b
        .exams
        .iter()
        .map(|&e| dep.data.assessments[dep.data.exams[e].assessment as usize].family)
        .collect();
    set.into_iter().collect()
}

/// True when bundles of this kind have custom aggregate reports.
pub fn has_reports(kind: Kind) -> bool {
    kind != Kind::Teacher
}

/// The cube of `family` for bundle `b`; `threshold` suppresses marginal cells.
pub fn cube(
    dep: &Deployment,
    comparisons: &Comparisons,
    b: &Bundle,
    family: usize,
    threshold: usize,
) -> Cube {
    let data = &dep.data;
    let fam = &dep.catalog.families[family];
    let shape = Shape::of(dep, fam);
    let own = comparisons.own(b, family);
    let mut institutions: Vec<Institution> = Vec::new();
    let mut by_school: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &e in &own {
        by_school
            .entry(comparisons.school_of[e] as usize)
            .or_default()
            .push(e);
    }
    let inst = &data.institutions;
    let top = scope_of(dep, b);
    let admin = b.kind.admin();
    let schools_first: Vec<usize> = if admin || b.schools.len() > 1 {
        by_school.keys().copied().collect()
    } else {
        Vec::new()
    };
    let split = if admin { Split::Fine } else { Split::Marginal };
    let school_tallies: Vec<BTreeMap<Key, Tally>> = schools_first
        .iter()
        .map(|s| comparisons.tally(dep, &shape, by_school[s].iter().copied(), split))
        .collect();
    // The marginal tallies of the bundle's own results, which its scope's
    // row and its parts of the comparison rows share: the sums of its
    // schools' rows when it has them.
    let own_marginal = OnceCell::new();
    let own_marginal = || {
        own_marginal.get_or_init(|| match &school_tallies[..] {
            [] => comparisons.tally(dep, &shape, own.iter().copied(), Split::Marginal),
            rows => marginal_of(&shape, rows, split),
        })
    };
    // Each row's tallies; the comparison rows are every bundle's, borrowed.
    let mut tallies: Vec<Cow<BTreeMap<Key, Tally>>> = Vec::new();
    for (&s, cells) in schools_first.iter().zip(&school_tallies) {
        institutions.push(Institution {
            name: inst.schools[s].name.clone(),
            cds: inst.school_cds(s).unwrap_or_default(),
            kind: "school",
            fine: admin,
            sums: Vec::new(),
            own: true,
        });
        tallies.push(Cow::Borrowed(cells));
    }
    // The viewer's whole scope, when it is more than one school.
    if let Some((name, kind)) = &top {
        if admin {
            institutions.push(Institution {
                name: name.clone(),
                cds: scope_cds(dep, b, kind),
                kind,
                fine: true,
                sums: (0..schools_first.len()).collect(),
                own: true,
            });
            tallies.push(Cow::Owned(BTreeMap::new()));
        } else {
            institutions.push(Institution {
                name: name.clone(),
                cds: scope_cds(dep, b, kind),
                kind,
                fine: false,
                sums: Vec::new(),
                own: true,
            });
            tallies.push(Cow::Borrowed(own_marginal()));
        }
    }
    // Comparison rows: the LEA of a school scope, and the state where the
    // data covers more than one LEA. The viewer's own part of each (`owns`)
    // tells how many results lie beyond it, which the viewer could otherwise
    // recover by subtraction.
    let mut owns: Vec<(usize, Cow<BTreeMap<Key, Tally>>)> = Vec::new();
    for row in compared(dep, comparisons, b) {
        let Some(l) = row else {
            institutions.push(Institution {
                name: dep.settings.state.clone(),
                cds: STATE_CDS.into(),
                kind: "state",
                fine: false,
                sums: Vec::new(),
                own: false,
            });
            owns.push((tallies.len(), Cow::Borrowed(own_marginal())));
            tallies.push(Cow::Borrowed(comparisons.state(dep, family)));
            continue;
        };
        institutions.push(Institution {
            name: inst.leas[l].name.clone(),
            cds: inst.lea_cds(l).unwrap_or_default(),
            kind: "lea",
            fine: false,
            sums: Vec::new(),
            own: false,
        });
        let lea_of = |e: usize| inst.schools[comparisons.school_of[e] as usize].lea;
        let mine = if own.iter().all(|&e| lea_of(e) == l) {
            Cow::Borrowed(own_marginal())
        } else {
            let exams = own.iter().copied().filter(|&e| lea_of(e) == l);
            Cow::Owned(comparisons.tally(dep, &shape, exams, Split::Marginal))
        };
        owns.push((tallies.len(), mine));
        tallies.push(Cow::Borrowed(comparisons.lea(dep, family, l)));
    }
    let counted = &comparisons.counted;
    let mut assessments: Vec<u32> = own.iter().map(|&e| counted[e].assessment).collect();
    assessments.sort_unstable();
    assessments.dedup();
    assessments.sort_by(|&a, &b| {
        let (x, y) = (&data.assessments[a as usize], &data.assessments[b as usize]);
        (x.grade, &x.name).cmp(&(y.grade, &y.name))
    });
    let local: FxHashMap<u32, usize> = assessments
        .iter()
        .enumerate()
        .map(|(i, &a)| (a, i))
        .collect();
    let mut years: Vec<u16> = own.iter().map(|&e| counted[e].year).collect();
    years.sort_unstable();
    years.dedup();
    let mut signatures: Vec<Signature> = Vec::new();
    let mut sig_index: FxHashMap<Signature, usize> = FxHashMap::default();
    let mut cells = Cells::default();
    // An aggregate reporter's school rows add up to their scope's row, and
    // the state row is the LEA rows shown plus the LEAs that are not.
    let mut rollups = Vec::new();
    if !admin && top.is_some() && !schools_first.is_empty() {
        rollups.push(Rollup {
            total: schools_first.len(),
            parts: (0..schools_first.len()).collect(),
            complete: true,
        });
    }
    let lea_rows: Vec<usize> = (0..institutions.len())
        .filter(|&i| !institutions[i].own && institutions[i].kind == "lea")
        .collect();
    if let Some(state) = (0..institutions.len())
        .find(|&i| !institutions[i].own && institutions[i].kind == "state")
        .filter(|_| !lea_rows.is_empty())
    {
        rollups.push(Rollup {
            total: state,
            parts: lea_rows,
            complete: false,
        });
    }
    // Each row's cells of the bundle's own assessments, the only ones the
    // cube shows; suppression of one assessment's cells never depends on
    // another's.
    let shown: Vec<Vec<(&Key, &Tally)>> = tallies
        .iter()
        .map(|t| t.iter().filter(|(k, _)| local.contains_key(&k.1)).collect())
        .collect();
    let hidden = if threshold == 0 {
        shown.iter().map(|cells| vec![false; cells.len()]).collect()
    } else {
        let rows: Vec<Row> = shown
            .iter()
            .enumerate()
            .map(|(i, cells)| Row {
                cells,
                fine: institutions[i].fine,
                mine: owns.iter().find(|(r, _)| *r == i).map(|(_, t)| &**t),
            })
            .collect();
        suppressed(&rows, &rollups, threshold)
    };
    let count: usize = shown.iter().map(Vec::len).sum();
    cells.reserve(count, shape.width());
    for (i, row) in shown.iter().enumerate() {
        for (&(key, tally), &hidden) in row.iter().zip(&hidden[i]) {
            let look = if hidden {
                Look::Hidden
            } else if institutions[i].fine {
                Look::Sums
            } else {
                Look::Shown
            };
            let &(year, a, sig) = key;
            let s = *sig_index.entry(sig).or_insert_with_key(|sig| {
                signatures.push(*sig);
                signatures.len() - 1
            });
            cells.push(i, year, local[&a], s, tally, look);
        }
    }
    Cube {
        family: fam.name.clone(),
        kind: format!("{:?}", fam.kind),
        subject: fam.subject.clone(),
        levels: fam.levels.iter().map(|l| l.name.clone()).collect(),
        cutoff: fam.standard_cutoff,
        dfs: fam.distance_from_standard,
        claims: fam
            .claims
            .iter()
            .flat_map(|c| c.items.iter().map(|i| i.name.clone()))
            .collect(),
        claim_levels: fam
            .claims
            .iter()
            .flat_map(|c| c.levels.iter().map(|l| l.name.clone()))
            .collect(),
        alts: fam.alt_scores.iter().map(|a| a.name.clone()).collect(),
        dimensions: DIMENSIONS
            .iter()
            .zip(shape.disabled)
            .map(|(&(id, label, _, values), disabled)| Dimension {
                id,
                label,
                values,
                disabled,
            })
            .collect(),
        assessments: assessments
            .iter()
            .map(|&a| {
                let x = &data.assessments[a as usize];
                AssessmentInfo {
                    name: x.name.clone(),
                    grade: x.grade.map(|g| g.to_string()).unwrap_or_default(),
                }
            })
            .collect(),
        years,
        institutions,
        threshold,
        signatures,
        cells,
    }
}

impl Cells {
    /// Room for `count` more cells of up to `width` values each.
    fn reserve(&mut self, count: usize, width: usize) {
        self.values.reserve(count * width);
        self.ends.reserve(count);
    }

    /// Adds one cell as the page stores it. A fine cell holds sums, which
    /// the page adds up; any other cell is shown as it is, so it holds the
    /// mean and SEM only as precisely as the page prints them (see
    /// [`shown`]).
    fn push(&mut self, i: usize, year: u16, a: usize, sig: usize, t: &Tally, look: Look) {
        cell(&mut self.values, i, year, a, sig, t, look);
        self.ends.push(self.values.len());
    }
}

/// Appends one cell's values to `out` (see [`Cells::push`]).
fn cell(out: &mut Vec<f64>, i: usize, year: u16, a: usize, sig: usize, t: &Tally, look: Look) {
    out.extend([i as f64, year as f64, a as f64, sig as f64]);
    if look == Look::Hidden {
        out.push(-1.0);
        return;
    }
    out.extend([t.n as f64, t.scored as f64]);
    let exact = look == Look::Sums;
    let moments = |scored: f64, sum: f64, sq: f64| {
        if exact {
            [sum, sq]
        } else {
            shown(scored, sum, sq)
        }
    };
    out.extend(moments(t.scored as f64, t.sum, t.sum_sq));
    out.push(t.dfs_n as f64);
    out.push(match look {
        _ if t.dfs_n == 0 => 0.0,
        Look::Shown => (t.dfs_sum / t.dfs_n as f64 * 10.0).round() / 10.0,
        _ => t.dfs_sum,
    });
    out.extend(t.levels.iter().map(|&c| c as f64));
    out.extend(t.claims.iter().map(|&c| c as f64));
    let width = 4 + t.levels.len();
    for slot in t.alts.chunks(width) {
        out.extend([slot[0], slot[1]]);
        out.extend(moments(slot[1], slot[2], slot[3]));
        out.extend(&slot[4..]);
    }
}

/// How a cell is written: hidden, as sums, or as the figures shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    Hidden,
    Sums,
    Shown,
}

/// The mean and SEM of `scored` results with sum `sum` and sum of squares
/// `sq`, rounded as the page prints them (a whole scale score; SEM to one
/// decimal, -1 when there is none), so a shown cell carries no extra digits
/// that differencing could use.
fn shown(scored: f64, sum: f64, sq: f64) -> [f64; 2] {
    if scored < 1.0 {
        return [0.0, -1.0];
    }
    let mean = sum / scored;
    let sem = if scored > 1.0 {
        ((sq - scored * mean * mean).max(0.0) / (scored - 1.0) / scored).sqrt()
    } else {
        -1.0
    };
    let sem = if sem < 0.0 {
        -1.0
    } else {
        (sem * 10.0).round() / 10.0
    };
    [mean.round(), sem]
}

/// The name and kind of a bundle's whole scope when it is more than one school.
/// The CDS code the state's rows carry.
const STATE_CDS: &str = "00000000000000";

/// The CDS code of a bundle's whole scope, of `kind` (see [`scope_of`]).
fn scope_cds(dep: &Deployment, b: &Bundle, kind: &str) -> String {
    let inst = &dep.data.institutions;
    let first = b.schools.first().copied();
    match kind {
        "state" => Some(STATE_CDS.to_string()),
        "lea" => first.and_then(|s| inst.lea_cds(inst.schools[s].lea)),
        _ => first.and_then(|s| inst.school_cds(s)),
    }
    .unwrap_or_default()
}

/// The comparison rows of bundle `b`'s cubes, in order: the LEA of a
/// school scope (by index), and the state (`None`) where the data covers
/// more than one LEA and the scope is not the state.
fn compared(dep: &Deployment, comparisons: &Comparisons, b: &Bundle) -> Vec<Option<usize>> {
    let inst = &dep.data.institutions;
    let mut rows: Vec<Option<usize>> = Vec::new();
    if matches!(b.kind, Kind::School) || (b.kind == Kind::Aggregate && b.schools.len() == 1) {
        let leas: BTreeSet<usize> = b.schools.iter().map(|&s| inst.schools[s].lea).collect();
        rows.extend(leas.into_iter().map(Some));
    }
    if comparisons.several_leas && !matches!(scope_of(dep, b), Some((_, "state"))) {
        rows.push(None);
    }
    rows
}

/// The comparison rows of bundle `b`'s cube of `family` as the cube shows
/// them, before suppression, one cell at a time to `add`: the row (an LEA
/// index, or -1 for the state), the cell's assessment by name, and its
/// signature, counts and figures as printed; only cells of `assessments`,
/// those of the bundle's own results, which are the only ones a cube
/// shows. Two cubes of the same own results whose comparison rows read the
/// same are the same cube, so a rebuild may keep the page.
pub fn compared_cells(
    dep: &Deployment,
    comparisons: &Comparisons,
    b: &Bundle,
    (family, assessments): (usize, &[u32]),
    mut add: impl FnMut(&str, &[f64]),
) {
    let mut values = Vec::new();
    for row in compared(dep, comparisons, b) {
        let tallies = match row {
            Some(l) => comparisons.lea(dep, family, l),
            None => comparisons.state(dep, family),
        };
        let shown = tallies
            .iter()
            .filter(|((_, a, _), _)| assessments.binary_search(a).is_ok());
        for (&(year, a, sig), t) in shown {
            values.clear();
            values.push(row.map_or(-1.0, |l| l as f64));
            values.extend(sig.map(f64::from));
            cell(&mut values, 0, year, 0, 0, t, Look::Shown);
            add(&dep.data.assessments[a as usize].name, &values);
        }
    }
}

fn scope_of(dep: &Deployment, b: &Bundle) -> Option<(String, &'static str)> {
    let inst = &dep.data.institutions;
    match b.kind {
        Kind::District => Some((b.label(dep), "lea")),
        Kind::State => Some((dep.settings.state.clone(), "state")),
        Kind::Aggregate if b.schools.len() == inst.schools.len() && inst.leas.len() > 1 => {
            Some((dep.settings.state.clone(), "state"))
        }
        Kind::Aggregate if b.schools.len() > 1 => Some((b.label(dep), "lea")),
        Kind::Aggregate => Some((b.label(dep), "school")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_cells_carry_only_the_printed_precision() {
        let t = Tally {
            n: 3,
            scored: 3,
            sum: 2401.0 + 2502.0 + 2604.0,
            sum_sq: 2401.0f64.powi(2) + 2502.0f64.powi(2) + 2604.0f64.powi(2),
            // Grade 5 ELA (Level 3 from 2502): −101, 0 and +102.
            dfs_n: 3,
            dfs_sum: 1.0,
            levels: vec![1, 1, 1, 0],
            claims: Vec::new(),
            alts: vec![2.0, 1.0, 2455.0, 2455.0f64.powi(2), 0.0, 1.0, 0.0, 0.0],
        };
        let mut cells = Cells::default();
        for look in [Look::Shown, Look::Sums, Look::Hidden] {
            cells.push(0, 2025, 0, 0, &t, look);
        }
        let all: Vec<&[f64]> = cells.iter().collect();
        assert_eq!(all.len(), 3);
        // Mean 2502.33…, SD 101.5…, SEM 58.6…, DFS 0.33… shown as 0.3; the
        // lone alt score has no SEM.
        assert_eq!(
            all[0],
            [
                0., 2025., 0., 0., 3., 3., 2502., 58.6, 3., 0.3, 1., 1., 1., 0., 2., 1., 2455.,
                -1., 0., 1., 0., 0.
            ]
        );
        assert_eq!(all[1][6..10], [t.sum, t.sum_sq, 3.0, 1.0]);
        assert_eq!(all[1][16..18], [2455.0, 2455.0f64.powi(2)]);
        assert_eq!(all[2], [0., 2025., 0., 0., -1.]);
        // Each cell is written out as an array of its own.
        let json = serde_json::to_string(&cells).unwrap();
        assert!(json.starts_with("[[0.0,2025.0,0.0,0.0,3.0,"), "{json}");
        assert!(json.ends_with("],[0.0,2025.0,0.0,0.0,-1.0]]"), "{json}");
        assert_eq!(shown(0.0, 0.0, 0.0), [0.0, -1.0]);
    }

    /// One family of the test deployment: its shape, its exams, and their
    /// marginal cells as [`Comparisons::tally`] counts them.
    struct Counts<'a> {
        dep: &'a Deployment,
        comparisons: &'a Comparisons,
        family: &'a Family,
        shape: Shape,
        exams: &'a [usize],
        tallied: BTreeMap<Key, Tally>,
    }

    /// Calls `check` with the counts of each family of the test deployment.
    fn each_family(mut check: impl FnMut(Counts)) {
        let dep = crate::testing::deployment();
        let comparisons = Comparisons::new(&dep);
        for (f, family) in dep.catalog.families.iter().enumerate() {
            let shape = Shape::of(&dep, family);
            let exams = comparisons.exams(&dep, f);
            let tallied = comparisons.tally(&dep, &shape, exams.iter().copied(), Split::Marginal);
            check(Counts {
                dep: &dep,
                comparisons: &comparisons,
                family,
                shape,
                exams,
                tallied,
            });
        }
    }

    #[test]
    fn marginal_cells_count_each_exam_overall_and_once_per_dimension() {
        let mut checked = 0;
        each_family(|c| {
            let Counts {
                dep,
                comparisons,
                family,
                shape,
                exams,
                tallied,
            } = c;
            let mut each: BTreeMap<Key, Tally> = BTreeMap::new();
            for &e in exams {
                let (x, c) = (&dep.data.exams[e], &comparisons.counted[e]);
                let v = c.values;
                let singles = (0..10).filter(|&d| v[d] >= 0).map(|d| {
                    let mut sig = [-1i8; 10];
                    sig[d] = v[d];
                    sig
                });
                for sig in std::iter::once([-1i8; 10]).chain(singles) {
                    each.entry((x.school_year, x.assessment, sig))
                        .or_insert_with(|| shape.empty())
                        .add(&shape, c, &x.alt);
                }
            }
            each.retain(|_, t| t.n > 0);
            assert_eq!(tallied, each, "{}", family.name);
            checked += tallied.len();
            // The overall cells, against counts taken from the exams themselves.
            let overall = |f: &dyn Fn(&Tally) -> u32| -> u32 {
                (tallied.iter())
                    .filter(|((_, _, sig), _)| *sig == [-1i8; 10])
                    .map(|(_, t)| f(t))
                    .sum()
            };
            let exams: Vec<&Exam> = exams.iter().map(|&e| &dep.data.exams[e]).collect();
            let count = |f: &dyn Fn(&Exam) -> bool| exams.iter().filter(|x| f(x)).count() as u32;
            assert_eq!(overall(&|t| t.n), count(&|x| !x.overall.is_empty()));
            assert_eq!(
                overall(&|t| t.scored),
                count(&|x| x.overall.scale.is_some())
            );
            for l in 1..=family.levels.len() {
                let level = Some(l as u8);
                assert_eq!(
                    overall(&|t| t.levels[l - 1]),
                    count(&|x| x.overall.level == level)
                );
            }
            let claimed = count(&|x| x.claim_levels.iter().any(Option::is_some));
            let claim_counts = overall(&|t| t.claims.iter().sum());
            assert_eq!(claim_counts > 0, !shape.claims.is_empty() && claimed > 0);
        });
        assert!(checked >= 30, "{checked} cells");
    }

    #[test]
    fn marginal_cells_summed_from_school_rows_equal_those_counted() {
        let mut checked = 0;
        each_family(|c| {
            let mut by_school: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            for &e in c.exams {
                by_school
                    .entry(c.comparisons.school_of[e])
                    .or_default()
                    .push(e);
            }
            for split in [Split::Fine, Split::Marginal] {
                let rows: Vec<BTreeMap<Key, Tally>> = (by_school.values())
                    .map(|x| {
                        c.comparisons
                            .tally(c.dep, &c.shape, x.iter().copied(), split)
                    })
                    .collect();
                let summed = marginal_of(&c.shape, &rows, split);
                assert_eq!(summed, c.tallied, "{}", c.family.name);
            }
            checked += c.tallied.len() * usize::from(by_school.len() > 1);
        });
        assert!(checked >= 20, "{checked} cells of several schools");
    }
}
