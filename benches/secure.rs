//! Secure build benchmark: pages/s, MB/s and peak memory of `scoresite
//! build` on the sandbox deployment at 2,500 and 100,000 students (set
//! SCORESITE_BENCH_STUDENTS to a comma-separated list to change).
//!
//! Enrolled: the coordinator, the analyst, the state viewer, every
//! principal and up to 150 teachers, with `users import` (each enrolment
//! runs scrypt). The peak RSS is the secure build's own (the peak is reset
//! before it). The encryption's cost is measured against a plaintext build of the same plan,
//! rendered and written the same way, in the same run; set
//! SCORESITE_BENCH_NO_PLAINTEXT=1 to skip it where the plaintext site (about
//! 4.4 times the sealed size) would not fit on the disk. Then two rebuilds
//! into the same output: with no change, and after every result of one
//! school changes, each as a ratio to the full build (and one after a file no
//! page reads is added).
//!
//! Run with `cargo bench --bench secure`.

mod common;

use scoresite::{access, build, render, site, users};
use std::time::Instant;

fn main() {
    let sizes = common::sizes(&[2_500, 100_000]);
    for students in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let lea = common::emit(dir.path(), students, true);
        let enrol = to_enrol(&common::load(&lea));
        let t = Instant::now();
        let list = dir.path().join("enrol.csv");
        std::fs::write(&list, enrol).expect("writes the list");
        users::Enrollment::at(&lea)
            .import(&list, &dir.path().join("passphrases.csv"))
            .expect("enrols");
        let enrolling = t.elapsed().as_secs_f64();

        let out = dir.path().join("secure");
        common::reset_peak_rss();
        let t = Instant::now();
        let built = build::build(&lea, &out, false, &mut Default::default())
            .expect("builds")
            .built;
        let secure = t.elapsed().as_secs_f64();
        let peak_mb = common::peak_rss_kb() as f64 / 1024.0;

        let plaintext = (std::env::var_os("SCORESITE_BENCH_NO_PLAINTEXT").is_none())
            .then(|| plaintext(&lea, &dir.path().join("plain")));
        let mb = built.bytes as f64 / 1e6;
        println!(
            "students {students}: {} users enrolled in {enrolling:.1}s, {} bundles, {} pages, {} files, {mb:.1} MB",
            built.users, built.bundles, built.pages, built.files
        );
        println!(
            "  secure build (load, plan, render, seal, write, publish): {secure:.2}s = {:.0} pages/s, {:.1} MB/s",
            built.pages as f64 / secure,
            mb / secure
        );
        println!("  peak RSS of the secure build: {peak_mb:.0} MB");
        match plaintext {
            Some((plain, secs)) => {
                println!(
                    "  plaintext load, plan, render + write of the same plan: {secs:.2}s = {:.0} pages/s ({:.1} MB)",
                    plain.pages as f64 / secs,
                    plain.bytes as f64 / 1e6
                );
                println!("  secure / plaintext: {:.2}x", secure / secs);
            }
            None => println!("  plaintext build: skipped (SCORESITE_BENCH_NO_PLAINTEXT)"),
        }

        let rebuild = |what: &str| {
            let t = Instant::now();
            let again = build::build(&lea, &out, false, &mut Default::default()).expect("rebuilds");
            let secs = t.elapsed().as_secs_f64();
            let kept = match again.up_to_date {
                true => "nothing to do: up to date".to_string(),
                false => format!(
                    "{} of {} files kept, {} pages not rendered again",
                    again.built.reused, again.built.files, again.built.unrendered
                ),
            };
            println!(
                "  rebuild, {what}: {secs:.2}s = {:.3}x the full build ({kept})",
                secs / secure,
            );
        };
        rebuild("no change");
        std::fs::write(lea.join("NOTES.txt"), "read by no page\n").expect("writes");
        rebuild("a file that no page reads added");
        let school = shift_one_school(&lea.join("data/cers_export.csv"));
        rebuild(&format!("every result of school {school} changed"));
    }
}

/// Who the benchmark enrols, as a `users import` file: the coordinator,
/// the analyst, the state viewer, every principal and up to 150 teachers.
fn to_enrol(dep: &scoresite::deployment::Deployment) -> String {
    let teacher = |u: &&scoresite::model::User| {
        u.grants
            .iter()
            .all(|g| g.role == scoresite::model::Role::Teacher)
    };
    let mut csv = String::from("email,grants\n");
    for u in dep
        .users
        .iter()
        .filter(|u| !teacher(u))
        .chain(dep.users.iter().filter(teacher).take(150))
    {
        let grants: Vec<String> = u.grants.iter().map(|g| g.to_string()).collect();
        csv.push_str(&format!("{},{}\n", u.email, grants.join(" ")));
    }
    csv
}

/// Loads, plans, renders and writes the plaintext site of the plan a
/// secure build of `lea` makes, into `out`; returns what it wrote and its
/// seconds.
fn plaintext(lea: &std::path::Path, out: &std::path::Path) -> (scoresite::output::Written, f64) {
    let t = Instant::now();
    let dep = common::load(lea);
    let enrolled: Vec<_> = dep
        .users
        .iter()
        .filter(|u| u.recipient.is_some())
        .cloned()
        .collect();
    let plan = access::plan(&dep.data, &dep.catalog, &enrolled, dep.settings.group_years);
    let map = access::SiteMap::new(&dep.data, &dep.catalog, &plan, access::PUBLIC_KEY);
    let info = render::views::SiteInfo {
        name: dep.settings.name.clone(),
        sandbox: false,
        footer: String::new(),
    };
    let plain = site::write(&dep, &plan, &map, &info, out).expect("writes");
    (plain, t.elapsed().as_secs_f64())
}

/// Adds a point to every scale score of the first school in the export at
/// `path`; returns that school's id.
fn shift_one_school(path: &std::path::Path) -> String {
    let mut rdr = csv::Reader::from_path(path).expect("reads the export");
    let header = rdr.headers().expect("a header").clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .expect(name)
    };
    let (school, score) = (col("SchoolId"), col("ScaleScore"));
    let shifted = path.with_extension("csv.new");
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_path(&shifted)
        .expect("writes the export");
    w.write_record(&header).expect("writes");
    let mut first: Option<String> = None;
    for row in rdr.records() {
        let row = row.expect("a row");
        let id = first.get_or_insert_with(|| row[school].to_string());
        let mut cells: Vec<String> = row.iter().map(String::from).collect();
        if cells[school] == *id {
            if let Ok(s) = cells[score].parse::<f64>() {
                cells[score] = (s + 1.0).to_string();
            }
        }
        w.write_record(&cells).expect("writes");
    }
    w.flush().expect("writes");
    std::fs::rename(&shifted, path).expect("replaces the export");
    first.expect("a row")
}
