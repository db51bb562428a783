//! The Dashboard measures computed from real result files: a fixture with
//! two years of Summative ELPAC and Alternate ELPAC for the same students
//! gives the English Learner Progress counts worked out by hand.

mod common;

use common::fixture;
use scoresite::stats::elpi::{self, Excluded, Progress};

#[test]
fn two_years_of_elpac_give_the_elpi_counts_worked_by_hand() {
    let mut diags = scoresite::diag::Diagnostics::default();
    let v = scoresite::pipeline::load(&fixture("elpi"), &mut diags).expect("loads");
    assert!(diags.is_ok(), "{diags:?}");
    let dep = &v.deployment;
    let data = &dep.data;
    let results = elpi::Results::new(&dep.catalog, data);
    let outcome = |ssid: &str| {
        let e = (0..data.exams.len())
            .find(|&e| {
                let x = &data.exams[e];
                x.school_year == 2025 && &*data.students[x.student as usize].ssid == ssid
            })
            .unwrap();
        results.outcome(&dep.catalog, data, e)
    };
    // Grade 1's Level 2 (1411–1454) splits at 1433, kindergarten's
    // (1374–1421) at 1398; grade 2's Level 3 (1471–1531) at 1501 and grade
    // 3's (1488–1534) at 1511.
    let expected = [
        ("1000000001", Ok(Progress::Progressed)), // 2L (1380) → 2H (1440)
        ("1000000002", Ok(Progress::MaintainedTop)), // Level 4 → Level 4
        ("1000000003", Ok(Progress::Maintained)), // 3L (1500) → 3L (1490)
        ("1000000004", Ok(Progress::Declined)),   // 3H (1520) → 3L (1500)
        ("1000000005", Ok(Progress::Maintained)), // 1 → 1
        ("1000000006", Err(Excluded::NoPriorResult)), // first year
        ("1000000007", Err(Excluded::NotGrades1To12)), // kindergarten
        ("1000000008", Err(Excluded::NotEnglishLearner)), // RFEP when tested
        ("1000000009", Ok(Progress::Progressed)), // Alternate ELPAC 545 → 556
        ("1000000010", Err(Excluded::OtherTestPrior)), // Alternate, then Summative ELPAC
    ];
    let mut tally = elpi::Tally::default();
    for (ssid, want) in expected {
        let got = outcome(ssid);
        assert_eq!(got, want, "{ssid}");
        tally.add(got);
    }
    assert_eq!(
        (
            tally.progressed,
            tally.maintained_top,
            tally.maintained,
            tally.declined
        ),
        (2, 1, 2, 1)
    );
    assert_eq!(tally.excluded, [1, 1, 0, 1, 1]);
    // (2 progressed + 1 maintained Level 4) of 6 counted.
    assert_eq!(tally.status(), Some(50.0));
}
