//! The District/School Export: a bundle's exams written back out in CERS's
//! own 64-column layout, so that an administrator gets the file CERS would
//! give them, scoped to what they may see; student fields the deployment
//! disables are left blank. The sandbox writes its fictitious
//! export with the same header and writer.

use super::csv_safe;
use crate::catalog::Kind;
use crate::deployment::{Deployment, Visibility};
use crate::ingest::cers;
use crate::model::{AdminCondition, Completeness, Exam, Flag, Grade, Score, Sex, RACE_FLAGS};
use anyhow::Result;
use std::io::Write;

/// The export's header line, quoted as CERS writes it, after a BOM.
pub fn header(out: &mut impl Write) -> Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = writer(out);
    w.write_record(cers::columns_64())?;
    w.flush()?;
    Ok(())
}

/// A CSV writer in CERS's style: every field quoted, CRLF line ends.
pub fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// The export of `exams` (indices into the dataset's exams): header and one
/// row per exam, in the order given.
pub fn export(dep: &Deployment, exams: &[usize]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512 * (exams.len() + 1));
    header(&mut out)?;
    let mut w = writer(out);
    for &e in exams {
        w.write_record(row(dep, &dep.data.exams[e]).iter().map(|c| csv_safe(c)))?;
    }
    Ok(w.into_inner()?)
}

/// One exam's 64 cells.
fn row(dep: &Deployment, exam: &Exam) -> Vec<String> {
    let data = &dep.data;
    let school = &data.institutions.schools[exam.school as usize];
    let lea = &data.institutions.leas[school.lea];
    let student = &data.students[exam.student as usize];
    let assessment = &data.assessments[exam.assessment as usize];
    let family = &dep.catalog.families[assessment.family];
    let (kind, sub_kind) = match family.kind {
        Kind::Summative => ("Summative", "SUM"),
        Kind::Ica => ("Interim", "ICA"),
        Kind::Iab | Kind::Fiab | Kind::Interim => ("Interim", "IAB"),
    };
    let text = |s: Option<crate::model::Sym>| s.map(|s| data.strings.get(s).to_string());
    let d = &exam.demographics;
    // Fields the deployment disables are left blank.
    let shown = |field: &str| dep.settings.visibility(field) != Visibility::Disabled;
    let flag = |f: Flag, field: &str| match d.get(f).filter(|_| shown(field)) {
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
    let elas = d.elas.filter(|_| shown("elas"));
    let language = |s: Option<crate::model::Sym>| text(s.filter(|_| shown("language")));
    cells.extend([
        match d.sex.filter(|_| shown("gender")) {
            Some(Sex::Female) => "Female",
            Some(Sex::Male) => "Male",
            Some(Sex::Nonbinary) => "Nonbinary",
            None => "",
        }
        .into(),
        flag(Flag::Migrant, "migrant").into(),
        flag(Flag::Section504, "section_504").into(),
        flag(Flag::Iep, "iep").into(),
        flag(Flag::Lep, "lep").into(),
        language(d.language).unwrap_or_default(),
        language(d.language_alt).unwrap_or_default(),
        flag(Flag::Military, "military").into(),
        elas.map(|e| format!("{e:?}").to_ascii_uppercase())
            .unwrap_or_default(),
        d.elas_start
            .filter(|_| shown("elas"))
            .map(|t| t.to_string())
            .unwrap_or_default(),
    ]);
    // Race flags: the dictionary's "Yes, Blank (No)".
    for (f, _) in RACE_FLAGS {
        let yes = d.get(f) == Some(true) && shown("race_ethnicity");
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
