//! Reporting and merging end to end, over HTTP only: `prow local` (hook + plugins, plank with the
//! local executor, crier, tide) against its in-process GitHub simulator, driven as users would
//! drive GitHub (comments and labels with their own tokens).
//!
//! - a PR with `lgtm` + `approved` whose required job passed is merged by Tide (the simulator
//!   shows it merged and the base branch moved);
//! - a PR with `do-not-merge/hold` is not, and its `tide` status says why;
//! - a failed required job gets a failure status and the one failure-table comment; `/retest`
//!   re-runs it and the comment is updated, never duplicated;
//! - two PRs that become ready at once are tested as one batch job and merged together.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const SEED: &str = r#"
users:
  - {login: prow-bot, token: t-bot, type: Bot}
  - {login: alice, token: t-alice}
  - {login: bob, token: t-bob}
  - {login: carol, token: t-carol}
orgs:
  - {login: acme, members: [alice, bob, carol]}
repos:
  - name: acme/widgets
    labels: [lgtm, approved, do-not-merge/hold]
    files:
      OWNERS: "approvers:\n- alice\nreviewers:\n- bob\n"
      README.md: "widgets\n"
pull_requests:
  - {repo: acme/widgets, number: 1, author: carol, title: Ready, head: ready, files: {one.txt: "1\n"}}
  - {repo: acme/widgets, number: 2, author: carol, title: Held, head: held, files: {two.txt: "2\n"}}
  - {repo: acme/widgets, number: 3, author: carol, title: Flaky, head: flaky, files: {flaky.txt: "3\n"}}
  - {repo: acme/widgets, number: 4, author: carol, title: Batch A, head: batch-a, files: {four.txt: "4\n"}}
  - {repo: acme/widgets, number: 5, author: carol, title: Batch B, head: batch-b, files: {five.txt: "5\n"}}
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
tide:
  sync_period: 2s
  status_update_period: 2s
  queries:
  - repos: [acme/widgets]
    labels: [lgtm, approved]
    missingLabels: [do-not-merge/hold]
github_reporter:
  job_types_to_report: [presubmit, postsubmit]
"#;

const PLUGINS: &str = r#"
plugins:
  acme:
    plugins: [trigger, lgtm, approve, hold]
triggers:
- repos: [acme]
"#;

/// `pull-unit` is required and fails on the flaky PR until the test creates the marker file;
/// `pull-lint` is optional and always fails there, so the failure table keeps a row.
fn jobs(marker: &Path) -> String {
    format!(
        r#"
presubmits:
  acme/widgets:
  - name: pull-unit
    always_run: true
    decorate: true
    spec:
      containers:
      - image: alpine
        command: [sh, -c, "if [ -e flaky.txt ] && [ ! -e '{m}' ]; then echo flake; exit 1; fi; echo ok"]
  - name: pull-lint
    always_run: true
    optional: true
    decorate: true
    spec:
      containers:
      - image: alpine
        command: [sh, -c, "if [ -e flaky.txt ]; then echo lint failed; exit 1; fi; echo clean"]
"#,
        m = marker.display()
    )
}

struct Local {
    dir: tempfile::TempDir,
    base: String,
    http: reqwest::Client,
}

impl Local {
    fn api(&self, path: &str) -> String {
        format!("{}/fake-github{path}", self.base)
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(self.api(path))
            .header("Authorization", "token t-alice")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn comment(&self, pr: u64, who: &str, body: &str) {
        let r = self
            .http
            .post(self.api(&format!("/repos/acme/widgets/issues/{pr}/comments")))
            .header("Authorization", format!("token t-{who}"))
            .json(&json!({ "body": body }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "comment {body:?} on #{pr}");
    }

    async fn add_labels(&self, pr: u64, labels: &[&str]) {
        let r = self
            .http
            .post(self.api(&format!("/repos/acme/widgets/issues/{pr}/labels")))
            .header("Authorization", "token t-alice")
            .json(&json!({ "labels": labels }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "labels on #{pr}: {}", r.status());
    }

    async fn pr(&self, n: u64) -> Value {
        self.get(&format!("/repos/acme/widgets/pulls/{n}")).await
    }

    async fn main_sha(&self) -> String {
        self.get("/repos/acme/widgets/git/refs/heads/main").await["object"]["sha"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Latest status per context on the PR's head.
    async fn statuses(&self, n: u64) -> Vec<Value> {
        let sha = self.pr(n).await["head"]["sha"].as_str().unwrap().to_owned();
        let v = self
            .get(&format!("/repos/acme/widgets/commits/{sha}/status"))
            .await;
        v["statuses"].as_array().cloned().unwrap_or_default()
    }

    async fn status(&self, n: u64, context: &str) -> Option<(String, String)> {
        self.statuses(n).await.into_iter().find_map(|s| {
            (s["context"] == context).then(|| {
                (
                    s["state"].as_str().unwrap_or_default().to_owned(),
                    s["description"].as_str().unwrap_or_default().to_owned(),
                )
            })
        })
    }

    async fn report_comments(&self, n: u64) -> Vec<String> {
        let v = self
            .get(&format!("/repos/acme/widgets/issues/{n}/comments"))
            .await;
        v.as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c["body"].as_str().map(str::to_owned))
            .filter(|b| b.contains("<!-- test report -->"))
            .collect()
    }

    async fn jobs(&self) -> Vec<prow_api::ProwJob> {
        let v: Value = match self
            .http
            .get(format!("{}/prowjobs.js", self.base))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => return Vec::new(),
        };
        serde_json::from_value(v["items"].clone()).unwrap_or_default()
    }

    async fn wait_merged(&self, n: u64) -> Value {
        eventually(
            &format!("#{n} merged"),
            Duration::from_secs(120),
            || async {
                let pr = self.pr(n).await;
                (pr["merged"] == true).then_some(pr)
            },
        )
        .await
    }

    async fn wait_status(&self, n: u64, context: &str, state: &str) -> String {
        eventually(
            &format!("#{n} {context} = {state}"),
            Duration::from_secs(120),
            || async {
                self.status(n, context)
                    .await
                    .filter(|(s, _)| s == state)
                    .map(|(_, d)| d)
            },
        )
        .await
    }
}

fn setup() -> (Local, Vec<String>, String) {
    // Not under /tmp: the job sandbox mounts a private /tmp, and the jobs read the marker file.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = dir.path();
    std::fs::write(d.join("seed.yaml"), SEED).unwrap();
    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/jobs.yaml"), jobs(&d.join("marker"))).unwrap();
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
        "--max-parallel=8".into(),
    ];
    let ready = format!("http://127.0.0.1:{ph}/healthz/ready");
    (
        Local {
            dir,
            base: format!("http://127.0.0.1:{p}"),
            http: reqwest::Client::new(),
        },
        args,
        ready,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tide_merges_ready_prs_and_crier_reports() {
    let (l, args, ready) = setup();
    let _p = spawn("local", l.dir.path(), &args);
    wait_ok(&ready, &l.dir.path().join("local.log")).await;
    let base0 = l.main_sha().await;

    // Everyone's presubmits run once; 1, 2, 4 and 5 pass; 3 fails its required job.
    for n in 1..=5 {
        l.comment(n, "alice", "/test all").await;
    }
    for n in [1, 2, 4, 5] {
        l.wait_status(n, "pull-unit", "success").await;
    }
    let desc = l.wait_status(3, "pull-unit", "failure").await;
    assert!(
        desc.contains(" BaseSHA:"),
        "crier's description carries the base SHA Tide reads: {desc:?}"
    );
    let comments = eventually(
        "one failure table on #3",
        Duration::from_secs(60),
        || async {
            let c = l.report_comments(3).await;
            (c.len() == 1 && c[0].contains("pull-unit") && c[0].contains("pull-lint")).then_some(c)
        },
    )
    .await;
    assert!(
        comments[0].contains("The following test")
            && comments[0].contains("**failed**")
            && comments[0].contains("/test pull-unit"),
        "failure table: {}",
        comments[0]
    );

    // #1 gets lgtm (reviewer) and approved (approver) through the plugins, then merges.
    l.comment(1, "bob", "/lgtm").await;
    l.comment(1, "alice", "/approve").await;
    let merged = l.wait_merged(1).await;
    assert_eq!(merged["state"], "closed");
    let base1 = l.main_sha().await;
    assert_ne!(base1, base0, "main moved when #1 merged");
    let tree = l
        .get(&format!("/repos/acme/widgets/contents/one.txt?ref={base1}"))
        .await;
    assert_eq!(tree["name"], "one.txt", "#1's change is on main");

    // #2 is held: ready otherwise, but Tide leaves it and says why.
    l.comment(2, "alice", "/hold").await;
    l.add_labels(2, &["lgtm", "approved"]).await;
    let why = l.wait_status(2, "tide", "pending").await;
    assert!(
        why.starts_with("Not mergeable."),
        "tide status on #2: {why:?}"
    );

    // #3: fix the flake and /retest; the report comment is edited, never duplicated.
    std::fs::write(l.dir.path().join("marker"), "go").unwrap();
    l.comment(3, "alice", "/retest").await;
    l.wait_status(3, "pull-unit", "success").await;
    let after = eventually(
        "failure table updated on #3",
        Duration::from_secs(60),
        || async {
            let c = l.report_comments(3).await;
            (c.len() == 1 && !c[0].contains("pull-unit |")).then_some(c)
        },
    )
    .await;
    assert!(
        after[0].contains("pull-lint"),
        "optional failure stays: {}",
        after[0]
    );

    // #4 and #5 passed against the old base; made ready together they are tested as one batch
    // on the new base and merged together.
    l.add_labels(4, &["lgtm", "approved"]).await;
    l.add_labels(5, &["lgtm", "approved"]).await;
    l.wait_merged(4).await;
    l.wait_merged(5).await;
    let batch = l
        .jobs()
        .await
        .into_iter()
        .find(|j| j.spec.job_type == Some(prow_api::ProwJobType::Batch))
        .expect("a batch ProwJob exists");
    let mut pulls: Vec<u64> = batch
        .spec
        .refs
        .as_ref()
        .map(|r| r.pulls.iter().map(|p| p.number).collect())
        .unwrap_or_default();
    pulls.sort();
    assert_eq!(pulls, vec![4, 5], "the batch tested both PRs");
    assert_eq!(batch.label("created-by-tide"), Some("true"));
    assert_eq!(batch.status.state.as_str(), "success");

    // The held PR never merged.
    assert_eq!(l.pr(2).await["merged"], false);
}
