//! How a loaded exam is written in the CERS District/School Export's
//! 64-column layout. Ingest compares each export row with it to keep the
//! cells that would not come back as they came in; the District/School
//! Export writes with it.

use crate::catalog::{Catalog, Kind};
use crate::model::{
    AdminCondition, Completeness, Dataset, Exam, Flag, Grade, Score, Sex, RACE_FLAGS,
};

/// How the District/School Export writes `exam` in the 64-column layout,
/// from the loaded values, every field shown.
pub fn cells(data: &Dataset, catalog: &Catalog, exam: &Exam) -> Vec<String> {
    let school = &data.institutions.schools[exam.school as usize];
    let lea = &data.institutions.leas[school.lea];
    let student = &data.students[exam.student as usize];
    let assessment = &data.assessments[exam.assessment as usize];
    let family = &catalog.families[assessment.family];
    let (kind, sub_kind) = match family.kind {
        Kind::Summative => ("Summative", "SUM"),
        Kind::Ica => ("Interim", "ICA"),
        Kind::Iab | Kind::Fiab | Kind::Interim => ("Interim", "IAB"),
    };
    let text = |s: Option<crate::model::Sym>| s.map(|s| data.strings.get(s).to_string());
    let d = &exam.demographics;
    let flag = |f: Flag| match d.get(f) {
        Some(true) => "Yes",
        Some(false) => "No",
        None => "",
    };
    // CERS writes the district's 14-digit CDS code and the 7-digit school code.
    let (district_id, school_id) = match school.cds.as_deref() {
        Some(cds) if cds.len() == 14 => (format!("{}0000000", &cds[..7]), cds[7..].to_string()),
        _ => (lea.id.clone(), school.id.clone()),
    };
    let mut cells = vec![
        district_id,
        lea.name.clone(),
        lea.nces.clone().unwrap_or_default(),
        school_id,
        school.name.clone(),
        student.ssid.to_string(),
        student.first_name.to_string(),
        student.last_name.to_string(),
        exam.submitted.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        exam.school_year.to_string(),
        text(exam.session).unwrap_or_default(),
        kind.into(),
        sub_kind.into(),
        assessment.name.clone(),
        family.subject.clone(),
        grade_text(exam.grade),
        match exam.completeness {
            Completeness::Complete => "Complete",
            Completeness::Partial => "Partial",
            Completeness::NotReported => "",
        }
        .into(),
        match exam.condition {
            AdminCondition::Valid => "Valid",
            AdminCondition::Invalid => "IN",
            AdminCondition::Standardized => "SD",
            AdminCondition::Nonstandardized => "NS",
            AdminCondition::NotReported => "",
        }
        .into(),
    ];
    score_cells(&mut cells, &exam.overall);
    for column in 1..=6u8 {
        let alt = exam.alt.iter().find(|(c, _)| *c == column).map(|(_, s)| *s);
        score_cells(&mut cells, &alt.unwrap_or_default());
    }
    cells.extend(exam.claim_levels.map(|l| number(l.map(f32::from))));
    let elas = d.elas;
    let language = text;
    cells.extend([
        match d.sex {
            Some(Sex::Female) => "Female",
            Some(Sex::Male) => "Male",
            Some(Sex::Nonbinary) => "Nonbinary",
            None => "",
        }
        .into(),
        flag(Flag::Migrant).into(),
        flag(Flag::Section504).into(),
        flag(Flag::Iep).into(),
        flag(Flag::Lep).into(),
        language(d.language).unwrap_or_default(),
        language(d.language_alt).unwrap_or_default(),
        flag(Flag::Military).into(),
        elas.map(|e| format!("{e:?}").to_ascii_uppercase())
            .unwrap_or_default(),
        d.elas_start.map(|t| t.to_string()).unwrap_or_default(),
    ]);
    // Race flags: the dictionary's "Yes, Blank (No)".
    for (f, _) in RACE_FLAGS {
        let yes = d.get(f) == Some(true);
        cells.push(if yes { "Yes" } else { "" }.into());
    }
    cells.push(text(exam.accommodations).unwrap_or_default());
    debug_assert_eq!(cells.len(), 64);
    cells
}

/// Level, scale score and standard error cells.
fn score_cells(cells: &mut Vec<String>, s: &Score) {
    cells.extend([
        number(s.level.map(f32::from)),
        number(s.scale),
        number(s.se),
    ]);
}

fn number(v: Option<f32>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// GradeLevelWhenAssessed: two digits, or KG, UG and the like.
fn grade_text(g: Grade) -> String {
    match g {
        Grade::N(n) => format!("{n:02}"),
        other => other.to_string(),
    }
}
