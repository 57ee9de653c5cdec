//! Plugin help as served by hook at `GET /plugin-help` (Prow's `pluginhelp.Help`), generated from
//! the same registry that dispatches events, so help and behaviour cannot drift.
//!
//! Field names are Go's (`AllRepos`, `RepoPlugins`, …) because deck and external tools read this
//! JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use prow_config::PluginsConfig;
use serde::{Deserialize, Serialize};

use crate::Plugin;

/// One org or `org/repo` a plugin is enabled for (Prow's `config.OrgRepo`; JSON `{Org, Repo}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrgRepo {
    /// Organisation.
    #[serde(rename = "Org")]
    pub org: String,
    /// Repository; empty for a whole org.
    #[serde(rename = "Repo")]
    pub repo: String,
}

impl OrgRepo {
    /// Parses `org` or `org/repo`.
    pub fn parse(s: &str) -> OrgRepo {
        match s.split_once('/') {
            Some((o, r)) => OrgRepo {
                org: o.to_owned(),
                repo: r.to_owned(),
            },
            None => OrgRepo {
                org: s.to_owned(),
                repo: String::new(),
            },
        }
    }
}

impl fmt::Display for OrgRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.repo.is_empty() {
            f.write_str(&self.org)
        } else {
            write!(f, "{}/{}", self.org, self.repo)
        }
    }
}

/// Help for one command (Prow's `pluginhelp.Command`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Usage string, e.g. `/hold [cancel]`.
    #[serde(rename = "Usage")]
    pub usage: String,
    /// Shown prominently by deck's command help.
    #[serde(rename = "Featured")]
    pub featured: bool,
    /// What it does.
    #[serde(rename = "Description")]
    pub description: String,
    /// Example invocations.
    #[serde(rename = "Examples", default)]
    pub examples: Vec<String>,
    /// Who may use it (may contain HTML).
    #[serde(rename = "WhoCanUse")]
    pub who_can_use: String,
}

impl Command {
    /// Convenience constructor.
    pub fn new(
        usage: &str,
        description: &str,
        featured: bool,
        who_can_use: &str,
        examples: &[&str],
    ) -> Self {
        Command {
            usage: usage.to_owned(),
            featured,
            description: description.to_owned(),
            examples: examples.iter().map(|s| (*s).to_owned()).collect(),
            who_can_use: who_can_use.to_owned(),
        }
    }
}

/// Help for one plugin (Prow's `pluginhelp.PluginHelp`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginHelp {
    /// What the plugin does (may contain HTML).
    #[serde(rename = "Description")]
    pub description: String,
    /// Per `org/repo` configuration description; key `""` applies to all repos.
    #[serde(rename = "Config", default)]
    pub config: BTreeMap<String, String>,
    /// Example YAML configuration.
    #[serde(rename = "Snippet", default, skip_serializing_if = "String::is_empty")]
    pub snippet: String,
    /// Events the plugin handles (filled in by [`build_help`], not by plugins).
    #[serde(rename = "Events", default)]
    pub events: Vec<String>,
    /// Commands.
    #[serde(rename = "Commands", default)]
    pub commands: Vec<Command>,
}

impl PluginHelp {
    /// Help with just a description.
    pub fn new(description: impl Into<String>) -> Self {
        PluginHelp {
            description: description.into(),
            ..Default::default()
        }
    }

    /// Appends a command (Prow's `AddCommand`).
    pub fn add_command(&mut self, c: Command) {
        self.commands.push(c);
    }
}

/// Everything `GET /plugin-help` returns (Prow's `pluginhelp.Help`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Help {
    /// Every `org/repo` using plugins (orgs expanded through the org→repos map).
    #[serde(rename = "AllRepos")]
    pub all_repos: Vec<String>,
    /// Plugins per org or `org/repo`; key `""` lists every registered plugin.
    #[serde(rename = "RepoPlugins")]
    pub repo_plugins: BTreeMap<String, Vec<String>>,
    /// External plugins per org or `org/repo`; key `""` lists every configured one.
    #[serde(rename = "RepoExternalPlugins")]
    pub repo_external_plugins: BTreeMap<String, Vec<String>>,
    /// Help of every registered plugin.
    #[serde(rename = "PluginHelp")]
    pub plugin_help: BTreeMap<String, PluginHelp>,
    /// Help of the external plugins that answered.
    #[serde(rename = "ExternalPluginHelp")]
    pub external_plugin_help: BTreeMap<String, PluginHelp>,
}

/// Builds the `/plugin-help` document.
///
/// `org_repos` maps an org named in `plugins.yaml` to its repositories (hook learns it from
/// GitHub); orgs missing from it contribute no repos, as in Prow. `external_help` holds the
/// answers of external plugins' `/help` endpoints, already fetched by the caller; their `Events`
/// are set from `external_plugins[].events` here.
pub fn build_help(
    registry: &[Arc<dyn Plugin>],
    cfg: &PluginsConfig,
    org_repos: &BTreeMap<String, BTreeSet<String>>,
    external_help: &BTreeMap<String, PluginHelp>,
) -> Help {
    // Which repos each plugin is enabled for (Prow's reversePluginMaps).
    let mut normal: BTreeMap<&str, Vec<OrgRepo>> = BTreeMap::new();
    for (key, enabled) in &cfg.plugins {
        let repos: Vec<OrgRepo> = if key.contains('/') {
            vec![OrgRepo::parse(key)]
        } else {
            org_repos
                .get(key)
                .map(|rs| rs.iter().map(|r| OrgRepo::parse(r)).collect())
                .unwrap_or_default()
        };
        for p in &enabled.plugins {
            normal
                .entry(p.as_str())
                .or_default()
                .extend(repos.iter().cloned());
        }
    }

    let mut all_plugins = Vec::new();
    let mut plugin_help = BTreeMap::new();
    for plugin in registry {
        let name = plugin.name();
        all_plugins.push(name.to_owned());
        let enabled = normal.get(name).map(Vec::as_slice).unwrap_or_default();
        let mut help = plugin.help(cfg, enabled);
        help.events = plugin
            .event_kinds()
            .iter()
            .map(|k| k.help_name().to_owned())
            .collect();
        plugin_help.insert(name.to_owned(), help);
    }

    let mut repo_plugins = BTreeMap::from([(String::new(), all_plugins)]);
    for (key, enabled) in &cfg.plugins {
        repo_plugins.insert(key.clone(), enabled.plugins.clone());
    }

    let mut external_events: BTreeMap<&str, &[String]> = BTreeMap::new();
    let mut all_external = BTreeSet::new();
    let mut repo_external_plugins: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, exts) in &cfg.external_plugins {
        for ext in exts {
            all_external.insert(ext.name.clone());
            external_events.insert(ext.name.as_str(), &ext.events);
            repo_external_plugins
                .entry(key.clone())
                .or_default()
                .push(ext.name.clone());
        }
    }
    repo_external_plugins.insert(String::new(), all_external.into_iter().collect());

    let external_plugin_help = external_help
        .iter()
        .filter_map(|(name, help)| {
            let events = external_events.get(name.as_str())?;
            let mut help = help.clone();
            help.events = events.to_vec();
            Some((name.clone(), help))
        })
        .collect();

    let mut all_repos = BTreeSet::new();
    for key in cfg.plugins.keys().chain(cfg.external_plugins.keys()) {
        if key.contains('/') {
            all_repos.insert(key.clone());
        } else if let Some(rs) = org_repos.get(key) {
            all_repos.extend(rs.iter().cloned());
        }
    }

    Help {
        all_repos: all_repos.into_iter().collect(),
        repo_plugins,
        repo_external_plugins,
        plugin_help,
        external_plugin_help,
    }
}

/// [`build_help`] serialised as the JSON hook serves.
pub fn plugin_help_json(
    registry: &[Arc<dyn Plugin>],
    cfg: &PluginsConfig,
    org_repos: &BTreeMap<String, BTreeSet<String>>,
    external_help: &BTreeMap<String, PluginHelp>,
) -> serde_json::Value {
    serde_json::to_value(build_help(registry, cfg, org_repos, external_help))
        .unwrap_or(serde_json::Value::Null)
}
