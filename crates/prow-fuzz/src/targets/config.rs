//! Config loading from files, as every component does at start and on reload. Input: up to
//! three parts separated by a `#====` line: `config.yaml`, a job config file, `plugins.yaml`.
//! Each load runs both lenient and `--strict`; a loaded config is then used the way hook and
//! Deck use it (trigger matching, branch filters, bucket policy, job URL template).

use std::cell::RefCell;
use std::path::PathBuf;

use prow_config::{LoadOptions, load, load_plugins};

/// Mutation tokens.
pub const DICT: &[&str] = &[
    "\n#====\n",
    "presubmits:\n  org/repo:\n  - name: j\n    always_run: true\n    spec:\n      containers:\n      - image: i\n",
    "postsubmits:\n",
    "periodics:\n- name: p\n  interval: 1h\n",
    "cron: \"",
    "interval: ",
    "trigger: \"",
    "rerun_command: \"",
    "run_if_changed: \"",
    "skip_if_only_changed: \"",
    "branches:\n  - ",
    "skip_branches: [",
    "decorate: true\n",
    "decoration_config:\n",
    "gcs_configuration:\n  bucket: ",
    "timeout: ",
    "1h30m",
    "-1s",
    "plank:\n  job_url_template: '{{.Spec.Job}}'\n",
    "job_url_prefix_config:\n",
    "tide:\n  queries:\n  - repos: [",
    "deck:\n  spyglass:\n",
    "plugins:\n  org/repo:\n    plugins:\n    - ",
    "external_plugins:\n",
    "triggers:\n",
    "lgtm:\n",
    "approve:\n",
    "labels:\n",
    "presets:\n",
    "max_concurrency: ",
    "agent: kubernetes\n",
    "cluster: ",
    "namespace: ",
    "&a ",
    "*a",
    "<<: *a",
    "!!binary ",
    "!!str ",
    "? ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    "|\n",
    ">-\n",
    "~",
    "null",
    "0o17",
    "0644",
    "0x1F",
    ".inf",
    "---\n",
    "...\n",
];

thread_local! {
    static DIR: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

fn dir() -> PathBuf {
    DIR.with(|d| {
        d.borrow_mut()
            .get_or_insert_with(|| tempfile::tempdir().expect("temp dir for the config target"))
            .path()
            .to_path_buf()
    })
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = super::text(data);
    let parts = crate::split_parts(&text, 3);
    let dir = dir();
    let config_path = dir.join("config.yaml");
    let job_path = dir.join("jobs.yaml");
    let plugins_path = dir.join("plugins.yaml");
    std::fs::write(&config_path, parts[0]).expect("write config.yaml");
    let has_jobs = parts.len() > 1;
    if has_jobs {
        std::fs::write(&job_path, parts[1]).expect("write jobs.yaml");
    }
    for strict in [false, true] {
        let opts = LoadOptions {
            config_path: config_path.clone(),
            job_config_path: has_jobs.then(|| job_path.clone()),
            supplemental_prow_config_dirs: Vec::new(),
            supplemental_suffix: None,
            strict,
        };
        match load(&opts) {
            Ok(cfg) => use_config(&cfg),
            Err(errs) => {
                assert!(!errs.0.is_empty(), "a failed load names no error");
                let _ = errs.to_string();
            }
        }
    }
    if let Some(plugins) = parts.get(2) {
        std::fs::write(&plugins_path, plugins).expect("write plugins.yaml");
        for strict in [false, true] {
            if let Ok(p) = load_plugins(&plugins_path, strict) {
                let _ = p.enabled_for("org", "repo");
                let _ = p.external_for("org", "repo");
                for e in p.external_for("org", "repo") {
                    let _ = e.endpoint();
                }
            }
        }
    }
}

fn use_config(cfg: &prow_config::Config) {
    let changes = ["pkg/a.go", "docs/README.md", ""];
    for jobs in cfg.jobs.presubmits.values() {
        for j in jobs {
            let _ = j.could_run("main");
            let _ = j.trigger_matches("/test all\n/retest\n/test j");
            let _ = j.needs_explicit_trigger();
            let _ = j.changes.runs_against_changes(&changes);
            let _ = j.should_run(
                "main",
                &mut || Ok::<_, ()>(vec!["a.go".into()]),
                false,
                true,
            );
        }
    }
    for jobs in cfg.jobs.postsubmits.values() {
        for j in jobs {
            let _ = j.should_run("main", &mut || Ok::<_, ()>(vec!["a.go".into()]));
        }
    }
    let _ = prow_spyglass::BucketPolicy::from_config(cfg);
    let _ = prow_controller::joburl::JobUrlTemplate::parse(&cfg.prow.plank.job_url_template);
}
