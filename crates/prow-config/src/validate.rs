//! Prow's job and config validation (spec §3.4). Each error names the job's file and line.
//! Validation also compiles the jobs' regexes, which the selection functions then use.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::PodSpec;
use prow_api::{Duration, ProwJobType};
use regex::Regex;

use crate::error::ConfigError;
use crate::jobs::{Brancher, JobBase, JobConfig, RegexpChangeMatcher};
use crate::prow::ProwConfig;

/// Container names the pod utilities use.
pub const RESERVED_CONTAINER_NAMES: [&str; 4] =
    ["clonerefs", "initupload", "place-entrypoint", "sidecar"];
/// Volume names decoration adds.
pub const RESERVED_VOLUME_NAMES: [&str; 6] = [
    "logs",
    "tools",
    "code",
    "gcs-credentials",
    "s3-credentials",
    "clonerefs-tmp",
];
/// Mount paths decoration uses.
pub const RESERVED_MOUNT_PATHS: [&str; 3] = ["/logs", "/home/prow/go", "/tools"];

/// Labels decoration sets itself; jobs may not set them (other `prow.k8s.io/` keys are allowed).
pub const RESERVED_LABELS: [&str; 3] = [
    prow_api::labels::PROW_JOB_TYPE,
    prow_api::labels::CREATED_BY_PROW,
    prow_api::labels::PROW_JOB_ID,
];

/// Env vars Prow injects for a job type; defining them in the job is an error.
pub fn reserved_env(t: ProwJobType) -> Vec<&'static str> {
    let base = [
        "CI",
        "JOB_NAME",
        "JOB_SPEC",
        "JOB_TYPE",
        "PROW_JOB_ID",
        "BUILD_ID",
        "BUILD_NUMBER",
    ];
    let refs = [
        "REPO_OWNER",
        "REPO_NAME",
        "SRC_BASE",
        "SRC_HOST",
        "PULL_BASE_REF",
        "PULL_BASE_SHA",
        "PULL_REFS",
    ];
    let pull = [
        "PULL_NUMBER",
        "PULL_PULL_SHA",
        "PULL_HEAD_REF",
        "PULL_TITLE",
    ];
    let mut v: Vec<&str> = base.to_vec();
    match t {
        ProwJobType::Periodic => {}
        ProwJobType::Postsubmit | ProwJobType::Batch => v.extend(refs),
        ProwJobType::Presubmit => {
            v.extend(refs);
            v.extend(pull);
        }
    }
    v
}

fn go_regex(pattern: &str) -> Result<Regex, regex::Error> {
    prow_commands::goregex::compile(pattern)
}

fn compile_brancher(b: &mut Brancher) -> Result<(), String> {
    if !b.branches.is_empty() {
        b.re = Some(
            go_regex(&b.branches.join("|"))
                .map_err(|e| format!("could not compile positive branch regex: {e}"))?,
        );
    }
    if !b.skip_branches.is_empty() {
        b.re_skip = Some(
            go_regex(&b.skip_branches.join("|"))
                .map_err(|e| format!("could not compile negative branch regex: {e}"))?,
        );
    }
    Ok(())
}

fn compile_changes(c: &mut RegexpChangeMatcher) -> Result<(), String> {
    let (pattern, prop) = if !c.run_if_changed.is_empty() {
        (&c.run_if_changed, "run_if_changed")
    } else if !c.skip_if_only_changed.is_empty() {
        (&c.skip_if_only_changed, "skip_if_only_changed")
    } else {
        return Ok(());
    };
    c.re_changes =
        Some(go_regex(pattern).map_err(|e| format!("could not compile {prop} regex: {e}"))?);
    Ok(())
}

fn validate_base(base: &JobBase, t: ProwJobType, prow: &ProwConfig, errs: &mut Vec<String>) {
    let name_ok = !base.name.is_empty()
        && base
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !name_ok && base.agent != "jenkins" {
        errs.push(format!(
            "name: must match regex \"^[A-Za-z0-9-._]+$\" (got {:?})",
            base.name
        ));
    }
    if base.max_concurrency < 0 {
        errs.push(format!(
            "max_concurrency: {} must be a non-negative number",
            base.max_concurrency
        ));
    }
    if !base.job_queue_name.is_empty()
        && !prow
            .plank
            .job_queue_capacities
            .contains_key(&base.job_queue_name)
    {
        errs.push(format!("invalid job queue name {}", base.job_queue_name));
    }
    for (k, v) in &base.labels {
        if RESERVED_LABELS.contains(&k.as_str()) {
            errs.push(format!("label {k} is reserved for decoration"));
        } else if !prow_api::labels::is_qualified_name(k) {
            errs.push(format!("invalid label {k}"));
        } else if !prow_api::labels::is_valid_label_value(v) {
            errs.push(format!("label {k} has invalid value {v}"));
        }
    }
    for k in base.annotations.keys() {
        if !prow_api::labels::is_qualified_name(k) {
            errs.push(format!("invalid annotation key {k:?}"));
        }
    }
    match base.agent.as_str() {
        "kubernetes" => {
            if base.spec.is_none() {
                errs.push("kubernetes jobs require a spec".into());
            }
        }
        "tekton-pipeline" => {
            if base.spec.is_some() {
                errs.push(format!(
                    "job specs require agent: kubernetes (found {:?})",
                    base.agent
                ));
            }
        }
        "jenkins" => {
            if base.spec.is_some() {
                errs.push(format!(
                    "job specs require agent: kubernetes (found {:?})",
                    base.agent
                ));
            }
        }
        other => errs.push(format!(
            "agent must be one of kubernetes, jenkins, tekton-pipeline (found {other:?})"
        )),
    }
    if base.agent != "kubernetes" && base.decorated() {
        errs.push(format!(
            "decoration requires agent: kubernetes (found {:?})",
            base.agent
        ));
    }
    if base.agent != "kubernetes" && base.error_on_eviction {
        errs.push(format!(
            "error_on_eviction only applies to agent: kubernetes (found {:?})",
            base.agent
        ));
    }
    if base.agent != "tekton-pipeline"
        && base
            .namespace
            .as_deref()
            .is_some_and(|ns| ns != prow.pod_namespace)
    {
        errs.push(format!(
            "namespace customization requires agent: tekton-pipeline (found {:?})",
            base.agent
        ));
    }
    if let Some(rac) = &base.rerun_auth_config
        && let Err(e) = rac.validate()
    {
        errs.push(e);
    }
    let own = String::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let _ = own;
    for r in &base.utility.extra_refs {
        if !seen.insert(r.org_repo()) {
            errs.push(format!(
                "extra_refs: {} is listed more than once",
                r.org_repo()
            ));
        }
    }
    if let Some(spec) = &base.spec {
        validate_pod_spec(t, spec, base, errs);
    }
}

fn validate_pod_spec(t: ProwJobType, spec: &PodSpec, base: &JobBase, errs: &mut Vec<String>) {
    let decorated = base.decorated();
    let n = spec.containers.len();
    if n == 0 {
        errs.push(format!(
            "pod spec must specify at least 1 container, found: {n}"
        ));
        return;
    }
    if n > 1 && !decorated {
        errs.push(format!(
            "pod utility decoration must be enabled to use multiple containers: {n}"
        ));
    }
    if n > 1 {
        let mut names = BTreeSet::new();
        for c in &spec.containers {
            if c.name.is_empty() {
                errs.push("container does not have name. all containers must have names when defining multiple containers".into());
            } else if !names.insert(c.name.clone()) {
                errs.push(format!(
                    "container named {:?} is defined more than once",
                    c.name
                ));
            }
            if RESERVED_CONTAINER_NAMES.contains(&c.name.as_str()) {
                errs.push(format!(
                    "container name {} is a reserved for decoration",
                    c.name
                ));
            }
        }
    }
    let reserved = reserved_env(t);
    let volumes: BTreeSet<&str> = spec
        .volumes
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    let mut vol_seen = BTreeSet::new();
    for v in spec.volumes.iter().flatten() {
        if !vol_seen.insert(&v.name) {
            errs.push(format!(
                "volume named {:?} is defined more than once",
                v.name
            ));
        }
        if decorated && RESERVED_VOLUME_NAMES.contains(&v.name.as_str()) {
            errs.push(format!("volume {} is a reserved for decoration", v.name));
        }
    }
    for c in &spec.containers {
        let mut env_seen = BTreeSet::new();
        for e in c.env.iter().flatten() {
            if !env_seen.insert(&e.name) {
                errs.push(format!(
                    "env var named {:?} is defined more than once",
                    e.name
                ));
            }
            if reserved.contains(&e.name.as_str()) {
                errs.push(format!("env {} is reserved", e.name));
            }
        }
        for m in c.volume_mounts.iter().flatten() {
            if !volumes.contains(m.name.as_str()) {
                errs.push(format!("volumeMount named {:?} is undefined", m.name));
            }
            if decorated && RESERVED_VOLUME_NAMES.contains(&m.name.as_str()) {
                errs.push(format!(
                    "volumeMount name {} is reserved for decoration",
                    m.name
                ));
            }
            if decorated
                && RESERVED_MOUNT_PATHS
                    .iter()
                    .any(|p| m.mount_path == *p || m.mount_path.starts_with(&format!("{p}/")))
            {
                errs.push(format!(
                    "mount {} at {} conflicts with decoration mount",
                    m.name, m.mount_path
                ));
            }
        }
        if decorated {
            if let Some(dc) = &base.utility.decoration_config
                && let Err(e) = dc.validate()
            {
                errs.push(format!("invalid decoration config: {e}"));
            }
            if c.command.as_ref().is_none_or(Vec::is_empty)
                && c.args.as_ref().is_none_or(Vec::is_empty)
            {
                errs.push("decorated job containers must specify command and/or args".into());
            }
        }
    }
}

fn changes_exclusive(
    name: &str,
    always_run: bool,
    c: &RegexpChangeMatcher,
    errs: &mut Vec<String>,
) {
    if always_run && !c.run_if_changed.is_empty() {
        errs.push(format!("job {name} is set to always run but also declares run_if_changed targets, which are mutually exclusive"));
    }
    if always_run && !c.skip_if_only_changed.is_empty() {
        errs.push(format!("job {name} is set to always run but also declares skip_if_only_changed targets, which are mutually exclusive"));
    }
    if !c.run_if_changed.is_empty() && !c.skip_if_only_changed.is_empty() {
        errs.push(format!("job {name} declares run_if_changed and skip_if_only_changed, which are mutually exclusive"));
    }
}

/// Validate the whole config; compiles every job regex as a side effect.
pub fn validate(prow: &ProwConfig, jobs: &mut JobConfig, main_file: &str) -> Vec<ConfigError> {
    let mut out = Vec::new();
    if prow.plank.max_concurrency < 0 {
        out.push(ConfigError::file(
            main_file,
            format!(
                "controller has invalid max_concurrency ({}), it needs to be a non-negative number",
                prow.plank.max_concurrency
            ),
        ));
    }
    for (i, e) in prow
        .plank
        .default_decoration_config_entries
        .iter()
        .enumerate()
    {
        if let Some(cfg) = &e.config
            && let Some(gcs) = &cfg.gcs_configuration
            && !gcs.bucket.is_empty()
            && let Err(err) = prow_api::StoragePath::parse_bucket(&gcs.bucket)
        {
            out.push(ConfigError::file(
                main_file,
                format!("plank.default_decoration_config_entries[{i}]: {err}"),
            ));
        }
    }
    for (key, v) in &prow.tide.merge_method {
        if let Some(s) = v.as_str()
            && !matches!(s, "merge" | "squash" | "rebase")
        {
            out.push(ConfigError::file(
                main_file,
                format!("merge type {s:?} for {key} is not a valid type"),
            ));
        }
    }

    for (repo, list) in &mut jobs.presubmits {
        for p in list.iter_mut() {
            let mut errs = Vec::new();
            validate_base(&p.base, ProwJobType::Presubmit, prow, &mut errs);
            changes_exclusive(&p.base.name, p.always_run, &p.changes, &mut errs);
            if p.trigger.is_empty() != p.rerun_command.is_empty() {
                errs.push(format!("either both of job.Trigger and job.RerunCommand must be set, wasnt the case for job {:?}", p.base.name));
            } else if !p.trigger.is_empty() {
                match go_regex(&p.trigger) {
                    Ok(re) => {
                        if !re.is_match(&p.rerun_command) {
                            errs.push(format!(
                                "for job {}, rerun command \"{}\" does not match trigger \"{}\"",
                                p.base.name, p.rerun_command, p.trigger
                            ));
                        }
                        p.re_trigger = Some(re);
                    }
                    Err(e) => errs.push(format!(
                        "could not compile trigger regex for {}: {e}",
                        p.base.name
                    )),
                }
            }
            if !p.reporter.skip_report && p.reporter.context.is_empty() {
                errs.push("job is set to report but has no context configured".into());
            }
            if let Err(e) = compile_brancher(&mut p.brancher) {
                errs.push(e);
            }
            if let Err(e) = compile_changes(&mut p.changes) {
                errs.push(e);
            }
            push_job_errors(&mut out, &p.base, "presubmit", repo, errs);
        }
        dupes(
            &mut out,
            list.iter()
                .map(|p| (&p.base, &p.brancher, p.reporter.context.as_str())),
            "presubmit",
            repo,
        );
    }
    for (repo, list) in &mut jobs.postsubmits {
        for p in list.iter_mut() {
            let mut errs = Vec::new();
            validate_base(&p.base, ProwJobType::Postsubmit, prow, &mut errs);
            changes_exclusive(
                &p.base.name,
                p.always_run == Some(true),
                &p.changes,
                &mut errs,
            );
            if let Err(e) = compile_brancher(&mut p.brancher) {
                errs.push(e);
            }
            if let Err(e) = compile_changes(&mut p.changes) {
                errs.push(e);
            }
            push_job_errors(&mut out, &p.base, "postsubmit", repo, errs);
        }
        dupes(
            &mut out,
            list.iter()
                .map(|p| (&p.base, &p.brancher, p.reporter.context.as_str())),
            "postsubmit",
            repo,
        );
    }
    let mut periodic_names: BTreeMap<String, String> = BTreeMap::new();
    for p in &mut jobs.periodics {
        let mut errs = Vec::new();
        validate_base(&p.base, ProwJobType::Periodic, prow, &mut errs);
        let set = [
            !p.cron.is_empty(),
            !p.interval.is_empty(),
            !p.minimum_interval.is_empty(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set != 1 {
            errs.push(format!(
                "cron, interval and minimum_interval are mutually exclusive and exactly one is required (periodic {})",
                p.base.name
            ));
        }
        if !p.cron.is_empty()
            && let Err(e) = crate::cron::parse(&p.cron)
        {
            errs.push(format!("invalid cron string {}: {e}", p.cron));
        }
        for (field, value) in [
            ("interval", &p.interval),
            ("minimum_interval", &p.minimum_interval),
        ] {
            if !value.is_empty() {
                match Duration::parse_go(value) {
                    Ok(d) => p.interval_duration = Some(d),
                    Err(e) => errs.push(format!(
                        "cannot parse duration for {}: {field}: {e}",
                        p.base.name
                    )),
                }
            }
        }
        if let Some(r) = &p.retry
            && !r.interval.is_empty()
            && let Err(e) = Duration::parse_go(&r.interval)
        {
            errs.push(format!(
                "cannot parse retry interval for {}: {e}",
                p.base.name
            ));
        }
        if let Some(prev) = periodic_names.get(&p.base.name) {
            errs.push(format!(
                "duplicated periodic job: {} (first defined at {prev})",
                p.base.name
            ));
        } else {
            periodic_names.insert(p.base.name.clone(), p.base.source.to_string());
        }
        push_job_errors(&mut out, &p.base, "periodic", "", errs);
    }
    out
}

fn push_job_errors(
    out: &mut Vec<ConfigError>,
    base: &JobBase,
    kind: &str,
    repo: &str,
    errs: Vec<String>,
) {
    for e in errs {
        let where_ = if repo.is_empty() {
            String::new()
        } else {
            format!(" in {repo}")
        };
        out.push(ConfigError::at(
            &base.source,
            format!("{kind} {:?}{where_}: {e}", base.name),
        ));
    }
}

/// Same name, or different names with the same context, on intersecting branches.
fn dupes<'a>(
    out: &mut Vec<ConfigError>,
    jobs: impl Iterator<Item = (&'a JobBase, &'a Brancher, &'a str)>,
    kind: &str,
    repo: &str,
) {
    let jobs: Vec<_> = jobs.collect();
    for (i, (a, ab, actx)) in jobs.iter().enumerate() {
        for (b, bb, bctx) in &jobs[..i] {
            if !ab.intersects(bb) {
                continue;
            }
            if a.name == b.name {
                out.push(ConfigError::at(&a.source, format!(
                    "duplicated {kind} job {:?} in {repo} (also defined at {}; consider both inrepo and central config)",
                    a.name, b.source
                )));
            } else if actx == bctx && !actx.is_empty() {
                out.push(ConfigError::at(&a.source, format!(
                    "{kind} jobs {:?} and {:?} in {repo} share the context {:?} on overlapping branches",
                    b.name, a.name, actx
                )));
            }
        }
    }
}
