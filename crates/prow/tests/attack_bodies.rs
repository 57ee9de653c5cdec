//! Attack suite, issue 12 items 4 and 5, against a real `prow local` process:
//!
//! * a flood of 48 concurrent 25 MiB unsigned webhook bodies keeps the process's peak RSS growth
//!   under 64 MiB, while signed events (delivered by the simulator) still get through during and
//!   after the flood;
//! * a comment with thousands of commands never makes the bot write a body GitHub would refuse
//!   (over 65 536 characters), and the event is still acted on; a 1 MB comment is refused by the
//!   simulator exactly as GitHub refuses it.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SEED: &str = r#"
users:
  - {login: prow-bot, token: t-bot, type: Bot}
  - {login: alice, token: t-alice}
orgs:
  - {login: acme, members: [alice]}
repos:
  - name: acme/widgets
    labels: [warm, during, after, kind/bug]
    files: {README.md: "widgets\n"}
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Change, head: change, files: {README.md: "better widgets\n"}}
"#;

const CONFIG: &str = "prowjob_namespace: default\npod_namespace: test-pods\n";

const PLUGINS: &str =
    "plugins:\n  acme:\n    plugins: [label]\nlabel:\n  additional_labels: [warm, during, after]\n";

/// GitHub's limit on issue, pull request and comment bodies, in characters.
const GITHUB_MAX_BODY_CHARS: usize = 65_536;

struct Local {
    dir: tempfile::TempDir,
    args: Vec<String>,
    base: String,
    ready: String,
}

fn setup() -> Local {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("seed.yaml"), SEED).unwrap();
    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
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
    ];
    Local {
        base: format!("http://127.0.0.1:{p}"),
        ready: format!("http://127.0.0.1:{ph}/healthz/ready"),
        dir,
        args,
    }
}

impl Local {
    fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("local.log")
    }

    /// Alice comments on PR 1 through the simulator's REST API; the HTTP status.
    async fn comment(&self, body: &str) -> u16 {
        reqwest::Client::new()
            .post(format!(
                "{}/fake-github/repos/acme/widgets/issues/1/comments",
                self.base
            ))
            .header("Authorization", "token t-alice")
            .json(&serde_json::json!({ "body": body }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn get(&self, path: &str) -> Option<Value> {
        let r = reqwest::Client::new()
            .get(format!("{}/fake-github{path}", self.base))
            .header("Authorization", "token t-alice")
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json().await.ok()
    }

    async fn labels(&self) -> Vec<String> {
        self.get("/repos/acme/widgets/issues/1/labels")
            .await
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| l["name"].as_str().map(str::to_owned))
            .collect()
    }

    async fn wait_label(&self, label: &str) {
        eventually(
            &format!("label {label} on PR 1"),
            Duration::from_secs(120),
            || async { self.labels().await.iter().any(|l| l == label).then_some(()) },
        )
        .await
    }

    /// Every comment body on PR 1 written by the bot.
    async fn bot_comments(&self) -> Vec<String> {
        let mut out = Vec::new();
        for page in 1.. {
            let Some(v) = self
                .get(&format!(
                    "/repos/acme/widgets/issues/1/comments?per_page=100&page={page}"
                ))
                .await
            else {
                break;
            };
            let items = v.as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                break;
            }
            out.extend(
                items
                    .iter()
                    .filter(|c| c["user"]["login"] == "prow-bot")
                    .filter_map(|c| c["body"].as_str().map(str::to_owned)),
            );
        }
        out
    }
}

/// `VmRSS` and `VmHWM` (peak) of `pid`, in bytes.
fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} missing in /proc/{pid}/status"))
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

const MIB: u64 = 1024 * 1024;

/// 48 concurrent unsigned bodies of 25 MiB each (valid JSON naming a repository, so nothing
/// but the signature stops them) keep the peak RSS growth under 64 MiB; a signed event sent
/// during the flood and one sent after it are both processed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unsigned_flood_keeps_rss_flat_and_signed_events_get_through() {
    let l = setup();
    let p = spawn("local", l.dir.path(), &l.args);
    let pid = p.child.id();
    wait_ok(&l.ready, &l.log()).await;
    // Warm up the path a signed event takes, so the baseline includes it.
    assert_eq!(l.comment("/label warm").await, 201);
    l.wait_label("warm").await;
    let (rss0, hwm0) = rss(pid);

    const SIZE: usize = 25 * 1024 * 1024;
    let mut body =
        br#"{"action":"created","repository":{"full_name":"acme/widgets"},"pad":""#.to_vec();
    body.resize(SIZE - 2, b'x');
    body.extend_from_slice(b"\"}");
    let body = bytes::Bytes::from(body);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let started = Instant::now();
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..48 {
        let (c, b, url) = (client.clone(), body.clone(), format!("{}/hook", l.base));
        flood.spawn(async move {
            let r = c
                .post(url)
                .header("X-GitHub-Event", "issue_comment")
                .header("X-GitHub-Delivery", format!("flood-{i}"))
                .header("X-Hub-Signature-256", format!("sha256={}", "0".repeat(64)))
                .header("Content-Type", "application/json")
                .body(b)
                .send()
                .await;
            match r {
                Ok(r) => r.status().as_u16(),
                // The server may answer (and close) before reading the whole body.
                Err(_) => 0,
            }
        });
    }
    // A signed event while the flood is in flight.
    assert_eq!(l.comment("/label during").await, 201);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    while let Some(s) = flood.join_next().await {
        *statuses.entry(s.unwrap()).or_default() += 1;
    }
    let flood_took = started.elapsed();
    l.wait_label("during").await;
    let (rss1, hwm1) = rss(pid);
    // And one after it.
    assert_eq!(l.comment("/label after").await, 201);
    l.wait_label("after").await;
    let (rss2, hwm2) = rss(pid);
    eprintln!(
        "flood of 48 x 25 MiB unsigned: statuses {statuses:?} in {flood_took:?}; \
         VmRSS {} -> {} -> {} MiB, VmHWM {} -> {} -> {} MiB",
        rss0 / MIB,
        rss1 / MIB,
        rss2 / MIB,
        hwm0 / MIB,
        hwm1 / MIB,
        hwm2 / MIB,
    );
    assert!(
        !statuses.contains_key(&200),
        "an unsigned body was accepted: {statuses:?}"
    );
    assert!(
        hwm2.saturating_sub(hwm0) < 64 * MIB,
        "peak RSS grew by {} MiB (from {} to {} MiB); statuses {statuses:?}",
        (hwm2 - hwm0) / MIB,
        hwm0 / MIB,
        hwm2 / MIB
    );
}

/// A comment of the largest size GitHub accepts, made of thousands of `/label` commands, makes
/// no bot comment over GitHub's limit and is still answered; a 1 MB comment is refused by the
/// simulator with GitHub's 422.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_command_comment_yields_bounded_bot_replies() {
    let l = setup();
    let _p = spawn("local", l.dir.path(), &l.args);
    wait_ok(&l.ready, &l.log()).await;

    // 1 MB: GitHub (and so the simulator) refuses it.
    let mut huge = String::new();
    while huge.len() < 1_000_000 {
        huge.push_str("/label foo\n");
    }
    assert_eq!(l.comment(&huge).await, 422);

    // The largest comment GitHub takes: distinct unconfigured labels, plus one real command
    // at the end, which must still be acted on.
    let mut body = String::new();
    let last = "/kind bug\n";
    for i in 0.. {
        let line = format!("/label not-configured-{i:06}\n");
        if body.chars().count() + line.len() + last.len() > GITHUB_MAX_BODY_CHARS {
            break;
        }
        body.push_str(&line);
    }
    body.push_str(last);
    assert!(body.chars().count() <= GITHUB_MAX_BODY_CHARS);
    assert_eq!(l.comment(&body).await, 201);
    let replies = eventually("a bot reply", Duration::from_secs(120), || async {
        let c = l.bot_comments().await;
        (!c.is_empty()).then_some(c)
    })
    .await;
    l.wait_label("kind/bug").await;
    for r in &replies {
        assert!(
            r.chars().count() <= GITHUB_MAX_BODY_CHARS,
            "bot comment of {} chars",
            r.chars().count()
        );
    }
    eprintln!(
        "comment of {} chars -> {} bot replies of {:?} chars",
        body.chars().count(),
        replies.len(),
        replies
            .iter()
            .map(|r| r.chars().count())
            .collect::<Vec<_>>()
    );
}
