//! The subgroup dimensions of the aggregate reports, and each exam's value
//! in each.

use crate::deployment::{Deployment, Visibility};
use crate::model::{Demographics, Elas, Exam, Flag, Grade, Sex, RACE_FLAGS};

/// The subgroup dimensions: id, label, the student field whose visibility
/// setting governs it (see [`crate::deployment::FIELDS`]; empty for none) and
/// value names. The last value of each is "not stated".
pub const DIMENSIONS: &[(&str, &str, &str, &[&str])] = &[
    (
        "gender",
        "Gender",
        "gender",
        &["Female", "Male", "Nonbinary", "Not stated"],
    ),
    (
        "race",
        "Race/ethnicity",
        "race_ethnicity",
        &[
            "Hispanic or Latino",
            "American Indian or Alaska Native",
            "Asian",
            "Black or African American",
            "White",
            "Native Hawaiian or Other Pacific Islander",
            "Two or more races",
            "Filipino",
            "Not stated",
        ],
    ),
    (
        "elas",
        "English language acquisition status",
        "elas",
        &["EO", "IFEP", "EL", "RFEP", "TBD", "ADEL", "Not stated"],
    ),
    ("el", "English learner (LEP)", "lep", YES_NO),
    ("migrant", "Migrant", "migrant", YES_NO),
    ("section504", "Section 504", "section_504", YES_NO),
    ("iep", "IEP", "iep", YES_NO),
    (
        "econ",
        "Economic disadvantage",
        "economic_disadvantage",
        YES_NO,
    ),
    ("military", "Military connected", "military", YES_NO),
    ("grade", "Enrolled grade", "", GRADES),
];

/// Which dimensions the deployment's field settings disable.
pub(super) fn disabled(dep: &Deployment) -> [bool; 10] {
    std::array::from_fn(|d| {
        let field = DIMENSIONS[d].2;
        !field.is_empty() && dep.settings.visibility(field) == Visibility::Disabled
    })
}

const YES_NO: &[&str] = &["Yes", "No", "Not stated"];
const GRADES: &[&str] = &[
    "KG", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "Other",
];

/// The race/ethnicity dimension's value: Hispanic whatever else is
/// reported, else the one race reported, two or more, or not stated.
pub fn race(d: &Demographics) -> u8 {
    if d.get(Flag::Hispanic) == Some(true) {
        return 0;
    }
    let races = RACE_FLAGS[1..].iter().fold(0, |m, &(f, _)| m | f as u16);
    let yes = d.yes & d.known & races;
    match yes.count_ones() {
        0 => 8,
        1 => RACE_FLAGS
            .iter()
            .position(|&(f, _)| yes & f as u16 != 0)
            .unwrap_or(8) as u8,
        _ => 6,
    }
}

/// Value index of each dimension for one exam.
pub fn subgroups(exam: &Exam) -> [u8; 10] {
    let d = &exam.demographics;
    let flag = |f: Flag| match d.get(f) {
        Some(true) => 0,
        Some(false) => 1,
        None => 2,
    };
    let race = race(d);
    [
        match d.sex {
            Some(Sex::Female) => 0,
            Some(Sex::Male) => 1,
            Some(Sex::Nonbinary) => 2,
            None => 3,
        },
        race,
        match d.elas {
            Some(Elas::Eo) => 0,
            Some(Elas::Ifep) => 1,
            Some(Elas::El) => 2,
            Some(Elas::Rfep) => 3,
            Some(Elas::Tbd) => 4,
            Some(Elas::Adel) => 5,
            None => 6,
        },
        flag(Flag::Lep),
        flag(Flag::Migrant),
        flag(Flag::Section504),
        flag(Flag::Iep),
        flag(Flag::EconomicDisadvantage),
        flag(Flag::Military),
        match exam.grade {
            Grade::K => 0,
            Grade::N(n @ 1..=12) => n,
            _ => 13,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn race_is_hispanic_else_the_one_race_else_two_or_more() {
        let with = |flags: &[(Flag, Option<bool>)]| {
            let mut d = Demographics::default();
            for &(f, v) in flags {
                d.set(f, v);
            }
            DIMENSIONS[1].3[race(&d) as usize]
        };
        assert_eq!(with(&[]), "Not stated");
        assert_eq!(with(&[(Flag::Asian, Some(false))]), "Not stated");
        assert_eq!(with(&[(Flag::Filipino, Some(true))]), "Filipino");
        assert_eq!(
            with(&[(Flag::Asian, Some(true)), (Flag::White, None)]),
            "Asian"
        );
        assert_eq!(
            with(&[(Flag::Asian, Some(true)), (Flag::White, Some(true))]),
            "Two or more races"
        );
        assert_eq!(
            with(&[(Flag::Black, Some(true)), (Flag::Hispanic, Some(true))]),
            "Hispanic or Latino"
        );
        assert_eq!(
            with(&[(Flag::TwoOrMoreRaces, Some(true))]),
            "Two or more races"
        );
    }
}
