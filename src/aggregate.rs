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

use crate::access::{Bundle, Kind};
use crate::catalog::Family;
use crate::deployment::{Deployment, Visibility};
use crate::model::{Elas, Exam, Flag, Grade, Sex, RACE_FLAGS};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The subgroup dimensions: id, label, the student field whose visibility
/// setting governs it (see [`crate::deployment::FIELDS`]; empty for none) and
/// value names. The last value of each is "not stated".
pub const DIMENSIONS: &[(&str, &str, &str, &[&str])] = &[
    (
        "gender",
        "Gender",
        "gender",
        &["Female", "Male", "Nonbinary", "Not stated"],
    ),
    (
        "race",
        "Race/ethnicity",
        "race_ethnicity",
        &[
            "Hispanic or Latino",
            "American Indian or Alaska Native",
            "Asian",
            "Black or African American",
            "White",
            "Native Hawaiian or Other Pacific Islander",
            "Two or more races",
            "Filipino",
            "Not stated",
        ],
    ),
    (
        "elas",
        "English language acquisition status",
        "elas",
        &["EO", "IFEP", "EL", "RFEP", "TBD", "ADEL", "Not stated"],
    ),
    ("el", "English learner (LEP)", "lep", YES_NO),
    ("migrant", "Migrant", "migrant", YES_NO),
    ("section504", "Section 504", "section_504", YES_NO),
    ("iep", "IEP", "iep", YES_NO),
    (
        "econ",
        "Economic disadvantage",
        "economic_disadvantage",
        YES_NO,
    ),
    ("military", "Military connected", "military", YES_NO),
    ("grade", "Enrolled grade", "", GRADES),
];

/// Which dimensions the deployment's field settings disable.
fn disabled(dep: &Deployment) -> [bool; 10] {
    std::array::from_fn(|d| {
        let field = DIMENSIONS[d].2;
        !field.is_empty() && dep.settings.visibility(field) == Visibility::Disabled
    })
}

const YES_NO: &[&str] = &["Yes", "No", "Not stated"];
const GRADES: &[&str] = &[
    "KG", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "Other",
];

/// Value index of each dimension for one exam.
pub fn subgroups(exam: &Exam) -> [u8; 10] {
    let d = &exam.demographics;
    let flag = |f: Flag| match d.get(f) {
        Some(true) => 0,
        Some(false) => 1,
        None => 2,
    };
    let race = if d.get(Flag::Hispanic) == Some(true) {
        0
    } else {
        let yes: Vec<usize> = RACE_FLAGS
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, (f, _))| d.get(*f) == Some(true))
            .map(|(i, _)| i)
            .collect();
        match yes.as_slice() {
            [] => 8,
            [one] => *one as u8,
            _ => 6,
        }
    };
    [
        match d.sex {
            Some(Sex::Female) => 0,
            Some(Sex::Male) => 1,
            Some(Sex::Nonbinary) => 2,
            None => 3,
        },
        race,
        match d.elas {
            Some(Elas::Eo) => 0,
            Some(Elas::Ifep) => 1,
            Some(Elas::El) => 2,
            Some(Elas::Rfep) => 3,
            Some(Elas::Tbd) => 4,
            Some(Elas::Adel) => 5,
            None => 6,
        },
        flag(Flag::Lep),
        flag(Flag::Migrant),
        flag(Flag::Section504),
        flag(Flag::Iep),
        flag(Flag::EconomicDisadvantage),
        flag(Flag::Military),
        match exam.grade {
            Grade::K => 0,
            Grade::N(n @ 1..=12) => n,
            _ => 13,
        },
    ]
}

/// Sums over a set of results, enough for n, mean, SEM and every count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub n: u32,
    pub scored: u32,
    pub sum: f64,
    pub sum_sq: f64,
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
    fn add(&mut self, shape: &Shape, e: &Exam) {
        if e.overall.is_empty() {
            return;
        }
        self.n += 1;
        if let Some(s) = e.overall.scale {
            self.scored += 1;
            self.sum += s as f64;
            self.sum_sq += (s as f64) * (s as f64);
        }
        if let Some(l) = e
            .overall
            .level
            .filter(|&l| (1..=shape.levels as u8).contains(&l))
        {
            self.levels[l as usize - 1] += 1;
        }
        for (k, &col) in shape.claims.iter().enumerate() {
            if let Some(l) = e.claim_levels[col as usize - 1]
                .filter(|&l| (1..=shape.claim_levels as u8).contains(&l))
            {
                self.claims[k * shape.claim_levels + l as usize - 1] += 1;
            }
        }
        let width = 4 + shape.levels;
        for (k, &col) in shape.alts.iter().enumerate() {
            let Some((_, s)) = e.alt.iter().find(|(c, s)| *c == col && !s.is_empty()) else {
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
}

/// One institution a cube has rows for.
#[derive(Debug, Serialize)]
pub struct Institution {
    pub name: String,
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
}

impl Comparisons {
    /// Empty tables for `dep`'s families and LEAs.
    pub fn new(dep: &Deployment) -> Comparisons {
        let inst = &dep.data.institutions;
        let families = dep.catalog.families.len();
        let leas_with_schools: BTreeSet<usize> = inst.schools.iter().map(|s| s.lea).collect();
        Comparisons {
            several_leas: leas_with_schools.len() > 1,
            leas: (0..families)
                .map(|_| (0..inst.leas.len()).map(|_| OnceLock::new()).collect())
                .collect(),
            state: (0..families).map(|_| OnceLock::new()).collect(),
            exams: (0..families).map(|_| OnceLock::new()).collect(),
        }
    }

    fn exams(&self, dep: &Deployment, family: usize) -> &[usize] {
        self.exams[family].get_or_init(|| {
            let data = &dep.data;
            (0..data.exams.len())
                .filter(|&e| data.assessments[data.exams[e].assessment as usize].family == family)
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
                .filter(|&e| inst.schools[dep.data.exams[e].school as usize].lea == lea);
            tally(
                dep,
                &Shape::of(dep, &dep.catalog.families[family]),
                exams,
                &marginal,
            )
        })
    }

    /// The state's marginal tallies of `family`.
    fn state(&self, dep: &Deployment, family: usize) -> &BTreeMap<Key, Tally> {
        self.state[family].get_or_init(|| {
            let exams = self.exams(dep, family).iter().copied();
            tally(
                dep,
                &Shape::of(dep, &dep.catalog.families[family]),
                exams,
                &marginal,
            )
        })
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
    /// Each cell: [institution, year, assessment, signature, n, scored, sum,
    /// sum of squares, levels…, claims…, alts…]; n is -1 when suppressed. A
    /// cell of an institution that is not fine holds the shown mean and SEM
    /// (-1: none) in place of the sums, in its alts as well.
    /// A signature's dimension value is -1 when the cell spans every value.
    pub signatures: Vec<Vec<i8>>,
    pub cells: Vec<Vec<f64>>,
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

type Key = (u16, u32, Vec<i8>);

/// Tallies `exams` by (year, assessment, signature); `split` picks the
/// signatures from the exam's subgroups (-1 for a disabled dimension).
fn tally(
    dep: &Deployment,
    shape: &Shape,
    exams: impl Iterator<Item = usize>,
    split: &dyn Fn(&[i8; 10]) -> Vec<Vec<i8>>,
) -> BTreeMap<Key, Tally> {
    let mut out: BTreeMap<Key, Tally> = BTreeMap::new();
    for e in exams {
        let x = &dep.data.exams[e];
        let v = subgroups(x);
        let v: [i8; 10] = std::array::from_fn(|d| if shape.disabled[d] { -1 } else { v[d] as i8 });
        for sig in split(&v) {
            out.entry((x.school_year, x.assessment, sig))
                .or_insert_with(|| shape.empty())
                .add(shape, x);
        }
    }
    out
}

/// Every dimension set, as fine cells do.
fn fine(v: &[i8; 10]) -> Vec<Vec<i8>> {
    vec![v.to_vec()]
}

/// The overall cell and one cell per single dimension.
fn marginal(v: &[i8; 10]) -> Vec<Vec<i8>> {
    let mut out = vec![vec![-1i8; 10]];
    for d in (0..10).filter(|&d| v[d] >= 0) {
        let mut sig = vec![-1i8; 10];
        sig[d] = v[d];
        out.push(sig);
    }
    out
}

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
    let in_family =
        |e: &usize| data.assessments[data.exams[*e].assessment as usize].family == family;
    let own: Vec<usize> = b.exams.iter().copied().filter(in_family).collect();
    let mut institutions: Vec<Institution> = Vec::new();
    let mut tallies: Vec<BTreeMap<Key, Tally>> = Vec::new();
    let mut by_school: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &e in &own {
        by_school
            .entry(data.exams[e].school as usize)
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
    for &s in &schools_first {
        institutions.push(Institution {
            name: inst.schools[s].name.clone(),
            kind: "school",
            fine: admin,
            sums: Vec::new(),
            own: true,
        });
        let split: &dyn Fn(&[i8; 10]) -> Vec<Vec<i8>> = if admin { &fine } else { &marginal };
        tallies.push(tally(dep, &shape, by_school[&s].iter().copied(), split));
    }
    // The viewer's whole scope, when it is more than one school.
    if let Some((name, kind)) = &top {
        if admin {
            institutions.push(Institution {
                name: name.clone(),
                kind,
                fine: true,
                sums: (0..schools_first.len()).collect(),
                own: true,
            });
            tallies.push(BTreeMap::new());
        } else {
            institutions.push(Institution {
                name: name.clone(),
                kind,
                fine: false,
                sums: Vec::new(),
                own: true,
            });
            tallies.push(tally(dep, &shape, own.iter().copied(), &marginal));
        }
    }
    // Comparison rows: the LEA of a school scope, and the state where the
    // data covers more than one LEA. The viewer's own part of each (`owns`)
    // tells how many results lie beyond it, which the viewer could otherwise
    // recover by subtraction.
    let mut owns: Vec<(usize, BTreeMap<Key, Tally>)> = Vec::new();
    let leas: BTreeSet<usize> = b.schools.iter().map(|&s| inst.schools[s].lea).collect();
    if matches!(b.kind, Kind::School) || (b.kind == Kind::Aggregate && b.schools.len() == 1) {
        for &l in &leas {
            institutions.push(Institution {
                name: inst.leas[l].name.clone(),
                kind: "lea",
                fine: false,
                sums: Vec::new(),
                own: false,
            });
            let mine = own
                .iter()
                .copied()
                .filter(|&e| inst.schools[data.exams[e].school as usize].lea == l);
            owns.push((tallies.len(), tally(dep, &shape, mine, &marginal)));
            tallies.push(comparisons.lea(dep, family, l).clone());
        }
    }
    if comparisons.several_leas && !matches!(top, Some((_, "state"))) {
        institutions.push(Institution {
            name: dep.settings.state.clone(),
            kind: "state",
            fine: false,
            sums: Vec::new(),
            own: false,
        });
        owns.push((
            tallies.len(),
            tally(dep, &shape, own.iter().copied(), &marginal),
        ));
        tallies.push(comparisons.state(dep, family).clone());
    }
    let mut assessments: Vec<u32> = own.iter().map(|&e| data.exams[e].assessment).collect();
    assessments.sort_unstable_by_key(|&a| {
        let x = &data.assessments[a as usize];
        (x.grade, x.name.clone())
    });
    assessments.dedup();
    let local: FxHashMap<u32, usize> = assessments
        .iter()
        .enumerate()
        .map(|(i, &a)| (a, i))
        .collect();
    let mut years: Vec<u16> = own.iter().map(|&e| data.exams[e].school_year).collect();
    years.sort_unstable();
    years.dedup();
    let mut signatures: Vec<Vec<i8>> = Vec::new();
    let mut sig_index: FxHashMap<Vec<i8>, usize> = FxHashMap::default();
    let mut cells = Vec::new();
    // Unscored opportunities (an invalidated test, say) count for nothing.
    for t in &mut tallies {
        t.retain(|_, t| t.n > 0);
    }
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
    let hidden = if threshold == 0 {
        vec![BTreeSet::new(); tallies.len()]
    } else {
        let rows: Vec<Row> = tallies
            .iter()
            .enumerate()
            .map(|(i, t)| Row {
                cells: t,
                fine: institutions[i].fine,
                mine: owns.iter().find(|(r, _)| *r == i).map(|(_, t)| t),
            })
            .collect();
        suppressed(&rows, &rollups, threshold)
    };
    for (i, t) in tallies.into_iter().enumerate() {
        for (key, tally) in t {
            let look = if hidden[i].contains(&key) {
                Look::Hidden
            } else if institutions[i].fine {
                Look::Sums
            } else {
                Look::Shown
            };
            let (year, a, sig) = key;
            let Some(&a) = local.get(&a) else { continue };
            let s = *sig_index.entry(sig).or_insert_with_key(|sig| {
                signatures.push(sig.clone());
                signatures.len() - 1
            });
            cells.push(cell(i, year, a, s, &tally, look));
        }
    }
    Cube {
        family: fam.name.clone(),
        kind: format!("{:?}", fam.kind),
        subject: fam.subject.clone(),
        levels: fam.levels.iter().map(|l| l.name.clone()).collect(),
        cutoff: fam.standard_cutoff,
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

/// One institution's cells as suppression sees them.
struct Row<'a> {
    cells: &'a BTreeMap<Key, Tally>,
    /// Fine rows (an administrator's own schools) are shown whole.
    fine: bool,
    /// For a comparison row: the viewer's own part of it, which the viewer
    /// can subtract, so only the results beyond it count.
    mine: Option<&'a BTreeMap<Key, Tally>>,
}

/// Rows that add up: `total`'s cell of each key is the sum of `parts`'
/// cells, plus, when the parts are not `complete`, a remainder the viewer
/// never sees (the state row is the viewer's LEA plus every other LEA).
struct Rollup {
    total: usize,
    parts: Vec<usize>,
    complete: bool,
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
fn suppressed(rows: &[Row], rollups: &[Rollup], threshold: usize) -> Vec<BTreeSet<Key>> {
    // Every suppressible cell, with the results it tells the viewer about.
    let mut ids: Vec<(usize, &Key)> = Vec::new();
    let mut n: Vec<usize> = Vec::new();
    let mut index: FxHashMap<(usize, &Key), usize> = FxHashMap::default();
    for (r, row) in rows.iter().enumerate().filter(|(_, row)| !row.fine) {
        for (k, t) in row.cells {
            let own = row.mine.and_then(|m| m.get(k)).map_or(0, |o| o.n);
            index.insert((r, k), ids.len());
            ids.push((r, k));
            n.push(t.n.saturating_sub(own) as usize);
        }
    }
    let mut hidden: Vec<bool> = n.iter().map(|&n| n > 0 && n <= threshold).collect();
    // Sums: (total, parts).
    let mut sums: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
    let mut dims: BTreeMap<(usize, u16, u32, usize), Vec<usize>> = BTreeMap::new();
    for (c, &(r, k)) in ids.iter().enumerate() {
        if let Some(d) = k.2.iter().position(|&v| v >= 0) {
            dims.entry((r, k.0, k.1, d)).or_default().push(c);
        }
    }
    for ((r, year, a, _), parts) in dims {
        let total = index.get(&(r, &(year, a, vec![-1i8; 10]))).copied();
        sums.push((total, parts));
    }
    // Unseen remainders: always hidden, never counted as a recovered group.
    let seen = ids.len();
    for rollup in rollups {
        for k in rows[rollup.total].cells.keys() {
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
            let hidden_parts: Vec<usize> = parts.iter().copied().filter(|&p| hidden[p]).collect();
            let total_hidden = total.is_some_and(|t| hidden[t]);
            let count = hidden_parts.len() + total_hidden as usize;
            let hidden_n: usize = hidden_parts.iter().map(|&p| n[p]).sum();
            let lone_remainder =
                count == 1 && !total_hidden && unseen(hidden_parts[0]) && hidden_n > threshold;
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
    let mut out = vec![BTreeSet::new(); rows.len()];
    for (c, &(r, k)) in ids.iter().enumerate() {
        if hidden[c] {
            out[r].insert(k.clone());
        }
    }
    out
}

/// One cell as the page stores it. A fine cell holds sums, which the page
/// adds up; any other cell is shown as it is, so it holds the mean and SEM
/// only as precisely as the page prints them (see [`shown`]).
fn cell(i: usize, year: u16, a: usize, sig: usize, t: &Tally, look: Look) -> Vec<f64> {
    let mut out = vec![i as f64, year as f64, a as f64, sig as f64];
    if look == Look::Hidden {
        out.push(-1.0);
        return out;
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
    out.extend(t.levels.iter().map(|&c| c as f64));
    out.extend(t.claims.iter().map(|&c| c as f64));
    let width = 4 + t.levels.len();
    for slot in t.alts.chunks(width) {
        out.extend([slot[0], slot[1]]);
        out.extend(moments(slot[1], slot[2], slot[3]));
        out.extend(&slot[4..]);
    }
    out
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
fn scope_of(dep: &Deployment, b: &Bundle) -> Option<(String, &'static str)> {
    let inst = &dep.data.institutions;
    match b.kind {
        Kind::District => Some((crate::site::bundle_label(dep, b), "lea")),
        Kind::State => Some((dep.settings.state.clone(), "state")),
        Kind::Aggregate if b.schools.len() == inst.schools.len() && inst.leas.len() > 1 => {
            Some((dep.settings.state.clone(), "state"))
        }
        Kind::Aggregate if b.schools.len() > 1 => Some((crate::site::bundle_label(dep, b), "lea")),
        Kind::Aggregate => Some((crate::site::bundle_label(dep, b), "school")),
        _ => None,
    }
}

/// The cohort of a span of school years: the students tested at the
/// institution in every one of them (`tested[k]`: students tested in year k).
pub fn cohort(tested: &[BTreeSet<u32>]) -> BTreeSet<u32> {
    let Some((first, rest)) = tested.split_first() else {
        return BTreeSet::new();
    };
    first
        .iter()
        .copied()
        .filter(|s| rest.iter().all(|y| y.contains(s)))
        .collect()
}

/// One row of a cohort's longitudinal table.
#[derive(Debug, Serialize)]
pub struct LongRow {
    pub year: String,
    pub grade: String,
    pub all_n: String,
    pub all_mean: String,
    pub all_met: String,
    pub cohort_n: String,
    pub cohort_mean: String,
    pub cohort_met: String,
}

/// A cohort followed over the school years: students starting in one grade.
#[derive(Debug, Serialize)]
pub struct Trajectory {
    pub title: String,
    pub chart: String,
    pub rows: Vec<LongRow>,
}

/// The longitudinal report of `exams` (one family, one scope): for each
/// grade tested in the first school year, that grade's students followed a
/// grade a year. Each year shows all students tested in the grade and the
/// cohort tested in the scope every year. Groups of `threshold` or fewer are
/// suppressed when it is given.
pub fn longitudinal(
    dep: &Deployment,
    family: &Family,
    exams: &[usize],
    threshold: Option<usize>,
) -> Vec<Trajectory> {
    let data = &dep.data;
    // (year, test grade) → student → latest exam.
    let mut by: BTreeMap<(u16, u8), BTreeMap<u32, usize>> = BTreeMap::new();
    for &e in exams {
        let x = &data.exams[e];
        let Some(Grade::N(g)) = data.assessments[x.assessment as usize].grade else {
            continue;
        };
        let slot = by
            .entry((x.school_year, g))
            .or_default()
            .entry(x.student)
            .or_insert(e);
        if data.exams[*slot].submitted < x.submitted {
            *slot = e;
        }
    }
    let years: BTreeSet<u16> = by.keys().map(|k| k.0).collect();
    let years: Vec<u16> = years.into_iter().collect();
    if years.len() < 2 {
        return Vec::new();
    }
    let first = years[0];
    let starts: Vec<u8> = by.keys().filter(|k| k.0 == first).map(|k| k.1).collect();
    starts
        .into_iter()
        .filter_map(|g0| {
            let span: Vec<(u16, u8)> = years
                .iter()
                .enumerate()
                .map(|(k, &y)| (y, g0 + k as u8))
                .take_while(|key| by.contains_key(key))
                .collect();
            (span.len() >= 2).then(|| trajectory(dep, family, &by, &span, threshold))
        })
        .collect()
}

fn trajectory(
    dep: &Deployment,
    family: &Family,
    by: &BTreeMap<(u16, u8), BTreeMap<u32, usize>>,
    span: &[(u16, u8)],
    threshold: Option<usize>,
) -> Trajectory {
    use crate::render::views::school_year_label;
    let tested: Vec<BTreeSet<u32>> = span
        .iter()
        .map(|k| by[k].keys().copied().collect())
        .collect();
    let members = cohort(&tested);
    let stat = |exams: Vec<usize>| {
        let s = crate::stats::summarize(
            exams.iter().map(|&e| {
                let o = &dep.data.exams[e].overall;
                (o.scale, o.level)
            }),
            family.levels.len(),
        );
        let met: usize = s
            .levels
            .iter()
            .filter(|l| l.level >= family.standard_cutoff)
            .map(|l| l.count)
            .sum();
        let with_level: usize = s.levels.iter().map(|l| l.count).sum();
        (s.n, s.mean, crate::stats::items::percent(met, with_level))
    };
    let mut all_means = Vec::new();
    let mut cohort_means = Vec::new();
    let rows = span
        .iter()
        .map(|k| {
            let students = &by[k];
            let (an, am, ap) = stat(students.values().copied().collect());
            let (cn, cm, cp) = stat(
                students
                    .iter()
                    .filter(|(s, _)| members.contains(s))
                    .map(|(_, &e)| e)
                    .collect(),
            );
            let hide = |n: usize| crate::stats::suppressed(n, threshold);
            // All students minus the cohort is a group too: when it is small,
            // the cohort row is hidden so that it cannot be subtracted.
            let hide_all = hide(an);
            let hide_cohort = hide(cn) || (!hide_all && an > cn && hide(an - cn));
            all_means.push(am.filter(|_| !hide_all));
            cohort_means.push(cm.filter(|_| !hide_cohort));
            let show = |hidden: bool, n: usize, m: Option<f64>, p: f64| {
                if hidden {
                    ("*".to_string(), "*".to_string(), "*".to_string())
                } else {
                    (
                        n.to_string(),
                        m.map(crate::render::views::whole)
                            .unwrap_or_else(|| "—".into()),
                        format!("{p:.0}%"),
                    )
                }
            };
            let (all_n, all_mean, all_met) = show(hide_all, an, am, ap);
            let (cohort_n, cohort_mean, cohort_met) = show(hide_cohort, cn, cm, cp);
            LongRow {
                year: school_year_label(k.0),
                grade: k.1.to_string(),
                all_n,
                all_mean,
                all_met,
                cohort_n,
                cohort_mean,
                cohort_met,
            }
        })
        .collect();
    let title = format!(
        "Grade {} in {} to grade {} in {}",
        span[0].1,
        school_year_label(span[0].0),
        span[span.len() - 1].1,
        school_year_label(span[span.len() - 1].0)
    );
    let labels: Vec<String> = span
        .iter()
        .map(|k| format!("Gr {} · {}", k.1, school_year_label(k.0)))
        .collect();
    let chart = crate::render::svg::lines(
        &labels,
        &[
            ("All students".into(), all_means),
            ("Cohort".into(), cohort_means),
        ],
        &format!("Average scale score, {title}: all students (solid) and the cohort (dashed)"),
    );
    Trajectory { title, chart, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cohort_is_those_tested_every_year() {
        let years: Vec<BTreeSet<u32>> =
            vec![[1, 2, 3, 4].into(), [2, 3, 4, 5].into(), [3, 4, 6].into()];
        assert_eq!(cohort(&years), [3, 4].into());
        assert_eq!(cohort(&years[..1]), [1, 2, 3, 4].into());
        assert_eq!(cohort(&[]), BTreeSet::new());
        assert_eq!(cohort(&[[1].into(), BTreeSet::new()]), BTreeSet::new());
    }

    fn cells(list: &[(i8, i8, u32)]) -> BTreeMap<Key, Tally> {
        list.iter()
            .map(|&(gender, grade, n)| {
                let mut sig = vec![-1i8; 10];
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

    fn hidden(list: &[(i8, i8, u32)], mine: &[(i8, i8, u32)]) -> Vec<(i8, i8)> {
        let mine = (!mine.is_empty()).then(|| cells(mine));
        let cells = cells(list);
        let row = Row {
            cells: &cells,
            fine: false,
            mine: mine.as_ref(),
        };
        suppressed(&[row], &[], 10)[0]
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
        let hidden = suppressed(&[row(&a), row(&b), row(&lea)], &[rollup], 10);
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
        lea: &'a BTreeMap<Key, Tally>,
        state: &'a BTreeMap<Key, Tally>,
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
        let rows = linked(&lea, &state, &school);
        let rollup = |complete| Rollup {
            total: 1,
            parts: vec![0],
            complete,
        };
        let gender = |h: &BTreeSet<Key>| -> Vec<i8> { h.iter().map(|k| k.2[0]).collect() };
        let hidden = suppressed(&rows, &[rollup(false)], 10);
        assert_eq!(gender(&hidden[0]), vec![0, 1], "the LEA's female cell goes");
        assert!(
            hidden[1].is_empty(),
            "the state row hides 58 unseen results"
        );
        // Unlinked, nothing would have been hidden.
        assert!(suppressed(&rows, &[], 10).iter().all(|h| h.is_empty()));
        // Where the other LEAs have none, a hidden LEA cell is the state's:
        // the LEA's 5 male results hide its 30 female ones, which the state
        // row would show as they are (and so the 5 as 35 − 30).
        let school = cells(&[(-1, -1, 3), (0, -1, 3)]);
        let lea = cells(&[(-1, -1, 35), (0, -1, 30), (1, -1, 5)]);
        let state = cells(&[(-1, -1, 85), (0, -1, 30), (1, -1, 55)]);
        let rows = linked(&lea, &state, &school);
        let hidden = suppressed(&rows, &[rollup(false)], 10);
        assert_eq!(gender(&hidden[0]), vec![0, 1]);
        assert_eq!(gender(&hidden[1]), vec![0, 1]);
        assert!(suppressed(&rows, &[], 10)[1].is_empty());
    }

    #[test]
    fn shown_cells_carry_only_the_printed_precision() {
        let t = Tally {
            n: 3,
            scored: 3,
            sum: 2401.0 + 2502.0 + 2604.0,
            sum_sq: 2401.0f64.powi(2) + 2502.0f64.powi(2) + 2604.0f64.powi(2),
            levels: vec![1, 1, 1, 0],
            claims: Vec::new(),
            alts: vec![2.0, 1.0, 2455.0, 2455.0f64.powi(2), 0.0, 1.0, 0.0, 0.0],
        };
        // Mean 2502.33…, SD 101.5…, SEM 58.6…; the lone alt score has no SEM.
        assert_eq!(
            cell(0, 2025, 0, 0, &t, Look::Shown),
            [
                0., 2025., 0., 0., 3., 3., 2502., 58.6, 1., 1., 1., 0., 2., 1., 2455., -1., 0., 1.,
                0., 0.
            ]
        );
        let sums = cell(0, 2025, 0, 0, &t, Look::Sums);
        assert_eq!(sums[6..8], [t.sum, t.sum_sq]);
        assert_eq!(sums[14..16], [2455.0, 2455.0f64.powi(2)]);
        assert_eq!(
            cell(0, 2025, 0, 0, &t, Look::Hidden),
            [0., 2025., 0., 0., -1.]
        );
        assert_eq!(shown(0.0, 0.0, 0.0), [0.0, -1.0]);
    }

    #[test]
    fn marginal_signatures() {
        let v = [0, 4, 2, 0, 1, 1, 1, 0, 1, 5];
        let m = marginal(&v);
        assert_eq!(m.len(), 11);
        assert!(m[0].iter().all(|&x| x == -1));
        assert_eq!(m[2][1], 4);
        assert_eq!(m[2].iter().filter(|&&x| x >= 0).count(), 1);
        assert_eq!(fine(&v)[0], v.to_vec());
        // A disabled dimension (-1) gets no cell of its own.
        let v = [0, 4, 2, 0, 1, 1, 1, -1, 1, 5];
        assert_eq!(marginal(&v).len(), 10);
        assert!(marginal(&v).iter().all(|sig| sig[7] == -1));
    }
}
