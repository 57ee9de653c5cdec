//! The shared storage contract against the three backends: a local directory, S3 on moto's
//! server, and GCS on fake-gcs-server, each opened through `prow_storage::open` with a bucket
//! URL and credentials as Prow's components would pass them.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::{conformance, emulators};
use prow_storage::{Credentials, Env, PutOptions, Storage, open};

/// What a store opened under `<bucket>/some/prefix` writes must land under that prefix of the
/// bucket, and its listings must not show the prefix.
async fn prefix_is_a_root(root: Arc<dyn Storage>, prefixed: Arc<dyn Storage>, label: &str) {
    prefixed
        .put(
            "logs/j/1/started.json",
            Bytes::from_static(b"{}"),
            &PutOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        root.exists("some/prefix/logs/j/1/started.json")
            .await
            .unwrap(),
        "{label}"
    );
    let l = prefixed.list("logs/", Some("/")).await.unwrap();
    assert_eq!(l.prefixes, vec!["logs/j/"], "{label}");
    assert_eq!(
        prefixed.object_url("logs/j/1/started.json"),
        root.object_url("some/prefix/logs/j/1/started.json"),
        "{label}"
    );
    prefixed.delete("logs/j/1/started.json").await.unwrap();
    assert!(
        !root
            .exists("some/prefix/logs/j/1/started.json")
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_backend_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let s = open(&url, &Credentials::default()).unwrap();
    assert_eq!(s.url().to_string(), url);
    conformance::run(s, "file").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_backend_conforms_on_moto() {
    let Some(emu) = emulators::moto() else {
        return;
    };
    emulators::create_s3_bucket(&emu, "prow-artifacts").await;
    // Prow's S3 credentials file, read from disk as components do with --s3-credentials-file.
    let dir = tempfile::tempdir().unwrap();
    let creds_file = dir.path().join("service-account.json");
    std::fs::write(
        &creds_file,
        serde_json::json!({
            "region": "us-east-1",
            "endpoint": emu.endpoint(),
            "s3_force_path_style": true,
            "insecure": false,
            "access_key": "test-only-access-key",
            "secret_key": "test-only-secret-key",
        })
        .to_string(),
    )
    .unwrap();
    let creds = Credentials::load(None, Some(&creds_file)).unwrap();
    let root = open("s3://prow-artifacts", &creds).unwrap();
    conformance::run(root.clone(), "s3").await;
    let prefixed = open("s3://prow-artifacts/some/prefix/", &creds).unwrap();
    conformance::run(prefixed.clone(), "s3 under a prefix").await;
    prefix_is_a_root(root, prefixed, "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_keys_from_the_environment() {
    let Some(emu) = emulators::moto() else {
        return;
    };
    emulators::create_s3_bucket(&emu, "env-bucket").await;
    // The credentials file only says where; the keys come from AWS_* variables.
    let creds = Credentials {
        s3: Some(prow_storage::S3Credentials {
            endpoint: emu.endpoint(),
            s3_force_path_style: true,
            ..Default::default()
        }),
        env: Env::from_iter([
            ("AWS_ACCESS_KEY_ID", "test-only-env-key"),
            ("AWS_SECRET_ACCESS_KEY", "test-only-env-secret"),
            ("AWS_REGION", "eu-west-1"),
        ]),
        ..Default::default()
    };
    let s = open("s3://env-bucket", &creds).unwrap();
    s.put(
        "logs/j/1/build-log.txt",
        Bytes::from_static(b"ok"),
        &PutOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(&s.get("logs/j/1/build-log.txt").await.unwrap()[..], b"ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcs_backend_conforms_on_fake_gcs_server() {
    let Some(emu) = emulators::fake_gcs() else {
        return;
    };
    emulators::create_gcs_bucket(&emu, "prow-artifacts").await;
    // Like Google's client libraries: STORAGE_EMULATOR_HOST as host:port, anonymous access.
    let creds = Credentials::default().with_env(Env::from_iter([(
        "STORAGE_EMULATOR_HOST",
        format!("127.0.0.1:{}", emu.port),
    )]));
    let root = open("gs://prow-artifacts", &creds).unwrap();
    conformance::run(root.clone(), "gcs").await;
    // A bare bucket name is GCS (Prow's deprecated form), here with a prefix.
    let prefixed = open("prow-artifacts/some/prefix", &creds).unwrap();
    assert_eq!(
        prefixed.url().to_string(),
        "gs://prow-artifacts/some/prefix"
    );
    conformance::run(prefixed.clone(), "gcs under a prefix").await;
    prefix_is_a_root(root, prefixed, "gcs").await;

    // An explicit endpoint option works the same as the environment variable.
    let explicit = open(
        "gs://prow-artifacts",
        &Credentials::default().with_gcs_endpoint(emu.endpoint()),
    )
    .unwrap();
    explicit
        .put("k", Bytes::from_static(b"v"), &PutOptions::default())
        .await
        .unwrap();
    assert_eq!(&explicit.get("k").await.unwrap()[..], b"v");
    // A missing bucket is "not found", not a generic failure.
    let nobucket = open("gs://no-such-bucket", &creds).unwrap();
    assert!(nobucket.get("k").await.unwrap_err().is_not_found());
}
