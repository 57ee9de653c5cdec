//! Where ProwJobs live. [`JobStore`] is the Kubernetes-shaped contract every component uses
//! (create, get, list with selectors, watch from a version, status updates with optimistic
//! concurrency, delete); backends:
//!
//! * [`memory::MemoryStore`]: tests and single-process use, nothing persisted;
//! * [`sqlite::SqliteStore`]: the all-in-one mode's store, one SQLite file (WAL) with a
//!   persisted resourceVersion counter and a bounded event log, so watches resume across restarts;
//! * `kube::KubeStore` (feature `kube`): `prow.k8s.io/v1` ProwJob objects through kube-rs, for
//!   users who keep their ProwJob CRD.
//!
//! Feature `conformance` exposes `conformance`, the suite every backend passes; callers that
//! write their own backend (or wrap one) can run it too. [`bench::bench_transitions`] measures a
//! backend's create + status-update throughput.
//!
//! Callers that want "read, modify, write until it sticks" use [`update_status_retrying`].

pub mod bench;
#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "kube")]
pub mod kube;
pub mod memory;
pub mod selector;
pub mod sqlite;

use async_trait::async_trait;
use futures::stream::BoxStream;
use prow_api::ProwJob;

pub use selector::{LabelSelector, ListParams};

/// Errors callers branch on.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// No job with that name.
    #[error("prowjob {0:?} not found")]
    NotFound(String),
    /// A job with that name already exists.
    #[error("prowjob {0:?} already exists")]
    AlreadyExists(String),
    /// The update was based on a stale `resourceVersion`; re-read and retry.
    #[error("conflict updating prowjob {0:?}: the object has been modified")]
    Conflict(String),
    /// A watch asked for a version that is no longer available (Kubernetes' 410 Gone); relist.
    #[error("watch version {0} is too old")]
    Gone(String),
    /// Invalid request (bad selector, missing name…).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The backend failed.
    #[error("job store backend: {0}")]
    Backend(String),
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One change seen by a watch.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// The job was created (or, on Kubernetes, started matching the selector).
    Added(ProwJob),
    /// The job was written; it carries the new object.
    Modified(ProwJob),
    /// The job was deleted; it carries the last state, with the deletion's resourceVersion.
    Deleted(ProwJob),
}

impl WatchEvent {
    /// The job the event is about.
    pub fn job(&self) -> &ProwJob {
        match self {
            WatchEvent::Added(j) | WatchEvent::Modified(j) | WatchEvent::Deleted(j) => j,
        }
    }
}

/// A list result and the store version it reflects (start a watch from it).
#[derive(Debug, Clone, PartialEq)]
pub struct JobList {
    /// The matching jobs, oldest first.
    pub items: Vec<ProwJob>,
    /// The store version the list reflects; pass it to [`JobStore::watch`].
    pub resource_version: String,
}

/// The ProwJob store.
///
/// Semantics follow the Kubernetes API: `metadata.resourceVersion` is set by the store on every
/// write; [`JobStore::update`] and [`JobStore::update_status`] fail with [`StoreError::Conflict`]
/// if the caller's `resourceVersion` is stale (an empty one means "unconditional").
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a new job. An empty `metadata.name` gets a random UUID (Prow's naming).
    async fn create(&self, job: ProwJob) -> Result<ProwJob>;
    /// The job named `name`.
    async fn get(&self, name: &str) -> Result<ProwJob>;
    /// Jobs matching `params`, oldest first by creation.
    async fn list(&self, params: &ListParams) -> Result<JobList>;
    /// Replaces spec, metadata and status.
    async fn update(&self, job: ProwJob) -> Result<ProwJob>;
    /// Replaces only the status (the CRD has no status subresource upstream, but callers must not
    /// rely on spec changes going through this).
    async fn update_status(&self, job: ProwJob) -> Result<ProwJob>;
    /// Deletes the job.
    async fn delete(&self, name: &str) -> Result<()>;
    /// Changes after `resource_version` (from [`JobStore::list`]), matching `params`. The stream
    /// ends on store shutdown; a too-old version yields [`StoreError::Gone`].
    async fn watch(
        &self,
        params: &ListParams,
        resource_version: &str,
    ) -> Result<BoxStream<'static, Result<WatchEvent>>>;
}

/// Now as a Kubernetes `Time`, in whole seconds (the wire format has no fractions, so this is
/// what a stored object reads back as).
pub(crate) fn now_time() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(chrono::Utc::now().timestamp())
            .unwrap_or_default(),
    )
}

/// Sets `apiVersion` / `kind` when a caller left them empty (`ProwJob::default()` does), as the
/// Kubernetes API server does for every object it returns.
pub(crate) fn fill_type_meta(job: &mut ProwJob) {
    if job.api_version.is_empty() {
        job.api_version = prow_api::prowjob::API_VERSION.to_owned();
    }
    if job.kind.is_empty() {
        job.kind = prow_api::prowjob::KIND.to_owned();
    }
}

/// How many times [`update_status_retrying`] re-reads and retries after a conflict.
pub const STATUS_RETRIES: usize = 8;

/// Reads `name`, lets `mutate` change its status and writes the status back with the version it
/// read; on [`StoreError::Conflict`] it re-reads and tries again, up to [`STATUS_RETRIES`] times.
/// `mutate` may run more than once, so it must derive the new status from the job it is given.
pub async fn update_status_retrying<F>(
    store: &dyn JobStore,
    name: &str,
    mut mutate: F,
) -> Result<ProwJob>
where
    F: FnMut(&mut ProwJob) + Send,
{
    let mut last = StoreError::Conflict(name.to_owned());
    for _ in 0..STATUS_RETRIES {
        let mut job = store.get(name).await?;
        mutate(&mut job);
        match store.update_status(job).await {
            Err(StoreError::Conflict(n)) => last = StoreError::Conflict(n),
            other => return other,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A MemoryStore whose first `conflicts` status updates fail with Conflict.
    struct Contended {
        inner: memory::MemoryStore,
        conflicts: usize,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl JobStore for Contended {
        async fn create(&self, job: ProwJob) -> Result<ProwJob> {
            self.inner.create(job).await
        }
        async fn get(&self, name: &str) -> Result<ProwJob> {
            self.inner.get(name).await
        }
        async fn list(&self, params: &ListParams) -> Result<JobList> {
            self.inner.list(params).await
        }
        async fn update(&self, job: ProwJob) -> Result<ProwJob> {
            self.inner.update(job).await
        }
        async fn update_status(&self, job: ProwJob) -> Result<ProwJob> {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.conflicts {
                return Err(StoreError::Conflict(job.name().to_owned()));
            }
            self.inner.update_status(job).await
        }
        async fn delete(&self, name: &str) -> Result<()> {
            self.inner.delete(name).await
        }
        async fn watch(
            &self,
            params: &ListParams,
            resource_version: &str,
        ) -> Result<BoxStream<'static, Result<WatchEvent>>> {
            self.inner.watch(params, resource_version).await
        }
    }

    async fn contended(conflicts: usize) -> Contended {
        let inner = memory::MemoryStore::default();
        let mut job = ProwJob::default();
        job.metadata.name = Some("a".into());
        inner.create(job).await.unwrap();
        Contended {
            inner,
            conflicts,
            calls: AtomicUsize::new(0),
        }
    }

    #[tokio::test]
    async fn update_status_retrying_rereads_after_conflicts() {
        let store = contended(3).await;
        let mut runs = 0;
        let job = update_status_retrying(&store, "a", |j| {
            runs += 1;
            j.status.pod_revival_count += 1;
        })
        .await
        .unwrap();
        assert_eq!(runs, 4, "three conflicts, then success");
        // Each attempt started from a fresh read, so the count went up once, not four times.
        assert_eq!(job.status.pod_revival_count, 1);

        let store = contended(usize::MAX).await;
        let mut runs = 0;
        let err = update_status_retrying(&store, "a", |_| runs += 1).await;
        assert_eq!(err, Err(StoreError::Conflict("a".into())));
        assert_eq!(runs, STATUS_RETRIES);

        assert_eq!(
            update_status_retrying(&store, "missing", |_| {}).await,
            Err(StoreError::NotFound("missing".into()))
        );
    }

    #[test]
    fn type_meta_is_filled_only_when_empty() {
        let mut j = ProwJob::default();
        fill_type_meta(&mut j);
        assert_eq!(
            (j.api_version.as_str(), j.kind.as_str()),
            ("prow.k8s.io/v1", "ProwJob")
        );
        j.kind = "Other".into();
        fill_type_meta(&mut j);
        assert_eq!(j.kind, "Other");
    }
}
