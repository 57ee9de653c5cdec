//! entrypoint against real child processes.

use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use prow_pod_utils::entrypoint::{Entrypoint, EntrypointOptions};
use prow_pod_utils::signals::Signal;
use prow_pod_utils::wrapper::WrapperOptions;

fn opts(dir: &Path, script: &str) -> EntrypointOptions {
    EntrypointOptions {
        timeout: Duration::from_secs(30),
        grace_period: Duration::from_secs(1),
        artifact_dir: dir.join("artifacts").display().to_string(),
        wrapper: WrapperOptions {
            args: vec!["sh".into(), "-c".into(), script.into()],
            container_name: "test".into(),
            process_log: dir.join("process-log.txt").display().to_string(),
            marker_file: dir.join("marker-file.txt").display().to_string(),
            metadata_file: dir.join("artifacts/metadata.json").display().to_string(),
        },
        ..Default::default()
    }
}

fn run(o: EntrypointOptions) -> i32 {
    let (_tx, rx) = mpsc::channel();
    Entrypoint::new(o).quiet().run(rx)
}

fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn success_failure_and_output() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert_eq!(run(opts(d, "echo out; echo err >&2")), 0);
    assert_eq!(read(d.join("process-log.txt")), "out\nerr\n");
    assert_eq!(read(d.join("marker-file.txt")), "0");
    assert!(d.join("artifacts").is_dir());

    assert_eq!(run(opts(d, "echo test; exit 12")), 12);
    assert_eq!(read(d.join("process-log.txt")), "test\n");
    assert_eq!(read(d.join("marker-file.txt")), "12");

    let mut o = opts(d, "exit 7");
    o.always_zero = true;
    assert_eq!(run(o), 0);
    assert_eq!(read(d.join("marker-file.txt")), "7");

    // PATH reaches the command.
    assert_eq!(run(opts(d, "echo $PATH")), 0);
    assert_eq!(
        read(d.join("process-log.txt")),
        format!("{}\n", std::env::var("PATH").unwrap())
    );
    // No temporary marker files are left behind.
    let leftovers: Vec<_> = fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("temp-marker"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn start_failure_is_127_and_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut o = opts(d, "");
    o.wrapper.args = vec!["./this-command-does-not-exist".into()];
    assert_eq!(run(o), 127);
    assert_eq!(
        read(d.join("process-log.txt")),
        "could not start the process: fork/exec ./this-command-does-not-exist: no such file or directory"
    );
    assert_eq!(read(d.join("marker-file.txt")), "127");
}

#[test]
fn unwritable_marker_is_127_even_with_always_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut o = opts(d, "echo test");
    o.always_zero = true;
    o.wrapper.marker_file = d.join("no/such/dir/marker").display().to_string();
    assert_eq!(run(o), 127);
    assert_eq!(read(d.join("process-log.txt")).lines().next(), Some("test"));
}

#[test]
fn timeout_interrupts_then_kills_the_group() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Graceful: the command exits on SIGINT.
    let mut o = opts(d, "trap 'exit 3' INT; while true; do sleep 0.05; done");
    o.timeout = Duration::from_secs(1);
    let start = Instant::now();
    assert_eq!(run(o.clone()), 127);
    assert!(start.elapsed() < Duration::from_secs(5));
    let log = read(d.join("process-log.txt"));
    assert!(
        log.contains("Process did not finish before 1s timeout"),
        "{log}"
    );
    assert!(
        log.contains("Process gracefully exited before 1s grace period"),
        "{log}"
    );
    assert_eq!(read(d.join("marker-file.txt")), "127");

    // With propagate_error_code the command's own code is reported.
    o.propagate_error_code = true;
    assert_eq!(run(o), 3);

    // Stubborn: ignores SIGINT, and a background grandchild holds the output open; SIGKILL to
    // the process group ends both.
    let mut o = opts(d, "trap '' INT; sleep 30 & while true; do sleep 0.05; done");
    o.timeout = Duration::from_secs(1);
    let start = Instant::now();
    assert_eq!(run(o), 127);
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    let log = read(d.join("process-log.txt"));
    assert!(
        log.contains("Process did not exit before 1s grace period"),
        "{log}"
    );
}

#[test]
fn interrupt_is_forwarded() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let ready = d.join("ready");
    let script = format!(
        "trap 'exit 3' TERM; trap '' INT; echo process started; touch {}; while true; do sleep 0.05; done",
        ready.display()
    );
    for (propagate, want) in [(true, 3), (false, 130)] {
        let _ = fs::remove_file(&ready);
        let mut o = opts(d, &script);
        o.propagate_error_code = propagate;
        let (tx, rx) = mpsc::channel();
        let r = ready.clone();
        let t = std::thread::spawn(move || {
            while !r.exists() {
                std::thread::sleep(Duration::from_millis(10));
            }
            tx.send(Signal::SIGTERM).unwrap();
            // Keep the sender alive until the run is over.
            std::thread::sleep(Duration::from_secs(3));
        });
        assert_eq!(Entrypoint::new(o).quiet().run(rx), want);
        let log = read(d.join("process-log.txt"));
        assert!(log.starts_with("process started\n"), "{log}");
        assert!(
            log.contains("Entrypoint received interrupt: terminated"),
            "{log}"
        );
        assert!(log.contains("Process gracefully exited before 1s grace period"));
        assert_eq!(read(d.join("marker-file.txt")), want.to_string());
        drop(t);
    }
}

#[test]
fn previous_marker_gates_the_step() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let prev = d.join("prev-marker.txt");
    fs::write(&prev, "9").unwrap();
    let mut o = opts(d, "echo should-not-run");
    o.previous_marker = prev.display().to_string();
    assert_eq!(run(o.clone()), 1130);
    let log = read(d.join("process-log.txt"));
    assert!(log.contains("Skipping as previous step exited 9"), "{log}");
    assert!(!log.contains("should-not-run"));
    assert_eq!(read(d.join("marker-file.txt")), "1130");

    fs::write(&prev, "0").unwrap();
    o.wrapper.args = vec!["sh".into(), "-c".into(), "exit 4".into()];
    assert_eq!(run(o), 4);
}

#[test]
fn killed_by_signal_is_minus_one() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert_eq!(run(opts(d, "kill -9 $$")), -1);
    assert_eq!(read(d.join("marker-file.txt")), "-1");
}
