//! Parsed TRT documents kept from one build to the next, so that a rebuild
//! reads and parses only the documents that changed: at LEA scale the TRT
//! XML is tens of gigabytes, and parsing it was most of a rebuild that
//! changed one export.
//!
//! The cache is one stream of entries in the order documents are loaded,
//! each the document's path, its [`Stamp`] and its report ([`trt::Parsed`]),
//! encoded and compressed with LZ4: every rebuild reads the whole stream,
//! and LZ4 decompresses several times faster than inflate, for a stream
//! about a third larger. A document whose stamp is the one its entry
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
/// 2: LZ4 blocks rather than zlib streams.
const MAGIC: &[u8] = b"scoresite parsed TRT 2\n";

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
    /// The compressed encoding of its report.
    blob: Vec<u8>,
}

/// What the cache knows of one document about to be loaded.
#[derive(Default)]
pub struct Lookup {
    /// Its stamp, when that is old enough to be trusted.
    pub stamp: Option<Stamp>,
    /// The compressed report kept under that stamp.
    pub blob: Option<Vec<u8>>,
}

/// Opens the stream an earlier run wrote, from its start; `None` when there
/// is none or it does not open.
pub type Reopen = Box<dyn Fn() -> Option<Box<dyn Read + Send>> + Send>;

/// The cache of the last run, read as documents are loaded, and the cache
/// of this run, written as they are. While every document is taken from
/// the last run's cache, in its order, nothing is written: the new cache
/// would be the old one, which is then kept as it is. At the first
/// difference, the entries taken so far are copied from the old cache, and
/// every entry after them is written.
pub struct Cache {
    previous: Option<Box<dyn Read + Send>>,
    reopen: Reopen,
    /// The next entry of `previous`, read but not yet asked for.
    ahead: Option<Entry>,
    next: Option<Box<dyn Sink>>,
    trusted_before: i64,
    /// An entry of the old cache was passed over, or changed, or the old
    /// cache could not be read to its end: the new one differs.
    differs: bool,
    /// Entries kept, each the old cache's next, before anything was written.
    unwritten: usize,
    writing: bool,
}

impl Cache {
    /// A cache that reads the stream an earlier run wrote (`reopen` opens
    /// it, when there is one) and writes `next` when it differs.
    pub fn new(reopen: Reopen, next: Box<dyn Sink>) -> Cache {
        let mut cache = Cache {
            previous: opened(&reopen),
            reopen,
            ahead: None,
            next: Some(next),
            trusted_before: nanos(std::time::SystemTime::now()) - RACY,
            differs: false,
            unwritten: 0,
            writing: false,
        };
        cache.differs = cache.previous.is_none();
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
                std::cmp::Ordering::Less => {
                    self.ahead = None;
                    self.differs = true;
                }
                std::cmp::Ordering::Greater => return None,
                std::cmp::Ordering::Equal => {
                    let entry = self.ahead.take()?;
                    self.differs |= entry.stamp != stamp;
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
        if !matches!(entry, Ok(Some(_))) {
            self.previous = None;
            self.differs |= entry.is_err();
        }
        entry.ok().flatten()
    }

    /// Keeps `blob` as the report of `path` under `stamp`; `taken` when it
    /// came from the old cache. A cache that cannot be written is given up,
    /// and the next run parses afresh.
    pub fn keep(&mut self, path: &Path, stamp: Stamp, blob: &[u8], taken: bool) {
        if !self.writing {
            if taken && !self.differs {
                self.unwritten += 1;
                return;
            }
            self.start_writing();
        }
        if let Some(w) = self.next.as_mut() {
            if write_entry(w, path, stamp, blob).is_err() {
                self.next = None;
            }
        }
    }

    /// Writes the new cache's start: its format, and the entries kept so
    /// far, copied from the old cache.
    fn start_writing(&mut self) {
        self.writing = true;
        let Some(w) = self.next.as_mut() else {
            return;
        };
        let mut old = (self.unwritten > 0).then(|| opened(&self.reopen)).flatten();
        let mut copied = w.write_all(MAGIC).is_ok();
        for _ in 0..self.unwritten {
            let entry = old.as_mut().and_then(|r| read_entry(r).ok().flatten());
            copied &= entry.is_some_and(|e| write_entry(w, &e.path, e.stamp, &e.blob).is_ok());
        }
        if !copied {
            self.next = None;
        }
    }

    /// Completes the cache: keeps the old one when the new one would be
    /// the same, and otherwise finishes writing the new one in its place.
    pub fn finish(mut self) -> std::io::Result<()> {
        if !self.writing {
            // Entries of the old cache left unread make it differ.
            if self.ahead.is_some() || self.read_entry().is_some() {
                self.differs = true;
            }
            if !self.differs {
                return Ok(());
            }
            self.start_writing();
        }
        match self.next.take() {
            Some(next) => next.finish(),
            None => Err(std::io::Error::other("the cache could not be written")),
        }
    }
}

/// The old cache `reopen` opens, past its format line; `None` when it is
/// of another format.
fn opened(reopen: &Reopen) -> Option<Box<dyn Read + Send>> {
    let mut r = reopen()?;
    let mut magic = [0u8; MAGIC.len()];
    (r.read_exact(&mut magic).is_ok() && magic == MAGIC).then_some(r)
}

/// The compressed encoding of `parsed`, to keep (an LZ4 block after its
/// length); `None` when it is not kept.
pub fn blob(parsed: &trt::Parsed) -> Option<Vec<u8>> {
    Some(lz4_flex::compress_prepend_size(&parsed.encode()?))
}

/// The report a [`blob`] holds.
pub fn unblob(blob: &[u8]) -> Option<trt::Parsed> {
    trt::Parsed::decode(&lz4_flex::decompress_size_prepended(blob).ok()?)
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

/// The next entry of `r`: `Ok(None)` at its end, an error when it stops
/// within an entry.
fn read_entry(r: &mut dyn Read) -> Result<Option<Entry>, ()> {
    let mut word = [0u8; 4];
    let mut long = [0u8; 8];
    match r.read(&mut word[..1]) {
        Ok(0) => return Ok(None),
        Ok(_) => r.read_exact(&mut word[1..]).map_err(drop)?,
        Err(_) => return Err(()),
    }
    let name = read_bytes(r, u32::from_le_bytes(word) as usize).ok_or(())?;
    let mut stamp = [0i64; 4];
    for n in &mut stamp {
        r.read_exact(&mut long).map_err(drop)?;
        *n = i64::from_le_bytes(long);
    }
    r.read_exact(&mut word).map_err(drop)?;
    let blob = read_bytes(r, u32::from_le_bytes(word) as usize).ok_or(())?;
    Ok(Some(Entry {
        path: PathBuf::from(std::ffi::OsStr::from_bytes(&name)),
        stamp,
        blob,
    }))
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

    /// A cache stream written into memory; `finished` once it is complete.
    struct Memory(Arc<Mutex<(Vec<u8>, bool)>>);

    impl Write for Memory {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().0.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sink for Memory {
        fn finish(self: Box<Self>) -> std::io::Result<()> {
            self.0.lock().unwrap().1 = true;
            Ok(())
        }
    }

    fn doc(n: usize) -> String {
        format!(
            r#"<TDSReport><Test name="T{n}" subject="ELA"/><Opportunity status="scored"/></TDSReport>"#
        )
    }

    /// One run over `paths`: each document taken from the cache or parsed,
    /// and kept; returns which were taken, and the cache left for the next
    /// run (the old one when nothing new was written).
    fn run(
        previous: Option<Vec<u8>>,
        paths: &[PathBuf],
        trusted_before: i64,
    ) -> (Vec<bool>, Option<Vec<u8>>) {
        let written = Arc::new(Mutex::new((Vec::new(), false)));
        let old = previous.clone();
        let reopen: Reopen = Box::new(move || {
            let bytes = old.clone()?;
            Some(Box::new(std::io::Cursor::new(bytes)) as Box<dyn Read + Send>)
        });
        let mut cache = Cache::new(reopen, Box::new(Memory(written.clone())));
        cache.trusted_before = trusted_before;
        let mut taken = Vec::new();
        for (path, found) in paths.iter().zip(cache.lookup(paths)) {
            let parsed = trt::parse(&std::fs::read_to_string(path).unwrap());
            if let Some(blob) = &found.blob {
                assert_eq!(unblob(blob).unwrap().encode(), parsed.encode(), "{path:?}");
            }
            taken.push(found.blob.is_some());
            if let Some(stamp) = found.stamp {
                let blob = found.blob.clone().unwrap_or_else(|| blob(&parsed).unwrap());
                cache.keep(path, stamp, &blob, found.blob.is_some());
            }
        }
        cache.finish().unwrap();
        let (bytes, finished) = written.lock().unwrap().clone();
        (taken, if finished { Some(bytes) } else { previous })
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
        // Nothing changed: every parse is taken, and the cache left as it is.
        let (taken, second) = run(first.clone(), &paths, i64::MAX);
        assert_eq!(taken, [true; 3]);
        assert_eq!(second, first);
        // The middle document changes: it alone is parsed again.
        std::fs::write(&paths[1], doc(10)).unwrap();
        let (taken, third) = run(second, &paths, i64::MAX);
        assert_eq!(taken, [true, false, true]);
        assert_ne!(third, first);
        let (taken, _) = run(third.clone(), &paths, i64::MAX);
        assert_eq!(taken, [true; 3]);
        // A document asked for out of order is parsed, not mistaken.
        let reversed: Vec<PathBuf> = paths.iter().rev().cloned().collect();
        let (taken, _) = run(third.clone(), &reversed, i64::MAX);
        assert_eq!(taken, [true, false, false]);
        // Only the documents still there are kept, whichever goes.
        for gone in 0..3 {
            let left: Vec<PathBuf> = (0..3)
                .filter(|&n| n != gone)
                .map(|n| paths[n].clone())
                .collect();
            let (taken, fewer) = run(third.clone(), &left, i64::MAX);
            assert_eq!(taken, [true, true]);
            let (taken, _) = run(fewer, &paths, i64::MAX);
            let mut expected = [true; 3];
            expected[gone] = false;
            assert_eq!(taken, expected, "without {gone}");
        }
    }

    #[test]
    fn a_young_stamp_or_a_foreign_stream_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.xml");
        std::fs::write(&path, doc(0)).unwrap();
        let paths = [path];
        // Changed after the trusted time: parsed, not kept.
        let (_, young) = run(None, &paths, 0);
        assert_eq!(young.unwrap(), MAGIC);
        let (_, kept) = run(None, &paths, i64::MAX);
        let (taken, _) = run(kept.clone(), &paths, 0);
        assert_eq!(taken, [false]);
        let mut foreign = kept.clone().unwrap();
        foreign[0] ^= 1;
        let (taken, _) = run(Some(foreign), &paths, i64::MAX);
        assert_eq!(taken, [false]);
        // A cache cut short is written again.
        let mut cut = kept.unwrap();
        cut.pop();
        let (taken, again) = run(Some(cut.clone()), &paths, i64::MAX);
        assert_eq!(taken, [false]);
        assert_ne!(again.unwrap(), cut);
    }
}
