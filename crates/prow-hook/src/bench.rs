//! Load generator for `prow bench hook`: an open-loop client sending signed webhooks at a fixed
//! rate to a hook served in-process on loopback, measuring time to acknowledgement.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use prow_config::plugins::PluginsConfig;
use prow_github::hmac::{HmacSecrets, sign};
use tokio_util::sync::CancellationToken;

use crate::{Dispatch, EventLog, Hook, HookMetrics};

/// GitHub's example `issue_comment` payload (see `testdata/README.md`), the benchmarks' default.
pub const SAMPLE_ISSUE_COMMENT: &[u8] = include_bytes!("../testdata/issue_comment.json");

/// Latency summary in milliseconds.
#[derive(Debug, Clone)]
pub struct AckReport {
    /// Requests sent.
    pub sent: usize,
    /// Non-200 answers or transport errors.
    pub errors: usize,
    /// Requests per second actually achieved.
    pub achieved_rate: f64,
    /// Percentiles of time to acknowledgement.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

/// Percentile of sorted samples (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// The benchmarks' HMAC secret.
const SECRET: &str = "bench-secret";

/// A fresh hook (log in `dir`, `dispatcher` behind it) served on loopback with 64 workers;
/// returns its webhook URL and the token that stops it.
async fn serve_hook(
    dir: &std::path::Path,
    dispatcher: Arc<dyn Dispatch>,
    durability: crate::eventlog::Durability,
) -> anyhow::Result<(String, CancellationToken)> {
    let hook = Hook::new(
        HmacSecrets::Single(SECRET.into()),
        Arc::new(ArcSwap::from_pointee(PluginsConfig::default())),
        EventLog::open_with(&dir.join("bench-events.sqlite"), durability)?,
        dispatcher,
        HookMetrics::new(&prometheus::Registry::new())?,
    );
    let shutdown = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(prow_runtime::serve_on(
        listener,
        hook.router("/hook"),
        shutdown.clone(),
    ));
    let s = shutdown.clone();
    tokio::spawn(async move { hook.process(64, s, Duration::from_secs(5)).await });
    Ok((format!("http://{addr}/hook"), shutdown))
}

/// Runs `rate` requests/s for `duration` of `payload` as `event_type` against a fresh hook whose
/// log lives in `dir`, with `dispatcher` processing behind it.
pub async fn ack_latency(
    dir: &std::path::Path,
    dispatcher: Arc<dyn Dispatch>,
    event_type: &str,
    payload: Vec<u8>,
    rate: u32,
    duration: Duration,
    durability: crate::eventlog::Durability,
) -> anyhow::Result<AckReport> {
    let (url, shutdown) = serve_hook(dir, dispatcher, durability).await?;

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let sig = sign(SECRET.as_bytes(), &payload);
    let payload = bytes::Bytes::from(payload);
    let total = (rate as f64 * duration.as_secs_f64()) as usize;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        ticker.tick().await;
        let req = client
            .post(&url)
            .header("X-GitHub-Event", event_type)
            .header("X-GitHub-Delivery", format!("bench-{i}"))
            .header("X-Hub-Signature-256", &sig)
            .header("Content-Type", "application/json")
            .body(payload.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let ok = matches!(req.send().await, Ok(r) if r.status() == 200);
            (t.elapsed(), ok)
        }));
    }
    let mut lat = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (d, ok) = t.await?;
        if !ok {
            errors += 1;
        }
        lat.push(d);
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    lat.sort();
    Ok(AckReport {
        sent: total,
        errors,
        achieved_rate: total as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(&lat, 50.0),
        p90_ms: percentile(&lat, 90.0),
        p99_ms: percentile(&lat, 99.0),
        max_ms: lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
    })
}

/// What a closed-loop burst measured: acknowledgements and what the dispatcher really handled.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Events sent.
    pub sent: usize,
    /// Answered `200`.
    pub acked: usize,
    /// Non-200 answers or transport errors.
    pub errors: usize,
    /// Distinct acknowledged deliveries the dispatcher handled.
    pub processed: usize,
    /// Acknowledged deliveries never handled (after waiting for the queue to drain).
    pub lost: usize,
    /// Deliveries handled more than once.
    pub duplicates: usize,
    /// Acknowledgements per second over the burst.
    pub ack_rate: f64,
    /// Time from the last acknowledgement until every acknowledged event was handled, ms.
    pub drain_ms: f64,
    /// Ack latency percentiles, ms.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

/// Counts handled deliveries by ID.
#[derive(Default)]
struct Counting(std::sync::Mutex<std::collections::HashMap<String, u32>>);

#[async_trait::async_trait]
impl Dispatch for Counting {
    async fn dispatch(
        &self,
        _: &prow_github::events::Event,
        delivery_id: &str,
    ) -> Vec<crate::dispatch::HandlerOutcome> {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(delivery_id.to_owned()).or_default() += 1;
        }
        Vec::new()
    }
    fn plugin_help(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// Sends `events` signed deliveries as fast as `concurrency` parallel senders can to a fresh hook
/// (log in `dir`), then waits for the queue to drain and checks every acknowledged delivery was
/// handled exactly once.
pub async fn max_rate(
    dir: &std::path::Path,
    event_type: &str,
    payload: Vec<u8>,
    events: usize,
    concurrency: usize,
    durability: crate::eventlog::Durability,
) -> anyhow::Result<LoadReport> {
    use futures::StreamExt as _;
    let counting = Arc::new(Counting::default());
    let (url, shutdown) = serve_hook(dir, counting.clone(), durability).await?;

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(1))
        .build()?;
    let sig = sign(SECRET.as_bytes(), &payload);
    let payload = bytes::Bytes::from(payload);
    let started = Instant::now();
    let results: Vec<(String, Duration, bool)> = futures::stream::iter(0..events)
        .map(|i| {
            let id = format!("load-{i}");
            let req = client
                .post(&url)
                .header("X-GitHub-Event", event_type)
                .header("X-GitHub-Delivery", &id)
                .header("X-Hub-Signature-256", &sig)
                .header("Content-Type", "application/json")
                .body(payload.clone());
            async move {
                let t = Instant::now();
                let ok = matches!(req.send().await, Ok(r) if r.status() == 200);
                (id, t.elapsed(), ok)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let burst = started.elapsed();
    let acked: std::collections::HashSet<&str> = results
        .iter()
        .filter(|(_, _, ok)| *ok)
        .map(|(id, _, _)| id.as_str())
        .collect();
    // Wait (generously) for the worker pool to handle everything acknowledged.
    let drain_start = Instant::now();
    let deadline = drain_start + Duration::from_secs(120);
    let handled = |c: &Counting| -> usize {
        c.0.lock()
            .map(|m| acked.iter().filter(|id| m.contains_key(**id)).count())
            .unwrap_or(0)
    };
    while handled(&counting) < acked.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain = drain_start.elapsed();
    shutdown.cancel();
    let processed = handled(&counting);
    let duplicates = counting
        .0
        .lock()
        .map(|m| m.values().filter(|n| **n > 1).count())
        .unwrap_or(0);
    let mut lat: Vec<Duration> = results.iter().map(|(_, d, _)| *d).collect();
    lat.sort();
    Ok(LoadReport {
        sent: events,
        acked: acked.len(),
        errors: events - acked.len(),
        processed,
        lost: acked.len() - processed,
        duplicates,
        ack_rate: acked.len() as f64 / burst.as_secs_f64(),
        drain_ms: drain.as_secs_f64() * 1000.0,
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        max_ms: lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[], 99.0), 0.0);
    }

    #[tokio::test]
    async fn burst_is_handled_once() {
        let dir = tempfile::tempdir().unwrap();
        let payload = br#"{"zen":"ok","hook_id":1}"#.to_vec();
        let r = max_rate(
            dir.path(),
            "ping",
            payload,
            200,
            16,
            crate::eventlog::Durability::Normal,
        )
        .await
        .unwrap();
        assert_eq!(
            (r.acked, r.processed, r.lost, r.duplicates),
            (200, 200, 0, 0)
        );
    }
}
