//! Job configuration: presubmits, postsubmits, periodics and presets (`pkg/config/jobs.go`).
//!
//! Prow's Go structs embed `JobBase`, `UtilityConfig`, `Brancher`, `RegexpChangeMatcher` and
//! `Reporter` inline. We keep that nesting in the public types but deserialize through flat
//! structs instead of `#[serde(flatten)]`: flatten buffers values before the target type is known,
//! which would lose Go's lenient scalar handling (`cpu: 2` or `value: 1` into a string field) that
//! real configs rely on, and would hide unknown fields from `--strict`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{EnvVar, PodSpec, Toleration, Volume, VolumeMount};
use prow_api::serde_util::{is_default, nullable};
use prow_api::{
    DecorationConfig, JenkinsSpec, ProwJobAgent, ProwJobDefault, Refs, ReporterConfig,
    RerunAuthConfig,
};
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where something was defined: file and 1-based line/column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Source {
    /// File path as given to the loader.
    pub file: Arc<str>,
    /// 1-based line (0 = unknown).
    pub line: u64,
    /// 1-based column (0 = unknown).
    pub col: u64,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.col)
        }
    }
}

/// Labels-selected additions to jobs' pod specs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Preset {
    /// Applies to jobs carrying all these labels (none: all jobs).
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// Env vars added to every container.
    #[serde(default, deserialize_with = "nullable")]
    pub env: Vec<EnvVar>,
    /// Volumes added to the pod.
    #[serde(default, deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    /// Mounts added to every container.
    #[serde(rename = "volumeMounts", default, deserialize_with = "nullable")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Tolerations added to the pod.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tolerations: Vec<Toleration>,
}

/// Clone and decoration settings shared by all job kinds (Prow's `UtilityConfig`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UtilityConfig {
    /// Use the pod utilities; unset means `decorate_all_jobs`.
    pub decorate: Option<bool>,
    /// Clone under `<root>/src/<path_alias>`.
    pub path_alias: String,
    /// Clone URL override.
    pub clone_uri: String,
    /// Skip submodules.
    pub skip_submodules: bool,
    /// Shallow clone depth.
    pub clone_depth: u32,
    /// Skip fetching FETCH_HEAD.
    pub skip_fetch_head: bool,
    /// More repositories to clone.
    pub extra_refs: Vec<Refs>,
    /// Pod-utility settings (merged with defaults during defaulting).
    pub decoration_config: Option<DecorationConfig>,
}

/// Fields every job kind has (Prow's `JobBase`).
#[derive(Clone, Debug, Default)]
pub struct JobBase {
    /// Job name.
    pub name: String,
    /// Labels copied onto ProwJobs and pods; they also select presets.
    pub labels: BTreeMap<String, String>,
    /// Annotations copied onto ProwJobs and pods.
    pub annotations: BTreeMap<String, String>,
    /// Max simultaneous pending runs (0 = unlimited). Signed so that a negative value in the
    /// YAML reaches validation and gets Prow's message instead of a type error.
    pub max_concurrency: i64,
    /// Controller; defaults to `kubernetes`.
    pub agent: String,
    /// Build cluster alias; defaults to `default`.
    pub cluster: String,
    /// Pod namespace; defaults to `pod_namespace`.
    pub namespace: Option<String>,
    /// Evicted pod ends the job in `error`.
    pub error_on_eviction: bool,
    /// The pod to run.
    pub spec: Option<PodSpec>,
    /// Tekton spec (opaque).
    pub pipeline_run_spec: Option<serde_json::Value>,
    /// Tekton spec by version (opaque).
    pub tekton_pipeline_run_spec: Option<serde_json::Value>,
    /// Per-job reporter settings.
    pub reporter_config: Option<ReporterConfig>,
    /// Who may rerun from Deck.
    pub rerun_auth_config: Option<RerunAuthConfig>,
    /// Hidden from Deck.
    pub hidden: bool,
    /// Tenant / ResultStore defaults.
    pub prowjob_defaults: Option<ProwJobDefault>,
    /// Queue in `plank.job_queue_capacities`.
    pub job_queue_name: String,
    /// Clone/decoration settings.
    pub utility: UtilityConfig,
    /// Where the job was defined (not part of the YAML).
    pub source: Source,
}

impl JobBase {
    /// The agent as an enum, if it is one Prow knows.
    pub fn agent_kind(&self) -> Option<ProwJobAgent> {
        match self.agent.as_str() {
            "kubernetes" | "" => Some(ProwJobAgent::Kubernetes),
            "jenkins" => Some(ProwJobAgent::Jenkins),
            "tekton-pipeline" => Some(ProwJobAgent::TektonPipeline),
            _ => None,
        }
    }

    /// Whether the pod utilities wrap this job (after defaulting).
    pub fn decorated(&self) -> bool {
        self.utility.decorate.unwrap_or(false)
    }
}

/// Branch filters (Prow's `Brancher`). Regexes are unanchored and joined with `|`.
#[derive(Clone, Debug, Default)]
pub struct Brancher {
    /// Do not run on branches matching these.
    pub skip_branches: Vec<String>,
    /// Only run on branches matching these.
    pub branches: Vec<String>,
    pub(crate) re: Option<Regex>,
    pub(crate) re_skip: Option<Regex>,
}

/// Changed-file filters (Prow's `RegexpChangeMatcher`).
#[derive(Clone, Debug, Default)]
pub struct RegexpChangeMatcher {
    /// Run if any changed path matches.
    pub run_if_changed: String,
    /// Run if any changed path does not match.
    pub skip_if_only_changed: String,
    pub(crate) re_changes: Option<Regex>,
}

/// Reporting settings (Prow's `Reporter`).
#[derive(Clone, Debug, Default)]
pub struct Reporter {
    /// GitHub status context; defaults to the job name.
    pub context: String,
    /// Do not report to GitHub.
    pub skip_report: bool,
}

/// A job run on pull requests.
#[derive(Clone, Debug, Default)]
pub struct Presubmit {
    /// Common fields.
    pub base: JobBase,
    /// Run for every PR.
    pub always_run: bool,
    /// Not required for merge.
    pub optional: bool,
    /// Comment regex that triggers the job.
    pub trigger: String,
    /// Comment that reruns the job.
    pub rerun_command: String,
    /// Tide runs it before merging even when not triggered.
    pub run_before_merge: bool,
    /// Branch filters.
    pub brancher: Brancher,
    /// Changed-file filters.
    pub changes: RegexpChangeMatcher,
    /// Reporting.
    pub reporter: Reporter,
    /// Jenkins options.
    pub jenkins_spec: Option<JenkinsSpec>,
    pub(crate) re_trigger: Option<Regex>,
}

/// A job run on pushes.
#[derive(Clone, Debug, Default)]
pub struct Postsubmit {
    /// Common fields.
    pub base: JobBase,
    /// Explicit always_run; unset behaves as true when no change filter is set.
    pub always_run: Option<bool>,
    /// Branch filters.
    pub brancher: Brancher,
    /// Changed-file filters.
    pub changes: RegexpChangeMatcher,
    /// Reporting.
    pub reporter: Reporter,
    /// Jenkins options.
    pub jenkins_spec: Option<JenkinsSpec>,
}

/// Re-creation of failed periodic runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Retry {
    /// Re-run even successful runs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub run_all: bool,
    /// Number of attempts.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub attempts: i64,
    /// Wait between attempts (Go duration).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub interval: String,
}

/// A job run on a schedule.
#[derive(Clone, Debug, Default)]
pub struct Periodic {
    /// Common fields.
    pub base: JobBase,
    /// Run this long after the previous run started (Go duration).
    pub interval: String,
    /// Run this long after the previous run finished.
    pub minimum_interval: String,
    /// 5-field cron in UTC.
    pub cron: String,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Retries of failed runs.
    pub retry: Option<Retry>,
    /// Parsed `interval` or `minimum_interval`, set by validation.
    pub interval_duration: Option<prow_api::Duration>,
}

/// Declares the flat wire form of a job: JobBase + UtilityConfig fields followed by `$extra`.
macro_rules! flat_job {
    ($(#[$meta:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
        #[doc(hidden)]
        pub struct $name {
            pub name: String,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "BTreeMap::is_empty")]
            pub labels: BTreeMap<String, String>,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "BTreeMap::is_empty")]
            pub annotations: BTreeMap<String, String>,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
            pub max_concurrency: i64,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
            pub agent: String,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
            pub cluster: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub namespace: Option<String>,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
            pub error_on_eviction: bool,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub spec: Option<PodSpec>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub pipeline_run_spec: Option<serde_json::Value>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub tekton_pipeline_run_spec: Option<serde_json::Value>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub reporter_config: Option<ReporterConfig>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub rerun_auth_config: Option<RerunAuthConfig>,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
            pub hidden: bool,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub prowjob_defaults: Option<ProwJobDefault>,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
            pub job_queue_name: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub decorate: Option<bool>,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
            pub path_alias: String,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
            pub clone_uri: String,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
            pub skip_submodules: bool,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
            pub clone_depth: u32,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
            pub skip_fetch_head: bool,
            #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
            pub extra_refs: Vec<Refs>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub decoration_config: Option<DecorationConfig>,
            $($extra)*
        }
    };
}

flat_job!(PresubmitWire {
    #[serde(default, deserialize_with = "nullable")]
    pub always_run: bool,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
    pub optional: bool,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub trigger: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub rerun_command: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
    pub run_before_merge: bool,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub skip_branches: Vec<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub run_if_changed: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub skip_if_only_changed: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub context: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
    pub skip_report: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jenkins_spec: Option<JenkinsSpec>,
});

flat_job!(PostsubmitWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_run: Option<bool>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub skip_branches: Vec<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub run_if_changed: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub skip_if_only_changed: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub context: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_default")]
    pub skip_report: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jenkins_spec: Option<JenkinsSpec>,
});

flat_job!(PeriodicWire {
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub interval: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub minimum_interval: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub cron: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
});

/// Moves the shared fields of a wire struct into a `JobBase`.
macro_rules! base_from_wire {
    ($w:expr) => {
        JobBase {
            name: $w.name,
            labels: $w.labels,
            annotations: $w.annotations,
            max_concurrency: $w.max_concurrency,
            agent: $w.agent,
            cluster: $w.cluster,
            namespace: $w.namespace,
            error_on_eviction: $w.error_on_eviction,
            spec: $w.spec,
            pipeline_run_spec: $w.pipeline_run_spec,
            tekton_pipeline_run_spec: $w.tekton_pipeline_run_spec,
            reporter_config: $w.reporter_config,
            rerun_auth_config: $w.rerun_auth_config,
            hidden: $w.hidden,
            prowjob_defaults: $w.prowjob_defaults,
            job_queue_name: $w.job_queue_name,
            utility: UtilityConfig {
                decorate: $w.decorate,
                path_alias: $w.path_alias,
                clone_uri: $w.clone_uri,
                skip_submodules: $w.skip_submodules,
                clone_depth: $w.clone_depth,
                skip_fetch_head: $w.skip_fetch_head,
                extra_refs: $w.extra_refs,
                decoration_config: $w.decoration_config,
            },
            source: Source::default(),
        }
    };
}

/// Builds a wire struct from a `JobBase` plus the kind-specific fields.
macro_rules! wire_from_base {
    ($ty:ident, $b:expr, { $($field:ident : $value:expr),* $(,)? }) => {{
        let b = $b;
        $ty {
            name: b.name,
            labels: b.labels,
            annotations: b.annotations,
            max_concurrency: b.max_concurrency,
            agent: b.agent,
            cluster: b.cluster,
            namespace: b.namespace,
            error_on_eviction: b.error_on_eviction,
            spec: b.spec,
            pipeline_run_spec: b.pipeline_run_spec,
            tekton_pipeline_run_spec: b.tekton_pipeline_run_spec,
            reporter_config: b.reporter_config,
            rerun_auth_config: b.rerun_auth_config,
            hidden: b.hidden,
            prowjob_defaults: b.prowjob_defaults,
            job_queue_name: b.job_queue_name,
            decorate: b.utility.decorate,
            path_alias: b.utility.path_alias,
            clone_uri: b.utility.clone_uri,
            skip_submodules: b.utility.skip_submodules,
            clone_depth: b.utility.clone_depth,
            skip_fetch_head: b.utility.skip_fetch_head,
            extra_refs: b.utility.extra_refs,
            decoration_config: b.utility.decoration_config,
            $($field: $value),*
        }
    }};
}

impl From<PresubmitWire> for Presubmit {
    fn from(w: PresubmitWire) -> Self {
        Presubmit {
            always_run: w.always_run,
            optional: w.optional,
            trigger: w.trigger.clone(),
            rerun_command: w.rerun_command.clone(),
            run_before_merge: w.run_before_merge,
            brancher: Brancher {
                skip_branches: w.skip_branches.clone(),
                branches: w.branches.clone(),
                ..Default::default()
            },
            changes: RegexpChangeMatcher {
                run_if_changed: w.run_if_changed.clone(),
                skip_if_only_changed: w.skip_if_only_changed.clone(),
                re_changes: None,
            },
            reporter: Reporter {
                context: w.context.clone(),
                skip_report: w.skip_report,
            },
            jenkins_spec: w.jenkins_spec.clone(),
            re_trigger: None,
            base: base_from_wire!(w),
        }
    }
}

impl From<Presubmit> for PresubmitWire {
    fn from(p: Presubmit) -> Self {
        wire_from_base!(PresubmitWire, p.base, {
            always_run: p.always_run,
            optional: p.optional,
            trigger: p.trigger,
            rerun_command: p.rerun_command,
            run_before_merge: p.run_before_merge,
            skip_branches: p.brancher.skip_branches,
            branches: p.brancher.branches,
            run_if_changed: p.changes.run_if_changed,
            skip_if_only_changed: p.changes.skip_if_only_changed,
            context: p.reporter.context,
            skip_report: p.reporter.skip_report,
            jenkins_spec: p.jenkins_spec,
        })
    }
}

impl From<PostsubmitWire> for Postsubmit {
    fn from(w: PostsubmitWire) -> Self {
        Postsubmit {
            always_run: w.always_run,
            brancher: Brancher {
                skip_branches: w.skip_branches.clone(),
                branches: w.branches.clone(),
                ..Default::default()
            },
            changes: RegexpChangeMatcher {
                run_if_changed: w.run_if_changed.clone(),
                skip_if_only_changed: w.skip_if_only_changed.clone(),
                re_changes: None,
            },
            reporter: Reporter {
                context: w.context.clone(),
                skip_report: w.skip_report,
            },
            jenkins_spec: w.jenkins_spec.clone(),
            base: base_from_wire!(w),
        }
    }
}

impl From<Postsubmit> for PostsubmitWire {
    fn from(p: Postsubmit) -> Self {
        wire_from_base!(PostsubmitWire, p.base, {
            always_run: p.always_run,
            skip_branches: p.brancher.skip_branches,
            branches: p.brancher.branches,
            run_if_changed: p.changes.run_if_changed,
            skip_if_only_changed: p.changes.skip_if_only_changed,
            context: p.reporter.context,
            skip_report: p.reporter.skip_report,
            jenkins_spec: p.jenkins_spec,
        })
    }
}

impl From<PeriodicWire> for Periodic {
    fn from(w: PeriodicWire) -> Self {
        Periodic {
            interval: w.interval.clone(),
            minimum_interval: w.minimum_interval.clone(),
            cron: w.cron.clone(),
            tags: w.tags.clone(),
            retry: w.retry.clone(),
            interval_duration: None,
            base: base_from_wire!(w),
        }
    }
}

impl From<Periodic> for PeriodicWire {
    fn from(p: Periodic) -> Self {
        wire_from_base!(PeriodicWire, p.base, {
            interval: p.interval,
            minimum_interval: p.minimum_interval,
            cron: p.cron,
            tags: p.tags,
            retry: p.retry,
        })
    }
}

/// Serde glue so the public job types (de)serialize through their flat wire forms.
macro_rules! serde_via_wire {
    ($public:ident, $wire:ident) => {
        impl<'de> Deserialize<'de> for $public {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $wire::deserialize(d).map(Into::into)
            }
        }
        impl Serialize for $public {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $wire::from(self.clone()).serialize(s)
            }
        }
        impl JsonSchema for $public {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $wire::schema_name()
            }
            fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
                $wire::json_schema(g)
            }
        }
    };
}

serde_via_wire!(Presubmit, PresubmitWire);
serde_via_wire!(Postsubmit, PostsubmitWire);
serde_via_wire!(Periodic, PeriodicWire);

/// The job part of a config file (Prow's `JobConfig`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct JobConfig {
    /// Label-selected pod spec additions.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub presets: Vec<Preset>,
    /// Presubmits per `org/repo`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub presubmits: BTreeMap<String, Vec<Presubmit>>,
    /// Postsubmits per `org/repo`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub postsubmits: BTreeMap<String, Vec<Postsubmit>>,
    /// Periodics.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub periodics: Vec<Periodic>,
    /// Default for jobs' `decorate`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub decorate_all_jobs: bool,
    /// Free-form data Prow ignores (e.g. for generators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prow_ignored: Option<serde_json::Value>,
}

impl JobConfig {
    /// Number of presubmits over all repos.
    pub fn presubmit_count(&self) -> usize {
        self.presubmits.values().map(Vec::len).sum()
    }

    /// Number of postsubmits over all repos.
    pub fn postsubmit_count(&self) -> usize {
        self.postsubmits.values().map(Vec::len).sum()
    }

    /// Every `org/repo` that has a presubmit or postsubmit.
    pub fn all_repos(&self) -> std::collections::BTreeSet<&str> {
        self.presubmits
            .keys()
            .chain(self.postsubmits.keys())
            .map(String::as_str)
            .collect()
    }

    /// All presubmits configured for `org/repo`.
    pub fn presubmits_for(&self, org_repo: &str) -> &[Presubmit] {
        self.presubmits.get(org_repo).map_or(&[], Vec::as_slice)
    }

    /// All postsubmits configured for `org/repo`.
    pub fn postsubmits_for(&self, org_repo: &str) -> &[Postsubmit] {
        self.postsubmits.get(org_repo).map_or(&[], Vec::as_slice)
    }
}
