//! `scoresite serve`: a preview server for a built site, on tiny_http.
//!
//! Loopback by default. GET and HEAD only; MIME types, index files and a 404
//! page; ETag and Last-Modified revalidation; security headers; and no path ever
//! resolves outside the served directory (`..` in any encoding, backslashes, NUL
//! bytes and symlinks that leave the root all get 404).

use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

/// Longest request target accepted (414 beyond).
pub const MAX_URL: usize = 8 * 1024;
/// Largest total size of request headers accepted (431 beyond).
pub const MAX_HEADERS: usize = 16 * 1024;
/// Worker threads answering requests; a stalled client ties up at most one.
pub const WORKERS: usize = 16;

/// The Content-Security-Policy: the site itself only, with workers for the secure build.
pub const CSP: &str = "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; \
                       img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                       frame-ancestors 'none'; form-action 'self'";

/// Where to listen and what to serve.
pub struct Options {
    pub dir: PathBuf,
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
}

/// Serves until Ctrl-C. Prints the URL on stdout and one line per request on stderr.
pub fn run(opts: &Options) -> anyhow::Result<()> {
    let root = opts.dir.canonicalize().map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; expected a built site directory",
            opts.dir.display()
        )
    })?;
    anyhow::ensure!(root.is_dir(), "{}: not a directory", root.display());
    if !opts.bind.is_loopback() {
        eprintln!("warning: serving on {}, which is not a loopback address: other machines can reach this preview", opts.bind);
    }
    let listener = listen(SocketAddr::new(opts.bind, opts.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", opts.bind, opts.port))?;
    let server = Arc::new(
        Server::from_listener(listener, None).map_err(|e| anyhow::anyhow!("cannot serve: {e}"))?,
    );
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| anyhow::anyhow!("not an IP listener"))?;
    let host = if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    println!(
        "Serving {} at http://{host}:{}/ (Ctrl-C to stop)",
        root.display(),
        addr.port()
    );
    let _ = std::io::stdout().flush();

    let stopping = Arc::new(AtomicBool::new(false));
    {
        let (server, stopping) = (server.clone(), stopping.clone());
        ctrlc::set_handler(move || {
            stopping.store(true, Ordering::SeqCst);
            for _ in 0..WORKERS {
                server.unblock();
            }
        })?;
    }
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (server, stopping, root) = (server.clone(), stopping.clone(), root.clone());
            std::thread::spawn(move || {
                while !stopping.load(Ordering::SeqCst) {
                    match server.recv() {
                        Ok(req) => handle(&root, req),
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    eprintln!("stopped");
    Ok(())
}

/// A listening socket with TCP_NODELAY, which accepted connections inherit: tiny_http
/// writes headers and body separately, and without it Nagle's algorithm and delayed
/// ACKs stall every keep-alive response by tens of milliseconds.
fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Answers one request and logs it.
fn handle(root: &Path, req: Request) {
    let started = Instant::now();
    let (method, url) = (req.method().clone(), req.url().to_string());
    let peer = req.remote_addr().map(|a| a.to_string()).unwrap_or_default();
    let reply = answer(root, &req);
    let (status, bytes) = (reply.status, reply.len);
    let _ = req.respond(reply.into_response());
    let shown = loggable(&url);
    eprintln!(
        "{peer} \"{method} {shown}\" {status} {bytes} {:.1}ms",
        started.elapsed().as_secs_f64() * 1e3
    );
}

/// A request target as the log shows it: the path only (at most 200
/// characters). A query string may hold what a user typed, so it is never
/// logged, only marked.
fn loggable(url: &str) -> String {
    let (path, query) = match url.split_once('?') {
        Some((p, _)) => (p, "?…"),
        None => (url, ""),
    };
    let path: String = path.chars().take(200).collect();
    format!("{path}{query}")
}

/// A response being prepared: status, headers, and the file or text to send.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
    len: u64,
}

enum Body {
    File(File),
    Text(String),
    Empty,
}

impl Reply {
    fn text(status: u16, body: String) -> Reply {
        let len = body.len() as u64;
        Reply {
            status,
            headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
            body: Body::Text(body),
            len,
        }
    }

    fn into_response(self) -> Response<Box<dyn std::io::Read + Send>> {
        let mut headers: Vec<Header> = self
            .headers
            .iter()
            .filter_map(|(k, v)| Header::from_bytes(k.as_bytes(), v.as_bytes()).ok())
            .collect();
        for (k, v) in [
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Content-Security-Policy", CSP),
        ] {
            headers.extend(Header::from_bytes(k.as_bytes(), v.as_bytes()).ok());
        }
        let reader: Box<dyn std::io::Read + Send> = match self.body {
            Body::File(f) => Box::new(f),
            Body::Text(t) => Box::new(std::io::Cursor::new(t.into_bytes())),
            Body::Empty => Box::new(std::io::empty()),
        };
        let len = match self.status {
            304 => None,
            _ => Some(self.len as usize),
        };
        Response::new(StatusCode(self.status), headers, reader, len, None)
    }
}

fn answer(root: &Path, req: &Request) -> Reply {
    if req.url().len() > MAX_URL {
        return Reply::text(414, page("414 URI Too Long", "The address is too long."));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|h| h.field.as_str().as_str().len() + h.value.as_str().len() + 4)
        .sum();
    if header_bytes > MAX_HEADERS {
        return Reply::text(
            431,
            page(
                "431 Request Header Fields Too Large",
                "The request headers are too large.",
            ),
        );
    }
    if !matches!(req.method(), Method::Get | Method::Head) {
        let mut r = Reply::text(
            405,
            page("405 Method Not Allowed", "Only GET and HEAD are allowed."),
        );
        r.headers.push(("Allow", "GET, HEAD".into()));
        return r;
    }
    let raw_path = req.url().split(['?', '#']).next().unwrap_or("");
    let Some(path) = resolve(root, raw_path) else {
        return not_found(root);
    };
    if path.is_dir() {
        if !raw_path.ends_with('/') {
            let mut r = Reply::text(
                301,
                page(
                    "301 Moved Permanently",
                    "This folder's address ends with a slash.",
                ),
            );
            // Never `//host/…`: a doubled slash would send the browser to another host.
            let folder = raw_path.trim_matches('/');
            r.headers.push(("Location", format!("/{folder}/")));
            return r;
        }
        return match resolve(root, &format!("{raw_path}index.html")) {
            Some(index) if index.is_file() => serve_file(&index, raw_path, req),
            _ => not_found(root),
        };
    }
    serve_file(&path, raw_path, req)
}

/// The file a URL path names, or `None` when it is malformed or would leave `root`.
pub fn resolve(root: &Path, raw_path: &str) -> Option<PathBuf> {
    if !raw_path.starts_with('/') || raw_path.contains('\\') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .ok()?;
    if decoded.contains(['\0', '\\']) {
        return None;
    }
    let mut path = root.to_path_buf();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        // Dotfiles (the output marker, editor and VCS files) are never served.
        if segment.starts_with('.') {
            return None;
        }
        let mut parts = Path::new(segment).components();
        match (parts.next(), parts.next()) {
            (Some(Component::Normal(part)), None) if !segment.contains(':') => path.push(part),
            _ => return None,
        }
    }
    // Follow symlinks, then insist the result is still inside the root.
    let real = path.canonicalize().ok()?;
    real.starts_with(root).then_some(real)
}

fn serve_file(path: &Path, raw_path: &str, req: &Request) -> Reply {
    let (Ok(file), Ok(meta)) = (File::open(path), std::fs::metadata(path)) else {
        return Reply::text(404, page("404 Not Found", "No such page."));
    };
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let secs = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let etag = format!(
        "\"{:x}-{:x}\"",
        meta.len(),
        modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let last_modified =
        httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    let header = |name: &'static str| {
        req.headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_string())
    };
    let not_modified = match header("If-None-Match") {
        Some(tags) => tags.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        }),
        None => header("If-Modified-Since")
            .and_then(|d| httpdate::parse_http_date(&d).ok())
            .is_some_and(|since| {
                since
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
                    >= secs
            }),
    };
    let mut headers = vec![
        ("ETag", etag),
        ("Last-Modified", last_modified),
        ("Cache-Control", cache_control(raw_path).into()),
    ];
    if not_modified {
        return Reply {
            status: 304,
            headers,
            body: Body::Empty,
            len: 0,
        };
    }
    headers.push(("Content-Type", mime_type(path).into()));
    Reply {
        status: 200,
        headers,
        body: Body::File(file),
        len: meta.len(),
    }
}

/// `no-store` for credential and grant files, so no key material lingers in caches.
fn cache_control(raw_path: &str) -> &'static str {
    let first = raw_path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    if matches!(first, "credentials" | "grants") {
        "no-store"
    } else {
        "no-cache"
    }
}

/// The MIME type for a file name.
pub fn mime_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("csv") => "text/csv; charset=utf-8",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("age") => "application/octet-stream",
        Some("woff2") => "font/woff2",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("xml") => "application/xml",
        _ => "application/octet-stream",
    }
}

/// The site's own `404.html` (only when it resolves inside the root), or a plain page.
fn not_found(root: &Path) -> Reply {
    match resolve(root, "/404.html").map(std::fs::read_to_string) {
        Some(Ok(body)) => Reply::text(404, body),
        _ => Reply::text(404, page("404 Not Found", "No such page in this site.")),
    }
}

fn page(title: &str, message: &str) -> String {
    format!("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1><p>{message}</p></body></html>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_never_logged() {
        assert_eq!(
            loggable("/index.html?email=a%40b.org&password=secret"),
            "/index.html?…"
        );
        assert_eq!(loggable("/assets/site.css"), "/assets/site.css");
    }

    #[test]
    fn mime_types() {
        for (name, mime) in [
            ("a.html", "text/html; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.mjs", "text/javascript; charset=utf-8"),
            ("a.json", "application/json"),
            ("a.svg", "image/svg+xml"),
            ("a.csv", "text/csv; charset=utf-8"),
            ("a.txt", "text/plain; charset=utf-8"),
            ("a.age", "application/octet-stream"),
            ("a.woff2", "font/woff2"),
            ("a.png", "image/png"),
            ("a.ico", "image/x-icon"),
        ] {
            assert_eq!(mime_type(Path::new(name)), mime, "{name}");
        }
    }

    #[test]
    fn credentials_are_not_stored() {
        assert_eq!(cache_control("/credentials/ab.age"), "no-store");
        assert_eq!(cache_control("/grants/cd.age"), "no-store");
        assert_eq!(cache_control("/index.html"), "no-cache");
    }
}
