//! The seam between intake and plugins: [`Dispatch`] runs the in-process plugins for one event;
//! [`forward_external`] posts the raw payload to external plugins.

use std::time::Duration;

use async_trait::async_trait;
use prow_config::plugins::PluginsConfig;
use prow_github::events::Event;

use crate::eventlog::StoredEvent;

/// What one plugin did with one event (feeds `prow_plugin_handle_*` metrics).
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerOutcome {
    /// Plugin name as in plugins.yaml.
    pub plugin: String,
    /// Event type (`issue_comment`, … or `GenericCommentEvent` for synthesized comments).
    pub event_type: String,
    /// Event action (`created`, …; empty for push/status).
    pub action: String,
    /// Whether the plugin did something.
    pub took_action: bool,
    /// The error, if it failed (or panicked).
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

/// Runs in-process plugins.
#[async_trait]
pub trait Dispatch: Send + Sync + 'static {
    /// Handles one event with every plugin enabled for its repository.
    async fn dispatch(&self, event: &Event, delivery_id: &str) -> Vec<HandlerOutcome>;
    /// The `/plugin-help` document.
    fn plugin_help(&self) -> serde_json::Value;
}

/// A dispatcher with no plugins (external plugins only).
pub struct NoPlugins;

#[async_trait]
impl Dispatch for NoPlugins {
    async fn dispatch(&self, _: &Event, _: &str) -> Vec<HandlerOutcome> {
        Vec::new()
    }
    fn plugin_help(&self) -> serde_json::Value {
        serde_json::json!({"AllRepos": [], "RepoPlugins": {}, "RepoExternalPlugins": {}, "PluginHelp": {}, "ExternalPluginHelp": {}})
    }
}

/// External plugin endpoints that want `event` (enabled for its org/repo and, when the plugin
/// lists `events`, subscribed to this type).
pub fn external_targets(
    cfg: &PluginsConfig,
    event: &Event,
    event_type: &str,
) -> Vec<(String, String)> {
    let Some(full) = event.repo_full_name() else {
        return Vec::new();
    };
    let Some((org, repo)) = full.split_once('/') else {
        return Vec::new();
    };
    cfg.external_for(org, repo)
        .into_iter()
        .filter(|p| p.events.is_empty() || p.events.iter().any(|e| e == event_type))
        .map(|p| (p.name.clone(), p.endpoint()))
        .collect()
}

/// POSTs the raw payload with the original headers to each target; a few retries on failure.
/// Returns the names of plugins that could not be reached.
pub async fn forward_external(
    client: &reqwest::Client,
    targets: &[(String, String)],
    ev: &StoredEvent,
) -> Vec<String> {
    let mut failed = Vec::new();
    for (name, endpoint) in targets {
        let mut ok = false;
        for attempt in 0..3u32 {
            let mut req = client.post(endpoint).body(ev.body.clone());
            for (k, v) in &ev.headers {
                req = req.header(k, v);
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => {
                    ok = true;
                    break;
                }
                Ok(resp) => {
                    tracing::warn!(plugin = %name, status = %resp.status(), "external plugin refused event");
                    // A 4xx will not improve with retries.
                    if resp.status().is_client_error() {
                        break;
                    }
                }
                Err(e) => tracing::warn!(plugin = %name, error = %e, "external plugin unreachable"),
            }
            tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
        }
        if !ok {
            failed.push(name.clone());
        }
    }
    failed
}

/// [`Dispatch`] over the built-in plugins of `prow-plugins`.
pub struct PluginDispatch(pub prow_plugins::Dispatcher);

#[async_trait]
impl Dispatch for PluginDispatch {
    async fn dispatch(&self, event: &Event, delivery_id: &str) -> Vec<HandlerOutcome> {
        self.0
            .handle(event, delivery_id)
            .await
            .into_iter()
            .map(|o| HandlerOutcome {
                plugin: o.plugin,
                event_type: o.event_type,
                action: o.action,
                took_action: o.took_action,
                error: o.error,
                duration: o.duration,
            })
            .collect()
    }

    fn plugin_help(&self) -> serde_json::Value {
        let cfg = self.0.deps().plugins.load_full();
        // Org-wide enablement is listed by org key; expanding orgs into their repositories
        // would need a GitHub listing per request, which Prow caches and we do not yet.
        prow_plugins::help::plugin_help_json(
            &self.0.plugins(),
            &cfg,
            &Default::default(),
            &Default::default(),
        )
    }
}
