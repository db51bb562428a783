//! Writes the fictitious LEA in the real input formats: the CERS 64-column
//! export, the RDW groups CSV, TRT XML, the CALPADS organisation file, and the
//! deployment's `scoresite.yaml` and `users.yaml`.

use super::district::{District, Pupil, School};
use super::profile::Profile;
use super::results::{model_grade, Measure, Opportunity};
use crate::catalog::Catalog;
use crate::ingest::institutions;
use crate::model::{Flag, RACE_FLAGS};
use anyhow::Result;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// One export row, in the 64-column order.
pub fn export_row(
    profile: &Profile,
    d: &District,
    catalog: &Catalog,
    pupil: &Pupil,
    o: &Opportunity,
) -> Vec<String> {
    let school = &d.schools[o.school];
    let fam = &catalog.families[o.family];
    let last_year = *profile.years.last().expect("profile has years");
    let yes_no = |b: bool| if b { "Yes" } else { "No" }.to_string();
    let (measure, level) = (o.overall, o.level);
    let mut row = vec![
        format!("{}0000000", profile.lea.id),
        profile.lea.name.clone(),
        profile.lea.nces.clone(),
        school.code.clone(),
        school.name.clone(),
        pupil.ssid.clone(),
        pupil.first.clone(),
        pupil.last.clone(),
        o.submitted.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        o.year.to_string(),
        o.session.clone(),
        o.kind.to_string(),
        o.sub_kind.to_string(),
        o.name.clone(),
        fam.subject.clone(),
        format!("{:02}", o.grade).replace("00", "KG"),
        if o.complete { "Complete" } else { "Partial" }.to_string(),
        o.condition.to_string(),
        level.map(|l| l.to_string()).unwrap_or_default(),
        score_text(measure),
        se_text(measure),
    ];
    for column in 1..=6u8 {
        match o.alts.iter().find(|(c, _, _)| *c == column) {
            Some((_, m, l)) => row.extend([l.to_string(), score_text(Some(*m)), se_text(Some(*m))]),
            None => row.extend([String::new(), String::new(), String::new()]),
        }
    }
    for column in 1..=6u8 {
        row.push(
            o.claims
                .iter()
                .find(|c| c.column == column)
                .map(|c| c.level.to_string())
                .unwrap_or_default(),
        );
    }
    let language = pupil.language.map(|l| &profile.demographics.languages[l]);
    row.extend([
        sex_text(pupil.sex).to_string(),
        yes_no(pupil.has(Flag::Migrant)),
        yes_no(pupil.has(Flag::Section504)),
        yes_no(pupil.has(Flag::Iep)),
        yes_no(o.elas == "EL"),
        language.map_or("eng".to_string(), |l| l.code.clone()),
        language.map_or("00".to_string(), |l| l.calpads.clone()),
        yes_no(pupil.has(Flag::Military)),
        o.elas.to_string(),
        elas_start(pupil, o.year, last_year),
    ]);
    for (flag, _) in RACE_FLAGS {
        row.push(
            if pupil.race & flag as u16 != 0 {
                "Yes"
            } else {
                ""
            }
            .to_string(),
        );
    }
    row.push(o.accommodations.to_string());
    debug_assert_eq!(row.len(), 64);
    row
}

fn score_text(m: Option<Measure>) -> String {
    m.map(|m| format!("{}", m.score)).unwrap_or_default()
}

fn se_text(m: Option<Measure>) -> String {
    m.filter(|m| !m.se.is_nan())
        .map(|m| format!("{}", m.se))
        .unwrap_or_default()
}

fn sex_text(sex: char) -> &'static str {
    match sex {
        'F' => "Female",
        'M' => "Male",
        _ => "Nonbinary",
    }
}

/// When the student's current English status began.
fn elas_start(pupil: &Pupil, year: u16, last_year: u16) -> String {
    let grade = pupil.grade_in(year, last_year).unwrap_or(0) as i32;
    let start_year = match (pupil.elas(year, last_year), pupil.reclassified_at) {
        ("RFEP", Some(r)) => year as i32 - (grade - r as i32),
        ("EO", _) => return String::new(),
        _ => year as i32 - grade - 1,
    };
    format!("{start_year}-08-2{}", grade % 8)
}

/// A TRT document for one opportunity.
pub fn trt(
    profile: &Profile,
    d: &District,
    catalog: &Catalog,
    pupil: &Pupil,
    o: &Opportunity,
) -> Result<Vec<u8>> {
    let fam = &catalog.families[o.family];
    let school = &d.schools[o.school];
    let mut w = Writer::new(Vec::new());
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("TDSReport")))?;
    let subject = match fam.subject.as_str() {
        "Math" => "MATH",
        other => other,
    };
    let test_id = format!(
        "SBX-{}-{}-{}",
        fam.id.to_ascii_uppercase(),
        o.test_grade,
        o.key % 1000
    );
    let grade = format!("{:02}", o.test_grade);
    let academic_year = o.year.to_string();
    let assessment_type = if o.kind == "Summative" {
        "summative"
    } else {
        "interim"
    };
    empty(
        &mut w,
        "Test",
        &[
            ("name", o.name.as_str()),
            ("subject", subject),
            ("testId", &test_id),
            ("bankKey", "990"),
            ("contract", "SBAC"),
            ("mode", "online"),
            ("grade", &grade),
            ("assessmentType", assessment_type),
            ("academicYear", &academic_year),
            ("assessmentVersion", "1"),
        ],
    )?;
    w.write_event(Event::Start(BytesStart::new("Examinee").with_attributes([
        ("key", o.key.to_string().as_str()),
        ("isDemo", "1"),
    ])))?;
    let when = o.submitted.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let enrolled = model_grade(o.grade).to_string();
    let enrolled = if enrolled.len() == 1 {
        format!("0{enrolled}")
    } else {
        enrolled
    };
    let birth = pupil.birth.format("%Y-%m-%d").to_string();
    let mut attributes: Vec<(&str, String)> = vec![
        ("LastOrSurname", pupil.last.clone()),
        ("FirstName", pupil.first.clone()),
        ("Birthdate", birth),
        ("StudentIdentifier", pupil.ssid.clone()),
        ("GradeLevelWhenAssessed", enrolled),
        ("Sex", sex_text(pupil.sex).to_string()),
    ];
    for (flag, name) in RACE_FLAGS {
        attributes.push((name, yes_no(pupil.race & flag as u16 != 0).to_string()));
    }
    attributes.extend([
        ("IDEAIndicator", yes_no(pupil.has(Flag::Iep)).to_string()),
        ("LEPStatus", yes_no(o.elas == "EL").to_string()),
        (
            "Section504Status",
            yes_no(pupil.has(Flag::Section504)).to_string(),
        ),
        (
            "EconomicDisadvantageStatus",
            yes_no(pupil.has(Flag::EconomicDisadvantage)).to_string(),
        ),
        (
            "MigrantStatus",
            yes_no(pupil.has(Flag::Migrant)).to_string(),
        ),
        (
            "MilitaryConnectedStudentIndicator",
            if pupil.has(Flag::Military) {
                "ActiveDuty"
            } else {
                "NotMilitaryConnected"
            }
            .to_string(),
        ),
        ("EnglishLanguageAcquisitionStatus", o.elas.to_string()),
        (
            "LanguageCode",
            pupil.language.map_or("eng".to_string(), |l| {
                profile.demographics.languages[l].code.clone()
            }),
        ),
    ]);
    for (name, value) in &attributes {
        empty(
            &mut w,
            "ExamineeAttribute",
            &[
                ("name", name),
                ("value", value),
                ("context", "FINAL"),
                ("contextDate", &when),
            ],
        )?;
    }
    let district_id = format!("{}0000000", profile.lea.id);
    for (name, value) in [
        ("DistrictId", district_id.as_str()),
        ("DistrictName", profile.lea.name.as_str()),
        ("SchoolId", school.code.as_str()),
        ("SchoolName", school.name.as_str()),
        ("StateAbbreviation", "CA"),
    ] {
        empty(
            &mut w,
            "ExamineeRelationship",
            &[
                ("name", name),
                ("value", value),
                ("context", "FINAL"),
                ("contextDate", &when),
            ],
        )?;
    }
    w.write_event(Event::End(BytesEnd::new("Examinee")))?;
    let opp = o.key.to_string();
    w.write_event(Event::Start(
        BytesStart::new("Opportunity").with_attributes([
            ("server", "sandbox"),
            ("database", "session"),
            ("key", opp.as_str()),
            ("oppId", opp.as_str()),
            ("opportunity", "1"),
            ("sessionId", o.session.as_str()),
            (
                "windowId",
                if o.kind == "Summative" {
                    "SPRING"
                } else {
                    "ANNUAL"
                },
            ),
            ("dateCompleted", when.as_str()),
            ("status", "scored"),
            (
                "completeness",
                if o.complete { "Complete" } else { "Partial" },
            ),
            ("administrationCondition", o.condition),
        ]),
    ))?;
    empty(
        &mut w,
        "Segment",
        &[
            ("id", &test_id),
            ("position", "1"),
            ("formId", &test_id),
            ("formKey", "990-1"),
            ("algorithm", "fixedform"),
            ("algorithmVersion", "0"),
        ],
    )?;
    for code in o.accommodations.split('|') {
        empty(
            &mut w,
            "Accommodation",
            &[
                ("type", "Accessibility"),
                ("value", code),
                ("code", code),
                ("segment", "0"),
            ],
        )?;
    }
    scores(&mut w, o)?;
    items(&mut w, o)?;
    w.write_event(Event::End(BytesEnd::new("Opportunity")))?;
    w.write_event(Event::End(BytesEnd::new("TDSReport")))?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

fn empty(w: &mut Writer<Vec<u8>>, name: &str, attributes: &[(&str, &str)]) -> Result<()> {
    w.write_event(Event::Empty(
        BytesStart::new(name).with_attributes(attributes.iter().copied()),
    ))?;
    Ok(())
}

/// Overall, claim, target and trait Score elements.
fn scores(w: &mut Writer<Vec<u8>>, o: &Opportunity) -> Result<()> {
    let mut score = |measure: &str, label: &str, value: String, se: String| {
        empty(
            w,
            "Score",
            &[
                ("measureOf", measure),
                ("measureLabel", label),
                ("value", &value),
                ("standardError", &se),
            ],
        )
    };
    if let (Some(m), Some(level)) = (o.overall, o.level) {
        score(
            "Overall",
            "ScaleScore",
            m.score.to_string(),
            se_text(Some(m)),
        )?;
        score(
            "Overall",
            "PerformanceLevel",
            level.to_string(),
            String::new(),
        )?;
    }
    for c in &o.claims {
        if let Some(m) = c.measure {
            score(&c.code, "ScaleScore", m.score.to_string(), se_text(Some(m)))?;
        }
        score(
            &c.code,
            "PerformanceLevel",
            c.level.to_string(),
            String::new(),
        )?;
    }
    for t in &o.targets {
        score(
            &t.code,
            "StudentRelativeResidualScore",
            t.student.0.to_string(),
            t.student.1.to_string(),
        )?;
        score(
            &t.code,
            "StandardMetRelativeResidualScore",
            t.standard.0.to_string(),
            t.standard.1.to_string(),
        )?;
    }
    if let Some((purpose, [org, evi, con])) = o.traits {
        for (code, value) in [("ORG", org), ("EVI", evi), ("CON", con)] {
            score(
                &format!("SOCK_{purpose}_{code}"),
                "RawScore",
                value.to_string(),
                String::new(),
            )?;
        }
    }
    Ok(())
}

/// Item elements with the response and its score.
fn items(w: &mut Writer<Vec<u8>>, o: &Opportunity) -> Result<()> {
    for r in &o.items {
        let item = r.item;
        let attrs = [
            ("position", r.position.to_string()),
            ("segmentId", "1".to_string()),
            ("bankKey", "990".to_string()),
            ("key", item.key.to_string()),
            ("operational", "1".to_string()),
            ("isSelected", "1".to_string()),
            ("format", item.kind.clone()),
            ("score", r.score.to_string()),
            ("scoreStatus", "SCORED".to_string()),
            (
                "adminDate",
                o.submitted.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
            ),
            ("numberVisits", "1".to_string()),
            ("contentLevel", r.content_level.clone()),
        ];
        w.write_event(Event::Start(
            BytesStart::new("Item").with_attributes(attrs.iter().map(|(k, v)| (*k, v.as_str()))),
        ))?;
        w.write_event(Event::Start(
            BytesStart::new("Response").with_attributes([("type", "value")]),
        ))?;
        w.write_event(Event::Text(BytesText::new(&r.response)))?;
        w.write_event(Event::End(BytesEnd::new("Response")))?;
        let points = item.points.to_string();
        empty(
            w,
            "ScoreInfo",
            &[
                ("scorePoint", &r.score.to_string()),
                ("maxScore", &points),
                ("scoreDimension", "overall"),
                ("scoreStatus", "Scored"),
            ],
        )?;
        w.write_event(Event::End(BytesEnd::new("Item")))?;
    }
    Ok(())
}

/// The RDW groups CSV: a header row per group, its teacher, then its students.
pub fn groups(d: &District) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(crate::ingest::groups::HEADER)?;
    for r in &d.rosters {
        let school = &d.schools[r.school].code;
        let year = r.year.to_string();
        w.write_record([
            r.name.as_str(),
            school,
            &year,
            r.subject.unwrap_or("All"),
            "",
            "",
        ])?;
        w.write_record([
            r.name.as_str(),
            school,
            &year,
            "",
            "",
            &d.teachers[r.teacher].email,
        ])?;
        for &p in &r.pupils {
            w.write_record([
                r.name.as_str(),
                school,
                &year,
                "",
                &d.pupils[p as usize].ssid,
                "",
            ])?;
        }
    }
    Ok(w.into_inner()?)
}

/// The CALPADS caret-delimited organisation file.
pub fn organisations(profile: &Profile, d: &District) -> String {
    let mut out = format!("{}\n", institutions::CALPADS_HEADER);
    for School { code, name, .. } in &d.schools {
        let lea = &profile.lea;
        out.push_str(&format!(
            "{}^{code}^{}{code}^Sandbox^{}^{name}^N^^N\n",
            lea.id, lea.id, lea.name
        ));
    }
    out
}
