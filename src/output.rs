//! Atomic publishing of a generated directory: everything is written into a
//! temporary sibling and swapped in at the end, so a failure or a kill leaves
//! the previous output intact.

use anyhow::{Context, Result};
use std::path::Path;

/// Writes `bytes` to `path` under `dir`, creating its folders.
pub fn write_file(dir: &Path, path: &str, bytes: &[u8]) -> Result<()> {
    let target = dir.join(path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&target, bytes).with_context(|| format!("cannot write {}", target.display()))
}

/// Runs `fill` on a fresh temporary directory beside `dest`, then replaces
/// `dest` with it. On error the temporary directory is removed and `dest` is
/// untouched.
pub fn publish<T>(dest: &Path, fill: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".scoresite-staging-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a staging directory in {}", parent.display()))?;
    let value = fill(staging.path())?;
    let staged = staging.keep();
    if dest.exists() {
        let old = tempfile::Builder::new()
            .prefix(".scoresite-old-")
            .tempdir_in(&parent)?
            .keep();
        std::fs::remove_dir(&old)?;
        std::fs::rename(dest, &old)
            .with_context(|| format!("cannot move the previous {} aside", dest.display()))?;
        if let Err(e) = std::fs::rename(&staged, dest) {
            std::fs::rename(&old, dest)?;
            return Err(e).with_context(|| format!("cannot publish {}", dest.display()));
        }
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot remove {}", old.display()))?;
    } else {
        std::fs::rename(&staged, dest)
            .with_context(|| format!("cannot publish {}", dest.display()))?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_leaves_the_previous_output() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("site");
        publish(&dest, |d| Ok(std::fs::write(d.join("a"), "one")?)).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("a")).unwrap(), "one");
        let err = publish::<()>(&dest, |d| {
            std::fs::write(d.join("a"), "two")?;
            anyhow::bail!("interrupted")
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(dest.join("a")).unwrap(), "one");
        publish(&dest, |d| Ok(std::fs::write(d.join("b"), "three")?)).unwrap();
        assert!(!dest.join("a").exists());
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no staging directories are left behind");
    }
}
