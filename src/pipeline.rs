//! The front of the pipeline that `check`, `build` and `sandbox` share:
//! load → validate. Every command runs the same stages, so a built site holds
//! exactly what `check` describes (blank levels filled, grants resolved), and
//! `build` refuses whatever `check` calls an error.

use crate::deployment::{self, Deployment};
use crate::diag::Diagnostics;
use crate::ingest::trt_cache::Cache;
use crate::validate::{self, Summary};
use std::path::Path;

/// A deployment that loaded and validated, with what validation counted.
pub struct Validated {
    pub deployment: Deployment,
    pub summary: Summary,
}

/// Loads and validates the deployment at `root`. Every problem found is in
/// `diags`, sorted; the deployment is returned whenever it could be read, even
/// with errors, so that `check` can describe it.
pub fn load(root: &Path, diags: &mut Diagnostics) -> Option<Validated> {
    load_cached(root, None, diags)
}

/// [`load`], keeping TRT parses between runs in `cache`.
pub fn load_cached(
    root: &Path,
    cache: Option<&mut Cache>,
    diags: &mut Diagnostics,
) -> Option<Validated> {
    let loaded = deployment::load(root, cache, diags).map(|mut deployment| {
        let summary = validate::run(&mut deployment, diags);
        Validated {
            deployment,
            summary,
        }
    });
    diags.sort();
    loaded
}

/// [`load`], refusing a deployment with any error: the error lists the
/// problems as `check` prints them. Warnings are left in `diags`.
pub fn load_valid(root: &Path, diags: &mut Diagnostics) -> anyhow::Result<Validated> {
    load_valid_cached(root, None, diags)
}

/// [`load_valid`], keeping TRT parses between runs in `cache`.
pub fn load_valid_cached(
    root: &Path,
    cache: Option<&mut Cache>,
    diags: &mut Diagnostics,
) -> anyhow::Result<Validated> {
    match load_cached(root, cache, diags) {
        Some(v) if diags.is_ok() => Ok(v),
        _ => {
            let mut listing = Vec::new();
            crate::check::print_diagnostics(diags, &mut listing)?;
            anyhow::bail!(
                "the deployment has {} error(s); nothing was written (run `scoresite check {}` for the full report):\n{}",
                diags.error_count(),
                root.display(),
                String::from_utf8_lossy(&listing).trim_end()
            )
        }
    }
}
