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
            out,
            seed,
            students,
            emit_data,
            serve,
        } => sandbox(out, seed, students, emit_data, serve),
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

fn sandbox(
    out: PathBuf,
    seed: u64,
    students: u32,
    emit_data: Option<PathBuf>,
    serve_after: bool,
) -> ExitCode {
    let catalog = match scoresite::catalog::Catalog::builtin() {
        Ok(c) => c,
        Err(diags) => {
            let _ = scoresite::check::print_diagnostics(&diags, &mut std::io::stderr().lock());
            return ExitCode::FAILURE;
        }
    };
    let options = scoresite::sandbox::Options { seed, students };
    if let Some(dir) = emit_data {
        match scoresite::sandbox::emit_fresh(&dir, &options, &catalog) {
            Ok(e) => println!(
                "Wrote a fictitious deployment to {}: {} students, {} schools, {} teachers, {} groups, {} export rows, {} TRT files, {} users.",
                dir.display(), e.students, e.schools, e.teachers, e.groups, e.export_rows, e.trt_files, e.users
            ),
            Err(e) => {
                eprintln!("scoresite sandbox: {e:#}");
                return ExitCode::FAILURE;
            }
        }
        if !serve_after {
            return ExitCode::SUCCESS;
        }
    }
    let started = std::time::Instant::now();
    match scoresite::sandbox::build_site(&out, &options, &catalog) {
        Ok(w) => println!(
            "Built the sandbox site in {}: {} pages, {} files, {:.1} MB in {:.1}s. Open {} or run `scoresite serve {}`.",
            out.display(), w.pages, w.files, w.bytes as f64 / 1e6, started.elapsed().as_secs_f64(),
            out.join("index.html").display(), out.display()
        ),
        Err(e) => {
            eprintln!("scoresite sandbox: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    if serve_after {
        return serve(out, std::net::IpAddr::from([127, 0, 0, 1]), 8000);
    }
    ExitCode::SUCCESS
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
