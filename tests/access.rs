//! Access planning on the quirks fixture: who gets which bundle, and what each
//! bundle may show.

use scoresite::access::{self, Kind};
use scoresite::deployment::Deployment;
use scoresite::diag::Diagnostics;
use std::collections::BTreeSet;
use std::path::Path;

fn load() -> Deployment {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quirks");
    let mut diags = Diagnostics::default();
    scoresite::pipeline::load_valid(&root, &mut diags)
        .expect("loads without errors")
        .deployment
}

/// The bundles of the deployment's own users and settings.
fn plan(dep: &Deployment) -> access::Plan {
    access::plan(
        &dep.data,
        &dep.catalog,
        &dep.users,
        dep.settings.group_years,
    )
}

fn ssids(dep: &Deployment, students: &[u32]) -> BTreeSet<String> {
    students
        .iter()
        .map(|&s| dep.data.students[s as usize].ssid.to_string())
        .collect()
}

/// (ssid, subject) of a bundle's exams.
fn exams(dep: &Deployment, b: &access::Bundle) -> BTreeSet<(String, String)> {
    b.exams
        .iter()
        .map(|&e| {
            let exam = &dep.data.exams[e];
            let family = dep.data.assessments[exam.assessment as usize].family;
            (
                dep.data.students[exam.student as usize].ssid.to_string(),
                dep.catalog.families[family].subject.clone(),
            )
        })
        .collect()
}

#[test]
fn teacher_sees_only_their_groups_in_their_subjects() {
    let dep = load();
    let plan = plan(&dep);
    let mine: Vec<_> = plan.bundles_of("Teacher.One@fixture.org").collect();
    assert_eq!(mine.len(), 1);
    let b = mine[0].1;
    assert_eq!(b.kind, Kind::Teacher);
    assert_eq!(b.groups.len(), 2);
    assert_eq!(
        ssids(&dep, &b.students),
        ["1000000001", "1000000002", "1000000003", "1000000005"]
            .map(String::from)
            .into()
    );
    let seen = exams(&dep, b);
    // Room 5 ELA is an ELA group: its students' Math results are not the teacher's.
    assert!(seen.contains(&("1000000001".into(), "ELA".into())));
    assert!(
        !seen
            .iter()
            .any(|(s, subject)| s == "1000000001" && subject == "Math"),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|(s, _)| s == "1000000002"),
        "student 2 has only Math results: {seen:?}"
    );
    // Homeroom has every subject.
    assert!(seen.contains(&("1000000003".into(), "Math".into())));
    assert!(seen.contains(&("1000000003".into(), "ELA".into())));
    assert!(seen.contains(&("1000000005".into(), "ELPAC".into())));
    assert!(!seen
        .iter()
        .any(|(s, _)| ["1000000004", "1000000010"].contains(&s.as_str())));
}

#[test]
fn administrators_see_their_schools_and_reporters_no_students() {
    let dep = load();
    let plan = plan(&dep);
    let principal: Vec<_> = plan
        .bundles_of("principal@fixture.org")
        .map(|(_, b)| b)
        .collect();
    // school_admin:S100, and teacher:S200 with no groups there gives nothing.
    assert_eq!(principal.len(), 1);
    let school = principal[0];
    assert_eq!(school.kind, Kind::School);
    let s100 = dep.data.institutions.school("S100").unwrap();
    assert_eq!(school.schools, vec![s100]);
    assert!(school
        .exams
        .iter()
        .all(|&e| dep.data.exams[e].school as usize == s100));
    assert!(
        !exams(&dep, school).contains(&("1000000010".into(), "ELA".into())),
        "the S200 exam is not the S100 principal's"
    );

    let district = plan.bundles_of("coordinator@fixture.org").next().unwrap().1;
    assert_eq!(district.kind, Kind::District);
    assert_eq!(
        district.exams.len(),
        dep.data.exams.len(),
        "every exam is in LEA 9001"
    );
    assert!(exams(&dep, district).contains(&("1000000010".into(), "ELA".into())));

    let reporter = plan.bundles_of("analyst@fixture.org").next().unwrap().1;
    assert_eq!(reporter.kind, Kind::Aggregate);
    assert!(reporter.students.is_empty() && reporter.groups.is_empty());
    assert_eq!(reporter.exams.len(), dep.data.exams.len());

    let state = plan.bundles_of("state@fixture.org").next().unwrap().1;
    assert_eq!(state.kind, Kind::State);
}

#[test]
fn identical_scopes_share_a_bundle() {
    let mut dep = load();
    let mut twin = dep
        .users
        .iter()
        .find(|u| u.email == "coordinator@fixture.org")
        .unwrap()
        .clone();
    twin.email = "deputy@fixture.org".into();
    dep.users.push(twin);
    let plan = plan(&dep);
    let a = plan.bundles_of("coordinator@fixture.org").next().unwrap().0;
    let b = plan.bundles_of("deputy@fixture.org").next().unwrap().0;
    assert_eq!(a, b);
    assert_eq!(plan.bundles[a].holders.len(), 2);
}

/// An LEA aggregate reporter's totals are the LEA's, named for it, even when
/// the LEA is every school in the data (the state row is for several LEAs).
#[test]
fn lea_totals_are_named_for_the_lea() {
    let dep = load();
    let plan = plan(&dep);
    let b = plan
        .bundles
        .iter()
        .find(|b| b.kind == access::Kind::Aggregate)
        .unwrap();
    assert_eq!(b.label(&dep), "Fixture Unified");
}

/// A group grants the results of its school year and the years before it,
/// not a former student's later results; `group_years: all` lifts that.
#[test]
fn a_group_shows_its_year_and_earlier_unless_the_setting_says_all() {
    let exams_of_teacher = |settings: &str| -> usize {
        let dir = tempfile::tempdir().unwrap();
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/districts");
        for f in ["users.yaml", "data/export.csv", "data/groups.csv"] {
            let to = dir.path().join(f);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            let text = std::fs::read_to_string(from.join(f)).unwrap();
            // The roster is last year's (2023); the results are 2024's.
            let text = if f.ends_with("groups.csv") {
                text.replace(",2024,", ",2023,")
            } else {
                text
            };
            std::fs::write(to, text).unwrap();
        }
        std::fs::write(dir.path().join("scoresite.yaml"), settings).unwrap();
        let mut diags = Diagnostics::default();
        let dep = scoresite::pipeline::load_valid(dir.path(), &mut diags)
            .expect("valid")
            .deployment;
        plan(&dep)
            .bundles_of("north.teacher@north.example")
            .map(|(_, b)| b.exams.len())
            .sum()
    };
    assert_eq!(
        exams_of_teacher("name: Test\n"),
        0,
        "2024 results are after the 2023 group"
    );
    assert_eq!(
        exams_of_teacher("name: Test\ngroup_years: all\n"),
        1,
        "Nora's 2024 ELA result"
    );
}
