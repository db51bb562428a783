//! `scoresite open`: log on to a built secure site as one user, as the
//! browser does, and list or decrypt what that user can read.

use crate::layout::{self, ExportParts, GrantFile, SiteJson};
use crate::seal;
use age::secrecy::SecretString;
use age::x25519;
use anyhow::{bail, Context as _, Result};
use std::path::{Path, PathBuf};

/// The message for an unknown email and for a wrong passphrase alike.
pub const LOGON_FAILED: &str = "unknown email or wrong passphrase";

/// A logged-on user of a built site.
pub struct Session {
    site: PathBuf,
    names: Vec<u8>,
    scopes: Vec<x25519::Identity>,
    pub grant: GrantFile,
}

impl Session {
    /// Logs on to the site in `site` as `email` with `passphrase`.
    pub fn logon(site: &Path, email: &str, passphrase: &SecretString) -> Result<Session> {
        let json = std::fs::read(site.join(layout::SITE_JSON))
            .with_context(|| format!("{} is not a secure site (no site.json)", site.display()))?;
        let info: SiteJson = serde_json::from_slice(&json).context("site.json")?;
        let locator = seal::locator(&seal::unhex(&info.salt)?, email);
        let credential = std::fs::read(site.join(layout::credential(&locator))).ok();
        let identity = credential
            .and_then(|c| seal::open_with_passphrase(&c, passphrase))
            .and_then(|text| {
                String::from_utf8(text)
                    .ok()?
                    .trim()
                    .parse::<x25519::Identity>()
                    .ok()
            });
        let Some(identity) = identity else {
            bail!(LOGON_FAILED)
        };
        let grant = std::fs::read(site.join(layout::grant(&locator)))
            .ok()
            .and_then(|g| seal::open_with(&g, &[identity]))
            .context("this user holds no grant in this build")?;
        let grant: GrantFile = serde_json::from_slice(&grant).context("grant file")?;
        let scopes = grant
            .bundles
            .iter()
            .map(|b| {
                b.identity
                    .parse::<x25519::Identity>()
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .collect::<Result<_>>()?;
        Ok(Session {
            site: site.to_path_buf(),
            names: seal::unhex(&grant.names)?,
            scopes,
            grant,
        })
    }

    /// Every page path this user can read, from their bundles' manifests.
    pub fn paths(&self) -> Result<Vec<String>> {
        let mut all = std::collections::BTreeSet::new();
        for b in &self.grant.bundles {
            let list: Vec<String> = serde_json::from_slice(&self.page(&b.manifest)?)?;
            all.extend(list);
        }
        Ok(all.into_iter().collect())
    }

    /// Where the page at `path` (as `b/BUNDLE/index.html`) is stored.
    pub fn stored_name(&self, path: &str) -> String {
        layout::stored(&self.names, path)
    }

    /// The page at `path`, decrypted, as it is stored.
    pub fn page(&self, path: &str) -> Result<Vec<u8>> {
        self.open_stored(&self.stored_name(path))
            .with_context(|| format!("{path}: not readable by this user"))
    }

    /// The page at `path` as the user gets it: a District/School Export
    /// stored as the list of its parts is given whole, its parts joined as
    /// the shell joins them.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        let page = self.page(path)?;
        let listed = (path.ends_with(".csv"))
            .then(|| ExportParts::of(&page))
            .flatten();
        match listed {
            Some(listed) => {
                let mut whole = listed.header.into_bytes();
                for part in &listed.parts {
                    whole.extend(self.page(part)?);
                }
                Ok(whole)
            }
            None => Ok(page),
        }
    }

    /// Decrypts every page this user can read into `out`, with the site's
    /// public styles, scripts and help, so that an auditor can browse it from
    /// disk. The folder holds plaintext student data: it is created readable
    /// by its owner only. Returns the number of pages written.
    pub fn extract(&self, out: &Path, force: bool) -> Result<usize> {
        let paths = self.paths()?;
        for p in &paths {
            let safe = Path::new(p)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !safe {
                bail!("the page list names `{p}`, which is not a path inside the site");
            }
        }
        let dest = crate::output::Destination {
            path: out,
            kind: "decrypted copy",
            force,
            protect: Some(&self.site),
        };
        crate::output::publish(&dest, |dir| {
            restrict(dir)?;
            for p in &paths {
                crate::output::write_file(dir, p, &self.read(p)?)?;
            }
            for public in ["assets", "help"] {
                copy_tree(&self.site.join(public), &dir.join(public))?;
            }
            Ok(paths.len())
        })
    }

    /// The file stored at `stored` (relative to the site), decrypted with
    /// this user's scope keys and, for a page, unpacked; `None` when they
    /// cannot decrypt it.
    pub fn open_stored(&self, stored: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.site.join(stored)).ok()?;
        let plain = seal::open_with(&bytes, &self.scopes)?;
        Some(seal::unpack(&plain).unwrap_or(plain))
    }
}

/// Makes `dir` readable by its owner only (on Unix).
fn restrict(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    Ok(())
}

/// Copies the regular files under `from` to `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(from)?;
        let target = to.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(entry.path(), &target)
            .with_context(|| format!("cannot copy {}", entry.path().display()))?;
    }
    Ok(())
}
