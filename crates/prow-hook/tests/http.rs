//! hook over real HTTP: corpus payloads signed for real, refusals, durability and external
//! plugin forwarding.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::routing::post;
use prow_config::plugins::PluginsConfig;
use prow_github::hmac::{HmacSecrets, sign};
use prow_hook::{EventLog, Hook, HookMetrics, NoPlugins};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "example-hmac-secret";

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/github-webhooks/payload-examples");
    assert!(p.is_dir(), "test data missing at {}", p.display());
    p
}

struct Running {
    addr: std::net::SocketAddr,
    hook: Hook,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

async fn start(plugins: PluginsConfig) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(&dir.path().join("events.sqlite")).unwrap();
    let registry = prometheus::Registry::new();
    let hook = Hook::new(
        HmacSecrets::Single(SECRET.into()),
        Arc::new(ArcSwap::from_pointee(plugins)),
        log,
        Arc::new(NoPlugins),
        HookMetrics::new(&registry).unwrap(),
    );
    let shutdown = CancellationToken::new();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(prow_runtime::serve_on(
        l,
        hook.router("/hook"),
        shutdown.clone(),
    ));
    let h = hook.clone();
    let s = shutdown.clone();
    tokio::spawn(async move { h.process(8, s, Duration::from_secs(5)).await });
    Running {
        addr,
        hook,
        shutdown,
        _dir: dir,
    }
}

async fn send(
    addr: std::net::SocketAddr,
    event: &str,
    delivery: &str,
    body: Vec<u8>,
    key: &str,
) -> (u16, String) {
    let sig = sign(key.as_bytes(), &body);
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/hook"))
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", sig)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn every_corpus_payload_is_accepted() {
    let hook = start(PluginsConfig::default()).await;
    let mut n = 0;
    for dir in std::fs::read_dir(corpus()).unwrap() {
        let dir = dir.unwrap().path();
        let event = dir.file_name().unwrap().to_str().unwrap().to_owned();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            let (status, body) = send(
                hook.addr,
                &event,
                &format!("d-{n}"),
                std::fs::read(&f).unwrap(),
                SECRET,
            )
            .await;
            assert_eq!(
                (status, body.as_str()),
                (200, "Event received. Have a nice day."),
                "{}",
                f.display()
            );
            n += 1;
        }
    }
    assert!(n > 100);
    let log = hook.hook.log().clone();
    for _ in 0..1500 {
        if log.counts().await.unwrap().done == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        log.counts().await.unwrap().done,
        n,
        "all stored events processed"
    );
    hook.shutdown.cancel();
}

#[tokio::test]
async fn refusals() {
    let hook = start(PluginsConfig::default()).await;
    let body = std::fs::read(corpus().join("issue_comment/created.payload.json")).unwrap();
    let (s, t) = send(
        hook.addr,
        "issue_comment",
        "x1",
        body.clone(),
        "not-the-secret",
    )
    .await;
    assert_eq!(s, 403);
    assert!(
        t.starts_with("403 Forbidden: Invalid X-Hub-Signature-256"),
        "{t}"
    );
    let (s, t) = send(
        hook.addr,
        "issue_comment",
        "x2",
        b"{\"action\": \"created\",".to_vec(),
        SECRET,
    )
    .await;
    assert_eq!(s, 400);
    assert!(t.contains("malformed JSON payload"), "{t}");
    let c = reqwest::Client::new();
    let r = c
        .post(format!("http://{}/hook", hook.addr))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text().await.unwrap(),
        "400 Bad Request: Missing X-GitHub-Event Header\n"
    );
    let r = c
        .get(format!("http://{}/hook", hook.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    // Nothing refused was stored.
    assert_eq!(hook.hook.log().counts().await.unwrap(), Default::default());
    // Duplicate delivery: acknowledged, stored once.
    for _ in 0..2 {
        let (s, _) = send(hook.addr, "issue_comment", "dup", body.clone(), SECRET).await;
        assert_eq!(s, 200);
    }
    let c = hook.hook.log().counts().await.unwrap();
    assert_eq!(c.pending + c.done, 1);
    let help = reqwest::get(format!("http://{}/plugin-help", hook.addr))
        .await
        .unwrap();
    assert_eq!(help.status(), 200);
    hook.shutdown.cancel();
}

#[tokio::test]
async fn external_plugins_get_raw_payload_and_headers() {
    let seen: Arc<Mutex<Vec<(String, String, bool)>>> = Arc::default();
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let seen = s2.clone();
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    let valid = prow_github::hmac::verify(
                        SECRET.as_bytes(),
                        &body,
                        &h("X-Hub-Signature-256"),
                    );
                    seen.lock()
                        .unwrap()
                        .push((h("X-GitHub-Event"), h("X-GitHub-Delivery"), valid));
                    "ok"
                }
            },
        ),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ext = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    let cfg: PluginsConfig = serde_saphyr::from_str(&format!(
        "external_plugins:\n  Codertocat:\n  - name: needs-rebase\n    endpoint: http://{ext}/\n    events: [pull_request]\n"
    ))
    .unwrap();
    let hook = start(cfg).await;
    let pr = std::fs::read(corpus().join("pull_request/opened.payload.json")).unwrap();
    let ic = std::fs::read(corpus().join("issue_comment/created.payload.json")).unwrap();
    assert_eq!(
        send(hook.addr, "pull_request", "p1", pr, SECRET).await.0,
        200
    );
    assert_eq!(
        send(hook.addr, "issue_comment", "c1", ic, SECRET).await.0,
        200
    );
    for _ in 0..1500 {
        if hook.hook.log().counts().await.unwrap().done == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![("pull_request".into(), "p1".into(), true)],
        "only subscribed events, signature intact"
    );
    hook.shutdown.cancel();
}

/// Sends only the head of a request (no body) and returns the status line and body of the
/// reply: what the hook answers without reading a body.
async fn head_only(addr: std::net::SocketAddr, headers: &[(&str, &str)]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = "POST /hook HTTP/1.1\r\nHost: localhost\r\n".to_owned();
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // The reply comes without the body ever being sent; stop at the end of its text.
    let read = async {
        loop {
            let n = s.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.ends_with(b"\n") && buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&buf);
                if text.split("\r\n\r\n").nth(1).is_some_and(|b| !b.is_empty()) {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the hook answers without the body");
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn bodies_are_bounded_before_they_are_read() {
    let hook = start(PluginsConfig::default()).await;
    let base = [
        ("X-GitHub-Event", "issue_comment"),
        ("X-GitHub-Delivery", "big"),
        ("Content-Type", "application/json"),
    ];
    // Over GitHub's 25 MB: refused from Content-Length, body never sent.
    let mut h = base.to_vec();
    h.push(("X-Hub-Signature-256", "sha256=00"));
    h.push(("Content-Length", "104857600"));
    let r = head_only(hook.addr, &h).await;
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    // A garbled or missing signature: 403 before the body.
    let mut h = base.to_vec();
    h.push(("X-Hub-Signature-256", "sha256=not-hex"));
    h.push(("Content-Length", "1000"));
    let r = head_only(hook.addr, &h).await;
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(r.contains("invalid signature"), "{r}");
    let mut h = base.to_vec();
    h.push(("Content-Length", "1000"));
    let r = head_only(hook.addr, &h).await;
    assert!(r.contains("Missing X-Hub-Signature-256"), "{r}");

    // Chunked (no Content-Length) over the limit: refused as it arrives.
    let chunks = futures::stream::iter(
        (0..30).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 1024 * 1024]))),
    );
    let r = reqwest::Client::new()
        .post(format!("http://{}/hook", hook.addr))
        .header("X-GitHub-Event", "issue_comment")
        .header("X-GitHub-Delivery", "chunked")
        .header("X-Hub-Signature-256", "sha256=00")
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
    }
    // Still serving signed events.
    let body = std::fs::read(corpus().join("issue_comment/created.payload.json")).unwrap();
    let (s, _) = send(hook.addr, "issue_comment", "after", body, SECRET).await;
    assert_eq!(s, 200);
    hook.shutdown.cancel();
}

#[tokio::test]
async fn exhausted_body_budget_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(&dir.path().join("events.sqlite")).unwrap();
    let registry = prometheus::Registry::new();
    // Room for one 1000-byte body in flight; a short wait.
    let hook = Hook::new(
        HmacSecrets::Single(SECRET.into()),
        Arc::new(ArcSwap::from_pointee(PluginsConfig::default())),
        log,
        Arc::new(NoPlugins),
        HookMetrics::new(&registry).unwrap(),
    )
    .with_body_budget(prow_hook::budget::BodyBudget::new(
        1000,
        1100,
        100,
        100,
        Duration::from_millis(200),
        Duration::from_secs(60),
    ));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn(prow_runtime::serve_on(
        l,
        hook.router("/hook"),
        shutdown.clone(),
    ));
    // A slow client holds the large pool: it declares 1000 bytes and sends a few.
    use tokio::io::AsyncWriteExt;
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /hook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: slow\r\nX-Hub-Signature-256: sha256=00\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    )
    .await
    .unwrap();
    // Another large body waits, then gets 503 + Retry-After, unread.
    let mut got = None;
    for _ in 0..600 {
        let h = [
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "second"),
            ("X-Hub-Signature-256", "sha256=00"),
            ("Content-Type", "application/json"),
            ("Content-Length", "900"),
        ];
        let r = head_only(addr, &h).await;
        if r.starts_with("HTTP/1.1 503") {
            got = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = got.expect("a 503 while the budget is held");
    assert!(r.to_ascii_lowercase().contains("retry-after: 1"), "{r}");
    // Small signed events use their own pool and still get through.
    let (s, t) = send(
        addr,
        "ping",
        "small",
        br#"{"zen":"x","hook_id":1}"#.to_vec(),
        SECRET,
    )
    .await;
    assert_eq!(s, 200, "{t}");
    drop(slow);
    shutdown.cancel();
}
