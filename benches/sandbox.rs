//! Sandbox generation benchmark: rows/s, TRT files/s and peak memory for
//! `scoresite sandbox --emit-data` at 500,000 students (set
//! SCORESITE_BENCH_STUDENTS to change).
//!
//! The baseline, run in the same process on the same output, copies the
//! emitted tree file by file: what the disk alone costs for those bytes and
//! files. Generation time is reported as a ratio to it.
//!
//! Run with `cargo bench --bench sandbox`.

mod common;

use std::time::Instant;

fn main() {
    let students: u32 = std::env::var("SCORESITE_BENCH_STUDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    let catalog = scoresite::catalog::Catalog::builtin().expect("built-in catalog");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("lea");
    let options = scoresite::sandbox::Options {
        seed: 1,
        students,
        trt: true,
    };

    let t = Instant::now();
    let emitted = scoresite::sandbox::emit_fresh(&out, &options, &catalog, true).expect("emits");
    let generate = t.elapsed().as_secs_f64();
    let peak_mb = common::peak_rss_kb() as f64 / 1024.0;
    let (files, bytes) = common::tree_size(&out);

    let t = Instant::now();
    common::copy_tree(&out, &dir.path().join("copy"));
    let copy = t.elapsed().as_secs_f64();

    println!(
        "students {students}: {} schools, {} teachers, {} groups",
        emitted.schools, emitted.teachers, emitted.groups
    );
    println!(
        "output: {files} files, {:.1} MB ({} export rows, {} TRT files)",
        bytes as f64 / 1e6,
        emitted.export_rows,
        emitted.trt_files
    );
    println!(
        "generate: {generate:.1}s = {:.0} rows/s, {:.0} TRT files/s, {:.1} MB/s",
        emitted.export_rows as f64 / generate,
        emitted.trt_files as f64 / generate,
        bytes as f64 / 1e6 / generate
    );
    println!(
        "baseline (copy the same tree): {copy:.1}s, {:.1} MB/s",
        bytes as f64 / 1e6 / copy
    );
    println!("generate / baseline: {:.2}x", generate / copy);
    println!(
        "peak RSS: {peak_mb:.0} MB = {:.2} KB per student",
        peak_mb * 1024.0 / students as f64
    );
}
