//! The reconciler against the GitHub simulator and an in-memory job store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use prow_api::ProwJob;
use prow_config::{Config, JobConfig, PluginsConfig, ProwConfig};
use prow_github::{GitHub, Status};
use prow_github_fake::FakeGitHub;
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::{JobStore, ListParams};
use prow_status_reconciler::{
    Denylist, Deps, Options, Presubmits, RETIRED_DESCRIPTION, StateLocation, StatusReconciler,
};
use tokio_util::sync::CancellationToken;

/// acme/widgets with four open PRs by:
/// 1 alice (member), touches src/; 2 alice, touches docs/; 3 alice, draft; 4 mallory (outsider).
const SEED: &str = r#"
users: [{login: bot, type: Bot}, {login: alice}, {login: mallory}]
orgs: [{login: acme, members: [alice]}]
repos:
  - name: acme/widgets
    files: {README.md: "hi\n", docs/index.md: "docs\n", src/lib.rs: "//\n"}
    branches:
      release-1.0: {from: main, files: {VERSION: "1.0\n"}}
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Code, head: code, files: {src/lib.rs: "// v2\n"}}
  - {repo: acme/widgets, number: 2, author: alice, title: Docs, head: docs, files: {docs/index.md: "more docs\n"}}
  - {repo: acme/widgets, number: 3, author: alice, title: Draft, head: wip, draft: true, files: {src/wip.rs: "//\n"}}
  - {repo: acme/widgets, number: 4, author: mallory, title: Drive-by, head: driveby, files: {src/x.rs: "//\n"}}
"#;

fn config(yaml: &str) -> Arc<Config> {
    let presubmits: Presubmits = match serde_saphyr::from_str(yaml) {
        Ok(p) => p,
        Err(e) => panic!("test yaml: {e}"),
    };
    let mut jobs = JobConfig {
        presubmits,
        ..Default::default()
    };
    let _ = prow_config::validate::validate(&ProwConfig::default(), &mut jobs, "test");
    Arc::new(Config {
        jobs,
        ..Default::default()
    })
}

const UNIT: &str = r#""acme/widgets":
- name: unit
  context: unit
  always_run: true"#;

struct World {
    fake: FakeGitHub,
    store: Arc<MemoryStore>,
    current: Arc<Mutex<Arc<Config>>>,
}

impl World {
    fn new() -> Self {
        let fake = match FakeGitHub::from_seed_yaml(SEED) {
            Ok(f) => f,
            Err(e) => panic!("seed: {e}"),
        };
        World {
            fake,
            store: Arc::new(MemoryStore::new("default")),
            current: Arc::new(Mutex::new(config(UNIT))),
        }
    }

    fn deps(&self) -> Deps {
        let current = self.current.clone();
        Deps {
            github: Arc::new(self.fake.client("bot")),
            jobs: self.store.clone(),
            config: Arc::new(move || current.lock().map(|g| g.clone()).unwrap_or_default()),
            plugins: Arc::new(|| Arc::new(PluginsConfig::default())),
            clock: Arc::new(|| {
                Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
                    .single()
                    .unwrap_or_default()
            }),
        }
    }

    fn set(&self, cfg: Arc<Config>) {
        if let Ok(mut g) = self.current.lock() {
            *g = cfg;
        }
    }

    fn reconciler(&self, opts: Options) -> StatusReconciler {
        StatusReconciler::new(self.deps(), opts)
    }

    async fn jobs(&self) -> Vec<ProwJob> {
        match self.store.list(&ListParams::all()).await {
            Ok(l) => l.items,
            Err(e) => panic!("list: {e}"),
        }
    }

    /// `(pr, job)` of every stored ProwJob, sorted.
    async fn triggered(&self) -> Vec<(u64, String)> {
        let mut out: Vec<(u64, String)> = self
            .jobs()
            .await
            .iter()
            .map(|j| {
                let pr = j
                    .spec
                    .refs
                    .as_ref()
                    .and_then(|r| r.pulls.first())
                    .map_or(0, |p| p.number);
                (pr, j.spec.job.clone())
            })
            .collect();
        out.sort();
        out
    }

    fn head(&self, pr: u64) -> String {
        match self.fake.pull_request("acme", "widgets", pr) {
            Some(p) => p.head.sha,
            None => panic!("no PR {pr}"),
        }
    }

    async fn set_status(&self, pr: u64, context: &str, state: &str) {
        let status = Status {
            state: state.into(),
            target_url: Some(format!("https://prow.example.com/view/{context}/{pr}")),
            description: Some(format!("Job {state}.")),
            context: context.into(),
        };
        if let Err(e) = self
            .fake
            .client("bot")
            .create_status("acme", "widgets", &self.head(pr), &status)
            .await
        {
            panic!("status: {e}");
        }
    }

    /// The latest status of `context` on the PR's head: (state, description, target_url).
    fn status(&self, pr: u64, context: &str) -> Option<(String, String, String)> {
        self.fake
            .statuses("acme", "widgets", &self.head(pr))
            .into_iter()
            .rev()
            .find(|s| s.context == context)
            .map(|s| {
                (
                    s.state,
                    s.description.unwrap_or_default(),
                    s.target_url.unwrap_or_default(),
                )
            })
    }
}

/// A reconciler that has already recorded `UNIT` as its baseline.
async fn primed(w: &World, opts: Options) -> StatusReconciler {
    let mut r = w.reconciler(opts);
    match r.observe(config(UNIT)).await {
        Ok(None) => {}
        other => panic!("first observation must only record: {other:?}"),
    }
    r
}

async fn observe(r: &mut StatusReconciler, cfg: Arc<Config>) -> prow_status_reconciler::Report {
    match r.observe(cfg).await {
        Ok(Some(report)) => report,
        other => panic!("expected a reconcile: {other:?}"),
    }
}

#[tokio::test]
async fn new_required_job_is_triggered_on_trusted_ready_prs() {
    let w = World::new();
    let mut r = primed(&w, Options::default()).await;
    let new = config(&format!(
        "{UNIT}\n- name: e2e\n  context: e2e\n  always_run: true"
    ));
    let report = observe(&mut r, new).await;
    // Not on the draft (#3) nor on the outsider's PR (#4).
    assert_eq!(
        w.triggered().await,
        vec![(1, "e2e".into()), (2, "e2e".into())]
    );
    assert_eq!(report.triggered.len(), 2);

    let jobs = w.jobs().await;
    let pj = jobs.iter().find(|j| {
        j.spec
            .refs
            .as_ref()
            .and_then(|r| r.pulls.first())
            .is_some_and(|p| p.number == 1)
    });
    let Some(pj) = pj else {
        panic!("no job for #1")
    };
    let refs = pj.spec.refs.clone().unwrap_or_default();
    assert_eq!(refs.org, "acme");
    assert_eq!(refs.repo, "widgets");
    assert_eq!(refs.base_ref, "main");
    assert_eq!(
        Some(refs.base_sha.clone()),
        w.fake.branch_sha("acme", "widgets", "main")
    );
    assert_eq!(refs.pulls[0].sha, w.head(1));
    assert_eq!(refs.pulls[0].author, "alice");
    assert_eq!(pj.spec.context, "e2e");
    assert_eq!(pj.status.state, prow_api::ProwJobState::Triggered);
    let labels = pj.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get("prow.k8s.io/type").map(String::as_str),
        Some("presubmit")
    );
    assert_eq!(
        labels.get("prow.k8s.io/refs.pull").map(String::as_str),
        Some("1")
    );

    // The same config again does nothing.
    assert!(matches!(
        r.observe(config(&format!(
            "{UNIT}\n- name: e2e\n  context: e2e\n  always_run: true"
        )))
        .await,
        Ok(None)
    ));
    assert_eq!(w.jobs().await.len(), 2);
}

#[tokio::test]
async fn run_if_changed_job_only_starts_where_its_files_changed() {
    let w = World::new();
    let mut r = primed(&w, Options::default()).await;
    let new = config(&format!(
        "{UNIT}\n- name: docs-lint\n  context: docs-lint\n  run_if_changed: ^docs/\n- name: code-lint\n  context: code-lint\n  skip_if_only_changed: ^docs/"
    ));
    observe(&mut r, new).await;
    assert_eq!(
        w.triggered().await,
        vec![(1, "code-lint".into()), (2, "docs-lint".into())],
        "docs-lint only on the docs PR, code-lint not on the docs-only PR"
    );
}

#[tokio::test]
async fn branch_filters_apply() {
    let w = World::new();
    let mut r = primed(&w, Options::default()).await;
    let new = config(&format!(
        "{UNIT}\n- name: rel\n  context: rel\n  always_run: true\n  branches: [release-1.0]"
    ));
    let report = observe(&mut r, new).await;
    assert!(report.triggered.is_empty());
    assert!(w.jobs().await.is_empty());
}

#[tokio::test]
async fn ok_to_test_label_makes_an_outsider_pr_trusted() {
    let w = World::new();
    if let Err(e) = w
        .fake
        .client("alice")
        .add_labels("acme", "widgets", 4, &["ok-to-test".to_owned()])
        .await
    {
        panic!("label: {e}");
    }
    let mut r = primed(&w, Options::default()).await;
    observe(
        &mut r,
        config(&format!(
            "{UNIT}\n- name: e2e\n  context: e2e\n  always_run: true"
        )),
    )
    .await;
    assert_eq!(
        w.triggered().await,
        vec![(1, "e2e".into()), (2, "e2e".into()), (4, "e2e".into())]
    );
}

#[tokio::test]
async fn removed_context_is_retired_with_prows_text() {
    let w = World::new();
    w.set_status(1, "unit", "failure").await;
    w.set_status(3, "unit", "pending").await; // drafts are retired too
    let mut r = primed(&w, Options::default()).await;
    let report = observe(
        &mut r,
        config("\"acme/widgets\":\n- name: other\n  context: other"),
    )
    .await;
    let retired = Some((
        "success".to_owned(),
        "Context retired without replacement.".to_owned(),
        String::new(),
    ));
    assert_eq!(RETIRED_DESCRIPTION, "Context retired without replacement.");
    assert_eq!(w.status(1, "unit"), retired);
    assert_eq!(w.status(3, "unit"), retired);
    // A PR that never had the context gets none.
    assert_eq!(w.status(2, "unit"), None);
    assert_eq!(report.retired.len(), 2);
    assert!(
        w.jobs().await.is_empty(),
        "a manual job added is not triggered"
    );
}

#[tokio::test]
async fn renamed_context_is_migrated() {
    let w = World::new();
    w.set_status(1, "unit", "failure").await;
    w.set_status(2, "unit", "success").await;
    w.set_status(2, "ci/unit", "pending").await; // already has the new context: left alone
    let mut r = primed(&w, Options::default()).await;
    let report = observe(
        &mut r,
        config("\"acme/widgets\":\n- name: unit\n  context: ci/unit\n  always_run: true"),
    )
    .await;
    assert_eq!(
        w.status(1, "ci/unit"),
        Some((
            "failure".into(),
            "Job failure.".into(),
            "https://prow.example.com/view/unit/1".into()
        ))
    );
    assert_eq!(
        w.status(1, "unit"),
        Some((
            "success".into(),
            "Context retired. Status moved to \"ci/unit\".".into(),
            String::new()
        ))
    );
    assert_eq!(w.status(2, "unit").map(|s| s.0), Some("success".into()));
    assert_eq!(w.status(2, "ci/unit").map(|s| s.0), Some("pending".into()));
    assert_eq!(
        report.migrated,
        vec![("acme/widgets".into(), 1, "unit".into(), "ci/unit".into())]
    );
    assert!(w.jobs().await.is_empty(), "a migration triggers nothing");
}

#[tokio::test]
async fn state_file_survives_restarts() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let path = dir.path().join("state/status.yaml");
    let opts = Options {
        state: Some(StateLocation::File(path.clone())),
        ..Options::default()
    };
    let with_e2e = format!("{UNIT}\n- name: e2e\n  context: e2e\n  always_run: true");

    // First start without state: records, does nothing even though jobs exist.
    let w = World::new();
    let mut r = w.reconciler(opts.clone());
    assert!(matches!(r.observe(config(UNIT)).await, Ok(None)));
    assert!(path.exists(), "state written on first start");
    observe(&mut r, config(&with_e2e)).await;
    assert_eq!(w.jobs().await.len(), 2);
    drop(r);

    // Restart with the same config: nothing is triggered again.
    let mut r = w.reconciler(opts.clone());
    assert!(matches!(r.observe(config(&with_e2e)).await, Ok(None)));
    assert_eq!(w.jobs().await.len(), 2);
    drop(r);

    // The config changed while we were down: the restart acts on exactly that change.
    let mut r = w.reconciler(opts.clone());
    let report = observe(
        &mut r,
        config(&format!(
            "{with_e2e}\n- name: lint\n  context: lint\n  always_run: true"
        )),
    )
    .await;
    let mut triggered = report.triggered.clone();
    triggered.sort();
    assert_eq!(
        triggered,
        vec![
            ("acme/widgets".into(), 1, "lint".into()),
            ("acme/widgets".into(), 2, "lint".into())
        ]
    );
    assert_eq!(w.jobs().await.len(), 4);

    // The file is Prow-shaped: top-level `presubmits`.
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        text.contains("presubmits:") && text.contains("acme/widgets") && text.contains("lint"),
        "{text}"
    );
}

#[tokio::test]
async fn prow_written_state_file_is_understood() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let path = dir.path().join("status");
    // What Prow's Save() writes: the whole config, job config inlined, plenty of fields we skip.
    let prow_state = r#"
branch-protection: {}
tide:
  sync_period: 1m0s
plank:
  max_concurrency: 10
presubmits:
  acme/widgets:
  - name: unit
    context: unit
    always_run: true
    agent: kubernetes
    cluster: default
    decorate: true
    rerun_command: /test unit
    trigger: (?m)^/test( | .* )unit,?($|\s.*)
    spec:
      containers:
      - image: golang:1.22
        command: [make, test]
        resources: {}
postsubmits: {}
periodics: []
"#;
    if let Err(e) = std::fs::write(&path, prow_state) {
        panic!("write: {e}");
    }
    let w = World::new();
    let mut r = w.reconciler(Options {
        state: Some(StateLocation::File(path.clone())),
        ..Options::default()
    });
    let report = observe(
        &mut r,
        config(&format!(
            "{UNIT}\n- name: e2e\n  context: e2e\n  always_run: true"
        )),
    )
    .await;
    assert_eq!(
        report.triggered.len(),
        2,
        "compared against Prow's stored config"
    );
}

#[tokio::test]
async fn corrupt_state_counts_as_none() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let path = dir.path().join("status");
    let _ = std::fs::write(&path, "presubmits: [not, a, map");
    let w = World::new();
    let mut r = w.reconciler(Options {
        state: Some(StateLocation::File(path.clone())),
        ..Options::default()
    });
    assert!(matches!(r.observe(config(UNIT)).await, Ok(None)));
    assert!(w.jobs().await.is_empty());
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(text.contains("unit"), "state rewritten: {text}");
}

#[tokio::test]
async fn dry_run_reports_but_changes_nothing() {
    let w = World::new();
    w.set_status(1, "unit", "failure").await;
    let mut r = primed(
        &w,
        Options {
            dry_run: true,
            ..Options::default()
        },
    )
    .await;
    let report = observe(
        &mut r,
        config("\"acme/widgets\":\n- name: e2e\n  context: e2e\n  always_run: true"),
    )
    .await;
    assert_eq!(report.triggered.len(), 2);
    assert_eq!(report.retired.len(), 1);
    assert!(w.jobs().await.is_empty());
    assert_eq!(w.status(1, "unit").map(|s| s.0), Some("failure".into()));
}

#[tokio::test]
async fn denylists_are_honoured() {
    let w = World::new();
    w.set_status(1, "unit", "failure").await;
    let mut r = primed(
        &w,
        Options {
            denylist: Denylist::new(["acme"], Vec::<String>::new()),
            ..Options::default()
        },
    )
    .await;
    let new = "\"acme/widgets\":\n- name: e2e\n  context: e2e\n  always_run: true";
    let report = observe(&mut r, config(new)).await;
    assert!(w.jobs().await.is_empty(), "--denylist stops triggering");
    assert_eq!(report.retired.len(), 1, "... but not retiring");

    let w = World::new();
    w.set_status(1, "unit", "failure").await;
    let mut r = primed(
        &w,
        Options {
            denylist: Denylist::new(Vec::<String>::new(), ["acme/widgets"]),
            ..Options::default()
        },
    )
    .await;
    assert!(matches!(r.observe(config(new)).await, Ok(Some(rep)) if rep == Default::default()));
    assert!(w.jobs().await.is_empty());
    assert_eq!(w.status(1, "unit").map(|s| s.0), Some("failure".into()));
}

#[tokio::test]
async fn continue_on_error_keeps_going_past_a_failing_repo() {
    // "acme/absent" sorts before "acme/widgets" and does not exist on GitHub.
    let old = format!("{UNIT}\n\"acme/absent\":\n- name: a\n  context: a\n  always_run: true");
    let new = format!(
        "{UNIT}\n- name: e2e\n  context: e2e\n  always_run: true\n\"acme/absent\":\n- name: a\n  context: a\n  always_run: true\n- name: b\n  context: b\n  always_run: true"
    );

    let w = World::new();
    let mut r = w.reconciler(Options::default());
    assert!(matches!(r.observe(config(&old)).await, Ok(None)));
    assert!(r.observe(config(&new)).await.is_err());
    assert!(w.jobs().await.is_empty(), "stopped at the first failure");

    let w = World::new();
    let mut r = w.reconciler(Options {
        continue_on_error: true,
        ..Options::default()
    });
    assert!(matches!(r.observe(config(&old)).await, Ok(None)));
    let err = r
        .observe(config(&new))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("acme/absent"), "{err}");
    assert_eq!(
        w.triggered().await,
        vec![(1, "e2e".into()), (2, "e2e".into())]
    );
}

#[tokio::test]
async fn loop_wakes_on_config_change() {
    let w = World::new();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let opts = Options {
        poll_interval: Duration::from_millis(10),
        state: Some(StateLocation::File(dir.path().join("status"))),
        ..Options::default()
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(w.reconciler(opts).run(shutdown.clone()));
    // Wait for the baseline to be recorded before changing the config.
    wait_for(|| dir.path().join("status").exists()).await;
    w.set(config(&format!(
        "{UNIT}\n- name: e2e\n  context: e2e\n  always_run: true"
    )));
    let store = w.store.clone();
    let mut found = 0;
    for _ in 0..1000 {
        found = store
            .list(&ListParams::all())
            .await
            .map(|l| l.items.len())
            .unwrap_or(0);
        if found == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    let _ = task.await;
    assert_eq!(found, 2);
}

async fn wait_for(cond: impl Fn() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition never became true");
}

#[tokio::test]
async fn state_in_a_bucket_object_survives_restarts() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    // file:// goes through the same storage layer as gs:// and s3://.
    let url = format!("file://{}/status-reconciler-status", dir.path().display());
    let location = match StateLocation::parse(&url, &prow_storage::Credentials::default()) {
        Ok(Some(l)) => l,
        other => panic!("location: {other:?}"),
    };
    let opts = Options {
        state: Some(location.clone()),
        ..Options::default()
    };
    let with_e2e = format!("{UNIT}\n- name: e2e\n  context: e2e\n  always_run: true");
    let w = World::new();
    let mut r = w.reconciler(opts.clone());
    assert!(matches!(r.observe(config(UNIT)).await, Ok(None)));
    assert!(matches!(location.load().await, Ok(Some(_))), "state stored");
    observe(&mut r, config(&with_e2e)).await;
    drop(r);
    let mut r = w.reconciler(opts);
    assert!(matches!(r.observe(config(&with_e2e)).await, Ok(None)));
    assert_eq!(w.jobs().await.len(), 2);
}
