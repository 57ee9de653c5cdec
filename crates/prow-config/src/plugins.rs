//! `plugins.yaml`: which plugins run where, external plugins, and per-plugin settings.
//!
//! The enablement map and external plugins are typed because hook dispatch depends on them. The
//! per-plugin sections are kept as YAML values here; each plugin crate types its own section.

use std::collections::BTreeMap;

use prow_api::serde_util::nullable;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every built-in plugin name Prow accepts in `plugins.yaml`.
pub const KNOWN_PLUGINS: &[&str] = &[
    "approve",
    "assign",
    "blockade",
    "blunderbuss",
    "branchcleaner",
    "bugzilla",
    "buildifier",
    "cat",
    "cherry-pick-approved",
    "cherry-pick-unapproved",
    "cla",
    "config-updater",
    "dco",
    "dog",
    "golint",
    "goose",
    "heart",
    "help",
    "hold",
    "invalidcommitmsg",
    "issue-management",
    "jira",
    "label",
    "lgtm",
    "lifecycle",
    "merge-method-comment",
    "mergecommitblocker",
    "milestone",
    "milestoneapplier",
    "milestonestatus",
    "override",
    "owners-label",
    "pony",
    "project",
    "project-manager",
    "release-note",
    "require-matching-label",
    "retitle",
    "reward-owners",
    "rifle",
    "shrug",
    "sigmention",
    "size",
    "skip",
    "slackevents",
    "stage",
    "testfreeze",
    "trick-or-treat",
    "trigger",
    "verify-owners",
    "welcome",
    "wip",
    "yuks",
];

/// Plugins enabled for an org or repo.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgPlugins {
    /// Repos of the org that do not get the org's plugins.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub excluded_repos: Vec<String>,
    /// Plugin names.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub plugins: Vec<String>,
}

/// An external plugin endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExternalPlugin {
    /// Plugin name.
    pub name: String,
    /// URL; default `http://<name>`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub endpoint: String,
    /// GitHub event types forwarded; empty = all.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub events: Vec<String>,
}

impl ExternalPlugin {
    /// The endpoint with Prow's default applied.
    pub fn endpoint(&self) -> String {
        if self.endpoint.is_empty() {
            format!("http://{}", self.name)
        } else {
            self.endpoint.clone()
        }
    }
}

/// The whole `plugins.yaml`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct PluginsConfig {
    /// Enabled plugins per org or org/repo.
    #[serde(default, deserialize_with = "nullable")]
    pub plugins: BTreeMap<String, OrgPlugins>,
    /// External plugins per org or org/repo.
    #[serde(default, deserialize_with = "nullable")]
    pub external_plugins: BTreeMap<String, Vec<ExternalPlugin>>,
    /// Per-plugin sections (`triggers`, `lgtm`, `approve`, `owners`, `label`, ...).
    #[serde(flatten)]
    pub sections: BTreeMap<String, serde_json::Value>,
}

/// The per-plugin sections Prow knows.
pub const KNOWN_SECTIONS: &[&str] = &[
    "approve",
    "blockades",
    "blunderbuss",
    "branch_cleaner",
    "bugzilla",
    "cat",
    "cherry_pick_approved",
    "cherry_pick_unapproved",
    "config_updater",
    "dco",
    "golint",
    "goose",
    "heart",
    "help",
    "invalid_commit_msg",
    "jira",
    "label",
    "lgtm",
    "milestone_applier",
    "override",
    "owners",
    "project_config",
    "project_manager",
    "release_note",
    "repo_milestone",
    "require_matching_label",
    "retitle",
    "sigmention",
    "size",
    "slack",
    "triggers",
    "welcome",
];

impl PluginsConfig {
    /// Plugins enabled for `org/repo`: the org's (unless the repo is excluded) then the repo's.
    pub fn enabled_for(&self, org: &str, repo: &str) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(o) = self.plugins.get(org)
            && !o.excluded_repos.iter().any(|r| r == repo)
        {
            out.extend(o.plugins.iter().map(String::as_str));
        }
        if let Some(r) = self.plugins.get(&format!("{org}/{repo}")) {
            out.extend(r.plugins.iter().map(String::as_str));
        }
        out
    }

    /// External plugins for `org/repo` (org entries, then repo entries).
    pub fn external_for(&self, org: &str, repo: &str) -> Vec<&ExternalPlugin> {
        let mut out: Vec<&ExternalPlugin> = Vec::new();
        for key in [org.to_string(), format!("{org}/{repo}")] {
            if let Some(list) = self.external_plugins.get(&key) {
                out.extend(list.iter());
            }
        }
        out
    }

    /// Prow's plugin-config checks: unknown plugin names, plugins enabled both for an org and
    /// one of its (non-excluded) repos, duplicated external plugins, unknown sections (strict).
    pub fn validate(&self, strict: bool) -> Vec<String> {
        let mut errors = Vec::new();
        for (key, cfg) in &self.plugins {
            for p in &cfg.plugins {
                if !KNOWN_PLUGINS.contains(&p.as_str()) {
                    errors.push(format!("unknown plugin: {p} (under plugins.{key})"));
                }
            }
            if let Some((org, repo)) = key.split_once('/') {
                let org_cfg = self.plugins.get(org).cloned().unwrap_or_default();
                if !org_cfg.excluded_repos.iter().any(|r| r == repo) {
                    let dupes: Vec<&String> = cfg
                        .plugins
                        .iter()
                        .filter(|p| org_cfg.plugins.contains(p))
                        .collect();
                    if !dupes.is_empty() {
                        errors.push(format!(
                            "plugins {dupes:?} are duplicated for {repo} and {org}"
                        ));
                    }
                }
            }
        }
        for (key, list) in &self.external_plugins {
            if let Some((org, _)) = key.split_once('/') {
                let org_names: Vec<&str> = self
                    .external_plugins
                    .get(org)
                    .map(|l| l.iter().map(|p| p.name.as_str()).collect())
                    .unwrap_or_default();
                let dupes: Vec<&str> = list
                    .iter()
                    .map(|p| p.name.as_str())
                    .filter(|n| org_names.contains(n))
                    .collect();
                if !dupes.is_empty() {
                    errors.push(format!(
                        "external plugins {dupes:?} are duplicated for {key} and {org}"
                    ));
                }
            }
        }
        if strict {
            for key in self.sections.keys() {
                if !KNOWN_SECTIONS.contains(&key.as_str()) {
                    errors.push(format!("unknown field \"{key}\""));
                }
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> PluginsConfig {
        serde_saphyr::from_str(s).unwrap()
    }

    #[test]
    fn enablement_with_exclusions() {
        let c = load(
            "plugins:\n  o:\n    excluded_repos: [skip]\n    plugins: [lgtm, hold]\n  o/r:\n    plugins: [trigger]\n",
        );
        assert_eq!(c.enabled_for("o", "r"), vec!["lgtm", "hold", "trigger"]);
        assert_eq!(c.enabled_for("o", "skip"), Vec::<&str>::new());
        assert!(c.validate(true).is_empty());
    }

    #[test]
    fn validation_errors() {
        let c = load(
            "plugins:\n  o:\n    plugins: [lgtm, nope]\n  o/r:\n    plugins: [lgtm]\nexternal_plugins:\n  o:\n  - name: needs-rebase\n  o/r:\n  - name: needs-rebase\nbogus: {}\n",
        );
        let errs = c.validate(true);
        assert!(
            errs.iter().any(|e| e.contains("unknown plugin: nope")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("duplicated for r and o")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("external plugins")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("unknown field \"bogus\"")),
            "{errs:?}"
        );
        assert_eq!(
            c.external_for("o", "r")[0].endpoint(),
            "http://needs-rebase"
        );
    }
}
