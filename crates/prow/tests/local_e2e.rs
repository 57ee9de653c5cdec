//! `prow local` end to end: a presubmit and a periodic whose commands are shell scripts run as
//! local processes to success and failure; Prow's artifact layout appears in the file bucket; a
//! job over its timeout is stopped; killing the process mid-run leaves no job stuck.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

const SEED: &str = r#"
users:
  - {login: prow-bot, token: t-bot, type: Bot}
  - {login: alice, token: t-alice}
orgs:
  - {login: acme, members: [alice]}
repos:
  - name: acme/widgets
    files: {README.md: "widgets\n", check.sh: "echo checking; exit 0\n"}
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Change, head: change, files: {README.md: "better widgets\n"}}
"#;

const CONFIG: &str = r#"
prowjob_namespace: default
pod_namespace: test-pods
plank:
  max_revivals: 3
  default_decoration_config_entries:
  - config:
      timeout: 1h
      grace_period: 2s
      utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}
      gcs_configuration: {bucket: local-bucket, path_strategy: explicit}
"#;

const JOBS: &str = r#"
presubmits:
  acme/widgets:
  - name: pull-pass
    always_run: true
    decorate: true
    spec: {containers: [{image: alpine, command: [sh, -c, "sh check.sh && echo result > $ARTIFACTS/out.txt"]}]}
  - name: pull-fail
    always_run: true
    decorate: true
    spec: {containers: [{image: alpine, command: [sh, -c, "echo failing; exit 3"]}]}
  - name: pull-timeout
    decorate: true
    decoration_config: {timeout: 2s, grace_period: 1s}
    spec: {containers: [{image: alpine, command: [sh, -c, "sleep 60"]}]}
  - name: pull-slow
    decorate: true
    spec: {containers: [{image: alpine, command: [sh, -c, "sleep 6; echo slow done"]}]}
periodics:
- name: periodic-pass
  interval: 24h
  decorate: true
  spec: {containers: [{image: alpine, command: [sh, -c, "echo periodic ok"]}]}
- name: periodic-fail
  interval: 24h
  decorate: true
  spec: {containers: [{image: alpine, command: [sh, -c, "echo periodic bad; exit 1"]}]}
"#;

const PLUGINS: &str = "plugins:\n  acme:\n    plugins: [trigger]\ntriggers:\n- repos: [acme]\n";

struct Local {
    dir: tempfile::TempDir,
    args: Vec<String>,
    base: String,
    ready: String,
}

fn setup() -> Local {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("seed.yaml"), SEED).unwrap();
    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/jobs.yaml"), JOBS).unwrap();
    std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
    let (p, ph, pm) = (free_port(), free_port(), free_port());
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let args = vec![
        "local".into(),
        format!("--config-path={}", s(&d.join("config.yaml"))),
        format!("--job-config-path={}", s(&d.join("jobs"))),
        format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
        format!("--seed={}", s(&d.join("seed.yaml"))),
        format!("--data-dir={}", s(&d.join("data"))),
        format!("--port={p}"),
        format!("--health-port={ph}"),
        format!("--metrics-port={pm}"),
        "--max-parallel=8".into(),
    ];
    Local {
        base: format!("http://127.0.0.1:{p}"),
        ready: format!("http://127.0.0.1:{ph}/healthz/ready"),
        dir,
        args,
    }
}

impl Local {
    async fn comment(&self, body: &str) {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/fake-github/repos/acme/widgets/issues/1/comments",
                self.base
            ))
            .header("Authorization", "token t-alice")
            .json(&serde_json::json!({ "body": body }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    async fn jobs(&self) -> Vec<prow_api::ProwJob> {
        let v: serde_json::Value = match reqwest::get(format!("{}/prowjobs.js", self.base)).await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => return Vec::new(),
        };
        serde_json::from_value(v["items"].clone()).unwrap_or_default()
    }

    async fn wait_state(&self, job: &str, states: &[&str]) -> prow_api::ProwJob {
        eventually(
            &format!("{job} in {states:?}"),
            Duration::from_secs(90),
            || async {
                self.jobs()
                    .await
                    .into_iter()
                    .find(|j| j.spec.job == job && states.contains(&j.status.state.as_str()))
            },
        )
        .await
    }

    fn bucket(&self) -> std::path::PathBuf {
        self.dir.path().join("data/artifacts")
    }
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presubmits_and_periodics_run_locally_with_prow_layout() {
    let l = setup();
    let _p = spawn("local", l.dir.path(), &l.args);
    wait_ok(&l.ready, &l.dir.path().join("local.log")).await;
    l.comment("/test all").await;

    let pass = l.wait_state("pull-pass", &["success"]).await;
    let fail = l.wait_state("pull-fail", &["failure"]).await;
    l.wait_state("periodic-pass", &["success"]).await;
    l.wait_state("periodic-fail", &["failure"]).await;
    assert!(pass.status.completion_time.is_some());
    assert_eq!(pass.status.description, "Job succeeded.");
    assert_eq!(fail.status.description, "Job failed.");

    // Prow's layout: pr-logs/pull/<org>_<repo>/<pr>/<job>/<build>/...
    let build = l.bucket().join(format!(
        "pr-logs/pull/acme_widgets/1/pull-pass/{}",
        pass.status.build_id
    ));
    let finished = read_json(&build.join("finished.json"));
    assert_eq!(
        (finished["passed"].as_bool(), finished["result"].as_str()),
        (Some(true), Some("SUCCESS"))
    );
    assert!(read_json(&build.join("started.json"))["timestamp"].is_number());
    assert!(
        std::fs::read_to_string(build.join("build-log.txt"))
            .unwrap()
            .contains("checking")
    );
    assert_eq!(
        std::fs::read_to_string(build.join("artifacts/out.txt")).unwrap(),
        "result\n"
    );
    let latest = l
        .bucket()
        .join("pr-logs/pull/acme_widgets/1/pull-pass/latest-build.txt");
    assert_eq!(
        std::fs::read_to_string(latest).unwrap(),
        pass.status.build_id
    );

    let fbuild = l.bucket().join(format!(
        "pr-logs/pull/acme_widgets/1/pull-fail/{}",
        fail.status.build_id
    ));
    let finished = read_json(&fbuild.join("finished.json"));
    assert_eq!(
        (finished["passed"].as_bool(), finished["result"].as_str()),
        (Some(false), Some("FAILURE"))
    );
    assert!(
        std::fs::read_to_string(fbuild.join("build-log.txt"))
            .unwrap()
            .contains("failing")
    );

    // Periodics: logs/<job>/<build>/.
    let periodic = l.wait_state("periodic-pass", &["success"]).await;
    let pbuild = l
        .bucket()
        .join(format!("logs/periodic-pass/{}", periodic.status.build_id));
    assert_eq!(
        read_json(&pbuild.join("finished.json"))["result"],
        "SUCCESS"
    );

    // Over its timeout: stopped, as Prow's entrypoint does, and the job does not pass.
    l.comment("/test pull-timeout").await;
    let t = l
        .wait_state("pull-timeout", &["failure", "error", "aborted"])
        .await;
    let tbuild = l.bucket().join(format!(
        "pr-logs/pull/acme_widgets/1/pull-timeout/{}",
        t.status.build_id
    ));
    let log = std::fs::read_to_string(tbuild.join("build-log.txt")).unwrap();
    assert!(log.contains("did not finish before 2s timeout"), "{log}");
    assert_eq!(read_json(&tbuild.join("finished.json"))["passed"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_run_leaves_no_job_stuck() {
    let l = setup();
    let mut p = spawn("local", l.dir.path(), &l.args);
    wait_ok(&l.ready, &l.dir.path().join("local.log")).await;
    l.comment("/test pull-slow").await;
    l.wait_state("pull-slow", &["pending"]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    p.child.kill().unwrap(); // SIGKILL mid-run
    p.child.wait().unwrap();
    drop(p);

    let _p = spawn("local", l.dir.path(), &l.args);
    wait_ok(&l.ready, &l.dir.path().join("local.log")).await;
    // The run died with the process; the controller notices and revives it, and it completes.
    let done = l
        .wait_state("pull-slow", &["success", "failure", "error"])
        .await;
    if done.status.state.as_str() != "success" {
        let build = l.bucket().join(format!(
            "pr-logs/pull/acme_widgets/1/pull-slow/{}",
            done.status.build_id
        ));
        let log = std::fs::read_to_string(build.join("build-log.txt")).unwrap_or_default();
        let local = std::fs::read_to_string(l.dir.path().join("local.log")).unwrap_or_default();
        let tail: Vec<&str> = local.lines().rev().take(40).collect();
        panic!(
            "{:?}\nbuild log:\n{log}\nlocal log (newest first):\n{}",
            done.status,
            tail.join("\n")
        );
    }
    assert!(done.status.pod_revival_count >= 1, "{:?}", done.status);
}
