//! `prow local` in headless Chromium: a failing presubmit triggered by `/test all` through the
//! GitHub simulator is listed on Deck's jobs page; its Spyglass page shows the build log (with
//! the error line highlighted) and the JUnit failure; rerun is refused when logged out and for
//! a user the rerun auth config does not allow, and works for an allowed user after the OAuth
//! sign-in against the simulator. The browser part is `crates/prow-deck/tests/browser/local.mjs`
//! (playwright-core); screenshots go to `docs/screenshots/` at the workspace root.
//!
//! Needs `/usr/bin/chromium` and `npm` (run `bash scripts/test.sh`, which installs both);
//! set `PROW_SKIP_BROWSER_TESTS=1` to skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

const CHROMIUM: &str = "/usr/bin/chromium";

/// bob is deliberately not an org member: Prow lets anyone `/test` would trust (org members
/// and collaborators) rerun a presubmit of a PR even when the rerun auth config does not list
/// them, so only an untrusted user shows the "not allowed" refusal.
const SEED: &str = r#"
users:
  - {login: prow-bot, token: t-bot, type: Bot}
  - {login: alice, token: t-alice, name: Alice}
  - {login: bob, token: t-bob, name: Bob}
orgs:
  - {login: acme, members: [alice]}
repos:
  - name: acme/widgets
    files:
      README.md: "widgets\n"
      unit.sh: |
        i=1
        while [ $i -le 150 ]; do echo "step $i: assembling widget part $i"; i=$((i+1)); done
        echo "error: widget exploded"
        while [ $i -le 300 ]; do echo "step $i: cleaning up part $i"; i=$((i+1)); done
        cat > "$ARTIFACTS/junit_unit.xml" <<'EOF'
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites>
          <testsuite name="widgets" tests="3" failures="1" time="0.04">
            <testcase classname="widgets" name="TestWidgetAssembles" time="0.01"></testcase>
            <testcase classname="widgets" name="TestWidgetExplodes" time="0.02"><failure message="widget exploded">widget_test.go:42: expected an intact widget, got 17 pieces</failure></testcase>
            <testcase classname="widgets" name="TestWidgetPolishes" time="0.01"></testcase>
          </testsuite>
        </testsuites>
        EOF
        exit 1
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Make widgets sturdier, head: sturdier, files: {README.md: "sturdier widgets\n"}}
"#;

fn config(port: u16) -> String {
    format!(
        r#"
prowjob_namespace: default
pod_namespace: test-pods
plank:
  job_url_prefix_config:
    '*': http://127.0.0.1:{port}/view/
  default_decoration_config_entries:
  - config:
      timeout: 1h
      grace_period: 2s
      utility_images: {{clonerefs: c, initupload: i, entrypoint: e, sidecar: s}}
      gcs_configuration: {{bucket: local-bucket, path_strategy: explicit}}
deck:
  rerun_auth_configs:
    '*':
      github_users: [alice]
  spyglass:
    lenses:
    - lens: {{name: metadata}}
      required_files: ['^(?:started|finished)\.json$']
    - lens:
        name: buildlog
        config:
          highlight_regexes: ['error:', 'timed out', 'ERROR:']
      required_files: ['^(?:.*-)?build-log\.txt$']
    - lens: {{name: junit}}
      required_files: ['^artifacts/(?:.*/)?junit.*\.xml$']
"#
    )
}

const JOBS: &str = r#"
presubmits:
  acme/widgets:
  - name: pull-unit
    always_run: true
    decorate: true
    spec: {containers: [{image: alpine, command: [sh, unit.sh]}]}
"#;

const PLUGINS: &str =
    "plugins:\n  acme:\n    plugins: [trigger, help]\ntriggers:\n- repos: [acme]\n";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../prow-deck/tests/browser")
}

/// Installs playwright-core from the lock file on first run (shared with prow-deck's test).
fn ensure_node_modules() {
    let dir = browser_dir();
    if dir.join("node_modules/playwright-core").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "`npm ci` in {} failed ({other:?}); run `bash scripts/test.sh` to install the browser test tools",
            dir.display()
        ),
    }
}

async fn jobs(base: &str) -> Vec<prow_api::ProwJob> {
    let v: serde_json::Value = match reqwest::get(format!("{base}/prowjobs.js")).await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => return Vec::new(),
    };
    serde_json::from_value(v["items"].clone()).unwrap_or_default()
}

fn tail(path: &Path, n: usize) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_deck_spyglass_and_rerun_in_chromium() {
    if std::env::var("PROW_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("PROW_SKIP_BROWSER_TESTS=1: skipping the browser test");
        return;
    }
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run `bash scripts/test.sh` (it installs Chromium), \
         or set PROW_SKIP_BROWSER_TESTS=1 to skip the browser test"
    );
    ensure_node_modules();

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = dir.path();
    let (port, health, metrics) = (free_port(), free_port(), free_port());
    std::fs::write(d.join("seed.yaml"), SEED).unwrap();
    std::fs::write(d.join("config.yaml"), config(port)).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/jobs.yaml"), JOBS).unwrap();
    std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let args = vec![
        "local".into(),
        format!("--config-path={}", s(&d.join("config.yaml"))),
        format!("--job-config-path={}", s(&d.join("jobs"))),
        format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
        format!("--seed={}", s(&d.join("seed.yaml"))),
        format!("--data-dir={}", s(&d.join("data"))),
        format!("--port={port}"),
        format!("--health-port={health}"),
        format!("--metrics-port={metrics}"),
    ];
    let log = d.join("local.log");
    let _local = spawn("local", d, &args);
    wait_ok(&format!("http://127.0.0.1:{health}/healthz/ready"), &log).await;
    let base = format!("http://127.0.0.1:{port}");

    // alice asks for the tests on her PR, as on GitHub.
    let r = reqwest::Client::new()
        .post(format!(
            "{base}/fake-github/repos/acme/widgets/issues/1/comments"
        ))
        .header("Authorization", "token t-alice")
        .json(&serde_json::json!({ "body": "/test all" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "commenting /test all");
    let failed = eventually("pull-unit to fail", Duration::from_secs(180), || async {
        jobs(&base).await.into_iter().find(|j| {
            j.spec.job == "pull-unit" && ["failure", "error"].contains(&j.status.state.as_str())
        })
    })
    .await;
    assert_eq!(
        failed.status.state.as_str(),
        "failure",
        "pull-unit should fail (not error): {:?}\nlocal log:\n{}",
        failed.status,
        tail(&log, 40)
    );
    assert!(
        failed.status.url.starts_with(&format!(
            "{base}/view/gs/local-bucket/pr-logs/pull/acme_widgets/1/pull-unit/"
        )),
        "job URL from plank.job_url_prefix_config: {:?}",
        failed.status.url
    );

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    // Screenshots from an earlier run must not count: each one has to be written by this run.
    let started = std::time::SystemTime::now() - Duration::from_secs(2);
    let out = tokio::task::spawn_blocking({
        let (base, shots) = (base.clone(), shots.clone());
        move || {
            Command::new("node")
                .arg(browser_dir().join("local.mjs"))
                .arg(&base)
                .arg(&shots)
                .output()
        }
    })
    .await
    .unwrap()
    .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{stderr}\nlocal log (last lines):\n{}",
        tail(&log, 60)
    );
    println!("{stdout}");

    // The rerun alice triggered is a real job: exactly one more pull-unit, for the same PR.
    let all: Vec<_> = jobs(&base)
        .await
        .into_iter()
        .filter(|j| j.spec.job == "pull-unit")
        .collect();
    assert_eq!(all.len(), 2, "one original and one rerun: {all:?}");
    for j in &all {
        let pulls = j.spec.refs.as_ref().map(|r| r.pulls.len()).unwrap_or(0);
        assert_eq!(pulls, 1, "both runs test PR #1: {:?}", j.spec.refs);
    }
    for f in [
        "local-jobs.png",
        "spyglass.png",
        "rerun.png",
        "pr-dashboard.png",
        "command-help.png",
        "job-history.png",
    ] {
        let fresh = std::fs::metadata(shots.join(f))
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= started);
        assert!(fresh, "screenshot {f} was not written by this run");
    }
}
