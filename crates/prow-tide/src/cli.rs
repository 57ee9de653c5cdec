//! `prow tide`: Prow's flags (port 8888) and the standalone entry point. The binary builds the
//! GitHub client and the job store (from `--job-store`, like `prow hook`) and passes them in.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use prow_runtime::{ConfigArgs, GitHubArgs, InstrumentationArgs, Readiness, parse_go_bool};
use tokio_util::sync::CancellationToken;

use crate::sync::{TideDeps, TideOptions};

/// Flags of `prow tide`.
#[derive(Debug, Clone, clap::Args)]
pub struct TideArgs {
    /// Port serving `/` and `/history`.
    #[arg(long, default_value_t = 8888)]
    pub port: u16,
    /// Config files.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// GitHub flags.
    #[command(flatten)]
    pub github: GitHubArgs,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
    /// Do not create jobs, write statuses or merge (`--dry-run=false` to act).
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true",
          require_equals = true, value_parser = parse_go_bool)]
    pub dry_run: bool,
    /// GitHub tokens per hour for the sync controller.
    #[arg(long, default_value_t = 800)]
    pub sync_hourly_tokens: u32,
    /// GitHub tokens per hour for the status controller.
    #[arg(long, default_value_t = 400)]
    pub status_hourly_tokens: u32,
    /// Where the status controller keeps its search window across restarts (local file).
    #[arg(long, default_value = "")]
    pub status_path: String,
    /// Where history is persisted (a local file path; `gs://`/`s3://` are not supported yet).
    #[arg(long, default_value = "")]
    pub history_uri: String,
    /// History records kept per pool.
    #[arg(long, default_value_t = 1000)]
    pub max_records_per_pool: usize,
    /// Where ProwJobs live: `kube`, `sqlite:PATH` or `memory` (opened by the binary).
    #[arg(long, default_value = "kube")]
    pub job_store: String,
    /// Kubeconfig for the `kube` job store.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

impl TideArgs {
    /// The GitHub client for Tide: Prow gives the sync and status controllers their own
    /// throttles (`--sync-hourly-tokens`, `--status-hourly-tokens`); with one shared client the
    /// budget is their sum unless `--github-hourly-tokens` is set explicitly.
    pub fn github_client(
        &self,
        registry: &prometheus::Registry,
    ) -> anyhow::Result<prow_github::Client> {
        let mut gh = self.github.clone();
        if gh.github_hourly_tokens == 0 {
            gh.github_hourly_tokens = self
                .sync_hourly_tokens
                .saturating_add(self.status_hourly_tokens);
        }
        gh.client(self.dry_run, "tide", registry)
    }

    /// Options for the library entry from these flags.
    pub fn options(&self) -> anyhow::Result<TideOptions> {
        let history_path = match self.history_uri.as_str() {
            "" => None,
            u if u.starts_with("gs://") || u.starts_with("s3://") => {
                anyhow::bail!("--history-uri {u}: only local paths are supported")
            }
            u => Some(PathBuf::from(u.strip_prefix("file://").unwrap_or(u))),
        };
        let status_path = match self.status_path.as_str() {
            "" => None,
            u if u.starts_with("gs://") || u.starts_with("s3://") => {
                anyhow::bail!("--status-path {u}: only local paths are supported")
            }
            u => Some(PathBuf::from(u.strip_prefix("file://").unwrap_or(u))),
        };
        Ok(TideOptions {
            dry_run: self.dry_run,
            status_path,
            max_records_per_pool: self.max_records_per_pool,
            history_path,
            ..Default::default()
        })
    }
}

/// Runs Tide until `shutdown`: the sync and status loops, `:port` with `/` and `/history`, and
/// the health/metrics ports.
pub async fn run(
    args: TideArgs,
    deps: TideDeps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let opts = args.options()?;
    let ready = Readiness::new();
    prow_runtime::spawn_side_ports(
        &args.instrumentation,
        ready.clone(),
        deps.registry.clone(),
        shutdown.clone(),
    )
    .await
    .context("binding the health and metrics ports")?;
    let tide = crate::sync::run(deps, opts, shutdown.clone()).await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", args.port))
        .await
        .with_context(|| format!("binding port {}", args.port))?;
    tracing::info!(port = args.port, dry_run = args.dry_run, "tide serving");
    ready.set_ready();
    prow_runtime::serve_on(listener, crate::http::router(tide), shutdown).await?;
    Ok(())
}

/// Convenience for callers holding a config agent.
pub fn config_getter(agent: Arc<prow_config::ConfigAgent>) -> crate::sync::ConfigGetter {
    Arc::new(move || agent.config())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        tide: TideArgs,
    }

    #[test]
    fn prow_flags_parse() {
        let c = Cli::try_parse_from([
            "tide",
            "--dry-run=false",
            "--config-path=/etc/config/config.yaml",
            "--job-config-path=/etc/job-config",
            "--github-token-path=/etc/github/oauth",
            "--github-endpoint=http://ghproxy",
            "--sync-hourly-tokens=1200",
            "--history-uri=/var/tide/history.json",
            "--status-path=/var/tide/status.json",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let a = c.tide;
        assert!(!a.dry_run);
        assert_eq!(
            (a.port, a.sync_hourly_tokens, a.status_hourly_tokens),
            (8888, 1200, 400)
        );
        let o = a.options().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            o.history_path,
            Some(PathBuf::from("/var/tide/history.json"))
        );
        assert!(!o.dry_run);
        assert_eq!(o.status_path, Some(PathBuf::from("/var/tide/status.json")));
        let d = Cli::try_parse_from(["tide"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(d.tide.dry_run, "Prow's default");
        let g = Cli::try_parse_from(["tide", "--history-uri=gs://bucket/h.json"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(g.tide.options().is_err());
    }
}
