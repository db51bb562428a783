//! The District/School Export: a bundle's exams written back out in CERS's
//! own 64-column layout, so that an administrator gets the file CERS would
//! give them, scoped to what they may see; student fields the deployment
//! disables are left blank. The sandbox writes its fictitious
//! export with the same header and writer.

use super::safe_record;
use crate::deployment::{Deployment, Visibility};
use crate::ingest::cers;
use crate::ingest::cers_cells::Cells;
use crate::model::{Exam, RACE_FLAGS};
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

/// Writes the export of `exams` (indices into the dataset's exams) to `out`:
/// header and one row per exam, in the order given, as each is made (a
/// district's export of a year can be gigabytes).
pub fn write(dep: &Deployment, exams: &[usize], mut out: &mut dyn Write) -> Result<()> {
    header(&mut out)?;
    rows(dep, exams, out)
}

/// Writes the rows of [`write()`], without the header.
pub fn rows(dep: &Deployment, exams: &[usize], out: &mut dyn Write) -> Result<()> {
    let mut w = writer(out);
    let shown = shown_columns(dep);
    let mut written = Cells::default();
    for &e in exams {
        let exam = &dep.data.exams[e];
        written.fill(&dep.data, &dep.catalog, exam);
        // The columns of the file the exam came from (all, for other formats).
        let had = dep.data.export_columns.get(&exam.origin.file);
        let masks = (shown, had.copied().unwrap_or(u64::MAX));
        safe_record(&mut w, (0..64).map(|i| cell(dep, exam, &written, masks, i)))?;
    }
    w.flush()?;
    Ok(())
}

/// The columns a deployment's field visibility governs (race/ethnicity's are
/// the [`RACE_FLAGS`] columns).
const FIELD_COLUMNS: &[(&str, &[&str])] = &[
    ("gender", &["Sex"]),
    ("migrant", &["MigrantStatus"]),
    ("section_504", &["Section504Status"]),
    ("iep", &["IDEAIndicator"]),
    ("lep", &["LEPStatus"]),
    ("language", &["LanguageCode", "LanguageAltCode"]),
    ("military", &["MilitaryConnectedStudentIndicator"]),
    (
        "elas",
        &[
            "EnglishLanguageAcquisitionStatus",
            "EnglishLanguageAcquisitionStatusStartDate",
        ],
    ),
];

/// The columns (bit `i` for column `i`) whose fields the deployment does
/// not disable.
fn shown_columns(dep: &Deployment) -> u64 {
    let layout = cers::columns_64();
    let race = RACE_FLAGS.map(|(_, column)| column);
    let governed = FIELD_COLUMNS
        .iter()
        .copied()
        .chain(std::iter::once(("race_ethnicity", &race[..])));
    let mut shown = u64::MAX;
    for (field, columns) in governed {
        if dep.settings.visibility(field) == Visibility::Disabled {
            for c in columns {
                if let Some(i) = layout.iter().position(|l| l == c) {
                    shown &= !(1 << i);
                }
            }
        }
    }
    shown
}

/// Cell `i` of an exam's row: blank where the deployment disables its
/// field (`masks.0`); what the export row held where the exam came from one
/// (columns the file lacked, not in `masks.1`, stay blank); else the loaded
/// value, `written`.
fn cell<'a>(
    dep: &'a Deployment,
    exam: &Exam,
    written: &'a Cells,
    (shown, had): (u64, u64),
    i: usize,
) -> &'a str {
    if shown & (1 << i) == 0 {
        return "";
    }
    if let Some(&(_, sym)) = exam.raw.iter().find(|(c, _)| *c as usize == i) {
        return dep.data.strings.get(sym);
    }
    if had & (1 << i) == 0 {
        return "";
    }
    written.get(i)
}
