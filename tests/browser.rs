//! Browser tests: the sandbox site driven in Debian's headless chromium by
//! playwright-core, with axe-core (tests/browser/*.mjs). `.ci/run` installs
//! chromium and the npm packages; set SCORESITE_SCREENSHOTS=DIR to keep
//! screenshots of the pages visited.

use std::path::Path;
use std::process::Command;

fn scoresite(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_scoresite"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `tests/browser/SCRIPT` with `args`, failing with its output.
fn node(script: &str, args: &[&Path]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "run `npm ci` in tests/browser first (.ci/run does)"
    );
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir).arg(script).args(args);
    if let Some(shots) = std::env::var_os("SCORESITE_SCREENSHOTS") {
        cmd.arg(shots);
    }
    let out = cmd.output().expect("node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "{script} failed:\n{text}");
}

#[test]
fn sandbox_site_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (site, data) = (dir.path().join("site"), dir.path().join("data"));
    let common = ["--students", "600", "--seed", "5"];
    scoresite(&[&["sandbox", "--out", site.to_str().unwrap()], &common[..]].concat());
    scoresite(
        &[
            &["sandbox", "--emit-data", data.to_str().unwrap()],
            &common[..],
        ]
        .concat(),
    );
    node("sandbox.mjs", &[&site, &data]);
}
