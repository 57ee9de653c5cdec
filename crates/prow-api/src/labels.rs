//! Label and annotation keys Prow puts on ProwJobs and pods, and the rules that keep values
//! valid Kubernetes label values.

use std::collections::BTreeMap;

use crate::prowjob::ProwJobSpec;

/// `true` on everything Prow creates (sinker selects pods by it).
pub const CREATED_BY_PROW: &str = "created-by-prow";
/// `true` on jobs Tide triggered.
pub const CREATED_BY_TIDE: &str = "created-by-tide";
/// Job type.
pub const PROW_JOB_TYPE: &str = "prow.k8s.io/type";
/// ProwJob name, on pods.
pub const PROW_JOB_ID: &str = "prow.k8s.io/id";
/// Build ID, on pods.
pub const PROW_BUILD_ID: &str = "prow.k8s.io/build-id";
/// Job name: truncated label and full annotation.
pub const PROW_JOB_ANNOTATION: &str = "prow.k8s.io/job";
/// Context: truncated label and full annotation.
pub const CONTEXT_ANNOTATION: &str = "prow.k8s.io/context";
/// Version of the controller that decorated the pod.
pub const PLANK_VERSION: &str = "prow.k8s.io/plank-version";
/// `refs.org`.
pub const ORG: &str = "prow.k8s.io/refs.org";
/// `refs.repo`.
pub const REPO: &str = "prow.k8s.io/refs.repo";
/// `refs.base_ref`.
pub const BASE_REF: &str = "prow.k8s.io/refs.base_ref";
/// First pull number.
pub const PULL: &str = "prow.k8s.io/refs.pull";
/// `true` when created by `/retest` or `/retest-required`.
pub const RETEST: &str = "prow.k8s.io/retest";
/// Presubmit's `optional`.
pub const IS_OPTIONAL: &str = "prow.k8s.io/is-optional";
/// Periodic retry attempt counter.
pub const RE_RUN: &str = "prow.k8s.io/re-run";
/// GitHub delivery ID of the event that created the job.
pub const EVENT_GUID: &str = "event-GUID";
/// Gerrit change ID.
pub const GERRIT_ID: &str = "prow.k8s.io/gerrit-id";
/// Gerrit host.
pub const GERRIT_INSTANCE: &str = "prow.k8s.io/gerrit-instance";
/// Gerrit revision.
pub const GERRIT_REVISION: &str = "prow.k8s.io/gerrit-revision";
/// Gerrit patchset.
pub const GERRIT_PATCHSET: &str = "prow.k8s.io/gerrit-patchset";
/// Gerrit label to vote on.
pub const GERRIT_REPORT_LABEL: &str = "prow.k8s.io/gerrit-report-label";
/// Pub/Sub reporter project.
pub const PUBSUB_PROJECT: &str = "prow.k8s.io/pubsub.project";
/// Pub/Sub reporter topic.
pub const PUBSUB_TOPIC: &str = "prow.k8s.io/pubsub.topic";
/// Pub/Sub reporter run ID.
pub const PUBSUB_RUN_ID: &str = "prow.k8s.io/pubsub.runID";

/// Kubernetes' maximum label value length.
pub const LABEL_VALUE_MAX_LEN: usize = 63;

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Kubernetes `IsValidLabelValue`: empty, or ≤63 chars of `[-A-Za-z0-9_.]` that start and end
/// alphanumeric.
pub fn is_valid_label_value(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    v.len() <= LABEL_VALUE_MAX_LEN && is_label_name(v)
}

fn is_label_name(v: &str) -> bool {
    let first = v.chars().next();
    let last = v.chars().last();
    matches!(first, Some(c) if is_alnum(c))
        && matches!(last, Some(c) if is_alnum(c))
        && v.chars()
            .all(|c| is_alnum(c) || c == '-' || c == '_' || c == '.')
}

fn is_dns_subdomain(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|part| {
            !part.is_empty()
                && part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// Kubernetes `IsQualifiedName` (label and annotation keys): `[prefix/]name`, the prefix a DNS
/// subdomain, the name ≤63 chars starting and ending alphanumeric.
pub fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && !is_dns_subdomain(p)
    {
        return false;
    }
    !name.is_empty() && name.len() <= LABEL_VALUE_MAX_LEN && is_label_name(name)
}

/// Prow's truncation of long job names and contexts for labels: cut at 63 bytes (on a char
/// boundary) and strip trailing `.`, `_`, `-`.
pub fn truncate_label_value(v: &str) -> String {
    if v.len() <= LABEL_VALUE_MAX_LEN {
        return v.to_string();
    }
    let mut end = LABEL_VALUE_MAX_LEN;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    v[..end].trim_end_matches(['.', '_', '-']).to_string()
}

/// The standard labels and annotations for a job (Prow's `LabelsAndAnnotationsForSpec`).
///
/// Extra labels (the job's own) override the standard ones. Invalid label values are replaced by
/// their path basename when that is valid, otherwise dropped, so the object is always accepted by
/// the API server.
pub fn labels_and_annotations_for_spec(
    spec: &ProwJobSpec,
    extra_labels: &BTreeMap<String, String>,
    extra_annotations: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut labels = BTreeMap::new();
    let mut annotations = BTreeMap::new();
    labels.insert(CREATED_BY_PROW.to_string(), "true".to_string());
    labels.insert(
        PROW_JOB_TYPE.to_string(),
        spec.job_type.map(|t| t.as_str()).unwrap_or("").to_string(),
    );
    for (key, value) in [
        (PROW_JOB_ANNOTATION, &spec.job),
        (CONTEXT_ANNOTATION, &spec.context),
    ] {
        labels.insert(key.to_string(), truncate_label_value(value));
        annotations.insert(key.to_string(), value.clone());
    }
    if let Some(refs) = spec.refs.as_ref().or(spec.extra_refs.first()) {
        labels.insert(ORG.to_string(), refs.org.clone());
        labels.insert(REPO.to_string(), refs.repo.clone());
        labels.insert(BASE_REF.to_string(), refs.base_ref.clone());
        if let Some(p) = refs.pulls.first() {
            labels.insert(PULL.to_string(), p.number.to_string());
        }
    }
    labels.extend(extra_labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels.retain(|_, value| {
        if is_valid_label_value(value) {
            return true;
        }
        let base = value.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
        if !base.is_empty() && is_valid_label_value(base) {
            *value = base.to_string();
            return true;
        }
        false
    });
    annotations.extend(
        extra_annotations
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    (labels, annotations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prowjob::{ProwJobType, Pull, Refs};

    #[test]
    fn truncation_strips_trailing_separators() {
        let long = format!("{}-_.rest", "a".repeat(60));
        assert_eq!(truncate_label_value(&long), "a".repeat(60));
        assert_eq!(truncate_label_value("short"), "short");
    }

    #[test]
    fn label_value_rules() {
        assert!(is_valid_label_value(""));
        assert!(is_valid_label_value("pull-test-infra-bazel"));
        assert!(!is_valid_label_value("-bad"));
        assert!(!is_valid_label_value("has space"));
        assert!(!is_valid_label_value(&"a".repeat(64)));
        assert!(is_qualified_name("prow.k8s.io/job"));
        assert!(is_qualified_name("preset-service-account"));
        assert!(!is_qualified_name("Bad_Prefix/x"));
        assert!(!is_qualified_name("a/b/c"));
    }

    #[test]
    fn standard_labels() {
        let spec = ProwJobSpec {
            job_type: Some(ProwJobType::Presubmit),
            job: format!("pull-{}", "x".repeat(70)),
            context: "ci/some context".into(),
            refs: Some(Refs {
                org: "org".into(),
                repo: "repo".into(),
                base_ref: "main".into(),
                pulls: vec![Pull {
                    number: 42,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let extra = BTreeMap::from([("custom".to_string(), "v".to_string())]);
        let (labels, annotations) =
            labels_and_annotations_for_spec(&spec, &extra, &BTreeMap::new());
        assert_eq!(labels[CREATED_BY_PROW], "true");
        assert_eq!(labels[PROW_JOB_TYPE], "presubmit");
        assert_eq!(labels[PROW_JOB_ANNOTATION].len(), 63);
        assert_eq!(annotations[PROW_JOB_ANNOTATION], spec.job);
        // "ci/some context" is invalid; its basename "some context" is too, so it is dropped.
        assert!(!labels.contains_key(CONTEXT_ANNOTATION));
        assert_eq!(labels[PULL], "42");
        assert_eq!(labels[BASE_REF], "main");
        assert_eq!(labels["custom"], "v");
    }
}
