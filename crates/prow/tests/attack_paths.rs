//! Attack suite for items 1 and 2 of issue 12, against real `prow local` and `prow deck`
//! processes: no URL reaches a file outside the bucket, and no symbolic link (planted in the
//! bucket or made by a job in its artifacts) exposes what it points to.
//!
//! A marker file with a random content sits in a temporary directory outside every data dir.
//! Every file route gets that file's absolute path, `..` escapes to it from the bucket (plain,
//! `%2e%2e`, `%2F`, `\`, `%5C`), and the usual table (`a/./b`, `a//b`, `a%00b`, trailing `/`,
//! `/etc/passwd`). Requests are written on a raw TCP socket so that no client normalises the
//! dot segments away. Each must be a 4xx and no response may contain the marker (or
//! `/etc/passwd`'s first line). Working requests on the same routes prove the routes are
//! really served (a 4xx from a missing route would prove nothing).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `/etc/passwd`'s first line on any Linux host.
const PASSWD: &str = "root:x:0:0";

/// A file outside every data dir, with content no response may contain.
struct Marker {
    _dir: tempfile::TempDir,
    /// The directory holding it.
    dir: PathBuf,
    /// Its absolute path.
    path: PathBuf,
    /// Its content.
    value: String,
}

fn marker() -> Marker {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let value = format!("HOST-FILE-MARKER-{}", uuid::Uuid::new_v4().simple());
    let path = outside.join("marker.txt");
    std::fs::write(&path, &value).unwrap();
    Marker {
        dir: outside,
        path,
        value,
        _dir: dir,
    }
}

/// The simulator answers only authenticated calls (a 401 would prove nothing).
const SIM_AUTH: &str = "Authorization: token t-bot\r\n";

/// One GET written verbatim on a socket: `(status, raw response)`. Calls to the GitHub
/// simulator carry a token.
async fn raw_get(port: u16, target: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let auth = if target.starts_with("/fake-github/") {
        SIM_AUTH
    } else {
        ""
    };
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("no answer to GET {target}"))
        .unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("GET {target}: not HTTP: {text:?}"));
    (status, text)
}

/// Percent-encode everything but unreserved characters (for query values).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Path tails (as written on the wire) that try to leave the bucket for `m`.
fn escapes(m: &Path) -> Vec<String> {
    let abs = m.display().to_string();
    let rel = abs.trim_start_matches('/');
    let up = 16;
    vec![
        abs.clone(),
        format!("/{abs}"),
        abs.replace('/', "%2F"),
        abs.replace('/', "%2f"),
        format!("{}{rel}", "../".repeat(up)),
        format!("{}{rel}", "%2e%2e/".repeat(up)),
        format!("{}{rel}", "%2E%2E%2F".repeat(up)),
        format!("{}{}", "..%2F".repeat(up), rel.replace('/', "%2F")),
        format!("a/{}{rel}", "../".repeat(up)),
        format!("a/b/{}{rel}", "../".repeat(up)),
        format!("{}{}", "..\\".repeat(up), rel.replace('/', "\\")),
        format!("{}{}", "..%5C".repeat(up), rel.replace('/', "%5C")),
        format!("{abs}%00"),
        format!("{}{rel}/", "../".repeat(up)),
        "/etc/passwd".into(),
        "//etc/passwd".into(),
        "%2Fetc%2Fpasswd".into(),
        format!("{}etc/passwd", "../".repeat(up)),
    ]
}

/// Malformed tails without an escape target (still refused).
fn malformed() -> Vec<String> {
    [
        "..",
        "%2e%2e",
        "a/./b",
        "a/%2e/b",
        "a//b",
        "a%2F%2Fb",
        "a%00b",
        "a\\..\\b",
        "a%5C..%5Cb",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The same tails decoded (for JSON and query values, which are encoded as a whole).
fn decoded(m: &Path) -> Vec<String> {
    let abs = m.display().to_string();
    let rel = abs.trim_start_matches('/');
    let up = 16;
    vec![
        abs.clone(),
        format!("/{abs}"),
        format!("{}{rel}", "../".repeat(up)),
        format!("a/{}{rel}", "../".repeat(up)),
        format!("{}{}", "..\\".repeat(up), rel.replace('/', "\\")),
        format!("{abs}\u{0}"),
        "/etc/passwd".into(),
        "a/./b".into(),
        "a//b".into(),
        "a\u{0}b".into(),
        "a\\..\\b".into(),
    ]
}

fn assert_clean(target: &str, status: u16, body: &str, m: &Marker) {
    assert!(
        !body.contains(&m.value),
        "GET {target} ({status}) returned the host marker file:\n{body}"
    );
    assert!(
        !body.contains(PASSWD),
        "GET {target} ({status}) returned /etc/passwd:\n{body}"
    );
}

/// Every request must be a 4xx and leak nothing.
async fn refused(port: u16, targets: &[String], m: &Marker) {
    let mut wrong = Vec::new();
    for t in targets {
        let (status, body) = raw_get(port, t).await;
        assert_clean(t, status, &body, m);
        if !(400..500).contains(&status) {
            wrong.push(format!("{status} GET {t}"));
        }
    }
    assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
}

/// Requests that may succeed but must leak nothing.
async fn harmless(port: u16, targets: &[String], m: &Marker) {
    for t in targets {
        let (status, body) = raw_get(port, t).await;
        assert_clean(t, status, &body, m);
    }
}

/// Every regular file under `dir` (links are reported, never followed).
fn files_under(dir: &Path, links: &mut Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_symlink() {
            links.push(p);
        } else if meta.is_dir() {
            out.extend(files_under(&p, links));
        } else if meta.is_file() {
            out.push(p);
        }
    }
    out
}

/// `dir/name -> target`.
fn link(target: &Path, at: &Path) {
    if let Some(parent) = at.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::os::unix::fs::symlink(target, at).unwrap();
}

/// A build directory Deck recognises, with real metadata.
fn build_dir(dir: &Path, log: Option<&str>) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("started.json"), r#"{"timestamp": 1700000000}"#).unwrap();
    std::fs::write(
        dir.join("finished.json"),
        r#"{"timestamp": 1700000100, "passed": true, "result": "SUCCESS"}"#,
    )
    .unwrap();
    if let Some(log) = log {
        std::fs::write(dir.join("build-log.txt"), log).unwrap();
    }
}

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
  - {repo: acme/widgets, number: 1, author: alice, title: Change, head: change, files: {README.md: "better\n"}}
"#;

const CONFIG: &str = r#"
prowjob_namespace: default
pod_namespace: test-pods
plank:
  default_decoration_config_entries:
  - config:
      timeout: 1h
      grace_period: 2s
      utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}
      gcs_configuration: {bucket: local-bucket, path_strategy: explicit}
"#;

const PLUGINS: &str = "plugins:\n  acme:\n    plugins: [trigger]\ntriggers:\n- repos: [acme]\n";

/// Jobs that try to smuggle the marker out through their artifacts.
fn leaky_jobs(m: &Marker) -> String {
    let (file, dir) = (m.path.display(), m.dir.display());
    format!(
        r#"
presubmits:
  acme/widgets:
  - name: pull-leak
    always_run: true
    decorate: true
    spec: {{containers: [{{image: alpine, command: [sh, -c, "ln -s {file} $ARTIFACTS/leak.txt && ln -s {dir} $ARTIFACTS/dirleak && mkdir $ARTIFACTS/sub && ln -s $ARTIFACTS $ARTIFACTS/sub/loop && ln -s leak.txt $ARTIFACTS/relative.txt && (mkfifo $ARTIFACTS/fifo || true) && echo fine > $ARTIFACTS/fine.txt"]}}]}}
  - name: pull-swap
    always_run: true
    decorate: true
    spec: {{containers: [{{image: alpine, command: [sh, -c, "(rm -rf $ARTIFACTS && ln -s {dir} $ARTIFACTS) || true"]}}]}}
"#
    )
}

struct Local {
    dir: tempfile::TempDir,
    port: u16,
    base: String,
    ready: String,
    args: Vec<String>,
}

fn local_setup(jobs: &str) -> Local {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("seed.yaml"), SEED).unwrap();
    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/jobs.yaml"), jobs).unwrap();
    std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
    let (p, ph, pm) = (free_port(), free_port(), free_port());
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let args = vec![
        "local".into(),
        format!("--config-path={}", s(&d.join("config.yaml"))),
        format!("--job-config-path={}", s(&d.join("jobs"))),
        format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
        format!("--seed={}", s(&d.join("seed.yaml"))),
        format!("--data-dir={}", s(&d.join("data"))),
        format!("--port={p}"),
        format!("--health-port={ph}"),
        format!("--metrics-port={pm}"),
        "--max-parallel=4".into(),
    ];
    // Jobs run in the bubblewrap sandbox (the default): the uploaders run outside it, on the
    // host, which is where a followed link would leak from.
    Local {
        base: format!("http://127.0.0.1:{p}"),
        ready: format!("http://127.0.0.1:{ph}/healthz/ready"),
        port: p,
        dir,
        args,
    }
}

impl Local {
    fn bucket(&self) -> PathBuf {
        self.dir.path().join("data/artifacts")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("local.log")).unwrap_or_default()
    }

    async fn jobs(&self) -> Vec<prow_api::ProwJob> {
        let v: serde_json::Value = match reqwest::get(format!("{}/prowjobs.js", self.base)).await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => return Vec::new(),
        };
        serde_json::from_value(v["items"].clone()).unwrap_or_default()
    }

    async fn finished(&self, job: &str) -> prow_api::ProwJob {
        eventually(
            &format!("{job} to finish"),
            Duration::from_secs(120),
            || async {
                self.jobs().await.into_iter().find(|j| {
                    j.spec.job == job
                        && matches!(
                            j.status.state.as_str(),
                            "success" | "failure" | "error" | "aborted"
                        )
                })
            },
        )
        .await
    }
}

/// Item 1 on `prow local`: every file route of the one listener (`/artifacts`, Deck's
/// `/view`, `/spyglass/...`, `/job-history`, `/pr-history`, the GitHub simulator) refuses
/// every escape, and links planted in the bucket are never served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prow_local_file_routes_never_leave_the_bucket() {
    let m = marker();
    let l = local_setup("presubmits: {}\n");
    let _p = spawn("local", l.dir.path(), &l.args);
    wait_ok(&l.ready, &l.dir.path().join("local.log")).await;
    let port = l.port;

    // A real object and a real build, so the routes are shown to work.
    let b = l.bucket();
    std::fs::create_dir_all(&b).unwrap();
    build_dir(&b.join("logs/real/7"), Some("a legit build log\n"));
    std::fs::write(b.join("logs/real/latest-build.txt"), "7").unwrap();
    // Links planted in the bucket directory.
    link(&m.path, &b.join("planted-link"));
    link(&m.dir, &b.join("planted-dir"));
    build_dir(&b.join("logs/planted/1"), None);
    link(&m.path, &b.join("logs/planted/1/build-log.txt"));
    link(&m.path, &b.join("logs/planted/1/artifacts/leak.txt"));
    link(&m.path, &b.join("logs/planted/latest-build.txt"));
    link(&b.join("logs"), &b.join("logs/planted/1/loop"));
    link(&m.dir, &b.join("logs/planted-dir"));

    // The routes work: a real file, a listing, a Deck page.
    let (st, body) = raw_get(port, "/artifacts/logs/real/7/build-log.txt").await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("a legit build log"));
    assert!(
        body.to_ascii_lowercase()
            .contains("x-content-type-options: nosniff")
    );
    let (st, body) = raw_get(port, "/artifacts/").await;
    assert_eq!(st, 200, "{body}");
    assert!(
        body.contains("logs") && !body.contains("planted-link") && !body.contains("planted-dir")
    );
    let (st, body) = raw_get(
        port,
        "/spyglass/raw?src=gs/local-bucket/logs/real/7&file=build-log.txt",
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("a legit build log"));
    let (st, _) = raw_get(port, "/view/gs/local-bucket/logs/real/7").await;
    assert_eq!(st, 200);
    let (st, _) = raw_get(port, "/fake-github/repos/acme/widgets/contents/README.md").await;
    assert_eq!(st, 200);

    let mut bad: Vec<String> = Vec::new();
    let tails: Vec<String> = escapes(&m.path).into_iter().chain(malformed()).collect();
    for t in &tails {
        bad.push(format!("/artifacts/{t}"));
        bad.push(format!("/view/gs/local-bucket/{t}"));
        bad.push(format!("/view/file/{t}"));
        bad.push(format!("/job-history/gs/local-bucket/{t}"));
        bad.push(format!("/job-history/{t}"));
        bad.push(format!("/fake-github/repos/acme/widgets/contents/{t}"));
    }
    bad.push("/artifacts//".into());
    bad.push("/artifacts/logs/".into());
    bad.push("/artifacts/logs/real/7/".into());
    bad.push("/artifacts/.prow-storage-attrs".into());
    for t in decoded(&m.path) {
        let v = enc(&t);
        bad.push(format!(
            "/spyglass/raw?src=gs/local-bucket/logs/real/7&file={v}"
        ));
        bad.push(format!("/spyglass/raw?src={v}&file=build-log.txt"));
        bad.push(format!(
            "/spyglass/raw?src=gs/local-bucket/{v}&file=build-log.txt"
        ));
        bad.push(format!(
            "/spyglass/buildlog/range?src=gs/local-bucket/logs/real/7&artifact={v}&start=0&end=100"
        ));
        let req = serde_json::json!({ "src": format!("gs/local-bucket/{t}") }).to_string();
        bad.push(format!("/spyglass/lens/buildlog/initial?req={}", enc(&req)));
        bad.push(format!("/pr-history?org={v}&repo=widgets&pr=1"));
        bad.push(format!("/pr-history?org=acme&repo={v}&pr=1"));
    }
    // Links planted in the bucket are not objects.
    for t in [
        "/artifacts/planted-link",
        "/artifacts/planted-dir",
        "/artifacts/planted-dir/marker.txt",
        "/artifacts/logs/planted/1/build-log.txt",
        "/artifacts/logs/planted/1/artifacts/leak.txt",
        "/artifacts/logs/planted/1/loop/real/7/build-log.txt",
        "/spyglass/raw?src=gs/local-bucket/logs/planted/1&file=build-log.txt",
        "/spyglass/raw?src=gs/local-bucket/logs/planted/1&file=artifacts/leak.txt",
        "/spyglass/raw?src=gs/local-bucket/logs/planted-dir&file=marker.txt",
        "/artifacts/logs/planted-dir/marker.txt",
        "/job-history/gs/local-bucket/logs/planted",
    ] {
        bad.push(t.to_string());
    }
    refused(port, &bad, &m).await;

    // Pages over the planted build may render, but show nothing of the marker.
    let lens = serde_json::json!({
        "src": "gs/local-bucket/logs/planted/1",
        "artifacts": ["build-log.txt", "artifacts/leak.txt"],
    })
    .to_string();
    harmless(
        port,
        &[
            "/view/gs/local-bucket/logs/planted/1".to_string(),
            "/artifacts/logs/planted/1".to_string(),
            "/artifacts/logs/planted/1/artifacts".to_string(),
            format!("/spyglass/lens/buildlog/initial?req={}", enc(&lens)),
            format!("/spyglass/lens/metadata/initial?req={}", enc(&lens)),
            "/job-history/gs/local-bucket/logs/real".to_string(),
        ],
        &m,
    )
    .await;
    // The marker is still where it was: nothing was written through a link either.
    assert_eq!(std::fs::read_to_string(&m.path).unwrap(), m.value);
}

/// Item 2 on `prow local`: jobs that link their artifacts (a file, a directory, a loop, a
/// relative link, a FIFO, the artifacts directory itself) to host paths run to completion;
/// the marker never reaches the bucket nor any HTTP response, and the skip is logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prow_local_job_symlinks_never_expose_their_targets() {
    let m = marker();
    let l = local_setup(&leaky_jobs(&m));
    let _p = spawn("local", l.dir.path(), &l.args);
    wait_ok(&l.ready, &l.dir.path().join("local.log")).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/fake-github/repos/acme/widgets/issues/1/comments",
            l.base
        ))
        .header("Authorization", "token t-alice")
        .json(&serde_json::json!({ "body": "/test all" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let leak = l.finished("pull-leak").await;
    let swap = l.finished("pull-swap").await;
    assert_eq!(leak.status.state.as_str(), "success", "{}", l.log());
    assert_eq!(swap.status.state.as_str(), "success", "{}", l.log());

    // The uploads are done when finished.json is there (it goes last).
    let dir = |j: &prow_api::ProwJob| {
        format!(
            "pr-logs/pull/acme_widgets/1/{}/{}",
            j.spec.job, j.status.build_id
        )
    };
    let leak_dir = dir(&leak);
    let swap_dir = dir(&swap);
    for d in [&leak_dir, &swap_dir] {
        let f = l.bucket().join(d).join("finished.json");
        eventually(
            &format!("{} uploaded", f.display()),
            Duration::from_secs(60),
            || async { f.is_file().then_some(()) },
        )
        .await;
    }
    // The legitimate artifact is there.
    assert_eq!(
        std::fs::read_to_string(l.bucket().join(&leak_dir).join("artifacts/fine.txt")).unwrap(),
        "fine\n"
    );

    // Nothing in the bucket is a link, and no object holds the marker.
    let mut links = Vec::new();
    let files = files_under(&l.bucket(), &mut links);
    assert!(links.is_empty(), "links in the bucket: {links:?}");
    assert!(files.len() > 4, "{files:?}");
    for f in &files {
        let data = std::fs::read(f).unwrap();
        assert!(
            !String::from_utf8_lossy(&data).contains(&m.value),
            "{} holds the host marker",
            f.display()
        );
    }
    for gone in ["leak.txt", "dirleak", "sub/loop", "relative.txt", "fifo"] {
        let p = l.bucket().join(&leak_dir).join("artifacts").join(gone);
        assert!(
            std::fs::symlink_metadata(&p).is_err(),
            "{} uploaded",
            p.display()
        );
    }
    assert!(
        !l.bucket()
            .join(&swap_dir)
            .join("artifacts/marker.txt")
            .exists(),
        "the swapped artifacts dir was followed"
    );

    // No HTTP route shows the marker either.
    let leak_src = format!("gs/local-bucket/{leak_dir}");
    let mut targets = vec![
        format!("/artifacts/{leak_dir}"),
        format!("/artifacts/{leak_dir}/artifacts"),
        format!("/artifacts/{swap_dir}"),
        format!("/view/{leak_src}"),
        format!("/view/gs/local-bucket/{swap_dir}"),
    ];
    for f in [
        "leak.txt",
        "dirleak/marker.txt",
        "relative.txt",
        "sub/loop/leak.txt",
    ] {
        targets.push(format!("/artifacts/{leak_dir}/artifacts/{f}"));
        targets.push(format!("/spyglass/raw?src={leak_src}&file=artifacts/{f}"));
    }
    targets.push(format!("/artifacts/{swap_dir}/artifacts/marker.txt"));
    harmless(l.port, &targets, &m).await;
    for t in &targets[5..] {
        let (st, _) = raw_get(l.port, t).await;
        assert_eq!(st, 404, "GET {t}");
    }

    // The skip is logged where an operator sees it.
    let log = l.log();
    assert!(
        log.contains("leak.txt") && log.contains("never"),
        "no warning about the skipped link in the log:\n{log}"
    );
}

/// Item 1 and 2 on a standalone `prow deck` over a `file://` bucket: Spyglass and job history
/// refuse every escape and never read through a link planted in the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prow_deck_file_bucket_never_leaves_the_bucket() {
    let m = marker();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bucket = d.join("bucket");
    build_dir(&bucket.join("logs/job/1"), Some("a legit build log\n"));
    link(&m.path, &bucket.join("logs/job/1/leak.txt"));
    link(&m.dir, &bucket.join("logs/job/1/dirleak"));
    link(&m.path, &bucket.join("logs/job/1/artifacts/leak2.txt"));
    build_dir(&bucket.join("logs/job/2"), None);
    link(&m.path, &bucket.join("logs/job/2/build-log.txt"));
    link(&m.dir, &bucket.join("logs/linked-job"));
    std::fs::write(bucket.join("logs/job/latest-build.txt"), "2").unwrap();
    let b = bucket.display().to_string();
    let b_rel = b.trim_start_matches('/');
    std::fs::write(
        d.join("config.yaml"),
        format!(
            "prowjob_namespace: default\n\
             deck:\n  additional_allowed_buckets: [\"file://{b}\"]\n"
        ),
    )
    .unwrap();
    let (p, ph, pm) = (free_port(), free_port(), free_port());
    let args = vec![
        "deck".to_string(),
        format!("--config-path={}", d.join("config.yaml").display()),
        "--job-store=memory".into(),
        "--spyglass=true".into(),
        format!("--port={p}"),
        format!("--health-port={ph}"),
        format!("--metrics-port={pm}"),
    ];
    let _deck = spawn("deck", d, &args);
    wait_ok(
        &format!("http://127.0.0.1:{ph}/healthz/ready"),
        &d.join("deck.log"),
    )
    .await;

    // The routes work on a real build.
    let src = format!("file/{b_rel}/logs/job/1");
    let (st, body) = raw_get(p, &format!("/spyglass/raw?src={src}&file=build-log.txt")).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("a legit build log"));
    let (st, body) = raw_get(p, &format!("/view/{src}")).await;
    assert_eq!(st, 200, "{body}");
    assert_clean("/view", st, &body, &m);
    assert!(
        !body.contains("leak.txt") && !body.contains("dirleak"),
        "{body}"
    );

    let mut bad = Vec::new();
    let tails: Vec<String> = escapes(&m.path).into_iter().chain(malformed()).collect();
    for t in &tails {
        bad.push(format!("/view/file/{b_rel}/{t}"));
        bad.push(format!("/view/file/{t}"));
        bad.push(format!("/view/gs/some-bucket/{t}"));
        bad.push(format!("/job-history/gs/some-bucket/{t}"));
        bad.push(format!("/job-history/s3/some-bucket/{t}"));
    }
    for t in decoded(&m.path) {
        let v = enc(&t);
        bad.push(format!("/spyglass/raw?src={src}&file={v}"));
        bad.push(format!("/spyglass/raw?src=file/{b_rel}/{v}&file=x"));
        bad.push(format!(
            "/spyglass/buildlog/range?src={src}&artifact={v}&start=0&end=100"
        ));
        let req = serde_json::json!({ "src": format!("file/{b_rel}/{t}") }).to_string();
        bad.push(format!("/spyglass/lens/buildlog/initial?req={}", enc(&req)));
        bad.push(format!("/pr-history?org={v}&repo=x&pr=1"));
    }
    let outside = m.dir.display().to_string();
    let outside = outside.trim_start_matches('/');
    bad.push(format!("/view/file/{outside}/marker.txt/x"));
    bad.push(format!(
        "/spyglass/raw?src=file/{outside}/x/y&file=marker.txt"
    ));
    for f in ["leak.txt", "dirleak/marker.txt", "artifacts/leak2.txt"] {
        bad.push(format!("/spyglass/raw?src={src}&file={f}"));
    }
    bad.push(format!(
        "/spyglass/raw?src=file/{b_rel}/logs/job/2&file=build-log.txt"
    ));
    bad.push(format!(
        "/spyglass/raw?src=file/{b_rel}/logs/linked-job&file=marker.txt"
    ));
    refused(p, &bad, &m).await;

    let lens = serde_json::json!({
        "src": src,
        "artifacts": ["build-log.txt", "leak.txt", "dirleak/marker.txt", "artifacts/leak2.txt"],
    })
    .to_string();
    let lens2 = serde_json::json!({ "src": format!("file/{b_rel}/logs/job/2") }).to_string();
    harmless(
        p,
        &[
            format!("/view/file/{b_rel}/logs/job/2"),
            format!("/view/file/{b_rel}/logs/linked-job/1"),
            format!("/spyglass/lens/buildlog/initial?req={}", enc(&lens)),
            format!("/spyglass/lens/buildlog/initial?req={}", enc(&lens2)),
            format!("/spyglass/lens/metadata/initial?req={}", enc(&lens)),
        ],
        &m,
    )
    .await;
}
