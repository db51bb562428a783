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

/// The Dashboard preview of `grant`'s holder over the fixture deployment
/// `name`, rendered in memory.
fn preview(name: &str, grant: &str) -> String {
    use scoresite::access::{self, SiteMap};
    use scoresite::deployment::GroupYears;
    use scoresite::model::{Grant, User};
    let mut diags = scoresite::diag::Diagnostics::default();
    let mut v = scoresite::pipeline::load(&fixture(name), &mut diags).expect("loads");
    assert!(diags.is_ok(), "{diags:?}");
    let dep = &mut v.deployment;
    dep.users = vec![User {
        email: "admin@x.org".into(),
        name: None,
        recipient: None,
        credential: None,
        grants: vec![Grant::parse(grant).unwrap()],
    }];
    let plan = access::plan(&dep.data, &dep.catalog, &dep.users, GroupYears::All);
    let map = SiteMap::new(&dep.data, &dep.catalog, &plan, b"key");
    let info = scoresite::render::views::SiteInfo {
        name: "Fixture".into(),
        sandbox: true,
        footer: String::new(),
    };
    let page = std::sync::Mutex::new(None);
    let out = |p: scoresite::output::Page| {
        if p.path.ends_with(scoresite::paths::DASHBOARD) {
            *page.lock().unwrap() = Some(String::from_utf8(p.bytes).unwrap());
        }
        Ok(())
    };
    scoresite::site::render(dep, &plan, &map, &info, &out).unwrap();
    page.into_inner().unwrap().expect("a Dashboard preview")
}

/// The cells of group `group`'s row of `subject`'s table on `page`.
fn row_of(page: &str, subject: &str, group: &str) -> Vec<String> {
    let table = &page[page.find(&format!("{subject} by student group")).unwrap()..];
    let row = &table[table.find(&format!(">{group}<")).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("<td")
        .skip(1)
        .map(|c| {
            let text = &c[c.find('>').unwrap() + 1..];
            let text = text.replace("<span class=\"dash dash-", "");
            text.split('<').next().unwrap().trim().to_string()
        })
        .collect()
}

/// A Student Score Data File of one school's grade 5, worked by hand:
/// ELA: 17 tested at 2400, 2410 … 2560 (distances sum to −374), one
/// invalidated (`R`), one not tested (`NT`), one parent exemption (`PGE`):
/// 20 expected, 95% is 19, so 2 lowest scores (2200, 302 below the 2502
/// cut) are added: (−374 − 604) / 19 = −51.5. The medical emergency
/// (`NTE`) and the English learner new to U.S. schools (`NEL`) are not
/// expected. Mathematics: 19 tested at 2450 … 2630 (sum 228), `NT` and
/// `PGE` missing: 21 expected, 95% is 19.95 so 20, one lowest score
/// (2220, 308 below 2528) added: (228 − 308) / 20 = −4.0.
#[test]
fn participation_below_95_percent_adds_the_lowest_scores() {
    let page = preview("participation", "school_admin:01611926000011");
    let ela = row_of(&page, "English Language Arts", "All students");
    assert_eq!(ela[0], "19", "{ela:?}");
    assert_eq!(ela[1], "17 of 20 (85.0%)");
    assert_eq!(ela[2], "2 lowest scores added; -22.0 without");
    assert_eq!(ela[3], "-51.5");
    assert_eq!(ela[4], "Low");
    let math = row_of(&page, "Mathematics", "All students");
    assert_eq!(
        math[..4],
        [
            "20",
            "19 of 21 (90.5%)",
            "1 lowest score added; 12.0 without",
            "-4.0"
        ]
    );
    assert_eq!(math[4], "Medium");
    assert!(page.contains("1 student: a significant medical emergency"));
    assert!(page.contains("1 student: an English learner in a U.S. school for under 12 months"));
    assert!(!page.contains("\">not known<"));
    // English learners: the newcomer, not expected in ELA, tested in
    // mathematics.
    assert!(
        !page[..page.find("Mathematics by student group").unwrap()].contains(">English learners<")
    );
    assert_eq!(
        row_of(&page, "Mathematics", "English learners")[1],
        "1 of 1 (100.0%)"
    );

    // An aggregate reporter sees the same status, participation only as
    // met or not, and no group of 10 or fewer.
    let page = preview("participation", "aggregate_reporter:school:01611926000011");
    let ela = row_of(&page, "English Language Arts", "All students");
    assert_eq!(
        ela[..4],
        ["19", "below 95%", "2 lowest scores added", "-51.5"]
    );
    let el = row_of(&page, "Mathematics", "English learners");
    assert_eq!(el[..4], ["*", "*", "", "*"]);
    assert!(!page.contains("medical emergency</li>"));
}
