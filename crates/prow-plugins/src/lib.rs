//! Prow's hook plugin framework and the review-workflow plugins.
//!
//! - [`event`]: the event kinds and the synthesized [`GenericCommentEvent`] (spec §1.3).
//! - [`Plugin`], [`PluginDeps`], [`PluginContext`]: the plugin contract.
//! - [`Dispatcher`]: runs every enabled plugin for a webhook concurrently, one task and tracing
//!   span per plugin, errors and panics caught per plugin, one [`PluginOutcome`] each (for the
//!   `prow_plugin_handle_*` metrics).
//! - [`help`]: `GET /plugin-help` JSON generated from the same [`registry`].
//! - [`respond`]: bot reply formats.
//! - [`plugins`]: `approve`, `assign`, `help`, `hold`, `label`, `lgtm`, `lifecycle`, `size`,
//!   `trigger`, `wip` (spec §3.6, §5).
//!
//! Each plugin keeps its decisions in pure functions (tested directly) and talks to GitHub and
//! the ProwJob store only through the [`PluginContext`].

#![warn(missing_docs)]

pub mod bot;
pub mod config;
pub mod dispatch;
pub mod event;
pub mod framework;
pub mod generated;
pub mod help;
pub mod labels;
pub mod owners;
pub mod plugins;
pub mod respond;
pub mod tracked;

use std::sync::Arc;

pub use bot::BotIdentity;
pub use dispatch::{Dispatcher, PluginOutcome};
pub use event::{CommentAction, EventKind, GenericCommentEvent};
pub use framework::{
    CommentPruner, IssueRef, Plugin, PluginContext, PluginDeps, PluginError, PluginResult,
};
pub use help::{Help, OrgRepo, PluginHelp, build_help, plugin_help_json};
pub use owners::{OwnersLoadError, OwnersLoader};
pub use respond::{
    format_ic_response, format_response, format_response_raw, format_simple_response,
};

/// Every plugin built into this crate, under its `plugins.yaml` name.
pub fn registry() -> Vec<Arc<dyn Plugin>> {
    vec![
        Arc::new(plugins::approve::ApprovePlugin),
        Arc::new(plugins::assign::AssignPlugin),
        Arc::new(plugins::help::HelpPlugin),
        Arc::new(plugins::hold::HoldPlugin),
        Arc::new(plugins::label::LabelPlugin),
        Arc::new(plugins::lgtm::LgtmPlugin),
        Arc::new(plugins::lifecycle::LifecyclePlugin),
        Arc::new(plugins::size::SizePlugin),
        Arc::new(plugins::trigger::TriggerPlugin),
        Arc::new(plugins::wip::WipPlugin),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_are_known_and_unique() {
        let names: Vec<&str> = registry().iter().map(|p| p.name()).collect();
        let mut dedup = names.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), names.len(), "{names:?}");
        for n in names {
            assert!(
                prow_config::plugins::KNOWN_PLUGINS.contains(&n),
                "{n} unknown to plugins.yaml validation"
            );
        }
    }
}
