//! The sandbox's generation profile and practice items (`sandbox-data/`).

use serde::Deserialize;
use std::collections::BTreeMap;

const PROFILE: &str = include_str!("../../sandbox-data/profile.yaml");

/// Everything the generator draws from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub lea: Lea,
    pub years: Vec<u16>,
    pub schools: Vec<SchoolLevel>,
    pub class_size: usize,
    pub sections_per_teacher: usize,
    pub new_each_year: f64,
    pub mid_year_transfer: f64,
    pub demographics: Mix,
    pub effects: Effects,
    pub level_mix: BTreeMap<String, Vec<f64>>,
    pub standard_error: BTreeMap<String, f32>,
    pub rates: Rates,
    pub interims: BTreeMap<String, Blocks>,
    pub writing_purpose: BTreeMap<u8, String>,
    pub targets: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lea {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub nces: String,
}

/// Elementary, middle or high schools.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolLevel {
    pub level: String,
    pub first_grade: u8,
    pub last_grade: u8,
    pub size: usize,
}

/// Demographic proportions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    pub sex: BTreeMap<String, f64>,
    pub hispanic: f64,
    pub race_not_hispanic: BTreeMap<String, f64>,
    pub hispanic_reported_white: f64,
    pub el_at_entry: f64,
    pub long_term_el: f64,
    pub ifep: f64,
    pub tbd: f64,
    pub iep: f64,
    pub section504: f64,
    pub migrant: f64,
    pub economic_disadvantage: f64,
    pub military: f64,
    pub alternate_assessment: f64,
    pub csa_among_spanish: f64,
    pub languages: Vec<Language>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Language {
    pub code: String,
    pub calpads: String,
    pub weight: f64,
}

/// Effects on latent ability, in standard deviations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effects {
    pub economic_disadvantage: f64,
    pub english_learner: f64,
    pub iep: f64,
    pub rfep: f64,
    pub growth_mean: f64,
    pub growth_sd: f64,
    pub occasion_sd: f64,
}

/// Rates of unusual opportunities and of interim use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    pub summative_partial: f64,
    pub summative_invalid: f64,
    pub interim_partial: f64,
    pub interim_nonstandard: f64,
    pub interim_abandoned: f64,
    pub interim_absent: f64,
    pub ica: f64,
    pub practice_block: f64,
    pub iabs_per_class: usize,
    pub fiabs_per_class: usize,
    pub cast_interim: f64,
    pub elpac_interim: f64,
}

/// Interim block names for one subject.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blocks {
    pub iab: Vec<String>,
    pub fiab: Vec<String>,
}

impl Profile {
    /// The built-in profile.
    pub fn builtin() -> Profile {
        crate::yaml::parse(std::path::Path::new("sandbox-data/profile.yaml"), PROFILE)
            .expect("sandbox-data/profile.yaml is valid (tested)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_data_parses_and_is_consistent() {
        let p = Profile::builtin();
        for (family, mix) in &p.level_mix {
            let sum: f64 = mix.iter().sum();
            assert!((sum - 1.0).abs() < 1e-6, "{family} mix sums to {sum}");
        }
        let items = crate::items::ItemBank::builtin();
        for set in &items.sets {
            let blocks = &p.interims[&set.subject];
            assert!(blocks.iab.contains(&set.block), "{} is an IAB", set.block);
            for item in &set.items {
                match item.kind.as_str() {
                    "MC" | "MS" => {
                        assert!(item
                            .answer
                            .chars()
                            .all(|c| item.options.contains_key(&c.to_string())));
                        assert!(item
                            .lure
                            .as_ref()
                            .is_some_and(|l| item.options.contains_key(l)
                                && !item.answer.contains(l.as_str())));
                    }
                    "EQ" => assert!(!item.wrong.is_empty()),
                    "SA" => {
                        assert_eq!(item.rubric.len(), item.points as usize + 1);
                        assert_eq!(item.samples.len(), item.points as usize + 1);
                    }
                    other => panic!("item type {other}"),
                }
            }
        }
    }
}
