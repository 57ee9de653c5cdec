//! Hook's plugin help (`/plugin-help.js`, `/command-help`, `/plugins`), fetched from hook's
//! `/plugin-help` (`--hook-url`) and cached briefly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::Mutex;

/// Where the plugin help JSON comes from.
#[async_trait]
pub trait PluginHelpSource: Send + Sync {
    /// Hook's `/plugin-help` JSON (`AllRepos`, `RepoPlugins`, `PluginHelp`, …).
    async fn help(&self) -> anyhow::Result<Value>;
}

/// A [`PluginHelpSource`] over HTTP; the URL is the full `/plugin-help` address.
#[derive(Clone, Debug)]
pub struct HttpPluginHelpSource {
    url: String,
    client: reqwest::Client,
}

impl HttpPluginHelpSource {
    /// Hook's plugin help at `hook_url` (e.g. `http://hook:8888/plugin-help`).
    pub fn new(hook_url: &str) -> anyhow::Result<Self> {
        Ok(HttpPluginHelpSource {
            url: hook_url.to_owned(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
        })
    }
}

#[async_trait]
impl PluginHelpSource for HttpPluginHelpSource {
    async fn help(&self) -> anyhow::Result<Value> {
        let resp = self
            .client
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?;
        Ok(resp.json().await?)
    }
}

/// How long a fetched help document is reused (Prow's `helpAgent` caches for a minute).
pub const HELP_TTL: Duration = Duration::from_secs(60);

/// A caching wrapper.
#[derive(Clone)]
pub struct HelpCache {
    source: Arc<dyn PluginHelpSource>,
    cached: Arc<Mutex<Option<(Instant, Value)>>>,
}

impl HelpCache {
    /// Wraps `source`.
    pub fn new(source: Arc<dyn PluginHelpSource>) -> Self {
        HelpCache {
            source,
            cached: Arc::default(),
        }
    }

    /// The help, at most [`HELP_TTL`] old; on error the last answer if any.
    pub async fn help(&self) -> anyhow::Result<Value> {
        let mut c = self.cached.lock().await;
        if let Some((at, v)) = c.as_ref()
            && at.elapsed() < HELP_TTL
        {
            return Ok(v.clone());
        }
        match self.source.help().await {
            Ok(v) => {
                *c = Some((Instant::now(), v.clone()));
                Ok(v)
            }
            Err(e) => match c.as_ref() {
                Some((_, v)) => Ok(v.clone()),
                None => Err(e),
            },
        }
    }
}

/// One command row of `/command-help`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRow {
    /// Plugin providing it.
    pub plugin: String,
    /// Usage line, e.g. `/lgtm [cancel]`.
    pub usage: String,
    /// Description.
    pub description: String,
    /// Who may use it.
    pub who_can_use: String,
    /// Examples.
    pub examples: Vec<String>,
    /// Featured commands are listed first.
    pub featured: bool,
    /// Repos where the plugin is enabled.
    pub repos: Vec<String>,
}

fn s(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// The plugins enabled per plugin name (from `RepoPlugins` and `RepoExternalPlugins`).
fn repos_of(help: &Value, plugin: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["RepoPlugins", "RepoExternalPlugins"] {
        if let Some(m) = help.get(key).and_then(Value::as_object) {
            for (repo, plugins) in m {
                if plugins
                    .as_array()
                    .is_some_and(|a| a.iter().any(|p| p.as_str() == Some(plugin)))
                {
                    out.push(if repo.is_empty() {
                        "all repos".to_owned()
                    } else {
                        repo.clone()
                    });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every command of every plugin, featured first, then by usage.
pub fn commands(help: &Value) -> Vec<CommandRow> {
    let mut out = Vec::new();
    for key in ["PluginHelp", "ExternalPluginHelp"] {
        let Some(plugins) = help.get(key).and_then(Value::as_object) else {
            continue;
        };
        for (name, ph) in plugins {
            let Some(cmds) = ph.get("Commands").and_then(Value::as_array) else {
                continue;
            };
            let repos = repos_of(help, name);
            for c in cmds {
                out.push(CommandRow {
                    plugin: name.clone(),
                    usage: s(c, "Usage"),
                    description: s(c, "Description"),
                    who_can_use: s(c, "WhoCanUse"),
                    examples: c
                        .get("Examples")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|e| e.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    featured: c.get("Featured").and_then(Value::as_bool).unwrap_or(false),
                    repos: repos.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.featured
            .cmp(&a.featured)
            .then_with(|| a.usage.cmp(&b.usage))
    });
    out
}

/// One row of `/plugins`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRow {
    /// Plugin name.
    pub name: String,
    /// Whether it is an external plugin.
    pub external: bool,
    /// Description (HTML from hook is shown as text).
    pub description: String,
    /// Events it handles.
    pub events: Vec<String>,
    /// Repos where it is enabled.
    pub repos: Vec<String>,
    /// Config snippet.
    pub snippet: String,
    /// Per-repo config text.
    pub config: Vec<(String, String)>,
}

/// Every plugin with its help.
pub fn plugins(help: &Value) -> Vec<PluginRow> {
    let mut out = Vec::new();
    for (key, external) in [("PluginHelp", false), ("ExternalPluginHelp", true)] {
        let Some(plugins) = help.get(key).and_then(Value::as_object) else {
            continue;
        };
        for (name, ph) in plugins {
            out.push(PluginRow {
                name: name.clone(),
                external,
                description: s(ph, "Description"),
                events: ph
                    .get("Events")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|e| e.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                repos: repos_of(help, name),
                snippet: s(ph, "Snippet"),
                config: ph
                    .get("Config")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_are_collected_with_repos() {
        let help = json!({
            "AllRepos": ["o/r"],
            "RepoPlugins": {"o/r": ["lgtm"], "": ["help"]},
            "PluginHelp": {
                "lgtm": {"Description": "LGTM", "Commands": [
                    {"Usage": "/lgtm [cancel]", "Featured": true, "Description": "Adds lgtm",
                     "Examples": ["/lgtm"], "WhoCanUse": "Collaborators"}]},
                "help": {"Description": "help", "Commands": [
                    {"Usage": "/help", "Featured": false, "Description": "Help", "Examples": null, "WhoCanUse": "Anyone"}]}
            }
        });
        let cmds = commands(&help);
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].usage, "/lgtm [cancel]");
        assert_eq!(cmds[0].repos, ["o/r"]);
        assert_eq!(cmds[1].repos, ["all repos"]);
        let ps = plugins(&help);
        assert_eq!(
            ps.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["help", "lgtm"]
        );
    }
}
