//! Sanity checks against prow.k8s.io's real configuration (shared corpus): our typed plugin
//! sections accept the real `plugins.yaml`, and trigger's selection works on the real jobs.

use std::collections::BTreeSet;

use prow_config::{Filter, LoadOptions, filter_presubmits};
use prow_plugins::config::{
    approve_for, label, lgtm_for, owners, size, trigger_for, validate_sections,
};
use prow_plugins::plugins::trigger::{available_presubmits, help_message};

use crate::world::corpus;

#[test]
fn real_plugins_yaml_sections_decode() {
    let path = corpus("kubernetes-test-infra/config/prow/plugins.yaml");
    let cfg = prow_config::load_plugins(&path, false)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(validate_sections(&cfg), Vec::<String>::new());

    let t = trigger_for(&cfg, "kubernetes", "kubernetes").expect("triggers");
    assert!(!t.join_org_url.is_empty(), "kubernetes has a join_org_url");
    assert!(lgtm_for(&cfg, "kubernetes", "kubernetes").is_ok());
    let a = approve_for(&cfg, "kubernetes", "kubernetes").expect("approve");
    assert!(!a.command_help_link.is_empty());
    assert!(!owners(&cfg).expect("owners").mdyamlrepos.is_empty());
    assert!(!label(&cfg).expect("label").additional_labels.is_empty());
    let s = size(&cfg).expect("size");
    assert!(s.s < s.m && s.m < s.l && s.l < s.xl && s.xl < s.xxl);

    // Every plugin we implement is enabled somewhere in the real config.
    let enabled: BTreeSet<&str> = cfg
        .plugins
        .values()
        .flat_map(|p| p.plugins.iter().map(String::as_str))
        .collect();
    for p in prow_plugins::registry() {
        assert!(
            enabled.contains(p.name()),
            "{} not used by prow.k8s.io?",
            p.name()
        );
    }
}

#[test]
fn trigger_selection_on_real_jobs() {
    let root = corpus("kubernetes-test-infra/config");
    let cfg = prow_config::load(&LoadOptions {
        config_path: root.join("prow/config.yaml"),
        job_config_path: Some(root.join("jobs")),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("real config loads: {e}"));
    let presubmits = cfg.jobs.presubmits_for("kubernetes/test-infra");
    assert!(presubmits.len() > 10, "{}", presubmits.len());

    // `/test <job>` selects exactly that job when it runs on the branch.
    let target = presubmits
        .iter()
        .find(|p| p.could_run("master") && !p.changes.could_run())
        .expect("an unconditional test-infra job");
    let body = format!("/test {}", target.base.name);
    let mut no_ctx = || Ok::<_, std::convert::Infallible>((BTreeSet::new(), BTreeSet::new()));
    let filter = Filter::for_comment(true, &body, &mut no_ctx).expect("filter");
    let changes = vec!["config/jobs/kubernetes/test-infra/test-infra-presubmits.yaml".to_owned()];
    let mut provider = || Ok::<_, std::convert::Infallible>(changes.clone());
    let picked: Vec<&str> = filter_presubmits(&filter, &mut provider, "master", presubmits)
        .expect("selection")
        .iter()
        .map(|p| p.base.name.as_str())
        .collect();
    assert!(picked.contains(&target.base.name.as_str()), "{picked:?}");
    assert!(picked.iter().all(|n| *n == target.base.name), "{picked:?}");

    // `/test ?` lists real rerun commands, required first.
    let (test_all, optional, required) = available_presubmits(&changes, "master", presubmits);
    assert!(!test_all.is_empty() && !required.is_empty());
    let msg = help_message(
        "kubernetes",
        "test-infra",
        "master",
        "",
        &test_all,
        &optional,
        &required,
    );
    assert!(
        msg.starts_with(
            "The following commands are available to trigger required jobs:\n```\n/test "
        ),
        "{msg}"
    );
    assert!(msg.contains(&format!("```\n{}\n```", target.rerun_command)) || !target.always_run);
}
