//! Prow's bucket layout written through this crate: `prow-pod-utils`' own upload code (target
//! assembly: build directories, `latest-build.txt` pointers, the presubmit alias with its
//! `x-goog-meta-link`, `.gz` handling and `compress_file_types`) runs against each backend via
//! a small `Uploader` adapter over [`BlockingStorage`], and the objects are then checked in the
//! real emulators.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::emulators;
use prow_api::{GcsConfiguration, ProwJobType, Pull, Refs};
use prow_pod_utils::gcs::WriterOptions;
use prow_pod_utils::log::Logger;
use prow_pod_utils::upload::{self as pu, GcsUploadOptions, Targets, UploadError, UploadTarget};
use prow_pod_utils::{JobSpec, Uploader};
use prow_storage::blocking::BlockingStorage;
use prow_storage::upload::{self, read_decoded};
use prow_storage::{Credentials, Env, PutOptions, Storage, open};

/// What `prow-pod-utils` needs to upload through a [`prow_storage::Storage`].
struct StorageUploader(BlockingStorage);

fn put_options(a: &WriterOptions) -> PutOptions {
    PutOptions {
        content_type: a.content_type.clone(),
        content_encoding: a.content_encoding.clone(),
        metadata: a.metadata.clone(),
        ..Default::default()
    }
}

impl Uploader for StorageUploader {
    fn put(&self, path: &str, data: &[u8]) -> Result<(), UploadError> {
        self.put_with(path, data, &WriterOptions::default())
    }

    fn put_with(&self, path: &str, data: &[u8], attrs: &WriterOptions) -> Result<(), UploadError> {
        self.0
            .put(path, data.to_vec(), &put_options(attrs))
            .map_err(|e| UploadError::Other(e.to_string()))
    }

    fn put_file(&self, path: &str, local: &Path, attrs: &WriterOptions) -> Result<(), UploadError> {
        self.0
            .put_file(path, local, &put_options(attrs))
            .map_err(|e| UploadError::Other(e.to_string()))
    }

    fn describe(&self, path: &str) -> String {
        self.0.object_url(path)
    }

    fn retry_delays(&self) -> Vec<Duration> {
        Vec::new()
    }
}

fn presubmit() -> JobSpec {
    JobSpec {
        job_type: Some(ProwJobType::Presubmit),
        job: "pull-test-infra-unit".into(),
        build_id: "1729".into(),
        refs: Some(Refs {
            org: "kubernetes".into(),
            repo: "test-infra".into(),
            pulls: vec![Pull {
                number: 4242,
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn periodic() -> JobSpec {
    JobSpec {
        job_type: Some(ProwJobType::Periodic),
        job: "ci-nightly".into(),
        build_id: "77".into(),
        ..Default::default()
    }
}

/// Upload a presubmit and a periodic build the way initupload/sidecar do, then check every
/// object Prow's readers (Deck, Spyglass, TestGrid) look for.
async fn layout(store: Arc<dyn Storage>, bucket: &str, label: &str) {
    let log = Logger::silent("test");
    let art = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(art.path().join("artifacts/escape#me")).unwrap();
    std::fs::write(art.path().join("artifacts/junit_01.xml"), "<testsuites/>").unwrap();
    std::fs::write(art.path().join("artifacts/escape#me/notes.txt"), "n").unwrap();
    let zipped = upload::gzip(b"already compressed").unwrap();
    std::fs::write(art.path().join("artifacts/trace.json.gz"), zipped).unwrap();

    let build_log: Vec<u8> = (0..300)
        .flat_map(|i| format!("line {i}: ok\n").into_bytes())
        .collect();
    let mut opts = GcsUploadOptions {
        gcs_configuration: GcsConfiguration {
            bucket: bucket.to_string(),
            path_strategy: "explicit".into(),
            compress_file_types: Some(vec!["txt".into()]),
            ..Default::default()
        },
        items: vec![art.path().join("artifacts").display().to_string()],
        ..Default::default()
    };
    let mut extra = Targets::new();
    extra.insert(
        "build-log.txt".into(),
        UploadTarget::data(build_log.clone()),
    );
    extra.insert(
        "finished.json".into(),
        UploadTarget::data(r#"{"passed":true}"#),
    );

    let blocking = BlockingStorage::with_handle(store.clone(), tokio::runtime::Handle::current());
    let uploader = StorageUploader(blocking);
    let (o, e) = (opts.clone(), extra.clone());
    let uploader = tokio::task::spawn_blocking(move || {
        pu::run(&o, &presubmit(), e, &uploader, &log).map(|()| uploader)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{label}: upload: {e}"));

    let dir = "pr-logs/pull/kubernetes_test-infra/4242/pull-test-infra-unit/1729";
    // `gs://` is added to a bare bucket name.
    let full = store.object_url(dir);
    // Presubmit alias: the full build path, also as object metadata.
    let alias = "pr-logs/directory/pull-test-infra-unit/1729.txt";
    assert_eq!(store.get(alias).await.unwrap(), full.as_bytes(), "{label}");
    assert_eq!(
        store
            .attributes(alias)
            .await
            .unwrap()
            .metadata
            .get("x-goog-meta-link"),
        Some(&full),
        "{label}"
    );
    for latest in [
        "pr-logs/directory/pull-test-infra-unit/latest-build.txt",
        "pr-logs/pull/kubernetes_test-infra/4242/pull-test-infra-unit/latest-build.txt",
    ] {
        assert_eq!(
            &store.get(latest).await.unwrap()[..],
            b"1729",
            "{label}: {latest}"
        );
        assert_eq!(
            store
                .attributes(latest)
                .await
                .unwrap()
                .content_type
                .as_deref(),
            Some("text/plain; charset=utf-8"),
            "{label}"
        );
    }
    // build-log.txt is gzipped on the way up (compress_file_types: [txt]).
    let k = format!("{dir}/build-log.txt");
    let a = store.attributes(&k).await.unwrap();
    assert_eq!(a.content_encoding.as_deref(), Some("gzip"), "{label}");
    assert_eq!(
        read_decoded(store.as_ref(), &k).await.unwrap(),
        build_log,
        "{label}"
    );
    assert_eq!(
        &store.get(&format!("{dir}/finished.json")).await.unwrap()[..],
        br#"{"passed":true}"#
    );
    // Artifacts: `#` escaped, `.gz` dropped from the name and turned into an encoding.
    let listing = store
        .list(&format!("{dir}/artifacts/"), None)
        .await
        .unwrap();
    let names: Vec<_> = listing
        .objects
        .iter()
        .map(|o| o.key.trim_start_matches(dir))
        .collect();
    assert_eq!(
        names,
        vec![
            "/artifacts/escape%23me/notes.txt",
            "/artifacts/junit_01.xml",
            "/artifacts/trace.json",
        ],
        "{label}"
    );
    let trace = format!("{dir}/artifacts/trace.json");
    let a = store.attributes(&trace).await.unwrap();
    assert_eq!(
        (a.content_type.as_deref(), a.content_encoding.as_deref()),
        (Some("application/json"), Some("gzip")),
        "{label}"
    );
    assert_eq!(
        &read_decoded(store.as_ref(), &trace).await.unwrap()[..],
        b"already compressed"
    );
    // Deck's job history: builds listed under the alias directory.
    let hist = store
        .list("pr-logs/directory/pull-test-infra-unit/", Some("/"))
        .await
        .unwrap();
    let hist: Vec<_> = hist.objects.iter().map(|o| o.name()).collect();
    assert_eq!(hist, vec!["1729.txt", "latest-build.txt"], "{label}");

    // A periodic under a path prefix: the build directory moves, the pointer does not.
    opts.gcs_configuration.path_prefix = "prefix".into();
    opts.items.clear();
    let mut extra = Targets::new();
    extra.insert("started.json".into(), UploadTarget::data("{}"));
    tokio::task::spawn_blocking(move || {
        pu::run(
            &opts,
            &periodic(),
            extra,
            &uploader,
            &Logger::silent("test"),
        )
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{label}: periodic upload: {e}"));
    assert!(
        store
            .exists("prefix/logs/ci-nightly/77/started.json")
            .await
            .unwrap(),
        "{label}"
    );
    assert_eq!(
        &store.get("logs/ci-nightly/latest-build.txt").await.unwrap()[..],
        b"77"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_in_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let store = open(&url, &Credentials::default()).unwrap();
    layout(store, &url, "file").await;
    // The files are where a person (or a local Deck) expects them.
    assert!(
        dir.path()
            .join("pr-logs/directory/pull-test-infra-unit/latest-build.txt")
            .is_file()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_on_moto_s3() {
    let Some(emu) = emulators::moto() else {
        return;
    };
    emulators::create_s3_bucket(&emu, "istio-prow").await;
    let creds = Credentials {
        s3: Some(prow_storage::S3Credentials {
            region: "auto".into(),
            endpoint: emu.endpoint(),
            s3_force_path_style: true,
            access_key: "test-only".into(),
            secret_key: "test-only".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let store = open("s3://istio-prow", &creds).unwrap();
    layout(store, "s3://istio-prow", "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_on_fake_gcs_server() {
    let Some(emu) = emulators::fake_gcs() else {
        return;
    };
    emulators::create_gcs_bucket(&emu, "kubernetes-jenkins").await;
    let creds = Credentials::default()
        .with_env(Env::from_iter([("STORAGE_EMULATOR_HOST", emu.endpoint())]));
    // A bare bucket name, as in prow.k8s.io's config: alias files say gs://.
    let store = open("kubernetes-jenkins", &creds).unwrap();
    layout(store, "kubernetes-jenkins", "gcs").await;
}
