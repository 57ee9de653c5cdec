use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{Discovery, Scope};
use kube::{Client, ResourceExt};
use prow_kube_fake::{FakeKube, InjectedFailure, Verb};
use serde_json::json;

use crate::{api_err, guard, pod, prowjob, prowjob_resource};

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.name = Some(name.to_string());
    c.data = Some(
        data.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    );
    c
}

#[tokio::test]
async fn create_get_and_errors() {
    let fake = FakeKube::new();
    let pods: Api<Pod> = Api::namespaced(fake.client(), "test-pods");
    let created = guard(pods.create(&PostParams::default(), &pod("p1", &["test"], &[])))
        .await
        .unwrap();
    assert_eq!(created.namespace().as_deref(), Some("test-pods"));
    assert!(created.uid().is_some());
    assert!(created.creation_timestamp().is_some());
    let rv: u64 = created.resource_version().unwrap().parse().unwrap();
    assert_eq!(rv, fake.resource_version());
    // Server-side behaviour of a new pod: Pending status and defaults.
    let status = created.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let spec = created.spec.as_ref().unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirst"));
    assert_eq!(
        spec.containers[0].image_pull_policy.as_deref(),
        Some("IfNotPresent")
    );

    let got = guard(pods.get("p1")).await.unwrap();
    assert_eq!(got.uid(), created.uid());

    let dup = guard(pods.create(&PostParams::default(), &pod("p1", &["test"], &[])))
        .await
        .unwrap_err();
    assert_eq!(api_err(dup), (409, "AlreadyExists".into()));

    let missing = guard(pods.get("nope")).await.unwrap_err();
    match missing {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 404);
            assert_eq!(s.reason, "NotFound");
            assert_eq!(s.message, "pods \"nope\" not found");
        }
        other => panic!("{other:?}"),
    }
    assert!(guard(pods.get_opt("nope")).await.unwrap().is_none());

    // generateName
    let mut gen_pod = pod("", &["c"], &[]);
    gen_pod.metadata.name = None;
    gen_pod.metadata.generate_name = Some("gen-".into());
    let g = guard(pods.create(&PostParams::default(), &gen_pod))
        .await
        .unwrap();
    assert!(g.name_any().starts_with("gen-") && g.name_any().len() == 9);

    // Invalid name, namespace mismatch.
    let bad = guard(pods.create(&PostParams::default(), &pod("Bad_Name", &["c"], &[])))
        .await
        .unwrap_err();
    assert_eq!(api_err(bad), (422, "Invalid".into()));
    let mut other_ns = pod("p2", &["c"], &[]);
    other_ns.metadata.namespace = Some("elsewhere".into());
    let bad = guard(pods.create(&PostParams::default(), &other_ns))
        .await
        .unwrap_err();
    assert_eq!(api_err(bad), (400, "BadRequest".into()));

    // dryRun does not persist.
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    guard(pods.create(&dry, &pod("dry", &["c"], &[])))
        .await
        .unwrap();
    assert!(fake.get("v1", "pods", Some("test-pods"), "dry").is_none());
}

#[tokio::test]
async fn list_with_selectors_and_pages() {
    let fake = FakeKube::new();
    let client = fake.client();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "ns");
    for (name, app, tier) in [
        ("a", "web", "fe"),
        ("b", "web", "be"),
        ("c", "db", "be"),
        ("d", "cache", ""),
    ] {
        let mut labels = vec![("app", app)];
        if !tier.is_empty() {
            labels.push(("tier", tier));
        }
        guard(pods.create(&PostParams::default(), &pod(name, &["c"], &labels)))
            .await
            .unwrap();
    }
    // Another namespace, to check scoping.
    let other: Api<Pod> = Api::namespaced(client.clone(), "other");
    guard(other.create(&PostParams::default(), &pod("z", &["c"], &[("app", "web")])))
        .await
        .unwrap();

    let names = |sel: &'static str| {
        let pods = pods.clone();
        async move {
            let l = guard(pods.list(&ListParams::default().labels(sel)))
                .await
                .unwrap();
            l.items.iter().map(|p| p.name_any()).collect::<Vec<_>>()
        }
    };
    assert_eq!(names("app=web").await, ["a", "b"]);
    assert_eq!(names("app==web,tier=be").await, ["b"]);
    assert_eq!(names("app!=web").await, ["c", "d"]);
    assert_eq!(names("app in (db,cache)").await, ["c", "d"]);
    assert_eq!(names("tier notin (fe)").await, ["b", "c", "d"]);
    assert_eq!(names("tier").await, ["a", "b", "c"]);
    assert_eq!(names("!tier").await, ["d"]);

    let list = guard(pods.list(&ListParams::default())).await.unwrap();
    assert_eq!(
        list.metadata.resource_version,
        Some(fake.resource_version().to_string())
    );

    // Field selectors: metadata.name and status.phase.
    fake.set_pod_running("ns", "b").unwrap();
    let running = guard(pods.list(&ListParams::default().fields("status.phase=Running")))
        .await
        .unwrap();
    assert_eq!(running.items.len(), 1);
    assert_eq!(running.items[0].name_any(), "b");
    let by_name = guard(pods.list(&ListParams::default().fields("metadata.name=c")))
        .await
        .unwrap();
    assert_eq!(by_name.items[0].name_any(), "c");
    let bad = guard(pods.list(&ListParams::default().fields("spec.bogus=1")))
        .await
        .unwrap_err();
    assert_eq!(api_err(bad), (400, "BadRequest".into()));
    let bad = guard(pods.list(&ListParams::default().labels("app in (")))
        .await
        .unwrap_err();
    assert_eq!(api_err(bad).0, 400);

    // All namespaces, resourceVersion=0 tolerated.
    let all: Api<Pod> = Api::all(client.clone());
    let everything = guard(all.list(&ListParams::default().match_any().labels("app=web")))
        .await
        .unwrap();
    assert_eq!(everything.items.len(), 3);

    // Pagination.
    let page1 = guard(pods.list(&ListParams::default().limit(3)))
        .await
        .unwrap();
    assert_eq!(page1.items.len(), 3);
    let token = page1.metadata.continue_.clone().expect("continue token");
    let page2 = guard(pods.list(&ListParams::default().limit(3).continue_token(&token)))
        .await
        .unwrap();
    assert_eq!(
        page2.items.iter().map(|p| p.name_any()).collect::<Vec<_>>(),
        ["d"]
    );
    assert!(page2.metadata.continue_.is_none());
}

#[tokio::test]
async fn replace_conflicts_and_noop() {
    let fake = FakeKube::new();
    let cms: Api<ConfigMap> = Api::default_namespaced(fake.client());
    let v1 = guard(cms.create(&PostParams::default(), &cm("cfg", &[("a", "1")])))
        .await
        .unwrap();
    assert!(
        v1.metadata.generation.is_none(),
        "configmaps have no generation"
    );

    let mut v2 = v1.clone();
    v2.data = Some([("a".to_string(), "2".to_string())].into());
    let v2 = guard(cms.replace("cfg", &PostParams::default(), &v2))
        .await
        .unwrap();
    assert_ne!(v2.resource_version(), v1.resource_version());

    // Replace based on the stale object.
    let mut stale = v1.clone();
    stale.data = Some([("a".to_string(), "3".to_string())].into());
    let err = guard(cms.replace("cfg", &PostParams::default(), &stale))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (409, "Conflict".into()));

    // Unconditional replace (no resourceVersion) wins.
    stale.metadata.resource_version = None;
    let v3 = guard(cms.replace("cfg", &PostParams::default(), &stale))
        .await
        .unwrap();
    assert_eq!(v3.data.as_ref().unwrap()["a"], "3");

    // A no-op replace keeps the resourceVersion.
    let v4 = guard(cms.replace("cfg", &PostParams::default(), &v3))
        .await
        .unwrap();
    assert_eq!(v4.resource_version(), v3.resource_version());

    // Name mismatch and missing objects.
    let err = guard(cms.replace("other", &PostParams::default(), &v4))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (400, "BadRequest".into()));
    let mut ghost = cm("ghost", &[]);
    ghost.metadata.resource_version = None;
    let err = guard(cms.replace("ghost", &PostParams::default(), &ghost))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (404, "NotFound".into()));
}

#[tokio::test]
async fn patch_flavours() {
    let fake = FakeKube::new();
    let cms: Api<ConfigMap> = Api::default_namespaced(fake.client());
    guard(cms.create(&PostParams::default(), &cm("p", &[("a", "1"), ("b", "2")])))
        .await
        .unwrap();

    let merged = guard(cms.patch(
        "p",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": null, "c": "3"}})),
    ))
    .await
    .unwrap();
    let data = merged.data.unwrap();
    assert!(!data.contains_key("a"));
    assert_eq!(data["c"], "3");

    // kube's `Patch::Json` needs its `jsonpatch` feature; send the request directly.
    let json_patch = |body: serde_json::Value| {
        axum::http::Request::patch("/api/v1/namespaces/default/configmaps/p")
            .header("content-type", "application/json-patch+json")
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap()
    };
    let client = fake.client();
    let patched: ConfigMap = guard(client.request(json_patch(json!([
        {"op": "replace", "path": "/data/b", "value": "20"},
        {"op": "add", "path": "/metadata/labels", "value": {"x": "y"}},
    ]))))
    .await
    .unwrap();
    assert_eq!(patched.data.as_ref().unwrap()["b"], "20");
    assert_eq!(patched.labels()["x"], "y");

    // A failing JSON patch `test` op is a 422.
    let err = guard(client.request::<ConfigMap>(json_patch(json!([
        {"op": "test", "path": "/data/b", "value": "nope"}
    ]))))
    .await
    .unwrap_err();
    assert_eq!(api_err(err).0, 422);

    // Apply needs a field manager; unknown patch types are 415.
    let raw = |ct: &str, q: &str| {
        axum::http::Request::patch(format!("/api/v1/namespaces/default/configmaps/p{q}"))
            .header("content-type", ct)
            .body(b"{}".to_vec())
            .unwrap()
    };
    let err = guard(client.request::<ConfigMap>(raw("application/apply-patch+yaml", "")))
        .await
        .unwrap_err();
    assert_eq!(api_err(err).0, 422);
    let err = guard(client.request::<ConfigMap>(raw("text/plain", "")))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (415, "UnsupportedMediaType".into()));
    // YAML apply bodies are accepted.
    let yaml =
        axum::http::Request::patch("/api/v1/namespaces/default/configmaps/p?fieldManager=kubectl")
            .header("content-type", "application/apply-patch+yaml")
            .body(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  y: from-yaml\n".to_vec())
            .unwrap();
    let applied: ConfigMap = guard(client.request(yaml)).await.unwrap();
    assert_eq!(applied.data.unwrap()["y"], "from-yaml");

    let smp = guard(cms.patch(
        "p",
        &PatchParams::default(),
        &Patch::Strategic(json!({"data": {"d": "4"}})),
    ))
    .await
    .unwrap();
    assert_eq!(smp.data.unwrap()["d"], "4");

    // Server-side apply creates, then updates.
    let applied = guard(cms.patch(
        "applied",
        &PatchParams::apply("test-manager"),
        &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}})),
    ))
    .await
    .unwrap();
    assert_eq!(applied.data.as_ref().unwrap()["k"], "v");
    let applied = guard(cms.patch(
        "applied",
        &PatchParams::apply("test-manager").force(),
        &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "w"}})),
    ))
    .await
    .unwrap();
    assert_eq!(applied.data.as_ref().unwrap()["k"], "w");

    // Optimistic lock inside a merge patch.
    let err = guard(cms.patch(
        "p",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"resourceVersion": "1"}, "data": {"z": "1"}})),
    ))
    .await
    .unwrap_err();
    assert_eq!(api_err(err), (409, "Conflict".into()));

    let err = guard(cms.patch(
        "missing",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {}})),
    ))
    .await
    .unwrap_err();
    assert_eq!(api_err(err), (404, "NotFound".into()));

    // Strategic merge is not available for custom resources.
    let pjs: Api<DynamicObject> = Api::default_namespaced_with(fake.client(), &prowjob_resource());
    guard(pjs.create(&PostParams::default(), &prowjob("pj", "job")))
        .await
        .unwrap();
    let err = guard(pjs.patch(
        "pj",
        &PatchParams::default(),
        &Patch::Strategic(json!({"spec": {"job": "x"}})),
    ))
    .await
    .unwrap_err();
    assert_eq!(api_err(err), (415, "UnsupportedMediaType".into()));
}

#[tokio::test]
async fn prowjob_status_subresource_and_generation() {
    let fake = FakeKube::new();
    let pjs: Api<DynamicObject> = Api::namespaced_with(fake.client(), "prow", &prowjob_resource());
    let created = guard(pjs.create(&PostParams::default(), &prowjob("pj-1", "ci-test")))
        .await
        .unwrap();
    // CRDs with a status subresource drop .status on create.
    assert!(created.data.get("status").is_none());
    assert_eq!(created.metadata.generation, Some(1));

    let st = guard(pjs.patch_status(
        "pj-1",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"state": "pending"}, "spec": {"job": "ignored"}})),
    ))
    .await
    .unwrap();
    assert_eq!(st.data["status"]["state"], "pending");
    assert_eq!(
        st.data["spec"]["job"], "ci-test",
        "status writes only change .status"
    );
    assert_eq!(
        st.metadata.generation,
        Some(1),
        "status does not bump generation"
    );

    let main = guard(pjs.patch(
        "pj-1",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"state": "aborted"}, "spec": {"job": "renamed"}})),
    ))
    .await
    .unwrap();
    assert_eq!(
        main.data["status"]["state"], "pending",
        "main resource keeps status"
    );
    assert_eq!(main.data["spec"]["job"], "renamed");
    assert_eq!(main.metadata.generation, Some(2));

    // replace_status with a stale resourceVersion conflicts.
    let mut stale = st.clone();
    stale.data["status"]["state"] = json!("success");
    let err = guard(pjs.replace_status("pj-1", &PostParams::default(), &stale))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (409, "Conflict".into()));

    // The typed helper sees the same object.
    let stored = fake
        .get("prow.k8s.io/v1", "prowjobs", Some("prow"), "pj-1")
        .unwrap();
    assert_eq!(stored["spec"]["job"], "renamed");

    // Mirroring upstream's CRD (no status subresource): status is written through the object.
    let upstream = FakeKube::builder()
        .prowjob_status_subresource(false)
        .build();
    let pjs: Api<DynamicObject> =
        Api::namespaced_with(upstream.client(), "prow", &prowjob_resource());
    let created = guard(pjs.create(&PostParams::default(), &prowjob("pj-2", "ci")))
        .await
        .unwrap();
    assert_eq!(created.data["status"]["state"], "triggered");
    let err = guard(pjs.patch_status(
        "pj-2",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {}})),
    ))
    .await
    .unwrap_err();
    assert_eq!(api_err(err).0, 404);
}

#[tokio::test]
async fn delete_with_finalizers() {
    let fake = FakeKube::new();
    let cms: Api<ConfigMap> = Api::default_namespaced(fake.client());
    let mut c = cm("fin", &[]);
    c.metadata.finalizers = Some(vec!["prow.k8s.io/keep".into()]);
    guard(cms.create(&PostParams::default(), &c)).await.unwrap();

    let res = guard(cms.delete("fin", &DeleteParams::default()))
        .await
        .unwrap();
    let marked = res.left().expect("object returned");
    assert!(marked.metadata.deletion_timestamp.is_some());
    let still = guard(cms.get("fin")).await.unwrap();
    assert!(still.metadata.deletion_timestamp.is_some());

    // No new finalizers while deleting.
    let err = guard(cms.patch(
        "fin",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": ["prow.k8s.io/keep", "other"]}})),
    ))
    .await
    .unwrap_err();
    assert_eq!(api_err(err), (422, "Invalid".into()));

    // Removing the last finalizer deletes the object.
    guard(cms.patch(
        "fin",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    ))
    .await
    .unwrap();
    assert!(guard(cms.get_opt("fin")).await.unwrap().is_none());

    // Plain delete, then 404.
    guard(cms.create(&PostParams::default(), &cm("plain", &[])))
        .await
        .unwrap();
    guard(cms.delete("plain", &DeleteParams::default()))
        .await
        .unwrap();
    let err = guard(cms.delete("plain", &DeleteParams::default()))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (404, "NotFound".into()));

    // Preconditions.
    let live = guard(cms.create(&PostParams::default(), &cm("pre", &[])))
        .await
        .unwrap();
    let dp = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            resource_version: Some("1".into()),
            uid: live.uid(),
        }),
        ..Default::default()
    };
    let err = guard(cms.delete("pre", &dp)).await.unwrap_err();
    assert_eq!(api_err(err), (409, "Conflict".into()));

    // Delete collection by label.
    for (n, l) in [("x1", "a"), ("x2", "a"), ("x3", "b")] {
        let mut c = cm(n, &[]);
        c.metadata.labels = Some([("grp".to_string(), l.to_string())].into());
        guard(cms.create(&PostParams::default(), &c)).await.unwrap();
    }
    guard(cms.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("grp=a"),
    ))
    .await
    .unwrap();
    let left = guard(cms.list(&ListParams::default().labels("grp")))
        .await
        .unwrap();
    assert_eq!(
        left.items.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
        ["x3"]
    );
}

#[tokio::test]
async fn leases_and_secrets() {
    let fake = FakeKube::new();
    let client = fake.client();
    let leases: Api<Lease> = Api::namespaced(client.clone(), "prow");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "plank"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15},
    }))
    .unwrap();
    let l1 = guard(leases.create(&PostParams::default(), &lease))
        .await
        .unwrap();
    let mut l2 = l1.clone();
    l2.spec.as_mut().unwrap().holder_identity = Some("b".into());
    guard(leases.replace("plank", &PostParams::default(), &l2))
        .await
        .unwrap();
    // A competing candidate with the old version loses.
    let mut l3 = l1.clone();
    l3.spec.as_mut().unwrap().holder_identity = Some("c".into());
    let err = guard(leases.replace("plank", &PostParams::default(), &l3))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (409, "Conflict".into()));
    let typed: Lease = fake.get_as(Some("prow"), "plank").unwrap();
    assert_eq!(typed.spec.unwrap().holder_identity.as_deref(), Some("b"));

    let secrets: Api<Secret> = Api::namespaced(client, "prow");
    let s: Secret = serde_json::from_value(json!({
        "metadata": {"name": "token"},
        "stringData": {"token": "foobar"},
    }))
    .unwrap();
    let s = guard(secrets.create(&PostParams::default(), &s))
        .await
        .unwrap();
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
    assert_eq!(s.data.unwrap()["token"].0, b"foobar");
}

#[tokio::test]
async fn discovery_metadata_and_crd_registration() {
    let fake = FakeKube::new();
    let client: Client = fake.client();
    let version = guard(client.apiserver_version()).await.unwrap();
    assert_eq!(version.minor, "33");

    let discovery = guard(Discovery::new(client.clone()).run()).await.unwrap();
    let (ar, caps) = discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .find(|(ar, _)| ar.plural == "prowjobs")
        .expect("prowjobs discovered");
    assert_eq!(ar.group, "prow.k8s.io");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(
        caps.subresources
            .iter()
            .any(|(s, _)| s.plural == "prowjobs/status" || s.plural == "status")
    );

    let agg = guard(Discovery::new(client.clone()).run_aggregated())
        .await
        .unwrap();
    assert!(agg.has_group("coordination.k8s.io"));
    assert!(
        agg.groups()
            .flat_map(|g| g.recommended_resources())
            .any(|(ar, _)| ar.kind == "Pod")
    );

    // Metadata-only requests.
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    guard(pods.create(&PostParams::default(), &pod("m", &["c"], &[("a", "b")])))
        .await
        .unwrap();
    let meta = guard(pods.get_metadata("m")).await.unwrap();
    assert_eq!(meta.labels()["a"], "b");
    let metas = guard(pods.list_metadata(&ListParams::default()))
        .await
        .unwrap();
    assert_eq!(metas.items.len(), 1);

    // Creating a CRD object makes its resource available.
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
            ),
            "customresourcedefinitions",
        ),
    );
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true, "subresources": {"status": {}}}],
        },
    }))
    .unwrap();
    guard(crds.create(&PostParams::default(), &crd))
        .await
        .unwrap();
    let widget_ar = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("example.com", "v1alpha1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::all_with(client, &widget_ar);
    let w = guard(widgets.create(
        &PostParams::default(),
        &DynamicObject::new("w1", &widget_ar),
    ))
    .await
    .unwrap();
    assert!(w.namespace().is_none());
    assert_eq!(
        guard(widgets.list(&ListParams::default()))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn injected_failures_and_request_log() {
    let fake = FakeKube::new();
    let pods: Api<Pod> = Api::default_namespaced(fake.client());
    fake.inject_failure(InjectedFailure::new(Verb::Create, 500).resource("pods"));
    let err = guard(pods.create(&PostParams::default(), &pod("f", &["c"], &[])))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (500, "InternalError".into()));
    // Fired once; the retry works.
    guard(pods.create(&PostParams::default(), &pod("f", &["c"], &[])))
        .await
        .unwrap();

    fake.inject_failure(InjectedFailure::new(Verb::Create, 409).resource("pods"));
    let err = guard(pods.create(&PostParams::default(), &pod("g", &["c"], &[])))
        .await
        .unwrap_err();
    assert_eq!(api_err(err), (409, "AlreadyExists".into()));
    assert!(fake.get("v1", "pods", Some("default"), "g").is_none());

    fake.inject_failure(
        InjectedFailure::new(Verb::Patch, 409)
            .resource("pods")
            .subresource("status")
            .times(2),
    );
    for _ in 0..2 {
        let err = guard(pods.patch_status(
            "f",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Running"}})),
        ))
        .await
        .unwrap_err();
        assert_eq!(api_err(err), (409, "Conflict".into()));
    }
    let patched = guard(pods.patch_status(
        "f",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": "Running"}})),
    ))
    .await
    .unwrap();
    assert_eq!(patched.status.unwrap().phase.as_deref(), Some("Running"));

    fake.inject_failure(InjectedFailure::new(Verb::Get, 503).name("f").always());
    for _ in 0..3 {
        let err = guard(pods.get("f")).await.unwrap_err();
        assert_eq!(api_err(err), (503, "ServiceUnavailable".into()));
    }
    fake.clear_failures();
    guard(pods.get("f")).await.unwrap();

    let reqs = fake.requests();
    assert!(reqs.iter().any(|r| r.method == "PATCH"
        && r.path == "/api/v1/namespaces/default/pods/f/status"
        && r.content_type.as_deref() == Some("application/merge-patch+json")));
}

#[derive(
    kube::CustomResource, serde::Serialize, serde::Deserialize, Clone, Debug, schemars::JsonSchema,
)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Gadget",
    namespaced,
    status = "GadgetStatus"
)]
pub struct GadgetSpec {
    size: u32,
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default, schemars::JsonSchema)]
pub struct GadgetStatus {
    ready: bool,
}

#[tokio::test]
async fn derived_crd_registration_and_typed_helpers() {
    let fake = FakeKube::new();
    fake.register_crd::<Gadget>();
    let def = fake
        .resources()
        .into_iter()
        .find(|r| r.plural == "gadgets")
        .expect("registered");
    assert!(def.status_subresource && def.namespaced && def.custom);

    // Seed through the helper, then use the typed API.
    let seeded = fake
        .create_as(Some("ns"), &Gadget::new("g1", GadgetSpec { size: 1 }))
        .unwrap();
    assert_eq!(seeded.metadata.generation, Some(1));
    let gadgets: Api<Gadget> = Api::namespaced(fake.client(), "ns");
    let patched = guard(gadgets.patch_status(
        "g1",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"ready": true}})),
    ))
    .await
    .unwrap();
    assert!(patched.status.unwrap().ready);
    let typed: Gadget = fake.get_as(Some("ns"), "g1").unwrap();
    assert_eq!(typed.spec.size, 1);
    let err = fake
        .create_as(Some("ns"), &Gadget::new("g1", GadgetSpec { size: 2 }))
        .unwrap_err();
    assert_eq!((err.code, err.reason.as_str()), (409, "AlreadyExists"));
}
