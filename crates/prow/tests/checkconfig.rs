//! `prow checkconfig` on the public kubernetes/test-infra corpus and on broken copies of it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn corpus() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/kubernetes-test-infra/config");
    assert!(
        p.exists(),
        "corpus missing at {}: tests need ../shared/corpus beside the checkout",
        p.display()
    );
    p
}

fn prow() -> Command {
    Command::cargo_bin("prow").unwrap()
}

#[test]
fn whole_corpus_is_accepted_with_exact_counts() {
    let c = corpus();
    for strict in [false, true] {
        let mut cmd = prow();
        cmd.arg("checkconfig")
            .arg("--config-path")
            .arg(c.join("prow/config.yaml"))
            .arg("--job-config-path")
            .arg(c.join("jobs"))
            .arg("--plugin-config")
            .arg(c.join("prow/plugins.yaml"));
        if strict {
            cmd.arg("--strict");
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "strict={strict}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stdout.lines().last().unwrap(),
            "checkconfig: OK: 602 job files, 2261 presubmits, 253 postsubmits, 1335 periodics, 185 repos"
        );
    }
}

/// A job-config dir holding one corpus file, with `edit` applied to its text.
fn broken_copy(rel: &str, edit: impl Fn(&str) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = corpus().join("jobs").join(rel);
    let text = std::fs::read_to_string(&src).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit must change the file");
    let dst = dir.path().join(Path::new(rel).file_name().unwrap());
    std::fs::write(&dst, edited).unwrap();
    (dir, dst)
}

/// Runs checkconfig against the corpus config.yaml and a job dir; returns (success, stderr).
fn check(job_dir: &Path, strict: bool) -> (bool, String) {
    let mut cmd = prow();
    cmd.arg("checkconfig")
        .arg("--config-path")
        .arg(corpus().join("prow/config.yaml"))
        .arg("--job-config-path")
        .arg(job_dir);
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.code(),
        Some(if out.status.success() { 0 } else { 1 })
    );
    (out.status.success(), stderr)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in file")
        + 1
}

const FILE: &str = "kubernetes-sigs/kind/kind-presubmits.yaml";

#[test]
fn unknown_field_fails_only_under_strict() {
    let (dir, path) = broken_copy(FILE, |t| {
        t.replacen(
            "    always_run:",
            "    alwaysrun_typo: true\n    always_run:",
            1,
        )
    });
    let text = std::fs::read_to_string(&path).unwrap();
    let line = line_of(&text, "alwaysrun_typo");
    let (ok, err) = check(dir.path(), false);
    assert!(ok, "non-strict ignores unknown fields");
    // …but says where they are.
    let want = format!(
        "warning: {}:{line}:5: unknown field \"alwaysrun_typo\"",
        path.display()
    );
    assert!(err.contains(&want), "want {want:?} in:\n{err}");
    let (ok, err) = check(dir.path(), true);
    assert!(!ok);
    let want = format!(
        "{}:{line}:5: unknown field \"alwaysrun_typo\"",
        path.display()
    );
    assert!(err.contains(&want), "want {want:?} in:\n{err}");
}

#[test]
fn duplicate_job_name_names_both_places() {
    let (dir, path) = broken_copy(FILE, |t| {
        // Append a second presubmit with the first one's name, in the same repo.
        let first = t
            .lines()
            .find(|l| l.trim_start().starts_with("- name:"))
            .unwrap();
        format!(
            "{t}\n{first}\n    always_run: true\n    decorate: true\n    spec:\n      containers:\n      - image: example.com/x\n        command: [\"true\"]\n"
        )
    });
    let (ok, err) = check(dir.path(), false);
    assert!(!ok);
    let file = path.display().to_string();
    assert!(
        err.contains(&format!("{file}:")) && err.contains("duplicated presubmit job"),
        "{err}"
    );
    assert!(err.contains("also defined at"), "{err}");
}

#[test]
fn bad_run_if_changed_regex_points_at_the_job() {
    let rel = "kubernetes/test-infra/test-infra-presubmits.yaml";
    let (dir, path) = broken_copy(rel, |t| {
        let l = t
            .lines()
            .find(|l| l.trim_start().starts_with("run_if_changed:"))
            .unwrap()
            .to_string();
        let indent = &l[..l.len() - l.trim_start().len()];
        t.replacen(&l, &format!("{indent}run_if_changed: '^(unclosed'"), 1)
    });
    let (ok, err) = check(dir.path(), false);
    assert!(!ok);
    assert!(err.contains(&format!("{}:", path.display())), "{err}");
    assert!(
        err.contains("could not compile run_if_changed regex"),
        "{err}"
    );
    let first = err.lines().next().unwrap();
    let pos: Vec<&str> = first.splitn(4, ':').collect();
    assert!(
        pos[1].parse::<u32>().unwrap() > 0 && pos[2].parse::<u32>().unwrap() > 0,
        "{first}"
    );
}

#[test]
fn cron_and_interval_together_is_rejected() {
    let rel = "kubernetes/sig-testing/kubetest-canaries.yaml";
    let (dir, path) = broken_copy(rel, |t| {
        let l = t
            .lines()
            .find(|l| {
                l.trim_start().starts_with("interval:") || l.trim_start().starts_with("cron:")
            })
            .unwrap()
            .to_string();
        let indent = &l[..l.len() - l.trim_start().len()];
        let extra = if l.trim_start().starts_with("cron:") {
            "interval: 1h"
        } else {
            "cron: \"0 * * * *\""
        };
        t.replacen(&l, &format!("{l}\n{indent}{extra}"), 1)
    });
    let (ok, err) = check(dir.path(), false);
    assert!(!ok);
    assert!(
        err.contains(&format!("{}:", path.display())) && err.contains("mutually exclusive"),
        "{err}"
    );
}

#[test]
fn malformed_yaml_reports_line_and_column() {
    let (dir, path) = broken_copy(FILE, |t| {
        t.replacen("presubmits:", "presubmits:\n  - [unbalanced", 1)
    });
    let (ok, err) = check(dir.path(), false);
    assert!(!ok);
    let first = err.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{}:", path.display())),
        "{first}"
    );
    let pos: Vec<&str> = first.splitn(4, ':').collect();
    assert!(pos[1].parse::<u32>().unwrap() >= 2, "{first}");
}

#[test]
fn missing_file_is_an_error_not_a_panic() {
    let out = prow()
        .args(["checkconfig", "--config-path", "/nonexistent/config.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn example_config_is_valid() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let out = prow()
        .arg("checkconfig")
        .arg("--strict")
        .arg("--config-path")
        .arg(root.join("config.yaml"))
        .arg("--job-config-path")
        .arg(root.join("jobs"))
        .arg("--plugin-config")
        .arg(root.join("plugins.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unknown_plugin_section_is_a_warning_or_a_strict_error_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(corpus().join("prow/plugins.yaml")).unwrap();
    let plugins = dir.path().join("plugins.yaml");
    std::fs::write(&plugins, format!("{text}\nlgtm_typo:\n- repos: [acme]\n")).unwrap();
    let line = line_of(&std::fs::read_to_string(&plugins).unwrap(), "lgtm_typo");
    let want = format!(
        "{}:{line}:1: unknown field \"lgtm_typo\"",
        plugins.display()
    );
    for strict in [false, true] {
        let mut cmd = prow();
        cmd.arg("checkconfig")
            .arg("--config-path")
            .arg(corpus().join("prow/config.yaml"))
            .arg("--plugin-config")
            .arg(&plugins);
        if strict {
            cmd.arg("--strict");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.success(), !strict, "strict={strict}: {stderr}");
        assert!(stderr.contains(&want), "want {want:?} in:\n{stderr}");
        assert_eq!(stderr.contains("warning: "), !strict, "{stderr}");
    }
}
