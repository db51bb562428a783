//! Browser tests: the sandbox site driven in Debian's headless chromium by
//! playwright-core, with axe-core (tests/browser/*.mjs). `.ci/run` installs
//! chromium and the npm packages; set SCORESITE_SCREENSHOTS=DIR to keep
//! screenshots of the pages visited.

mod common;

use std::path::Path;
use std::process::Command;

fn scoresite(args: &[&str]) {
    common::ok(args, None);
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

/// Seals a hostile page to `email`'s first bundle, as any co-holder of the
/// bundle key could, under a path of its own; returns the path.
fn forge(site: &Path, email: &str, pass: &str) -> String {
    use age::secrecy::SecretString;
    let session =
        scoresite::open::Session::logon(site, email, &SecretString::from(pass.to_string()))
            .unwrap();
    let bundle = &session.grant.bundles[0];
    let identity: age::x25519::Identity = bundle.identity.parse().unwrap();
    let path = bundle.home.replace("index.html", "forged.html");
    let page = r#"<!doctype html><html><head><title>Forged</title></head><body><main>
<h1>Forged page</h1>
<iframe srcdoc="<script>parent.stolen = parent.sessionStorage.getItem('scoresite.session')</script>"></iframe>
<img src="x.png" onerror="window.stolen = sessionStorage.length">
<a id="js" href="javascript:window.stolen=1">a link</a>
<script>window.stolen = 'script';</script>
<object data="data:text/html,<script>parent.stolen=1</script>"></object>
<form action="https://attacker.invalid/"><button id="send">Send</button></form>
</main></body></html>"#;
    let packed = scoresite::seal::pack(page.as_bytes()).unwrap();
    let sealed = scoresite::seal::to_recipients(&packed, &[identity.to_public()]).unwrap();
    std::fs::write(site.join(session.stored_name(&path)), sealed).unwrap();
    path
}

/// Re-seals `email`'s credential in the built `site` at scrypt work factor
/// `factor`, as a tampered or hand-made credential would be.
fn reseal(site: &Path, email: &str, pass: &str, factor: u8) {
    use age::secrecy::SecretString;
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("site.json")).unwrap()).unwrap();
    let salt = scoresite::seal::unhex(json["salt"].as_str().unwrap()).unwrap();
    let path = site.join(format!(
        "credentials/{}.age",
        scoresite::seal::locator(&salt, email)
    ));
    let secret = SecretString::from(pass.to_string());
    let identity = scoresite::seal::open_with_passphrase(&std::fs::read(&path).unwrap(), &secret)
        .expect("the test passphrase opens it");
    let mut recipient = age::scrypt::Recipient::new(secret);
    recipient.set_work_factor(factor);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).unwrap();
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).unwrap();
    std::io::Write::write_all(&mut w, &identity).unwrap();
    w.finish().unwrap();
    assert_eq!(scoresite::seal::work_factor(&out), Some(factor));
    std::fs::write(path, out).unwrap();
}

/// `scoresite serve DIR --port 0`, stopped when dropped.
struct Server(std::process::Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_scoresite"))
        .args(["serve", dir.to_str().unwrap(), "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap();
    Server(child, url.trim_end_matches('/').to_string())
}

#[test]
fn secure_site_logon_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (dep, site) = (dir.path().join("lea"), dir.path().join("site"));
    let d = dep.to_str().unwrap();
    scoresite(&[
        "sandbox",
        "--emit-data",
        d,
        "--students",
        "300",
        "--seed",
        "4",
    ]);
    let users = std::fs::read_to_string(dep.join("users.yaml")).unwrap();
    let teacher = users
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- email: "))
        .find(|e| {
            !["coordinator@", "analyst@", "state.viewer@", "principal."]
                .iter()
                .any(|p| e.starts_with(p))
        })
        .unwrap();
    let admin = "coordinator@sandbox-usd.example";
    let pass = "correct horse battery staple";
    for email in [teacher, admin] {
        common::ok(
            &[
                "users",
                "add",
                "--email",
                email,
                "--password-stdin",
                "--deployment",
                d,
            ],
            Some(&format!("{pass}\n")),
        );
    }
    // A user whose credential will be re-sealed at another work factor.
    let resealed = "resealed@sandbox-usd.example";
    common::ok(
        &[
            "users",
            "add",
            "--email",
            resealed,
            "--grant",
            "state_admin",
            "--password-stdin",
            "--deployment",
            d,
        ],
        Some(&format!("{pass}\n")),
    );
    scoresite(&["build", d, "--out", site.to_str().unwrap()]);
    reseal(&site, resealed, pass, 10);
    let server = serve(&site);
    // Self-service enrolment: the user makes a sign-in file in the browser,
    // the coordinator enrols it, and after a rebuild the user logs on.
    let own = "self.enrolled@sandbox-usd.example";
    let own_pass = "four unrelated words chosen";
    let file = dir.path().join("enrolment.json");
    let base = server.1.clone();
    node(
        "enrol.mjs",
        &[Path::new(&base), Path::new(own), Path::new(own_pass), &file],
    );
    common::ok(
        &[
            "users",
            "add",
            "--email",
            own,
            "--grant",
            "state_admin",
            "--credential",
            file.to_str().unwrap(),
            "--deployment",
            d,
        ],
        None,
    );
    scoresite(&["build", d, "--out", site.to_str().unwrap()]);
    reseal(&site, resealed, pass, 10);
    let forged = forge(&site, admin, pass);
    let port = server.1.rsplit(':').next().unwrap().to_string();
    let args: Vec<String> = vec![
        server.1.clone(),
        port,
        teacher.into(),
        admin.into(),
        pass.into(),
        resealed.into(),
        forged,
        own.into(),
        own_pass.into(),
        site.to_str().unwrap().into(),
    ];
    let args: Vec<&Path> = args.iter().map(Path::new).collect();
    node("secure.mjs", &args);
}
