//! Local executor: a restarted executor process recognises runs it no longer supervises.

mod local_common;

use local_common::*;
use prow_executor::{Executor, RunPhase, UnexpectedStop};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_runs_come_back_stopped_and_can_be_deleted() {
    let env = Env::new();
    let before = env.executor();
    let job = periodic(
        "run-lost",
        // Kubernetes' expansion turns `$$` into `$`, so the shell sees `$$`.
        r#"echo $$$$ > "$ARTIFACTS/shell.pid"; sleep 300"#,
    );
    before.start(&job, "1").await.unwrap();
    wait_for(&before, &job, "running", |p| *p == RunPhase::Running).await;
    let pid_file = before.run_dir(&job).join("artifacts/shell.pid");
    wait_file(&pid_file).await;
    let pid = read_pid(&pid_file);

    // A new executor over the same work root stands for the restarted process.
    let after = env.executor();
    let st = after.status(&job).await.unwrap();
    assert_eq!(st.phase, RunPhase::Stopped(UnexpectedStop::Unknown));
    assert_eq!(st.build_id.as_deref(), Some("1"));
    assert!(st.message.is_some());
    // start is idempotent: it reports the lost run instead of running it twice.
    assert_eq!(
        after.start(&job, "1").await.unwrap().phase,
        RunPhase::Stopped(UnexpectedStop::Unknown)
    );
    let runs = after.list_runs().await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].phase, RunPhase::Stopped(UnexpectedStop::Unknown));

    // Deleting (plank's revival) kills what is left of it and removes the directory.
    after.delete(&job).await.unwrap();
    wait_gone(pid).await;
    assert_eq!(after.status(&job).await.unwrap().phase, RunPhase::Missing);
    assert!(!after.run_dir(&job).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_runs_keep_their_outcome_across_restarts() {
    let env = Env::new();
    let before = env.executor();
    let ok = periodic("run-done-ok", "true");
    let bad = periodic("run-done-bad", "false");
    before.start(&ok, "1").await.unwrap();
    before.start(&bad, "2").await.unwrap();
    wait_done(&before, &ok).await;
    wait_done(&before, &bad).await;

    let after = env.executor();
    assert_eq!(after.status(&ok).await.unwrap().phase, RunPhase::Succeeded);
    assert_eq!(after.status(&bad).await.unwrap().phase, RunPhase::Failed);
    let runs = after.list_runs().await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.finished.is_some()));
    after.delete_run("elsewhere", "run-done-ok").await.unwrap();
    assert!(
        after.run_dir(&ok).exists(),
        "other cluster's delete is a no-op"
    );
    after.delete_run("default", "run-done-ok").await.unwrap();
    assert_eq!(after.status(&ok).await.unwrap().phase, RunPhase::Missing);
}
