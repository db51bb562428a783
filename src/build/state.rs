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

use crate::access::Plan;
use crate::seal;
use crate::users::{write_atomic, write_atomic_with};
use age::secrecy::ExposeSecret;
use age::x25519;
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The build state's format. 3: pages are packed as zlib streams, not gzip,
/// so no ciphertext of an earlier build is kept (its state is refused).
const VERSION: u32 = 3;

/// What one build leaves for the next.
#[derive(Serialize, Deserialize)]
pub struct State {
    version: u32,
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
    /// By bundle id.
    pub bundles: BTreeMap<String, BundleState>,
    /// Every sealed page's path and keyed hash, sorted by path.
    pub pages: Vec<(Box<str>, PageHash)>,
    /// By part key ([`crate::output::Part`]).
    pub parts: BTreeMap<String, PartState>,
}

impl State {
    /// The index in [`State::pages`] of the page at `path`.
    pub fn page(&self, path: &str) -> Option<usize> {
        self.pages.binary_search_by(|(p, _)| (**p).cmp(path)).ok()
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

/// A bundle's scope key and who held it.
#[derive(Serialize, Deserialize)]
pub struct BundleState {
    /// `AGE-SECRET-KEY-1…`
    pub identity: String,
    /// Each holder as `email credential-fingerprint` (email in lower case),
    /// sorted: a user whose credential was replaced counts as one who left.
    pub holders: Vec<String>,
}

/// A page's keyed hash ([`page_hash`]), written as hex.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PageHash(pub [u8; 32]);

impl Serialize for PageHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&seal::hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for PageHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = <&str>::deserialize(d)?;
        seal::unhex(text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .map(PageHash)
            .ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

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
        let json = seal::open_compressed(std::io::BufReader::new(sealed), &[identity])
            .map_err(|e| {
                format!("the build state opens but cannot be read ({e:#}); an earlier version of scoresite may have written it")
            })?
            .ok_or("the build state does not open with credentials/build.key")?;
        let state: State = serde_json::from_slice(&json)
            .map_err(|e| {
                format!("the build state opens but cannot be read ({e}); an earlier version of scoresite may have written it")
            })?;
        if state.version != VERSION {
            return Err(format!("the build state is of version {}", state.version));
        }
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

    /// Keeps `state`, sealed to the build identity, serialising it straight
    /// into the sealed file.
    pub fn save(&self, state: &State) -> Result<()> {
        let recipient = self.identity()?.to_public();
        write_atomic_with(&self.path(), |file| {
            seal::to_recipients_compressed(file, &[recipient], |w| {
                Ok(serde_json::to_writer(w, state)?)
            })
        })
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
pub type Recorded = (Vec<(Box<str>, PageHash)>, BTreeMap<String, PartState>);

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
        inputs: String,
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
            version: VERSION,
            build: build.to_string(),
            out: out.to_path_buf(),
            names: seal::hex(&self.names),
            content: seal::hex(&self.content),
            inputs,
            bundles,
            pages,
            parts,
        }
    }
}

/// The keyed hash (under `key`) of everything a build reads: this program
/// and every file of the deployment at `root` but the build state itself,
/// by path and content.
pub fn inputs(root: &Path, key: &[u8]) -> Result<String> {
    use hmac::{Hmac, Mac};
    use rayon::prelude::*;
    let state = Store::at(root).path();
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path() != state)
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files.push(std::env::current_exe().context("cannot find this program")?);
    let digests: Vec<(String, [u8; 32])> = files
        .par_iter()
        .map(|f| {
            let digest =
                seal::file_digest(f).with_context(|| format!("cannot read {}", f.display()))?;
            let name = f
                .strip_prefix(root)
                .unwrap_or(f)
                .to_string_lossy()
                .into_owned();
            Ok((name, digest))
        })
        .collect::<Result<_>>()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    for (name, digest) in &digests {
        mac.update(name.as_bytes());
        mac.update(b"\0");
        mac.update(digest);
    }
    Ok(seal::hex(&mac.finalize().into_bytes()))
}

/// True when every sealed file `state` lists is still in `out`.
pub fn intact(state: &State, out: &Path) -> bool {
    use rayon::prelude::*;
    let Ok(names) = seal::unhex(&state.names) else {
        return false;
    };
    state
        .pages
        .par_iter()
        .all(|(path, _)| out.join(crate::layout::stored(&names, path)).is_file())
}

/// The keyed hash of a page sealed to `recipients` (sorted `age1…` strings).
pub fn page_hash(content_key: &[u8], recipients: &[String], bytes: &[u8]) -> PageHash {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(content_key).expect("any key length");
    for r in recipients {
        mac.update(r.as_bytes());
        mac.update(b"\n");
    }
    mac.update(b"\0");
    mac.update(bytes);
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
            String::new(),
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
            String::new(),
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
        let pages = vec![("a.html".into(), hash), ("b.html".into(), hash)];
        let state = keys.state(&first, &prints, "b1", &out, "in".into(), (pages, parts));
        let store = Store::at(&root);
        store.save(&state).unwrap();
        let sealed = std::fs::read(store.path()).unwrap();
        assert!(sealed.starts_with(b"age-encryption.org/v1"));
        assert!(!String::from_utf8_lossy(&sealed).contains("a.html"));

        let back = store.load(&out).unwrap();
        assert_eq!(back.inputs, "in");
        assert_eq!(back.page("b.html"), Some(1));
        assert_eq!(back.pages[1].1, hash);
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
    fn page_hashes_are_keyed_and_cover_the_readers() {
        let r = vec!["age1a".to_string()];
        let h = page_hash(b"k", &r, b"page");
        assert_ne!(h, page_hash(b"other", &r, b"page"));
        assert_ne!(h, page_hash(b"k", &["age1b".to_string()], b"page"));
        assert_ne!(h, page_hash(b"k", &r, b"page!"));
        assert_eq!(h, page_hash(b"k", &r, b"page"));
    }
}
