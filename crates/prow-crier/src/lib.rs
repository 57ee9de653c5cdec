//! crier (`prow crier`, spec §6): reports ProwJob state changes.
//!
//! One controller per enabled [`Reporter`] watches the [`JobStore`]; for every job whose state
//! differs from `status.prev_report_states[<reporter name>]` and that the reporter wants, it
//! reports and then records the state there, so every state is reported once, across restarts
//! too. A process that dies between the report and the record leaves the state unrecorded; the
//! next one reports it again, so reporters make that repeat harmless (the GitHub reporter reads
//! before its first write per job; see [`github::GitHubReporter`]). Failures requeue the job with exponential backoff (honouring GitHub's `retry-after`);
//! reporters have separate queues and workers, so one failing never blocks another.
//!
//! Reporters:
//! * [`github::GitHubReporter`] (`github-reporter`): commit statuses and the failure-table comment;
//! * [`slack::SlackReporterImpl`] (`slackreporter`): `chat.postMessage` per `report_template`;
//! * [`blob::BlobReporter`] (`gcsreporter`): `prowjob.json`, `started.json`, `finished.json`.
//!
//! Jobs of repositories outside `--github-enabled-org`/`-repo` (or inside the disabled lists) are
//! ignored ([`Enablement`]).
//!
//! Entry points: [`run`] (in-process deps, for `prow local`), [`run_reporters`] (any reporters)
//! and [`cli::run`] (the standalone `prow crier` with Prow's flags).

pub mod blob;
pub mod cli;
pub mod controller;
pub mod enablement;
pub mod github;
pub mod metrics;
pub mod slack;

use std::sync::Arc;

use async_trait::async_trait;
use prow_api::ProwJob;
use prow_jobstore::JobStore;
use tokio_util::sync::CancellationToken;

pub use controller::{Timing, record_reported};
pub use enablement::Enablement;
pub use metrics::CrierMetrics;

/// The live config (same shape as `prow_controller::controller::ConfigGetter`).
pub type ConfigGetter = prow_controller::controller::ConfigGetter;

/// One way of reporting jobs.
#[async_trait]
pub trait Reporter: Send + Sync {
    /// The name recorded in `status.prev_report_states`.
    fn name(&self) -> &'static str;
    /// Whether this reporter cares about the job at all.
    fn should_report(&self, pj: &ProwJob) -> bool;
    /// Reports the job's current state. An error requeues the job with backoff.
    async fn report(&self, pj: &ProwJob) -> anyhow::Result<()>;
}

/// What [`run`] talks to. Reporters whose dependency is `None` cannot be enabled.
pub struct CrierDeps {
    /// Where ProwJobs live.
    pub store: Arc<dyn JobStore>,
    /// The live config.
    pub config: ConfigGetter,
    /// Where metrics are registered.
    pub registry: prometheus::Registry,
    /// GitHub, for `github-reporter` (rate limits are the client's business).
    pub github: Option<Arc<dyn prow_github::GitHub>>,
    /// Slack, for `slackreporter`.
    pub slack: Option<Arc<slack::SlackClient>>,
    /// Bucket → store, for `gcsreporter`.
    pub storage: Option<blob::StorageResolver>,
}

/// Which reporters run and how.
#[derive(Debug, Clone, Default)]
pub struct CrierOptions {
    /// `--github-workers` (0 = disabled).
    pub github_workers: usize,
    /// `--slack-workers` (0 = disabled).
    pub slack_workers: usize,
    /// `--blob-storage-workers` (0 = disabled).
    pub blob_storage_workers: usize,
    /// `--report-agent`: only report jobs of this agent (GitHub and Slack).
    pub report_agent: Option<String>,
    /// `--dry-run`: log instead of writing.
    pub dry_run: bool,
    /// Which repositories' jobs are handled (`--github-enabled-org` etc.).
    pub enablement: Enablement,
    /// Backoff and timeouts.
    pub timing: Timing,
}

/// Builds the reporters `opts` enables from `deps`. Errors when one is enabled without its
/// dependency.
pub fn build_reporters(
    deps: &CrierDeps,
    opts: &CrierOptions,
) -> anyhow::Result<Vec<(Arc<dyn Reporter>, usize)>> {
    let mut out: Vec<(Arc<dyn Reporter>, usize)> = Vec::new();
    if opts.github_workers > 0 {
        let gh = deps
            .github
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--github-workers set but no GitHub client"))?;
        out.push((
            Arc::new(github::GitHubReporter::new(
                gh,
                deps.config.clone(),
                deps.store.clone(),
                opts.report_agent.clone(),
                opts.dry_run,
            )),
            opts.github_workers,
        ));
    }
    if opts.slack_workers > 0 {
        let client = deps
            .slack
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--slack-workers set but no Slack token"))?;
        out.push((
            Arc::new(slack::SlackReporterImpl::new(
                client,
                deps.config.clone(),
                opts.report_agent.clone(),
                opts.dry_run,
            )),
            opts.slack_workers,
        ));
    }
    if opts.blob_storage_workers > 0 {
        let resolver = deps
            .storage
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--blob-storage-workers set but no storage"))?;
        out.push((
            Arc::new(blob::BlobReporter::new(
                deps.config.clone(),
                resolver,
                opts.dry_run,
            )),
            opts.blob_storage_workers,
        ));
    }
    Ok(out)
}

/// Runs the reporters `opts` enables until `shutdown`; in-flight reports finish first.
pub async fn run(
    deps: CrierDeps,
    opts: CrierOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let reporters = build_reporters(&deps, &opts)?;
    if reporters.is_empty() {
        anyhow::bail!(
            "no reporter enabled: set one of --github-workers, --slack-workers, --blob-storage-workers"
        );
    }
    let metrics = Arc::new(CrierMetrics::new(&deps.registry)?);
    run_reporters(
        deps.store,
        reporters,
        metrics,
        opts.enablement,
        opts.timing,
        shutdown,
    )
    .await;
    Ok(())
}

/// Runs one controller per `(reporter, workers)` until `shutdown`.
pub async fn run_reporters(
    store: Arc<dyn JobStore>,
    reporters: Vec<(Arc<dyn Reporter>, usize)>,
    metrics: Arc<CrierMetrics>,
    enablement: Enablement,
    timing: Timing,
    shutdown: CancellationToken,
) {
    let enablement = Arc::new(enablement);
    let mut set = tokio::task::JoinSet::new();
    for (reporter, workers) in reporters {
        let c = Arc::new(controller::ReporterController {
            reporter,
            store: store.clone(),
            metrics: metrics.clone(),
            enablement: enablement.clone(),
            timing: timing.clone(),
            workers,
            queue: Arc::default(),
        });
        set.spawn(c.run(shutdown.clone()));
    }
    while set.join_next().await.is_some() {}
}
