//! How a loaded exam is written in the CERS District/School Export's
//! 64-column layout. Ingest compares each export row with it to keep the
//! cells that would not come back as they came in; the District/School
//! Export writes with it.

use crate::catalog::{Catalog, Kind};
use crate::model::{
    AdminCondition, Completeness, Dataset, Exam, Flag, Grade, Score, Sex, RACE_FLAGS,
};
use std::borrow::Cow;

/// How the District/School Export writes `exam` in the 64-column layout,
/// from the loaded values, every field shown. Cells borrow from the dataset
/// where they can: ingest compares every row with them.
pub fn cells<'a>(data: &'a Dataset, catalog: &'a Catalog, exam: &'a Exam) -> Vec<Cow<'a, str>> {
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
    let text = |s: Option<crate::model::Sym>| Cow::Borrowed(s.map_or("", |s| data.strings.get(s)));
    let d = &exam.demographics;
    let flag = |f: Flag| match d.get(f) {
        Some(true) => "Yes",
        Some(false) => "No",
        None => "",
    };
    // CERS writes the district's 14-digit CDS code and the 7-digit school code.
    let (district_id, school_id): (Cow<str>, Cow<str>) = match school.cds.as_deref() {
        Some(cds) if cds.len() == 14 => (format!("{}0000000", &cds[..7]).into(), cds[7..].into()),
        _ => (lea.id.as_str().into(), school.id.as_str().into()),
    };
    let mut cells: Vec<Cow<str>> = Vec::with_capacity(64);
    cells.extend([
        district_id,
        lea.name.as_str().into(),
        lea.nces.as_deref().unwrap_or("").into(),
        school_id,
        school.name.as_str().into(),
        (&*student.ssid).into(),
        (&*student.first_name).into(),
        (&*student.last_name).into(),
        datetime_text(exam.submitted).into(),
        exam.school_year.to_string().into(),
        text(exam.session),
        kind.into(),
        sub_kind.into(),
        assessment.name.as_str().into(),
        family.subject.as_str().into(),
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
    ]);
    score_cells(&mut cells, &exam.overall);
    for column in 1..=6u8 {
        let alt = exam.alt.iter().find(|(c, _)| *c == column).map(|(_, s)| *s);
        score_cells(&mut cells, &alt.unwrap_or_default());
    }
    cells.extend(exam.claim_levels.map(|l| number(l.map(f32::from))));
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
        text(d.language),
        text(d.language_alt),
        flag(Flag::Military).into(),
        d.elas.map_or(Cow::Borrowed(""), |e| {
            format!("{e:?}").to_ascii_uppercase().into()
        }),
        d.elas_start
            .map_or(Cow::Borrowed(""), |t| t.to_string().into()),
    ]);
    // Race flags: the dictionary's "Yes, Blank (No)".
    for (f, _) in RACE_FLAGS {
        let yes = d.get(f) == Some(true);
        cells.push(if yes { "Yes" } else { "" }.into());
    }
    cells.push(text(exam.accommodations));
    debug_assert_eq!(cells.len(), 64);
    cells
}

/// Level, scale score and standard error cells.
fn score_cells(cells: &mut Vec<Cow<str>>, s: &Score) {
    cells.extend([
        number(s.level.map(f32::from)),
        number(s.scale),
        number(s.se),
    ]);
}

fn number(v: Option<f32>) -> Cow<'static, str> {
    v.map_or(Cow::Borrowed(""), |v| v.to_string().into())
}

/// SubmitDateTime as CERS writes it (`2018-04-26 05:00:39.734000`), without
/// chrono's format-string parser, which ingest would run on every row.
fn datetime_text(t: chrono::NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 1000
    )
}

/// GradeLevelWhenAssessed: two digits, or KG, UG and the like.
fn grade_text(g: Grade) -> Cow<'static, str> {
    match g {
        Grade::N(n) => format!("{n:02}").into(),
        other => other.to_string().into(),
    }
}
