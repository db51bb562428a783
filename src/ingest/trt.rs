//! Test Results Transmission (TRT) XML: the Smarter Balanced exchange format,
//! with item responses, claim and target scores, writing traits and accommodations.
//!
//! Examinee attributes and relationships come as INITIAL and FINAL values; FINAL
//! wins. Relationship names of both generations are read (`SchoolId` and the older
//! `ResponsibleInstitutionIdentifier`, …). An opportunity with `status="reset"` has
//! been withdrawn and is skipped.

use super::institutions::Schools;
use super::record::{self, Record, Shown, Source};
use super::values;
use crate::catalog::{Catalog, Kind};
use crate::diag::{Diagnostics, Location};
use crate::model::{
    AdminCondition, Completeness, Dataset, Demographics, Elas, ExamDetail, Flag, Grade, Interner,
    ItemResponse, Score, Sex, TargetScore, TraitScore, RACE_FLAGS,
};
use chrono::NaiveDate;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// True when a document's root element is a TRT report.
pub fn recognises(root: &str) -> bool {
    root == "TDSReport"
}

/// Names the same relationship or attribute goes by, newest first.
const ALIASES: &[&[&str]] = &[
    &["DistrictId", "ResponsibleDistrictIdentifier"],
    &["DistrictName", "OrganizationName"],
    &["SchoolId", "ResponsibleInstitutionIdentifier"],
    &["SchoolName", "NameOfInstitution"],
    &["StudentIdentifier", "SSID"],
    &["TwoOrMoreRaces", "DemographicRaceTwoOrMoreRaces"],
    &["Sex", "Gender"],
    &[
        "EnglishLanguageAcquisitionStatus",
        "EnglishLanguageProficiencyLevel",
    ],
];

/// Examinee attributes and relationships by name, FINAL preferred over
/// INITIAL. A few dozen, so kept in a list and found by a scan rather than
/// hashed: a kept report then decodes without building a table. Encoded
/// as a map of name to (final, value) was, so kept reports still decode.
#[derive(Default, Serialize, Deserialize)]
struct Contexted {
    values: Vec<(String, (bool, String))>,
}

impl Contexted {
    fn add(&mut self, name: String, value: String, context: &str) {
        let is_final = context.eq_ignore_ascii_case("FINAL");
        match self.values.iter_mut().find(|(n, _)| *n == name) {
            Some((_, (true, _))) if !is_final => {}
            Some((_, held)) => *held = (is_final, value),
            None => self.values.push((name, (is_final, value))),
        }
    }

    /// The value held under `name`, when not blank.
    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, (_, v))| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The value under `name` or any of its aliases.
    fn get(&self, name: &str) -> &str {
        let names = ALIASES
            .iter()
            .find(|a| a.contains(&name))
            .copied()
            .unwrap_or(std::slice::from_ref(&name));
        names.iter().find_map(|n| self.value(n)).unwrap_or("")
    }
}

/// What one TDSReport holds.
#[derive(Default, Serialize, Deserialize)]
struct Report {
    test: Attributes,
    examinee: Contexted,
    opportunity: Attributes,
    opportunity_line: u64,
    scores: Vec<ScoreElement>,
    items: Vec<Item>,
    /// Accommodation codes, in document order.
    accommodations: Vec<String>,
}

/// An Opportunity's `Score` element.
#[derive(Serialize, Deserialize)]
struct ScoreElement {
    measure_of: String,
    measure_label: String,
    value: String,
    standard_error: String,
}

/// An item response as the document gives it.
#[derive(Serialize, Deserialize)]
struct Item {
    bank_key: String,
    key: String,
    position: u32,
    content_level: String,
    score: Option<f32>,
    max_score: Option<f32>,
    /// The letters of the response ([`ItemResponse::chosen`]).
    chosen: Option<String>,
    /// Sub-scores by dimension, e.g. writing traits ("Organization", 3).
    sub_scores: Vec<(String, f32)>,
}

impl Item {
    fn interned(&self, strings: &mut Interner) -> ItemResponse {
        ItemResponse {
            bank_key: strings.intern(&self.bank_key),
            key: strings.intern(&self.key),
            position: self.position,
            content_level: strings.intern(&self.content_level),
            score: self.score,
            max_score: self.max_score,
            chosen: self.chosen.as_deref().map(|c| strings.intern(c)),
        }
    }
}

/// The letters of a response, upper-case, sorted and each once; None
/// when it has none.
fn letters(response: &str) -> Option<String> {
    let mut chosen: Vec<char> = response
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    chosen.sort_unstable();
    chosen.dedup();
    (!chosen.is_empty()).then(|| chosen.into_iter().collect())
}

/// A TRT document, parsed: documents are parsed in parallel ([`parse`]),
/// then loaded in order ([`load`]).
pub struct Parsed(Result<Report, (u64, u64, String)>);

/// Parses the text of one TRT document.
pub fn parse(text: &str) -> Parsed {
    Parsed(read(text).map_err(|(offset, msg)| {
        let (line, col) = line_of(text, offset);
        (line, col, msg)
    }))
}

impl Parsed {
    /// The document's report, encoded to be kept between builds; `None`
    /// for a document that is not well-formed, which is parsed again.
    pub fn encode(&self) -> Option<Vec<u8>> {
        postcard::to_allocvec(self.0.as_ref().ok()?).ok()
    }

    /// A report [`Parsed::encode`] encoded.
    pub fn decode(bytes: &[u8]) -> Option<Parsed> {
        postcard::from_bytes(bytes).ok().map(|r| Parsed(Ok(r)))
    }
}

/// The most attributes one TRT element may have; the richest has about a dozen.
pub const MAX_ATTRIBUTES: usize = 64;

/// An element's attributes by name, in document order: a dozen at most, so
/// found by a scan rather than hashed.
#[derive(Default, Clone, Serialize, Deserialize)]
struct Attributes(Vec<(String, String)>);

impl Attributes {
    fn get(&self, name: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// An element's attributes, with entities resolved; too many is an error.
fn attrs(e: &BytesStart) -> Result<Attributes, String> {
    let mut out = Vec::new();
    each_attribute(e, |key, value| out.push((key.to_string(), value())))?;
    Ok(Attributes(out))
}

/// The values of the attributes `names` (empty where absent; the first of
/// a repeated name), with entities resolved; too many attributes is an error.
fn values<const N: usize>(e: &BytesStart, names: [&str; N]) -> Result<[String; N], String> {
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    let mut found = [false; N];
    each_attribute(e, |key, value| {
        if let Some(i) = names.iter().position(|n| *n == key) {
            if !std::mem::replace(&mut found[i], true) {
                out[i] = value();
            }
        }
    })?;
    Ok(out)
}

/// Calls `f` with each attribute's name and a function giving its value,
/// entities resolved; more than [`MAX_ATTRIBUTES`] is an error.
fn each_attribute(
    e: &BytesStart,
    mut f: impl FnMut(&str, &dyn Fn() -> String),
) -> Result<(), String> {
    for (n, a) in e.attributes().flatten().enumerate() {
        if n == MAX_ATTRIBUTES {
            return Err(format!(
                "<{}> has more than {MAX_ATTRIBUTES} attributes; expected a TRT element",
                e.name().as_ref()
            ));
        }
        let value = || {
            a.normalized_value(XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_default()
        };
        f(a.key.as_ref(), &value);
    }
    Ok(())
}

/// The text an entity or character reference stands for.
fn reference(r: &BytesRef) -> String {
    match r.resolve_char_ref() {
        Ok(Some(c)) => c.to_string(),
        _ => quick_xml::escape::resolve_predefined_entity(&r.xml_content(XmlVersion::Implicit1_0))
            .unwrap_or_default()
            .to_string(),
    }
}

fn line_of(text: &str, offset: u64) -> (u64, u64) {
    let before = &text.as_bytes()[..(offset as usize).min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
    (line, col)
}

/// Loads one parsed TRT document into `data`. Returns the number of exams added.
pub fn load(
    path: &Path,
    parsed: &Parsed,
    catalog: &Catalog,
    data: &mut Dataset,
    schools: &mut Schools,
    diags: &mut Diagnostics,
) -> usize {
    let report = match &parsed.0 {
        Ok(r) => r,
        Err((line, col, msg)) => {
            diags.error(
                Location::at(path, *line, *col),
                format!("not well-formed TRT XML: {msg}"),
            );
            return 0;
        }
    };
    let at = Location::at(path, report.opportunity_line.max(1), 1);
    if report
        .opportunity
        .get("status")
        .is_some_and(|s| s.eq_ignore_ascii_case("reset"))
    {
        diags.warn(
            at,
            "opportunity status is `reset`: it was withdrawn, so it is not loaded",
        );
        return 0;
    }
    let Opportunity { row, birth_date } = match to_record(report, catalog, &at, diags) {
        Ok(parts) => parts,
        Err(msg) => {
            diags.error(at, msg);
            return 0;
        }
    };
    let source = Source {
        path,
        file: data.file_index(path),
        line: report.opportunity_line.max(1),
    };
    if !record::add(&source, row, record::Known::default(), data, schools, diags) {
        return 0;
    }
    let exam = data.exams.len() - 1;
    if let Some(b) = birth_date {
        data.students[data.exams[exam].student as usize].birth_date = Some(b);
    }
    let strings = &mut data.strings;
    let (targets, mut traits) = targets_and_traits(report, strings);
    if traits.is_empty() {
        traits = item_traits(&report.items, strings);
    }
    let items = report.items.iter().map(|i| i.interned(strings)).collect();
    data.details.insert(
        exam,
        ExamDetail {
            items,
            targets,
            traits,
        },
    );
    1
}

/// The elements [`read`] needs to know it is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Opportunity,
    Response,
    SubScoreList,
    Other,
}

/// Parses the XML into a [`Report`]; errors carry a byte offset.
fn read(text: &str) -> Result<Report, (u64, String)> {
    let mut reader = Reader::from_str(text);
    let mut report = Report::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut item: Option<Item> = None;
    // The text of the Response being read: text, entities and CDATA in turn.
    let mut response = String::new();
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| (reader.error_position(), e.to_string()))?;
        let in_response = stack.last() == Some(&Open::Response);
        let (e, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::Text(t) if in_response => {
                response.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                continue;
            }
            Event::GeneralRef(r) if in_response => {
                response.push_str(&reference(r));
                continue;
            }
            Event::CData(t) if in_response => {
                response.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                continue;
            }
            Event::End(e) => {
                match e.name().as_ref() {
                    "Item" => add_item(&mut report.items, item.take()),
                    "Response" => {
                        if let Some(it) = item.as_mut() {
                            it.chosen = letters(&response);
                        }
                        response.clear();
                    }
                    _ => {}
                }
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let qname = e.name();
        let name = qname.as_ref();
        if stack.is_empty() && name != "TDSReport" {
            return Err((
                pos,
                format!("root element is <{name}>; expected <TDSReport>"),
            ));
        }
        let at = |m| (pos, m);
        match name {
            "Test" => report.test = attrs(e).map_err(at)?,
            "ExamineeAttribute" | "ExamineeRelationship" => {
                let [name, value, context] = values(e, ["name", "value", "context"]).map_err(at)?;
                report.examinee.add(name, value, &context)
            }
            "Opportunity" => {
                report.opportunity = attrs(e).map_err(at)?;
                report.opportunity_line = line_of(text, pos).0;
            }
            "Accommodation" => {
                let [code] = values(e, ["code"]).map_err(at)?;
                report.accommodations.push(code)
            }
            "Score" if stack.last() == Some(&Open::Opportunity) => {
                let [measure_of, measure_label, value, standard_error] =
                    values(e, ["measureOf", "measureLabel", "value", "standardError"])
                        .map_err(at)?;
                report.scores.push(ScoreElement {
                    measure_of,
                    measure_label,
                    value,
                    standard_error,
                })
            }
            "Item" => {
                let [bank_key, key, position, level, strand, score] = values(
                    e,
                    [
                        "bankKey",
                        "key",
                        "position",
                        "contentLevel",
                        "strand",
                        "score",
                    ],
                )
                .map_err(at)?;
                item = Some(Item {
                    bank_key,
                    key,
                    position: position.parse().unwrap_or(0),
                    content_level: if level.is_empty() { strand } else { level },
                    score: score.parse().ok().filter(|s: &f32| *s >= 0.0),
                    max_score: None,
                    chosen: None,
                    sub_scores: Vec::new(),
                });
            }
            "ScoreInfo" => {
                let [point, dimension, max] =
                    values(e, ["scorePoint", "scoreDimension", "maxScore"]).map_err(at)?;
                if let Some(it) = item.as_mut() {
                    if stack.contains(&Open::SubScoreList) {
                        if let Ok(p) = point.parse() {
                            it.sub_scores.push((dimension, p));
                        }
                    } else {
                        it.max_score = max.parse().ok();
                    }
                }
            }
            _ => {
                values(e, []).map_err(at)?;
            }
        }
        if !empty {
            stack.push(match name {
                "Opportunity" => Open::Opportunity,
                "Response" => Open::Response,
                "SubScoreList" => Open::SubScoreList,
                _ => Open::Other,
            });
        } else if name == "Item" {
            // `<Item …/>`: valid under the XSD (Response and ScoreInfo are optional).
            add_item(&mut report.items, item.take());
        }
    }
    Ok(report)
}

/// Adds an item response, once per item: some vendors repeat an item key in
/// one opportunity, and a student answers an item once. The scored copy wins.
fn add_item(items: &mut Vec<Item>, item: Option<Item>) {
    let Some(item) = item else { return };
    match items
        .iter_mut()
        .find(|i| i.key == item.key && i.bank_key == item.bank_key)
    {
        Some(kept) if kept.score.is_none() && item.score.is_some() => *kept = item,
        Some(_) => {}
        None => items.push(item),
    }
}

/// The catalog family of a TRT Test element.
fn family_of(catalog: &Catalog, test: &Attributes) -> Result<usize, String> {
    let subject = test.get("subject").map(String::as_str).unwrap_or("");
    let kind = test.get("assessmentType").map(String::as_str).unwrap_or("");
    let id = format!(
        "{} {}",
        test.get("testId").map(String::as_str).unwrap_or(""),
        test.get("name").map(String::as_str).unwrap_or("")
    );
    let candidates: &[Kind] = if kind.eq_ignore_ascii_case("summative") {
        &[Kind::Summative]
    } else if id.contains("-ICA-") {
        &[Kind::Ica, Kind::Interim]
    } else if id.contains("FIAB") {
        &[Kind::Fiab, Kind::Iab, Kind::Interim]
    } else {
        &[Kind::Iab, Kind::Interim]
    };
    candidates
        .iter()
        .find_map(|&k| catalog.family_for(subject, k))
        .ok_or_else(|| format!("Test subject `{subject}`, assessmentType `{kind}`: expected a family in the assessment catalog"))
}

/// What a report gives beyond the TRT detail: its record and the student's
/// birth date.
struct Opportunity<'a> {
    row: Record<'a>,
    birth_date: Option<NaiveDate>,
}

/// The record a report describes and the birth date.
fn to_record<'a>(
    r: &'a Report,
    catalog: &Catalog,
    at: &Location,
    diags: &mut Diagnostics,
) -> Result<Opportunity<'a>, String> {
    let ex = &r.examinee;
    let opp = |k: &str| r.opportunity.get(k).map(String::as_str).unwrap_or("");
    let family = family_of(catalog, &r.test)?;
    let ssid = values::id(ex.get("StudentIdentifier"))
        .map_err(|e| format!("StudentIdentifier: expected {e}"))?;
    let school_id = values::id(ex.get("SchoolId"))
        .map_err(|e| format!("SchoolId relationship: expected {e}"))?;
    let test_name = r.test.get("name").map(String::as_str).unwrap_or("");
    let test_grade = r.test.get("grade").and_then(|g| Grade::parse(g));
    let grade = values::grade(ex.get("GradeLevelWhenAssessed"))
        .or_else(|e| test_grade.ok_or(e))
        .map_err(|e| format!("GradeLevelWhenAssessed: expected {e}"))?;
    let school_year =
        values::school_year(r.test.get("academicYear").map(String::as_str).unwrap_or(""))
            .map_err(|e| format!("Test academicYear: expected {e}"))?;
    let submitted = values::datetime(opp("dateCompleted"))
        .or_else(|_| values::datetime(opp("statusDate")))
        .map_err(|e| format!("Opportunity dateCompleted: expected {e}"))?;
    // RDW accepts a blank completeness or condition: it is "not reported".
    let mut blank = |name: &str| {
        diags.warn(
            at.clone(),
            format!("Opportunity {name} is blank; loaded as not reported"),
        )
    };
    let completeness = match values::opt(opp("completeness")) {
        None => {
            blank("completeness");
            Completeness::NotReported
        }
        Some(c) => values::completeness(c)
            .map_err(|e| format!("Opportunity completeness: expected {e}"))?,
    };
    let condition = match values::opt(opp("administrationCondition")) {
        None => {
            blank("administrationCondition");
            AdminCondition::NotReported
        }
        Some(c) => values::condition(c)
            .map_err(|e| format!("Opportunity administrationCondition: expected {e}"))?,
    };
    let (overall, claims) = scores(r);
    let mut claim_levels = [None; 6];
    if let Some(c) = &catalog.families[family].claims {
        for item in &c.items {
            if let Some((_, s)) = claims.iter().find(|(code, _)| *code == item.code) {
                claim_levels[(item.column - 1) as usize] = s.level;
            }
        }
    }
    let row = Record {
        district_id: ex.get("DistrictId"),
        district_name: ex.get("DistrictName"),
        nces: "",
        school_id,
        school_name: ex.get("SchoolName"),
        ssid,
        first: ex.get("FirstName"),
        last: ex.get("LastOrSurname"),
        family,
        assessment_name: test_name.into(),
        assessment_grade: test_grade,
        shown: Shown {
            submitted,
            school_year,
            session: opp("sessionId"),
            grade,
            completeness,
            condition,
            overall,
            alts: [Score::default(); 6],
            claims: claim_levels,
            demographics: demographics(ex),
            language: ex.get("LanguageCode"),
            language_alt: "",
            accommodations: r.accommodations.join("|").into(),
        },
        official: None,
    };
    let birth_date = values::date(ex.get("Birthdate")).ok().flatten();
    Ok(Opportunity { row, birth_date })
}

/// The overall score and the per-claim scores from the Opportunity's Score elements.
fn scores(r: &Report) -> (Score, Vec<(String, Score)>) {
    let mut by_measure: Vec<(String, Score)> = Vec::new();
    for s in &r.scores {
        let (measure, label) = (s.measure_of.as_str(), s.measure_label.as_str());
        let slot = |v: &mut Vec<(String, Score)>| -> usize {
            match v.iter().position(|(m, _)| m == measure) {
                Some(i) => i,
                None => {
                    v.push((measure.to_string(), Score::default()));
                    v.len() - 1
                }
            }
        };
        match label {
            "ScaleScore" => {
                let i = slot(&mut by_measure);
                by_measure[i].1.scale = s.value.parse().ok();
                by_measure[i].1.se = s.standard_error.parse().ok();
            }
            "PerformanceLevel" => {
                let i = slot(&mut by_measure);
                by_measure[i].1.level = s.value.parse().ok();
            }
            _ => {}
        }
    }
    let overall = by_measure
        .iter()
        .position(|(m, _)| m == "Overall")
        .map(|i| by_measure.remove(i).1)
        .unwrap_or_default();
    (overall, by_measure)
}

/// Target residuals and writing traits, which live in Score elements too.
fn targets_and_traits(r: &Report, strings: &mut Interner) -> (Vec<TargetScore>, Vec<TraitScore>) {
    let mut targets: Vec<TargetScore> = Vec::new();
    let mut traits = Vec::new();
    for s in &r.scores {
        let (measure, label) = (s.measure_of.as_str(), s.measure_label.as_str());
        let value: Option<f32> = s.value.parse().ok();
        match label {
            "StudentRelativeResidualScore" | "StandardMetRelativeResidualScore" => {
                let measure = strings.intern(measure);
                let t = match targets.iter_mut().position(|t| t.target == measure) {
                    Some(i) => &mut targets[i],
                    None => {
                        targets.push(TargetScore {
                            target: measure,
                            student_relative: None,
                            standard_met_relative: None,
                        });
                        targets.last_mut().expect("just pushed")
                    }
                };
                if label == "StudentRelativeResidualScore" {
                    t.student_relative = value;
                } else {
                    t.standard_met_relative = value;
                }
            }
            "RawScore" => {
                let parts: Vec<&str> = measure.split('_').collect();
                if let (["SOCK", purpose, code], Some(v)) = (parts.as_slice(), value) {
                    if let Some(&trait_code) = TRAIT_CODES.iter().find(|c| *c == code) {
                        traits.push(TraitScore {
                            purpose: strings.intern(purpose),
                            trait_code,
                            score: v as u8,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    (targets, traits)
}

/// The writing traits' codes.
const TRAIT_CODES: [&str; 3] = ["ORG", "EVI", "CON"];

/// Writing trait scores from the items' `SubScoreList`s (Organization/Purpose,
/// Evidence/Elaboration, Conventions), for files without `SOCK_…` scores.
/// Items do not name their writing purpose, so the purpose is left blank.
fn item_traits(items: &[Item], strings: &mut Interner) -> Vec<TraitScore> {
    let blank = strings.intern("");
    const DIMENSIONS: [(&str, &str); 3] = [
        ("organization/purpose", "ORG"),
        ("evidence/elaboration", "EVI"),
        ("conventions", "CON"),
    ];
    items
        .iter()
        .flat_map(|i| &i.sub_scores)
        .filter_map(|(dimension, points)| {
            let code = DIMENSIONS
                .iter()
                .find(|(d, _)| dimension.eq_ignore_ascii_case(d))?
                .1;
            Some(TraitScore {
                purpose: blank,
                trait_code: code,
                score: *points as u8,
            })
        })
        .collect()
}

fn demographics(ex: &Contexted) -> Demographics {
    let mut d = Demographics::default();
    let yn = |name: &str| values::yes_no(ex.get(name)).ok().flatten();
    for (flag, name) in RACE_FLAGS.into_iter().chain([
        (Flag::Iep, "IDEAIndicator"),
        (Flag::Lep, "LEPStatus"),
        (Flag::Section504, "Section504Status"),
        (Flag::EconomicDisadvantage, "EconomicDisadvantageStatus"),
        (Flag::Migrant, "MigrantStatus"),
    ]) {
        d.set(flag, yn(name));
    }
    let military = ex.get("MilitaryConnectedStudentIndicator");
    d.set(
        Flag::Military,
        match military {
            "" | "Unknown" => None,
            "NotMilitaryConnected" => Some(false),
            other => values::yes_no(other).ok().flatten().or(Some(true)),
        },
    );
    d.sex = Sex::parse(ex.get("Sex"));
    d.elas = Elas::parse(ex.get("EnglishLanguageAcquisitionStatus"));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_wins_and_reports_kept_as_a_name_map_still_decode() {
        let mut ex = Contexted::default();
        ex.add("Sex".into(), "F".into(), "FINAL");
        ex.add("Sex".into(), "M".into(), "INITIAL");
        ex.add("SSID".into(), "".into(), "FINAL");
        ex.add("StudentIdentifier".into(), "4000000001".into(), "INITIAL");
        assert_eq!(ex.get("Sex"), "F");
        assert_eq!(ex.get("StudentIdentifier"), "4000000001");
        // Caches written when the list was a hash map hold a map of name to
        // (final, value); they decode to the same list.
        let map: std::collections::BTreeMap<&str, (bool, &str)> =
            [("Gender", (true, "X")), ("SSID", (false, "7"))].into();
        let bytes = postcard::to_allocvec(&map).unwrap();
        let decoded: Contexted = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(
            (decoded.get("Sex"), decoded.get("StudentIdentifier")),
            ("X", "7")
        );
        assert_eq!(postcard::to_allocvec(&decoded).unwrap(), bytes);
    }
}
