//! Student Score Data File ingest benchmark: a generated CAASPP file
//! (200,000 records by default; set SCORESITE_BENCH_ROWS to change), once
//! caret-delimited with the layout's 365 long-named fields and once
//! fixed-width (4,037 characters a record).
//!
//! The baselines, run on the same files in the same process, are a bare
//! csv-crate read of the caret file and a bare line read of the fixed-width
//! file; `scoresite check` (load and validate) is reported as rows/s and as
//! a ratio to its baseline.
//!
//! Run with `cargo bench --bench ssdf`.

mod common;

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

/// The fields filled: layout field number, first and last character, name.
const FIELDS: &[(usize, usize, usize, &str)] = &[
    (1, 1, 2, "Record Type"),
    (2, 3, 12, "Statewide Student Identifier (SSID)"),
    (3, 13, 62, "Student Last Name"),
    (4, 63, 92, "Student First Name"),
    (7, 133, 133, "Gender"),
    (11, 141, 142, "Grade Assessed"),
    (19, 384, 386, "Section 504 Status"),
    (23, 396, 398, "IDEA Indicator for Testing"),
    (24, 399, 401, "Migrant Status"),
    (25, 402, 404, "EL Status"),
    (30, 445, 448, "English Language Acquisition Status (ELAS)"),
    (31, 449, 451, "Language Code (CEDS)"),
    (33, 454, 456, "Military Status"),
    (37, 466, 468, "Economic Disadvantage Status for Testing"),
    (39, 470, 472, "Hispanic or Latino"),
    (40, 473, 475, "American Indian or Alaska Native"),
    (41, 476, 478, "Asian"),
    (42, 479, 481, "Native Hawaiian or Other Pacific Islander"),
    (43, 482, 484, "Filipino"),
    (44, 485, 487, "Black or African American"),
    (45, 488, 490, "White"),
    (46, 491, 493, "Two or More Races"),
    (96, 1614, 1713, "Final Tested LEA Name"),
    (97, 1714, 1727, "Final Tested County-District Code"),
    (98, 1728, 1827, "Final Tested School Name"),
    (99, 1828, 1841, "Final Tested School Code"),
    (103, 1849, 1858, "Final Test Completed Date"),
    (120, 1975, 1978, "Condition Code"),
    (121, 1979, 1979, "Attemptedness"),
    (122, 1980, 1980, "Score Status"),
    (125, 1983, 1983, "Include Indicator"),
    (131, 1989, 1994, "Lexile or Quantile Measure"),
    (146, 2039, 2042, "Scale Score"),
    (147, 2043, 2046, "Standard Error Measurement – SEM"),
    (148, 2047, 2050, "Smarter Scale Scores Error Bands – Min"),
    (149, 2051, 2054, "Smarter Scale Scores Error Bands – Max"),
    (150, 2055, 2055, "Achievement Levels"),
    (365, 4036, 4037, "End of Record"),
];

/// The cells of record `i`: two records (ELA and math) per student, 40
/// schools, grades 3–8, one student in twenty not tested.
fn record(i: usize) -> Vec<String> {
    let student = i / 2;
    let math = i % 2 == 1;
    let grade = 3 + student % 6;
    let school = student % 40;
    let tested = !student.is_multiple_of(20);
    let score = 2350 + (student * 37 + i * 11) % 300;
    let level = 1 + (score - 2350) / 75;
    let yes_no = |k: usize| {
        if (student >> k).is_multiple_of(5) {
            "Yes"
        } else {
            "No"
        }
    };
    FIELDS
        .iter()
        .map(|&(n, ..)| match n {
            1 => (if math { "02" } else { "01" }).to_string(),
            2 => format!("{:010}", 3_000_000_000u64 + student as u64),
            3 => format!("Family{}", student % 997),
            4 => format!("Given{}", student % 313),
            7 => ["F", "M", "X"][student % 3].to_string(),
            11 => format!("{grade:02}"),
            19 | 23 | 24 | 25 | 33 | 37 | 39..=46 => yes_no(n % 7).to_string(),
            30 => ["EO", "EL", "RFEP", "IFEP"][student % 4].to_string(),
            31 => "eng".into(),
            96 => "Bench Unified".into(),
            97 => "01611920000000".into(),
            98 => format!("School {school}"),
            99 => format!("0161192{:07}", 6_000_000 + school),
            103 if tested => "2024-05-09".into(),
            120 if !tested => "NT".into(),
            121 if tested => "Y".into(),
            122 if tested => "V".into(),
            125 => (if tested { "Y" } else { "N" }).into(),
            131 if tested => format!("{}{}", 400 + score % 900, if math { "Q" } else { "L" }),
            146 if tested => score.to_string(),
            147 if tested => "25".into(),
            148 if tested => (score - 25).to_string(),
            149 if tested => (score + 25).to_string(),
            150 if tested => level.to_string(),
            150 => "9".into(),
            365 => "ZZ".into(),
            _ => String::new(),
        })
        .collect()
}

fn write_caret(path: &Path, rows: usize) {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut line = vec![String::new(); 365];
    for (n, name) in (1..=365).map(|n| (n, FIELDS.iter().find(|f| f.0 == n).map(|f| f.3))) {
        line[n - 1] = name.map_or(format!("Blank {n}"), str::to_string);
    }
    writeln!(out, "{}", line.join("^")).unwrap();
    for i in 0..rows {
        line.iter_mut().for_each(String::clear);
        for (&(n, ..), cell) in FIELDS.iter().zip(record(i)) {
            line[n - 1] = cell;
        }
        writeln!(out, "{}", line.join("^")).unwrap();
    }
}

fn write_fixed(path: &Path, rows: usize) {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut line = vec![b' '; 4037];
    for i in 0..rows {
        line.fill(b' ');
        for (&(_, start, end, _), cell) in FIELDS.iter().zip(record(i)) {
            let bytes = cell.as_bytes();
            let n = bytes.len().min(end - start + 1);
            line[start - 1..start - 1 + n].copy_from_slice(&bytes[..n]);
        }
        out.write_all(&line).unwrap();
        out.write_all(b"\r\n").unwrap();
    }
}

fn main() {
    let rows: usize = std::env::var("SCORESITE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    for kind in ["caret", "fixed"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let file = dir.path().join("data/ssdf.txt");
        let t = Instant::now();
        if kind == "caret" {
            write_caret(&file, rows);
        } else {
            write_fixed(&file, rows);
        }
        let size = std::fs::metadata(&file).unwrap().len();
        println!(
            "{kind}: generated {rows} records, {:.1} MB in {:.1}s",
            size as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let n = if kind == "caret" {
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(b'^')
                .from_path(&file)
                .unwrap();
            let mut record = csv::StringRecord::new();
            let mut n = 0;
            while rdr.read_record(&mut record).unwrap() {
                n += 1;
            }
            n
        } else {
            let f = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
            let mut n = 0;
            for line in f.lines() {
                line.unwrap();
                n += 1;
            }
            n
        };
        let baseline = t.elapsed().as_secs_f64();
        assert_eq!(n, rows);
        let ingest = common::timed_check(dir.path());
        println!(
            "{kind}: baseline ({}) {baseline:.2}s, {:.0} rows/s",
            if kind == "caret" {
                "csv crate, read only"
            } else {
                "lines, read only"
            },
            rows as f64 / baseline
        );
        println!(
            "{kind}: scoresite check (load + validate) {ingest:.2}s, {:.0} rows/s, {:.2}x the baseline time",
            rows as f64 / ingest,
            ingest / baseline
        );
        println!(
            "{kind}: peak RSS so far {:.1} MB",
            common::peak_rss_kb() as f64 / 1024.0
        );
    }
}
