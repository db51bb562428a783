//! `scoresite check` on fixture deployments: every input quirk, and every error
//! reported with its file, line and column.

mod common;

use common::{check, copy_fixture, deployment, fixture};
use std::process::{Command, Output};

/// The count in the summary row for `family`, by column (one per year, then total).
fn row(stdout: &str, family: &str) -> Vec<usize> {
    let line = stdout
        .lines()
        .find(|l| {
            l.trim_start().starts_with(family)
                && l[family.len() + 2..]
                    .trim_start()
                    .starts_with(char::is_numeric)
        })
        .unwrap_or_else(|| panic!("no row {family} in\n{stdout}"));
    line[family.len() + 2..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

/// Checks `dir`, which must fail with `loaded` in its summary and `count`
/// errors; returns the error lines and the whole of stderr.
fn failing_check(dir: &std::path::Path, loaded: &str, count: usize) -> (Vec<String>, String) {
    let (out, stdout, stderr) = check(dir);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains(loaded), "expected {loaded}:\n{stdout}");
    let errors: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .map(str::to_string)
        .collect();
    assert_eq!(errors.len(), count, "{stderr}");
    (errors, stderr)
}

#[test]
fn quirks_deployment_passes_with_correct_counts() {
    let (out, stdout, stderr) = check(&fixture("quirks"));
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Fixture Unified"));
    // 15 + 2 CERS rows, one duplicate dropped, one TRT (the reset one skipped).
    assert!(
        stdout.contains("Students: 11   Exams: 17   Groups: 2   Users: 5"),
        "{stdout}"
    );
    assert!(stdout.contains("Duplicate opportunities resolved: 1"));
    assert!(
        stdout.contains("Institutions: 1 LEA(s), 2 school(s)"),
        "{stdout}"
    );
    // Years 2019, 2023, 2024.
    assert_eq!(row(&stdout, "Summative ELA"), vec![1, 1, 1, 3]);
    assert_eq!(row(&stdout, "Summative Mathematics"), vec![1, 0, 1, 2]);
    assert_eq!(row(&stdout, "IAB Mathematics"), vec![0, 0, 2, 2]);
    for family in [
        "ICA Mathematics",
        "Focused IAB ELA",
        "CAST Interim",
        "ELPAC Interim",
        "Summative ELPAC",
        "Alternate ELPAC",
        "CSA",
        "CAA Science",
        "CAA ELA",
        "CAST",
    ] {
        assert_eq!(row(&stdout, family), vec![0, 0, 1, 1], "{family}");
    }
    // The blank Math level was filled from the cuts.
    assert!(
        stdout.contains("Blank levels filled from the catalog's cut scores: 1"),
        "{stdout}"
    );
    // Warnings: the duplicate, the disagreeing level, the duplicate group member, the reset TRT.
    assert!(
        stderr.contains("export_64_quoted.csv:2:1: warning: duplicate opportunity"),
        "{stderr}"
    );
    assert!(stderr.contains("export_64_quoted.csv:16:1: warning: ScaleScore 2400 ± 25 has level 3 in the file, but the catalog's cut scores give level 1"), "{stderr}");
    assert!(
        stderr.contains("groups_cr.csv:6:5: warning: student `1000000001` is listed twice"),
        "{stderr}"
    );
    assert!(
        stderr.contains("trt_reset.xml:25:1: warning: opportunity status is `reset`"),
        "{stderr}"
    );
    // A grant that shows its holder nothing is a warning, not silence.
    assert!(
        stderr.contains("users.yaml:6: warning: grant `teacher:S200` for principal@fixture.org gives nothing to see"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 5, "{stderr}");
}

#[test]
fn malformed_cells_are_reported_with_file_line_and_column() {
    let (out, _, stderr) = check(&fixture("bad"));
    assert_eq!(out.status.code(), Some(1));
    let expect = [
        "export.csv:2:20: error: ScaleScore (column T): expected a number, found `25x0`",
        "export.csv:3:6: error: StudentIdentifier (column F): expected an identifier, found `3.53E+19`: Excel has turned a long number into scientific notation",
        "export.csv:4:9: error: SubmitDateTime (column I): expected a date such as 2024-04-08",
        "export.csv:4:16: error: GradeLevelWhenAssessed (column P): expected a grade (KG, 01-13, G6, TK, UG …), found `fifth`",
        "export.csv:5:15: error: Subject (column O): expected a Subject the catalog has for SUM",
        "export.csv:7:4: error: 4 fields; expected 59 as in the header",
        "notes.csv:1:1: error: unrecognised file",
        "users.yaml:5: error: `principal` is not a role",
    ];
    for e in expect {
        assert!(stderr.contains(e), "missing `{e}` in\n{stderr}");
    }
    // The unknown school may be a consequence of the rejected rows: a warning that says so.
    assert!(stderr.contains("users.yaml:4: warning: grant `school_admin:NOPE` for someone@fixture.org names school `NOPE`"), "{stderr}");
    // Every error, not just the first; and the good row still loads.
    assert_eq!(
        stderr.lines().filter(|l| l.contains(": error: ")).count(),
        expect.len(),
        "{stderr}"
    );
}

#[test]
fn group_rules_are_enforced() {
    let (out, _, stderr) = check(&fixture("groupsbad"));
    assert_eq!(out.status.code(), Some(1));
    for e in [
        "groups.csv:4:1: error: group `A` continues here after other groups; expected all of its rows together (it began on line 2)",
        "groups.csv:5:4: error: subject_code: expected All or one of ELA, Math",
        "groups.csv:7:4: error: subject_code `Math` conflicts with `ELA` given earlier for group `D`",
        "groups.csv:8:2: error: school_natural_id `S999` is not a known school",
    ] {
        assert!(stderr.contains(e), "missing `{e}` in\n{stderr}");
    }
    // A roster student without results (kindergarten, a new arrival) is a member, counted.
    assert!(!stderr.contains("9999999999"), "{stderr}");
    assert!(out_contains(&out, "Students on rosters without results: 1"));
}

fn out_contains(out: &Output, text: &str) -> bool {
    String::from_utf8_lossy(&out.stdout).contains(text)
}

#[test]
fn group_of_201_students_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let header = std::fs::read_to_string(fixture("quirks/data/export_59_plain.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let cols = header.split(',').count();
    let mut export = header.clone() + "\n";
    let mut groups = String::from(
        "group_name,school_natural_id,school_year,subject_code,student_ssid,group_user_login\r\n",
    );
    for i in 0..201 {
        let mut cells = vec![""; cols];
        let ssid = format!("5{i:09}");
        for (name, value) in [
            ("DistrictId", "9001"),
            ("SchoolId", "S100"),
            ("StudentIdentifier", ssid.as_str()),
            ("SubmitDateTime", "2024-04-01"),
            ("SchoolYear", "2024"),
            ("AssessmentSubType", "SUM"),
            ("AssessmentName", "Grade 5 ELA Summative"),
            ("Subject", "ELA"),
            ("GradeLevelWhenAssessed", "05"),
            ("Completeness", "Complete"),
            ("AdministrationCondition", "Valid"),
        ] {
            cells[header.split(',').position(|h| h == name).unwrap()] = value;
        }
        export += &(cells.join(",") + "\n");
        groups += &format!("Big,S100,2024,,{ssid},\r\n");
    }
    std::fs::write(dir.path().join("data/export.csv"), export).unwrap();
    std::fs::write(dir.path().join("data/groups.csv"), groups).unwrap();
    let (out, stdout, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stderr.contains("groups.csv:202:5: error: group `Big` has more than 200 students"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn institutions_file_defines_schools() {
    let (out, stdout, stderr) = check(&fixture("orgs"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("CALPADS organisations"), "{stdout}");
    assert!(
        stdout.contains("Institutions: 1 LEA(s), 2 school(s)"),
        "{stdout}"
    );
    // The 7-digit school code and 14-digit district code both resolve; an unknown school does not.
    assert!(stderr.contains("export.csv:3:4: error: SchoolId `9999999` (Nowhere High) is not in the institutions file"), "{stderr}");
    // A name that disagrees with the institutions file is reported, and the file's name used.
    assert!(stderr.contains("export.csv:2:1: warning: DistrictName `Fixture Unified` differs from `Oakland Unified`"), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
}

#[test]
fn yaml_errors_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("scoresite.yaml"),
        "name: X\nsuppression_threshold: ten\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("users.yaml"),
        "users:\n  - email: a@b.org\n    grant: [teacher:1]\n",
    )
    .unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("scoresite.yaml:2:24: error: suppression_threshold: invalid type"),
        "{stderr}"
    );
    assert!(
        stderr.contains("users.yaml:3:5: error: users[0]: unknown field `grant`"),
        "{stderr}"
    );
}

#[test]
fn build_of_a_missing_deployment_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("site");
    let out = Command::new(env!("CARGO_BIN_EXE_scoresite"))
        .args(["build", "/definitely/not/here", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/definitely/not/here") && err.contains("not a directory"),
        "{err}"
    );
    assert!(!out_dir.exists());
}

#[test]
fn new_generation_trt_names_simple_institutions_and_out_of_range_scores() {
    let trt = std::fs::read_to_string(fixture("quirks/data/trt_iab.xml"))
        .unwrap()
        .replace("ResponsibleDistrictIdentifier", "DistrictId")
        .replace("OrganizationName", "DistrictName")
        .replace("ResponsibleInstitutionIdentifier", "SchoolId")
        .replace("NameOfInstitution", "SchoolName")
        .replace("value=\"2490\"", "value=\"3100\"");
    let export = std::fs::read_to_string(fixture("quirks/data/export_59_plain.csv")).unwrap();
    let dir = deployment(&[
        ("data/institutions.csv", "lea_id,lea_name,school_id,school_name,cds\n9001,Fixture Unified,S100,Oak Elementary,01234560000001\n".into()),
        ("data/trt.xml", trt),
        ("data/export.csv", export),
    ]);
    let (out, stdout, stderr) = check(dir.path());
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("institutions CSV"), "{stdout}");
    assert!(
        stdout.contains("Institutions: 1 LEA(s), 1 school(s)   Students: 2   Exams: 3"),
        "{stdout}"
    );
    assert!(stderr.contains("trt.xml:25:1: warning: ScaleScore 3100 is outside 2205–2700, the range for Grade 4 Math - Geometry (IAB) (grade 4, 2024)"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn groups_header_must_be_exact() {
    let export = std::fs::read_to_string(fixture("quirks/data/export_59_plain.csv")).unwrap();
    let dir = deployment(&[
        ("data/export.csv", export),
        ("data/groups.csv", "group_name,school_natural_id,school_year,student_ssid,subject_code,group_user_login\nA,S100,2019,1000000001,,\n".into()),
    ]);
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("groups.csv:1:4: error: expected the header `group_name,school_natural_id,school_year,subject_code,student_ssid,group_user_login`"),
        "{stderr}"
    );
}

#[test]
fn a_misspelt_instructional_resource_family_is_an_error_with_its_line() {
    let dir = copy_fixture("quirks");
    std::fs::write(
        dir.path().join("instructional_resources.yaml"),
        "resources:\n  - family: sb_math_iab\n    label: Good\n    url: https://a.example/\n  - family: sb_math_summativ\n    label: Misspelt\n    url: https://a.example/\n",
    )
    .unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("instructional_resources.yaml:6: error: resource `Misspelt`: family `sb_math_summativ` is not in the catalog"),
        "{stderr}"
    );
}

#[test]
fn trt_documents_by_the_thousand_load_in_order_with_their_errors() {
    // More documents than are parsed at a time, so that loading one batch
    // overlaps parsing the next: every one is loaded, and the errors come
    // in file order, each at its line and column.
    let base = std::fs::read_to_string(fixture("quirks/data/trt_iab.xml")).unwrap();
    let mut files = vec![(
        "data/institutions.csv".to_string(),
        "lea_id,lea_name,school_id,school_name\n9001,Fixture Unified,S100,Oak Elementary\n"
            .to_string(),
    )];
    for i in 0..1_100 {
        let ssid = format!("value=\"{}\"", 2_000_000_000 + i);
        let mut doc = base.replace("value=\"1000000001\"", &ssid);
        match i {
            // CR LF line ends are read as LF.
            7 => doc = doc.replace('\n', "\r\n"),
            // An element with more attributes than any TRT element has.
            300 => {
                let many: String = (0..65).map(|n| format!(" a{n}=\"x\"")).collect();
                doc = doc.replace("<Segment ", &format!("<Segment{many} "));
            }
            // Cut off mid-document.
            1_050 => doc.truncate(doc.find("<Item position=\"2\"").unwrap() + 6),
            _ => {}
        }
        files.push((format!("data/trt/doc_{i:04}.xml"), doc));
    }
    let files: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    let dir = deployment(&files);
    // All but the two broken documents load, the CR LF one too.
    let (errors, stderr) = failing_check(dir.path(), "Students: 1098   Exams: 1098", 2);
    assert!(
        errors[0].contains("doc_0300.xml:27:9: error:")
            && errors[0].contains("<Segment> has more than 64 attributes"),
        "{stderr}"
    );
    assert!(
        errors[1].contains("doc_1050.xml:") && errors[1].contains("not well-formed TRT XML"),
        "{stderr}"
    );
}

#[test]
fn invalid_utf8_is_reported_at_its_line_in_text_and_trt_files() {
    let trt = std::fs::read_to_string(fixture("quirks/data/trt_iab.xml")).unwrap();
    let export = std::fs::read_to_string(fixture("quirks/data/export_59_plain.csv")).unwrap();
    let dir = deployment(&[("data/export.csv", export)]);
    // Latin-1 é (0xE9) where UTF-8 was expected.
    let institutions =
        b"lea_id,lea_name,school_id,school_name\n9001,Fixture Unified,S100,Oak\n9001,Fixture Unified,S200,Caf\xe9\n";
    std::fs::write(dir.path().join("data/institutions.csv"), institutions).unwrap();
    let mut doc = trt.into_bytes();
    let at = doc.windows(7).position(|w| w == b"Lovelac").unwrap();
    doc[at + 6] = 0xE9;
    std::fs::write(dir.path().join("data/trt.xml"), doc).unwrap();
    let (out, stdout, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("institutions.csv:3:1: error: invalid UTF-8; expected a UTF-8 text file"),
        "{stderr}"
    );
    // The same message again is folded into the first, with its place.
    assert!(stderr.contains("data/trt.xml:9:1)"), "{stderr}");
}

#[test]
fn export_rows_by_the_batch_load_in_order_with_their_errors() {
    // More rows than are read at a time, so that reading one batch overlaps
    // adding the one before: every good row loads, every bad one is named at
    // its line and column, whichever batch it falls in.
    let export = std::fs::read_to_string(fixture("quirks/data/export_59_plain.csv")).unwrap();
    let mut lines = export.lines();
    let header = lines.next().unwrap();
    let template = lines.next().unwrap();
    let mut text = format!("{header}\n");
    for i in 0..20_000 {
        let mut cells: Vec<String> = template.split(',').map(str::to_string).collect();
        cells[5] = format!("{}", 2_000_000_000 + i);
        // Rows alternate between two schools, seven at a time.
        if (i / 7) % 2 == 1 {
            cells[3] = "S200".into();
            cells[4] = "Elm Middle".into();
        }
        match i {
            100 => cells[15] = "3Z".into(),
            9_000 => cells.truncate(40),
            // Four rows in a row give S100 another name: said once.
            14_994..=14_997 => cells[4] = "Oak Elementary School".into(),
            17_000 => cells[19] = "abc".into(),
            _ => {}
        }
        text.push_str(&cells.join(","));
        text.push('\n');
        if i == 12_000 {
            text.push_str(&",".repeat(cells.len() - 1));
            text.push('\n');
        }
    }
    let dir = deployment(&[("data/export.csv", text)]);
    // Every row but the three bad ones loads.
    let (errors, stderr) = failing_check(dir.path(), "Students: 19997   Exams: 19997", 3);
    assert!(
        errors[0].contains("export.csv:102:16: error: GradeLevelWhenAssessed"),
        "{stderr}"
    );
    assert!(
        errors[1].contains("export.csv:9002:40: error: 40 fields; expected 59"),
        "{stderr}"
    );
    assert!(
        errors[2].contains("export.csv:17003:20: error: ScaleScore"),
        "{stderr}"
    );
    let renamed: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("SchoolName `Oak Elementary School` differs"))
        .collect();
    assert_eq!(renamed.len(), 1, "{stderr}");
    assert!(
        renamed[0].contains("export.csv:14997:1: warning:"),
        "{stderr}"
    );
}
