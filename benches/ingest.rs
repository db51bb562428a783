//! CERS-export ingest benchmark: rows/s and peak memory for a generated export
//! (1,000,000 rows by default; set SCORESITE_BENCH_ROWS to change).
//!
//! The baseline, run on the same file in the same process, is a bare csv-crate
//! pass that reads every record and parses nothing; ingest time is reported as
//! a ratio to it, and peak memory as a ratio to the file size.
//!
//! Run with `cargo bench --bench ingest`.

mod common;

use scoresite::ingest::cers;
use std::io::{BufWriter, Write};
use std::time::Instant;

fn main() {
    let rows: usize = std::env::var("SCORESITE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let file = data.join("export.csv");
    let started = Instant::now();
    write_export(&file, rows);
    let size = std::fs::metadata(&file).unwrap().len();
    println!(
        "generated {rows} rows, {:.1} MB in {:.1}s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let rss_before = common::peak_rss_kb();

    let t = Instant::now();
    let mut rdr = csv::ReaderBuilder::new().from_path(&file).unwrap();
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    while rdr.read_record(&mut record).unwrap() {
        n += 1;
    }
    let baseline = t.elapsed().as_secs_f64();
    assert_eq!(n as usize, rows);

    let ingest = common::timed_check(dir.path());
    let peak = common::peak_rss_kb();

    println!(
        "baseline (csv crate, read only): {baseline:.2}s, {:.0} rows/s",
        rows as f64 / baseline
    );
    println!(
        "scoresite check (load + validate): {ingest:.2}s, {:.0} rows/s, {:.2}x the baseline time",
        rows as f64 / ingest,
        ingest / baseline
    );
    println!(
        "peak RSS {:.1} MB ({:.1} MB before ingest) = {:.2}x the file size",
        peak as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        peak as f64 * 1024.0 / size as f64
    );
}

/// Writes a 64-column export with a realistic mix: about 6 results per student,
/// 40 schools, summative, IAB and ELPAC rows, demographics and accommodations.
fn write_export(path: &std::path::Path, rows: usize) {
    let cols = cers::columns_64();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(out, "{}", cols.join(",")).unwrap();
    let at = |name: &str| cols.iter().position(|c| *c == name).unwrap();
    let mut cells: Vec<String> = vec![String::new(); cols.len()];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..rows {
        cells.iter_mut().for_each(String::clear);
        let student = i / 6;
        let school = student % 40;
        let grade = 3 + (student % 6) as u32;
        let year = 2022 + (i % 3) as u32;
        let r = next();
        let (kind, sub, subject, name, score, se) = match i % 6 {
            0 => (
                "Summative",
                "SUM",
                "ELA",
                format!("Grade {grade} ELA Summative"),
                2300 + (r % 400) as u32,
                25,
            ),
            1 => (
                "Summative",
                "SUM",
                "Math",
                format!("Grade {grade} Mathematics Summative"),
                2300 + (r % 400) as u32,
                22,
            ),
            2 | 3 => (
                "Interim",
                "IAB",
                "Math",
                format!("Grade {grade} Math - Block {} (IAB)", r % 5),
                2300 + (r % 400) as u32,
                60,
            ),
            4 => (
                "Interim",
                "ICA",
                "ELA",
                format!("Grade {grade} ELA ICA"),
                2300 + (r % 400) as u32,
                28,
            ),
            _ => (
                "Summative",
                "SUM",
                "ELPAC",
                format!("Grade {grade} ELPAC Summative"),
                1450 + (r % 250) as u32,
                15,
            ),
        };
        let set = |cells: &mut Vec<String>, name: &str, v: &str| cells[at(name)].push_str(v);
        set(&mut cells, "DistrictId", "1964733");
        set(&mut cells, "DistrictName", "Benchmark Unified");
        set(&mut cells, "SchoolId", &format!("{}", 6_000_000 + school));
        set(&mut cells, "SchoolName", &format!("School {school}"));
        set(
            &mut cells,
            "StudentIdentifier",
            &format!("{}", 1_000_000_000 + student),
        );
        set(&mut cells, "FirstName", "Pat");
        set(&mut cells, "LastOrSurname", &format!("Student{student}"));
        set(
            &mut cells,
            "SubmitDateTime",
            &format!("{year}-04-{:02} 10:{:02}:00.000000", 1 + r % 28, i % 60),
        );
        set(&mut cells, "SchoolYear", &year.to_string());
        set(
            &mut cells,
            "TestSessionId",
            &format!("CA-{:04X}-{}", r % 5000, school),
        );
        set(&mut cells, "AssessmentType", kind);
        set(&mut cells, "AssessmentSubType", sub);
        set(&mut cells, "AssessmentName", &name);
        set(&mut cells, "Subject", subject);
        set(&mut cells, "GradeLevelWhenAssessed", &format!("{grade:02}"));
        set(
            &mut cells,
            "Completeness",
            if r % 20 == 0 { "Partial" } else { "Complete" },
        );
        set(
            &mut cells,
            "AdministrationCondition",
            if kind == "Summative" { "Valid" } else { "SD" },
        );
        set(&mut cells, "ScaleScore", &score.to_string());
        set(&mut cells, "ScaleScoreStandardError", &se.to_string());
        set(&mut cells, "Sex", if r % 2 == 0 { "F" } else { "M" });
        set(&mut cells, "MigrantStatus", "No");
        set(
            &mut cells,
            "LanguageCode",
            if r % 5 == 0 { "spa" } else { "eng" },
        );
        set(
            &mut cells,
            "EnglishLanguageAcquisitionStatus",
            if r % 5 == 0 { "EL" } else { "EO" },
        );
        set(
            &mut cells,
            "HispanicOrLatinoEthnicity",
            if r % 3 == 0 { "Yes" } else { "" },
        );
        set(
            &mut cells,
            "AssignedAccommodationList",
            "TDS_BT0|TDS_PM0|TDS_PoD0|TDS_TTS0|NEA0",
        );
        writeln!(out, "{}", cells.join(",")).unwrap();
    }
    out.flush().unwrap();
}
