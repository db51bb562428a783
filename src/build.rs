//! The secure build: load → validate → plan access → render → seal → write.
//!
//! Every page derived from data is age-encrypted to the scope keys of the
//! bundles that may read it, under an opaque name. Scope keys are fresh on
//! every build; each enrolled user gets a grant file, encrypted to their
//! personal recipient, holding the scope identities of their bundles. The
//! output is published atomically.
//!
//! ```text
//! index.html, assets/, help/   the public logon shell, styles, scripts, help
//! site.json                    the site salt (no key)
//! credentials/LOCATOR.age      each user's passphrase-sealed identity
//! grants/LOCATOR.age           each user's scope identities, sealed to them
//! d/NAME.age                   every page, sealed to its readers' scopes
//! ```

use crate::access::{self, Plan};
use crate::deployment::Deployment;
use crate::diag::Diagnostics;
use crate::output::{self, write_file as write};
use crate::pipeline;
use crate::render::{self, views::SiteInfo, Renderer};
use crate::seal;
use crate::site::{self, Page};
use crate::users::Enrollment;
use age::secrecy::ExposeSecret;
use age::x25519;
use anyhow::{bail, Result};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
}

/// `site.json`: what the logon shell needs before anyone logs on. It holds
/// no key: an outsider cannot tell which stored file is which page.
#[derive(Serialize, serde::Deserialize)]
pub struct SiteJson {
    pub version: u32,
    pub name: String,
    /// Hex salt of the credential and grant locators.
    pub salt: String,
    /// A random id of this build, so that a session logged on to an earlier
    /// build can tell the site was updated rather than a page missing.
    #[serde(default)]
    pub build: String,
}

/// One bundle as a user's grant lists it.
#[derive(Serialize, serde::Deserialize)]
pub struct GrantedBundle {
    pub role: String,
    pub label: String,
    pub note: String,
    /// The bundle's home page path.
    pub home: String,
    /// The path of the bundle's list of pages.
    pub manifest: String,
    /// The bundle's scope identity (`AGE-SECRET-KEY-1…`).
    pub identity: String,
}

/// A user's grant file, sealed to their personal recipient.
#[derive(Serialize, serde::Deserialize)]
pub struct GrantFile {
    pub version: u32,
    pub email: String,
    /// Hex key of this build's opaque page names, known only to logged-on users.
    pub names: String,
    pub bundles: Vec<GrantedBundle>,
}

/// Builds the secure site of the deployment at `root` into `out`.
/// Warnings found while loading are left in `diags`; any error refuses the
/// build. `force` replaces an `out` that is not a previous scoresite output.
pub fn build(root: &Path, out: &Path, force: bool, diags: &mut Diagnostics) -> Result<Built> {
    let dep = pipeline::load_valid(root, diags)?.deployment;
    let enrollment = Enrollment::at(root);
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
    let scopes: Vec<x25519::Identity> = plan
        .bundles
        .iter()
        .map(|_| x25519::Identity::generate())
        .collect();
    let names = seal::random_bytes(32)?;
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
    let mut built = output::publish(&dest, |staging| {
        let mut built = seal_site(&dep, &plan, &info, &scopes, &names, staging, &progress)?;
        progress.set_message("grants");
        for (i, recipient, credential) in &enrolled {
            let user = &dep.users[*i];
            let locator = seal::locator(&salt, &user.email);
            write(staging, &format!("credentials/{locator}.age"), credential)?;
            let grant = grant_file(&dep, &plan, &scopes, &names, &user.email)?;
            write(
                staging,
                &format!("grants/{locator}.age"),
                &seal::to_recipients(&grant, std::slice::from_ref(recipient))?,
            )?;
        }
        let site_json = SiteJson {
            version: 1,
            name: info.name.clone(),
            salt: seal::hex(&salt),
            build: seal::hex(&seal::random_bytes(16)?),
        };
        write(
            staging,
            "site.json",
            &serde_json::to_vec_pretty(&site_json)?,
        )?;
        built.users = enrolled.len();
        Ok(built)
    })?;
    progress.finish_and_clear();
    built.bundles = plan.bundles.len();
    built.not_enrolled = dep.users.len() - enrolled.len();
    Ok(built)
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

/// Renders and seals every page: public pages in plaintext, the rest packed
/// (compressed and padded, [`seal::pack`]) and sealed to the scopes of their
/// readers, with a sealed manifest of each bundle's pages.
fn seal_site(
    dep: &Deployment,
    plan: &Plan,
    info: &SiteInfo,
    scopes: &[x25519::Identity],
    names: &[u8],
    dir: &Path,
    progress: &indicatif::ProgressBar,
) -> Result<Built> {
    let recipients: Vec<x25519::Recipient> = scopes.iter().map(|s| s.to_public()).collect();
    let manifests: Mutex<Vec<Vec<String>>> = Mutex::new(vec![Vec::new(); plan.bundles.len()]);
    let (pages, files, bytes) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicU64::new(0));
    let save = |path: &str, data: &[u8]| -> Result<()> {
        write(dir, path, data)?;
        files.fetch_add(1, Ordering::Relaxed);
        bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    };
    for (path, data) in shell(info)? {
        save(&path, &data)?;
    }
    site::render(dep, plan, info, &|page: Page| {
        pages.fetch_add(page.path.ends_with(".html") as usize, Ordering::Relaxed);
        progress.inc(1);
        if page.readers.is_empty() {
            return save(&page.path, &page.bytes);
        }
        let to: Vec<x25519::Recipient> = page
            .readers
            .iter()
            .map(|&b| recipients[b].clone())
            .collect();
        save(
            &seal::opaque_name(names, &page.path),
            &seal::to_recipients(&seal::pack(&page.bytes)?, &to)?,
        )?;
        let mut m = manifests.lock().expect("no panics while held");
        for &b in &page.readers {
            m[b].push(page.path.clone());
        }
        Ok(())
    })?;
    for (b, mut list) in manifests
        .into_inner()
        .expect("unpoisoned")
        .into_iter()
        .enumerate()
    {
        list.sort();
        let packed = seal::pack(&serde_json::to_vec(&list)?)?;
        let sealed = seal::to_recipients(&packed, &recipients[b..=b])?;
        save(&seal::opaque_name(names, &manifest_path(b)), &sealed)?;
    }
    Ok(Built {
        pages: pages.into_inner(),
        files: files.into_inner(),
        bytes: bytes.into_inner(),
        ..Built::default()
    })
}

/// The path of bundle `b`'s list of pages.
pub fn manifest_path(b: usize) -> String {
    format!("b/{b}/manifest.json")
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
            home: format!("b/{i}/index.html"),
            manifest: manifest_path(i),
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
