//! The fictitious LEA: schools, teachers, students and class rosters.
//!
//! Students live in neighbourhoods ("areas"). Each area feeds one elementary,
//! one middle and one high school, so a cohort moves up through the schools
//! together, and a student who moves mid-year changes area.

use super::draw::{self, Draws, Stream};
use super::profile::Profile;
use crate::model::Flag;
use chrono::NaiveDate;
use fake::faker::name::en::{FirstName, LastName};
use fake::rand::rngs::ChaCha8Rng;
use fake::Fake;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A school of the fictitious LEA.
#[derive(Debug)]
pub struct School {
    /// The 7-digit CALPADS school code.
    pub code: String,
    pub name: String,
    /// Index into the profile's school levels.
    pub level: usize,
}

/// A teacher (or the ELD specialist) at one school.
#[derive(Debug)]
pub struct Teacher {
    pub first: String,
    pub last: String,
    pub email: String,
    pub school: usize,
}

/// A fictitious student and everything about them that does not change by test.
#[derive(Debug)]
pub struct Pupil {
    pub ssid: String,
    pub first: String,
    pub last: String,
    pub birth: NaiveDate,
    /// Grade in the last school year; above 12 means they have graduated.
    pub final_grade: i8,
    /// First school year enrolled in the LEA.
    pub first_year: u16,
    /// Neighbourhood at entry, and a mid-year move: (school year, new area).
    pub area: u32,
    pub moved: Option<(u16, u32)>,
    /// `F`, `M` or `X`.
    pub sex: char,
    /// Race/ethnicity [`Flag`] bits.
    pub race: u16,
    /// Program [`Flag`] bits: IEP, 504, migrant, economic disadvantage, military.
    pub programs: u16,
    /// Takes the CAA and Alternate ELPAC.
    pub alternate: bool,
    /// Takes the CSA.
    pub csa: bool,
    /// Index into the profile's languages; `None` for English only.
    pub language: Option<usize>,
    /// Entered as an English learner, and the grade at which they are
    /// reclassified fluent (`None`: a long-term English learner).
    pub entered_el: bool,
    pub reclassified_at: Option<u8>,
    /// Initial fluent English proficient.
    pub ifep: bool,
    /// Status "to be determined" in their first year.
    pub tbd: bool,
    /// Latent ability: ELA, Math, Science, English proficiency, Spanish.
    pub ability: [f32; 5],
    /// Yearly growth relative to the state.
    pub growth: f32,
}

impl Pupil {
    /// Grade in `year` (0 = kindergarten) if enrolled then.
    pub fn grade_in(&self, year: u16, last_year: u16) -> Option<u8> {
        let g = self.final_grade as i32 - (last_year as i32 - year as i32);
        (year >= self.first_year && (0..=12).contains(&g)).then_some(g as u8)
    }

    /// The area the student lives in during `year`, before or after mid-year.
    pub fn area_in(&self, year: u16, after_midyear: bool) -> u32 {
        match self.moved {
            Some((y, to)) if year > y || (year == y && after_midyear) => to,
            _ => self.area,
        }
    }

    /// English language acquisition status in `year`, as CERS writes it.
    pub fn elas(&self, year: u16, last_year: u16) -> &'static str {
        let grade = self.grade_in(year, last_year).unwrap_or(0);
        if self.tbd && year == self.first_year {
            "TBD"
        } else if self.entered_el {
            match self.reclassified_at {
                Some(r) if grade >= r => "RFEP",
                _ => "EL",
            }
        } else if self.ifep {
            "IFEP"
        } else {
            "EO"
        }
    }

    /// True when an English learner in `year`.
    pub fn is_el(&self, year: u16, last_year: u16) -> bool {
        matches!(self.elas(year, last_year), "EL" | "TBD")
    }

    /// True when the program flag is set.
    pub fn has(&self, flag: Flag) -> bool {
        self.programs & flag as u16 != 0
    }
}

/// A class roster: an RDW student group.
#[derive(Debug)]
pub struct Roster {
    pub name: String,
    pub school: usize,
    pub year: u16,
    /// CERS subject code, or `None` for all subjects.
    pub subject: Option<&'static str>,
    pub teacher: usize,
    pub pupils: Vec<u32>,
}

/// The whole fictitious LEA.
#[derive(Debug)]
pub struct District {
    pub schools: Vec<School>,
    /// Schools per level, as indices into `schools`.
    pub by_level: Vec<Vec<usize>>,
    pub areas: u32,
    pub teachers: Vec<Teacher>,
    pub pupils: Vec<Pupil>,
    pub rosters: Vec<Roster>,
}

impl District {
    /// The school serving `area` at `grade`.
    pub fn school_for(&self, profile: &Profile, area: u32, grade: u8) -> usize {
        let level = profile
            .schools
            .iter()
            .position(|l| (l.first_grade..=l.last_grade).contains(&grade))
            .unwrap_or(0);
        let schools = &self.by_level[level];
        schools[area as usize * schools.len() / self.areas as usize]
    }
}

/// Builds the LEA for `students` students.
pub fn build(profile: &Profile, seed: u64, students: u32) -> District {
    let (schools, by_level) = schools(profile, seed, students);
    let areas = by_level[0].len() as u32;
    let pupils: Vec<Pupil> = (0..students)
        .into_par_iter()
        .map(|i| pupil(profile, seed, i, areas))
        .collect();
    let mut district = District {
        schools,
        by_level,
        areas,
        teachers: Vec::new(),
        pupils,
        rosters: Vec::new(),
    };
    rosters(profile, seed, &mut district);
    district
}

/// Schools at each level, sized to the student count.
fn schools(profile: &Profile, seed: u64, students: u32) -> (Vec<School>, Vec<Vec<usize>>) {
    let mut rng = draw::rng(seed, Stream::Schools, 0);
    let mut taken = HashSet::new();
    let mut schools = Vec::new();
    let mut by_level = Vec::new();
    for (level, l) in profile.schools.iter().enumerate() {
        let share = (l.last_grade - l.first_grade + 1) as f64 / 15.0;
        let count = ((students as f64 * share / l.size as f64).round() as usize).max(1);
        let mut ids = Vec::new();
        for _ in 0..count {
            // Surnames first, as most schools are named; a first name too
            // once a large LEA has used them up.
            let name = (0..)
                .map(|attempt| {
                    let last: String = LastName().fake_with_rng(&mut rng);
                    if attempt < 8 {
                        format!("{last} {}", l.level)
                    } else {
                        let first: String = FirstName().fake_with_rng(&mut rng);
                        format!("{first} {last} {}", l.level)
                    }
                })
                .find(|name| taken.insert(name.clone()))
                .expect("an unused name");
            ids.push(schools.len());
            schools.push(School {
                code: format!("69{:05}", schools.len() + 1),
                name,
                level,
            });
        }
        by_level.push(ids);
    }
    (schools, by_level)
}

/// One student, drawn from their own stream.
fn pupil(profile: &Profile, seed: u64, i: u32, areas: u32) -> Pupil {
    let mut rng = draw::rng(seed, Stream::Students, i as u64);
    let d = &profile.demographics;
    let years = &profile.years;
    let last_year = *years.last().expect("profile has years");
    // Grades 0..=12 now, plus two cohorts that graduated during the window.
    let final_grade = rng.below(13 + years.len() - 1) as i8;
    let mut first_year = years[0];
    for &y in &years[1..] {
        if rng.chance(profile.new_each_year) {
            first_year = y;
        }
    }
    let prefix: u32 = (1..10).fake_with_rng(&mut rng);
    let ssid = format!(
        "{prefix}{:09}",
        i as u64 * 7 % 1_000_000_000 + i as u64 / 142_857_143
    );
    let sexes: Vec<(&String, &f64)> = d.sex.iter().collect();
    let sex = sexes[rng.weighted(&sexes.iter().map(|s| *s.1).collect::<Vec<_>>())]
        .0
        .chars()
        .next()
        .unwrap_or('F');
    let mut race = 0u16;
    if rng.chance(d.hispanic) {
        race |= Flag::Hispanic as u16;
        if rng.chance(d.hispanic_reported_white) {
            race |= Flag::White as u16;
        }
    } else {
        let names: Vec<(&String, &f64)> = d.race_not_hispanic.iter().collect();
        let pick = names[rng.weighted(&names.iter().map(|r| *r.1).collect::<Vec<_>>())].0;
        race |= race_flag(pick) as u16;
    }
    let mut programs = 0u16;
    for (flag, p) in [
        (Flag::Iep, d.iep),
        (Flag::Section504, d.section504),
        (Flag::Migrant, d.migrant),
        (Flag::EconomicDisadvantage, d.economic_disadvantage),
        (Flag::Military, d.military),
    ] {
        if rng.chance(p) {
            programs |= flag as u16;
        }
    }
    let iep = programs & Flag::Iep as u16 != 0;
    let alternate = iep && rng.chance(d.alternate_assessment / d.iep);
    let entered_el = rng.chance(d.el_at_entry);
    let ifep = !entered_el && rng.chance(d.ifep / (1.0 - d.el_at_entry));
    let language = (entered_el || ifep)
        .then(|| rng.weighted(&d.languages.iter().map(|l| l.weight).collect::<Vec<_>>()));
    let spanish = language.is_some_and(|l| d.languages[l].code == "spa");
    let e = &profile.effects;
    let shift = (programs & Flag::EconomicDisadvantage as u16 != 0) as u8 as f64
        * e.economic_disadvantage
        + iep as u8 as f64 * e.iep
        - d.economic_disadvantage * e.economic_disadvantage
        - d.iep * e.iep;
    let general = rng.normal();
    let mut specific = |r: f64| r * general + (1.0 - r * r).sqrt() * rng.normal();
    let ability = [
        (specific(0.85) + shift) as f32,
        (specific(0.8) + shift) as f32,
        (specific(0.8) + shift) as f32,
        specific(0.5) as f32,
        specific(0.5) as f32,
    ];
    let birth_year = last_year as i32 - final_grade as i32 - 6;
    let birth = NaiveDate::from_yo_opt(birth_year, rng.below(365) as u32 + 1)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(birth_year, 1, 1).expect("valid date"));
    Pupil {
        ssid,
        first: FirstName().fake_with_rng(&mut rng),
        last: LastName().fake_with_rng(&mut rng),
        birth,
        final_grade,
        first_year,
        area: rng.below(areas as usize) as u32,
        moved: (areas > 1 && rng.chance(profile.mid_year_transfer * years.len() as f64)).then(
            || {
                (
                    years[rng.below(years.len())],
                    rng.below(areas as usize) as u32,
                )
            },
        ),
        sex,
        race,
        programs,
        alternate,
        csa: spanish && rng.chance(d.csa_among_spanish),
        language,
        entered_el,
        reclassified_at: (entered_el && !rng.chance(d.long_term_el)).then(|| {
            // Stronger English, earlier reclassification.
            let r = 2.0 + (1.0 - draw::phi(ability[3] as f64)) * 8.0 + 1.5 * rng.normal();
            r.round().clamp(1.0, 12.0) as u8
        }),
        ifep,
        tbd: entered_el && rng.chance(d.tbd / d.el_at_entry),
        ability,
        growth: (e.growth_mean + e.growth_sd * rng.normal()) as f32,
    }
}

/// The flag of a CERS race column name.
fn race_flag(column: &str) -> Flag {
    crate::model::RACE_FLAGS
        .iter()
        .find(|(_, c)| *c == column)
        .map(|(f, _)| *f)
        .unwrap_or(Flag::TwoOrMoreRaces)
}

/// The students of one school, year and grade: those there in the fall, and
/// those who move in mid-year.
#[derive(Default)]
struct Cohort {
    fall: Vec<u32>,
    movers: Vec<u32>,
}

/// Who is where: cohorts by (school, year, grade), in a stable order.
fn enrolment(profile: &Profile, d: &District) -> BTreeMap<(usize, u16, u8), Cohort> {
    let last_year = *profile.years.last().expect("profile has years");
    let mut cohorts: BTreeMap<(usize, u16, u8), Cohort> = BTreeMap::new();
    for (p, pupil) in d.pupils.iter().enumerate() {
        for &year in &profile.years {
            let Some(grade) = pupil.grade_in(year, last_year) else {
                continue;
            };
            let fall = d.school_for(profile, pupil.area_in(year, false), grade);
            let spring = d.school_for(profile, pupil.area_in(year, true), grade);
            cohorts
                .entry((fall, year, grade))
                .or_default()
                .fall
                .push(p as u32);
            if spring != fall {
                cohorts
                    .entry((spring, year, grade))
                    .or_default()
                    .movers
                    .push(p as u32);
            }
        }
    }
    cohorts
}

/// Hires teachers as classes need them, each school from its own stream.
struct Staffing<'a> {
    profile: &'a Profile,
    rngs: Vec<ChaCha8Rng>,
    logins: HashSet<String>,
    /// Elementary rooms: (school, grade, room) keeps its teacher every year.
    rooms: HashMap<(usize, u8, usize), usize>,
    /// Secondary subject teachers by (school, subject).
    subject_staff: HashMap<(usize, &'static str), Vec<usize>>,
    /// Sections handed out so far by (school, year, subject).
    sections: HashMap<(usize, u16, &'static str), usize>,
    eld: HashMap<usize, usize>,
}

impl Staffing<'_> {
    fn hire(&mut self, teachers: &mut Vec<Teacher>, school: usize) -> usize {
        let rng = &mut self.rngs[school];
        let first: String = FirstName().fake_with_rng(rng);
        let last: String = LastName().fake_with_rng(rng);
        let base = format!("{}.{}", ascii(&first), ascii(&last));
        let mut login = base.clone();
        let mut n = 1;
        while !self.logins.insert(login.clone()) {
            n += 1;
            login = format!("{base}{n}");
        }
        teachers.push(Teacher {
            first,
            last,
            email: format!("{login}@{}", self.profile.lea.domain),
            school,
        });
        teachers.len() - 1
    }

    /// The teacher and period of the next section of `subject`.
    fn section(
        &mut self,
        teachers: &mut Vec<Teacher>,
        school: usize,
        year: u16,
        subject: &'static str,
    ) -> (usize, usize) {
        let per = self.profile.sections_per_teacher;
        let n = *self
            .sections
            .entry((school, year, subject))
            .and_modify(|n| *n += 1)
            .or_insert(0);
        while self
            .subject_staff
            .get(&(school, subject))
            .map_or(0, Vec::len)
            <= n / per
        {
            let t = self.hire(teachers, school);
            self.subject_staff
                .entry((school, subject))
                .or_default()
                .push(t);
        }
        (self.subject_staff[&(school, subject)][n / per], n % per + 1)
    }

    fn room(
        &mut self,
        teachers: &mut Vec<Teacher>,
        school: usize,
        grade: u8,
        room: usize,
    ) -> usize {
        if let Some(&t) = self.rooms.get(&(school, grade, room)) {
            return t;
        }
        let t = self.hire(teachers, school);
        self.rooms.insert((school, grade, room), t);
        t
    }
}

/// Secondary subjects: CERS code and the course label.
const SUBJECT_CLASSES: [(&str, &str); 3] =
    [("ELA", "English"), ("Math", "Math"), ("CAST", "Science")];

/// Class rosters per school, year and grade, with their teachers.
fn rosters(profile: &Profile, seed: u64, d: &mut District) {
    let last_year = *profile.years.last().expect("profile has years");
    let mut staff = Staffing {
        profile,
        rngs: (0..d.schools.len())
            .map(|s| draw::rng(seed, Stream::Teachers, s as u64))
            .collect(),
        logins: HashSet::new(),
        rooms: HashMap::new(),
        subject_staff: HashMap::new(),
        sections: HashMap::new(),
        eld: HashMap::new(),
    };
    let cohorts = enrolment(profile, d);
    let mut els: BTreeMap<(usize, u16), Vec<u32>> = BTreeMap::new();
    for (&(school, year, grade), cohort) in &cohorts {
        let mut members = cohort.fall.clone();
        let classes = ((members.len() as f64 / profile.class_size as f64).round() as usize).max(1);
        let mut rng = draw::rng(
            seed,
            Stream::Classes,
            draw::key(&format!("{school}/{year}/{grade}")),
        );
        let elementary = profile.schools[d.schools[school].level].last_grade <= 6;
        let subjects: &[(&'static str, &str)] = if elementary {
            &[("", "Room")]
        } else {
            &SUBJECT_CLASSES
        };
        // Two teachers may share a last name: a group's name must still be
        // unique at its school in its year.
        let mut taken = std::collections::HashSet::new();
        for &(code, label) in subjects {
            if code == "CAST" && ![5, 8, 11].contains(&grade) {
                continue;
            }
            shuffle(&mut members, &mut rng);
            for c in 0..classes {
                let mut pupils: Vec<u32> =
                    members.iter().skip(c).step_by(classes).copied().collect();
                if c == 0 {
                    pupils.extend(&cohort.movers);
                }
                pupils.sort_unstable();
                let (teacher, name) = if elementary {
                    let g = if grade == 0 {
                        "K".to_string()
                    } else {
                        grade.to_string()
                    };
                    let room = format!("{}{}", grade.max(1), (b'A' + c as u8) as char);
                    (
                        staff.room(&mut d.teachers, school, grade, c),
                        format!("Grade {g} - Room {room}"),
                    )
                } else {
                    let (t, period) = staff.section(&mut d.teachers, school, year, code);
                    let teacher = &d.teachers[t];
                    let initial = teacher.first.chars().next().unwrap_or('T');
                    let base = format!(
                        "{label} {grade} - Period {period} ({initial}. {})",
                        teacher.last
                    );
                    let mut name = base.clone();
                    for n in 2.. {
                        if !taken.contains(&name) {
                            break;
                        }
                        name = format!("{base} {n}");
                    }
                    (t, name)
                };
                taken.insert(name.clone());
                d.rosters.push(Roster {
                    name,
                    school,
                    year,
                    subject: non_empty(code),
                    teacher,
                    pupils,
                });
            }
        }
        els.entry((school, year)).or_default().extend(
            cohort
                .fall
                .iter()
                .chain(&cohort.movers)
                .filter(|&&p| d.pupils[p as usize].is_el(year, last_year)),
        );
    }
    for ((school, year), mut pupils) in els {
        pupils.sort_unstable();
        pupils.dedup();
        let teacher = match staff.eld.get(&school) {
            Some(&t) => t,
            None => {
                let t = staff.hire(&mut d.teachers, school);
                staff.eld.insert(school, t);
                t
            }
        };
        for (n, chunk) in pupils.chunks(profile.class_size).enumerate() {
            d.rosters.push(Roster {
                name: format!("ELD Support {}", n + 1),
                school,
                year,
                subject: Some("ELPAC"),
                teacher,
                pupils: chunk.to_vec(),
            });
        }
    }
}

fn non_empty(code: &'static str) -> Option<&'static str> {
    (!code.is_empty()).then_some(code)
}

/// Fisher–Yates with the given stream.
fn shuffle<T>(items: &mut [T], rng: &mut impl Draws) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// Lower-case ASCII letters of a name, for logins.
fn ascii(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RDW identifies a group by (name, school, year): names must not repeat,
    /// even in a district large enough for teachers to share last names.
    #[test]
    fn group_names_are_unique_per_school_and_year() {
        let profile = Profile::builtin();
        let d = build(&profile, 1, 100_000);
        let mut seen = std::collections::HashSet::new();
        for r in &d.rosters {
            assert!(
                seen.insert((&r.name, r.school, r.year)),
                "{} repeats at school {} in {}",
                r.name,
                r.school,
                r.year
            );
        }
        assert!(seen.len() > 1000);
    }
}
