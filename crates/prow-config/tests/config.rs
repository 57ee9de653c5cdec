//! Defaulting, validation, directory loading, selection and reload, driven through files on disk.

use std::collections::BTreeSet;
use std::path::Path;

use prow_api::Duration;
use prow_config::{Config, Filter, LoadOptions, filter_presubmits, load};

const BASE_CONFIG: &str = "plank:\n  default_decoration_config_entries:\n  - config:\n      utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}\n      gcs_configuration: {bucket: gs://b, path_strategy: explicit}\n      gcs_credentials_secret: sa\n  - repo: org\n    config:\n      timeout: 3h\n  - cluster: other\n    config:\n      gcs_credentials_secret: \"\"\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn load_dir(config: &str, jobs: &[(&str, &str)]) -> Result<Config, prow_config::ConfigErrors> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "config.yaml", config);
    std::fs::create_dir_all(dir.path().join("jobs")).unwrap();
    for (rel, text) in jobs {
        write(dir.path(), &format!("jobs/{rel}"), text);
    }
    load(&LoadOptions {
        config_path: dir.path().join("config.yaml"),
        job_config_path: Some(dir.path().join("jobs")),
        ..Default::default()
    })
}

const JOB: &str = "presubmits:\n  org/repo:\n  - name: unit\n    decorate: true\n    spec:\n      containers:\n      - image: img\n        command: [make]\n";

#[test]
fn core_defaults_match_prow() {
    let c = load_dir("{}", &[]).unwrap().prow;
    let cases: Vec<(&str, Option<Duration>, Duration)> = vec![
        (
            "plank.pod_pending_timeout",
            c.plank.pod_pending_timeout,
            Duration::from_mins(10),
        ),
        (
            "plank.pod_running_timeout",
            c.plank.pod_running_timeout,
            Duration::from_hours(48),
        ),
        (
            "plank.pod_unscheduled_timeout",
            c.plank.pod_unscheduled_timeout,
            Duration::from_mins(5),
        ),
        (
            "sinker.resync_period",
            c.sinker.resync_period,
            Duration::from_hours(1),
        ),
        (
            "sinker.max_prowjob_age",
            c.sinker.max_prowjob_age,
            Duration::from_hours(168),
        ),
        (
            "sinker.max_pod_age",
            c.sinker.max_pod_age,
            Duration::from_hours(24),
        ),
        (
            "sinker.terminated_pod_ttl",
            c.sinker.terminated_pod_ttl,
            Duration::from_hours(24),
        ),
        (
            "tide.sync_period",
            c.tide.sync_period,
            Duration::from_mins(1),
        ),
        (
            "tide.status_update_period",
            c.tide.status_update_period,
            Duration::from_mins(1),
        ),
        (
            "deck.tide_update_period",
            c.deck.tide_update_period,
            Duration::from_secs(10),
        ),
        (
            "horologium.tick_interval",
            c.horologium.tick_interval,
            Duration::from_mins(1),
        ),
        (
            "default_job_timeout",
            c.default_job_timeout,
            Duration::from_hours(24),
        ),
    ];
    for (name, got, want) in cases {
        assert_eq!(got, Some(want), "{name}");
    }
    assert_eq!(c.plank.max_revivals, Some(3));
    assert_eq!(c.plank.max_goroutines, 20);
    assert_eq!(c.tide.max_goroutines, 20);
    assert_eq!(c.prowjob_namespace, "default");
    assert_eq!(c.pod_namespace, "default");
    assert_eq!(c.log_level, "info");
    assert_eq!(c.deck.spyglass.size_limit, 100_000_000);
    assert_eq!(c.github.link_url, "https://github.com");
    assert_eq!(
        c.github_reporter.job_types_to_report,
        Some(vec![
            prow_api::ProwJobType::Presubmit,
            prow_api::ProwJobType::Postsubmit
        ])
    );
    assert_eq!(
        c.in_repo_config.allowed_clusters["*"],
        vec!["default".to_string()]
    );
}

#[test]
fn explicit_values_are_kept() {
    let c = load_dir(
        "sinker:\n  max_pod_age: 2h\ntide:\n  sync_period: 5m\nplank:\n  max_revivals: 0\n",
        &[],
    )
    .unwrap()
    .prow;
    assert_eq!(c.sinker.max_pod_age, Some(Duration::from_hours(2)));
    assert_eq!(
        c.sinker.terminated_pod_ttl,
        Some(Duration::from_hours(2)),
        "ttl defaults to max_pod_age"
    );
    assert_eq!(
        c.tide.status_update_period,
        Some(Duration::from_mins(5)),
        "status period defaults to sync period"
    );
    assert_eq!(c.plank.max_revivals, Some(0));
}

#[test]
fn job_defaults_match_prow() {
    let cfg = load_dir(BASE_CONFIG, &[("a.yaml", JOB)]).unwrap();
    let p = &cfg.jobs.presubmits["org/repo"][0];
    assert_eq!(p.base.agent, "kubernetes");
    assert_eq!(p.base.cluster, "default");
    assert_eq!(p.base.namespace.as_deref(), Some("default"));
    assert_eq!(
        p.reporter.context, "unit",
        "context defaults to the job name"
    );
    assert_eq!(p.trigger, "(?m)^/test( | .* )unit,?($|\\s.*)");
    assert_eq!(p.rerun_command, "/test unit");
    let dc = p.base.utility.decoration_config.as_ref().unwrap();
    assert_eq!(
        dc.timeout,
        Some(Duration::from_hours(3)),
        "org entry overrides"
    );
    assert_eq!(
        dc.grace_period,
        Some(Duration::from_secs(15)),
        "entrypoint default grace"
    );
    assert_eq!(dc.gcs_credentials_secret.as_deref(), Some("sa"));
    assert_eq!(dc.utility_images.as_ref().unwrap().sidecar, "s");
}

#[test]
fn decoration_defaults_2h_and_15s() {
    let cfg = load_dir(
        "plank:\n  default_decoration_config_entries:\n  - config:\n      utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}\n      gcs_configuration: {bucket: b, path_strategy: explicit}\n",
        &[("a.yaml", JOB)],
    )
    .unwrap();
    let dc = cfg.jobs.presubmits["org/repo"][0]
        .base
        .utility
        .decoration_config
        .clone()
        .unwrap();
    assert_eq!(dc.timeout, Some(Duration::from_hours(2)));
    assert_eq!(dc.grace_period, Some(Duration::from_secs(15)));
}

#[test]
fn cluster_entries_apply_by_exact_alias_and_later_wins() {
    let job = JOB.replace(
        "    decorate: true\n",
        "    decorate: true\n    cluster: other\n",
    );
    let cfg = load_dir(BASE_CONFIG, &[("a.yaml", &job)]).unwrap();
    let dc = cfg.jobs.presubmits["org/repo"][0]
        .base
        .utility
        .decoration_config
        .clone()
        .unwrap();
    assert_eq!(dc.gcs_credentials_secret.as_deref(), Some(""));
}

#[test]
fn decorate_all_jobs_and_presets() {
    let jobs = "decorate_all_jobs: true\npresets:\n- labels: {preset-x: \"true\"}\n  env: [{name: X, value: \"1\"}]\n  volumes: [{name: v, emptyDir: {}}]\n  volumeMounts: [{name: v, mountPath: /v}]\n- env: [{name: ALL, value: all}]\nperiodics:\n- name: p\n  interval: 1h\n  labels: {preset-x: \"true\"}\n  spec:\n    containers:\n    - image: img\n      command: [run]\n      resources: {requests: {cpu: 2}}\n";
    let cfg = load_dir(BASE_CONFIG, &[("p.yaml", jobs)]).unwrap();
    let p = &cfg.jobs.periodics[0];
    assert!(p.base.decorated());
    let c = &p.base.spec.as_ref().unwrap().containers[0];
    let env: Vec<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
    assert_eq!(env, ["X", "ALL"]);
    assert_eq!(c.volume_mounts.as_ref().unwrap()[0].mount_path, "/v");
    // Go-style leniency: an unquoted number loads as a quantity.
    assert_eq!(
        c.resources.as_ref().unwrap().requests.as_ref().unwrap()["cpu"].0,
        "2"
    );
    assert_eq!(p.interval_duration, Some(Duration::from_hours(1)));
}

#[test]
fn legacy_octal_mode_like_go() {
    let jobs = "periodics:\n- name: p\n  interval: 1h\n  spec:\n    volumes: [{name: s, secret: {secretName: s, defaultMode: 0644}}]\n    containers:\n    - image: img\n      command: [run]\n      volumeMounts: [{name: s, mountPath: /s}]\n";
    let cfg = load_dir("{}", &[("p.yaml", jobs)]).unwrap();
    let vols = cfg.jobs.periodics[0]
        .base
        .spec
        .as_ref()
        .unwrap()
        .volumes
        .clone()
        .unwrap();
    assert_eq!(vols[0].secret.as_ref().unwrap().default_mode, Some(420));
}

fn errors_of(config: &str, jobs: &[(&str, &str)]) -> String {
    load_dir(config, jobs).unwrap_err().to_string()
}

#[test]
fn validation_table() {
    let cases: &[(&str, &str)] = &[
        (
            "presubmits:\n  o/r:\n  - name: a\n    always_run: true\n    run_if_changed: x\n    spec: {containers: [{image: i}]}\n",
            "mutually exclusive",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    run_if_changed: x\n    skip_if_only_changed: y\n    spec: {containers: [{image: i}]}\n",
            "run_if_changed and skip_if_only_changed",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    max_concurrency: -1\n    spec: {containers: [{image: i}]}\n",
            "non-negative",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    branches: ['(']\n    spec: {containers: [{image: i}]}\n",
            "branch regex",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    trigger: x\n    spec: {containers: [{image: i}]}\n",
            "either both",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    trigger: '/x'\n    rerun_command: '/y'\n    spec: {containers: [{image: i}]}\n",
            "does not match trigger",
        ),
        (
            "presubmits:\n  o/r:\n  - name: 'bad name'\n    spec: {containers: [{image: i}]}\n",
            "must match regex",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    job_queue_name: nope\n    spec: {containers: [{image: i}]}\n",
            "invalid job queue name",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    spec: {containers: []}\n",
            "at least 1 container",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    spec: {containers: [{image: i, env: [{name: JOB_NAME, value: x}]}]}\n",
            "env JOB_NAME is reserved",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    spec: {containers: [{image: i, volumeMounts: [{name: nope, mountPath: /x}]}]}\n",
            "is undefined",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    spec: {containers: [{name: x, image: i}, {name: y, image: i}]}\n",
            "decoration must be enabled",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    decorate: true\n    spec: {containers: [{image: i}]}\n",
            "must specify command",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    labels: {created-by-prow: 'true'}\n    spec: {containers: [{image: i}]}\n",
            "reserved for decoration",
        ),
        ("presubmits:\n  o/r:\n  - name: a\n", "require a spec"),
        (
            "periodics:\n- name: p\n  cron: '0 * * * *'\n  interval: 1h\n  spec: {containers: [{image: i}]}\n",
            "mutually exclusive",
        ),
        (
            "periodics:\n- name: p\n  spec: {containers: [{image: i}]}\n",
            "exactly one is required",
        ),
        (
            "periodics:\n- name: p\n  cron: 'nope'\n  spec: {containers: [{image: i}]}\n",
            "invalid cron string",
        ),
        (
            "periodics:\n- name: p\n  interval: 5x\n  spec: {containers: [{image: i}]}\n",
            "cannot parse duration",
        ),
        (
            "periodics:\n- name: p\n  interval: 1h\n  spec: {containers: [{image: i}]}\n- name: p\n  interval: 2h\n  spec: {containers: [{image: i}]}\n",
            "duplicated periodic job",
        ),
        (
            "postsubmits:\n  o/r:\n  - name: a\n    spec: {containers: [{image: i}]}\n  - name: a\n    spec: {containers: [{image: i}]}\n",
            "duplicated postsubmit job",
        ),
        (
            "presubmits:\n  o/r:\n  - name: a\n    context: c\n    spec: {containers: [{image: i}]}\n  - name: b\n    context: c\n    spec: {containers: [{image: i}]}\n",
            "share the context",
        ),
    ];
    for (jobs, want) in cases {
        let err = errors_of("{}", &[("j.yaml", jobs)]);
        assert!(err.contains(want), "want {want:?} for\n{jobs}\ngot: {err}");
        assert!(err.contains("j.yaml:"), "errors name the file: {err}");
    }
}

#[test]
fn same_name_on_disjoint_branches_is_allowed() {
    let jobs = "presubmits:\n  o/r:\n  - name: a\n    branches: [main]\n    spec: {containers: [{image: i}]}\n  - name: a\n    branches: [release-1]\n    spec: {containers: [{image: i}]}\n";
    assert!(load_dir("{}", &[("j.yaml", jobs)]).is_ok());
}

#[test]
fn directory_rules() {
    let one = "periodics:\n- name: p1\n  interval: 1h\n  spec: {containers: [{image: i}]}\n";
    let two = "periodics:\n- name: p2\n  interval: 1h\n  spec: {containers: [{image: i}]}\n";
    // Recursion, .yml, non-YAML files ignored, `..data`-style dirs skipped.
    let cfg = load_dir(
        "{}",
        &[
            ("a/one.yaml", one),
            ("b/two.yml", two),
            ("README.md", "# x"),
            ("..2026/three.yaml", "bad: ["),
        ],
    )
    .unwrap();
    assert_eq!(cfg.jobs.periodics.len(), 2);
    assert_eq!(cfg.stats.job_files, 2);
    // Duplicate basenames are rejected.
    let err = errors_of("{}", &[("a/same.yaml", one), ("b/same.yaml", two)]);
    assert!(
        err.contains("duplicated basename is not allowed: same.yaml"),
        "{err}"
    );
    // .prowignore at the root and in subdirectories.
    let cfg = load_dir(
        "{}",
        &[
            (".prowignore", "a/\n"),
            ("a/one.yaml", one),
            ("b/two.yaml", two),
            ("b/.prowignore", "bad.yaml\n"),
            ("b/bad.yaml", "not: [valid"),
        ],
    )
    .unwrap();
    assert_eq!(cfg.jobs.periodics.len(), 1);
    assert_eq!(cfg.stats.ignored_files.len(), 2);
}

#[test]
fn gzipped_job_files_load() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "config.yaml", "{}");
    std::fs::create_dir_all(dir.path().join("jobs")).unwrap();
    let f = std::fs::File::create(dir.path().join("jobs/z.yaml")).unwrap();
    let mut gz = flate2_writer(f);
    gz.write_all(b"periodics:\n- name: gz\n  interval: 1h\n  spec: {containers: [{image: i}]}\n")
        .unwrap();
    gz.finish().unwrap();
    let cfg = load(&LoadOptions {
        config_path: dir.path().join("config.yaml"),
        job_config_path: Some(dir.path().join("jobs")),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(cfg.jobs.periodics[0].base.name, "gz");
}

fn flate2_writer(f: std::fs::File) -> flate2::write::GzEncoder<std::fs::File> {
    flate2::write::GzEncoder::new(f, flate2::Compression::default())
}

#[test]
fn selection_rules_table() {
    let jobs = "presubmits:\n  o/r:\n  - name: always\n    always_run: true\n    spec: {containers: [{image: i}]}\n  - name: docs\n    run_if_changed: '^docs/'\n    spec: {containers: [{image: i}]}\n  - name: skipdocs\n    skip_if_only_changed: '^docs/'\n    spec: {containers: [{image: i}]}\n  - name: manual\n    spec: {containers: [{image: i}]}\n  - name: optional-manual\n    optional: true\n    spec: {containers: [{image: i}]}\n  - name: mainonly\n    always_run: true\n    branches: [master]\n    spec: {containers: [{image: i}]}\n  - name: notrelease\n    always_run: true\n    skip_branches: ['^release-']\n    spec: {containers: [{image: i}]}\n";
    let cfg = load_dir("{}", &[("j.yaml", jobs)]).unwrap();
    let ps = cfg.jobs.presubmits_for("o/r");
    let run = |filter: &Filter, branch: &str, changes: &[&str]| -> Vec<String> {
        let ch: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
        let mut provider = || Ok::<_, ()>(ch.clone());
        filter_presubmits(filter, &mut provider, branch, ps)
            .unwrap()
            .iter()
            .map(|p| p.base.name.clone())
            .collect()
    };
    let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let none = |_: &()| ();
    let _ = none;
    // /test all on master with a docs change.
    let all = Filter::for_comment(false, "/test all", &mut || {
        Ok::<_, ()>((BTreeSet::new(), BTreeSet::new()))
    })
    .unwrap();
    assert_eq!(
        run(&all, "master", &["docs/a.md"]),
        ["always", "docs", "mainonly", "notrelease"]
    );
    assert_eq!(
        run(&all, "master", &["main.go"]),
        ["always", "skipdocs", "mainonly", "notrelease"]
    );
    // Unanchored branch regex: `master` also matches `master-2`; `^release-` skips release-1.0.
    assert_eq!(
        run(&all, "master-2", &["main.go"]),
        ["always", "skipdocs", "mainonly", "notrelease"]
    );
    assert_eq!(
        run(&all, "release-1.0", &["main.go"]),
        ["always", "skipdocs"]
    );
    // /test <name> forces even manual and change-filtered jobs.
    let named = Filter::for_comment(false, "/test manual\n/test docs", &mut || {
        Ok::<_, ()>((BTreeSet::new(), BTreeSet::new()))
    })
    .unwrap();
    assert_eq!(run(&named, "master", &["main.go"]), ["docs", "manual"]);
    // /test a list: the default trigger fires for names later in the line.
    let listed = Filter::for_comment(false, "/test foo manual", &mut || {
        Ok::<_, ()>((BTreeSet::new(), BTreeSet::new()))
    })
    .unwrap();
    assert_eq!(run(&listed, "master", &[]), ["manual"]);
    // /retest: failed contexts rerun (change filters ignored), plus non-manual jobs with no context.
    let mut ctx = || {
        Ok::<_, ()>((
            set(&["docs", "optional-manual"]),
            set(&["always", "docs", "optional-manual", "mainonly"]),
        ))
    };
    let retest = Filter::for_comment(false, "/retest", &mut ctx).unwrap();
    assert_eq!(
        run(&retest, "master", &["main.go"]),
        ["docs", "skipdocs", "optional-manual", "notrelease"]
    );
    let mut ctx = || {
        Ok::<_, ()>((
            set(&["docs", "optional-manual"]),
            set(&["always", "docs", "optional-manual", "mainonly"]),
        ))
    };
    let required = Filter::for_comment(false, "/retest-required", &mut ctx).unwrap();
    assert_eq!(
        run(&required, "master", &["main.go"]),
        ["docs", "skipdocs", "notrelease"]
    );
    let manual = Filter::for_comment(false, "/test-manual-required", &mut || {
        Ok::<_, ()>((BTreeSet::new(), BTreeSet::new()))
    })
    .unwrap();
    assert_eq!(run(&manual, "master", &[]), ["manual"]);
    // /ok-to-test acts as /test all only when honoured.
    let ok = Filter::for_comment(true, "/ok-to-test", &mut || {
        Ok::<_, ()>((BTreeSet::new(), BTreeSet::new()))
    })
    .unwrap();
    assert_eq!(run(&ok, "master", &["main.go"]).len(), 4);
    let ignored = Filter::for_comment(false, "/ok-to-test", &mut || {
        Ok::<_, ()>((BTreeSet::new(), BTreeSet::new()))
    })
    .unwrap();
    assert!(run(&ignored, "master", &["main.go"]).is_empty());
    // Required-ness.
    assert!(
        ps.iter()
            .find(|p| p.base.name == "always")
            .unwrap()
            .context_required()
    );
    assert!(
        !ps.iter()
            .find(|p| p.base.name == "optional-manual")
            .unwrap()
            .context_required()
    );
}

#[test]
fn postsubmit_selection() {
    let jobs = "postsubmits:\n  o/r:\n  - name: default\n    spec: {containers: [{image: i}]}\n  - name: off\n    always_run: false\n    spec: {containers: [{image: i}]}\n  - name: docs\n    run_if_changed: '^docs/'\n    spec: {containers: [{image: i}]}\n  - name: main\n    branches: ['^main$']\n    spec: {containers: [{image: i}]}\n";
    let cfg = load_dir("{}", &[("j.yaml", jobs)]).unwrap();
    let names = |branch: &str, changes: &[&str]| -> Vec<String> {
        let ch: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
        prow_config::filter_postsubmits(branch, &ch, cfg.jobs.postsubmits_for("o/r"))
            .iter()
            .map(|p| p.base.name.clone())
            .collect()
    };
    assert_eq!(names("main", &["docs/x"]), ["default", "docs", "main"]);
    assert_eq!(names("dev", &["src/x"]), ["default"]);
}

#[test]
fn agent_keeps_last_good_config() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "config.yaml", "log_level: debug\n");
    write(
        dir.path(),
        "jobs/a.yaml",
        JOB.replace("    decorate: true\n", "").as_str(),
    );
    let agent = prow_config::ConfigAgent::start(LoadOptions {
        config_path: dir.path().join("config.yaml"),
        job_config_path: Some(dir.path().join("jobs")),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(agent.config().prow.log_level, "debug");
    assert!(agent.reload_if_changed().is_none(), "nothing changed");
    // A broken edit: the error is reported, the old config stays.
    write(dir.path(), "config.yaml", "log_level: [broken\n");
    let r = agent.reload_if_changed().expect("change seen");
    let err = r.unwrap_err().to_string();
    assert!(err.contains("config.yaml:"), "{err}");
    assert_eq!(agent.config().prow.log_level, "debug");
    assert!(
        agent.reload_if_changed().is_none(),
        "a broken file is not retried until it changes"
    );
    // A good edit is picked up (different size so the fingerprint changes even within an mtime tick).
    write(dir.path(), "config.yaml", "log_level: warning\n");
    agent.reload_if_changed().expect("change seen").unwrap();
    assert_eq!(agent.config().prow.log_level, "warning");
    // The background watcher reloads by itself.
    let _watch = agent.watch(std::time::Duration::from_millis(20));
    write(dir.path(), "config.yaml", "log_level: error\n");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while agent.config().prow.log_level != "error" {
        assert!(
            std::time::Instant::now() < deadline,
            "watcher did not reload"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn documented_prow_config_is_fully_known() {
    // Every field of Prow's own documented config.yaml must be accepted by --strict.
    let doc = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/prow-reference/prow-config-documented.yaml");
    assert!(doc.exists(), "corpus missing: {}", doc.display());
    let text = std::fs::read_to_string(&doc).unwrap();
    let schema_errors = {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "config.yaml", &text);
        match load(&LoadOptions {
            config_path: dir.path().join("config.yaml"),
            strict: true,
            ..Default::default()
        }) {
            Ok(_) => String::new(),
            Err(e) => {
                e.0.iter()
                    .filter(|e| e.message.contains("unknown field"))
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
    };
    assert!(
        schema_errors.is_empty(),
        "fields Prow documents but we do not know:\n{schema_errors}"
    );
}

#[test]
fn unknown_fields_are_warnings_with_positions_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.yaml",
        "prowjob_namespace: default\ntide:\n  sync_period_typo: 1m\n",
    );
    write(
        dir.path(),
        "jobs/a.yaml",
        "periodics:\n- name: p\n  interval: 1h\n  alwaysrun: true\n  spec: {containers: [{image: x}]}\n",
    );
    let opts = |strict| LoadOptions {
        config_path: dir.path().join("config.yaml"),
        job_config_path: Some(dir.path().join("jobs")),
        strict,
        ..Default::default()
    };
    let cfg = load(&opts(false)).expect("non-strict load succeeds");
    let shown: Vec<String> = cfg
        .stats
        .unknown_fields
        .iter()
        .map(|e| {
            let file = std::path::Path::new(&e.file).file_name().unwrap();
            format!(
                "{}:{}:{}: {}",
                file.to_string_lossy(),
                e.line,
                e.col,
                e.message
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "config.yaml:3:3: unknown field \"sync_period_typo\" (at tide.sync_period_typo)",
            "a.yaml:4:3: unknown field \"alwaysrun\" (at periodics[0].alwaysrun)",
        ],
        "{shown:#?}"
    );
    let err = load(&opts(true)).expect_err("strict load fails");
    assert_eq!(err.0.len(), 2, "{err:?}");
}
