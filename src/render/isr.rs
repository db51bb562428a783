//! The Individual Student Report: the scores, level bar, claims and
//! composites of one exam, with the family's text, and a student's history.

use super::svg;
use super::views::{
    fmt_score, grade_label, level_at, measure, measure_name, school_year_label, short_name, status,
    student_name, whole,
};
use crate::catalog::{accessibility, Family, LevelRule, Scale};
use crate::deployment::Deployment;
use crate::model::{Exam, Score};
use serde::Serialize;

/// One Individual Student Report.
#[derive(Debug, Serialize)]
pub struct Isr {
    pub id: String,
    pub student: String,
    pub ssid: String,
    pub name: String,
    pub family: String,
    pub year: String,
    pub date: String,
    pub school: String,
    /// The LEA of the school, for the report's header.
    pub lea: String,
    pub grade: String,
    pub status: String,
    pub score: String,
    pub se: String,
    pub level_name: String,
    pub level_description: String,
    pub message: String,
    pub overall_text: String,
    pub bar: String,
    /// For interim blocks: how the level is judged, in the figures the bar's
    /// accessible name also gives.
    pub band_note: String,
    pub range_note: String,
    pub claim_label: String,
    pub claims: Vec<ClaimView>,
    pub alts: Vec<AltView>,
    /// The accommodations and designated supports assigned, by name.
    pub resources: Resources,
    pub previous: Vec<String>,
    /// Distance from Standard (`29 below`), where the test has one.
    pub dfs: String,
    /// "Lexile measure" or "Quantile measure", and the measure; or empty.
    pub measure_name: String,
    pub measure: String,
    /// The Student Score Data File's condition code and include indicator.
    pub official: String,
    /// The deployment's instructional resources for this result.
    pub instructional: Vec<crate::resources::Resource>,
}

/// The accessibility resources assigned for a test, as the report lists them.
#[derive(Debug, Serialize)]
pub struct Resources {
    pub accommodations: String,
    pub designated_supports: String,
}

#[derive(Debug, Serialize)]
pub struct ClaimView {
    pub name: String,
    pub level: String,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct AltView {
    pub name: String,
    pub score: String,
    /// The composite's standard error, as CERS shows it beside the score.
    pub se: String,
    pub level: String,
    pub description: String,
}

/// The ISR's level bar and, for interim blocks, the sentence that says how
/// the block is judged. The bar's accessible name and the page's text give
/// the same rounded figures. Where the level in the data differs from the
/// ±1.5·SE band rule, the level shown is the one CERS reported, and the note
/// says so.
fn level_bar(fam: &Family, scale: Option<&Scale>, overall: &Score) -> (String, String) {
    let (Some(s), Some(score)) = (scale, overall.scale) else {
        return Default::default();
    };
    let shown = |v: f32| whole(v.into());
    let se_text = overall
        .se
        .map(|se| format!(" ± {}", shown(se)))
        .unwrap_or_default();
    let range = format!(
        "Scale from {} to {}; score {}{se_text}",
        shown(s.min),
        shown(s.max),
        shown(score)
    );
    let names: Vec<String> = fam.levels.iter().map(|l| l.short_name.clone()).collect();
    if fam.level_rule != LevelRule::StandardBand {
        let bar = svg::level_bar(s.min, s.max, &s.cuts, &names, score, overall.se, &range);
        return (bar, String::new());
    }
    // Interim blocks are judged by score ± 1.5·SE against the standard (the
    // Level 3 cut), so their bar shows that cut and that band.
    let Some(&cut) = s.cuts.get(fam.standard_cutoff.saturating_sub(2) as usize) else {
        return Default::default();
    };
    let name = |l: u8| {
        level_at(&fam.levels, Some(l))
            .map(|l| l.name.clone())
            .unwrap_or_else(|| format!("Level {l}"))
    };
    let note = match overall.se {
        Some(se) => {
            let (lo, hi) = (score - 1.5 * se, score + 1.5 * se);
            let mut note = format!(
                "An interim block is judged by its score ± 1.5 standard errors, {}–{}, against the standard, {}.",
                shown(lo),
                shown(hi),
                shown(cut)
            );
            let rule = s.standard_band(score, se, fam.standard_cutoff);
            if let (Some(given), Some(rule)) = (overall.level, rule) {
                if given != rule {
                    note.push_str(&format!(
                        " CERS reported this result as {}, which is the level shown here; by that band alone it would be {}.",
                        name(given),
                        name(rule)
                    ));
                }
            }
            note
        }
        None => format!(
            "An interim block is judged by its score ± 1.5 standard errors against the standard, {}; this result has no standard error, so the level shown is the one reported by CERS.",
            shown(cut)
        ),
    };
    let bar = svg::level_bar(
        s.min,
        s.max,
        &[cut],
        &[
            "Below the standard".into(),
            "At or above the standard".into(),
        ],
        score,
        overall.se.map(|se| 1.5 * se),
        &format!("{range}. {note}"),
    );
    (bar, note)
}

/// The ISR of exam `e`, with `earlier` (exam indices of the same family
/// before it), as the `place`th report of its page: its anchor is named by
/// that place, not by the exam's index, which other students' results move.
pub fn isr(dep: &Deployment, e: usize, place: usize, earlier: &[usize]) -> Isr {
    let data = &dep.data;
    let exam = &data.exams[e];
    let a = &data.assessments[exam.assessment as usize];
    let fam = &dep.catalog.families[a.family];
    let first = data.students[exam.student as usize].first_name.to_string();
    let first = if first.is_empty() {
        "The student".to_string()
    } else {
        first
    };
    let grade = a.grade.unwrap_or(exam.grade);
    let messages = fam.messages.get(&grade.to_string());
    let fill = |t: &str| t.replace("{student}", &first);
    let level = level_at(&fam.levels, exam.overall.level);
    let scale = fam
        .scale(grade, exam.school_year)
        .or_else(|| fam.scale(exam.grade, exam.school_year));
    let (bar, band_note) = level_bar(fam, scale, &exam.overall);
    let claims = claim_views(fam, exam, messages, &fill);
    let alts = fam
        .alt_scores
        .iter()
        .filter_map(|alt| {
            let (_, s) = exam.alt.iter().find(|(c, _)| *c == alt.column)?;
            let level = s.level.map(|l| format!("Level {l}")).unwrap_or_default();
            Some(AltView {
                name: alt.name.clone(),
                score: fmt_score(s.scale),
                se: fmt_score(s.se),
                level,
                description: alt.description.clone(),
            })
        })
        .collect();
    Isr {
        id: anchor(place),
        student: student_name(dep, exam.student),
        ssid: data.students[exam.student as usize].ssid.to_string(),
        name: a.name.clone(),
        family: fam.name.clone(),
        year: school_year_label(exam.school_year),
        date: exam.submitted.format("%B %-d, %Y").to_string(),
        school: data.institutions.schools[exam.school as usize].name.clone(),
        lea: {
            let inst = &data.institutions;
            inst.leas[inst.schools[exam.school as usize].lea]
                .name
                .clone()
        },
        grade: grade_label(exam.grade),
        status: status(exam),
        score: fmt_score(exam.overall.scale),
        se: exam.overall.se.map(|s| whole(s.into())).unwrap_or_default(),
        level_name: level
            .map(|l| l.name.clone())
            .unwrap_or_else(|| "No level reported".into()),
        level_description: level.map(|l| l.description.clone()).unwrap_or_default(),
        message: messages
            .and_then(|m| exam.overall.level.and_then(|l| m.levels.get(&l)))
            .map(|t| fill(t))
            .unwrap_or_default(),
        overall_text: messages.map(|m| fill(&m.overall)).unwrap_or_default(),
        bar,
        band_note,
        // Why the catalog lacks the range is a note for the coordinator
        // (`check`, the catalog), not for a parent.
        range_note: if fam.range_unknown.is_some() {
            "The level is the one the test reported; this test's score ranges are not shown.".into()
        } else {
            String::new()
        },
        claim_label: fam
            .claims
            .as_ref()
            .map(|c| c.label.clone())
            .unwrap_or_default(),
        claims,
        alts,
        resources: {
            let codes = exam.accommodations.map_or("", |s| data.strings.get(s));
            let (accommodations, supports) = accessibility::named(codes.split('|'));
            Resources {
                accommodations: accommodations.join(", "),
                designated_supports: supports.join(", "),
            }
        },
        measure: measure(dep, e),
        measure_name: measure_name(fam).to_string(),
        dfs: crate::stats::distance::of_exam(&dep.catalog, data, e)
            .map(|d| super::views::distance_words(d.into(), 0))
            .unwrap_or_default(),
        official: official_note(dep, exam),
        instructional: dep
            .resources
            .for_result(&fam.id, &a.name, exam.overall.level),
        previous: earlier
            .iter()
            .map(|&p| {
                let x = &data.exams[p];
                let l = short_name(&fam.levels, x.overall.level);
                format!(
                    "{}: {} {} ({})",
                    school_year_label(x.school_year),
                    data.assessments[x.assessment as usize].name,
                    fmt_score(x.overall.scale),
                    l
                )
            })
            .collect(),
    }
}

/// True for an accessibility-resource code that records a resource in use:
/// codes ending in `0` (`TDS_ASL0`, `NEA0`) record that it was not.
fn claim_views(
    fam: &Family,
    exam: &Exam,
    messages: Option<&crate::catalog::GradeMessages>,
    fill: &dyn Fn(&str) -> String,
) -> Vec<ClaimView> {
    let Some(c) = &fam.claims else {
        return Vec::new();
    };
    c.items
        .iter()
        .filter_map(|item| {
            let l = exam.claim_levels[item.column as usize - 1]?;
            let level = level_at(&c.levels, Some(l))?;
            let text = messages
                .and_then(|m| m.claims.get(&item.code))
                .and_then(|m| m.get(&l))
                .map(|t| fill(t))
                .unwrap_or_else(|| item.description.clone());
            Some(ClaimView {
                name: item.name.clone(),
                level: level.name.clone(),
                text,
            })
        })
        .collect()
}

/// A row of a student's test history.
#[derive(Debug, Serialize)]
pub struct HistoryRow {
    pub anchor: String,
    pub year: String,
    pub date: String,
    /// The date as the table sorts it.
    pub date_key: String,
    pub name: String,
    pub school: String,
    pub grade: String,
    pub score: String,
    pub level: String,
    pub level_number: u8,
}

/// The student's history (latest first) and an ISR per exam.
pub fn history(dep: &Deployment, exams: &[usize]) -> (Vec<HistoryRow>, Vec<Isr>) {
    let data = &dep.data;
    let mut list: Vec<usize> = exams.to_vec();
    list.sort_by_key(|&e| std::cmp::Reverse(data.exams[e].submitted));
    let rows = list
        .iter()
        .enumerate()
        .map(|(place, &e)| {
            let x = &data.exams[e];
            let a = &data.assessments[x.assessment as usize];
            let fam = &dep.catalog.families[a.family];
            HistoryRow {
                anchor: anchor(place),
                year: school_year_label(x.school_year),
                date: x.submitted.format("%m/%d/%Y").to_string(),
                date_key: x.submitted.format("%Y-%m-%d %H:%M").to_string(),
                name: a.name.clone(),
                school: data.institutions.schools[x.school as usize].name.clone(),
                grade: x.grade.to_string(),
                score: fmt_score(x.overall.scale),
                level: short_name(&fam.levels, x.overall.level),
                level_number: x.overall.level.unwrap_or(0),
            }
        })
        .collect();
    let isrs = list
        .iter()
        .enumerate()
        .map(|(place, &e)| isr(dep, e, place, &earlier(dep, e, &list)))
        .collect();
    (rows, isrs)
}

/// The anchor of the `place`th report of a page.
fn anchor(place: usize) -> String {
    format!("x{place}")
}

/// The exams in `visible` of the same student taken before `e`, latest
/// first: of the same family for a summative or ICA (a grade's test follows
/// the last grade's), of the same assessment otherwise (an interim block's
/// earlier tries, not other blocks).
pub fn earlier(dep: &Deployment, e: usize, visible: &[usize]) -> Vec<usize> {
    let data = &dep.data;
    let x = &data.exams[e];
    let family = data.assessments[x.assessment as usize].family;
    let by_family = matches!(
        dep.catalog.families[family].kind,
        crate::catalog::Kind::Summative | crate::catalog::Kind::Ica
    );
    let mut out: Vec<usize> = visible
        .iter()
        .copied()
        .filter(|&p| {
            let y = &data.exams[p];
            let same = if by_family {
                data.assessments[y.assessment as usize].family == family
            } else {
                y.assessment == x.assessment
            };
            y.student == x.student && same && y.submitted < x.submitted
        })
        .collect();
    out.sort_by_key(|&p| std::cmp::Reverse(data.exams[p].submitted));
    out
}

/// A Student Score Data File's condition code and include indicator, as a
/// line for the ISR, or empty.
fn official_note(dep: &Deployment, exam: &Exam) -> String {
    let Some(o) = exam.official.as_deref() else {
        return String::new();
    };
    let text = |s: Option<crate::model::Sym>| s.map(|s| dep.data.strings.get(s));
    [
        text(o.condition_code).map(|c| format!("Condition code {c}")),
        text(o.include).map(|i| format!("include indicator {i}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}
