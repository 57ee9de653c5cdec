//! The core `config.yaml` (Prow's `ProwConfig`), with defaults from spec §4.
//!
//! Sections the rest of the product reads are typed field by field. Sections no component of
//! ours consumes yet (gerrit, gangway, jenkins operators, pipeline, pub/sub, scheduler, managed
//! webhooks, moonraker) are accepted as opaque YAML so real configs load; `--strict` does not look
//! inside them yet.

use std::collections::BTreeMap;

use prow_api::serde_util::{is_default, nullable};
use prow_api::{DecorationConfig, Duration, ProwJobDefault, ProwJobType, RerunAuthConfig};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

type Opaque = Option<serde_json::Value>;

/// Everything in `config.yaml` except jobs.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct ProwConfig {
    /// Namespace of ProwJobs (default `default`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub prowjob_namespace: String,
    /// Namespace of job pods (default `default`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub pod_namespace: String,
    /// Log level of all components (default `info`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub log_level: String,
    /// Job controller settings.
    #[serde(default)]
    pub plank: Plank,
    /// Garbage collection.
    #[serde(default)]
    pub sinker: Sinker,
    /// Web UI.
    #[serde(default)]
    pub deck: Deck,
    /// Merge automation.
    #[serde(default)]
    pub tide: Tide,
    /// Branch protection policy (branchprotector, and Tide's `from-branch-protection`).
    #[serde(
        rename = "branch-protection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub branch_protection: Opaque,
    /// GitHub reporter.
    #[serde(default)]
    pub github_reporter: GitHubReporter,
    /// Slack reporter defaults per `*`, org or org/repo.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub slack_reporter_configs: BTreeMap<String, SlackReporter>,
    /// Periodic job creator.
    #[serde(default)]
    pub horologium: Horologium,
    /// In-repo `.prow.yaml` support.
    #[serde(default)]
    pub in_repo_config: InRepoConfig,
    /// GitHub links.
    #[serde(default)]
    pub github: GitHubOptions,
    /// Jenkins error link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub status_error_link: String,
    /// Deadline for jobs without a timeout (default 24h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_job_timeout: Option<Duration>,
    /// Per-repo webhook tokens managed by `hmac`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_webhooks: Opaque,
    /// `prowjob_defaults` entries merged by repo and cluster.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub prowjob_default_entries: Vec<ProwJobDefaultEntry>,
    /// Build clusters to ignore.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub disabled_clusters: Vec<String>,
    /// Directories skipped when loading OWNERS.
    #[serde(default)]
    pub owners_dir_denylist: OwnersDirDenylist,
    /// Prometheus push gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_gateway: Option<PushGateway>,
    /// Legacy Pub/Sub subscriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubsub_subscriptions: Opaque,
    /// Pub/Sub triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubsub_triggers: Opaque,
    /// External scheduler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Opaque,
    /// gRPC job trigger API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gangway: Opaque,
    /// In-repo config cache service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moonraker: Opaque,
    /// Gerrit adapter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gerrit: Opaque,
    /// Jenkins operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jenkins_operators: Opaque,
    /// Tekton pipeline controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Opaque,
    /// Version of the config (from a `VERSION` file).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub config_version_sha: String,
}

/// A global Slack reporter default: Prow's `SlackReporterConfig` plus the job types it reports.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct SlackReporter {
    /// Job types reported.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub job_types_to_report: Vec<ProwJobType>,
    /// Host, channel, states, template and on/off, as in per-job Slack settings.
    #[serde(flatten)]
    pub config: prow_api::SlackReporterConfig,
}

/// Job controller (plank) settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Plank {
    /// Go template for `status.url` when no URL prefix applies.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub job_url_template: String,
    /// Deprecated single report template (= `report_templates["*"]`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub report_template: String,
    /// Extra text for GitHub failure comments per `*`, org or org/repo.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub report_templates: BTreeMap<String, String>,
    /// Global limit of pending jobs (0 = unlimited).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub max_concurrency: i64,
    /// Parallel reconciles (default 20).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub max_goroutines: i64,
    /// Pending (started, not running) limit; default 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_pending_timeout: Option<Duration>,
    /// Running limit; default 48h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_running_timeout: Option<Duration>,
    /// Unscheduled limit; default 5m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_unscheduled_timeout: Option<Duration>,
    /// Pod recreations after unexpected stops; default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_revivals: Option<i64>,
    /// Legacy map form of decoration defaults (`*`, org, org/repo).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub default_decoration_configs: BTreeMap<String, DecorationConfig>,
    /// Ordered decoration defaults filtered by repo and cluster.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub default_decoration_config_entries: Vec<DefaultDecorationConfigEntry>,
    /// Job URL prefixes per `*`, org or org/repo.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub job_url_prefix_config: BTreeMap<String, String>,
    /// Omit the `gs/` / `s3/` segment in job URLs.
    #[serde(
        rename = "jobURLPrefixDisableAppendStorageProvider",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub job_url_prefix_disable_append_storage_provider: bool,
    /// Published build cluster status location.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub build_cluster_status_file: String,
    /// Named queues: 0 blocks, negative unlimited.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub job_queue_capacities: BTreeMap<String, i64>,
}

/// One ordered decoration default.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct DefaultDecorationConfigEntry {
    /// Empty/`*`, `org` or `org/repo`.
    #[serde(
        rename = "repo",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub org_repo: String,
    /// Empty/`*` or a cluster alias.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster: String,
    /// The settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<DecorationConfig>,
}

/// One ordered `prowjob_defaults` entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct ProwJobDefaultEntry {
    /// Empty/`*`, `org` or `org/repo`.
    #[serde(
        rename = "repo",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub org_repo: String,
    /// Empty/`*` or a cluster alias.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster: String,
    /// The settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ProwJobDefault>,
}

/// Garbage collection settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Sinker {
    /// Loop period; default 1h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resync_period: Option<Duration>,
    /// Completed jobs older than this are deleted; default 168h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_prowjob_age: Option<Duration>,
    /// Pods older than this are deleted; default 24h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pod_age: Option<Duration>,
    /// Pods of completed jobs are deleted after this; default = max_pod_age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_pod_ttl: Option<Duration>,
    /// Clusters sinker leaves alone.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub exclude_clusters: Vec<String>,
}

/// Deck settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Deck {
    /// Artifact viewer.
    #[serde(default)]
    pub spyglass: Spyglass,
    /// Tide data refresh; default 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tide_update_period: Option<Duration>,
    /// Repos hidden from Deck.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hidden_repos: Vec<String>,
    /// Log links for non-kubernetes agents.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub external_agent_logs: Vec<ExternalAgentLog>,
    /// Logo and colours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding: Option<Branding>,
    /// Google Analytics ID.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub google_analytics: String,
    /// Legacy rerun auth map (`*`, org, org/repo).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub rerun_auth_configs: BTreeMap<String, RerunAuthConfig>,
    /// Ordered rerun auth entries (last match wins).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub default_rerun_auth_configs: Vec<DefaultRerunAuthConfigEntry>,
    /// Skip checking that viewed paths are in known buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_storage_path_validation: Option<bool>,
    /// Extra buckets Deck may read.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional_allowed_buckets: Vec<String>,
}

/// One rerun auth entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct DefaultRerunAuthConfigEntry {
    /// Empty/`*`, `org` or `org/repo`.
    #[serde(
        rename = "repo",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub org_repo: String,
    /// Empty/`*` or a cluster alias.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster: String,
    /// The settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_auth_configs: Option<RerunAuthConfig>,
}

/// Log links for an agent.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct ExternalAgentLog {
    /// Agent name.
    #[serde(default, deserialize_with = "nullable")]
    pub agent: String,
    /// Label selector.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub selector: String,
    /// Go template for the link.
    #[serde(default, deserialize_with = "nullable")]
    pub url_template: String,
}

/// Deck branding.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Branding {
    /// Logo URL.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub logo: String,
    /// Favicon URL.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub favicon: String,
    /// Background colour.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub background_color: String,
    /// Header colour.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub header_color: String,
}

/// Spyglass (artifact viewer) settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Spyglass {
    /// Lenses and the files that activate them.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub lenses: Vec<LensFileConfig>,
    /// Legacy viewer map.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub viewers: BTreeMap<String, Vec<String>>,
    /// Max bytes a lens reads (default 100e6).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub size_limit: i64,
    /// gcsweb prefix.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub gcs_browser_prefix: String,
    /// gcsweb prefixes per `*`, org or org/repo.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub gcs_browser_prefixes: BTreeMap<String, String>,
    /// gcsweb prefixes per bucket.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub gcs_browser_prefixes_by_bucket: BTreeMap<String, String>,
    /// Go template shown above results.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub announcement: String,
    /// TestGrid config location.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub testgrid_config: String,
    /// TestGrid URL.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub testgrid_root: String,
    /// Hide the PR history link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub hide_pr_history_link: bool,
    /// PR history link template.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub pr_history_link_template: String,
    /// Bucket aliases.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub bucket_aliases: BTreeMap<String, String>,
}

/// A lens and the files that make it apply.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct LensFileConfig {
    /// Which lens.
    pub lens: LensConfig,
    /// All must match some file (regexes).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub required_files: Vec<String>,
    /// Loaded when present (regexes).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub optional_files: Vec<String>,
    /// Remote lens server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_config: Opaque,
}

/// A lens name and its free-form settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct LensConfig {
    /// Lens name (`metadata`, `buildlog`, `junit`, ...).
    pub name: String,
    /// Lens-specific settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Opaque,
}

/// Tide settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Tide {
    /// Sync loop period; default 1m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_period: Option<Duration>,
    /// Status loop period; default = sync_period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update_period: Option<Duration>,
    /// Parallelism; default 20.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub max_goroutines: i64,
    /// GitHub search queries.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub queries: Vec<TideQuery>,
    /// Merge method per org or org/repo (string, or per-branch map).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub merge_method: BTreeMap<String, serde_json::Value>,
    /// Merge commit templates per org or org/repo.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub merge_commit_template: BTreeMap<String, TideMergeCommitTemplate>,
    /// Status link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub target_url: String,
    /// Status links per `*`, org, org/repo.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub target_urls: BTreeMap<String, String>,
    /// Deprecated PR status base URL.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub pr_status_base_url: String,
    /// PR status base URLs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub pr_status_base_urls: BTreeMap<String, String>,
    /// Issues with this label block merges.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub blocker_label: String,
    /// Label requesting squash.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub squash_label: String,
    /// Label requesting rebase.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub rebase_label: String,
    /// Label requesting a merge commit.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub merge_label: String,
    /// Which contexts must pass.
    #[serde(default)]
    pub context_options: TideContextPolicyOptions,
    /// Max batch size per `*`, org, org/repo (0 unlimited, -1 no batches).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub batch_size_limit: BTreeMap<String, i64>,
    /// Keep testing an existing batch (default true).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub prioritize_existing_batches: BTreeMap<String, bool>,
    /// Merge order by labels.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub priority: Vec<TidePriority>,
    /// Show every query in the status.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub display_all_tide_queries_in_status: bool,
    /// What to do when GitHub reports the PR blocked: ignore, permit or block.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub github_merge_blocks_policy: BTreeMap<String, String>,
    /// Gerrit queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gerrit: Opaque,
}

/// A Tide query.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TideQuery {
    /// Orgs searched.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub orgs: Vec<String>,
    /// Repos searched (`org/repo`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub repos: Vec<String>,
    /// Repos excluded from the orgs.
    #[serde(
        rename = "excludedRepos",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub excluded_repos: Vec<String>,
    /// PR author.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub author: String,
    /// Required labels.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub labels: Vec<String>,
    /// Forbidden labels.
    #[serde(
        rename = "missingLabels",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub missing_labels: Vec<String>,
    /// Branches excluded.
    #[serde(
        rename = "excludedBranches",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub excluded_branches: Vec<String>,
    /// Only these branches.
    #[serde(
        rename = "includedBranches",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub included_branches: Vec<String>,
    /// Required milestone.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub milestone: String,
    /// GitHub review approval required.
    #[serde(
        rename = "reviewApprovedRequired",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub review_approved_required: bool,
}

/// Merge commit title/body templates.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TideMergeCommitTemplate {
    /// Title template.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub title: String,
    /// Body template.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub body: String,
}

/// Label-based priority.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TidePriority {
    /// Any of these labels.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: Vec<String>,
}

/// Which contexts Tide requires.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TideContextPolicy {
    /// Ignore contexts not listed.
    #[serde(
        rename = "skip-unknown-contexts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_unknown_contexts: Option<bool>,
    /// Always required.
    #[serde(
        rename = "required-contexts",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub required_contexts: Vec<String>,
    /// Required when present.
    #[serde(
        rename = "required-if-present-contexts",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub required_if_present_contexts: Vec<String>,
    /// Never required.
    #[serde(
        rename = "optional-contexts",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub optional_contexts: Vec<String>,
    /// Never required (regexes).
    #[serde(
        rename = "optional-regex-contexts",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub optional_regex_contexts: Vec<String>,
    /// Take required contexts from branch protection.
    #[serde(
        rename = "from-branch-protection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub from_branch_protection: Option<bool>,
    /// Overwrite pending per-PR contexts after a batch passes.
    #[serde(
        rename = "overwrite-pending-contexts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub overwrite_pending_contexts: Option<bool>,
}

/// Context policy for one repo, with per-branch overrides.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TideRepoContextPolicy {
    /// The policy at this level.
    #[serde(flatten)]
    pub policy: TideContextPolicy,
    /// Per-branch policies.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub branches: BTreeMap<String, TideContextPolicy>,
}

/// Context policy for one org, with per-repo overrides.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TideOrgContextPolicy {
    /// The policy at this level.
    #[serde(flatten)]
    pub policy: TideContextPolicy,
    /// Per-repo policies.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub repos: BTreeMap<String, TideRepoContextPolicy>,
}

/// Global context policy with per-org overrides.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TideContextPolicyOptions {
    /// The policy at this level.
    #[serde(flatten)]
    pub policy: TideContextPolicy,
    /// Per-org policies.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub orgs: BTreeMap<String, TideOrgContextPolicy>,
}

/// GitHub reporter settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct GitHubReporter {
    /// Job types reported (default presubmit, postsubmit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_types_to_report: Option<Vec<ProwJobType>>,
    /// Repos that get statuses but no comments.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub no_comment_repos: Vec<String>,
    /// Repos that get one summary comment.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub summary_comment_repos: Vec<String>,
}

/// Horologium settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Horologium {
    /// Loop period; default 1m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_interval: Option<Duration>,
}

/// In-repo config settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct InRepoConfig {
    /// Enabled per `*`, org, org/repo (narrowest wins).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub enabled: BTreeMap<String, bool>,
    /// Clusters in-repo jobs may use (default `"*": ["default"]`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub allowed_clusters: BTreeMap<String, Vec<String>>,
}

/// GitHub options.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct GitHubOptions {
    /// Base of human links (default `https://github.com`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub link_url: String,
}

/// Directories skipped when loading OWNERS.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct OwnersDirDenylist {
    /// Regexes for every repo.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub default: Vec<String>,
    /// Regexes per org or org/repo.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub repos: BTreeMap<String, Vec<String>>,
    /// Drop the built-in `.git`, `_output`, `vendor/.*/OWNERS`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub ignore_preconfigured_defaults: bool,
}

/// Prometheus push gateway.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct PushGateway {
    /// Gateway URL.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub endpoint: String,
    /// Push period; default 1m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Also serve /metrics.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub serve_metrics: bool,
}
