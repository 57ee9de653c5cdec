//! The downward API: what a job's containers learn about the ProwJob they realise.
//!
//! Prow hands a job its identity in two ways: the whole [`JobSpec`] serialised into `JOB_SPEC`,
//! and individual fields in their own variables ([`env_for_spec`]). The utilities read
//! `JOB_SPEC` back ([`JobSpec::from_env`]) to know where to upload.

use std::collections::BTreeMap;

use prow_api::{DecorationConfig, ProwJob, ProwJobAgent, ProwJobSpec, ProwJobType, Refs};
use serde::{Deserialize, Serialize};

use crate::clone;
use crate::metadata::Started;

/// Env var that is always `true` in CI.
pub const CI_ENV: &str = "CI";
/// Env var holding the serialised [`JobSpec`].
pub const JOB_SPEC_ENV: &str = "JOB_SPEC";
/// Job name.
pub const JOB_NAME_ENV: &str = "JOB_NAME";
/// Job type.
pub const JOB_TYPE_ENV: &str = "JOB_TYPE";
/// ProwJob name.
pub const PROW_JOB_ID_ENV: &str = "PROW_JOB_ID";
/// Build ID.
pub const BUILD_ID_ENV: &str = "BUILD_ID";
/// Deprecated copy of the build ID, only for the `kubernetes` agent.
pub const BUILD_NUMBER_ENV: &str = "BUILD_NUMBER";
/// `refs.org`.
pub const REPO_OWNER_ENV: &str = "REPO_OWNER";
/// `refs.repo`.
pub const REPO_NAME_ENV: &str = "REPO_NAME";
/// Path of the repo under its host.
pub const SRC_BASE_ENV: &str = "SRC_BASE";
/// Host of the repo.
pub const SRC_HOST_ENV: &str = "SRC_HOST";
/// Base branch.
pub const PULL_BASE_REF_ENV: &str = "PULL_BASE_REF";
/// Base SHA.
pub const PULL_BASE_SHA_ENV: &str = "PULL_BASE_SHA";
/// `Refs.String()`.
pub const PULL_REFS_ENV: &str = "PULL_REFS";
/// First PR number.
pub const PULL_NUMBER_ENV: &str = "PULL_NUMBER";
/// First PR head SHA.
pub const PULL_PULL_SHA_ENV: &str = "PULL_PULL_SHA";
/// First PR head branch.
pub const PULL_HEAD_REF_ENV: &str = "PULL_HEAD_REF";
/// First PR title.
pub const PULL_TITLE_ENV: &str = "PULL_TITLE";

/// Host assumed when refs name none.
pub const DEFAULT_HOST: &str = "github.com";

/// What cannot be turned into an environment or a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobSpecError {
    /// `JOB_SPEC` is not set.
    #[error("${JOB_SPEC_ENV} unset")]
    Unset,
    /// `JOB_SPEC` is not valid JSON for a job spec.
    #[error("malformed ${JOB_SPEC_ENV}: {0}")]
    Malformed(String),
    /// A job of this type needs `refs`.
    #[error("{job_type} job {job:?} has no refs")]
    MissingRefs {
        /// Job type spelling.
        job_type: String,
        /// Job name.
        job: String,
    },
    /// A presubmit needs at least one pull.
    #[error("presubmit job {0:?} has no pulls in its refs")]
    MissingPulls(String),
    /// The job type is not set or unknown.
    #[error("unknown job spec type {0:?}")]
    UnknownType(String),
}

/// The downward API exposed to every job: Prow's `downwardapi.JobSpec`.
///
/// Serialises to exactly `{"type","job","buildid","prowjobid","refs","extra_refs",
/// "decoration_config"}` with Go's `omitempty` rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Job type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<ProwJobType>,
    /// Job name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub job: String,
    /// Build ID (`status.build_id`).
    #[serde(rename = "buildid", default, skip_serializing_if = "String::is_empty")]
    pub build_id: String,
    /// ProwJob name.
    #[serde(
        rename = "prowjobid",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub prow_job_id: String,
    /// Main refs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refs: Option<Refs>,
    /// Extra refs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_refs: Vec<Refs>,
    /// Decoration settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoration_config: Option<DecorationConfig>,
    /// Agent; not serialised (Prow keeps it private), only decides `BUILD_NUMBER`.
    #[serde(skip)]
    pub agent: Option<ProwJobAgent>,
}

impl JobSpec {
    /// Prow's `NewJobSpec`.
    pub fn new(spec: &ProwJobSpec, build_id: &str, prow_job_id: &str) -> Self {
        JobSpec {
            job_type: spec.job_type,
            job: spec.job.clone(),
            build_id: build_id.to_string(),
            prow_job_id: prow_job_id.to_string(),
            refs: spec.refs.clone(),
            extra_refs: spec.extra_refs.clone(),
            decoration_config: spec.decoration_config.clone(),
            agent: spec.agent.clone(),
        }
    }

    /// The spec of a ProwJob: build ID from its status, ID from its name.
    pub fn from_prowjob(pj: &ProwJob) -> Self {
        JobSpec::new(&pj.spec, &pj.status.build_id, pj.name())
    }

    /// Parse a `JOB_SPEC` value.
    pub fn parse(raw: &str) -> Result<Self, JobSpecError> {
        serde_json::from_str(raw).map_err(|e| JobSpecError::Malformed(e.to_string()))
    }

    /// Read `JOB_SPEC` from the process environment (Prow's `ResolveSpecFromEnv`).
    pub fn from_env() -> Result<Self, JobSpecError> {
        let raw = std::env::var(JOB_SPEC_ENV).map_err(|_| JobSpecError::Unset)?;
        JobSpec::parse(&raw)
    }

    /// The compact JSON Prow puts into `JOB_SPEC`.
    pub fn to_json(&self) -> String {
        // Serialising plain data into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The job type spelling, empty when unset.
    pub fn type_str(&self) -> &'static str {
        self.job_type.map_or("", ProwJobType::as_str)
    }

    /// The refs that identify the code under test: `refs`, else the first non-auxiliary
    /// extra ref.
    pub fn main_refs(&self) -> Option<&Refs> {
        main_refs(self.refs.as_ref(), &self.extra_refs)
    }

    /// Prow's `GetRevisionFromSpec`: first pull SHA, else base SHA, else base ref of the main
    /// refs; empty without refs.
    pub fn revision(&self) -> String {
        revision_from_refs(self.refs.as_ref(), &self.extra_refs)
    }

    fn refs_or_err(&self) -> Result<&Refs, JobSpecError> {
        self.refs.as_ref().ok_or_else(|| JobSpecError::MissingRefs {
            job_type: self.type_str().to_string(),
            job: self.job.clone(),
        })
    }

    /// Refs and first pull of a presubmit.
    pub(crate) fn presubmit_pull(&self) -> Result<(&Refs, &prow_api::Pull), JobSpecError> {
        let refs = self.refs_or_err()?;
        let pull = refs
            .pulls
            .first()
            .ok_or_else(|| JobSpecError::MissingPulls(self.job.clone()))?;
        Ok((refs, pull))
    }
}

fn main_refs<'a>(refs: Option<&'a Refs>, extra: &'a [Refs]) -> Option<&'a Refs> {
    refs.or_else(|| extra.iter().find(|r| !r.auxiliary))
}

/// Prow's `GetRevisionFromRefs`.
pub fn revision_from_refs(refs: Option<&Refs>, extra: &[Refs]) -> String {
    let Some(r) = main_refs(refs, extra) else {
        return String::new();
    };
    if let Some(p) = r.pulls.first() {
        return p.sha.clone();
    }
    if !r.base_sha.is_empty() {
        return r.base_sha.clone();
    }
    r.base_ref.clone()
}

/// `SRC_HOST` and `SRC_BASE` for refs: the path alias split at its first `/`, else the repo
/// link without its scheme, else `github.com` and `org/repo`. Mirrors where clonerefs puts the
/// repo.
pub fn src_host_and_base(refs: &Refs) -> (String, String) {
    let split = |s: &str| match s.split_once('/') {
        Some((h, b)) => (h.to_string(), b.to_string()),
        None => (s.to_string(), format!("{}/{}", refs.org, refs.repo)),
    };
    if !refs.path_alias.is_empty() {
        split(&refs.path_alias)
    } else if !refs.repo_link.is_empty() {
        let host_and_path = refs.repo_link.rsplit("://").next().unwrap_or_default();
        split(host_and_path)
    } else {
        (
            DEFAULT_HOST.to_string(),
            format!("{}/{}", refs.org, refs.repo),
        )
    }
}

/// The environment of a job's containers (Prow's `EnvForSpec`).
///
/// Periodics get the base variables only; postsubmits and batches add the repo variables;
/// presubmits (and specs without a type, as in Prow) add the first pull's variables.
pub fn env_for_spec(spec: &JobSpec) -> Result<BTreeMap<String, String>, JobSpecError> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: &str| {
        env.insert(k.to_string(), v.to_string());
    };
    set(CI_ENV, "true");
    set(JOB_NAME_ENV, &spec.job);
    set(BUILD_ID_ENV, &spec.build_id);
    set(PROW_JOB_ID_ENV, &spec.prow_job_id);
    set(JOB_TYPE_ENV, spec.type_str());
    // Only the kubernetes agent keeps the deprecated BUILD_NUMBER.
    if spec.agent == Some(ProwJobAgent::Kubernetes) {
        set(BUILD_NUMBER_ENV, &spec.build_id);
    }
    set(JOB_SPEC_ENV, &spec.to_json());

    if spec.job_type == Some(ProwJobType::Periodic) {
        return Ok(env);
    }
    let refs = spec.refs_or_err()?;
    set(REPO_OWNER_ENV, &refs.org);
    set(REPO_NAME_ENV, &refs.repo);
    let (host, base) = src_host_and_base(refs);
    set(SRC_HOST_ENV, &host);
    set(SRC_BASE_ENV, &base);
    set(PULL_BASE_REF_ENV, &refs.base_ref);
    set(PULL_BASE_SHA_ENV, &refs.base_sha);
    set(PULL_REFS_ENV, &refs.to_string());

    if matches!(
        spec.job_type,
        Some(ProwJobType::Postsubmit | ProwJobType::Batch)
    ) {
        return Ok(env);
    }
    let (_, pull) = spec.presubmit_pull()?;
    set(PULL_NUMBER_ENV, &pull.number.to_string());
    set(PULL_PULL_SHA_ENV, &pull.sha);
    set(PULL_HEAD_REF_ENV, &pull.head_ref);
    set(PULL_TITLE_ENV, &pull.title);
    Ok(env)
}

/// The variable names a job of this type gets (Prow's `EnvForType`), in Prow's order.
/// Useful for validating that users do not define them ("env X is reserved").
pub fn env_for_type(job_type: ProwJobType) -> Vec<&'static str> {
    let base = [
        CI_ENV,
        JOB_NAME_ENV,
        JOB_SPEC_ENV,
        JOB_TYPE_ENV,
        PROW_JOB_ID_ENV,
        BUILD_ID_ENV,
        BUILD_NUMBER_ENV,
    ];
    let refs = [
        REPO_OWNER_ENV,
        REPO_NAME_ENV,
        SRC_BASE_ENV,
        SRC_HOST_ENV,
        PULL_BASE_REF_ENV,
        PULL_BASE_SHA_ENV,
        PULL_REFS_ENV,
    ];
    let pull = [
        PULL_NUMBER_ENV,
        PULL_PULL_SHA_ENV,
        PULL_HEAD_REF_ENV,
        PULL_TITLE_ENV,
    ];
    let mut v: Vec<&'static str> = base.to_vec();
    match job_type {
        ProwJobType::Periodic => {}
        ProwJobType::Postsubmit | ProwJobType::Batch => v.extend(refs),
        ProwJobType::Presubmit => {
            v.extend(refs);
            v.extend(pull);
        }
    }
    v
}

/// `started.json` for a spec as initupload writes it (Prow's `SpecToStarted`), at `timestamp`.
///
/// `repo-commit`/`repo-version` is the SHA clonerefs ended on for the main refs, else the
/// spec's revision.
pub fn spec_to_started(spec: &JobSpec, clone_records: &[clone::Record], timestamp: i64) -> Started {
    refs_to_started(
        spec.refs.as_ref(),
        &spec.extra_refs,
        clone_records,
        timestamp,
    )
}

/// `started.json` for a ProwJob as crier's blob reporter writes it (Prow's `PjToStarted`):
/// the timestamp is the job's start time.
pub fn prowjob_to_started(pj: &ProwJob, clone_records: &[clone::Record]) -> Started {
    let ts = pj.status.start_time.map_or(0, |t| t.timestamp());
    refs_to_started(
        pj.spec.refs.as_ref(),
        &pj.spec.extra_refs,
        clone_records,
        ts,
    )
}

fn refs_to_started(
    refs: Option<&Refs>,
    extra: &[Refs],
    clone_records: &[clone::Record],
    timestamp: i64,
) -> Started {
    let mut version = main_refs(refs, extra)
        .and_then(|m| clone_records.iter().find(|r| &r.refs == m))
        .map(|r| r.final_sha.clone())
        .unwrap_or_default();
    if version.is_empty() {
        version = revision_from_refs(refs, extra);
    }
    let mut started = Started {
        timestamp,
        repo_commit: version.clone(),
        repo_version: version,
        ..Default::default()
    };
    if let Some(p) = refs.and_then(|r| r.pulls.first()) {
        started.pull = p.number.to_string();
    }
    for r in refs.into_iter().chain(extra) {
        started
            .repos
            .insert(format!("{}/{}", r.org, r.repo), r.to_string());
    }
    started
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::Pull;

    fn spec(t: ProwJobType) -> JobSpec {
        JobSpec {
            job_type: Some(t),
            job: "job-name".into(),
            build_id: "0".into(),
            prow_job_id: "prowjob".into(),
            ..Default::default()
        }
    }

    fn refs() -> Refs {
        Refs {
            org: "org-name".into(),
            repo: "repo-name".into(),
            base_ref: "base-ref".into(),
            base_sha: "base-sha".into(),
            ..Default::default()
        }
    }

    fn pull(n: u64, author: &str, sha: &str, head: &str, title: &str) -> Pull {
        Pull {
            number: n,
            author: author.into(),
            sha: sha.into(),
            head_ref: head.into(),
            title: title.into(),
            ..Default::default()
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const BASE: [(&str, &str); 4] = [
        ("CI", "true"),
        ("JOB_NAME", "job-name"),
        ("BUILD_ID", "0"),
        ("PROW_JOB_ID", "prowjob"),
    ];

    fn expected(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut m = map(&BASE);
        m.extend(map(extra));
        m
    }

    const REPO_VARS: [(&str, &str); 6] = [
        ("REPO_OWNER", "org-name"),
        ("REPO_NAME", "repo-name"),
        ("SRC_BASE", "org-name/repo-name"),
        ("SRC_HOST", "github.com"),
        ("PULL_BASE_REF", "base-ref"),
        ("PULL_BASE_SHA", "base-sha"),
    ];

    #[test]
    fn env_per_job_type() {
        struct Case {
            name: &'static str,
            spec: JobSpec,
            expected: BTreeMap<String, String>,
        }
        let mut post = spec(ProwJobType::Postsubmit);
        post.refs = Some(refs());
        let mut batch = spec(ProwJobType::Batch);
        let mut r = refs();
        r.pulls = vec![
            pull(1, "author-name", "pull-sha", "branch-name-1", ""),
            pull(
                2,
                "other-author-name",
                "second-pull-sha",
                "branch-name-2",
                "",
            ),
        ];
        batch.refs = Some(r);
        let mut pre = spec(ProwJobType::Presubmit);
        let mut r = refs();
        r.pulls = vec![pull(
            1,
            "author-name",
            "pull-sha",
            "branch-name",
            "pull-title",
        )];
        pre.refs = Some(r);
        let mut alias = spec(ProwJobType::Postsubmit);
        let mut r = refs();
        r.path_alias = "k8s.io/repo-name".into();
        alias.refs = Some(r);
        let mut link = spec(ProwJobType::Postsubmit);
        let mut r = refs();
        r.repo_link = "https://gitlab.example.com/org-name/repo-name".into();
        link.refs = Some(r);
        let mut kube = spec(ProwJobType::Periodic);
        kube.agent = Some(ProwJobAgent::Kubernetes);
        let mut jenkins = spec(ProwJobType::Periodic);
        jenkins.agent = Some(ProwJobAgent::Jenkins);

        let with = |base: &[(&str, &str)], over: &[(&str, &str)]| {
            let mut m = expected(base);
            m.extend(map(over));
            m
        };
        let cases = vec![
            Case {
                name: "periodic",
                spec: spec(ProwJobType::Periodic),
                expected: expected(&[
                    ("JOB_TYPE", "periodic"),
                    (
                        "JOB_SPEC",
                        r#"{"type":"periodic","job":"job-name","buildid":"0","prowjobid":"prowjob"}"#,
                    ),
                ]),
            },
            Case {
                name: "postsubmit",
                spec: post,
                expected: with(
                    &REPO_VARS,
                    &[
                        ("JOB_TYPE", "postsubmit"),
                        (
                            "JOB_SPEC",
                            r#"{"type":"postsubmit","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha"}}"#,
                        ),
                        ("PULL_REFS", "base-ref:base-sha"),
                    ],
                ),
            },
            Case {
                name: "batch",
                spec: batch,
                expected: with(
                    &REPO_VARS,
                    &[
                        ("JOB_TYPE", "batch"),
                        (
                            "JOB_SPEC",
                            r#"{"type":"batch","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha","pulls":[{"number":1,"author":"author-name","sha":"pull-sha","head_ref":"branch-name-1"},{"number":2,"author":"other-author-name","sha":"second-pull-sha","head_ref":"branch-name-2"}]}}"#,
                        ),
                        (
                            "PULL_REFS",
                            "base-ref:base-sha,1:pull-sha,2:second-pull-sha",
                        ),
                    ],
                ),
            },
            Case {
                name: "presubmit",
                spec: pre,
                expected: with(
                    &REPO_VARS,
                    &[
                        ("JOB_TYPE", "presubmit"),
                        (
                            "JOB_SPEC",
                            r#"{"type":"presubmit","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha","pulls":[{"number":1,"author":"author-name","sha":"pull-sha","title":"pull-title","head_ref":"branch-name"}]}}"#,
                        ),
                        ("PULL_REFS", "base-ref:base-sha,1:pull-sha"),
                        ("PULL_HEAD_REF", "branch-name"),
                        ("PULL_NUMBER", "1"),
                        ("PULL_PULL_SHA", "pull-sha"),
                        ("PULL_TITLE", "pull-title"),
                    ],
                ),
            },
            Case {
                name: "path alias",
                spec: alias,
                expected: with(
                    &REPO_VARS,
                    &[
                        ("JOB_TYPE", "postsubmit"),
                        (
                            "JOB_SPEC",
                            r#"{"type":"postsubmit","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha","path_alias":"k8s.io/repo-name"}}"#,
                        ),
                        ("SRC_BASE", "repo-name"),
                        ("SRC_HOST", "k8s.io"),
                        ("PULL_REFS", "base-ref:base-sha"),
                    ],
                ),
            },
            Case {
                name: "repo link",
                spec: link,
                expected: with(
                    &REPO_VARS,
                    &[
                        ("JOB_TYPE", "postsubmit"),
                        (
                            "JOB_SPEC",
                            r#"{"type":"postsubmit","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","repo_link":"https://gitlab.example.com/org-name/repo-name","base_ref":"base-ref","base_sha":"base-sha"}}"#,
                        ),
                        ("SRC_BASE", "org-name/repo-name"),
                        ("SRC_HOST", "gitlab.example.com"),
                        ("PULL_REFS", "base-ref:base-sha"),
                    ],
                ),
            },
            Case {
                name: "kubernetes agent",
                spec: kube,
                expected: expected(&[
                    ("JOB_TYPE", "periodic"),
                    ("BUILD_NUMBER", "0"),
                    (
                        "JOB_SPEC",
                        r#"{"type":"periodic","job":"job-name","buildid":"0","prowjobid":"prowjob"}"#,
                    ),
                ]),
            },
            Case {
                name: "jenkins agent",
                spec: jenkins,
                expected: expected(&[
                    ("JOB_TYPE", "periodic"),
                    (
                        "JOB_SPEC",
                        r#"{"type":"periodic","job":"job-name","buildid":"0","prowjobid":"prowjob"}"#,
                    ),
                ]),
            },
        ];
        for c in cases {
            assert_eq!(env_for_spec(&c.spec).unwrap(), c.expected, "{}", c.name);
            // Every variable is one EnvForType announces for the type.
            let names = env_for_type(c.spec.job_type.unwrap());
            for k in c.expected.keys() {
                assert!(names.contains(&k.as_str()), "{}: {k}", c.name);
            }
        }
    }

    #[test]
    fn path_alias_without_slash_and_bad_specs() {
        let mut s = spec(ProwJobType::Postsubmit);
        let mut r = refs();
        r.path_alias = "justhost".into();
        s.refs = Some(r);
        let env = env_for_spec(&s).unwrap();
        assert_eq!(env["SRC_HOST"], "justhost");
        assert_eq!(env["SRC_BASE"], "org-name/repo-name");

        assert!(matches!(
            env_for_spec(&spec(ProwJobType::Batch)),
            Err(JobSpecError::MissingRefs { .. })
        ));
        let mut p = spec(ProwJobType::Presubmit);
        p.refs = Some(refs());
        assert_eq!(
            env_for_spec(&p),
            Err(JobSpecError::MissingPulls("job-name".into()))
        );
        assert!(matches!(
            JobSpec::parse("{"),
            Err(JobSpecError::Malformed(_))
        ));
    }

    #[test]
    fn job_spec_roundtrip_and_from_prowjob() {
        let pj: ProwJob = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "uuid-1"},
            "spec": {"type": "presubmit", "agent": "kubernetes", "job": "pull-x",
                     "refs": {"org": "o", "repo": "r", "base_ref": "main", "base_sha": "b",
                              "pulls": [{"number": 3, "author": "a", "sha": "s"}]},
                     "extra_refs": [{"org": "o2", "repo": "r2", "base_ref": "dev"}]},
            "status": {"build_id": "42", "startTime": "2023-11-14T22:13:20Z"}
        }))
        .unwrap();
        let s = JobSpec::from_prowjob(&pj);
        assert_eq!(
            s.to_json(),
            r#"{"type":"presubmit","job":"pull-x","buildid":"42","prowjobid":"uuid-1","refs":{"org":"o","repo":"r","base_ref":"main","base_sha":"b","pulls":[{"number":3,"author":"a","sha":"s"}]},"extra_refs":[{"org":"o2","repo":"r2","base_ref":"dev"}]}"#
        );
        let env = env_for_spec(&s).unwrap();
        assert_eq!(env["BUILD_NUMBER"], "42");
        // The agent is not part of JOB_SPEC, so a spec read back from the env has none.
        let back = JobSpec::parse(&s.to_json()).unwrap();
        assert_eq!(back.agent, None);
        assert_eq!(back.refs, s.refs);
        assert_eq!(s.revision(), "s");

        let started = prowjob_to_started(&pj, &[]);
        assert_eq!(
            serde_json::to_string(&started).unwrap(),
            r#"{"timestamp":1700000000,"pull":"3","repos":{"o/r":"main:b,3:s","o2/r2":"dev"},"repo-commit":"s","repo-version":"s"}"#
        );
    }

    #[test]
    fn started_uses_clone_records_and_main_refs() {
        let mut aux = refs();
        aux.org = "aux".into();
        aux.auxiliary = true;
        let main = refs();
        let mut s = spec(ProwJobType::Periodic);
        s.extra_refs = vec![aux.clone(), main.clone()];
        // Without records: the main (first non-auxiliary) extra ref's base SHA.
        let st = spec_to_started(&s, &[], 9);
        assert_eq!(st.repo_commit, "base-sha");
        assert_eq!(st.pull, "");
        assert_eq!(st.repos.len(), 2);
        let rec = clone::Record {
            refs: main,
            final_sha: "merged".into(),
            ..Default::default()
        };
        let st = spec_to_started(&s, &[rec], 9);
        assert_eq!((st.repo_commit.as_str(), st.timestamp), ("merged", 9));
        assert_eq!(st.repo_version, "merged");
        // No refs at all: nothing but the timestamp.
        let empty = spec_to_started(&spec(ProwJobType::Periodic), &[], 1);
        assert_eq!(serde_json::to_string(&empty).unwrap(), r#"{"timestamp":1}"#);
        // Revision falls back to the base ref.
        let mut r = refs();
        r.base_sha.clear();
        assert_eq!(revision_from_refs(Some(&r), &[]), "base-ref");
    }
}
