//! The record every results reader yields, and how one becomes an exam:
//! its school placed, its student and assessment found or added.

use super::institutions::{Place, Schools};
use super::values;
use crate::diag::{Diagnostics, Location};
use crate::model::{
    AdminCondition, Completeness, Dataset, Demographics, Exam, Grade, Official, Origin, Score,
    StudentIdx, Sym, Untested,
};
use chrono::NaiveDateTime;
use std::borrow::Cow;
use std::path::Path;

/// One result as a reader parsed it, keyed by natural ids (SSID, LEA and
/// school ids or names, catalog family), not yet added to the dataset.
pub struct Record<'a> {
    pub district_id: &'a str,
    pub district_name: &'a str,
    pub nces: &'a str,
    pub school_id: &'a str,
    pub school_name: &'a str,
    pub ssid: &'a str,
    pub first: &'a str,
    pub last: &'a str,
    pub family: usize,
    pub assessment_name: Cow<'a, str>,
    /// The assessment's grade when its name does not say.
    pub assessment_grade: Option<Grade>,
    /// When and how the test was taken, its scores, and the student's
    /// demographics as the result gives them.
    pub shown: Shown<'a>,
    /// What only a TOMS Student Score Data File gives.
    pub official: Option<OfficialText<'a>>,
}

/// What a result shows beyond its district, school, student and assessment:
/// a record's, or a loaded exam's ([`Shown::of`]). The District/School
/// Export writes these in the cells that are not
/// [`DECIDED_ELSEWHERE`](super::cers_cells::DECIDED_ELSEWHERE).
pub struct Shown<'a> {
    pub submitted: NaiveDateTime,
    pub school_year: u16,
    pub session: &'a str,
    pub grade: Grade,
    pub completeness: Completeness,
    pub condition: AdminCondition,
    pub overall: Score,
    /// The Alt1…Alt6 scores.
    pub alts: [Score; 6],
    pub claims: [Option<u8>; 6],
    /// Flags, sex and ELAS; the languages are the next two fields.
    pub demographics: Demographics,
    pub language: &'a str,
    pub language_alt: &'a str,
    pub accommodations: Cow<'a, str>,
}

impl<'a> Shown<'a> {
    /// What `exam` shows.
    pub fn of(data: &'a Dataset, exam: &'a Exam) -> Self {
        let text = |s: Option<Sym>| s.map_or("", |s| data.strings.get(s));
        let d = exam.demographics;
        Shown {
            submitted: exam.submitted,
            school_year: exam.school_year,
            session: text(exam.session),
            grade: exam.grade,
            completeness: exam.completeness,
            condition: exam.condition,
            overall: exam.overall,
            alts: std::array::from_fn(|k| {
                let column = k as u8 + 1;
                exam.alt
                    .iter()
                    .find(|(c, _)| *c == column)
                    .map_or_else(Score::default, |(_, s)| *s)
            }),
            claims: exam.claim_levels,
            demographics: d,
            language: text(d.language),
            language_alt: text(d.language_alt),
            accommodations: text(exam.accommodations).into(),
        }
    }
}

/// A Student Score Data File's condition code, include indicator and
/// Lexile or Quantile measure, as its cells give them.
#[derive(Debug, Clone, Copy)]
pub struct OfficialText<'a> {
    pub condition_code: Option<&'a str>,
    pub include: Option<&'a str>,
    pub measure: Option<&'a str>,
}

impl OfficialText<'_> {
    /// The cells as the dataset keeps them, interned.
    fn intern(self, data: &mut Dataset) -> Official {
        let mut intern = |t: Option<&str>| t.map(|t| data.strings.intern(t));
        Official {
            condition_code: intern(self.condition_code),
            include: intern(self.include),
            measure: intern(self.measure),
        }
    }
}

/// What the dataset already holds of a record: its student and its
/// interned strings, found ahead of [`add`] by a read-only look-up that
/// readers run in parallel, so that adding, which runs in file order on
/// one core, finds less. Anything not found is added as usual.
#[derive(Debug, Default, Clone, Copy)]
pub struct Known {
    student: Option<StudentIdx>,
    /// Session, language, alternate language, accommodations.
    strings: [Option<Sym>; 4],
}

/// The strings the previous record of a thread was found to have: rows
/// near each other mostly share their language and accommodations, and
/// often their session, so [`Known::of`] compares with these before it
/// hashes.
#[derive(Default)]
pub struct Recent<'a>([(&'a str, Option<Sym>); 4]);

impl Known {
    /// Looks `row`'s student and strings up in `data`, adding nothing.
    pub fn of<'a>(row: &Record<'a>, data: &Dataset, recent: &mut Recent<'a>) -> Self {
        let shown = &row.shown;
        let accommodations = match shown.accommodations {
            Cow::Borrowed(s) => Some(s),
            Cow::Owned(_) => None,
        };
        let texts = [
            Some(shown.session),
            Some(shown.language),
            Some(shown.language_alt),
            accommodations,
        ];
        let strings = std::array::from_fn(|k| {
            let text = texts[k].unwrap_or(&shown.accommodations);
            let (seen, sym) = recent.0[k];
            if texts[k].is_some() && !seen.is_empty() && crate::model::same(seen, text) {
                return sym;
            }
            let sym = values::opt(text).and_then(|s| data.strings.find(s));
            if let Some(text) = texts[k] {
                recent.0[k] = (text, sym);
            }
            sym
        });
        Known {
            student: data.student(row.ssid),
            strings,
        }
    }
}

/// Where a record came from: its file and line.
pub struct Source<'a> {
    pub path: &'a Path,
    pub file: u32,
    pub line: u64,
}

/// The school index of `place`, adding it when inferring; none (with an
/// error) when it cannot be placed.
fn place_school(
    source: &Source,
    place: &Place,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> Option<usize> {
    let at = || Location::at(source.path, source.line, 1);
    match schools.resolve(&mut data.institutions, place, &at, diags) {
        Ok(s) => Some(s),
        Err(msg) => {
            diags.error(Location::at(source.path, source.line, 4), msg);
            None
        }
    }
}

/// A student a Student Score Data File lists without a score, keyed as a
/// [`Record`] is; its school year comes from the file's scored records.
pub struct Unscored<'a> {
    pub place: Place<'a>,
    pub ssid: &'a str,
    pub first: &'a str,
    pub last: &'a str,
    pub family: usize,
    pub grade: Grade,
    pub official: OfficialText<'a>,
    pub demographics: Demographics,
}

/// Adds `row` as an untested student at the school it names, with school
/// year 0 until the caller knows the file's; false (with an error) when
/// the school cannot be placed.
pub fn add_untested(
    source: &Source,
    row: Unscored,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> bool {
    let Some(school) = place_school(source, &row.place, data, schools, diags) else {
        return false;
    };
    let student = data.upsert_student(row.ssid, row.first, row.last);
    let official = row.official.intern(data);
    data.untested.push(Untested {
        student,
        family: row.family,
        school: school as u32,
        school_year: 0,
        grade: row.grade,
        official,
        demographics: row.demographics,
        origin: Origin {
            file: source.file,
            line: source.line as u32,
        },
    });
    true
}

/// Adds `row` as an exam at the school it names, using what is `known` of
/// it; false (with an error) when the school cannot be placed.
pub fn add(
    source: &Source,
    row: Record,
    known: Known,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> bool {
    let Source { path, file, line } = *source;
    let place = Place {
        district_id: row.district_id,
        district_name: row.district_name,
        school_id: row.school_id,
        school_name: row.school_name,
    };
    let Some(school) = place_school(source, &place, data, schools, diags) else {
        return false;
    };
    let lea_index = data.institutions.schools[school].lea;
    let lea = &mut data.institutions.leas[lea_index];
    match &lea.nces {
        None if !row.nces.is_empty() => {
            lea.nces = Some(row.nces.to_string());
            schools.nces_given.insert(lea_index, data.exams.len());
        }
        Some(first) if !row.nces.is_empty() && first != row.nces => diags.warn(
            Location::at(path, line, 3),
            format!(
                "NcesId differs from `{first}`, the first NcesId given for DistrictId `{}`; each row keeps its own in the District/School Export",
                lea.id
            ),
        ),
        _ => {}
    }
    let student = match known.student {
        Some(i) => data.rename_student(i, row.first, row.last),
        None => data.upsert_student(row.ssid, row.first, row.last),
    };
    let assessment = data.assessment(&row.assessment_name, row.family, || {
        values::grade_in_name(&row.assessment_name).or(row.assessment_grade)
    });
    let shown = &row.shown;
    let texts = [
        shown.session,
        shown.language,
        shown.language_alt,
        &shown.accommodations,
    ];
    let [session, language, language_alt, accommodations] = std::array::from_fn(|k| {
        values::opt(texts[k]).map(|s| known.strings[k].unwrap_or_else(|| data.strings.intern(s)))
    });
    let mut demographics = shown.demographics;
    demographics.language = language;
    demographics.language_alt = language_alt;
    let exam = Exam {
        student,
        assessment,
        school_year: shown.school_year,
        submitted: shown.submitted,
        session,
        school: school as u32,
        grade: shown.grade,
        completeness: shown.completeness,
        condition: shown.condition,
        overall: shown.overall,
        claim_levels: shown.claims,
        alt: shown
            .alts
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_empty())
            .map(|(i, s)| (i as u8 + 1, *s))
            .collect(),
        demographics,
        accommodations,
        origin: Origin {
            file,
            line: line as u32,
        },
        raw: Box::default(),
        official: row.official.map(|o| Box::new(o.intern(data))),
    };
    data.exams.push(exam);
    true
}
