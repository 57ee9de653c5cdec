//! `prow hook`: builds the GitHub client, job store and plugins, then runs the webhook server.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use prow_config::{ConfigAgent, load_plugins};
use prow_github::GitHub;
use prow_hook::cli::{HookArgs, watch_file};
use prow_jobstore::JobStore;
use prow_plugins::{Dispatcher, PluginDeps};

/// Loads config.yaml + job config through a live agent.
pub fn config_agent(a: &HookArgs) -> anyhow::Result<Arc<ConfigAgent>> {
    ConfigAgent::start(a.config.load_options()).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs the hook with an explicit GitHub client and job store (shared with `prow local`).
pub async fn run_with(
    a: &HookArgs,
    github: Arc<dyn GitHub>,
    jobs: Arc<dyn JobStore>,
    config: Arc<ConfigAgent>,
    registry: prometheus::Registry,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    let _config_watch = config.watch(Duration::from_secs(10));
    let plugins_cfg = load_plugins(&a.plugin_config, false).map_err(|e| anyhow::anyhow!("{e}"))?;
    let plugins = Arc::new(ArcSwap::from_pointee(plugins_cfg));
    let p = plugins.clone();
    watch_file(
        a.plugin_config.clone(),
        Duration::from_secs(10),
        shutdown.clone(),
        |path| load_plugins(path, false).map_err(|e| anyhow::anyhow!("{e}")),
        move |cfg| p.store(Arc::new(cfg)),
    );
    let deps = PluginDeps::new(github, jobs, config, plugins.clone())
        .await
        .map_err(|e| anyhow::anyhow!("resolving the bot identity (GET /user): {e}"))?;
    let dispatcher = Dispatcher::new(deps, prow_plugins::registry());
    prow_hook::cli::run(
        a,
        plugins,
        Arc::new(prow_hook::PluginDispatch(dispatcher)),
        registry,
        shutdown,
    )
    .await
}

/// `prow hook`.
pub async fn run(a: HookArgs) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    let registry = prow_runtime::new_registry();
    let shutdown = prow_runtime::shutdown_on_signals();
    let config = config_agent(&a)?;
    let github: Arc<dyn GitHub> = Arc::new(a.github.client(a.dry_run, "hook", &registry)?);
    let namespace = config.config().prow.prowjob_namespace.clone();
    let jobs = super::jobstore::open(&a.job_store, &namespace, a.kubeconfig.as_deref()).await?;
    run_with(&a, github, jobs, config, registry, shutdown).await
}
