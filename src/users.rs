//! Enrollment: `scoresite users add / passwd / remove`.
//!
//! Each user has a personal X25519 identity, stored under
//! `credentials/HMAC(salt, email).age` encrypted with the user's passphrase
//! (scrypt, work factor 18). `users.yaml` records the grants and the
//! identity's recipient. Passphrases are read from stdin or generated, and
//! never stored, logged or taken from the command line.

use crate::deployment::{UserEntry, UsersFile};
use crate::model::Grant;
use crate::{seal, yaml};
use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{bail, Context as _, Result};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

mod import;
pub use import::Imported;

/// The shortest passphrase accepted from stdin.
pub const MIN_PASSPHRASE: usize = 12;

/// How a user's new identity is sealed.
pub enum NewCredential {
    /// Made here and sealed with this passphrase.
    Passphrase(SecretString),
    /// Made in the user's browser (the site's "Create your sign-in file"
    /// page): their public recipient and the identity sealed with a
    /// passphrase only they know.
    Sealed {
        recipient: String,
        credential: Vec<u8>,
    },
}

/// The file the enrolment page downloads.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolmentFile {
    version: u32,
    email: String,
    recipient: String,
    /// The sealed identity, as hex.
    credential: String,
}

impl NewCredential {
    /// Reads an enrolment file for `email`, checking what can be checked
    /// without the passphrase: the email, the recipient, and that the
    /// credential is sealed with scrypt at the work factor browsers accept.
    pub fn from_file(path: &Path, email: &str) -> Result<NewCredential> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file: EnrolmentFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: expected the file the enrolment page downloads",
                path.display()
            )
        })?;
        if file.version != 1 {
            bail!("{}: version {}; expected 1", path.display(), file.version);
        }
        if seal::normalise_email(&file.email) != seal::normalise_email(email) {
            bail!(
                "{} is the enrolment of {}, not {email}",
                path.display(),
                file.email
            );
        }
        file.recipient
            .parse::<age::x25519::Recipient>()
            .map_err(|e| anyhow::anyhow!("{}: recipient: {e}", path.display()))?;
        let credential = seal::unhex(&file.credential)
            .with_context(|| format!("{}: credential", path.display()))?;
        match seal::work_factor(&credential) {
            Some(seal::WORK_FACTOR) => {}
            other => bail!(
                "{}: the credential is sealed with scrypt work factor {}; expected {}",
                path.display(),
                other.map_or("none".into(), |f| f.to_string()),
                seal::WORK_FACTOR
            ),
        }
        Ok(NewCredential::Sealed {
            recipient: file.recipient,
            credential,
        })
    }
}

/// A deployment's enrollment files.
pub struct Enrollment {
    root: PathBuf,
}

impl Enrollment {
    /// The enrollment files of the deployment at `root`.
    pub fn at(root: &Path) -> Enrollment {
        Enrollment {
            root: root.to_path_buf(),
        }
    }

    fn users_path(&self) -> PathBuf {
        self.root.join("users.yaml")
    }

    fn credentials(&self) -> PathBuf {
        self.root.join("credentials")
    }

    /// The site salt, if any user was ever enrolled.
    pub fn existing_salt(&self) -> Result<Option<Vec<u8>>> {
        let path = self.credentials().join("salt");
        match std::fs::read_to_string(&path) {
            Ok(text) => seal::unhex(&text)
                .with_context(|| format!("{}", path.display()))
                .map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// The site salt, created on first use. Locators are HMACs under it.
    pub fn salt(&self) -> Result<Vec<u8>> {
        if let Some(salt) = self.existing_salt()? {
            return Ok(salt);
        }
        let salt = seal::random_bytes(32)?;
        let path = self.credentials().join("salt");
        write_atomic(&path, format!("{}\n", seal::hex(&salt)).as_bytes())?;
        Ok(salt)
    }

    /// The key of the page names derived from students (see
    /// [`crate::access::Ids`]), created on first use. It keeps those names
    /// the same from build to build; losing it only renames those pages.
    pub fn names_key(&self) -> Result<Vec<u8>> {
        let path = self.credentials().join("page-names.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => return seal::unhex(&text).with_context(|| format!("{}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
        let key = seal::random_bytes(32)?;
        write_atomic(&path, format!("{}\n", seal::hex(&key)).as_bytes())?;
        Ok(key)
    }

    /// Where `email`'s credential file is, under the site salt `salt`.
    pub fn credential_path(&self, salt: &[u8], email: &str) -> PathBuf {
        self.credentials()
            .join(format!("{}.age", seal::locator(salt, email)))
    }

    fn read(&self) -> Result<UsersFile> {
        let path = self.users_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => yaml::parse(&path, &text).map_err(|e| anyhow::anyhow!("{e}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UsersFile::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn write(&self, users: &UsersFile) -> Result<()> {
        let text = format!(
            "# Who may log on: written by `scoresite users`. Grants are ROLE:SCOPE;\n# the recipient is the user's public key.\n{}",
            yaml::to_string(users)?
        );
        write_atomic(&self.users_path(), text.as_bytes())
    }

    /// Enrols `email` with `grants`, sealing a new identity with `passphrase`.
    /// A user already listed without an identity is enrolled with their
    /// listed grants plus `grants`.
    pub fn add(
        &self,
        email: &str,
        name: Option<String>,
        grants: &[String],
        new: &NewCredential,
    ) -> Result<()> {
        let email = valid_email(email)?;
        for g in grants {
            Grant::parse(g).map_err(|e| anyhow::anyhow!(e))?;
        }
        let mut users = self.read()?;
        if enrolled(&users, &email) {
            bail!(
                "{email} is already enrolled; use `scoresite users passwd` to set a new passphrase"
            );
        }
        let at = entry(&mut users, &email);
        let user = &mut users.users[at];
        merge(user, grants, name);
        if user.grants.is_empty() {
            bail!("{email} has no grants; give at least one with --grant ROLE:SCOPE");
        }
        self.install(&mut users, at, &email, new)
    }

    /// Gives `email` a new identity, keeping the grants. The old passphrase
    /// is not needed, so an administrator can reset it (or the user can make a
    /// new sign-in file in the browser).
    pub fn passwd(&self, email: &str, new: &NewCredential) -> Result<()> {
        let email = seal::normalise_email(email);
        let mut users = self.read()?;
        let Some(at) = users
            .users
            .iter()
            .position(|u| seal::normalise_email(&u.email) == email)
        else {
            bail!("{email} is not enrolled in {}", self.users_path().display());
        };
        self.install(&mut users, at, &email, new)
    }

    /// Removes `email` and their credential file.
    pub fn remove(&self, email: &str) -> Result<()> {
        let email = seal::normalise_email(email);
        let mut users = self.read()?;
        let before = users.users.len();
        users
            .users
            .retain(|u| seal::normalise_email(&u.email) != email);
        if users.users.len() == before {
            bail!("{email} is not enrolled in {}", self.users_path().display());
        }
        self.write(&users)?;
        let credential = self.credential_path(&self.salt()?, &email);
        if credential.exists() {
            std::fs::remove_file(&credential)
                .with_context(|| format!("cannot remove {}", credential.display()))?;
        }
        Ok(())
    }

    /// Gives user `at` a new identity, in an order
    /// that an interruption cannot turn into a silent lock-out: the new
    /// credential is written beside the old one, `users.yaml` then records its
    /// recipient and fingerprint, and only then does it replace the old one.
    /// Stopped in between, the old credential and `users.yaml` disagree, and
    /// `build` refuses them, naming the user.
    fn install(
        &self,
        users: &mut UsersFile,
        at: usize,
        email: &str,
        new: &NewCredential,
    ) -> Result<()> {
        let (recipient, sealed) = match new {
            NewCredential::Passphrase(passphrase) => new_identity(passphrase)?,
            NewCredential::Sealed {
                recipient,
                credential,
            } => (recipient.clone(), credential.clone()),
        };
        let path = self.credential_path(&self.salt()?, email);
        let pending = path.with_extension("age.new");
        write_atomic(&pending, &sealed)?;
        users.users[at].recipient = Some(recipient);
        users.users[at].credential = Some(seal::fingerprint(&sealed));
        self.write(users)?;
        std::fs::rename(&pending, &path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// True when `email` (normalised) is listed with an identity.
fn enrolled(users: &UsersFile, email: &str) -> bool {
    users
        .users
        .iter()
        .any(|u| seal::normalise_email(&u.email) == email && u.recipient.is_some())
}

/// The index of `email`'s (normalised) entry in `users`, added without
/// grants or identity when it is not listed.
fn entry(users: &mut UsersFile, email: &str) -> usize {
    if let Some(i) = users
        .users
        .iter()
        .position(|u| seal::normalise_email(&u.email) == email)
    {
        return i;
    }
    users.users.push(UserEntry {
        email: email.to_string(),
        name: None,
        recipient: None,
        credential: None,
        grants: Vec::new(),
    });
    users.users.len() - 1
}

/// Gives `user` the `grants` they lack, and `name` when one is given.
fn merge(user: &mut UserEntry, grants: &[String], name: Option<String>) {
    for g in grants {
        if !user.grants.contains(g) {
            user.grants.push(g.clone());
        }
    }
    if name.is_some() {
        user.name = name;
    }
}

/// A new X25519 identity: its public recipient, and the identity sealed
/// with `passphrase` (the credential file's bytes).
fn new_identity(passphrase: &SecretString) -> Result<(String, Vec<u8>)> {
    let identity = age::x25519::Identity::generate();
    let sealed =
        seal::with_passphrase(identity.to_string().expose_secret().as_bytes(), passphrase)?;
    Ok((identity.to_public().to_string(), sealed))
}

fn valid_email(email: &str) -> Result<String> {
    let email = seal::normalise_email(email);
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !email.contains(char::is_whitespace) =>
        {
            Ok(email)
        }
        _ => bail!("`{email}` is not an email address (expected name@district.org)"),
    }
}

/// Reads a passphrase of at least `min` characters from the first line of `input`.
pub fn passphrase_from(mut input: impl BufRead, min: usize) -> Result<SecretString> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the passphrase from stdin")?;
    let pass = line.trim_end_matches(['\n', '\r']).to_string();
    if pass.chars().count() < min.max(1) {
        bail!("the passphrase on stdin is shorter than {min} characters");
    }
    Ok(SecretString::from(pass))
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| Ok(file.write_all(bytes)?))
}

/// [`write_atomic`] of what `fill` writes.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    fill(tmp.as_file_mut())?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
