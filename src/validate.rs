//! Validation: checks the loaded deployment against the catalog and itself.
//!
//! Scores outside the catalog's range and levels that disagree with the cut
//! scores are warnings (CERS is the system of record; the values are shown as
//! given). A blank level is filled from the catalog's rule where it has one.
//! Grants to schools or LEAs that do not exist are errors.

use crate::catalog::{scale_in_force, Family, LevelRule, Scale};
use crate::deployment::Deployment;
use crate::diag::{Diagnostics, Location};
use crate::model::{Exam, Found, Grade, Role, Scope, Score};
use crate::yaml;
use std::collections::{BTreeMap, HashSet};

/// What validation found besides diagnostics.
#[derive(Debug, Default)]
pub struct Summary {
    /// Exams by (family id, school year).
    pub exams: BTreeMap<(String, u16), usize>,
    /// Blank levels filled in from the catalog's rule.
    pub levels_derived: usize,
}

/// Runs every check, filling blank levels, and returns the counts for the summary.
pub fn run(dep: &mut Deployment, diags: &mut Diagnostics) -> Summary {
    let mut summary = Summary::default();
    // Problems with the data come first; what they cause later is not a second error.
    let data_ok = diags.is_ok();
    let data = &mut dep.data;
    for exam in &mut data.exams {
        let assessment = &data.assessments[exam.assessment as usize];
        let family = &dep.catalog.families[assessment.family];
        *summary
            .exams
            .entry((family.id.clone(), exam.school_year))
            .or_default() += 1;
        let grade = assessment.grade.unwrap_or(exam.grade);
        let at = Location::at(
            &data.files[exam.origin.file as usize],
            exam.origin.line as u64,
            1,
        );
        summary.levels_derived += check_exam(exam, family, grade, &assessment.name, &at, diags);
    }
    check_grants(dep, data_ok, diags);
    summary
}

/// What a score is checked against, and where it came from.
struct Context<'a> {
    name: &'a str,
    grade: Grade,
    year: u16,
    cutoff: u8,
    at: &'a Location,
}

/// Checks one exam's overall and alt scores; returns how many blank levels it filled.
fn check_exam(
    exam: &mut Exam,
    family: &Family,
    grade: Grade,
    name: &str,
    at: &Location,
    diags: &mut Diagnostics,
) -> usize {
    let year = exam.school_year;
    let ctx = Context {
        name,
        grade,
        year,
        cutoff: family.standard_cutoff,
        at,
    };
    let mut derived = check_score(
        &mut exam.overall,
        "ScaleScore",
        family.level_rule,
        family.scale(grade, year),
        &ctx,
        diags,
    );
    for (column, score) in &mut exam.alt {
        if let Some(alt) = family.alt_score(*column) {
            let label = format!("Alt{column}ScaleScore ({})", alt.name);
            derived += check_score(
                score,
                &label,
                alt.level_rule,
                scale_in_force(&alt.scales, grade, year),
                &ctx,
                diags,
            );
        }
    }
    derived
}

/// Warns when `score` is out of range or its level disagrees with `rule`; fills a blank level.
fn check_score(
    score: &mut Score,
    label: &str,
    rule: LevelRule,
    scale: Option<&Scale>,
    ctx: &Context,
    diags: &mut Diagnostics,
) -> usize {
    let (Some(value), Some(scale)) = (score.scale, scale) else {
        return 0;
    };
    let Context {
        name,
        grade,
        year,
        cutoff,
        at,
    } = ctx;
    if value < scale.min || value > scale.max {
        diags.warn(
            (*at).clone(),
            format!(
                "{label} {value} is outside {}–{}, the range for {name} (grade {grade}, {year})",
                scale.min, scale.max
            ),
        );
        return 0;
    }
    let expected = match rule {
        LevelRule::Cuts => Some(scale.level_of(value)),
        LevelRule::StandardBand => score
            .se
            .and_then(|se| scale.standard_band(value, se, *cutoff)),
        LevelRule::Supplied => None,
    };
    match (score.level, expected) {
        (None, Some(e)) => {
            score.level = Some(e);
            1
        }
        (Some(given), Some(e)) if given != e => {
            let se = score.se.map(|s| format!(" ± {s}")).unwrap_or_default();
            diags.warn(
                (*at).clone(),
                format!("{label} {value}{se} has level {given} in the file, but the catalog's cut scores give level {e} ({name}, grade {grade}, {year})"),
            );
            0
        }
        _ => 0,
    }
}

/// Every grant must name one known school or LEA; a user whose grants give
/// them nothing to read is warned about. When data errors were found, an
/// unknown school or LEA may be one of their consequences (its rows were
/// rejected), so it is a warning that says so rather than a second error.
fn check_grants(dep: &Deployment, data_ok: bool, diags: &mut Diagnostics) {
    let path = dep.root.join("users.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let lines = yaml::Lines::new(&text);
    let inst = &dep.data.institutions;
    let assigned = group_users(dep);
    // Users come in file order: each is looked for from the last one's line.
    let mut last = 1;
    for user in &dep.users {
        let from = lines.find_next(&user.email, last).unwrap_or(1);
        last = from;
        let at = |line| Location {
            file: path.clone(),
            line,
            column: None,
        };
        if user.grants.is_empty() {
            diags.warn(
                at(Some(from)),
                format!(
                    "{} has no grants and will see nothing; expected at least one ROLE:SCOPE",
                    user.email
                ),
            );
        }
        for grant in &user.grants {
            let line = lines.find(&grant.to_string(), from);
            let problem = match &grant.scope {
                Scope::School(id) => match inst.find_school(id) {
                    Found::One(school) => {
                        teacher_without_groups(dep, &assigned, &user.email, grant.role, school).map(|w| (Problem::Empty, w))
                    }
                    Found::None => Some((Problem::Unknown, format!("names school `{id}`, which is not in the institutions; expected a known school id, 14-digit CDS code or LEA/ID"))),
                    Found::Many(many) => Some((Problem::Ambiguous, format!("names school `{id}`, an id that several LEAs use: {}; expected LEA/ID or the school's 14-digit CDS code", inst.describe_schools(&many)))),
                },
                Scope::Lea(id) => inst.lea(id).is_none().then(|| (Problem::Unknown, format!("names LEA `{id}`, which is not in the institutions; expected a known LEA id"))),
                Scope::State => None,
            };
            let Some((problem, what)) = problem else {
                continue;
            };
            let message = format!("grant `{grant}` for {} {what}", user.email);
            match (problem, data_ok) {
                (Problem::Ambiguous, _) | (Problem::Unknown, true) => {
                    diags.error(at(line), message)
                }
                (Problem::Unknown, false) => diags.warn(
                    at(line),
                    format!("{message} (rows rejected by the errors above may be why)"),
                ),
                (Problem::Empty, _) => diags.warn(at(line), message),
            }
        }
    }
}

/// What is wrong with a grant.
#[derive(Clone, Copy)]
enum Problem {
    /// It names no known school or LEA (perhaps because its rows were rejected).
    Unknown,
    /// It names a school id several LEAs use.
    Ambiguous,
    /// It is valid but shows its holder nothing.
    Empty,
}

/// Each (school, lower-case login) of a group user.
fn group_users(dep: &Deployment) -> HashSet<(usize, String)> {
    (dep.data.groups.iter())
        .flat_map(|g| g.users.iter().map(|u| (g.school, u.to_ascii_lowercase())))
        .collect()
}

/// Why a teacher grant at `school` shows nothing, if it does not; `assigned`
/// holds each group user ([`group_users`]).
fn teacher_without_groups(
    dep: &Deployment,
    assigned: &HashSet<(usize, String)>,
    email: &str,
    role: Role,
    school: usize,
) -> Option<String> {
    if role != Role::Teacher {
        return None;
    }
    let assigned = assigned.contains(&(school, email.to_ascii_lowercase()));
    (!assigned).then(|| {
        format!(
            "gives nothing to see: {email} is no group_user_login of a group at {} ({}); the teacher will see an empty site",
            dep.data.institutions.school_ref(school),
            dep.data.institutions.schools[school].name
        )
    })
}
