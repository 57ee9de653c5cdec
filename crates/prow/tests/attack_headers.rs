//! Attack suite, headers and binds (issue 12, items 6 and 7), against real `prow local`,
//! `prow fake-github` and `prow deck` processes:
//! * every page carries the Content-Security-Policy, `X-Frame-Options` and `nosniff`, and
//!   contains no inline script or style; artifacts served raw (`/artifacts/…`,
//!   `/spyglass/raw`) carry `nosniff` and a `sandbox` policy, so a job's HTML cannot run script
//!   on Deck's origin;
//! * `prow local`'s health and metrics ports listen on `--address` (loopback), not `0.0.0.0`;
//! * a foreign `Host` (DNS rebinding) is refused with 421 on pages and artifacts, while a
//!   signed `POST /hook` is accepted whatever its `Host` (GitHub comes through a tunnel);
//! * cookies carry `Secure` when https is configured (`prow local` with an https OAuth redirect
//!   URL, `prow deck --allow-insecure` behind a proxy saying `X-Forwarded-Proto: https`).

mod common;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const PAGE_CSP: &str = prow_runtime::headers::PAGE_CSP;

const SEED: &str = r#"
users:
  - {login: prow-bot, token: t-bot, type: Bot}
  - {login: alice, token: t-alice}
orgs:
  - {login: acme, members: [alice]}
repos:
  - name: acme/widgets
    files: {README.md: "widgets\n"}
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Change, head: change, files: {README.md: "better widgets\n"}}
oauth_apps:
  - {client_id: deck-client, client_secret: deck-secret, name: Prow Deck}
"#;

fn config(port: u16) -> String {
    format!(
        r#"
prowjob_namespace: default
pod_namespace: test-pods
plank:
  job_url_prefix_config:
    '*': http://127.0.0.1:{port}/view/
  default_decoration_config_entries:
  - config:
      timeout: 1h
      grace_period: 2s
      utility_images: {{clonerefs: c, initupload: i, entrypoint: e, sidecar: s}}
      gcs_configuration: {{bucket: local-bucket, path_strategy: explicit}}
"#
    )
}

/// The job writes an HTML artifact that would run script if a browser rendered it as a page.
const JOBS: &str = r#"
presubmits:
  acme/widgets:
  - name: pull-evil
    always_run: true
    decorate: true
    spec: {containers: [{image: alpine, command: [sh, -c, "echo building; printf '<html><script>document.title=document.cookie</script></html>' > $ARTIFACTS/evil.html"]}]}
"#;

const PLUGINS: &str =
    "plugins:\n  acme:\n    plugins: [trigger, help]\ntriggers:\n- repos: [acme]\n";

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// One HTTP/1.1 answer read off a raw socket (so the `Host` header is exactly what we send).
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Sends `method path` to `127.0.0.1:port` with `Host: host` (none when empty) and `extra`
/// headers, and reads the whole answer.
async fn raw(
    port: u16,
    method: &str,
    path: &str,
    host: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Raw {
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !host.is_empty() {
        req.push_str(&format!("Host: {host}\r\n"));
    }
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let out = tokio::task::spawn_blocking(move || {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        c.write_all(&bytes).unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
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
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn assert_page_headers(what: &str, r: &Raw) {
    assert_eq!(
        r.header("content-security-policy"),
        Some(PAGE_CSP),
        "{what}"
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
}

fn assert_raw_headers(what: &str, r: &Raw) {
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    let csp = r.header("content-security-policy").unwrap_or("");
    assert!(csp.starts_with("sandbox"), "{what}: CSP {csp:?}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
}

/// No inline `<script>` body, `<style>` element or `style=` attribute.
fn assert_no_inline_code(what: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag_end = i + lower[i..].find('>').expect("closed tag");
        assert!(lower[i..tag_end].contains(" src="), "{what}: inline script");
    }
    assert!(!lower.contains("<style"), "{what}: <style>");
    assert!(!lower.contains(" style="), "{what}: style attribute");
}

/// The local addresses (hex, as `/proc/net/tcp` writes them) listening on `port`.
fn listening_on(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for l in text.lines().skip(1) {
            let f: Vec<&str> = l.split_whitespace().collect();
            let Some((ip, p)) = f.get(1).and_then(|a| a.rsplit_once(':')) else {
                continue;
            };
            if f.get(3) == Some(&"0A") && u16::from_str_radix(p, 16) == Ok(port) {
                out.push(ip.to_owned());
            }
        }
    }
    out
}

/// Every file under `dir` named `name`.
fn find_files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_files(&p, name, out);
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
}

fn href_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let i = html.find(marker)?;
    let before = &html[..i];
    let start = before.rfind("href=\"")? + "href=\"".len();
    html[start..].split('"').next()
}

fn tail(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prow_local_headers_binds_and_host_check() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (port, health, metrics) = (free_port(), free_port(), free_port());
    std::fs::write(d.join("seed.yaml"), SEED).unwrap();
    std::fs::write(d.join("config.yaml"), config(port)).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/jobs.yaml"), JOBS).unwrap();
    std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
    let args = vec![
        "local".into(),
        format!("--config-path={}", s(&d.join("config.yaml"))),
        format!("--job-config-path={}", s(&d.join("jobs"))),
        format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
        format!("--seed={}", s(&d.join("seed.yaml"))),
        format!("--data-dir={}", s(&d.join("data"))),
        format!("--port={port}"),
        format!("--health-port={health}"),
        format!("--metrics-port={metrics}"),
    ];
    let log = d.join("local.log");
    let _local = spawn("local", d, &args);
    wait_ok(&format!("http://127.0.0.1:{health}/healthz/ready"), &log).await;
    let base = format!("http://127.0.0.1:{port}");
    let host = format!("127.0.0.1:{port}");

    // Binds: the main, health and metrics ports listen on loopback only (--address).
    for p in [port, health, metrics] {
        assert_eq!(listening_on(p), ["0100007F"], "port {p} listens on");
    }

    // A job that writes an HTML artifact.
    let r = reqwest::Client::new()
        .post(format!(
            "{base}/fake-github/repos/acme/widgets/issues/1/comments"
        ))
        .header("Authorization", "token t-alice")
        .json(&serde_json::json!({ "body": "/test all" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let job = eventually("pull-evil to finish", Duration::from_secs(180), || async {
        let v: serde_json::Value = reqwest::get(format!("{base}/prowjobs.js"))
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let jobs: Vec<prow_api::ProwJob> = serde_json::from_value(v["items"].clone()).ok()?;
        jobs.into_iter().find(|j| {
            j.spec.job == "pull-evil"
                && ["success", "failure", "error"].contains(&j.status.state.as_str())
        })
    })
    .await;
    assert_eq!(
        job.status.state.as_str(),
        "success",
        "{:?}\n{}",
        job.status,
        tail(&log)
    );
    let view = job
        .status
        .url
        .strip_prefix(&base)
        .unwrap_or_else(|| panic!("job URL {:?}", job.status.url))
        .to_owned();

    // Every page: 200 with the page policy and no inline code.
    let view_page = raw(port, "GET", &view, &host, &[], b"").await;
    assert_eq!(view_page.status, 200, "{view}: {}", view_page.body);
    let job_history = href_after(&view_page.body, ">Job history<")
        .expect("job history link")
        .replace("&amp;", "&");
    let pr_history = href_after(&view_page.body, ">PR history<")
        .expect("PR history link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let pages = [
        "/".to_owned(),
        "/tide".into(),
        "/tide-history".into(),
        "/command-help".into(),
        "/plugins".into(),
        "/pr".into(),
        "/configured-jobs".into(),
        view.clone(),
        job_history,
        pr_history,
    ];
    for p in &pages {
        let r = raw(port, "GET", p, &host, &[], b"").await;
        assert_eq!(r.status, 200, "{p}: {}", r.body);
        assert_page_headers(p, &r);
        assert_no_inline_code(p, &r.body);
    }
    // Other answers too: JSON, the simulator, a 404.
    for p in ["/prowjobs.js", "/fake-github/", "/no-such-page"] {
        assert_page_headers(p, &raw(port, "GET", p, &host, &[], b"").await);
    }

    // The HTML artifact, raw: sandboxed and not sniffed, from both raw routes.
    let mut found = Vec::new();
    find_files(&d.join("data/artifacts"), "evil.html", &mut found);
    assert_eq!(found.len(), 1, "{found:?}");
    let rel = found[0]
        .strip_prefix(d.join("data/artifacts"))
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let artifact = format!("/artifacts/{rel}");
    let r = raw(port, "GET", &artifact, &host, &[], b"").await;
    assert_raw_headers(&artifact, &r);
    assert!(r.body.contains("<script>"), "the artifact itself is served");
    let listing = raw(port, "GET", "/artifacts/", &host, &[], b"").await;
    assert_raw_headers("/artifacts/", &listing);
    let src = view.trim_start_matches("/view/");
    let spyglass_raw = format!("/spyglass/raw?src={src}&file=artifacts/evil.html");
    assert_raw_headers(
        &spyglass_raw,
        &raw(port, "GET", &spyglass_raw, &host, &[], b"").await,
    );

    // DNS rebinding: a foreign Host is refused on pages, JSON and artifacts…
    for p in [
        "/",
        "/prowjobs.js",
        view.as_str(),
        artifact.as_str(),
        "/fake-github/",
    ] {
        for evil in [
            "evil.example",
            "evil.example:80",
            &format!("evil.example:{port}"),
        ] {
            let r = raw(port, "GET", p, evil, &[], b"").await;
            assert_eq!(r.status, 421, "{p} with Host {evil}: {}", r.body);
            assert!(r.body.contains("--allowed-host=evil.example"), "{}", r.body);
            assert!(!r.body.contains("<script>"));
        }
    }
    let r = raw(port, "GET", "/", "", &[], b"").await;
    assert_eq!(r.status, 400, "no Host: {}", r.body);
    // …while the names it was started for are served.
    for ok in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "localhost".to_owned(),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(
            raw(port, "GET", "/", &ok, &[], b"").await.status,
            200,
            "{ok}"
        );
    }
    // /hook answers to any name: an unsigned post reaches the hook (which refuses it itself).
    let r = raw(
        port,
        "POST",
        "/hook",
        "tunnel.example",
        &[
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "d-1"),
            ("Content-Type", "application/json"),
        ],
        b"{}",
    )
    .await;
    assert_ne!(r.status, 421, "{}", r.body);
    assert!((400..500).contains(&r.status), "{} {}", r.status, r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prow_local_with_github_signed_hook_from_tunnel_and_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (port, health, metrics, fake_port) = (free_port(), free_port(), free_port(), free_port());
    std::fs::write(d.join("seed.yaml"), SEED).unwrap();
    std::fs::write(d.join("config.yaml"), config(port)).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/jobs.yaml"), JOBS).unwrap();
    std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
    std::fs::write(d.join("hmac"), "example-hmac-secret\n").unwrap();
    std::fs::write(d.join("bot-token"), "t-bot\n").unwrap();
    std::fs::write(
        d.join("oauth.yaml"),
        "client_id: deck-client\nclient_secret: deck-secret\n\
         redirect_url: https://prow.example.com/github-login/redirect\n",
    )
    .unwrap();
    let api = format!("http://127.0.0.1:{fake_port}");
    let _fake = spawn(
        "fake-github",
        d,
        &[
            "fake-github".into(),
            format!("--listen=127.0.0.1:{fake_port}"),
            format!("--seed={}", s(&d.join("seed.yaml"))),
            format!("--webhook-url=http://127.0.0.1:{port}/hook"),
            format!("--hmac-secret-file={}", s(&d.join("hmac"))),
        ],
    );
    wait_up(&format!("{api}/"), &d.join("fake-github.log")).await;
    let args = vec![
        "local".into(),
        format!("--config-path={}", s(&d.join("config.yaml"))),
        format!("--job-config-path={}", s(&d.join("jobs"))),
        format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
        format!("--data-dir={}", s(&d.join("data"))),
        format!("--port={port}"),
        format!("--health-port={health}"),
        format!("--metrics-port={metrics}"),
        format!("--github-endpoint={api}"),
        format!("--github-token-path={}", s(&d.join("bot-token"))),
        format!("--hmac-secret-file={}", s(&d.join("hmac"))),
        format!("--github-oauth-config-file={}", s(&d.join("oauth.yaml"))),
        "--allowed-host=prow.example.com".into(),
    ];
    let log = d.join("local.log");
    let _local = spawn("local", d, &args);
    wait_ok(&format!("http://127.0.0.1:{health}/healthz/ready"), &log).await;

    // The tunnel's public name was allowed with --allowed-host; others are still refused.
    assert_eq!(
        raw(port, "GET", "/", "prow.example.com", &[], b"")
            .await
            .status,
        200
    );
    assert_eq!(
        raw(port, "GET", "/", "evil.example", &[], b"").await.status,
        421
    );

    // A signed delivery through a tunnel (foreign Host) is accepted; a badly signed one is
    // refused by the hook itself, not by the Host check.
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let sig = prow_github::hmac::sign(b"example-hmac-secret", body);
    let headers = [
        ("X-GitHub-Event", "ping"),
        ("X-GitHub-Delivery", "attack-headers-1"),
        ("Content-Type", "application/json"),
        ("X-Hub-Signature-256", sig.as_str()),
    ];
    let r = raw(
        port,
        "POST",
        "/hook",
        "abc123.tunnel.example",
        &headers,
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}\n{}", r.body, tail(&log));
    let bad = [
        ("X-GitHub-Event", "ping"),
        ("X-GitHub-Delivery", "attack-headers-2"),
        ("Content-Type", "application/json"),
        ("X-Hub-Signature-256", "sha256=00"),
    ];
    let r = raw(port, "POST", "/hook", "abc123.tunnel.example", &bad, body).await;
    assert!(
        (400..500).contains(&r.status) && r.status != 421,
        "{} {}",
        r.status,
        r.body
    );

    // https is configured (the OAuth redirect URL): every cookie is Secure, HttpOnly, Lax.
    let r = raw(port, "GET", "/github-login?dest=%2F", "localhost", &[], b"").await;
    assert_eq!(r.status, 302, "{}", r.body);
    let cookies = r.all("set-cookie");
    assert_eq!(
        cookies.len(),
        2,
        "state and CSRF nonce cookies: {cookies:?}"
    );
    for c in cookies {
        assert!(c.contains("; Secure"), "{c}");
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("SameSite=Lax"), "{c}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prow_deck_headers_and_secure_cookies_behind_https_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (port, health, metrics) = (free_port(), free_port(), free_port());
    std::fs::write(
        d.join("config.yaml"),
        "prowjob_namespace: default\npod_namespace: test-pods\n",
    )
    .unwrap();
    std::fs::write(
        d.join("oauth.yaml"),
        "client_id: deck-client\nclient_secret: deck-secret\n\
         redirect_url: http://deck.example.com/github-login/redirect\n",
    )
    .unwrap();
    // base64 of 32 bytes.
    std::fs::write(
        d.join("cookie"),
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n",
    )
    .unwrap();
    let args = vec![
        "deck".into(),
        format!("--config-path={}", s(&d.join("config.yaml"))),
        format!("--job-store=sqlite:{}", s(&d.join("jobs.sqlite"))),
        format!("--port={port}"),
        format!("--health-port={health}"),
        format!("--metrics-port={metrics}"),
        "--spyglass".into(),
        "--oauth-url=/github-login".into(),
        format!("--github-oauth-config-file={}", s(&d.join("oauth.yaml"))),
        format!("--cookie-secret={}", s(&d.join("cookie"))),
        "--allow-insecure".into(),
    ];
    let log = d.join("deck.log");
    let _deck = spawn("deck", d, &args);
    wait_ok(&format!("http://127.0.0.1:{health}/healthz/ready"), &log).await;
    let host = format!("127.0.0.1:{port}");
    for p in [
        "/",
        "/tide",
        "/tide-history",
        "/command-help",
        "/plugins",
        "/pr",
        "/configured-jobs",
    ] {
        let r = raw(port, "GET", p, &host, &[], b"").await;
        assert!(r.status < 500, "{p}: {} {}", r.status, r.body);
        assert_page_headers(p, &r);
        assert_no_inline_code(p, &r.body);
    }
    for p in [
        "/view/gs/bucket/logs/job/1",
        "/job-history/gs/bucket/logs/job",
        "/prowjobs.js",
        "/no-such-page",
    ] {
        assert_page_headers(p, &raw(port, "GET", p, &host, &[], b"").await);
    }
    // Plain http with --allow-insecure: no Secure (it would lose the cookies)…
    let r = raw(port, "GET", "/github-login?dest=%2F", &host, &[], b"").await;
    assert_eq!(r.status, 302, "{}", r.body);
    let cookies = r.all("set-cookie");
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies.iter().all(|c| !c.contains("Secure")), "{cookies:?}");
    // …behind a TLS-terminating proxy: Secure.
    let r = raw(
        port,
        "GET",
        "/github-login?dest=%2F",
        &host,
        &[("X-Forwarded-Proto", "https")],
        b"",
    )
    .await;
    let cookies = r.all("set-cookie");
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for c in cookies {
        assert!(c.contains("; Secure") && c.contains("HttpOnly"), "{c}");
        assert!(c.contains("SameSite=Lax"), "{c}");
    }
}
