//! End-to-end tests of the Spyglass routes over a `file://` bucket laid out like the pod
//! utilities write it, resolved for the `gs` provider the way `prow local` does.

use std::io::{Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use axum::body::Body;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use prow_spyglass::{ConfigGetter, Spyglass, StorageResolver};
use prow_storage::{Attributes, ListPage, PutOptions, Storage, StorageUrl};
use tower::ServiceExt;

const BUCKET: &str = "test-bucket";
const PR_DIR: &str = "pr-logs/pull/org_repo/42/pull-unit/1001";

/// Counts the bytes a lens reads, to prove large logs are read by windows.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn Storage>,
    read: Arc<AtomicU64>,
}

#[async_trait]
impl Storage for Counting {
    fn url(&self) -> &StorageUrl {
        self.inner.url()
    }
    async fn put(&self, key: &str, data: Bytes, opts: &PutOptions) -> prow_storage::Result<()> {
        self.inner.put(key, data, opts).await
    }
    async fn put_file(
        &self,
        key: &str,
        path: &Path,
        opts: &PutOptions,
    ) -> prow_storage::Result<()> {
        self.inner.put_file(key, path, opts).await
    }
    async fn get(&self, key: &str) -> prow_storage::Result<Bytes> {
        let b = self.inner.get(key).await?;
        self.read.fetch_add(b.len() as u64, Ordering::SeqCst);
        Ok(b)
    }
    async fn get_range(&self, key: &str, range: Range<u64>) -> prow_storage::Result<Bytes> {
        let b = self.inner.get_range(key, range).await?;
        self.read.fetch_add(b.len() as u64, Ordering::SeqCst);
        Ok(b)
    }
    async fn attributes(&self, key: &str) -> prow_storage::Result<Attributes> {
        self.inner.attributes(key).await
    }
    async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        page_token: Option<&str>,
    ) -> prow_storage::Result<ListPage> {
        self.inner.list_page(prefix, delimiter, page_token).await
    }
    async fn delete(&self, key: &str) -> prow_storage::Result<()> {
        self.inner.delete(key).await
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    read: Arc<AtomicU64>,
    config: prow_config::Config,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path().join("bucket");
        std::fs::create_dir_all(&root).unwrap();
        let mut config = prow_config::Config::default();
        config.prow.deck.skip_storage_path_validation = Some(false);
        config
            .prow
            .deck
            .additional_allowed_buckets
            .push(format!("gs://{BUCKET}"));
        config.prow.deck.spyglass.size_limit = 100_000_000;
        Fixture {
            _dir: dir,
            root,
            read: Arc::new(AtomicU64::new(0)),
            config,
        }
    }

    fn write(&self, rel: &str, data: &[u8]) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    /// A presubmit build as initupload/sidecar/crier leave it.
    fn standard_build(&self, dir: &str) {
        self.write(
            &format!("{dir}/started.json"),
            br#"{"timestamp": 1700000000, "node": "node-a", "pull": "42", "repos": {"org/repo": "main:abc,42:def"},
                 "metadata": {"links": {"dashboard": {"url": "https://dash.example.com/run/1"}}}}"#,
        );
        self.write(
            &format!("{dir}/finished.json"),
            br#"{"timestamp": 1700000125, "passed": false, "result": "FAILURE", "revision": "def"}"#,
        );
        let mut log = String::new();
        for i in 1..=40 {
            if i == 20 {
                log.push_str("--- FAIL: TestThing <b>bold</b>\n");
            } else {
                log.push_str(&format!("line {i} ok\n"));
            }
        }
        self.write(&format!("{dir}/build-log.txt"), log.as_bytes());
        self.write(
            &format!("{dir}/artifacts/junit_01.xml"),
            br#"<testsuites><testsuite name="s"><testcase classname="c" name="TestThing"><failure message="boom">trace</failure></testcase><testcase classname="c" name="TestOk"/></testsuite></testsuites>"#,
        );
        self.write(
            &format!("{dir}/podinfo.json"),
            br#"{"pod": {"metadata": {"name": "pod-1"}, "spec": {"containers": [{"name": "test", "image": "golang"}]},
                 "status": {"phase": "Failed", "containerStatuses": [{"name": "test", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}},
                 "events": []}"#,
        );
        self.write(
            &format!("{dir}/artifacts/cluster-dashboard.link.txt"),
            b"https://dash.example.com/cluster",
        );
    }

    fn spyglass(&self, jobs: Option<Arc<dyn prow_jobstore::JobStore>>) -> Spyglass {
        let cfg = Arc::new(self.config.clone());
        let getter: ConfigGetter = Arc::new(move || cfg.clone());
        let root = self.root.clone();
        let read = self.read.clone();
        let resolver: StorageResolver = Arc::new(move |provider: &str, bucket: &str| {
            anyhow::ensure!(
                provider == "gs" && bucket == BUCKET,
                "unknown bucket {bucket}"
            );
            let inner = prow_storage::open(
                &format!("file://{}", root.display()),
                &prow_storage::Credentials::default(),
            )?;
            Ok(Arc::new(Counting {
                inner,
                read: read.clone(),
            }) as Arc<dyn Storage>)
        });
        Spyglass::new(getter, resolver, jobs).with_clock(Arc::new(|| {
            chrono::DateTime::from_timestamp(1_700_000_600, 0).unwrap()
        }))
    }
}

async fn get(sg: &Spyglass, uri: &str) -> (StatusCode, http::HeaderMap, String) {
    let resp = sg
        .router()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in page"))
        + start.len();
    let j = s[i..].find(end).unwrap() + i;
    &s[i..j]
}

#[tokio::test]
async fn full_page_renders_every_lens() {
    let f = Fixture::new();
    f.standard_build(PR_DIR);
    let sg = f.spyglass(None);
    let (status, headers, page) = get(&sg, &format!("/view/gs/{BUCKET}/{PR_DIR}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        headers[http::header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("no-cache")
    );
    // Browser security headers, and nothing inline that the policy would block.
    assert_eq!(
        headers[http::header::CONTENT_SECURITY_POLICY],
        prow_runtime::headers::PAGE_CSP
    );
    assert_eq!(headers[http::header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[http::header::X_FRAME_OPTIONS], "DENY");
    let lower = page.to_ascii_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag = &lower[i..i + lower[i..].find('>').unwrap()];
        assert!(tag.contains(" src="), "inline script: {tag}");
    }
    assert!(
        !lower.contains("<style") && !lower.contains(" style="),
        "inline style"
    );
    // Header.
    assert!(page.contains("<span class=\"job\">pull-unit</span>"));
    assert!(page.contains("#1001"));
    assert!(page.contains("class=\"state st-failure\">failure<"));
    assert!(page.contains("href=\"/job-history/gs/test-bucket/pr-logs/directory/pull-unit\""));
    assert!(
        page.contains("href=\"/pr-history?org=org&#38;repo=repo&#38;pr=42\""),
        "{}",
        between(&page, "header-links", "</ul>")
    );
    assert!(page.contains("href=\"https://dash.example.com/run/1\""));
    assert!(page.contains("<header class=\"topbar\">"));
    assert!(page.contains("id=\"login\" href=\"/github-login?dest="));
    // Lenses in Prow's order: metadata, junit, buildlog, links, podinfo.
    let order: Vec<usize> = [
        "lens-metadata",
        "lens-junit",
        "lens-buildlog",
        "lens-links",
        "lens-podinfo",
    ]
    .iter()
    .map(|id| page.find(id).unwrap_or_else(|| panic!("{id} missing")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(page.contains("failed</span> after 2m5s."));
    assert!(page.contains("1/2 Tests Failed."));
    assert!(page.contains("<mark>FAIL</mark>"));
    assert!(
        page.contains("&lt;b&gt;bold&lt;/b&gt;"),
        "log text must be escaped"
    );
    assert!(page.contains("id=\"build-log.txt:20\""));
    assert!(page.contains("Cluster dashboard"));
    assert!(page.contains("Terminated: Error (exit code 1)"));
    assert!(page.contains("artifacts/junit_01.xml"));
    // Logged-in users show in the top bar.
    let resp = sg
        .router()
        .oneshot(
            Request::get(format!("/view/gs/{BUCKET}/{PR_DIR}"))
                .header("cookie", "github_login=octocat")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("<span id=\"user\">@octocat</span>"));
}

#[tokio::test]
async fn bad_paths_and_buckets() {
    let f = Fixture::new();
    f.standard_build(PR_DIR);
    let sg = f.spyglass(None);
    for (uri, want) in [
        ("/view/gs/other-bucket/logs/j/1", StatusCode::FORBIDDEN),
        (
            "/view/gs/test-bucket/logs/../../etc/1",
            StatusCode::BAD_REQUEST,
        ),
        ("/view/nope/x/y/z", StatusCode::NOT_FOUND),
        ("/view/gs/test-bucket/logs/missing/1", StatusCode::NOT_FOUND),
        ("/view/file/etc/passwd/x", StatusCode::FORBIDDEN),
        ("/view/prowjob/job/1", StatusCode::NOT_FOUND),
    ] {
        let (status, _, body) = get(&sg, uri).await;
        assert_eq!(status, want, "{uri}: {body}");
        assert!(!body.is_empty());
    }
    let (status, _, _) = get(
        &sg,
        &format!("/spyglass/raw?src=gs/{BUCKET}/{PR_DIR}&file=../../../x"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_artifacts_render_errors() {
    let f = Fixture::new();
    let dir = "logs/ci-broken/7";
    f.write(&format!("{dir}/started.json"), b"{not json");
    f.write(&format!("{dir}/finished.json"), b"");
    f.write(
        &format!("{dir}/artifacts/junit_bad.xml"),
        b"<testsuites><testcase></testsuites>",
    );
    f.write(&format!("{dir}/podinfo.json"), b"[1,2,3]");
    f.write(
        &format!("{dir}/build-log.txt"),
        b"\xff\xfe binary \x1b[31m\x00\n",
    );
    let sg = f.spyglass(None);
    let (status, _, page) = get(&sg, &format!("/view/gs/{BUCKET}/{dir}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("started.json: started.json is not valid JSON"),
        "{page}"
    );
    assert!(page.contains("finished.json: finished.json is empty"));
    assert!(page.contains("Could not read JUnit file artifacts/junit_bad.xml"));
    assert!(page.contains("id=\"lens-podinfo"));
    assert!(page.contains("href=\"/job-history/gs/test-bucket/logs/ci-broken\""));
}

#[tokio::test]
async fn size_limit_is_reported_not_read() {
    let mut f = Fixture::new();
    f.config.prow.deck.spyglass.size_limit = 64;
    let dir = "logs/ci-big/1";
    let mut junit = String::from("<testsuites><testsuite name=\"s\">");
    for i in 0..100 {
        junit.push_str(&format!("<testcase name=\"t{i}\"/>"));
    }
    junit.push_str("</testsuite></testsuites>");
    f.write(&format!("{dir}/artifacts/junit_big.xml"), junit.as_bytes());
    f.write(
        &format!("{dir}/started.json"),
        br#"{"timestamp": 1700000000}"#,
    );
    let sg = f.spyglass(None);
    let before = f.read.load(Ordering::SeqCst);
    let (status, _, page) = get(&sg, &format!("/view/gs/{BUCKET}/{dir}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("more than the size limit"), "{page}");
    let read = f.read.load(Ordering::SeqCst) - before;
    assert!(read < junit.len() as u64, "read {read} bytes");
}

/// A 200 MB log (sparse in the middle) with errors near both ends.
fn big_log(path: &Path) -> (u64, u64) {
    let mut file = std::fs::File::create(path).unwrap();
    let mut head = String::from("starting\nERROR: early failure\n");
    while head.len() < 512 * 1024 {
        head.push_str("head filler line\n");
    }
    file.write_all(head.as_bytes()).unwrap();
    let size = 200u64 << 20;
    let mut tail = String::new();
    while tail.len() < 600 * 1024 {
        tail.push_str("tail filler line\n");
    }
    tail.push_str("panic: late failure\nbye\n");
    // Newlines every so often in the sparse middle would need writing it; a run of NULs
    // ending in a newline keeps the file sparse and still line-structured at the tail.
    file.seek(SeekFrom::Start(size - tail.len() as u64 - 1))
        .unwrap();
    file.write_all(b"\n").unwrap();
    file.write_all(tail.as_bytes()).unwrap();
    let len = file.metadata().unwrap().len();
    let late = len - "panic: late failure\nbye\n".len() as u64;
    (len, late)
}

#[tokio::test]
async fn large_log_reads_bounded_windows_and_expands() {
    let f = Fixture::new();
    let dir = "logs/ci-huge/9";
    f.write(
        &format!("{dir}/started.json"),
        br#"{"timestamp": 1700000000}"#,
    );
    let (size, late_offset) = big_log(&f.root.join(dir).join("build-log.txt"));
    let sg = f.spyglass(None);
    let (status, _, page) = get(&sg, &format!("/view/gs/{BUCKET}/{dir}")).await;
    assert_eq!(status, StatusCode::OK);
    let read = f.read.load(Ordering::SeqCst);
    assert!(
        read < 4 << 20,
        "first screen read {read} bytes of a {size}-byte log"
    );
    assert!(page.contains("<mark>ERROR:</mark> early failure"));
    assert!(
        page.contains("id=\"build-log.txt:2\""),
        "head lines are numbered"
    );
    assert!(page.contains("<mark>panic</mark>: late failure"));
    assert!(
        page.contains(&format!("id=\"build-log.txt:@{late_offset}\"")),
        "tail lines are anchored by byte offset"
    );
    assert!(page.contains("MiB of log not shown"));

    // The head's folded run after the error: expanding it downwards gives numbered lines.
    let urls: Vec<String> = page
        .match_indices("data-url=\"")
        .map(|(i, m)| {
            let rest = &page[i + m.len()..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect();
    let first = &urls[0];
    assert!(first.contains("line=8"), "{first}");
    let before = f.read.load(Ordering::SeqCst);
    let (status, _, frag) = get(&sg, &format!("{first}&dir=down&n=20")).await;
    assert_eq!(status, StatusCode::OK, "{frag}");
    assert_eq!(frag.matches("class=\"line").count(), 20);
    assert!(frag.contains("id=\"build-log.txt:8\""));
    assert!(frag.contains("id=\"build-log.txt:27\""));
    assert!(frag.contains("line=28"), "the rest stays folded: {frag}");
    // The big gap: expanding upwards from the tail end reads one window only.
    let gap = urls
        .iter()
        .find(|u| !u.contains("count="))
        .expect("a folded run of unknown length");
    let (status, _, frag) = get(&sg, &format!("{gap}&dir=up&n=5")).await;
    assert_eq!(status, StatusCode::OK, "{frag}");
    assert_eq!(frag.matches("class=\"line").count(), 5);
    let read = f.read.load(Ordering::SeqCst) - before;
    assert!(read < 2 << 20, "expanders read {read} bytes");
    // Out-of-range requests are refused.
    let (status, _, _) = get(
        &sg,
        &format!(
            "/spyglass/buildlog/range?src=gs/{BUCKET}/{dir}&artifact=build-log.txt&start={}&end={}",
            size + 10,
            size + 20
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn raw_and_lens_endpoints() {
    let f = Fixture::new();
    f.standard_build(PR_DIR);
    let sg = f.spyglass(None);
    let (status, headers, body) = get(
        &sg,
        &format!("/spyglass/raw?src=gs/{BUCKET}/{PR_DIR}&file=build-log.txt"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("line 1 ok\n"));
    assert_eq!(
        headers[http::header::CONTENT_SECURITY_POLICY],
        prow_runtime::headers::RAW_CSP
    );
    assert_eq!(headers[http::header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    // Prow-compatible lens request.
    let req = format!(
        r#"{{"src":"gs/{BUCKET}/{PR_DIR}","index":2,"artifacts":["artifacts/junit_01.xml"]}}"#
    );
    let uri = format!(
        "/spyglass/lens/junit/initial?req={}",
        prow_spyglass::html::query_escape(&req)
    );
    let (status, _, body) = get(&sg, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("1/2 Tests Failed."));
    // Buildlog callback: lines 1..=3 of the log (offset 0, length without the last newline).
    let resp = sg
        .router()
        .oneshot(
            Request::post(format!(
                "/spyglass/lens/buildlog/callback?req={}",
                prow_spyglass::html::query_escape(&format!(r#"{{"src":"gs/{BUCKET}/{PR_DIR}"}}"#))
            ))
            .body(Body::from(
                r#"{"artifact":"build-log.txt","offset":0,"length":29,"startLine":0,"top":0,"bottom":0}"#,
            ))
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body =
        String::from_utf8_lossy(&resp.into_body().collect().await.unwrap().to_bytes()).into_owned();
    assert_eq!(body.matches("class=\"line").count(), 3, "{body}");
    assert!(body.contains("id=\"build-log.txt:3\""));
    let (status, headers, css) = get(&sg, "/spyglass/static/spyglass.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.contains("prefers-color-scheme: dark"));
}

#[tokio::test]
async fn prowjob_keys_and_symlinks_redirect() {
    let f = Fixture::new();
    f.standard_build(PR_DIR);
    // The presubmit alias initupload writes.
    f.write(
        "pr-logs/directory/pull-unit/1001.txt",
        format!("gs://{BUCKET}/{PR_DIR}").as_bytes(),
    );
    let store = prow_jobstore::memory::MemoryStore::default();
    let pj: prow_api::ProwJob = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "abc-123", "labels": {
            "prow.k8s.io/job": "pull-unit", "prow.k8s.io/build-id": "1001", "prow.k8s.io/type": "presubmit"}},
        "spec": {"type": "presubmit", "job": "pull-unit",
            "refs": {"org": "org", "repo": "repo", "base_ref": "main",
                "pulls": [{"number": 42, "author": "dev", "sha": "def", "link": "https://github.example.com/org/repo/pull/42"}]},
            "decoration_config": {"gcs_configuration": {"bucket": format!("gs://{BUCKET}"), "path_strategy": "explicit"}}},
        "status": {"state": "failure", "build_id": "1001", "startTime": "2023-11-14T22:13:20Z"}
    }))
    .unwrap();
    use prow_jobstore::JobStore;
    store.create(pj).await.unwrap();
    let sg = f.spyglass(Some(Arc::new(store)));
    let (status, headers, _) = get(&sg, "/view/prowjob/pull-unit/1001").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[http::header::LOCATION],
        format!("/view/gs/{BUCKET}/{PR_DIR}").as_str()
    );
    let (status, headers, _) = get(
        &sg,
        &format!("/view/gs/{BUCKET}/pr-logs/directory/pull-unit/1001"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[http::header::LOCATION],
        format!("/view/gs/{BUCKET}/{PR_DIR}").as_str()
    );
    // With the job store, the page shows the ProwJob's state and links.
    let (_, _, page) = get(&sg, &format!("/view/gs/{BUCKET}/{PR_DIR}")).await;
    assert!(page.contains("href=\"/prowjob?prowjob=abc-123\""));
    assert!(page.contains("href=\"https://github.example.com/org/repo/pull/42\""));
    let _ = between(&page, "<h1>", "</h1>");
}

#[tokio::test]
async fn gzip_encoded_log_is_decoded() {
    let f = Fixture::new();
    let dir = "logs/ci-gz/3";
    f.write(
        &format!("{dir}/started.json"),
        br#"{"timestamp": 1700000000}"#,
    );
    let store = prow_storage::open(
        &format!("file://{}", f.root.display()),
        &prow_storage::Credentials::default(),
    )
    .unwrap();
    let log = "one\ntwo\nERROR: compressed failure\nthree\n";
    let opts = PutOptions {
        content_encoding: Some("gzip".into()),
        content_type: Some("text/plain".into()),
        ..Default::default()
    };
    store
        .put(
            &format!("{dir}/build-log.txt"),
            Bytes::from(prow_storage::upload::gzip(log.as_bytes()).unwrap()),
            &opts,
        )
        .await
        .unwrap();
    let sg = f.spyglass(None);
    let (status, _, page) = get(&sg, &format!("/view/gs/{BUCKET}/{dir}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("<mark>ERROR:</mark> compressed failure"),
        "{page}"
    );
    assert!(page.contains("id=\"build-log.txt:3\""));
}
