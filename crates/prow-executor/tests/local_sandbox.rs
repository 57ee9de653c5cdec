//! Local executor under bubblewrap: what a job can see, write and reach, and the refusal to run
//! jobs without a working sandbox. The sandboxed cases are skipped (with a note) where `bwrap` is
//! not installed or cannot create namespaces (scripts/test.sh installs it); the refusal cases
//! always run. The argv itself is unit-tested in `local::sandbox`.

mod local_common;

use local_common::*;
use prow_executor::local::{LOCAL_NETWORK_LABEL, LocalExecutor, SandboxMode, sandbox};
use prow_executor::{ExecError, Executor, RunPhase};

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

/// A name no other test (or earlier run) uses, for probes in shared places (`/`, `/tmp`, `$HOME`).
fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("prow-sandbox-{what}-{}-{nanos}", std::process::id())
}

/// `try NAME COMMAND` in the job's shell: one report line saying whether COMMAND worked.
const TRY: &str = r#"try() { if eval "$2" >/dev/null 2>&1; then echo "$1: ALLOWED"; else echo "$1: denied"; fi; }"#;

/// The job's report, one `name: outcome` per line.
fn report(run: &std::path::Path) -> String {
    std::fs::read_to_string(run.join("artifacts/report.txt")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_job_sees_no_hidden_path_and_writes_only_its_run_dir() {
    if !bwrap_usable() {
        return;
    }
    let env = Env::outside_tmp();
    let root = env.tmp.path().canonicalize().unwrap();
    // Laid out like `prow local`: run directories under the data dir, which is hidden.
    let data = root.join("data");
    std::fs::create_dir_all(data.join("runs")).unwrap();
    std::fs::write(data.join("cookie-secret"), "cookie-SECRET-1\n").unwrap();
    std::fs::write(root.join("token"), "token-SECRET-2\n").unwrap();
    std::fs::create_dir(root.join("config")).unwrap();
    std::fs::write(root.join("config/config.yaml"), "config-SECRET-3\n").unwrap();
    let host_tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(host_tmp.path(), "tmp-SECRET-4\n").unwrap();
    let marker = root.join("marker");
    let tmp_name = unique("tmp");
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let home_probe = std::path::Path::new(&home).join(format!(".{}", unique("home")));
    let root_probe = std::path::Path::new("/").join(unique("root"));

    let mut opts = env.options();
    opts.sandbox = SandboxMode::Bubblewrap;
    opts.work_root = data.join("runs");
    opts.hidden_paths = vec![data.clone(), root.join("token"), root.join("config")];
    let ex = LocalExecutor::new(opts);
    let script = format!(
        r#"{TRY}
exec > "$ARTIFACTS/report.txt" 2>&1
try read-data "cat {data}/cookie-secret"
try list-data "ls {data} | grep -q cookie"
try read-token "cat {root}/token | grep -q SECRET"
try read-config "cat {root}/config/config.yaml"
try read-host-tmp "cat {host_tmp}"
try write-data "echo x > {data}/pwned"
try write-marker "echo x > {marker}"
try write-root "echo x > {root_probe}"
try write-home "echo x > {home_probe}"
try write-run-json "echo forged > $GOPATH/.prow-run/run.json"
try write-logs "echo x > $GOPATH/logs/extra.txt"
try write-tmp "echo x > /tmp/{tmp_name} && test -s /tmp/{tmp_name}"
try write-artifacts "echo ok > $ARTIFACTS/ok.txt"
try write-cwd "echo ok > here.txt""#,
        data = data.display(),
        root = root.display(),
        host_tmp = host_tmp.path().display(),
        marker = marker.display(),
        root_probe = root_probe.display(),
        home_probe = home_probe.display(),
    );
    let job = periodic("run-hidden", &script);
    ex.start(&job, "1").await.unwrap();
    let st = wait_done(&ex, &job).await;
    let run = ex.run_dir(&job);
    assert_eq!(st.phase, RunPhase::Succeeded, "{st:?}\n{}", report(&run));
    let expected = "read-data: denied\nlist-data: denied\nread-token: denied\n\
        read-config: denied\nread-host-tmp: denied\nwrite-data: denied\n\
        write-marker: denied\nwrite-root: denied\nwrite-home: denied\n\
        write-run-json: denied\nwrite-logs: denied\nwrite-tmp: ALLOWED\n\
        write-artifacts: ALLOWED\nwrite-cwd: ALLOWED\n";
    assert_eq!(report(&run), expected);
    // And the host agrees: nothing written outside the run directory, /tmp was private.
    assert!(!data.join("pwned").exists());
    assert!(!marker.exists());
    assert!(!root_probe.exists());
    assert!(!home_probe.exists());
    assert!(!std::path::Path::new("/tmp").join(&tmp_name).exists());
    assert_eq!(
        std::fs::read_to_string(data.join("cookie-secret")).unwrap(),
        "cookie-SECRET-1\n"
    );
    assert!(run.join("here.txt").exists());
    let log = env.object("logs/local-test-job/1/build-log.txt").await;
    assert!(!log.contains("SECRET"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_job_cannot_reach_a_loopback_listener_unless_it_asks() {
    if !bwrap_usable() {
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let accepted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((_conn, _)) = listener.accept().await {
                accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
    }
    let env = Env::new();
    let mut opts = env.options();
    opts.sandbox = SandboxMode::Bubblewrap;
    let ex = LocalExecutor::new(opts);
    // bash's /dev/tcp needs no tools; `sh` may be dash, which has none.
    let script = format!(
        r#"if bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' 2>/dev/null; then echo connected; else echo refused; fi > "$ARTIFACTS/report.txt""#
    );
    let job = periodic("run-no-net", &script);
    ex.start(&job, "1").await.unwrap();
    wait_done(&ex, &job).await;
    assert_eq!(report(&ex.run_dir(&job)), "refused\n");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);

    // The same probe with network reaches the listener: the wall, not the probe, stopped it.
    let mut job = periodic("run-with-net", &script);
    job.metadata.labels = Some(
        [(LOCAL_NETWORK_LABEL.to_string(), "true".to_string())]
            .into_iter()
            .collect(),
    );
    ex.start(&job, "2").await.unwrap();
    wait_done(&ex, &job).await;
    assert_eq!(report(&ex.run_dir(&job)), "connected\n");
    assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_job_cannot_remount_its_way_out() {
    if !bwrap_usable() {
        return;
    }
    let env = Env::outside_tmp();
    let root = env.tmp.path().canonicalize().unwrap();
    let data = root.join("data");
    std::fs::create_dir_all(data.join("runs")).unwrap();
    std::fs::write(data.join("cookie-secret"), "cookie-SECRET-1\n").unwrap();
    let marker = root.join("marker");
    let mut opts = env.options();
    opts.sandbox = SandboxMode::Bubblewrap;
    opts.work_root = data.join("runs");
    opts.hidden_paths = vec![data.clone()];
    let ex = LocalExecutor::new(opts);
    // A job started by root keeps root's uid inside: only dropped capabilities stop it
    // from undoing its mounts.
    let script = format!(
        r#"{TRY}
exec > "$ARTIFACTS/report.txt" 2>&1
try remount-root "mount -o remount,bind,rw /"
try write-marker "echo x > {marker}"
try unmount-data "umount -l {data}"
try read-data "cat {data}/cookie-secret""#,
        marker = marker.display(),
        data = data.display(),
    );
    let job = periodic("run-remount", &script);
    ex.start(&job, "1").await.unwrap();
    wait_done(&ex, &job).await;
    assert_eq!(
        report(&ex.run_dir(&job)),
        "remount-root: denied\nwrite-marker: denied\nunmount-data: denied\nread-data: denied\n"
    );
    assert!(!marker.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_job_cannot_swap_executor_files_for_links() {
    if !bwrap_usable() {
        return;
    }
    let env = Env::outside_tmp();
    let root = env.tmp.path().canonicalize().unwrap();
    let victim = root.join("victim");
    std::fs::write(&victim, "victim-SECRET\n").unwrap();
    let mut opts = env.options();
    opts.sandbox = SandboxMode::Bubblewrap;
    let ex = LocalExecutor::new(opts);
    // The executor uploads logs/build-log.txt and rewrites run.json (through a temporary
    // file) after the job: links planted there must neither leak nor overwrite the victim.
    let script = format!(
        r#"echo job output
rm -f "$GOPATH/logs/build-log.txt"; ln -sf {v} "$GOPATH/logs/build-log.txt"
ln -sf {v} "$GOPATH/.prow-run/.run.json.tmp"
echo '{{"forged": true}}' > "$GOPATH/.prow-run/run.json"
exit 0"#,
        v = victim.display()
    );
    let job = periodic("run-links", &script);
    ex.start(&job, "1").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Succeeded, "{st:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim-SECRET\n");
    let log = env.object("logs/local-test-job/1/build-log.txt").await;
    assert!(log.contains("job output"), "{log}");
    assert!(!log.contains("victim-SECRET"), "{log}");
    let live = ex.logs(&job).await.unwrap().unwrap_or_default();
    assert!(!live.contains("victim-SECRET"), "{live}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_working_sandbox_jobs_are_refused_with_the_fix() {
    let env = Env::new();
    let marker = env.tmp.path().join("ran");
    let script = format!("touch {}", marker.display());

    // Not installed.
    let mut opts = env.options();
    opts.sandbox = SandboxMode::BubblewrapAt(env.tmp.path().join("no-such-bwrap"));
    let ex = LocalExecutor::new(opts);
    let why = ex.sandbox_status().unwrap_err().to_string();
    assert!(why.contains("apt-get install bubblewrap"), "{why}");
    let job = periodic("run-refused", &script);
    match ex.start(&job, "1").await {
        Err(ExecError::Invalid(msg)) => {
            assert!(msg.contains("apt-get install bubblewrap"), "{msg}");
            assert!(msg.contains("--unsafe-unsandboxed-jobs"), "{msg}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Installed, but the kernel refuses it its namespaces (a stand-in bwrap saying so).
    let fake = env.tmp.path().join("bwrap");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because the \
         kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut opts = env.options();
    opts.sandbox = SandboxMode::BubblewrapAt(fake);
    let ex2 = LocalExecutor::new(opts);
    match ex2.start(&job, "1").await {
        Err(ExecError::Invalid(msg)) => {
            assert!(msg.contains("refuses user namespaces"), "{msg}");
            assert!(msg.contains("non-privileged user namespaces"), "{msg}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(ex.list_runs().await.unwrap().is_empty());
    assert!(ex2.list_runs().await.unwrap().is_empty());
    // `start` refused before spawning anything, so there is nothing to wait for.
    assert!(!marker.exists(), "a refused job ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsandboxed_mode_is_explicit_and_runs_plain_processes() {
    let env = Env::outside_tmp();
    let secret = env.tmp.path().join("secret");
    std::fs::write(&secret, "plain-SECRET\n").unwrap();
    let mut opts = env.options();
    opts.sandbox = SandboxMode::Unsandboxed;
    opts.hidden_paths = vec![secret.clone()];
    let ex = LocalExecutor::new(opts);
    assert!(matches!(ex.sandbox_status(), Ok(None)));
    let job = periodic(
        "run-plain",
        &format!(r#"cat {} > "$ARTIFACTS/read.txt""#, secret.display()),
    );
    ex.start(&job, "1").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Succeeded, "{st:?}");
    // What the flag means: hidden paths are not hidden without a sandbox.
    assert_eq!(
        std::fs::read_to_string(ex.run_dir(&job).join("artifacts/read.txt")).unwrap(),
        "plain-SECRET\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_link_to_a_host_file_is_not_merged_into_finished_json() {
    let env = Env::outside_tmp();
    let host_json = env.tmp.path().join("host.json");
    std::fs::write(&host_json, r#"{"auths": "host-SECRET"}"#).unwrap();
    // Plain processes: the link is followed by the executor, whatever the sandbox.
    let ex = env.executor();
    let job = periodic(
        "run-metadata-link",
        &format!(
            r#"ln -s {} "$ARTIFACTS/metadata.json""#,
            host_json.display()
        ),
    );
    ex.start(&job, "1").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Succeeded, "{st:?}");
    let finished = env.object("logs/local-test-job/1/finished.json").await;
    assert!(!finished.contains("host-SECRET"), "{finished}");
}
