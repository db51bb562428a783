//! Test results: every opportunity a fictitious student takes over the years.
//!
//! A student's latent ability in each subject, shifted by program effects and
//! growing year over year, is mapped onto each family's scale so that a
//! statewide-like population falls into the levels in the profile's mix.
//! Levels, claims and alt scores then follow the catalog's rules.

use super::district::{District, Pupil};
use super::draw::{self, Draws, Stream};
use super::profile::Profile;
use super::schedule::{day, plan, session_id, summative_name, BlockKind};
use super::scoring::{quantile_level, respond, scale_score};
use crate::catalog::{Catalog, Family, Kind, LevelRule, Scale};
use crate::items::{Item, ItemBank};
use crate::model::{Flag, Grade};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use fake::rand::rngs::ChaCha8Rng;

/// A scale score and its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    pub score: f32,
    pub se: f32,
}

/// A claim or domain result.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimResult {
    /// The TRT measureOf code.
    pub code: String,
    /// The CERS `Claim<n>` column.
    pub column: u8,
    pub measure: Option<Measure>,
    pub level: u8,
}

/// A target's residuals: student-relative and standard-met-relative, each with its SE.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetResult {
    pub code: String,
    pub student: (f32, f32),
    pub standard: (f32, f32),
}

/// One response to a practice item.
#[derive(Debug, Clone)]
pub struct ItemResult<'a> {
    pub item: &'a Item,
    pub position: usize,
    pub content_level: String,
    pub score: u8,
    pub response: String,
}

/// One test opportunity.
#[derive(Debug, Clone)]
pub struct Opportunity<'a> {
    pub key: u64,
    pub year: u16,
    pub family: usize,
    pub name: String,
    /// CERS AssessmentType and AssessmentSubType.
    pub kind: &'static str,
    pub sub_kind: &'static str,
    /// Enrolled grade (0 = kindergarten) and the grade the test is for.
    pub grade: u8,
    pub test_grade: u8,
    pub school: usize,
    pub submitted: NaiveDateTime,
    pub session: String,
    pub complete: bool,
    pub condition: &'static str,
    pub overall: Option<Measure>,
    pub level: Option<u8>,
    pub claims: Vec<ClaimResult>,
    /// ELPAC oral (1) and written (2): column, measure, level.
    pub alts: Vec<(u8, Measure, u8)>,
    pub elas: &'static str,
    pub accommodations: &'static str,
    pub targets: Vec<TargetResult>,
    /// Writing purpose and Organization, Evidence, Conventions.
    pub traits: Option<(&'a str, [u8; 3])>,
    pub items: Vec<ItemResult<'a>>,
    /// Written to TRT as well as the export.
    pub detailed: bool,
}

/// What generation reads.
pub struct Context<'a> {
    pub profile: &'a Profile,
    pub catalog: &'a Catalog,
    pub items: &'a ItemBank,
    pub district: &'a District,
    pub seed: u64,
}

/// Subjects by ability slot: ELA, Math, Science, English proficiency, Spanish.
const ELA: usize = 0;
const MATH: usize = 1;
const SCIENCE: usize = 2;
const ENGLISH: usize = 3;
const SPANISH: usize = 4;

const ACCOMMODATIONS: [&str; 3] = [
    "TDS_ASL0|TDS_BT0|TDS_PM0|TDS_PoD0|TDS_TTS0|NEA0",
    "TDS_ASL0|TDS_BT0|TDS_PM0|TDS_PoD_Stim|TDS_TTS_Stim&TDS_TTS_Item|NEDS_NoiseBuf",
    "TDS_ASL0|TDS_BT0|TDS_PM0|TDS_PoD0|TDS_TTS0|TDS_WL_Glossary|NEA0",
];

impl Context<'_> {
    /// Every opportunity of student `index`, oldest first.
    pub fn opportunities(&self, index: u32) -> Vec<Opportunity<'_>> {
        let pupil = &self.district.pupils[index as usize];
        let mut rng = draw::rng(self.seed, Stream::Results, index as u64);
        let mut out = Vec::new();
        let last_year = *self.profile.years.last().expect("profile has years");
        for &year in &self.profile.years {
            let Some(grade) = pupil.grade_in(year, last_year) else {
                continue;
            };
            let mut t = Taker {
                ctx: self,
                pupil,
                year,
                grade,
                elas: pupil.elas(year, last_year),
                rng: &mut rng,
                out: &mut out,
                next_key: index as u64 * 1000,
            };
            t.next_key += t.out.len() as u64;
            t.year_of_tests();
        }
        out.sort_by_key(|o| o.submitted);
        out
    }
}

/// One student's school year of tests.
struct Taker<'c, 'o> {
    ctx: &'c Context<'c>,
    pupil: &'c Pupil,
    year: u16,
    grade: u8,
    elas: &'static str,
    rng: &'o mut ChaCha8Rng,
    out: &'o mut Vec<Opportunity<'c>>,
    next_key: u64,
}

impl<'c> Taker<'c, '_> {
    fn year_of_tests(&mut self) {
        let (g, alt) = (self.grade, self.pupil.alternate);
        let tested = (3..=8).contains(&g) || g == 11;
        if tested {
            for (subject, sb, caa) in [
                (ELA, "sb_ela_summative", "caa_ela"),
                (MATH, "sb_math_summative", "caa_math"),
            ] {
                self.summative(if alt { caa } else { sb }, subject);
            }
        }
        if [5, 8, 11].contains(&g) {
            self.summative(if alt { "caa_science" } else { "cast" }, SCIENCE);
        }
        if self.pupil.csa && (3..=12).contains(&g) {
            self.summative("csa", SPANISH);
        }
        if self.elas == "EL" {
            self.summative(if alt { "alt_elpac" } else { "elpac" }, ENGLISH);
        }
        if !alt && (3..=11).contains(&g) {
            self.interims();
        }
    }

    /// Ability in `subject` this year, for one occasion.
    fn theta(&mut self, subject: usize) -> f64 {
        let p = self.ctx.profile;
        let e = &p.effects;
        let mut t = self.pupil.ability[subject] as f64
            + self.pupil.growth as f64 * (self.year - p.years[0]) as f64
            + e.occasion_sd * self.rng.normal();
        if subject == ELA || subject == MATH {
            t += match self.elas {
                "EL" => e.english_learner * if subject == ELA { 1.0 } else { 0.6 },
                "RFEP" => e.rfep,
                _ => 0.0,
            };
        }
        if subject == ENGLISH {
            // English learners grow in English each year they are in school.
            t += 0.3 * (self.grade as f64 - 4.0) / 4.0;
            if self.pupil.reclassified_at == Some(self.grade + 1) {
                // The year before reclassification, the student scores Level 4.
                t = t.max(1.2);
            }
        }
        t
    }

    fn family(&self, id: &str) -> usize {
        self.ctx
            .catalog
            .family(id)
            .expect("the sandbox's families are in the catalog")
    }

    /// A summative test in the spring.
    fn summative(&mut self, id: &str, subject: usize) {
        let family = self.family(id);
        let fam = &self.ctx.catalog.families[family];
        let grade = model_grade(self.grade);
        if fam.range_unknown.is_none() && fam.scale(grade, self.year).is_none() {
            return; // no published scale that year: the test was not given
        }
        let (start, span) = if fam.subject == "ELPAC" || fam.subject == "ALTELPAC" {
            ((2, 10), 90)
        } else {
            ((4, 14), 40)
        };
        let date = day(self.year, start, self.rng.below(span) as i64);
        let school = self.school_on(date);
        let session = session_id(self.year, school, &fam.id);
        let name = summative_name(fam, self.grade);
        let mut o = self.opportunity(
            family,
            name,
            "Summative",
            "SUM",
            self.grade,
            school,
            date,
            session,
        );
        let ctx = self.ctx;
        let r = &ctx.profile.rates;
        if self.rng.chance(r.summative_invalid) {
            o.condition = "IN";
        } else {
            o.complete = !self.rng.chance(r.summative_partial);
            let penalty = if o.complete { 0.0 } else { 0.4 };
            let theta = self.theta(subject) - penalty;
            self.score(&mut o, fam, theta);
        }
        // TRT adds claim scores, target residuals, writing traits and the
        // demographics the export lacks (economic disadvantage).
        o.detailed = matches!(fam.id.as_str(), "sb_ela_summative" | "sb_math_summative")
            && o.overall.is_some();
        if o.detailed && (subject == ELA || subject == MATH) {
            self.targets_and_traits(&mut o, fam, subject);
        }
        self.out.push(o);
    }

    /// ICA, IABs and Focused IABs the student's classes give, and CAST and ELPAC interims.
    fn interims(&mut self) {
        let test_grade = if self.grade >= 9 { 11 } else { self.grade };
        let fall = self.ctx.district.school_for(
            self.ctx.profile,
            self.pupil.area_in(self.year, false),
            self.grade,
        );
        let rates = &self.ctx.profile.rates;
        for (subject, code, name) in [(ELA, "ELA", "ELA"), (MATH, "Math", "Math")] {
            for block in plan(self.ctx, fall, self.year, test_grade, code) {
                if self.rng.chance(rates.interim_absent) {
                    continue;
                }
                let kind = match block.kind {
                    BlockKind::Ica => Kind::Ica,
                    BlockKind::Iab => Kind::Iab,
                    BlockKind::Fiab => Kind::Fiab,
                };
                let family = self
                    .ctx
                    .catalog
                    .family_for(code, kind)
                    .expect("SB interim families are in the catalog");
                let title = match block.kind {
                    BlockKind::Ica => format!(
                        "Grade {test_grade} {name} - Interim Comprehensive Assessment (ICA)"
                    ),
                    BlockKind::Iab => format!("Grade {test_grade} {name} - {} (IAB)", block.name),
                    BlockKind::Fiab => format!("Grade {test_grade} {name} - {} (FIAB)", block.name),
                };
                let practice = (block.kind == BlockKind::Iab)
                    .then(|| self.ctx.items.set_for(code, &block.name, test_grade))
                    .flatten();
                self.interim(
                    family,
                    title,
                    if block.kind == BlockKind::Ica {
                        "ICA"
                    } else {
                        "IAB"
                    },
                    test_grade,
                    block.date,
                    subject,
                    practice.map(|s| &s.items[..]),
                );
            }
        }
        if [5, 8, 11].contains(&test_grade) && self.rng.chance(rates.cast_interim) {
            let family = self.family("cast_interim");
            let title = if test_grade == 11 {
                "High School CAST IA-Earth and Space Sciences I".to_string()
            } else {
                format!("Grade {test_grade} CAST IA-I")
            };
            let date = day(self.year - 1, (11, 1), self.rng.below(120) as i64);
            self.interim(family, title, "IAB", test_grade, date, SCIENCE, None);
        }
        if self.elas == "EL" && self.rng.chance(rates.elpac_interim) {
            let family = self.family("elpac_interim");
            let domain = ["Listening", "Reading", "Speaking", "Writing"][self.rng.below(4)];
            let title = format!("Grade {test_grade} ELPAC IA-{domain} I");
            let date = day(self.year - 1, (10, 15), self.rng.below(150) as i64);
            self.interim(family, title, "IAB", test_grade, date, ENGLISH, None);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn interim(
        &mut self,
        family: usize,
        name: String,
        sub_kind: &'static str,
        test_grade: u8,
        date: NaiveDate,
        subject: usize,
        items: Option<&'c [Item]>,
    ) {
        let fam = &self.ctx.catalog.families[family];
        let school = self.school_on(date);
        let session = session_id(self.year, school, &name);
        let mut o = self.opportunity(
            family, name, "Interim", sub_kind, test_grade, school, date, session,
        );
        let ctx = self.ctx;
        let r = &ctx.profile.rates;
        o.condition = if self.rng.chance(r.interim_nonstandard) {
            "NS"
        } else {
            "SD"
        };
        let theta = self.theta(subject);
        if matches!(fam.kind, Kind::Iab | Kind::Fiab) && self.rng.chance(r.interim_abandoned) {
            // Abandoned after a few items: CERS shows the floor and SE 214.5.
            o.complete = false;
            if let Some(scale) = fam.scale(model_grade(test_grade), self.year) {
                o.overall = Some(Measure {
                    score: scale.min,
                    se: 214.5,
                });
                o.level = scale.standard_band(scale.min, 214.5, fam.standard_cutoff);
            }
        } else {
            o.complete = !self.rng.chance(r.interim_partial);
            let theta = theta - if o.complete { 0.0 } else { 0.3 };
            self.score(&mut o, fam, theta);
        }
        if let Some(items) = items {
            o.items = items
                .iter()
                .enumerate()
                .map(|(i, item)| respond(self.rng, item, i + 1, theta, test_grade))
                .collect();
            o.detailed = true;
        }
        self.out.push(o);
    }

    #[allow(clippy::too_many_arguments)]
    fn opportunity(
        &mut self,
        family: usize,
        name: String,
        kind: &'static str,
        sub_kind: &'static str,
        test_grade: u8,
        school: usize,
        date: NaiveDate,
        session: String,
    ) -> Opportunity<'c> {
        self.next_key += 1;
        let time = NaiveTime::from_hms_milli_opt(
            8 + self.rng.below(7) as u32,
            self.rng.below(60) as u32,
            self.rng.below(60) as u32,
            self.rng.below(1000) as u32,
        )
        .expect("valid time");
        let accommodations = if self.pupil.has(Flag::Iep) || self.pupil.has(Flag::Section504) {
            ACCOMMODATIONS[1]
        } else if self.elas == "EL" {
            ACCOMMODATIONS[2]
        } else {
            ACCOMMODATIONS[0]
        };
        Opportunity {
            key: self.next_key,
            year: self.year,
            family,
            name,
            kind,
            sub_kind,
            grade: self.grade,
            test_grade,
            school,
            submitted: date.and_time(time),
            session,
            complete: true,
            condition: "Valid",
            overall: None,
            level: None,
            claims: Vec::new(),
            alts: Vec::new(),
            elas: self.elas,
            accommodations,
            targets: Vec::new(),
            traits: None,
            items: Vec::new(),
            detailed: false,
        }
    }

    /// The school the student attends on `date`.
    fn school_on(&self, date: NaiveDate) -> usize {
        let midyear = NaiveDate::from_ymd_opt(self.year as i32, 1, 15).expect("valid date");
        let area = self.pupil.area_in(self.year, date >= midyear);
        self.ctx
            .district
            .school_for(self.ctx.profile, area, self.grade)
    }

    /// Overall score, level, claims and alt scores by the family's rules.
    fn score(&mut self, o: &mut Opportunity, fam: &Family, theta: f64) {
        let grade = model_grade(o.test_grade);
        let mix = self.mix(fam);
        if !fam.alt_scores.is_empty() {
            return self.composite(o, fam, theta, &mix);
        }
        match fam
            .scale(grade, self.year)
            .or_else(|| self.sibling_scale(fam, grade))
        {
            Some(scale) => {
                let (score, slope) = scale_score(theta, scale, &mix);
                let se = self.standard_error(fam, scale, theta);
                o.overall = Some(Measure {
                    score,
                    se: se.unwrap_or(0.0),
                });
                o.level = Some(match (fam.level_rule, se) {
                    (LevelRule::Cuts, _) => scale.level_of(score),
                    (LevelRule::StandardBand, Some(se)) => scale
                        .standard_band(score, se, fam.standard_cutoff)
                        .unwrap_or(2),
                    _ => quantile_level(theta, &mix, fam.levels.len()),
                });
                if se.is_none() {
                    o.overall = Some(Measure {
                        score,
                        se: f32::NAN,
                    });
                }
                self.claims(o, fam, scale, score, se, slope, theta);
            }
            None => {
                // No published range: the level is what the data supplies.
                let level = quantile_level(theta, &mix, fam.levels.len());
                let base = if fam.subject == "ALTELPAC" {
                    200.0
                } else {
                    100.0 * o.test_grade.max(1) as f32 + 30.0
                };
                let score = base + 20.0 * (level - 1) as f32 + self.rng.below(20) as f32;
                o.overall = Some(Measure {
                    score,
                    se: f32::NAN,
                });
                o.level = Some(level);
            }
        }
    }

    /// Summative ELPAC: oral and written composites, the overall score from
    /// their weighted sum, and domains from the composite they belong to.
    fn composite(&mut self, o: &mut Opportunity, fam: &Family, theta: f64, mix: &[f64]) {
        let grade = model_grade(o.test_grade);
        let Some(scale) = fam.scale(grade, self.year) else {
            return;
        };
        let oral_theta = theta + 0.35 * self.rng.normal();
        let written_theta = theta + 0.35 * self.rng.normal();
        let oral_weight = if o.test_grade <= 2 { 0.5 } else { 0.3 };
        let mut parts = Vec::new();
        for (alt, t) in fam.alt_scores.iter().zip([oral_theta, written_theta]) {
            let Some(alt_scale) = crate::catalog::scale_in_force(&alt.scales, grade, self.year)
            else {
                return;
            };
            let (score, _) = scale_score(t, alt_scale, mix);
            let se = self.standard_error(fam, alt_scale, t).unwrap_or(20.0) * 1.3;
            o.alts
                .push((alt.column, Measure { score, se }, alt_scale.level_of(score)));
            parts.push((score, se));
        }
        let [(oral, oral_se), (written, written_se)] = parts[..] else {
            return;
        };
        let score = (oral_weight * oral + (1.0 - oral_weight) * written).round();
        let se =
            ((oral_weight * oral_se).powi(2) + ((1.0 - oral_weight) * written_se).powi(2)).sqrt();
        o.overall = Some(Measure {
            score: score.clamp(scale.min, scale.max),
            se: (se * 10.0).round() / 10.0,
        });
        o.level = Some(scale.level_of(score));
        if let Some(claims) = &fam.claims {
            for c in &claims.items {
                // RDW's ELPAC domain codes: 1-* are oral (listening, speaking), 2-* written.
                let t = if c.code.starts_with('1') {
                    oral_theta
                } else {
                    written_theta
                };
                let level = quantile_level(
                    t + 0.4 * self.rng.normal(),
                    &[0.25, 0.5, 0.25],
                    claims.levels.len(),
                );
                o.claims.push(ClaimResult {
                    code: c.code.clone(),
                    column: c.column,
                    measure: None,
                    level,
                });
            }
        }
    }

    /// Claim scores around the overall score (standard band), or domain levels.
    #[allow(clippy::too_many_arguments)]
    fn claims(
        &mut self,
        o: &mut Opportunity,
        fam: &Family,
        scale: &Scale,
        score: f32,
        se: Option<f32>,
        slope: f32,
        theta: f64,
    ) {
        let Some(claims) = &fam.claims else { return };
        for c in &claims.items {
            let (measure, level) = match (claims.level_rule, se) {
                (LevelRule::StandardBand, Some(se)) => {
                    let claim = (score as f64 + slope as f64 * 0.45 * self.rng.normal())
                        .round()
                        .clamp(scale.min as f64, scale.max as f64)
                        as f32;
                    let claim_se = (se as f64 * self.rng.uniform(1.4, 2.0)).round() as f32;
                    let level = scale
                        .standard_band(claim, claim_se, fam.standard_cutoff)
                        .unwrap_or(2);
                    (
                        Some(Measure {
                            score: claim,
                            se: claim_se,
                        }),
                        level,
                    )
                }
                _ => (
                    None,
                    quantile_level(
                        theta + 0.6 * self.rng.normal(),
                        &[0.3, 0.45, 0.25],
                        claims.levels.len(),
                    ),
                ),
            };
            o.claims.push(ClaimResult {
                code: c.code.clone(),
                column: c.column,
                measure,
                level,
            });
        }
    }

    /// Target residuals and, for ELA, the writing traits of the performance task.
    fn targets_and_traits(&mut self, o: &mut Opportunity<'c>, fam: &Family, subject: usize) {
        let Some(overall) = o.overall else { return };
        let Some(scale) = fam.scale(model_grade(o.test_grade), self.year) else {
            return;
        };
        let cut = scale
            .cuts
            .get(fam.standard_cutoff as usize - 2)
            .copied()
            .unwrap_or(scale.min);
        let distance = ((overall.score - cut) / 150.0).clamp(-0.8, 0.8);
        let code = if subject == ELA { "ELA" } else { "Math" };
        for target in self.ctx.profile.targets.get(code).into_iter().flatten() {
            let student = (0.25 * self.rng.normal()).clamp(-1.0, 1.0) as f32;
            let se = self.rng.uniform(0.07, 0.32) as f32;
            let standard = (student + distance + (0.1 * self.rng.normal()) as f32).clamp(-1.0, 1.0);
            o.targets.push(TargetResult {
                code: format!("{target}-{}", o.test_grade),
                student: (round2(student), round2(se)),
                standard: (round2(standard), round2(se * 1.1)),
            });
        }
        if subject == ELA && o.complete {
            if let Some(purpose) = self.ctx.profile.writing_purpose.get(&o.test_grade) {
                let theta = self.theta(ELA);
                let mut point = |max: f64, spread: f64| {
                    ((max / 2.0) + spread * theta + 0.6 * self.rng.normal())
                        .round()
                        .clamp(0.0, max) as u8
                };
                o.traits = Some((
                    purpose.as_str(),
                    [point(4.0, 1.1), point(4.0, 1.1), point(2.0, 0.6)],
                ));
            }
        }
    }

    /// The level mix of a family, or of the summative family of its subject.
    fn mix(&self, fam: &Family) -> Vec<f64> {
        let mixes = &self.ctx.profile.level_mix;
        if let Some(m) = mixes.get(&fam.id) {
            return m.clone();
        }
        let sibling = self
            .ctx
            .catalog
            .family_for(&fam.subject, Kind::Summative)
            .map(|f| &self.ctx.catalog.families[f].id);
        let m = sibling
            .and_then(|id| mixes.get(id))
            .cloned()
            .unwrap_or_else(|| vec![1.0 / fam.levels.len() as f64; fam.levels.len()]);
        if m.len() == fam.levels.len() {
            m
        } else {
            // Interims with fewer levels: fold the summative mix below/near/above.
            let below = m[0];
            let above = *m.last().expect("non-empty mix");
            vec![below, 1.0 - below - above, above]
        }
    }

    /// The summative scale of the family's subject, for interims without their own.
    fn sibling_scale(&self, fam: &Family, grade: Grade) -> Option<&'c Scale> {
        let f = self.ctx.catalog.family_for(&fam.subject, Kind::Summative)?;
        self.ctx.catalog.families[f].scale(grade, self.year)
    }

    /// A plausible SE: larger for short tests and far from the middle; none for CAA and CSA.
    fn standard_error(&mut self, fam: &Family, scale: &Scale, theta: f64) -> Option<f32> {
        let key = match (fam.subject.as_str(), fam.kind) {
            ("CAAELA" | "CAAMATH" | "CSA", _) => return None,
            ("CAST", _) => "cast",
            ("ELPAC", _) => "elpac",
            (_, Kind::Summative) => "summative",
            (_, Kind::Ica) => "ica",
            _ => "iab",
        };
        let fraction = *self.ctx.profile.standard_error.get(key)? as f64;
        let se = fraction
            * (scale.max - scale.min) as f64
            * (0.85 + 0.15 * theta * theta).min(1.8)
            * self.rng.uniform(0.93, 1.07);
        Some((se * 10.0).round() as f32 / 10.0)
    }
}

/// Grade 0 is kindergarten.
pub fn model_grade(grade: u8) -> Grade {
    if grade == 0 {
        Grade::K
    } else {
        Grade::N(grade)
    }
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}
