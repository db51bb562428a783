//! The analysis views of one assessment in a group or school grade: Results
//! by Item with the practice item behind each, Key/Distractor analysis,
//! Writing Trait Scores and the Target report, all from TRT detail.

use crate::catalog::Family;
use crate::deployment::Deployment;
use crate::items::{Item, ItemSet};
use crate::model::{ExamDetail, ItemResponse};
use crate::stats::items::{Choices, Points};
use crate::stats::targets::{self, Residual, Standing};
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything the analysis page shows for one assessment.
#[derive(Debug, Serialize)]
pub struct Analysis {
    pub items: Vec<ItemRow>,
    /// Point columns of the item table: 0…the largest max points.
    pub point_columns: Vec<usize>,
    pub choices: Vec<ChoiceRow>,
    pub option_letters: Vec<String>,
    pub traits: Vec<TraitTable>,
    pub targets: Vec<TargetRow>,
    /// Students with target scores.
    pub target_n: usize,
    /// True when fewer than `min_students` have target scores: the
    /// Target report says so instead of showing results, as RDW does.
    pub too_few: bool,
    pub min_students: usize,
    /// Mathematics: the Target report covers Claim 1 only.
    pub math: bool,
}

/// A count and its percentage.
#[derive(Debug, Serialize)]
pub struct Cell {
    pub count: usize,
    pub percent: String,
}

/// One row of Results by Item.
#[derive(Debug, Serialize)]
pub struct ItemRow {
    pub number: u32,
    pub id: String,
    pub claim: String,
    pub target: String,
    pub dok: String,
    pub difficulty: String,
    pub standard: String,
    pub max: usize,
    pub n: usize,
    pub full_credit: String,
    /// One cell per point value 0…max (blank past it).
    pub points: Vec<Option<Cell>>,
    pub detail: Option<ItemDetail>,
}

/// The practice item behind a row, with its rubric.
#[derive(Debug, Serialize)]
pub struct ItemDetail {
    pub kind: &'static str,
    pub passage_title: String,
    pub passage: String,
    pub stem: String,
    pub options: Vec<OptionView>,
    pub answer: String,
    pub rubric: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct OptionView {
    pub letter: String,
    pub text: String,
    pub key: bool,
}

/// One row of the Key/Distractor analysis.
#[derive(Debug, Serialize)]
pub struct ChoiceRow {
    pub number: u32,
    pub standard: String,
    pub key: String,
    pub n: usize,
    /// Per option letter of the table: the percent choosing it, and whether it is a key.
    pub cells: Vec<Option<ChoiceCell>>,
}

#[derive(Debug, Serialize)]
pub struct ChoiceCell {
    pub percent: String,
    pub key: bool,
}

/// Writing Trait Scores for one writing purpose.
#[derive(Debug, Serialize)]
pub struct TraitTable {
    pub purpose: String,
    pub n: usize,
    pub traits: Vec<TraitRow>,
}

#[derive(Debug, Serialize)]
pub struct TraitRow {
    pub name: &'static str,
    pub max: usize,
    pub mean: String,
    pub cells: Vec<Option<Cell>>,
}

/// One target of the Target report.
#[derive(Debug, Serialize)]
pub struct TargetRow {
    pub claim: String,
    pub target: String,
    pub title: String,
    pub n: usize,
    pub vs_test: String,
    pub vs_test_class: &'static str,
    pub vs_test_value: String,
    pub vs_standard: String,
    pub vs_standard_class: &'static str,
    pub vs_standard_value: String,
}

/// The writing traits and their score ranges.
const TRAITS: [(&str, &str, usize); 3] = [
    ("ORG", "Organization/Purpose", 4),
    ("EVI", "Evidence/Elaboration", 4),
    ("CON", "Conventions", 2),
];

/// Writing purposes as TRT codes them.
fn purpose_name(code: &str) -> String {
    match code {
        "ARGU" => "Argumentative".into(),
        "EXPL" => "Explanatory".into(),
        "INFO" => "Informational".into(),
        "NARR" => "Narrative".into(),
        "OPIN" => "Opinion".into(),
        "" => "Writing (purpose not given in the TRT files)".into(),
        other => other.into(),
    }
}

fn pct(x: f64) -> String {
    format!("{x:.0}%")
}

/// The analysis of `exams` (one assessment), or `None` when they carry no
/// item, trait or target detail.
pub fn analysis(dep: &Deployment, family: &Family, exams: &[usize]) -> Option<Analysis> {
    let details: Vec<&ExamDetail> = exams
        .iter()
        .filter_map(|e| dep.data.details.get(e))
        .collect();
    let items = item_rows(dep, family, &details);
    let (choices, option_letters) = choice_rows(dep, &details);
    let traits = trait_tables(dep, &details);
    let (targets, target_n) = target_rows(dep, family, &details);
    if items.is_empty() && traits.is_empty() && targets.is_empty() {
        return None;
    }
    let widest = items.iter().map(|i| i.max).max().unwrap_or(0);
    Some(Analysis {
        point_columns: (0..=widest).collect(),
        items: items
            .into_iter()
            .map(|mut i| {
                i.points.resize_with(widest + 1, || None);
                i
            })
            .collect(),
        choices,
        option_letters,
        traits,
        targets,
        target_n,
        too_few: target_n > 0 && target_n < dep.settings.target_report_min_students,
        min_students: dep.settings.target_report_min_students,
        math: family.subject.eq_ignore_ascii_case("Math"),
    })
}

/// Responses grouped by item (bank and key), in test order.
fn by_item<'a>(dep: &'a Deployment, details: &[&'a ExamDetail]) -> Vec<Vec<&'a ItemResponse>> {
    let text = |s| dep.data.strings.get(s);
    let mut by: BTreeMap<(&str, &str), Vec<&ItemResponse>> = BTreeMap::new();
    for d in details {
        for r in &d.items {
            by.entry((text(r.bank_key), text(r.key)))
                .or_default()
                .push(r);
        }
    }
    let mut out: Vec<Vec<&ItemResponse>> = by.into_values().collect();
    out.sort_by_key(|rs| rs.iter().map(|r| r.position).min().unwrap_or(0));
    out
}

fn lookup<'a>(dep: &'a Deployment, r: &ItemResponse) -> Option<(&'a ItemSet, &'a Item)> {
    let text = |s| dep.data.strings.get(s);
    dep.items.item(text(r.bank_key), text(r.key))
}

/// The claim's name, from a TRT claim code (`1-IT`, `2-W`, `1`, `SOCK_2`):
/// `family`'s claims, or for an interim block without claims, those of the
/// subject's summative.
fn claim_name(dep: &Deployment, family: &Family, code: &str) -> String {
    let family = if family.claims.is_some() {
        family
    } else {
        dep.catalog
            .family_for(&family.subject, crate::catalog::Kind::Summative)
            .map_or(family, |f| &dep.catalog.families[f])
    };
    let claims = family.claims.iter().flat_map(|c| &c.items);
    let named = claims.clone().find(|c| c.code == code).or_else(|| {
        let digit = code.chars().next()?.to_digit(10)? as u8;
        claims.clone().find(|c| c.column == digit)
    });
    named.map_or_else(|| code.to_string(), |c| c.name.clone())
}

fn difficulty_label(d: f64) -> String {
    let word = if d < -0.5 {
        "Easy"
    } else if d > 0.5 {
        "Difficult"
    } else {
        "Moderate"
    };
    format!("{word} ({d:+.1})")
}

fn item_rows(dep: &Deployment, family: &Family, details: &[&ExamDetail]) -> Vec<ItemRow> {
    let text = |s| dep.data.strings.get(s);
    let mut rows: Vec<ItemRow> = by_item(dep, details)
        .into_iter()
        .enumerate()
        .map(|(i, responses)| {
            let first = responses[0];
            let known = lookup(dep, first);
            let max = known
                .map(|(_, it)| it.points as f32)
                .or(first.max_score)
                .unwrap_or(1.0)
                .round() as u8;
            let points = Points::count(responses.iter().filter_map(|r| r.score), max);
            let content_level = text(first.content_level);
            let (claim_code, target) = content_level.split_once('|').unwrap_or((content_level, ""));
            let target = target.rsplit_once('-').map_or(target, |(t, _)| t);
            ItemRow {
                number: i as u32 + 1,
                id: format!("item-{}-{}", text(first.bank_key), text(first.key)),
                claim: claim_name(dep, family, claim_code),
                target: target.to_string(),
                dok: known.map(|(_, it)| it.dok.to_string()).unwrap_or_default(),
                difficulty: known
                    .map(|(_, it)| difficulty_label(it.difficulty))
                    .unwrap_or_default(),
                standard: known.map(|(_, it)| it.standard.clone()).unwrap_or_default(),
                max: max as usize,
                n: points.n,
                full_credit: pct(points.full_credit()),
                points: (0..=points.max())
                    .map(|p| {
                        Some(Cell {
                            count: points.counts[p],
                            percent: pct(points.percent(p)),
                        })
                    })
                    .collect(),
                detail: known.map(|(set, it)| item_detail(set, it)),
            }
        })
        .collect();
    // A passage is shown with the first of its items only.
    let mut last = String::new();
    for d in rows.iter_mut().filter_map(|r| r.detail.as_mut()) {
        if d.passage_title == last {
            d.passage_title.clear();
            d.passage.clear();
        } else {
            last = d.passage_title.clone();
        }
    }
    rows
}

fn item_detail(set: &ItemSet, item: &Item) -> ItemDetail {
    let keys: Vec<char> = item.answer.chars().collect();
    ItemDetail {
        kind: match item.kind.as_str() {
            "MC" => "Multiple choice, one answer",
            "MS" => "Multiple select",
            "EQ" => "Equation/numeric response",
            "SA" => "Short answer, hand-scored with the rubric",
            _ => "Item",
        },
        passage_title: set
            .passage
            .as_ref()
            .map(|p| p.title.clone())
            .unwrap_or_default(),
        passage: set
            .passage
            .as_ref()
            .map(|p| p.text.clone())
            .unwrap_or_default(),
        stem: item.stem.clone(),
        options: item
            .options
            .iter()
            .map(|(letter, text)| OptionView {
                letter: letter.clone(),
                text: text.clone(),
                key: letter.chars().all(|c| keys.contains(&c)),
            })
            .collect(),
        answer: if item.options.is_empty() {
            item.answer.clone()
        } else {
            String::new()
        },
        rubric: item.rubric.clone(),
    }
}

/// Key/Distractor rows for the selected-response items whose options are known.
fn choice_rows(dep: &Deployment, details: &[&ExamDetail]) -> (Vec<ChoiceRow>, Vec<String>) {
    let mut rows = Vec::new();
    let mut letters: Vec<String> = Vec::new();
    for (i, responses) in by_item(dep, details).into_iter().enumerate() {
        let Some((_, item)) = lookup(dep, responses[0]).filter(|(_, it)| !it.options.is_empty())
        else {
            continue;
        };
        let options: Vec<String> = item.options.keys().cloned().collect();
        for o in &options {
            if !letters.contains(o) {
                letters.push(o.clone());
            }
        }
        let c = Choices::count(
            responses
                .iter()
                .filter_map(|r| Some(dep.data.strings.get(r.chosen?))),
            &options,
        );
        rows.push((i as u32 + 1, item, c));
    }
    letters.sort();
    let rows = rows
        .into_iter()
        .map(|(number, item, c)| ChoiceRow {
            number,
            standard: item.standard.clone(),
            key: item.answer.clone(),
            n: c.n,
            cells: letters
                .iter()
                .map(|l| {
                    c.counts
                        .iter()
                        .position(|(o, _)| o == l)
                        .map(|k| ChoiceCell {
                            percent: pct(c.percent(k)),
                            key: item.answer.contains(l.as_str()),
                        })
                })
                .collect(),
        })
        .collect();
    (rows, letters)
}

fn trait_tables(dep: &Deployment, details: &[&ExamDetail]) -> Vec<TraitTable> {
    let mut by: BTreeMap<&str, Vec<&crate::model::TraitScore>> = BTreeMap::new();
    for d in details {
        for t in &d.traits {
            by.entry(dep.data.strings.get(t.purpose))
                .or_default()
                .push(t);
        }
    }
    let widest = TRAITS.iter().map(|t| t.2).max().unwrap_or(0);
    by.into_iter()
        .map(|(purpose, scores)| {
            let traits: Vec<TraitRow> = TRAITS
                .iter()
                .map(|&(code, name, max)| {
                    let p = Points::count(
                        scores
                            .iter()
                            .filter(|t| t.trait_code == code)
                            .map(|t| t.score as f32),
                        max as u8,
                    );
                    let mut cells: Vec<Option<Cell>> = (0..=max)
                        .map(|k| {
                            Some(Cell {
                                count: p.counts[k],
                                percent: pct(p.percent(k)),
                            })
                        })
                        .collect();
                    cells.resize_with(widest + 1, || None);
                    TraitRow {
                        name,
                        max,
                        mean: p.mean().map(|m| format!("{m:.1}")).unwrap_or_default(),
                        cells,
                    }
                })
                .collect();
            // Students scored on the purpose: the most scored on any one trait.
            let n = TRAITS
                .iter()
                .map(|(code, _, _)| scores.iter().filter(|t| t.trait_code == *code).count())
                .max()
                .unwrap_or(0);
            TraitTable {
                purpose: purpose_name(purpose),
                n,
                traits,
            }
        })
        .collect()
}

fn standing_class(s: Standing) -> &'static str {
    match s {
        Standing::Above => "above",
        Standing::Near => "near",
        Standing::Below => "below",
        Standing::Insufficient => "insufficient",
    }
}

fn target_rows(
    dep: &Deployment,
    family: &Family,
    details: &[&ExamDetail],
) -> (Vec<TargetRow>, usize) {
    let mut by: BTreeMap<&str, [Vec<f32>; 2]> = BTreeMap::new();
    let mut students = 0;
    // As RDW reports them, mathematics targets are Claim 1's (Concepts and
    // Procedures) only.
    let math = family.subject.eq_ignore_ascii_case("Math");
    for d in details {
        students += (!d.targets.is_empty()) as usize;
        for t in &d.targets {
            let target = dep.data.strings.get(t.target);
            if math && !target.starts_with("1|") {
                continue;
            }
            let slot = by.entry(target).or_default();
            slot[0].extend(t.student_relative);
            slot[1].extend(t.standard_met_relative);
        }
    }
    let show = |r: Option<Residual>, to_standard: bool| match r {
        Some(r) => (
            r.standing.label(to_standard).to_string(),
            standing_class(r.standing),
            if r.se.is_nan() {
                format!("{:+.2}", r.mean)
            } else {
                format!("{:+.2} ± {:.2}", r.mean, r.se)
            },
            r.n,
        ),
        None => (String::new(), "", String::new(), 0),
    };
    let mut by: Vec<_> = by.into_iter().collect();
    by.sort_by_cached_key(|(code, _)| natural_key(code));
    let rows = by
        .into_iter()
        .map(|(code, [vs_test, vs_standard])| {
            let (claim, target) = code.split_once('|').unwrap_or((code, ""));
            let short = target.rsplit_once('-').map_or(target, |(t, _)| t);
            let (t_label, t_class, t_value, n1) = show(targets::aggregate(vs_test), false);
            let (s_label, s_class, s_value, n2) = show(targets::aggregate(vs_standard), true);
            TargetRow {
                claim: claim_name(dep, family, claim),
                target: short.to_string(),
                title: targets_title(family, code),
                n: n1.max(n2),
                vs_test: t_label,
                vs_test_class: t_class,
                vs_test_value: t_value,
                vs_standard: s_label,
                vs_standard_class: s_class,
                vs_standard_value: s_value,
            }
        })
        .collect();
    (rows, students)
}

/// A sort key that orders the numbers inside `code` by value (`8` before `11`).
fn natural_key(code: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut rest = code;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (num, tail) = rest.split_at(digits);
        let text_len = tail.len() - tail.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
        let (text, tail) = tail.split_at(text_len);
        out.push((num.parse().unwrap_or(0), text.to_string()));
        rest = tail;
    }
    out
}

fn targets_title(family: &Family, code: &str) -> String {
    crate::catalog::targets::title(&family.subject, code)
        .unwrap_or_default()
        .to_string()
}
