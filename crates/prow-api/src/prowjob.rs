//! The ProwJob custom resource (`prow.k8s.io/v1`).
//!
//! Field names, `omitempty` behaviour and enum spellings follow Prow's Go types exactly, because
//! Deck front ends, TestGrid, crier and users' scripts read these objects.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decoration::DecorationConfig;
use crate::serde_util::{is_default, nullable, rfc3339};

/// API group of the ProwJob CRD.
pub const GROUP: &str = "prow.k8s.io";
/// API version of the ProwJob CRD.
pub const VERSION: &str = "v1";
/// `apiVersion` value of every ProwJob.
pub const API_VERSION: &str = "prow.k8s.io/v1";
/// Kind of the ProwJob CRD.
pub const KIND: &str = "ProwJob";
/// Plural resource name.
pub const PLURAL: &str = "prowjobs";
/// Cluster alias used when a job names none.
pub const DEFAULT_CLUSTER_ALIAS: &str = "default";

/// How a job is triggered.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProwJobType {
    /// Runs on unmerged PRs.
    Presubmit,
    /// Runs on each push to a branch.
    Postsubmit,
    /// Runs on a schedule.
    Periodic,
    /// Tests several PRs merged together (Tide).
    Batch,
}

impl ProwJobType {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProwJobType::Presubmit => "presubmit",
            ProwJobType::Postsubmit => "postsubmit",
            ProwJobType::Periodic => "periodic",
            ProwJobType::Batch => "batch",
        }
    }
}

impl fmt::Display for ProwJobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The controller that runs a job.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum ProwJobAgent {
    /// A pod in a build cluster (plank); the default.
    #[default]
    #[serde(rename = "kubernetes")]
    Kubernetes,
    /// Jenkins (jenkins-operator).
    #[serde(rename = "jenkins")]
    Jenkins,
    /// A Tekton PipelineRun.
    #[serde(rename = "tekton-pipeline")]
    TektonPipeline,
}

impl ProwJobAgent {
    /// The wire spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProwJobAgent::Kubernetes => "kubernetes",
            ProwJobAgent::Jenkins => "jenkins",
            ProwJobAgent::TektonPipeline => "tekton-pipeline",
        }
    }
}

/// Where a job is in its life.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
pub enum ProwJobState {
    /// Not set yet (Go's zero value, omitted on the wire).
    #[default]
    #[serde(rename = "")]
    Unset,
    /// Waiting for the scheduler to pick a cluster.
    #[serde(rename = "scheduling")]
    Scheduling,
    /// Created, not running yet.
    #[serde(rename = "triggered")]
    Triggered,
    /// Running.
    #[serde(rename = "pending")]
    Pending,
    /// Finished with exit 0.
    #[serde(rename = "success")]
    Success,
    /// Finished with a non-zero exit.
    #[serde(rename = "failure")]
    Failure,
    /// Stopped early (new push, abort, timeout).
    #[serde(rename = "aborted")]
    Aborted,
    /// Could not run (bad config, pod trouble).
    #[serde(rename = "error")]
    Error,
}

impl ProwJobState {
    /// Every state a job can be reported in, in Prow's order.
    pub const ALL: [ProwJobState; 6] = [
        ProwJobState::Triggered,
        ProwJobState::Pending,
        ProwJobState::Success,
        ProwJobState::Failure,
        ProwJobState::Aborted,
        ProwJobState::Error,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProwJobState::Unset => "",
            ProwJobState::Scheduling => "scheduling",
            ProwJobState::Triggered => "triggered",
            ProwJobState::Pending => "pending",
            ProwJobState::Success => "success",
            ProwJobState::Failure => "failure",
            ProwJobState::Aborted => "aborted",
            ProwJobState::Error => "error",
        }
    }

    /// Success, failure, aborted or error.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ProwJobState::Success
                | ProwJobState::Failure
                | ProwJobState::Aborted
                | ProwJobState::Error
        )
    }

    /// Parse the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" => ProwJobState::Unset,
            "scheduling" => ProwJobState::Scheduling,
            "triggered" => ProwJobState::Triggered,
            "pending" => ProwJobState::Pending,
            "success" => ProwJobState::Success,
            "failure" => ProwJobState::Failure,
            "aborted" => ProwJobState::Aborted,
            "error" => ProwJobState::Error,
            _ => return None,
        })
    }
}

impl fmt::Display for ProwJobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ProwJob object: Kubernetes metadata plus Prow's spec and status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProwJob {
    /// Always `prow.k8s.io/v1`.
    #[serde(rename = "apiVersion", default = "default_api_version")]
    pub api_version: String,
    /// Always `ProwJob`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Name (a UUID), namespace, labels, annotations.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What to run.
    #[serde(default)]
    pub spec: ProwJobSpec,
    /// What happened.
    #[serde(default)]
    pub status: ProwJobStatus,
}

fn default_api_version() -> String {
    API_VERSION.to_string()
}

fn default_kind() -> String {
    KIND.to_string()
}

impl ProwJob {
    /// A ProwJob with the right `apiVersion`/`kind`.
    pub fn new(metadata: ObjectMeta, spec: ProwJobSpec, status: ProwJobStatus) -> Self {
        ProwJob {
            api_version: default_api_version(),
            kind: default_kind(),
            metadata,
            spec,
            status,
        }
    }

    /// `metadata.name`, or empty.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }

    /// True once `completionTime` is set (Prow's `Complete()`).
    pub fn complete(&self) -> bool {
        self.status.completion_time.is_some()
    }

    /// A label value, if present.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata.labels.as_ref()?.get(key).map(String::as_str)
    }
}

/// Everything needed to run a job.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProwJobSpec {
    /// presubmit, postsubmit, periodic or batch.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub job_type: Option<ProwJobType>,
    /// The controller that runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<ProwJobAgent>,
    /// Build cluster alias.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster: String,
    /// Namespace of the pod.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
    /// Job name.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub job: String,
    /// Code under test (absent for periodics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refs: Option<Refs>,
    /// More repositories to clone.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extra_refs: Vec<Refs>,
    /// Whether reporters report this job.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub report: bool,
    /// GitHub status context.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub context: String,
    /// Comment that re-runs the job, e.g. `/test foo`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub rerun_command: String,
    /// Max simultaneous pending runs of this job name (0 = unlimited).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub max_concurrency: u32,
    /// Evicted pod ends the job in `error` instead of being recreated.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub error_on_eviction: bool,
    /// The pod to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_spec: Option<PodSpec>,
    /// Jenkins options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jenkins_spec: Option<JenkinsSpec>,
    /// Tekton PipelineRun spec, kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_run_spec: Option<serde_json::Value>,
    /// Tekton PipelineRun spec by API version, kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tekton_pipeline_run_spec: Option<serde_json::Value>,
    /// Pod utilities settings; present means decorated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoration_config: Option<DecorationConfig>,
    /// Per-job reporter overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_config: Option<ReporterConfig>,
    /// Who may rerun it from Deck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_auth_config: Option<RerunAuthConfig>,
    /// Hidden from Deck unless asked for.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub hidden: bool,
    /// Tenant and ResultStore defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prowjob_defaults: Option<ProwJobDefault>,
    /// Queue in `plank.job_queue_capacities`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub job_queue_name: String,
}

/// Jenkins-only options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JenkinsSpec {
    /// Job generated by the GitHub branch source plugin.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub github_branch_source_job: bool,
}

/// Per-job reporter settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReporterConfig {
    /// Slack override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackReporterConfig>,
}

/// Slack reporting for one job (or a global default).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SlackReporterConfig {
    /// Slack host; `*` by default.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub host: String,
    /// Channel name.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub channel: String,
    /// States that produce a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_states_to_report: Option<Vec<ProwJobState>>,
    /// Go template over the ProwJob.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub report_template: String,
    /// Explicit on/off; an empty `job_states_to_report` means off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<bool>,
}

/// A GitHub team named by org and slug.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitHubTeamSlug {
    /// Team slug.
    pub slug: String,
    /// Team's org.
    pub org: String,
}

/// Who may rerun a job from Deck.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RerunAuthConfig {
    /// Anyone may rerun.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub allow_anyone: bool,
    /// Members of these team IDs (in the job's org).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub github_team_ids: Vec<i64>,
    /// Members of these teams.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub github_team_slugs: Vec<GitHubTeamSlug>,
    /// These logins.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub github_users: Vec<String>,
    /// Members of these orgs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub github_orgs: Vec<String>,
}

impl RerunAuthConfig {
    /// Prow rejects `allow_anyone` together with an allow list.
    pub fn validate(&self) -> Result<(), String> {
        let has_list = !self.github_users.is_empty()
            || !self.github_team_ids.is_empty()
            || !self.github_team_slugs.is_empty()
            || !self.github_orgs.is_empty();
        if self.allow_anyone && has_list {
            return Err(
                "allow anyone is set to true and permitted users or groups are specified".into(),
            );
        }
        Ok(())
    }
}

/// Defaults for ProwJob fields set from `prowjob_default_entries`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProwJobDefault {
    /// ResultStore upload settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resultstore_config: Option<ResultStoreConfig>,
    /// Tenant for Deck isolation.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub tenant_id: String,
}

impl ProwJobDefault {
    /// Fill unset fields from `def` (Prow's `ApplyDefault`).
    pub fn apply_default(this: Option<&Self>, def: Option<&Self>) -> Option<Self> {
        match (this, def) {
            (None, None) => None,
            (Some(t), None) => Some(t.clone()),
            (None, Some(d)) => Some(d.clone()),
            (Some(t), Some(d)) => {
                let mut merged = t.clone();
                if merged.resultstore_config.is_none() {
                    merged.resultstore_config = d.resultstore_config.clone();
                }
                if merged.tenant_id.is_empty() {
                    merged.tenant_id = d.tenant_id.clone();
                }
                Some(merged)
            }
        }
    }
}

/// ResultStore project.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResultStoreConfig {
    /// GCP project ID.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub project_id: String,
}

/// Runtime state of a job.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProwJobStatus {
    /// When the job was created.
    #[serde(
        rename = "startTime",
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub start_time: Option<DateTime<Utc>>,
    /// When it went from triggered to pending.
    #[serde(
        rename = "pendingTime",
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub pending_time: Option<DateTime<Utc>>,
    /// When it reached a final state.
    #[serde(
        rename = "completionTime",
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub completion_time: Option<DateTime<Utc>>,
    /// Current state.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub state: ProwJobState,
    /// Human-readable explanation.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    /// Link to the job's logs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub url: String,
    /// Pod recreations after eviction or node loss.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub pod_revival_count: u32,
    /// Name of the pod (equals the ProwJob name).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub pod_name: String,
    /// Build number from tot or a snowflake ID.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub build_id: String,
    /// Jenkins build ID.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub jenkins_build_id: String,
    /// Last state each reporter reported.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub prev_report_states: BTreeMap<String, ProwJobState>,
}

/// A pull request under test.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Pull {
    /// PR number.
    pub number: u64,
    /// Author's login.
    #[serde(default, deserialize_with = "nullable")]
    pub author: String,
    /// Head commit.
    #[serde(default, deserialize_with = "nullable")]
    pub sha: String,
    /// PR title.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub title: String,
    /// Git ref to fetch instead of `pull/N/head`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Head branch name.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub head_ref: String,
    /// PR web link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub link: String,
    /// Head commit web link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub commit_link: String,
    /// Author profile link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub author_link: String,
}

/// The code a job checks out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Refs {
    /// Org (owner).
    #[serde(default, deserialize_with = "nullable")]
    pub org: String,
    /// Repository.
    #[serde(default, deserialize_with = "nullable")]
    pub repo: String,
    /// Repository web link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub repo_link: String,
    /// Base branch.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub base_ref: String,
    /// Base commit.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub base_sha: String,
    /// Base commit/compare web link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub base_link: String,
    /// PRs merged on top of the base.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub pulls: Vec<Pull>,
    /// Clone into `<root>/src/<path_alias>` instead of `github.com/org/repo`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub path_alias: String,
    /// Use this repo as the working directory.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub workdir: bool,
    /// Not the main repo (for started.json `repo-version`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub auxiliary: bool,
    /// Clone URL override.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub clone_uri: String,
    /// Skip `git submodule update`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub skip_submodules: bool,
    /// Shallow clone depth (0 = full).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub clone_depth: u32,
    /// Skip fetching `FETCH_HEAD` of the base.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub skip_fetch_head: bool,
    /// `--filter=blob:none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobless_fetch: Option<bool>,
    /// Sparse checkout paths.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sparse_checkout_files: Vec<String>,
}

impl Refs {
    /// `org/repo` (or just `org` when no repo).
    pub fn org_repo(&self) -> String {
        if self.repo.is_empty() {
            self.org.clone()
        } else {
            format!("{}/{}", self.org, self.repo)
        }
    }
}

impl fmt::Display for Refs {
    /// Prow's `Refs.String()`, used for `PULL_REFS` and started.json `repos`:
    /// `<base_ref>:<base_sha>,<num>:<sha>[:<ref>],...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_ref)?;
        if !self.base_sha.is_empty() {
            write!(f, ":{}", self.base_sha)?;
        }
        for pull in &self.pulls {
            write!(f, ",{}:{}", pull.number, pull.sha)?;
            if !pull.git_ref.is_empty() {
                write!(f, ":{}", pull.git_ref)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pull(number: u64, sha: &str) -> Pull {
        Pull {
            number,
            sha: sha.into(),
            ..Default::default()
        }
    }

    #[test]
    fn refs_string_forms() {
        let mut r = Refs {
            org: "o".into(),
            repo: "r".into(),
            base_ref: "master".into(),
            ..Default::default()
        };
        assert_eq!(r.to_string(), "master");
        r.base_sha = "123abc".into();
        assert_eq!(r.to_string(), "master:123abc");
        r.pulls.push(pull(5, "qwe456"));
        assert_eq!(r.to_string(), "master:123abc,5:qwe456");
        let mut p = pull(7, "fff");
        p.git_ref = "pull/7/head".into();
        r.pulls.push(p);
        assert_eq!(r.to_string(), "master:123abc,5:qwe456,7:fff:pull/7/head");
        assert_eq!(r.org_repo(), "o/r");
    }

    #[test]
    fn omitempty_on_the_wire() {
        let pj = ProwJob::new(
            ObjectMeta {
                name: Some("abc".into()),
                ..Default::default()
            },
            ProwJobSpec {
                job_type: Some(ProwJobType::Periodic),
                job: "ci-foo".into(),
                ..Default::default()
            },
            ProwJobStatus {
                state: ProwJobState::Triggered,
                start_time: Some(DateTime::from_timestamp(1_700_000_000, 123).unwrap()),
                ..Default::default()
            },
        );
        let v = serde_json::to_value(&pj).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "apiVersion": "prow.k8s.io/v1",
                "kind": "ProwJob",
                "metadata": {"name": "abc"},
                "spec": {"type": "periodic", "job": "ci-foo"},
                "status": {"startTime": "2023-11-14T22:13:20Z", "state": "triggered"}
            })
        );
        let back: ProwJob = serde_json::from_value(v).unwrap();
        assert_eq!(back.status.state, ProwJobState::Triggered);
        assert_eq!(back.status.start_time.unwrap().timestamp(), 1_700_000_000);
    }

    #[test]
    fn state_spellings() {
        for s in ProwJobState::ALL {
            assert_eq!(ProwJobState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert!(ProwJobState::Aborted.is_final());
        assert!(!ProwJobState::Pending.is_final());
    }
}
