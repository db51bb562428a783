//! Preview-server load benchmark: wrk with 64 concurrent connections on a small
//! page, against `scoresite serve` and, in the same run on the same directory,
//! nginx as the baseline. Reports requests/s, p99 latency and errors, and the
//! ratios scoresite/nginx. Needs Debian's `wrk` and `nginx` (`apt-get install
//! wrk nginx-light`); without nginx it reports scoresite alone.
//!
//! Run with `cargo bench --bench serve`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CONNECTIONS: u32 = 64;
const SECONDS: u32 = 8;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Load {
    rps: f64,
    p99_ms: f64,
    errors: u64,
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk is not installed (apt-get install wrk); nothing measured");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    let page = format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Results</title></head><body>{}</body></html>", "<p>Grade 5 ELA: 62% met or exceeded.</p>".repeat(20));
    std::fs::write(site.join("index.html"), &page).unwrap();
    println!(
        "page: {} bytes; {CONNECTIONS} connections, {SECONDS}s each, 2 wrk threads",
        page.len()
    );

    let port = free_port();
    let _ours = Killed(
        Command::new(env!("CARGO_BIN_EXE_scoresite"))
            .args(["serve", site.to_str().unwrap(), "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port);
    let ours = load(port);
    report("scoresite serve", &ours);

    let Some(nginx) = start_nginx(dir.path(), &site) else {
        println!("nginx is not installed (apt-get install nginx-light); no baseline");
        return;
    };
    let theirs = load(nginx.1);
    report("nginx (baseline)", &theirs);
    println!(
        "ratio scoresite/nginx: requests/s {:.2}x, p99 latency {:.2}x",
        ours.rps / theirs.rps,
        ours.p99_ms / theirs.p99_ms
    );
    assert_eq!(ours.errors, 0, "scoresite serve answered with errors");
}

fn report(name: &str, l: &Load) {
    println!(
        "{name:<18} {:>10.0} requests/s   p99 {:>7.2} ms   errors {}",
        l.rps, l.p99_ms, l.errors
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server on port {port} did not start");
}

/// Starts nginx on a free port serving `site`, logging requests like scoresite does.
fn start_nginx(tmp: &Path, site: &Path) -> Option<(Killed, u16)> {
    let bin = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|b| Command::new(b).arg("-v").output().is_ok())?;
    let port = free_port();
    let conf = tmp.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "user root; worker_processes 2; daemon off; pid {t}/nginx.pid; error_log {t}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log {t}/access.log; client_body_temp_path {t}; proxy_temp_path {t}; fastcgi_temp_path {t}; uwsgi_temp_path {t}; scgi_temp_path {t};\n\
               server {{ listen 127.0.0.1:{port}; root {s}; }} }}\n",
            t = tmp.display(),
            s = site.display()
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .args(["-c", conf.to_str().unwrap(), "-p", tmp.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let killed = Killed(child);
    wait_for(port);
    Some((killed, port))
}

/// Runs wrk against the server on `port` and parses its summary.
fn load(port: u16) -> Load {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{SECONDS}s"),
            "--latency",
            &format!("http://127.0.0.1:{port}/"),
        ])
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| duration_ms(v.trim()))
        .unwrap_or(f64::NAN);
    let mut errors = 0;
    for l in text.lines() {
        if let Some(v) = l.trim().strip_prefix("Non-2xx or 3xx responses:") {
            errors += v.trim().parse::<u64>().unwrap_or(0);
        }
        if let Some(v) = l.trim().strip_prefix("Socket errors:") {
            errors += v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Load {
        rps,
        p99_ms,
        errors,
    }
}

/// Parses wrk's `1.23ms`, `456.00us`, `1.02s`.
fn duration_ms(v: &str) -> f64 {
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let n: f64 = v[..split].parse().unwrap_or(f64::NAN);
    match &v[split..] {
        "us" => n / 1000.0,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => n,
    }
}
