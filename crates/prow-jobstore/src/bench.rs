//! Throughput measurement for a [`JobStore`]: how many "job created, then moved from `triggered`
//! to `pending`" transitions a backend sustains. This is the write pattern of hook (creates) plus
//! the controller (first status update); the target for SQLite is 500 transitions/s.
//!
//! The `bench_transitions` example runs it against every backend.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, PodSpec};
use prow_api::labels;
use prow_api::{ProwJob, ProwJobAgent, ProwJobState, ProwJobType, Pull, Refs};

use crate::{JobStore, Result};

/// A presubmit ProwJob shaped like the ones hook creates (labels, annotations, refs, a pod spec),
/// so stored rows have a realistic size. `i` makes the pull number and context vary.
pub fn sample_job(i: usize) -> ProwJob {
    let mut job = ProwJob::default();
    let job_name = "pull-example-unit-test";
    let pull = (i % 5000 + 1) as u64;
    let labels: BTreeMap<String, String> = [
        (labels::CREATED_BY_PROW, "true".to_string()),
        (labels::PROW_JOB_TYPE, "presubmit".to_string()),
        (labels::PROW_JOB_ANNOTATION, job_name.to_string()),
        (labels::ORG, "example-org".to_string()),
        (labels::REPO, "example-repo".to_string()),
        (labels::BASE_REF, "main".to_string()),
        (labels::PULL, pull.to_string()),
        (labels::CONTEXT_ANNOTATION, "unit-test".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    job.metadata.labels = Some(labels);
    job.metadata.annotations = Some(
        [
            (
                labels::PROW_JOB_ANNOTATION.to_string(),
                job_name.to_string(),
            ),
            (
                labels::CONTEXT_ANNOTATION.to_string(),
                "unit-test".to_string(),
            ),
        ]
        .into(),
    );
    job.spec.job_type = Some(ProwJobType::Presubmit);
    job.spec.agent = Some(ProwJobAgent::Kubernetes);
    job.spec.cluster = "default".into();
    job.spec.namespace = "test-pods".into();
    job.spec.job = job_name.into();
    job.spec.context = "unit-test".into();
    job.spec.report = true;
    job.spec.rerun_command = "/test unit-test".into();
    job.spec.refs = Some(Refs {
        org: "example-org".into(),
        repo: "example-repo".into(),
        base_ref: "main".into(),
        base_sha: "0123456789abcdef0123456789abcdef01234567".into(),
        pulls: vec![Pull {
            number: pull,
            author: "example-user".into(),
            sha: "89abcdef0123456789abcdef0123456789abcdef".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    job.spec.pod_spec = Some(PodSpec {
        containers: vec![Container {
            name: "test".into(),
            image: Some("registry.example.com/build/unit:v20260101".into()),
            command: Some(vec!["make".into()]),
            args: Some(vec!["test".into(), format!("SHARD={}", i % 8)]),
            ..Default::default()
        }],
        ..Default::default()
    });
    job.status.state = ProwJobState::Triggered;
    job.status.start_time = Some(chrono::Utc::now());
    job.status.description = "Job triggered.".into();
    job
}

/// One create + one `triggered` → `pending` status update (with the created resourceVersion).
async fn transition(store: &dyn JobStore, i: usize) -> Result<()> {
    let mut job = store.create(sample_job(i)).await?;
    job.status.state = ProwJobState::Pending;
    job.status.pending_time = Some(chrono::Utc::now());
    job.status.description = "Job running.".into();
    job.status.pod_name = job.name().to_owned();
    store.update_status(job).await?;
    Ok(())
}

/// Runs `n` transitions one after another and returns the wall time they took.
pub async fn bench_transitions(store: &dyn JobStore, n: usize) -> Result<Duration> {
    let start = Instant::now();
    for i in 0..n {
        transition(store, i).await?;
    }
    Ok(start.elapsed())
}

/// Runs `n` transitions spread over `tasks` concurrent tokio tasks (like several webhooks and
/// controller workers at once) and returns the wall time they took.
pub async fn bench_transitions_concurrent(
    store: Arc<dyn JobStore>,
    n: usize,
    tasks: usize,
) -> Result<Duration> {
    let tasks = tasks.max(1);
    let start = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let store = store.clone();
        // Task t takes every tasks-th index, so the counts add up to exactly n.
        handles.push(tokio::spawn(async move {
            for i in (t..n).step_by(tasks) {
                transition(store.as_ref(), i).await?;
            }
            Ok::<(), crate::StoreError>(())
        }));
    }
    for h in handles {
        h.await
            .map_err(|e| crate::StoreError::Backend(format!("benchmark task failed: {e}")))??;
    }
    Ok(start.elapsed())
}

/// Transitions per second for `n` transitions in `elapsed`.
pub fn per_second(n: usize, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        n as f64 / secs
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ListParams;
    use crate::memory::MemoryStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bench_performs_every_transition() {
        let store = Arc::new(MemoryStore::default());
        bench_transitions(store.as_ref(), 7).await.unwrap();
        bench_transitions_concurrent(store.clone(), 10, 3)
            .await
            .unwrap();
        let all = store.list(&ListParams::all()).await.unwrap();
        assert_eq!(all.items.len(), 17);
        assert!(
            all.items
                .iter()
                .all(|j| j.status.state == ProwJobState::Pending)
        );
        assert!(all.items.iter().all(|j| j.status.pod_name == j.name()));
    }

    #[test]
    fn rate() {
        assert_eq!(per_second(10, Duration::from_secs(2)), 5.0);
    }
}
