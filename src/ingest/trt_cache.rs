//! Parsed TRT documents kept from one build to the next, so that a rebuild
//! reads and parses only the documents that changed: at LEA scale the TRT
//! XML is tens of gigabytes, and parsing it was most of a rebuild that
//! changed one export.
//!
//! The cache is one stream of entries in the order documents are loaded,
//! each the document's path, its [`Stamp`] and its report ([`trt::Parsed`]),
//! encoded and deflated. A document whose stamp is the one its entry
//! recorded is taken from the entry rather than read, as git's index and
//! make trust a file's metadata. A stamp younger than the build's start
//! by [`RACY`] is not kept: the file could change again within its file
//! system's time resolution and keep the same stamp. The caller seals the
//! stream (it holds student data); nothing here reads anything else.

use super::trt;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A file's length, inode, and modified and changed times (ns since the
/// epoch). A file whose stamp is the one recorded is taken to have the
/// content it had. Writing a file changes its changed time, which no one
/// can set back, so a same-length edit whose modified time was set back is
/// still seen.
pub type Stamp = [i64; 4];

/// How long before the start of a run a file must have last changed for
/// its stamp to be trusted, in ns.
pub const RACY: i64 = 2_000_000_000;

/// The first bytes of a cache stream: its format.
const MAGIC: &[u8] = b"scoresite parsed TRT 1\n";

/// The [`Stamp`] of a file with metadata `meta`.
pub fn stamp(meta: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
    [
        meta.len() as i64,
        meta.ino() as i64,
        ns(meta.mtime(), meta.mtime_nsec()),
        ns(meta.ctime(), meta.ctime_nsec()),
    ]
}

/// `t` in ns since the epoch.
pub fn nanos(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The end of a cache being written: [`Sink::finish`] completes it (the
/// stream is sealed, then put in place of the one read).
pub trait Sink: Write + Send {
    fn finish(self: Box<Self>) -> std::io::Result<()>;
}

/// One document of a cache.
struct Entry {
    path: PathBuf,
    stamp: Stamp,
    /// The deflated encoding of its report.
    blob: Vec<u8>,
}

/// What the cache knows of one document about to be loaded.
#[derive(Default)]
pub struct Lookup {
    /// Its stamp, when that is old enough to be trusted.
    pub stamp: Option<Stamp>,
    /// The deflated report kept under that stamp.
    pub blob: Option<Vec<u8>>,
}

/// The cache of the last run, read as documents are loaded, and the cache
/// of this run, written as they are.
pub struct Cache {
    previous: Option<Box<dyn Read + Send>>,
    /// The next entry of `previous`, read but not yet asked for.
    ahead: Option<Entry>,
    next: Option<Box<dyn Sink>>,
    trusted_before: i64,
}

impl Cache {
    /// A cache that reads `previous` (a stream an earlier run wrote, if
    /// any) and writes `next`.
    pub fn new(previous: Option<Box<dyn Read + Send>>, next: Box<dyn Sink>) -> Cache {
        let mut cache = Cache {
            previous,
            ahead: None,
            next: None,
            trusted_before: nanos(std::time::SystemTime::now()) - RACY,
        };
        let mut magic = [0u8; MAGIC.len()];
        let readable = cache
            .previous
            .as_mut()
            .is_some_and(|r| r.read_exact(&mut magic).is_ok() && magic == MAGIC);
        if !readable {
            cache.previous = None;
        }
        let mut next = next;
        cache.next = next.write_all(MAGIC).is_ok().then_some(next);
        cache
    }

    /// What the cache holds for each of `paths`, in the order documents are
    /// loaded. Files are looked at in parallel; the stream is read in order.
    pub fn lookup(&mut self, paths: &[PathBuf]) -> Vec<Lookup> {
        use rayon::prelude::*;
        let trusted_before = self.trusted_before;
        let stamps: Vec<Option<Stamp>> = paths
            .par_iter()
            .map(|p| {
                let s = stamp(&std::fs::metadata(p).ok()?);
                (s[2].max(s[3]) < trusted_before).then_some(s)
            })
            .collect();
        paths
            .iter()
            .zip(stamps)
            .map(|(path, stamp)| Lookup {
                stamp,
                blob: stamp.and_then(|s| self.kept(path, s)),
            })
            .collect()
    }

    /// The blob kept for `path` under `stamp`, reading the stream up to it.
    fn kept(&mut self, path: &Path, stamp: Stamp) -> Option<Vec<u8>> {
        loop {
            if self.ahead.is_none() {
                self.ahead = self.read_entry();
            }
            let entry = self.ahead.as_ref()?;
            match entry.path.as_path().cmp(path) {
                std::cmp::Ordering::Less => self.ahead = None,
                std::cmp::Ordering::Greater => return None,
                std::cmp::Ordering::Equal => {
                    let entry = self.ahead.take()?;
                    return (entry.stamp == stamp).then_some(entry.blob);
                }
            }
        }
    }

    /// The next entry of the previous cache; `None` at its end, or for
    /// good once it cannot be read.
    fn read_entry(&mut self) -> Option<Entry> {
        let r = self.previous.as_mut()?;
        let entry = read_entry(r);
        if entry.is_none() {
            self.previous = None;
        }
        entry
    }

    /// Keeps `blob` as the report of `path` under `stamp`. A cache that
    /// cannot be written is given up, and the next run parses afresh.
    pub fn keep(&mut self, path: &Path, stamp: Stamp, blob: &[u8]) {
        if let Some(w) = self.next.as_mut() {
            if write_entry(w, path, stamp, blob).is_err() {
                self.next = None;
            }
        }
    }

    /// Completes the cache this run wrote.
    pub fn finish(mut self) -> std::io::Result<()> {
        match self.next.take() {
            Some(next) => next.finish(),
            None => Err(std::io::Error::other("the cache could not be written")),
        }
    }
}

/// The deflated encoding of `parsed`, to keep; `None` when it is not kept.
pub fn blob(parsed: &trt::Parsed) -> Option<Vec<u8>> {
    let encoded = parsed.encode()?;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), crate::seal::LEVEL);
    z.write_all(&encoded).ok()?;
    z.finish().ok()
}

/// The report a [`blob`] holds.
pub fn unblob(blob: &[u8]) -> Option<trt::Parsed> {
    let mut encoded = Vec::new();
    flate2::read::ZlibDecoder::new(blob)
        .read_to_end(&mut encoded)
        .ok()?;
    trt::Parsed::decode(&encoded)
}

fn write_entry(w: &mut dyn Write, path: &Path, stamp: Stamp, blob: &[u8]) -> std::io::Result<()> {
    let name = path.as_os_str().as_bytes();
    w.write_all(&(name.len() as u32).to_le_bytes())?;
    w.write_all(name)?;
    for n in stamp {
        w.write_all(&n.to_le_bytes())?;
    }
    w.write_all(&(blob.len() as u32).to_le_bytes())?;
    w.write_all(blob)
}

fn read_entry(r: &mut dyn Read) -> Option<Entry> {
    let mut word = [0u8; 4];
    let mut long = [0u8; 8];
    r.read_exact(&mut word).ok()?;
    let name = read_bytes(r, u32::from_le_bytes(word) as usize)?;
    let mut stamp = [0i64; 4];
    for n in &mut stamp {
        r.read_exact(&mut long).ok()?;
        *n = i64::from_le_bytes(long);
    }
    r.read_exact(&mut word).ok()?;
    let blob = read_bytes(r, u32::from_le_bytes(word) as usize)?;
    Some(Entry {
        path: PathBuf::from(std::ffi::OsStr::from_bytes(&name)),
        stamp,
        blob,
    })
}

/// `len` bytes of `r`; a length beyond any real entry ends the stream.
fn read_bytes(r: &mut dyn Read, len: usize) -> Option<Vec<u8>> {
    const MAX: usize = 1 << 28;
    if len > MAX {
        return None;
    }
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes).ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A cache stream written into memory.
    struct Memory(Arc<Mutex<Vec<u8>>>);

    impl Write for Memory {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sink for Memory {
        fn finish(self: Box<Self>) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn doc(n: usize) -> String {
        format!(
            r#"<TDSReport><Test name="T{n}" subject="ELA"/><Opportunity status="scored"/></TDSReport>"#
        )
    }

    /// One run over `paths`: each document taken from the cache or parsed,
    /// and kept; returns which were taken, and the stream written.
    fn run(
        previous: Option<Vec<u8>>,
        paths: &[PathBuf],
        trusted_before: i64,
    ) -> (Vec<bool>, Vec<u8>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let previous = previous.map(|p| Box::new(std::io::Cursor::new(p)) as Box<dyn Read + Send>);
        let mut cache = Cache::new(previous, Box::new(Memory(written.clone())));
        cache.trusted_before = trusted_before;
        let mut taken = Vec::new();
        for (path, found) in paths.iter().zip(cache.lookup(paths)) {
            let parsed = trt::parse(&std::fs::read_to_string(path).unwrap());
            if let Some(blob) = &found.blob {
                assert_eq!(unblob(blob).unwrap().encode(), parsed.encode(), "{path:?}");
            }
            taken.push(found.blob.is_some());
            if let Some(stamp) = found.stamp {
                cache.keep(path, stamp, &blob(&parsed).unwrap());
            }
        }
        cache.finish().unwrap();
        let bytes = written.lock().unwrap().clone();
        (taken, bytes)
    }

    #[test]
    fn a_parse_is_taken_only_while_its_file_keeps_its_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..3)
            .map(|n| dir.path().join(format!("{n}.xml")))
            .collect();
        for (n, p) in paths.iter().enumerate() {
            std::fs::write(p, doc(n)).unwrap();
        }
        let (taken, first) = run(None, &paths, i64::MAX);
        assert_eq!(taken, [false; 3]);
        let (taken, second) = run(Some(first), &paths, i64::MAX);
        assert_eq!(taken, [true; 3]);
        // The middle document changes: it alone is parsed again.
        std::fs::write(&paths[1], doc(10)).unwrap();
        let (taken, third) = run(Some(second), &paths, i64::MAX);
        assert_eq!(taken, [true, false, true]);
        // A document asked for out of order is parsed, not mistaken.
        let reversed: Vec<PathBuf> = paths.iter().rev().cloned().collect();
        let (taken, _) = run(Some(third.clone()), &reversed, i64::MAX);
        assert_eq!(taken, [true, false, false]);
        // Only the documents still there are kept.
        let (_, fourth) = run(Some(third), &paths[..1], i64::MAX);
        let (taken, _) = run(Some(fourth), &paths, i64::MAX);
        assert_eq!(taken, [true, false, false]);
    }

    #[test]
    fn a_young_stamp_or_a_foreign_stream_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.xml");
        std::fs::write(&path, doc(0)).unwrap();
        let paths = [path];
        // Changed after the trusted time: parsed, not kept.
        let (_, young) = run(None, &paths, 0);
        assert_eq!(young, MAGIC);
        let (_, kept) = run(None, &paths, i64::MAX);
        let (taken, _) = run(Some(kept.clone()), &paths, 0);
        assert_eq!(taken, [false]);
        let mut foreign = kept;
        foreign[0] ^= 1;
        let (taken, _) = run(Some(foreign), &paths, i64::MAX);
        assert_eq!(taken, [false]);
    }
}
