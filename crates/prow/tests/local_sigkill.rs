//! Crash safety of the all-in-one mode: `prow local` (real-GitHub mode against the simulator on
//! loopback) receives a burst of `/test all` webhooks, one per pull request, and is SIGKILLed
//! mid-burst, then started again on the same data dir. The sender behaves like GitHub plus
//! redelivery: a delivery that got no `200` is sent again with the same delivery ID.
//!
//! Every acknowledged event must be acted on (both presubmits exist for every PR), no job may be
//! left unfinished, and a (PR, job) pair may be created twice only for events whose handler was
//! running at the instant of the kill. The numbers are printed for `docs/reliability.md`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures::StreamExt as _;
use prow_github::GitHub as _;

const SECRET: &str = "example-hmac-secret";
const PRS: u64 = 40;
const JOBS_PER_PR: usize = 2;

fn seed() -> String {
    let mut s = String::from(
        "users:\n  - {login: prow-bot, token: t-bot, type: Bot}\n  - {login: alice, token: t-alice}\n\
         orgs:\n  - {login: acme, members: [alice]}\n\
         repos:\n  - name: acme/widgets\n    files: {README.md: \"widgets\\n\"}\n\
         pull_requests:\n",
    );
    for n in 1..=PRS {
        s.push_str(&format!(
            "  - {{repo: acme/widgets, number: {n}, author: alice, title: Change {n}, head: change-{n}, files: {{f{n}.txt: \"{n}\\n\"}}}}\n"
        ));
    }
    s
}

const CONFIG: &str = r#"
prowjob_namespace: default
pod_namespace: test-pods
plank:
  default_decoration_config_entries:
  - config:
      timeout: 1h
      grace_period: 2s
      skip_cloning: true
      utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}
      gcs_configuration: {bucket: local-bucket, path_strategy: explicit}
"#;

const JOBS: &str = r#"
presubmits:
  acme/widgets:
  - name: pull-a
    always_run: true
    decorate: true
    spec: {containers: [{image: alpine, command: [sh, -c, "echo a"]}]}
  - name: pull-b
    always_run: true
    decorate: true
    spec: {containers: [{image: alpine, command: [sh, -c, "echo b"]}]}
"#;

const PLUGINS: &str = "plugins:\n  acme:\n    plugins: [trigger]\ntriggers:\n- repos: [acme]\n";

fn terminal(state: &str) -> bool {
    matches!(state, "success" | "failure" | "error" | "aborted")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_local_acts_on_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // GitHub: the simulator on loopback, outliving both `prow local` processes. Its own webhook
    // target stays unset: the test delivers (and redelivers) the rendered payloads itself.
    let gh = prow_github_fake::FakeGitHub::from_seed_yaml(&seed()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gh_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(prow_github_fake::serve(
        listener,
        gh.clone(),
        std::future::pending(),
    ));
    let mut tap = gh.subscribe();
    let alice = gh.client("alice");
    for n in 1..=PRS {
        alice
            .create_comment("acme", "widgets", n, "/test all")
            .await
            .unwrap();
    }
    let mut deliveries = Vec::new();
    while deliveries.len() < PRS as usize {
        let d = tokio::time::timeout(Duration::from_secs(30), tap.recv())
            .await
            .expect("the simulator renders a webhook per comment")
            .unwrap();
        if d.event_type == "issue_comment" {
            deliveries.push(d);
        }
    }

    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/jobs.yaml"), JOBS).unwrap();
    std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
    std::fs::write(d.join("token"), "t-bot").unwrap();
    std::fs::write(d.join("hmac"), SECRET).unwrap();
    let (port, ph, pm) = (free_port(), free_port(), free_port());
    let s = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let args: Vec<String> = vec![
        "local".into(),
        format!("--config-path={}", s(&d.join("config.yaml"))),
        format!("--job-config-path={}", s(&d.join("jobs"))),
        format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
        format!("--data-dir={}", s(&d.join("data"))),
        format!("--github-endpoint={gh_url}"),
        format!("--github-token-path={}", s(&d.join("token"))),
        format!("--hmac-secret-file={}", s(&d.join("hmac"))),
        format!("--port={port}"),
        format!("--health-port={ph}"),
        format!("--metrics-port={pm}"),
        "--max-parallel=8".into(),
    ];
    let ready = format!("http://127.0.0.1:{ph}/healthz/ready");
    let base = format!("http://127.0.0.1:{port}");
    let mut first = spawn("local-1", d, &args);
    wait_ok(&ready, &d.join("local-1.log")).await;

    // The burst: 8 in flight, each delivery retried with its own ID until acknowledged.
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let acked_before_kill: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let killed = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let sender = {
        let (acked, acked_before_kill, killed, attempts) = (
            acked.clone(),
            acked_before_kill.clone(),
            killed.clone(),
            attempts.clone(),
        );
        let url = format!("{base}/hook");
        tokio::spawn(async move {
            futures::stream::iter(deliveries)
                .map(|dl| {
                    let (client, url) = (client.clone(), url.clone());
                    let (acked, acked_before_kill, killed, attempts) = (
                        acked.clone(),
                        acked_before_kill.clone(),
                        killed.clone(),
                        attempts.clone(),
                    );
                    async move {
                        let sig = prow_github::hmac::sign(SECRET.as_bytes(), &dl.body);
                        loop {
                            attempts.fetch_add(1, Ordering::SeqCst);
                            let r = client
                                .post(&url)
                                .header("X-GitHub-Event", &dl.event_type)
                                .header("X-GitHub-Delivery", &dl.delivery_id)
                                .header("X-Hub-Signature-256", &sig)
                                .header("Content-Type", "application/json")
                                .body(dl.body.clone())
                                .send()
                                .await;
                            if matches!(&r, Ok(r) if r.status() == 200) {
                                if !killed.load(Ordering::SeqCst) {
                                    acked_before_kill
                                        .lock()
                                        .unwrap()
                                        .insert(dl.delivery_id.clone());
                                }
                                acked.lock().unwrap().insert(dl.delivery_id.clone());
                                return;
                            }
                            // Redelivery after a pause, as an operator (or GitHub's retry) would.
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                })
                .buffer_unordered(8)
                .collect::<Vec<()>>()
                .await;
        })
    };

    // Kill once a third of the burst is acknowledged: handlers are running, jobs are being
    // created and run.
    eventually(
        "a third of the burst acknowledged",
        Duration::from_secs(120),
        || {
            let n = acked.lock().unwrap().len();
            async move { (n >= PRS as usize / 3).then_some(()) }
        },
    )
    .await;
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    killed.store(true, Ordering::SeqCst);
    let at_kill = acked_before_kill.lock().unwrap().len();
    drop(first);

    let _second = spawn("local-2", d, &args);
    wait_ok(&ready, &d.join("local-2.log")).await;
    tokio::time::timeout(Duration::from_secs(180), sender)
        .await
        .expect("every delivery is acknowledged after the restart")
        .unwrap();

    // Every PR ends with both presubmits finished.
    let jobs = eventually(
        "every PR's presubmits exist and finished",
        Duration::from_secs(240),
        || async {
            let v: serde_json::Value = reqwest::get(format!("{base}/prowjobs.js"))
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let jobs: Vec<prow_api::ProwJob> = serde_json::from_value(v["items"].clone()).ok()?;
            let prs: BTreeSet<u64> = jobs
                .iter()
                .filter_map(|j| j.spec.refs.as_ref()?.pulls.first().map(|p| p.number))
                .collect();
            let done = jobs.iter().all(|j| terminal(j.status.state.as_str()));
            (prs.len() == PRS as usize && jobs.len() >= PRS as usize * JOBS_PER_PR && done)
                .then_some(jobs)
        },
    )
    .await;

    let mut per: BTreeMap<(u64, String), usize> = BTreeMap::new();
    for j in &jobs {
        let pr = j.spec.refs.as_ref().unwrap().pulls[0].number;
        *per.entry((pr, j.spec.job.clone())).or_default() += 1;
    }
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n > 1).collect();
    let stuck = jobs
        .iter()
        .filter(|j| !terminal(j.status.state.as_str()))
        .count();
    eprintln!(
        "prow local SIGKILL mid-burst: {PRS} events, {} delivery attempts, {at_kill} acked before the kill, {} acked in all; {} ProwJobs for {} (PR, job) pairs, created twice: {}; unfinished: {stuck}",
        attempts.load(Ordering::SeqCst),
        acked.lock().unwrap().len(),
        jobs.len(),
        per.len(),
        twice.len(),
    );
    assert_eq!(
        per.len(),
        PRS as usize * JOBS_PER_PR,
        "every (PR, job) pair exists"
    );
    assert_eq!(stuck, 0);
    // At-least-once processing: only handlers in flight at the kill may have run twice, and the
    // hook runs at most 64 at once.
    assert!(twice.len() <= 64, "{twice:?}");
}
