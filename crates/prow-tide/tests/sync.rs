//! Tide end to end against the GitHub simulator (GraphQL search, REST merges and statuses, real
//! git) and an in-memory job store: trigger, batch, merge, hold, `/` and `/history`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use prow_api::{ProwJob, ProwJobState, ProwJobType};
use prow_github::{GitHub, Status};
use prow_github_fake::{FakeGitHub, NewPullRequest};
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::{JobStore, ListParams};
use prow_tide::{Tide, TideDeps, TideOptions};

const SEED: &str = r#"
users:
  - {login: prow-bot, type: Bot}
  - {login: alice}
  - {login: bob}
orgs:
  - {login: acme, members: [alice, bob]}
repos:
  - name: acme/widgets
    labels: [lgtm, approved, do-not-merge/hold]
    files: {README.md: "hi\n"}
"#;

const CONFIG: &str = r#"
tide:
  queries:
  - repos: [acme/widgets]
    labels: [lgtm, approved]
    missingLabels: [do-not-merge/hold]
  merge_method:
    acme/widgets: squash
  merge_commit_template:
    acme/widgets:
      title: "{{ .Title }} (#{{ .Number }})"
presubmits:
  acme/widgets:
  - name: unit
    always_run: true
    spec:
      containers:
      - image: alpine
"#;

struct World {
    fake: FakeGitHub,
    registry: prometheus::Registry,
    store: Arc<MemoryStore>,
    tide: Tide,
    _dir: tempfile::TempDir,
}

fn world_with(config: &str, clone: bool) -> World {
    world_seeded(SEED, config, clone)
}

fn world_seeded(seed: &str, config: &str, clone: bool) -> World {
    world_opts(seed, config, clone, false)
}

fn world_opts(seed: &str, config: &str, clone: bool, dry_run: bool) -> World {
    let fake = FakeGitHub::from_seed_yaml(seed).unwrap_or_else(|e| panic!("seed: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).unwrap_or_else(|e| panic!("{e}"));
    let cfg = prow_config::load(&prow_config::LoadOptions {
        config_path: path,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("config: {e}"));
    let cfg = Arc::new(cfg);
    let store = Arc::new(MemoryStore::default());
    let github: Arc<dyn GitHub> = Arc::new(fake.client("prow-bot"));
    let f2 = fake.clone();
    let opts = TideOptions {
        dry_run,
        sleep: Arc::new(|_| Box::pin(async {})),
        history_path: Some(dir.path().join("history.json")),
        status_path: Some(dir.path().join("status.json")),
        clone_source: clone.then(|| {
            Arc::new(move |o: &str, r: &str| f2.git_dir(o, r).map(|p| p.display().to_string()))
                as prow_tide::gitbatch::CloneSource
        }),
        ..Default::default()
    };
    let registry = prometheus::Registry::new();
    let tide = Tide::new(
        TideDeps {
            github,
            store: store.clone(),
            config: Arc::new(move || cfg.clone()),
            registry: registry.clone(),
        },
        opts,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    World {
        fake,
        registry,
        store,
        tide,
        _dir: dir,
    }
}

impl World {
    fn open(&self, author: &str, head: &str, file: &str) -> (u64, String) {
        let mut files = BTreeMap::new();
        files.insert(file.to_owned(), Some(format!("{head}\n")));
        let n = self
            .fake
            .open_pull_request(
                author,
                "acme",
                "widgets",
                NewPullRequest {
                    title: format!("Change {head}"),
                    body: String::new(),
                    base: "main".into(),
                    head: head.into(),
                    draft: false,
                    files,
                },
            )
            .unwrap_or_else(|e| panic!("open: {e}"));
        let sha = self
            .fake
            .pull_request("acme", "widgets", n)
            .map(|p| p.head.sha)
            .unwrap_or_default();
        (n, sha)
    }

    async fn label(&self, n: u64, labels: &[&str]) {
        let l: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        self.fake
            .client("prow-bot")
            .add_labels("acme", "widgets", n, &l)
            .await
            .unwrap_or_else(|e| panic!("label: {e}"));
    }

    async fn status(&self, sha: &str, ctx: &str, state: &str, desc: &str) {
        self.fake
            .client("prow-bot")
            .create_status(
                "acme",
                "widgets",
                sha,
                &Status {
                    state: state.into(),
                    target_url: None,
                    description: Some(desc.into()),
                    context: ctx.into(),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("status: {e}"));
    }

    async fn jobs(&self) -> Vec<ProwJob> {
        self.store
            .list(&ListParams::all())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
    }

    /// Plays plank + crier: every job finishes with `state`, and reports its context with the
    /// base SHA suffix.
    async fn finish_all(&self, state: ProwJobState) {
        for mut j in self.jobs().await {
            if j.complete() {
                continue;
            }
            j.status.state = state;
            j.status.completion_time = Some(chrono::Utc::now());
            let refs = j.spec.refs.clone().unwrap_or_default();
            for p in &refs.pulls {
                let gh_state = if state == ProwJobState::Success {
                    "success"
                } else {
                    "failure"
                };
                self.status(
                    &p.sha,
                    &j.spec.context,
                    gh_state,
                    &format!("Job done. BaseSHA:{}", refs.base_sha),
                )
                .await;
            }
            self.store
                .update_status(j)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    fn main_sha(&self) -> String {
        self.fake
            .branch_sha("acme", "widgets", "main")
            .unwrap_or_default()
    }

    fn merged(&self, n: u64) -> bool {
        self.fake
            .pull_request("acme", "widgets", n)
            .is_some_and(|p| p.merged)
    }
}

async fn sync(w: &World) {
    tokio::time::timeout(Duration::from_secs(60), w.tide.sync())
        .await
        .unwrap_or_else(|_| panic!("sync hung"))
        .unwrap_or_else(|e| panic!("sync: {e}"));
}

#[tokio::test]
async fn missing_job_is_triggered_then_pr_merges() {
    let w = world_with(CONFIG, false);
    let (n, sha) = w.open("alice", "fix", "src/fix.txt");
    w.label(n, &["lgtm", "approved"]).await;
    // An old result without a base SHA: the context exists but does not count for this base.
    w.status(&sha, "unit", "success", "Job succeeded.").await;

    sync(&w).await;
    let jobs = w.jobs().await;
    assert_eq!(jobs.len(), 1, "one presubmit triggered");
    let j = &jobs[0];
    assert_eq!(j.spec.job_type, Some(ProwJobType::Presubmit));
    assert_eq!(j.spec.job, "unit");
    assert_eq!(j.label("created-by-tide"), Some("true"));
    let refs = j.spec.refs.clone().unwrap_or_default();
    assert_eq!(refs.base_sha, w.main_sha());
    assert_eq!(
        refs.pulls
            .iter()
            .map(|p| (p.number, p.sha.clone()))
            .collect::<Vec<_>>(),
        vec![(n, sha.clone())]
    );
    let pools = w.tide.pools_json();
    assert_eq!(pools[0]["Action"], "TRIGGER");
    assert_eq!(pools[0]["MissingPRs"][0]["Number"], n);

    // Same state again: the job is pending now, so Tide waits instead of re-triggering.
    sync(&w).await;
    assert_eq!(w.jobs().await.len(), 1);
    assert_eq!(w.tide.pools_json()[0]["Action"], "WAIT");
    assert_eq!(w.tide.pools_json()[0]["PendingPRs"][0]["Number"], n);

    let before = w.main_sha();
    w.finish_all(ProwJobState::Success).await;
    sync(&w).await;
    assert!(w.merged(n), "PR merged");
    assert_ne!(w.main_sha(), before, "base branch moved");
    let pools = w.tide.pools_json();
    assert_eq!(pools[0]["Action"], "MERGE");
    assert_eq!(pools[0]["Error"], "");
    // The merge used the configured squash method and title template: one new commit on main
    // whose parent is the old tip.
    let head = w
        .fake
        .client("prow-bot")
        .get_single_commit("acme", "widgets", &w.main_sha())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        head.commit
            .message
            .starts_with(&format!("Change fix (#{n})")),
        "{}",
        head.commit.message
    );
    assert_eq!(head.parents.len(), 1, "squash, not a merge commit");
    assert_eq!(head.parents[0].sha, before);
    let tide_statuses = w.fake.statuses("acme", "widgets", &sha);
    assert!(
        tide_statuses
            .iter()
            .any(|s| s.context == "tide" && s.state == "success"),
        "tide context set to success before merging"
    );

    let hist = w.tide.history_json();
    let recs = hist["acme/widgets:main"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let actions: Vec<&str> = recs.iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(
        actions,
        vec!["MERGE", "TRIGGER"],
        "newest first; WAIT not recorded"
    );
    assert_eq!(recs[1]["target"][0]["number"], n);
    assert_eq!(recs[1]["target"][0]["sha"], sha.as_str());
    assert!(recs[1]["baseSHA"].as_str().is_some_and(|s| s.len() == 40));
}

#[tokio::test]
async fn held_pr_is_not_merged_and_status_says_why() {
    let w = world_with(CONFIG, false);
    let (n, sha) = w.open("alice", "held", "src/held.txt");
    w.label(n, &["lgtm", "approved", "do-not-merge/hold"]).await;
    w.status(&sha, "unit", "success", "Job succeeded.").await;
    sync(&w).await;
    assert!(w.jobs().await.is_empty());
    assert_eq!(w.tide.pools_json(), serde_json::json!([]));
    w.tide.sync_status().await.unwrap_or_else(|e| panic!("{e}"));
    let tide: Vec<_> = w
        .fake
        .statuses("acme", "widgets", &sha)
        .into_iter()
        .filter(|s| s.context == "tide")
        .collect();
    assert_eq!(tide.len(), 1);
    assert_eq!(tide[0].state, "pending");
    assert_eq!(
        tide[0].description.as_deref(),
        Some("Not mergeable. Should not have do-not-merge/hold label.")
    );
    assert!(!w.merged(n));
    // Unchanged state ⇒ no second write.
    w.tide.sync_status().await.unwrap_or_else(|e| panic!("{e}"));
    let count = w
        .fake
        .statuses("acme", "widgets", &sha)
        .iter()
        .filter(|s| s.context == "tide")
        .count();
    assert_eq!(count, 1, "status only written when it changes");
}

async fn batch_flow(clone: bool) {
    let w = world_with(CONFIG, clone);
    let (a, sha_a) = w.open("alice", "a", "src/a.txt");
    let (b, sha_b) = w.open("bob", "b", "src/b.txt");
    for (n, sha) in [(a, &sha_a), (b, &sha_b)] {
        w.label(n, &["lgtm", "approved"]).await;
        w.status(sha, "unit", "success", "Job succeeded.").await;
    }
    sync(&w).await;
    let jobs = w.jobs().await;
    assert_eq!(jobs.len(), 1, "one batch job");
    assert_eq!(jobs[0].spec.job_type, Some(ProwJobType::Batch));
    let pulls: Vec<u64> = jobs[0]
        .spec
        .refs
        .as_ref()
        .map(|r| r.pulls.iter().map(|p| p.number).collect())
        .unwrap_or_default();
    assert_eq!(pulls, vec![a, b]);
    assert_eq!(jobs[0].label("created-by-tide"), Some("true"));
    assert_eq!(w.tide.pools_json()[0]["Action"], "TRIGGER_BATCH");

    // While the batch runs, no second batch starts; like Prow, the serial path retests the
    // first PR meanwhile.
    sync(&w).await;
    let jobs = w.jobs().await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs.iter()
            .filter(|j| j.spec.job_type == Some(ProwJobType::Batch))
            .count(),
        1
    );
    let pool = &w.tide.pools_json()[0];
    assert_eq!(pool["BatchPending"].as_array().map(Vec::len), Some(2));
    assert_eq!(pool["Action"], "TRIGGER");
    assert_eq!(pool["Target"][0]["Number"], a);
    sync(&w).await;
    assert_eq!(w.jobs().await.len(), 2, "nothing new while both run");
    assert_eq!(w.tide.pools_json()[0]["Action"], "WAIT");

    w.finish_all(ProwJobState::Success).await;
    sync(&w).await;
    assert_eq!(w.tide.pools_json()[0]["Action"], "MERGE_BATCH");
    assert!(w.merged(a) && w.merged(b), "both merged");
    assert_eq!(w.tide.pools_json()[0]["Error"], "");
}

#[tokio::test]
async fn two_ready_prs_are_batch_tested_and_merged() {
    batch_flow(false).await;
}

#[tokio::test]
async fn batch_picking_with_git_checkout() {
    batch_flow(true).await;
}

#[tokio::test]
async fn conflicting_pr_is_left_out_of_git_batch() {
    let w = world_with(CONFIG, true);
    // a and c edit the same file differently: only one of them can be in the batch.
    let (a, sa) = w.open("alice", "a", "src/same.txt");
    let (b, sb) = w.open("bob", "b", "src/b.txt");
    let (c, sc) = w.open("bob", "c", "src/same.txt");
    for (n, sha) in [(a, &sa), (b, &sb), (c, &sc)] {
        w.label(n, &["lgtm", "approved"]).await;
        w.status(sha, "unit", "success", "Job succeeded.").await;
    }
    sync(&w).await;
    let jobs = w.jobs().await;
    assert_eq!(jobs.len(), 1);
    let pulls: Vec<u64> = jobs[0]
        .spec
        .refs
        .as_ref()
        .map(|r| r.pulls.iter().map(|p| p.number).collect())
        .unwrap_or_default();
    assert_eq!(pulls, vec![a, b], "c conflicts with a in the checkout");
}

#[tokio::test]
async fn http_shapes() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let w = world_with(CONFIG, false);
    let (n, sha) = w.open("alice", "fix", "src/fix.txt");
    w.label(n, &["lgtm", "approved"]).await;
    w.status(&sha, "unit", "success", "Job succeeded.").await;
    sync(&w).await;
    let app = prow_tide::http::router(w.tide.clone());
    let get = |path: &'static str| {
        let app = app.clone();
        async move {
            let resp = app
                .oneshot(
                    axum::http::Request::get(path)
                        .body(axum::body::Body::empty())
                        .unwrap_or_default(),
                )
                .await
                .unwrap_or_else(|e| match e {});
            assert_eq!(resp.status(), 200);
            let body = resp
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let pools = get("/").await;
    let p = &pools[0];
    for k in [
        "Org",
        "Repo",
        "Branch",
        "SuccessPRs",
        "PendingPRs",
        "MissingPRs",
        "BatchPending",
        "Action",
        "Target",
        "Blockers",
        "Error",
        "TenantIDs",
    ] {
        assert!(p.get(k).is_some(), "pool field {k}");
    }
    assert_eq!(
        (p["Org"].as_str(), p["Repo"].as_str(), p["Branch"].as_str()),
        (Some("acme"), Some("widgets"), Some("main"))
    );
    let pr = &p["Target"][0];
    for k in [
        "NameWithOwner",
        "Number",
        "Org",
        "Repo",
        "BaseRefName",
        "HeadRefName",
        "HeadRefOID",
        "Title",
        "AuthorLogin",
        "Mergeable",
        "GitHub",
    ] {
        assert!(pr.get(k).is_some(), "PR field {k}");
    }
    assert_eq!(pr["HeadRefOID"], sha.as_str());
    let labels = pr["GitHub"]["Labels"]["Nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(labels.iter().any(|l| l["Name"] == "approved"), "{labels:?}");
    assert_eq!(p["TenantIDs"], serde_json::json!([]));
    let deck = w.tide.pools_for_deck_json();
    assert_eq!(
        deck[0]["Target"][0],
        serde_json::json!({"Title": "Change fix", "Number": n, "HeadRefOID": sha, "Mergeable": "MERGEABLE"})
    );
    let hist = get("/history").await;
    let rec = &hist["acme/widgets:main"][0];
    assert_eq!(rec["action"], "TRIGGER");
    for k in ["time", "action", "baseSHA", "target", "tenantids"] {
        assert!(rec.get(k).is_some(), "history field {k}");
    }
}

#[tokio::test]
async fn blocker_issue_blocks_the_branch() {
    let seed = format!(
        "{SEED}\nissues:\n  - {{repo: acme/widgets, author: alice, title: \"Release freeze branch:main\", labels: [merge-blocker]}}\n"
    );
    let config =
        format!("{CONFIG}\n").replace("tide:\n", "tide:\n  blocker_label: merge-blocker\n");
    let w = world_seeded(&seed, &config, false);
    let (n, sha) = w.open("alice", "fix", "src/fix.txt");
    w.label(n, &["lgtm", "approved"]).await;
    w.status(&sha, "unit", "success", "Job succeeded.").await;
    sync(&w).await;
    let pool = &w.tide.pools_json()[0];
    assert_eq!(pool["Action"], "BLOCKED");
    assert_eq!(pool["Blockers"][0]["Number"], 1);
    assert_eq!(pool["Blockers"][0]["Title"], "Release freeze ");
    assert!(
        pool["Blockers"][0]["URL"]
            .as_str()
            .is_some_and(|u| u.ends_with("/acme/widgets/issues/1"))
    );
    assert!(w.jobs().await.is_empty(), "nothing triggered while blocked");
    assert!(
        w.tide
            .history_json()
            .as_object()
            .is_some_and(|m| m.is_empty()),
        "BLOCKED is not recorded"
    );
}

#[tokio::test]
async fn branch_protection_contexts_are_required() {
    let seed = SEED.replace(
        "    files: {README.md: \"hi\\n\"}\n",
        "    files: {README.md: \"hi\\n\"}\n    branch_protection:\n      main:\n        required_status_checks: {contexts: [external/ci], strict: false}\n",
    );
    assert!(seed.contains("external/ci"), "seed edit applied");
    let config = CONFIG.replace(
        "tide:\n",
        "tide:\n  context_options:\n    from-branch-protection: true\n",
    );
    let w = world_seeded(&seed, &config, false);
    let (n, sha) = w.open("alice", "fix", "src/fix.txt");
    w.label(n, &["lgtm", "approved"]).await;
    w.status(&sha, "unit", "success", "Job succeeded.").await;
    sync(&w).await;
    assert_eq!(
        w.tide.pools_json(),
        serde_json::json!([]),
        "external/ci missing ⇒ not in pool"
    );
    w.tide.sync_status().await.unwrap_or_else(|e| panic!("{e}"));
    let tide = w
        .fake
        .statuses("acme", "widgets", &sha)
        .into_iter()
        .rfind(|s| s.context == "tide");
    assert_eq!(
        tide.and_then(|s| s.description),
        Some("Not mergeable. Job external/ci has not succeeded.".to_owned())
    );
    w.status(&sha, "external/ci", "success", "ok").await;
    sync(&w).await;
    assert_eq!(w.tide.pools_json()[0]["Action"], "TRIGGER");
}

#[tokio::test]
async fn metrics_have_prow_names() {
    let w = world_with(CONFIG, false);
    let (n, sha) = w.open("alice", "fix", "src/fix.txt");
    w.label(n, &["lgtm", "approved"]).await;
    w.status(&sha, "unit", "success", "Job succeeded.").await;
    sync(&w).await;
    w.tide.sync_status().await.unwrap_or_else(|e| panic!("{e}"));
    let text = prow_runtime::render_metrics(&w.registry);
    for name in [
        "pooledprs{branch=\"main\",org=\"acme\",repo=\"widgets\"} 1",
        "tide_retests_total{action=\"TRIGGER\",branch=\"main\",org=\"acme\",repo=\"widgets\"} 1",
        "tide_pool_missing_prs{branch=\"main\",org=\"acme\",repo=\"widgets\"} 1",
        "tidequeryresults{org_shard=\"acme\",query_index=\"0\",result=\"success\"} 1",
        "tidesyncheartbeat{controller=\"sync\"} 1",
        "tidesyncheartbeat{controller=\"status-update\"} 1",
        "updatetime{",
        "syncdur ",
        "statusupdatedur ",
    ] {
        assert!(text.contains(name), "missing {name} in\n{text}");
    }
}

#[tokio::test]
async fn disallowed_merge_method_is_an_error_status() {
    let seed = SEED.replace(
        "    labels: [lgtm,",
        "    allow_squash_merge: false\n    labels: [lgtm,",
    );
    let w = world_seeded(&seed, CONFIG, false);
    let (n, sha) = w.open("alice", "fix", "src/fix.txt");
    w.label(n, &["lgtm", "approved"]).await;
    w.status(&sha, "unit", "success", "Job succeeded.").await;
    sync(&w).await;
    assert_eq!(w.tide.pools_json(), serde_json::json!([]));
    w.tide.sync_status().await.unwrap_or_else(|e| panic!("{e}"));
    let tide = w
        .fake
        .statuses("acme", "widgets", &sha)
        .into_iter()
        .rfind(|s| s.context == "tide");
    let tide = tide.unwrap_or_else(|| panic!("no tide status"));
    assert_eq!(tide.state, "error");
    assert_eq!(
        tide.description.as_deref(),
        Some("Not mergeable. Merge type \"squash\" disallowed by repo settings")
    );
}

#[tokio::test]
async fn in_pool_status_and_dry_run() {
    let w = world_with(CONFIG, false);
    let (n, sha) = w.open("alice", "fix", "src/fix.txt");
    w.label(n, &["lgtm", "approved"]).await;
    w.status(&sha, "unit", "success", "Job succeeded.").await;
    sync(&w).await;
    w.tide.sync_status().await.unwrap_or_else(|e| panic!("{e}"));
    let tide = w
        .fake
        .statuses("acme", "widgets", &sha)
        .into_iter()
        .rfind(|s| s.context == "tide");
    assert_eq!(
        tide.map(|s| (s.state, s.description.unwrap_or_default())),
        Some((
            "pending".to_owned(),
            "Not mergeable. Retesting: unit".to_owned()
        )),
        "in the pool, but the required job has not passed on the current base"
    );

    let dry = world_opts(SEED, CONFIG, false, true);
    let (n, sha) = dry.open("alice", "fix", "src/fix.txt");
    dry.label(n, &["lgtm", "approved"]).await;
    dry.status(&sha, "unit", "success", "Job succeeded.").await;
    sync(&dry).await;
    dry.tide
        .sync_status()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        dry.tide.pools_json()[0]["Action"],
        "TRIGGER",
        "decides as usual"
    );
    assert!(dry.jobs().await.is_empty(), "dry-run creates no job");
    assert!(
        !dry.fake
            .statuses("acme", "widgets", &sha)
            .iter()
            .any(|s| s.context == "tide"),
        "dry-run writes no status"
    );
}

#[tokio::test]
async fn queue_drains_through_the_real_sync_loop() {
    // Eight ready PRs, batches of at most three, every job passes: the real sync (search,
    // ProwJobs, merges over the simulator) drains the queue batch by batch.
    let config = CONFIG.replace(
        "tide:\n",
        "tide:\n  batch_size_limit:\n    acme/widgets: 3\n",
    );
    let w = world_with(&config, false);
    let mut prs = Vec::new();
    for i in 0..8 {
        let (n, sha) = w.open("alice", &format!("pr{i}"), &format!("src/f{i}.txt"));
        w.label(n, &["lgtm", "approved"]).await;
        w.status(&sha, "unit", "success", "Job succeeded.").await;
        prs.push(n);
    }
    let mut syncs = 0;
    while !prs.iter().all(|n| w.merged(*n)) && syncs < 40 {
        sync(&w).await;
        syncs += 1;
        w.finish_all(ProwJobState::Success).await;
    }
    assert!(
        prs.iter().all(|n| w.merged(*n)),
        "all merged after {syncs} syncs"
    );
    let jobs = w.jobs().await;
    let batches: Vec<usize> = jobs
        .iter()
        .filter(|j| j.spec.job_type == Some(ProwJobType::Batch))
        .map(|j| j.spec.refs.as_ref().map_or(0, |r| r.pulls.len()))
        .collect();
    assert!(
        batches.iter().all(|b| *b <= 3),
        "batch_size_limit respected: {batches:?}"
    );
    let hist = w.tide.history_json();
    let merges: usize = hist["acme/widgets:main"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["action"] == "MERGE_BATCH" || r["action"] == "MERGE")
                .map(|r| r["target"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or_default();
    assert_eq!(merges, 8, "history accounts for every merge");
    println!(
        "8 PRs: {syncs} syncs, {} CI runs, batches {batches:?}",
        jobs.len()
    );
}

#[tokio::test]
async fn run_loops_until_shutdown() {
    let config = CONFIG.replace("tide:\n", "tide:\n  sync_period: 200ms\n");
    let w = world_with(&config, false);
    let (n, sha) = w.open("alice", "fix", "src/fix.txt");
    w.label(n, &["lgtm", "approved"]).await;
    w.status(&sha, "unit", "success", "Job succeeded.").await;
    let cfg = {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, &config).unwrap_or_else(|e| panic!("{e}"));
        Arc::new(
            prow_config::load(&prow_config::LoadOptions {
                config_path: path,
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("{e}")),
        )
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let tide = prow_tide::run(
        TideDeps {
            github: Arc::new(w.fake.client("prow-bot")),
            store: w.store.clone(),
            config: Arc::new(move || cfg.clone()),
            registry: prometheus::Registry::new(),
        },
        TideOptions {
            sleep: Arc::new(|_| Box::pin(async {})),
            ..Default::default()
        },
        shutdown.clone(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // Poll (no timing assertion): the loop triggers the job and, once it passes, merges.
    let mut merged = false;
    for _ in 0..300 {
        w.finish_all(ProwJobState::Success).await;
        if w.merged(n) {
            merged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    assert!(merged, "the background loop merged the PR");
    assert!(
        tide.history_json()["acme/widgets:main"]
            .as_array()
            .is_some_and(|a| a.len() >= 2)
    );
}
