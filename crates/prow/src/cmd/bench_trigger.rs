//! `prow bench trigger`: time from a `/test all` webhook being sent to its ProwJobs existing.
//! Everything real but GitHub: the simulator runs in-process (its REST calls are function
//! calls), the hook listens on loopback, plugins run as in production, jobs go to the store.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use futures::StreamExt;
use prow_config::{ConfigAgent, LoadOptions};
use prow_github::GitHub;
use prow_hook::{EventLog, Hook, HookMetrics, PluginDispatch};
use prow_jobstore::{JobStore, ListParams, WatchEvent};
use prow_plugins::{Dispatcher, PluginDeps};
use tokio_util::sync::CancellationToken;

const SEED: &str = r#"
users:
  - {login: prow-bot, token: bench-token-bot, type: Bot}
  - {login: alice, token: bench-token-alice}
orgs:
  - {login: acme, members: [alice]}
repos:
  - name: acme/widgets
    files: {OWNERS: "approvers: [alice]\n", src/widget.go: "package widgets\n"}
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Bench, head: bench, files: {src/widget.go: "package widgets // 2\n"}}
"#;

const JOBS: &str = r#"
presubmits:
  acme/widgets:
  - {name: pull-unit, always_run: true, spec: {containers: [{image: alpine}]}}
  - {name: pull-go, run_if_changed: '\.go$', spec: {containers: [{image: alpine}]}}
  - {name: pull-docs, run_if_changed: '^docs/', spec: {containers: [{image: alpine}]}}
"#;

/// Results in milliseconds.
pub struct TriggerReport {
    /// Events sent.
    pub events: usize,
    /// ProwJobs created.
    pub jobs: usize,
    /// Percentiles of send → last ProwJob of the event stored.
    pub p50_ms: f64,
    /// 90th.
    pub p90_ms: f64,
    /// 99th.
    pub p99_ms: f64,
    /// Max.
    pub max_ms: f64,
}

/// Sends `events` `/test all` comments at `rate`/s; `store` is `memory` or `sqlite`.
pub async fn run(events: usize, rate: u32, store: &str) -> anyhow::Result<TriggerReport> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    std::fs::write(d.join("config.yaml"), "prowjob_namespace: default\n")?;
    std::fs::create_dir(d.join("jobs"))?;
    std::fs::write(d.join("jobs/widgets.yaml"), JOBS)?;
    let plugins_cfg: prow_config::PluginsConfig =
        serde_saphyr::from_str("plugins:\n  acme:\n    plugins: [trigger]\n")?;
    let config = ConfigAgent::start(LoadOptions {
        config_path: d.join("config.yaml"),
        job_config_path: Some(d.join("jobs")),
        ..Default::default()
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;

    let fake = prow_github_fake::FakeGitHub::from_seed_yaml(SEED)?;
    let github: Arc<dyn GitHub> = Arc::new(fake.client("prow-bot"));
    let jobs: Arc<dyn JobStore> = match store {
        "sqlite" => Arc::new(
            prow_jobstore::sqlite::SqliteStore::open(d.join("jobs.sqlite"), "default").await?,
        ),
        _ => Arc::new(prow_jobstore::memory::MemoryStore::new("default")),
    };
    let plugins = Arc::new(ArcSwap::from_pointee(plugins_cfg));
    let deps = PluginDeps::new(github, jobs.clone(), config, plugins.clone()).await?;
    let dispatcher = Dispatcher::new(deps, prow_plugins::registry());
    let hook = Hook::new(
        prow_github::hmac::HmacSecrets::Single("bench-secret".into()),
        plugins,
        EventLog::open(&d.join("events.sqlite"))?,
        Arc::new(PluginDispatch(dispatcher)),
        HookMetrics::new(&prometheus::Registry::new())?,
    );
    let shutdown = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(prow_runtime::serve_on(
        listener,
        hook.router("/hook"),
        shutdown.clone(),
    ));
    let h = hook.clone();
    let s = shutdown.clone();
    tokio::spawn(async move { h.process(64, s, Duration::from_secs(5)).await });

    // A real issue_comment payload, as the simulator renders it.
    let mut tap = fake.subscribe();
    fake.client("alice")
        .create_comment("acme", "widgets", 1, "/test all")
        .await?;
    let payload = loop {
        let d = tap.recv().await?;
        if d.event_type == "issue_comment" {
            break d.body;
        }
    };
    let sig = prow_github::hmac::sign(b"bench-secret", &payload);

    // Watch the store: when did each event's jobs appear?
    let sent: Arc<Mutex<BTreeMap<String, Instant>>> = Arc::default();
    let done: Arc<Mutex<BTreeMap<String, (Duration, usize)>>> = Arc::default();
    let version = jobs.list(&ListParams::all()).await?.resource_version;
    let mut watch = jobs.watch(&ListParams::all(), &version).await?;
    let (s2, d2) = (sent.clone(), done.clone());
    let watcher = tokio::spawn(async move {
        while let Some(Ok(ev)) = watch.next().await {
            if let WatchEvent::Added(job) = ev
                && let Some(guid) = job.label(prow_api::labels::EVENT_GUID)
                && let Some(t0) = s2.lock().unwrap().get(guid).copied()
            {
                let mut d = d2.lock().unwrap();
                let e = d.entry(guid.to_owned()).or_insert((Duration::ZERO, 0));
                e.0 = e.0.max(t0.elapsed());
                e.1 += 1;
            }
        }
    });

    let client = reqwest::Client::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    let mut tasks = Vec::new();
    for i in 0..events {
        ticker.tick().await;
        let id = format!("bench-trigger-{i}");
        sent.lock().unwrap().insert(id.clone(), Instant::now());
        let req = client
            .post(&url)
            .header("X-GitHub-Event", "issue_comment")
            .header("X-GitHub-Delivery", id)
            .header("X-Hub-Signature-256", &sig)
            .header("Content-Type", "application/json")
            .body(payload.clone());
        tasks.push(tokio::spawn(async move {
            req.send().await.map(|r| r.status().as_u16())
        }));
    }
    for t in tasks {
        let status = t.await??;
        anyhow::ensure!(status == 200, "hook answered {status}");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let complete = done
            .lock()
            .unwrap()
            .values()
            .filter(|(_, n)| *n == 2)
            .count();
        if complete == events || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    watcher.abort();
    let done = done.lock().unwrap().clone();
    let mut lat: Vec<Duration> = done
        .values()
        .filter(|(_, n)| *n == 2)
        .map(|(d, _)| *d)
        .collect();
    anyhow::ensure!(
        lat.len() == events,
        "only {} of {events} events produced their 2 jobs",
        lat.len()
    );
    lat.sort();
    let pct = |p| prow_hook::bench::percentile(&lat, p);
    Ok(TriggerReport {
        events,
        jobs: done.values().map(|(_, n)| n).sum(),
        p50_ms: pct(50.0),
        p90_ms: pct(90.0),
        p99_ms: pct(99.0),
        max_ms: lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
    })
}
