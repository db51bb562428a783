//! The District/School Export: a bundle's exams written back out in CERS's
//! own 64-column layout, so that an administrator gets the file CERS would
//! give them, scoped to what they may see; student fields the deployment
//! disables are left blank. The sandbox writes its fictitious
//! export with the same header and writer.

use super::csv_safe;
use crate::deployment::{Deployment, Visibility};
use crate::ingest::{cers, cers_cells};
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

/// One exam's 64 cells: what its export row held where it came from one
/// (columns the file lacked stay blank), the loaded values otherwise, and
/// blank for the fields the deployment disables.
fn row(dep: &Deployment, exam: &Exam) -> Vec<String> {
    let data = &dep.data;
    let mut cells: Vec<String> = cers_cells::cells(data, &dep.catalog, exam)
        .into_iter()
        .map(|c| c.into_owned())
        .collect();
    if let Some(mask) = data.export_columns.get(&exam.origin.file) {
        for (i, cell) in cells.iter_mut().enumerate() {
            if mask & (1 << i) == 0 {
                cell.clear();
            }
        }
    }
    for &(i, sym) in exam.raw.iter() {
        cells[i as usize] = data.strings.get(sym).to_string();
    }
    let layout = cers::columns_64();
    let race = RACE_FLAGS.map(|(_, column)| column);
    let governed = FIELD_COLUMNS
        .iter()
        .copied()
        .chain(std::iter::once(("race_ethnicity", &race[..])));
    for (field, columns) in governed {
        if dep.settings.visibility(field) == Visibility::Disabled {
            for c in columns {
                if let Some(i) = layout.iter().position(|l| l == c) {
                    cells[i].clear();
                }
            }
        }
    }
    cells
}
