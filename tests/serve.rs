//! `scoresite serve` over a real socket: methods, MIME types, index and 404
//! pages, revalidation, security headers, path safety and concurrency.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds a small site beside a secret file it must never serve, and starts the server on it.
fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    for (path, body) in [
        ("index.html", "<h1>Home</h1>"),
        ("404.html", "<h1>Custom not found</h1>"),
        ("sub/index.html", "<h1>Sub</h1>"),
        ("sub/page.html", "<p>page</p>"),
        ("a.css", "body{}"),
        ("a.js", "1"),
        ("a.mjs", "1"),
        ("a.json", "{}"),
        ("a.svg", "<svg/>"),
        ("a.csv", "a,b"),
        ("a.txt", "t"),
        ("a.age", "age"),
        ("a.woff2", "w"),
        ("a.png", "p"),
        ("a.ico", "i"),
        ("credentials/0a1b.age", "cred"),
        ("grants/2c3d.age", "grant"),
        (".scoresite-output", "site"),
        ("sub/.hidden", "hidden"),
        (".git/config", "[core]"),
    ] {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    std::fs::write(dir.path().join("secret.txt"), "TOP SECRET").unwrap();
    std::os::unix::fs::symlink(dir.path(), root.join("link-out")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link-file")).unwrap();
    std::os::unix::fs::symlink(root.join("sub/page.html"), root.join("link-in.html")).unwrap();
    let mut server = serve_dir(&root);
    server._dir = Some(dir);
    server
}

/// `scoresite serve ROOT --port 0`, not yet started.
fn serve_command(root: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scoresite"));
    cmd.args(["serve", root.to_str().unwrap(), "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

/// Starts the server on `root`.
fn serve_dir(root: &std::path::Path) -> Server {
    spawn(serve_command(root))
}

/// Starts `cmd` and waits for the address it serves on.
fn spawn(mut cmd: Command) -> Server {
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    Server {
        child,
        addr,
        _dir: None,
    }
}

/// A parsed response.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` verbatim and reads the whole response.
fn raw(addr: &str, request: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    // Generous: a busy machine may be slow to answer, and only a stalled server should fail.
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

fn get(addr: &str, target: &str, extra: &str) -> Resp {
    raw(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").as_bytes(),
    )
}

#[test]
fn serves_files_with_types_index_and_404() {
    let s = start();
    let home = get(&s.addr, "/", "");
    assert_eq!((home.status, home.body.as_str()), (200, "<h1>Home</h1>"));
    assert_eq!(get(&s.addr, "/sub/", "").body, "<h1>Sub</h1>");
    let redirect = get(&s.addr, "/sub", "");
    assert_eq!(
        (redirect.status, redirect.header("Location")),
        (301, Some("/sub/"))
    );
    let missing = get(&s.addr, "/nope.html", "");
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (404, "<h1>Custom not found</h1>")
    );
    for (path, mime) in [
        ("/index.html", "text/html; charset=utf-8"),
        ("/a.css", "text/css; charset=utf-8"),
        ("/a.js", "text/javascript; charset=utf-8"),
        ("/a.mjs", "text/javascript; charset=utf-8"),
        ("/a.json", "application/json"),
        ("/a.svg", "image/svg+xml"),
        ("/a.csv", "text/csv; charset=utf-8"),
        ("/a.txt", "text/plain; charset=utf-8"),
        ("/a.age", "application/octet-stream"),
        ("/a.woff2", "font/woff2"),
        ("/a.png", "image/png"),
        ("/a.ico", "image/x-icon"),
    ] {
        let r = get(&s.addr, path, "");
        assert_eq!(
            (r.status, r.header("Content-Type")),
            (200, Some(mime)),
            "{path}"
        );
    }
    // A query string does not change the file; a symlink inside the root is followed.
    assert_eq!(get(&s.addr, "/a.txt?v=2", "").body, "t");
    assert_eq!(get(&s.addr, "/link-in.html", "").body, "<p>page</p>");
}

#[test]
fn methods_head_and_security_headers() {
    let s = start();
    let head = raw(
        &s.addr,
        b"HEAD /a.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        (
            head.status,
            head.header("Content-Length"),
            head.body.as_str()
        ),
        (200, Some("6"), "")
    );
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = raw(
            &s.addr,
            format!(
                "{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(
            (r.status, r.header("Allow")),
            (405, Some("GET, HEAD")),
            "{method}"
        );
    }
    for r in [get(&s.addr, "/", ""), get(&s.addr, "/missing", "")] {
        assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"));
        assert_eq!(r.header("X-Frame-Options"), Some("DENY"));
        let csp = r.header("Content-Security-Policy").unwrap();
        assert!(
            csp.contains("default-src 'self'")
                && csp.contains("worker-src 'self'")
                && !csp.contains("http"),
            "{csp}"
        );
    }
}

#[test]
fn revalidation_and_no_store_for_keys() {
    let s = start();
    let first = get(&s.addr, "/a.txt", "");
    let etag = first.header("ETag").unwrap().to_string();
    let modified = first.header("Last-Modified").unwrap().to_string();
    assert_eq!(
        get(&s.addr, "/a.txt", &format!("If-None-Match: {etag}\r\n")).status,
        304
    );
    assert_eq!(
        get(
            &s.addr,
            "/a.txt",
            &format!("If-None-Match: \"other\", W/{etag}\r\n")
        )
        .status,
        304
    );
    assert_eq!(
        get(&s.addr, "/a.txt", "If-None-Match: \"other\"\r\n").status,
        200
    );
    assert_eq!(
        get(
            &s.addr,
            "/a.txt",
            &format!("If-Modified-Since: {modified}\r\n")
        )
        .status,
        304
    );
    assert_eq!(
        get(
            &s.addr,
            "/a.txt",
            "If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT\r\n"
        )
        .status,
        200
    );
    assert_eq!(
        get(&s.addr, "/credentials/0a1b.age", "").header("Cache-Control"),
        Some("no-store")
    );
    assert_eq!(
        get(&s.addr, "/grants/2c3d.age", "").header("Cache-Control"),
        Some("no-store")
    );
    assert_eq!(
        get(&s.addr, "/a.txt", "").header("Cache-Control"),
        Some("no-cache")
    );
}

#[test]
fn traversal_corpus_never_leaves_the_root() {
    let s = start();
    let corpus = [
        "/../secret.txt",
        "/../../secret.txt",
        "/sub/../../secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/%2e%2E%2fsecret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/..%5Csecret.txt",
        "/..\\secret.txt",
        "/sub\\..\\..\\secret.txt",
        "/%2e%2e%5csecret.txt",
        "/%252e%252e/secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/..;/secret.txt",
        "/%00/../secret.txt",
        "/a.txt%00.html",
        "/C:/secret.txt",
        "/link-out/secret.txt",
        "/link-file",
        "//../secret.txt",
        "http://x/../secret.txt",
        "/./../secret.txt",
    ];
    assert!(corpus.len() >= 20);
    for target in corpus {
        let r = get(&s.addr, target, "");
        assert_eq!(r.status, 404, "{target}: {}", r.status);
        assert!(!r.body.contains("TOP SECRET"), "{target} leaked the secret");
    }
}

/// Dotfiles are not served; a folder address with doubled slashes is
/// redirected within the site, never to `//host`; a `404.html` that links out
/// of the root is not used.
#[test]
fn dotfiles_doubled_slashes_and_a_404_link_out() {
    let s = start();
    for target in ["/.scoresite-output", "/sub/.hidden", "/.git/config"] {
        assert_eq!(get(&s.addr, target, "").status, 404, "{target}");
    }
    let r = get(&s.addr, "//sub", "");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("Location"), Some("/sub/"));
    let r = get(&s.addr, "///sub", "");
    assert_eq!(r.header("Location"), Some("/sub/"));

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(dir.path().join("outside.html"), "OUTSIDE THE ROOT").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.html"), root.join("404.html")).unwrap();
    let server = serve_dir(&root);
    let r = get(&server.addr, "/missing", "");
    assert_eq!(r.status, 404);
    assert!(!r.body.contains("OUTSIDE THE ROOT"), "{}", r.body);
}

#[test]
fn overlong_urls_and_headers_are_refused() {
    let s = start();
    let long = format!("/{}", "a".repeat(9000));
    assert_eq!(get(&s.addr, &long, "").status, 414);
    let big = format!("X-Big: {}\r\n", "b".repeat(17000));
    assert_eq!(get(&s.addr, "/", &big).status, 431);
}

#[test]
fn stalled_client_does_not_block_others() {
    let s = start();
    // Open connections that send half a request and stall.
    let stalled: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut c = TcpStream::connect(&s.addr).unwrap();
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            c
        })
        .collect();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let addr = s.addr.clone();
            std::thread::spawn(move || (0..10).all(|_| get(&addr, "/a.txt", "").status == 200))
        })
        .collect();
    assert!(threads.into_iter().all(|t| t.join().unwrap()));
    drop(stalled);
}

#[test]
fn binds_loopback_and_reports_bad_directories() {
    let s = start();
    assert!(s.addr.starts_with("127.0.0.1:"), "{}", s.addr);
    let out = Command::new(env!("CARGO_BIN_EXE_scoresite"))
        .args(["serve", "/definitely/not/here", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/definitely/not/here"));
}

#[test]
fn non_loopback_bind_warns() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scoresite"))
        .args([
            "serve",
            dir.path().to_str().unwrap(),
            "--port",
            "0",
            "--bind",
            "0.0.0.0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains("warning: serving on 0.0.0.0, which is not a loopback address"),
        "{line}"
    );
    assert!(
        url.starts_with("Serving ") && url.contains("http://0.0.0.0:"),
        "{url}"
    );
}

/// Starts the server on `root` with at most `files` open file descriptors.
fn serve_with_fd_limit(root: &std::path::Path, files: u64) -> Server {
    use std::os::unix::process::CommandExt;
    let mut cmd = serve_command(root);
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: files,
                rlim_max: files,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    spawn(cmd)
}

/// A request claiming a 99,999,999,999-byte body does not bring the server
/// down (tiny_http 0.12 allocated a buffer that size).
#[test]
fn an_oversized_content_length_is_survived() {
    let s = start();
    let r = raw(
        &s.addr,
        b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(get(&s.addr, "/a.txt", "").status, 200, "still serving");
}

/// Clients that ask for a large file and never read it let go of the
/// server's threads (write timeouts), so others are still served.
#[test]
fn stalled_readers_do_not_tie_up_the_server() {
    let s = start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("big.bin"), vec![7u8; 32 << 20]).unwrap();
    std::fs::write(root.join("a.txt"), "small").unwrap();
    let server = serve_dir(&root);
    drop(s);
    let stalled: Vec<TcpStream> = (0..18)
        .map(|_| {
            let mut c = TcpStream::connect(&server.addr).unwrap();
            c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            c
        })
        .collect();
    let r = get(&server.addr, "/a.txt", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "small");
    drop(stalled);
}

/// Running out of file descriptors does not stop the server accepting for
/// good: once connections close, it serves again.
#[test]
fn running_out_of_file_descriptors_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.txt"), "small").unwrap();
    let server = serve_with_fd_limit(&root, 48);
    let flood: Vec<TcpStream> = (0..120)
        .filter_map(|_| TcpStream::connect(&server.addr).ok())
        .collect();
    assert!(
        flood.len() > 48,
        "the backlog takes more than the server can open"
    );
    drop(flood);
    // The flood's connections are still queued ahead of ours, and while the
    // server works through them it may still be out of descriptors and turn
    // a connection away: ask again until it answers, for a generous while.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let r = loop {
        let r = get(&server.addr, "/a.txt", "");
        if r.status != 0 || std::time::Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "small");
}
