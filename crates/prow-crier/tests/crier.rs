//! crier end to end: the reporters against the GitHub simulator, a local Slack receiver and a
//! `file://` bucket, over real job stores.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prow_api::{
    DecorationConfig, GcsConfiguration, ProwJob, ProwJobState, ProwJobType, Pull, Refs,
    ReporterConfig, SlackReporterConfig, labels,
};
use prow_crier::blob::StorageResolver;
use prow_crier::github::COMMENT_TAG;
use prow_crier::slack::SlackClient;
use prow_crier::{ConfigGetter, CrierDeps, CrierOptions, Timing};
use prow_github::GitHub;
use prow_github_fake::FakeGitHub;
use prow_jobstore::JobStore;
use prow_jobstore::memory::MemoryStore;
use tokio_util::sync::CancellationToken;

mod gate;
use gate::Gate;

const SEED: &str = r#"
users: [{login: bot, type: Bot}, {login: alice}, {login: stranger}]
orgs: [{login: acme, members: [alice]}]
repos: [{name: acme/widgets, collaborators: [bot], files: {README.md: "hi\n"}}]
pull_requests: [{repo: acme/widgets, author: alice, title: Fix, head: fix, files: {README.md: "hello\n"}}]
"#;

fn fast_timing() -> Timing {
    Timing {
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        report_timeout: Duration::from_secs(30),
        rewatch_delay: Duration::from_millis(20),
    }
}

fn config(yaml: &str) -> ConfigGetter {
    let prow: prow_config::ProwConfig = serde_saphyr::from_str(yaml).expect("test config parses");
    prow_controller::controller::fixed_config(prow_config::Config {
        prow,
        ..Default::default()
    })
}

/// Polls `cond` until it holds; fails after a generous limit (a hang, not a timing assertion).
async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..1500 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

struct World {
    fake: FakeGitHub,
    head: String,
    base: String,
}

fn world() -> World {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let pr = fake.pull_request("acme", "widgets", 1).expect("PR #1");
    let base = fake.branch_sha("acme", "widgets", "main").expect("main");
    World {
        head: pr.head.sha,
        base,
        fake,
    }
}

fn job(name: &str, ty: ProwJobType, context: &str, refs: Refs) -> ProwJob {
    let mut pj = ProwJob::default();
    pj.metadata.name = Some(name.into());
    pj.metadata.namespace = Some("default".into());
    let mut l = BTreeMap::from([
        (labels::ORG.to_owned(), refs.org.clone()),
        (labels::REPO.to_owned(), refs.repo.clone()),
        (labels::IS_OPTIONAL.to_owned(), "false".to_owned()),
    ]);
    if let Some(p) = refs.pulls.first() {
        l.insert(labels::PULL.to_owned(), p.number.to_string());
    }
    pj.metadata.labels = Some(l);
    pj.spec.job = context.into();
    pj.spec.job_type = Some(ty);
    pj.spec.context = context.into();
    pj.spec.rerun_command = format!("/test {context}");
    pj.spec.report = true;
    pj.spec.refs = Some(refs);
    pj.status.state = ProwJobState::Triggered;
    pj.status.description = "Job triggered.".into();
    pj
}

fn pr_refs(w: &World) -> Refs {
    Refs {
        org: "acme".into(),
        repo: "widgets".into(),
        base_ref: "main".into(),
        base_sha: w.base.clone(),
        pulls: vec![Pull {
            number: 1,
            author: "alice".into(),
            sha: w.head.clone(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn base_refs(w: &World) -> Refs {
    Refs {
        org: "acme".into(),
        repo: "widgets".into(),
        base_ref: "main".into(),
        base_sha: w.base.clone(),
        ..Default::default()
    }
}

async fn set_state(store: &dyn JobStore, name: &str, state: ProwJobState) {
    prow_jobstore::update_status_retrying(store, name, |j| {
        j.status.state = state;
        j.status.description = format!("Job {state}.");
        j.status.url = format!("https://prow.example.com/view/{name}");
        if state.is_final() {
            j.status.completion_time = Some(chrono::Utc::now());
        }
    })
    .await
    .expect("status update");
}

async fn reported(store: &dyn JobStore, name: &str, reporter: &str) -> Option<ProwJobState> {
    store
        .get(name)
        .await
        .ok()
        .and_then(|j| j.status.prev_report_states.get(reporter).copied())
}

fn report_comments(fake: &FakeGitHub) -> Vec<prow_github::IssueComment> {
    fake.issue_comments("acme", "widgets", 1)
        .into_iter()
        .filter(|c| c.body.contains(COMMENT_TAG))
        .collect()
}

fn deps(store: Arc<dyn JobStore>, cfg: ConfigGetter) -> CrierDeps {
    CrierDeps {
        store,
        config: cfg,
        registry: prometheus::Registry::new(),
        github: None,
        slack: None,
        storage: None,
    }
}

fn spawn_crier(
    d: CrierDeps,
    opts: CrierOptions,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let token = CancellationToken::new();
    let h = tokio::spawn(prow_crier::run(d, opts, token.clone()));
    (token, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_status_and_single_failure_comment() {
    let w = world();
    let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
    let gh: Arc<dyn GitHub> = Arc::new(w.fake.client("bot"));
    let mut d = deps(
        store.clone(),
        config("plank: {report_templates: {'*': 'See {{.Spec.Job}} logs.'}}"),
    );
    d.github = Some(gh);
    let (token, handle) = spawn_crier(
        d,
        CrierOptions {
            github_workers: 3,
            timing: fast_timing(),
            ..Default::default()
        },
    );
    let fake = w.fake.clone();
    let statuses = |ctx: &str| -> Vec<prow_github::StatusEntry> {
        fake.statuses("acme", "widgets", &w.head)
            .into_iter()
            .filter(|s| s.context == ctx)
            .collect()
    };

    // Batch jobs never get a status: created first, then a sentinel proves crier moved past it.
    let mut batch_refs = pr_refs(&w);
    batch_refs.pulls.push(Pull {
        number: 2,
        sha: w.base.clone(),
        ..Default::default()
    });
    let mut batch = job("batch-1", ProwJobType::Batch, "batch-ctx", batch_refs);
    batch.status.state = ProwJobState::Success;
    store.create(batch).await.unwrap();

    // Two presubmits fail.
    for (name, ctx) in [("a-1", "pull-a"), ("b-1", "pull-b")] {
        store
            .create(job(name, ProwJobType::Presubmit, ctx, pr_refs(&w)))
            .await
            .unwrap();
    }
    eventually("pending statuses", || async {
        statuses("pull-a").len() == 1 && statuses("pull-b").len() == 1
    })
    .await;
    let pending = &statuses("pull-a")[0];
    assert_eq!(pending.state, "pending");
    set_state(store.as_ref(), "a-1", ProwJobState::Failure).await;
    eventually("a-1 reported", || async {
        reported(store.as_ref(), "a-1", "github-reporter").await == Some(ProwJobState::Failure)
    })
    .await;
    let st = statuses("pull-a");
    let failure = st.last().unwrap();
    assert_eq!(failure.state, "failure");
    assert_eq!(
        failure.target_url.as_deref(),
        Some("https://prow.example.com/view/a-1")
    );
    let desc = failure.description.clone().unwrap_or_default();
    assert!(desc.starts_with("Job failure."), "{desc:?}");
    assert!(desc.ends_with(&format!(" BaseSHA:{}", w.base)), "{desc:?}");
    let comments = report_comments(&w.fake);
    assert_eq!(comments.len(), 1);
    let body = &comments[0].body;
    assert!(
        body.starts_with("@alice: The following test **failed**"),
        "{body}"
    );
    assert!(body.contains(&format!(
        "pull-a | {} | [link](https://prow.example.com/view/a-1) | true | `/test pull-a`",
        w.head
    )));
    assert!(body.contains("\n\nSee pull-a logs.\n\n<details>"), "{body}");

    set_state(store.as_ref(), "b-1", ProwJobState::Failure).await;
    eventually("b-1 reported", || async {
        reported(store.as_ref(), "b-1", "github-reporter").await == Some(ProwJobState::Failure)
    })
    .await;
    let comments = report_comments(&w.fake);
    assert_eq!(comments.len(), 1, "a new failure replaces the comment");
    assert!(comments[0].body.contains("The following tests **failed**"));
    assert!(comments[0].body.contains("pull-a | ") && comments[0].body.contains("pull-b | "));

    // A re-run of pull-a passes: its row goes, the comment is edited in place.
    let before_id = comments[0].id;
    let mut rerun = job("a-2", ProwJobType::Presubmit, "pull-a", pr_refs(&w));
    rerun.status.state = ProwJobState::Success;
    rerun.status.completion_time = Some(chrono::Utc::now());
    rerun.status.url = "https://prow.example.com/view/a-2".into();
    store.create(rerun).await.unwrap();
    eventually("a-2 reported", || async {
        reported(store.as_ref(), "a-2", "github-reporter").await == Some(ProwJobState::Success)
    })
    .await;
    assert_eq!(statuses("pull-a").last().unwrap().state, "success");
    let comments = report_comments(&w.fake);
    assert_eq!(comments.len(), 1, "never duplicated");
    assert_eq!(comments[0].id, before_id, "edited, not re-posted");
    assert!(!comments[0].body.contains("pull-a | "));
    assert!(comments[0].body.contains("pull-b | "));
    assert!(comments[0].body.contains("The following test **failed**"));

    // pull-b passes too: nothing left to report, the comment is removed.
    let mut rerun = job("b-2", ProwJobType::Presubmit, "pull-b", pr_refs(&w));
    rerun.status.state = ProwJobState::Success;
    rerun.status.completion_time = Some(chrono::Utc::now());
    store.create(rerun).await.unwrap();
    eventually("b-2 reported", || async {
        reported(store.as_ref(), "b-2", "github-reporter").await == Some(ProwJobState::Success)
    })
    .await;
    assert!(report_comments(&w.fake).is_empty());

    // The batch job was never reported anywhere.
    assert!(statuses("batch-ctx").is_empty());
    assert!(
        w.fake
            .statuses("acme", "widgets", &w.base)
            .iter()
            .all(|s| s.context != "batch-ctx")
    );
    assert_eq!(
        reported(store.as_ref(), "batch-1", "github-reporter").await,
        None
    );

    token.cancel();
    handle.await.unwrap().unwrap();
}

#[derive(Clone, Debug)]
struct SlackPost {
    auth: String,
    form: HashMap<String, String>,
}

/// A local stand-in for Slack's `chat.postMessage`.
async fn slack_receiver() -> (String, Arc<Mutex<Vec<SlackPost>>>) {
    use axum::extract::{Form, State};
    use axum::http::HeaderMap;
    let posts: Arc<Mutex<Vec<SlackPost>>> = Arc::default();
    async fn post(
        State(p): State<Arc<Mutex<Vec<SlackPost>>>>,
        headers: HeaderMap,
        Form(form): Form<HashMap<String, String>>,
    ) -> axum::Json<serde_json::Value> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        p.lock().unwrap().push(SlackPost { auth, form });
        axum::Json(serde_json::json!({"ok": true}))
    }
    let app = axum::Router::new()
        .route("/api/chat.postMessage", axum::routing::post(post))
        .with_state(posts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/api"), posts)
}

const SLACK_CONFIG: &str = r#"
slack_reporter_configs:
  '*':
    channel: test-failures
    job_types_to_report: [postsubmit, periodic]
    job_states_to_report: [failure, error]
    report_template: 'Job {{.Spec.Job}} ended with state {{.Status.State}}.'
"#;

fn slack_client(url: &str) -> Arc<SlackClient> {
    Arc::new(SlackClient::new(
        url,
        HashMap::from([
            ("*".to_owned(), "tok-default".to_owned()),
            ("other".to_owned(), "tok-other".to_owned()),
        ]),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_posts_right_channel_and_states_only() {
    let w = world();
    let (url, posts) = slack_receiver().await;
    let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
    let mut d = deps(store.clone(), config(SLACK_CONFIG));
    d.slack = Some(slack_client(&url));
    let (token, handle) = spawn_crier(
        d,
        CrierOptions {
            slack_workers: 1,
            timing: fast_timing(),
            ..Default::default()
        },
    );

    let mk = |name: &str, ty, state| {
        let mut j = job(name, ty, name, base_refs(&w));
        j.status.state = state;
        j
    };
    // Not reported: a success, a pending job, a presubmit (type not configured).
    store
        .create(mk(
            "post-ok",
            ProwJobType::Postsubmit,
            ProwJobState::Success,
        ))
        .await
        .unwrap();
    store
        .create(mk(
            "post-running",
            ProwJobType::Postsubmit,
            ProwJobState::Pending,
        ))
        .await
        .unwrap();
    store
        .create(mk(
            "pull-failed",
            ProwJobType::Presubmit,
            ProwJobState::Failure,
        ))
        .await
        .unwrap();
    // Reported: a failed postsubmit, an errored periodic, and a presubmit whose job config names
    // a channel on another workspace.
    store
        .create(mk(
            "post-failed",
            ProwJobType::Postsubmit,
            ProwJobState::Failure,
        ))
        .await
        .unwrap();
    store
        .create(mk("peri-error", ProwJobType::Periodic, ProwJobState::Error))
        .await
        .unwrap();
    let mut own = mk("pull-own", ProwJobType::Presubmit, ProwJobState::Failure);
    own.spec.reporter_config = Some(ReporterConfig {
        slack: Some(SlackReporterConfig {
            host: "other".into(),
            channel: "team-widgets".into(),
            ..Default::default()
        }),
    });
    store.create(own).await.unwrap();

    eventually("three messages", || async {
        posts.lock().unwrap().len() >= 3
    })
    .await;
    eventually("recorded", || async {
        reported(store.as_ref(), "pull-own", "slackreporter").await == Some(ProwJobState::Failure)
    })
    .await;
    let got = posts.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "{got:?}");
    let by_text: HashMap<String, SlackPost> = got
        .into_iter()
        .map(|p| (p.form.get("text").cloned().unwrap_or_default(), p))
        .collect();
    let p = &by_text["Job post-failed ended with state failure."];
    assert_eq!(p.form["channel"], "test-failures");
    assert_eq!(p.auth, "Bearer tok-default");
    assert_eq!(p.form["username"], "prow");
    let p = &by_text["Job peri-error ended with state error."];
    assert_eq!(p.form["channel"], "test-failures");
    let p = &by_text["Job pull-own ended with state failure."];
    assert_eq!(p.form["channel"], "team-widgets");
    assert_eq!(p.auth, "Bearer tok-other");
    for n in ["post-ok", "post-running", "pull-failed"] {
        assert_eq!(
            reported(store.as_ref(), n, "slackreporter").await,
            None,
            "{n}"
        );
    }

    // A state change of a reported job is reported again; the same state is not.
    set_state(store.as_ref(), "post-ok", ProwJobState::Error).await;
    eventually("post-ok error", || async {
        posts.lock().unwrap().len() >= 4
    })
    .await;
    set_state(store.as_ref(), "post-ok", ProwJobState::Error).await;
    set_state(store.as_ref(), "post-running", ProwJobState::Failure).await;
    eventually("post-running", || async {
        posts.lock().unwrap().len() >= 5
    })
    .await;
    let texts: Vec<String> = posts
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.form["text"].clone())
        .collect();
    assert_eq!(
        texts.iter().filter(|t| t.contains("post-ok")).count(),
        1,
        "{texts:?}"
    );

    token.cancel();
    handle.await.unwrap().unwrap();
}

fn file_resolver(dir: &std::path::Path) -> StorageResolver {
    let url = format!("file://{}", dir.display());
    let store =
        prow_storage::open(&url, &prow_storage::Credentials::default()).expect("file store");
    Arc::new(move |_bucket: &str| Ok(store.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_reporter_writes_prowjob_and_missing_metadata() {
    let w = world();
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
    let mut d = deps(store.clone(), config("{}"));
    d.storage = Some(file_resolver(tmp.path()));
    let decorated = |name: &str, build: &str, state| {
        let mut j = job(name, ProwJobType::Postsubmit, name, base_refs(&w));
        j.spec.decoration_config = Some(DecorationConfig {
            gcs_configuration: Some(GcsConfiguration {
                bucket: "gs://some-bucket".into(),
                path_strategy: "explicit".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        j.status.build_id = build.into();
        j.status.state = state;
        if ProwJobState::is_final(state) {
            j.status.completion_time = Some(chrono::Utc::now());
        }
        j
    };
    let dir = |name: &str, build: &str| tmp.path().join(format!("logs/{name}/{build}"));

    // The pod utilities already wrote started.json and finished.json for this one.
    let ran = dir("post-ran", "200");
    std::fs::create_dir_all(&ran).unwrap();
    let started_by_pod_utils = "{\"timestamp\":1,\"repo-commit\":\"podutils\"}";
    let finished_by_pod_utils = "{\"timestamp\":2,\"passed\":true,\"result\":\"SUCCESS\"}";
    std::fs::write(ran.join("started.json"), started_by_pod_utils).unwrap();
    std::fs::write(ran.join("finished.json"), finished_by_pod_utils).unwrap();

    let (token, handle) = spawn_crier(
        d,
        CrierOptions {
            blob_storage_workers: 2,
            timing: fast_timing(),
            ..Default::default()
        },
    );
    // Failed before it ever started.
    store
        .create(decorated("post-broken", "100", ProwJobState::Error))
        .await
        .unwrap();
    store
        .create(decorated("post-ran", "200", ProwJobState::Pending))
        .await
        .unwrap();
    // No build ID yet: nothing to write.
    store
        .create(decorated("post-new", "", ProwJobState::Triggered))
        .await
        .unwrap();
    eventually("post-ran pending uploaded", || async {
        reported(store.as_ref(), "post-ran", "gcsreporter").await == Some(ProwJobState::Pending)
    })
    .await;
    set_state(store.as_ref(), "post-ran", ProwJobState::Success).await;
    for n in ["post-broken", "post-ran"] {
        eventually(n, || async {
            reported(store.as_ref(), n, "gcsreporter")
                .await
                .is_some_and(ProwJobState::is_final)
        })
        .await;
    }

    let broken = dir("post-broken", "100");
    let fin: serde_json::Value =
        serde_json::from_slice(&std::fs::read(broken.join("finished.json")).unwrap()).unwrap();
    assert_eq!(fin["passed"], false);
    assert_eq!(fin["result"], "error");
    assert_eq!(fin["metadata"]["uploader"], "crier");
    let pj: ProwJob =
        serde_json::from_slice(&std::fs::read(broken.join("prowjob.json")).unwrap()).unwrap();
    assert_eq!(pj.name(), "post-broken");
    assert_eq!(pj.status.state, ProwJobState::Error);
    let started: serde_json::Value =
        serde_json::from_slice(&std::fs::read(broken.join("started.json")).unwrap()).unwrap();
    assert_eq!(started["metadata"]["uploader"], "crier");

    // The pod utilities' files stand; prowjob.json follows the job.
    assert_eq!(
        std::fs::read_to_string(ran.join("started.json")).unwrap(),
        started_by_pod_utils
    );
    assert_eq!(
        std::fs::read_to_string(ran.join("finished.json")).unwrap(),
        finished_by_pod_utils
    );
    let pj: ProwJob =
        serde_json::from_slice(&std::fs::read(ran.join("prowjob.json")).unwrap()).unwrap();
    assert_eq!(pj.status.state, ProwJobState::Success);

    assert!(!tmp.path().join("logs/post-new").exists());
    assert_eq!(
        reported(store.as_ref(), "post-new", "gcsreporter").await,
        None
    );

    token.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_reports_every_state_once() {
    let w = world();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("jobs.sqlite");
    let store: Arc<dyn JobStore> = Arc::new(
        prow_jobstore::sqlite::SqliteStore::open(&db, "default")
            .await
            .unwrap(),
    );
    let gh: Arc<dyn GitHub> = Arc::new(w.fake.client("bot"));
    let start = |store: Arc<dyn JobStore>| {
        let mut d = deps(store, config("{}"));
        d.github = Some(gh.clone());
        spawn_crier(
            d,
            CrierOptions {
                github_workers: 4,
                timing: fast_timing(),
                ..Default::default()
            },
        )
    };
    const N: usize = 50;
    let names: Vec<String> = (0..N).map(|i| format!("post-{i:02}")).collect();
    let (token, handle) = start(store.clone());
    for n in &names {
        store
            .create(job(n, ProwJobType::Postsubmit, n, base_refs(&w)))
            .await
            .unwrap();
    }
    let finals: Vec<ProwJobState> = (0..N)
        .map(|i| {
            if i % 3 == 0 {
                ProwJobState::Failure
            } else {
                ProwJobState::Success
            }
        })
        .collect();
    for n in &names[..N / 2] {
        set_state(store.as_ref(), n, ProwJobState::Pending).await;
    }
    // Stop the first instance mid-burst.
    token.cancel();
    handle.await.unwrap().unwrap();
    for (i, n) in names.iter().enumerate() {
        if i >= N / 2 {
            set_state(store.as_ref(), n, ProwJobState::Pending).await;
        }
        if i % 2 == 0 {
            set_state(store.as_ref(), n, finals[i]).await;
        }
    }
    // A new process over the same store file.
    drop(store);
    let store: Arc<dyn JobStore> = Arc::new(
        prow_jobstore::sqlite::SqliteStore::open(&db, "default")
            .await
            .unwrap(),
    );
    let (token, handle) = start(store.clone());
    for (i, n) in names.iter().enumerate() {
        if i % 2 == 1 {
            set_state(store.as_ref(), n, finals[i]).await;
        }
    }
    for (i, n) in names.iter().enumerate() {
        let want = finals[i];
        eventually(n, || async {
            reported(store.as_ref(), n, "github-reporter").await == Some(want)
        })
        .await;
    }
    token.cancel();
    handle.await.unwrap().unwrap();

    // Every (job, state) reached GitHub at most once, and every final state exactly once.
    let all = w.fake.statuses("acme", "widgets", &w.base);
    for (i, n) in names.iter().enumerate() {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for s in all.iter().filter(|s| &s.context == n) {
            let d = s.description.clone().unwrap_or_default();
            let human = d
                .split(['\u{2001}', ' '])
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            *seen.entry(format!("{}/{human}", s.state)).or_default() += 1;
        }
        assert!(seen.values().all(|c| *c == 1), "{n}: {seen:?}");
        let final_key = format!(
            "{}/Job {}.",
            if finals[i] == ProwJobState::Success {
                "success"
            } else {
                "failure"
            },
            finals[i]
        );
        assert_eq!(seen.get(&final_key), Some(&1), "{n}: {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_github_retries_while_slack_reports() {
    let w = world();
    let (url, posts) = slack_receiver().await;
    let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
    let registry = prometheus::Registry::new();
    let mut d = deps(store.clone(), config(SLACK_CONFIG));
    d.registry = registry.clone();
    // "stranger" cannot push: every status write is refused.
    d.github = Some(Arc::new(w.fake.client("stranger")));
    d.slack = Some(slack_client(&url));
    let (token, handle) = spawn_crier(
        d,
        CrierOptions {
            github_workers: 1,
            slack_workers: 1,
            timing: fast_timing(),
            ..Default::default()
        },
    );
    for i in 0..3 {
        let mut j = job(
            &format!("post-{i}"),
            ProwJobType::Postsubmit,
            &format!("post-{i}"),
            base_refs(&w),
        );
        j.status.state = ProwJobState::Failure;
        store.create(j).await.unwrap();
    }
    eventually("slack got all three", || async {
        posts.lock().unwrap().len() == 3
    })
    .await;
    let errors = || {
        let text = prow_runtime::render_metrics(&registry);
        text.lines()
            .find(|l| {
                l.starts_with("crier_reporting_results{")
                    && l.contains("reporter=\"github-reporter\"")
                    && l.contains("result=\"ERROR\"")
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Each job is retried (more attempts than jobs) and never recorded as reported.
    eventually("github retries", || async { errors() >= 9.0 }).await;
    for i in 0..3 {
        let n = format!("post-{i}");
        assert_eq!(reported(store.as_ref(), &n, "github-reporter").await, None);
        assert_eq!(
            reported(store.as_ref(), &n, "slackreporter").await,
            Some(ProwJobState::Failure)
        );
    }
    assert!(w.fake.statuses("acme", "widgets", &w.base).is_empty());
    let text = prow_runtime::render_metrics(&registry);
    assert!(
        text.contains("crier_reporting_results{reporter=\"slackreporter\",result=\"SUCCESS\"} 3"),
        "{text}"
    );
    token.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_and_no_comment_repos() {
    let w = world();
    let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
    let run = |cfg: &str| {
        let mut d = deps(store.clone(), config(cfg));
        d.github = Some(Arc::new(w.fake.client("bot")));
        spawn_crier(
            d,
            CrierOptions {
                github_workers: 2,
                timing: fast_timing(),
                ..Default::default()
            },
        )
    };
    // no_comment_repos: a failure gets its status but no comment.
    let (token, handle) = run("github_reporter: {no_comment_repos: [acme/widgets]}");
    let mut failed = job("nc-1", ProwJobType::Presubmit, "pull-nc", pr_refs(&w));
    failed.status.state = ProwJobState::Failure;
    failed.status.completion_time = Some(chrono::Utc::now());
    store.create(failed).await.unwrap();
    eventually("nc-1", || async {
        reported(store.as_ref(), "nc-1", "github-reporter").await == Some(ProwJobState::Failure)
    })
    .await;
    assert!(report_comments(&w.fake).is_empty());
    assert!(
        w.fake
            .statuses("acme", "widgets", &w.head)
            .iter()
            .any(|s| s.context == "pull-nc" && s.state == "failure")
    );
    token.cancel();
    handle.await.unwrap().unwrap();

    // summary_comment_repos: once every job of the PR is done and none failed, one
    // "all tests passed" comment (the earlier failure was superseded by a later run).
    let (token, handle) = run("github_reporter: {summary_comment_repos: [acme]}");
    let mut rerun = job("nc-2", ProwJobType::Presubmit, "pull-nc", pr_refs(&w));
    rerun.status.state = ProwJobState::Success;
    rerun.status.completion_time = Some(chrono::Utc::now());
    tokio::time::sleep(Duration::from_millis(1100)).await; // newer creation second than nc-1
    store.create(rerun).await.unwrap();
    eventually("nc-2", || async {
        reported(store.as_ref(), "nc-2", "github-reporter").await == Some(ProwJobState::Success)
    })
    .await;
    let comments = report_comments(&w.fake);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0]
            .body
            .starts_with("@alice: all tests **passed!**")
    );
    token.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_are_read_once_per_job_and_process() {
    let w = world();
    let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
    let gate = Gate::open(Arc::new(w.fake.client("bot")));
    let mut d = deps(store.clone(), config("{}"));
    d.github = Some(gate.clone());
    let (token, handle) = spawn_crier(
        d,
        CrierOptions {
            github_workers: 2,
            timing: fast_timing(),
            ..Default::default()
        },
    );
    store
        .create(job(
            "post-1",
            ProwJobType::Postsubmit,
            "post-1",
            base_refs(&w),
        ))
        .await
        .unwrap();
    for state in [
        ProwJobState::Triggered,
        ProwJobState::Pending,
        ProwJobState::Success,
    ] {
        if state != ProwJobState::Triggered {
            set_state(store.as_ref(), "post-1", state).await;
        }
        eventually(&format!("{state} reported"), || async {
            reported(store.as_ref(), "post-1", "github-reporter").await == Some(state)
        })
        .await;
    }
    token.cancel();
    handle.await.unwrap().unwrap();
    let states: Vec<String> = w
        .fake
        .status_history("acme", "widgets")
        .into_iter()
        .map(|(_, s)| s.state)
        .collect();
    assert_eq!(states, ["pending", "pending", "success"]);
    assert_eq!(gate.writes(), 3);
    assert_eq!(gate.reads(), 1, "only the first report of the job reads");
}

/// A random number, different per run (no RNG dependency needed).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish()
}

/// The first crier process dies (its runtime is shut down, its tasks dropped wherever they
/// were) during a burst of completions, after some of its final-state writes landed on GitHub
/// but before it recorded them; a second process over the same store finishes the job. Every
/// status reaches GitHub exactly once and the failure comment is neither duplicated nor lost.
#[test]
fn killed_mid_status_write_every_state_reaches_github_once() {
    let seed = random_u64();
    // Final statuses the first process may finish: a few, and fewer than the 50 it would write
    // if it lived, so one surely hangs.
    let limit = 3 + (seed % 40) as usize;
    crash_test(seed, limit, usize::MAX);
}

/// As above, but the first process dies after a failure-comment write (create, edit or delete)
/// landed: the repeated report must not post the failure again.
#[test]
fn killed_mid_comment_write_posts_each_failure_once() {
    let seed = random_u64();
    // Five failures make at least nine comment writes (five creates, four deletes).
    let limit = (seed % 5) as usize;
    crash_test(seed, usize::MAX, limit);
}

fn crash_test(seed: u64, status_limit: usize, comment_limit: usize) {
    let main_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    main_rt.block_on(killed_mid_report(seed, status_limit, comment_limit));
}

async fn killed_mid_report(seed: u64, status_limit: usize, comment_limit: usize) {
    const JOBS: usize = 50;
    let extra_micros = (seed >> 8) % 5000;
    eprintln!(
        "seed {seed}: final statuses return up to #{status_limit}, comment writes up to \
         #{comment_limit}; kill {extra_micros}µs after the first hang"
    );

    let w = world();
    // Every comment GitHub accepted, whether or not the writer lived to hear back.
    let mut deliveries = w.fake.subscribe();
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn JobStore> = Arc::new(
        prow_jobstore::sqlite::SqliteStore::open(&tmp.path().join("jobs.sqlite"), "default")
            .await
            .unwrap(),
    );
    let opts = || CrierOptions {
        github_workers: 4,
        timing: fast_timing(),
        ..Default::default()
    };

    // The first process, on its own runtime in its own thread.
    let gate1 = Gate::new(Arc::new(w.fake.client("bot")), status_limit, comment_limit);
    let (kill_tx, kill_rx) = std::sync::mpsc::channel::<()>();
    let first = {
        let mut d = deps(store.clone(), config("{}"));
        d.github = Some(gate1.clone());
        let opts = opts();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.spawn(prow_crier::run(d, opts, CancellationToken::new()));
            let _ = kill_rx.recv();
            // Drops every task at its next await (a write already handed to GitHub completes,
            // as a sent request would): nothing of this process runs afterwards.
            rt.shutdown_timeout(Duration::from_secs(30));
        })
    };

    // Every fifth job is a presubmit of the pull request; a third of the postsubmits and half
    // of the presubmits fail.
    let jobs: Vec<(String, ProwJobType, ProwJobState)> = (0..JOBS)
        .map(|i| {
            let (name, ty, failed) = if i % 5 == 4 {
                (format!("pull-{i:02}"), ProwJobType::Presubmit, i % 10 == 4)
            } else {
                (format!("post-{i:02}"), ProwJobType::Postsubmit, i % 3 == 0)
            };
            let fin = if failed {
                ProwJobState::Failure
            } else {
                ProwJobState::Success
            };
            (name, ty, fin)
        })
        .collect();
    // The burst: every job starts, then they complete one after another.
    let burst = {
        let store = store.clone();
        let jobs = jobs.clone();
        let (pr, base) = (pr_refs(&w), base_refs(&w));
        tokio::spawn(async move {
            for (name, ty, _) in &jobs {
                let refs = if *ty == ProwJobType::Presubmit {
                    pr.clone()
                } else {
                    base.clone()
                };
                let mut j = job(name, *ty, name, refs);
                j.status.state = ProwJobState::Pending;
                j.status.description = "Job pending.".into();
                j.status.url = format!("https://prow.example.com/view/{name}");
                store.create(j).await.unwrap();
            }
            for (name, _, fin) in &jobs {
                set_state(store.as_ref(), name, *fin).await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    eventually("a write of the first process hangs", || async {
        gate1.hung() > 0
    })
    .await;
    tokio::time::sleep(Duration::from_micros(extra_micros)).await;
    let _ = kill_tx.send(());
    tokio::task::spawn_blocking(move || first.join())
        .await
        .unwrap()
        .expect("first process thread");
    let hung = gate1.hung();
    assert!(hung > 0);
    burst.await.unwrap();

    // The second process, over the same store.
    let gate2 = Gate::open(Arc::new(w.fake.client("bot")));
    let mut d = deps(store.clone(), config("{}"));
    d.github = Some(gate2.clone());
    let (token, handle) = spawn_crier(d, opts());
    for (name, _, fin) in &jobs {
        eventually(name, || async {
            reported(store.as_ref(), name, "github-reporter").await == Some(*fin)
        })
        .await;
    }
    token.cancel();
    handle.await.unwrap().unwrap();
    eprintln!(
        "first process: {} writes, {hung} hung; second: {} writes, {} reads",
        gate1.writes(),
        gate2.writes(),
        gate2.reads()
    );

    // Every (sha, context, state) was written once; the last word per context is the final state.
    let history = w.fake.status_history("acme", "widgets");
    let mut counts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut last: HashMap<String, String> = HashMap::new();
    for (sha, s) in &history {
        *counts
            .entry((sha.clone(), s.context.clone(), s.state.clone()))
            .or_default() += 1;
        last.insert(s.context.clone(), s.state.clone());
    }
    let dups: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "written more than once: {dups:?}");
    for (name, ty, fin) in &jobs {
        let sha = if *ty == ProwJobType::Presubmit {
            &w.head
        } else {
            &w.base
        };
        let want = if *fin == ProwJobState::Success {
            "success"
        } else {
            "failure"
        };
        let key = (sha.clone(), name.clone(), want.to_owned());
        assert_eq!(counts.get(&key), Some(&1), "{name}: final state");
        assert_eq!(last.get(name).map(String::as_str), Some(want), "{name}");
    }
    // The second process read each job's statuses at most once.
    assert!(gate2.reads() <= jobs.len(), "{} reads", gate2.reads());

    // Each failure was posted once: a repeated report left the comment alone.
    let failed_presubmits = jobs
        .iter()
        .filter(|(_, ty, fin)| *ty == ProwJobType::Presubmit && *fin == ProwJobState::Failure)
        .count();
    let mut created = 0;
    while let Ok(d) = deliveries.try_recv() {
        let ev: serde_json::Value = serde_json::from_slice(&d.body).unwrap_or_default();
        if d.event_type == "issue_comment"
            && ev["action"] == "created"
            && ev["comment"]["body"]
                .as_str()
                .is_some_and(|b| b.contains(COMMENT_TAG))
        {
            created += 1;
        }
    }
    assert_eq!(created, failed_presubmits, "report comments posted");
    // One failure comment, listing each failed presubmit exactly once.
    let comments = report_comments(&w.fake);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    let body = &comments[0].body;
    for (name, ty, fin) in &jobs {
        if *ty != ProwJobType::Presubmit {
            continue;
        }
        let rows = body
            .lines()
            .filter(|l| l.starts_with(&format!("{name} | ")))
            .count();
        let want = usize::from(*fin == ProwJobState::Failure);
        assert_eq!(rows, want, "{name} in {body}");
    }
}
