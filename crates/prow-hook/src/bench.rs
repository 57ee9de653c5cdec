//! Load generator for `prow bench hook`: an open-loop client sending signed webhooks at a fixed
//! rate to a hook served in-process on loopback, measuring time to acknowledgement.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use prow_config::plugins::PluginsConfig;
use prow_github::hmac::{HmacSecrets, sign};
use tokio_util::sync::CancellationToken;

use crate::{Dispatch, EventLog, Hook, HookMetrics};

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
    let secret = "bench-secret";
    let log = EventLog::open_with(&dir.join("bench-events.sqlite"), durability)?;
    let hook = Hook::new(
        HmacSecrets::Single(secret.into()),
        Arc::new(ArcSwap::from_pointee(PluginsConfig::default())),
        log,
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
    let h = hook.clone();
    let s = shutdown.clone();
    tokio::spawn(async move { h.process(64, s, Duration::from_secs(5)).await });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let url = format!("http://{addr}/hook");
    let sig = sign(secret.as_bytes(), &payload);
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
}
