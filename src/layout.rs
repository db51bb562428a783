//! The on-disk layout of a secure site: what `build` writes, `open` reads,
//! and the logon shell's scripts (`shell.js`, `worker.js`) mirror.
//!
//! ```text
//! index.html, enrol.html, assets/, help/   the public logon shell, styles, scripts, help
//! site.json                    the site salt (no key)
//! credentials/LOCATOR.age      each user's passphrase-sealed identity
//! grants/LOCATOR.age           each user's scope identities, sealed to them
//! d/NAME.age                   every page and bundle manifest, sealed to its readers' scopes
//! ```
//!
//! LOCATOR is HMAC-SHA-256(site salt, email); NAME is HMAC-SHA-256(the
//! build's names key, the page's path), which only logged-on users learn.

use crate::seal;
use serde::{Deserialize, Serialize};

/// The file the logon shell reads first.
pub const SITE_JSON: &str = "site.json";

/// Where the credential of the user at `locator` is stored.
pub fn credential(locator: &str) -> String {
    format!("credentials/{locator}.age")
}

/// Where the grant file of the user at `locator` is stored.
pub fn grant(locator: &str) -> String {
    format!("grants/{locator}.age")
}

/// The folder every sealed page is stored in, by its opaque name.
pub const STORED: &str = "d";

/// Where the page at `path` is stored in a build whose names key is `names`.
pub fn stored(names: &[u8], path: &str) -> String {
    format!("{STORED}/{}", stored_name(names, path))
}

/// The file name in [`STORED`] of the page at `path`.
pub fn stored_name(names: &[u8], path: &str) -> String {
    format!("{}.age", &seal::hmac_hex(names, path)[..32])
}

/// When a rebuild updates a site in place, the order its files are put in
/// place (lowest first): sealed pages before the grants that lead to them,
/// and `site.json`, whose new build id tells logged-on sessions that the
/// site changed, last.
pub fn commit_rank(path: &str) -> u8 {
    match path {
        SITE_JSON => 3,
        p if p.strip_prefix(STORED).is_some_and(|r| r.starts_with('/')) => 0,
        p if p.starts_with("grants/") => 2,
        _ => 1,
    }
}

/// A District/School Export of the secure build, as its page holds it: the
/// CSV's header and the paths of its parts, one school's rows each, which
/// the shell and `scoresite open` join in this order into one file. Each
/// part is sealed to every bundle that shows its rows, so that one
/// school's change seals that school's parts again, not a district's whole
/// export.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportParts {
    pub header: String,
    pub parts: Vec<String>,
}

impl ExportParts {
    /// The parts a page lists, when it is such a list (a CSV starts
    /// otherwise).
    pub fn of(page: &[u8]) -> Option<ExportParts> {
        page.starts_with(b"{")
            .then(|| serde_json::from_slice(page).ok())
            .flatten()
    }
}

/// `site.json`: what the logon shell needs before anyone logs on. It holds
/// no key: an outsider cannot tell which stored file is which page.
#[derive(Serialize, Deserialize)]
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
#[derive(Serialize, Deserialize)]
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
#[derive(Serialize, Deserialize)]
pub struct GrantFile {
    pub version: u32,
    pub email: String,
    /// Hex key of this build's opaque page names, known only to logged-on users.
    pub names: String,
    pub bundles: Vec<GrantedBundle>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_names_are_opaque() {
        let name = super::stored(b"n", "b/school-s100/g-0a1b.html");
        assert!(name.starts_with("d/") && name.ends_with(".age") && !name.contains("g-0a1b"));
        assert_ne!(name, super::stored(b"m", "b/school-s100/g-0a1b.html"));
    }
}
