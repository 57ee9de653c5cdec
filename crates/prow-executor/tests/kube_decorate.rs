//! Pod rendering: fidelity against Prow's own fixtures, our goldens, and Kubernetes schema
//! validity of every rendered Pod.
#![cfg(feature = "kube")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Pod, PodSpec};
use prow_api::ProwJob;
use prow_executor::kube::decorate::{self, DecorateError};
use serde_json::Value;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

fn job(yaml: &str) -> ProwJob {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("bad test ProwJob: {e}\n{yaml}"))
}

/// Drops what Go writes for zero values and k8s-openapi models as absent (`resources: {}`,
/// `status: {}`, `creationTimestamp: null`), so both sides compare field by field.
fn normalize_spec(spec: &mut PodSpec) {
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        if c.resources
            .as_ref()
            .is_some_and(|r| *r == Default::default())
        {
            c.resources = None;
        }
    }
}

fn normalize(mut pod: Pod) -> Value {
    if pod
        .status
        .as_ref()
        .is_some_and(|s| *s == Default::default())
    {
        pod.status = None;
    }
    if let Some(spec) = pod.spec.as_mut() {
        normalize_spec(spec);
    }
    serde_json::to_value(pod).expect("pod serializes")
}

/// Prow's `pod_spec` of the `TestDecorate` cases: shared decoration config plus `extra`.
fn decorate_case_job(extra: &str) -> ProwJob {
    job(&format!(
        r#"
spec:
  decoration_config:
    timeout: 1m
    grace_period: 1h
    utility_images: {{clonerefs: cloneimage, initupload: initimage, entrypoint: entrypointimage, sidecar: sidecarimage}}
    resources:
      clonerefs: {{limits: {{cpu: "0"}}, requests: {{memory: "0"}}}}
      initupload: {{limits: {{cpu: "0"}}, requests: {{memory: "0"}}}}
      place_entrypoint: {{limits: {{cpu: "0"}}, requests: {{memory: "0"}}}}
      sidecar: {{limits: {{cpu: "0"}}, requests: {{memory: "0"}}}}
    gcs_configuration: {{bucket: bucket, path_strategy: single, default_org: org, default_repo: repo}}
    gcs_credentials_secret: gcs-secret
    default_service_account_name: default-sa
{extra}
  refs: {{org: org, repo: repo, base_ref: main, base_sha: abcd1234, pulls: [{{number: 1, sha: aksdjhfkds}}]}}
  extra_refs: [{{org: other, repo: something, base_ref: release, base_sha: sldijfsd}}]
"#
    ))
}

const SECRET_SPEC: &str = r#"
volumes: [{name: secret, secret: {secretName: secretname}}]
containers:
- {name: test, command: [/bin/ls], args: [-l, -a], volumeMounts: [{name: secret, mountPath: /secret}]}
serviceAccountName: tester
"#;

const MEMORY_SPEC: &str = r#"
containers:
- {name: test, command: [/bin/ls], args: [-l, -a], resources: {requests: {memory: 8Gi}, limits: {memory: 100Gi}}}
serviceAccountName: tester
"#;

const TWO_CONTAINERS_MEMORY_SPEC: &str = r#"
containers:
- {name: test, command: [/bin/ls], args: [-l, -a], resources: {requests: {memory: 8Gi}, limits: {memory: 100Gi}}}
- {name: test2, command: [/bin/ls], args: [-l, -a]}
serviceAccountName: tester
"#;

/// Prow's `TestDecorate`: same spec, job and raw env ⇒ the same decorated pod spec.
#[test]
fn decorate_matches_prow_fixtures() {
    let cases = [
        ("basic_happy_case", SECRET_SPEC, ""),
        (
            "censor_secrets_in_sidecar",
            SECRET_SPEC,
            "    censor_secrets: true",
        ),
        (
            "ignore_interrupts_in_sidecar",
            SECRET_SPEC,
            "    upload_ignores_interrupts: true",
        ),
        (
            "enforcing_memory_limit",
            MEMORY_SPEC,
            "    set_limit_equals_memory_request: true",
        ),
        (
            "default_memory_request",
            TWO_CONTAINERS_MEMORY_SPEC,
            "    set_limit_equals_memory_request: true\n    default_memory_request: 4Gi",
        ),
    ];
    for (name, spec_yaml, extra) in cases {
        let pj = decorate_case_job(extra);
        let mut spec: PodSpec = serde_saphyr::from_str(spec_yaml).expect("test pod spec");
        let raw_env = BTreeMap::from([("custom".to_string(), "env".to_string())]);
        decorate::decorate_pod_spec(&mut spec, &pj, raw_env, None).expect("decorates");
        normalize_spec(&mut spec);

        let path = golden_dir().join(format!("prow/TestDecorate_{name}.yaml"));
        let mut want: PodSpec = serde_saphyr::from_str(&read(&path)).expect("Prow fixture parses");
        normalize_spec(&mut want);
        assert!(
            !want.containers.is_empty(),
            "{name}: fixture has no containers"
        );
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            serde_json::to_value(&want).unwrap(),
            "case {name} differs from Prow's {}",
            path.display()
        );
    }
}

/// The decoration config shared by the ported `TestProwJobToPod` cases; `media_types` adds
/// to `gcs_configuration`.
fn pj_dc(media_types: &str) -> String {
    format!(
        r#"
  decoration_config:
    timeout: 2h
    grace_period: 10s
    utility_images: {{clonerefs: "clonerefs:tag", initupload: "initupload:tag", entrypoint: "entrypoint:tag", sidecar: "sidecar:tag"}}
    gcs_configuration: {{bucket: my-bucket, path_strategy: legacy, default_org: kubernetes, default_repo: kubernetes{media_types}}}
    gcs_credentials_secret: secret-name"#
    )
}

fn prow_case(index: usize) -> String {
    let head = "metadata: {name: pod, labels: {needstobe: inherited}}\nstatus: {build_id: blabla}\nspec:\n  job: job-name\n  context: job-context\n  agent: kubernetes\n";
    let refs = |head_ref: &str, alias: bool| {
        format!(
            "  refs: {{org: org-name, repo: repo-name, base_ref: base-ref, base_sha: base-sha{}, pulls: [{{number: 1, author: author-name, sha: pull-sha, head_ref: {head_ref}, title: pull-title}}]}}\n",
            if alias {
                ", path_alias: somewhere/else"
            } else {
                ""
            }
        )
    };
    let container = "  pod_spec:\n    containers:\n    - {name: '', image: tester, command: [/bin/thing], args: [some, args], env: [{name: MY_ENV, value: rocks}]";
    let extra = "  extra_refs: [{org: extra-org, repo: extra-repo}]\n";
    let dc = pj_dc("");
    match index {
        0 => format!(
            "{head}  type: presubmit\n{}  pod_spec:\n    containers: [{{name: '', image: tester, env: [{{name: MY_ENV, value: rocks}}]}}]\n",
            refs("pull-branch-name", false)
        ),
        1 => format!(
            "{head}  type: presubmit\n{}  extra_refs: []\n{}\n    cookiefile_secret: yummy/.gitcookies\n{container}}}\n",
            refs("my-big-change", true),
            pj_dc(", mediaTypes: {log: text/plain}")
        ),
        3 => format!(
            "{head}  type: presubmit\n{}{dc}\n    ssh_key_secrets: [ssh-1, ssh-2]\n    ssh_host_fingerprints: [hello, world]\n{container}, terminationMessagePolicy: File}}\n",
            refs("fixes-fixes-fixes", true)
        ),
        5 => format!(
            "{head}  type: periodic\n{dc}\n    ssh_key_secrets: [ssh-1, ssh-2]\n{container}}}\n"
        ),
        6 => format!(
            "{head}  type: presubmit\n{}{extra}{dc}\n    ssh_key_secrets: [ssh-1, ssh-2]\n    skip_cloning: true\n{container}}}\n",
            refs("best-branch-name", true)
        ),
        7 => format!(
            "{head}  type: presubmit\n{}{extra}{dc}\n    ssh_key_secrets: [ssh-1, ssh-2]\n    cookiefile_secret: yummy\n  pod_spec:\n    containers:\n    - {{name: test-0, image: tester, command: [/bin/thing], args: [some, args], env: [{{name: MY_ENV, value: rocks}}]}}\n    - {{name: test-1, image: othertester, command: [/bin/otherthing], args: [other, args], env: [{{name: MY_ENV, value: stones}}]}}\n",
            refs("pr-head-ref-11", true)
        ),
        _ => unreachable!("no such ported case"),
    }
}

/// Prow's `TestProwJobToPod`: same ProwJob ⇒ the same Pod, byte-identical option JSON included.
#[test]
fn prowjob_to_pod_matches_prow_fixtures() {
    for index in [0, 1, 3, 5, 6, 7] {
        let yaml = prow_case(index);
        let pj = job(&yaml);
        let pod = decorate::prowjob_to_pod(&pj, &pj.status.build_id)
            .unwrap_or_else(|e| panic!("case {index}: {e}"));
        let path = golden_dir().join(format!("prow/TestProwJobToPod_{index}.yaml"));
        let want: Pod = serde_saphyr::from_str(&read(&path)).expect("Prow fixture parses");
        let (got, want) = (normalize(pod), normalize(want));
        // Guard against comparing two empty documents.
        assert!(
            want["spec"]["containers"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
            "case {index}: fixture has no containers"
        );
        if got != want {
            panic!(
                "case {index} differs from Prow's {}:\n--- ours\n{}\n--- Prow\n{}",
                path.display(),
                serde_saphyr::to_string(&got).unwrap_or_default(),
                serde_saphyr::to_string(&want).unwrap_or_default()
            );
        }
    }
}

/// Our own goldens: whole Pods for typical jobs.
fn golden_cases() -> Vec<(&'static str, ProwJob)> {
    let dc = r#"
  decoration_config:
    timeout: 2h
    grace_period: 15s
    utility_images:
      clonerefs: registry.example.com/clonerefs:v1
      initupload: registry.example.com/initupload:v1
      entrypoint: registry.example.com/entrypoint:v1
      sidecar: registry.example.com/sidecar:v1
    resources:
      clonerefs: {requests: {cpu: 100m, memory: 64Mi}}
      sidecar: {requests: {cpu: 100m}, limits: {memory: 1Gi}}
"#;
    vec![
        (
            "plain_postsubmit",
            job(r#"
metadata: {name: 7a1c0f52-plain, labels: {preset-dind: "true"}}
status: {build_id: "1000"}
spec:
  type: postsubmit
  agent: kubernetes
  job: post-example-unit
  refs: {org: example, repo: widgets, base_ref: main, base_sha: 0123456789abcdef}
  pod_spec:
    containers:
    - {name: unit, image: golang:1.24, command: [make], args: [test], env: [{name: GOFLAGS, value: -mod=mod}]}
"#),
        ),
        (
            "presubmit_gcs",
            job(&format!(
                r#"
metadata: {{name: 5b0f9d3e-presubmit}}
status: {{build_id: "1800000000000000001"}}
spec:
  type: presubmit
  agent: kubernetes
  job: pull-widgets-unit
  context: pull-widgets-unit
  rerun_command: /test pull-widgets-unit
  refs:
    org: example
    repo: widgets
    base_ref: main
    base_sha: 0123456789abcdef
    pulls: [{{number: 42, author: alice, sha: fedcba9876543210, title: Add a widget, head_ref: add-widget}}]
{dc}    gcs_configuration: {{bucket: gs://example-prow-logs, path_strategy: explicit}}
    gcs_credentials_secret: gcs-credentials
    default_service_account_name: prowjob-default-sa
    censor_secrets: true
    censoring_options: {{minimum_secret_length: 6, exclude_directories: ["**/junit*.xml"]}}
  pod_spec:
    volumes: [{{name: token, secret: {{secretName: test-token}}}}]
    containers:
    - name: ignored
      image: golang:1.24
      command: [go]
      args: [test, ./...]
      volumeMounts: [{{name: token, mountPath: /etc/token, readOnly: true}}]
"#
            )),
        ),
        (
            "periodic_extra_refs_s3",
            job(&format!(
                r#"
metadata: {{name: 9d2e77aa-periodic}}
status: {{build_id: "1800000000000000002"}}
spec:
  type: periodic
  agent: kubernetes
  job: periodic-widgets-e2e
  extra_refs:
  - {{org: example, repo: test-infra, base_ref: master, path_alias: example.com/test-infra}}
  - {{org: example, repo: widgets, base_ref: main, workdir: true, clone_depth: 1}}
{dc}    gcs_configuration: {{bucket: s3://example-prow-logs, path_strategy: explicit, path_prefix: nightly}}
    s3_credentials_secret: s3-credentials
    upload_ignores_interrupts: true
    run_as_user: 1000
    fs_group: 2000
    scheduling_options:
      tolerations: [{{key: dedicated, operator: Equal, value: e2e, effect: NoSchedule}}]
  pod_spec:
    serviceAccountName: e2e-runner
    containers:
    - {{name: e2e, image: registry.example.com/e2e:latest, args: [./hack/e2e.sh, --nightly], resources: {{requests: {{memory: 2Gi}}}}}}
"#
            )),
        ),
        (
            "presubmit_ssh_oauth_multi_container",
            job(&format!(
                r#"
metadata: {{name: 3c4d5e6f-ssh}}
status: {{build_id: "1800000000000000003"}}
spec:
  type: presubmit
  agent: kubernetes
  job: pull-private-integration
  context: ci/integration
  refs:
    org: example
    repo: private
    base_ref: main
    base_sha: aaaaaaaaaaaaaaaa
    clone_uri: git@git.example.com:example/private.git
    pulls: [{{number: 7, author: bob, sha: bbbbbbbbbbbbbbbb, title: Fix it, head_ref: fix}}]
{dc}    gcs_configuration: {{bucket: example-legacy-bucket, path_strategy: legacy, default_org: example, default_repo: private}}
    gcs_credentials_secret: gcs-credentials
    ssh_key_secrets: [ssh-deploy-key]
    ssh_host_fingerprints: ["git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTONLY"]
    oauth_token_secret: {{name: github-oauth, key: token}}
    github_app_id: "12345"
    github_app_private_key_secret: {{name: github-app, key: cert}}
    default_memory_request: 1Gi
    set_limit_equals_memory_request: true
  pod_spec:
    containers:
    - {{name: server, image: registry.example.com/server:dev, command: [/server], args: [--port=8080]}}
    - {{name: client, image: registry.example.com/client:dev, command: [/client], resources: {{requests: {{memory: 512Mi}}}}}}
"#
            )),
        ),
    ]
}

fn check_golden(name: &str, pod: &Pod) {
    let rendered = serde_saphyr::to_string(pod).expect("pod renders as YAML");
    let path = golden_dir().join(format!("{name}.yaml"));
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &rendered).expect("write golden");
        return;
    }
    let want = read(&path);
    if rendered != want {
        // Point at the first differing line instead of dumping two whole pods.
        let line = rendered
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| rendered.lines().count().min(want.lines().count()));
        panic!(
            "{name}: rendering changed at line {} (rerun with UPDATE_GOLDEN=1 if intended): {}\n ours: {:?}\n file: {:?}",
            line + 1,
            path.display(),
            rendered.lines().nth(line),
            want.lines().nth(line)
        );
    }
}

fn pod_validator() -> jsonschema::Validator {
    let schema = schemars::schema_for!(Pod);
    let schema = serde_json::to_value(&schema).expect("schema serializes");
    jsonschema::validator_for(&schema).expect("Pod schema compiles")
}

/// Every rendered Pod: valid against the Pod OpenAPI-derived JSON schema, survives a
/// serialize → deserialize round trip, and matches its golden file.
#[test]
fn goldens_and_schema() {
    let validator = pod_validator();
    for (name, pj) in golden_cases() {
        let mut pod = decorate::prowjob_to_pod(&pj, &pj.status.build_id)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        pod.metadata.namespace = Some("test-pods".to_string());
        let json = serde_json::to_value(&pod).expect("serializes");
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: schema errors: {errors:?}");
        let back: Pod = serde_json::from_value(json.clone()).expect("deserializes as a Pod");
        assert_eq!(back, pod, "{name}: round trip changed the pod");
        check_golden(name, &pod);
    }
}

#[test]
fn schema_validator_rejects_a_broken_pod() {
    // Guards the check above against a schema that accepts anything.
    let validator = pod_validator();
    let bad = serde_json::json!({"spec": {"containers": [{"name": 5}]}});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn decorated_pod_structure() {
    let cases = golden_cases();
    let (_, pj) = cases
        .iter()
        .find(|(n, _)| *n == "presubmit_ssh_oauth_multi_container")
        .expect("case exists");
    let pod = decorate::prowjob_to_pod(pj, "77").expect("renders");
    let spec = pod.spec.expect("spec");
    let init: Vec<&str> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(init, ["clonerefs", "initupload", "place-entrypoint"]);
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["server", "client", "sidecar"]);
    // Multi-container jobs get per-container log/marker files.
    let server = &spec.containers[0];
    assert_eq!(
        server.command.as_deref(),
        Some(&["/tools/entrypoint".to_string()][..])
    );
    assert!(server.args.is_none());
    let opts = env_value(server, "ENTRYPOINT_OPTIONS");
    let opts: Value = serde_json::from_str(&opts).expect("json");
    assert_eq!(opts["args"], serde_json::json!(["/server", "--port=8080"]));
    assert_eq!(opts["marker_file"], "/logs/server-marker.txt");
    assert_eq!(opts["process_log"], "/logs/server-log.txt");
    assert_eq!(
        opts["metadata_file"],
        "/logs/artifacts/server-metadata.json"
    );
    assert_eq!(opts["timeout"], 7_200_000_000_000_i64);
    assert_eq!(opts["grace_period"], 15_000_000_000_i64);
    assert_eq!(env_value(server, "BUILD_ID"), "77");
    assert_eq!(env_value(server, "ARTIFACTS"), "/logs/artifacts");
    assert_eq!(env_value(server, "PULL_NUMBER"), "7");
    // grace 15s * 5/4
    assert_eq!(spec.termination_grace_period_seconds, Some(18));
    // Memory defaulted where unset and mirrored into limits.
    let mem = |c: &k8s_openapi::api::core::v1::Container, which: &str| {
        let r = c.resources.as_ref()?;
        let list = if which == "req" {
            r.requests.as_ref()?
        } else {
            r.limits.as_ref()?
        };
        list.get("memory").map(|q| q.0.clone())
    };
    assert_eq!(mem(server, "req").as_deref(), Some("1Gi"));
    assert_eq!(mem(server, "lim").as_deref(), Some("1Gi"));
    assert_eq!(mem(&spec.containers[1], "req").as_deref(), Some("512Mi"));
    // Clone secrets.
    let clonerefs = &spec.init_containers.as_ref().expect("init")[0];
    let clone_opts: Value =
        serde_json::from_str(&env_value(clonerefs, "CLONEREFS_OPTIONS")).expect("json");
    assert_eq!(
        clone_opts["key_files"],
        serde_json::json!(["/secrets/ssh/ssh-deploy-key"])
    );
    assert_eq!(clone_opts["oauth_token_file"], "/secrets/oauth/token");
    assert_eq!(
        clone_opts["github_app_private_key_file"],
        "/secrets/github-app/cert"
    );
    assert_eq!(clone_opts["github_app_id"], "12345");
    let ssh = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "ssh-keys-ssh-deploy-key")
        .expect("ssh volume");
    assert_eq!(
        ssh.secret.as_ref().and_then(|s| s.default_mode),
        Some(0o400)
    );
    let labels = pod.metadata.labels.expect("labels");
    assert_eq!(labels["prow.k8s.io/build-id"], "77");
    assert_eq!(labels["prow.k8s.io/id"], "3c4d5e6f-ssh");
    assert_eq!(labels["created-by-prow"], "true");
    // `ci/integration` is not a valid label value; its basename is.
    assert_eq!(labels["prow.k8s.io/context"], "integration");
    assert_eq!(
        pod.metadata.annotations.expect("annotations")["prow.k8s.io/context"],
        "ci/integration"
    );
}

fn env_value(c: &k8s_openapi::api::core::v1::Container, name: &str) -> String {
    c.env
        .iter()
        .flatten()
        .find(|e| e.name == name)
        .and_then(|e| e.value.clone())
        .unwrap_or_else(|| panic!("{}: no env {name}", c.name))
}

#[test]
fn local_mode_mounts_output_instead_of_credentials() {
    let cases = golden_cases();
    let (_, pj) = cases
        .iter()
        .find(|(n, _)| *n == "periodic_extra_refs_s3")
        .expect("case exists");
    let pod = decorate::prowjob_to_pod_local(pj, "1", Some("/var/prow/output")).expect("renders");
    let spec = pod.spec.expect("spec");
    let out = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "output")
        .expect("output volume");
    assert_eq!(
        out.host_path.as_ref().map(|h| h.path.as_str()),
        Some("/var/prow/output")
    );
    assert!(
        spec.volumes
            .iter()
            .flatten()
            .all(|v| v.name != "s3-credentials")
    );
    let sidecar = spec.containers.last().expect("sidecar");
    let opts: Value = serde_json::from_str(&env_value(sidecar, "SIDECAR_OPTIONS")).expect("json");
    assert_eq!(opts["gcs_options"]["local_output_dir"], "/output");
    assert_eq!(opts["ignore_interrupts"], true);
}

#[test]
fn errors_are_reported_not_panicked() {
    let no_spec = job("metadata: {name: x}\nspec: {type: periodic, job: j}\n");
    assert_eq!(
        decorate::prowjob_to_pod(&no_spec, "1"),
        Err(DecorateError::MissingPodSpec("x".into()))
    );
    // A presubmit without refs cannot get its PULL_* environment.
    let no_refs = job(
        "metadata: {name: y}\nspec: {type: presubmit, job: j, pod_spec: {containers: [{name: c, image: i}]}}\n",
    );
    assert!(matches!(
        decorate::prowjob_to_pod(&no_refs, "1"),
        Err(DecorateError::Env(_))
    ));
}
