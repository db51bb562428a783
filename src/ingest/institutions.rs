//! Institutions: the CALPADS caret-delimited organisation file, or a simple CSV
//! (`lea_id,lea_name,school_id,school_name[,cds]`).

use crate::diag::{Diagnostics, Location};
use crate::model::{Institutions, School};
use std::path::Path;

/// The CALPADS organisation file's header.
pub const CALPADS_HEADER: &str =
    "County-District Code^School Code^Auth CDS Code^County Name^District Name^School Name^Charter School^Charter Status^NPS School";

/// The simple institutions CSV's required columns.
pub const SIMPLE_COLUMNS: &[&str] = &["lea_id", "lea_name", "school_id", "school_name"];

/// True for a CALPADS organisation file's first line.
pub fn recognises_calpads(first_line: &str) -> bool {
    first_line
        .trim_start_matches('\u{feff}')
        .starts_with("County-District Code^")
}

/// True for a simple institutions CSV header.
pub fn recognises_simple(header: &[String]) -> bool {
    SIMPLE_COLUMNS
        .iter()
        .all(|c| header.iter().any(|h| h.eq_ignore_ascii_case(c)))
}

/// Reads a CALPADS organisation file: `#` comments, blank lines and all-blank rows are skipped.
pub fn load_calpads(
    path: &Path,
    text: &str,
    inst: &mut Institutions,
    diags: &mut Diagnostics,
) -> usize {
    let mut count = 0;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| {
            l.trim_start_matches('\u{feff}')
                .split('^')
                .map(str::trim)
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<&str> = CALPADS_HEADER.split('^').collect();
    if header != expected {
        diags.error(
            Location::at(path, 1, 1),
            format!("expected the CALPADS header `{CALPADS_HEADER}`"),
        );
        return 0;
    }
    for (i, line) in lines {
        let line_no = i as u64 + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('^').map(str::trim).collect();
        if f.iter().all(|c| c.is_empty()) {
            continue;
        }
        if f.len() != expected.len() {
            diags.error(
                Location::at(path, line_no, f.len() as u64),
                format!(
                    "{} fields; expected {} separated by ^",
                    f.len(),
                    expected.len()
                ),
            );
            continue;
        }
        let (cd, school_code, district, name) = (f[0], f[1], f[4], f[5]);
        let seven_digits = |s: &str| s.len() == 7 && s.bytes().all(|b| b.is_ascii_digit());
        if !seven_digits(cd) {
            diags.error(
                Location::at(path, line_no, 1),
                format!("County-District Code: expected 7 digits, found `{cd}`"),
            );
            continue;
        }
        if !seven_digits(school_code) {
            diags.error(
                Location::at(path, line_no, 2),
                format!("School Code: expected 7 digits, found `{school_code}`"),
            );
            continue;
        }
        let lea = inst.add_lea(cd, district);
        inst.add_lea_alias(&format!("{cd}0000000"), lea);
        let cds = format!("{cd}{school_code}");
        inst.add_school(
            School {
                id: cds.clone(),
                cds: Some(cds),
                name: name.to_string(),
                lea,
            },
            &[school_code],
        );
        count += 1;
    }
    count
}

/// Reads a simple institutions CSV.
pub fn load_simple(
    path: &Path,
    text: &str,
    inst: &mut Institutions,
    diags: &mut Diagnostics,
) -> usize {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h
            .iter()
            .map(|s| s.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect(),
        Err(e) => {
            diags.error(
                Location::at(path, 1, 1),
                format!("cannot read the header: {e}"),
            );
            return 0;
        }
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(lea_id), Some(lea_name), Some(school_id), Some(school_name)) = (
        col("lea_id"),
        col("lea_name"),
        col("school_id"),
        col("school_name"),
    ) else {
        diags.error(
            Location::at(path, 1, 1),
            format!("expected columns {}", SIMPLE_COLUMNS.join(",")),
        );
        return 0;
    };
    let cds_col = col("cds");
    let mut count = 0;
    let rows: Vec<_> = super::records(path, &mut rdr, diags).collect();
    for (line, record) in rows {
        let get = |i: usize| record.get(i).unwrap_or("");
        let mut missing = false;
        for (i, name) in [(lea_id, "lea_id"), (school_id, "school_id")] {
            if get(i).is_empty() {
                diags.error(
                    Location::at(path, line, i as u64 + 1),
                    format!("{name}: expected an id, found a blank cell"),
                );
                missing = true;
            } else if super::values::is_excel_mangled(get(i)) {
                diags.error(
                    Location::at(path, line, i as u64 + 1),
                    format!(
                        "{name}: expected an id, found `{}` (Excel scientific notation)",
                        get(i)
                    ),
                );
                missing = true;
            }
        }
        if missing {
            continue;
        }
        let lea = inst.add_lea(get(lea_id), get(lea_name));
        let cds = cds_col
            .map(|i| get(i).to_string())
            .filter(|s| !s.is_empty());
        inst.add_school(
            School {
                id: get(school_id).to_string(),
                cds,
                name: get(school_name).to_string(),
                lea,
            },
            &[],
        );
        count += 1;
    }
    count
}
