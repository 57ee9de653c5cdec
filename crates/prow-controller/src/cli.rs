//! Entry points the `prow` binary wires as subcommands (`prow controller`, `prow horologium`,
//! `prow sinker`, `prow tot`), with Prow's flag names. The binary builds the job store, the
//! executor and the leader lock from these flags (they need crates this one does not depend
//! on) and passes them in as deps.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use prow_executor::Executor;
use prow_jobstore::JobStore;
use prow_runtime::{InstrumentationArgs, Readiness, parse_go_bool, spawn_side_ports};
use tokio_util::sync::CancellationToken;

use crate::buildid::{BuildIds, Snowflake, TotClient};
use crate::controller::{self, ConfigGetter, Context, ControllerOptions};
use crate::leader::{LeaderLock, LeaderTiming, run_as_leader};
use crate::metrics::JobMetrics;

pub use prow_runtime::ConfigArgs;

/// `--kubeconfig`, `--kubeconfig-dir` (read by the binary when it builds clients).
#[derive(Debug, Clone, clap::Args)]
pub struct KubeArgs {
    /// Kubeconfig file(s); every context is a build cluster.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Directory of kubeconfig files.
    #[arg(long)]
    pub kubeconfig_dir: Option<PathBuf>,
}

fn go_bool(s: &str) -> Result<bool, String> {
    parse_go_bool(s)
}

/// `prow controller` (Prow's `prow-controller-manager` with plank).
#[derive(Debug, Clone, clap::Args)]
pub struct ControllerArgs {
    /// Config files.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Build clusters.
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
    /// tot's URL; without it build IDs are snowflake IDs.
    #[arg(long)]
    pub tot_url: Option<String>,
    /// Controllers to run (only `plank` exists).
    #[arg(long = "enable-controller", default_value = "plank")]
    pub enable_controller: Vec<String>,
    /// Whether to avoid mutating calls (Prow's default is true; production passes false).
    #[arg(long, default_value = "true", value_parser = go_bool, num_args = 0..=1, default_missing_value = "true")]
    pub dry_run: bool,
}

/// What `run_controller` needs besides flags.
pub struct ControllerDeps {
    /// Where ProwJobs live.
    pub store: Arc<dyn JobStore>,
    /// Runs the jobs.
    pub executor: Arc<dyn Executor>,
    /// The live config.
    pub config: ConfigGetter,
    /// Leader election (Lease in Kubernetes, file lock all-in-one); `None` = always act.
    pub leader: Option<Arc<dyn LeaderLock>>,
    /// Where metrics are registered (served on `--metrics-port`).
    pub registry: prometheus::Registry,
}

async fn side_ports(
    args: &InstrumentationArgs,
    registry: prometheus::Registry,
    shutdown: &CancellationToken,
) -> anyhow::Result<Readiness> {
    let ready = Readiness::new();
    spawn_side_ports(args, ready.clone(), registry, shutdown.clone())
        .await
        .context("binding the health and metrics ports")?;
    Ok(ready)
}

/// Runs `work` under the leader lock if there is one.
async fn maybe_leader<F, Fut>(
    leader: Option<Arc<dyn LeaderLock>>,
    shutdown: CancellationToken,
    mut work: F,
) where
    F: FnMut(CancellationToken) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    match leader {
        Some(l) => run_as_leader(l.as_ref(), LeaderTiming::default(), shutdown, work).await,
        None => work(shutdown).await,
    }
}

/// `prow controller`: runs plank until `shutdown`.
pub async fn run_controller(
    opts: ControllerArgs,
    deps: ControllerDeps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if !opts.enable_controller.iter().any(|c| c == "plank") {
        anyhow::bail!("no known controller enabled (only \"plank\" exists)");
    }
    let build_ids: Arc<dyn BuildIds> = match &opts.tot_url {
        Some(url) if !url.is_empty() => Arc::new(TotClient::new(url)?),
        _ => Arc::new(Snowflake::default()),
    };
    let ready = side_ports(&opts.instrumentation, deps.registry.clone(), &shutdown).await?;
    let workers = usize::try_from((deps.config)().prow.plank.max_goroutines)
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or(20);
    let metrics = Arc::new(JobMetrics::new(&deps.registry).context("registering plank metrics")?);
    if opts.dry_run {
        // Prow's dry-run makes its kube clients read-only; here the binary decides that when it
        // builds the store and executor it passes in.
        tracing::warn!("--dry-run=true: mutations depend on the store and executor given");
    }
    ready.set_ready();
    let (store, executor, config) = (deps.store, deps.executor, deps.config);
    maybe_leader(deps.leader, shutdown, move |token| {
        let ctx = Context::new(
            store.clone(),
            executor.clone(),
            build_ids.clone(),
            config.clone(),
        )
        .with_options(ControllerOptions {
            workers,
            ..Default::default()
        })
        .with_metrics(metrics.clone());
        controller::run(Arc::new(ctx), token)
    })
    .await;
    Ok(())
}

/// `prow horologium`.
#[derive(Debug, Clone, clap::Args)]
pub struct HorologiumArgs {
    /// Config files.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The ProwJob cluster.
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
    /// Whether to avoid creating ProwJobs.
    #[arg(long, default_value = "true", value_parser = go_bool, num_args = 0..=1, default_missing_value = "true")]
    pub dry_run: bool,
}

/// What horologium and sinker need besides flags.
pub struct PeriodicDeps {
    /// Where ProwJobs live.
    pub store: Arc<dyn JobStore>,
    /// The live config.
    pub config: ConfigGetter,
    /// Leader election; `None` = always act.
    pub leader: Option<Arc<dyn LeaderLock>>,
    /// Where metrics are registered.
    pub registry: prometheus::Registry,
}

/// `prow horologium`: creates periodic ProwJobs until `shutdown`.
pub async fn run_horologium(
    opts: HorologiumArgs,
    deps: PeriodicDeps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let ready = side_ports(&opts.instrumentation, deps.registry.clone(), &shutdown).await?;
    ready.set_ready();
    let (store, config, dry_run) = (deps.store, deps.config, opts.dry_run);
    maybe_leader(deps.leader, shutdown, move |token| {
        crate::horologium::run(store.clone(), config.clone(), dry_run, token)
    })
    .await;
    Ok(())
}

/// `prow sinker`.
#[derive(Debug, Clone, clap::Args)]
pub struct SinkerArgs {
    /// Config files.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Build clusters.
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
    /// Clean once and exit.
    #[arg(long, default_value = "false", value_parser = go_bool, num_args = 0..=1, default_missing_value = "true")]
    pub run_once: bool,
    /// Whether to avoid deleting anything.
    #[arg(long, default_value = "true", value_parser = go_bool, num_args = 0..=1, default_missing_value = "true")]
    pub dry_run: bool,
}

/// The Lease name sinker uses (Prow: `prow-sinker-leaderlock`).
pub const SINKER_LEASE: &str = "prow-sinker-leaderlock";

/// `prow sinker`: garbage-collects until `shutdown` (or once with `--run-once`).
pub async fn run_sinker(
    opts: SinkerArgs,
    deps: PeriodicDeps,
    executor: Arc<dyn Executor>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let ready = side_ports(&opts.instrumentation, deps.registry.clone(), &shutdown).await?;
    let metrics = Arc::new(
        crate::sinker::SinkerMetrics::new(&deps.registry).context("registering sinker metrics")?,
    );
    ready.set_ready();
    let (store, config) = (deps.store, deps.config);
    let (dry_run, run_once) = (opts.dry_run, opts.run_once);
    let done = shutdown.child_token();
    let finished = done.clone();
    maybe_leader(deps.leader, done, move |token| {
        let (store, executor, config, metrics, finished) = (
            store.clone(),
            executor.clone(),
            config.clone(),
            metrics.clone(),
            finished.clone(),
        );
        async move {
            crate::sinker::run(
                store,
                executor,
                config,
                Some(metrics),
                dry_run,
                run_once,
                token,
            )
            .await;
            if run_once {
                finished.cancel();
            }
        }
    })
    .await;
    Ok(())
}

/// `prow tot`.
#[derive(Debug, Clone, clap::Args)]
pub struct TotArgs {
    /// Port to listen on.
    #[arg(long, default_value_t = 8888)]
    pub port: u16,
    /// Where to store the results.
    #[arg(long, default_value = "tot.json")]
    pub storage: PathBuf,
    /// Fall back to the bucket's latest-build.txt for jobs tot has not seen.
    #[arg(long, default_value = "false", value_parser = go_bool, num_args = 0..=1, default_missing_value = "true")]
    pub fallback: bool,
    /// URL template (`%s` = job) of a job's latest-build.txt.
    #[arg(
        long,
        default_value = "https://storage.googleapis.com/kubernetes-jenkins/logs/%s/latest-build.txt"
    )]
    pub fallback_url_template: String,
    /// Bucket URL whose layout gives each configured job's latest-build.txt (needs
    /// `--config-path`).
    #[arg(long)]
    pub fallback_bucket: Option<String>,
    /// Config, for `--fallback-bucket`.
    #[arg(long)]
    pub config_path: Option<PathBuf>,
    /// Job config, for `--fallback-bucket`.
    #[arg(long)]
    pub job_config_path: Option<PathBuf>,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
}

/// `prow tot`: serves `/vend/<job>` until `shutdown`.
pub async fn run_tot(opts: TotArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
    use crate::tot::{FallbackUrl, HttpFallback, TotStore};
    let mut store = TotStore::open(&opts.storage)?;
    if opts.fallback {
        let url_for = match (&opts.fallback_bucket, &opts.config_path) {
            (Some(_), None) => anyhow::bail!(
                "you need to provide the prow config when a fallback bucket is specified"
            ),
            (Some(bucket), Some(path)) => {
                let cfg = prow_config::load(&prow_config::LoadOptions {
                    config_path: path.clone(),
                    job_config_path: opts.job_config_path.clone(),
                    ..Default::default()
                })
                .map_err(|e| anyhow::anyhow!("loading config: {e}"))?;
                let mut jobs = std::collections::BTreeMap::new();
                for p in cfg.jobs.presubmits.values().flatten() {
                    jobs.insert(p.base.name.clone(), prow_api::ProwJobType::Presubmit);
                }
                for p in cfg.jobs.postsubmits.values().flatten() {
                    jobs.entry(p.base.name.clone())
                        .or_insert(prow_api::ProwJobType::Postsubmit);
                }
                for p in &cfg.jobs.periodics {
                    jobs.entry(p.base.name.clone())
                        .or_insert(prow_api::ProwJobType::Periodic);
                }
                FallbackUrl::Bucket {
                    bucket: bucket.clone(),
                    jobs,
                }
            }
            (None, _) => FallbackUrl::Template(opts.fallback_url_template.clone()),
        };
        store = store.with_fallback(Arc::new(HttpFallback::new(url_for)));
    }
    let registry = prow_runtime::new_registry();
    let ready = side_ports(&opts.instrumentation, registry, &shutdown).await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", opts.port))
        .await
        .with_context(|| format!("binding port {}", opts.port))?;
    ready.set_ready();
    prow_runtime::serve_on(listener, crate::tot::router(Arc::new(store)), shutdown).await?;
    Ok(())
}

/// How long a controller's Lease lasts without renewal (client-go's default 15s).
pub const LEASE_DURATION: Duration = Duration::from_secs(15);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: Cmd,
    }

    #[derive(clap::Subcommand)]
    enum Cmd {
        Controller(ControllerArgs),
        Horologium(HorologiumArgs),
        Sinker(SinkerArgs),
        Tot(TotArgs),
    }

    #[test]
    fn prow_flag_names_parse() {
        let c = Cli::try_parse_from([
            "prow",
            "controller",
            "--config-path=/etc/config/config.yaml",
            "--job-config-path=/etc/job-config",
            "--tot-url=http://tot",
            "--dry-run=false",
            "--kubeconfig=/etc/kubeconfig/config",
            "--enable-controller=plank",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let Cmd::Controller(a) = c.cmd else {
            panic!("wrong subcommand")
        };
        assert!(!a.dry_run);
        assert_eq!(a.tot_url.as_deref(), Some("http://tot"));
        assert_eq!(
            a.config.job_config_path,
            Some(PathBuf::from("/etc/job-config"))
        );

        let c = Cli::try_parse_from(["prow", "sinker", "--run-once", "--config-path=c.yaml"])
            .unwrap_or_else(|e| panic!("{e}"));
        let Cmd::Sinker(s) = c.cmd else {
            panic!("wrong subcommand")
        };
        assert!(
            s.run_once && s.dry_run,
            "dry-run defaults to true like Prow"
        );

        let c = Cli::try_parse_from(["prow", "tot", "--storage=/data/tot.json", "--fallback"])
            .unwrap_or_else(|e| panic!("{e}"));
        let Cmd::Tot(t) = c.cmd else {
            panic!("wrong subcommand")
        };
        assert_eq!((t.port, t.fallback), (8888, true));
        assert!(Cli::try_parse_from(["prow", "horologium", "--dry-run=maybe"]).is_err());
    }

    #[tokio::test]
    async fn sinker_run_once_returns() {
        let store: Arc<dyn JobStore> = Arc::new(prow_jobstore::memory::MemoryStore::default());
        let exec: Arc<dyn Executor> = Arc::new(crate::fake::FakeExecutor::new());
        let args = SinkerArgs {
            config: ConfigArgs {
                config_path: "unused".into(),
                job_config_path: None,
                supplemental_prow_config_dirs: vec![],
                supplemental_prow_configs_filename_suffix: "_prowconfig.yaml".into(),
            },
            kube: KubeArgs {
                kubeconfig: None,
                kubeconfig_dir: None,
            },
            instrumentation: InstrumentationArgs {
                health_port: 0,
                metrics_port: 0,
                pprof_port: 0,
            },
            run_once: true,
            dry_run: true,
        };
        let deps = PeriodicDeps {
            store,
            config: controller::fixed_config(prow_config::Config::default()),
            leader: None,
            registry: prometheus::Registry::new(),
        };
        let shutdown = CancellationToken::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            run_sinker(args, deps, exec, shutdown.clone()),
        )
        .await
        .unwrap_or_else(|_| panic!("--run-once did not return"))
        .unwrap_or_else(|e| panic!("{e}"));
        shutdown.cancel();
    }
}
