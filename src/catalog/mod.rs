//! The assessment catalog: families, scale ranges, cut scores, level names,
//! claims and ISR text. Built in from `config/assessments.yaml`; a deployment's
//! own `assessments.yaml` overrides families by id.

pub mod accessibility;
pub mod targets;

use crate::diag::{Diagnostics, Location};
use crate::model::Grade;
use crate::yaml;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// The built-in catalog's text.
pub const BUILTIN: &str = include_str!("../../config/assessments.yaml");

/// How a family's level is derived from its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelRule {
    /// The band between the scale's cut scores.
    Cuts,
    /// round(score ± 1.5·SE) against the Level 3 cut: Below / Near / Above Standard.
    StandardBand,
    /// Trust the level the data supplies.
    Supplied,
}

/// Which administration a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Summative,
    Ica,
    Iab,
    Fiab,
    Interim,
}

/// A named level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub level: u8,
    pub name: String,
    pub short_name: String,
    pub description: String,
}

/// A scale range and its cut scores, for some grades over some school years.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub grades: Vec<Grade>,
    pub from_year: Option<u16>,
    /// Inclusive; `None` means still in force.
    pub to_year: Option<u16>,
    pub min: f32,
    pub max: f32,
    /// The lowest score of each level above Level 1.
    pub cuts: Vec<f32>,
}

/// The scale among `scales` in force for `grade` in `year`.
pub fn scale_in_force(scales: &[Scale], grade: Grade, year: u16) -> Option<&Scale> {
    scales.iter().find(|s| s.covers(grade, year))
}

impl Scale {
    fn covers(&self, grade: Grade, year: u16) -> bool {
        self.grades.contains(&grade)
            && self.from_year.is_none_or(|y| year >= y)
            && self.to_year.is_none_or(|y| year <= y)
    }

    /// The level (1-based) whose band holds `score`.
    pub fn level_of(&self, score: f32) -> u8 {
        1 + self.cuts.iter().filter(|&&c| score >= c).count() as u8
    }

    /// Below (1), Near (2) or Above (3) the standard: round(score ± 1.5·SE) against
    /// the lowest score of level `cutoff`.
    pub fn standard_band(&self, score: f32, se: f32, cutoff: u8) -> Option<u8> {
        let cut = *self.cuts.get(cutoff.checked_sub(2)? as usize)?;
        let (lo, hi) = ((score - 1.5 * se).round(), (score + 1.5 * se).round());
        Some(if hi < cut {
            1
        } else if lo >= cut {
            3
        } else {
            2
        })
    }
}

/// One claim, domain or alt score.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The CERS `Claim<n>` column.
    pub column: u8,
    /// The TRT measureOf code.
    pub code: String,
    pub name: String,
    pub description: String,
}

/// A family's claims or domains and how their levels are found.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// What the page calls them: Claim, Domain.
    pub label: String,
    pub level_rule: LevelRule,
    pub levels: Vec<Level>,
    pub items: Vec<Claim>,
}

/// A composite score reported beside the overall one (ELPAC oral and written).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AltScore {
    /// The CERS `Alt<n>` column.
    pub column: u8,
    pub code: String,
    pub name: String,
    pub description: String,
    pub level_rule: LevelRule,
    #[serde(default)]
    pub scales: Vec<Scale>,
}

/// The ISR text for one grade.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeMessages {
    pub overall: String,
    #[serde(default)]
    pub claims_intro: Option<String>,
    #[serde(default)]
    pub levels: BTreeMap<u8, String>,
    #[serde(default)]
    pub claims: BTreeMap<String, BTreeMap<u8, String>>,
}

/// An assessment family: Smarter Balanced summative ELA, CAST, Summative ELPAC …
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub id: String,
    pub name: String,
    pub short_name: String,
    /// The CERS Subject code.
    pub subject: String,
    pub kind: Kind,
    pub level_rule: LevelRule,
    /// The lowest level that meets the standard.
    pub standard_cutoff: u8,
    /// True where the Dashboard measures Distance from Standard.
    #[serde(default)]
    pub distance_from_standard: bool,
    pub levels: Vec<Level>,
    #[serde(default)]
    pub scales: Vec<Scale>,
    /// Why no scale is given, when none is.
    #[serde(default)]
    pub range_unknown: Option<String>,
    #[serde(default)]
    pub claims: Option<Claims>,
    #[serde(default)]
    pub alt_scores: Vec<AltScore>,
    /// ISR text by grade code.
    #[serde(default)]
    pub messages: BTreeMap<String, GradeMessages>,
}

impl Family {
    /// The subject as a results page's chooser offers it: an alternate
    /// assessment sits under the subject it assesses.
    pub fn subject_label(&self) -> &'static str {
        match self.subject.to_ascii_uppercase().as_str() {
            "ELA" | "CAAELA" => "ELA",
            "MATH" | "CAAMATH" => "Mathematics",
            "CAST" | "CAASCI" => "Science",
            "CSA" => "Spanish",
            "ELPAC" | "ALTELPAC" => "English language proficiency",
            _ => "Other",
        }
    }

    /// The type of assessment as a results page's chooser offers it.
    pub fn type_label(&self) -> &'static str {
        let subject = self.subject.to_ascii_uppercase();
        if subject.starts_with("CAA") || subject.starts_with("ALT") {
            return "Alternate";
        }
        match self.kind {
            Kind::Summative => "Summative",
            Kind::Ica => "Interim Comprehensive",
            Kind::Iab => "Interim Assessment Block",
            Kind::Fiab => "Focused Interim Assessment Block",
            Kind::Interim => "Interim",
        }
    }

    /// The scale in force for `grade` in `year`.
    pub fn scale(&self, grade: Grade, year: u16) -> Option<&Scale> {
        scale_in_force(&self.scales, grade, year)
    }

    /// The level the catalog's rule gives `score ± se`, when the rule and the scale allow.
    pub fn expected_level(
        &self,
        grade: Grade,
        year: u16,
        score: f32,
        se: Option<f32>,
    ) -> Option<u8> {
        let scale = self.scale(grade, year)?;
        match self.level_rule {
            LevelRule::Cuts => Some(scale.level_of(score)),
            LevelRule::StandardBand => scale.standard_band(score, se?, self.standard_cutoff),
            LevelRule::Supplied => None,
        }
    }

    /// Distance from Standard: `score` minus the lowest score that meets
    /// the standard for `grade` in `year`, where the Dashboard measures it
    /// (grades 3–8 and 11 of a family with `distance_from_standard`).
    pub fn distance_from_standard(&self, grade: Grade, year: u16, score: f32) -> Option<f32> {
        let tested = matches!(grade, Grade::N(3..=8) | Grade::N(11));
        if !self.distance_from_standard || !tested {
            return None;
        }
        let scale = self.scale(grade, year)?;
        let cut = scale
            .cuts
            .get(self.standard_cutoff.checked_sub(2)? as usize)?;
        Some(score - cut)
    }

    /// The alt score reported in CERS column `column`.
    pub fn alt_score(&self, column: u8) -> Option<&AltScore> {
        self.alt_scores.iter().find(|a| a.column == column)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    families: Vec<Family>,
}

/// Every assessment family.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub families: Vec<Family>,
}

impl Catalog {
    /// The built-in catalog, validated.
    pub fn builtin() -> Result<Catalog, Diagnostics> {
        Self::load(None)
    }

    /// The built-in catalog with `override_file`'s families replacing or adding to it, validated.
    pub fn load(override_file: Option<&Path>) -> Result<Catalog, Diagnostics> {
        let builtin_path = PathBuf::from("config/assessments.yaml");
        let mut diags = Diagnostics::default();
        let mut catalog = match parse(&builtin_path, BUILTIN, &mut diags) {
            Some(c) => c,
            None => return Err(diags),
        };
        if let Some(path) = override_file {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    if let Some(extra) = parse(path, &text, &mut diags) {
                        catalog.merge(extra);
                    }
                }
                Err(e) => diags.error(Location::file(path), format!("cannot read: {e}")),
            }
        }
        if diags.is_ok() {
            Ok(catalog)
        } else {
            Err(diags)
        }
    }

    fn merge(&mut self, other: Catalog) {
        for family in other.families {
            match self.families.iter_mut().find(|f| f.id == family.id) {
                Some(slot) => *slot = family,
                None => self.families.push(family),
            }
        }
    }

    /// The family for a CERS Subject and administration kind.
    pub fn family_for(&self, subject: &str, kind: Kind) -> Option<usize> {
        self.families
            .iter()
            .position(|f| f.subject.eq_ignore_ascii_case(subject) && f.kind == kind)
    }

    /// The family with this id.
    pub fn family(&self, id: &str) -> Option<usize> {
        self.families.iter().position(|f| f.id == id)
    }
}

fn parse(path: &Path, text: &str, diags: &mut Diagnostics) -> Option<Catalog> {
    match yaml::parse::<CatalogFile>(path, text) {
        Ok(file) => {
            let catalog = Catalog {
                families: file.families,
            };
            validate(&catalog, path, text, diags);
            Some(catalog)
        }
        Err(e) => {
            diags.error(e.location, e.message);
            None
        }
    }
}

/// Checks that levels are numbered 1…n, cuts increase inside their range, scales
/// do not overlap, and each family has what its level rule needs.
fn validate(catalog: &Catalog, path: &Path, text: &str, diags: &mut Diagnostics) {
    let mut ids = HashSet::new();
    let mut kinds = HashSet::new();
    let lines = yaml::Lines::new(text);
    for family in &catalog.families {
        let line = lines.find(&format!("id: {}", family.id), 1);
        let at = Location {
            file: path.to_path_buf(),
            line,
            column: None,
        };
        let mut err = |msg: String| diags.error(at.clone(), format!("family {}: {msg}", family.id));
        if !ids.insert(family.id.clone()) {
            err("the id is used twice".into());
        }
        if !kinds.insert((family.subject.to_ascii_uppercase(), family.kind)) {
            err(format!(
                "another family already has subject {} and kind {:?}",
                family.subject, family.kind
            ));
        }
        check_levels(&family.levels, &mut err);
        if family.standard_cutoff < 1
            || family.standard_cutoff as usize > family.levels.len().max(3)
        {
            err(format!(
                "standard_cutoff {} is not one of its levels",
                family.standard_cutoff
            ));
        }
        if family.scales.is_empty() && family.range_unknown.is_none() {
            err("has no scales; give them, or say why in range_unknown".into());
        }
        if family.level_rule != LevelRule::Supplied && family.scales.is_empty() {
            err("its level rule needs scales with cut scores".into());
        }
        let cuts_needed = match family.level_rule {
            LevelRule::Cuts => Some(family.levels.len() - 1),
            _ => None,
        };
        check_scales(&family.scales, cuts_needed, &mut err);
        if family.level_rule == LevelRule::StandardBand {
            for s in &family.scales {
                if s.cuts.len() + 1 < family.standard_cutoff as usize {
                    err(format!(
                        "a scale for grades {:?} has no Level {} cut for the standard band",
                        s.grades, family.standard_cutoff
                    ));
                }
            }
        }
        if let Some(claims) = &family.claims {
            check_levels(&claims.levels, &mut err);
            let mut cols = HashSet::new();
            for c in &claims.items {
                if !(1..=6).contains(&c.column) || !cols.insert(c.column) {
                    err(format!(
                        "claim {} has column {}; expected a distinct column 1-6",
                        c.code, c.column
                    ));
                }
            }
        }
        for alt in &family.alt_scores {
            if !(1..=6).contains(&alt.column) {
                err(format!(
                    "alt score {} has column {}; expected 1-6",
                    alt.code, alt.column
                ));
            }
            let needed = (alt.level_rule == LevelRule::Cuts).then(|| family.levels.len() - 1);
            check_scales(&alt.scales, needed, &mut err);
        }
    }
}

fn check_levels(levels: &[Level], err: &mut impl FnMut(String)) {
    if levels.is_empty() {
        err("has no levels".into());
    }
    for (i, l) in levels.iter().enumerate() {
        if l.level as usize != i + 1 {
            err(format!(
                "level `{}` is numbered {}; expected {}",
                l.name,
                l.level,
                i + 1
            ));
        }
    }
}

fn check_scales(scales: &[Scale], cuts_needed: Option<usize>, err: &mut impl FnMut(String)) {
    for (i, s) in scales.iter().enumerate() {
        let what = format!(
            "scale for grades {:?}",
            s.grades.iter().map(|g| g.to_string()).collect::<Vec<_>>()
        );
        if s.min >= s.max {
            err(format!("{what}: min {} is not below max {}", s.min, s.max));
        }
        if s.cuts.windows(2).any(|w| w[0] >= w[1]) {
            err(format!("{what}: cuts {:?} do not increase", s.cuts));
        }
        if s.cuts.first().is_some_and(|&c| c <= s.min) || s.cuts.last().is_some_and(|&c| c > s.max)
        {
            err(format!(
                "{what}: cuts {:?} are not inside {}–{}",
                s.cuts, s.min, s.max
            ));
        }
        if let Some(n) = cuts_needed {
            if s.cuts.len() != n {
                err(format!(
                    "{what}: has {} cuts; expected {n}, one per level above Level 1",
                    s.cuts.len()
                ));
            }
        }
        if let (Some(a), Some(b)) = (s.from_year, s.to_year) {
            if a > b {
                err(format!("{what}: from_year {a} is after to_year {b}"));
            }
        }
        for other in &scales[i + 1..] {
            let same_grade = s.grades.iter().any(|g| other.grades.contains(g));
            let overlap = s.from_year.unwrap_or(0) <= other.to_year.unwrap_or(u16::MAX)
                && other.from_year.unwrap_or(0) <= s.to_year.unwrap_or(u16::MAX);
            if same_grade && overlap {
                err(format!(
                    "{what}: overlaps another scale for the same grade and years"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::builtin()
            .unwrap_or_else(|d| panic!("{:?}", d.iter().map(|d| d.to_string()).collect::<Vec<_>>()))
    }

    #[test]
    fn builtin_has_every_family() {
        let c = catalog();
        for subject in crate::model::SUBJECTS {
            assert!(
                c.families.iter().any(|f| f.subject == *subject),
                "{subject}"
            );
        }
        for (subject, kind) in [
            ("ELA", Kind::Summative),
            ("ELA", Kind::Ica),
            ("ELA", Kind::Iab),
            ("ELA", Kind::Fiab),
            ("Math", Kind::Fiab),
            ("CAST", Kind::Interim),
            ("ELPAC", Kind::Interim),
        ] {
            assert!(c.family_for(subject, kind).is_some(), "{subject} {kind:?}");
        }
    }

    #[test]
    fn distance_from_standard_is_from_the_lowest_level_3_score() {
        let c = catalog();
        let fam = |id: &str| &c.families[c.family(id).unwrap()];
        let (ela, math) = (fam("sb_ela_summative"), fam("sb_math_summative"));
        // Grade 3 ELA's Level 3 starts at 2432; grade 11 math's at 2628.
        assert_eq!(
            ela.distance_from_standard(Grade::N(3), 2023, 2432.0),
            Some(0.0)
        );
        assert_eq!(
            ela.distance_from_standard(Grade::N(3), 2023, 2431.0),
            Some(-1.0)
        );
        assert_eq!(
            math.distance_from_standard(Grade::N(11), 2023, 2600.0),
            Some(-28.0)
        );
        // CAA ELA grade 3: Level 3 (Understanding) starts at 360.
        let caa = fam("caa_ela");
        assert_eq!(
            caa.distance_from_standard(Grade::N(3), 2023, 372.0),
            Some(12.0)
        );
        // Not in grades 9, 10 or 12, nor for interim or other tests.
        for g in [9, 10, 12] {
            assert_eq!(ela.distance_from_standard(Grade::N(g), 2023, 2600.0), None);
        }
        for id in ["sb_ela_iab", "sb_ela_ica", "cast", "elpac", "caa_science"] {
            assert_eq!(
                fam(id).distance_from_standard(Grade::N(5), 2023, 2500.0),
                None,
                "{id}"
            );
        }
    }

    #[test]
    fn sb_ranges_change_in_2021() {
        let c = catalog();
        let ela = &c.families[c.family("sb_ela_summative").unwrap()];
        let old = ela.scale(Grade::N(3), 2019).unwrap();
        let new = ela.scale(Grade::N(3), 2023).unwrap();
        assert_eq!((old.min, old.max), (2114.0, 2623.0));
        assert_eq!((new.min, new.max), (2115.0, 2650.0));
        assert_eq!(new.cuts, vec![2367.0, 2432.0, 2490.0]);
        assert_eq!(ela.expected_level(Grade::N(3), 2023, 2431.0, None), Some(2));
        assert_eq!(ela.expected_level(Grade::N(3), 2023, 2432.0, None), Some(3));
    }

    #[test]
    fn elpac_grade4_written_level3_cut_is_1525() {
        let c = catalog();
        let elpac = &c.families[c.family("elpac").unwrap()];
        let written = elpac.alt_score(2).unwrap();
        let s = written
            .scales
            .iter()
            .find(|s| s.grades.contains(&Grade::N(4)))
            .unwrap();
        assert_eq!(s.cuts[1], 1525.0);
    }

    #[test]
    fn unknown_ranges_are_marked_not_invented() {
        let c = catalog();
        for id in ["caa_science", "alt_elpac"] {
            let f = &c.families[c.family(id).unwrap()];
            assert!(
                f.scales.is_empty()
                    && f.range_unknown.is_some()
                    && f.level_rule == LevelRule::Supplied,
                "{id}"
            );
        }
    }

    #[test]
    fn standard_band_rule() {
        let c = catalog();
        let iab = &c.families[c.family("sb_math_iab").unwrap()];
        // Grade 3 math Level 3 cut is 2436.
        assert_eq!(
            iab.expected_level(Grade::N(3), 2020, 2378.0, Some(55.4149)),
            Some(2)
        );
        assert_eq!(
            iab.expected_level(Grade::N(3), 2020, 2300.0, Some(20.0)),
            Some(1)
        );
        // 2436 - 1.5*10 = 2421 < cut: near; 2451 - 15 = 2436: above (rounded, inclusive).
        assert_eq!(
            iab.expected_level(Grade::N(3), 2020, 2436.0, Some(10.0)),
            Some(2)
        );
        assert_eq!(
            iab.expected_level(Grade::N(3), 2020, 2451.0, Some(10.0)),
            Some(3)
        );
        // hi = round(2421.4 + 14.55) = round(2435.95) = 2436 reaches the cut: near.
        assert_eq!(
            iab.expected_level(Grade::N(3), 2020, 2421.4, Some(9.7)),
            Some(2)
        );
        assert_eq!(
            iab.expected_level(Grade::N(3), 2020, 2420.0, Some(9.7)),
            Some(1)
        );
        assert_eq!(iab.expected_level(Grade::N(3), 2020, 2400.0, None), None);
    }

    fn check(text: &str) -> Vec<String> {
        let mut d = Diagnostics::default();
        let _ = parse(Path::new("assessments.yaml"), text, &mut d);
        d.iter().map(|d| d.to_string()).collect()
    }

    const BASE: &str = "families:\n  - id: x\n    name: X\n    short_name: X\n    subject: ELA\n    kind: summative\n    level_rule: cuts\n    standard_cutoff: 2\n    levels:\n      - { level: 1, name: a, short_name: a, description: a }\n      - { level: 2, name: b, short_name: b, description: b }\n      - { level: 3, name: c, short_name: c, description: c }\n    scales:\n";

    #[test]
    fn validation_rejects_bad_cuts_and_ranges() {
        let ok = format!("{BASE}      - {{ grades: [3], min: 100, max: 200, cuts: [120, 150] }}\n");
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        let decreasing =
            format!("{BASE}      - {{ grades: [3], min: 100, max: 200, cuts: [150, 120] }}\n");
        assert!(
            check(&decreasing)[0].contains("do not increase"),
            "{:?}",
            check(&decreasing)
        );
        let outside =
            format!("{BASE}      - {{ grades: [3], min: 100, max: 200, cuts: [120, 250] }}\n");
        assert!(check(&outside)[0].contains("not inside"));
        let inverted =
            format!("{BASE}      - {{ grades: [3], min: 300, max: 200, cuts: [120, 150] }}\n");
        assert!(check(&inverted).iter().any(|m| m.contains("not below max")));
        let few = format!("{BASE}      - {{ grades: [3], min: 100, max: 200, cuts: [120] }}\n");
        assert!(check(&few)[0].contains("expected 2"));
        let overlap = format!("{BASE}      - {{ grades: [3], min: 100, max: 200, cuts: [120, 150] }}\n      - {{ grades: [3, 4], from_year: 2020, min: 100, max: 200, cuts: [120, 150] }}\n");
        assert!(check(&overlap)[0].contains("overlaps"));
        // Errors point at the family's line.
        assert!(check(&decreasing)[0].starts_with("assessments.yaml:2: error: family x"));
    }

    #[test]
    fn yaml_errors_have_line_and_column() {
        let msgs = check("families:\n  - id: x\n    bogus: 1\n");
        assert!(msgs[0].starts_with("assessments.yaml:3:"), "{msgs:?}");
    }
}
