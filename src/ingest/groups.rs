//! RDW's student-groups CSV:
//! `group_name,school_natural_id,school_year,subject_code,student_ssid,group_user_login`.
//!
//! As RDW does, it accepts CR, LF and CRLF line endings, comma or tab separators,
//! and trims stray whitespace. A group's rows must be contiguous, a group holds at
//! most 200 students, and its subject (blank or `All` for every subject) is one
//! value for the whole group.

use super::values;
use crate::diag::{Diagnostics, Location};
use crate::model::{Dataset, Found, Group, SUBJECTS};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The exact header, in order.
pub const HEADER: [&str; 6] = [
    "group_name",
    "school_natural_id",
    "school_year",
    "subject_code",
    "student_ssid",
    "group_user_login",
];

/// RDW's cap on students per group.
pub const MAX_STUDENTS: usize = 200;

/// True for a groups file's header (any separator, any spacing, any case).
pub fn recognises(header: &[String]) -> bool {
    header.len() == HEADER.len()
        && header
            .iter()
            .zip(HEADER)
            .all(|(h, e)| h.eq_ignore_ascii_case(e))
}

/// The separator of a groups file: tab when its first line has tabs and no commas.
pub fn delimiter(first_line: &str) -> u8 {
    if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    }
}

/// A group being read: its key and where its rows started.
struct Open {
    key: (String, String, u16),
    first_line: u64,
    group: usize,
    seen: HashSet<u32>,
    /// The subject once given: `Some(None)` is All.
    subject: Option<Option<String>>,
}

/// Reads a groups file into `data.groups`. Students must already be loaded, so
/// members who are not in any results file are reported.
pub fn load(path: &Path, text: &str, data: &mut Dataset, diags: &mut Diagnostics) -> usize {
    let first_line = text.lines().next().unwrap_or("");
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter(first_line))
        .from_reader(text.as_bytes());
    let mut records = super::records(path, &mut rdr, diags)
        .collect::<Vec<_>>()
        .into_iter();
    let header: Vec<String> = match records.next() {
        Some((_, h)) => h
            .iter()
            .map(|s| s.trim_start_matches('\u{feff}').trim().to_string())
            .collect(),
        _ => return 0,
    };
    if !recognises(&header) {
        let at = header
            .iter()
            .zip(HEADER)
            .position(|(h, e)| !h.eq_ignore_ascii_case(e))
            .unwrap_or(header.len().min(HEADER.len()));
        diags.error(
            Location::at(path, 1, at as u64 + 1),
            format!("expected the header `{}`", HEADER.join(",")),
        );
        return 0;
    }
    let mut closed: HashMap<(String, String, u16), u64> = HashMap::new();
    let mut open: Option<Open> = None;
    // A group whose school is unknown: its rows are passed over.
    let mut skipped: Option<(String, String, u16)> = None;
    let before = data.groups.len();
    for (line, record) in records {
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != HEADER.len() {
            diags.error(
                Location::at(path, line, record.len() as u64),
                format!("{} fields; expected 6", record.len()),
            );
            continue;
        }
        let f: Vec<&str> = record.iter().collect();
        let at = |col: usize| Location::at(path, line, col as u64 + 1);
        let mut bad = false;
        for (col, name) in [(0, "group_name"), (1, "school_natural_id")] {
            if f[col].is_empty() {
                diags.error(at(col), format!("{name}: expected a value on every row"));
                bad = true;
            }
        }
        let year = match values::school_year(f[2]) {
            Ok(y) => y,
            Err(e) => {
                diags.error(at(2), format!("school_year: expected {e}"));
                bad = true;
                0
            }
        };
        if bad {
            continue;
        }
        let key = (f[0].to_string(), f[1].to_string(), year);
        if skipped.as_ref() == Some(&key) {
            continue;
        }
        if let Some(k) = skipped.take() {
            closed.insert(k, line);
        }
        if open.as_ref().is_none_or(|o| o.key != key) {
            if let Some(o) = open.take() {
                closed.insert(o.key, o.first_line);
            }
            if let Some(first) = closed.get(&key) {
                diags.error(
                    at(0),
                    format!("group `{}` continues here after other groups; expected all of its rows together (it began on line {first})", key.0),
                );
                continue;
            }
            let school = match data.institutions.find_school(&key.1) {
                Found::One(s) => Some(s),
                Found::None => {
                    diags.error(at(1), format!("school_natural_id `{}` is not a known school; expected a school in the institutions or results files", key.1));
                    None
                }
                Found::Many(many) => {
                    diags.error(at(1), format!("school_natural_id `{}` names schools in several LEAs: {}; expected the school's 14-digit CDS code or LEA/ID", key.1, data.institutions.describe_schools(&many)));
                    None
                }
            };
            let Some(school) = school else {
                // The group's later rows are skipped quietly: one error, not one per row.
                skipped = Some(key);
                continue;
            };
            data.groups.push(Group {
                name: key.0.clone(),
                school,
                school_year: year,
                subject: None,
                students: Vec::new(),
                users: Vec::new(),
            });
            open = Some(Open {
                key,
                first_line: line,
                group: data.groups.len() - 1,
                seen: HashSet::new(),
                subject: None,
            });
        }
        let Some(o) = open.as_mut() else { continue };
        add_row(&f, o, data, &at, diags);
    }
    data.groups.len() - before
}

fn add_row(
    f: &[&str],
    o: &mut Open,
    data: &mut Dataset,
    at: &dyn Fn(usize) -> Location,
    diags: &mut Diagnostics,
) {
    let (subject, ssid, login) = (f[3], f[4], f[5]);
    if !subject.is_empty() {
        let all = subject.eq_ignore_ascii_case("all");
        match SUBJECTS.iter().find(|s| s.eq_ignore_ascii_case(subject)) {
            None if !all => diags.error(
                at(3),
                format!(
                    "subject_code: expected All or one of {}, found `{subject}`",
                    SUBJECTS.join(", ")
                ),
            ),
            code => {
                let code = code.map(|s| s.to_string());
                match &o.subject {
                    Some(prev) if *prev != code => diags.error(
                        at(3),
                        format!("subject_code `{subject}` conflicts with `{}` given earlier for group `{}`", prev.as_deref().unwrap_or("All"), o.key.0),
                    ),
                    _ => {
                        data.groups[o.group].subject = code.clone();
                        o.subject = Some(code);
                    }
                }
            }
        }
    }
    if !ssid.is_empty() {
        match values::id(ssid) {
            Err(e) => diags.error(at(4), format!("student_ssid: expected {e}")),
            // A student on a roster without results yet (kindergarten, new
            // arrivals) is still a member; the summary counts them.
            Ok(ssid) => {
                let s = data
                    .student(ssid)
                    .unwrap_or_else(|| data.upsert_student(ssid, "", ""));
                if !o.seen.insert(s) {
                    diags.warn(
                        at(4),
                        format!("student `{ssid}` is listed twice in group `{}`", o.key.0),
                    );
                } else if o.seen.len() > MAX_STUDENTS {
                    diags.error(at(4), format!("group `{}` has more than {MAX_STUDENTS} students; expected at most {MAX_STUDENTS}", o.key.0));
                } else {
                    data.groups[o.group].students.push(s);
                }
            }
        }
    }
    if !login.is_empty() {
        let users = &mut data.groups[o.group].users;
        if !users.iter().any(|u| u.eq_ignore_ascii_case(login)) {
            users.push(login.to_ascii_lowercase());
        }
    }
}
