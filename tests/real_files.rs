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
