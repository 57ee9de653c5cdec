//! `prow controller`, `prow horologium`, `prow sinker`, `prow tot` in Kubernetes mode: ProwJobs
//! are the `prow.k8s.io/v1` CRD in the infrastructure cluster (`--kubeconfig` / in-cluster),
//! pods go to the build clusters named by kubeconfig contexts, leader election uses Leases with
//! Prow's names.

use std::sync::Arc;

use prow_config::ConfigAgent;
use prow_controller::cli::{
    ControllerArgs, ControllerDeps, HorologiumArgs, KubeArgs, LEASE_DURATION, PeriodicDeps,
    SINKER_LEASE, SinkerArgs, TotArgs,
};
use prow_controller::controller::ConfigGetter;
use prow_controller::leader::{LeaderLock, LeaseLock};
use prow_executor::Executor;
use prow_executor::kube::KubeExecutor;
use prow_executor::kube::clusters::ClusterOptions;
use prow_jobstore::JobStore;

/// Prow's lease name for plank.
const CONTROLLER_LEASE: &str = "prow-controller-manager-leader-lock";
/// Lease for horologium (Prow runs it as a single replica; we elect anyway).
const HOROLOGIUM_LEASE: &str = "prow-horologium-leaderlock";

struct Kube {
    agent: Arc<ConfigAgent>,
    config: ConfigGetter,
    client: kube::Client,
    store: Arc<dyn JobStore>,
    _watch: prow_config::WatchHandle,
}

async fn infra(
    config: &prow_controller::cli::ConfigArgs,
    kube_args: &KubeArgs,
) -> anyhow::Result<Kube> {
    let agent = ConfigAgent::start(config.load_options()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let watch = agent.watch(std::time::Duration::from_secs(10));
    let client = super::jobstore::kube_client(kube_args.kubeconfig.as_deref()).await?;
    let ns = agent.config().prow.prowjob_namespace.clone();
    let store: Arc<dyn JobStore> =
        Arc::new(prow_jobstore::kube::KubeStore::new(client.clone(), &ns));
    let config: ConfigGetter = {
        let agent = agent.clone();
        Arc::new(move || agent.config())
    };
    Ok(Kube {
        agent,
        config,
        client,
        store,
        _watch: watch,
    })
}

fn lease(k: &Kube, name: &str) -> Arc<dyn LeaderLock> {
    let ns = k.agent.config().prow.prowjob_namespace.clone();
    let identity = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| uuid::Uuid::new_v4().to_string());
    Arc::new(LeaseLock::new(
        k.client.clone(),
        &ns,
        name,
        &identity,
        LEASE_DURATION,
    ))
}

async fn executor(k: &Kube, kube_args: &KubeArgs) -> anyhow::Result<Arc<dyn Executor>> {
    let pod_ns = k.agent.config().prow.pod_namespace.clone();
    let opts = ClusterOptions {
        kubeconfig: kube_args.kubeconfig.clone(),
        kubeconfig_dir: kube_args.kubeconfig_dir.clone(),
        ..Default::default()
    };
    Ok(Arc::new(
        KubeExecutor::from_kubeconfigs(&opts, &pod_ns).await?,
    ))
}

/// `prow controller`.
pub async fn controller(a: ControllerArgs) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    let shutdown = prow_runtime::shutdown_on_signals();
    let k = infra(&a.config, &a.kube).await?;
    let deps = ControllerDeps {
        store: k.store.clone(),
        executor: executor(&k, &a.kube).await?,
        config: k.config.clone(),
        leader: Some(lease(&k, CONTROLLER_LEASE)),
        registry: prow_runtime::new_registry(),
    };
    prow_controller::cli::run_controller(a, deps, shutdown).await
}

/// `prow horologium`.
pub async fn horologium(a: HorologiumArgs) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    let shutdown = prow_runtime::shutdown_on_signals();
    let k = infra(&a.config, &a.kube).await?;
    let deps = PeriodicDeps {
        store: k.store.clone(),
        config: k.config.clone(),
        leader: Some(lease(&k, HOROLOGIUM_LEASE)),
        registry: prow_runtime::new_registry(),
    };
    prow_controller::cli::run_horologium(a, deps, shutdown).await
}

/// `prow sinker`.
pub async fn sinker(a: SinkerArgs) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    let shutdown = prow_runtime::shutdown_on_signals();
    let k = infra(&a.config, &a.kube).await?;
    let exec = executor(&k, &a.kube).await?;
    let deps = PeriodicDeps {
        store: k.store.clone(),
        config: k.config.clone(),
        leader: Some(lease(&k, SINKER_LEASE)),
        registry: prow_runtime::new_registry(),
    };
    prow_controller::cli::run_sinker(a, deps, exec, shutdown).await
}

/// `prow tot`.
pub async fn tot(a: TotArgs) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    prow_controller::cli::run_tot(a, prow_runtime::shutdown_on_signals()).await
}
