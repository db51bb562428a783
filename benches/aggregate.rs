//! Aggregate cube benchmark: the time to compute every custom aggregate
//! report cube of the sandbox for the default 2,500 students and for 500,000
//! (set SCORESITE_BENCH_STUDENTS to a comma-separated list to change).
//!
//! For comparison, the same run hands the same export CSV to DuckDB (the
//! `duckdb` PyPI package, through `python3`) and times the grouping the
//! district administrator's cubes hold: every school, school year,
//! assessment and subgroup combination, with its count, score sums and
//! level and claim-level counts. Both sides run on this machine's cores.
//! No TRT files are written: the cubes do not use item detail, and DuckDB
//! reads only the export, so both group the same results.
//!
//! Run with `cargo bench --bench aggregate`.

mod common;

use rayon::prelude::*;
use scoresite::access::{self, Kind};
use scoresite::aggregate::{self, Comparisons};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn main() {
    let sizes = common::sizes(&[2_500, 500_000]);
    for students in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let lea = common::emit(dir.path(), students, false);
        let csv = lea.join("data/cers_export.csv");

        let t = Instant::now();
        let dep = common::load(&lea);
        let load = t.elapsed().as_secs_f64();
        let plan = access::plan(
            &dep.data,
            &dep.catalog,
            &dep.users,
            dep.settings.group_years,
        );
        let threshold = dep.settings.suppression_threshold as usize;
        let jobs: Vec<(usize, usize)> = plan
            .bundles
            .iter()
            .enumerate()
            .filter(|(_, b)| aggregate::has_reports(b.kind))
            .flat_map(|(i, b)| {
                aggregate::families(&dep, b)
                    .into_iter()
                    .map(move |f| (i, f))
            })
            .collect();

        let t = Instant::now();
        let comparisons = Comparisons::new(&dep);
        let (cubes, cells) = jobs
            .par_iter()
            .map(|&(i, f)| {
                let cube = aggregate::cube(&dep, &comparisons, &plan.bundles[i], f, threshold);
                (1, cube.cells.len())
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let all = t.elapsed().as_secs_f64();

        let district = plan
            .bundles
            .iter()
            .find(|b| b.kind == Kind::District)
            .expect("a district administrator");
        let t = Instant::now();
        let comparisons = Comparisons::new(&dep);
        let families = aggregate::families(&dep, district);
        let (district_cells, json) = families
            .par_iter()
            .map(|&f| {
                let cube = aggregate::cube(&dep, &comparisons, district, f, threshold);
                (
                    cube.cells.len(),
                    serde_json::to_vec(&cube).map_or(0, |v| v.len()),
                )
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let one = t.elapsed().as_secs_f64();

        println!(
            "students {students}: {} exams, {} bundles with aggregate reports",
            dep.data.exams.len(),
            jobs.iter()
                .map(|j| j.0)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
        println!("  scoresite load (export into the model): {load:.2}s");
        println!("  every cube: {cubes} cubes, {cells} cells in {all:.2}s");
        println!(
            "  district administrator's cubes: {} families, {district_cells} cells, {:.1} MB as JSON, in {one:.2}s (with JSON)",
            families.len(),
            json as f64 / 1e6
        );
        match duckdb(&csv) {
            Some((duck_load, duck_group, groups)) => {
                println!("  DuckDB read_csv: {duck_load:.2}s; GROUP BY: {groups} groups in {duck_group:.2}s");
                println!("  load / DuckDB read_csv: {:.2}x", load / duck_load);
                println!(
                    "  district cubes / DuckDB GROUP BY: {:.2}x",
                    one / duck_group
                );
                println!("  every cube / DuckDB GROUP BY: {:.2}x", all / duck_group);
            }
            None => println!("  DuckDB: not available (pip install duckdb)"),
        }
        println!("  peak RSS so far: {} MB", common::peak_rss_kb() / 1024);
    }
}

/// DuckDB's load and grouping times over `csv`, and its group count.
fn duckdb(csv: &Path) -> Option<(f64, f64, u64)> {
    let out = Command::new("python3")
        .args(["-c", DUCKDB, csv.to_str()?])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        eprintln!(
            "DuckDB failed ({}): {text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let figures: Vec<&str> = text.split_whitespace().collect();
    match figures[..] {
        [load, group, groups] => Some((
            load.parse().ok()?,
            group.parse().ok()?,
            groups.parse().ok()?,
        )),
        _ => {
            eprintln!("DuckDB printed {text}");
            None
        }
    }
}

/// Reads the export and groups it as the district cubes do (race as the
/// cubes derive it: Hispanic, else the one race reported, else two or more).
const DUCKDB: &str = r#"
import sys, time, duckdb
db = duckdb.connect()
db.execute("SET enable_progress_bar = false")
t = time.perf_counter()
db.execute("CREATE TABLE x AS SELECT * FROM read_csv(?, header=true, all_varchar=true)", [sys.argv[1]])
load = time.perf_counter() - t
races = ["AmericanIndianOrAlaskaNative", "Asian", "BlackOrAfricanAmerican", "White",
         "NativeHawaiianOrOtherPacificIslander", "TwoOrMoreRaces", "Filipino"]
count = " + ".join(f"coalesce({r} = 'Yes', false)::INT" for r in races)
race = ("CASE WHEN HispanicOrLatinoEthnicity = 'Yes' THEN 'H' WHEN " + count + " > 1 THEN 'M' ELSE "
        + "COALESCE(" + ", ".join(f"CASE WHEN {r} = 'Yes' THEN '{r}' END" for r in races) + ", 'N') END")
levels = ", ".join(f"count(*) FILTER (WHERE ScaleScoreAchievementLevel = '{l}')" for l in range(1, 6))
claims = ", ".join(f"count(*) FILTER (WHERE Claim{c}ScoreAchievementLevel = '{l}')"
                   for c in range(1, 7) for l in range(1, 4))
query = f"""CREATE TABLE cubes AS SELECT SchoolId, SchoolYear, AssessmentName, Sex, {race} AS race,
  EnglishLanguageAcquisitionStatus, LEPStatus, MigrantStatus, Section504Status, IDEAIndicator,
  MilitaryConnectedStudentIndicator, GradeLevelWhenAssessed,
  count(*) AS n, count(TRY_CAST(ScaleScore AS DOUBLE)) AS scored,
  sum(TRY_CAST(ScaleScore AS DOUBLE)) AS total, sum(TRY_CAST(ScaleScore AS DOUBLE) ^ 2) AS squares,
  {levels}, {claims}
FROM x WHERE coalesce(ScaleScoreAchievementLevel, ScaleScore, ScaleScoreStandardError) IS NOT NULL
GROUP BY ALL"""
t = time.perf_counter()
db.execute(query)
group = time.perf_counter() - t
print(load, group, db.execute("SELECT count(*) FROM cubes").fetchone()[0])
"#;
