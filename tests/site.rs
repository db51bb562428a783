//! `scoresite sandbox --out`: the plaintext sandbox site, its role chooser,
//! and what each bundle's pages contain.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A small sandbox site and its deployment, built once.
fn built() -> (&'static Path, &'static Path) {
    static DIRS: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    let (_, site, data) = DIRS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (site, data) = (dir.path().join("site"), dir.path().join("data"));
        for args in [
            vec!["--out", site.to_str().unwrap()],
            vec!["--emit-data", data.to_str().unwrap()],
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_scoresite"))
                .args(["sandbox", "--students", "600", "--seed", "5"])
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        (dir, site, data)
    });
    (site, data)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every student SSID in a groups CSV.
fn roster_ssids(groups: &str) -> BTreeSet<String> {
    groups
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(4))
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A bundle's files and the shared pages (student reports, batch prints)
/// its pages link to.
fn bundle_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let mut shared = BTreeSet::new();
    for f in &files {
        let text = read(f);
        for part in text.split("href=\"../../").skip(1) {
            let target = &part[..part.find('"').unwrap()];
            if target.starts_with("r/") || target.starts_with("p/") {
                shared.insert(dir.join("../..").join(target));
            }
        }
    }
    files.extend(shared);
    files
}

/// Every SSID (a run of exactly ten digits) appearing in a bundle's files.
fn ssids_in(dir: &Path, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for f in bundle_files(dir) {
        let text = read(&f);
        for run in text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|r| r.len() == 10)
        {
            if known.contains(run) {
                found.insert(run.to_string());
            }
        }
    }
    found
}

#[test]
fn landing_offers_every_role_and_pages_are_self_contained() {
    let (site, _) = built();
    let landing = read(&site.join("index.html"));
    for role in [
        "Enter as Teacher",
        "Enter as School Administrator",
        "Enter as District Administrator",
        "Enter as Aggregate Reporter",
    ] {
        assert!(landing.contains(role), "{role}");
    }
    assert!(landing.contains("Sandbox — fictitious data"));
    for e in walkdir::WalkDir::new(site)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
    {
        let text = read(e.path());
        assert!(
            text.contains("Sandbox — fictitious data"),
            "banner on {}",
            e.path().display()
        );
        for external in ["http://", "https://", "//cdn", "fetch("] {
            assert!(
                !text.contains(external),
                "{} has `{external}`",
                e.path().display()
            );
        }
    }
    assert!(site.join("help/index.html").exists() && site.join("assets/site.css").exists());
}

/// (bundle dir, the bundle's role) from the landing page's links.
fn bundles(site: &Path) -> Vec<(PathBuf, String)> {
    std::fs::read_dir(site.join("b"))
        .unwrap()
        .map(|e| {
            let dir = e.unwrap().path();
            let home = read(&dir.join("index.html"));
            let role = [
                "Teacher",
                "School Administrator",
                "District Administrator",
                "State Administrator",
                "Aggregate Reporter",
            ]
            .into_iter()
            .find(|r| home.contains(&format!("<h1>{r} Home</h1>")))
            .unwrap()
            .to_string();
            (dir, role)
        })
        .collect()
}

#[test]
fn a_teacher_sees_only_their_groups_students() {
    let (site, data) = built();
    let groups = read(&data.join("data/groups.csv"));
    let all = roster_ssids(&groups);
    let users = read(&data.join("users.yaml"));
    let mut checked = 0;
    for (dir, role) in bundles(site) {
        if role != "Teacher" {
            continue;
        }
        let home = read(&dir.join("index.html"));
        // The teacher's logins: users.yaml names appear on the home page's subtitle.
        let logins: Vec<&str> = users
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- email: "))
            .filter(|email| {
                let name_line = users
                    .lines()
                    .skip_while(|l| !l.contains(email))
                    .nth(1)
                    .unwrap_or("");
                let name = name_line.trim().trim_start_matches("name: ");
                home.contains(name) && !name.is_empty() && !email.starts_with("principal.")
            })
            .collect();
        let mine: BTreeSet<String> = groups
            .lines()
            .filter(|l| logins.iter().any(|login| l.ends_with(login)))
            .filter_map(|l| l.split(',').next())
            .flat_map(|group| {
                groups
                    .lines()
                    .filter(move |l| l.starts_with(&format!("{group},")))
                    .filter_map(|l| l.split(',').nth(4))
            })
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let seen = ssids_in(&dir, &all);
        assert!(!seen.is_empty());
        assert!(
            seen.is_subset(&mine),
            "{}: students outside the teacher's groups: {:?}",
            dir.display(),
            seen.difference(&mine).collect::<Vec<_>>()
        );
        checked += 1;
        if checked == 5 {
            break;
        }
    }
    assert_eq!(checked, 5);
}

#[test]
fn aggregate_reporter_sees_no_student_and_small_groups_are_suppressed() {
    let (site, data) = built();
    let groups = read(&data.join("data/groups.csv"));
    let all = roster_ssids(&groups);
    let (dir, _) = bundles(site)
        .into_iter()
        .find(|(_, r)| r == "Aggregate Reporter")
        .unwrap();
    assert!(ssids_in(&dir, &all).is_empty());
    let pages: String = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| read(&e.unwrap().path()))
        .collect();
    assert!(pages.contains("Results Summary"));
    assert!(!pages.contains("Results by Student"));
    assert!(pages.contains("* Groups of 10 or fewer results are not shown."));
}

#[test]
fn group_summary_matches_the_export() {
    let (site, data) = built();
    let (dir, _) = bundles(site)
        .into_iter()
        .find(|(_, r)| r == "District Administrator")
        .unwrap();
    // Grade 5 ELA Summative at one school in the latest year, from the export.
    let export = read(&data.join("data/cers_export.csv"));
    let mut rows = csv::Reader::from_reader(export.trim_start_matches('\u{feff}').as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let year = records
        .iter()
        .map(|r| r[col("SchoolYear")].to_string())
        .max()
        .unwrap();
    let pick: Vec<&csv::StringRecord> = records
        .iter()
        .filter(|r| {
            r[col("AssessmentName")] == *"Grade 5 ELA Summative"
                && r[col("SchoolYear")] == year
                && r[col("GradeLevelWhenAssessed")] == *"05"
        })
        .collect();
    let school = pick[0][col("SchoolName")].to_string();
    let scores: Vec<f64> = pick
        .iter()
        .filter(|r| r[col("SchoolName")] == school && !r[col("ScaleScore")].is_empty())
        .map(|r| r[col("ScaleScore")].parse().unwrap())
        .collect();
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let page = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let t = read(p);
            p.file_name().unwrap().to_string_lossy().starts_with('s')
                && t.contains(&format!("<h1>{school} · Grade 5</h1>"))
        })
        .unwrap();
    let html = read(&page);
    let section = html
        .split("<section")
        .find(|s| {
            s.contains("Grade 5 ELA Summative")
                && s.contains(&format!(
                    "{}–{}",
                    year.parse::<u16>().unwrap() - 1,
                    &year[2..]
                ))
        })
        .unwrap();
    let cells = format!(
        "<td class=\"num\">{}</td><td class=\"num\">{:.0} ",
        scores.len(),
        mean
    );
    assert!(
        section.contains(&cells),
        "expected `{cells}` in the summary:\n{}",
        &section[..section.len().min(1500)]
    );
}

#[test]
fn batch_print_has_one_report_per_student_of_the_section() {
    let (site, _) = built();
    let mut checked = 0;
    for (dir, role) in bundles(site) {
        if role != "Teacher" && role != "School Administrator" {
            continue;
        }
        for f in bundle_files(&dir)
            .into_iter()
            .filter(|f| f.extension().is_some_and(|x| x == "html"))
        {
            let html = read(&f);
            for section in html.split("<section").skip(1) {
                let Some(at) = section.find("\">Print ISRs") else {
                    continue;
                };
                let start = section[..at].rfind("href=\"").unwrap() + 6;
                let print = read(&f.parent().unwrap().join(&section[start..at]));
                let rows: Vec<&str> = section.split("<tr data-level=").skip(1).collect();
                let reports: Vec<&str> = print.split("<article class=\"isr\"").skip(1).collect();
                assert_eq!(rows.len(), reports.len(), "{}", f.display());
                let ssid = |s: &str| {
                    let at = s
                        .find("SSID ")
                        .map(|i| i + 5)
                        .or_else(|| s.find("</a></td><td>").map(|i| i + 13))?;
                    Some(s[at..at + 10].to_string())
                };
                let mut want: Vec<String> = rows.iter().filter_map(|r| ssid(r)).collect();
                let mut got: Vec<String> = reports.iter().filter_map(|r| ssid(r)).collect();
                want.sort();
                got.sort();
                assert_eq!(want, got, "{}", f.display());
                assert!(print.contains("Print these reports"));
                checked += 1;
            }
            if checked >= 6 {
                return;
            }
        }
    }
    panic!("only {checked} batch prints found");
}
