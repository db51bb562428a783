//! Real-file quirks: each test reproduces one way real CERS exports, TRT
//! files, rosters and user lists differ from the sandbox, on a small fixture
//! written for the purpose, and checks what a user gets.

mod common;

use common::{check, copy_fixture, edit, fixture, run};

/// Two LEAs whose exports both use SchoolId 300 keep two schools: each
/// district's exams stay with its own school, and `check` lists both.
#[test]
fn schools_of_two_districts_that_share_an_id_stay_apart() {
    let (out, stdout, stderr) = check(&fixture("districts"));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Institutions: 2 LEA(s), 3 school(s)   Students: 5   Exams: 6"),
        "{stdout}"
    );
    assert!(
        stdout.contains("LEA 1111111 North Valley Unified: 2 school(s), 3 exam(s)"),
        "{stdout}"
    );
    // The TRT document of the South school joins the South school, not the North one.
    assert!(
        stdout.contains("LEA 2222222 South Valley Unified: 1 school(s), 3 exam(s)"),
        "{stdout}"
    );
    let listed = |reference: &str, name: &str, exams: usize| {
        stdout.lines().any(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.first() == Some(&reference)
                && l.contains(name)
                && cells[cells.len() - 2] == exams.to_string()
        })
    };
    assert!(listed("1111111/300", "Redwood High", 2), "{stdout}");
    assert!(listed("2222222/300", "Cedar High", 3), "{stdout}");
    assert!(listed("100", "Birch Elementary", 1), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// A bare id that two LEAs use cannot name a school in a grant or a roster:
/// each is one error that lists the candidates, with no follow-on errors.
#[test]
fn an_ambiguous_school_id_is_an_error_where_it_is_used() {
    let dir = copy_fixture("districts");
    edit(
        &dir.path().join("users.yaml"),
        "school_admin:1111111/300",
        "school_admin:300",
    );
    edit(&dir.path().join("data/groups.csv"), "2222222/300", "300");
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("users.yaml:8: error: grant `school_admin:300` for north.principal@north.example names school `300`, an id that several LEAs use: 1111111/300 (Redwood High, North Valley Unified) and 2222222/300 (Cedar High, South Valley Unified)"), "{stderr}");
    assert!(
        stderr.contains(
            "groups.csv:4:2: error: school_natural_id `300` names schools in several LEAs"
        ),
        "{stderr}"
    );
    // The South teacher's grant now finds no group: a warning, not silence.
    assert!(
        stderr.contains(
            "grant `teacher:2222222/300` for south.teacher@south.example gives nothing to see"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
}

/// One unknown school in a groups file is one error: the group's later rows
/// are not reported again as a group "continuing after other groups".
#[test]
fn an_unknown_group_school_is_one_error() {
    let dir = copy_fixture("districts");
    edit(
        &dir.path().join("data/groups.csv"),
        "1111111/300",
        "9999999/300",
    );
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "groups.csv:2:2: error: school_natural_id `9999999/300` is not a known school"
        ),
        "{stderr}"
    );
}

/// A row that names a school the other LEA owns by its 14-digit CDS code is
/// a conflict to report, never resolved by file order.
#[test]
fn a_cds_code_under_two_districts_is_reported() {
    let dir = copy_fixture("districts");
    let export = dir.path().join("data/export.csv");
    let text = std::fs::read_to_string(&export).unwrap();
    let text = text.replace(
        "1111111,North Valley Unified,0601,100,",
        "1111111,North Valley Unified,0601,11111110000100,",
    ) + &text
        .lines()
        .find(|l| l.contains("Nina"))
        .unwrap()
        .replace(
            "1111111,North Valley Unified,0601,100,",
            "2222222,South Valley Unified,0601,11111110000100,",
        )
        .replace("2000000003", "3000000009")
        + "\n";
    std::fs::write(&export, text).unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("export.csv:7:4: error: SchoolId `11111110000100` is a 14-digit CDS code that names one school, which earlier rows place in DistrictId `1111111`"), "{stderr}");
}

/// Names that disagree between files are reported once each.
#[test]
fn disagreeing_school_names_are_reported_once() {
    let dir = copy_fixture("districts");
    edit(
        &dir.path().join("data/trt_south.xml"),
        "\"Cedar High\"",
        "\"Cedar High School\"",
    );
    let (out, _, stderr) = check(dir.path());
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("trt_south.xml:16:1: warning: SchoolName `Cedar High School` differs from `Cedar High`, the name "), "{stderr}");
    assert!(
        stderr.contains("export.csv:5:1 gives the same school; `Cedar High` is used"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// `build` runs the same validation as `check`: a deployment `check` rejects
/// is refused, and nothing is written.
#[test]
fn build_refuses_what_check_rejects() {
    let dir = copy_fixture("districts");
    edit(
        &dir.path().join("users.yaml"),
        "district_admin:2222222",
        "district_admin:3333333",
    );
    let (out, _, _) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let site = dir.path().join("site");
    let out = run(
        &[
            "build",
            dir.path().to_str().unwrap(),
            "--out",
            site.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("users.yaml:6: error: grant `district_admin:3333333`"),
        "{err}"
    );
    assert!(!site.exists(), "nothing written");
}

/// A Grade 6 ELA summative TRT document for `ssid`, with `body` inside the
/// Opportunity and its completeness and condition as given.
fn trt(ssid: &str, completeness: &str, condition: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<TDSReport>
  <Test grade="6" mode="online" contract="SBAC" bankKey="200" testId="SBAC-G6-ELA-SUM" subject="ELA"
        name="Grade 6 ELA Summative" assessmentType="summative" academicYear="2024" assessmentVersion="1"/>
  <Examinee isDemo="0" key="{ssid}">
    <ExamineeAttribute name="StudentIdentifier" value="{ssid}" context="FINAL" contextDate="2024-05-01T10:00:00"/>
    <ExamineeAttribute name="FirstName" value="Test" context="FINAL" contextDate="2024-05-01T10:00:00"/>
    <ExamineeAttribute name="LastOrSurname" value="Student{ssid}" context="FINAL" contextDate="2024-05-01T10:00:00"/>
    <ExamineeAttribute name="GradeLevelWhenAssessed" value="06" context="FINAL" contextDate="2024-05-01T10:00:00"/>
    <ExamineeRelationship name="DistrictId" value="1111111" context="FINAL" contextDate="2024-05-01T10:00:00"/>
    <ExamineeRelationship name="DistrictName" value="North Valley Unified" context="FINAL" contextDate="2024-05-01T10:00:00"/>
    <ExamineeRelationship name="SchoolId" value="600" context="FINAL" contextDate="2024-05-01T10:00:00"/>
    <ExamineeRelationship name="SchoolName" value="Aspen Middle" context="FINAL" contextDate="2024-05-01T10:00:00"/>
  </Examinee>
  <Opportunity database="session" key="o{ssid}" sessionId="S-1" windowId="ANNUAL" dateCompleted="2024-05-01T11:00:00"
               completeness="{completeness}" status="scored" administrationCondition="{condition}" oppId="{ssid}" opportunity="1">
    <Score measureOf="Overall" measureLabel="ScaleScore" value="2550" standardError="25"/>
    <Score measureOf="Overall" measureLabel="PerformanceLevel" value="3" standardError=""/>
{body}
  </Opportunity>
</TDSReport>
"#
    )
}

/// Loads a deployment of `files` through the pipeline every command runs.
fn load(
    files: &[(&str, String)],
) -> (
    tempfile::TempDir,
    scoresite::pipeline::Validated,
    Vec<String>,
) {
    let dir = common::deployment(files);
    let mut diags = scoresite::diag::Diagnostics::default();
    let v = scoresite::pipeline::load(dir.path(), &mut diags).expect("loads");
    let messages = diags.iter().map(|d| d.to_string()).collect();
    (dir, v, messages)
}

/// The analysis of every exam of a loaded deployment (one assessment).
fn analysis(v: &scoresite::pipeline::Validated) -> scoresite::render::analysis::Analysis {
    let dep = &v.deployment;
    let family = &dep.catalog.families[dep.data.assessments[0].family];
    let exams: Vec<usize> = (0..dep.data.exams.len()).collect();
    scoresite::render::analysis::analysis(dep, family, &exams).expect("has detail")
}

/// `<Item …/>` (Response and ScoreInfo are optional in the XSD) is an item,
/// and an item key repeated in one opportunity (a vendor variant) is one
/// response: each student counts once per item.
#[test]
fn self_closing_and_repeated_items_count_once_per_student() {
    let items = r#"
    <Item position="1" format="MC" key="1001" bankKey="200" contentLevel="1|RL-1" score="1" operational="1"/>
    <Item position="2" format="MC" key="1002" bankKey="200" contentLevel="1|RL-2" score="0" operational="1">
      <Response date="2024-05-01T10:30:00" type="value">C</Response>
      <ScoreInfo scorePoint="0" maxScore="1" scoreDimension="overall" scoreStatus="Scored"/>
    </Item>
    <Item position="2" format="MC" key="1002" bankKey="200" contentLevel="1|RL-2" score="0" operational="1">
      <Response date="2024-05-01T10:30:00" type="value">C</Response>
      <ScoreInfo scorePoint="0" maxScore="1" scoreDimension="overall" scoreStatus="Scored"/>
    </Item>"#;
    let (_dir, v, _) = load(&[
        ("data/a.xml", trt("5000000001", "Complete", "Valid", items)),
        ("data/b.xml", trt("5000000002", "Complete", "Valid", items)),
    ]);
    let detail = &v.deployment.data.details[&0];
    assert_eq!(detail.items.len(), 2, "{:?}", detail.items);
    let a = analysis(&v);
    assert_eq!(a.items.len(), 2);
    for item in &a.items {
        assert_eq!(item.n, 2, "item {}: one response per student", item.number);
    }
    assert_eq!(a.items[0].full_credit, "100%");
    assert_eq!(a.items[1].full_credit, "0%");
}

/// Writing traits given only in an item's `SubScoreList` fill the Writing
/// Trait Scores table.
#[test]
fn writing_traits_come_from_item_sub_scores() {
    let item = |org: u8, evi: u8, con: u8| {
        format!(
            r#"
    <Item position="30" format="WER" key="2001" bankKey="200" contentLevel="2|W-6" score="{}" operational="1">
      <ScoreInfo scorePoint="{}" maxScore="10" scoreDimension="overall" scoreStatus="Scored">
        <SubScoreList>
          <ScoreInfo scorePoint="{org}" maxScore="4" scoreDimension="Organization/Purpose" scoreStatus="Scored"/>
          <ScoreInfo scorePoint="{evi}" maxScore="4" scoreDimension="Evidence/Elaboration" scoreStatus="Scored"/>
          <ScoreInfo scorePoint="{con}" maxScore="2" scoreDimension="Conventions" scoreStatus="Scored"/>
        </SubScoreList>
      </ScoreInfo>
    </Item>"#,
            org + evi + con,
            org + evi + con
        )
    };
    let (_dir, v, _) = load(&[
        (
            "data/a.xml",
            trt("5000000001", "Complete", "Valid", &item(3, 2, 2)),
        ),
        (
            "data/b.xml",
            trt("5000000002", "Complete", "Valid", &item(1, 2, 1)),
        ),
    ]);
    let a = analysis(&v);
    assert_eq!(a.traits.len(), 1);
    let t = &a.traits[0];
    assert_eq!(t.n, 2);
    let means: Vec<&str> = t.traits.iter().map(|r| r.mean.as_str()).collect();
    assert_eq!(means, ["2.0", "2.0", "1.5"]);
    // Organization/Purpose: one student at 1 point, one at 3.
    let org: Vec<usize> = t.traits[0]
        .cells
        .iter()
        .map(|c| c.as_ref().map_or(0, |c| c.count))
        .collect();
    assert_eq!(org, [0, 1, 0, 1, 0]);
}

/// Real files carry `standardError=""` on every target residual. The Target
/// report is computed as RDW does: the mean residual and the standard error
/// of that mean (sample SD / √n), never empty rows.
#[test]
fn target_scores_without_standard_errors_fill_the_target_report() {
    let target = |r: f32| {
        format!(
            r#"    <Score measureOf="1-LT|8-2" measureLabel="StudentRelativeResidualScore" value="{r}" standardError=""/>
    <Score measureOf="1-LT|8-2" measureLabel="StandardMetRelativeResidualScore" value="{}" standardError=""/>"#,
            r - 0.5
        )
    };
    let files: Vec<(String, String)> = [0.3f32, 0.2, 0.1, 0.2]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let ssid = format!("500000000{i}");
            (
                format!("data/{i}.xml"),
                trt(&ssid, "Complete", "Valid", &target(*r)),
            )
        })
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    let (_dir, v, _) = load(&files);
    let a = analysis(&v);
    assert_eq!(a.targets.len(), 1);
    let row = &a.targets[0];
    assert_eq!(row.n, 4);
    // Residuals 0.3, 0.2, 0.1, 0.2: mean 0.2; sample SD √(0.02/3) = 0.0816;
    // SE 0.0816 / 2 = 0.041: above (0.2 ≥ 0.041).
    assert_eq!(row.vs_test_value, "+0.20 ± 0.04");
    assert_eq!(row.vs_test, "Performance better than on the entire test");
    // Relative to the standard: -0.3 ± 0.04, below.
    assert_eq!(row.vs_standard_value, "-0.30 ± 0.04");
    assert_eq!(row.vs_standard, "Below Standard");
}

/// A blank completeness or administration condition (RDW accepts it) loads
/// as "not reported", with one warning however many files carry it.
#[test]
fn blank_completeness_and_condition_load_as_not_reported() {
    let (_dir, v, messages) = load(&[
        ("data/a.xml", trt("5000000001", "", "", "")),
        ("data/b.xml", trt("5000000002", "", "", "")),
    ]);
    let exams = &v.deployment.data.exams;
    assert_eq!(exams.len(), 2);
    for e in exams {
        assert_eq!(e.completeness, scoresite::model::Completeness::NotReported);
        assert_eq!(e.condition, scoresite::model::AdminCondition::NotReported);
    }
    assert_eq!(messages.len(), 2, "{messages:?}");
    for field in ["completeness", "administrationCondition"] {
        let m = messages
            .iter()
            .find(|m| {
                m.contains(&format!(
                    "warning: Opportunity {field} is blank; loaded as not reported"
                ))
            })
            .unwrap_or_else(|| panic!("{field}: {messages:?}"));
        assert!(m.contains("a.xml:15:1: warning"), "{m}");
        assert!(
            m.contains("(and 1 more time(s): ") && m.ends_with("/data/b.xml:15:1)"),
            "{m}"
        );
    }
}

/// The districts fixture's export with `rows` appended, each a copy of the
/// row for `ssid` with `(from, to)` replacements.
fn export_with(rows: &[(&str, &[(&str, &str)])]) -> String {
    let base = std::fs::read_to_string(fixture("districts/data/export.csv")).unwrap();
    let mut out = base.clone();
    for (ssid, changes) in rows {
        let mut row = base.lines().find(|l| l.contains(ssid)).unwrap().to_string();
        for (from, to) in *changes {
            assert!(row.contains(from), "{row} lacks {from}");
            row = row.replacen(from, to, 1);
        }
        out.push_str(&row);
        out.push('\n');
    }
    out
}

/// Excel resaves dates as `5/19/22 13:07`: that is 2022, so the row is the
/// same opportunity as one dated 2022-05-19, and the later one is kept.
#[test]
fn two_digit_years_are_this_century_and_decide_duplicates() {
    let export = export_with(&[
        (
            "2000000001",
            &[
                ("2024-04-10 09:00:00", "5/19/22 13:07"),
                (",2024,", ",2022,"),
                (",3,2600,", ",4,2650,"),
            ],
        ),
        (
            "2000000001",
            &[
                ("2024-04-10 09:00:00", "2022-05-19 09:00:00"),
                (",2024,", ",2022,"),
            ],
        ),
    ]);
    let (_dir, v, messages) = load(&[("data/export.csv", export)]);
    let data = &v.deployment.data;
    let nora: Vec<_> = data
        .exams
        .iter()
        .filter(|e| e.school_year == 2022)
        .collect();
    assert_eq!(nora.len(), 1, "one opportunity");
    assert_eq!(nora[0].submitted.to_string(), "2022-05-19 13:07:00");
    assert_eq!(
        nora[0].overall.scale,
        Some(2650.0),
        "the later submission wins"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("export.csv:8:1: warning: duplicate opportunity")),
        "{messages:?}"
    );
}

/// An impossible date is an error naming the cell.
#[test]
fn impossible_dates_are_errors() {
    let export = export_with(&[("2000000001", &[("2024-04-10 09:00:00", "0022-05-19 13:07")])]);
    let dir = common::deployment(&[("data/export.csv", export)]);
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("export.csv:7:9: error: SubmitDateTime (column I): expected a date between 1900 and 2100, found `0022-05-19 13:07` (the year 22)"), "{stderr}");
}

/// The ISR of the exam of `v` whose assessment is named `name`.
fn isr_of(v: &scoresite::pipeline::Validated, name: &str) -> scoresite::render::views::Isr {
    let data = &v.deployment.data;
    let e = (0..data.exams.len())
        .find(|&e| data.assessments[data.exams[e].assessment as usize].name == name)
        .unwrap_or_else(|| panic!("no exam of {name}"));
    scoresite::render::views::isr(&v.deployment, e, 0, &[])
}

/// The accessible name of an ISR's level bar.
fn aria_label(svg: &str) -> &str {
    let start = svg.find("aria-label=\"").expect("has a label") + 12;
    &svg[start..start + svg[start..].find('"').unwrap()]
}

const NORA_SUMMATIVE: &str = "Summative,SUM,Grade 11 ELA Summative,ELA,11,Complete,Valid,3,2600,25";

/// Where CERS's level for an interim block differs from the ±1.5·SE band
/// rule, the ISR shows CERS's level and says so; the bar's accessible name
/// gives the same figures as the text.
#[test]
fn an_iab_isr_explains_a_level_cers_reported() {
    let export = export_with(&[(
        "2000000001",
        &[(
            NORA_SUMMATIVE,
            "Interim,IAB,Grade 8 ELA - Research (IAB),ELA,08,Complete,SD,2,2600,20",
        )],
    )]);
    let (_dir, v, _) = load(&[("data/export.csv", export)]);
    let isr = isr_of(&v, "Grade 8 ELA - Research (IAB)");
    assert_eq!(isr.level_name, "Near Standard");
    assert!(
        isr.level_description.contains("near the standard"),
        "{}",
        isr.level_description
    );
    assert_eq!(
        isr.band_note,
        "An interim block is judged by its score ± 1.5 standard errors, 2570–2630, against the standard, 2567. \
         CERS reported this result as Near Standard, which is the level shown here; by that band alone it would be Above Standard."
    );
    let label = aria_label(&isr.bar);
    assert_eq!(
        label,
        format!(
            "Scale from 2290 to 2850; score 2600 ± 20. {}",
            isr.band_note
        )
    );
    assert_eq!((isr.score.as_str(), isr.se.as_str()), ("2600", "20"));
}

/// Standard errors round half up, as CERS shows them: 214.5 is ± 215.
#[test]
fn standard_errors_round_half_up() {
    let export = export_with(&[(
        "2000000001",
        &[(
            NORA_SUMMATIVE,
            "Interim,IAB,Grade 8 ELA - Research (IAB),ELA,08,Partial,SD,1,2290,214.5",
        )],
    )]);
    let (_dir, v, _) = load(&[("data/export.csv", export)]);
    let isr = isr_of(&v, "Grade 8 ELA - Research (IAB)");
    assert_eq!(isr.se, "215");
    assert!(
        aria_label(&isr.bar).starts_with("Scale from 2290 to 2850; score 2290 ± 215."),
        "{}",
        isr.bar
    );
}

/// High-school IABs (taken in grades 9 and 10) are drawn on the grade 11
/// scale, as CERS reports them.
#[test]
fn high_school_iabs_get_a_level_bar() {
    let export = export_with(&[(
        "2000000001",
        &[(
            NORA_SUMMATIVE,
            "Interim,IAB,High School ELA - Research (IAB),ELA,10,Complete,SD,3,2650,20",
        )],
    )]);
    let (_dir, v, _) = load(&[("data/export.csv", export)]);
    let isr = isr_of(&v, "High School ELA - Research (IAB)");
    assert!(
        aria_label(&isr.bar).starts_with("Scale from 2300 to 2900; score 2650 ± 20."),
        "{}",
        isr.bar
    );
    assert!(
        isr.band_note.contains("against the standard, 2583."),
        "{}",
        isr.band_note
    );
}

/// The District/School Export of `exams`.
fn exported(dep: &scoresite::deployment::Deployment, exams: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    scoresite::render::export::write(dep, exams, &mut out).unwrap();
    out
}

/// The CSV records of `bytes` (after a BOM), header first.
fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The District/School Export gives back each row as it came in: its own
/// NcesId, its dates, grades, levels and flags as written; a 59-column row's
/// five extra columns blank; a blank cell blank even where a TRT document of
/// the same opportunity supplies the value (which the reports still use).
#[test]
fn the_export_gives_back_what_came_in() {
    let layout = scoresite::ingest::cers::columns_64();
    let row = |cells: &[(&str, &str)]| -> Vec<String> {
        let mut r = vec![String::new(); 64];
        for (name, value) in cells {
            r[layout.iter().position(|c| c == name).unwrap()] = value.to_string();
        }
        r
    };
    let common = |ssid: &'static str, nces: &'static str, date: &'static str| {
        vec![
            ("DistrictId", "1111111"),
            ("DistrictName", "North Valley Unified"),
            ("NcesId", nces),
            ("SchoolId", "600"),
            ("SchoolName", "Aspen Middle"),
            ("StudentIdentifier", ssid),
            ("FirstName", "Test"),
            ("LastOrSurname", "Student"),
            ("SubmitDateTime", date),
            ("SchoolYear", "2023-24"),
            ("TestSessionId", "S-1"),
            ("AssessmentType", "Summative"),
            ("AssessmentSubType", "SUM"),
            ("AssessmentName", "Grade 6 ELA Summative"),
            ("Subject", "ELA"),
            ("GradeLevelWhenAssessed", "6"),
            ("Completeness", "Complete"),
            ("AdministrationCondition", "Valid"),
            ("ScaleScoreAchievementLevel", "Level 3"),
            ("ScaleScore", "2550.0"),
            ("ScaleScoreStandardError", "25.00"),
            ("MigrantStatus", "N"),
            ("HispanicOrLatinoEthnicity", "No"),
            ("EnglishLanguageAcquisitionStatusStartDate", "8/15/19"),
        ]
    };
    let mut second = common("5000000002", "062720011360", "2024-05-01 11:00:00.000000");
    // Cells the first row decides (the school's name) and cells with spaces
    // around them come back as this row gave them.
    for cell in &mut second {
        match cell.0 {
            "SchoolName" => cell.1 = "Aspen Middle School",
            "TestSessionId" => cell.1 = " S-1 ",
            _ => {}
        }
    }
    second.push(("AssignedAccommodationList", "TDS_PM0 "));
    // A blank NcesId comes back blank, though the district has one.
    let input = vec![
        row(&common("5000000001", "062720004102", "5/1/24 10:05")),
        row(&second),
        row(&common("5000000003", "", "2024-05-02 09:00:00.000000")),
    ];
    let mut csv = layout.join(",") + "\r\n";
    for r in &input {
        csv += &(r.join(",") + "\r\n");
    }
    // A TRT document of the second opportunity says the student has a 504 plan.
    let trt = trt("5000000002", "Complete", "Valid", "").replace(
        r#"<ExamineeRelationship name="DistrictId""#,
        r#"<ExamineeAttribute name="Section504Status" value="Yes" context="FINAL" contextDate="2024-05-01T10:00:00"/>
    <ExamineeRelationship name="DistrictId""#,
    );
    let (_dir, v, messages) = load(&[("data/export.csv", csv), ("data/trt.xml", trt)]);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("export.csv:3:3: warning: NcesId differs from `062720004102`")),
        "{messages:?}"
    );
    let dep = &v.deployment;
    assert_eq!(dep.data.exams.len(), 3, "the TRT document joined its row");
    let second = dep.data.exams.iter().find(|e| e.origin.line == 3).unwrap();
    assert_eq!(
        second.demographics.get(scoresite::model::Flag::Section504),
        Some(true),
        "reports use the TRT value"
    );
    let mut exams: Vec<usize> = (0..3).collect();
    exams.sort_by_key(|&e| dep.data.exams[e].origin.line);
    let out = records(&exported(dep, &exams));
    assert_eq!(out[0], layout);
    assert_eq!(out[1..], input[..]);

    // The same rows in the 59-column layout come back with the five extra columns blank.
    let columns_59 = scoresite::ingest::cers::COLUMNS_59;
    let pick = |r: &Vec<String>| -> Vec<String> {
        columns_59
            .iter()
            .map(|c| r[layout.iter().position(|l| l == c).unwrap()].clone())
            .collect()
    };
    let mut csv = columns_59.join(",") + "\n";
    for r in &input {
        csv += &(pick(r).join(",") + "\n");
    }
    let (_dir, v, _) = load(&[("data/export.csv", csv)]);
    let out = records(&exported(&v.deployment, &exams));
    assert_eq!(out[1..], input[..]);

    // A blank NcesId read before any row gives the district's comes back
    // blank, when a later file (or batch of rows) gives it.
    let file = |r: &Vec<String>| layout.join(",") + "\r\n" + &r.join(",") + "\r\n";
    let (_dir, v, _) = load(&[
        ("data/a.csv", file(&input[2])),
        ("data/b.csv", file(&input[0])),
    ]);
    let dep = &v.deployment;
    let mut exams: Vec<usize> = (0..2).collect();
    exams.sort_by_key(|&e| dep.data.exams[e].origin.file);
    let out = records(&exported(dep, &exams));
    assert_eq!(out[1..], [input[2].clone(), input[0].clone()]);
}

/// A student's names may change from row to row, and from file to file.
/// Each row still comes back with the names it was read with: renamed in
/// the same batch of rows, in a later batch, or by a later file, with a
/// blank first name, or with spaces around a name.
#[test]
fn each_row_keeps_the_names_it_was_read_with() {
    let layout = scoresite::ingest::cers::columns_64();
    let row = |ssid: &str, first: &str, last: &str, day: u32| -> Vec<String> {
        let mut r = vec![String::new(); 64];
        let date = format!("2024-05-{day:02} 10:00:00.000000");
        let cells = [
            ("DistrictId", "1111111"),
            ("DistrictName", "North Valley Unified"),
            ("SchoolId", "600"),
            ("SchoolName", "Aspen Middle"),
            ("StudentIdentifier", ssid),
            ("FirstName", first),
            ("LastOrSurname", last),
            ("SubmitDateTime", &date),
            ("SchoolYear", "2024"),
            ("TestSessionId", "S-1"),
            ("AssessmentType", "Summative"),
            ("AssessmentSubType", "SUM"),
            ("AssessmentName", "Grade 6 ELA Summative"),
            ("Subject", "ELA"),
            ("GradeLevelWhenAssessed", "06"),
            ("Completeness", "Complete"),
            ("AdministrationCondition", "Valid"),
            ("ScaleScoreAchievementLevel", "3"),
            ("ScaleScore", "2550"),
        ];
        for (name, value) in cells {
            r[layout.iter().position(|c| *c == name).unwrap()] = value.to_string();
        }
        r
    };
    let ann = "5000000001";
    let first_file = [
        row(ann, "Ann", "Lee", 1),
        row(ann, "Ann", "Smith", 2),
        row(ann, "Anne", "Smith", 3),
        row(ann, " Anne ", "Smith", 4),
        row(ann, "", "Smith", 5),
        row(ann, "Anne", "Smith", 6),
    ];
    // Rows of other students put the last four in a later batch than the first two.
    let others = (0..9000).map(|i| row(&format!("6{i:09}"), "Other", "Student", 1));
    let mut csv = layout.join(",") + "\n";
    for r in first_file[..2]
        .iter()
        .cloned()
        .chain(others)
        .chain(first_file[2..].iter().cloned())
    {
        csv += &(r.join(",") + "\n");
    }
    let second_file = [row(ann, "Annie", "Lee-Smith", 7)];
    let csv2 = layout.join(",") + "\n" + &second_file[0].join(",") + "\n";
    let (_dir, v, messages) = load(&[("data/a.csv", csv), ("data/b.csv", csv2)]);
    assert!(
        !messages.iter().any(|m| m.contains("error")),
        "{messages:?}"
    );
    let data = &v.deployment.data;
    let student = data.student(ann).unwrap();
    let s = &data.students[student as usize];
    assert_eq!((&*s.first_name, &*s.last_name), ("Annie", "Lee-Smith"));
    let mut exams: Vec<usize> = (0..data.exams.len())
        .filter(|&e| data.exams[e].student == student)
        .collect();
    exams.sort_by_key(|&e| (data.exams[e].origin.file, data.exams[e].origin.line));
    let out = records(&exported(&v.deployment, &exams));
    let expected: Vec<Vec<String>> = first_file.into_iter().chain(second_file).collect();
    assert_eq!(out[1..], expected[..]);
}

/// A charter's results may carry its 14-digit authorising CDS code as the
/// SchoolId, under the authorising district: the row joins the charter the
/// CALPADS organisation file lists.
#[test]
fn a_charter_named_by_its_authorising_cds_code_matches_the_organisation_file() {
    let orgs = "County-District Code^School Code^Auth CDS Code^County Name^District Name^School Name^Charter School^Charter Status^NPS School\n\
                0100016^0100016^20652430100016^Madera^Sherman Thomas Charter^Sherman Thomas Charter^Y^DF^N\n\
                2065243^6023568^^Madera^Madera Unified^Berenda Elementary^N^^N\n";
    let export = export_with(&[(
        "2000000003",
        &[(
            "1111111,North Valley Unified,0601,100,Birch Elementary",
            "2065243,Madera Unified,0601,20652430100016,Sherman Thomas Charter",
        )],
    )]);
    let export: String = export
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.contains("Sherman"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let (_dir, v, messages) = load(&[
        ("data/orgs.txt", orgs.to_string()),
        ("data/export.csv", export),
    ]);
    let inst = &v.deployment.data.institutions;
    let exam = &v.deployment.data.exams[0];
    let school = &inst.schools[exam.school as usize];
    assert_eq!(school.name, "Sherman Thomas Charter");
    assert_eq!(school.cds.as_deref(), Some("01000160100016"));
    assert_eq!(inst.leas[school.lea].id, "0100016");
    assert!(
        !messages.iter().any(|m| m.contains("error")),
        "{messages:?}"
    );
}

/// Files LEAs have that are not results are named for what they look like.
#[test]
fn files_that_are_not_results_are_named() {
    let dir = common::deployment(&[
        (
            "data/registration.csv",
            "SSID,LocalStudentID,LastName,FirstName,Grade\n1234567890,77,Doe,Jo,5\n".into(),
        ),
        (
            "data/orgs.json",
            "{\"districts\": [{\"id\": \"1111111\", \"schools\": []}]}\n".into(),
        ),
    ]);
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("registration.csv:1:1: error: unrecognised file: it looks like a student list (such as a TOMS student registration extract)"), "{stderr}");
    assert!(
        stderr.contains(
            "orgs.json:1:1: error: unrecognised file: it looks like an organisation JSON"
        ),
        "{stderr}"
    );
}

/// One mangled DistrictId on every row is one error with a count, and the
/// grant to that district is not reported as a second error.
#[test]
fn a_repeated_bad_value_is_one_error_and_its_consequences_are_not_errors() {
    let dir = copy_fixture("districts");
    let export = dir.path().join("data/export.csv");
    let text = std::fs::read_to_string(&export)
        .unwrap()
        .replace("2222222,South", "2.22E+06,South");
    std::fs::write(&export, text).unwrap();
    std::fs::remove_file(dir.path().join("data/groups.csv")).unwrap();
    std::fs::remove_file(dir.path().join("data/trt_south.xml")).unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("export.csv:5:1: error: DistrictId (column A): expected an identifier, found `2.22E+06`"), "{stderr}");
    assert!(
        errors[0].ends_with("(and 1 more time(s): line 6)"),
        "{stderr}"
    );
    assert!(stderr.contains("warning: grant `district_admin:2222222` for south.coordinator@south.example names LEA `2222222`, which is not in the institutions; expected a known LEA id (rows rejected by the errors above may be why)"), "{stderr}");
}

/// The pipeline `build` and `sandbox` run fills a blank level from the cut
/// scores, as `check` says it does (before, only `check` validated).
#[test]
fn the_shared_pipeline_fills_blank_levels() {
    let mut diags = scoresite::diag::Diagnostics::default();
    let v = scoresite::pipeline::load_valid(&fixture("quirks"), &mut diags).expect("valid");
    let data = &v.deployment.data;
    let grace = data.student("1000000002").unwrap();
    let exam = data
        .exams
        .iter()
        .find(|e| {
            e.student == grace
                && data.assessments[e.assessment as usize].name == "Grade 5 Mathematics Summative"
        })
        .unwrap();
    assert_eq!(exam.overall.scale, Some(2530.0));
    // Grade 5 math cuts 2455, 2528, 2579: 2530 is Level 3.
    assert_eq!(exam.overall.level, Some(3));
    assert_eq!(v.summary.levels_derived, 1);
}

/// Hostile inputs are refused by name, not parsed at length: a TRT element
/// with 300,000 attributes, a megabyte CSV cell, a symbolic link in data/.
#[test]
fn oversized_and_non_regular_inputs_are_refused() {
    let attributes: String = (0..300_000).map(|i| format!(" a{i}=\"1\"")).collect();
    let trt = trt("5000000001", "Complete", "Valid", "")
        .replace("<Test ", &format!("<Test{attributes} "));
    let cell = "x".repeat(1 << 20);
    let export = export_with(&[("2000000001", &[("Redwood High", &cell)])]);
    let dir = common::deployment(&[("data/a.xml", trt), ("data/export.csv", export)]);
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("data/link.csv")).unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains(
            "a.xml:3:3: error: not well-formed TRT XML: <Test> has more than 64 attributes"
        ),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        stderr.contains("export.csv:7:5: error: a cell of 1048576 bytes; expected at most 65536"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        stderr.contains("link.csv: error: a symbolic link; expected a regular file"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
}

/// An interim block's ISR lists that block's earlier results only, not the
/// student's other blocks; a summative lists the earlier summatives.
#[test]
fn previous_results_are_the_same_block() {
    let iab = |date: &str, block: &str, score: &str| -> (&'static str, Vec<(String, String)>) {
        (
            "2000000003",
            vec![
                ("2024-04-10 09:00:00".into(), format!("{date} 09:00:00")),
                ("S-1".into(), format!("S-{block}{date}")),
                (
                    "Summative,SUM,Grade 5 ELA Summative".into(),
                    format!("Interim,IAB,Grade 5 ELA - {block} (IAB)"),
                ),
                ("Valid,4,2650".into(), format!("SD,2,{score}")),
            ],
        )
    };
    let rows = [
        iab("2024-01-10", "Read Literary Texts", "2500"),
        iab("2024-02-10", "Revision", "2510"),
        iab("2024-03-10", "Read Literary Texts", "2520"),
    ];
    let borrowed: Vec<(&str, Vec<(&str, &str)>)> = rows
        .iter()
        .map(|(s, c)| {
            (
                *s,
                c.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[(&str, &str)])> =
        borrowed.iter().map(|(s, c)| (*s, c.as_slice())).collect();
    let (_dir, v, _) = load(&[
        ("scoresite.yaml", "name: Test\n".into()),
        ("data/export.csv", export_with(&refs)),
    ]);
    let data = &v.deployment.data;
    let at = |name: &str, date: &str| {
        (0..data.exams.len())
            .find(|&e| {
                data.assessments[data.exams[e].assessment as usize].name == name
                    && data.exams[e].submitted.to_string().starts_with(date)
            })
            .unwrap()
    };
    let all: Vec<usize> = (0..data.exams.len()).collect();
    let march = at("Grade 5 ELA - Read Literary Texts (IAB)", "2024-03-10");
    let isr = scoresite::render::views::isr(
        &v.deployment,
        march,
        0,
        &scoresite::render::views::earlier(&v.deployment, march, &all),
    );
    assert_eq!(isr.previous.len(), 1, "{:?}", isr.previous);
    assert!(isr.previous[0].contains("Read Literary Texts") && isr.previous[0].contains("2500"));
}

/// An ISR carries no note meant for the coordinator: where the catalog has
/// no score ranges (CAA for Science), it says so plainly.
#[test]
fn isr_notes_are_for_parents() {
    let changes: &[(&str, &str)] = &[
        (
            "Summative,SUM,Grade 5 ELA Summative,ELA",
            "Summative,SUM,Grade 5 CAA Science Summative,CAASCI",
        ),
        ("Valid,4,2650", "Valid,2,"),
    ];
    let (_dir, v, _) = load(&[
        ("scoresite.yaml", "name: Test\n".into()),
        ("data/export.csv", export_with(&[("2000000003", changes)])),
    ]);
    let isr = isr_of(&v, "Grade 5 CAA Science Summative");
    assert_eq!(
        isr.range_note,
        "The level is the one the test reported; this test's score ranges are not shown."
    );
}
