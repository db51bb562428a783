//! The secure build: load → validate → plan access → site map → render →
//! seal → write.
//!
//! Every page derived from data is age-encrypted to the scope keys of the
//! bundles that may read it, under an opaque name. Each enrolled user gets a
//! grant file, encrypted to their personal recipient, holding the scope
//! identities of their bundles. The output is published atomically, in the
//! layout of [`crate::layout`].
//!
//! A rebuild into the same output keeps what is safe to keep (`build::state`):
//! a bundle's scope key while nobody leaves it, and the ciphertext of every
//! page whose content and readers' keys are unchanged; everything else is
//! sealed afresh. While the page names key is kept too, the rebuild updates
//! the output in place ([`output::update`]): kept files stay where they are,
//! and only what changed is written and put in place.

mod state;

use crate::access::{self, Plan};
use crate::deployment::Deployment;
use crate::diag::Diagnostics;
use crate::layout::{self, GrantFile, GrantedBundle, SiteJson};
use crate::output::{self, write_file as write, Output, Page, Tally};
use crate::paths;
use crate::pipeline;
use crate::render::{self, views::SiteInfo, Renderer};
use crate::seal;
use crate::site;
use crate::users::Enrollment;
use age::secrecy::ExposeSecret;
use age::x25519;
use anyhow::{bail, Context as _, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What a secure build wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Built {
    pub pages: usize,
    pub files: usize,
    pub bytes: u64,
    pub bundles: usize,
    pub users: usize,
    /// Users in `users.yaml` without an enrolled identity, who get no grant.
    pub not_enrolled: usize,
    /// Sealed pages whose ciphertext was kept from the previous build.
    pub reused: usize,
    /// Of those, the pages that were not even rendered again.
    pub unrendered: usize,
    /// Bundles that kept their scope key.
    pub kept_keys: usize,
}

/// What a build did, and why it could not reuse the previous build, if it could not.
pub struct Outcome {
    pub built: Built,
    pub afresh: Option<String>,
    /// Nothing changed since the previous build into the same output (every
    /// input and this program are the same), so the site was left as it is.
    pub up_to_date: bool,
}

/// Builds the secure site of the deployment at `root` into `out`.
/// Warnings found while loading are left in `diags`; any error refuses the
/// build. `force` replaces an `out` that is not a previous scoresite output.
pub fn build(root: &Path, out: &Path, force: bool, diags: &mut Diagnostics) -> Result<Outcome> {
    let store = state::Store::at(root);
    let enrollment = Enrollment::at(root);
    // Nothing is written into a deployment that is missing or has no one
    // enrolled (the build refuses it below). Otherwise the keys a build
    // creates on first use exist before the inputs are hashed.
    let enrolled_site = root.is_dir() && enrollment.existing_salt()?.is_some();
    let (mut previous, afresh) = match enrolled_site.then(|| {
        enrollment.names_key()?;
        Ok::<_, anyhow::Error>(store.load(out))
    }) {
        Some(Ok(Ok(s))) => (Some(s), None),
        Some(Ok(Err(why))) => (None, Some(why)),
        Some(Err(e)) => return Err(e),
        None => (None, Some("nothing was built before".to_string())),
    };
    let hash_inputs = |key: &[u8], known: &[state::InputFile]| match enrolled_site {
        true => state::inputs(root, key, known),
        false => Ok(Default::default()),
    };
    let content_key = match &previous {
        Some(p) => seal::unhex(&p.content)?,
        None => seal::random_bytes(32)?,
    };
    let known = previous.as_mut().map(|p| std::mem::take(&mut p.files));
    // The previous output is checked for its files while the inputs are
    // hashed as they were then; without its files, it is hashed afresh.
    let (whole, inputs) = rayon::join(
        || previous.as_ref().is_none_or(|p| state::intact(p, out)),
        || hash_inputs(&content_key, known.as_deref().unwrap_or_default()),
    );
    drop(known);
    let (previous, afresh, content_key, inputs) = match whole {
        true => (previous, afresh, content_key, inputs?),
        false => {
            let key = seal::random_bytes(32)?;
            let inputs = hash_inputs(&key, &[])?;
            let why = format!("files of {} are missing", out.display());
            (None, Some(why), key, inputs)
        }
    };
    if previous.as_ref().is_some_and(|p| p.inputs == inputs.0) {
        return Ok(Outcome {
            built: Built::default(),
            afresh: None,
            up_to_date: true,
        });
    }
    // TRT parses are kept between builds, sealed like the state.
    let mut cache = enrolled_site.then(|| store.trt_cache()).transpose()?;
    let dep = pipeline::load_valid_cached(root, cache.as_mut(), diags)?.deployment;
    if let Some(cache) = cache {
        cache
            .finish()
            .context("cannot keep the parsed TRT documents in credentials/trt-cache.age")?;
    }
    let salt = enrollment.existing_salt()?.unwrap_or_default();
    let enrolled: Vec<(usize, x25519::Recipient, Vec<u8>)> = dep
        .users
        .iter()
        .enumerate()
        .filter_map(|(i, u)| {
            let recipient = u.recipient.as_deref()?.parse().ok()?;
            let credential = std::fs::read(enrollment.credential_path(&salt, &u.email)).ok()?;
            Some((i, recipient, credential))
        })
        .collect();
    check_credentials(&dep, &enrolled)?;
    if salt.is_empty() || enrolled.is_empty() {
        bail!(
            "no user in {}/users.yaml is enrolled, so no one could read the site; enrol users with `scoresite users add`",
            root.display()
        );
    }
    // Only enrolled users can log on, so only their bundles are built.
    let readers: Vec<crate::model::User> = enrolled
        .iter()
        .map(|(i, _, _)| dep.users[*i].clone())
        .collect();
    let plan = access::plan(&dep.data, &dep.catalog, &readers, dep.settings.group_years);
    let map = access::SiteMap::new(&dep.data, &dep.catalog, &plan, &enrollment.names_key()?);
    let credentials: state::Credentials = enrolled
        .iter()
        .map(|(i, _, credential)| {
            (
                dep.users[*i].email.to_lowercase(),
                seal::fingerprint(credential),
            )
        })
        .collect();
    let keys = state::Keys::new(&plan, &credentials, previous.as_ref(), content_key)?;
    let (scopes, names) = (&keys.scopes, &keys.names);
    let info = SiteInfo {
        name: dep.settings.name.clone(),
        sandbox: false,
        footer: dep.settings.branding.footer.clone().unwrap_or_default(),
    };
    let progress = progress_bar();
    let dest = output::Destination {
        path: out,
        kind: "site",
        force,
        protect: Some(root),
    };
    let previous_names = match &previous {
        Some(p) => seal::unhex(&p.names)?,
        None => Vec::new(),
    };
    let reuse = previous.as_ref().map(|p| Reuse {
        dir: out,
        state: p,
        names: &previous_names,
        in_place: previous_names == keys.names,
    });
    let fill = |staging: &Path| {
        let sealed = Sealed::new(staging, &plan, &keys, reuse, &progress);
        for (path, data) in shell(&info)? {
            sealed.page(Page::public(path, data))?;
        }
        site::render(&dep, &plan, &map, &info, &sealed)?;
        let (written, [reused, unrendered], recorded) = sealed.finish(&plan)?;
        progress.set_message("grants");
        enrolled
            .par_iter()
            .try_for_each(|(i, recipient, credential)| -> Result<()> {
                let user = &dep.users[*i];
                let locator = seal::locator(&salt, &user.email);
                write(staging, &layout::credential(&locator), credential)?;
                let grant = grant_file(&dep, &plan, scopes, names, &user.email)?;
                write(
                    staging,
                    &layout::grant(&locator),
                    &seal::to_recipients(&grant, std::slice::from_ref(recipient))?,
                )
            })?;
        let id = seal::hex(&seal::random_bytes(16)?);
        let site_json = SiteJson {
            version: 1,
            name: info.name.clone(),
            salt: seal::hex(&salt),
            build: id.clone(),
        };
        write(
            staging,
            layout::SITE_JSON,
            &serde_json::to_vec_pretty(&site_json)?,
        )?;
        let built = Built {
            pages: written.pages,
            files: written.files,
            bytes: written.bytes,
            users: enrolled.len(),
            reused,
            unrendered,
            ..Built::default()
        };
        // The output changes next; a state describing the old one must not
        // outlive a run killed while it does.
        store.forget()?;
        Ok((built, id, recorded))
    };
    let (mut built, id, recorded) = match reuse.filter(|r| r.in_place) {
        Some(r) => {
            let done = output::update(&dest, layout::STORED, layout::commit_rank, fill)?;
            remove_dropped(r, &plan, &done.2 .0)?;
            done
        }
        None => output::publish(&dest, fill)?,
    };
    progress.finish_and_clear();
    store.save(&keys.state(&plan, &credentials, &id, out, inputs, recorded))?;
    built.bundles = plan.bundles.len();
    built.kept_keys = keys.fresh.iter().filter(|f| !**f).count();
    built.not_enrolled = dep.users.len() - enrolled.len();
    Ok(Outcome {
        built,
        afresh,
        up_to_date: false,
    })
}

/// Refuses credentials a browser should never be handed: a work factor other
/// than [`seal::WORK_FACTOR`] (above 20 a browser gives up; below, guessing is
/// cheap), or a file that is not the one `users.yaml` recorded (an
/// interrupted `users passwd`, which would lock the user out).
fn check_credentials(
    dep: &Deployment,
    enrolled: &[(usize, x25519::Recipient, Vec<u8>)],
) -> Result<()> {
    let mut problems = Vec::new();
    for (i, _, credential) in enrolled {
        let user = &dep.users[*i];
        match seal::work_factor(credential) {
            Some(seal::WORK_FACTOR) => {}
            found => problems.push(format!(
                "{}: the credential is sealed with scrypt work factor {}; expected {} (run `scoresite users passwd` for this user)",
                user.email,
                found.map_or("none".to_string(), |f| f.to_string()),
                seal::WORK_FACTOR
            )),
        }
        if let Some(recorded) = &user.credential {
            if *recorded != seal::fingerprint(credential) {
                problems.push(format!(
                    "{}: the credential file is not the one users.yaml records (was `scoresite users passwd` interrupted?); run `scoresite users passwd` for this user again",
                    user.email
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!("nothing was written:\n{}", problems.join("\n"));
    }
    Ok(())
}

/// A progress spinner on stderr; hidden when stderr is not a terminal.
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} pages sealed {msg} [{elapsed}]")
            .expect("a valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// The previous build's ciphertext that a page may keep: its output, its
/// state, and the names key its pages are stored under.
#[derive(Clone, Copy)]
struct Reuse<'a> {
    dir: &'a Path,
    state: &'a state::State,
    names: &'a [u8],
    /// This build keeps the names key, so a kept page's file stays where it
    /// is, rather than being linked into a new output under a new name.
    in_place: bool,
}

impl Reuse<'_> {
    /// Where the previous build stored the page at `path`.
    fn stored(&self, path: &str) -> std::path::PathBuf {
        self.dir.join(layout::stored(self.names, path))
    }

    /// Every sealed file the previous build wrote: its pages and its
    /// bundles' manifests.
    fn sealed_paths(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
        let pages = self.state.pages.iter().map(|(p, ..)| (&**p).into());
        let manifests = self
            .state
            .bundles
            .keys()
            .map(|id| paths::manifest(id).into());
        pages.chain(manifests)
    }
}

/// After an update in place, deletes the sealed files of the previous build
/// that this one (its `pages`, sorted by path, and the manifests of `plan`'s
/// bundles) no longer has.
fn remove_dropped(r: Reuse, plan: &Plan, pages: &[state::PageEntry]) -> Result<()> {
    let manifests: std::collections::HashSet<String> = plan
        .bundles
        .iter()
        .map(|b| paths::manifest(&b.id))
        .collect();
    let dropped: Vec<std::path::PathBuf> = r
        .sealed_paths()
        .filter(|p| {
            pages.binary_search_by(|(q, ..)| (**q).cmp(p)).is_err() && !manifests.contains(&**p)
        })
        .map(|p| r.stored(&p))
        .collect();
    dropped
        .par_iter()
        .try_for_each(|f| output::remove_if_present(f))
}

/// What the build records of the pages it seals, as it goes: each path once,
/// and the bundles' manifests and the parts as indices into them, so that
/// what is kept grows by a few dozen bytes a page.
#[derive(Default)]
struct Records {
    /// Each sealed page, in the order sealed.
    pages: Vec<state::PageEntry>,
    /// Per bundle: its pages, as indices into `pages`.
    manifests: Vec<Vec<u32>>,
    /// By part key.
    parts: BTreeMap<String, state::PartState>,
}

impl Records {
    /// Records the page at `path`, sealed in `size` bytes, read by
    /// `readers`, of `part` if any.
    fn add(
        &mut self,
        (path, hash, size): (&str, state::PageHash, u64),
        readers: &[usize],
        part: Option<&str>,
    ) {
        let i = self.pages.len() as u32;
        self.pages.push((path.into(), hash, size));
        for &b in readers {
            self.manifests[b].push(i);
        }
        if let Some(key) = part {
            let entry = self.parts.entry(key.to_string()).or_default();
            entry.pages.push(i);
        }
    }

    /// The same records with the pages sorted by path, as [`state::State`]
    /// keeps them, and each manifest in that order.
    fn sorted(mut self) -> Records {
        let n = self.pages.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by(|&a, &b| self.pages[a as usize].0.cmp(&self.pages[b as usize].0));
        let mut rank = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            rank[old as usize] = new as u32;
        }
        drop(order);
        let lists = self
            .manifests
            .iter_mut()
            .chain(self.parts.values_mut().map(|p| &mut p.pages));
        for list in lists {
            list.iter_mut().for_each(|i| *i = rank[*i as usize]);
        }
        self.manifests.iter_mut().for_each(|m| m.sort_unstable());
        // Moves each page to its rank, in place.
        for i in 0..n {
            while rank[i] as usize != i {
                let j = rank[i] as usize;
                self.pages.swap(i, j);
                rank.swap(i, j);
            }
        }
        self
    }
}

/// The secure build's output: public pages in plaintext, the rest packed
/// (compressed and padded, [`seal::pack`]) and sealed to the scopes of their
/// readers under opaque names, and a sealed manifest of each bundle's pages.
/// A page whose keyed hash is the one the previous build recorded keeps its
/// ciphertext.
struct Sealed<'a> {
    dir: &'a Path,
    keys: &'a state::Keys,
    recipients: Vec<x25519::Recipient>,
    /// Each bundle's recipient as text, for the page hashes.
    recipient_text: Vec<String>,
    reuse: Option<Reuse<'a>>,
    /// Each bundle's id, as parts record their readers.
    bundle_ids: Vec<String>,
    records: Mutex<Records>,
    reused: AtomicUsize,
    unrendered: AtomicUsize,
    tally: Tally,
    progress: &'a indicatif::ProgressBar,
}

impl<'a> Sealed<'a> {
    fn new(
        dir: &'a Path,
        plan: &Plan,
        keys: &'a state::Keys,
        reuse: Option<Reuse<'a>>,
        progress: &'a indicatif::ProgressBar,
    ) -> Sealed<'a> {
        let recipients: Vec<x25519::Recipient> =
            keys.scopes.iter().map(|s| s.to_public()).collect();
        Sealed {
            dir,
            keys,
            recipient_text: recipients.iter().map(|r| r.to_string()).collect(),
            recipients,
            reuse,
            bundle_ids: plan.bundles.iter().map(|b| b.id.clone()).collect(),
            records: Mutex::new(Records {
                manifests: vec![Vec::new(); plan.bundles.len()],
                ..Records::default()
            }),
            reused: AtomicUsize::new(0),
            unrendered: AtomicUsize::new(0),
            tally: Tally::default(),
            progress,
        }
    }

    fn records(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().expect("no panics while held")
    }

    /// Seals `page` to the scopes of its readers under the opaque name of
    /// its path, or keeps the previous build's ciphertext of the same hash.
    fn seal(&self, page: &Page) -> Result<()> {
        let to = self.sorted_recipients(&page.readers);
        let hash = state::page_hash(&self.keys.content, &to, &page.bytes);
        self.store(page, hash, || seal::pack(&page.bytes))
    }

    /// The readers' recipients as text, sorted, as a page hash covers them.
    fn sorted_recipients(&self, readers: &[usize]) -> Vec<String> {
        let mut to: Vec<&String> = readers.iter().map(|&b| &self.recipient_text[b]).collect();
        to.sort();
        to.into_iter().cloned().collect()
    }

    /// Keeps the previous build's ciphertext of `page` when its hash is
    /// `hash`, or seals the [`seal::pack`]ed payload `packed` gives.
    fn store(
        &self,
        page: &Page,
        hash: state::PageHash,
        packed: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<()> {
        let (path, readers) = (page.path.as_str(), page.readers.as_slice());
        let stored = layout::stored(&self.keys.names, path);
        let kept = self.reuse.and_then(|r| {
            let (_, old, size) = &r.state.pages[r.state.page(path)?];
            (*old == hash).then_some(())?;
            self.keep(r, path, &stored, *size).ok()?;
            Some(*size)
        });
        let size = match kept {
            Some(size) => {
                self.reused.fetch_add(1, Ordering::Relaxed);
                size
            }
            None => {
                let to: Vec<x25519::Recipient> = readers
                    .iter()
                    .map(|&b| self.recipients[b].clone())
                    .collect();
                let sealed = seal::to_recipients(&packed()?, &to)?;
                self.tally.write(self.dir, &stored, &sealed)?;
                sealed.len() as u64
            }
        };
        self.records()
            .add((path, hash, size), readers, page.part.as_deref());
        Ok(())
    }

    /// Keeps the previous build's ciphertext of the page at `path`, stored
    /// under `stored` in this build: where it is (an update in place keeps
    /// the names key, so `stored` is its name in the output already), or
    /// linked into the new output.
    fn keep(&self, r: Reuse, path: &str, stored: &str, size: u64) -> Result<()> {
        if !r.in_place {
            return self.tally.link(&r.stored(path), self.dir, stored, size);
        }
        self.tally.count(size);
        Ok(())
    }

    /// Keeps every page of the previous build's `old` part (`key`), where
    /// it is or linked under this build's names. False when any is missing.
    fn keep_part(
        &self,
        r: Reuse,
        key: &str,
        old: &state::PartState,
        readers: &[usize],
    ) -> Result<bool> {
        let pages: Option<Vec<&state::PageEntry>> = old
            .pages
            .iter()
            .map(|&i| r.state.pages.get(i as usize))
            .collect();
        // A build in place found every file of the previous build in the
        // output before it began.
        let present = |ps: &Vec<&state::PageEntry>| {
            r.in_place || ps.iter().all(|(p, ..)| r.stored(p).is_file())
        };
        let Some(pages) = pages.filter(present) else {
            return Ok(false);
        };
        for (path, hash, size) in pages {
            let stored = layout::stored(&self.keys.names, path);
            self.keep(r, path, &stored, *size)?;
            self.tally.page(path);
            self.progress.inc(1);
            self.records().add((path, *hash, *size), readers, Some(key));
        }
        self.reused.fetch_add(old.pages.len(), Ordering::Relaxed);
        self.unrendered
            .fetch_add(old.pages.len(), Ordering::Relaxed);
        Ok(true)
    }

    /// Seals each bundle's manifest; returns what was written, the pages
    /// kept from the previous build, and every sealed page's and part's state.
    fn finish(self, plan: &Plan) -> Result<(output::Written, [usize; 2], state::Recorded)> {
        let records = self.records.into_inner().expect("unpoisoned").sorted();
        records
            .manifests
            .par_iter()
            .enumerate()
            .try_for_each(|(b, list)| -> Result<()> {
                let paths: Vec<&str> = list
                    .iter()
                    .map(|&i| &*records.pages[i as usize].0)
                    .collect();
                let path = paths::manifest(&plan.bundles[b].id);
                let json = serde_json::to_vec(&paths)?;
                let to: Vec<x25519::Recipient> = vec![self.recipients[b].clone()];
                let sealed = seal::to_recipients(&seal::pack(&json)?, &to)?;
                self.tally
                    .write(self.dir, &layout::stored(&self.keys.names, &path), &sealed)
            })?;
        let kept = [self.reused.into_inner(), self.unrendered.into_inner()];
        Ok((self.tally.written(), kept, (records.pages, records.parts)))
    }
}

impl Output for Sealed<'_> {
    fn page(&self, page: Page) -> Result<()> {
        self.tally.page(&page.path);
        self.progress.inc(1);
        if page.readers.is_empty() {
            return self.tally.write(self.dir, &page.path, &page.bytes);
        }
        self.seal(&page)
    }

    fn stream(&self, pages: Vec<Page>, fill: output::Fill) -> Result<()> {
        if pages.iter().any(|p| p.readers.is_empty()) {
            return output::gathered(self, pages, fill);
        }
        let hashers = pages
            .iter()
            .map(|p| {
                state::PageHasher::new(&self.keys.content, &self.sorted_recipients(&p.readers))
            })
            .collect();
        let mut written = Hashed {
            hashers,
            packing: seal::Packing::default(),
        };
        fill(&mut written)?;
        let packed = written.packing.finish()?;
        // One payload, sealed to each page's readers apart.
        for (page, hasher) in pages.iter().zip(written.hashers) {
            self.tally.page(&page.path);
            self.progress.inc(1);
            self.store(page, hasher.finish(), || Ok(packed.clone()))?;
        }
        Ok(())
    }

    fn keeps(&self) -> bool {
        true
    }

    fn kept(&self, part: &output::Part, input: &dyn Fn() -> String) -> Result<bool> {
        let input = input();
        let readers: Vec<String> = part
            .readers
            .iter()
            .map(|&b| self.bundle_ids[b].clone())
            .collect();
        let unchanged = |old: &&state::PartState| {
            old.input == input
                && old.readers == readers
                && part.readers.iter().all(|&b| !self.keys.fresh[b])
        };
        let old = self
            .reuse
            .and_then(|r| Some((r, r.state.parts.get(&part.key).filter(unchanged)?)));
        let kept = match old {
            Some((r, old)) => self.keep_part(r, &part.key, old, part.readers)?,
            None => false,
        };
        let mut records = self.records();
        let entry = records.parts.entry(part.key.clone()).or_default();
        entry.input = input;
        entry.readers = readers;
        Ok(kept)
    }
}

/// Streamed pages' bytes, packed once as they are written and hashed for
/// each page (a page's hash covers its readers).
struct Hashed {
    hashers: Vec<state::PageHasher>,
    packing: seal::Packing,
}

impl std::io::Write for Hashed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.packing.write(buf)?;
        for hasher in &mut self.hashers {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.packing.flush()
    }
}

/// The plaintext of `email`'s grant file.
fn grant_file(
    dep: &Deployment,
    plan: &Plan,
    scopes: &[x25519::Identity],
    names: &[u8],
    email: &str,
) -> Result<Vec<u8>> {
    let bundles = plan
        .bundles_of(email)
        .map(|(i, b)| GrantedBundle {
            role: render::views::role_name(b.kind).to_string(),
            label: b.label(dep),
            note: site::bundle_note(dep, b),
            home: paths::home(&b.id),
            manifest: paths::manifest(&b.id),
            identity: scopes[i].to_string().expose_secret().to_string(),
        })
        .collect();
    Ok(serde_json::to_vec(&GrantFile {
        version: 1,
        email: email.to_string(),
        names: seal::hex(names),
        bundles,
    })?)
}

/// The public logon shell: its page and scripts.
fn shell(info: &SiteInfo) -> Result<Vec<(String, Vec<u8>)>> {
    let r = Renderer::new()?;
    let base = render::views::Base {
        site: info,
        root: "",
        home: None,
        role: None,
    };
    let mut out = vec![
        (
            "index.html".to_string(),
            r.render("logon.html", &base)?.into_bytes(),
        ),
        (
            "enrol.html".to_string(),
            r.render("enrol.html", &base)?.into_bytes(),
        ),
    ];
    for (path, data) in render::SHELL_ASSETS {
        out.push((path.to_string(), data.to_vec()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_sort_by_path_and_keep_who_reads_what() {
        let mut r = Records {
            manifests: vec![Vec::new(); 2],
            ..Records::default()
        };
        let hash = |n: u8| state::PageHash([n; 32]);
        r.add(("c.html", hash(3), 30), &[0], Some("p"));
        r.add(("a.html", hash(1), 10), &[0, 1], None);
        r.add(("d.html", hash(4), 40), &[1], Some("p"));
        r.add(("b.html", hash(2), 20), &[1], Some("q"));
        let r = r.sorted();
        let paths: Vec<&str> = r.pages.iter().map(|(p, ..)| &**p).collect();
        assert_eq!(paths, ["a.html", "b.html", "c.html", "d.html"]);
        assert!(r
            .pages
            .iter()
            .enumerate()
            .all(|(i, (_, h, size))| h.0[0] == i as u8 + 1 && *size == 10 * (i as u64 + 1)));
        let named =
            |list: &[u32]| -> Vec<&str> { list.iter().map(|&i| paths[i as usize]).collect() };
        assert_eq!(named(&r.manifests[0]), ["a.html", "c.html"]);
        assert_eq!(named(&r.manifests[1]), ["a.html", "b.html", "d.html"]);
        assert_eq!(named(&r.parts["p"].pages), ["c.html", "d.html"]);
        assert_eq!(named(&r.parts["q"].pages), ["b.html"]);
    }
}
