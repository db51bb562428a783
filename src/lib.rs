//! scoresite: static, age-encrypted report sites for student assessment results.
//!
//! The pipeline reads top to bottom: load → validate → plan access → aggregate →
//! render → seal → write. This crate holds the stages built so far:
//! [`deployment`] loads a deployment directory (settings, users, and every file in
//! `data/` through [`ingest`]) against the [`catalog`], and [`validate`] checks the
//! cross-references `scoresite check` reports.

pub mod access;
pub mod aggregate;
pub mod build;
pub mod catalog;
pub mod check;
pub mod deployment;
pub mod diag;
pub mod ingest;
pub mod items;
pub mod layout;
pub mod model;
pub mod open;
pub mod output;
pub mod paths;
pub mod pipeline;
pub mod render;
pub mod resources;
pub mod sandbox;
pub mod seal;
pub mod serve;
pub mod site;
pub mod stats;
#[cfg(test)]
mod testing;
pub mod users;
pub mod validate;
pub mod yaml;

/// The allocator of every binary that links this crate (the command line,
/// its tests and benchmarks): rendering allocates many small, short-lived
/// values on every thread, which mimalloc serves faster than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
