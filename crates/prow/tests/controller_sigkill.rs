//! Crash safety of `prow controller` (plank) in Kubernetes mode, against the in-repo fake API
//! server on loopback (a test double, not a real cluster): 60 ProwJobs are created, a "kubelet"
//! in the test runs every pod to success, and the controller process is SIGKILLed mid-burst and
//! started again (it must first wait out the dead leader's lease).
//!
//! Every job must end `success`, run in exactly one pod (no pod deleted and created again, no
//! revival), and none may be left `triggered` or `pending`. The numbers are printed for
//! `docs/reliability.md`.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use prow_api::{ProwJob, ProwJobState};
use prow_jobstore::JobStore;

const JOBS: u64 = 60;

const CONFIG: &str = r#"
prowjob_namespace: prow
pod_namespace: test-pods
plank:
  default_decoration_config_entries:
  - config:
      timeout: 1h
      grace_period: 15s
      utility_images:
        clonerefs: example.com/clonerefs:v1
        initupload: example.com/initupload:v1
        entrypoint: example.com/entrypoint:v1
        sidecar: example.com/sidecar:v1
      gcs_configuration: {bucket: example-bucket, path_strategy: explicit}
      gcs_credentials_secret: gcs-credentials
"#;

const JOB_CONFIG: &str = r#"
presubmits:
  acme/widgets:
  - name: pull-unit
    always_run: true
    decorate: true
    spec: {containers: [{image: example.com/test:v1, command: [make, test]}]}
"#;

fn job(cfg: &prow_config::Config, pr: u64) -> ProwJob {
    let p = &cfg.jobs.presubmits["acme/widgets"][0];
    let refs = prow_config::pjutil::PullRequestRefs {
        org: "acme".into(),
        repo: "widgets".into(),
        repo_link: "https://github.example.com/acme/widgets".into(),
        base_ref: "main".into(),
        number: pr,
        author: "alice".into(),
        head_sha: format!("{pr:040x}"),
        ..Default::default()
    };
    prow_config::pjutil::new_presubmit(
        &refs,
        "b".repeat(40).as_str(),
        p,
        &format!("event-{pr}"),
        &Default::default(),
        chrono::Utc::now(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_controller_runs_every_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::write(d.join("jobs.yaml"), JOB_CONFIG).unwrap();
    let cfg = prow_config::load(&prow_config::LoadOptions {
        config_path: d.join("config.yaml"),
        job_config_path: Some(d.join("jobs.yaml")),
        ..Default::default()
    })
    .unwrap();

    let kube = prow_kube_fake::FakeKube::builder()
        .prowjob_status_subresource(false)
        .build();
    let store: Arc<dyn JobStore> =
        Arc::new(prow_jobstore::kube::KubeStore::new(kube.client(), "prow"));
    let (_addr, server) = prow_kube_fake::serve("127.0.0.1:0".parse().unwrap(), kube.clone())
        .await
        .unwrap();
    server
        .write_kubeconfig(&d.join("kubeconfig"), "default")
        .unwrap();
    let args = |ph: u16, pm: u16| -> Vec<String> {
        vec![
            "controller".into(),
            format!("--config-path={}", d.join("config.yaml").display()),
            format!("--job-config-path={}", d.join("jobs.yaml").display()),
            format!("--kubeconfig={}", d.join("kubeconfig").display()),
            "--dry-run=false".into(),
            format!("--health-port={ph}"),
            format!("--metrics-port={pm}"),
        ]
    };

    // The kubelet: every pod runs to success; a pod whose uid changes was created again.
    let uids: Arc<Mutex<BTreeMap<String, Vec<String>>>> = Arc::default();
    let kubelet = {
        let (kube, uids) = (kube.clone(), uids.clone());
        tokio::spawn(async move {
            loop {
                for o in kube.objects() {
                    let obj = &o.object;
                    if obj["kind"] != "Pod" {
                        continue;
                    }
                    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_owned();
                    let uid = obj["metadata"]["uid"].as_str().unwrap_or("").to_owned();
                    {
                        let mut u = uids.lock().unwrap();
                        let seen = u.entry(name.clone()).or_default();
                        if seen.last() != Some(&uid) {
                            seen.push(uid);
                        }
                    }
                    if obj["status"]["phase"] != "Succeeded" {
                        let _ = kube.set_pod_succeeded("test-pods", &name);
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let (ph, pm) = (free_port(), free_port());
    let mut first = spawn("controller-1", d, &args(ph, pm));
    wait_ok(
        &format!("http://127.0.0.1:{ph}/healthz/ready"),
        &d.join("controller-1.log"),
    )
    .await;

    let mut names = Vec::new();
    for pr in 1..=JOBS {
        names.push(store.create(job(&cfg, pr)).await.unwrap().name().to_owned());
    }
    let count =
        |jobs: &[ProwJob], s: ProwJobState| jobs.iter().filter(|j| j.status.state == s).count();
    let list = || async {
        store
            .list(&Default::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default()
    };

    // Kill once a third of the jobs succeeded.
    eventually(
        "a third of the jobs done",
        Duration::from_secs(120),
        || async {
            (count(&list().await, ProwJobState::Success) >= JOBS as usize / 3).then_some(())
        },
    )
    .await;
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    let killed_at = Instant::now();
    let done_at_kill = count(&list().await, ProwJobState::Success);
    drop(first);

    let (ph, pm) = (free_port(), free_port());
    let _second = spawn("controller-2", d, &args(ph, pm));
    let first_after = eventually(
        "the new leader moves a job",
        Duration::from_secs(120),
        || async {
            (count(&list().await, ProwJobState::Success) > done_at_kill)
                .then(|| killed_at.elapsed())
        },
    )
    .await;
    let jobs = eventually("every job done", Duration::from_secs(180), || async {
        let jobs = list().await;
        (count(&jobs, ProwJobState::Success) == JOBS as usize).then_some(jobs)
    })
    .await;
    kubelet.abort();

    let uids = uids.lock().unwrap().clone();
    let recreated: Vec<_> = uids.iter().filter(|(_, u)| u.len() > 1).collect();
    let revived = jobs
        .iter()
        .filter(|j| j.status.pod_revival_count > 0)
        .count();
    let stuck = jobs.len() - count(&jobs, ProwJobState::Success);
    eprintln!(
        "controller SIGKILL mid-burst: {JOBS} jobs, {done_at_kill} done at the kill, new leader's first transition {:.1} s after the kill (lease {} s); {} pods, created twice: {}, revived: {revived}, unfinished: {stuck}",
        first_after.as_secs_f64(),
        prow_controller::cli::LEASE_DURATION.as_secs(),
        uids.len(),
        recreated.len(),
    );
    assert_eq!(jobs.len(), JOBS as usize);
    assert_eq!(uids.len(), JOBS as usize, "one pod per job");
    assert!(recreated.is_empty(), "{recreated:?}");
    assert_eq!(revived, 0);
    assert_eq!(stuck, 0);
    assert!(names.iter().all(|n| uids.contains_key(n)));
}
