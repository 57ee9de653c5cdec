use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, EvictParams, LogParams, PostParams, WatchEvent, WatchParams};
use prow_kube_fake::{ContainerExit, FakeKube};

use crate::{api_err, guard, pod};

fn terminated(p: &Pod, container: &str) -> (i32, String) {
    let cs = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .expect("container statuses");
    let c = cs.iter().find(|c| c.name == container).expect("container");
    let t = c
        .state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .expect("terminated");
    (t.exit_code, t.reason.clone().unwrap_or_default())
}

#[tokio::test]
async fn pod_lifecycle_is_observable() {
    let fake = FakeKube::new();
    let pods: Api<Pod> = Api::namespaced(fake.client(), "test-pods");
    let created = guard(pods.create(&PostParams::default(), &pod("job", &["test"], &[])))
        .await
        .unwrap();
    let mut events = guard(pods.watch(
        &WatchParams::default(),
        &created.resource_version().unwrap(),
    ))
    .await
    .unwrap()
    .boxed();

    fake.set_pod_running("test-pods", "job").unwrap();
    let running = guard(pods.get("job")).await.unwrap();
    let st = running.status.as_ref().unwrap();
    assert_eq!(st.phase.as_deref(), Some("Running"));
    assert!(st.start_time.is_some());
    assert_eq!(
        running.spec.as_ref().unwrap().node_name.as_deref(),
        Some("fake-node")
    );
    let cs = &st.container_statuses.as_ref().unwrap()[0];
    assert!(cs.ready);
    assert!(cs.state.as_ref().unwrap().running.is_some());

    fake.set_pod_succeeded("test-pods", "job").unwrap();
    let done = guard(pods.get("job")).await.unwrap();
    assert_eq!(
        done.status.as_ref().unwrap().phase.as_deref(),
        Some("Succeeded")
    );
    assert_eq!(terminated(&done, "test"), (0, "Completed".into()));

    // Two MODIFIED events reached the watch.
    for phase in ["Running", "Succeeded"] {
        match guard(events.next()).await.unwrap().unwrap() {
            WatchEvent::Modified(p) => {
                assert_eq!(p.status.unwrap().phase.as_deref(), Some(phase));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn failures_oom_and_eviction() {
    let fake = FakeKube::new();
    let pods: Api<Pod> = Api::namespaced(fake.client(), "ns");
    for n in ["oom", "fail", "evicted", "gone", "multi", "waiting"] {
        let containers: &[&str] = if n == "multi" {
            &["test", "sidecar"]
        } else {
            &["test"]
        };
        guard(pods.create(&PostParams::default(), &pod(n, containers, &[])))
            .await
            .unwrap();
    }

    fake.finish_pod("ns", "oom", &[ContainerExit::oom_killed()])
        .unwrap();
    let p = guard(pods.get("oom")).await.unwrap();
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Failed"));
    assert_eq!(terminated(&p, "test"), (137, "OOMKilled".into()));

    fake.set_pod_failed("ns", "fail", 2, "Error").unwrap();
    let p = guard(pods.get("fail")).await.unwrap();
    assert_eq!(terminated(&p, "test"), (2, "Error".into()));

    fake.finish_pod(
        "ns",
        "multi",
        &[ContainerExit::failure(1)
            .container("sidecar")
            .message("boom")],
    )
    .unwrap();
    let p = guard(pods.get("multi")).await.unwrap();
    assert_eq!(terminated(&p, "test"), (0, "Completed".into()));
    assert_eq!(terminated(&p, "sidecar"), (1, "Error".into()));
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Failed"));

    fake.evict_pod("ns", "evicted").unwrap();
    let p = guard(pods.get("evicted")).await.unwrap();
    let st = p.status.unwrap();
    assert_eq!(st.phase.as_deref(), Some("Failed"));
    assert_eq!(st.reason.as_deref(), Some("Evicted"));

    fake.evict_and_delete_pod("ns", "gone").unwrap();
    assert!(guard(pods.get_opt("gone")).await.unwrap().is_none());

    fake.set_pod_waiting(
        "ns",
        "waiting",
        None,
        "ImagePullBackOff",
        "back-off pulling image",
    )
    .unwrap();
    let p = guard(pods.get("waiting")).await.unwrap();
    let cs = &p.status.unwrap().container_statuses.unwrap()[0];
    assert_eq!(
        cs.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("ImagePullBackOff")
    );

    // The Eviction API deletes the pod.
    guard(pods.evict("fail", &EvictParams::default()))
        .await
        .unwrap();
    assert!(fake.get("v1", "pods", Some("ns"), "fail").is_none());
}

#[tokio::test]
async fn pod_logs() {
    let fake = FakeKube::new();
    let pods: Api<Pod> = Api::namespaced(fake.client(), "ns");
    guard(pods.create(&PostParams::default(), &pod("one", &["test"], &[])))
        .await
        .unwrap();
    guard(pods.create(
        &PostParams::default(),
        &pod("two", &["test", "sidecar"], &[]),
    ))
    .await
    .unwrap();

    // Pending pods have no logs yet.
    let err = guard(pods.logs("one", &LogParams::default()))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (400, "BadRequest".into()));

    fake.set_pod_running("ns", "one").unwrap();
    assert_eq!(
        guard(pods.logs("one", &LogParams::default()))
            .await
            .unwrap(),
        ""
    );
    fake.set_pod_logs("ns", "one", "test", "line 1\nline 2\nline 3\n");
    assert_eq!(
        guard(pods.logs("one", &LogParams::default()))
            .await
            .unwrap(),
        "line 1\nline 2\nline 3\n"
    );
    let tail = LogParams {
        tail_lines: Some(1),
        ..Default::default()
    };
    assert_eq!(guard(pods.logs("one", &tail)).await.unwrap(), "line 3\n");

    // Several containers: the container must be named.
    fake.set_pod_logs("ns", "two", "sidecar", "side");
    let err = guard(pods.logs("two", &LogParams::default()))
        .await
        .unwrap_err();
    assert_eq!(api_err(err).0, 400);
    let lp = LogParams {
        container: Some("sidecar".into()),
        ..Default::default()
    };
    assert_eq!(guard(pods.logs("two", &lp)).await.unwrap(), "side");
    let lp = LogParams {
        container: Some("nope".into()),
        ..Default::default()
    };
    assert_eq!(
        api_err(guard(pods.logs("two", &lp)).await.unwrap_err()).0,
        400
    );

    // Listing everything through the helper API.
    let all = fake.objects();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].key.plural, "pods");
    assert_eq!(all[1].object["metadata"]["name"], "two");
}
