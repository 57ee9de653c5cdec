use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use prow_kube_fake::{FakeKube, KubeconfigContext, write_kubeconfig};

use crate::guard;

async fn client_for(path: &std::path::Path, context: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(path).expect("kubeconfig parses");
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("config");
    kube::Client::try_from(config).expect("client")
}

#[tokio::test]
async fn two_fake_clusters_over_tcp() {
    let trusted = FakeKube::new();
    let build = FakeKube::new();
    let trusted_srv = trusted.serve().await.unwrap();
    let build_srv = build.serve().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig.yaml");
    write_kubeconfig(
        &path,
        &[
            KubeconfigContext::new("default", &trusted_srv.url()).namespace("prow"),
            KubeconfigContext::new("build-1", &build_srv.url()).namespace("test-pods"),
        ],
        "default",
    )
    .unwrap();

    let c_default = client_for(&path, "default").await;
    let c_build = client_for(&path, "build-1").await;
    assert_eq!(c_default.default_namespace(), "prow");

    let cms: Api<ConfigMap> = Api::default_namespaced(c_default.clone());
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("config".into());
    let created = guard(cms.create(&PostParams::default(), &cm))
        .await
        .unwrap();

    // Watch over the socket.
    let mut w = guard(cms.watch(
        &WatchParams::default(),
        &created.resource_version().unwrap(),
    ))
    .await
    .unwrap()
    .boxed();
    trusted
        .update_with("v1", "configmaps", Some("prow"), "config", |v| {
            v["data"] = serde_json::json!({"k": "v"});
        })
        .unwrap();
    match guard(w.try_next()).await.unwrap() {
        Some(WatchEvent::Modified(c)) => assert_eq!(c.data.unwrap()["k"], "v"),
        other => panic!("{other:?}"),
    }

    // The clusters are independent.
    let build_cms: Api<ConfigMap> = Api::default_namespaced(c_build);
    assert!(
        guard(build_cms.list(&ListParams::default()))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(build.objects().is_empty());
    assert!(
        trusted
            .get("v1", "configmaps", Some("prow"), "config")
            .is_some()
    );

    // The server handle's own kubeconfig works too, and shutdown ends open watches.
    let single = dir.path().join("single.yaml");
    build_srv.write_kubeconfig(&single, "only").unwrap();
    let c_single = client_for(&single, "only").await;
    guard(c_single.apiserver_version()).await.unwrap();

    guard(trusted_srv.shutdown()).await;
    assert!(guard(w.next()).await.is_none(), "watch ends on shutdown");
    build_srv.shutdown().await;
}
