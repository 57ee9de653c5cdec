//! Prow's configuration: `config.yaml`, job configs and `plugins.yaml`, typed with Prow's field
//! names, defaulted and validated as Prow does, with errors that point at `file:line:col`.
//!
//! - [`load`] reads everything from disk; [`ConfigAgent`] keeps it live across reloads.
//! - [`select`] holds the pure job-selection rules (branches, changed files, triggers).

pub mod agent;
pub mod cron;
pub mod defaults;
pub mod error;
pub mod gotemplate;
pub mod jobs;
pub mod load;
pub mod pjutil;
pub mod plugins;
pub mod prow;
pub mod select;
mod strict;
pub mod validate;

pub use agent::{ConfigAgent, WatchHandle};
pub use error::{ConfigError, ConfigErrors};
pub use jobs::{
    Brancher, JobBase, JobConfig, Periodic, Postsubmit, Preset, Presubmit, RegexpChangeMatcher,
    Reporter, Retry, Source, UtilityConfig,
};
pub use load::{Config, LoadOptions, LoadStats, load, load_plugins, load_plugins_with_warnings};
pub use plugins::{ExternalPlugin, OrgPlugins, PluginsConfig};
pub use prow::ProwConfig;
pub use select::{Filter, filter_postsubmits, filter_presubmits};

/// Schema of the main config file (core sections plus jobs), used by `--strict`.
#[derive(schemars::JsonSchema)]
#[allow(dead_code, reason = "only its schema is used")]
struct ConfigFileSchema {
    #[serde(flatten)]
    prow: ProwConfig,
    #[serde(flatten)]
    jobs: JobConfig,
}
