//! A benchmark of Deck's hot paths over a large store: `/prowjobs.js` (the jobs page's poll)
//! and the first paint of `/`, measured in-process through the router (server time only).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use chrono::{TimeZone, Utc};
use http::Request;
use prow_api::{ProwJob, ProwJobState, ProwJobType, Pull, Refs};
use prow_jobstore::JobStore;
use prow_jobstore::memory::MemoryStore;
use tower::ServiceExt as _;

use crate::{ConfigGetter, Deck, DeckDeps, DeckOptions};

/// Timings of one run.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// Jobs in the store.
    pub jobs: usize,
    /// Time to list the store into the cache.
    pub initial_sync: Duration,
    /// `/prowjobs.js?omit=…` (all jobs), first request (renders every job's JSON).
    pub prowjobs_js_cold: Duration,
    /// Same, cached (median of 5).
    pub prowjobs_js: Duration,
    /// Bytes of that response.
    pub prowjobs_js_bytes: usize,
    /// `/prowjobs.js?omit=…&limit=500` as the page polls it (median of 5).
    pub prowjobs_js_page: Duration,
    /// `/` first paint (median of 5).
    pub index: Duration,
    /// Bytes of `/`.
    pub index_bytes: usize,
    /// `/?state=failure&repo=org-1/repo-1` (median of 5).
    pub index_filtered: Duration,
}

/// A synthetic job (`i` decides type, state, repo and author).
pub fn synthetic_job(i: usize) -> ProwJob {
    let mut pj = ProwJob::default();
    pj.metadata.name = Some(format!("job-{i:06}"));
    pj.metadata.labels = Some(
        [
            ("created-by-prow".to_string(), "true".to_string()),
            (
                "prow.k8s.io/job".to_string(),
                format!("pull-test-{}", i % 40),
            ),
        ]
        .into(),
    );
    let t = [
        ProwJobType::Presubmit,
        ProwJobType::Postsubmit,
        ProwJobType::Periodic,
        ProwJobType::Batch,
    ][i % 4];
    pj.spec.job_type = Some(t);
    pj.spec.job = format!("{}-test-{}", t.as_str(), i % 40);
    pj.spec.cluster = if i.is_multiple_of(3) {
        "build01"
    } else {
        "default"
    }
    .into();
    pj.spec.refs = Some(Refs {
        org: format!("org-{}", i % 3),
        repo: format!("repo-{}", i % 7),
        base_ref: "main".into(),
        base_sha: format!("{:040x}", i),
        pulls: if t == ProwJobType::Presubmit {
            vec![Pull {
                number: (i % 500) as u64,
                author: format!("user{}", i % 50),
                sha: format!("{:040x}", i * 7),
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        ..Default::default()
    });
    pj.status.start_time = Utc.timestamp_opt(1_700_000_000 + i as i64 * 10, 0).single();
    pj.status.state = [
        ProwJobState::Success,
        ProwJobState::Failure,
        ProwJobState::Pending,
        ProwJobState::Success,
        ProwJobState::Aborted,
        ProwJobState::Error,
        ProwJobState::Triggered,
    ][i % 7];
    if pj.status.state.is_final() {
        pj.status.completion_time = Utc
            .timestamp_opt(1_700_000_000 + i as i64 * 10 + 300 + (i % 600) as i64, 0)
            .single();
    }
    pj.status.url = format!("/view/gs/bucket/logs/{}/{i}", pj.spec.job);
    pj.status.build_id = i.to_string();
    pj.status.description = "Job succeeded.".into();
    pj
}

async fn time_get(app: &axum::Router, uri: &str) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty())?)
        .await?;
    anyhow::ensure!(resp.status().is_success(), "GET {uri}: {}", resp.status());
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    Ok((start.elapsed(), body.len()))
}

async fn median(app: &axum::Router, uri: &str) -> anyhow::Result<(Duration, usize)> {
    let mut v = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let (d, n) = time_get(app, uri).await?;
        v.push(d);
        size = n;
    }
    v.sort();
    Ok((v[2], size))
}

/// Fills a memory store with `n` jobs and times the endpoints.
pub async fn bench(n: usize) -> anyhow::Result<BenchReport> {
    let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
    for i in 0..n {
        store.create(synthetic_job(i)).await?;
    }
    let cfg = Arc::new(prow_config::Config {
        prow: Default::default(),
        jobs: Default::default(),
        stats: Default::default(),
    });
    let config: ConfigGetter = Arc::new(move || cfg.clone());
    let deck = Deck::new(
        DeckDeps {
            store,
            config,
            plugins: None,
            tide: None,
            plugin_help: None,
            storage: Arc::new(|_: &str, _: &str| anyhow::bail!("no storage in the benchmark")),
            auth: None,
            spyglass: None,
        },
        DeckOptions::default(),
    );
    let token = tokio_util::sync::CancellationToken::new();
    let start = Instant::now();
    deck.start(token.clone()).await?;
    let initial_sync = start.elapsed();
    let app = deck.router();
    let all = "/prowjobs.js?omit=annotations,labels,decoration_config,pod_spec";
    let (prowjobs_js_cold, _) = time_get(&app, all).await?;
    let (prowjobs_js, prowjobs_js_bytes) = median(&app, all).await?;
    let (prowjobs_js_page, _) = median(&app, &format!("{all}&limit=500")).await?;
    let (index, index_bytes) = median(&app, "/").await?;
    let (index_filtered, _) = median(&app, "/?state=failure&repo=org-1/repo-1").await?;
    token.cancel();
    Ok(BenchReport {
        jobs: n,
        initial_sync,
        prowjobs_js_cold,
        prowjobs_js,
        prowjobs_js_bytes,
        prowjobs_js_page,
        index,
        index_bytes,
        index_filtered,
    })
}
