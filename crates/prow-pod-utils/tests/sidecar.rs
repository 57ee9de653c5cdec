//! sidecar: waiting, metadata, multi-container logs and interrupts.

use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use prow_pod_utils::JobSpec;
use prow_pod_utils::log::Logger;
use prow_pod_utils::sidecar::{Sidecar, SidecarOptions};
use prow_pod_utils::signals::Signal;
use prow_pod_utils::upload::{GcsUploadOptions, LocalUploader};
use prow_pod_utils::wrapper::WrapperOptions;

fn entry(logs: &Path, name: &str) -> WrapperOptions {
    WrapperOptions {
        args: vec!["run".into(), name.into()],
        container_name: name.into(),
        process_log: logs.join(format!("{name}-log.txt")).display().to_string(),
        marker_file: logs
            .join(format!("{name}-marker.txt"))
            .display()
            .to_string(),
        metadata_file: logs
            .join(format!("artifacts/{name}-metadata.json"))
            .display()
            .to_string(),
    }
}

fn options(logs: &Path, out: &Path, names: &[&str]) -> SidecarOptions {
    SidecarOptions {
        gcs_options: GcsUploadOptions {
            items: vec![logs.join("artifacts").display().to_string()],
            gcs_configuration: prow_api::GcsConfiguration {
                bucket: format!("file://{}", out.display()),
                path_strategy: "explicit".into(),
                ..Default::default()
            },
            ..Default::default()
        },
        entries: names.iter().map(|n| entry(logs, n)).collect(),
        ..Default::default()
    }
}

fn spec() -> JobSpec {
    JobSpec::parse(r#"{"type":"periodic","job":"ci-test","buildid":"9","prowjobid":"id","extra_refs":[{"org":"o","repo":"r","base_ref":"main","base_sha":"abc"}]}"#).unwrap()
}

fn sidecar(o: SidecarOptions) -> Sidecar {
    Sidecar::new(o)
        .with_logger(Logger::silent("sidecar"))
        .with_poll_interval(Duration::from_millis(10))
        .with_clock(|| 1234)
}

#[test]
fn waits_for_all_containers_and_merges_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    let out = tmp.path().join("out");
    fs::create_dir_all(logs.join("artifacts/sub")).unwrap();
    fs::write(logs.join("artifacts/sub/junit_1.xml"), "<x/>").unwrap();
    fs::write(logs.join("a-log.txt"), "log a\n").unwrap();
    fs::write(logs.join("b-log.txt"), "log b\n").unwrap();
    fs::write(
        logs.join("artifacts/a-metadata.json"),
        r#"{"k":"a","only-a":1}"#,
    )
    .unwrap();
    fs::write(logs.join("artifacts/b-metadata.json"), r#"{"k":"b"}"#).unwrap();
    let mut o = options(&logs, &out, &["a", "b"]);
    o.validate().unwrap();
    fs::write(logs.join("a-marker.txt"), "0").unwrap();
    let late = logs.join("b-marker.txt");
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        fs::write(late, "0").unwrap();
    });
    let (_tx, rx) = mpsc::channel();
    let up = LocalUploader::new(&out);
    let (failures, res) = sidecar(o).run(&spec(), &up, rx);
    t.join().unwrap();
    res.unwrap();
    assert_eq!(failures, 0);
    let dir = out.join("logs/ci-test/9");
    assert_eq!(
        fs::read_to_string(dir.join("a-build-log.txt")).unwrap(),
        "log a\n"
    );
    assert_eq!(
        fs::read_to_string(dir.join("b-build-log.txt")).unwrap(),
        "log b\n"
    );
    assert!(!dir.join("build-log.txt").exists());
    assert_eq!(
        fs::read_to_string(dir.join("finished.json")).unwrap(),
        r#"{"timestamp":1234,"passed":true,"metadata":{"k":"b","only-a":1},"result":"SUCCESS","revision":"abc"}"#
    );
    assert!(dir.join("artifacts/sub/junit_1.xml").exists());
    assert!(dir.join("artifacts/a-metadata.json").exists());
    assert_eq!(
        fs::read_to_string(out.join("logs/ci-test/latest-build.txt")).unwrap(),
        "9"
    );
    let own = fs::read_to_string(dir.join("sidecar-logs.json")).unwrap();
    assert!(own.contains("Starting to upload"), "{own}");
}

#[test]
fn aborted_failed_and_bad_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    let out = tmp.path().join("out");
    fs::create_dir_all(logs.join("artifacts")).unwrap();
    fs::write(logs.join("artifacts/test-metadata.json"), "not json").unwrap();
    fs::write(logs.join("test-marker.txt"), "130").unwrap();
    let o = options(&logs, &out, &["test"]);
    let (_tx, rx) = mpsc::channel();
    let up = LocalUploader::new(&out);
    let (failures, res) = sidecar(o).run(&spec(), &up, rx);
    res.unwrap();
    assert_eq!(failures, 1);
    let dir = out.join("logs/ci-test/9");
    let f: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("finished.json")).unwrap()).unwrap();
    assert_eq!(f["result"], "ABORTED");
    assert_eq!(f["passed"], false);
    assert!(
        f["metadata"]["sidecar-errors"]["entry 0: run test"]
            .as_str()
            .unwrap()
            .contains("Failed to unmarshal")
    );
    // The missing process log is reported inside the uploaded build log.
    assert!(
        fs::read_to_string(dir.join("build-log.txt"))
            .unwrap()
            .starts_with("Failed to open ")
    );
}

#[test]
fn interrupt_triggers_best_effort_upload_and_waiting_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    let out = tmp.path().join("out");
    fs::create_dir_all(logs.join("artifacts")).unwrap();
    fs::write(logs.join("test-log.txt"), "partial\n").unwrap();
    let o = options(&logs, &out, &["test"]);
    let (tx, rx) = mpsc::channel();
    let finished = out.join("logs/ci-test/9/finished.json");
    let marker = logs.join("test-marker.txt");
    let f2 = finished.clone();
    let t = std::thread::spawn(move || {
        tx.send(Signal::SIGTERM).unwrap();
        // The aborted upload lands while the sidecar keeps waiting.
        while !f2.exists() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let first = fs::read_to_string(&f2).unwrap();
        fs::write(marker, "0").unwrap();
        first
    });
    let up = LocalUploader::new(&out);
    let (failures, res) = sidecar(o).run(&spec(), &up, rx);
    res.unwrap();
    let first: serde_json::Value = serde_json::from_str(&t.join().unwrap()).unwrap();
    assert_eq!(first["result"], "ABORTED");
    assert_eq!(failures, 0);
    let last: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&finished).unwrap()).unwrap();
    assert_eq!(last["result"], "SUCCESS");
}

#[test]
fn ignore_interrupts_and_censoring_of_artifacts() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    let out = tmp.path().join("out");
    let secrets = tmp.path().join("secrets");
    fs::create_dir_all(logs.join("artifacts/keep")).unwrap();
    fs::create_dir_all(&secrets).unwrap();
    fs::write(secrets.join("pw"), "hunter2-long").unwrap();
    fs::write(
        logs.join("test-log.txt"),
        "pw=hunter2-long b64=aHVudGVyMi1sb25n\n",
    )
    .unwrap();
    fs::write(logs.join("artifacts/out.txt"), "hunter2-long").unwrap();
    fs::write(logs.join("artifacts/keep/raw.txt"), "hunter2-long").unwrap();
    fs::write(logs.join("test-marker.txt"), "1").unwrap();
    let mut o = options(&logs, &out, &["test"]);
    o.ignore_interrupts = true;
    o.censoring_options = Some(prow_pod_utils::sidecar::CensoringOptions {
        secret_directories: vec![secrets.display().to_string()],
        exclude_directories: vec!["keep/**".into()],
        ..Default::default()
    });
    let (tx, rx) = mpsc::channel();
    tx.send(Signal::SIGINT).unwrap();
    let up = LocalUploader::new(&out);
    let (failures, res) = sidecar(o).run(&spec(), &up, rx);
    res.unwrap();
    assert_eq!(failures, 1);
    let dir = out.join("logs/ci-test/9");
    assert_eq!(
        fs::read_to_string(dir.join("build-log.txt")).unwrap(),
        "pw=XXXXXXXXXXXX b64=XXXXXXXXXXXXXXXX\n"
    );
    assert_eq!(
        fs::read_to_string(dir.join("artifacts/out.txt")).unwrap(),
        "XXXXXXXXXXXX"
    );
    assert_eq!(
        fs::read_to_string(dir.join("artifacts/keep/raw.txt")).unwrap(),
        "hunter2-long"
    );
    let f: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("finished.json")).unwrap()).unwrap();
    assert_eq!(f["result"], "FAILURE");
}
