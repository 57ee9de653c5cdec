//! Local executor under bubblewrap. Skipped (with a note) where `bwrap` is not installed or
//! cannot create namespaces; the argv itself is unit-tested in `local::sandbox`.

mod local_common;

use local_common::*;
use prow_executor::local::{LOCAL_NETWORK_LABEL, LocalExecutor, SandboxMode, sandbox};
use prow_executor::{Executor, RunPhase};

/// Whether bubblewrap works here at all.
fn bwrap_usable() -> bool {
    let Some(bwrap) = sandbox::find_on_path("bwrap", std::env::var("PATH").ok().as_deref()) else {
        eprintln!("skipping: bwrap is not on PATH");
        return false;
    };
    let ok = std::process::Command::new(bwrap)
        .args([
            "--ro-bind",
            "/",
            "/",
            "--unshare-pid",
            "--unshare-net",
            "--",
            "true",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipping: bwrap cannot create namespaces here");
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_job_has_no_network_and_a_read_only_host() {
    if !bwrap_usable() {
        return;
    }
    let env = Env::new();
    let mut opts = env.options();
    opts.sandbox = SandboxMode::Bubblewrap;
    let ex = LocalExecutor::new(opts);
    assert!(ex.sandbox().is_some());
    let probe = env.tmp.path().join("outside-probe");
    let script = format!(
        r#"echo inside > "$ARTIFACTS/written.txt"
touch {probe} 2>/dev/null || true
if touch /usr/.local-executor-probe 2>/dev/null; then echo root-writable; exit 1; fi
grep -c : /proc/net/dev > "$ARTIFACTS/interfaces.txt""#,
        probe = probe.display()
    );
    let job = periodic("run-sandboxed", &script);
    ex.start(&job, "1").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(
        st.phase,
        RunPhase::Succeeded,
        "{st:?} {:?}",
        ex.logs(&job).await
    );
    let run = ex.run_dir(&job);
    assert_eq!(
        std::fs::read_to_string(run.join("artifacts/written.txt")).unwrap(),
        "inside\n"
    );
    // Only the loopback interface exists in a fresh network namespace.
    assert_eq!(
        std::fs::read_to_string(run.join("artifacts/interfaces.txt"))
            .unwrap()
            .trim(),
        "1"
    );
    // Outside its run directory the job only reaches its private /tmp.
    assert!(!probe.exists());
    assert!(
        env.exists("logs/local-test-job/1/artifacts/written.txt")
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_job_can_ask_for_network_and_is_killed_as_a_group() {
    if !bwrap_usable() {
        return;
    }
    let env = Env::new();
    let mut opts = env.options();
    opts.sandbox = SandboxMode::Bubblewrap;
    let ex = LocalExecutor::new(opts);
    let mut job = periodic(
        "run-sandboxed-net",
        r#"grep -c : /proc/net/dev > "$ARTIFACTS/interfaces.txt"; sleep 300"#,
    );
    job.metadata.labels = Some(
        [(LOCAL_NETWORK_LABEL.to_string(), "true".to_string())]
            .into_iter()
            .collect(),
    );
    ex.start(&job, "1").await.unwrap();
    let file = ex.run_dir(&job).join("artifacts/interfaces.txt");
    wait_file(&file).await;
    let host_interfaces = std::fs::read_to_string("/proc/net/dev")
        .unwrap()
        .matches(':')
        .count();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        host_interfaces.to_string(),
        "the job shares the host's network namespace"
    );
    ex.abort(&job).await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Failed);
    assert!(st.message.unwrap_or_default().contains("aborted"));
}
