//! `prow crier`, `prow tide` and `prow status-reconciler` as standalone components: open the job store named by
//! `--job-store`, build the GitHub client from Prow's flags, and hand both to the library.

use std::sync::Arc;

use prow_config::ConfigAgent;

/// `prow tide`.
pub async fn tide(a: prow_tide::cli::TideArgs) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    let shutdown = prow_runtime::shutdown_on_signals();
    let registry = prow_runtime::new_registry();
    let agent = ConfigAgent::start(a.config.load_options()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let _watch = agent.watch(std::time::Duration::from_secs(10));
    let ns = agent.config().prow.prowjob_namespace.clone();
    let store = super::jobstore::open(&a.job_store, &ns, a.kubeconfig.as_deref()).await?;
    let github: Arc<dyn prow_github::GitHub> = Arc::new(a.github_client(&registry)?);
    let deps = prow_tide::TideDeps {
        github,
        store,
        config: prow_tide::cli::config_getter(agent.clone()),
        registry,
    };
    prow_tide::cli::run(a, deps, shutdown).await
}

/// `prow status-reconciler`.
pub async fn status_reconciler(
    a: prow_status_reconciler::cli::StatusReconcilerArgs,
) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    let shutdown = prow_runtime::shutdown_on_signals();
    let registry = prow_runtime::new_registry();
    let ns = super::jobstore::namespace(&a.config)?;
    let store = super::jobstore::open(&a.job_store, &ns, a.kubeconfig.as_deref()).await?;
    prow_status_reconciler::cli::run(
        a,
        prow_status_reconciler::cli::RunDeps { store, registry },
        shutdown,
    )
    .await
}

/// `prow crier`.
pub async fn crier(a: prow_crier::cli::CrierArgs) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    let shutdown = prow_runtime::shutdown_on_signals();
    let ns = super::jobstore::namespace(&a.config)?;
    let store = super::jobstore::open(&a.job_store, &ns, a.kubeconfig.as_deref()).await?;
    prow_crier::cli::run_with_store(a, store, shutdown).await
}
