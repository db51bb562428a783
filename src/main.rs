//! The `scoresite` command line.

use age::secrecy::SecretString;
use clap::{Parser, Subcommand};
use scoresite::users::NewCredential;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "scoresite",
    version,
    about = "Static, age-encrypted report sites for student assessment results"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the no-logon sandbox site from a generated fictitious LEA (--emit-data: write the LEA's data instead).
    Sandbox {
        /// Where the sandbox site goes.
        #[arg(long, default_value = "sandbox-site")]
        out: PathBuf,
        /// Seed of the generator: the same seed and size give byte-identical data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of students.
        #[arg(long, default_value_t = 2500)]
        students: u32,
        /// Write the fictitious deployment (data in the real input formats) to this directory.
        #[arg(long)]
        emit_data: Option<PathBuf>,
        /// Serve the site on 127.0.0.1:8000 after building it.
        #[arg(long)]
        serve: bool,
        /// Replace an output directory that is not a previous scoresite output.
        #[arg(long)]
        force: bool,
    },
    /// Validate a deployment's inputs; list every error with file:line:column and exit 1 if any.
    Check {
        /// The deployment directory (scoresite.yaml, users.yaml, items.yaml, data/).
        #[arg(default_value = ".")]
        deployment: PathBuf,
    },
    /// Build the encrypted site: every page sealed with age to the users its grants allow.
    ///
    /// A rebuild into the same output keeps what is safe to keep: a bundle's key while
    /// nobody leaves it, and the ciphertext of every page that did not change; with
    /// nothing changed at all, the site is left as it is. Any build reads again only the
    /// TRT files that changed since the last: their parses are kept, sealed, in
    /// credentials/trt-cache.age.
    Build {
        /// The deployment directory (scoresite.yaml, users.yaml, items.yaml, credentials/, data/).
        #[arg(default_value = ".")]
        deployment: PathBuf,
        /// Where to publish the site; the previous site stays until the new one is complete.
        /// Only an empty directory or a previous scoresite output is replaced.
        #[arg(long)]
        out: PathBuf,
        /// Replace an --out directory that is not a previous scoresite output.
        #[arg(long)]
        force: bool,
    },
    /// Enrol users and manage their passphrases.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Log on to a built secure site as one user and list or decrypt what they can read.
    Open {
        /// The built site.
        #[arg(long)]
        site: PathBuf,
        #[arg(long)]
        email: String,
        /// Read the passphrase from the first line of stdin (required: never on the command line).
        #[arg(long)]
        password_stdin: bool,
        /// List every page path the user can read.
        #[arg(long, conflicts_with_all = ["path", "out"])]
        list: bool,
        /// Decrypt everything the user can read into this folder (readable by
        /// its owner only: it holds plaintext student data), for audits.
        #[arg(long, conflicts_with = "path")]
        out: Option<PathBuf>,
        /// With --out: replace a folder that is not a previous scoresite output.
        #[arg(long, requires = "out")]
        force: bool,
        /// A page path (as listed) to write, decrypted, to stdout.
        path: Option<String>,
    },
    /// Preview a built site on a local web server (127.0.0.1 unless --bind says otherwise).
    Serve {
        dir: PathBuf,
        /// Port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Address to listen on; a non-loopback address gets a warning.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Enrol a user with grants (ROLE:SCOPE); prints a generated passphrase unless --password-stdin.
    Add {
        #[arg(long)]
        email: String,
        /// ROLE:SCOPE, as teacher:SCHOOL, school_admin:SCHOOL, district_admin:LEA, state_admin, aggregate_reporter:school:ID.
        /// Required unless users.yaml already lists the user with grants.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// The user's name, as the site shows it.
        #[arg(long)]
        name: Option<String>,
        /// Read the passphrase from the first line of stdin instead of generating one.
        #[arg(long, conflicts_with = "credential")]
        password_stdin: bool,
        /// Enrol with the file the user made on the site's "Create your sign-in
        /// file" page (their passphrase never reaches the coordinator).
        #[arg(long)]
        credential: Option<PathBuf>,
        /// The deployment directory.
        #[arg(long, default_value = ".")]
        deployment: PathBuf,
    },
    /// Give a user a new identity and passphrase (the old one is not needed); rebuild to apply.
    Passwd {
        #[arg(long)]
        email: String,
        /// Read the passphrase from the first line of stdin instead of generating one.
        #[arg(long, conflicts_with = "credential")]
        password_stdin: bool,
        /// Use a new sign-in file the user made on the site's enrolment page.
        #[arg(long)]
        credential: Option<PathBuf>,
        #[arg(long, default_value = ".")]
        deployment: PathBuf,
    },
    /// Enrol every user of a CSV file (email, grants, optional name; grants
    /// ROLE:SCOPE separated by spaces or `;`) not enrolled yet, in parallel,
    /// each with a generated passphrase written to --passphrases (created
    /// readable by its owner only). Run it again to resume.
    Import {
        /// The users: a CSV with email, grants and optionally name columns, or a
        /// OneRoster export (its folder, zip or users.csv), whose teachers and
        /// administrators are enrolled at their orgs.
        file: PathBuf,
        /// Where the generated passphrases go, one `email,passphrase` line each.
        #[arg(long)]
        passphrases: PathBuf,
        /// The deployment directory.
        #[arg(long, default_value = ".")]
        deployment: PathBuf,
    },
    /// Remove a user and their credential; after the next build they can open nothing new.
    Remove {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = ".")]
        deployment: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check { deployment } => check(&deployment),
        Command::Sandbox {
            out,
            seed,
            students,
            emit_data,
            serve,
            force,
        } => sandbox(out, seed, students, emit_data, serve, force),
        Command::Build {
            deployment,
            out,
            force,
        } => build(&deployment, &out, force),
        Command::Users(command) => users(command),
        Command::Open {
            site,
            email,
            password_stdin,
            list,
            out,
            force,
            path,
        } => open(
            &site,
            &email,
            password_stdin,
            list,
            out.map(|o| (o, force)),
            path,
        ),
        Command::Serve { dir, port, bind } => serve(dir, bind, port),
    }
}

fn check(deployment: &std::path::Path) -> ExitCode {
    let outcome = scoresite::check::run(deployment);
    let _ =
        scoresite::check::print_diagnostics(&outcome.diagnostics, &mut std::io::stderr().lock());
    if let Some(summary) = outcome.summary {
        let _ = std::io::stdout().lock().write_all(summary.as_bytes());
    }
    if outcome.diagnostics.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn sandbox(
    out: PathBuf,
    seed: u64,
    students: u32,
    emit_data: Option<PathBuf>,
    serve_after: bool,
    force: bool,
) -> ExitCode {
    let catalog = match scoresite::catalog::Catalog::builtin() {
        Ok(c) => c,
        Err(diags) => {
            let _ = scoresite::check::print_diagnostics(&diags, &mut std::io::stderr().lock());
            return ExitCode::FAILURE;
        }
    };
    let options = scoresite::sandbox::Options {
        seed,
        students,
        trt: true,
    };
    if let Some(dir) = emit_data {
        match scoresite::sandbox::emit_fresh(&dir, &options, &catalog, force) {
            Ok(e) => println!(
                "Wrote a fictitious deployment to {}: {} students, {} schools, {} teachers, {} groups, {} export rows, {} TRT files, {} users.",
                dir.display(), e.students, e.schools, e.teachers, e.groups, e.export_rows, e.trt_files, e.users
            ),
            Err(e) => return fail("sandbox", e),
        }
        if !serve_after {
            return ExitCode::SUCCESS;
        }
    }
    let started = std::time::Instant::now();
    match scoresite::sandbox::build_site(&out, &options, &catalog, force) {
        Ok(w) => println!(
            "Built the sandbox site in {}: {} pages, {} files, {:.1} MB in {:.1}s. Open {} or run `scoresite serve {}`.",
            out.display(), w.pages, w.files, w.bytes as f64 / 1e6, started.elapsed().as_secs_f64(),
            out.join("index.html").display(), out.display()
        ),
        Err(e) => return fail("sandbox", e),
    }
    if serve_after {
        return serve(out, std::net::IpAddr::from([127, 0, 0, 1]), 8000);
    }
    ExitCode::SUCCESS
}

fn serve(dir: PathBuf, bind: std::net::IpAddr, port: u16) -> ExitCode {
    match scoresite::serve::run(&scoresite::serve::Options { dir, bind, port }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("serve", e),
    }
}

fn build(deployment: &std::path::Path, out: &std::path::Path, force: bool) -> ExitCode {
    let started = std::time::Instant::now();
    let mut diags = scoresite::diag::Diagnostics::default();
    let result = scoresite::build::build(deployment, out, force, &mut diags);
    if result.is_ok() {
        let _ = scoresite::check::print_diagnostics(&diags, &mut std::io::stderr().lock());
    }
    match result {
        Ok(scoresite::build::Outcome {
            up_to_date: true, ..
        }) => {
            println!(
                "Nothing changed since the last build into {} (the same inputs and program): the site is up to date.",
                out.display()
            );
            ExitCode::SUCCESS
        }
        Ok(scoresite::build::Outcome {
            built: b, afresh, ..
        }) => {
            if let Some(why) = afresh {
                eprintln!("note: every page is sealed afresh: {why}.");
            }
            println!(
                "Built the secure site in {}: {} pages sealed in {} bundles for {} users, {} files, {:.1} MB in {:.1}s; {} pages and {} bundle keys kept from the previous build ({} pages not rendered again).",
                out.display(), b.pages, b.bundles, b.users, b.files, b.bytes as f64 / 1e6,
                started.elapsed().as_secs_f64(), b.reused, b.kept_keys, b.unrendered
            );
            if b.not_enrolled > 0 {
                eprintln!(
                    "note: {} users in users.yaml are not enrolled and can open nothing; enrol them with `scoresite users add`.",
                    b.not_enrolled
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail("build", e),
    }
}

/// The user's new credential: the enrolment file they made in the browser,
/// a passphrase from stdin, or a generated passphrase (returned too, to be
/// printed once the command has succeeded).
fn new_credential(
    email: &str,
    file: Option<&std::path::Path>,
    from_stdin: bool,
) -> anyhow::Result<(NewCredential, Option<String>)> {
    if let Some(file) = file {
        return Ok((NewCredential::from_file(file, email)?, None));
    }
    if from_stdin {
        let pass = scoresite::users::passphrase_from(
            std::io::stdin().lock(),
            scoresite::users::MIN_PASSPHRASE,
        )?;
        return Ok((NewCredential::Passphrase(pass), None));
    }
    let generated = scoresite::seal::generate_passphrase()?;
    Ok((
        NewCredential::Passphrase(SecretString::from(generated.clone())),
        Some(generated),
    ))
}

/// Prints a generated passphrase, once, after the command that set it succeeded.
fn show_generated(generated: Option<String>) {
    if let Some(p) = generated {
        println!("Passphrase (shown once; give it to the user in person): {p}");
    }
}

fn users(command: UsersCommand) -> ExitCode {
    use scoresite::users::Enrollment;
    let result = match command {
        UsersCommand::Add {
            email,
            grants,
            name,
            password_stdin,
            credential,
            deployment,
        } => new_credential(&email, credential.as_deref(), password_stdin).and_then(
            |(p, generated)| {
                Enrollment::at(&deployment).add(&email, name, &grants, &p)?;
                show_generated(generated);
                println!("Enrolled {email}. Rebuild the site to give them access.");
                Ok(())
            },
        ),
        UsersCommand::Passwd {
            email,
            password_stdin,
            credential,
            deployment,
        } => new_credential(&email, credential.as_deref(), password_stdin).and_then(
            |(p, generated)| {
                Enrollment::at(&deployment).passwd(&email, &p)?;
                show_generated(generated);
                println!("New passphrase set for {email}. Rebuild the site to apply it.");
                Ok(())
            },
        ),
        UsersCommand::Import {
            file,
            passphrases,
            deployment,
        } => Enrollment::at(&deployment)
            .import(&file, &passphrases)
            .map(|done| {
                if done.passed_over > 0 {
                    println!(
                        "Passed over {} OneRoster users who get no logon (students, parents, guardians, aides, disabled accounts).",
                        done.passed_over
                    );
                }
                println!(
                    "Enrolled {} users ({} already enrolled). Their passphrases are in {}; give each to its user in person, then delete the file. Rebuild the site to give them access.",
                    done.enrolled,
                    done.skipped,
                    passphrases.display()
                );
            }),
        UsersCommand::Remove { email, deployment } => {
            Enrollment::at(&deployment).remove(&email).map(|()| {
                println!("Removed {email}. Rebuild the site: new scope keys lock them out.");
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("users", e),
    }
}

fn open(
    site: &std::path::Path,
    email: &str,
    password_stdin: bool,
    list: bool,
    out: Option<(PathBuf, bool)>,
    path: Option<String>,
) -> ExitCode {
    if !password_stdin {
        eprintln!("scoresite open: give the passphrase on stdin with --password-stdin");
        return ExitCode::from(2);
    }
    let run = || -> anyhow::Result<()> {
        let pass = scoresite::users::passphrase_from(std::io::stdin().lock(), 1)?;
        let session = scoresite::open::Session::logon(site, email, &pass)?;
        let mut stdout = std::io::stdout().lock();
        if let Some((dir, force)) = out {
            let pages = session.extract(&dir, force)?;
            writeln!(stdout, "Decrypted {pages} pages into {} (readable by you only; delete it when the audit is done).", dir.display())?;
            return Ok(());
        }
        match (list, path) {
            (_, Some(p)) => stdout.write_all(&session.read(&p)?)?,
            _ => {
                for p in session.paths()? {
                    writeln!(stdout, "{p}")?;
                }
            }
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("open", e),
    }
}

/// Prints the whole cause chain of `e`; a reader that stopped reading (as
/// `open --list | head` does) ends the command quietly instead.
fn fail(command: &str, e: anyhow::Error) -> ExitCode {
    let broken_pipe = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("scoresite {command}: {e:#}");
    ExitCode::FAILURE
}
