//! Pure mapping of a Pod's status to the executor vocabulary, following plank's
//! `syncPendingJob` and `getPodUnexpectedStopCause`.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_api::labels;

use crate::{RunInfo, RunPhase, RunStatus, UnexpectedStop};

/// `status.reason` of a pod evicted by the kubelet.
pub const EVICTED: &str = "Evicted";
/// `status.reason` set by the node controller when a node stops responding.
pub const NODE_UNREACHABLE: &str = "NodeLost";
/// `state.terminated.reason` of a container killed for exceeding its memory limit.
pub const OOM_KILLED: &str = "OOMKilled";
/// Message when a pod reports `Succeeded` but a container did not finish with 0.
pub const SUCCEEDED_BUT_UNFINISHED: &str =
    "Pod was in succeeded phase but some containers didn't finish";

/// Converts a Kubernetes timestamp.
pub fn to_chrono(t: &Time) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(t.0.subsec_nanosecond()).ok()?;
    DateTime::from_timestamp(t.0.as_second(), nanos)
}

fn all_container_statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(
            status
                .and_then(|s| s.init_container_statuses.as_ref())
                .into_iter()
                .flatten(),
        )
}

fn phase_str(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Why the pod stopped without finishing, if it did (Prow's `getPodUnexpectedStopCause`).
pub fn unexpected_stop(pod: &Pod) -> Option<UnexpectedStop> {
    let reason = pod
        .status
        .as_ref()
        .and_then(|s| s.reason.as_deref())
        .unwrap_or("");
    if reason == EVICTED {
        return Some(UnexpectedStop::Evicted);
    }
    if reason == NODE_UNREACHABLE && pod.metadata.deletion_timestamp.is_some() {
        return Some(UnexpectedStop::Unreachable);
    }
    let phase = phase_str(pod);
    // Only a pod still running counts: a failed pod whose container was OOM-killed is an
    // ordinary failure for Prow.
    if phase == "Running"
        && all_container_statuses(pod).any(|c| {
            c.state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .is_some_and(|t| t.reason.as_deref() == Some(OOM_KILLED))
        })
    {
        return Some(UnexpectedStop::OomKilled);
    }
    if phase == "Unknown" {
        return Some(UnexpectedStop::Unknown);
    }
    None
}

/// Every container (init ones included) terminated with exit code 0 and a finish time
/// (Prow's `didPodSucceed`; kubernetes/kubernetes#58711 made the phase alone unreliable).
pub fn did_pod_succeed(pod: &Pod) -> bool {
    phase_str(pod) == "Succeeded"
        && all_container_statuses(pod).all(|c| {
            c.state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .is_some_and(|t| t.exit_code == 0 && t.finished_at.is_some())
        })
}

/// Whether the pod has been placed on a node: `PodScheduled` is true or the kubelet set
/// `status.startTime`.
pub fn is_scheduled(pod: &Pod) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return false;
    };
    status.start_time.is_some()
        || status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "PodScheduled" && c.status == "True")
}

/// The run phase of a pod.
pub fn pod_phase(pod: &Pod) -> RunPhase {
    if let Some(stop) = unexpected_stop(pod) {
        return RunPhase::Stopped(stop);
    }
    match phase_str(pod) {
        "Succeeded" if did_pod_succeed(pod) => RunPhase::Succeeded,
        "Succeeded" | "Failed" => RunPhase::Failed,
        "Running" => RunPhase::Running,
        // Pending, or a phase not yet set by the API server.
        _ => RunPhase::Pending {
            scheduled: is_scheduled(pod),
        },
    }
}

/// The backend's explanation for a pod: the status message, else the first terminated or
/// waiting container's reason and message.
pub fn pod_message(pod: &Pod) -> Option<String> {
    if phase_str(pod) == "Succeeded" && !did_pod_succeed(pod) {
        return Some(SUCCEEDED_BUT_UNFINISHED.to_string());
    }
    let status = pod.status.as_ref()?;
    if let Some(m) = status.message.as_ref().filter(|m| !m.is_empty()) {
        return Some(m.clone());
    }
    for c in all_container_statuses(pod) {
        let Some(state) = c.state.as_ref() else {
            continue;
        };
        if let Some(t) = state.terminated.as_ref().filter(|t| t.exit_code != 0) {
            let reason = t.reason.clone().unwrap_or_default();
            let msg = t.message.clone().unwrap_or_default();
            return Some(
                format!(
                    "container {} exited {}: {reason} {msg}",
                    c.name, t.exit_code
                )
                .trim_end()
                .to_string(),
            );
        }
        if let Some(w) = state.waiting.as_ref() {
            let reason = w.reason.clone().unwrap_or_default();
            let msg = w.message.clone().unwrap_or_default();
            return Some(
                format!("container {} waiting: {reason} {msg}", c.name)
                    .trim_end()
                    .to_string(),
            );
        }
    }
    None
}

/// The latest container finish time of a finished pod.
pub fn finished_at(pod: &Pod) -> Option<DateTime<Utc>> {
    if !matches!(phase_str(pod), "Succeeded" | "Failed") {
        return None;
    }
    all_container_statuses(pod)
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .filter_map(to_chrono)
        .max()
}

/// [`RunStatus`] of a pod.
pub fn run_status(pod: &Pod) -> RunStatus {
    RunStatus {
        phase: pod_phase(pod),
        name: pod.metadata.name.clone().unwrap_or_default(),
        build_id: pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(labels::PROW_BUILD_ID))
            .filter(|b| !b.is_empty())
            .cloned(),
        created: pod.metadata.creation_timestamp.as_ref().and_then(to_chrono),
        started: pod
            .status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .and_then(to_chrono),
        message: pod_message(pod),
    }
}

/// [`RunInfo`] of a pod in `cluster`.
pub fn run_info(cluster: &str, pod: &Pod) -> RunInfo {
    RunInfo {
        name: pod.metadata.name.clone().unwrap_or_default(),
        cluster: cluster.to_string(),
        labels: pod.metadata.labels.clone().unwrap_or_default(),
        phase: pod_phase(pod),
        created: pod.metadata.creation_timestamp.as_ref().and_then(to_chrono),
        finished: finished_at(pod),
    }
}
