//! Opening the job store a component was told to use (`--job-store`).

use std::path::Path;
use std::sync::Arc;

use prow_jobstore::JobStore;

/// The infrastructure cluster's client: `--kubeconfig` (its current context), else
/// `$KUBECONFIG` / in-cluster config.
pub async fn kube_client(kubeconfig: Option<&Path>) -> anyhow::Result<kube::Client> {
    Ok(match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)?;
            kube::Client::try_from(
                kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
            )?
        }
        None => kube::Client::try_default()
            .await
            .map_err(|e| anyhow::anyhow!("no --kubeconfig and no in-cluster config: {e}"))?,
    })
}

/// Opens `spec`: `kube`, `sqlite:PATH` or `memory`.
pub async fn open(
    spec: &str,
    namespace: &str,
    kubeconfig: Option<&Path>,
) -> anyhow::Result<Arc<dyn JobStore>> {
    if spec == "memory" {
        return Ok(Arc::new(prow_jobstore::memory::MemoryStore::new(namespace)));
    }
    if let Some(path) = spec.strip_prefix("sqlite:") {
        let store = prow_jobstore::sqlite::SqliteStore::open(path, namespace)
            .await
            .map_err(|e| anyhow::anyhow!("opening job store {path}: {e}"))?;
        return Ok(Arc::new(store));
    }
    if spec == "kube" {
        let client = match kubeconfig {
            Some(path) => {
                let kc = kube::config::Kubeconfig::read_from(path)?;
                let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
                kube::Client::try_from(cfg)?
            }
            None => kube::Client::try_default().await?,
        };
        return Ok(Arc::new(prow_jobstore::kube::KubeStore::new(
            client, namespace,
        )));
    }
    anyhow::bail!("unknown --job-store {spec:?}: want kube, sqlite:PATH or memory")
}

/// `prowjob_namespace` from config.yaml alone (Prow's default `default`), for components whose
/// library entry loads the full config itself: opening the job store must not load it twice.
pub fn namespace(config: &prow_runtime::ConfigArgs) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Ns {
        #[serde(default)]
        prowjob_namespace: Option<String>,
    }
    let path = &config.config_path;
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let ns: Ns =
        serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(ns
        .prowjob_namespace
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_owned()))
}
