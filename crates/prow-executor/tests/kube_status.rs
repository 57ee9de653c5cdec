//! Pod status → run phase, following plank's rules (pure).
#![cfg(feature = "kube")]

use k8s_openapi::api::core::v1::Pod;
use prow_executor::kube::status::{
    SUCCEEDED_BUT_UNFINISHED, did_pod_succeed, pod_phase, run_info, run_status, unexpected_stop,
};
use prow_executor::{RunPhase, UnexpectedStop};
use serde_json::json;

fn pod(v: serde_json::Value) -> Pod {
    serde_json::from_value(v).expect("test pod")
}

fn terminated(name: &str, code: i32, reason: &str) -> serde_json::Value {
    json!({"name": name, "image": "i", "imageID": "", "ready": false, "restartCount": 0,
           "state": {"terminated": {"exitCode": code, "reason": reason,
                                    "finishedAt": "2026-11-24T10:05:00Z"}}})
}

#[test]
fn phases() {
    let p = |status: serde_json::Value| {
        pod_phase(&pod(json!({"metadata": {"name": "x"}, "status": status})))
    };
    assert_eq!(p(json!({})), RunPhase::Pending { scheduled: false });
    assert_eq!(
        p(json!({"phase": "Pending", "startTime": "2026-11-24T10:00:00Z"})),
        RunPhase::Pending { scheduled: true }
    );
    assert_eq!(
        p(json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]})),
        RunPhase::Pending { scheduled: false }
    );
    assert_eq!(p(json!({"phase": "Running"})), RunPhase::Running);
    assert_eq!(
        p(json!({"phase": "Succeeded", "containerStatuses": [terminated("test", 0, "Completed")]})),
        RunPhase::Succeeded
    );
    assert_eq!(
        p(json!({"phase": "Failed", "containerStatuses": [terminated("test", 1, "Error")]})),
        RunPhase::Failed
    );
    // An OOM kill in a pod that already failed is an ordinary failure for Prow.
    assert_eq!(
        p(json!({"phase": "Failed", "containerStatuses": [terminated("test", 137, "OOMKilled")]})),
        RunPhase::Failed
    );
    assert_eq!(
        p(
            json!({"phase": "Running", "initContainerStatuses": [terminated("clonerefs", 137, "OOMKilled")]})
        ),
        RunPhase::Stopped(UnexpectedStop::OomKilled)
    );
    assert_eq!(
        p(json!({"phase": "Failed", "reason": "Evicted"})),
        RunPhase::Stopped(UnexpectedStop::Evicted)
    );
    // NodeLost counts only once the pod is being deleted.
    assert_eq!(
        p(json!({"phase": "Running", "reason": "NodeLost"})),
        RunPhase::Running
    );
    assert_eq!(
        p(json!({"phase": "Unknown"})),
        RunPhase::Stopped(UnexpectedStop::Unknown)
    );
}

#[test]
fn succeeded_phase_needs_every_container_done() {
    let bad = pod(
        json!({"metadata": {"name": "x"}, "status": {"phase": "Succeeded",
        "containerStatuses": [terminated("test", 0, "Completed"),
            {"name": "sidecar", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
             "state": {"running": {}}}]}}),
    );
    assert!(!did_pod_succeed(&bad));
    let st = run_status(&bad);
    assert_eq!(st.phase, RunPhase::Failed);
    assert_eq!(st.message.as_deref(), Some(SUCCEEDED_BUT_UNFINISHED));
    assert_eq!(unexpected_stop(&bad), None);
}

#[test]
fn status_and_info_fields() {
    let p = pod(json!({
        "metadata": {"name": "abc", "creationTimestamp": "2026-11-24T09:59:00Z",
                     "labels": {"prow.k8s.io/build-id": "42", "created-by-prow": "true"}},
        "status": {"phase": "Failed", "startTime": "2026-11-24T10:00:00Z",
                   "containerStatuses": [terminated("test", 2, "Error"),
                                         terminated("sidecar", 0, "Completed")]}
    }));
    let st = run_status(&p);
    assert_eq!(st.name, "abc");
    assert_eq!(st.build_id.as_deref(), Some("42"));
    assert_eq!(
        st.created.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-24T09:59:00+00:00")
    );
    assert_eq!(
        st.started.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-24T10:00:00+00:00")
    );
    assert_eq!(
        st.message.as_deref(),
        Some("container test exited 2: Error")
    );
    let info = run_info("build-1", &p);
    assert_eq!(info.cluster, "build-1");
    assert_eq!(info.phase, RunPhase::Failed);
    assert_eq!(
        info.finished.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-24T10:05:00+00:00")
    );
    assert_eq!(info.labels["created-by-prow"], "true");

    let waiting = pod(
        json!({"metadata": {"name": "w"}, "status": {"phase": "Pending",
        "containerStatuses": [{"name": "test", "image": "i", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ErrImagePull", "message": "not found"}}}]}}),
    );
    assert_eq!(
        run_status(&waiting).message.as_deref(),
        Some("container test waiting: ErrImagePull not found")
    );
    assert_eq!(run_status(&waiting).build_id, None);
}
