//! `users import`: many users enrolled from one CSV file or a OneRoster
//! export, in parallel and resumably, with their generated passphrases
//! written to an owner-only file.

use super::{enrolled, entry, merge, new_identity, valid_email, write_atomic, Enrollment};
use crate::deployment::UsersFile;
use crate::diag::Diagnostics;
use crate::ingest::oneroster;
use crate::model::Grant;
use crate::seal;
use age::secrecy::SecretString;
use anyhow::{bail, Context as _, Result};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// Users sealed and recorded together: one `users.yaml` write per chunk.
const CHUNK: usize = 32;

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub enrolled: usize,
    /// Already enrolled: left as they are.
    pub skipped: usize,
    /// OneRoster users who get no logon: students, parents, aides, disabled
    /// accounts.
    pub passed_over: usize,
}

/// One row of the import file.
struct Row {
    email: String,
    name: Option<String>,
    grants: Vec<String>,
}

/// Reads `file`: a OneRoster export (its folder, its zip or its
/// `users.csv`; see [`oneroster::staff`]), or a CSV with the columns `email`
/// and `grants` (ROLE:SCOPE, several separated by spaces or `;`) and
/// optionally `name`. Every bad cell is named by line and column; any one
/// stops the import before it starts. Also returns the OneRoster users
/// passed over.
fn rows(file: &Path) -> Result<(Vec<Row>, usize)> {
    if is_oneroster(file) {
        return oneroster_rows(file);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let headers: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{}:1:1: cannot read the header", file.display()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(email_col), Some(grants_col)) = (col("email"), col("grants")) else {
        bail!(
            "{}:1:1: expected a header with the columns email and grants (and optionally name), found `{}`",
            file.display(),
            headers.join(",")
        );
    };
    let name_col = col("name");
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for record in rdr.records() {
        let record = record.with_context(|| format!("{}: not readable CSV", file.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |c: usize| format!("{}:{line}:{}", file.display(), c + 1);
        let cell = |c: usize| record.get(c).unwrap_or("").trim();
        let email = match valid_email(cell(email_col)) {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!("{}: {e}", at(email_col)));
                continue;
            }
        };
        let grants: Vec<String> = cell(grants_col)
            .split([' ', ';'])
            .filter(|g| !g.is_empty())
            .map(String::from)
            .collect();
        if grants.is_empty() {
            errors.push(format!(
                "{}: expected at least one grant (ROLE:SCOPE) for {email}",
                at(grants_col)
            ));
        }
        for g in &grants {
            if let Err(e) = Grant::parse(g) {
                errors.push(format!("{}: {e}", at(grants_col)));
            }
        }
        let name = name_col
            .map(cell)
            .filter(|n| !n.is_empty())
            .map(String::from);
        out.push(Row {
            email,
            name,
            grants,
        });
    }
    if !errors.is_empty() {
        bail!("nothing was enrolled:\n{}", errors.join("\n"));
    }
    Ok((out, 0))
}

/// True for a folder, a zip, or a CSV whose header is a OneRoster file's.
fn is_oneroster(file: &Path) -> bool {
    let zip = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let header = || -> Option<Vec<String>> {
        let mut rdr = csv::Reader::from_path(file).ok()?;
        let h = rdr.headers().ok()?;
        Some(
            h.iter()
                .map(|c| c.trim().trim_start_matches('\u{feff}').to_string())
                .collect(),
        )
    };
    file.is_dir() || zip || header().is_some_and(|h| oneroster::table_of(&h).is_some())
}

/// The staff of the OneRoster export at `file`, with the users passed over.
fn oneroster_rows(file: &Path) -> Result<(Vec<Row>, usize)> {
    let files =
        oneroster::files_at(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut diags = Diagnostics::default();
    let (staff, passed) = oneroster::staff(&files, &mut diags);
    if !diags.is_ok() {
        diags.sort();
        let errors: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        bail!("nothing was enrolled:\n{}", errors.join("\n"));
    }
    let rows = staff
        .into_iter()
        .map(|s| Row {
            email: s.email,
            name: s.name,
            grants: s.grants,
        })
        .collect();
    Ok((rows, passed))
}

/// Opens the passphrase file for appending, created readable by its owner
/// only; an existing file readable by others is refused.
fn passphrase_file(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                bail!(
                    "{} is readable by others; passphrases go only to a file its owner alone can read",
                    path.display()
                );
            }
        }
    }
    options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))
}

impl Enrollment {
    /// Enrols every user of `file` not enrolled yet, each with a generated
    /// passphrase appended to `passphrases` (`email,passphrase`) before the
    /// user is recorded, so an interrupted import loses none: run it again
    /// and it goes on from where it stopped (the last line for an email is
    /// the passphrase that works).
    pub fn import(&self, file: &Path, passphrases: &Path) -> Result<Imported> {
        let (rows, passed_over) = rows(file)?;
        let mut users = self.read()?;
        let mut seen = std::collections::BTreeSet::new();
        let todo: Vec<&Row> = rows
            .iter()
            .filter(|r| seen.insert(r.email.clone()) && !enrolled(&users, &r.email))
            .collect();
        let mut report = Imported {
            enrolled: 0,
            skipped: seen.len() - todo.len(),
            passed_over,
        };
        if todo.is_empty() {
            return Ok(report);
        }
        let mut out = passphrase_file(passphrases)?;
        let salt = self.salt()?;
        for chunk in todo.chunks(CHUNK) {
            let sealed: Vec<(String, String, Vec<u8>)> = chunk
                .par_iter()
                .map(|_| {
                    let pass = seal::generate_passphrase()?;
                    let (recipient, credential) = new_identity(&SecretString::from(pass.clone()))?;
                    Ok((pass, recipient, credential))
                })
                .collect::<Result<_>>()?;
            let mut lines = String::new();
            for (r, (pass, _, credential)) in chunk.iter().zip(&sealed) {
                let pending = self
                    .credential_path(&salt, &r.email)
                    .with_extension("age.new");
                write_atomic(&pending, credential)?;
                lines.push_str(&format!("{},{pass}\n", r.email));
            }
            out.write_all(lines.as_bytes())?;
            out.sync_all()?;
            for (r, (_, recipient, credential)) in chunk.iter().zip(&sealed) {
                record(&mut users, r, recipient, credential);
            }
            self.write(&users)?;
            for r in chunk {
                let path = self.credential_path(&salt, &r.email);
                std::fs::rename(path.with_extension("age.new"), &path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            report.enrolled += chunk.len();
        }
        Ok(report)
    }
}

/// Records `row`'s user in `users` with its new identity.
fn record(users: &mut UsersFile, row: &Row, recipient: &str, credential: &[u8]) {
    let at = entry(users, &row.email);
    let user = &mut users.users[at];
    merge(user, &row.grants, row.name.clone());
    user.recipient = Some(recipient.to_string());
    user.credential = Some(seal::fingerprint(credential));
}
