//! Local executor: outcomes, timeouts, aborts, environment, uploads and slots.

mod local_common;

use local_common::*;
use prow_executor::{ExecError, Executor, RunPhase};
use prow_pod_utils::downwardapi::JobSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_uploads_prow_layout() {
    let env = Env::new();
    let ex = env.executor();
    let job = periodic(
        "run-ok",
        r#"echo hello from the job; mkdir -p "$ARTIFACTS/sub"; echo data > "$ARTIFACTS/sub/out.txt"; echo '{"key":"value"}' > "$ARTIFACTS/metadata.json""#,
    );
    let st = ex.start(&job, "101").await.expect("start");
    assert_eq!(st.name, "run-ok");
    assert_eq!(st.build_id.as_deref(), Some("101"));
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Succeeded, "{st:?}");
    assert!(st.started.is_some());

    let logs = ex.logs(&job).await.unwrap().expect("logs");
    assert!(logs.contains("hello from the job"), "{logs}");

    let dir = "logs/local-test-job/101";
    let started = env.json(&format!("{dir}/started.json")).await;
    assert!(started["timestamp"].as_i64().unwrap() > 0);
    let finished = env.json(&format!("{dir}/finished.json")).await;
    assert_eq!(finished["passed"], true);
    assert_eq!(finished["result"], "SUCCESS");
    assert_eq!(finished["metadata"]["key"], "value");
    assert!(finished["timestamp"].as_i64().unwrap() > 0);
    assert!(
        env.object(&format!("{dir}/build-log.txt"))
            .await
            .contains("hello from the job")
    );
    assert_eq!(
        env.object(&format!("{dir}/artifacts/sub/out.txt")).await,
        "data\n"
    );
    assert!(env.exists(&format!("{dir}/artifacts/metadata.json")).await);
    assert_eq!(
        env.object("logs/local-test-job/latest-build.txt").await,
        "101"
    );

    // Idempotent start: the existing run is reported, nothing runs twice.
    let again = ex.start(&job, "101").await.unwrap();
    assert_eq!(again.phase, RunPhase::Succeeded);

    let runs = ex.list_runs().await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].name, "run-ok");
    assert_eq!(runs[0].cluster, "default");
    assert_eq!(runs[0].labels["prow.k8s.io/build-id"], "101");
    assert_eq!(runs[0].labels["prow.k8s.io/id"], "run-ok");
    assert_eq!(runs[0].labels["created-by-prow"], "true");
    assert!(runs[0].finished.is_some());

    ex.delete(&job).await.unwrap();
    assert_eq!(ex.status(&job).await.unwrap().phase, RunPhase::Missing);
    assert!(!ex.run_dir(&job).exists());
    assert!(ex.list_runs().await.unwrap().is_empty());
    ex.delete(&job)
        .await
        .expect("deleting a missing run is fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_reports_exit_code() {
    let env = Env::new();
    let ex = env.executor();
    let job = periodic("run-fail", "echo about to fail; exit 3");
    ex.start(&job, "7").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Failed);
    assert_eq!(
        st.message.as_deref(),
        Some("wrapped process failed: exit status 3")
    );
    let finished = env.json("logs/local-test-job/7/finished.json").await;
    assert_eq!(finished["passed"], false);
    assert_eq!(finished["result"], "FAILURE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_terminates_the_job() {
    let env = Env::new();
    let ex = env.executor();
    let mut job = periodic("run-timeout", "sleep 30");
    decoration(&mut job).timeout = Some(prow_api::Duration::from_secs(1));
    decoration(&mut job).grace_period = Some(prow_api::Duration::from_secs(5));
    ex.start(&job, "1").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Failed);
    let msg = st.message.unwrap_or_default();
    assert!(
        msg.contains("Process did not finish before 1s timeout"),
        "{msg}"
    );
    // sleep dies on SIGTERM, so the grace period was not exhausted.
    assert!(!msg.contains("grace period"), "{msg}");
    let finished = env.json("logs/local-test-job/1/finished.json").await;
    assert_eq!(finished["result"], "FAILURE");
    let log = env.object("logs/local-test-job/1/build-log.txt").await;
    assert!(
        log.contains("Process did not finish before 1s timeout"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_escalates_to_sigkill_after_grace() {
    let env = Env::new();
    let ex = env.executor();
    // An ignored SIGTERM is inherited by sleep too, so only SIGKILL ends this.
    let mut job = periodic(
        "run-stubborn",
        r#"trap '' TERM; sleep 30 & echo $! > "$ARTIFACTS/child.pid"; wait"#,
    );
    decoration(&mut job).timeout = Some(prow_api::Duration::from_secs(1));
    decoration(&mut job).grace_period = Some(prow_api::Duration::from_secs(1));
    ex.start(&job, "1").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Failed);
    let msg = st.message.unwrap_or_default();
    assert!(
        msg.contains("Process did not finish before 1s timeout"),
        "{msg}"
    );
    assert!(
        msg.contains("Process did not exit before 1s grace period"),
        "{msg}"
    );
    let child = read_pid(&ex.run_dir(&job).join("artifacts/child.pid"));
    wait_gone(child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_kills_the_process_group() {
    let env = Env::new();
    let ex = env.executor();
    // The grandchild runs in the background; only a group kill reaches it.
    let job = periodic(
        "run-abort",
        r#"sh -c 'sleep 300 & echo $! > "$ARTIFACTS/grandchild.pid"; wait' & wait"#,
    );
    ex.start(&job, "1").await.unwrap();
    let pid_file = ex.run_dir(&job).join("artifacts/grandchild.pid");
    wait_file(&pid_file).await;
    let grandchild = read_pid(&pid_file);
    assert!(!process_gone(grandchild));
    wait_for(&ex, &job, "running", |p| *p == RunPhase::Running).await;
    ex.abort(&job).await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Failed);
    assert!(st.message.unwrap_or_default().contains("aborted"));
    wait_gone(grandchild).await;
    let finished = env.json("logs/local-test-job/1/finished.json").await;
    assert_eq!(finished["result"], "ABORTED");
    assert_eq!(finished["passed"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_matches_the_downward_api() {
    let env = Env::new();
    let ex = env.executor();
    let mut job = presubmit(
        "run-env",
        r#"printf '%s' "$JOB_SPEC" > "$ARTIFACTS/job_spec.json"; env > "$ARTIFACTS/env.txt"; pwd > "$ARTIFACTS/pwd.txt""#,
        42,
        "basesha",
        "pullsha",
    );
    decoration(&mut job).skip_cloning = Some(true);
    if let Some(c) = job
        .spec
        .pod_spec
        .as_mut()
        .and_then(|p| p.containers.first_mut())
    {
        c.env = Some(vec![k8s_openapi::api::core::v1::EnvVar {
            name: "MY_VAR".into(),
            value: Some("job=$(JOB_NAME)".into()),
            ..Default::default()
        }]);
    }
    ex.start(&job, "55").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Succeeded, "{st:?}");
    let run = ex.run_dir(&job);
    let spec =
        JobSpec::parse(&std::fs::read_to_string(run.join("artifacts/job_spec.json")).unwrap())
            .expect("JOB_SPEC parses");
    assert_eq!(spec.job, "local-test-job");
    assert_eq!(spec.build_id, "55");
    assert_eq!(spec.prow_job_id, "run-env");
    assert_eq!(spec.refs.as_ref().unwrap().pulls[0].number, 42);
    let text = std::fs::read_to_string(run.join("artifacts/env.txt")).unwrap();
    let vars: std::collections::BTreeMap<&str, &str> =
        text.lines().filter_map(|l| l.split_once('=')).collect();
    assert_eq!(vars["CI"], "true");
    assert_eq!(vars["JOB_NAME"], "local-test-job");
    assert_eq!(vars["JOB_TYPE"], "presubmit");
    assert_eq!(vars["BUILD_ID"], "55");
    assert_eq!(vars["BUILD_NUMBER"], "55");
    assert_eq!(vars["PROW_JOB_ID"], "run-env");
    assert_eq!(vars["REPO_OWNER"], "org");
    assert_eq!(vars["REPO_NAME"], "repo");
    assert_eq!(vars["PULL_BASE_REF"], "main");
    assert_eq!(vars["PULL_BASE_SHA"], "basesha");
    assert_eq!(vars["PULL_REFS"], "main:basesha,42:pullsha");
    assert_eq!(vars["PULL_NUMBER"], "42");
    assert_eq!(vars["PULL_PULL_SHA"], "pullsha");
    assert_eq!(vars["PULL_HEAD_REF"], "feature");
    assert_eq!(vars["ARTIFACTS"], run.join("artifacts").to_string_lossy());
    assert_eq!(vars["GOPATH"], run.to_string_lossy());
    assert_eq!(vars["MY_VAR"], "job=local-test-job");
    // The working directory is the clone of the primary ref, as in a decorated pod.
    assert_eq!(
        std::fs::read_to_string(run.join("artifacts/pwd.txt"))
            .unwrap()
            .trim(),
        run.join("src/github.com/org/repo").to_string_lossy()
    );

    // Presubmit layout: PR build directory, alias and both latest-build pointers.
    let dir = "pr-logs/pull/org_repo/42/local-test-job/55";
    assert_eq!(
        env.json(&format!("{dir}/finished.json")).await["revision"],
        "pullsha"
    );
    let started = env.json(&format!("{dir}/started.json")).await;
    assert_eq!(started["pull"], "42");
    assert_eq!(started["repos"]["org/repo"], "main:basesha,42:pullsha");
    let alias = env.object("pr-logs/directory/local-test-job/55.txt").await;
    // The alias names the configured bucket, as Prow's does (Deck maps it back to the store).
    assert_eq!(alias, format!("gs://example-bucket/{dir}"));
    assert_eq!(
        env.object("pr-logs/directory/local-test-job/latest-build.txt")
            .await,
        "55"
    );
    assert_eq!(
        env.object("pr-logs/pull/org_repo/42/local-test-job/latest-build.txt")
            .await,
        "55"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiple_containers_fail_if_any_fails() {
    let env = Env::new();
    let ex = env.executor();
    let mut job = periodic("run-multi", "unused");
    job.spec.pod_spec.as_mut().unwrap().containers = vec![
        container("good", "echo from good"),
        container("bad", "echo from bad; exit 2"),
    ];
    ex.start(&job, "9").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Failed);
    assert!(st.message.unwrap_or_default().contains("container bad"));
    let dir = "logs/local-test-job/9";
    assert!(
        env.object(&format!("{dir}/good-build-log.txt"))
            .await
            .contains("from good")
    );
    assert!(
        env.object(&format!("{dir}/bad-build-log.txt"))
            .await
            .contains("from bad")
    );
    assert_eq!(
        env.json(&format!("{dir}/finished.json")).await["result"],
        "FAILURE"
    );
    let logs = ex.logs(&job).await.unwrap().unwrap();
    assert!(
        logs.contains("from good") && logs.contains("from bad"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_parallel_keeps_runs_pending_unscheduled() {
    let env = Env::new();
    let mut opts = env.options();
    opts.max_parallel = 1;
    let ex = prow_executor::local::LocalExecutor::new(opts);
    let first = periodic("run-first", "sleep 300");
    let second = periodic("run-second", "echo second ran");
    ex.start(&first, "1").await.unwrap();
    wait_for(&ex, &first, "running", |p| *p == RunPhase::Running).await;
    let st = ex.start(&second, "2").await.unwrap();
    assert_eq!(st.phase, RunPhase::Pending { scheduled: false });
    assert_eq!(
        ex.status(&second).await.unwrap().phase,
        RunPhase::Pending { scheduled: false }
    );
    assert_eq!(ex.status(&second).await.unwrap().started, None);
    ex.abort(&first).await.unwrap();
    wait_done(&ex, &first).await;
    let st = wait_done(&ex, &second).await;
    assert_eq!(st.phase, RunPhase::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_jobs_are_rejected() {
    let env = Env::new();
    let ex = env.executor();
    let mut job = periodic("run-invalid", "true");
    job.spec.pod_spec = None;
    assert!(matches!(
        ex.start(&job, "1").await,
        Err(ExecError::Invalid(_))
    ));
    let mut job = periodic("run-nocmd", "true");
    let c = &mut job.spec.pod_spec.as_mut().unwrap().containers[0];
    c.command = None;
    c.args = None;
    assert!(matches!(
        ex.start(&job, "1").await,
        Err(ExecError::Invalid(_))
    ));
    let job = periodic("../escape", "true");
    assert!(matches!(
        ex.start(&job, "1").await,
        Err(ExecError::Invalid(_))
    ));
    let mut job = presubmit("run-nopulls", "true", 1, "a", "b");
    job.spec.refs.as_mut().unwrap().pulls.clear();
    assert!(matches!(
        ex.start(&job, "1").await,
        Err(ExecError::Invalid(_))
    ));
    assert!(ex.list_runs().await.unwrap().is_empty());
    assert_eq!(ex.logs(&job).await.unwrap(), None);

    let mut opts = env.options();
    opts.cluster = Some("local".into());
    let ex = prow_executor::local::LocalExecutor::new(opts);
    let job = periodic("run-elsewhere", "true");
    assert!(matches!(
        ex.start(&job, "1").await,
        Err(ExecError::UnknownCluster(c)) if c == "default"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecorated_jobs_run_without_uploads() {
    let env = Env::new();
    let ex = env.executor();
    let mut job = periodic("run-plain", r#"echo "artifacts=${ARTIFACTS:-unset}""#);
    job.spec.decoration_config = None;
    ex.start(&job, "3").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Succeeded);
    assert!(
        ex.logs(&job)
            .await
            .unwrap()
            .unwrap()
            .contains("artifacts=unset")
    );
    assert!(!env.exists("logs/local-test-job/3/finished.json").await);
}
