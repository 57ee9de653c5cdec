//! `plank.job_url_template`: parsed once per config, rendered for every job. Input: the
//! template text. The job it renders has every field the Go template may reach.

use std::sync::LazyLock;

use prow_api::ProwJob;
use prow_controller::joburl::JobUrlTemplate;

/// Mutation tokens.
pub const DICT: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    "{{.Spec.Job}}",
    "{{.Spec.Refs.Org}}",
    "{{.Spec.Refs.Repo}}",
    "{{.Status.BuildID}}",
    "{{.ObjectMeta.Name}}",
    "{{(index .Spec.Refs.Pulls 0).Number}}",
    "{{if ",
    "{{else}}",
    "{{end}}",
    "{{range ",
    "{{with ",
    "{{define \"x\"}}",
    "{{template \"x\"}}",
    "{{block \"b\" .}}",
    "{{/* c */}}",
    "$x := ",
    "$",
    ".",
    "|",
    "(",
    ")",
    "printf \"%s\" ",
    "printf \"%d\" ",
    "printf \"%v\" ",
    "index ",
    "len ",
    "eq ",
    "ne ",
    "lt ",
    "and ",
    "or ",
    "not ",
    "html ",
    "js ",
    "urlquery ",
    "call ",
    "slice ",
    "print ",
    "println ",
    "\"",
    "`",
    "'a'",
    "1e3",
    "-1",
    "0x10",
    "nil",
    "true",
];

static JOB: LazyLock<ProwJob> = LazyLock::new(|| {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {
            "name": "abc-123",
            "namespace": "default",
            "labels": {"prow.k8s.io/job": "pull-test"},
            "annotations": {"prow.k8s.io/job": "pull-test"}
        },
        "spec": {
            "type": "presubmit",
            "agent": "kubernetes",
            "job": "pull-test",
            "refs": {
                "org": "example-org",
                "repo": "example-repo",
                "base_ref": "main",
                "base_sha": "0123456789abcdef",
                "pulls": [{"number": 7, "author": "alice", "sha": "fedcba9876543210"}]
            }
        },
        "status": {"state": "pending", "startTime": "2024-01-01T00:00:00Z", "build_id": "42"}
    }))
    .expect("the sample ProwJob decodes")
});

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = super::text(data);
    if let Ok(t) = JobUrlTemplate::parse(&text) {
        let _ = t.render(&JOB);
    }
}
