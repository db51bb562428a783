//! A small deployment built in memory, for unit tests of the site map and
//! of every page kind.
//!
//! One LEA (`L1`) with schools 100 and 200. Students Ana Lopez and Ben Kim
//! are in grade 5 at school 100 in 2025; Ana took grade 4 ELA at school 200
//! in 2024. Group "Period 1" (ELA, 2025) holds both and is assigned to the
//! teacher. Users: a teacher, a school administrator of school 100, a
//! district administrator and an aggregate reporter of the LEA.

use crate::access::{self, Plan, SiteMap};
use crate::catalog::Catalog;
use crate::deployment::{Deployment, GroupYears, Settings};
use crate::model::{
    AdminCondition, Completeness, Dataset, Exam, Grade, Grant, Group, Origin, School, Score, User,
};
use crate::output::Page;
use std::collections::BTreeMap;
use std::sync::Mutex;

pub const ANA: &str = "1000000001";
pub const BEN: &str = "1000000002";

/// (SSID, assessment, family, school year, school, grade, scale score, level)
type Result = (
    &'static str,
    &'static str,
    &'static str,
    u16,
    u32,
    u8,
    f32,
    u8,
);

const RESULTS: &[Result] = &[
    (
        ANA,
        "Grade 5 ELA Summative",
        "sb_ela_summative",
        2025,
        0,
        5,
        2500.0,
        2,
    ),
    (
        ANA,
        "Grade 5 Math Summative",
        "sb_math_summative",
        2025,
        0,
        5,
        2480.0,
        2,
    ),
    (
        ANA,
        "Grade 4 ELA Summative",
        "sb_ela_summative",
        2024,
        1,
        4,
        2450.0,
        2,
    ),
    (
        BEN,
        "Grade 5 ELA Summative",
        "sb_ela_summative",
        2025,
        0,
        5,
        2600.0,
        4,
    ),
];

/// The dataset; `more` first adds a student (Cy Diaz, 1000000003) and a
/// group ("Period 2") at school 200, so that every index moves.
pub fn data(catalog: &Catalog, more: bool) -> Dataset {
    let mut d = Dataset::default();
    let lea = d.institutions.add_lea("L1", "Lea One");
    for id in ["100", "200"] {
        let school = School {
            id: id.into(),
            cds: None,
            name: format!("School {id}"),
            lea,
        };
        d.institutions.add_school(school, &[]);
    }
    let ela = catalog.family("sb_ela_summative").unwrap();
    if more {
        let s = d.upsert_student("1000000003", "Cy", "Diaz");
        let a = d.assessment("Grade 5 ELA Summative", ela, || None);
        d.exams.push(exam(s, a, 2025, 1, 5, 2550.0, 3));
        d.groups.push(group("Period 2", 1, vec![s]));
    }
    for &(ssid, name, family, year, school, grade, scale, level) in RESULTS {
        let (first, last) = if ssid == ANA {
            ("Ana", "Lopez")
        } else {
            ("Ben", "Kim")
        };
        let student = d.upsert_student(ssid, first, last);
        let assessment = d.assessment(name, catalog.family(family).unwrap(), || None);
        d.exams
            .push(exam(student, assessment, year, school, grade, scale, level));
    }
    let roster = vec![d.student(ANA).unwrap(), d.student(BEN).unwrap()];
    d.groups.push(Group {
        subject: Some("ELA".into()),
        ..group("Period 1", 0, roster)
    });
    d
}

fn group(name: &str, school: usize, students: Vec<u32>) -> Group {
    Group {
        name: name.into(),
        school,
        school_year: 2025,
        subject: None,
        students,
        users: vec!["t@x.org".into()],
    }
}

fn exam(
    student: u32,
    assessment: u32,
    year: u16,
    school: u32,
    grade: u8,
    scale: f32,
    level: u8,
) -> Exam {
    Exam {
        student,
        assessment,
        school_year: year,
        submitted: chrono::NaiveDate::from_ymd_opt(year as i32, 4, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        session: None,
        school,
        grade: Grade::N(grade),
        completeness: Completeness::Complete,
        condition: AdminCondition::Valid,
        overall: Score {
            scale: Some(scale),
            se: Some(20.0),
            level: Some(level),
        },
        claim_levels: [None; 6],
        alt: Vec::new(),
        demographics: Default::default(),
        accommodations: None,
        origin: Origin { file: 0, line: 0 },
        raw: Box::new([]),
        official: None,
    }
}

/// The users: t@x.org (teacher), a@x.org (school 100), d@x.org (district),
/// r@x.org (aggregate reporter of the LEA).
pub fn users() -> Vec<User> {
    [
        ("t@x.org", "teacher:100"),
        ("a@x.org", "school_admin:100"),
        ("d@x.org", "district_admin:L1"),
        ("r@x.org", "aggregate_reporter:lea:L1"),
    ]
    .into_iter()
    .map(|(email, grant)| User {
        email: email.into(),
        name: None,
        recipient: None,
        credential: None,
        grants: vec![Grant::parse(grant).unwrap()],
    })
    .collect()
}

/// The plan and site map of `data` for [`users`].
pub fn map(data: &Dataset, catalog: &Catalog) -> (Plan, SiteMap) {
    let plan = access::plan(data, catalog, &users(), GroupYears::ThroughGroupYear);
    let map = SiteMap::new(data, catalog, &plan, b"test key");
    (plan, map)
}

/// The deployment, in memory.
pub fn deployment() -> Deployment {
    let catalog = Catalog::builtin().unwrap();
    Deployment {
        root: Default::default(),
        settings: Settings {
            name: "Test LEA".into(),
            ..Settings::default()
        },
        data: data(&catalog, false),
        catalog,
        users: users(),
        items: Default::default(),
        resources: Default::default(),
        report: Default::default(),
    }
}

/// A rendered site: every page's text and readers, by path.
pub struct Site {
    pub plan: Plan,
    pub map: SiteMap,
    pub pages: BTreeMap<String, (String, Vec<usize>)>,
}

impl Site {
    /// Renders every page of `dep` as a sandbox site.
    pub fn render(dep: &Deployment) -> Site {
        let (plan, map) = map(&dep.data, &dep.catalog);
        let info = crate::render::views::SiteInfo {
            name: dep.settings.name.clone(),
            sandbox: true,
            footer: String::new(),
        };
        let pages = Mutex::new(BTreeMap::new());
        crate::site::render(dep, &plan, &map, &info, &|p: Page| {
            let text = String::from_utf8(p.bytes).unwrap();
            pages.lock().unwrap().insert(p.path, (text, p.readers));
            Ok(())
        })
        .unwrap();
        Site {
            plan,
            map,
            pages: pages.into_inner().unwrap(),
        }
    }

    /// The index of the bundle of `kind`.
    pub fn bundle(&self, kind: access::Kind) -> usize {
        self.plan
            .bundles
            .iter()
            .position(|b| b.kind == kind)
            .unwrap()
    }

    /// The text of the page at `path` in bundle `b`.
    pub fn page(&self, b: usize, path: &str) -> &str {
        let full = crate::paths::in_bundle(&self.plan.bundles[b].id, path);
        match self.pages.get(&full) {
            Some((text, _)) => text,
            None => panic!("no page {full}"),
        }
    }

    /// The paths of bundle `b`'s pages.
    pub fn paths_of(&self, b: usize) -> Vec<&str> {
        let prefix = crate::paths::in_bundle(&self.plan.bundles[b].id, "");
        self.pages
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .collect()
    }
}
