use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::ResourceExt;
use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher::{self, Event};
use prow_kube_fake::FakeKube;
use serde_json::json;

use crate::{guard, pod, prowjob, prowjob_resource};

fn cm(name: &str) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.name = Some(name.to_string());
    c
}

/// Next non-bookmark event of a raw watch stream.
async fn next_raw<K, S>(s: &mut S) -> WatchEvent<K>
where
    S: futures::Stream<Item = kube::Result<WatchEvent<K>>> + Unpin,
{
    guard(s.next())
        .await
        .expect("stream ended")
        .expect("watch error")
}

#[tokio::test]
async fn watcher_sees_added_modified_deleted() {
    let fake = FakeKube::new();
    let client = fake.client();
    let pjs: Api<DynamicObject> = Api::namespaced_with(client.clone(), "prow", &prowjob_resource());
    guard(pjs.create(&PostParams::default(), &prowjob("existing", "a")))
        .await
        .unwrap();

    let mut stream = watcher::watcher(pjs.clone(), watcher::Config::default()).boxed();
    // Initial list.
    assert!(matches!(
        guard(stream.try_next()).await.unwrap(),
        Some(Event::Init)
    ));
    match guard(stream.try_next()).await.unwrap() {
        Some(Event::InitApply(o)) => assert_eq!(o.name_any(), "existing"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        guard(stream.try_next()).await.unwrap(),
        Some(Event::InitDone)
    ));

    guard(pjs.create(&PostParams::default(), &prowjob("new", "b")))
        .await
        .unwrap();
    match guard(stream.try_next()).await.unwrap() {
        Some(Event::Apply(o)) => assert_eq!(o.name_any(), "new"),
        other => panic!("{other:?}"),
    }
    guard(pjs.patch_status(
        "new",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"state": "success"}})),
    ))
    .await
    .unwrap();
    match guard(stream.try_next()).await.unwrap() {
        Some(Event::Apply(o)) => assert_eq!(o.data["status"]["state"], "success"),
        other => panic!("{other:?}"),
    }
    guard(pjs.delete("new", &DeleteParams::default()))
        .await
        .unwrap();
    match guard(stream.try_next()).await.unwrap() {
        Some(Event::Delete(o)) => assert_eq!(o.name_any(), "new"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn raw_watch_types_selectors_and_bookmarks() {
    let fake = FakeKube::new();
    let pods: Api<Pod> = Api::namespaced(fake.client(), "ns");
    let created = guard(pods.create(&PostParams::default(), &pod("w", &["c"], &[("sel", "yes")])))
        .await
        .unwrap();
    let rv = created.resource_version().unwrap();

    // A label-filtered watch from the create's resourceVersion.
    let wp = WatchParams::default().labels("sel=yes").timeout(30);
    let mut s = guard(pods.watch(&wp, &rv)).await.unwrap().boxed();
    fake.set_pod_running("ns", "w").unwrap();
    match next_raw(&mut s).await {
        WatchEvent::Modified(p) => {
            assert_eq!(p.status.unwrap().phase.as_deref(), Some("Running"));
        }
        other => panic!("{other:?}"),
    }
    // Leaving the selection looks like a deletion to this watcher, re-entering like an add.
    guard(pods.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"sel": "no"}}})),
    ))
    .await
    .unwrap();
    assert!(matches!(next_raw(&mut s).await, WatchEvent::Deleted(_)));
    guard(pods.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"sel": "yes"}}})),
    ))
    .await
    .unwrap();
    assert!(matches!(next_raw(&mut s).await, WatchEvent::Added(_)));

    // Objects in other namespaces are not seen; bookmarks are delivered when allowed.
    let other: Api<Pod> = Api::namespaced(fake.client(), "other");
    guard(other.create(&PostParams::default(), &pod("o", &["c"], &[("sel", "yes")])))
        .await
        .unwrap();
    fake.send_bookmarks();
    match next_raw(&mut s).await {
        WatchEvent::Bookmark(b) => {
            assert_eq!(
                b.metadata.resource_version,
                fake.resource_version().to_string()
            );
        }
        other => panic!("{other:?}"),
    }

    // A watch from resourceVersion 0 starts with the current state.
    let mut all = guard(pods.watch(&WatchParams::default(), "0"))
        .await
        .unwrap()
        .boxed();
    match next_raw(&mut all).await {
        WatchEvent::Added(p) => assert_eq!(p.name_any(), "w"),
        other => panic!("{other:?}"),
    }

    // timeoutSeconds ends the stream.
    let short = WatchParams::default().timeout(1);
    let mut s = guard(pods.watch(&short, &fake.resource_version().to_string()))
        .await
        .unwrap()
        .boxed();
    assert!(guard(s.next()).await.is_none());
}

#[tokio::test]
async fn stale_watch_gets_410() {
    let fake = FakeKube::new();
    let cms: Api<ConfigMap> = Api::default_namespaced(fake.client());
    let first = guard(cms.create(&PostParams::default(), &cm("a")))
        .await
        .unwrap();
    guard(cms.create(&PostParams::default(), &cm("b")))
        .await
        .unwrap();
    fake.compact_event_log();

    let mut s = guard(cms.watch(&WatchParams::default(), &first.resource_version().unwrap()))
        .await
        .unwrap()
        .boxed();
    match next_raw(&mut s).await {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
            assert!(e.message.starts_with("too old resource version"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        guard(s.next()).await.is_none(),
        "stream ends after the error"
    );

    // The bounded log expires old versions by itself too.
    let small = FakeKube::builder().event_log_capacity(2).build();
    let cms: Api<ConfigMap> = Api::default_namespaced(small.client());
    let first = guard(cms.create(&PostParams::default(), &cm("a")))
        .await
        .unwrap();
    for n in ["b", "c", "d"] {
        guard(cms.create(&PostParams::default(), &cm(n)))
            .await
            .unwrap();
    }
    let mut s = guard(cms.watch(&WatchParams::default(), &first.resource_version().unwrap()))
        .await
        .unwrap()
        .boxed();
    assert!(matches!(next_raw(&mut s).await, WatchEvent::Error(e) if e.code == 410));
}

#[tokio::test]
async fn watcher_recovers_from_410_by_relisting() {
    let fake = FakeKube::new();
    let cms: Api<ConfigMap> = Api::default_namespaced(fake.client());
    guard(cms.create(&PostParams::default(), &cm("before")))
        .await
        .unwrap();
    let mut stream = watcher::watcher(cms.clone(), watcher::Config::default()).boxed();
    assert!(matches!(
        guard(stream.try_next()).await.unwrap(),
        Some(Event::Init)
    ));
    assert!(matches!(
        guard(stream.try_next()).await.unwrap(),
        Some(Event::InitApply(_))
    ));
    assert!(matches!(
        guard(stream.try_next()).await.unwrap(),
        Some(Event::InitDone)
    ));

    // A write the watcher has not seen yet, then compaction and a dropped connection: the
    // re-watch from the listed resourceVersion is now too old.
    guard(cms.create(&PostParams::default(), &cm("during")))
        .await
        .unwrap();
    fake.compact_event_log();
    fake.close_watches();

    // The watcher reports the 410, then re-lists and continues.
    let mut saw_error = false;
    let mut relisted = Vec::new();
    loop {
        match guard(stream.next()).await.expect("watcher ended") {
            Err(watcher::Error::WatchError(e)) => {
                assert_eq!(e.code, 410);
                saw_error = true;
            }
            Err(e) => panic!("unexpected {e:?}"),
            Ok(Event::Init) => relisted.clear(),
            Ok(Event::InitApply(o)) => relisted.push(o.name_any()),
            Ok(Event::InitDone) => break,
            Ok(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(saw_error);
    assert_eq!(relisted, ["before", "during"]);

    guard(cms.create(&PostParams::default(), &cm("after")))
        .await
        .unwrap();
    match guard(stream.try_next()).await.unwrap() {
        Some(Event::Apply(o)) => assert_eq!(o.name_any(), "after"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn streaming_list_watcher() {
    let fake = FakeKube::new();
    let cms: Api<ConfigMap> = Api::default_namespaced(fake.client());
    for n in ["x", "y"] {
        guard(cms.create(&PostParams::default(), &cm(n)))
            .await
            .unwrap();
    }
    let mut stream =
        watcher::watcher(cms.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut names = Vec::new();
    loop {
        match guard(stream.try_next()).await.unwrap() {
            Some(Event::Init) => {}
            Some(Event::InitApply(o)) => names.push(o.name_any()),
            Some(Event::InitDone) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(names, ["x", "y"]);
    guard(cms.delete("x", &DeleteParams::default()))
        .await
        .unwrap();
    assert!(matches!(
        guard(stream.try_next()).await.unwrap(),
        Some(Event::Delete(o)) if o.name_any() == "x"
    ));
}
