//! ProwJobs we serialize must be accepted by Prow's own CRD schema, with no field the CRD does
#![recursion_limit = "256"]
//! not declare (the API server would silently prune such a field, losing data).

use std::path::PathBuf;

use prow_api::ProwJob;
use serde_json::{Value, json};

fn corpus(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(rel);
    assert!(
        p.exists(),
        "corpus file {} is missing: tests need ../shared/corpus beside the checkout",
        p.display()
    );
    p
}

fn prow_crd_schema() -> Value {
    let text = std::fs::read_to_string(corpus(
        "prow-reference/prowjob_customresourcedefinition.yaml",
    ))
    .unwrap();
    let crd: Value = serde_saphyr::from_str(&text).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// A job that sets nearly every field, so every name is checked.
fn rich_prowjob() -> Value {
    json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": "0d3a7f2e-1111-2222-3333-444455556666", "namespace": "default",
                      "labels": {"created-by-prow": "true"}},
        "spec": {
            "type": "presubmit", "agent": "kubernetes", "cluster": "default", "namespace": "test-pods",
            "job": "pull-example-unit",
            "refs": {"org": "example-org", "repo": "example", "repo_link": "https://example.com/example-org/example",
                     "base_ref": "main", "base_sha": "abc123", "base_link": "https://example.com/c/abc123",
                     "pulls": [{"number": 7, "author": "alice", "sha": "def456", "title": "Fix", "ref": "pull/7/head",
                                "head_ref": "fix", "link": "https://example.com/pull/7",
                                "commit_link": "https://example.com/c/def456", "author_link": "https://example.com/alice"}],
                     "path_alias": "example.com/example", "workdir": true, "clone_uri": "https://example.com/x.git",
                     "skip_submodules": true, "clone_depth": 1, "skip_fetch_head": true, "blobless_fetch": true,
                     "sparse_checkout_files": ["a"]},
            "extra_refs": [{"org": "example-org", "repo": "tools", "base_ref": "main", "auxiliary": true}],
            "report": true, "context": "pull-example-unit", "rerun_command": "/test unit",
            "max_concurrency": 2, "error_on_eviction": true,
            "pod_spec": {"containers": [{"name": "test", "image": "example.com/img:1", "command": ["make"], "args": ["test"],
                                          "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]},
            "decoration_config": {
                "timeout": "2h0m0s", "grace_period": "15s",
                "utility_images": {"clonerefs": "c", "initupload": "i", "entrypoint": "e", "sidecar": "s"},
                "resources": {"clonerefs": {"requests": {"cpu": "100m"}}},
                "gcs_configuration": {"bucket": "s3://example-bucket", "path_prefix": "p", "path_strategy": "explicit",
                                      "default_org": "o", "default_repo": "r", "mediaTypes": {"log": "text/plain"},
                                      "job_url_prefix": "https://example.com/view/", "local_output_dir": "/out",
                                      "compress_file_types": ["txt"]},
                "gcs_credentials_secret": "gcs", "s3_credentials_secret": "s3",
                "default_service_account_name": "sa", "ssh_key_secrets": ["ssh"], "ssh_host_fingerprints": ["fp"],
                "blobless_fetch": true, "sparse_checkout_files": ["x"], "skip_cloning": false,
                "cookiefile_secret": "cookie", "oauth_token_secret": {"name": "oauth", "key": "token"},
                "github_api_endpoints": ["https://example.com/api"], "github_app_id": "1",
                "github_app_private_key_secret": {"name": "app", "key": "key"},
                "censor_secrets": true,
                "censoring_options": {"censoring_concurrency": 10, "censoring_buffer_size": 1024,
                                      "include_directories": ["a"], "exclude_directories": ["b"], "minimum_secret_length": 6},
                "upload_ignores_interrupts": true, "set_limit_equals_memory_request": true,
                "default_memory_request": "1Gi",
                "scheduling_options": {"tolerations": [{"key": "k", "operator": "Exists"}]},
                "pod_pending_timeout": "15m0s", "pod_running_timeout": "48h0m0s", "pod_unscheduled_timeout": "5m0s",
                "run_as_user": 1000, "run_as_group": 1000, "fs_group": 2000
            },
            "reporter_config": {"slack": {"host": "*", "channel": "ci", "job_states_to_report": ["failure"],
                                          "report_template": "x", "report": true}},
            "rerun_auth_config": {"github_team_ids": [1],
                                  "github_team_slugs": [{"slug": "s", "org": "o"}],
                                  "github_users": ["alice"], "github_orgs": ["o"]},
            "hidden": true,
            "prowjob_defaults": {"tenant_id": "t", "resultstore_config": {"project_id": "p"}},
            "job_queue_name": "q"
        },
        "status": {
            "startTime": "2026-01-02T03:04:05Z", "pendingTime": "2026-01-02T03:04:06Z",
            "completionTime": "2026-01-02T03:14:05Z", "state": "success", "description": "Job succeeded.",
            "url": "https://example.com/view/gs/b/pr-logs/1", "pod_revival_count": 1,
            "pod_name": "0d3a7f2e-1111-2222-3333-444455556666", "build_id": "1234",
            "jenkins_build_id": "5", "prev_report_states": {"github-reporter": "success"}
        }
    })
}

/// Every object key in `value` must be declared by the schema at that position.
fn undeclared_fields(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (k, v) in map {
                let child = format!("{path}.{k}");
                if let Some(props) = props {
                    match props.get(k) {
                        Some(s) => undeclared_fields(s, v, &child, out),
                        None if schema.get("x-kubernetes-preserve-unknown-fields").is_some() => {}
                        None => out.push(child),
                    }
                } else if let Some(a) = additional.filter(|a| a.is_object()) {
                    undeclared_fields(a, v, &child, out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    undeclared_fields(s, v, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn check_against_prow_crd(value: &Value) {
    let schema = prow_crd_schema();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    let mut extra = Vec::new();
    undeclared_fields(&schema, value, "", &mut extra);
    assert!(
        extra.is_empty(),
        "fields Prow's CRD does not declare: {extra:?}"
    );
}

#[test]
fn rich_prowjob_roundtrips_and_matches_prow_crd() {
    let input = rich_prowjob();
    let pj: ProwJob = serde_json::from_value(input.clone()).unwrap();
    let out = serde_json::to_value(&pj).unwrap();
    // Nothing lost or renamed in the round trip. The fixture is written in Go's canonical form
    // (durations as `2h0m0s`, false bools omitted), which is what we emit.
    assert_eq!(out, input, "round trip changed the object");
    check_against_prow_crd(&out);
}

#[test]
fn minimal_periodic_matches_prow_crd() {
    let pj: ProwJob = serde_json::from_value(json!({
        "metadata": {"name": "x"},
        "spec": {"type": "periodic", "job": "ci-x", "report": true},
        "status": {"state": "triggered", "startTime": "2026-01-02T03:04:05Z"}
    }))
    .unwrap();
    let out = serde_json::to_value(&pj).unwrap();
    assert_eq!(out["apiVersion"], "prow.k8s.io/v1");
    check_against_prow_crd(&out);
}

/// Our own generated CRD declares the same spec/status field names as Prow's.
#[cfg(feature = "crd")]
#[test]
fn generated_crd_declares_prows_fields() {
    fn names(
        schema: &Value,
        path: &str,
        depth: usize,
        out: &mut std::collections::BTreeSet<String>,
    ) {
        if depth == 0 || path.ends_with(".pod_spec") || path.contains(".scheduling_options") {
            return;
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let p = format!("{path}.{k}");
                out.insert(p.clone());
                names(v, &p, depth - 1, out);
            }
        }
        if let Some(items) = schema.get("items") {
            names(items, &format!("{path}[]"), depth, out);
        }
    }
    let ours = serde_json::to_value(prow_api::crd::crd()).unwrap();
    let ours = &ours["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let theirs = prow_crd_schema();
    let (mut a, mut b) = (Default::default(), Default::default());
    // Compare Prow-owned types only (stop at Kubernetes types such as resources and pod specs).
    names(&ours["properties"]["spec"], "spec", 3, &mut a);
    names(&theirs["properties"]["spec"], "spec", 3, &mut b);
    names(&ours["properties"]["status"], "status", 2, &mut a);
    names(&theirs["properties"]["status"], "status", 2, &mut b);
    let resources_inner = |s: &String| {
        s.starts_with("spec.decoration_config.resources.") && s.matches('.').count() > 3
    };
    a.retain(|s| {
        !resources_inner(s)
            && !s.starts_with("spec.pipeline_run_spec.")
            && !s.starts_with("spec.tekton_pipeline_run_spec.")
    });
    b.retain(|s| {
        !resources_inner(s)
            && !s.starts_with("spec.pipeline_run_spec.")
            && !s.starts_with("spec.tekton_pipeline_run_spec.")
    });
    let missing: Vec<_> = b.difference(&a).collect();
    let extra: Vec<_> = a.difference(&b).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
}
