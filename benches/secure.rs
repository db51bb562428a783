//! Secure build benchmark: pages/s, MB/s and peak memory of `scoresite
//! build` on the sandbox deployment at 2,500 and 100,000 students (set
//! SCORESITE_BENCH_STUDENTS to a comma-separated list to change).
//!
//! Enrolled: the coordinator, the analyst, the state viewer, every
//! principal and up to 150 teachers (each enrollment runs scrypt). The
//! encryption's cost is measured against a plaintext build of the same plan,
//! rendered and written the same way, in the same run. Then two rebuilds
//! into the same output: with no change, and after every result of one
//! school changes, each as a ratio to the full build.
//!
//! Run with `cargo bench --bench secure`.

mod common;

use age::secrecy::SecretString;
use scoresite::{access, build, render, site, users};
use std::time::Instant;

fn main() {
    let sizes = common::sizes(&[2_500, 100_000]);
    let pass = SecretString::from("benchmark passphrase".to_string());
    for students in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let lea = common::emit(dir.path(), students, true);
        let dep = common::load(&lea);
        let enrol: Vec<String> = dep
            .users
            .iter()
            .filter(|u| {
                u.grants
                    .iter()
                    .any(|g| g.role != scoresite::model::Role::Teacher)
            })
            .chain(
                dep.users
                    .iter()
                    .filter(|u| {
                        u.grants
                            .iter()
                            .all(|g| g.role == scoresite::model::Role::Teacher)
                    })
                    .take(150),
            )
            .map(|u| u.email.clone())
            .collect();
        let t = Instant::now();
        let enrollment = users::Enrollment::at(&lea);
        for email in &enrol {
            enrollment
                .add(
                    email,
                    None,
                    &[],
                    &users::NewCredential::Passphrase(pass.clone()),
                )
                .expect("enrols");
        }
        let enrolling = t.elapsed().as_secs_f64();

        let out = dir.path().join("secure");
        let t = Instant::now();
        let built = build::build(&lea, &out, false, &mut Default::default())
            .expect("builds")
            .built;
        let secure = t.elapsed().as_secs_f64();
        let peak_mb = common::peak_rss_kb() as f64 / 1024.0;

        // The same plan, in plaintext, from the same load.
        let t = Instant::now();
        let dep = common::load(&lea);
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
        let plain =
            site::write(&dep, &plan, &map, &info, &dir.path().join("plain")).expect("writes");
        let plaintext = t.elapsed().as_secs_f64();

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
        println!(
            "  plaintext load, plan, render + write of the same plan: {plaintext:.2}s = {:.0} pages/s ({:.1} MB)",
            plain.pages as f64 / plaintext,
            plain.bytes as f64 / 1e6
        );
        println!("  secure / plaintext: {:.2}x", secure / plaintext);
        println!("  peak RSS so far: {peak_mb:.0} MB");

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
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("a row")).collect();
    let first = rows[0][school].to_string();
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_path(path)
        .expect("writes the export");
    w.write_record(&header).expect("writes");
    for row in rows {
        let mut cells: Vec<String> = row.iter().map(String::from).collect();
        if cells[school] == first {
            if let Ok(s) = cells[score].parse::<f64>() {
                cells[score] = (s + 1.0).to_string();
            }
        }
        w.write_record(&cells).expect("writes");
    }
    w.flush().expect("writes");
    first
}
