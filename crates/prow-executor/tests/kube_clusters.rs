//! Build clusters from kubeconfig files; clients talk over loopback TCP to the in-repo fake
//! Kubernetes API server (not a real cluster).
#![cfg(feature = "kube")]

use std::collections::BTreeSet;
use std::path::Path;

use k8s_openapi::api::core::v1::Pod;
use prow_api::ProwJob;
use prow_executor::Executor;
use prow_executor::kube::KubeExecutor;
use prow_executor::kube::clusters::{
    self, ClusterError, ClusterOptions, ClusterSource, candidate_files, merged_kubeconfig,
    resolve_sources,
};
use prow_kube_fake::{FakeKube, KubeconfigContext, kubeconfig_yaml};

fn write(dir: &Path, name: &str, contexts: &[KubeconfigContext], current: &str) {
    std::fs::write(dir.join(name), kubeconfig_yaml(contexts, current)).expect("write kubeconfig");
}

fn names(sources: &std::collections::BTreeMap<String, ClusterSource>) -> Vec<&str> {
    sources.keys().map(String::as_str).collect()
}

fn context_of(src: &ClusterSource) -> &str {
    match src {
        ClusterSource::Context { context, .. } => context,
        ClusterSource::InCluster => "<in-cluster>",
    }
}

#[test]
fn directory_files_are_filtered_and_ordered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = |n: &str| KubeconfigContext::new(n, "http://127.0.0.1:1");
    write(dir.path(), "b.yaml", &[ctx("build-b")], "build-b");
    write(dir.path(), "a.yaml", &[ctx("build-a")], "build-a");
    write(dir.path(), "notes.txt", &[ctx("ignored")], "ignored");
    write(dir.path(), "..data.yaml", &[ctx("hidden")], "hidden");
    std::fs::create_dir(dir.path().join("sub.yaml")).expect("mkdir");
    let opts = ClusterOptions {
        kubeconfig_dir: Some(dir.path().to_path_buf()),
        kubeconfig_suffix: ".yaml".into(),
        ..Default::default()
    };
    let files = candidate_files(&opts).expect("list");
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(names, ["a.yaml", "b.yaml"]);
}

#[test]
fn aliases_follow_prow_rules() {
    let ctx = |n: &str| KubeconfigContext::new(n, "http://127.0.0.1:1");
    let parse = |contexts: &[KubeconfigContext], current: &str| {
        kube::config::Kubeconfig::from_yaml(&kubeconfig_yaml(contexts, current)).expect("parses")
    };
    let none = BTreeSet::new();

    // Outside a cluster, `default` is the current context of the last file that has one.
    let sources = resolve_sources(
        vec![
            parse(&[ctx("service"), ctx("build-1")], "service"),
            parse(&[ctx("build-2")], "build-2"),
        ],
        false,
        &none,
    )
    .expect("resolves");
    assert_eq!(
        names(&sources),
        ["build-1", "build-2", "default", "service"]
    );
    assert_eq!(context_of(&sources["default"]), "build-2");

    // In a cluster, `default` is the in-cluster config unless a context is called `default`.
    let sources =
        resolve_sources(vec![parse(&[ctx("build-1")], "build-1")], true, &none).expect("resolves");
    assert!(matches!(sources["default"], ClusterSource::InCluster));
    let sources =
        resolve_sources(vec![parse(&[ctx("default")], "default")], true, &none).expect("resolves");
    assert_eq!(context_of(&sources["default"]), "default");

    // Disabled clusters disappear, also as current context.
    let disabled = BTreeSet::from(["build-2".to_string()]);
    let sources = resolve_sources(
        vec![
            parse(&[ctx("build-1")], "build-1"),
            parse(&[ctx("build-2")], "build-2"),
        ],
        false,
        &disabled,
    )
    .expect("resolves");
    assert_eq!(names(&sources), ["build-1", "default"]);
    assert_eq!(context_of(&sources["default"]), "build-1");

    // The same context in two files is an error; no default at all too.
    assert!(matches!(
        resolve_sources(
            vec![parse(&[ctx("x")], "x"), parse(&[ctx("x")], "x")],
            false,
            &none
        ),
        Err(ClusterError::DuplicateContext(c)) if c == "x"
    ));
    assert!(matches!(
        resolve_sources(Vec::new(), false, &none),
        Err(ClusterError::NoDefault)
    ));
}

#[test]
fn kubeconfig_list_is_merged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = |n: &str| KubeconfigContext::new(n, "http://127.0.0.1:1");
    write(dir.path(), "one", &[ctx("service")], "service");
    write(dir.path(), "two", &[ctx("build-1")], "build-1");
    let merged = merged_kubeconfig(&[dir.path().join("one"), "".into(), dir.path().join("two")])
        .expect("merges")
        .expect("some");
    let contexts: Vec<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(contexts, ["service", "build-1"]);
    assert_eq!(merged.current_context.as_deref(), Some("service"));
    assert!(merged_kubeconfig(&[]).expect("empty").is_none());
    assert!(matches!(
        merged_kubeconfig(&[dir.path().join("missing")]),
        Err(ClusterError::Kubeconfig { .. })
    ));
}

#[tokio::test]
async fn executor_from_kubeconfig_dir_reaches_each_cluster() {
    let service = FakeKube::new();
    let build = FakeKube::new();
    let service_srv = service.serve().await.expect("serve");
    let build_srv = build.serve().await.expect("serve");
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "service.yaml",
        &[KubeconfigContext::new("service", &service_srv.url())],
        "service",
    );
    write(
        dir.path(),
        "build.yaml",
        &[KubeconfigContext::new("build-1", &build_srv.url())],
        "build-1",
    );
    let opts = ClusterOptions {
        kubeconfig_dir: Some(dir.path().to_path_buf()),
        no_in_cluster: true,
        ..Default::default()
    };
    let exec = KubeExecutor::from_kubeconfigs(&opts, "test-pods")
        .await
        .expect("loads");
    assert_eq!(exec.cluster_aliases(), ["build-1", "default", "service"]);

    let job = |name: &str, cluster: &str| -> ProwJob {
        serde_saphyr::from_str(&format!(
            "metadata: {{name: {name}}}\nspec: {{type: periodic, job: j, cluster: '{cluster}', pod_spec: {{containers: [{{name: c, image: i, command: [x]}}]}}}}\n"
        ))
        .expect("job")
    };
    exec.start(&job("on-build", "build-1"), "1")
        .await
        .expect("start");
    // `default` is the current context of the last file read (service.yaml sorts after build.yaml).
    exec.start(&job("on-default", ""), "2")
        .await
        .expect("start");
    assert!(build.get_as::<Pod>(Some("test-pods"), "on-build").is_some());
    assert!(
        service
            .get_as::<Pod>(Some("test-pods"), "on-default")
            .is_some()
    );

    // A file that is not a kubeconfig is an error naming the file.
    std::fs::write(dir.path().join("broken.yaml"), "contexts: 5\n").expect("write");
    match clusters::load_clients(&opts).await {
        Err(ClusterError::Kubeconfig { path, .. }) => assert!(path.ends_with("broken.yaml")),
        other => panic!("want a kubeconfig error, got {:?}", other.map(|c| c.len())),
    }
}
