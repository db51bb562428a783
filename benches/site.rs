//! Site rendering benchmark: pages/s, MB/s and peak memory of the sandbox
//! site for the default 2,500 students and for 100,000 (set
//! SCORESITE_BENCH_STUDENTS to a comma-separated list to change).
//!
//! Each size is timed three ways in the same run: rendering alone (pages
//! discarded), the full write of the site, and a baseline that copies the
//! written tree file by file. The write is reported as a ratio to the copy.
//!
//! Run with `cargo bench --bench site`.

mod common;

use scoresite::site;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let sizes = common::sizes(&[2_500, 100_000]);
    for students in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let lea = common::emit(dir.path(), students, true);

        let t = Instant::now();
        let dep = common::load(&lea);
        let (plan, map, info) = common::plan(&dep);
        let load = t.elapsed().as_secs_f64();

        let (pages, bytes) = (AtomicUsize::new(0), AtomicU64::new(0));
        let t = Instant::now();
        site::render(&dep, &plan, &map, &info, &|p: scoresite::output::Page| {
            pages.fetch_add(p.path.ends_with(".html") as usize, Ordering::Relaxed);
            bytes.fetch_add(p.bytes.len() as u64, Ordering::Relaxed);
            Ok(())
        })
        .expect("renders");
        let render_only = t.elapsed().as_secs_f64();

        let out = dir.path().join("site");
        let t = Instant::now();
        let written = site::write(&dep, &plan, &map, &info, &out).expect("writes");
        let write = t.elapsed().as_secs_f64();
        let peak_mb = common::peak_rss_kb() as f64 / 1024.0;

        let t = Instant::now();
        common::copy_tree(&out, &dir.path().join("copy"));
        let copy = t.elapsed().as_secs_f64();

        let mb = written.bytes as f64 / 1e6;
        println!(
            "students {students}: {} bundles, {} pages, {} files, {mb:.1} MB",
            plan.bundles.len(),
            written.pages,
            written.files
        );
        println!("  load + plan: {load:.2}s");
        println!(
            "  render only: {render_only:.2}s = {:.0} pages/s ({} pages, {:.1} MB)",
            pages.into_inner() as f64 / render_only,
            written.pages,
            bytes.into_inner() as f64 / 1e6
        );
        println!(
            "  render + write: {write:.2}s = {:.0} pages/s, {:.1} MB/s",
            written.pages as f64 / write,
            mb / write
        );
        println!("  baseline (copy the written tree): {copy:.2}s");
        println!("  write / baseline: {:.2}x", write / copy);
        println!("  peak RSS so far: {peak_mb:.0} MB");
    }
}
