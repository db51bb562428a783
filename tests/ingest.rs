//! What ingest makes of each quirk: values, not just counts.

use scoresite::deployment;
use scoresite::diag::Diagnostics;
use scoresite::model::{AdminCondition, Completeness, Elas, Flag, Grade, Sex};
use std::path::Path;

fn quirks() -> deployment::Deployment {
    let mut diags = Diagnostics::default();
    let dep = deployment::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quirks"),
        None,
        &mut diags,
    )
    .unwrap();
    assert!(
        diags.is_ok(),
        "{:?}",
        diags.iter().map(|d| d.to_string()).collect::<Vec<_>>()
    );
    dep
}

fn exams_of<'a>(dep: &'a deployment::Deployment, ssid: &str) -> Vec<&'a scoresite::model::Exam> {
    let s = dep.data.student(ssid).unwrap();
    dep.data.exams.iter().filter(|e| e.student == s).collect()
}

#[test]
fn cers_cells_become_typed_values() {
    let dep = quirks();
    let d = &dep.data;
    let ada = exams_of(&dep, "1000000001");
    let sum = ada
        .iter()
        .find(|e| d.assessments[e.assessment as usize].name == "Grade 5 ELA Summative")
        .unwrap();
    // The duplicate submitted later won.
    assert_eq!(sum.overall.scale, Some(2515.0));
    assert_eq!(sum.submitted.to_string(), "2024-04-26 09:15:00");
    assert_eq!(sum.grade, Grade::N(5));
    assert_eq!(d.strings.get(sum.session.unwrap()), "SESS-1");
    let grace = exams_of(&dep, "1000000002");
    let math = grace
        .iter()
        .find(|e| e.condition == AdminCondition::Valid)
        .unwrap();
    assert_eq!(math.demographics.sex, Some(Sex::Nonbinary));
    assert_eq!(math.demographics.elas, Some(Elas::El));
    assert_eq!(
        math.demographics.elas_start.unwrap().to_string(),
        "2021-08-15"
    );
    assert_eq!(math.grade, Grade::N(5), "G5");
    let ica = grace
        .iter()
        .find(|e| e.condition == AdminCondition::Standardized)
        .unwrap();
    assert_eq!(ica.submitted.to_string(), "2024-01-09 14:05:00");
    let alan = exams_of(&dep, "1000000003");
    let fiab = alan
        .iter()
        .find(|e| e.completeness == Completeness::Partial)
        .unwrap();
    let fiab_assessment = &d.assessments[fiab.assessment as usize];
    assert_eq!(
        dep.catalog.families[fiab_assessment.family].id,
        "sb_ela_fiab"
    );
    assert_eq!(
        (fiab_assessment.grade, fiab.grade),
        (Some(Grade::N(8)), Grade::N(11)),
        "off-grade"
    );
    let elpac = exams_of(&dep, "1000000005")
        .into_iter()
        .find(|e| !e.alt.is_empty())
        .unwrap();
    assert_eq!(elpac.alt.len(), 2);
    assert_eq!(elpac.alt[1].1.scale, Some(1530.0));
    assert_eq!(
        elpac.claim_levels[..4],
        [Some(2), Some(3), Some(2), Some(2)]
    );
    let ug = exams_of(&dep, "1000000009")[0];
    assert_eq!(ug.grade, Grade::Ungraded);
}

#[test]
fn demographic_flags_follow_the_dictionary() {
    let dep = quirks();
    let ada = exams_of(&dep, "1000000001");
    let first = ada
        .iter()
        .find(|e| {
            e.school_year == 2024
                && e.demographics.sex == Some(Sex::Female)
                && e.overall.scale == Some(2515.0)
        })
        .unwrap();
    // Race: blank means No. Migrant: No. 504: absent in the second row's cell, so unknown.
    assert_eq!(first.demographics.get(Flag::Hispanic), Some(false));
    assert_eq!(first.demographics.get(Flag::Migrant), Some(false));
    assert_eq!(first.demographics.get(Flag::Section504), None);
    let math_2019 = ada.iter().find(|e| e.school_year == 2019).unwrap();
    assert_eq!(math_2019.demographics.get(Flag::Asian), Some(true));
    // The 59-column layout has no IEP column: unknown, not No.
    assert_eq!(math_2019.demographics.get(Flag::Iep), None);
}

#[test]
fn trt_prefers_final_and_reads_items_targets_traits() {
    let dep = quirks();
    let d = &dep.data;
    let (idx, exam) = d
        .exams
        .iter()
        .enumerate()
        .find(|(i, _)| d.details.contains_key(i))
        .unwrap();
    let detail = &d.details[&idx];
    assert_eq!(
        &*d.students[exam.student as usize].first_name, "Ada",
        "FINAL name wins over INITIAL"
    );
    assert_eq!(exam.grade, Grade::N(4), "FINAL grade wins");
    assert_eq!(
        d.institutions.schools[exam.school as usize].id, "S100",
        "old relationship names, FINAL value"
    );
    assert_eq!(exam.school_year, 2024);
    assert_eq!(
        (exam.overall.scale, exam.overall.se, exam.overall.level),
        (Some(2490.0), Some(25.0), Some(2))
    );
    assert_eq!(exam.claim_levels, [None; 6], "an IAB reports no claims");
    let text = |s| d.strings.get(s);
    assert_eq!(detail.items.len(), 2);
    assert_eq!(detail.items[0].chosen.map(text), Some("B"));
    assert_eq!(text(detail.items[0].content_level), "1|G-4");
    assert_eq!(detail.items[1].max_score, Some(4.0));
    assert_eq!(
        text(detail.items[1].content_level),
        "3",
        "strand when contentLevel is absent"
    );
    assert_eq!(
        detail.items[1].chosen.map(text),
        Some("ABCDEGHLNOPSTU"),
        "the letters of `<p>Because the angles add to 180.</p>`, each once"
    );
    assert_eq!(detail.targets.len(), 1);
    assert_eq!(
        (
            detail.targets[0].student_relative,
            detail.targets[0].standard_met_relative
        ),
        (Some(-0.25), Some(0.31))
    );
    assert_eq!(detail.traits.len(), 2);
    assert_eq!(
        (
            text(detail.traits[0].purpose),
            detail.traits[0].trait_code,
            detail.traits[0].score
        ),
        ("NARR", "ORG", 3)
    );
    assert_eq!(
        exam.accommodations
            .map(text)
            .unwrap_or("")
            .split('|')
            .count(),
        2
    );
    assert_eq!(
        exam.demographics.get(Flag::EconomicDisadvantage),
        Some(true)
    );
    assert_eq!(exam.demographics.get(Flag::Military), Some(false));
    assert_eq!(
        exam.demographics.get(Flag::Section504),
        None,
        "Unknown/Cannot Provide"
    );
}

#[test]
fn groups_trim_and_keep_subject() {
    let dep = quirks();
    let d = &dep.data;
    let room = d.groups.iter().find(|g| g.name == "Room 5 ELA").unwrap();
    assert_eq!(room.subject.as_deref(), Some("ELA"));
    assert_eq!(room.users, vec!["teacher.one@fixture.org"]);
    assert_eq!(room.students.len(), 2);
    let home = d.groups.iter().find(|g| g.name == "Homeroom").unwrap();
    assert_eq!(home.subject, None, "All");
    assert_eq!(
        home.users,
        vec!["teacher.one@fixture.org", "teacher.two@fixture.org"]
    );
    assert_eq!(dep.settings.suppression_threshold, 5);
    assert_eq!(
        dep.settings.visibility("migrant"),
        deployment::Visibility::Disabled
    );
    assert_eq!(
        dep.settings.visibility("lep"),
        deployment::Visibility::Admin
    );
    assert_eq!(dep.users[1].grants.len(), 2);
}
