//! Loopback test servers for the client tests: a scripted server (the test decides every answer
//! and inspects every request afterwards) and a replay server for the recorded octokit fixtures.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use prow_github::client::TokenSource;
use prow_github::{Auth, ClientConfig};
use serde_json::Value;

/// The literal token every test client uses (test-only value).
pub const TOKEN: &str = "test-token-0000";

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

type Handler = dyn Fn(&Seen, usize) -> Response + Send + Sync;

#[derive(Clone)]
struct ScriptState {
    seen: Arc<Mutex<Vec<Seen>>>,
    handler: Arc<Handler>,
}

/// A server answering every request with `handler(request, index)`.
pub struct TestServer {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn scripted(
    State(st): State<ScriptState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers,
        body,
    };
    let index = {
        let mut all = st.seen.lock().expect("lock");
        all.push(seen.clone());
        all.len() - 1
    };
    (st.handler)(&seen, index)
}

/// Starts a scripted server on 127.0.0.1 (optionally under a path prefix, like a GitHub
/// Enterprise `/api/v3` base).
pub async fn serve(
    handler: impl Fn(&Seen, usize) -> Response + Send + Sync + 'static,
) -> TestServer {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = ScriptState {
        seen: seen.clone(),
        handler: Arc::new(handler),
    };
    let app = Router::new().fallback(scripted).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    TestServer {
        base: format!("http://{addr}"),
        seen,
    }
}

/// A response with JSON/text body and extra headers.
pub fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<String>) -> Response {
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    for (k, v) in headers {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            HeaderValue::from_str(v).expect("header value"),
        );
    }
    (
        StatusCode::from_u16(status).expect("status"),
        h,
        body.into(),
    )
        .into_response()
}

/// A loopback address nothing listens on (bound, then released).
pub async fn dead_endpoint() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}")
}

/// Test client config: literal token, short backoffs, no 404 retries.
pub fn config(endpoints: Vec<String>) -> ClientConfig {
    let mut c = ClientConfig::new(Auth::Token(TokenSource::Literal(TOKEN.into())));
    c.endpoints = endpoints;
    c.user_agent = "prow-test/0.0.1".into();
    c.max_retries = 3;
    c.max_404_retries = 0;
    c.initial_backoff = Duration::from_millis(5);
    c.max_rate_limit_wait = Duration::from_secs(5);
    c.request_timeout = Duration::from_secs(20);
    c
}

/// The shared corpus, or a clear failure.
pub fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        p.is_dir(),
        "test corpus missing at {} (shared/ must sit beside the checkout)",
        p.display()
    );
    p
}

// ---------------------------------------------------------------------------------------------
// Replay of octokit/fixtures recordings.

struct ReplayState {
    entries: Vec<Value>,
    next: usize,
    failures: Vec<String>,
    base: String,
}

/// Replays chosen entries of `github-api/fixtures/<scenario>/normalized-fixture.json` in order,
/// checking each request our client makes against the recording.
pub struct Replay {
    pub base: String,
    state: Arc<Mutex<ReplayState>>,
    /// The recorded entries served, in order.
    pub entries: Vec<Value>,
}

/// Path and query with query pairs sorted and `per_page` dropped: the page size is the client's
/// choice (we always ask for 100), not part of the operation.
fn normalize_path(p: &str) -> (String, Vec<String>) {
    let (path, query) = p.split_once('?').unwrap_or((p, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|q| !q.is_empty() && !q.starts_with("per_page="))
        .map(str::to_string)
        .collect();
    pairs.sort();
    (path.to_string(), pairs)
}

fn check_request(
    expected: &Value,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Vec<String> {
    let mut problems = Vec::new();
    let want_method = expected["method"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    if method.as_str() != want_method {
        problems.push(format!("method {method}, recorded {want_method}"));
    }
    let got = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let want = expected["path"].as_str().unwrap_or_default();
    if normalize_path(&got) != normalize_path(want) {
        problems.push(format!("path {got}, recorded {want}"));
    }
    match &expected["body"] {
        Value::Null => {}
        Value::String(s) if s.is_empty() => {
            if !body.is_empty() {
                problems.push(format!("unexpected body {}", String::from_utf8_lossy(body)));
            }
        }
        want_body => match serde_json::from_slice::<Value>(body) {
            Ok(got_body) if &got_body == want_body => {}
            Ok(got_body) => problems.push(format!("body {got_body}, recorded {want_body}")),
            Err(e) => problems.push(format!("body is not JSON ({e}), recorded {want_body}")),
        },
    }
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    if header("authorization") != format!("Bearer {TOKEN}") {
        problems.push(format!("authorization {:?}", header("authorization")));
    }
    if header("accept") != "application/vnd.github+json" {
        problems.push(format!("accept {:?}", header("accept")));
    }
    if header("x-github-api-version") != "2022-11-28" {
        problems.push(format!(
            "x-github-api-version {:?}",
            header("x-github-api-version")
        ));
    }
    if !header("user-agent").starts_with("prow-test/") {
        problems.push(format!("user-agent {:?}", header("user-agent")));
    }
    if !body.is_empty() && !header("content-type").starts_with("application/json") {
        problems.push(format!("content-type {:?}", header("content-type")));
    }
    problems
}

async fn replay_handler(
    State(st): State<Arc<Mutex<ReplayState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = st.lock().expect("lock");
    let Some(expected) = st.entries.get(st.next).cloned() else {
        st.failures
            .push(format!("unexpected extra request {method} {uri}"));
        return reply(418, &[], r#"{"message":"replay exhausted"}"#);
    };
    st.next += 1;
    let problems = check_request(&expected, &method, &uri, &headers, &body);
    if !problems.is_empty() {
        let n = st.next - 1;
        st.failures.push(format!(
            "request #{n} ({method} {uri}): {}",
            problems.join("; ")
        ));
        return reply(418, &[], r#"{"message":"replay mismatch"}"#);
    }
    let mut h = HeaderMap::new();
    if let Some(recorded) = expected["headers"].as_object() {
        for (k, v) in recorded {
            if matches!(
                k.as_str(),
                "content-length" | "connection" | "transfer-encoding"
            ) {
                continue;
            }
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // Links point at the recorded host; send them to this server instead.
            let v = v.replace("https://api.github.com", &st.base);
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                h.insert(name, value);
            }
        }
    }
    let body = match &expected["response"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let status = expected["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(500);
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        h,
        body,
    )
        .into_response()
}

/// Starts a replay of the `indices` entries of `scenario`.
pub async fn replay(scenario: &str, indices: &[usize]) -> Replay {
    let file = corpus()
        .join("github-api/fixtures")
        .join(scenario)
        .join("normalized-fixture.json");
    let raw = std::fs::read(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let all: Vec<Value> =
        serde_json::from_slice(&raw).unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
    let entries: Vec<Value> = indices
        .iter()
        .map(|i| {
            all.get(*i)
                .cloned()
                .unwrap_or_else(|| panic!("{scenario} has no entry {i}"))
        })
        .collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = Arc::new(Mutex::new(ReplayState {
        entries: entries.clone(),
        next: 0,
        failures: Vec::new(),
        base: base.clone(),
    }));
    let app = Router::new()
        .fallback(replay_handler)
        .with_state(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Replay {
        base,
        state,
        entries,
    }
}

impl Replay {
    /// Asserts every recorded request was made, in order, and matched.
    pub fn finish(&self) {
        let st = self.state.lock().expect("lock");
        assert!(
            st.failures.is_empty(),
            "replay mismatches:\n{}",
            st.failures.join("\n")
        );
        assert_eq!(
            st.next,
            st.entries.len(),
            "only {} of {} recorded requests were made",
            st.next,
            st.entries.len()
        );
    }

    /// The recorded response body of served entry `i`.
    pub fn response(&self, i: usize) -> &Value {
        &self.entries[i]["response"]
    }

    /// The recorded request body of served entry `i`.
    pub fn request_body(&self, i: usize) -> &Value {
        &self.entries[i]["body"]
    }
}
