//! The Kubernetes executor: runs each ProwJob as a (decorated) Pod in a build cluster, as
//! Prow's plank does.
//!
//! * [`decorate`] renders the Pod (pure; same input ⇒ same Pod as Prow's `ProwJobToPod`).
//! * [`status`] maps Pod status to [`RunPhase`] (pure; plank's rules, including the
//!   unexpected-stop causes).
//! * [`clusters`] builds one `kube::Client` per build-cluster alias from kubeconfig files.
//! * [`KubeExecutor`] is the thin I/O shell implementing [`Executor`] with kube-rs.
//!
//! The pod is named after the ProwJob and lives in the job's `spec.namespace`, or the
//! executor's pod namespace when that is empty.

pub mod clusters;
pub mod decorate;
pub mod status;

use std::collections::BTreeMap;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use prow_api::{ProwJob, labels};

use crate::{ExecError, Executor, Result, RunInfo, RunPhase, RunStatus};

/// Runs ProwJobs as Pods in one or more build clusters.
#[derive(Clone)]
pub struct KubeExecutor {
    clusters: BTreeMap<String, kube::Client>,
    pod_namespace: String,
    version: Option<String>,
}

impl std::fmt::Debug for KubeExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeExecutor")
            .field("clusters", &self.clusters.keys().collect::<Vec<_>>())
            .field("pod_namespace", &self.pod_namespace)
            .field("version", &self.version)
            .finish()
    }
}

impl KubeExecutor {
    /// An executor without clusters; pods go to `pod_namespace` unless a job names another.
    pub fn new(pod_namespace: &str) -> Self {
        KubeExecutor {
            clusters: BTreeMap::new(),
            pod_namespace: pod_namespace.to_string(),
            version: None,
        }
    }

    /// Serves build cluster `alias` through `client`.
    pub fn with_cluster(mut self, alias: &str, client: kube::Client) -> Self {
        self.clusters.insert(alias.to_string(), client);
        self
    }

    /// Serves every alias of `clients` (see [`clusters::load_clients`]).
    pub fn with_clusters(mut self, clients: BTreeMap<String, kube::Client>) -> Self {
        self.clusters.extend(clients);
        self
    }

    /// Sets the `prow.k8s.io/plank-version` label put on created pods.
    pub fn with_version(mut self, version: &str) -> Self {
        self.version = Some(version.to_string());
        self
    }

    /// Loads build clusters from kubeconfigs (see [`clusters::ClusterOptions`]).
    pub async fn from_kubeconfigs(
        opts: &clusters::ClusterOptions,
        pod_namespace: &str,
    ) -> Result<Self, clusters::ClusterError> {
        let clients = clusters::load_clients(opts).await?;
        Ok(KubeExecutor::new(pod_namespace).with_clusters(clients))
    }

    /// The configured cluster aliases.
    pub fn cluster_aliases(&self) -> Vec<String> {
        self.clusters.keys().cloned().collect()
    }

    /// The namespace the job's pod lives in.
    pub fn namespace_for(&self, job: &ProwJob) -> String {
        if job.spec.namespace.is_empty() {
            self.pod_namespace.clone()
        } else {
            job.spec.namespace.clone()
        }
    }

    /// The Pod `start` would create for `job` with `build_id` (namespace and version label
    /// included).
    pub fn render_pod(&self, job: &ProwJob, build_id: &str) -> Result<Pod> {
        let mut pod = decorate::prowjob_to_pod(job, build_id)
            .map_err(|e| ExecError::Invalid(e.to_string()))?;
        pod.metadata.namespace = Some(self.namespace_for(job));
        if let Some(v) = &self.version {
            pod.metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert(labels::PLANK_VERSION.to_string(), v.clone());
        }
        Ok(pod)
    }

    fn client(&self, alias: &str) -> Result<&kube::Client> {
        self.clusters
            .get(alias)
            .ok_or_else(|| ExecError::UnknownCluster(alias.to_string()))
    }

    fn pods_for(&self, job: &ProwJob) -> Result<Api<Pod>> {
        let client = self.client(cluster_alias(job))?;
        Ok(Api::namespaced(client.clone(), &self.namespace_for(job)))
    }

    async fn get_pod(api: &Api<Pod>, name: &str) -> Result<Option<Pod>> {
        api.get_opt(name).await.map_err(backend)
    }

    async fn delete_pod(api: &Api<Pod>, name: &str) -> Result<()> {
        // The pod's own terminationGracePeriodSeconds applies, so the sidecar can upload.
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}

/// The job's build cluster alias (`default` when unset).
pub fn cluster_alias(job: &ProwJob) -> &str {
    if job.spec.cluster.is_empty() {
        clusters::DEFAULT_CLUSTER_ALIAS
    } else {
        &job.spec.cluster
    }
}

fn backend(e: kube::Error) -> ExecError {
    ExecError::Backend(e.to_string())
}

/// Create errors: the API rejecting the object (4xx other than conflicts and throttling) means
/// the job cannot run as configured; everything else is worth a retry.
fn create_error(e: kube::Error) -> ExecError {
    match &e {
        kube::Error::Api(s) if (400..500).contains(&s.code) && s.code != 409 && s.code != 429 => {
            ExecError::Invalid(e.to_string())
        }
        _ => backend(e),
    }
}

fn missing(name: &str) -> RunStatus {
    RunStatus {
        phase: RunPhase::Missing,
        name: name.to_string(),
        build_id: None,
        created: None,
        started: None,
        message: None,
    }
}

#[async_trait]
impl Executor for KubeExecutor {
    async fn start(&self, job: &ProwJob, build_id: &str) -> Result<RunStatus> {
        let api = self.pods_for(job)?;
        let pod = self.render_pod(job, build_id)?;
        match api.create(&PostParams::default(), &pod).await {
            Ok(created) => Ok(status::run_status(&created)),
            Err(kube::Error::Api(s)) if s.is_already_exists() => {
                // A previous attempt created it; report that run instead of starting another.
                match Self::get_pod(&api, job.name()).await? {
                    Some(existing) => Ok(status::run_status(&existing)),
                    None => Err(ExecError::Backend(format!(
                        "pod {} already exists but cannot be read",
                        job.name()
                    ))),
                }
            }
            Err(e) => Err(create_error(e)),
        }
    }

    async fn status(&self, job: &ProwJob) -> Result<RunStatus> {
        let api = self.pods_for(job)?;
        Ok(match Self::get_pod(&api, job.name()).await? {
            Some(pod) => status::run_status(&pod),
            None => missing(job.name()),
        })
    }

    async fn abort(&self, job: &ProwJob) -> Result<()> {
        // Prow aborts by deleting the pod: entrypoint gets SIGTERM, the sidecar uploads what
        // it has within the grace period.
        let api = self.pods_for(job)?;
        Self::delete_pod(&api, job.name()).await
    }

    async fn delete(&self, job: &ProwJob) -> Result<()> {
        let api = self.pods_for(job)?;
        Self::delete_pod(&api, job.name()).await
    }

    async fn list_runs(&self) -> Result<Vec<RunInfo>> {
        let selector = format!("{}=true", labels::CREATED_BY_PROW);
        let mut out = Vec::new();
        for (alias, client) in &self.clusters {
            let api: Api<Pod> = Api::namespaced(client.clone(), &self.pod_namespace);
            let pods = api
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| ExecError::Backend(format!("cluster {alias}: {e}")))?;
            out.extend(pods.items.iter().map(|p| status::run_info(alias, p)));
        }
        Ok(out)
    }

    async fn delete_run(&self, cluster: &str, name: &str) -> Result<()> {
        let client = self.client(cluster)?;
        let api: Api<Pod> = Api::namespaced(client.clone(), &self.pod_namespace);
        Self::delete_pod(&api, name).await
    }

    async fn logs(&self, job: &ProwJob) -> Result<Option<String>> {
        let api = self.pods_for(job)?;
        let Some(pod) = Self::get_pod(&api, job.name()).await? else {
            return Ok(None);
        };
        // The test containers' output; the sidecar's own log is not the job's log.
        let names: Vec<String> = pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .map(|c| c.name.clone())
            .filter(|n| n != decorate::SIDECAR_NAME)
            .collect();
        let mut parts = Vec::new();
        for name in &names {
            let params = LogParams {
                container: Some(name.clone()),
                ..Default::default()
            };
            match api.logs(job.name(), &params).await {
                Ok(text) => parts.push((name.clone(), text)),
                // Not started yet (400) or already gone (404): nothing to show for it.
                Err(kube::Error::Api(s)) if s.code == 400 || s.is_not_found() => {}
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(match parts.len() {
            0 => None,
            1 => parts.pop().map(|(_, text)| text),
            _ => Some(
                parts
                    .iter()
                    .map(|(name, text)| format!("==== {name} ====\n{text}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        })
    }
}
