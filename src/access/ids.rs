//! Stable identities. Every bundle and page is named from what it is — a
//! school's code, a group's name, school and year, an assessment and year, a
//! student and the results shown — never from its place in a list, so the
//! same input gives the same names build after build, and a change renames
//! only what it touches.
//!
//! Names that derive from a student are a keyed hash (HMAC-SHA-256 under the
//! deployment's identity key), so that a page name in an address bar or a
//! browser's history cannot be traced back to the student by guessing.

use super::Kind;
use crate::model::{Dataset, Grade};
use hmac::{Hmac, Mac};
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

/// The key of names derived from students where the students are
/// fictitious (the sandbox), so that anyone may compute them.
pub const PUBLIC_KEY: &[u8] = b"scoresite sandbox: fictitious students";

/// The identities of one dataset's groups and assessments, and the key of
/// names derived from students.
pub struct Ids {
    key: Vec<u8>,
    groups: Vec<String>,
    assessments: Vec<String>,
}

impl Ids {
    /// The identities of `data`'s groups and assessments; `key` keys the
    /// names derived from students.
    pub fn new(data: &Dataset, key: &[u8]) -> Ids {
        Ids {
            key: key.to_vec(),
            groups: group_ids(data),
            assessments: unique(data.assessments.iter().map(|a| a.name.as_str())),
        }
    }

    /// Group `g`'s id: a hash of its school, school year and name (16 hex
    /// digits), with `-2`, `-3` … for later groups of the same name, school
    /// and year. My Groups keeps these in the browser.
    pub fn group(&self, g: usize) -> &str {
        &self.groups[g]
    }

    /// The id of assessment `a` in school year `year`, as a page name part:
    /// `a2025-grade-5-ela-summative`.
    pub fn section(&self, year: u16, a: u32) -> String {
        format!("a{year}-{}", self.assessments[a as usize])
    }

    /// The id of the page of `exams` (one student's, or one assessment's for
    /// several students): a keyed hash of the students and the results.
    pub fn exams(&self, data: &Dataset, exams: &[usize]) -> String {
        // Each result by its student, assessment, year and submission, in
        // sorted order, so that the id does not depend on the order given.
        let mut keyed: Vec<(&str, &str, u16, chrono::NaiveDateTime)> = exams
            .iter()
            .map(|&e| {
                let x = &data.exams[e];
                let student = &data.students[x.student as usize].ssid;
                let assessment = &data.assessments[x.assessment as usize].name;
                (&**student, assessment.as_str(), x.school_year, x.submitted)
            })
            .collect();
        keyed.sort_unstable();
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        for (student, assessment, year, submitted) in keyed {
            for text in [student, assessment] {
                mac.update(&(text.len() as u64).to_le_bytes());
                mac.update(text.as_bytes());
            }
            let at = submitted.and_utc();
            mac.update(&year.to_le_bytes());
            mac.update(&at.timestamp().to_le_bytes());
            mac.update(&at.timestamp_subsec_nanos().to_le_bytes());
        }
        hex(&mac.finalize().into_bytes()[..10])
    }
}

/// A bundle's id: its kind and its scope (`school-CDS`, `district-CDS`,
/// `state`), or for a teacher a hash of the groups it shows.
pub(super) fn bundle(
    data: &Dataset,
    ids: &[String],
    kind: Kind,
    schools: &[usize],
    groups: &[usize],
) -> String {
    let kind_name = match kind {
        Kind::Teacher => {
            let mut names: Vec<&str> = groups.iter().map(|&g| ids[g].as_str()).collect();
            names.sort_unstable();
            return format!("teacher-{}", hash(&names.join("\0"), 8));
        }
        Kind::School => "school",
        Kind::District => "district",
        Kind::State => "state",
        Kind::Aggregate => "aggregate",
    };
    let inst = &data.institutions;
    let scope = match schools {
        [] => "none".to_string(),
        [s] => format!("s{}", code(&inst.school_ref(*s))),
        _ if schools.len() == inst.schools.len() && inst.leas.len() > 1 => "all".into(),
        _ => {
            let lea = inst.schools[schools[0]].lea;
            let whole = (0..inst.schools.len())
                .filter(|&s| inst.schools[s].lea == lea)
                .count();
            if schools.iter().all(|&s| inst.schools[s].lea == lea) && whole == schools.len() {
                format!("l{}", code(&inst.leas[lea].id))
            } else {
                let refs: Vec<String> = schools.iter().map(|&s| inst.school_ref(s)).collect();
                format!("h{}", hash(&refs.join("\0"), 8))
            }
        }
    };
    format!("{kind_name}-{scope}")
}

/// A school grade's unit id: `s-CDS-GRADE`.
pub fn school_grade(data: &Dataset, school: usize, grade: Grade) -> String {
    format!("s-{}-{grade}", code(&data.institutions.school_ref(school)))
}

/// Every group's id; see [`Ids::group`].
pub(super) fn group_ids(data: &Dataset) -> Vec<String> {
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    data.groups
        .iter()
        .map(|group| {
            let school = data.institutions.school_ref(group.school);
            let key = hash(
                &format!("{school}\0{}\0{}", group.school_year, group.name),
                8,
            );
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            match *n {
                1 => key,
                n => format!("{key}-{n}"),
            }
        })
        .collect()
}

/// A code as a page name part: itself when it is letters and digits, else
/// its letters and digits and a hash of the whole.
fn code(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return text.to_string();
    }
    format!("{}-{}", slug(text), hash(text, 3))
}

/// Lower-case letters and digits, runs of anything else as one `-`, at most
/// 60 characters.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(60);
    out.trim_end_matches('-').to_string()
}

/// The slugs of distinct `names`; a slug that two names share gets a hash
/// of each name added, so that no two are alike.
fn unique<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let names: Vec<(&str, String)> = names.map(|n| (n, slug(n))).collect();
    let mut count: FxHashMap<&str, usize> = FxHashMap::default();
    for (_, s) in &names {
        *count.entry(s).or_default() += 1;
    }
    names
        .iter()
        .map(|(name, s)| match count[s.as_str()] {
            1 => s.clone(),
            _ => format!("{s}-{}", hash(name, 4)),
        })
        .collect()
}

/// The first `bytes` bytes of SHA-256 of `text`, in hex.
fn hash(text: &str, bytes: usize) -> String {
    hex(&Sha256::digest(text.as_bytes())[..bytes])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn a_shared_page_id_is_keyed_and_names_its_results_in_any_order() {
        let catalog = Catalog::builtin().unwrap();
        let mut data = crate::testing::data(&catalog, true);
        let ids = Ids::new(&data, b"one key");
        let exams: Vec<usize> = (0..data.exams.len()).collect();
        let reversed: Vec<usize> = exams.iter().rev().copied().collect();
        let id = ids.exams(&data, &exams);
        assert_eq!(id.len(), 20);
        assert_eq!(ids.exams(&data, &reversed), id);
        assert_ne!(ids.exams(&data, &exams[1..]), id);
        assert_ne!(Ids::new(&data, b"another key").exams(&data, &exams), id);
        // A result submitted a nanosecond later is another result.
        let at = &mut data.exams[0].submitted;
        *at += chrono::Duration::nanoseconds(1);
        assert_ne!(ids.exams(&data, &exams), id);
    }
}
