//! Attack suite, item 3 of "safe by default": a presubmit's script, run by a real `prow local`,
//! tries to read the data dir and the config, reach Deck and the health port over loopback,
//! and write to the data dir and outside its work dir; each attempt fails and the host's files
//! are unchanged. Without a working bubblewrap the job is refused with the fix-it message, and
//! `--unsafe-unsandboxed-jobs` runs it with a warning in the log and in Deck's header.

mod common;

use std::path::{Path, PathBuf};
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
    files: {README.md: "widgets\n"}
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Change, head: change, files: {README.md: "better widgets\n"}}
"#;

const CONFIG: &str = r#"
prowjob_namespace: default
pod_namespace: test-pods
plank:
  default_decoration_config_entries:
  - config:
      timeout: 1h
      grace_period: 2s
      utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}
      gcs_configuration: {bucket: local-bucket, path_strategy: explicit}
"#;

const PLUGINS: &str = "plugins:\n  acme:\n    plugins: [trigger]\ntriggers:\n- repos: [acme]\n";

/// One presubmit running `script` with bash (the sandbox's `sh` may be dash, which has no
/// `/dev/tcp`).
fn jobs(script: &str) -> String {
    let indented: String = script.lines().map(|l| format!("          {l}\n")).collect();
    format!(
        "presubmits:\n  acme/widgets:\n  - name: pull-attack\n    always_run: true\n    \
         decorate: true\n    spec:\n      containers:\n      - image: alpine\n        \
         command: [bash, -c]\n        args:\n        - |\n{indented}"
    )
}

struct Local {
    dir: tempfile::TempDir,
    args: Vec<String>,
    base: String,
    ready: String,
}

impl Local {
    /// A `prow local` whose presubmit runs `script(dir)`, with `extra` flags. Not under `/tmp`:
    /// the sandbox's private `/tmp` would hide the data dir anyway, and the point is that the
    /// sandbox hides it by name.
    fn new(script: impl FnOnce(&Path, u16, u16) -> String, extra: &[String]) -> Local {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let d = dir.path().canonicalize().unwrap();
        let (p, ph, pm) = (free_port(), free_port(), free_port());
        std::fs::write(d.join("seed.yaml"), SEED).unwrap();
        std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
        std::fs::create_dir(d.join("jobs")).unwrap();
        std::fs::write(d.join("jobs/jobs.yaml"), jobs(&script(&d, p, ph))).unwrap();
        std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let mut args = vec![
            "local".into(),
            format!("--config-path={}", s(&d.join("config.yaml"))),
            format!("--job-config-path={}", s(&d.join("jobs"))),
            format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
            format!("--seed={}", s(&d.join("seed.yaml"))),
            format!("--data-dir={}", s(&d.join("data"))),
            format!("--port={p}"),
            format!("--health-port={ph}"),
            format!("--metrics-port={pm}"),
        ];
        args.extend(extra.iter().cloned());
        Local {
            base: format!("http://127.0.0.1:{p}"),
            ready: format!("http://127.0.0.1:{ph}/healthz/ready"),
            dir,
            args,
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("local.log")).unwrap_or_default()
    }

    async fn start(&self) -> Proc {
        let p = spawn("local", self.dir.path(), &self.args);
        wait_ok(&self.ready, &self.dir.path().join("local.log")).await;
        p
    }

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

    /// The attack job once it is in one of `states` (fails after two minutes with the log).
    async fn wait_state(&self, states: &[&str]) -> prow_api::ProwJob {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(j) = self
                .jobs()
                .await
                .into_iter()
                .find(|j| states.contains(&j.status.state.as_str()))
            {
                return j;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the job never reached {states:?}; jobs: {:?}\nlog:\n{}",
                self.jobs()
                    .await
                    .iter()
                    .map(|j| (
                        j.status.state.as_str().to_string(),
                        j.status.description.clone()
                    ))
                    .collect::<Vec<_>>(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn deck_page(&self) -> String {
        reqwest::get(format!("{}/", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Whether bubblewrap works here; the sandboxed case is skipped (with a note) where it cannot.
fn bwrap_usable() -> bool {
    let ok = std::process::Command::new("bwrap")
        .args(["--ro-bind", "/", "/", "--unshare-net", "--", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipping: bubblewrap is not installed or cannot create namespaces here");
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cannot_read_secrets_reach_loopback_or_write_outside_its_work_dir() {
    if !bwrap_usable() {
        return;
    }
    let l = Local::new(
        |d, port, health| {
            let data = d.join("data");
            format!(
                r#"try() {{ if eval "$2" >/dev/null 2>&1; then echo "$1: ALLOWED"; else echo "$1: denied"; fi; }}
try read-cookie-secret "cat {data}/cookie-secret"
try read-event-log "cat {data}/hook-events.sqlite"
try list-data-dir "ls {data} | grep -q cookie-secret"
try read-config "cat {config}"
try read-seed "grep -q t-alice {seed}"
try connect-deck "( exec 3<>/dev/tcp/127.0.0.1/{port} )"
try connect-health "( exec 3<>/dev/tcp/127.0.0.1/{health} )"
try write-data-dir "echo x > {data}/pwned"
try write-marker "echo x > {marker}"
try write-artifacts "echo ok > \$ARTIFACTS/ok.txt"
echo attack finished"#,
                data = data.display(),
                config = d.join("config.yaml").display(),
                seed = d.join("seed.yaml").display(),
                marker = d.join("marker").display(),
            )
        },
        &[],
    );
    let _p = l.start().await;
    let d = l.path();
    let cookie = std::fs::read_to_string(d.join("data/cookie-secret")).unwrap();
    assert!(!cookie.trim().is_empty());
    l.comment("/test all").await;
    let job = l.wait_state(&["success", "failure", "error"]).await;
    assert_eq!(job.status.state.as_str(), "success", "{:?}", job.status);
    let build_log = std::fs::read_to_string(d.join(format!(
        "data/artifacts/pr-logs/pull/acme_widgets/1/pull-attack/{}/build-log.txt",
        job.status.build_id
    )))
    .unwrap();
    for attempt in [
        "read-cookie-secret: denied",
        "read-event-log: denied",
        "list-data-dir: denied",
        "read-config: denied",
        "read-seed: denied",
        "connect-deck: denied",
        "connect-health: denied",
        "write-data-dir: denied",
        "write-marker: denied",
        "write-artifacts: ALLOWED",
        "attack finished",
    ] {
        assert!(
            build_log.contains(attempt),
            "{attempt:?} missing:\n{build_log}"
        );
    }
    assert!(!build_log.contains(cookie.trim()), "{build_log}");
    assert!(!d.join("data/pwned").exists());
    assert!(!d.join("marker").exists());
    assert_eq!(
        std::fs::read_to_string(d.join("data/cookie-secret")).unwrap(),
        cookie
    );
    assert_eq!(
        std::fs::read_to_string(d.join("config.yaml")).unwrap(),
        CONFIG
    );
    // Deck shows no warning when jobs are sandboxed.
    assert!(!l.deck_page().await.contains("warning-banner"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_bubblewrap_jobs_are_refused_with_the_fix() {
    let l = Local::new(
        |d, _, _| format!("touch {}\n", d.join("marker").display()),
        &[format!(
            "--bwrap-path={}",
            std::env::temp_dir().join("no-such-dir/bwrap").display()
        )],
    );
    let _p = l.start().await;
    l.comment("/test all").await;
    let job = l.wait_state(&["success", "failure", "error"]).await;
    assert_eq!(job.status.state.as_str(), "error", "{:?}", job.status);
    let desc = &job.status.description;
    assert!(desc.contains("apt-get install bubblewrap"), "{desc}");
    assert!(desc.contains("--unsafe-unsandboxed-jobs"), "{desc}");
    assert!(!l.path().join("marker").exists(), "a refused job ran");
    // The log says why, at start and for the job.
    let log = l.log();
    assert!(log.contains("no sandbox for jobs"), "{log}");
    assert!(log.contains("job refused"), "{log}");
    let page = l.deck_page().await;
    assert!(page.contains("warning-banner"), "{page}");
    assert!(page.contains("Jobs are not run"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_flag_runs_jobs_unsandboxed_and_says_so() {
    let l = Local::new(
        |d, _, _| {
            format!(
                "touch {}\necho ran unsandboxed\n",
                d.join("marker").display()
            )
        },
        &[
            // The explicit flag wins over a missing bubblewrap.
            format!(
                "--bwrap-path={}",
                std::env::temp_dir().join("no-such-dir/bwrap").display()
            ),
            "--unsafe-unsandboxed-jobs".into(),
        ],
    );
    let _p = l.start().await;
    let log = l.log();
    assert!(
        log.contains("WARN") && log.contains("UNSAFE: --unsafe-unsandboxed-jobs"),
        "{log}"
    );
    let page = l.deck_page().await;
    assert!(page.contains("warning-banner"), "{page}");
    assert!(
        page.contains("Unsafe: jobs run without a sandbox"),
        "{page}"
    );
    l.comment("/test all").await;
    let job = l.wait_state(&["success", "failure", "error"]).await;
    assert_eq!(job.status.state.as_str(), "success", "{:?}", job.status);
    // What the flag means: the job wrote outside its work dir.
    assert!(l.path().join("marker").exists());
}
