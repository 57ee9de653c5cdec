//! Tide's Prometheus metrics with Prow's names (spec §13).

use prometheus::{CounterVec, Gauge, GaugeVec, HistogramOpts, HistogramVec, Opts, Registry};

/// Every Tide metric.
#[derive(Clone)]
pub struct TideMetrics {
    /// `pooledprs{org,repo,branch}`.
    pub pooled_prs: GaugeVec,
    /// `updatetime{org,repo,branch}`: last sync of the pool (unix seconds).
    pub update_time: GaugeVec,
    /// `merges{org,repo,branch}`: PRs merged per merge action.
    pub merges: HistogramVec,
    /// `tidepoolerrors{org,repo,branch}`.
    pub pool_errors: CounterVec,
    /// `tidequeryresults{query_index,org_shard,result}`.
    pub query_results: CounterVec,
    /// `syncdur`: seconds of the last sync.
    pub sync_duration: Gauge,
    /// `statusupdatedur`: seconds of the last status pass.
    pub status_update_duration: Gauge,
    /// `tidesyncheartbeat{controller}`.
    pub sync_heartbeat: CounterVec,
    /// `tide_retests_total{org,repo,branch,action}`.
    pub retests: CounterVec,
    /// `tide_pool_missing_prs`.
    pub pool_missing: GaugeVec,
    /// `tide_pool_pending_prs`.
    pub pool_pending: GaugeVec,
    /// `tide_pool_successful_prs`.
    pub pool_success: GaugeVec,
    /// `tide_pool_batch_pending_prs`.
    pub pool_batch_pending: GaugeVec,
}

const POOL: &[&str] = &["org", "repo", "branch"];

impl TideMetrics {
    /// Creates and registers the metrics.
    pub fn new(registry: &Registry) -> prometheus::Result<TideMetrics> {
        let g = |name: &str, help: &str| GaugeVec::new(Opts::new(name, help), POOL);
        let m = TideMetrics {
            pooled_prs: g("pooledprs", "Number of PRs in each Tide pool.")?,
            update_time: g(
                "updatetime",
                "The last time each subpool was synced. (Used to determine 'pooledprs' freshness.)",
            )?,
            merges: HistogramVec::new(
                HistogramOpts::new(
                    "merges",
                    "Histogram of merges where values are the number of PRs merged together.",
                )
                .buckets(vec![1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 25.0]),
                POOL,
            )?,
            pool_errors: CounterVec::new(
                Opts::new("tidepoolerrors", "Count of Tide pool sync errors."),
                POOL,
            )?,
            query_results: CounterVec::new(
                Opts::new(
                    "tidequeryresults",
                    "Count of Tide queries by query index, org shard, and result (success/error).",
                ),
                &["query_index", "org_shard", "result"],
            )?,
            sync_duration: Gauge::new(
                "syncdur",
                "The duration of the last loop of the sync controller.",
            )?,
            status_update_duration: Gauge::new(
                "statusupdatedur",
                "The duration of the last loop of the status update controller.",
            )?,
            sync_heartbeat: CounterVec::new(
                Opts::new("tidesyncheartbeat", "Count of Tide syncs"),
                &["controller"],
            )?,
            retests: CounterVec::new(
                Opts::new(
                    "tide_retests_total",
                    "Total number of PRs retested by Tide, by action (TRIGGER/TRIGGER_BATCH).",
                ),
                &["org", "repo", "branch", "action"],
            )?,
            pool_missing: g(
                "tide_pool_missing_prs",
                "Number of PRs in each Tide pool with missing or failed required tests.",
            )?,
            pool_pending: g(
                "tide_pool_pending_prs",
                "Number of PRs in each Tide pool with pending required tests.",
            )?,
            pool_success: g(
                "tide_pool_successful_prs",
                "Number of PRs in each Tide pool with all required tests passing.",
            )?,
            pool_batch_pending: g(
                "tide_pool_batch_pending_prs",
                "Number of PRs in a pending batch in each Tide pool.",
            )?,
        };
        registry.register(Box::new(m.pooled_prs.clone()))?;
        registry.register(Box::new(m.update_time.clone()))?;
        registry.register(Box::new(m.merges.clone()))?;
        registry.register(Box::new(m.pool_errors.clone()))?;
        registry.register(Box::new(m.query_results.clone()))?;
        registry.register(Box::new(m.sync_duration.clone()))?;
        registry.register(Box::new(m.status_update_duration.clone()))?;
        registry.register(Box::new(m.sync_heartbeat.clone()))?;
        registry.register(Box::new(m.retests.clone()))?;
        registry.register(Box::new(m.pool_missing.clone()))?;
        registry.register(Box::new(m.pool_pending.clone()))?;
        registry.register(Box::new(m.pool_success.clone()))?;
        registry.register(Box::new(m.pool_batch_pending.clone()))?;
        Ok(m)
    }
}
