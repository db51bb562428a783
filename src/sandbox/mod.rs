//! The sandbox's fictitious deployment: a seeded LEA with schools, teachers,
//! class rosters and three years of results for every assessment family,
//! written in the real input formats so that it goes through the same ingest
//! as an LEA's own data.
//!
//! The same seed and student count always give byte-identical files.

pub mod district;
pub mod draw;
pub mod formats;
pub mod profile;
pub mod results;
mod schedule;
mod scoring;

use crate::catalog::Catalog;
use crate::render::export;
use anyhow::{Context as _, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The passphrase of every sandbox user, for building the fictitious
/// deployment encrypted. It protects nothing real.
pub const DEMO_PASSPHRASE: &str = "sandbox-demo-passphrase";

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: u64,
    pub students: u32,
    /// Write TRT files for the opportunities with item, target and trait
    /// detail (otherwise only the export carries results).
    pub trt: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            students: 2500,
            trt: true,
        }
    }
}

/// Counts of what was written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Emitted {
    pub schools: usize,
    pub teachers: usize,
    pub students: usize,
    pub groups: usize,
    pub export_rows: u64,
    pub trt_files: u64,
    pub users: usize,
}

/// Students generated and written at a time, so memory stays bounded.
const CHUNK: usize = 4096;

/// Writes a complete fictitious deployment into `dir` (which must be empty or absent).
pub fn emit(dir: &Path, options: &Options, catalog: &Catalog) -> Result<Emitted> {
    let profile = profile::Profile::builtin();
    let items = crate::items::ItemBank::builtin();
    let district = district::build(&profile, options.seed, options.students);
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("trt"))
        .with_context(|| format!("cannot create {}", data.display()))?;
    let ctx = results::Context {
        profile: &profile,
        catalog,
        items: &items,
        district: &district,
        seed: options.seed,
    };
    let (export_rows, trt_files) = write_results(&ctx, &data, options.trt)?;
    write(&data.join("groups.csv"), &formats::groups(&district)?)?;
    write(
        &data.join("organisations.txt"),
        formats::organisations(&profile, &district).as_bytes(),
    )?;
    let users = users(&profile, &district);
    write(&dir.join("users.yaml"), users_yaml(&users)?.as_bytes())?;
    write(
        &dir.join(crate::deployment::SETTINGS_FILE),
        settings_yaml(&profile).as_bytes(),
    )?;
    write(
        &dir.join(crate::deployment::ITEMS_FILE),
        crate::items::SANDBOX.as_bytes(),
    )?;
    write(
        &dir.join(crate::deployment::RESOURCES_FILE),
        crate::resources::SANDBOX.as_bytes(),
    )?;
    write(&dir.join("README.md"), readme(&profile, options).as_bytes())?;
    Ok(Emitted {
        schools: district.schools.len(),
        teachers: district.teachers.len(),
        students: district.pupils.len(),
        groups: district.rosters.len(),
        export_rows,
        trt_files,
        users: users.len(),
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Streams the export and writes one TRT file per detailed opportunity,
/// generating students in parallel chunks and appending them in order.
fn write_results(ctx: &results::Context, data: &Path, trt: bool) -> Result<(u64, u64)> {
    let path = data.join("cers_export.csv");
    let file =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    export::header(&mut out)?;
    let (mut rows, mut trts) = (0u64, 0u64);
    let pupils: Vec<u32> = (0..ctx.district.pupils.len() as u32).collect();
    for batch in pupils.chunks(CHUNK * rayon::current_num_threads().max(1)) {
        let parts: Vec<Result<(Vec<u8>, u64, u64)>> = batch
            .par_chunks(256)
            .map(|chunk| {
                let mut w = export::writer(Vec::new());
                let (mut n, mut t) = (0, 0);
                for &i in chunk {
                    let pupil = &ctx.district.pupils[i as usize];
                    for o in ctx.opportunities(i) {
                        w.write_record(formats::export_row(
                            ctx.profile,
                            ctx.district,
                            ctx.catalog,
                            pupil,
                            &o,
                        ))?;
                        n += 1;
                        if trt && o.detailed {
                            let school = &ctx.district.schools[o.school].code;
                            let dir = data.join("trt").join(o.year.to_string()).join(school);
                            std::fs::create_dir_all(&dir)?;
                            let xml =
                                formats::trt(ctx.profile, ctx.district, ctx.catalog, pupil, &o)?;
                            std::fs::write(dir.join(format!("{}.xml", o.key)), xml)?;
                            t += 1;
                        }
                    }
                }
                Ok((w.into_inner().map_err(|e| e.into_error())?, n, t))
            })
            .collect();
        for part in parts {
            let (bytes, n, t) = part?;
            out.write_all(&bytes)?;
            rows += n;
            trts += t;
        }
    }
    out.flush()?;
    Ok((rows, trts))
}

/// A user of the fictitious deployment.
#[derive(Debug, Serialize)]
pub struct SandboxUser {
    pub email: String,
    pub name: String,
    pub grants: Vec<String>,
}

/// One user per role: every teacher, a principal per school, a district
/// coordinator, an aggregate reporter and a state administrator.
pub fn users(profile: &profile::Profile, d: &district::District) -> Vec<SandboxUser> {
    let domain = &profile.lea.domain;
    let mut users = vec![
        SandboxUser {
            email: format!("coordinator@{domain}"),
            name: "District Assessment Coordinator".into(),
            grants: vec![format!("district_admin:{}", profile.lea.id)],
        },
        SandboxUser {
            email: format!("analyst@{domain}"),
            name: "District Research Analyst".into(),
            grants: vec![format!("aggregate_reporter:lea:{}", profile.lea.id)],
        },
        SandboxUser {
            email: format!("state.viewer@{domain}"),
            name: "State Reviewer".into(),
            grants: vec!["state_admin".into()],
        },
    ];
    for s in &d.schools {
        let slug: String = s
            .name
            .to_ascii_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        users.push(SandboxUser {
            email: format!("principal.{slug}@{domain}"),
            name: format!("Principal, {}", s.name),
            grants: vec![format!("school_admin:{}", s.code)],
        });
    }
    for t in &d.teachers {
        users.push(SandboxUser {
            email: t.email.clone(),
            name: format!("{} {}", t.first, t.last),
            grants: vec![format!("teacher:{}", d.schools[t.school].code)],
        });
    }
    users
}

fn users_yaml(users: &[SandboxUser]) -> Result<String> {
    #[derive(Serialize)]
    struct File<'a> {
        users: &'a [SandboxUser],
    }
    Ok(format!(
        "# Fictitious users of the sandbox deployment. Every one of them uses the demo\n# passphrase `{DEMO_PASSPHRASE}` once credentials are enrolled.\n{}",
        crate::yaml::to_string(&File { users })?
    ))
}

fn settings_yaml(profile: &profile::Profile) -> String {
    let years: Vec<String> = profile.years.iter().map(u16::to_string).collect();
    format!(
        "# Site settings of the fictitious sandbox deployment.\nname: \"{}\"\nstate: California\nschool_years: [{}]\nsuppression_threshold: 10\nfields:\n  economic_disadvantage: admin\n  lep: admin\n",
        profile.lea.name,
        years.join(", ")
    )
}

fn readme(profile: &profile::Profile, options: &Options) -> String {
    format!(
        "# {name} (fictitious)\n\nGenerated by `scoresite sandbox --emit-data --seed {seed} --students {students}`.\n\
         Every student, teacher and school here is invented; names come from the `fake` crate.\n\n\
         - `data/cers_export.csv`: CERS District/School export, 64 columns.\n\
         - `data/groups.csv`: RDW student groups (class rosters) with their teachers' logins.\n\
         - `data/trt/YEAR/SCHOOL/*.xml`: TRT XML with claim scores, target residuals, writing traits and practice-item responses.\n\
         - `data/organisations.txt`: CALPADS organisation file.\n\
         - `users.yaml`: one user per role; all use the demo passphrase `{DEMO_PASSPHRASE}`.\n\n\
         Run `scoresite check` on this directory to see what it holds.\n",
        name = profile.lea.name,
        seed = options.seed,
        students = options.students,
    )
}

/// [`emit`] into a staging directory that replaces `dir` only when complete.
/// `force` replaces a directory that is not a previous scoresite output.
pub fn emit_fresh(
    dir: &Path,
    options: &Options,
    catalog: &Catalog,
    force: bool,
) -> Result<Emitted> {
    let dest = crate::output::Destination {
        path: dir,
        kind: "deployment",
        force,
        protect: None,
    };
    crate::output::publish(&dest, |staging| emit(staging, options, catalog))
}

/// Builds the sandbox site into `out`: generates the fictitious deployment,
/// loads it through the same ingest as real data, plans the bundles from its
/// users' grants and writes them unencrypted, with the role chooser.
/// `force` replaces a directory that is not a previous scoresite output.
pub fn build_site(
    out: &Path,
    options: &Options,
    catalog: &Catalog,
    force: bool,
) -> Result<crate::output::Written> {
    let data = tempfile::tempdir().context("cannot create a temporary directory")?;
    let deployment_dir = data.path().join("sandbox");
    emit(&deployment_dir, options, catalog)?;
    let mut diags = crate::diag::Diagnostics::default();
    let dep = crate::pipeline::load_valid(&deployment_dir, &mut diags)
        .context("the generated deployment did not load")?
        .deployment;
    let plan = crate::access::plan(
        &dep.data,
        &dep.catalog,
        &dep.users,
        dep.settings.group_years,
    );
    let map =
        crate::access::SiteMap::new(&dep.data, &dep.catalog, &plan, crate::access::PUBLIC_KEY);
    let site = crate::render::views::SiteInfo {
        name: dep.settings.name.clone(),
        sandbox: true,
        footer: "Sandbox built by scoresite from fictitious students. Practice items were written for the sandbox.".into(),
    };
    let dest = crate::output::Destination {
        path: out,
        kind: "sandbox site",
        force,
        protect: None,
    };
    crate::output::publish(&dest, |staging| {
        crate::site::write(&dep, &plan, &map, &site, staging)
    })
}
