//! The four binaries end to end: options from env, exit codes, files written.

use std::fs;
use std::path::Path;
use std::process::Command;

fn bin(name: &str) -> Command {
    let path = match name {
        "entrypoint" => env!("CARGO_BIN_EXE_entrypoint"),
        "sidecar" => env!("CARGO_BIN_EXE_sidecar"),
        "initupload" => env!("CARGO_BIN_EXE_initupload"),
        _ => env!("CARGO_BIN_EXE_clonerefs"),
    };
    let mut c = Command::new(path);
    for v in [
        "ENTRYPOINT_OPTIONS",
        "SIDECAR_OPTIONS",
        "INITUPLOAD_OPTIONS",
        "CLONEREFS_OPTIONS",
        "JOB_SPEC",
    ] {
        c.env_remove(v);
    }
    c
}

const JOB_SPEC: &str = r#"{"type":"presubmit","job":"pull-test","buildid":"123","prowjobid":"uuid","refs":{"org":"org","repo":"repo","base_ref":"main","base_sha":"base","pulls":[{"number":7,"author":"a","sha":"pullsha"}]}}"#;

#[test]
fn bad_options_fail_cleanly() {
    for name in ["entrypoint", "sidecar", "initupload", "clonerefs"] {
        let var = format!("{}_OPTIONS", name.to_uppercase());
        let out = bin(name).env(&var, "{not json").output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("Could not resolve options"), "{name}: {err}");
        assert!(err.contains(&var), "{name}: {err}");
        // Valid JSON that fails validation.
        let out = bin(name).env(&var, "{}").output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("Invalid options"));
    }
    let out = bin("entrypoint").arg("-no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn decorated_pod_flow_in_local_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let logs = d.join("logs");
    let output = d.join("output");
    fs::create_dir_all(&logs).unwrap();
    let p = |s: &str| logs.join(s).display().to_string();

    // initupload without clone records.
    let init = serde_json::json!({
        "path_strategy": "explicit", "local_output_dir": output.display().to_string(), "dry_run": false
    });
    let out = bin("initupload")
        .env("INITUPLOAD_OPTIONS", init.to_string())
        .env("JOB_SPEC", JOB_SPEC)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(output.join("started.json")).unwrap()).unwrap();
    assert_eq!(started["pull"], "7");
    assert_eq!(started["repos"]["org/repo"], "main:base,7:pullsha");
    assert_eq!(started["repo-commit"], "pullsha");

    // entrypoint runs the test.
    let ep = serde_json::json!({
        "timeout": 10_000_000_000u64, "grace_period": 1_000_000_000u64,
        "artifact_dir": p("artifacts"),
        "args": ["sh", "-c", format!("echo token=s3cr3t-value; echo '{{\"version\":\"v1\"}}' > {}; echo junit > {}; exit 2", p("artifacts/metadata.json"), p("artifacts/junit.xml"))],
        "container_name": "test", "process_log": p("process-log.txt"),
        "marker_file": p("marker-file.txt"), "metadata_file": p("artifacts/metadata.json")
    });
    let out = bin("entrypoint")
        .env("ENTRYPOINT_OPTIONS", ep.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("token=s3cr3t-value"));

    // sidecar uploads with censoring.
    let secrets = d.join("secrets");
    fs::create_dir_all(&secrets).unwrap();
    fs::write(secrets.join("token"), "s3cr3t-value\n").unwrap();
    let sc = serde_json::json!({
        "gcs_options": {"items": [p("artifacts")], "path_strategy": "explicit",
                        "local_output_dir": output.display().to_string(), "dry_run": false},
        "entries": [{"args": ["sh"], "container_name": "test", "process_log": p("process-log.txt"),
                     "marker_file": p("marker-file.txt"), "metadata_file": p("artifacts/metadata.json")}],
        "censoring_options": {"secret_directories": [secrets.display().to_string()]}
    });
    let out = bin("sidecar")
        .env("SIDECAR_OPTIONS", sc.to_string())
        .env("JOB_SPEC", JOB_SPEC)
        .output()
        .unwrap();
    // Failed tests do not fail the sidecar.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let build_log = fs::read_to_string(output.join("build-log.txt")).unwrap();
    assert!(build_log.contains("token=XXXXXXXXXXXX\n"), "{build_log}");
    let finished: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(output.join("finished.json")).unwrap()).unwrap();
    assert_eq!(finished["passed"], false);
    assert_eq!(finished["result"], "FAILURE");
    assert_eq!(finished["revision"], "pullsha");
    assert_eq!(finished["metadata"]["version"], "v1");
    assert!(Path::new(&output.join("artifacts/junit.xml")).exists());
    assert!(output.join("sidecar-logs.json").exists());

    // entry_error turns failures into a non-zero exit.
    let mut sc2 = sc.clone();
    sc2["entry_error"] = serde_json::json!(true);
    let out = bin("sidecar")
        .env("SIDECAR_OPTIONS", sc2.to_string())
        .env("JOB_SPEC", JOB_SPEC)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn entrypoint_copy_mode_and_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("tools/entrypoint");
    let out = bin("entrypoint")
        .args([
            "--copy-mode-only",
            &format!("--copy-destination={}", dst.display()),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dst.is_file());
    let out = Command::new(&dst)
        .args([
            "--process-log",
            &tmp.path().join("log").display().to_string(),
            "--marker-file",
            &tmp.path().join("marker").display().to_string(),
            "sh",
            "-c",
            "exit 5",
        ])
        .env_remove("ENTRYPOINT_OPTIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(fs::read_to_string(tmp.path().join("marker")).unwrap(), "5");
}

#[test]
fn entrypoint_forwards_real_sigterm_to_the_command() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s).display().to_string();
    // The command must see SIGTERM (its signal mask is reset) and exits 3 from its trap.
    let ep = serde_json::json!({
        "timeout": 20_000_000_000u64, "grace_period": 5_000_000_000u64,
        "propagate_error_code": true,
        "args": ["sh", "-c", format!("trap 'exit 3' TERM; trap '' INT; touch {}; while true; do sleep 0.05; done", p("ready"))],
        "process_log": p("log"), "marker_file": p("marker")
    });
    let mut child = bin("entrypoint")
        .env("ENTRYPOINT_OPTIONS", ep.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !tmp.path().join("ready").exists() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    assert_eq!(fs::read_to_string(p("marker")).unwrap(), "3");
    assert!(
        fs::read_to_string(p("log"))
            .unwrap()
            .contains("Entrypoint received interrupt: terminated")
    );
}
