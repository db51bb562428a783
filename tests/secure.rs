//! The secure build: an isolation matrix over every file of the output,
//! decrypted with each user's credentials, a leak scan of the whole output,
//! and the CLI's enrollment, refusal and logon behaviour.
//!
//! The fixture is a small generated deployment (300 students) with six
//! users written for the purpose: a teacher with one group, a teacher with
//! two groups of which one is Math-only, a school admin, a district admin,
//! an aggregate reporter, and a user removed before the rebuild.

mod common;

use age::secrecy::SecretString;
use common::{ok, run as scoresite};
use scoresite::open::Session;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const PASS: &str = "correct horse battery staple";

/// Enrols `email` in the deployment `dep` with the test passphrase.
fn enrol(dep: &str, email: &str, grants: &[String]) {
    let mut args = vec![
        "users",
        "add",
        "--email",
        email,
        "--password-stdin",
        "--deployment",
        dep,
    ];
    for g in grants {
        args.extend(["--grant", g.as_str()]);
    }
    ok(&args, Some(&format!("{PASS}\n")));
}

/// `scoresite open --list` on `site` as `email` with `pass` on stdin.
fn open_list(site: &Path, email: &str, pass: &str) -> std::process::Output {
    let s = site.to_str().unwrap();
    scoresite(
        &[
            "open",
            "--site",
            s,
            "--email",
            email,
            "--password-stdin",
            "--list",
        ],
        Some(pass),
    )
}

/// The stdout of a successful run.
fn listed(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A group of the groups file: (name, school, year).
type GroupKey = (String, String, String);

struct Fixture {
    _dir: tempfile::TempDir,
    dep: PathBuf,
    export: Vec<BTreeMap<String, String>>,
    rosters: BTreeMap<GroupKey, (String, BTreeSet<String>)>,
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let dep = dir.path().join("lea");
    let d = dep.to_str().unwrap();
    ok(
        &[
            "sandbox",
            "--emit-data",
            d,
            "--students",
            "300",
            "--seed",
            "3",
        ],
        None,
    );
    let export = read_csv(&dep.join("data/cers_export.csv"));
    let mut rosters: BTreeMap<GroupKey, (String, BTreeSet<String>)> = BTreeMap::new();
    for row in read_csv(&dep.join("data/groups.csv")) {
        let key = (
            row["group_name"].clone(),
            row["school_natural_id"].clone(),
            row["school_year"].clone(),
        );
        let entry = rosters.entry(key).or_default();
        if !row["subject_code"].is_empty() {
            entry.0 = row["subject_code"].clone();
        }
        if !row["student_ssid"].is_empty() {
            entry.1.insert(row["student_ssid"].clone());
        }
    }
    Fixture {
        _dir: dir,
        dep,
        export,
        rosters,
    }
}

/// SSIDs with at least one result among `rows`.
fn tested<'a>(rows: impl Iterator<Item = &'a BTreeMap<String, String>>) -> BTreeSet<String> {
    rows.map(|r| r["StudentIdentifier"].clone()).collect()
}

/// Every 10-digit run in `text` that is a known SSID.
fn ssids(text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() == 10 && known.contains(*r))
        .map(String::from)
        .collect()
}

fn stored_files(site: &Path) -> Vec<String> {
    walkdir::WalkDir::new(site)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(site)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// What one user read: the stored files that opened, and their text.
struct Reading {
    opened: BTreeSet<String>,
    text: BTreeMap<String, String>,
}

fn read_all(site: &Path, email: &str) -> (Session, Reading) {
    let session = Session::logon(site, email, &SecretString::from(PASS.to_string())).unwrap();
    let mut reading = Reading {
        opened: BTreeSet::new(),
        text: BTreeMap::new(),
    };
    for f in stored_files(site)
        .into_iter()
        .filter(|f| f.starts_with("d/"))
    {
        if let Some(bytes) = session.open_stored(&f) {
            reading
                .text
                .insert(f.clone(), String::from_utf8(bytes).unwrap());
            reading.opened.insert(f);
        }
    }
    (session, reading)
}

#[test]
fn each_user_reads_exactly_what_their_grants_allow() {
    let fx = fixture();
    let d = fx.dep.to_str().unwrap();
    let known: BTreeSet<String> = tested(fx.export.iter());
    let latest = fx.rosters.keys().map(|k| k.2.clone()).max().unwrap();
    // Teacher 1: one all-subject group with tested students.
    let (g1, (_, roster1)) = fx
        .rosters
        .iter()
        .find(|(k, (subject, r))| {
            k.2 == latest && subject == "All" && r.iter().any(|s| known.contains(s))
        })
        .unwrap();
    // Teacher 2: another all-subject group and a Math group.
    let (g2, (_, roster2)) = fx
        .rosters
        .iter()
        .find(|(k, (subject, r))| *k != g1 && subject == "All" && r.len() > 5)
        .unwrap();
    let (g3, (_, roster3)) = fx
        .rosters
        .iter()
        .find(|(_, (subject, r))| {
            subject == "Math" && r.difference(roster2).any(|s| known.contains(s))
        })
        .unwrap();
    // Assign the new logins, each row beside its group's rows (RDW keeps a
    // group's rows together).
    let path = fx.dep.join("data/groups.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    for (g, login) in [
        (g1, "t1@fixture.example"),
        (g2, "t2@fixture.example"),
        (g3, "t2@fixture.example"),
    ] {
        let prefix = format!("{},{},{},", g.0, g.1, g.2);
        let last = lines.iter().rposition(|l| l.starts_with(&prefix)).unwrap();
        lines.insert(last + 1, format!("{prefix},,{login}"));
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let school = fx.export.iter().find(|r| r["SchoolId"] != g1.1).unwrap()["SchoolId"].clone();
    let lea_id = "9900001";
    enrol(d, "t1@fixture.example", &[format!("teacher:{}", g1.1)]);
    enrol(
        d,
        "t2@fixture.example",
        &[format!("teacher:{}", g2.1), format!("teacher:{}", g3.1)],
    );
    enrol(
        d,
        "principal@fixture.example",
        &[format!("school_admin:{school}")],
    );
    enrol(
        d,
        "coordinator@fixture.example",
        &[format!("district_admin:{lea_id}")],
    );
    enrol(
        d,
        "reporter@fixture.example",
        &[format!("aggregate_reporter:lea:{lea_id}")],
    );
    enrol(
        d,
        "leaver@fixture.example",
        &[format!("school_admin:{school}")],
    );

    // Build 1, and what the leaver could read in it.
    let site1 = fx.dep.parent().unwrap().join("site1");
    ok(&["build", d, "--out", site1.to_str().unwrap()], None);
    let (_, leaver_before) = read_all(&site1, "leaver@fixture.example");
    assert!(!leaver_before.opened.is_empty());
    let old_credential = std::fs::read_dir(site1.join("credentials"))
        .unwrap()
        .count();
    assert_eq!(old_credential, 6);

    // The leaver is removed; build 2 replaces the site.
    ok(
        &[
            "users",
            "remove",
            "--email",
            "leaver@fixture.example",
            "--deployment",
            d,
        ],
        None,
    );
    let site = fx.dep.parent().unwrap().join("site");
    ok(&["build", d, "--out", site.to_str().unwrap()], None);
    let files = stored_files(&site);

    // A group shows its school year and the years before it.
    let through = |group: &GroupKey| -> BTreeSet<String> {
        tested(fx.export.iter().filter(|r| r["SchoolYear"] <= group.2))
    };
    let expect_students = |email: &str| -> BTreeSet<String> {
        match email {
            "t1@fixture.example" => roster1.intersection(&through(g1)).cloned().collect(),
            "t2@fixture.example" => {
                let math = tested(fx.export.iter().filter(|r| {
                    r["Subject"] == "Math"
                        && r["SchoolYear"] <= g3.2
                        && roster3.contains(&r["StudentIdentifier"])
                }));
                roster2
                    .intersection(&through(g2))
                    .cloned()
                    .chain(math)
                    .collect()
            }
            "principal@fixture.example" => {
                tested(fx.export.iter().filter(|r| r["SchoolId"] == school))
            }
            "coordinator@fixture.example" => known.clone(),
            _ => BTreeSet::new(),
        }
    };
    let mut opened_by: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for email in [
        "t1@fixture.example",
        "t2@fixture.example",
        "principal@fixture.example",
        "coordinator@fixture.example",
        "reporter@fixture.example",
    ] {
        let (session, reading) = read_all(&site, email);
        // Page names come from what pages show: the rebuild (with a user
        // removed, and fresh keys) names every page as the first build did.
        let before = Session::logon(&site1, email, &SecretString::from(PASS.to_string())).unwrap();
        assert_eq!(
            before.paths().unwrap(),
            session.paths().unwrap(),
            "{email}: the same pages under the same names in both builds"
        );
        // What opens is exactly what the user's manifests list.
        let listed: BTreeSet<String> = session
            .paths()
            .unwrap()
            .iter()
            .map(|p| {
                let text = String::from_utf8(session.page(p).unwrap()).unwrap();
                assert_eq!(Some(&text), reading.text.get(&session.stored_name(p)));
                session.stored_name(p)
            })
            .collect();
        let pages: BTreeSet<String> = reading
            .opened
            .iter()
            .filter(|f| !is_manifest(&reading, f))
            .cloned()
            .collect();
        assert_eq!(listed, pages, "{email}: files that open = files listed");
        let seen: BTreeSet<String> = reading
            .text
            .values()
            .flat_map(|t| ssids(t, &known))
            .collect();
        let want = expect_students(email);
        assert_eq!(
            seen.difference(&want).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{email} sees students outside their grants"
        );
        assert_eq!(
            want.difference(&seen).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{email} misses students their grants allow"
        );
        opened_by.insert(email, reading.opened);
        if email == "coordinator@fixture.example" {
            // The District/School Export, streamed into its sealed page as
            // it is written, opens whole: one row per exam of its year.
            let exports: Vec<String> = session
                .paths()
                .unwrap()
                .into_iter()
                .filter(|p| p.contains("/export-"))
                .collect();
            assert!(!exports.is_empty());
            for p in exports {
                let text = String::from_utf8(session.read(&p).unwrap()).unwrap();
                let year = &p[p.len() - 8..p.len() - 4];
                let rows = fx.export.iter().filter(|r| r["SchoolYear"] == year);
                assert_eq!(text.lines().count() - 1, rows.count(), "{p}");
                assert!(text.starts_with("\u{feff}\"DistrictId\""), "{p}");
            }
        }
        if email == "t2@fixture.example" {
            // Students only in the Math group show Math results only.
            let math_only: BTreeSet<&String> = roster3
                .difference(roster2)
                .filter(|s| known.contains(*s))
                .collect();
            for t in session
                .paths()
                .unwrap()
                .iter()
                .filter(|p| p.starts_with("r/"))
            {
                let text = String::from_utf8(session.read(t).unwrap()).unwrap();
                if math_only
                    .iter()
                    .any(|s| text.contains(&format!("SSID {s}")))
                {
                    for other in ["ELA Summative", "CAST", "ELPAC"] {
                        assert!(
                            !text.contains(other),
                            "{t}: a Math-only student's {other} result"
                        );
                    }
                }
            }
        }
    }
    // Everything sealed is readable by someone, and the aggregate reporter
    // reads no student page.
    let any: BTreeSet<&String> = opened_by.values().flatten().collect();
    assert_eq!(
        any.len(),
        files.iter().filter(|f| f.starts_with("d/")).count()
    );
    assert!(opened_by["reporter@fixture.example"]
        .iter()
        .all(|f| !opened_by["t1@fixture.example"].contains(f)));

    // The leaver: no credential any more, and their old keys open nothing new.
    let out = open_list(&site, "leaver@fixture.example", PASS);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown email or wrong passphrase"));
    let old = Session::logon(
        &site1,
        "leaver@fixture.example",
        &SecretString::from(PASS.to_string()),
    )
    .unwrap();
    for f in files
        .iter()
        .filter(|f| f.starts_with("d/") || f.starts_with("grants/"))
    {
        let bytes = std::fs::read(site.join(f)).unwrap();
        let copy = site1.join("leaver-probe");
        std::fs::write(&copy, bytes).unwrap();
        assert!(
            old.open_stored("leaver-probe").is_none(),
            "the removed user's old keys open {f}"
        );
    }
    assert!(leaver_before.opened.len() > 10);
}

fn is_manifest(reading: &Reading, f: &str) -> bool {
    reading.text[f].starts_with("[\"")
}

#[test]
fn no_student_school_or_group_name_in_plaintext() {
    let fx = fixture();
    let d = fx.dep.to_str().unwrap();
    enrol(d, "coordinator@sandbox-usd.example", &[]);
    let site = fx.dep.parent().unwrap().join("site");
    ok(&["build", d, "--out", site.to_str().unwrap()], None);
    let mut needles: BTreeSet<String> = BTreeSet::new();
    for r in &fx.export {
        needles.insert(r["StudentIdentifier"].clone());
        needles.insert(format!("{}, {}", r["LastOrSurname"], r["FirstName"]));
        needles.insert(format!("{} {}", r["FirstName"], r["LastOrSurname"]));
        needles.insert(r["SchoolName"].clone());
    }
    for (name, _, _) in fx.rosters.keys() {
        needles.insert(name.clone());
    }
    needles.retain(|n| n.len() >= 6);
    assert!(needles.len() > 300);
    for f in stored_files(&site) {
        let bytes = std::fs::read(site.join(&f)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for n in &needles {
            assert!(!f.contains(n.as_str()), "{f}: file name holds `{n}`");
            assert!(!text.contains(n.as_str()), "{f} holds `{n}` in plaintext");
        }
    }
    // The coordinator can read it all back.
    let list = listed(open_list(&site, "COORDINATOR@sandbox-usd.example", PASS));
    assert!(list.lines().any(|l| l.starts_with("r/")));
    // The file-name key is only in the grants: an outsider cannot label the
    // stored files with their page paths.
    let session = Session::logon(
        &site,
        "coordinator@sandbox-usd.example",
        &SecretString::from(PASS.to_string()),
    )
    .unwrap();
    assert_eq!(session.grant.names.len(), 64);
    let site_json = std::fs::read_to_string(site.join("site.json")).unwrap();
    assert!(!site_json.contains("names"), "{site_json}");
    for f in stored_files(&site) {
        let text = String::from_utf8_lossy(&std::fs::read(site.join(&f)).unwrap()).into_owned();
        assert!(
            !text.contains(&session.grant.names),
            "{f} holds the file-name key"
        );
    }
}

#[test]
fn build_refuses_bad_or_unenrolled_deployments_and_keeps_the_old_site() {
    let fx = fixture();
    let d = fx.dep.to_str().unwrap();
    let site = fx.dep.parent().unwrap().join("site");
    let s = site.to_str().unwrap();
    let out = scoresite(&["build", d, "--out", s], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user"));
    assert!(!site.exists(), "nothing written");
    enrol(d, "coordinator@sandbox-usd.example", &[]);
    ok(&["build", d, "--out", s], None);
    let before = stored_files(&site).len();
    // Break the export: the build fails with file and line, and the old site stays.
    let export = fx.dep.join("data/cers_export.csv");
    let mut text = std::fs::read_to_string(&export).unwrap();
    text.push_str("\"not\",\"a\",\"row\"\r\n");
    std::fs::write(&export, text).unwrap();
    let out = scoresite(&["build", d, "--out", s], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cers_export.csv:"), "{err}");
    assert_eq!(stored_files(&site).len(), before);
    assert!(site.join("site.json").exists());
}

#[test]
fn enrollment_generates_or_reads_passphrases_and_never_takes_them_from_argv() {
    let fx = fixture();
    let d = fx.dep.to_str().unwrap();
    let out = ok(
        &[
            "users",
            "add",
            "--email",
            "new@fixture.example",
            "--grant",
            "school_admin:6900001",
            "--deployment",
            d,
        ],
        None,
    );
    let pass = out
        .lines()
        .find_map(|l| l.split(": ").nth(1).filter(|p| p.split('-').count() == 6))
        .unwrap();
    let users = std::fs::read_to_string(fx.dep.join("users.yaml")).unwrap();
    assert!(users.contains("new@fixture.example") && users.contains("recipient: age1"));
    assert!(!users.contains(pass));
    for f in walkdir::WalkDir::new(&fx.dep)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
    {
        let bytes = std::fs::read(f.path()).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(pass),
            "{} holds the passphrase",
            f.path().display()
        );
    }
    // Enrolling twice is refused; a short passphrase on stdin is refused.
    let again = scoresite(
        &[
            "users",
            "add",
            "--email",
            "new@fixture.example",
            "--grant",
            "school_admin:6900001",
            "--password-stdin",
            "--deployment",
            d,
        ],
        Some(PASS),
    );
    assert!(!again.status.success());
    let short = scoresite(
        &[
            "users",
            "add",
            "--email",
            "x@fixture.example",
            "--grant",
            "school_admin:6900001",
            "--password-stdin",
            "--deployment",
            d,
        ],
        Some("short\n"),
    );
    assert!(!short.status.success());
    // There is no way to pass a passphrase as an argument.
    let argv = scoresite(
        &[
            "users",
            "add",
            "--email",
            "y@fixture.example",
            "--grant",
            "school_admin:6900001",
            "--password",
            PASS,
            "--deployment",
            d,
        ],
        None,
    );
    assert!(!argv.status.success());
    // passwd replaces the identity: the new passphrase works, the old one not.
    let site = fx.dep.parent().unwrap().join("site");
    ok(&["build", d, "--out", site.to_str().unwrap()], None);
    listed(open_list(&site, "new@fixture.example", pass));
    ok(
        &[
            "users",
            "passwd",
            "--email",
            "new@fixture.example",
            "--password-stdin",
            "--deployment",
            d,
        ],
        Some("a brand new passphrase\n"),
    );
    ok(&["build", d, "--out", site.to_str().unwrap()], None);
    let old = open_list(&site, "new@fixture.example", pass);
    assert!(!old.status.success());
    listed(open_list(
        &site,
        "new@fixture.example",
        "a brand new passphrase",
    ));
}

/// Two LEAs that both have a SchoolId 300: each district administrator, the
/// North principal and each teacher read only their own students.
#[test]
fn district_admins_of_lea_sharing_a_school_id_read_only_their_own() {
    let dir = common::copy_fixture("districts");
    let d = dir.path().to_str().unwrap();
    let users = [
        "north.coordinator@north.example",
        "south.coordinator@south.example",
        "north.principal@north.example",
        "north.teacher@north.example",
        "south.teacher@south.example",
    ];
    for email in users {
        enrol(d, email, &[]);
    }
    let site = dir.path().join("site");
    ok(&["build", d, "--out", site.to_str().unwrap()], None);
    let set = |s: &[&str]| -> BTreeSet<String> { s.iter().map(|x| x.to_string()).collect() };
    let north = set(&["2000000001", "2000000002", "2000000003"]);
    let south = set(&["3000000001", "3000000002"]);
    let known: BTreeSet<String> = north.union(&south).cloned().collect();
    for email in users {
        let (_, reading) = read_all(&site, email);
        assert!(!reading.opened.is_empty(), "{email} reads nothing");
        let seen: BTreeSet<String> = reading
            .text
            .values()
            .flat_map(|t| ssids(t, &known))
            .collect();
        // The teachers' groups are ELA groups: their Math-only students show no result.
        let want = match email {
            "north.coordinator@north.example" => north.clone(),
            "south.coordinator@south.example" => south.clone(),
            "north.principal@north.example" => set(&["2000000001", "2000000002"]),
            "north.teacher@north.example" => set(&["2000000001"]),
            _ => set(&["3000000001"]),
        };
        assert_eq!(seen, want, "{email}");
        let text: String = reading.text.values().cloned().collect();
        let (own, other) = if email.contains("north") {
            ("Redwood High", "Cedar High")
        } else {
            ("Cedar High", "Redwood High")
        };
        assert!(text.contains(own), "{email} misses {own}");
        assert!(!text.contains(other), "{email} reads {other}");
    }
    // A reader that stops reading (`open --list | head`) ends it quietly.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scoresite"))
        .args(["open", "--site", site.to_str().unwrap(), "--email"])
        .args([
            "north.coordinator@north.example",
            "--password-stdin",
            "--list",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), PASS.as_bytes()).unwrap();
    let closed = child.wait_with_output().unwrap();
    assert!(
        closed.status.success() && closed.stderr.is_empty(),
        "{:?}: {}",
        closed.status,
        String::from_utf8_lossy(&closed.stderr)
    );
    // An audit copy: everything one user reads, decrypted into a private folder.
    let audit = dir.path().join("audit");
    let out = ok(
        &[
            "open",
            "--site",
            site.to_str().unwrap(),
            "--email",
            "north.coordinator@north.example",
            "--password-stdin",
            "--out",
            audit.to_str().unwrap(),
        ],
        Some(PASS),
    );
    assert!(out.starts_with("Decrypted "), "{out}");
    let files = stored_files(&audit);
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("index.html") && f.starts_with("b/")),
        "{files:?}"
    );
    assert!(audit.join("assets/site.css").exists());
    let text: String = files
        .iter()
        .filter(|f| f.ends_with(".html") && !f.starts_with("help/"))
        .map(|f| std::fs::read_to_string(audit.join(f)).unwrap())
        .collect();
    assert!(text.contains("Redwood High") && text.contains("2000000003"));
    assert!(!text.contains("Cedar High") && !text.contains("3000000001"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777,
        0o700
    );
}

/// `build` hands browsers only credentials at work factor 18 that are the
/// ones `users.yaml` records: a credential re-sealed at another factor, or
/// left behind by an interrupted `users passwd`, stops the build by name.
#[test]
fn build_refuses_credentials_at_other_work_factors_or_out_of_step() {
    let dir = common::copy_fixture("districts");
    let d = dir.path().to_str().unwrap();
    let email = "north.coordinator@north.example";
    enrol(d, email, &[]);
    let enrollment = scoresite::users::Enrollment::at(dir.path());
    let salt = enrollment.existing_salt().unwrap().unwrap();
    let credential = enrollment.credential_path(&salt, email);
    assert!(credential.exists(), "{}", credential.display());
    let site = dir.path().join("site");
    let s = site.to_str().unwrap();
    ok(&["build", d, "--out", s], None);

    // An interrupted passwd: users.yaml records a credential that is not there.
    let users = dir.path().join("users.yaml");
    let text = std::fs::read_to_string(&users).unwrap();
    let recorded = scoresite::seal::fingerprint(&std::fs::read(&credential).unwrap());
    std::fs::write(&users, text.replace(&recorded, &"0".repeat(64))).unwrap();
    let out = scoresite(&["build", d, "--out", s], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{email}: the credential file is not the one users.yaml records"
        )),
        "{err}"
    );
    std::fs::write(&users, text).unwrap();

    // The same identity re-sealed at work factor 10.
    let secret = SecretString::from(PASS.to_string());
    let identity =
        scoresite::seal::open_with_passphrase(&std::fs::read(&credential).unwrap(), &secret)
            .unwrap();
    let mut recipient = age::scrypt::Recipient::new(secret);
    recipient.set_work_factor(10);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).unwrap();
    let mut sealed = Vec::new();
    let mut w = encryptor.wrap_output(&mut sealed).unwrap();
    std::io::Write::write_all(&mut w, &identity).unwrap();
    w.finish().unwrap();
    std::fs::write(&credential, &sealed).unwrap();
    let out = scoresite(&["build", d, "--out", s], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{email}: the credential is sealed with scrypt work factor 10; expected 18"
        )),
        "{err}"
    );
    assert!(site.join("site.json").exists(), "the old site stays");
}

/// A generated passphrase is printed only once the enrolment has succeeded.
#[test]
fn a_generated_passphrase_is_shown_only_after_success() {
    let dir = common::copy_fixture("districts");
    let d = dir.path().to_str().unwrap();
    let out = scoresite(
        &[
            "users",
            "add",
            "--email",
            "new@north.example",
            "--deployment",
            d,
        ],
        None,
    );
    assert!(!out.status.success(), "no grants: refused");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("Passphrase"), "{stdout}");
}

/// `--out` never deletes what is not a scoresite output: the deployment
/// itself (even with --force), or a folder of other files without --force.
#[test]
fn out_over_the_deployment_or_other_files_is_refused() {
    let dir = common::copy_fixture("districts");
    let d = dir.path().to_str().unwrap();
    enrol(d, "north.coordinator@north.example", &[]);
    let out = scoresite(&["build", d, "--out", d, "--force"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds the deployment"), "{err}");
    assert!(dir.path().join("data/export.csv").exists());
    assert!(dir.path().join("credentials/salt").exists());

    let other = dir.path().parent().unwrap().join(format!(
        "{}-docs",
        dir.path().file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep me").unwrap();
    let o = other.to_str().unwrap();
    let out = scoresite(&["build", d, "--out", o], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a previous scoresite output"));
    assert!(other.join("notes.txt").exists());
    // A previous scoresite output is replaced without --force.
    ok(&["build", d, "--out", o, "--force"], None);
    ok(&["build", d, "--out", o], None);
    assert!(other.join(".scoresite-output").exists() && !other.join("notes.txt").exists());
    std::fs::remove_dir_all(&other).unwrap();
}

/// An enrolment file from the browser is enrolled only for its own email and
/// only when sealed at work factor 18; a good one logs on after a build.
#[test]
fn self_service_enrolment_files_are_checked_and_enrolled() {
    let dir = common::copy_fixture("districts");
    let d = dir.path().to_str().unwrap();
    let email = "south.coordinator@south.example";
    let identity = age::x25519::Identity::generate();
    let file = |factor: u8, who: &str| -> std::path::PathBuf {
        let mut recipient = age::scrypt::Recipient::new(SecretString::from(PASS.to_string()));
        recipient.set_work_factor(factor);
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).unwrap();
        let mut sealed = Vec::new();
        let mut w = encryptor.wrap_output(&mut sealed).unwrap();
        use age::secrecy::ExposeSecret;
        std::io::Write::write_all(&mut w, identity.to_string().expose_secret().as_bytes()).unwrap();
        w.finish().unwrap();
        let path = dir.path().join(format!("enrol-{factor}-{who}.json"));
        let json = serde_json::json!({
            "version": 1,
            "email": who,
            "recipient": identity.to_public().to_string(),
            "credential": scoresite::seal::hex(&sealed),
        });
        std::fs::write(&path, json.to_string()).unwrap();
        path
    };
    let add = |path: &std::path::Path| {
        scoresite(
            &[
                "users",
                "add",
                "--email",
                email,
                "--credential",
                path.to_str().unwrap(),
                "--deployment",
                d,
            ],
            None,
        )
    };
    let out = add(&file(18, "someone.else@south.example"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("is the enrolment of someone.else@south.example"));
    let out = add(&file(10, email));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("work factor 10; expected 18"));
    let out = add(&file(18, email));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Passphrase"));
    let site = dir.path().join("site");
    ok(&["build", d, "--out", site.to_str().unwrap()], None);
    let list = listed(open_list(&site, email, PASS));
    assert!(list.lines().any(|l| l.ends_with("index.html")), "{list}");
}

/// `users import` enrols many users from a CSV: a bad file enrols nobody and
/// names each bad cell; a good one enrols everyone not enrolled yet, each
/// passphrase going to an owner-only file; run again it enrols nobody; and
/// an imported user logs on to the built site with the passphrase from it.
#[test]
fn users_import_enrols_in_bulk_and_resumes() {
    let dir = common::copy_fixture("districts");
    let d = dir.path().to_str().unwrap();
    enrol(d, "north.coordinator@north.example", &[]);
    let users_before = std::fs::read_to_string(dir.path().join("users.yaml")).unwrap();
    let csv = dir.path().join("import.csv");
    let passes = dir.path().join("passphrases.csv");
    let p = passes.to_str().unwrap();
    std::fs::write(
        &csv,
        "email,name,grants\nnot-an-email,Ann,teacher:1111111/300\nann@north.example,Ann,teacher\n",
    )
    .unwrap();
    let out = scoresite(
        &[
            "users",
            "import",
            csv.to_str().unwrap(),
            "--passphrases",
            p,
            "--deployment",
            d,
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("import.csv:2:1: `not-an-email` is not an email address"),
        "{stderr}"
    );
    assert!(stderr.contains("import.csv:3:3: "), "{stderr}");
    assert!(!passes.exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("users.yaml")).unwrap(),
        users_before
    );

    std::fs::write(
        &csv,
        "email,name,grants\n\
         North.Coordinator@north.example,,district_admin:1111111\n\
         north.principal@north.example,Pat Principal,school_admin:1111111/300\n\
         new.teacher@north.example,Nia Teacher,teacher:1111111/300;teacher:1111111/300\n",
    )
    .unwrap();
    let args = [
        "users",
        "import",
        csv.to_str().unwrap(),
        "--passphrases",
        p,
        "--deployment",
        d,
    ];
    let stdout = ok(&args, None);
    assert!(
        stdout.contains("Enrolled 2 users (1 already enrolled)"),
        "{stdout}"
    );
    assert!(!stdout.contains("correct horse"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&passes).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let lines: Vec<(String, String)> = std::fs::read_to_string(&passes)
        .unwrap()
        .lines()
        .map(|l| {
            let (e, p) = l.split_once(',').unwrap();
            (e.to_string(), p.to_string())
        })
        .collect();
    let emails: Vec<&str> = lines.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        emails,
        ["north.principal@north.example", "new.teacher@north.example"]
    );
    let users = std::fs::read_to_string(dir.path().join("users.yaml")).unwrap();
    assert!(users.contains("Nia Teacher") && users.contains("teacher:1111111/300"));

    // Again: everyone is enrolled, and the passphrase file is untouched.
    let again = ok(&args, None);
    assert!(
        again.contains("Enrolled 0 users (3 already enrolled)"),
        "{again}"
    );
    assert_eq!(std::fs::read_to_string(&passes).unwrap().lines().count(), 2);

    // An imported user logs on to the built site and reads their school.
    let site = dir.path().join("site");
    ok(&["build", d, "--out", site.to_str().unwrap()], None);
    let (_, pass) = &lines[0];
    let session = Session::logon(
        &site,
        "north.principal@north.example",
        &SecretString::from(pass.clone()),
    )
    .unwrap();
    assert!(!session.paths().unwrap().is_empty());
}

#[test]
fn oneroster_staff_are_enrolled_at_their_orgs() {
    let dir = common::copy_fixture("oneroster");
    let d = dir.path().to_str().unwrap();
    let sis = dir.path().join("data/sis");
    let users_csv = sis.join("users.csv");
    let original = std::fs::read_to_string(&users_csv).unwrap();
    let passes = dir.path().join("passphrases.csv");
    let args = |path: &Path| -> Vec<String> {
        [
            "users",
            "import",
            path.to_str().unwrap(),
            "--passphrases",
            passes.to_str().unwrap(),
            "--deployment",
            d,
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |path: &Path| {
        let a = args(path);
        scoresite(&a.iter().map(String::as_str).collect::<Vec<_>>(), None)
    };

    // A teacher with no email address: named by line and column, nothing enrolled.
    std::fs::write(
        &users_csv,
        format!("{original}u-t4,,,true,org-oak,teacher,nomail,,No,Mail,,T400,,,,,,\n"),
    )
    .unwrap();
    let out = run(&sis);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("users.csv:8:13: error: user `u-t4` (teacher) has no email address"),
        "{stderr}"
    );
    assert!(!passes.exists());

    // An administrator of the school and the district, a disabled teacher
    // and a guardian.
    std::fs::write(
        &users_csv,
        format!(
            "{original}\
             u-a1,,,true,\"org-oak,org-lea\",administrator,pat.park@oakvalley.example,,Pat,Park,,A1,,,,,,\n\
             u-t3,,,false,org-oak,teacher,gone,,Gone,Away,,T300,gone@oakvalley.example,,,,,\n\
             u-g1,,,true,org-oak,guardian,parent1,,Par,Ent,,G1,parent@home.example,,,,,\n"
        ),
    )
    .unwrap();
    let stdout = ok(
        &args(&sis).iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    assert!(stdout.contains("Passed over 6 OneRoster users"), "{stdout}");
    assert!(
        stdout.contains("Enrolled 3 users (0 already enrolled)"),
        "{stdout}"
    );
    let users = std::fs::read_to_string(dir.path().join("users.yaml")).unwrap();
    for want in [
        "rivera@oakvalley.example",
        "Maria Rivera",
        "teacher:01611926000001",
        "school_admin:01611926000001",
        "district_admin:0161192",
        "Pat Park",
    ] {
        assert!(users.contains(want), "{want} in {users}");
    }
    assert!(!users.contains("gone@") && !users.contains("parent@"));
    // Again, from the users.csv: everyone is enrolled already.
    let again = ok(
        &args(&users_csv)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        None,
    );
    assert!(
        again.contains("Enrolled 0 users (3 already enrolled)"),
        "{again}"
    );

    // The administrator logs on to the built site and reads the district.
    let site = dir.path().join("site");
    ok(&["build", d, "--out", site.to_str().unwrap()], None);
    let pass = std::fs::read_to_string(&passes)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("pat.park@oakvalley.example,")
                .map(String::from)
        })
        .unwrap();
    let session = Session::logon(
        &site,
        "pat.park@oakvalley.example",
        &SecretString::from(pass),
    )
    .unwrap();
    let roles: Vec<&str> = session
        .grant
        .bundles
        .iter()
        .map(|b| b.role.as_str())
        .collect();
    assert!(
        roles.contains(&"District Administrator") && roles.contains(&"School Administrator"),
        "{roles:?}"
    );
}

/// Every sealed file of `site`, by name, with its bytes.
fn sealed_files(site: &Path) -> BTreeMap<String, Vec<u8>> {
    stored_files(site)
        .into_iter()
        .filter(|f| f.starts_with("d/"))
        .map(|f| {
            let bytes = std::fs::read(site.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// (pages kept, bundle keys kept) from `build`'s report.
fn kept(stdout: &str) -> (usize, usize) {
    let tail = stdout.split("; ").nth(1).expect(stdout);
    let words: Vec<&str> = tail.split_whitespace().collect();
    (words[0].parse().unwrap(), words[3].parse().unwrap())
}

/// The files and megabytes `build` reports the site holds.
fn site_size(stdout: &str) -> (String, String) {
    let words: Vec<&str> = stdout.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "files,").expect(stdout);
    (words[at - 1].to_string(), words[at + 1].to_string())
}

/// The pages not rendered again, from `build`'s report.
fn not_rendered(stdout: &str) -> usize {
    let tail = stdout.rsplit('(').next().expect(stdout);
    tail.split_whitespace().next().unwrap().parse().unwrap()
}

/// Each bundle's scope identity in `email`'s grant, by home page.
fn identities(site: &Path, email: &str) -> BTreeMap<String, String> {
    let s = Session::logon(site, email, &SecretString::from(PASS.to_string())).unwrap();
    s.grant
        .bundles
        .iter()
        .map(|b| (b.home.clone(), b.identity.clone()))
        .collect()
}

#[test]
fn rebuilds_keep_what_is_unchanged_and_rotate_what_a_leaver_held() {
    let fx = fixture();
    let d = fx.dep.to_str().unwrap();
    let (g1, _) = fx.rosters.iter().find(|(_, (_, r))| r.len() > 3).unwrap();
    let schools: BTreeSet<String> = fx.export.iter().map(|r| r["SchoolId"].clone()).collect();
    let school = schools.iter().find(|s| **s != g1.1).unwrap().clone();
    // Teacher 1's group is assigned by adding a row with their login.
    let path = fx.dep.join("data/groups.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let prefix = format!("{},{},{},", g1.0, g1.1, g1.2);
    let last = lines.iter().rposition(|l| l.starts_with(&prefix)).unwrap();
    lines.insert(last + 1, format!("{prefix},,t1@fixture.example"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    enrol(d, "t1@fixture.example", &[format!("teacher:{}", g1.1)]);
    enrol(
        d,
        "principal@fixture.example",
        &[format!("school_admin:{school}")],
    );
    enrol(
        d,
        "leaver@fixture.example",
        &[format!("school_admin:{school}")],
    );
    enrol(
        d,
        "coordinator@fixture.example",
        &["district_admin:9900001".to_string()],
    );
    let site = fx.dep.parent().unwrap().join("site");
    let s = site.to_str().unwrap();
    let build = || scoresite(&["build", d, "--out", s], None);

    // The first build seals everything, and says why.
    let first = build();
    assert!(first.status.success());
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("every page is sealed afresh: there is no state of an earlier build"),
        "{stderr}"
    );
    let before = sealed_files(&site);
    let first_size = site_size(&String::from_utf8_lossy(&first.stdout));
    let bundles = Session::logon(
        &site,
        "coordinator@fixture.example",
        &SecretString::from(PASS.to_string()),
    )
    .unwrap();
    let pages = bundles.paths().unwrap().len();

    // Nothing changed: the site is left as it is.
    let site_json = std::fs::read(site.join("site.json")).unwrap();
    let same = listed(build());
    assert!(same.contains("the site is up to date"), "{same}");
    assert_eq!(sealed_files(&site), before);
    assert_eq!(std::fs::read(site.join("site.json")).unwrap(), site_json);

    // An input that changes no page: every page is rendered again and keeps
    // its ciphertext; only the manifests are sealed again. The names key is
    // kept, so the site is updated in place: its folder of sealed files
    // stays, not a new one linked in.
    let folder =
        || std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(site.join("d")).unwrap());
    let folder_before = folder();
    std::fs::write(fx.dep.join("NOTES.txt"), "not an input of any page\n").unwrap();
    let again = listed(build());
    assert_eq!(folder(), folder_before, "the site is updated in place");
    let (reused, keys) = kept(&again);
    // The teacher's, the school's (principal and leaver) and the district's.
    assert_eq!(keys, 3, "{again}");
    // No part's fingerprint covers the new file: none is rendered again.
    assert!(not_rendered(&again) > pages / 2, "{again}");
    let after = sealed_files(&site);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    let changed = before.iter().filter(|(f, b)| after[*f] != **b).count();
    assert_eq!(
        changed, 3,
        "only the three bundles' manifests are sealed again"
    );
    assert_eq!(reused, before.len() - 3);
    assert!(reused >= pages);
    // The files it kept are counted at the sizes the state recorded.
    assert_eq!(site_size(&again), first_size, "{again}");

    // One result changes at one school: only the pages that show it change.
    // A student of another school, in none of teacher 1's groups, leaves:
    // their pages are deleted.
    let export = fx.dep.join("data/cers_export.csv");
    let text = std::fs::read_to_string(&export).unwrap();
    let row = fx
        .export
        .iter()
        .position(|r| r["SchoolId"] == g1.1 && !r["ScaleScore"].is_empty())
        .unwrap();
    let old = &fx.export[row];
    let new_score = (old["ScaleScore"].parse::<f64>().unwrap() + 1.0).to_string();
    let mut out_lines: Vec<String> = text.lines().map(String::from).collect();
    let line = &mut out_lines[row + 1];
    let quoted = format!("\"{}\"", old["ScaleScore"]);
    assert!(line.contains(&quoted), "{line}");
    *line = line.replacen(&quoted, &format!("\"{new_score}\""), 1);
    let leaver = fx
        .export
        .iter()
        .map(|r| &r["StudentIdentifier"])
        .find(|ssid| {
            let rows = fx
                .export
                .iter()
                .filter(|r| r["StudentIdentifier"] == **ssid);
            !fx.rosters[g1].1.contains(*ssid) && rows.clone().all(|r| r["SchoolId"] != g1.1)
        })
        .unwrap()
        .clone();
    let unless_leaver = |lines: Vec<String>| -> String {
        let kept: Vec<String> = lines
            .into_iter()
            .filter(|l| {
                !l.contains(&format!("\"{leaver}\"")) && !l.contains(&format!(",{leaver},"))
            })
            .collect();
        kept.join("\n") + "\n"
    };
    std::fs::write(&export, unless_leaver(out_lines)).unwrap();
    let groups = std::fs::read_to_string(&path).unwrap();
    let group_lines = groups.lines().map(String::from).collect();
    std::fs::write(&path, unless_leaver(group_lines)).unwrap();
    // The district's exports are stored as one part per school and year.
    let parts_before: Vec<(String, String)> = (bundles.paths().unwrap().into_iter())
        .filter(|p| p.starts_with("e/"))
        .map(|p| {
            let rows = String::from_utf8(bundles.page(&p).unwrap()).unwrap();
            (p, rows)
        })
        .collect();
    assert!(parts_before.len() >= schools.len(), "{parts_before:?}");
    let changed_run = listed(build());
    let (reused, _) = kept(&changed_run);
    let unrendered = not_rendered(&changed_run);
    assert!(
        unrendered > 0,
        "parts that did not change are not rendered: {changed_run}"
    );
    // The oracle: a build from scratch of the same deployment (same page
    // names key, no build state) gives every user the very same pages.
    let scratch = built_from_scratch(&fx.dep);
    for email in [
        "t1@fixture.example",
        "principal@fixture.example",
        "coordinator@fixture.example",
    ] {
        let pass = SecretString::from(PASS.to_string());
        let (a, b) = (
            Session::logon(&site, email, &pass).unwrap(),
            Session::logon(&scratch, email, &pass).unwrap(),
        );
        let paths = a.paths().unwrap();
        assert_eq!(paths, b.paths().unwrap(), "{email}: the same pages");
        for p in &paths {
            assert!(
                a.read(p).unwrap() == b.read(p).unwrap(),
                "{email}: {p} differs from a build from scratch"
            );
        }
    }
    let now = sealed_files(&site);
    assert_eq!(
        now.len(),
        sealed_files(&scratch).len(),
        "the site has as many sealed files as a build from scratch: none left of the student who left"
    );
    // A part that holds none of the changed rows keeps its ciphertext; the
    // part that holds the changed result is sealed again.
    let holds = |rows: &String, cell: &str| rows.contains(&format!("\"{cell}\""));
    let (changed, untouched): (Vec<_>, Vec<_>) = parts_before
        .iter()
        .partition(|(_, rows)| holds(rows, &g1.1) || holds(rows, &leaver));
    assert!(!untouched.is_empty() && !changed.is_empty());
    for (p, _) in untouched {
        let name = bundles.stored_name(p);
        assert_eq!(after.get(&name), now.get(&name), "{p} is sealed again");
    }
    let with_result = changed
        .iter()
        .find(|(_, rows)| rows.contains(&old["SubmitDateTime"]) && holds(rows, &old["ScaleScore"]))
        .expect("a part holds the changed result");
    let name = bundles.stored_name(&with_result.0);
    assert_ne!(
        after.get(&name),
        now.get(&name),
        "{} keeps its old rows",
        with_result.0
    );
    let resealed = now
        .iter()
        .filter(|(f, b)| after.get(*f) != Some(*b))
        .count();
    assert!(
        resealed > 3 && resealed * 5 < now.len(),
        "{resealed} of {} files sealed again",
        now.len()
    );
    assert_eq!(reused + resealed, now.len());
    let coordinator = Session::logon(
        &site,
        "coordinator@fixture.example",
        &SecretString::from(PASS.to_string()),
    )
    .unwrap();
    let ssid = &old["StudentIdentifier"];
    let shows_new = coordinator
        .paths()
        .unwrap()
        .iter()
        .filter(|p| p.starts_with("r/"))
        .any(|p| {
            let t = String::from_utf8(coordinator.read(p).unwrap()).unwrap();
            t.contains(&format!("SSID {ssid}")) && t.contains(&new_score)
        });
    assert!(
        shows_new,
        "the student's report shows the new score {new_score}"
    );

    // The leaver is removed: exactly the bundle they held gets a new key,
    // the file names change, and their old keys open nothing.
    let held_before = identities(&site, "principal@fixture.example");
    let others_before = [
        identities(&site, "t1@fixture.example"),
        identities(&site, "coordinator@fixture.example"),
    ];
    let old_leaver = Session::logon(
        &site,
        "leaver@fixture.example",
        &SecretString::from(PASS.to_string()),
    )
    .unwrap();
    let old_files = sealed_files(&site);
    ok(
        &[
            "users",
            "remove",
            "--email",
            "leaver@fixture.example",
            "--deployment",
            d,
        ],
        None,
    );
    let removed = listed(build());
    assert_eq!(kept(&removed).1, 2, "{removed}");
    let held_after = identities(&site, "principal@fixture.example");
    assert_eq!(
        held_before.keys().collect::<Vec<_>>(),
        held_after.keys().collect::<Vec<_>>()
    );
    for (home, key) in &held_before {
        assert_ne!(
            key, &held_after[home],
            "{home}: the leaver's bundle keeps its key"
        );
    }
    assert_eq!(others_before[0], identities(&site, "t1@fixture.example"));
    assert_eq!(
        others_before[1],
        identities(&site, "coordinator@fixture.example")
    );
    let new_files = sealed_files(&site);
    assert!(
        new_files.keys().all(|f| !old_files.contains_key(f)),
        "file names are new"
    );
    let probe = fx.dep.parent().unwrap().join("probe.age");
    for bytes in new_files.values() {
        std::fs::write(&probe, bytes).unwrap();
        assert!(
            old_leaver.open_stored("../probe.age").is_none(),
            "the leaver's old keys open a page"
        );
    }

    // A corrupted state: everything is sealed afresh, with a message.
    std::fs::write(fx.dep.join("credentials/build-state.age"), b"not a state").unwrap();
    let fresh = build();
    assert!(fresh.status.success());
    let stderr = String::from_utf8_lossy(&fresh.stderr);
    assert!(
        stderr.contains("sealed afresh: the build state does not open"),
        "{stderr}"
    );
    assert_eq!(kept(&String::from_utf8_lossy(&fresh.stdout)), (0, 0));
    assert!(!Session::logon(
        &site,
        "coordinator@fixture.example",
        &SecretString::from(PASS.to_string())
    )
    .unwrap()
    .paths()
    .unwrap()
    .is_empty());
    // Another output is built afresh too.
    let other = fx.dep.parent().unwrap().join("other");
    let elsewhere = scoresite(&["build", d, "--out", other.to_str().unwrap()], None);
    assert!(
        String::from_utf8_lossy(&elsewhere.stderr).contains("the build state describes the output")
    );
}

/// The site built from a copy of the deployment `dep` without what a build
/// keeps for the next (the build state and the parsed TRT documents), so
/// with the same page-name key: the oracle a rebuild must match.
fn built_from_scratch(dep: &Path) -> PathBuf {
    let kept_between_builds = |p: &Path| {
        p.ends_with("credentials/build-state.age") || p.ends_with("credentials/trt-cache.age")
    };
    let copy = dep.parent().unwrap().join("copy");
    for entry in walkdir::WalkDir::new(dep) {
        let entry = entry.unwrap();
        let to = copy.join(entry.path().strip_prefix(dep).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else if !kept_between_builds(entry.path()) {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    let scratch = dep.parent().unwrap().join("scratch");
    ok(
        &[
            "build",
            copy.to_str().unwrap(),
            "--out",
            scratch.to_str().unwrap(),
        ],
        None,
    );
    scratch
}

/// Every page `email` can read in `site`, by path.
fn pages_of(site: &Path, email: &str) -> BTreeMap<String, Vec<u8>> {
    let s = Session::logon(site, email, &SecretString::from(PASS.to_string())).unwrap();
    let paths = s.paths().unwrap();
    paths
        .into_iter()
        .map(|p| (p.clone(), s.read(&p).unwrap()))
        .collect()
}

#[test]
fn trt_parses_are_kept_sealed_and_a_changed_document_is_read_again() {
    let fx = fixture();
    let d = fx.dep.to_str().unwrap();
    let coordinator = "coordinator@fixture.example";
    enrol(d, coordinator, &["district_admin:9900001".to_string()]);
    // A file whose stamp is younger than two seconds is parsed but not
    // kept (it could change again with the same stamp): wait that out, so
    // that every document is kept.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let site = fx.dep.parent().unwrap().join("site");
    let s = site.to_str().unwrap();
    let build = || listed(scoresite(&["build", d, "--out", s], None));
    build();
    let before = pages_of(&site, coordinator);

    // The parses are sealed to the build identity: no SSID or name in
    // the clear, and every TRT document inside once opened.
    let cache = fx.dep.join("credentials/trt-cache.age");
    let sealed = std::fs::read(&cache).unwrap();
    assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
    let text = String::from_utf8_lossy(&sealed);
    for row in &fx.export {
        assert!(
            !text.contains(&row["StudentIdentifier"]),
            "an SSID in the clear"
        );
        assert!(!text.contains(&format!("\"{}\"", row["LastOrSurname"])));
    }
    let key = std::fs::read_to_string(fx.dep.join("credentials/build.key")).unwrap();
    let identity: age::x25519::Identity = key.trim().parse().unwrap();
    let opened = age::decrypt(&identity, &sealed).expect("opens with the build identity");
    let trt: Vec<PathBuf> = walkdir::WalkDir::new(fx.dep.join("data/trt"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    assert!(trt.len() > 100);
    let inside = |p: &PathBuf| {
        let name = p.to_str().unwrap().as_bytes();
        opened.windows(name.len()).any(|w| w == name)
    };
    assert!(trt.iter().all(inside), "every document is kept");

    // A rebuild whose TRT files did not change leaves the cache as it is.
    std::fs::write(fx.dep.join("NOTES.txt"), "read by no page\n").unwrap();
    build();
    assert!(
        std::fs::read(&cache).unwrap() == sealed,
        "the cache is written again"
    );

    // One document changes, its length unchanged: its item scores and
    // responses. The rebuild reads it again rather than take its old parse.
    let doc = trt
        .iter()
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("score=\"1\" scoreStatus")
        })
        .unwrap();
    let xml = std::fs::read_to_string(doc).unwrap();
    let changed = xml
        .replace("score=\"1\" scoreStatus", "score=\"0\" scoreStatus")
        .replace("<Response type=\"value\">B<", "<Response type=\"value\">D<");
    assert_eq!(changed.len(), xml.len());
    std::fs::write(doc, changed).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    build();
    let after = pages_of(&site, coordinator);
    assert!(
        before.iter().any(|(p, b)| after.get(p) != Some(b)),
        "the change shows on a page"
    );
    // The oracle: a build from scratch, with nothing kept.
    let scratch = built_from_scratch(&fx.dep);
    assert!(
        after == pages_of(&scratch, coordinator),
        "the same pages as a build from scratch"
    );

    assert!(
        std::fs::read(&cache).unwrap() != sealed,
        "the cache is not written again"
    );
    // A cache that does not open is parsed afresh and written again, and
    // what a killed build left of one is deleted.
    std::fs::write(&cache, b"not a cache").unwrap();
    let leftover = fx.dep.join("credentials/.trt-cache-killed");
    std::fs::write(&leftover, b"unfinished").unwrap();
    std::fs::write(fx.dep.join("NOTES.txt"), "read by no page, again\n").unwrap();
    build();
    assert!(after == pages_of(&site, coordinator));
    assert!(std::fs::read(&cache)
        .unwrap()
        .starts_with(b"age-encryption.org/v1\n"));
    assert!(!leftover.exists(), "a killed build's cache is left behind");
}

#[test]
fn losing_one_grant_rotates_that_bundle_in_place() {
    let fx = fixture();
    let d = fx.dep.to_str().unwrap();
    let schools: BTreeSet<String> = fx.export.iter().map(|r| r["SchoolId"].clone()).collect();
    let mut schools = schools.into_iter();
    let (kept, left) = (schools.next().unwrap(), schools.next().unwrap());
    let grant = |s: &str| format!("school_admin:{s}");
    enrol(d, "two@fixture.example", &[grant(&kept), grant(&left)]);
    enrol(d, "keeper@fixture.example", &[grant(&left)]);
    let site = fx.dep.parent().unwrap().join("site");
    let s = site.to_str().unwrap();
    listed(scoresite(&["build", d, "--out", s], None));
    let before = identities(&site, "two@fixture.example");
    let (left_home, left_key) = identities(&site, "keeper@fixture.example")
        .into_iter()
        .next()
        .unwrap();
    let kept_home = before.keys().find(|h| **h != left_home).unwrap().clone();
    let folder =
        || std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(site.join("d")).unwrap());
    let folder_before = folder();

    // The coordinator takes one school's grant from two@ in users.yaml.
    let users = fx.dep.join("users.yaml");
    let text = std::fs::read_to_string(&users).unwrap();
    let line = format!("  - {}\n", grant(&left));
    let block = text.find("email: two@fixture.example").unwrap();
    let at = block + text[block..].find(&line).unwrap();
    std::fs::write(
        &users,
        format!("{}{}", &text[..at], &text[at + line.len()..]),
    )
    .unwrap();
    let rebuilt = listed(scoresite(&["build", d, "--out", s], None));

    // Everyone still holds a bundle, so the file names are kept and the
    // site is updated in place.
    assert_eq!(
        folder(),
        folder_before,
        "the site is updated in place: {rebuilt}"
    );
    let after = identities(&site, "two@fixture.example");
    assert_eq!(after.keys().collect::<Vec<_>>(), [&kept_home]);
    assert_eq!(
        after[&kept_home], before[&kept_home],
        "the school still held keeps its key"
    );
    let keeper = identities(&site, "keeper@fixture.example");
    assert_ne!(
        keeper[&left_home], left_key,
        "the school two@ left gets a new key"
    );
    // The old key of the school two@ left opens no file of the new site.
    let old: age::x25519::Identity = left_key.parse().unwrap();
    let files = sealed_files(&site);
    assert!(files.len() > 10);
    for (f, bytes) in &files {
        assert!(
            scoresite::seal::open_with(bytes, std::slice::from_ref(&old)).is_none(),
            "{f} opens with the old key of the school two@ left"
        );
    }
    // The keeper reads that school's pages with the new key.
    let pass = SecretString::from(PASS.to_string());
    let session = Session::logon(&site, "keeper@fixture.example", &pass).unwrap();
    let paths = session.paths().unwrap();
    assert!(paths.len() > 10);
    assert!(paths.iter().all(|p| session.read(p).is_ok()));
}
