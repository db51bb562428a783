//! The advanced filters of Results by Student: which filters a section
//! offers its viewer, and each row's value for each of them.
//!
//! The page's script hides the rows that do not match and recomputes the
//! Results Summary from the rows left, so a filter never needs data the
//! table does not already hold for this viewer.

use crate::aggregate::{subgroups, DIMENSIONS};
use crate::deployment::{Deployment, Visibility};
use crate::model::{AdminCondition, Completeness, Exam};
use serde::Serialize;
use std::collections::BTreeMap;

/// Who reads a section's rows: their role and the school of the group (a
/// result from another school is "tested elsewhere").
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    /// An administrator sees fields set to `admin` visibility.
    pub admin: bool,
    pub school: u32,
}

/// One filter: a select of the values the section's rows hold.
#[derive(Debug, Serialize)]
pub struct Filter {
    pub key: &'static str,
    pub label: &'static str,
    /// (value as the rows carry it, label)
    pub options: Vec<(u16, String)>,
}

/// The filters a section offers, and per row (in `exams` order) its value
/// for each filter, in the list's order, as the rows' `data-f`.
pub struct Filters {
    pub list: Vec<Filter>,
    pub rows: Vec<String>,
}

/// A filter's key, label and each exam's value with its label.
type Column<'a> = (&'static str, &'static str, Vec<(u16, String)>);

/// Every filter with two or more values among `exams` that `viewer` may use.
pub fn filters(dep: &Deployment, exams: &[usize], viewer: Viewer) -> Filters {
    let data = &dep.data;
    let rows: Vec<&Exam> = exams.iter().map(|&e| &data.exams[e]).collect();
    let groups: Vec<[u8; 10]> = rows.iter().map(|x| subgroups(x)).collect();
    let mut columns: Vec<Column> = Vec::new();
    for (d, &(key, label, field, names)) in DIMENSIONS.iter().enumerate() {
        let shown = match dep.settings.visibility(field) {
            _ if field.is_empty() => true,
            Visibility::Enabled => true,
            Visibility::Admin => viewer.admin,
            Visibility::Disabled => false,
        };
        if shown {
            let values = groups
                .iter()
                .map(|g| (g[d] as u16, names[g[d] as usize].to_string()));
            columns.push((key, label, values.collect()));
        }
    }
    columns.push((
        "completeness",
        "Completeness",
        rows.iter().map(|x| completeness(x.completeness)).collect(),
    ));
    columns.push((
        "condition",
        "Administration condition",
        rows.iter().map(|x| condition(x.condition)).collect(),
    ));
    columns.push((
        "offgrade",
        "Grade tested",
        rows.iter()
            .map(|x| {
                let tested = data.assessments[x.assessment as usize].grade;
                match tested {
                    Some(g) if g != x.grade => (1, "Off grade (not the enrolled grade)".into()),
                    _ => (0, "The enrolled grade".into()),
                }
            })
            .collect(),
    ));
    columns.push((
        "school",
        "Where tested",
        rows.iter()
            .map(|x| match x.school == viewer.school {
                true => (0, "At this group's school".into()),
                false => (1, "At another school".into()),
            })
            .collect(),
    ));
    columns.push(("session", "Session", sessions(dep, &rows)));
    let columns: Vec<Column> = columns
        .into_iter()
        .filter(|(_, _, values)| {
            let first = values.first().map(|v| v.0);
            values.iter().any(|v| Some(v.0) != first)
        })
        .collect();
    let rows = (0..exams.len())
        .map(|i| {
            let words: Vec<String> = columns
                .iter()
                .map(|(_, _, values)| values[i].0.to_string())
                .collect();
            words.join(" ")
        })
        .collect();
    let list = columns
        .into_iter()
        .map(|(key, label, values)| {
            let options: BTreeMap<u16, String> = values.into_iter().collect();
            Filter {
                key,
                label,
                options: options.into_iter().collect(),
            }
        })
        .collect();
    Filters { list, rows }
}

fn completeness(c: Completeness) -> (u16, String) {
    match c {
        Completeness::Complete => (0, "Complete".into()),
        Completeness::Partial => (1, "Partial".into()),
        Completeness::NotReported => (2, "Not reported".into()),
    }
}

fn condition(c: AdminCondition) -> (u16, String) {
    match c {
        AdminCondition::Valid => (0, "Valid".into()),
        AdminCondition::Invalid => (1, "Invalid".into()),
        AdminCondition::Standardized => (2, "Standardized".into()),
        AdminCondition::Nonstandardized => (3, "Nonstandardized".into()),
        AdminCondition::NotReported => (4, "Not reported".into()),
    }
}

/// Each row's session, numbered in the sessions' sorted order (0: none).
fn sessions(dep: &Deployment, rows: &[&Exam]) -> Vec<(u16, String)> {
    let name = |x: &Exam| x.session.map(|s| dep.data.strings.get(s).to_string());
    let names: std::collections::BTreeSet<String> = rows.iter().filter_map(|x| name(x)).collect();
    let number: BTreeMap<&str, u16> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u16 + 1))
        .collect();
    rows.iter()
        .map(|x| match name(x) {
            Some(n) => (number[n.as_str()], n),
            None => (0, "No session".into()),
        })
        .collect()
}
