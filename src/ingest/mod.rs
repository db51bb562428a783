//! Ingest: one module per input format. Files in `data/` are recognised by their
//! content (the header line or the XML root element), never by their name; a
//! name only says when to look (a `.xml` file's content is looked at as it is
//! parsed, in one read, rather than before).

pub mod cers;
pub mod cers_cells;
pub mod cers_columns;
pub mod groups;
pub mod institutions;
pub mod lines;
pub mod oneroster;
pub mod record;
pub mod toms;
pub mod trt;
pub mod trt_cache;
pub mod values;

use crate::catalog::Catalog;
use crate::diag::{Diagnostics, Location};
use crate::model::{Dataset, Exam, ALL_FLAGS};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};

/// How many records a results reader parses in parallel at a time; each
/// batch is added in file order, so memory stays bounded and output does
/// not depend on thread timing.
const BATCH: usize = 8192;

/// The input formats scoresite reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// CERS District/School export CSV.
    CersExport,
    /// CERS Student Roster export CSV (per assessment, from the CERS UI).
    CersRoster,
    /// TOMS Student Score Data File (CAASPP or Summative ELPAC).
    ScoreData,
    /// RDW student-groups CSV.
    Groups,
    /// One file of a OneRoster 1.1 CSV roster (in a folder or a zip).
    OneRoster(oneroster::Table),
    /// TRT XML.
    Trt,
    /// CALPADS caret-delimited organisation file.
    CalpadsOrgs,
    /// Simple institutions CSV.
    InstitutionsCsv,
}

impl Format {
    /// A human name for summaries and messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::CersExport => "CERS District/School export",
            Format::CersRoster => "CERS Student Roster export",
            Format::ScoreData => "TOMS Student Score Data File",
            Format::Groups => "RDW student groups",
            Format::OneRoster(_) => "OneRoster 1.1 roster",
            Format::Trt => "TRT XML",
            Format::CalpadsOrgs => "CALPADS organisations",
            Format::InstitutionsCsv => "institutions CSV",
        }
    }
}

/// Recognises a file's format from its first bytes.
pub fn detect(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        return xml_root(text)
            .filter(|r| trt::recognises(r))
            .map(|_| Format::Trt);
    }
    let first = text.split(['\r', '\n']).next().unwrap_or("");
    if toms::recognises(first) {
        return Some(Format::ScoreData);
    }
    if institutions::recognises_calpads(first) {
        return Some(Format::CalpadsOrgs);
    }
    let delim = groups::delimiter(first) as char;
    let header: Vec<String> = first
        .split(delim)
        .map(|h| h.trim().trim_matches('"').trim().to_string())
        .collect();
    // A header that starts like a groups file is one, so a near miss gets the exact-header error.
    if header
        .first()
        .is_some_and(|h| h.eq_ignore_ascii_case("group_name"))
    {
        Some(Format::Groups)
    } else if let Some(table) = oneroster::table_of(&header) {
        Some(Format::OneRoster(table))
    } else if cers::recognises(&header) {
        Some(if cers::is_roster(&header) {
            Format::CersRoster
        } else {
            Format::CersExport
        })
    } else if institutions::recognises_simple(&header) {
        Some(Format::InstitutionsCsv)
    } else {
        None
    }
}

/// What an unrecognised file seems to be, from its first bytes, so that the
/// error names it: files LEAs have that hold no results scoresite reads.
pub fn looks_like(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"PK\x03\x04") {
        return Some("a zip archive with no OneRoster CSV file in it, or an Excel workbook (.xlsx); save a sheet as CSV (UTF-8)");
    }
    if head.starts_with(b"%PDF") {
        return Some("a PDF document, which holds no data scoresite can read");
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') || text.starts_with('[') {
        let lower = text.to_ascii_lowercase();
        return Some(
            if ["\"schools\"", "\"districts\"", "organization"]
                .iter()
                .any(|k| lower.contains(k))
            {
                "an organisation JSON; give institutions as the CALPADS organisation file or an institutions CSV"
            } else {
                "a JSON document"
            },
        );
    }
    if text.starts_with('<') {
        return Some("an XML document whose root is not <TDSReport>");
    }
    let first = text.split(['\r', '\n']).next().unwrap_or("");
    // A fixed-width TOMS file: a two-digit record type, then a 10-digit SSID.
    let fixed = first.len() > 500
        && first.as_bytes()[..12].iter().all(u8::is_ascii_digit)
        && !first.contains([',', '^', '\t']);
    let header: Vec<String> = first
        .split([',', '^', '\t', '|'])
        .map(|h| {
            h.trim()
                .trim_matches('"')
                .to_ascii_lowercase()
                .replace([' ', '_'], "")
        })
        .collect();
    let has = |names: &[&str]| names.iter().any(|n| header.iter().any(|h| h == n));
    if fixed || has(&["recordtype", "rectype"]) {
        return Some("a TOMS Student Score Data File in a layout scoresite does not read (it reads the CAASPP and Summative ELPAC files, fixed-width or delimited with their header); load the CERS District/School export of the same results");
    }
    if has(&["percentile", "percentilerank"]) {
        return Some("a norms (percentile) table, which holds no student results");
    }
    let student = has(&[
        "ssid",
        "statewidestudentidentifier",
        "studentidentifier",
        "studentssid",
    ]);
    if student && has(&["scalescore", "overallscalescore"]) {
        return Some("results in a layout scoresite does not read; load the CERS District/School export or a Student Roster export");
    }
    if student {
        return Some("a student list (such as a TOMS student registration extract): students without results");
    }
    None
}

/// The name of the first element of an XML document (after the declaration and comments).
fn xml_root(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        return Some(rest[..end].to_string());
    }
    None
}

/// The records of a CSV reader with their line numbers; unreadable records are
/// reported to `diags` and skipped.
pub fn records<'a, R: Read + 'a>(
    path: &'a Path,
    rdr: &'a mut csv::Reader<R>,
    diags: &'a mut Diagnostics,
) -> impl Iterator<Item = (u64, csv::StringRecord)> + 'a {
    rdr.records().filter_map(move |record| match record {
        Ok(r) => Some((r.position().map(|p| p.line()).unwrap_or(0), r)),
        Err(e) => {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            diags.error(
                Location::at(path, line, 1),
                format!("cannot read this record: {e}"),
            );
            None
        }
    })
}

/// What was read from `data/`: the files of each format and the rows or records each gave.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub files: Vec<(PathBuf, Format, usize)>,
    pub duplicates: usize,
    /// TRT opportunities joined to the export row of the same opportunity.
    pub joined: usize,
}

/// Every regular, non-hidden file under `dir`, in path order. Anything else
/// (a symbolic link, a FIFO, a device) is an error that names it: skipping it
/// silently could leave results out.
fn data_files(dir: &Path, diags: &mut Diagnostics) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
    {
        match entry {
            Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
            Ok(e) if e.file_type().is_dir() => {}
            Ok(e) => {
                let what = if e.file_type().is_symlink() {
                    "a symbolic link"
                } else {
                    "not a regular file (a FIFO, socket or device)"
                };
                diags.error(
                    Location::file(e.path()),
                    format!("{what}; expected a regular file (copy the file itself into data/)"),
                );
            }
            Err(e) => diags.error(
                Location::file(e.path().unwrap_or(dir)),
                format!("cannot read: {e}"),
            ),
        }
    }
    files
}

/// How many first bytes of a file say what it is.
const HEAD: usize = 8192;

fn sniff(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0; HEAD];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    head.truncate(n);
    Ok(head)
}

/// What a data file's first bytes say it is; the bytes are kept only where
/// a message or the zip reader needs them.
enum Sniffed {
    Unreadable(std::io::Error),
    Empty,
    Zip(Vec<u8>),
    Format(Format),
    Unrecognised(Vec<u8>),
}

impl Sniffed {
    /// What a file whose first bytes are `head` is.
    fn of(head: &[u8]) -> Sniffed {
        match head {
            h if h.iter().all(u8::is_ascii_whitespace) => Sniffed::Empty,
            h if h.starts_with(b"PK\x03\x04") => Sniffed::Zip(h.to_vec()),
            h => match detect(h) {
                Some(f) => Sniffed::Format(f),
                None => Sniffed::Unrecognised(h.to_vec()),
            },
        }
    }
}

/// Whether `path` is named as XML. Such a file is taken to be TRT, read once
/// and recognised by its content as it is parsed, rather than opened first to
/// look (a deployment may hold a TRT document per opportunity, millions of
/// them); one that is not TRT is then taken as any other file.
fn named_xml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

fn sniffed(path: &Path) -> Sniffed {
    if named_xml(path) {
        return Sniffed::Format(Format::Trt);
    }
    match sniff(path) {
        Err(e) => Sniffed::Unreadable(e),
        Ok(head) => Sniffed::of(&head),
    }
}

/// The files recognised so far: by format, and OneRoster files by folder (or zip).
#[derive(Default)]
struct Recognised {
    by_format: Vec<(Format, PathBuf)>,
    rosters: BTreeMap<PathBuf, Vec<(PathBuf, oneroster::Table, String)>>,
}

impl Recognised {
    /// Takes `path`, which is what `sniffed` says, reporting what cannot be read.
    fn take(&mut self, path: PathBuf, sniffed: Sniffed, diags: &mut Diagnostics) {
        match sniffed {
            Sniffed::Unreadable(e) => {
                diags.error(Location::file(&path), format!("cannot read: {e}"))
            }
            Sniffed::Empty => diags.warn(Location::file(&path), "empty file; ignored"),
            Sniffed::Zip(head) => match oneroster::unzip_into(&path, &mut self.rosters) {
                Ok(true) => {}
                Ok(false) => unrecognised(&path, &head, diags),
                Err(e) => diags.error(Location::file(&path), e),
            },
            Sniffed::Format(f) => self.by_format.push((f, path)),
            Sniffed::Unrecognised(head) => unrecognised(&path, &head, diags),
        }
    }
}

/// When a format is loaded: institutions first, then results, then files
/// that name students and schools the results hold.
fn rank(format: Format) -> u8 {
    match format {
        Format::CalpadsOrgs | Format::InstitutionsCsv => 0,
        Format::CersExport | Format::Trt | Format::ScoreData => 1,
        // Named only by name: placed among the schools the others name.
        Format::CersRoster => 2,
        Format::Groups | Format::OneRoster(_) => 3,
    }
}

/// Loads every file in `dir` into a dataset: institutions first, then results
/// (CERS exports and TRT), then groups, which refer to both.
/// `own_lea` (id, name) holds the schools that results name only by name
/// when no institutions file lists them. A `cache` keeps TRT parses between runs.
pub fn load_dir(
    dir: &Path,
    catalog: &Catalog,
    own_lea: (&str, &str),
    mut cache: Option<&mut trt_cache::Cache>,
    diags: &mut Diagnostics,
) -> (Dataset, LoadReport) {
    let mut data = Dataset::default();
    let mut report = LoadReport::default();
    let mut found = Recognised::default();
    let paths = data_files(dir, diags);
    // Files are opened and recognised in parallel, then taken in order.
    let sniffed: Vec<Sniffed> = paths.par_iter().map(|p| sniffed(p)).collect();
    for (path, sniffed) in paths.into_iter().zip(sniffed) {
        found.take(path, sniffed, diags);
    }
    let Recognised {
        mut by_format,
        mut rosters,
    } = found;
    let institutions_given = by_format.iter().any(|(f, _)| rank(*f) == 0);
    by_format.sort_by_key(|(f, _)| rank(*f));
    let mut schools = institutions::Schools::new(institutions_given, own_lea);
    let mut files: VecDeque<(Format, PathBuf)> = by_format.into();
    while let Some((format, path)) = files.pop_front() {
        if format == Format::Trt {
            let mut run = vec![path];
            while files.front().is_some_and(|(f, _)| *f == Format::Trt) {
                run.extend(files.pop_front().map(|(_, p)| p));
            }
            let mut other = Recognised::default();
            for (path, loaded) in load_trt(
                run,
                catalog,
                &mut data,
                &mut schools,
                cache.as_deref_mut(),
                diags,
            ) {
                match loaded {
                    Ok(count) => report.files.push((path, Format::Trt, count)),
                    Err(sniffed) => other.take(path, sniffed, diags),
                }
            }
            rosters.append(&mut other.rosters);
            for (format, path) in other.by_format {
                queue_late(&mut files, format, path, diags);
            }
            continue;
        }
        if let Format::OneRoster(table) = format {
            if let Some(text) = read_text(&path, diags) {
                let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
                rosters.entry(folder).or_default().push((path, table, text));
            }
            continue;
        }
        let count = load_file(&path, format, catalog, &mut data, &mut schools, diags);
        report.files.push((path, format, count));
    }
    for files in rosters.values() {
        for (path, count) in oneroster::load(files, &mut data, diags) {
            let table = files.iter().find(|(p, ..)| *p == path).map(|(_, t, _)| *t);
            if let Some(table) = table {
                report.files.push((path, Format::OneRoster(table), count));
            }
        }
    }
    keep_names_as_read(&mut data);
    keep_blank_nces(&mut data, &schools.nces_given);
    (report.duplicates, report.joined) = resolve_duplicates(&mut data, diags);
    data.untested.sort_by_key(|u| u.school);
    (data, report)
}

/// The error for a file no reader recognises, saying what it looks like.
fn unrecognised(path: &Path, head: &[u8], diags: &mut Diagnostics) {
    diags.error(
        Location::at(path, 1, 1),
        format!(
            "unrecognised file{}: expected a CERS District/School or Student Roster export, a TOMS Student Score Data File (CAASPP or Summative ELPAC), an RDW student-groups CSV, a OneRoster 1.1 CSV file, TRT XML (<TDSReport>), \
             a CALPADS organisation file or an institutions CSV (lea_id,lea_name,school_id,school_name)",
            looks_like(head).map(|w| format!(": it looks like {w}")).unwrap_or_default()
        ),
    );
}

/// How many TRT documents are read and parsed at a time, in parallel,
/// while the batch before them is loaded in order: enough to keep every core
/// busy, few enough that their text is not held all at once.
const TRT_BATCH: usize = 1024;

/// Places `path`, named as XML but found to be of another `format` while
/// results were loaded, among the files still to load, where its format
/// and path put it. Institutions come too late then: the results have
/// placed their schools.
fn queue_late(
    files: &mut VecDeque<(Format, PathBuf)>,
    format: Format,
    path: PathBuf,
    diags: &mut Diagnostics,
) {
    if rank(format) == 0 {
        diags.error(
            Location::file(&path),
            format!(
                "{} named as XML; expected TRT XML in a file named .xml (rename it .csv or .txt: institutions are read before any results)",
                format.describe()
            ),
        );
        return;
    }
    let at = files
        .iter()
        .position(|(f, p)| (rank(*f), p) > (rank(format), &path))
        .unwrap_or(files.len());
    files.insert(at, (format, path));
}

/// Reads the TRT documents at `paths` into `data`, in order; returns each
/// with the number of opportunities it added, or, for a file named as XML
/// that is not TRT, what it is. With a `cache`, a document it kept under
/// the same stamp is not read again, and the cache is brought up to date for
/// the next run.
fn load_trt(
    paths: Vec<PathBuf>,
    catalog: &Catalog,
    data: &mut Dataset,
    schools: &mut institutions::Schools,
    mut cache: Option<&mut trt_cache::Cache>,
    diags: &mut Diagnostics,
) -> Vec<(PathBuf, Result<usize, Sniffed>)> {
    let keeping = cache.is_some();
    let mut loaded = Vec::with_capacity(paths.len());
    let mut batches = paths.chunks(TRT_BATCH);
    let mut next = batches.next().map(|b| {
        let lookups = looked_up(&mut cache, b);
        (b, parse_trt(b, lookups, keeping))
    });
    // The reports of the batch loaded last. Freeing their many strings took
    // a quarter of the in-order load, so the next batch's parse frees them,
    // beside the load.
    let mut spent: Vec<trt::Parsed> = Vec::new();
    while let Some((batch, parsed)) = next.take() {
        let following = batches.next();
        let lookups = following.map(|b| looked_up(&mut cache, b));
        let mut freed = Vec::with_capacity(batch.len());
        let load = || {
            for (path, doc) in batch.iter().zip(parsed) {
                diags.extend(doc.found);
                if let (Some(cache), Some(stamp), Some(blob)) =
                    (cache.as_deref_mut(), doc.stamp, &doc.blob)
                {
                    cache.keep(path, stamp, blob, doc.taken);
                }
                let count = doc.parsed.map(|p| {
                    p.map_or(0, |p| {
                        let n = trt::load(path, &p, catalog, data, schools, diags);
                        freed.push(p);
                        n
                    })
                });
                loaded.push((path.clone(), count));
            }
        };
        let freeing = std::mem::take(&mut spent);
        let parse_next = || {
            drop(freeing);
            following
                .zip(lookups)
                .map(|(b, l)| (b, parse_trt(b, l, keeping)))
        };
        next = rayon::join(parse_next, load).0;
        spent = freed;
    }
    loaded
}

/// What `cache` holds for `batch`; nothing without a cache.
fn looked_up(
    cache: &mut Option<&mut trt_cache::Cache>,
    batch: &[PathBuf],
) -> Vec<trt_cache::Lookup> {
    match cache {
        Some(c) => c.lookup(batch),
        None => batch.iter().map(|_| Default::default()).collect(),
    }
}

/// One TRT document, parsed or taken from the cache: what parsing it
/// found, its report (or, named as XML, what else it is), and its stamp and
/// blob to keep.
struct TrtDoc {
    found: Diagnostics,
    parsed: Result<Option<trt::Parsed>, Sniffed>,
    stamp: Option<trt_cache::Stamp>,
    blob: Option<Vec<u8>>,
    /// The blob came from the cache.
    taken: bool,
}

/// Parses the documents of `batch` in parallel, each taken from its
/// cached blob where `lookups` has one; `keeping` encodes each new parse
/// whose stamp can be trusted, to keep.
fn parse_trt(batch: &[PathBuf], lookups: Vec<trt_cache::Lookup>, keeping: bool) -> Vec<TrtDoc> {
    batch
        .par_iter()
        .zip(lookups)
        .map(|(path, lookup)| {
            if let Some(blob) = lookup.blob {
                if let Some(parsed) = trt_cache::unblob(&blob) {
                    return TrtDoc {
                        found: Diagnostics::default(),
                        parsed: Ok(Some(parsed)),
                        stamp: lookup.stamp,
                        blob: Some(blob),
                        taken: true,
                    };
                }
            }
            let mut found = Diagnostics::default();
            let parsed = with_bytes(path, |bytes| {
                match Sniffed::of(&bytes[..bytes.len().min(HEAD)]) {
                    Sniffed::Format(Format::Trt) => {
                        Ok(text_of(bytes, path, &mut found, trt::parse))
                    }
                    other => Err(other),
                }
            })
            .unwrap_or_else(|e| Err(Sniffed::Unreadable(e)));
            // Only a document that parsed without a word is kept: what
            // parsing it said would not be said again.
            let blob = match (&parsed, lookup.stamp) {
                (Ok(Some(p)), Some(_)) if keeping && found.iter().next().is_none() => {
                    trt_cache::blob(p)
                }
                _ => None,
            };
            TrtDoc {
                found,
                parsed,
                stamp: lookup.stamp,
                blob,
                taken: false,
            }
        })
        .collect()
}

fn load_file(
    path: &Path,
    format: Format,
    catalog: &Catalog,
    data: &mut Dataset,
    schools: &mut institutions::Schools,
    diags: &mut Diagnostics,
) -> usize {
    if matches!(
        format,
        Format::CersExport | Format::CersRoster | Format::ScoreData
    ) {
        return match std::fs::File::open(path) {
            Ok(f) if format == Format::ScoreData => {
                toms::load(path, f, catalog, data, schools, diags) as usize
            }
            Ok(f) => {
                let size = f.metadata().map_or(0, |m| m.len());
                cers::load(path, lines::Lf::new(f), size, catalog, data, schools, diags) as usize
            }
            Err(e) => {
                diags.error(Location::file(path), format!("cannot read: {e}"));
                0
            }
        };
    }
    let Some(text) = read_text(path, diags) else {
        return 0;
    };
    match format {
        Format::CalpadsOrgs => {
            institutions::load_calpads(path, &text, &mut data.institutions, diags)
        }
        Format::InstitutionsCsv => {
            institutions::load_simple(path, &text, &mut data.institutions, diags)
        }
        Format::Groups => groups::load(path, &text, data, diags),
        Format::CersExport
        | Format::CersRoster
        | Format::ScoreData
        | Format::Trt
        | Format::OneRoster(_) => {
            unreachable!("read elsewhere")
        }
    }
}

/// A file's text, with CR and CRLF line ends read as LF; `None`, with an
/// error naming the line, when it is not UTF-8 or cannot be read.
fn read_text(path: &Path, diags: &mut Diagnostics) -> Option<String> {
    match std::fs::read(path).map(lines::to_lf) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|e| {
                // Names the line of the invalid byte.
                utf8(e.as_bytes(), path, diags);
            })
            .ok(),
        Err(e) => {
            diags.error(Location::file(path), format!("cannot read: {e}"));
            None
        }
    }
}

/// `f` of a file's bytes, read into a buffer this thread keeps for the
/// next file: TRT documents are read by the million.
fn with_bytes<T>(path: &Path, f: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buffer| {
        buffer.clear();
        std::fs::File::open(path)?.read_to_end(buffer)?;
        let out = f(buffer);
        // A buffer grown by an outsized file is not kept.
        if buffer.capacity() > 1 << 22 {
            *buffer = Vec::new();
        }
        Ok(out)
    })
}

/// `f` of a file's bytes as text, read as [`read_text`] reads it: line
/// ends made LF; `None`, with an error naming the line, when not UTF-8.
fn text_of<T>(
    bytes: &[u8],
    path: &Path,
    diags: &mut Diagnostics,
    f: impl FnOnce(&str) -> T,
) -> Option<T> {
    let converted;
    let bytes = match memchr::memchr(b'\r', bytes) {
        Some(_) => {
            converted = lines::to_lf(bytes.to_vec());
            &converted
        }
        None => bytes,
    };
    utf8(bytes, path, diags).map(f)
}

/// `bytes` as text; `None`, with an error naming the line, when they are
/// not UTF-8.
fn utf8<'a>(bytes: &'a [u8], path: &Path, diags: &mut Diagnostics) -> Option<&'a str> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t),
        Err(e) => {
            let offset = e.valid_up_to();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            diags.error(
                Location::at(path, line, 1),
                "invalid UTF-8; expected a UTF-8 text file",
            );
            None
        }
    }
}

/// Keeps, for each District/School Export row whose student a later row
/// or file renamed, the names the row was read with (unless it keeps its
/// own cells already), so that the export gives back each row's names.
fn keep_names_as_read(data: &mut Dataset) {
    let later = data.renames_after(0);
    if later.is_empty() {
        return;
    }
    let mut kept: Vec<(usize, u8, String)> = Vec::new();
    for (e, exam) in data.exams.iter().enumerate() {
        let Some(columns) = data.export_columns.get(&exam.origin.file) else {
            continue;
        };
        if !later.contains_key(&exam.student) {
            continue;
        }
        let then = data.names_then(&later, exam.student, e);
        let student = &data.students[exam.student as usize];
        let now = [&*student.first_name, &*student.last_name];
        for (k, column) in [cers::FIRST_NAME, cers::LAST_NAME].into_iter().enumerate() {
            let own = exam.raw.iter().any(|(c, _)| *c as usize == column);
            if then[k] != now[k] && !own && columns & (1 << column) != 0 {
                kept.push((e, column as u8, then[k].to_string()));
            }
        }
    }
    for (e, column, name) in kept {
        let sym = data.strings.intern(&name);
        keep_cells(&mut data.exams[e], [(column, sym)]);
    }
}

/// Keeps a blank NcesId for each District/School Export row read before
/// any row gave its district's NcesId (`given`: the exams read before that
/// row, by LEA), so that the export gives the row back blank. A row read
/// later was compared with the NcesId given, as it was read.
fn keep_blank_nces(data: &mut Dataset, given: &std::collections::HashMap<usize, usize>) {
    let column = cers::NCES_ID;
    let until = given.values().copied().max().unwrap_or(0);
    let before: Vec<usize> = data.exams[..until]
        .iter()
        .enumerate()
        .filter(|&(e, exam)| {
            let lea = data.institutions.schools[exam.school as usize].lea;
            let has = |columns: &u64| columns & (1 << column) != 0;
            given.get(&lea).is_some_and(|&at| e < at)
                && data.export_columns.get(&exam.origin.file).is_some_and(has)
                && !exam.raw.iter().any(|(c, _)| usize::from(*c) == column)
        })
        .map(|(e, _)| e)
        .collect();
    if before.is_empty() {
        return;
    }
    let blank = data.strings.intern("");
    for e in before {
        keep_cells(&mut data.exams[e], [(column as u8, blank)]);
    }
}

/// Adds `cells` to those `exam` keeps as its export row gave them.
fn keep_cells(exam: &mut Exam, cells: impl IntoIterator<Item = (u8, crate::model::Sym)>) {
    let mut raw = exam.raw.to_vec();
    raw.extend(cells);
    exam.raw = raw.into_boxed_slice();
}

/// What makes two exams one opportunity: student, assessment, day and session.
type Opportunity = (u32, u32, chrono::NaiveDate, Option<u32>);

/// Drops repeated opportunities (same student, assessment, day and session),
/// keeping the one submitted last (ties: the one read last), and reports each.
/// An export row and a TRT document of the same opportunity become one exam
/// with the TRT detail. Returns (duplicates dropped, TRT documents joined).
pub fn resolve_duplicates(data: &mut Dataset, diags: &mut Diagnostics) -> (usize, usize) {
    // Exams by opportunity, then in the order read: sorted in parallel,
    // rather than looked up one by one in a table of every exam.
    let mut order: Vec<(Opportunity, u32)> = data
        .exams
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let key = (
                e.student,
                e.assessment,
                e.submitted.date(),
                e.session.map(|s| s.0),
            );
            (key, i as u32)
        })
        .collect();
    order.par_sort_unstable();
    let mut drop = vec![false; data.exams.len()];
    let mut joins = Vec::new();
    let mut overlaps: std::collections::BTreeMap<u32, usize> = Default::default();
    for same in order
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|same| same.len() > 1)
    {
        let mut kept = same[0].1 as usize;
        for &(_, i) in &same[1..] {
            let (i, prev) = (i as usize, kept);
            let e = &data.exams[i];
            let (prev_trt, this_trt) = (
                data.details.contains_key(&prev),
                data.details.contains_key(&i),
            );
            if prev_trt != this_trt {
                // The same opportunity in the export and in TRT: one exam with both.
                let (row, trt) = if prev_trt { (i, prev) } else { (prev, i) };
                kept = row;
                drop[trt] = true;
                joins.push((row, trt));
                continue;
            }
            let p = &data.exams[prev];
            let roster = |e: &Exam| data.rosters.contains(&e.origin.file);
            if roster(p) != roster(e) {
                // A roster export row and another source's row of the same
                // opportunity: the other carries ids and demographics.
                let (winner, loser) = if roster(p) { (i, prev) } else { (prev, i) };
                kept = winner;
                drop[loser] = true;
                *overlaps.entry(data.exams[loser].origin.file).or_default() += 1;
                continue;
            }
            let (winner, loser) = if p.submitted > e.submitted {
                (prev, i)
            } else {
                (i, prev)
            };
            kept = winner;
            drop[loser] = true;
            let (w, l) = (&data.exams[winner].origin, &data.exams[loser].origin);
            diags.warn(
                Location::at(&data.files[l.file as usize], l.line as u64, 1),
                format!(
                    "duplicate opportunity (same student, assessment, date and session) as {}:{}; keeping that one, which was submitted {}",
                    data.files[w.file as usize].display(),
                    w.line,
                    if data.exams[winner].submitted == data.exams[loser].submitted { "at the same time and read later" } else { "later" }
                ),
            );
        }
    }
    for (file, n) in overlaps {
        diags.warn(
            Location::file(&data.files[file as usize]),
            format!("{n} results of this Student Roster export are also in a District/School export or TRT file; those rows are kept, as they carry ids and demographics a roster export lacks"),
        );
    }
    // Freed before the next step builds its own index.
    std::mem::drop(order);
    for &(row, trt) in &joins {
        join_trt(data, row, trt);
    }
    merge_official(data, &mut drop, diags);
    let removed = drop.iter().filter(|&&d| d).count();
    if removed > 0 {
        remove_exams(data, &drop);
    }
    (removed - joins.len(), joins.len())
}

/// Removes the exams marked in `drop`, in place, and renumbers the TRT
/// detail of those that stay. Nothing is copied to a second list of exams,
/// which at LEA scale would hold every exam twice.
fn remove_exams(data: &mut Dataset, drop: &[bool]) {
    let mut kept_before = Vec::with_capacity(drop.len());
    let mut next = 0;
    for &d in drop {
        kept_before.push(next);
        next += usize::from(!d);
    }
    data.details = std::mem::take(&mut data.details)
        .into_iter()
        .filter(|(i, _)| !drop[*i])
        .map(|(i, d)| (kept_before[i], d))
        .collect();
    let mut i = 0;
    data.exams.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
    data.exams.shrink_to_fit();
}

/// A result in a Student Score Data File and in a CERS export or TRT file
/// (same student, family and school year: one summative a year) is one exam.
/// The other source's exam is kept, with its claims, session and export
/// cells; it gains the file's Lexile or Quantile measure, condition code and
/// include indicator. A scale score the two disagree on is reported.
fn merge_official(data: &mut Dataset, drop: &mut [bool], diags: &mut Diagnostics) {
    if data.exams.iter().all(|e| e.official.is_none()) {
        return;
    }
    let family = |e: &Exam| data.assessments[e.assessment as usize].family;
    let mut others: HashMap<(u32, usize, u16), usize> = HashMap::default();
    for (i, e) in data.exams.iter().enumerate() {
        if !drop[i] && e.official.is_none() {
            others.insert((e.student, family(e), e.school_year), i);
        }
    }
    let mut merges: Vec<(usize, usize)> = Vec::new();
    for (i, e) in data.exams.iter().enumerate() {
        if drop[i] || e.official.is_none() {
            continue;
        }
        if let Some(&kept) = others.get(&(e.student, family(e), e.school_year)) {
            merges.push((kept, i));
        }
    }
    let mut per_file: std::collections::BTreeMap<u32, usize> = Default::default();
    for (kept, official) in merges {
        drop[official] = true;
        let (o, k) = (&data.exams[official], &data.exams[kept]);
        *per_file.entry(o.origin.file).or_default() += 1;
        if o.overall.scale != k.overall.scale {
            let at = |e: &Exam| {
                format!(
                    "{}:{}",
                    data.files[e.origin.file as usize].display(),
                    e.origin.line
                )
            };
            diags.warn(
                Location::at(&data.files[o.origin.file as usize], o.origin.line as u64, 1),
                format!(
                    "scale score {} here, {} for the same result at {}; that one is kept",
                    o.overall.scale.map_or("blank".into(), |s| s.to_string()),
                    k.overall.scale.map_or("blank".into(), |s| s.to_string()),
                    at(k)
                ),
            );
        }
        let measures = data.exams[official].official.take();
        let k = &mut data.exams[kept];
        k.official = measures;
    }
    for (file, n) in per_file {
        diags.warn(
            Location::file(&data.files[file as usize]),
            format!("{n} results of this Student Score Data File are also in a CERS export or TRT file; those are kept, with this file's Lexile or Quantile measure, condition code and include indicator"),
        );
    }
}

/// Moves the TRT exam's detail onto the export row's exam, with the
/// demographics the row leaves unknown (economic disadvantage, among others).
/// A flag whose export cell was blank keeps that blank cell for the
/// District/School Export, which gives back what came in.
fn join_trt(data: &mut Dataset, row: usize, trt: usize) {
    if let Some(detail) = data.details.remove(&trt) {
        data.details.insert(row, detail);
    }
    let extra = data.exams[trt].demographics;
    let exam = &data.exams[row];
    let missing = extra.known & !exam.demographics.known;
    let columns = data
        .export_columns
        .get(&exam.origin.file)
        .copied()
        .unwrap_or(0);
    let blank_cells: Vec<u8> = ALL_FLAGS
        .iter()
        .filter(|&&f| missing & f as u16 != 0)
        .filter_map(|&f| cers::flag_column(f))
        .filter(|&c| columns & (1 << c) != 0)
        .map(|c| c as u8)
        .collect();
    if !blank_cells.is_empty() {
        let blank = data.strings.intern("");
        keep_cells(
            &mut data.exams[row],
            blank_cells.into_iter().map(|c| (c, blank)),
        );
    }
    let d = &mut data.exams[row].demographics;
    d.known |= missing;
    d.yes |= extra.yes & missing;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        assert_eq!(detect(b"\xef\xbb\xbfDistrictId,DistrictName,NcesId,SchoolId,SchoolName,StudentIdentifier,FirstName,LastOrSurname,SubmitDateTime,SchoolYear,TestSessionId,AssessmentType,AssessmentSubType,AssessmentName,Subject,GradeLevelWhenAssessed,Completeness,AdministrationCondition,ScaleScoreAchievementLevel,ScaleScore\n"), Some(Format::CersExport));
        assert_eq!(
            detect(b"\"DistrictId\",\"StudentIdentifier\",\"AssessmentName\",\"ScaleScore\"\r\n"),
            Some(Format::CersExport)
        );
        assert_eq!(detect(b"group_name,school_natural_id,school_year,subject_code,student_ssid,group_user_login\r"), Some(Format::Groups));
        assert_eq!(detect(b"group_name\tschool_natural_id\tschool_year\tsubject_code\tstudent_ssid\tgroup_user_login\n"), Some(Format::Groups));
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?>\n<!-- c -->\n<TDSReport>"),
            Some(Format::Trt)
        );
        assert_eq!(detect(b"<Other/>"), None);
        assert_eq!(
            detect(institutions::CALPADS_HEADER.as_bytes()),
            Some(Format::CalpadsOrgs)
        );
        assert_eq!(
            detect(b"lea_id,lea_name,school_id,school_name\n"),
            Some(Format::InstitutionsCsv)
        );
        assert_eq!(detect(b"name,score\n"), None);
    }

    #[test]
    fn unrecognised_files_are_named_for_what_they_look_like() {
        let like = |head: &[u8]| looks_like(head).unwrap_or("nothing");
        assert!(like(b"SSID,LocalStudentID,LastName,FirstName,Grade\n")
            .contains("student registration"));
        assert!(
            like(b"RecordType^StatewideStudentIdentifier^StudentLastName\n")
                .contains("Student Score Data File")
        );
        let fixed = format!("01{}{}", "1234567890", "X".repeat(600));
        assert!(like(fixed.as_bytes()).contains("Student Score Data File"));
        assert!(like(b"school_year,assessment_id,percentile_rank,score\n").contains("norms"));
        assert!(like(b"{\"districts\": [{\"schools\": []}]}").contains("organisation JSON"));
        assert!(like(b"PK\x03\x04rest").contains("Excel"));
        assert!(
            like(b"Student Name,SSID,Scale Score,Achievement Level\n").contains("does not read")
        );
        assert_eq!(looks_like(b"name,score\n"), None);
    }
}
