//! `scoresite sandbox --emit-data`: the fictitious deployment is deterministic,
//! passes `check`, covers every subject, and has plausible level mixes.

use scoresite::diag::Diagnostics;
use scoresite::model::Flag;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;

fn emit(dir: &Path, seed: u64, students: u32) {
    let out = Command::new(env!("CARGO_BIN_EXE_scoresite"))
        .args([
            "sandbox",
            "--seed",
            &seed.to_string(),
            "--students",
            &students.to_string(),
            "--emit-data",
        ])
        .arg(dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The default-size sandbox, emitted once for the tests that read it.
fn default_sandbox() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::shared_dir("sandbox-default");
        emit(&dir.join("lea"), 1, 2500);
        dir
    })
}

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(root).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn same_seed_gives_byte_identical_output() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    emit(&a, 7, 400);
    emit(&b, 7, 400);
    emit(&c, 8, 400);
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert!(fa.len() > 10, "{} files", fa.len());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        assert!(
            bytes == &fb[path],
            "{} differs between two runs with seed 7",
            path.display()
        );
    }
    assert_ne!(
        fa[Path::new("data/cers_export.csv")],
        fc[Path::new("data/cers_export.csv")],
        "another seed, other students"
    );
}

#[test]
fn emitting_again_replaces_the_directory_whole() {
    let dir = tempfile::tempdir().unwrap();
    let lea = dir.path().join("lea");
    emit(&lea, 3, 200);
    std::fs::write(lea.join("data/stale.csv"), "left over").unwrap();
    emit(&lea, 3, 200);
    assert!(!lea.join("data/stale.csv").exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no staging folders left"
    );
}

#[test]
fn check_passes_on_the_emitted_data() {
    let out = Command::new(env!("CARGO_BIN_EXE_scoresite"))
        .arg("check")
        .arg(default_sandbox().join("lea"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(
        stdout.contains("0 error(s), 0 warning(s)"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("TRT documents joined to their export rows"),
        "{stdout}"
    );
}

/// The loaded deployment, through the same ingest as real data.
fn deployment() -> &'static scoresite::deployment::Deployment {
    static DEP: OnceLock<scoresite::deployment::Deployment> = OnceLock::new();
    DEP.get_or_init(|| {
        let mut diags = Diagnostics::default();
        scoresite::pipeline::load_valid(&default_sandbox().join("lea"), &mut diags)
            .expect("loads")
            .deployment
    })
}

#[test]
fn every_subject_code_appears() {
    let dep = deployment();
    let subjects: BTreeSet<&str> = dep
        .data
        .exams
        .iter()
        .map(|e| {
            dep.catalog.families[dep.data.assessments[e.assessment as usize].family]
                .subject
                .as_str()
        })
        .collect();
    for code in [
        "ELA", "Math", "CAAELA", "CAAMATH", "CAASCI", "CAST", "CSA", "ELPAC", "ALTELPAC",
    ] {
        assert!(subjects.contains(code), "{code} missing from {subjects:?}");
    }
    let families: BTreeSet<&str> = dep
        .data
        .assessments
        .iter()
        .map(|a| dep.catalog.families[a.family].id.as_str())
        .collect();
    assert_eq!(
        families.len(),
        dep.catalog.families.len(),
        "every family in the catalog: {families:?}"
    );
}

#[test]
fn level_distributions_are_plausible() {
    let dep = deployment();
    let profile = scoresite::sandbox::profile::Profile::builtin();
    let mut counts: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for e in &dep.data.exams {
        let fam = &dep.catalog.families[dep.data.assessments[e.assessment as usize].family];
        if let Some(level) = e.overall.level {
            let c = counts
                .entry(fam.id.as_str())
                .or_insert_with(|| vec![0; fam.levels.len()]);
            c[level as usize - 1] += 1;
        }
    }
    println!("{:<20} {:>7}  level shares", "family", "n");
    for (family, c) in &counts {
        let n: usize = c.iter().sum();
        let shares: Vec<String> = c
            .iter()
            .map(|x| format!("{:5.1}%", 100.0 * *x as f64 / n as f64))
            .collect();
        println!("{family:<20} {n:>7}  {}", shares.join(" "));
    }
    // Summatives with cut scores land near the statewide-like mix they were drawn to.
    for family in ["sb_ela_summative", "sb_math_summative", "cast", "elpac"] {
        let c = &counts[family];
        let n: usize = c.iter().sum();
        for (level, (got, want)) in c.iter().zip(&profile.level_mix[family]).enumerate() {
            let share = *got as f64 / n as f64;
            assert!(
                (share - want).abs() < 0.10,
                "{family} level {}: {share:.2} vs {want:.2}",
                level + 1
            );
        }
    }
    // Interims use Below / Near / Above, and every band occurs.
    for family in ["sb_ela_iab", "sb_math_iab", "sb_ela_ica"] {
        assert!(
            counts[family].iter().all(|&x| x > 0),
            "{family}: {:?}",
            counts[family]
        );
    }
}

#[test]
fn demographics_have_realistic_proportions() {
    let dep = deployment();
    let latest = dep.data.exams.iter().map(|e| e.school_year).max().unwrap();
    let mut seen = BTreeSet::new();
    let (mut n, mut el, mut iep, mut econ, mut econ_known, mut nonbinary) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for e in dep.data.exams.iter().filter(|e| e.school_year == latest) {
        let family = &dep.catalog.families[dep.data.assessments[e.assessment as usize].family];
        if family.id != "sb_ela_summative" || !seen.insert(e.student) {
            continue;
        }
        let d = &e.demographics;
        n += 1.0;
        el += (d.elas == Some(scoresite::model::Elas::El)) as u8 as f64;
        iep += d.get(Flag::Iep).unwrap_or(false) as u8 as f64;
        nonbinary += (d.sex == Some(scoresite::model::Sex::Nonbinary)) as u8 as f64;
        if let Some(v) = d.get(Flag::EconomicDisadvantage) {
            econ_known += 1.0;
            econ += v as u8 as f64;
        }
    }
    println!(
        "tested students {n}: EL {:.3}, IEP {:.3}, econ {:.3} (of {econ_known}), nonbinary {:.3}",
        el / n,
        iep / n,
        econ / econ_known,
        nonbinary / n
    );
    assert!((0.10..0.30).contains(&(el / n)), "EL share {}", el / n);
    assert!((0.08..0.17).contains(&(iep / n)), "IEP share {}", iep / n);
    assert!(
        econ_known > n * 0.5,
        "TRT carries economic disadvantage for most summative takers"
    );
    assert!(
        (0.5..0.7).contains(&(econ / econ_known)),
        "econ share {}",
        econ / econ_known
    );
    assert!(nonbinary > 0.0);
}

#[test]
fn rosters_are_class_sized_and_overlap() {
    let dep = deployment();
    let data = &dep.data;
    let sizes: Vec<usize> = data
        .groups
        .iter()
        .filter(|g| g.subject.as_deref() != Some("ELPAC"))
        .map(|g| g.students.len())
        .collect();
    let in_range = sizes.iter().filter(|&&s| (20..=35).contains(&s)).count();
    assert!(
        in_range * 10 >= sizes.len() * 8,
        "most class rosters hold 20-35 students: {sizes:?}"
    );
    let mut memberships: BTreeMap<(u32, u16), usize> = BTreeMap::new();
    let mut per_teacher: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &data.groups {
        for &s in &g.students {
            *memberships.entry((s, g.school_year)).or_default() += 1;
        }
        for u in &g.users {
            *per_teacher.entry(u).or_default() += 1;
        }
    }
    assert!(
        memberships.values().any(|&m| m >= 2),
        "some students are in several groups"
    );
    assert!(
        per_teacher.values().any(|&m| m >= 2),
        "some teachers have several groups"
    );
    // Mid-year movers: tested at two schools in one year.
    let mut schools: BTreeMap<(u32, u16), BTreeSet<u32>> = BTreeMap::new();
    for e in &data.exams {
        schools
            .entry((e.student, e.school_year))
            .or_default()
            .insert(e.school);
    }
    assert!(
        schools.values().any(|s| s.len() > 1),
        "a few students transfer mid-year"
    );
    let roles: BTreeSet<_> = dep
        .users
        .iter()
        .flat_map(|u| u.grants.iter().map(|g| g.role))
        .collect();
    assert_eq!(roles.len(), 5, "a user for every role: {roles:?}");
}

#[test]
fn practice_items_have_responses_and_summatives_have_detail() {
    let dep = deployment();
    let items = scoresite::items::ItemBank::builtin();
    let keys: BTreeSet<String> = items
        .sets
        .iter()
        .flat_map(|s| s.items.iter().map(|i| i.key.to_string()))
        .collect();
    let mut answered = BTreeSet::new();
    let (mut traits, mut targets) = (0, 0);
    for detail in dep.data.details.values() {
        for r in &detail.items {
            let key = dep.data.strings.get(r.key);
            assert!(keys.contains(key), "item {key} is a practice item");
            answered.insert(key.to_string());
        }
        traits += detail.traits.len();
        targets += detail.targets.len();
    }
    assert_eq!(answered, keys, "every practice item has responses");
    assert!(traits > 0 && targets > 0);
}
