//! KubeExecutor against the in-repo fake Kubernetes API server (`prow-kube-fake`). The fake
//! is not a cluster: tests play the kubelet through its helpers.
#![cfg(feature = "kube")]

use k8s_openapi::api::core::v1::Pod;
use prow_api::ProwJob;
use prow_executor::kube::KubeExecutor;
use prow_executor::{ExecError, Executor, RunPhase, UnexpectedStop};
use prow_kube_fake::{FakeKube, InjectedFailure, Verb};
use serde_json::json;

const NS: &str = "test-pods";

fn job(name: &str, cluster: &str) -> ProwJob {
    let yaml = format!(
        r#"
metadata: {{name: {name}, namespace: prow}}
spec:
  type: periodic
  agent: kubernetes
  cluster: "{cluster}"
  job: periodic-example
  pod_spec:
    containers: [{{name: run, image: registry.example.com/busybox, command: [/bin/true]}}]
"#
    );
    serde_saphyr::from_str(&yaml).expect("test ProwJob")
}

fn decorated_two_containers(name: &str) -> ProwJob {
    let yaml = format!(
        r#"
metadata: {{name: {name}}}
spec:
  type: periodic
  agent: kubernetes
  job: periodic-two
  decoration_config:
    grace_period: 20s
    utility_images: {{clonerefs: c, initupload: i, entrypoint: e, sidecar: s}}
    gcs_configuration: {{bucket: gs://example-bucket, path_strategy: explicit}}
  pod_spec:
    containers:
    - {{name: server, image: registry.example.com/a, command: [/a]}}
    - {{name: client, image: registry.example.com/b, command: [/b]}}
"#
    );
    serde_saphyr::from_str(&yaml).expect("test ProwJob")
}

fn executor(fake: &FakeKube) -> KubeExecutor {
    KubeExecutor::new(NS)
        .with_cluster("default", fake.client())
        .with_version("v20261124-test")
}

fn stored_pod(fake: &FakeKube, name: &str) -> Option<Pod> {
    fake.get_as::<Pod>(Some(NS), name)
}

#[tokio::test]
async fn start_creates_the_rendered_pod_once() {
    let fake = FakeKube::new();
    let exec = executor(&fake);
    let pj = job("0f1e2d3c", "");

    let st = exec.start(&pj, "1001").await.expect("start");
    assert_eq!(st.name, "0f1e2d3c");
    assert_eq!(st.build_id.as_deref(), Some("1001"));
    assert!(matches!(st.phase, RunPhase::Pending { scheduled: false }));
    assert!(st.created.is_some());

    let pod = stored_pod(&fake, "0f1e2d3c").expect("pod stored in the pod namespace");
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels["created-by-prow"], "true");
    assert_eq!(labels["prow.k8s.io/id"], "0f1e2d3c");
    assert_eq!(labels["prow.k8s.io/build-id"], "1001");
    assert_eq!(labels["prow.k8s.io/plank-version"], "v20261124-test");
    let spec = pod.spec.expect("spec");
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    assert_eq!(spec.containers[0].name, "test");

    // Retried start: the existing run is reported, nothing new is created.
    let again = exec.start(&pj, "1002").await.expect("second start");
    assert_eq!(again.build_id.as_deref(), Some("1001"));
    let pods = fake
        .objects()
        .into_iter()
        .filter(|o| o.key.plural == "pods")
        .count();
    assert_eq!(pods, 1);
}

#[tokio::test]
async fn job_namespace_wins_over_pod_namespace() {
    let fake = FakeKube::new();
    let exec = executor(&fake);
    let mut pj = job("ns-job", "");
    pj.spec.namespace = "other-pods".into();
    exec.start(&pj, "1").await.expect("start");
    assert!(fake.get_as::<Pod>(Some("other-pods"), "ns-job").is_some());
    assert!(stored_pod(&fake, "ns-job").is_none());
    assert_eq!(
        exec.status(&pj).await.expect("status").phase,
        RunPhase::Pending { scheduled: false }
    );
}

#[tokio::test]
async fn status_follows_the_pod_lifecycle() {
    let fake = FakeKube::new();
    let exec = executor(&fake);
    let pj = job("life", "default");
    assert_eq!(
        exec.status(&pj).await.expect("status").phase,
        RunPhase::Missing
    );

    exec.start(&pj, "7").await.expect("start");
    fake.set_pod_running(NS, "life").expect("kubelet");
    let st = exec.status(&pj).await.expect("status");
    assert_eq!(st.phase, RunPhase::Running);
    assert!(st.started.is_some());

    fake.set_pod_succeeded(NS, "life").expect("kubelet");
    assert_eq!(
        exec.status(&pj).await.expect("status").phase,
        RunPhase::Succeeded
    );

    let failing = job("fails", "default");
    exec.start(&failing, "8").await.expect("start");
    fake.set_pod_failed(NS, "fails", 3, "Error")
        .expect("kubelet");
    let st = exec.status(&failing).await.expect("status");
    assert_eq!(st.phase, RunPhase::Failed);
    assert_eq!(
        st.message.as_deref(),
        Some("container test exited 3: Error")
    );
}

#[tokio::test]
async fn scheduled_pending_pod() {
    let fake = FakeKube::new();
    let exec = executor(&fake);
    let pj = job("sched", "");
    exec.start(&pj, "1").await.expect("start");
    fake.set_pod_status(
        NS,
        "sched",
        json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}),
    )
    .expect("scheduler");
    assert_eq!(
        exec.status(&pj).await.expect("status").phase,
        RunPhase::Pending { scheduled: true }
    );
}

#[tokio::test]
async fn unexpected_stops() {
    let fake = FakeKube::new();
    let exec = executor(&fake);

    let evicted = job("evicted", "");
    exec.start(&evicted, "1").await.expect("start");
    fake.set_pod_running(NS, "evicted").expect("kubelet");
    fake.evict_pod(NS, "evicted").expect("kubelet");
    assert_eq!(
        exec.status(&evicted).await.expect("status").phase,
        RunPhase::Stopped(UnexpectedStop::Evicted)
    );

    let oom = job("oom", "");
    exec.start(&oom, "1").await.expect("start");
    fake.set_pod_status(
        NS,
        "oom",
        json!({"phase": "Running", "startTime": "2026-11-24T10:00:00Z", "containerStatuses": [
            {"name": "test", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}),
    )
    .expect("kubelet");
    assert_eq!(
        exec.status(&oom).await.expect("status").phase,
        RunPhase::Stopped(UnexpectedStop::OomKilled)
    );

    let unknown = job("unknown", "");
    exec.start(&unknown, "1").await.expect("start");
    fake.set_pod_status(NS, "unknown", json!({"phase": "Unknown"}))
        .expect("kubelet");
    assert_eq!(
        exec.status(&unknown).await.expect("status").phase,
        RunPhase::Stopped(UnexpectedStop::Unknown)
    );

    let lost = job("lost", "");
    exec.start(&lost, "1").await.expect("start");
    fake.update_with("v1", "pods", Some(NS), "lost", |pod| {
        pod["metadata"]["deletionTimestamp"] = json!("2026-11-24T10:00:00Z");
        pod["status"] = json!({"phase": "Running", "reason": "NodeLost"});
    })
    .expect("node controller");
    assert_eq!(
        exec.status(&lost).await.expect("status").phase,
        RunPhase::Stopped(UnexpectedStop::Unreachable)
    );
}

#[tokio::test]
async fn abort_and_delete_remove_the_pod() {
    let fake = FakeKube::new();
    let exec = executor(&fake);
    let pj = job("gone", "");
    exec.start(&pj, "1").await.expect("start");
    exec.abort(&pj).await.expect("abort");
    assert!(stored_pod(&fake, "gone").is_none());
    assert_eq!(
        exec.status(&pj).await.expect("status").phase,
        RunPhase::Missing
    );
    // Idempotent.
    exec.delete(&pj)
        .await
        .expect("delete of a missing pod is fine");
    exec.abort(&pj)
        .await
        .expect("abort of a missing pod is fine");
}

#[tokio::test]
async fn unknown_cluster_is_reported() {
    let fake = FakeKube::new();
    let exec = executor(&fake);
    let pj = job("elsewhere", "build-9");
    assert!(matches!(
        exec.start(&pj, "1").await,
        Err(ExecError::UnknownCluster(c)) if c == "build-9"
    ));
    assert!(matches!(
        exec.status(&pj).await,
        Err(ExecError::UnknownCluster(_))
    ));
    assert!(matches!(
        exec.delete_run("build-9", "x").await,
        Err(ExecError::UnknownCluster(_))
    ));
}

#[tokio::test]
async fn errors_map_to_invalid_or_backend() {
    let fake = FakeKube::new();
    let exec = executor(&fake);

    let mut no_spec = job("nospec", "");
    no_spec.spec.pod_spec = None;
    assert!(matches!(
        exec.start(&no_spec, "1").await,
        Err(ExecError::Invalid(_))
    ));

    fake.inject_failure(
        InjectedFailure::new(Verb::Create, 422)
            .resource("pods")
            .message("spec.containers[0].image: Required value"),
    );
    match exec.start(&job("rejected", ""), "1").await {
        Err(ExecError::Invalid(m)) => assert!(m.contains("Required value"), "{m}"),
        other => panic!("want Invalid, got {other:?}"),
    }

    fake.inject_failure(InjectedFailure::new(Verb::Create, 500).resource("pods"));
    assert!(matches!(
        exec.start(&job("flaky", ""), "1").await,
        Err(ExecError::Backend(_))
    ));
    // The failure was one-shot: the retry works.
    exec.start(&job("flaky", ""), "1").await.expect("retry");

    fake.inject_failure(InjectedFailure::new(Verb::Get, 503).resource("pods"));
    assert!(matches!(
        exec.status(&job("flaky", "")).await,
        Err(ExecError::Backend(_))
    ));
}

#[tokio::test]
async fn list_runs_and_delete_run_across_clusters() {
    let default = FakeKube::new();
    let build = FakeKube::new();
    let exec = KubeExecutor::new(NS)
        .with_cluster("default", default.client())
        .with_cluster("build-1", build.client());

    exec.start(&job("a", ""), "1").await.expect("start");
    exec.start(&job("b", "build-1"), "2").await.expect("start");
    build.set_pod_succeeded(NS, "b").expect("kubelet");
    // Not Prow's: ignored.
    build
        .create(
            "v1",
            "pods",
            Some(NS),
            json!({"metadata": {"name": "user-pod", "labels": {"app": "x"}},
                   "spec": {"containers": [{"name": "c", "image": "i"}]}}),
        )
        .expect("seed");

    let mut runs = exec.list_runs().await.expect("list");
    runs.sort_by(|x, y| x.name.cmp(&y.name));
    let summary: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| (r.cluster.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(summary, [("default", "a"), ("build-1", "b")]);
    assert_eq!(runs[1].phase, RunPhase::Succeeded);
    assert!(runs[1].finished.is_some());
    assert!(runs[0].finished.is_none());
    assert_eq!(runs[0].labels["prow.k8s.io/build-id"], "1");

    exec.delete_run("build-1", "b").await.expect("delete_run");
    assert!(build.get_as::<Pod>(Some(NS), "b").is_none());
    exec.delete_run("build-1", "b").await.expect("idempotent");
}

#[tokio::test]
async fn logs_of_test_containers() {
    let fake = FakeKube::new();
    let exec = executor(&fake);
    let single = job("single", "");
    assert_eq!(exec.logs(&single).await.expect("logs"), None);
    exec.start(&single, "1").await.expect("start");
    // Still pending: no log yet.
    assert_eq!(exec.logs(&single).await.expect("logs"), None);
    fake.set_pod_running(NS, "single").expect("kubelet");
    fake.set_pod_logs(NS, "single", "test", "hello\nworld\n");
    assert_eq!(
        exec.logs(&single).await.expect("logs").as_deref(),
        Some("hello\nworld\n")
    );

    let multi = decorated_two_containers("multi");
    exec.start(&multi, "1").await.expect("start");
    fake.set_pod_running(NS, "multi").expect("kubelet");
    fake.set_pod_logs(NS, "multi", "server", "listening\n");
    fake.set_pod_logs(NS, "multi", "client", "ok\n");
    fake.set_pod_logs(NS, "multi", "sidecar", "uploading\n");
    let text = exec.logs(&multi).await.expect("logs").expect("some log");
    assert_eq!(
        text,
        "==== server ====\nlistening\n\n==== client ====\nok\n"
    );

    let pod = stored_pod(&fake, "multi").expect("pod");
    assert_eq!(
        pod.spec.and_then(|s| s.termination_grace_period_seconds),
        Some(25)
    );
}
