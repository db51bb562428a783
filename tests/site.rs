//! `scoresite sandbox --out`: the plaintext sandbox site, its role chooser,
//! and what each bundle's pages contain.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;

/// A small sandbox site and its deployment, built once.
fn built() -> (&'static Path, &'static Path) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    let (site, data) = DIRS.get_or_init(|| {
        let dir = common::shared_dir("site-sandbox");
        let (site, data) = (dir.join("site"), dir.join("data"));
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
        (site, data)
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
    let mut resource_lists = 0;
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
        // The only addresses elsewhere are the instructional resources'
        // links, each opened by the reader; nothing is loaded from elsewhere.
        let mut own = String::new();
        for (k, part) in text.split("<ul class=\"resources\">").enumerate() {
            let outside = if k == 0 {
                part
            } else {
                &part[part.find("</ul>").unwrap()..]
            };
            own.push_str(outside);
            if k > 0 {
                resource_lists += 1;
                let list = &part[..part.find("</ul>").unwrap()];
                for link in list.split("<a ").skip(1) {
                    assert!(
                        link.starts_with("href=\"https:&#x2F;&#x2F;")
                            && link.contains("rel=\"external noopener noreferrer\""),
                        "{}: {link}",
                        e.path().display()
                    );
                }
            }
        }
        for external in ["http:", "https:", "//cdn", "&#x2F;&#x2F;", "fetch("] {
            assert!(
                !own.contains(external),
                "{} has `{external}`",
                e.path().display()
            );
        }
    }
    assert!(
        resource_lists > 10,
        "{resource_lists} lists of instructional resources"
    );
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
    let dir = bundle_of(site, "Aggregate Reporter");
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
    let dir = bundle_of(site, "District Administrator");
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
    // The school grade's page of this assessment and year (one per page).
    let year_label = format!("{}–{}", year.parse::<u16>().unwrap() - 1, &year[2..]);
    let section = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('s'))
        .map(|p| read(&p))
        .find(|t| {
            t.contains(&format!("<h1>{school} · Grade 5</h1>"))
                && t.contains(&format!(
                    "Grade 5 ELA Summative <span class=\"year\">{year_label}</span></h2>"
                ))
        })
        .unwrap();
    let cells = format!(
        "<td class=\"num\" data-stat=\"n\">{}</td><td class=\"num\" data-stat=\"mean\">{:.0} ",
        scores.len(),
        mean
    );
    assert!(
        section.contains(&cells),
        "expected `{cells}` in the summary:\n{}",
        &section[..section.len().min(1500)]
    );
    // Distance from Standard: grade 5 ELA's Standard Met starts at 2502
    // (CDE's scale score ranges), reported from 11 results.
    let dfs = scores.iter().map(|s| s - 2502.0).sum::<f64>() / n;
    let shown = if scores.len() < 11 {
        "—".to_string()
    } else {
        format!(
            "{:.1} {}",
            dfs.abs(),
            if dfs < 0.0 { "below" } else { "above" }
        )
    };
    let cell = format!("</span></td><td class=\"num\" data-stat=\"dfs\">{shown}</td>");
    assert!(section.contains(&cell), "expected `{cell}` in the summary");
    // Each student's distance sorts by its signed value.
    let first = pick
        .iter()
        .find(|r| r[col("SchoolName")] == school && !r[col("ScaleScore")].is_empty())
        .unwrap();
    let d: f64 = first[col("ScaleScore")].parse::<f64>().unwrap() - 2502.0;
    assert!(section.contains(&format!("<td class=\"num\" data-sort=\"{d}\">")));
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

#[test]
fn a_student_report_s_history_links_to_each_of_its_reports() {
    let (site, _) = built();
    let between = |s: &str, open: &str, close: &str| -> Option<String> {
        let start = s.find(open)? + open.len();
        Some(s[start..start + s[start..].find(close)?].to_string())
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(site.join("r")).unwrap() {
        let html = read(&entry.unwrap().path());
        let links: Vec<(String, String)> = html
            .split("<a href=\"#")
            .skip(1)
            .filter_map(|s| Some((between(s, "", "\"")?, between(s, "\">", "</a>")?)))
            .collect();
        let reports: Vec<(String, String)> = html
            .split("<article class=\"isr\" id=\"")
            .skip(1)
            .filter_map(|s| Some((between(s, "", "\"")?, between(s, "-h\">", "</h2>")?)))
            .collect();
        assert!(!reports.is_empty());
        assert_eq!(links, reports, "each history row links to its report");
        checked += 1;
    }
    assert!(checked > 100, "{checked} student reports");
}

/// The lines of a CERS export (header first), BOM removed.
fn export_lines(text: &str) -> Vec<String> {
    text.trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn administrators_export_their_scope_in_the_cers_layout() {
    let (site, data) = built();
    let input = export_lines(&read(&data.join("data/cers_export.csv")));
    let (header, rows) = input.split_first().unwrap();
    let exports = |dir: &Path| -> Vec<String> {
        let mut out = Vec::new();
        for f in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("export-") {
                let lines = export_lines(&read(&f));
                assert_eq!(&lines[0], header, "{name}: the 64-column header");
                assert!(read(&f).starts_with('\u{feff}'));
                out.extend(lines[1..].iter().cloned());
            }
        }
        out.sort();
        out
    };
    let all = bundles(site);
    // The district administrator gets back every input row, byte for byte.
    let (district, _) = all
        .iter()
        .find(|(_, r)| r == "District Administrator")
        .unwrap();
    let mut expected = rows.to_vec();
    expected.sort();
    assert_eq!(exports(district), expected);
    // A school administrator gets exactly their school's rows.
    let mut schools = 0;
    for (dir, _) in all.iter().filter(|(_, r)| r == "School Administrator") {
        let got = exports(dir);
        let school = csv_field(&got[0], 3);
        let mut mine: Vec<String> = rows
            .iter()
            .filter(|r| csv_field(r, 3) == school)
            .cloned()
            .collect();
        mine.sort();
        assert_eq!(got, mine, "{}", dir.display());
        schools += 1;
    }
    assert!(schools > 1);
    // Teachers and aggregate reporters get no export.
    for (dir, role) in &all {
        if role == "Teacher" || role == "Aggregate Reporter" {
            assert!(exports(dir).is_empty(), "{role} {}", dir.display());
        }
    }
}

/// Field `i` of one CSV line.
fn csv_field(line: &str, i: usize) -> String {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    r.records().next().unwrap().unwrap()[i].to_string()
}

/// The folder of the first bundle whose role is `role`.
fn bundle_of(site: &Path, role: &str) -> PathBuf {
    bundles(site)
        .into_iter()
        .find(|(_, r)| r == role)
        .map(|(dir, _)| dir)
        .unwrap()
}

/// The cubes embedded in a bundle's custom aggregate report pages.
fn cubes(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("agg-"))
        .map(|p| {
            let html = read(&p);
            let open = "<script type=\"application/json\" class=\"cube\">";
            let start = html.find(open).unwrap() + open.len();
            let end = start + html[start..].find("</script>").unwrap();
            serde_json::from_str(&html[start..end].replace("<\\/", "</")).unwrap()
        })
        .collect()
}

#[test]
fn aggregate_reporter_cubes_hold_no_small_group() {
    let (site, _) = built();
    let dir = bundle_of(site, "Aggregate Reporter");
    let cubes = cubes(&dir);
    assert!(!cubes.is_empty());
    let (mut shown, mut hidden) = (0, 0);
    for cube in &cubes {
        let threshold = cube["threshold"].as_f64().unwrap();
        assert_eq!(threshold, 10.0);
        for inst in cube["institutions"].as_array().unwrap() {
            assert_eq!(inst["fine"], false, "{}: fine cells", cube["family"]);
        }
        let signatures = cube["signatures"].as_array().unwrap();
        // Hidden values per (institution, year, assessment, dimension).
        let mut per_dim: std::collections::BTreeMap<String, usize> = Default::default();
        let mut overall_shown = BTreeSet::new();
        for cell in cube["cells"].as_array().unwrap() {
            let c: Vec<f64> = cell
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let sig = signatures[c[3] as usize].as_array().unwrap();
            let set: Vec<usize> = (0..sig.len())
                .filter(|&d| sig[d].as_i64().unwrap() >= 0)
                .collect();
            assert!(set.len() <= 1, "only marginal cells");
            if c[4] < 0.0 {
                assert_eq!(c.len(), 5, "a hidden cell carries no figures");
                hidden += 1;
            } else {
                assert!(
                    c[4] > threshold,
                    "{}: a group of {} is shown",
                    cube["family"],
                    c[4]
                );
                // The mean and SEM as printed (whole score, one decimal),
                // never the sums behind them.
                assert!(
                    c[6].fract() == 0.0 && c[6] < 10_000.0,
                    "{}: mean {} is not as shown",
                    cube["family"],
                    c[6]
                );
                assert!(
                    c[7] == -1.0 || ((c[7] * 10.0).round() - c[7] * 10.0).abs() < 1e-9,
                    "{}: SEM {} is more precise than shown",
                    cube["family"],
                    c[7]
                );
                shown += 1;
            }
            let at = format!("{}|{}|{}", c[0], c[1], c[2]);
            match set.first() {
                Some(d) => {
                    *per_dim.entry(format!("{at}|{d}")).or_default() += usize::from(c[4] < 0.0)
                }
                None if c[4] >= 0.0 => {
                    overall_shown.insert(at);
                }
                None => {}
            }
        }
        // Where the overall figure is shown, one hidden value would be it
        // minus the others.
        assert!(
            per_dim
                .iter()
                .filter(|(k, _)| overall_shown.contains(k.rsplit_once('|').unwrap().0))
                .all(|(_, &n)| n != 1),
            "{}: a dimension with exactly one hidden value, recoverable by subtraction",
            cube["family"]
        );
    }
    assert!(shown > 100 && hidden > 10, "shown {shown}, hidden {hidden}");
}

/// An XML attribute's value within `tag`.
fn attr(tag: &str, name: &str) -> Option<String> {
    let tag = format!(" {tag}");
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

#[test]
fn results_by_item_matches_the_trt_files() {
    let (site, data) = built();
    // One IAB at one school, year and grade: the first item's scores, from TRT.
    let mut scores: std::collections::BTreeMap<(String, String, String, String), Vec<f64>> =
        Default::default();
    for entry in walkdir::WalkDir::new(data.join("data/trt")) {
        let path = entry.unwrap().into_path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let xml = read(&path);
        let test = &xml[xml.find("<Test ").unwrap()..];
        let name = attr(test, "name").unwrap();
        if !name.ends_with("(IAB)") {
            continue;
        }
        let grade = xml
            .split("name=\"GradeLevelWhenAssessed\" value=\"")
            .nth(1)
            .unwrap()[..2]
            .to_string();
        let school = path.parent().unwrap().file_name().unwrap();
        let year = attr(test, "academicYear").unwrap();
        let item = xml
            .split("<Item ")
            .skip(1)
            .find(|t| attr(t, "position").as_deref() == Some("1"))
            .unwrap();
        scores
            .entry((school.to_string_lossy().into(), year, name, grade))
            .or_default()
            .push(attr(item, "score").unwrap().parse().unwrap());
    }
    let ((school, year, name, grade), firsts) =
        scores.into_iter().max_by_key(|(_, v)| v.len()).unwrap();
    let export = read(&data.join("data/cers_export.csv"));
    let school_name = export_lines(&export)
        .iter()
        .find(|l| csv_field(l, 3) == school)
        .map(|l| csv_field(l, 4))
        .unwrap();
    let year: u16 = year.parse().unwrap();
    let title = format!(
        "<h1>{name} {}–{} · {school_name} · Grade {}</h1>",
        year - 1,
        year % 100,
        grade.trim_start_matches('0')
    );
    let dir = bundle_of(site, "District Administrator");
    let page = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| read(&e.unwrap().path()))
        .find(|t| t.contains(&title))
        .unwrap_or_else(|| panic!("no analysis page {title}"));
    let row = page
        .split("<tr>")
        .find(|r| r.contains(">1</a></td>"))
        .unwrap();
    let cells: Vec<&str> = row
        .split("<td")
        .skip(1)
        .map(|c| &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()])
        .collect();
    let max: f64 = cells[6].parse().unwrap();
    let full = firsts.iter().filter(|&&s| s == max).count();
    assert_eq!(cells[7], firsts.len().to_string(), "students: {row}");
    assert_eq!(
        cells[8],
        format!("{:.0}%", 100.0 * full as f64 / firsts.len() as f64),
        "% full credit: {row}"
    );
    assert!(page.contains("<h2 id=\"by-item\">Results by Item"));
}

/// The subtraction attacker: given every cube an aggregate reporter can read,
/// it solves every sum it knows (each institution's overall cell is the sum
/// of each dimension's values; the scope's row is the sum of its school rows)
/// for any single unknown cell, again and again, and then looks at what it
/// learned. It must learn no hidden group of 10 or fewer results, neither as
/// one recovered cell nor as the remainder of a sum.
#[test]
fn the_subtraction_attacker_recovers_nothing() {
    let (site, _) = built();
    let dir = bundle_of(site, "Aggregate Reporter");
    let (mut solved, mut sums_checked) = (0, 0);
    for cube in cubes(&dir) {
        let threshold = cube["threshold"].as_f64().unwrap();
        let signatures: Vec<Vec<i64>> = cube["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_i64().unwrap())
                    .collect()
            })
            .collect();
        let kinds: Vec<String> = cube["institutions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap().to_string())
            .collect();
        // (institution, year, assessment, signature) → n, or None when hidden.
        type Cell = (usize, i64, i64, Vec<i64>);
        let mut known: std::collections::BTreeMap<Cell, Option<f64>> = Default::default();
        for cell in cube["cells"].as_array().unwrap() {
            let c: Vec<f64> = cell
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let key = (
                c[0] as usize,
                c[1] as i64,
                c[2] as i64,
                signatures[c[3] as usize].clone(),
            );
            known.insert(key, (c[4] >= 0.0).then_some(c[4]));
        }
        // The sums the page lets an attacker write down: (total, parts).
        let mut sums: Vec<(Cell, Vec<Cell>)> = Vec::new();
        let keys: Vec<Cell> = known.keys().cloned().collect();
        for (i, y, a, sig) in &keys {
            if sig.iter().all(|&v| v < 0) {
                for d in 0..sig.len() {
                    let parts: Vec<Cell> = keys
                        .iter()
                        .filter(|k| k.0 == *i && k.1 == *y && k.2 == *a)
                        .filter(|k| k.3.iter().enumerate().all(|(e, &v)| (e == d) == (v >= 0)))
                        .cloned()
                        .collect();
                    if !parts.is_empty() {
                        sums.push(((*i, *y, *a, sig.clone()), parts));
                    }
                }
            }
        }
        let schools: Vec<usize> = (0..kinds.len()).filter(|&i| kinds[i] == "school").collect();
        if let Some(top) = (0..kinds.len()).find(|&i| kinds[i] != "school") {
            if !schools.is_empty() {
                for (i, y, a, sig) in keys.iter().filter(|k| k.0 == top) {
                    let parts: Vec<Cell> = schools
                        .iter()
                        .map(|&s| (s, *y, *a, sig.clone()))
                        .filter(|k| known.contains_key(k))
                        .collect();
                    sums.push(((*i, *y, *a, sig.clone()), parts));
                }
            }
        }
        // Solve every sum with one unknown until nothing more can be solved.
        let mut recovered: Vec<(Cell, f64)> = Vec::new();
        loop {
            let mut progress = false;
            for (total, parts) in &sums {
                let unknown: Vec<&Cell> = std::iter::once(total)
                    .chain(parts)
                    .filter(|k| known[*k].is_none())
                    .collect();
                if unknown.len() != 1 {
                    continue;
                }
                let shown: f64 = parts.iter().filter_map(|k| known[k]).sum();
                let value = if unknown[0] == total {
                    shown
                } else {
                    known[total].unwrap() - shown
                };
                let key = unknown[0].clone();
                known.insert(key.clone(), Some(value));
                recovered.push((key, value));
                progress = true;
            }
            if !progress {
                break;
            }
        }
        for (key, value) in &recovered {
            solved += 1;
            assert!(
                *value == 0.0 || *value > threshold,
                "{}: a hidden cell {key:?} of {value} results is recovered",
                cube["family"]
            );
        }
        // Sums with several unknowns still give their unknowns' total.
        for (total, parts) in &sums {
            let Some(t) = known[total] else { continue };
            let unknown = parts.iter().filter(|k| known[*k].is_none()).count();
            if unknown < 2 {
                continue;
            }
            sums_checked += 1;
            let rest = t - parts.iter().filter_map(|k| known[k]).sum::<f64>();
            assert!(
                rest == 0.0 || rest > threshold,
                "{}: hidden cells {total:?} add up to a group of {rest}",
                cube["family"]
            );
        }
    }
    assert!(
        sums_checked > 10,
        "the attacker found sums to try ({sums_checked}, {solved} solved)"
    );
}

/// A group page's English Learner Progress accounts for every student of the
/// group tested on the Summative ELPAC or Alternate ELPAC that year, once:
/// counted (in one of the four outcomes) or listed as not counted.
#[test]
fn a_groups_english_learner_progress_accounts_for_each_elpac_taker() {
    let (site, data) = built();
    let groups = read(&data.join("data/groups.csv"));
    let export = read(&data.join("data/cers_export.csv"));
    let mut rosters: std::collections::BTreeMap<(String, String), BTreeSet<String>> =
        Default::default();
    let mut seen: std::collections::BTreeMap<(String, String), BTreeSet<String>> =
        Default::default();
    for line in groups.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let key = (f[0].to_string(), f[2].to_string());
        seen.entry(key.clone())
            .or_default()
            .insert(f[1].to_string());
        if !f[4].is_empty() {
            rosters.entry(key).or_default().insert(f[4].to_string());
        }
    }
    let mut rows = csv::Reader::from_reader(export.trim_start_matches('\u{feff}').as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let elpac: Vec<(String, String)> = rows
        .records()
        .map(Result::unwrap)
        .filter(|r| {
            r[col("AssessmentType")] == *"Summative"
                && matches!(&r[col("Subject")], "ELPAC" | "ALTELPAC")
        })
        .map(|r| {
            (
                r[col("StudentIdentifier")].to_string(),
                r[col("SchoolYear")].to_string(),
            )
        })
        .collect();
    let mut checked = 0;
    for (path, html) in bundles(site)
        .iter()
        .flat_map(|(dir, _)| std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('g'))
        .map(|p| {
            let t = read(&p);
            (p, t)
        })
        .filter(|(_, t)| t.contains("id=\"el-progress\""))
    {
        let name = &html[html.find("<h1>").unwrap() + 4..html.find("</h1>").unwrap()];
        let section = &html[html.find("id=\"el-progress\"").unwrap()..];
        let label = &section[section.find("class=\"year\">").unwrap() + 13..];
        let year = format!("20{}", &label.split('–').nth(1).unwrap()[..2]);
        let key = (name.replace("&amp;", "&"), year.clone());
        // Group names repeat across schools: use those named once.
        if seen.get(&key).map_or(0, BTreeSet::len) != 1 {
            continue;
        }
        let roster = &rosters[&key];
        let takers: BTreeSet<&String> = elpac
            .iter()
            .filter(|(s, y)| *y == year && roster.contains(s))
            .map(|(s, _)| s)
            .collect();
        let table = &section[section.find("<tbody>").unwrap()..section.find("</tbody>").unwrap()];
        let cells: Vec<usize> = table
            .split("<td class=\"num\">")
            .skip(1)
            .filter_map(|c| c[..c.find('<').unwrap()].parse().ok())
            .collect();
        let counted = cells[0];
        assert_eq!(
            cells[1..5].iter().sum::<usize>(),
            counted,
            "{}",
            path.display()
        );
        let note = section.split("</section>").next().unwrap();
        let excluded: usize = note
            .find("Tested but not counted: ")
            .map(|at| {
                note[at + 24..note[at..].find('.').unwrap() + at]
                    .split("; ")
                    .map(|part| part.split(' ').next().unwrap().parse::<usize>().unwrap())
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(counted + excluded, takers.len(), "{}", path.display());
        checked += 1;
    }
    assert!(checked > 0, "a group page with English Learner Progress");
}

/// The Target report follows RDW: mathematics targets are Claim 1's only,
/// and a group with fewer students with target scores than the setting
/// (default 50) gets a note instead of results.
#[test]
fn target_reports_follow_rdw_rules() {
    use scoresite::render::analysis;
    let (_, data) = built();
    let mut diags = scoresite::diag::Diagnostics::default();
    let v = scoresite::pipeline::load(data, &mut diags).expect("loads");
    let dep = &v.deployment;
    assert_eq!(dep.settings.target_report_min_students, 50);
    let family = |id: &str| dep.catalog.family(id).unwrap();
    let math = family("sb_math_summative");
    let exams_of = |f: usize| -> Vec<usize> {
        (0..dep.data.exams.len())
            .filter(|&e| {
                let x = &dep.data.exams[e];
                dep.data.assessments[x.assessment as usize].family == f
                    && dep.data.details.contains_key(&e)
            })
            .collect()
    };
    let all = exams_of(math);
    // The TRT files carry targets of every mathematics claim...
    let claims: BTreeSet<&str> = all
        .iter()
        .flat_map(|e| &dep.data.details[e].targets)
        .map(|t| dep.data.strings.get(t.target).split('|').next().unwrap())
        .collect();
    assert!(claims.len() > 1, "{claims:?}");
    // ...and the report shows Claim 1's.
    let fam = &dep.catalog.families[math];
    let a = analysis::analysis(dep, fam, &all).unwrap();
    let claim1 = &fam.claims.as_ref().unwrap().items[0].name;
    assert!(!a.targets.is_empty() && a.targets.iter().all(|t| &t.claim == claim1));
    assert!(a.math && a.target_n >= 50 && !a.too_few);
    let few = analysis::analysis(dep, fam, &all[..all.len().min(20)]).unwrap();
    assert!(few.too_few && few.target_n < 50);
    // ELA keeps every claim's targets.
    let ela = &dep.catalog.families[family("sb_ela_summative")];
    let a = analysis::analysis(dep, ela, &exams_of(family("sb_ela_summative"))).unwrap();
    let shown: BTreeSet<&str> = a.targets.iter().map(|t| t.claim.as_str()).collect();
    assert!(shown.len() > 1 && !a.math);
}
