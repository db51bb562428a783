//! The output stage. Rendered pages go to an [`Output`]: [`Plain`] writes
//! them as they are (the sandbox); the secure build's `Sealed` encrypts each
//! to its readers. Either writes into a staging directory that [`publish`]
//! swaps in at the end, so a failure or a kill leaves the previous output
//! intact. A rebuild that keeps most files where they are stages only what
//! changed, and [`update`] then puts each staged file in place.
//!
//! Only a previous scoresite output (it carries a [`MARKER`] file) or an
//! empty directory is replaced; anything else needs `--force`, and an output
//! that would contain the deployment it is built from is always refused. On
//! Linux the swap is one atomic `renameat2(RENAME_EXCHANGE)`, so there is no
//! moment without a site; the previous output is then deleted. Leftovers of a
//! killed run (staging or previous copies, which may hold a site a removed
//! user could read) are deleted at the start of the next.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// One rendered file and the bundles that may read it (indices into the
/// plan; none: a public page).
pub struct Page {
    pub path: String,
    pub bytes: Vec<u8>,
    pub readers: Vec<usize>,
    /// The part of the site it belongs to, if it was rendered as one of a
    /// [`Part`]'s pages.
    pub part: Option<String>,
}

/// Pages rendered together from inputs that can be told apart cheaply: a
/// results unit of a bundle, a student report, a batch print.
pub struct Part<'a> {
    /// Unique in the site: the bundle and unit, or the shared page's path.
    pub key: String,
    /// The bundles that may read its pages.
    pub readers: &'a [usize],
}

impl Page {
    /// A page anyone may read.
    pub fn public(path: impl Into<String>, bytes: Vec<u8>) -> Page {
        Page {
            path: path.into(),
            bytes,
            readers: Vec::new(),
            part: None,
        }
    }
}

/// Writes a streamed page's bytes ([`Output::stream`]).
pub type Fill<'a> = &'a dyn Fn(&mut dyn Write) -> Result<()>;

/// Where rendered pages go; called from many threads.
pub trait Output: Sync {
    /// Takes one rendered page.
    fn page(&self, page: Page) -> Result<()>;

    /// Takes pages too large to hold whole (a district's export) that hold
    /// the same bytes, each at its own path for its own readers, written
    /// once by `fill` as they are rendered; each `page.bytes` is empty. By
    /// default the bytes are gathered and each page taken as any other.
    fn stream(&self, pages: Vec<Page>, fill: Fill) -> Result<()> {
        gathered(self, pages, fill)
    }

    /// True when the output already holds every page of `part` as the
    /// previous build left it, given the fingerprint of everything the
    /// part's pages show (`input`, called only when needed), so that they
    /// need not be rendered. Otherwise the part is rendered and its pages
    /// come to [`Output::page`] tagged with its key.
    fn kept(&self, _part: &Part, _input: &dyn Fn() -> String) -> Result<bool> {
        Ok(false)
    }

    /// True when [`Output::kept`] reads fingerprints, so that the render
    /// may compute what they share ahead, on every core.
    fn keeps(&self) -> bool {
        false
    }
}

/// Gives `out` each of `pages` with the bytes `fill` writes, written once.
pub fn gathered(out: &(impl Output + ?Sized), pages: Vec<Page>, fill: Fill) -> Result<()> {
    let mut bytes = Vec::new();
    fill(&mut bytes)?;
    for page in pages {
        out.page(Page {
            bytes: bytes.clone(),
            ..page
        })?;
    }
    Ok(())
}

impl<F: Fn(Page) -> Result<()> + Sync> Output for F {
    fn page(&self, page: Page) -> Result<()> {
        self(page)
    }
}

/// What an output wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    /// HTML pages.
    pub pages: usize,
    pub files: usize,
    pub bytes: u64,
}

/// Counts what an output writes, from many threads.
#[derive(Default)]
pub struct Tally {
    pages: AtomicUsize,
    files: AtomicUsize,
    bytes: AtomicU64,
}

impl Tally {
    /// Writes `bytes` to `path` under `dir` and counts it.
    pub fn write(&self, dir: &Path, path: &str, bytes: &[u8]) -> Result<()> {
        write_file(dir, path, bytes)?;
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Writes the bytes `fill` writes to `path` under `dir`, as they are
    /// written, and counts them; returns how many there were.
    pub fn write_with(&self, dir: &Path, path: &str, fill: Fill) -> Result<u64> {
        let target = dir.join(path);
        let cannot = || format!("cannot write {}", target.display());
        let file = in_folder(&target, |t| std::fs::File::create(t)).with_context(cannot)?;
        let mut buffered = std::io::BufWriter::with_capacity(1 << 18, file);
        fill(&mut buffered)?;
        let file = buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(cannot)?;
        let len = file.metadata().with_context(cannot)?.len();
        self.count(len);
        Ok(len)
    }

    /// Links the file `from` (of an earlier output on the same file system),
    /// of `len` bytes, to `path` under `dir`, copying it where it cannot be
    /// linked, and counts it.
    pub fn link(&self, from: &Path, dir: &Path, path: &str, len: u64) -> Result<()> {
        let target = dir.join(path);
        if in_folder(&target, |t| std::fs::hard_link(from, t)).is_err() {
            std::fs::copy(from, &target)
                .with_context(|| format!("cannot copy {}", from.display()))?;
        }
        self.count(len);
        Ok(())
    }

    /// Counts a file of `len` bytes, left where it is.
    pub fn count(&self, len: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len, Ordering::Relaxed);
    }

    /// Counts a page (an HTML file, whatever it is stored as).
    pub fn page(&self, path: &str) {
        self.pages
            .fetch_add(path.ends_with(".html") as usize, Ordering::Relaxed);
    }

    /// What was counted.
    pub fn written(&self) -> Written {
        Written {
            pages: self.pages.load(Ordering::Relaxed),
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

/// A plaintext site: every page written as it is under `dir`.
pub struct Plain<'a> {
    pub dir: &'a Path,
    pub tally: Tally,
}

impl<'a> Plain<'a> {
    pub fn new(dir: &'a Path) -> Plain<'a> {
        Plain {
            dir,
            tally: Tally::default(),
        }
    }
}

impl Output for Plain<'_> {
    fn page(&self, page: Page) -> Result<()> {
        self.tally.page(&page.path);
        self.tally.write(self.dir, &page.path, &page.bytes)
    }

    fn stream(&self, pages: Vec<Page>, fill: Fill) -> Result<()> {
        let Some((first, rest)) = pages.split_first() else {
            return Ok(());
        };
        self.tally.page(&first.path);
        let len = self.tally.write_with(self.dir, &first.path, fill)?;
        let written = self.dir.join(&first.path);
        for page in rest {
            self.tally.page(&page.path);
            self.tally.link(&written, self.dir, &page.path, len)?;
        }
        Ok(())
    }
}

/// The file that marks a directory as a scoresite output.
pub const MARKER: &str = ".scoresite-output";

/// Prefix of the temporary directories beside the output; the writer's
/// process id follows, so that a later run can tell a dead run's leftovers.
const STAGING: &str = ".scoresite-staging-";

/// Where an output goes and what may be replaced there.
pub struct Destination<'a> {
    pub path: &'a Path,
    /// What the output is ("site", "sandbox site", "deployment"), for the marker.
    pub kind: &'static str,
    /// Replace a directory that is not a previous scoresite output.
    pub force: bool,
    /// A directory the output must never contain: the deployment it comes from.
    pub protect: Option<&'a Path>,
}

/// Writes `bytes` to `path` under `dir`, creating its folders.
pub fn write_file(dir: &Path, path: &str, bytes: &[u8]) -> Result<()> {
    let target = dir.join(path);
    in_folder(&target, |t| std::fs::write(t, bytes))
        .with_context(|| format!("cannot write {}", target.display()))
}

/// Deletes the file at `path`; one already gone is no error.
pub fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot delete {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Runs `create` on `target`, and when its folder is missing, creates the
/// folder and runs it again: most files go into a folder that exists, and
/// looking first would cost every one of them two more system calls.
fn in_folder<T>(target: &Path, create: impl Fn(&Path) -> std::io::Result<T>) -> std::io::Result<T> {
    match create(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            create(target)
        }
        done => done,
    }
}

/// Refuses a destination whose replacement would lose what is not ours.
fn check(dest: &Destination) -> Result<()> {
    let path = dest.path;
    if let Some(protect) = dest.protect {
        if let (Ok(p), Ok(d)) = (protect.canonicalize(), path.canonicalize()) {
            if p.starts_with(&d) {
                bail!(
                    "{} holds the deployment {}; publishing there would delete it. Choose an output outside the deployment",
                    path.display(),
                    protect.display()
                );
            }
        }
    }
    if !path.exists() {
        return Ok(());
    }
    if !path.is_dir() {
        bail!(
            "{} is a file; expected a directory for the output",
            path.display()
        );
    }
    let empty = std::fs::read_dir(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .next()
        .is_none();
    if empty || path.join(MARKER).is_file() || dest.force {
        return Ok(());
    }
    bail!(
        "{} exists and is not a previous scoresite output (it has no {MARKER}); choose another output directory, or pass --force to replace it and everything in it",
        path.display()
    )
}

/// Deletes staging and previous-output directories that a killed run left in
/// `parent` (their writer's process is gone).
fn remove_leftovers(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(STAGING) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        if !process_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether process `pid` still runs (Linux `/proc`; elsewhere assume it does).
fn process_alive(pid: &str) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || pid.is_empty() || proc.join(pid).exists()
}

/// Swaps two directories in one step where the system can; otherwise moves
/// `dest` aside and `staged` in. After it, `staged` holds the old output.
fn swap(staged: &Path, dest: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes());
        let (a, b) = (c(staged)?, c(dest)?);
        // SAFETY: two valid NUL-terminated paths; renameat2 reads them only.
        let done = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if done == 0 {
            return Ok(());
        }
    }
    let aside = staged.with_extension("old");
    std::fs::rename(dest, &aside)
        .with_context(|| format!("cannot move the previous {} aside", dest.display()))?;
    if let Err(e) = std::fs::rename(staged, dest) {
        std::fs::rename(&aside, dest)?;
        return Err(e).with_context(|| format!("cannot publish {}", dest.display()));
    }
    std::fs::rename(&aside, staged)?;
    Ok(())
}

/// Runs `fill` on a fresh temporary directory beside the destination, marks
/// it, then swaps it in. On error the temporary directory is removed and the
/// destination is untouched.
pub fn publish<T>(dest: &Destination, fill: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let (staging, value) = stage(dest, fill)?;
    if dest.path.exists() {
        swap(staging.path(), dest.path)?;
        // `staging` now holds the previous output, and is deleted when dropped.
    } else {
        let staged = staging.keep();
        std::fs::rename(&staged, dest.path)
            .with_context(|| format!("cannot publish {}", dest.path.display()))?;
    }
    Ok(value)
}

/// Checks the destination, removes a dead run's leftovers beside it, and
/// runs `fill` on a fresh staging directory there, which it then marks.
fn stage<T>(
    dest: &Destination,
    fill: impl FnOnce(&Path) -> Result<T>,
) -> Result<(tempfile::TempDir, T)> {
    check(dest)?;
    let parent: PathBuf = match dest.path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    remove_leftovers(&parent);
    let staging = tempfile::Builder::new()
        .prefix(&format!("{STAGING}{}-", std::process::id()))
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a staging directory in {}", parent.display()))?;
    let value = fill(staging.path())?;
    write_file(
        staging.path(),
        MARKER,
        format!("{}\n", dest.kind).as_bytes(),
    )?;
    Ok((staging, value))
}

/// Updates a previous output in place, for a rebuild that keeps most of its
/// files where they are: `fill` writes only the new and changed files into
/// a staging directory beside it, as for [`publish`]. Then each staged file
/// is renamed over its place in the output, in the order `rank` gives its
/// path (lowest first), and every other file of the output is deleted,
/// except in the folder `kept`, whose files the caller accounts for.
///
/// A failure in `fill` leaves the output as it was. Each file is replaced
/// in one step, but the output as a whole is not: a run killed while it
/// renames leaves some files new and some old.
pub fn update<T>(
    dest: &Destination,
    kept: &str,
    rank: impl Fn(&str) -> u8,
    fill: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    let (staging, value) = stage(dest, fill)?;
    let mut staged: Vec<String> = walkdir::WalkDir::new(staging.path())
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(staging.path()).ok()?;
            Some(rel.to_string_lossy().into_owned())
        })
        .collect();
    staged.sort_by_cached_key(|p| (rank(p), p.clone()));
    for rel in &staged {
        let target = dest.path.join(rel);
        in_folder(&target, |t| std::fs::rename(staging.path().join(rel), t))
            .with_context(|| format!("cannot publish {}", target.display()))?;
    }
    let staged: std::collections::HashSet<&str> = staged.iter().map(String::as_str).collect();
    let kept = dest.path.join(kept);
    let stale = walkdir::WalkDir::new(dest.path)
        .into_iter()
        .filter_entry(|e| e.path() != kept)
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            let rel = e.path().strip_prefix(dest.path).unwrap_or(e.path());
            !staged.contains(rel.to_string_lossy().as_ref())
        });
    for entry in stale {
        std::fs::remove_file(entry.path())
            .with_context(|| format!("cannot delete {}", entry.path().display()))?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(path: &Path) -> Destination<'_> {
        Destination {
            path,
            kind: "site",
            force: false,
            protect: None,
        }
    }

    #[test]
    fn failure_leaves_the_previous_output() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("site");
        publish(&site(&dest), |d| Ok(std::fs::write(d.join("a"), "one")?)).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("a")).unwrap(), "one");
        let err = publish::<()>(&site(&dest), |d| {
            std::fs::write(d.join("a"), "two")?;
            anyhow::bail!("interrupted")
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(dest.join("a")).unwrap(), "one");
        publish(&site(&dest), |d| Ok(std::fs::write(d.join("b"), "three")?)).unwrap();
        assert!(!dest.join("a").exists());
        assert!(dest.join(MARKER).exists());
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no staging directories are left behind");
    }

    #[test]
    fn an_update_replaces_in_place_and_a_failed_one_changes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("site");
        publish(&site(&dest), |d| {
            for (path, text) in [("d/a", "a1"), ("d/b", "b1"), ("index", "i1"), ("old", "o1")] {
                write_file(d, path, text.as_bytes())?;
            }
            Ok(())
        })
        .unwrap();
        let read = |p: &str| std::fs::read_to_string(dest.join(p)).ok();
        let err = update::<()>(
            &site(&dest),
            "d",
            |_| 0,
            |d| {
                write_file(d, "d/a", b"a2")?;
                anyhow::bail!("interrupted")
            },
        );
        assert!(err.is_err());
        assert_eq!(read("d/a").as_deref(), Some("a1"));
        // Files are renamed lowest rank first: here the sealed page is in
        // place before the rename over a folder fails.
        std::fs::create_dir_all(dest.join("blocker/x")).unwrap();
        let rank = |p: &str| u8::from(!p.starts_with("d/"));
        let err = update(&site(&dest), "d", rank, |d| {
            write_file(d, "blocker", b"file")?;
            write_file(d, "d/a", b"a2")?;
            Ok(())
        });
        assert!(err.is_err());
        assert_eq!(read("d/a").as_deref(), Some("a2"));
        std::fs::remove_dir_all(dest.join("blocker")).unwrap();
        update(&site(&dest), "d", rank, |d| {
            write_file(d, "index", b"i2")?;
            write_file(d, "d/a", b"a2")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(read("d/a").as_deref(), Some("a2"));
        assert_eq!(read("index").as_deref(), Some("i2"));
        assert_eq!(
            read("d/b").as_deref(),
            Some("b1"),
            "the kept folder is left"
        );
        assert_eq!(read("old"), None, "a file not written again is deleted");
        assert!(dest.join(MARKER).exists());
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no staging directories are left behind");
    }

    #[test]
    fn only_a_scoresite_output_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("mine");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("thesis.docx"), "years of work").unwrap();
        let err = publish(&site(&dest), |_| Ok(())).unwrap_err();
        assert!(
            err.to_string().contains("not a previous scoresite output"),
            "{err}"
        );
        assert!(dest.join("thesis.docx").exists());
        let forced = Destination {
            force: true,
            ..site(&dest)
        };
        publish(&forced, |_| Ok(())).unwrap();
        assert!(!dest.join("thesis.docx").exists());
    }

    #[test]
    fn an_output_holding_the_deployment_is_refused_even_with_force() {
        let root = tempfile::tempdir().unwrap();
        let dep = root.path().join("lea");
        std::fs::create_dir_all(dep.join("data")).unwrap();
        for path in [dep.clone(), root.path().to_path_buf()] {
            let dest = Destination {
                path: &path,
                kind: "site",
                force: true,
                protect: Some(&dep),
            };
            let err = publish(&dest, |_| Ok(())).unwrap_err();
            assert!(err.to_string().contains("holds the deployment"), "{err}");
        }
        assert!(dep.join("data").is_dir());
    }

    #[test]
    fn a_dead_run_s_leftovers_are_removed() {
        let root = tempfile::tempdir().unwrap();
        // No process has id 0 in /proc, so this is a dead run's leftover.
        let stale = root.path().join(format!("{STAGING}0-abc"));
        std::fs::create_dir_all(stale.join("d")).unwrap();
        let live = root
            .path()
            .join(format!("{STAGING}{}-xyz", std::process::id()));
        std::fs::create_dir_all(&live).unwrap();
        publish(&site(&root.path().join("site")), |_| Ok(())).unwrap();
        assert!(!stale.exists());
        assert!(live.exists(), "a running build's staging is left alone");
    }
}
