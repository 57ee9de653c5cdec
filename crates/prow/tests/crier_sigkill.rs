//! `prow crier` as a separate process in Kubernetes mode (ProwJobs in the in-repo fake API server,
//! a test double, not a cluster; GitHub is the simulator over loopback HTTP): it is SIGKILLed in
//! the middle of a burst of job completions and started again. Every state reaches GitHub, and
//! none is written twice.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use prow_api::{ProwJob, ProwJobState};
use prow_jobstore::JobStore;

const SEED: &str = r#"
users:
  - {login: prow-bot, token: t-bot, type: Bot}
repos:
  - name: acme/widgets
    files: {README.md: "widgets\n"}
"#;

const CONFIG: &str = r#"
prowjob_namespace: prow
pod_namespace: test-pods
github_reporter:
  job_types_to_report: [presubmit, postsubmit]
"#;

const JOBS: usize = 60;

fn postsubmit(i: usize, sha: &str) -> ProwJob {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": format!("post-{i:02}"), "namespace": "prow",
                     "labels": {"prow.k8s.io/type": "postsubmit"}},
        "spec": {"type": "postsubmit", "job": format!("post-{i:02}"), "report": true,
                 "context": format!("post-{i:02}"),
                 "refs": {"org": "acme", "repo": "widgets", "base_ref": "main", "base_sha": sha}},
        "status": {"state": "triggered", "startTime": chrono::Utc::now(),
                   "description": "Job triggered."}
    }))
    .unwrap()
}

async fn set_state(store: &dyn JobStore, name: &str, state: ProwJobState, desc: &str) {
    prow_jobstore::update_status_retrying(store, name, |j| {
        j.status.state = state;
        j.status.description = desc.to_owned();
        if state == ProwJobState::Success {
            j.status.completion_time = Some(chrono::Utc::now());
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_crier_reports_every_state_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // ProwJobs: the fake API server on loopback, reached by the crier process via kubeconfig.
    let kube = prow_kube_fake::FakeKube::builder()
        .prowjob_status_subresource(false)
        .build();
    let store: Arc<dyn JobStore> =
        Arc::new(prow_jobstore::kube::KubeStore::new(kube.client(), "prow"));
    let (_addr, server) = prow_kube_fake::serve("127.0.0.1:0".parse().unwrap(), kube)
        .await
        .unwrap();
    server
        .write_kubeconfig(&d.join("kubeconfig"), "default")
        .unwrap();

    // GitHub: the simulator on loopback.
    let gh = prow_github_fake::FakeGitHub::from_seed_yaml(SEED).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gh_url = format!("http://{}", listener.local_addr().unwrap());
    {
        let gh = gh.clone();
        tokio::spawn(prow_github_fake::serve(
            listener,
            gh,
            std::future::pending(),
        ));
    }
    let sha = {
        use prow_github::GitHub as _;
        gh.client("prow-bot")
            .get_ref("acme", "widgets", "heads/main")
            .await
            .unwrap()
    };

    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::write(d.join("token"), "t-bot").unwrap();
    let args = |ph: u16, pm: u16| -> Vec<String> {
        vec![
            "crier".into(),
            format!("--config-path={}", d.join("config.yaml").display()),
            "--job-store=kube".into(),
            format!("--kubeconfig={}", d.join("kubeconfig").display()),
            format!("--github-endpoint={gh_url}"),
            format!("--github-token-path={}", d.join("token").display()),
            "--github-workers=4".into(),
            "--dry-run=false".into(),
            format!("--health-port={ph}"),
            format!("--metrics-port={pm}"),
        ]
    };

    for i in 0..JOBS {
        store.create(postsubmit(i, &sha)).await.unwrap();
    }
    let successes = |gh: &prow_github_fake::FakeGitHub| {
        gh.status_history("acme", "widgets")
            .iter()
            .filter(|(_, s)| s.state == "success")
            .count()
    };

    let (ph, pm) = (free_port(), free_port());
    let mut first = spawn("crier-1", d, &args(ph, pm));
    wait_ok(
        &format!("http://127.0.0.1:{ph}/healthz/ready"),
        &d.join("crier-1.log"),
    )
    .await;

    // The burst: every job goes pending, then succeeds; crier is killed part way through.
    for i in 0..JOBS {
        let name = format!("post-{i:02}");
        set_state(store.as_ref(), &name, ProwJobState::Pending, "Job pending.").await;
    }
    let mut killed = false;
    let mut at_kill = 0;
    for i in 0..JOBS {
        let name = format!("post-{i:02}");
        set_state(
            store.as_ref(),
            &name,
            ProwJobState::Success,
            "Job succeeded.",
        )
        .await;
        if !killed && i >= JOBS / 3 && successes(&gh) >= 5 {
            // SIGKILL: no chance to finish the report in hand or record it.
            first.child.kill().unwrap();
            first.child.wait().unwrap();
            at_kill = successes(&gh);
            killed = true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(killed, "crier reported nothing before the kill point");
    assert!(
        at_kill < JOBS,
        "the kill landed mid-burst ({at_kill} of {JOBS} successes reported)"
    );
    eprintln!("killed crier after {at_kill} of {JOBS} successes were reported");

    let (ph, pm) = (free_port(), free_port());
    let _second = spawn("crier-2", d, &args(ph, pm));
    eventually(
        "every job's success recorded as reported",
        Duration::from_secs(120),
        || async {
            let jobs = store.list(&prow_jobstore::ListParams::all()).await.ok()?;
            jobs.items
                .iter()
                .all(|j| {
                    j.status.prev_report_states.get("github-reporter")
                        == Some(&ProwJobState::Success)
                })
                .then_some(())
        },
    )
    .await;

    // Every (context, state, description) written at most once; every final state exactly once.
    let mut writes: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for (s, st) in gh.status_history("acme", "widgets") {
        assert_eq!(s, sha, "statuses go to the postsubmits' base SHA");
        let desc = st.description.unwrap_or_default().replace('\u{2001}', "");
        *writes
            .entry((st.context.clone(), st.state.clone(), desc.trim().to_owned()))
            .or_default() += 1;
    }
    let dupes: Vec<_> = writes.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "written more than once: {dupes:?}");
    for i in 0..JOBS {
        let ctx = format!("post-{i:02}");
        let finals = writes
            .iter()
            .filter(|((c, s, _), _)| *c == ctx && s == "success")
            .count();
        assert_eq!(finals, 1, "{ctx}: its success reached GitHub exactly once");
    }
    server.shutdown().await;
}
