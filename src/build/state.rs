//! The build state: what a rebuild may keep from the build before it.
//!
//! - Each bundle's scope key, kept only while nobody leaves its holders: when
//!   a user is removed or loses a grant, every bundle they held gets a new
//!   key, and everything it may read is sealed again.
//! - The key of the opaque file names, kept only while every user of the
//!   previous build still holds a bundle.
//! - For each sealed page, a keyed hash (HMAC-SHA-256 under a key of the
//!   state's own) of its readers' recipients and its bytes: a page whose
//!   hash is unchanged keeps its ciphertext, which is stored under the
//!   name the state's names key gives its path.
//!
//! The state is compressed and sealed to the deployment's build identity
//! (`credentials/build.key`, created on the first build, readable by its
//! owner only) and kept as `credentials/build-state.age`. It is written as
//! it is serialised, never held whole: at LEA scale it lists millions of
//! pages. It describes one
//! output; for any other output, or when it cannot be read, the build starts
//! afresh and says why.
//!
//! Beside it, `credentials/trt-cache.age` keeps every TRT document's parse
//! under the file's stamp ([`crate::ingest::trt_cache`]), sealed to the same
//! identity, so that a rebuild parses only the documents that changed.

use crate::access::Plan;
pub use crate::ingest::trt_cache::Stamp;
use crate::ingest::trt_cache::{nanos, stamp, Cache, Reopen, Sink, RACY};
use crate::seal;
use crate::users::{write_atomic, write_atomic_with};
use age::secrecy::ExposeSecret;
use age::x25519;
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};

/// How the build state begins, with its format's version, before its
/// `postcard` encoding. 3: pages are packed as zlib streams, not gzip, so no
/// ciphertext of an earlier build is kept (its state is refused). 4: each
/// page's sealed size is kept. 5: postcard rather than JSON.
const MAGIC: &[u8] = b"scoresite build state 5\n";

/// What one build leaves for the next.
#[derive(Serialize, Deserialize)]
pub struct State {
    /// The build id (`site.json`) of the output this describes.
    pub build: String,
    /// That output's path, as given to `build`.
    pub out: PathBuf,
    /// Hex key of the opaque file names.
    pub names: String,
    /// Hex key of the page hashes.
    pub content: String,
    /// The keyed hash of every input and of the program ([`inputs`]).
    pub inputs: String,
    /// What [`inputs`] hashed, file by file, so that a rebuild reads again
    /// only the files whose metadata changed.
    pub files: Vec<InputFile>,
    /// By bundle id.
    pub bundles: BTreeMap<String, BundleState>,
    /// Every sealed page, sorted by path.
    pub pages: Vec<PageEntry>,
    /// By part key ([`crate::output::Part`]).
    pub parts: BTreeMap<String, PartState>,
}

impl State {
    /// The index in [`State::pages`] of the page at `path`.
    pub fn page(&self, path: &str) -> Option<usize> {
        self.pages.binary_search_by(|(p, ..)| (**p).cmp(path)).ok()
    }
}

/// What a part's pages were rendered from, who read them, and which they are.
#[derive(Serialize, Deserialize, Clone, Default)]
pub struct PartState {
    /// The fingerprint of everything its pages show.
    pub input: String,
    /// The ids of the bundles that read it.
    pub readers: Vec<String>,
    /// Its pages: indices into [`State::pages`].
    pub pages: Vec<u32>,
}

/// One file [`inputs`] hashed: its path (relative to the deployment; the
/// program's is absolute), its [`Stamp`] when that is trustworthy, and the
/// keyed hash of its path and content.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct InputFile(pub Box<str>, pub Option<Stamp>, pub PageHash);

/// A bundle's scope key and who held it.
#[derive(Serialize, Deserialize)]
pub struct BundleState {
    /// `AGE-SECRET-KEY-1…`
    pub identity: String,
    /// Each holder as `email credential-fingerprint` (email in lower case),
    /// sorted: a user whose credential was replaced counts as one who left.
    pub holders: Vec<String>,
}

/// A sealed page as the state keeps it: its path, its keyed hash and the
/// size of its sealed file, which a rebuild that keeps the file counts
/// without reading the file's metadata (millions of inodes at LEA scale).
pub type PageEntry = (Box<str>, PageHash, u64);

/// A keyed hash ([`page_hash`], an input's in [`InputFile`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PageHash(pub [u8; 32]);

/// Where the state of the deployment at `root` is kept.
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn at(root: &Path) -> Store {
        Store {
            dir: root.join("credentials"),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("build-state.age")
    }

    /// Where the TRT parses of the last build are kept ([`Store::trt_cache`]).
    fn cache_path(&self) -> PathBuf {
        self.dir.join("trt-cache.age")
    }

    /// The TRT parses the last build kept, to read, and a cache for this
    /// build's, sealed to the build identity as they are written. Put in
    /// place of the last only by [`Cache::finish`], when it differs.
    pub fn trt_cache(&self) -> Result<Cache> {
        let identity = self.identity()?;
        let (path, key) = (self.cache_path(), identity.clone());
        let reopen: Reopen = Box::new(move || {
            let file = std::io::BufReader::new(std::fs::File::open(&path).ok()?);
            let plain = seal::opening(file, std::slice::from_ref(&key))?;
            Some(Box::new(std::io::BufReader::with_capacity(1 << 16, plain)) as Box<dyn Read + Send>)
        });
        // A killed build leaves its unfinished cache, as large as the
        // cache itself: the next deletes it.
        for entry in std::fs::read_dir(&self.dir)?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(CACHE_TMP) {
                crate::output::remove_if_present(&entry.path())?;
            }
        }
        let tmp = tempfile::Builder::new()
            .prefix(CACHE_TMP)
            .tempfile_in(&self.dir)
            .with_context(|| format!("cannot write in {}", self.dir.display()))?;
        let file = std::io::BufWriter::with_capacity(1 << 16, tmp.reopen()?);
        let next = SealedCache {
            stream: seal::sealing(file, &[identity.to_public()])?,
            tmp,
            dest: self.cache_path(),
        };
        Ok(Cache::new(reopen, Box::new(next)))
    }

    /// The build identity, created on first use.
    fn identity(&self) -> Result<x25519::Identity> {
        let path = self.dir.join("build.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("{}: not an age identity: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let identity = x25519::Identity::generate();
                let text = format!("{}\n", identity.to_string().expose_secret());
                write_atomic(&path, text.as_bytes())?;
                Ok(identity)
            }
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// The state of the last build into `out`, or why there is none to use.
    /// Creates the build identity when there is none.
    pub fn load(&self, out: &Path) -> std::result::Result<State, String> {
        let identity = self.identity().map_err(|e| format!("{e:#}"))?;
        let sealed = match std::fs::File::open(self.path()) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err("there is no state of an earlier build".into())
            }
            Err(e) => return Err(format!("the build state cannot be read ({e})")),
        };
        let unreadable = |e: &dyn std::fmt::Display| {
            format!("the build state opens but cannot be read ({e:#}); an earlier version of scoresite may have written it")
        };
        let bytes = seal::open_compressed(std::io::BufReader::new(sealed), &[identity])
            .map_err(|e| unreadable(&e))?
            .ok_or("the build state does not open with credentials/build.key")?;
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| unreadable(&"not this version's format"))?;
        let state: State = postcard::from_bytes(body).map_err(|e| unreadable(&e))?;
        if state.out != out {
            return Err(format!(
                "the build state describes the output {}",
                state.out.display()
            ));
        }
        let site = std::fs::read(out.join(crate::layout::SITE_JSON)).ok();
        let live: Option<crate::layout::SiteJson> =
            site.and_then(|s| serde_json::from_slice(&s).ok());
        if live.is_none_or(|l| l.build != state.build) {
            return Err(format!(
                "{} is not the output the build state describes",
                out.display()
            ));
        }
        Ok(state)
    }

    /// Deletes the kept state. A build does so before it changes the output
    /// the state describes, so that a run killed while it changes the
    /// output leaves the next build to start afresh.
    pub fn forget(&self) -> Result<()> {
        crate::output::remove_if_present(&self.path())
    }

    /// Keeps `state`, sealed to the build identity, serialising it straight
    /// into the sealed file. It is stored uncompressed in its gzip stream:
    /// deflating it halved its size but took seven times as long as saving
    /// it stored (4 s against 0.6 s at 100,000 students).
    pub fn save(&self, state: &State) -> Result<()> {
        let recipient = self.identity()?.to_public();
        let stored = flate2::Compression::none();
        write_atomic_with(&self.path(), |file| {
            seal::to_recipients_compressed(file, &[recipient], stored, |w| {
                w.write_all(MAGIC)?;
                postcard::to_io(state, w)?;
                Ok(())
            })
        })
    }
}

/// The name a TRT cache being written starts with.
const CACHE_TMP: &str = ".trt-cache-";

/// A TRT cache being written: sealed into a temporary file beside the
/// one it replaces, which it takes the place of when finished.
struct SealedCache {
    stream: age::stream::StreamWriter<std::io::BufWriter<std::fs::File>>,
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl std::io::Write for SealedCache {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

impl Sink for SealedCache {
    fn finish(self: Box<Self>) -> std::io::Result<()> {
        let SealedCache { stream, tmp, dest } = *self;
        stream.finish()?.flush()?;
        tmp.persist(dest).map(drop).map_err(|e| e.error)
    }
}

/// The keys of a build: each bundle's scope identity, the names key and the
/// content key, kept from `previous` where that is safe.
pub struct Keys {
    pub scopes: Vec<x25519::Identity>,
    /// Per bundle: true when its key is new.
    pub fresh: Vec<bool>,
    pub names: Vec<u8>,
    pub content: Vec<u8>,
}

/// What a build records of its sealed pages and parts, as [`State::pages`]
/// and [`State::parts`] hold them.
pub type Recorded = (Vec<PageEntry>, BTreeMap<String, PartState>);

/// Each enrolled user's credential fingerprint, by email in lower case.
pub type Credentials = BTreeMap<String, String>;

/// The holders of `b`, as [`BundleState::holders`] records them.
fn holders(b: &crate::access::Bundle, credentials: &Credentials) -> Vec<String> {
    let mut h: Vec<String> = b
        .holders
        .iter()
        .map(|e| {
            let email = e.to_lowercase();
            let print = credentials.get(&email).map_or("", String::as_str);
            format!("{email} {print}")
        })
        .collect();
    h.sort();
    h.dedup();
    h
}

impl Keys {
    /// The keys of `plan`'s bundles, with `content` the key of the page
    /// hashes (the previous build's, if any). A bundle keeps its key when it was in
    /// `previous` and every earlier holder still holds it with the same
    /// credential; the names key is kept when every earlier holder still
    /// holds some bundle with the same credential.
    pub fn new(
        plan: &Plan,
        credentials: &Credentials,
        previous: Option<&State>,
        content: Vec<u8>,
    ) -> Result<Keys> {
        let holders = |b| holders(b, credentials);
        let mut scopes = Vec::new();
        let mut fresh = Vec::new();
        for b in &plan.bundles {
            let now = holders(b);
            let kept = previous
                .and_then(|p| p.bundles.get(&b.id))
                .filter(|old| old.holders.iter().all(|h| now.binary_search(h).is_ok()))
                .and_then(|old| old.identity.parse::<x25519::Identity>().ok());
            fresh.push(kept.is_none());
            scopes.push(kept.unwrap_or_else(x25519::Identity::generate));
        }
        let everyone: BTreeSet<String> = plan.bundles.iter().flat_map(holders).collect();
        let kept = |p: &&State| {
            p.bundles
                .values()
                .flat_map(|b| &b.holders)
                .all(|h| everyone.contains(h))
        };
        let names = match previous.filter(kept) {
            Some(p) => seal::unhex(&p.names)?,
            None => seal::random_bytes(32)?,
        };
        Ok(Keys {
            scopes,
            fresh,
            names,
            content,
        })
    }

    /// The state to keep after a build with these keys.
    #[allow(clippy::too_many_arguments)]
    pub fn state(
        &self,
        plan: &Plan,
        credentials: &Credentials,
        build: &str,
        out: &Path,
        (inputs, files): (String, Vec<InputFile>),
        (pages, parts): Recorded,
    ) -> State {
        let bundles = plan
            .bundles
            .iter()
            .zip(&self.scopes)
            .map(|(b, key)| {
                let identity = key.to_string().expose_secret().to_string();
                let holders = holders(b, credentials);
                (b.id.clone(), BundleState { identity, holders })
            })
            .collect();
        State {
            build: build.to_string(),
            out: out.to_path_buf(),
            names: seal::hex(&self.names),
            content: seal::hex(&self.content),
            inputs,
            files,
            bundles,
            pages,
            parts,
        }
    }
}

/// The keyed hash (under `key`) of everything a build reads, with what it
/// hashed file by file: this program and every file of the deployment at
/// `root` but the build state itself, by path and content. A file whose
/// [`Stamp`] is the one `known` recorded (hashed under the same key) is not
/// read again.
pub fn inputs(root: &Path, key: &[u8], known: &[InputFile]) -> Result<(String, Vec<InputFile>)> {
    // A file changed within this margin of the start may change again
    // within its file system's time resolution with the same stamp, so its
    // stamp is not kept (the racy case git's index also guards against).
    let trusted_before = nanos(std::time::SystemTime::now()) - RACY;
    hash_inputs(root, key, known, trusted_before)
}

/// [`inputs`], keeping the stamps of files neither modified nor changed
/// since `trusted_before` (ns since the epoch).
fn hash_inputs(
    root: &Path,
    key: &[u8],
    known: &[InputFile],
    trusted_before: i64,
) -> Result<(String, Vec<InputFile>)> {
    use rayon::prelude::*;
    let store = Store::at(root);
    let own = [store.path(), store.cache_path()];
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && !own.iter().any(|p| e.path() == p))
        .filter(|e| !e.file_name().to_string_lossy().starts_with(CACHE_TMP))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files.push(std::env::current_exe().context("cannot find this program")?);
    let known: std::collections::HashMap<&str, &InputFile> =
        known.iter().map(|f| (&*f.0, f)).collect();
    let hashed: Vec<InputFile> = files
        .par_iter()
        .map(|f| {
            let name = f.strip_prefix(root).unwrap_or(f).to_string_lossy();
            let meta =
                std::fs::metadata(f).with_context(|| format!("cannot read {}", f.display()))?;
            let now = stamp(&meta);
            if let Some(old) = known.get(&*name).filter(|old| old.1 == Some(now)) {
                return Ok((*old).clone());
            }
            let digest =
                seal::file_digest(f).with_context(|| format!("cannot read {}", f.display()))?;
            let trusted = now[2].max(now[3]) < trusted_before;
            let hash = keyed(key, &[name.as_bytes(), b"\0", &digest]);
            Ok(InputFile(name.into(), trusted.then_some(now), hash))
        })
        .collect::<Result<_>>()?;
    let digests: Vec<&[u8]> = hashed.iter().map(|f| &f.2 .0[..]).collect();
    Ok((seal::hex(&keyed(key, &digests).0), hashed))
}

/// True when every sealed file `state` lists is still in `out`. The folder
/// is listed once rather than each file looked up: at LEA scale that is
/// millions of inodes, which a rebuild with no change would read from disk.
/// The names are held in one table of fixed-size names, each found by one
/// hash look-up, rather than by a binary search that read a separately
/// allocated name at every step.
pub fn intact(state: &State, out: &Path) -> bool {
    use rayon::prelude::*;
    /// A stored file's name: 32 hex digits and `.age`.
    type Name = [u8; 36];
    let Ok(names) = seal::unhex(&state.names) else {
        return false;
    };
    let Ok(listing) = std::fs::read_dir(out.join(crate::layout::STORED)) else {
        return state.pages.is_empty();
    };
    let files: rustc_hash::FxHashSet<Name> = listing
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| Name::try_from(e.file_name().as_encoded_bytes()).ok())
        .collect();
    state.pages.par_iter().all(|(path, ..)| {
        let name = crate::layout::stored_name(&names, path);
        Name::try_from(name.as_bytes()).is_ok_and(|n| files.contains(&n))
    })
}

/// The keyed hash of a page sealed to `recipients` (sorted `age1…` strings).
pub fn page_hash(content_key: &[u8], recipients: &[String], bytes: &[u8]) -> PageHash {
    let mut hasher = PageHasher::new(content_key, recipients);
    hasher.update(bytes);
    hasher.finish()
}

/// A [`page_hash`] taken as the page is written, for a page too large to
/// hold whole.
pub struct PageHasher(hmac::Hmac<sha2::Sha256>);

impl PageHasher {
    /// The hash of a page sealed to `recipients`, before its bytes.
    pub fn new(content_key: &[u8], recipients: &[String]) -> PageHasher {
        use hmac::Mac;
        let mut mac = hmac::Hmac::new_from_slice(content_key).expect("any key length");
        for r in recipients {
            mac.update(r.as_bytes());
            mac.update(b"\n");
        }
        mac.update(b"\0");
        PageHasher(mac)
    }

    /// Adds the page's next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        hmac::Mac::update(&mut self.0, bytes);
    }

    /// The hash of the page as written.
    pub fn finish(self) -> PageHash {
        PageHash(hmac::Mac::finalize(self.0).into_bytes().into())
    }
}

/// HMAC-SHA-256 under `key` of `pieces`, one after the other.
fn keyed(key: &[u8], pieces: &[&[u8]]) -> PageHash {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    for piece in pieces {
        mac.update(piece);
    }
    PageHash(mac.finalize().into_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Bundle, Kind};

    fn bundle(id: &str, holders: &[&str]) -> Bundle {
        Bundle {
            id: id.into(),
            kind: Kind::School,
            schools: Vec::new(),
            groups: Vec::new(),
            students: Vec::new(),
            exams: Vec::new(),
            holders: holders.iter().map(|h| h.to_string()).collect(),
        }
    }

    fn plan(bundles: Vec<Bundle>) -> Plan {
        Plan::new(bundles)
    }

    #[test]
    fn keys_are_kept_only_while_nobody_leaves() {
        let first = plan(vec![
            bundle("school-a", &["Ann@x.org", "bo@x.org"]),
            bundle("school-b", &["cy@x.org"]),
            bundle("district", &["dee@x.org"]),
        ]);
        let mut prints: Credentials = ["ann", "bo", "cy", "dee", "eve"]
            .iter()
            .map(|n| (format!("{n}@x.org"), format!("{n}-1")))
            .collect();
        let keys = Keys::new(&first, &prints, None, vec![1]).unwrap();
        assert!(keys.fresh.iter().all(|f| *f));
        let state = keys.state(
            &first,
            &prints,
            "b1",
            Path::new("out"),
            Default::default(),
            Default::default(),
        );

        // Bo leaves school A; Eve joins school B; the district is unchanged.
        let second = plan(vec![
            bundle("school-a", &["ann@x.org"]),
            bundle("school-b", &["cy@x.org", "eve@x.org"]),
            bundle("district", &["dee@x.org"]),
        ]);
        let again = Keys::new(&second, &prints, Some(&state), vec![1]).unwrap();
        assert_eq!(again.fresh, [true, false, false]);
        let text = |k: &x25519::Identity| k.to_string().expose_secret().to_string();
        assert_ne!(text(&again.scopes[0]), text(&keys.scopes[0]));
        assert_eq!(text(&again.scopes[1]), text(&keys.scopes[1]));
        // Bo holds nothing now: the file names change.
        assert_ne!(again.names, keys.names);

        // With everyone still there, the names are kept too.
        let state = again.state(
            &second,
            &prints,
            "b2",
            Path::new("out"),
            Default::default(),
            Default::default(),
        );
        let third = Keys::new(&second, &prints, Some(&state), vec![1]).unwrap();
        assert_eq!(third.names, again.names);
        assert!(third.fresh.iter().all(|f| !*f));

        // Cy's passphrase was replaced (a new credential): Cy's bundle and
        // the file names change, as if Cy had left.
        prints.insert("cy@x.org".into(), "cy-2".into());
        let fourth = Keys::new(&second, &prints, Some(&state), vec![1]).unwrap();
        assert_eq!(fourth.fresh, [false, true, false]);
        assert_ne!(fourth.names, third.names);
    }

    #[test]
    fn the_state_is_kept_sealed_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (root, out) = (dir.path().join("lea"), dir.path().join("site"));
        std::fs::create_dir_all(&out).unwrap();
        let site = r#"{"version":1,"name":"x","salt":"00","build":"b1"}"#;
        std::fs::write(out.join(crate::layout::SITE_JSON), site).unwrap();
        let first = plan(vec![bundle("school-a", &["ann@x.org"])]);
        let prints = Credentials::new();
        let keys = Keys::new(&first, &prints, None, vec![7; 32]).unwrap();
        let hash = page_hash(&keys.content, &[], b"page");
        let mut parts = BTreeMap::new();
        parts.insert("unit".to_string(), PartState::default());
        let pages = vec![("a.html".into(), hash, 1), ("b.html".into(), hash, 2)];
        let state = keys.state(
            &first,
            &prints,
            "b1",
            &out,
            ("in".into(), vec![]),
            (pages, parts),
        );
        let store = Store::at(&root);
        store.save(&state).unwrap();
        let sealed = std::fs::read(store.path()).unwrap();
        assert!(sealed.starts_with(b"age-encryption.org/v1"));
        assert!(!String::from_utf8_lossy(&sealed).contains("a.html"));

        let back = store.load(&out).unwrap();
        assert_eq!(back.inputs, "in");
        assert_eq!(back.page("b.html"), Some(1));
        assert_eq!((back.pages[1].1, back.pages[1].2), (hash, 2));
        assert!(back.parts.contains_key("unit"));
        assert_eq!(back.page("c.html"), None);

        // Sealed to the build identity but not in this format: a full build.
        let recipient = store.identity().unwrap().to_public();
        let old = seal::to_recipients(b"{}", &[recipient]).unwrap();
        std::fs::write(store.path(), old).unwrap();
        let why = store.load(&out).err().unwrap();
        assert!(why.contains("an earlier version of scoresite"), "{why}");
    }

    #[test]
    fn inputs_are_read_again_only_when_their_stamp_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("data")).unwrap();
        std::fs::write(root.join("data/a.csv"), "1,2\n").unwrap();
        std::fs::write(root.join("users.yaml"), "users: []\n").unwrap();
        let (first, files) = hash_inputs(root, b"k", &[], i64::MAX).unwrap();
        let names: Vec<&str> = files.iter().map(|f| &*f.0).collect();
        assert_eq!(&names[..2], ["data/a.csv", "users.yaml"]);
        assert_eq!(files.len(), 3, "and this program");
        assert!(files.iter().all(|f| f.1.is_some()));
        assert_eq!(hash_inputs(root, b"k", &files, i64::MAX).unwrap().0, first);
        assert_ne!(hash_inputs(root, b"other", &[], i64::MAX).unwrap().0, first);

        // A file whose stamp is the one recorded is not read again.
        let mut forged = files.clone();
        forged[0].2 = PageHash([9; 32]);
        let (again, kept) = hash_inputs(root, b"k", &forged, i64::MAX).unwrap();
        assert_ne!(again, first);
        assert_eq!(kept[0].2, PageHash([9; 32]));

        // The same length, its modified time set back: the changed time
        // still moves (after a clock tick), so it is read again.
        let a = root.join("data/a.csv");
        let modified = std::fs::metadata(&a).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::write(&a, "1,3\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let (edited, now) = hash_inputs(root, b"k", &forged, i64::MAX).unwrap();
        assert_ne!(now[0].2, PageHash([9; 32]));
        assert_ne!(now[0].2, files[0].2);
        assert_ne!(edited, first);

        // Files changed too recently are hashed but their stamps not kept.
        let (_, racy) = hash_inputs(root, b"k", &[], 0).unwrap();
        assert!(racy.iter().all(|f| f.1.is_none()));
    }

    #[test]
    fn an_output_is_intact_while_every_sealed_file_is_there() {
        use crate::layout::{stored, STORED};
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let plan = plan(vec![bundle("school-a", &[])]);
        let prints = Credentials::new();
        let keys = Keys::new(&plan, &prints, None, vec![1]).unwrap();
        let pages = vec![
            ("a.html".into(), PageHash([1; 32]), 3),
            ("b.html".into(), PageHash([2; 32]), 3),
        ];
        let recorded = (pages, Default::default());
        let state = keys.state(&plan, &prints, "b1", out, Default::default(), recorded);
        assert!(!intact(&state, out), "no folder of sealed files");
        std::fs::create_dir(out.join(STORED)).unwrap();
        for page in ["a.html", "b.html"] {
            std::fs::write(out.join(stored(&keys.names, page)), "age").unwrap();
        }
        std::fs::write(out.join(STORED).join("0000.age"), "another").unwrap();
        assert!(intact(&state, out));
        std::fs::remove_file(out.join(stored(&keys.names, "b.html"))).unwrap();
        assert!(!intact(&state, out));
    }

    #[test]
    fn page_hashes_are_keyed_and_cover_the_readers() {
        let r = vec!["age1a".to_string()];
        let h = page_hash(b"k", &r, b"page");
        assert_ne!(h, page_hash(b"other", &r, b"page"));
        assert_ne!(h, page_hash(b"k", &["age1b".to_string()], b"page"));
        assert_ne!(h, page_hash(b"k", &r, b"page!"));
        assert_eq!(h, page_hash(b"k", &r, b"page"));
        // Written in pieces, as a streamed page is, the hash is the same.
        let mut pieces = PageHasher::new(b"k", &r);
        pieces.update(b"pa");
        pieces.update(b"ge");
        assert_eq!(h, pieces.finish());
        assert_eq!(h, keyed(b"k", &[b"age1a", b"\n", b"\0", b"page"]));
    }
}
