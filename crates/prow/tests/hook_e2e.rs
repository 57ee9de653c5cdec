//! End to end over HTTP: `prow fake-github` seeded with a repository, OWNERS and a pull request,
//! and `prow hook` pointed at it. Users act only through the simulator's REST API; the simulator
//! delivers signed webhooks to the hook; the hook's plugins act back on the simulator and create
//! ProwJobs in the SQLite job store.

mod common;

use std::time::Duration;

use common::*;

fn read_jobs(db: &std::path::Path) -> Option<Vec<prow_api::ProwJob>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    let mut st = conn
        .prepare("SELECT object FROM prowjobs ORDER BY id")
        .ok()?;
    let rows = st.query_map([], |r| r.get::<_, String>(0)).ok()?;
    rows.map(|r| serde_json::from_str(&r.ok()?).ok()).collect()
}

const SEED: &str = r#"
users:
  - {login: prow-bot, token: test-token-bot, type: Bot}
  - {login: alice, token: test-token-alice}
  - {login: bob, token: test-token-bob}
  - {login: dave, token: test-token-dave}
orgs:
  - login: acme
    members: [alice, bob]
repos:
  - name: acme/widgets
    default_branch: main
    labels: [lgtm, approved, do-not-merge/hold, needs-ok-to-test, ok-to-test]
    files:
      OWNERS: |
        approvers:
          - alice
        reviewers:
          - bob
      src/widget.go: |
        package widgets
pull_requests:
  - repo: acme/widgets
    number: 2
    author: dave
    title: Make widgets shinier
    body: This makes widgets shinier.
    base: main
    head: shiny
    files:
      src/widget.go: |
        package widgets // shiny
      docs/shiny.md: "Shiny!\n"
"#;

const CONFIG: &str = "prowjob_namespace: default\npod_namespace: test-pods\n";

const JOBS: &str = r#"
presubmits:
  acme/widgets:
  - name: pull-widgets-unit
    always_run: true
    spec: {containers: [{image: alpine, command: [sh, -c, "true"]}]}
  - name: pull-widgets-go
    run_if_changed: '\.go$'
    spec: {containers: [{image: alpine, command: [sh, -c, "true"]}]}
  - name: pull-widgets-python
    run_if_changed: '\.py$'
    spec: {containers: [{image: alpine, command: [sh, -c, "true"]}]}
  - name: pull-widgets-manual
    spec: {containers: [{image: alpine, command: [sh, -c, "true"]}]}
"#;

const PLUGINS: &str = r#"
plugins:
  acme:
    plugins: [trigger, lgtm, approve, hold, wip, label, size, assign, lifecycle, help]
triggers:
- repos: [acme]
"#;

struct World {
    dir: tempfile::TempDir,
    api: String,
    _fake: Proc,
    _hook: Proc,
}

async fn start_world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("seed.yaml"), SEED).unwrap();
    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/widgets.yaml"), JOBS).unwrap();
    std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
    std::fs::write(d.join("hmac"), "example-hmac-secret\n").unwrap();
    std::fs::write(d.join("bot-token"), "test-token-bot\n").unwrap();
    let (pf, ph, phh, pm) = (free_port(), free_port(), free_port(), free_port());
    let s = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let fake = spawn(
        "fake-github",
        d,
        &[
            "fake-github".into(),
            format!("--listen=127.0.0.1:{pf}"),
            format!("--seed={}", s(&d.join("seed.yaml"))),
            format!("--webhook-url=http://127.0.0.1:{ph}/hook"),
            format!("--hmac-secret-file={}", s(&d.join("hmac"))),
        ],
    );
    let api = format!("http://127.0.0.1:{pf}");
    wait_up(&format!("{api}/"), &d.join("fake-github.log")).await;
    let hook = spawn(
        "hook",
        d,
        &[
            "hook".into(),
            format!("--port={ph}"),
            format!("--health-port={phh}"),
            format!("--metrics-port={pm}"),
            format!("--config-path={}", s(&d.join("config.yaml"))),
            format!("--job-config-path={}", s(&d.join("jobs"))),
            format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
            format!("--hmac-secret-file={}", s(&d.join("hmac"))),
            format!("--github-endpoint={api}"),
            format!("--github-token-path={}", s(&d.join("bot-token"))),
            format!("--job-store=sqlite:{}", s(&d.join("jobs.sqlite"))),
            format!("--event-log-path={}", s(&d.join("events.sqlite"))),
            "--dry-run=false".into(),
        ],
    );
    wait_ok(
        &format!("http://127.0.0.1:{phh}/healthz/ready"),
        &d.join("hook.log"),
    )
    .await;
    World {
        dir,
        api,
        _fake: fake,
        _hook: hook,
    }
}

impl World {
    async fn comment(&self, token: &str, number: u64, body: &str) {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/repos/acme/widgets/issues/{number}/comments",
                self.api
            ))
            .header("Authorization", format!("token {token}"))
            .json(&serde_json::json!({ "body": body }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }

    async fn labels(&self, number: u64) -> Vec<String> {
        let v: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}/repos/acme/widgets/issues/{number}/labels",
                self.api
            ))
            .header("Authorization", "token test-token-alice")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn wait_label(&self, number: u64, label: &str) {
        eventually(
            &format!("label {label}"),
            Duration::from_secs(30),
            || async {
                self.labels(number)
                    .await
                    .iter()
                    .any(|l| l == label)
                    .then_some(())
            },
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_workflow_and_test_all_over_http() {
    let w = start_world().await;
    assert!(!w.labels(2).await.contains(&"lgtm".to_string()));

    // A collaborator's /lgtm → lgtm.
    w.comment("test-token-bob", 2, "/lgtm").await;
    w.wait_label(2, "lgtm").await;

    // The approver's /approve → approved (OWNERS at the root lists alice).
    w.comment("test-token-alice", 2, "/approve").await;
    w.wait_label(2, "approved").await;

    // /hold → do-not-merge/hold.
    w.comment("test-token-dave", 2, "/hold").await;
    w.wait_label(2, "do-not-merge/hold").await;

    // /test all by a trusted user → exactly the jobs spec §3.6 selects: always_run plus the
    // run_if_changed jobs whose pattern matches the PR's files; not the manual or unmatched ones.
    w.comment("test-token-alice", 2, "/test all").await;
    // The hook owns the store (single writer); read the committed objects directly, read-only.
    let db = w.dir.path().join("jobs.sqlite");
    let names = eventually(
        "ProwJobs from /test all",
        Duration::from_secs(30),
        || async {
            let items = read_jobs(&db)?;
            let mut names: Vec<String> = items.iter().map(|j| j.spec.job.clone()).collect();
            names.sort();
            (names.len() >= 2).then_some((names, items))
        },
    )
    .await;
    let (names, items) = names;
    assert_eq!(
        names,
        vec![
            "pull-widgets-go".to_string(),
            "pull-widgets-unit".to_string()
        ]
    );
    for j in &items {
        let refs = j.spec.refs.as_ref().unwrap();
        assert_eq!(
            (
                refs.org.as_str(),
                refs.repo.as_str(),
                refs.base_ref.as_str()
            ),
            ("acme", "widgets", "main")
        );
        assert_eq!(refs.pulls[0].number, 2);
        assert_eq!(refs.pulls[0].author, "dave");
        assert_eq!(j.status.state, prow_api::ProwJobState::Triggered);
        let labels = j.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["prow.k8s.io/type"], "presubmit");
        assert_eq!(labels["prow.k8s.io/refs.pull"], "2");
    }
}
