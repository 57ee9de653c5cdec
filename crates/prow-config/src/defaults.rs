//! Prow's defaulting (spec §3.3 and §4): core config defaults, then per-job defaults
//! (agent, namespace, cluster, context, trigger, decoration, prowjob defaults, presets).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodSpec;
use prow_api::{DecorationConfig, Duration, ProwJobDefault, ProwJobType};

use crate::error::ConfigError;
use crate::jobs::{JobBase, JobConfig, Preset};
use crate::prow::{DefaultDecorationConfigEntry, ProwConfig};

/// Default pod pending timeout (`plank.pod_pending_timeout`).
pub const POD_PENDING_TIMEOUT: Duration = Duration::from_mins(10);
/// Default pod running timeout.
pub const POD_RUNNING_TIMEOUT: Duration = Duration::from_hours(48);
/// Default pod unscheduled timeout.
pub const POD_UNSCHEDULED_TIMEOUT: Duration = Duration::from_mins(5);
/// Default `plank.max_revivals`.
pub const MAX_REVIVALS: i64 = 3;
/// Default `sinker.max_prowjob_age` (one week).
pub const MAX_PROWJOB_AGE: Duration = Duration::from_hours(168);
/// Default entrypoint timeout when a decorated job sets none.
pub const DECORATION_TIMEOUT: Duration = Duration::from_hours(2);
/// Default entrypoint grace period when a decorated job sets none.
pub const DECORATION_GRACE_PERIOD: Duration = Duration::from_secs(15);

fn or_default(v: &mut Option<Duration>, d: Duration) {
    if v.is_none() {
        *v = Some(d);
    }
}

fn str_default(v: &mut String, d: &str) {
    if v.is_empty() {
        *v = d.to_string();
    }
}

/// Apply the core config defaults in place.
pub fn default_prow_config(c: &mut ProwConfig) {
    str_default(&mut c.prowjob_namespace, "default");
    str_default(&mut c.pod_namespace, "default");
    str_default(&mut c.log_level, "info");
    str_default(&mut c.github.link_url, "https://github.com");
    str_default(
        &mut c.status_error_link,
        "https://github.com/kubernetes/test-infra/issues",
    );
    or_default(&mut c.default_job_timeout, Duration::from_hours(24));

    let p = &mut c.plank;
    or_default(&mut p.pod_pending_timeout, POD_PENDING_TIMEOUT);
    or_default(&mut p.pod_running_timeout, POD_RUNNING_TIMEOUT);
    or_default(&mut p.pod_unscheduled_timeout, POD_UNSCHEDULED_TIMEOUT);
    p.max_revivals.get_or_insert(MAX_REVIVALS);
    if p.max_goroutines == 0 {
        p.max_goroutines = 20;
    }
    if !p.report_template.is_empty() && !p.report_templates.contains_key("*") {
        p.report_templates
            .insert("*".into(), p.report_template.clone());
    }
    // The legacy map form becomes ordered entries: `*`, then orgs, then org/repos.
    if p.default_decoration_config_entries.is_empty() && !p.default_decoration_configs.is_empty() {
        let mut keys: Vec<&String> = p.default_decoration_configs.keys().collect();
        keys.sort_by_key(|k| {
            (
                if *k == "*" {
                    0
                } else if k.contains('/') {
                    2
                } else {
                    1
                },
                (*k).clone(),
            )
        });
        p.default_decoration_config_entries = keys
            .into_iter()
            .map(|k| DefaultDecorationConfigEntry {
                org_repo: if k == "*" { String::new() } else { k.clone() },
                cluster: String::new(),
                config: Some(p.default_decoration_configs[k].clone()),
            })
            .collect();
    }

    let s = &mut c.sinker;
    or_default(&mut s.resync_period, Duration::from_hours(1));
    or_default(&mut s.max_prowjob_age, MAX_PROWJOB_AGE);
    or_default(&mut s.max_pod_age, Duration::from_hours(24));
    if s.terminated_pod_ttl.is_none() {
        s.terminated_pod_ttl = s.max_pod_age;
    }

    let t = &mut c.tide;
    or_default(&mut t.sync_period, Duration::from_mins(1));
    if t.status_update_period.is_none() {
        t.status_update_period = t.sync_period;
    }
    if t.max_goroutines == 0 {
        t.max_goroutines = 20;
    }

    or_default(&mut c.deck.tide_update_period, Duration::from_secs(10));
    if c.deck.spyglass.size_limit == 0 {
        c.deck.spyglass.size_limit = 100_000_000;
    }
    or_default(&mut c.horologium.tick_interval, Duration::from_mins(1));
    if c.github_reporter
        .job_types_to_report
        .as_ref()
        .is_none_or(Vec::is_empty)
    {
        c.github_reporter.job_types_to_report =
            Some(vec![ProwJobType::Presubmit, ProwJobType::Postsubmit]);
    }
    if c.in_repo_config.allowed_clusters.is_empty() {
        c.in_repo_config.allowed_clusters.insert(
            "*".into(),
            vec![prow_api::prowjob::DEFAULT_CLUSTER_ALIAS.into()],
        );
    }
    if let Some(pg) = &mut c.push_gateway {
        or_default(&mut pg.interval, Duration::from_mins(1));
    }
}

/// Prow's entry filter: empty or `*` matches everything; otherwise `org` or `org/repo` exactly.
/// (Prow's docs call these regexes; its code does exact matching, and so do we.)
pub fn entry_matches(entry_repo: &str, entry_cluster: &str, org_repo: &str, cluster: &str) -> bool {
    let repo_ok = entry_repo.is_empty()
        || entry_repo == "*"
        || entry_repo == org_repo
        || org_repo.split('/').next() == Some(entry_repo);
    let cluster_ok = entry_cluster.is_empty() || entry_cluster == "*" || entry_cluster == cluster;
    repo_ok && cluster_ok
}

/// The merged decoration defaults for a repo and cluster: every matching entry, later ones
/// overriding earlier ones.
pub fn decoration_defaults(
    c: &ProwConfig,
    org_repo: &str,
    cluster: &str,
) -> Option<DecorationConfig> {
    let mut merged: Option<DecorationConfig> = None;
    for e in &c.plank.default_decoration_config_entries {
        let Some(cfg) = &e.config else { continue };
        if !entry_matches(&e.org_repo, &e.cluster, org_repo, cluster) {
            continue;
        }
        merged = Some(match merged {
            None => cfg.clone(),
            Some(prev) => cfg.apply_default(&prev),
        });
    }
    merged
}

/// The merged `prowjob_defaults` for a repo and cluster.
pub fn prowjob_defaults(c: &ProwConfig, org_repo: &str, cluster: &str) -> Option<ProwJobDefault> {
    let mut merged: Option<ProwJobDefault> = None;
    for e in &c.prowjob_default_entries {
        if !entry_matches(&e.org_repo, &e.cluster, org_repo, cluster) {
            continue;
        }
        merged = ProwJobDefault::apply_default(e.config.as_ref(), merged.as_ref());
    }
    merged
}

fn default_base(c: &ProwConfig, base: &mut JobBase, org_repo: &str, decorate_all: bool) {
    if base.agent.is_empty() {
        base.agent = "kubernetes".into();
    }
    if base.namespace.as_deref().is_none_or(str::is_empty) {
        base.namespace = Some(c.pod_namespace.clone());
    }
    if base.cluster.is_empty() {
        base.cluster = prow_api::prowjob::DEFAULT_CLUSTER_ALIAS.into();
    }
    if base.utility.decorate.is_none() {
        base.utility.decorate = Some(decorate_all);
    }
    if base.decorated() {
        let def = decoration_defaults(c, org_repo, &base.cluster);
        base.utility.decoration_config = match (&base.utility.decoration_config, def) {
            (Some(job), Some(def)) => Some(job.apply_default(&def)),
            (Some(job), None) => Some(job.clone()),
            (None, def) => def,
        };
        // The entrypoint's own defaults, so every decorated job states its limits.
        let dc = base
            .utility
            .decoration_config
            .get_or_insert_with(Default::default);
        dc.timeout.get_or_insert(DECORATION_TIMEOUT);
        dc.grace_period.get_or_insert(DECORATION_GRACE_PERIOD);
    }
    let pjd = prowjob_defaults(c, org_repo, &base.cluster);
    base.prowjob_defaults =
        ProwJobDefault::apply_default(base.prowjob_defaults.as_ref(), pjd.as_ref());
}

/// Apply presets whose labels all match the job's labels (presets with no labels apply to all).
pub fn apply_presets(
    presets: &[Preset],
    labels: &BTreeMap<String, String>,
    spec: &mut PodSpec,
) -> Result<(), String> {
    for preset in presets {
        if !preset.labels.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            continue;
        }
        for env in &preset.env {
            for c in &mut spec.containers {
                let list = c.env.get_or_insert_with(Vec::new);
                if list.iter().any(|e| e.name == env.name) {
                    return Err(format!("env var duplicated in pod spec: {}", env.name));
                }
                list.push(env.clone());
            }
        }
        for vol in &preset.volumes {
            let list = spec.volumes.get_or_insert_with(Vec::new);
            if list.iter().any(|v| v.name == vol.name) {
                return Err(format!("volume duplicated in pod spec: {}", vol.name));
            }
            list.push(vol.clone());
        }
        for vm in &preset.volume_mounts {
            for c in &mut spec.containers {
                let list = c.volume_mounts.get_or_insert_with(Vec::new);
                if list.iter().any(|m| m.name == vm.name) {
                    return Err(format!("volume mount duplicated in pod spec: {}", vm.name));
                }
                list.push(vm.clone());
            }
        }
        if !preset.tolerations.is_empty() {
            spec.tolerations
                .get_or_insert_with(Vec::new)
                .extend(preset.tolerations.iter().cloned());
        }
    }
    Ok(())
}

/// Default every job in place. Errors (preset conflicts) carry the job's position.
pub fn default_jobs(
    c: &ProwConfig,
    jobs: &mut JobConfig,
    _main_file: &str,
) -> Result<(), Vec<ConfigError>> {
    let mut errors = Vec::new();
    let presets = jobs.presets.clone();
    let decorate_all = jobs.decorate_all_jobs;
    let mut preset_err = |base: &mut JobBase| {
        if let Some(spec) = &mut base.spec
            && let Err(e) = apply_presets(&presets, &base.labels, spec)
        {
            errors.push(ConfigError::at(
                &base.source,
                format!("job {}: {e}", base.name),
            ));
        }
    };
    for (repo, list) in &mut jobs.presubmits {
        for p in list {
            default_base(c, &mut p.base, repo, decorate_all);
            if p.reporter.context.is_empty() {
                p.reporter.context = p.base.name.clone();
            }
            if p.trigger.is_empty() && p.rerun_command.is_empty() {
                p.trigger = prow_commands::trigger::default_trigger_for(&p.base.name);
                p.rerun_command = prow_commands::trigger::default_rerun_command_for(&p.base.name);
            }
            preset_err(&mut p.base);
        }
    }
    for (repo, list) in &mut jobs.postsubmits {
        for p in list {
            default_base(c, &mut p.base, repo, decorate_all);
            if p.reporter.context.is_empty() {
                p.reporter.context = p.base.name.clone();
            }
            preset_err(&mut p.base);
        }
    }
    for p in &mut jobs.periodics {
        // Periodics take their repo from the first extra ref, for defaults matching.
        let repo = p
            .base
            .utility
            .extra_refs
            .first()
            .map(|r| r.org_repo())
            .unwrap_or_default();
        default_base(c, &mut p.base, &repo, decorate_all);
        preset_err(&mut p.base);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Merge a supplemental config into the main one: ordered lists are appended and per-org/repo
/// maps gain keys (a key set in both is an error, as in Prow).
pub fn merge_supplemental(into: &mut ProwConfig, sup: ProwConfig) -> Result<(), String> {
    fn merge_map<V>(
        into: &mut BTreeMap<String, V>,
        from: BTreeMap<String, V>,
        what: &str,
    ) -> Result<(), String> {
        for (k, v) in from {
            if into.contains_key(&k) {
                return Err(format!("{what}: key {k:?} is set in more than one config"));
            }
            into.insert(k, v);
        }
        Ok(())
    }
    into.plank
        .default_decoration_config_entries
        .extend(sup.plank.default_decoration_config_entries);
    into.deck
        .default_rerun_auth_configs
        .extend(sup.deck.default_rerun_auth_configs);
    into.tide.queries.extend(sup.tide.queries);
    into.prowjob_default_entries
        .extend(sup.prowjob_default_entries);
    merge_map(
        &mut into.tide.merge_method,
        sup.tide.merge_method,
        "tide.merge_method",
    )?;
    merge_map(
        &mut into.tide.merge_commit_template,
        sup.tide.merge_commit_template,
        "tide.merge_commit_template",
    )?;
    merge_map(
        &mut into.slack_reporter_configs,
        sup.slack_reporter_configs,
        "slack_reporter_configs",
    )?;
    merge_map(
        &mut into.in_repo_config.enabled,
        sup.in_repo_config.enabled,
        "in_repo_config.enabled",
    )?;
    Ok(())
}
