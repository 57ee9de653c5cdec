//! `prow mkpj` prints the ProwJob Prow's mkpj would, and `--create` stores it for `prow local`.

use assert_cmd::Command;

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn mkpj(args: &[&str]) -> assert_cmd::assert::Assert {
    let ex = examples();
    Command::cargo_bin("prow")
        .unwrap()
        .arg("mkpj")
        .arg(format!(
            "--config-path={}",
            ex.join("config.yaml").display()
        ))
        .arg(format!("--job-config-path={}", ex.join("jobs").display()))
        .args(args)
        .assert()
}

#[test]
fn presubmit_with_refs_and_defaults() {
    let out = mkpj(&[
        "--job=pull-example-unit",
        "--base-ref=main",
        "--base-sha=abc",
        "--pull-number=3",
        "--pull-sha=def",
        "--pull-author=dave",
    ])
    .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let pj: prow_api::ProwJob = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(pj.spec.job, "pull-example-unit");
    assert_eq!(pj.spec.job_type, Some(prow_api::ProwJobType::Presubmit));
    assert_eq!(pj.status.state, prow_api::ProwJobState::Triggered);
    let refs = pj.spec.refs.unwrap();
    assert_eq!(
        (
            refs.org.as_str(),
            refs.base_sha.as_str(),
            refs.pulls[0].number
        ),
        ("example-org", "abc", 3)
    );
    // Decoration defaults from config.yaml were applied.
    assert_eq!(
        pj.spec
            .decoration_config
            .unwrap()
            .gcs_configuration
            .unwrap()
            .bucket,
        "s3://example-prow-artifacts"
    );
    assert_eq!(pj.metadata.labels.unwrap()["prow.k8s.io/refs.pull"], "3");
}

#[test]
fn unknown_job_and_missing_refs_fail_clearly() {
    let stderr = |a: assert_cmd::assert::Assert| {
        String::from_utf8(a.failure().get_output().stderr.clone()).unwrap()
    };
    assert!(stderr(mkpj(&["--job=nope"])).contains("Job nope not found."));
    assert!(
        stderr(mkpj(&["--job=pull-example-unit", "--pull-number=3"]))
            .contains("missing --base-ref/--base-sha")
    );
}

#[test]
fn create_puts_the_job_in_the_local_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = mkpj(&[
        "--job=periodic-example-nightly",
        "--create",
        &format!("--data-dir={}", data.display()),
    ])
    .success();
    let name = String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use prow_jobstore::JobStore;
        let store = prow_jobstore::sqlite::SqliteStore::open_in_dir(&data, "default")
            .await
            .unwrap();
        let pj = store.get(&name).await.unwrap();
        assert_eq!(pj.spec.job, "periodic-example-nightly");
    });
}
