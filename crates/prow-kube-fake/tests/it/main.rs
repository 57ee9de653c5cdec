//! Integration tests: the real `kube` client against the fake API server.
//!
//! One test binary (modules below) so the heavy kube dependency is linked once.

mod crud;
mod http;
mod kubelet;
mod tcp;
mod watch;

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::json;

/// Failure guard only: tests never wait on this for synchronisation.
pub async fn guard<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test step timed out")
}

/// The `ApiResource` for prow.k8s.io/v1 ProwJob.
pub fn prowjob_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("prow.k8s.io", "v1", "ProwJob"),
        "prowjobs",
    )
}

/// A minimal ProwJob object.
pub fn prowjob(name: &str, job: &str) -> DynamicObject {
    let mut pj = DynamicObject::new(name, &prowjob_resource());
    pj.metadata.labels = Some([("prow.k8s.io/job".to_string(), job.to_string())].into());
    pj.data = json!({
        "spec": {"type": "periodic", "job": job, "agent": "kubernetes"},
        "status": {"state": "triggered", "startTime": "2026-01-01T00:00:00Z"},
    });
    pj
}

/// A pod with the given containers and labels.
pub fn pod(name: &str, containers: &[&str], labels: &[(&str, &str)]) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": labels.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        },
        "spec": {
            "containers": containers.iter().map(|c| json!({"name": c, "image": "alpine:3.20"})).collect::<Vec<_>>(),
            "restartPolicy": "Never",
        },
    }))
    .expect("valid pod")
}

/// The `Status` of a kube API error.
pub fn api_err(e: kube::Error) -> (u16, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}
