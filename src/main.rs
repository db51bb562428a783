//! The `scoresite` command line.

use clap::{Parser, Subcommand};
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
    /// Generate a fictitious LEA; --emit-data writes it as a deployment (the site itself is not built yet).
    Sandbox {
        /// Where the sandbox site goes (not built yet).
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
        /// Serve the site after building it (not built yet).
        #[arg(long)]
        serve: bool,
    },
    /// Validate a deployment's inputs; list every error with file:line:column and exit 1 if any.
    Check {
        /// The deployment directory (scoresite.yaml, users.yaml, data/).
        #[arg(default_value = ".")]
        deployment: PathBuf,
    },
    /// Build the encrypted site from a deployment (not built yet).
    Build {
        #[arg(default_value = ".")]
        deployment: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Enrol users and manage their passphrases (not built yet).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Decrypt a built site as one user, for audits and tests (not built yet).
    Open {
        #[arg(long)]
        site: PathBuf,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        list: bool,
        path: Option<PathBuf>,
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
        #[arg(long = "grant", required = true)]
        grants: Vec<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new passphrase for a user.
    Passwd {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user.
    Remove {
        #[arg(long)]
        email: String,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check { deployment } => check(&deployment),
        Command::Sandbox {
            out: _,
            seed,
            students,
            emit_data,
            serve: _,
        } => sandbox(seed, students, emit_data),
        Command::Build { .. } => not_built("build"),
        Command::Users(_) => not_built("users"),
        Command::Open { .. } => not_built("open"),
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

fn sandbox(seed: u64, students: u32, emit_data: Option<PathBuf>) -> ExitCode {
    let Some(dir) = emit_data else {
        eprintln!("scoresite sandbox: the sandbox site is not built yet in this release; use --emit-data DIR to write the fictitious deployment.");
        return ExitCode::from(2);
    };
    let catalog = match scoresite::catalog::Catalog::builtin() {
        Ok(c) => c,
        Err(diags) => {
            let _ = scoresite::check::print_diagnostics(&diags, &mut std::io::stderr().lock());
            return ExitCode::FAILURE;
        }
    };
    let options = scoresite::sandbox::Options { seed, students };
    match scoresite::sandbox::emit_fresh(&dir, &options, &catalog) {
        Ok(e) => {
            println!(
                "Wrote a fictitious deployment to {}: {} students, {} schools, {} teachers, {} groups, {} export rows, {} TRT files, {} users.",
                dir.display(), e.students, e.schools, e.teachers, e.groups, e.export_rows, e.trt_files, e.users
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("scoresite sandbox: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(dir: PathBuf, bind: std::net::IpAddr, port: u16) -> ExitCode {
    match scoresite::serve::run(&scoresite::serve::Options { dir, bind, port }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scoresite serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn not_built(command: &str) -> ExitCode {
    eprintln!(
        "scoresite {command}: not built yet in this release; only `check` and `serve` work so far."
    );
    ExitCode::from(2)
}
