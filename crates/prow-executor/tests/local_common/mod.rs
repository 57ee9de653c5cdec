//! Shared helpers of the local executor tests.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prow_api::{
    DecorationConfig, GcsConfiguration, ProwJob, ProwJobAgent, ProwJobSpec, ProwJobType, Pull, Refs,
};
use prow_executor::local::{LocalExecutor, LocalOptions, SandboxMode};
use prow_executor::{Executor, RunPhase, RunStatus};
use prow_storage::Storage;
use prow_storage::file::FileStorage;

/// A work root and a file:// bucket in one temporary directory.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub storage: Arc<dyn Storage>,
}

impl Env {
    pub fn new() -> Self {
        Self::in_dir(tempfile::tempdir().expect("tempdir"))
    }

    /// An environment outside `/tmp` (the sandbox's private `/tmp` would hide it anyway, so
    /// what a job can see of it tests the sandbox's other walls).
    pub fn outside_tmp() -> Self {
        Self::in_dir(tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir"))
    }

    fn in_dir(tmp: tempfile::TempDir) -> Self {
        std::fs::create_dir_all(tmp.path().join("bucket")).expect("bucket dir");
        let storage: Arc<dyn Storage> =
            Arc::new(FileStorage::at(tmp.path().join("bucket")).expect("file storage"));
        Env { tmp, storage }
    }

    pub fn work_root(&self) -> std::path::PathBuf {
        self.tmp.path().join("work")
    }

    pub fn options(&self) -> LocalOptions {
        let mut o = LocalOptions::new(self.work_root(), self.storage.clone());
        o.sandbox = SandboxMode::Unsandboxed;
        o.fetch_retries = Vec::new();
        o
    }

    pub fn executor(&self) -> LocalExecutor {
        LocalExecutor::new(self.options())
    }

    /// Object content from the bucket, as text.
    pub async fn object(&self, key: &str) -> String {
        let data = self
            .storage
            .get(key)
            .await
            .unwrap_or_else(|e| panic!("object {key} missing: {e}"));
        String::from_utf8_lossy(&data).into_owned()
    }

    pub async fn json(&self, key: &str) -> serde_json::Value {
        serde_json::from_str(&self.object(key).await)
            .unwrap_or_else(|e| panic!("object {key} is not JSON: {e}"))
    }

    pub async fn exists(&self, key: &str) -> bool {
        self.storage.exists(key).await.expect("exists")
    }
}

pub fn container(name: &str, script: &str) -> Container {
    Container {
        name: name.into(),
        image: Some("example.com/informational:latest".into()),
        command: Some(vec!["sh".into(), "-c".into()]),
        args: Some(vec![script.into()]),
        ..Default::default()
    }
}

/// A decorated periodic running `script` with `sh -c`.
pub fn periodic(name: &str, script: &str) -> ProwJob {
    ProwJob {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: ProwJobSpec {
            job_type: Some(ProwJobType::Periodic),
            agent: Some(ProwJobAgent::Kubernetes),
            job: "local-test-job".into(),
            pod_spec: Some(PodSpec {
                containers: vec![container("test", script)],
                ..Default::default()
            }),
            decoration_config: Some(DecorationConfig {
                timeout: Some(prow_api::Duration::from_mins(10)),
                grace_period: Some(prow_api::Duration::from_secs(15)),
                gcs_configuration: Some(GcsConfiguration {
                    bucket: "gs://example-bucket".into(),
                    path_strategy: "explicit".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A decorated presubmit of `org/repo` PR `number` at `sha`, base `main` at `base_sha`.
pub fn presubmit(name: &str, script: &str, number: u64, base_sha: &str, sha: &str) -> ProwJob {
    let mut job = periodic(name, script);
    job.spec.job_type = Some(ProwJobType::Presubmit);
    job.spec.refs = Some(Refs {
        org: "org".into(),
        repo: "repo".into(),
        base_ref: "main".into(),
        base_sha: base_sha.into(),
        pulls: vec![Pull {
            number,
            author: "alice".into(),
            sha: sha.into(),
            title: "Add a feature".into(),
            head_ref: "feature".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    job
}

pub fn decoration(job: &mut ProwJob) -> &mut DecorationConfig {
    job.spec
        .decoration_config
        .as_mut()
        .expect("decorated test job")
}

/// Poll until the run's phase satisfies `pred` (fails after a minute: a hang, not a timing
/// assertion).
pub async fn wait_for(
    ex: &LocalExecutor,
    job: &ProwJob,
    what: &str,
    pred: impl Fn(&RunPhase) -> bool,
) -> RunStatus {
    let mut last = None;
    for _ in 0..1200 {
        let s = ex.status(job).await.expect("status");
        if pred(&s.phase) {
            return s;
        }
        last = Some(s);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run never became {what}; last status {last:?}");
}

pub async fn wait_done(ex: &LocalExecutor, job: &ProwJob) -> RunStatus {
    wait_for(ex, job, "finished", |p| {
        matches!(p, RunPhase::Succeeded | RunPhase::Failed)
    })
    .await
}

/// Whether a process is gone (or a zombie nobody reaped yet).
pub fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

pub async fn wait_gone(pid: i32) {
    for _ in 0..1200 {
        if process_gone(pid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("process {pid} still alive");
}

pub fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("pid file {}: {e}", path.display()))
        .trim()
        .parse()
        .expect("pid")
}

/// Poll for a file the job writes.
pub async fn wait_file(path: &Path) {
    for _ in 0..1200 {
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never appeared", path.display());
}
