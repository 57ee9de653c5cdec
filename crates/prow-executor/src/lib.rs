//! Executors run a ProwJob's workload and report how it is going. The controller (plank) is
//! written against [`Executor`] only, so the same reconcile logic drives decorated Pods in
//! Kubernetes build clusters ([`kube`]) and local processes in all-in-one mode ([`local`]).
//!
//! The vocabulary is the Pod's, because that is what plank reasons about (spec §2.2): a run is
//! pending (maybe not yet scheduled), running, succeeded or failed, and can stop unexpectedly
//! (evicted, OOM-killed, node unreachable) — which plank turns into revivals or errors.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prow_api::ProwJob;

#[cfg(feature = "kube")]
pub mod kube;
#[cfg(feature = "local")]
pub mod local;

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The job's build cluster / backend is not configured here.
    #[error("unknown build cluster {0:?}")]
    UnknownCluster(String),
    /// The job cannot be run as configured (bad pod spec, missing decoration config…): the job
    /// should end in `error` with this message.
    #[error("invalid job: {0}")]
    Invalid(String),
    /// A transient failure talking to the backend; retry later.
    #[error("executor backend: {0}")]
    Backend(String),
}

/// Result alias.
pub type Result<T, E = ExecError> = std::result::Result<T, E>;

/// Why a run stopped without finishing (Prow plank's `PodUnexpectedStopCause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnexpectedStop {
    /// Evicted by the node (revived unless `error_on_eviction`).
    Evicted,
    /// A container was OOM-killed (job errors).
    OomKilled,
    /// The node became unreachable while the run was being deleted (revived).
    Unreachable,
    /// The backend lost track of the run (pod phase Unknown; revived).
    Unknown,
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunPhase {
    /// No run exists for this job (never started, or deleted behind our back).
    Missing,
    /// Created, not yet running. `scheduled` is false while no node/slot is assigned.
    Pending {
        /// Assigned to a node (Kubernetes) / process spawned (local).
        scheduled: bool,
    },
    /// Running.
    Running,
    /// Finished with success.
    Succeeded,
    /// Finished with failure.
    Failed,
    /// Stopped without finishing.
    Stopped(UnexpectedStop),
}

/// What the executor knows about a job's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStatus {
    /// The phase.
    pub phase: RunPhase,
    /// Name of the run (the Pod's name, = ProwJob name in Prow).
    pub name: String,
    /// Build ID the run was started with (the `prow.k8s.io/build-id` label).
    pub build_id: Option<String>,
    /// When the run was created.
    pub created: Option<DateTime<Utc>>,
    /// When it started running.
    pub started: Option<DateTime<Utc>>,
    /// Backend's explanation (pod status message / exit status), for descriptions and logs.
    pub message: Option<String>,
}

/// A run found by [`Executor::list_runs`] (for sinker's orphan and age checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// Run (pod) name.
    pub name: String,
    /// Build cluster alias.
    pub cluster: String,
    /// Labels (`created-by-prow`, `prow.k8s.io/id`, …).
    pub labels: std::collections::BTreeMap<String, String>,
    /// Phase.
    pub phase: RunPhase,
    /// Creation time.
    pub created: Option<DateTime<Utc>>,
    /// When it finished (Succeeded/Failed), if known.
    pub finished: Option<DateTime<Utc>>,
}

/// Runs ProwJob workloads.
///
/// Every method is idempotent with respect to the job's name, because reconcile loops retry:
/// `start` on a job whose run already exists returns its status without starting another.
#[async_trait]
pub trait Executor: Send + Sync {
    /// Starts the job's workload with `build_id` (the job is `triggered`; its spec is defaulted).
    async fn start(&self, job: &ProwJob, build_id: &str) -> Result<RunStatus>;
    /// Current status of the job's run.
    async fn status(&self, job: &ProwJob) -> Result<RunStatus>;
    /// Stops the run (aborted jobs, timeouts); the run's resources remain until [`Executor::delete`].
    async fn abort(&self, job: &ProwJob) -> Result<()>;
    /// Removes the run and its resources (revivals, sinker). Missing runs are not an error.
    async fn delete(&self, job: &ProwJob) -> Result<()>;
    /// Every run this executor manages (created by Prow), in every build cluster it serves.
    async fn list_runs(&self) -> Result<Vec<RunInfo>>;
    /// Deletes a run by cluster and name (sinker's orphan cleanup).
    async fn delete_run(&self, cluster: &str, name: &str) -> Result<()>;
    /// The run's combined log so far (Deck's live log), if any.
    async fn logs(&self, job: &ProwJob) -> Result<Option<String>>;
}
