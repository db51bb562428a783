// Each benchmark uses only some of these helpers.
#![allow(dead_code)]

//! Helpers the benchmarks share.

/// This process's peak resident set size (VmHWM), in KiB; 0 where unknown.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Starts a new peak for [`peak_rss_kb`]: hands freed memory back to the
/// system, then resets the peak to the current resident size (Linux), so
/// that what an earlier step held is not counted against the next.
pub fn reset_peak_rss() {
    // The allocator keeps what was freed for reuse, per thread (enrolling
    // leaves scrypt's 256 MB buffers behind): each of rayon's threads and
    // this one hand theirs back first.
    // SAFETY: mi_collect only returns free memory of the calling thread's heap.
    rayon::broadcast(|_| unsafe { libmimalloc_sys::mi_collect(true) });
    unsafe { libmimalloc_sys::mi_collect(true) };
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Files and bytes under `root`.
pub fn tree_size(root: &std::path::Path) -> (u64, u64) {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .fold((0, 0), |(n, b), e| {
            (n + 1, b + e.metadata().map(|m| m.len()).unwrap_or(0))
        })
}

/// Copies the tree `from` to `to` file by file: the disk's cost for it.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let target = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Student counts from SCORESITE_BENCH_STUDENTS (comma-separated), or `default`.
pub fn sizes(default: &[u32]) -> Vec<u32> {
    std::env::var("SCORESITE_BENCH_STUDENTS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// Loads the deployment at `dir`, which must have no errors.
pub fn load(dir: &std::path::Path) -> scoresite::deployment::Deployment {
    let mut diags = scoresite::diag::Diagnostics::default();
    scoresite::pipeline::load_valid(dir, &mut diags)
        .expect("loads without errors")
        .deployment
}

/// Writes the sandbox deployment of `students` (seed 1) into `dir/lea`;
/// `trt` also writes its TRT files.
pub fn emit(dir: &std::path::Path, students: u32, trt: bool) -> std::path::PathBuf {
    let lea = dir.join("lea");
    let catalog = scoresite::catalog::Catalog::builtin().expect("built-in catalog");
    let options = scoresite::sandbox::Options {
        seed: 1,
        students,
        trt,
    };
    scoresite::sandbox::emit(&lea, &options, &catalog).expect("emits");
    lea
}

/// Runs `scoresite check` on the deployment at `root`, which must pass;
/// returns its seconds.
pub fn timed_check(root: &std::path::Path) -> f64 {
    let t = std::time::Instant::now();
    let outcome = scoresite::check::run(root);
    let secs = t.elapsed().as_secs_f64();
    assert!(
        outcome.diagnostics.is_ok(),
        "{:?}",
        outcome
            .diagnostics
            .iter()
            .take(5)
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
    );
    secs
}

/// The access plan of `dep` for its own users, its site map, and the sandbox
/// site facts a plaintext build shows.
pub fn plan(
    dep: &scoresite::deployment::Deployment,
) -> (
    scoresite::access::Plan,
    scoresite::access::SiteMap,
    scoresite::render::views::SiteInfo,
) {
    let plan = scoresite::access::plan(
        &dep.data,
        &dep.catalog,
        &dep.users,
        dep.settings.group_years,
    );
    let info = scoresite::render::views::SiteInfo {
        name: dep.settings.name.clone(),
        sandbox: true,
        footer: String::new(),
    };
    let map = scoresite::access::SiteMap::new(
        &dep.data,
        &dep.catalog,
        &plan,
        scoresite::access::PUBLIC_KEY,
    );
    (plan, map, info)
}
