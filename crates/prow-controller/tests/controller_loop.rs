//! The plank loop against a MemoryStore and the stateful fake executor.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobState, ProwJobType, Pull, Refs};
use prow_controller::buildid::Snowflake;
use prow_controller::controller::{self, Context, ControllerOptions, fixed_config};
use prow_controller::fake::FakeExecutor;
use prow_executor::{RunPhase, UnexpectedStop};
use prow_jobstore::JobStore;
use prow_jobstore::memory::MemoryStore;
use tokio_util::sync::CancellationToken;

struct Harness {
    store: Arc<MemoryStore>,
    exec: Arc<FakeExecutor>,
    ctx: Arc<Context>,
    now: Arc<Mutex<DateTime<Utc>>>,
    shutdown: CancellationToken,
    runner: Option<tokio::task::JoinHandle<()>>,
}

impl Harness {
    fn new(cfg: prow_config::Config) -> Self {
        let store = Arc::new(MemoryStore::default());
        let exec = Arc::new(FakeExecutor::new());
        let now = Arc::new(Mutex::new(Utc::now()));
        let clock_now = now.clone();
        let ctx = Context::new(
            store.clone(),
            exec.clone(),
            Arc::new(Snowflake::default()),
            fixed_config(cfg),
        )
        .with_clock(Arc::new(move || {
            *clock_now.lock().unwrap_or_else(|p| p.into_inner())
        }))
        .with_options(ControllerOptions {
            workers: 4,
            pending_poll: Duration::from_millis(20),
            metrics_period: Duration::from_secs(3600),
        });
        Harness {
            store,
            exec,
            ctx: Arc::new(ctx),
            now,
            shutdown: CancellationToken::new(),
            runner: None,
        }
    }

    fn start(&mut self) {
        self.runner = Some(tokio::spawn(controller::run(
            self.ctx.clone(),
            self.shutdown.clone(),
        )));
    }

    fn advance(&self, d: chrono::Duration) {
        let mut n = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *n += d;
    }

    async fn get(&self, name: &str) -> ProwJob {
        self.store
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("get {name}: {e}"))
    }

    /// Waits (up to 20s, polling) until `cond` holds for job `name`.
    async fn wait_for(&self, name: &str, what: &str, cond: impl Fn(&ProwJob) -> bool) -> ProwJob {
        for _ in 0..2000 {
            let j = self.get(name).await;
            if cond(&j) {
                return j;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let j = self.get(name).await;
        panic!("{name}: never {what}; last status {:?}", j.status)
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(r) = self.runner.take() {
            let _ = r.await;
        }
    }
}

fn job(name: &str, job_name: &str) -> ProwJob {
    let mut j = ProwJob::default();
    j.metadata.name = Some(name.into());
    j.spec.job = job_name.into();
    j.spec.job_type = Some(ProwJobType::Periodic);
    j.status.state = ProwJobState::Triggered;
    j.status.start_time = Some(Utc::now());
    j
}

fn presubmit(name: &str, pr: u64, sha: &str) -> ProwJob {
    let mut j = job(name, "pull-unit");
    j.spec.job_type = Some(ProwJobType::Presubmit);
    j.spec.refs = Some(Refs {
        org: "o".into(),
        repo: "r".into(),
        base_ref: "main".into(),
        pulls: vec![Pull {
            number: pr,
            sha: sha.into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    j
}

fn cfg_with(f: impl FnOnce(&mut prow_config::Config)) -> prow_config::Config {
    let mut c = prow_config::Config::default();
    prow_config::defaults::default_prow_config(&mut c.prow);
    f(&mut c);
    c
}

fn is_pending(j: &ProwJob) -> bool {
    j.status.state == ProwJobState::Pending
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_runs_to_final_states() {
    let mut h = Harness::new(cfg_with(|c| {
        c.prow.plank.job_url_template =
            "https://deck.example.com/view/{{.Spec.Job}}/{{.Status.BuildID}}".into();
    }));
    for n in ["ok", "bad", "gone"] {
        h.store
            .create(job(n, n))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    h.start();
    for n in ["ok", "bad", "gone"] {
        let j = h.wait_for(n, "pending", is_pending).await;
        assert_eq!(j.status.description, "Job triggered.");
        assert_eq!(j.status.pod_name, n);
        assert!(!j.status.build_id.is_empty());
        assert!(j.status.pending_time.is_some());
        assert_eq!(
            j.status.url,
            format!("https://deck.example.com/view/{n}/{}", j.status.build_id)
        );
    }
    h.exec.set_phase("ok", RunPhase::Running);
    h.exec.set_phase("ok", RunPhase::Succeeded);
    h.exec.set_phase("bad", RunPhase::Failed);
    h.exec.vanish("gone");
    let ok = h.wait_for("ok", "complete", ProwJob::complete).await;
    assert_eq!(
        (ok.status.state, ok.status.description.as_str()),
        (ProwJobState::Success, "Job succeeded.")
    );
    let bad = h.wait_for("bad", "complete", ProwJob::complete).await;
    assert_eq!(
        (bad.status.state, bad.status.description.as_str()),
        (ProwJobState::Failure, "Job failed.")
    );
    let gone = h.wait_for("gone", "complete", ProwJob::complete).await;
    assert_eq!(
        (gone.status.state, gone.status.description.as_str()),
        (ProwJobState::Error, "Pod got deleted unexpectedly")
    );
    assert_eq!(h.exec.starts().len(), 3, "one start per job");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_max_concurrency_is_never_exceeded() {
    let mut h = Harness::new(cfg_with(|c| c.prow.plank.max_concurrency = 2));
    let names: Vec<String> = (0..8).map(|i| format!("j{i}")).collect();
    for n in &names {
        h.store
            .create(job(n, "ci-x"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    h.start();
    // Finish runs one at a time; the executor records the most runs active at once.
    let mut done = 0;
    while done < names.len() {
        let active = h.exec.active();
        if let Some(first) = active.first() {
            h.exec.set_phase(first, RunPhase::Succeeded);
            h.wait_for(first, "complete", ProwJob::complete).await;
            done += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(
        h.exec.max_active(),
        2,
        "exactly the limit was used, never more"
    );
    for n in &names {
        assert_eq!(h.get(n).await.status.state, ProwJobState::Success);
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_job_max_concurrency_and_queues() {
    let mut h = Harness::new(cfg_with(|c| {
        c.prow.plank.job_queue_capacities.insert("gpu".into(), 1);
    }));
    for i in 0..3 {
        let mut j = job(&format!("limited{i}"), "ci-limited");
        j.spec.max_concurrency = 1;
        h.store.create(j).await.unwrap_or_else(|e| panic!("{e}"));
        let mut q = job(&format!("queued{i}"), &format!("ci-gpu-{i}"));
        q.spec.job_queue_name = "gpu".into();
        h.store.create(q).await.unwrap_or_else(|e| panic!("{e}"));
    }
    h.start();
    for round in 0..3 {
        // Wait until this round's runs exist (both limits allow exactly one each).
        let mut active = h.exec.active();
        for _ in 0..2000 {
            if active.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            active = h.exec.active();
        }
        let limited: Vec<_> = active.iter().filter(|n| n.starts_with("limited")).collect();
        let queued: Vec<_> = active.iter().filter(|n| n.starts_with("queued")).collect();
        assert_eq!(limited.len(), 1, "round {round}: {active:?}");
        assert_eq!(queued.len(), 1, "round {round}: {active:?}");
        // Oldest first.
        assert_eq!(limited[0], &format!("limited{round}"));
        for n in [limited[0].clone(), queued[0].clone()] {
            h.exec.set_phase(&n, RunPhase::Succeeded);
            h.wait_for(&n, "complete", ProwJob::complete).await;
        }
    }
    assert_eq!(h.exec.max_active(), 2);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evicted_runs_are_revived_up_to_max_revivals() {
    let mut h = Harness::new(cfg_with(|c| c.prow.plank.max_revivals = Some(2)));
    h.store
        .create(job("ev", "ci-ev"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut strict = job("strict", "ci-strict");
    strict.spec.error_on_eviction = true;
    h.store
        .create(strict)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    h.store
        .create(job("oom", "ci-oom"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    h.start();
    let first = h.wait_for("ev", "pending", is_pending).await;
    let mut build_ids = vec![first.status.build_id.clone()];
    for revival in 1..=2u32 {
        h.exec
            .set_phase("ev", RunPhase::Stopped(UnexpectedStop::Evicted));
        let j = h
            .wait_for("ev", "revived", |j| j.status.pod_revival_count == revival)
            .await;
        assert_eq!(j.status.state, ProwJobState::Pending);
        assert!(
            !build_ids.contains(&j.status.build_id),
            "a revival gets a new build ID"
        );
        build_ids.push(j.status.build_id.clone());
        assert!(
            matches!(h.exec.phase("ev"), RunPhase::Pending { .. }),
            "a new run exists"
        );
    }
    h.exec
        .set_phase("ev", RunPhase::Stopped(UnexpectedStop::Evicted));
    let j = h.wait_for("ev", "complete", ProwJob::complete).await;
    assert_eq!(j.status.state, ProwJobState::Error);
    assert_eq!(
        j.status.description,
        "Job pod reached max revivals (2) after being stopped unexpectedly (evicted)"
    );
    assert_eq!(h.exec.deletes(), vec!["ev".to_string(), "ev".to_string()]);

    h.wait_for("strict", "pending", is_pending).await;
    h.exec
        .set_phase("strict", RunPhase::Stopped(UnexpectedStop::Evicted));
    let s = h.wait_for("strict", "complete", ProwJob::complete).await;
    assert_eq!(
        (s.status.state, s.status.description.as_str()),
        (ProwJobState::Error, "Job pod was evicted by the cluster.")
    );
    h.wait_for("oom", "pending", is_pending).await;
    h.exec
        .set_phase("oom", RunPhase::Stopped(UnexpectedStop::OomKilled));
    let o = h.wait_for("oom", "complete", ProwJob::complete).await;
    assert_eq!(
        o.status.description,
        "Job pod was OOM killed by the cluster."
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_end_jobs() {
    let mut h = Harness::new(cfg_with(|_| {}));
    for n in ["unsched", "pend", "run"] {
        h.store
            .create(job(n, n))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    h.start();
    for n in ["unsched", "pend", "run"] {
        h.wait_for(n, "pending", is_pending).await;
    }
    h.exec
        .set_phase("unsched", RunPhase::Pending { scheduled: false });
    h.exec.set_phase("run", RunPhase::Running);
    // Nothing times out early.
    h.advance(chrono::Duration::minutes(4));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!h.get("unsched").await.complete());
    h.advance(chrono::Duration::minutes(2));
    let u = h.wait_for("unsched", "complete", ProwJob::complete).await;
    assert_eq!(
        (u.status.state, u.status.description.as_str()),
        (ProwJobState::Error, "Pod scheduling timeout.")
    );
    assert!(!h.get("pend").await.complete());
    h.advance(chrono::Duration::minutes(5));
    let p = h.wait_for("pend", "complete", ProwJob::complete).await;
    assert_eq!(
        (p.status.state, p.status.description.as_str()),
        (ProwJobState::Error, "Pod pending timeout.")
    );
    assert!(!h.get("run").await.complete());
    h.advance(chrono::Duration::hours(48));
    let r = h.wait_for("run", "complete", ProwJob::complete).await;
    assert_eq!(
        (r.status.state, r.status.description.as_str()),
        (ProwJobState::Aborted, "Pod running timeout.")
    );
    let mut aborted = h.exec.aborts();
    aborted.sort();
    assert_eq!(aborted, vec!["pend", "run", "unsched"]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_presubmits_are_aborted_and_aborted_jobs_completed() {
    let mut h = Harness::new(cfg_with(|_| {}));
    h.store
        .create(presubmit("old", 5, "aaa"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    h.start();
    h.wait_for("old", "pending", is_pending).await;
    let mut newer = presubmit("new", 5, "bbb");
    newer.status.start_time = Some(Utc::now() + chrono::Duration::seconds(5));
    h.store
        .create(newer)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let old = h.wait_for("old", "complete", ProwJob::complete).await;
    assert_eq!(old.status.state, ProwJobState::Aborted);
    assert_eq!(
        old.status.prev_report_states["github-reporter"],
        ProwJobState::Aborted
    );
    assert!(h.exec.aborts().contains(&"old".to_string()));
    let new = h.wait_for("new", "pending", is_pending).await;
    assert!(!new.complete());

    // Someone (deck, the trigger plugin) aborts a job: plank stops the run and completes it.
    let mut j = h.get("new").await;
    j.status.state = ProwJobState::Aborted;
    j.status.description = "Aborted by trigger plugin.".into();
    h.store
        .update_status(j)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let done = h.wait_for("new", "complete", ProwJob::complete).await;
    assert_eq!(done.status.description, "Aborted by trigger plugin.");
    assert!(h.exec.aborts().contains(&"new".to_string()));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_starts_error_the_job() {
    let mut h = Harness::new(cfg_with(|_| {}));
    h.exec.fail_start("invalid", "invalid");
    h.exec.fail_start("nocluster", "cluster");
    let mut nc = job("nocluster", "x");
    nc.spec.cluster = "nowhere".into();
    h.store
        .create(job("invalid", "x"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    h.store.create(nc).await.unwrap_or_else(|e| panic!("{e}"));
    h.start();
    let i = h.wait_for("invalid", "complete", ProwJob::complete).await;
    assert_eq!(
        (i.status.state, i.status.description.as_str()),
        (ProwJobState::Error, "Pod can not be created: bad pod spec")
    );
    let c = h.wait_for("nocluster", "complete", ProwJob::complete).await;
    assert_eq!(
        c.status.description,
        "Terminal error: unknown build cluster \"nowhere\"."
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_helper_moves_everything_to_pending() {
    let store = Arc::new(MemoryStore::default());
    let exec = Arc::new(FakeExecutor::instant());
    let (elapsed, n) = controller::bench_triggered_to_pending(store.clone(), exec.clone(), 200)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 200);
    assert!(elapsed > Duration::ZERO);
    assert_eq!(exec.starts().len(), 200);
}
