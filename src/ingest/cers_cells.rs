//! How a loaded exam is written in the CERS District/School Export's
//! 64-column layout. Ingest compares each export row with it to keep the
//! cells that would not come back as they came in; the District/School
//! Export writes with it.

use super::record::Shown;
use crate::catalog::{Catalog, Kind};
use crate::model::{
    AdminCondition, Completeness, Dataset, Elas, Exam, Flag, Grade, Score, Sex, RACE_FLAGS,
};
use std::fmt::Write as _;

/// The 64 cells of one exam as the District/School Export writes them, held
/// in one buffer that is filled again for each exam, so that comparing or
/// writing millions of rows allocates nothing per row.
#[derive(Debug, Default)]
pub struct Cells {
    text: String,
    ends: Vec<usize>,
}

impl Cells {
    /// Cell `i` (0-based) of the last exam filled.
    pub fn get(&self, i: usize) -> &str {
        &self.text[self.range(i)]
    }

    /// Where cell `i` is in `text`.
    fn range(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        start..self.ends[i]
    }

    /// Among `cells` (bit `i` for cell `i`), those whose text in `record`,
    /// field `layout[i]`, is not the one filled here; a cell the file lacks
    /// differs in nothing.
    pub fn differing(
        &self,
        record: &csv::StringRecord,
        layout: &[Option<usize>],
        cells: u64,
    ) -> u64 {
        let mut differs = 0;
        let mut left = cells;
        while left != 0 {
            let i = left.trailing_zeros() as usize;
            left &= left - 1;
            let written = &self.text.as_bytes()[self.range(i)];
            if let Some(cell) = layout.get(i).copied().flatten().and_then(|f| record.get(f)) {
                if !crate::model::same(cell.as_bytes(), written) {
                    differs |= 1 << i;
                }
            }
        }
        differs
    }

    fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.end();
    }

    /// Ends the cell written into `text` since the last end.
    fn end(&mut self) {
        self.ends.push(self.text.len());
    }

    fn number(&mut self, v: Option<f32>) {
        if let Some(v) = v {
            number_text(&mut self.text, v);
        }
        self.end();
    }

    /// Level, scale score and standard error cells.
    fn score(&mut self, s: &Score) {
        self.number(s.level.map(f32::from));
        self.number(s.scale);
        self.number(s.se);
    }

    /// Fills the cells with how the export writes `exam` in the 64-column
    /// layout, from the loaded values, every field shown.
    pub fn fill(&mut self, data: &Dataset, catalog: &Catalog, exam: &Exam) {
        self.write(Some((data, catalog, exam)), Some(&Shown::of(data, exam)));
    }

    /// Fills only the cells a row's own values decide ([`Shown`]); the
    /// others ([`DECIDED_ELSEWHERE`]) are left blank.
    pub fn fill_shown(&mut self, shown: &Shown) {
        self.write(None, Some(shown));
    }

    /// Fills only the [`DECIDED_ELSEWHERE`] cells of `exam`; the others are
    /// left blank.
    pub fn fill_elsewhere(&mut self, data: &Dataset, catalog: &Catalog, exam: &Exam) {
        self.write(Some((data, catalog, exam)), None);
    }

    /// Writes the 64 cells: those of `whole`'s district, school, student and
    /// assessment, and those `shown`; either left out leaves its cells blank.
    fn write(&mut self, whole: Option<(&Dataset, &Catalog, &Exam)>, shown: Option<&Shown>) {
        self.text.clear();
        self.ends.clear();
        match whole {
            Some((data, _, exam)) => self.place(data, exam),
            None => self.blank(8),
        }
        match shown {
            Some(s) => self.taken(s),
            None => self.blank(3),
        }
        match whole {
            Some((data, catalog, exam)) => self.assessment(data, catalog, exam),
            None => self.blank(4),
        }
        match shown {
            Some(s) => self.scored(s),
            None => self.blank(49),
        }
        debug_assert_eq!(self.ends.len(), 64);
    }

    fn blank(&mut self, cells: usize) {
        for _ in 0..cells {
            self.end();
        }
    }

    /// Cells 0–7: district, school and student.
    fn place(&mut self, data: &Dataset, exam: &Exam) {
        let school = &data.institutions.schools[exam.school as usize];
        let lea = &data.institutions.leas[school.lea];
        let student = &data.students[exam.student as usize];
        // CERS writes the district's 14-digit CDS code and the 7-digit school code.
        match school.cds.as_deref() {
            Some(cds) if cds.len() == 14 => {
                self.text.push_str(&cds[..7]);
                self.push("0000000");
                self.push(lea.name.as_str());
                self.push(lea.nces.as_deref().unwrap_or(""));
                self.push(&cds[7..]);
            }
            _ => {
                self.push(lea.id.as_str());
                self.push(lea.name.as_str());
                self.push(lea.nces.as_deref().unwrap_or(""));
                self.push(school.id.as_str());
            }
        }
        self.push(school.name.as_str());
        self.push(&student.ssid);
        self.push(&student.first_name);
        self.push(&student.last_name);
    }

    /// Cells 8–10: when, in which school year and session the test was taken.
    fn taken(&mut self, s: &Shown) {
        datetime_text(&mut self.text, s.submitted);
        self.end();
        self.push(itoa::Buffer::new().format(s.school_year));
        self.push(s.session);
    }

    /// Cells 11–14: the assessment's type, sub-type, name and subject.
    fn assessment(&mut self, data: &Dataset, catalog: &Catalog, exam: &Exam) {
        let assessment = &data.assessments[exam.assessment as usize];
        let family = &catalog.families[assessment.family];
        let (kind, sub_kind) = match family.kind {
            Kind::Summative => ("Summative", "SUM"),
            Kind::Ica => ("Interim", "ICA"),
            Kind::Iab | Kind::Fiab | Kind::Interim => ("Interim", "IAB"),
        };
        self.push(kind);
        self.push(sub_kind);
        self.push(assessment.name.as_str());
        self.push(family.subject.as_str());
    }

    /// Cells 15–63: grade, status, scores and the student's demographics.
    fn scored(&mut self, s: &Shown) {
        let d = &s.demographics;
        let flag = |f: Flag| match d.get(f) {
            Some(true) => "Yes",
            Some(false) => "No",
            None => "",
        };
        match s.grade {
            Grade::N(n) => digits(&mut self.text, n.into(), 2),
            other => write!(self.text, "{other}").unwrap_or(()),
        }
        self.end();
        self.push(match s.completeness {
            Completeness::Complete => "Complete",
            Completeness::Partial => "Partial",
            Completeness::NotReported => "",
        });
        self.push(match s.condition {
            AdminCondition::Valid => "Valid",
            AdminCondition::Invalid => "IN",
            AdminCondition::Standardized => "SD",
            AdminCondition::Nonstandardized => "NS",
            AdminCondition::NotReported => "",
        });
        self.score(&s.overall);
        for alt in &s.alts {
            self.score(alt);
        }
        for level in s.claims {
            self.number(level.map(f32::from));
        }
        self.push(match d.sex {
            Some(Sex::Female) => "Female",
            Some(Sex::Male) => "Male",
            Some(Sex::Nonbinary) => "Nonbinary",
            None => "",
        });
        self.push(flag(Flag::Migrant));
        self.push(flag(Flag::Section504));
        self.push(flag(Flag::Iep));
        self.push(flag(Flag::Lep));
        self.push(s.language);
        self.push(s.language_alt);
        self.push(flag(Flag::Military));
        self.push(d.elas.map_or("", Elas::code));
        if let Some(t) = d.elas_start {
            let _ = write!(self.text, "{t}");
        }
        self.end();
        // Race flags: the dictionary's "Yes, Blank (No)".
        for (f, _) in RACE_FLAGS {
            self.push(if d.get(f) == Some(true) { "Yes" } else { "" });
        }
        self.push(&s.accommodations);
    }
}

/// The cells (bit `i` for cell `i`) that other rows decide as well as a
/// row's own: the district and school (the first row to name them does),
/// the student's SSID and names, and the assessment (named by its first row).
pub const DECIDED_ELSEWHERE: u64 = 0xFF | 0xF << 11;

/// `v` as `{v}` writes it. A whole number (a scale score, a level) is
/// written as an integer, without the float formatter, which ingest would
/// otherwise run on most cells of every row: below 2^24 every whole f32 is
/// exact and its shortest decimal is that integer (`-0` is left to `{v}`).
fn number_text(out: &mut String, v: f32) {
    if v.fract() == 0.0 && v.abs() < 16_777_216.0 && !(v == 0.0 && v.is_sign_negative()) {
        out.push_str(itoa::Buffer::new().format(v as i32));
    } else {
        let _ = write!(out, "{v}");
    }
}

/// `v` in decimal, zero-padded to at least `width` digits.
fn digits(out: &mut String, v: u32, width: usize) {
    const ZEROS: &str = "0000000000";
    let mut buffer = itoa::Buffer::new();
    let text = buffer.format(v);
    out.push_str(&ZEROS[..width.saturating_sub(text.len()).min(ZEROS.len())]);
    out.push_str(text);
}

/// SubmitDateTime as CERS writes it (`2018-04-26 05:00:39.734000`), without
/// chrono's format-string parser or the formatter, which ingest would run
/// on every row.
fn datetime_text(out: &mut String, t: chrono::NaiveDateTime) {
    use chrono::{Datelike, Timelike};
    match u32::try_from(t.year()) {
        Ok(year) if year <= 9999 => digits(out, year, 4),
        _ => {
            let _ = write!(out, "{:04}", t.year());
        }
    }
    for (separator, value, width) in [
        ('-', t.month(), 2),
        ('-', t.day(), 2),
        (' ', t.hour(), 2),
        (':', t.minute(), 2),
        (':', t.second(), 2),
        ('.', t.nanosecond() / 1000, 6),
    ] {
        out.push(separator);
        digits(out, value, width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_are_written_as_the_formatter_writes_them() {
        let mut values: Vec<f32> = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            4.0,
            2500.0,
            2367.0,
            -2500.0,
            23.5,
            0.1,
            1e-7,
            16_777_215.0,
            16_777_216.0,
            123_456_789.0,
            1e20,
            -1e20,
            f32::MAX,
            f32::MIN_POSITIVE,
        ];
        values.extend((0..5000).map(|i| i as f32 * 0.37 - 900.0));
        for v in values {
            let mut out = String::new();
            number_text(&mut out, v);
            assert_eq!(out, format!("{v}"), "{v:?}");
        }
        let times = [
            "2018-04-26 05:00:39.734000",
            "0999-01-02 00:00:00.000000",
            "2024-12-31 23:59:59.999999",
            "2023-07-04 12:03:09.000001",
        ];
        for text in times {
            let t = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.6f").unwrap();
            let mut out = String::new();
            datetime_text(&mut out, t);
            assert_eq!(out, text);
        }
        let mut out = String::new();
        digits(&mut out, 7, 2);
        digits(&mut out, 123, 2);
        assert_eq!(out, "07123");
    }
}
