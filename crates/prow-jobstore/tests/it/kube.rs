//! KubeStore specifics against the in-repo fake API server (a test double, not a cluster):
//! request shapes, namespaces, 410 → Gone, watch resumption, conflict handling, and reading
//! objects other Prow components wrote.

use std::sync::Arc;

use prow_api::{ProwJob, ProwJobState};
use prow_jobstore::conformance::{describe, next_event};
use prow_jobstore::kube::KubeStore;
use prow_jobstore::{JobStore, ListParams, StoreError};
use prow_kube_fake::{FakeKube, InjectedFailure, Verb};

fn upstream_fake() -> FakeKube {
    FakeKube::builder()
        .prowjob_status_subresource(false)
        .build()
}

fn job(name: &str) -> ProwJob {
    let mut j = ProwJob::default();
    j.metadata.name = Some(name.into());
    j.spec.job = "unit".into();
    j.status.state = ProwJobState::Triggered;
    j
}

#[tokio::test]
async fn status_update_is_one_json_patch() {
    for subresource in [false, true] {
        let fake = FakeKube::builder()
            .prowjob_status_subresource(subresource)
            .build();
        let store = KubeStore::new(fake.client(), "default").with_status_subresource(subresource);
        let mut j = store.create(job("a")).await.unwrap();
        fake.clear_requests();
        j.status.state = ProwJobState::Pending;
        store.update_status(j).await.unwrap();
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        let want_path = if subresource {
            "/apis/prow.k8s.io/v1/namespaces/default/prowjobs/a/status"
        } else {
            "/apis/prow.k8s.io/v1/namespaces/default/prowjobs/a"
        };
        assert_eq!(
            (reqs[0].method.as_str(), reqs[0].path.as_str()),
            ("PATCH", want_path)
        );
        assert_eq!(
            reqs[0].content_type.as_deref(),
            Some("application/json-patch+json")
        );
        let stored: ProwJob = fake.get_as(Some("default"), "a").unwrap();
        assert_eq!(stored.status.state, ProwJobState::Pending);
    }
}

#[tokio::test]
async fn jobs_live_in_the_configured_namespace() {
    let fake = upstream_fake();
    let store = KubeStore::new(fake.client(), "prow-jobs");
    let created = store.create(job("a")).await.unwrap();
    assert_eq!(created.metadata.namespace.as_deref(), Some("prow-jobs"));
    assert!(fake.get_as::<ProwJob>(Some("prow-jobs"), "a").is_some());
    assert!(fake.get_as::<ProwJob>(Some("default"), "a").is_none());
    let elsewhere = KubeStore::new(fake.client(), "default");
    assert!(
        elsewhere
            .list(&ListParams::all())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let explicit = ListParams {
        namespace: Some("prow-jobs".into()),
        ..Default::default()
    };
    assert_eq!(elsewhere.list(&explicit).await.unwrap().items.len(), 1);
    let mut foreign = job("b");
    foreign.metadata.namespace = Some("default".into());
    assert!(matches!(
        store.create(foreign).await,
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_compacted_version_is_gone() {
    let fake = FakeKube::builder()
        .prowjob_status_subresource(false)
        .event_log_capacity(2)
        .build();
    let store = KubeStore::new(fake.client(), "default");
    let start = store
        .list(&ListParams::all())
        .await
        .unwrap()
        .resource_version;
    for name in ["a", "b", "c", "d", "e"] {
        store.create(job(name)).await.unwrap();
    }
    let gone = match store.watch(&ListParams::all(), &start).await {
        Err(e) => e,
        Ok(mut w) => next_event(&mut w).await.unwrap_err(),
    };
    assert_eq!(gone, StoreError::Gone(start));
}

fn watch_requests(fake: &FakeKube) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.query.contains("watch=true"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_when_the_server_ends_the_stream() {
    let fake = upstream_fake();
    let store = KubeStore::new(fake.client(), "default");
    let start = store
        .list(&ListParams::all())
        .await
        .unwrap()
        .resource_version;
    let mut w = store.watch(&ListParams::all(), &start).await.unwrap();
    let a_rv = store
        .create(job("a"))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    assert_eq!(
        describe(&next_event(&mut w).await.unwrap()),
        ("ADDED", "a".to_string())
    );
    assert_eq!(watch_requests(&fake), 1);

    // As on an API server restart or a watch timeout: the server ends the stream while the
    // store is waiting on it, and the store must open a new one from where it was.
    fake.close_watches();
    let reader = tokio::spawn(async move {
        let ev = next_event(&mut w).await;
        (ev, w)
    });
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while watch_requests(&fake) < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the store opens a new watch after the server ended the old one");
    store.create(job("b")).await.unwrap();
    let (ev, mut w) = reader.await.unwrap();
    assert_eq!(describe(&ev.unwrap()), ("ADDED", "b".to_string()));
    let mut j = store.get("a").await.unwrap();
    j.status.state = ProwJobState::Pending;
    store.update_status(j).await.unwrap();
    assert_eq!(
        describe(&next_event(&mut w).await.unwrap()),
        ("MODIFIED", "a".to_string())
    );
    // It resumed from the last version it had seen (a's creation), not from scratch.
    let resumed = fake
        .requests()
        .into_iter()
        .rfind(|r| r.query.contains("watch=true"))
        .unwrap();
    assert!(
        resumed.query.contains(&format!("resourceVersion={a_rv}&"))
            || resumed.query.ends_with(&format!("resourceVersion={a_rv}")),
        "{}",
        resumed.query
    );
}

#[tokio::test]
async fn conflicts_are_retried_only_for_unconditional_updates() {
    let fake = upstream_fake();
    let store = KubeStore::new(fake.client(), "default");
    let created = store.create(job("a")).await.unwrap();

    fake.inject_failure(InjectedFailure::new(Verb::Update, 409).resource("prowjobs"));
    let mut blind = created.clone();
    blind.metadata.resource_version = None;
    blind.spec.job = "renamed".into();
    assert_eq!(store.update(blind).await.unwrap().spec.job, "renamed");

    fake.inject_failure(InjectedFailure::new(Verb::Update, 409).resource("prowjobs"));
    let mut conditional = store.get("a").await.unwrap();
    conditional.spec.job = "again".into();
    assert_eq!(
        store.update(conditional).await,
        Err(StoreError::Conflict("a".into()))
    );

    fake.inject_failure(InjectedFailure::new(Verb::Get, 500).resource("prowjobs"));
    assert!(matches!(store.get("a").await, Err(StoreError::Backend(_))));
}

#[tokio::test]
async fn reads_objects_written_by_other_components() {
    let fake = upstream_fake();
    // Shaped like a ProwJob created by upstream Prow's hook.
    let obj = serde_json::json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {
            "name": "0f3b1c9e-8a4d-4a8e-9d55-2f1f3c0b7a11",
            "labels": {"created-by-prow": "true", "prow.k8s.io/type": "presubmit"}
        },
        "spec": {
            "type": "presubmit",
            "agent": "kubernetes",
            "cluster": "default",
            "namespace": "test-pods",
            "job": "pull-example-unit",
            "refs": {"org": "example-org", "repo": "example-repo", "base_ref": "main",
                     "base_sha": "0123456789abcdef0123456789abcdef01234567",
                     "pulls": [{"number": 7, "author": "someone", "sha": "89abcdef0123456789abcdef0123456789abcdef"}]},
            "report": true,
            "context": "pull-example-unit"
        },
        "status": {"startTime": "2026-01-02T03:04:05Z", "state": "triggered", "description": "Job triggered."}
    });
    fake.create("prow.k8s.io/v1", "prowjobs", Some("default"), obj)
        .unwrap();
    let store: Arc<dyn JobStore> = Arc::new(KubeStore::new(fake.client(), "default"));
    let list = store
        .list(&ListParams::with_labels("prow.k8s.io/type=presubmit").unwrap())
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let j = &list.items[0];
    assert_eq!(j.spec.job, "pull-example-unit");
    assert_eq!(j.status.state, ProwJobState::Triggered);
    assert_eq!(j.spec.refs.as_ref().map(|r| r.pulls[0].number), Some(7));
    let pending = {
        let mut p = j.clone();
        p.status.state = ProwJobState::Pending;
        store.update_status(p).await.unwrap()
    };
    let raw = fake
        .get("prow.k8s.io/v1", "prowjobs", Some("default"), j.name())
        .unwrap();
    assert_eq!(raw["status"]["state"], "pending");
    assert_eq!(raw["spec"]["refs"]["pulls"][0]["number"], 7);
    assert_eq!(pending.status.start_time, j.status.start_time);
}
