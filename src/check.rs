//! `scoresite check`: load, validate, and print a summary with every problem found.

use crate::deployment::Deployment;
use crate::diag::{Diagnostics, Severity};
use crate::ingest::Format;
use crate::pipeline;
use crate::validate::Summary;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::path::PathBuf;

/// The outcome of a check: the summary text (if the deployment loaded) and every diagnostic.
pub struct Outcome {
    pub summary: Option<String>,
    pub diagnostics: Diagnostics,
}

/// Loads and validates the deployment at `root`.
pub fn run(root: &Path) -> Outcome {
    let mut diagnostics = Diagnostics::default();
    let summary = pipeline::load(root, &mut diagnostics)
        .map(|v| render(&v.deployment, &v.summary, &diagnostics));
    Outcome {
        summary,
        diagnostics,
    }
}

/// Files to list: each file, except that a format with many files (one TRT
/// document per opportunity) gets one line for their common folder.
fn file_lines(dep: &Deployment) -> Vec<(String, Format, usize)> {
    const MANY: usize = 10;
    let relative = |p: &Path| p.strip_prefix(&dep.root).unwrap_or(p).to_path_buf();
    let mut by_format: BTreeMap<Format, Vec<(&PathBuf, usize)>> = BTreeMap::new();
    for (path, format, count) in &dep.report.files {
        by_format.entry(*format).or_default().push((path, *count));
    }
    let mut lines = Vec::new();
    for (path, format, count) in &dep.report.files {
        let same = &by_format[format];
        if same.len() <= MANY {
            lines.push((relative(path).display().to_string(), *format, *count));
        } else if std::ptr::eq(same[0].0, path) {
            let mut common = relative(path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for (p, _) in same {
                while !relative(p).starts_with(&common) {
                    common = common.parent().map(Path::to_path_buf).unwrap_or_default();
                }
            }
            let total = same.iter().map(|(_, c)| c).sum();
            lines.push((
                format!("{}/… ({} files)", common.display(), same.len()),
                *format,
                total,
            ));
        }
    }
    lines
}

/// Students known only from rosters.
fn untested_students(data: &crate::model::Dataset) -> usize {
    let mut tested = vec![false; data.students.len()];
    for e in &data.exams {
        tested[e.student as usize] = true;
    }
    tested.iter().filter(|t| !**t).count()
}

/// How many schools are listed one by one; past this, only counts per LEA.
const SCHOOLS_LISTED: usize = 60;

/// Lists each LEA with its schools (id, CDS code, name, exams), so that two
/// schools that share an id in different LEAs are plainly two.
fn schools(out: &mut String, data: &crate::model::Dataset) {
    let inst = &data.institutions;
    let mut exams = vec![0usize; inst.schools.len()];
    for e in &data.exams {
        exams[e.school as usize] += 1;
    }
    for (l, lea) in inst.leas.iter().enumerate() {
        let mine: Vec<usize> = (0..inst.schools.len())
            .filter(|&s| inst.schools[s].lea == l)
            .collect();
        let _ = writeln!(
            out,
            "  LEA {} {}: {} school(s), {} exam(s)",
            lea.id,
            lea.name,
            mine.len(),
            mine.iter().map(|&s| exams[s]).sum::<usize>()
        );
        if inst.schools.len() > SCHOOLS_LISTED {
            continue;
        }
        for s in mine {
            let school = &inst.schools[s];
            let _ = writeln!(
                out,
                "    {:<16} {:<14} {:<40} {:>8} exam(s)",
                inst.school_ref(s),
                school.cds.as_deref().unwrap_or(""),
                school.name,
                exams[s]
            );
        }
    }
}

/// Prints the summary: files read, institutions, counts by family and year, and totals.
fn render(dep: &Deployment, s: &Summary, diags: &Diagnostics) -> String {
    let mut out = String::new();
    let data = &dep.data;
    let _ = writeln!(out, "{}: {}", dep.root.display(), dep.settings.name);
    let _ = writeln!(out, "\nFiles");
    for (shown, format, count) in file_lines(dep) {
        let _ = writeln!(
            out,
            "  {:<48} {:<28} {:>9}",
            shown,
            format.describe(),
            count
        );
    }
    let _ = writeln!(
        out,
        "\nInstitutions: {} LEA(s), {} school(s)   Students: {}   Exams: {}   Groups: {}   Users: {}",
        data.institutions.leas.len(),
        data.institutions.schools.len(),
        data.students.len(),
        data.exams.len(),
        data.groups.len(),
        dep.users.len()
    );
    schools(&mut out, data);
    if dep.report.duplicates > 0 {
        let _ = writeln!(
            out,
            "Duplicate opportunities resolved: {}",
            dep.report.duplicates
        );
    }
    if dep.report.joined > 0 {
        let _ = writeln!(
            out,
            "TRT documents joined to their export rows: {}",
            dep.report.joined
        );
    }
    let untested = untested_students(data);
    if untested > 0 {
        let _ = writeln!(out, "Students on rosters without results: {untested}");
    }
    if !data.untested.is_empty() {
        let _ = writeln!(
            out,
            "Tests not taken, from Student Score Data Files (for participation rates): {}",
            data.untested.len()
        );
    }
    if s.levels_derived > 0 {
        let _ = writeln!(
            out,
            "Blank levels filled from the catalog's cut scores: {}",
            s.levels_derived
        );
    }
    let years: BTreeSet<u16> = s.exams.keys().map(|(_, y)| *y).collect();
    if !years.is_empty() {
        let _ = writeln!(out, "\nExams by assessment family and school year");
        let _ = write!(out, "  {:<36}", "family");
        for y in &years {
            let _ = write!(out, " {:>7}", y);
        }
        let _ = writeln!(out, " {:>8}", "total");
        for family in &dep.catalog.families {
            let counts: Vec<usize> = years
                .iter()
                .map(|y| s.exams.get(&(family.id.clone(), *y)).copied().unwrap_or(0))
                .collect();
            let total: usize = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let _ = write!(out, "  {:<36}", family.short_name);
            for c in counts {
                let _ = write!(out, " {:>7}", c);
            }
            let _ = writeln!(out, " {:>8}", total);
        }
    }
    let _ = writeln!(
        out,
        "\n{} error(s), {} warning(s)",
        diags.error_count(),
        diags.warning_count()
    );
    out
}

/// How many warnings are printed before the rest are counted instead.
pub const WARNINGS_SHOWN: usize = 200;

/// Writes every error, and up to `WARNINGS_SHOWN` warnings, to `out`.
pub fn print_diagnostics(
    diags: &Diagnostics,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut warnings = 0;
    for d in diags.iter() {
        if d.severity == Severity::Warning {
            warnings += 1;
            if warnings > WARNINGS_SHOWN {
                continue;
            }
        }
        writeln!(out, "{d}")?;
    }
    if warnings > WARNINGS_SHOWN {
        writeln!(out, "… and {} more warning(s)", warnings - WARNINGS_SHOWN)?;
    }
    Ok(())
}
