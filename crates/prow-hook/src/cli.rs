//! `prow hook` flags (Prow's names and defaults, spec §1.1 / §1.3) and the hook's main loop.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use prow_config::plugins::PluginsConfig;
use prow_github::hmac::HmacSecrets;
use prow_runtime::{GitHubArgs, InstrumentationArgs, Readiness};
use tokio_util::sync::CancellationToken;

use crate::{Dispatch, EventLog, Hook, HookMetrics};

/// Flags of `prow hook`.
#[derive(Debug, Clone, clap::Args)]
pub struct HookArgs {
    /// Port to listen on.
    #[arg(long, default_value_t = 8888)]
    pub port: u16,
    /// Path the webhook is served on.
    #[arg(long, default_value = "/hook")]
    pub webhook_path: String,
    /// config.yaml, job config and supplemental config flags.
    #[command(flatten)]
    pub config: prow_runtime::ConfigArgs,
    /// Path to plugins.yaml.
    #[arg(long, default_value = "/etc/plugins/plugins.yaml")]
    pub plugin_config: PathBuf,
    /// Path to the HMAC secret (one token, or Prow's YAML map of rotating tokens).
    #[arg(long, default_value = "/etc/webhook/hmac")]
    pub hmac_secret_file: PathBuf,
    /// Do not mutate GitHub or create jobs for real (`--dry-run=false` to act).
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true",
          require_equals = true, value_parser = prow_runtime::parse_go_bool)]
    pub dry_run: bool,
    /// How long to wait for in-flight handlers on shutdown (Go duration).
    #[arg(long, default_value = "180s")]
    pub grace_period: String,
    /// Where the durable event log lives (SQLite; mount a volume there to survive pod loss).
    #[arg(long, default_value = "hook-events.sqlite")]
    pub event_log_path: PathBuf,
    /// `full` (fsync every commit: survives machine loss) or `normal` (survives process
    /// crashes such as SIGKILL, not power loss; lower latency on slow disks).
    #[arg(long, default_value = "full")]
    pub event_log_durability: crate::eventlog::Durability,
    /// Processed events older than this are pruned from the log (Go duration).
    #[arg(long, default_value = "168h")]
    pub event_log_retention: String,
    /// Where ProwJobs are created: `kube` (the ProwJob CRD via --kubeconfig or in-cluster
    /// config), `sqlite:PATH` (the all-in-one store) or `memory` (nothing persists).
    #[arg(long, default_value = "kube")]
    pub job_store: String,
    /// Kubeconfig for the `kube` job store (default: $KUBECONFIG, then in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Events processed concurrently.
    #[arg(long, default_value_t = 64)]
    pub workers: usize,
    /// GitHub flags.
    #[command(flatten)]
    pub github: GitHubArgs,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
}

impl HookArgs {
    /// `--grace-period` as a duration.
    pub fn grace(&self) -> anyhow::Result<Duration> {
        let d: prow_api::Duration = self.grace_period.parse()?;
        Ok(d.into())
    }
}

/// Reads the HMAC secret file.
pub fn read_secrets(path: &std::path::Path) -> anyhow::Result<HmacSecrets> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading --hmac-secret-file {}: {e}", path.display()))?;
    HmacSecrets::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Reloads a file-backed value when its modification time changes; keeps the old value (and
/// logs) when the new content is bad.
pub fn watch_file<T: Send + Sync + 'static>(
    path: PathBuf,
    period: Duration,
    shutdown: CancellationToken,
    load: impl Fn(&std::path::Path) -> anyhow::Result<T> + Send + 'static,
    apply: impl Fn(T) + Send + 'static,
) {
    tokio::spawn(async move {
        let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let mut last = mtime(&path);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(period) => {}
            }
            let now = mtime(&path);
            if now == last {
                continue;
            }
            last = now;
            match load(&path) {
                Ok(v) => {
                    apply(v);
                    tracing::info!(path = %path.display(), "reloaded");
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "reload failed; keeping the previous version")
                }
            }
        }
    });
}

/// Runs the hook until `shutdown`: opens the log, resumes unprocessed events, serves the
/// webhook, health and metrics ports, and drains in-flight handlers on the way out.
pub async fn run(
    args: &HookArgs,
    plugins: Arc<ArcSwap<PluginsConfig>>,
    dispatcher: Arc<dyn Dispatch>,
    registry: prometheus::Registry,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let grace = args.grace()?;
    let retention: Duration = args
        .event_log_retention
        .parse::<prow_api::Duration>()?
        .into();
    let secrets = read_secrets(&args.hmac_secret_file)?;
    let log = EventLog::open_with(&args.event_log_path, args.event_log_durability)?;
    let metrics = HookMetrics::new(&registry)?;
    let hook = Hook::new(secrets, plugins, log.clone(), dispatcher, metrics);

    let h = hook.clone();
    watch_file(
        args.hmac_secret_file.clone(),
        Duration::from_secs(5),
        shutdown.clone(),
        read_secrets,
        move |s| h.set_secrets(s),
    );
    let l = log.clone();
    let s = shutdown.clone();
    tokio::spawn(async move {
        loop {
            match l.prune(retention).await {
                Ok(n) if n > 0 => {
                    tracing::info!(pruned = n, "pruned processed events from the log")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning the event log failed"),
            }
            tokio::select! {
                _ = s.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            }
        }
    });

    hook.resume().await?;
    let ready = Readiness::new();
    prow_runtime::spawn_side_ports(
        &args.instrumentation,
        ready.clone(),
        registry,
        shutdown.clone(),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", args.port)).await?;
    tracing::info!(port = args.port, path = %args.webhook_path, dry_run = args.dry_run, "hook serving");
    let serve_token = CancellationToken::new();
    let server = tokio::spawn(prow_runtime::serve_on(
        listener,
        hook.router(&args.webhook_path),
        serve_token.clone(),
    ));
    ready.set_ready();
    let processor = {
        let h = hook.clone();
        let s = shutdown.clone();
        let workers = args.workers;
        tokio::spawn(async move { h.process(workers, s, grace).await })
    };
    shutdown.cancelled().await;
    serve_token.cancel();
    let _ = server.await;
    let _ = processor.await;
    tracing::info!("hook stopped");
    Ok(())
}
