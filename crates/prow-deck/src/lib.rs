//! Deck, Prow's web front end: the job list (`/`), the JSON API Prow's tools and dashboards read
//! (`/prowjobs.js`, `/badge.svg`, `/tide.js`, …), job and PR histories over the artifact bucket,
//! the Tide, command-help and plugin pages, and the rerun/abort actions.
//!
//! * [`Deck::new`] takes in-process dependencies ([`DeckDeps`]) and [`DeckOptions`];
//!   [`Deck::start`] fills the job cache and keeps it current from [`JobStore::watch`], so
//!   requests never list the store; [`Deck::router`] is the axum router (it merges the
//!   optional Spyglass router and the auth router).
//! * Login, CSRF and rerun authorization go through the [`DeckAuth`] trait, implemented for
//!   `prow_deck_auth::Auth`; Spyglass is any `axum::Router` (normally `prow_spyglass`'s).
//! * [`cli::DeckArgs`] / [`cli::run`] are the `prow deck` subcommand with Prow's flags; it
//!   builds the auth layer and Spyglass from the flags unless the caller passes them.
//! * [`bench::bench`] measures `/prowjobs.js` and the first paint of `/` over a large store.
//!
//! The pure parts (hidden-repo filtering, badge rendering, Tide minification, job-history
//! pagination, rerun decisions) live in their own modules and are tested without I/O.

pub mod auth;
pub mod badge;
pub mod bench;
pub mod cache;
pub mod cli;
pub mod filter;
pub mod history;
pub mod pages;
pub mod pluginhelp;
pub mod rerun;
mod server;
pub mod tide;
mod web;

use std::sync::Arc;

use prow_jobstore::JobStore;

pub use auth::{AuthDecision, DeckAuth};
pub use cache::JobCache;
pub use pluginhelp::{HttpPluginHelpSource, PluginHelpSource};
pub use server::Deck;
pub use tide::{HttpTideSource, TideSource};

/// The live Prow config (same shape as every component's getter).
pub type ConfigGetter = Arc<dyn Fn() -> Arc<prow_config::Config> + Send + Sync>;

/// The live `plugins.yaml` (served at `/plugin-config`).
pub type PluginsGetter = Arc<dyn Fn() -> Arc<prow_config::PluginsConfig> + Send + Sync>;

/// Opens the storage of a bucket: `(provider "gs"|"s3"|"file", bucket)`.
pub type StorageResolver =
    Arc<dyn Fn(&str, &str) -> anyhow::Result<Arc<dyn prow_storage::Storage>> + Send + Sync>;

/// Everything Deck talks to, passed in so `prow local` can hand over in-process objects.
#[derive(Clone)]
pub struct DeckDeps {
    /// Where ProwJobs live.
    pub store: Arc<dyn JobStore>,
    /// The live config.
    pub config: ConfigGetter,
    /// The live plugin config, when `--plugin-config` is given.
    pub plugins: Option<PluginsGetter>,
    /// Tide's pools and history (`--tide-url`).
    pub tide: Option<Arc<dyn TideSource>>,
    /// Hook's plugin help (`--hook-url`).
    pub plugin_help: Option<Arc<dyn PluginHelpSource>>,
    /// Artifact buckets for job and PR histories.
    pub storage: StorageResolver,
    /// Login, CSRF and rerun authorization; `None` means no OAuth (only `allow_anyone` jobs can
    /// be rerun or aborted).
    pub auth: Option<Arc<dyn DeckAuth>>,
    /// The Spyglass router (`/view/…`, `/spyglass/…`), merged as is.
    pub spyglass: Option<axum::Router>,
}

/// Deck's behaviour switches (Prow's flags).
#[derive(Clone, Debug, Default)]
pub struct DeckOptions {
    /// `--hidden-only`: show only hidden jobs/repos.
    pub hidden_only: bool,
    /// `--show-hidden`: show hidden jobs/repos along with the rest.
    pub show_hidden: bool,
    /// `--tenant-id`: show only jobs of these tenants.
    pub tenant_ids: Vec<String>,
    /// `--rerun-creates-job`: `POST /rerun` creates the job.
    pub rerun_creates_job: bool,
    /// `--allow-insecure`.
    pub allow_insecure: bool,
    /// GitHub web host for links (`--github-host`, default `github.com`).
    pub github_host: String,
    /// Whether Spyglass is enabled (`--spyglass`): job links go to `/view/…`.
    pub spyglass: bool,
    /// How many rows the first paint of `/` renders (0 = default 500).
    pub page_rows: usize,
    /// Seconds between the jobs page's refreshes (0 = default 30).
    pub refresh_secs: u64,
    /// A warning shown in every page's header (`prow local` running jobs unsandboxed, or
    /// refusing them).
    pub warning_banner: Option<String>,
}
