//! Building ProwJobs from job configuration (Prow's `pjutil.NewPresubmit`, `PresubmitSpec`,
//! `PostsubmitSpec`, `PeriodicSpec`, `NewProwJob`). Used by trigger, horologium, tide, deck
//! reruns, status-reconciler and mkpj so every creator produces the same object.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prow_api::labels::{self, labels_and_annotations_for_spec};
use prow_api::{
    JenkinsSpec, ProwJob, ProwJobSpec, ProwJobState, ProwJobStatus, ProwJobType, Pull, Refs,
};

use crate::jobs::{JobBase, Periodic, Postsubmit, Presubmit};

/// The parts of a pull request a presubmit's refs are built from (Prow's `createRefs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequestRefs {
    /// Base repository owner.
    pub org: String,
    /// Base repository name.
    pub repo: String,
    /// Base repository HTML URL (`https://github.com/org/repo`).
    pub repo_link: String,
    /// Base branch.
    pub base_ref: String,
    /// PR number.
    pub number: u64,
    /// PR author login.
    pub author: String,
    /// PR author HTML URL.
    pub author_link: String,
    /// Head SHA.
    pub head_sha: String,
    /// Head branch name.
    pub head_ref: String,
    /// PR title.
    pub title: String,
    /// PR HTML URL.
    pub link: String,
}

/// Refs for a presubmit on a PR at `base_sha`, with Prow's link formats.
pub fn pull_refs(pr: &PullRequestRefs, base_sha: &str) -> Refs {
    Refs {
        org: pr.org.clone(),
        repo: pr.repo.clone(),
        repo_link: pr.repo_link.clone(),
        base_ref: pr.base_ref.clone(),
        base_sha: base_sha.to_owned(),
        base_link: format!("{}/commit/{}", pr.repo_link, base_sha),
        pulls: vec![Pull {
            number: pr.number,
            author: pr.author.clone(),
            sha: pr.head_sha.clone(),
            head_ref: pr.head_ref.clone(),
            title: pr.title.clone(),
            link: pr.link.clone(),
            author_link: pr.author_link.clone(),
            commit_link: format!(
                "{}/pull/{}/commits/{}",
                pr.repo_link, pr.number, pr.head_sha
            ),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn decorate_refs(mut refs: Refs, jb: &JobBase) -> Refs {
    if let Some(dc) = &jb.utility.decoration_config
        && refs.blobless_fetch.is_none()
    {
        refs.blobless_fetch = dc.blobless_fetch;
    }
    refs
}

/// Applies the job's clone settings to its primary refs (Prow's `CompletePrimaryRefs`).
pub fn complete_primary_refs(mut refs: Refs, jb: &JobBase) -> Refs {
    let u = &jb.utility;
    if !u.path_alias.is_empty() {
        refs.path_alias = u.path_alias.clone();
    }
    if !u.clone_uri.is_empty() {
        refs.clone_uri = u.clone_uri.clone();
    }
    if u.skip_submodules {
        refs.skip_submodules = true;
    }
    if u.clone_depth > 0 {
        refs.clone_depth = u.clone_depth;
    }
    if u.skip_fetch_head {
        refs.skip_fetch_head = true;
    }
    let mut refs = decorate_refs(refs, jb);
    if let Some(dc) = &jb.utility.decoration_config
        && !dc.sparse_checkout_files.is_empty()
    {
        refs.sparse_checkout_files = dc.sparse_checkout_files.clone();
    }
    refs
}

fn spec_from_job_base(jb: &JobBase) -> ProwJobSpec {
    ProwJobSpec {
        job: jb.name.clone(),
        agent: jb.agent_kind(),
        cluster: jb.cluster.clone(),
        namespace: jb.namespace.clone().unwrap_or_default(),
        // Validation rejects negative values before a job can be built.
        max_concurrency: u32::try_from(jb.max_concurrency).unwrap_or(0),
        error_on_eviction: jb.error_on_eviction,
        extra_refs: jb
            .utility
            .extra_refs
            .iter()
            .cloned()
            .map(|r| decorate_refs(r, jb))
            .collect(),
        decoration_config: jb.utility.decoration_config.clone(),
        pod_spec: jb.spec.clone(),
        pipeline_run_spec: jb.pipeline_run_spec.clone(),
        tekton_pipeline_run_spec: jb.tekton_pipeline_run_spec.clone(),
        reporter_config: jb.reporter_config.clone(),
        rerun_auth_config: jb.rerun_auth_config.clone(),
        hidden: jb.hidden,
        prowjob_defaults: jb.prowjob_defaults.clone(),
        job_queue_name: jb.job_queue_name.clone(),
        ..Default::default()
    }
}

/// The spec of a presubmit run on `refs`.
pub fn presubmit_spec(p: &Presubmit, refs: Refs) -> ProwJobSpec {
    let mut s = spec_from_job_base(&p.base);
    s.job_type = Some(ProwJobType::Presubmit);
    s.context = p.reporter.context.clone();
    s.report = !p.reporter.skip_report;
    s.rerun_command = p.rerun_command.clone();
    s.jenkins_spec = p.jenkins_spec.as_ref().map(|j| JenkinsSpec {
        github_branch_source_job: j.github_branch_source_job,
    });
    s.refs = Some(complete_primary_refs(refs, &p.base));
    s
}

/// The spec of a postsubmit run on `refs`.
pub fn postsubmit_spec(p: &Postsubmit, refs: Refs) -> ProwJobSpec {
    let mut s = spec_from_job_base(&p.base);
    s.job_type = Some(ProwJobType::Postsubmit);
    s.context = p.reporter.context.clone();
    s.report = !p.reporter.skip_report;
    s.jenkins_spec = p.jenkins_spec.as_ref().map(|j| JenkinsSpec {
        github_branch_source_job: j.github_branch_source_job,
    });
    s.refs = Some(complete_primary_refs(refs, &p.base));
    s
}

/// The spec of a periodic run (periodics always report).
pub fn periodic_spec(p: &Periodic) -> ProwJobSpec {
    let mut s = spec_from_job_base(&p.base);
    s.job_type = Some(ProwJobType::Periodic);
    s.report = true;
    s
}

/// A batch spec: one presubmit over several PRs (Tide).
pub fn batch_spec(p: &Presubmit, refs: Refs) -> ProwJobSpec {
    let mut s = presubmit_spec(p, refs);
    s.job_type = Some(ProwJobType::Batch);
    s
}

/// Name for a job created in reaction to an event: a UUID derived from the delivery ID and the
/// job name, so that replaying the same webhook (after a crash, or a GitHub redelivery) finds
/// the job already created instead of creating a duplicate. Without an event ID, a random UUID
/// (Prow's naming).
pub fn job_name_for_event(event_guid: &str, job: &str) -> String {
    if event_guid.is_empty() {
        return uuid::Uuid::new_v4().to_string();
    }
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("prow-event:{event_guid}/{job}").as_bytes(),
    )
    .to_string()
}

/// Wraps a spec into a new `triggered` ProwJob named with a random UUID, with the standard
/// labels and annotations (Prow's `NewProwJob`).
pub fn new_prowjob(
    spec: ProwJobSpec,
    extra_labels: &BTreeMap<String, String>,
    extra_annotations: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> ProwJob {
    let (labels, annotations) =
        labels_and_annotations_for_spec(&spec, extra_labels, extra_annotations);
    let mut spec = spec;
    // Like Prow's setReportDefault: an explicit empty state list means "do not report to Slack".
    if let Some(slack) = spec.reporter_config.as_mut().and_then(|r| r.slack.as_mut())
        && slack.report.is_none()
    {
        slack.report = Some(!matches!(&slack.job_states_to_report, Some(v) if v.is_empty()));
    }
    ProwJob::new(
        ObjectMeta {
            name: Some(uuid::Uuid::new_v4().to_string()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec,
        ProwJobStatus {
            start_time: Some(now),
            state: ProwJobState::Triggered,
            ..Default::default()
        },
    )
}

/// A presubmit ProwJob for a PR (Prow's `NewPresubmit`): job labels, `additional_labels`,
/// `event-GUID` and `prow.k8s.io/is-optional`.
pub fn new_presubmit(
    pr: &PullRequestRefs,
    base_sha: &str,
    job: &Presubmit,
    event_guid: &str,
    additional_labels: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> ProwJob {
    let mut labels = job.base.labels.clone();
    labels.extend(
        additional_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    labels.insert(labels::EVENT_GUID.to_owned(), event_guid.to_owned());
    labels.insert(labels::IS_OPTIONAL.to_owned(), job.optional.to_string());
    let mut pj = new_prowjob(
        presubmit_spec(job, pull_refs(pr, base_sha)),
        &labels,
        &job.base.annotations,
        now,
    );
    pj.metadata.name = Some(job_name_for_event(event_guid, &job.base.name));
    pj
}

/// A postsubmit ProwJob for a push (refs built by the caller from the push event).
pub fn new_postsubmit(
    job: &Postsubmit,
    refs: Refs,
    event_guid: &str,
    now: DateTime<Utc>,
) -> ProwJob {
    let mut labels = job.base.labels.clone();
    if !event_guid.is_empty() {
        labels.insert(labels::EVENT_GUID.to_owned(), event_guid.to_owned());
    }
    let mut pj = new_prowjob(
        postsubmit_spec(job, refs),
        &labels,
        &job.base.annotations,
        now,
    );
    pj.metadata.name = Some(job_name_for_event(event_guid, &job.base.name));
    pj
}

/// A periodic ProwJob (horologium, mkpj).
pub fn new_periodic(job: &Periodic, now: DateTime<Utc>) -> ProwJob {
    new_prowjob(
        periodic_spec(job),
        &job.base.labels,
        &job.base.annotations,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr() -> PullRequestRefs {
        PullRequestRefs {
            org: "o".into(),
            repo: "r".into(),
            repo_link: "https://github.example.com/o/r".into(),
            base_ref: "main".into(),
            number: 7,
            author: "alice".into(),
            author_link: "https://github.example.com/alice".into(),
            head_sha: "abc".into(),
            head_ref: "feature".into(),
            title: "Fix".into(),
            link: "https://github.example.com/o/r/pull/7".into(),
        }
    }

    #[test]
    fn presubmit_job_has_prow_labels_and_refs() {
        let mut job = Presubmit::default();
        job.base.name = "pull-unit".into();
        job.base.agent = "kubernetes".into();
        job.base.cluster = "default".into();
        job.base.labels.insert("team".into(), "a".into());
        job.base.utility.path_alias = "example.com/r".into();
        job.reporter.context = "pull-unit".into();
        job.optional = true;
        let extra = BTreeMap::from([(labels::RETEST.to_owned(), "true".to_owned())]);
        let pj = new_presubmit(&pr(), "base1", &job, "guid-1", &extra, Utc::now());
        let l = pj.metadata.labels.as_ref().unwrap();
        assert_eq!(l["created-by-prow"], "true");
        assert_eq!(l["prow.k8s.io/type"], "presubmit");
        assert_eq!(l["prow.k8s.io/job"], "pull-unit");
        assert_eq!(l["prow.k8s.io/refs.pull"], "7");
        assert_eq!(l["prow.k8s.io/is-optional"], "true");
        assert_eq!(l["prow.k8s.io/retest"], "true");
        assert_eq!(l["event-GUID"], "guid-1");
        assert_eq!(l["team"], "a");
        assert_eq!(pj.status.state, ProwJobState::Triggered);
        assert!(pj.status.start_time.is_some());
        let refs = pj.spec.refs.as_ref().unwrap();
        assert_eq!(
            refs.base_link,
            "https://github.example.com/o/r/commit/base1"
        );
        assert_eq!(
            refs.pulls[0].commit_link,
            "https://github.example.com/o/r/pull/7/commits/abc"
        );
        assert_eq!(refs.path_alias, "example.com/r");
        assert_eq!(pj.spec.context, "pull-unit");
        assert!(pj.spec.report);
        assert_eq!(pj.metadata.name.as_ref().unwrap().len(), 36);
        // Same event, same job: same name (replays are idempotent); another event differs.
        let again = new_presubmit(&pr(), "base1", &job, "guid-1", &extra, Utc::now());
        assert_eq!(pj.metadata.name, again.metadata.name);
        let other = new_presubmit(&pr(), "base1", &job, "guid-2", &extra, Utc::now());
        assert_ne!(pj.metadata.name, other.metadata.name);
    }

    #[test]
    fn periodic_always_reports() {
        let mut p = Periodic::default();
        p.base.name = "ci-x".into();
        let pj = new_periodic(&p, Utc::now());
        assert!(pj.spec.report);
        assert_eq!(pj.spec.job_type, Some(ProwJobType::Periodic));
        assert!(pj.spec.refs.is_none());
    }
}
