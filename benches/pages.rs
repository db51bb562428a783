//! Page speed in the browser: for the sandbox site at 2,500 students and at
//! 100,000 (set SCORESITE_BENCH_STUDENTS to change), the largest page of
//! each kind is opened in Debian's chromium from `file://`, and the time
//! until it is usable (its `load` event, after the page's script has set up
//! sorting, filters and pickers), its size and its DOM nodes are printed.
//! The baseline is the help page opened in the same run; each page is
//! reported as a ratio to it.
//!
//! Needs what the browser tests need: `apt-get install chromium` and
//! `npm ci` in tests/browser. Run with `cargo bench --bench pages`.

mod common;

use scoresite::site;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A kind of page: its name, and a test of a path within the site.
type PageKind = (&'static str, fn(&str) -> bool);

/// The kinds of page measured.
const KINDS: &[PageKind] = &[
    ("role home", |p| {
        p.starts_with("b/") && p.ends_with("/index.html")
    }),
    ("results entry", |p| {
        p.starts_with("b/") && is_unit(p) && !is_section(p)
    }),
    ("assessment results", |p| {
        p.starts_with("b/") && is_unit(p) && is_section(p) && !p.ends_with("-analysis.html")
    }),
    ("item analysis", |p| p.ends_with("-analysis.html")),
    ("custom aggregate report", |p| p.contains("/agg-")),
    ("Dashboard preview", |p| p.ends_with("/dashboard.html")),
    ("student report", |p| p.starts_with("r/")),
    ("batch print", |p| p.starts_with("p/")),
];

/// A group's or school grade's page (`g-GROUP…` or `s-SCHOOL-GRADE…`).
fn is_unit(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.ends_with(".html") && (name.starts_with("g-") || name.starts_with("s-"))
}

/// A page of one assessment section (`UNIT-aYEAR-NAME…`).
fn is_section(path: &str) -> bool {
    path.split('-').any(|part| {
        part.len() == 5 && part.starts_with('a') && part[1..].bytes().all(|b| b.is_ascii_digit())
    })
}

fn main() {
    for students in common::sizes(&[2_500, 100_000]) {
        let dir = tempfile::tempdir().expect("temp dir");
        let lea = common::emit(dir.path(), students, true);
        let dep = common::load(&lea);
        let (plan, map, info) = common::plan(&dep);
        let out = dir.path().join("site");
        site::write(&dep, &plan, &map, &info, &out).expect("writes");
        let mut pages = vec![("help (baseline)".to_string(), out.join("help/index.html"))];
        pages.extend(largest(&out));
        println!("students {students}:");
        measure(&pages);
    }
}

/// The largest page of each kind.
fn largest(site: &Path) -> Vec<(String, PathBuf)> {
    let mut best: Vec<Option<(u64, PathBuf)>> = vec![None; KINDS.len()];
    for e in walkdir::WalkDir::new(site)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = e
            .path()
            .strip_prefix(site)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let size = e.metadata().map(|m| m.len()).unwrap_or(0);
        if let Some(k) = KINDS.iter().position(|(_, is)| is(&rel)) {
            if best[k].as_ref().is_none_or(|(s, _)| size > *s) {
                best[k] = Some((size, e.path().to_path_buf()));
            }
        }
    }
    KINDS
        .iter()
        .zip(best)
        .filter_map(|((kind, _), b)| Some((kind.to_string(), b?.1)))
        .collect()
}

/// Opens each page in chromium and prints its figures.
fn measure(pages: &[(String, PathBuf)]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/pages-bench.mjs");
    let mut cmd = Command::new("node");
    cmd.arg(&script);
    for (kind, path) in pages {
        cmd.arg(format!("{kind}={}", path.display()));
    }
    let status = cmd.status().expect("runs node (see tests/browser)");
    assert!(status.success(), "the page benchmark failed");
}
