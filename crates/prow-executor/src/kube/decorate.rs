//! Pure rendering of the Pod that runs a ProwJob, as Prow's plank builds it
//! (`pkg/pod-utils/decorate/podspec.go`, spec §2.3–§2.5, §8.1).
//!
//! Undecorated jobs get their pod spec unchanged apart from the job environment, the `test`
//! container name, `restartPolicy: Never` and the termination-message fallback. Decorated jobs
//! additionally get the pod utilities: `clonerefs`, `initupload` and `place-entrypoint` init
//! containers, every test container wrapped by `/tools/entrypoint`, and a `sidecar` container
//! that uploads logs and artifacts. The `*_OPTIONS` JSON is produced with the option structs of
//! `prow-pod-utils`, whose field order and omission rules follow Prow's Go types, so the
//! values are byte-identical to what Prow writes.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, HostPathVolumeSource, KeyToPath, Pod,
    PodSecurityContext, PodSpec, ResourceRequirements, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prow_api::{DecorationConfig, ProwJob, Refs, labels};
use prow_pod_utils::clone::path_for_refs;
use prow_pod_utils::clonerefs::{
    CLONEREFS_OPTIONS_ENV, CloneRefsOptions, DEFAULT_GIT_USER_EMAIL, DEFAULT_GIT_USER_NAME,
};
use prow_pod_utils::downwardapi::{self, JOB_SPEC_ENV, JobSpec};
use prow_pod_utils::entrypoint::{ENTRYPOINT_OPTIONS_ENV, EntrypointOptions};
use prow_pod_utils::gcs::join;
use prow_pod_utils::initupload::{INITUPLOAD_OPTIONS_ENV, InitUploadOptions};
use prow_pod_utils::sidecar::{CensoringOptions, SIDECAR_OPTIONS_ENV, SidecarOptions};
use prow_pod_utils::upload::GcsUploadOptions;
use prow_pod_utils::wrapper::WrapperOptions;

/// Name given to the only container of a single-container job.
pub const TEST_CONTAINER_NAME: &str = "test";
/// Init container cloning the refs.
pub const CLONEREFS_NAME: &str = "clonerefs";
/// Init container uploading `started.json`.
pub const INITUPLOAD_NAME: &str = "initupload";
/// Init container copying the entrypoint binary into the tools volume.
pub const PLACE_ENTRYPOINT_NAME: &str = "place-entrypoint";
/// Container uploading logs and artifacts.
pub const SIDECAR_NAME: &str = "sidecar";

/// Logs volume name.
pub const LOG_MOUNT_NAME: &str = "logs";
/// Logs mount path.
pub const LOG_MOUNT_PATH: &str = "/logs";
/// `$ARTIFACTS` of decorated jobs.
pub const ARTIFACTS_PATH: &str = "/logs/artifacts";
/// Code volume name.
pub const CODE_MOUNT_NAME: &str = "code";
/// Clone root and `$GOPATH`.
pub const CODE_MOUNT_PATH: &str = "/home/prow/go";
/// Tools volume name.
pub const TOOLS_MOUNT_NAME: &str = "tools";
/// Tools mount path (holds `entrypoint`).
pub const TOOLS_MOUNT_PATH: &str = "/tools";
/// GCS credentials volume name.
pub const GCS_CREDENTIALS_MOUNT_NAME: &str = "gcs-credentials";
/// GCS credentials mount path.
pub const GCS_CREDENTIALS_MOUNT_PATH: &str = "/secrets/gcs";
/// S3 credentials volume name.
pub const S3_CREDENTIALS_MOUNT_NAME: &str = "s3-credentials";
/// S3 credentials mount path.
pub const S3_CREDENTIALS_MOUNT_PATH: &str = "/secrets/s3-storage";
/// Local-mode output volume name.
pub const OUTPUT_MOUNT_NAME: &str = "output";
/// Local-mode output mount path.
pub const OUTPUT_MOUNT_PATH: &str = "/output";
/// GitHub API endpoint clonerefs uses when the decoration config names none.
pub const DEFAULT_GITHUB_API_ENDPOINT: &str = "https://api.github.com";

const ARTIFACTS_ENV: &str = "ARTIFACTS";
const GOPATH_ENV: &str = "GOPATH";
const FALLBACK_TO_LOGS_ON_ERROR: &str = "FallbackToLogsOnError";
const CREDENTIALS_FILE: &str = "service-account.json";

/// Why a Pod could not be rendered; the job should end in `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecorateError {
    /// The ProwJob has no `pod_spec`.
    #[error("prowjob {0:?} lacks a pod spec")]
    MissingPodSpec(String),
    /// The job environment could not be computed (e.g. a presubmit without refs or pulls).
    #[error("{0}")]
    Env(String),
    /// An option struct could not be encoded.
    #[error("could not encode {what} as JSON: {reason}")]
    Encode {
        /// Which options.
        what: &'static str,
        /// serde's message.
        reason: String,
    },
}

/// The labels and annotations of a job's pod (Prow's `LabelsAndAnnotationsForJob`): the
/// standard set for the spec, the job's own labels/annotations, `prow.k8s.io/id` = job name and
/// `prow.k8s.io/build-id` = `build_id`.
pub fn labels_and_annotations_for_job(
    pj: &ProwJob,
    build_id: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut extra_labels = pj.metadata.labels.clone().unwrap_or_default();
    let extra_annotations = pj.metadata.annotations.clone().unwrap_or_default();
    extra_labels.insert(labels::PROW_JOB_ID.to_string(), pj.name().to_string());
    extra_labels.insert(labels::PROW_BUILD_ID.to_string(), build_id.to_string());
    labels::labels_and_annotations_for_spec(&pj.spec, &extra_labels, &extra_annotations)
}

/// Environment variables sorted by name (Prow's `KubeEnv`); empty values are left unset, as
/// Go's `omitempty` does.
pub fn kube_env(env: &BTreeMap<String, String>) -> Vec<EnvVar> {
    env.iter()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            value: (!value.is_empty()).then(|| value.clone()),
            value_from: None,
        })
        .collect()
}

/// Renders the Pod for `pj` started with `build_id` (Prow's `ProwJobToPod`). The namespace is
/// left unset; the caller places the pod.
pub fn prowjob_to_pod(pj: &ProwJob, build_id: &str) -> Result<Pod, DecorateError> {
    prowjob_to_pod_local(pj, build_id, None)
}

/// Like [`prowjob_to_pod`]; with `output_dir`, the pod utilities copy results into that host
/// directory (mounted at `/output`) instead of uploading (Prow's `ProwJobToPodLocal`).
pub fn prowjob_to_pod_local(
    pj: &ProwJob,
    build_id: &str,
    output_dir: Option<&str>,
) -> Result<Pod, DecorateError> {
    let Some(pod_spec) = pj.spec.pod_spec.as_ref() else {
        return Err(DecorateError::MissingPodSpec(pj.name().to_string()));
    };
    let job_spec = JobSpec::new(&pj.spec, build_id, pj.name());
    let raw_env =
        downwardapi::env_for_spec(&job_spec).map_err(|e| DecorateError::Env(e.to_string()))?;

    let mut spec = pod_spec.clone();
    spec.restart_policy = Some("Never".to_string());
    if spec.containers.len() == 1 {
        spec.containers[0].name = TEST_CONTAINER_NAME.to_string();
    }
    // Kubernetes mounts the default token when unset; Prow only wants it when a service
    // account was chosen or the token explicitly requested.
    if spec.automount_service_account_token.is_none()
        && spec
            .service_account_name
            .as_deref()
            .unwrap_or("")
            .is_empty()
    {
        spec.automount_service_account_token = Some(false);
    }

    match pj.spec.decoration_config.as_ref() {
        None => {
            let env = kube_env(&raw_env);
            for c in &mut spec.containers {
                c.env
                    .get_or_insert_with(Vec::new)
                    .extend(env.iter().cloned());
            }
        }
        Some(_) => decorate_pod_spec(&mut spec, pj, raw_env, output_dir)?,
    }

    // A snippet of the failure in the pod status helps when logs are gone.
    for c in spec
        .init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut())
    {
        if c.termination_message_policy
            .as_deref()
            .unwrap_or("")
            .is_empty()
        {
            c.termination_message_policy = Some(FALLBACK_TO_LOGS_ON_ERROR.to_string());
        }
    }

    let (labels, annotations) = labels_and_annotations_for_job(pj, build_id);
    Ok(Pod {
        metadata: ObjectMeta {
            name: Some(pj.name().to_string()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    })
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.to_string(),
        mount_path: path.to_string(),
        ..Default::default()
    }
}

fn read_only_mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        read_only: Some(true),
        ..mount(name, path)
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.to_string(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    }
}

fn secret_volume(name: &str, secret: SecretVolumeSource) -> Volume {
    Volume {
        name: name.to_string(),
        secret: Some(secret),
        ..Default::default()
    }
}

/// A secret with one key exposed as `./<key>` (OAuth token, GitHub App key).
fn keyed_secret_volume(secret: &str, key: &str) -> Volume {
    secret_volume(
        secret,
        SecretVolumeSource {
            secret_name: Some(secret.to_string()),
            items: Some(vec![KeyToPath {
                key: key.to_string(),
                path: format!("./{key}"),
                mode: None,
            }]),
            ..Default::default()
        },
    )
}

fn encode<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, DecorateError> {
    serde_json::to_string(value).map_err(|e| DecorateError::Encode {
        what,
        reason: e.to_string(),
    })
}

fn env_of(pairs: &[(&str, &str)]) -> Vec<EnvVar> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    kube_env(&map)
}

fn decoration_resources(
    dc: &DecorationConfig,
    pick: fn(&prow_api::Resources) -> Option<&ResourceRequirements>,
) -> Option<ResourceRequirements> {
    dc.resources.as_ref().and_then(pick).cloned()
}

/// Volumes, mounts and upload options for the artifact bucket (Prow's `BlobStorageOptions`).
fn blob_storage(
    dc: &DecorationConfig,
    local_mode: bool,
) -> (Vec<Volume>, Vec<VolumeMount>, GcsUploadOptions) {
    let mut opts = GcsUploadOptions {
        gcs_configuration: dc.gcs_configuration.clone().unwrap_or_default(),
        ..Default::default()
    };
    if local_mode {
        opts.gcs_configuration.local_output_dir = OUTPUT_MOUNT_PATH.to_string();
        return (Vec::new(), Vec::new(), opts);
    }
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    let mut add = |secret: &Option<String>, name: &str, path: &str| -> Option<String> {
        let secret = secret.as_deref().filter(|s| !s.is_empty())?;
        volumes.push(secret_volume(
            name,
            SecretVolumeSource {
                secret_name: Some(secret.to_string()),
                ..Default::default()
            },
        ));
        mounts.push(mount(name, path));
        Some(format!("{path}/{CREDENTIALS_FILE}"))
    };
    if let Some(file) = add(
        &dc.gcs_credentials_secret,
        GCS_CREDENTIALS_MOUNT_NAME,
        GCS_CREDENTIALS_MOUNT_PATH,
    ) {
        opts.gcs_credentials_file = file;
    }
    if let Some(file) = add(
        &dc.s3_credentials_secret,
        S3_CREDENTIALS_MOUNT_NAME,
        S3_CREDENTIALS_MOUNT_PATH,
    ) {
        opts.s3_credentials_file = file;
    }
    (volumes, mounts, opts)
}

/// The refs a decorated job clones: `refs` then `extra_refs`.
fn refs_to_clone(pj: &ProwJob) -> Vec<Refs> {
    pj.spec
        .refs
        .iter()
        .chain(pj.spec.extra_refs.iter())
        .cloned()
        .collect()
}

/// The clonerefs init container and the volumes it needs (Prow's `CloneRefs`); `None` when
/// cloning is skipped or there is nothing to clone.
fn clonerefs_container(
    dc: &DecorationConfig,
    refs: &[Refs],
    code_mount: &VolumeMount,
    log_mount: &VolumeMount,
) -> Result<Option<(Container, Vec<Volume>)>, DecorateError> {
    if dc.skip_cloning == Some(true) || refs.is_empty() {
        return Ok(None);
    }
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();

    let mut key_files = Vec::new();
    for secret in &dc.ssh_key_secrets {
        let name = format!("ssh-keys-{secret}");
        let path = join(&["/secrets/ssh", secret]);
        volumes.push(secret_volume(
            &name,
            SecretVolumeSource {
                secret_name: Some(secret.clone()),
                // u+r: ssh refuses keys readable by others.
                default_mode: Some(0o400),
                ..Default::default()
            },
        ));
        mounts.push(read_only_mount(&name, &path));
        key_files.push(path);
    }

    let mut oauth_token_file = String::new();
    if let Some(secret) = &dc.oauth_token_secret {
        volumes.push(keyed_secret_volume(&secret.name, &secret.key));
        mounts.push(read_only_mount(&secret.name, "/secrets/oauth"));
        oauth_token_file = join(&["/secrets/oauth", &secret.key]);
    }

    let github_api_endpoints = if dc.github_api_endpoints.is_empty() {
        vec![DEFAULT_GITHUB_API_ENDPOINT.to_string()]
    } else {
        dc.github_api_endpoints.clone()
    };

    let mut github_app_private_key_file = String::new();
    if let Some(secret) = &dc.github_app_private_key_secret {
        volumes.push(keyed_secret_volume(&secret.name, &secret.key));
        mounts.push(read_only_mount(&secret.name, "/secrets/github-app"));
        github_app_private_key_file = join(&["/secrets/github-app", &secret.key]);
    }

    // clonerefs writes known_hosts and the like under /tmp.
    volumes.push(empty_dir("clonerefs-tmp"));
    mounts.push(mount("clonerefs-tmp", "/tmp"));

    let mut args = Vec::new();
    let mut cookie_path = String::new();
    if let Some(cookie) = dc.cookiefile_secret.as_deref().filter(|s| !s.is_empty()) {
        // `name` or `name/key`; the key defaults to the secret name.
        let (secret, base) = cookie.split_once('/').unwrap_or((cookie, cookie));
        volumes.push(secret_volume(
            "cookiefile",
            SecretVolumeSource {
                secret_name: Some(secret.to_string()),
                default_mode: Some(0o400),
                ..Default::default()
            },
        ));
        mounts.push(read_only_mount("cookiefile", "/secrets/cookiefile"));
        cookie_path = join(&["/secrets/cookiefile", base]);
        args.push(format!("--cookiefile={cookie_path}"));
    }

    let opts = CloneRefsOptions {
        src_root: code_mount.mount_path.clone(),
        log: join(&[&log_mount.mount_path, "clone.json"]),
        git_user_name: DEFAULT_GIT_USER_NAME.to_string(),
        git_user_email: DEFAULT_GIT_USER_EMAIL.to_string(),
        refs: refs.to_vec(),
        key_files,
        oauth_token_file,
        host_fingerprints: dc.ssh_host_fingerprints.clone(),
        cookie_path,
        github_api_endpoints,
        github_app_id: dc.github_app_id.clone(),
        github_app_private_key_file,
        ..Default::default()
    };
    let env = env_of(&[(CLONEREFS_OPTIONS_ENV, &encode("clonerefs options", &opts)?)]);

    let mut all_mounts = vec![log_mount.clone(), code_mount.clone()];
    all_mounts.extend(mounts);
    let container = Container {
        name: CLONEREFS_NAME.to_string(),
        image: Some(utility_image(dc, |i| &i.clonerefs)),
        args: (!args.is_empty()).then_some(args),
        env: Some(env),
        volume_mounts: Some(all_mounts),
        resources: decoration_resources(dc, |r| r.clonerefs.as_ref()),
        ..Default::default()
    };
    Ok(Some((container, volumes)))
}

fn utility_image(dc: &DecorationConfig, pick: fn(&prow_api::UtilityImages) -> &String) -> String {
    dc.utility_images
        .as_ref()
        .map(pick)
        .cloned()
        .unwrap_or_default()
}

fn process_log(prefix: &str) -> String {
    if prefix.is_empty() {
        format!("{LOG_MOUNT_PATH}/process-log.txt")
    } else {
        format!("{LOG_MOUNT_PATH}/{prefix}-log.txt")
    }
}

fn marker_file(prefix: &str) -> String {
    if prefix.is_empty() {
        format!("{LOG_MOUNT_PATH}/marker-file.txt")
    } else {
        format!("{LOG_MOUNT_PATH}/{prefix}-marker.txt")
    }
}

fn metadata_file(prefix: &str) -> String {
    if prefix.is_empty() {
        format!("{ARTIFACTS_PATH}/metadata.json")
    } else {
        format!("{ARTIFACTS_PATH}/{prefix}-metadata.json")
    }
}

/// Makes `/tools/entrypoint` the container's command, moving the original command and args
/// into `ENTRYPOINT_OPTIONS` (Prow's `InjectEntrypoint`).
fn inject_entrypoint(
    c: &mut Container,
    dc: &DecorationConfig,
    prefix: &str,
    log_mount: &VolumeMount,
    tools_mount: &VolumeMount,
) -> Result<WrapperOptions, DecorateError> {
    let mut args = c.command.take().unwrap_or_default();
    args.extend(c.args.take().unwrap_or_default());
    let wrapper = WrapperOptions {
        args,
        container_name: c.name.clone(),
        process_log: process_log(prefix),
        marker_file: marker_file(prefix),
        metadata_file: metadata_file(prefix),
    };
    let opts = EntrypointOptions {
        timeout: dc.timeout.map(|d| d.get()).unwrap_or_default(),
        grace_period: dc.grace_period.map(|d| d.get()).unwrap_or_default(),
        artifact_dir: ARTIFACTS_PATH.to_string(),
        wrapper: wrapper.clone(),
        ..Default::default()
    };
    c.command = Some(vec![format!("{TOOLS_MOUNT_PATH}/entrypoint")]);
    c.env.get_or_insert_with(Vec::new).extend(env_of(&[(
        ENTRYPOINT_OPTIONS_ENV,
        &encode("entrypoint options", &opts)?,
    )]));
    c.volume_mounts
        .get_or_insert_with(Vec::new)
        .extend([log_mount.clone(), tools_mount.clone()]);
    Ok(wrapper)
}

/// Decorates `spec` in place with the pod utilities (Prow's `decorate`). `raw_env` is the job
/// environment (normally from the downward API); `ARTIFACTS` and `GOPATH` are added to it.
/// Does nothing when `pj` has no decoration config.
pub fn decorate_pod_spec(
    spec: &mut PodSpec,
    pj: &ProwJob,
    mut raw_env: BTreeMap<String, String>,
    output_dir: Option<&str>,
) -> Result<(), DecorateError> {
    let Some(dc) = pj.spec.decoration_config.as_ref() else {
        return Ok(());
    };
    raw_env.insert(ARTIFACTS_ENV.to_string(), ARTIFACTS_PATH.to_string());
    raw_env.insert(GOPATH_ENV.to_string(), CODE_MOUNT_PATH.to_string());
    let log_mount = mount(LOG_MOUNT_NAME, LOG_MOUNT_PATH);
    let code_mount = mount(CODE_MOUNT_NAME, CODE_MOUNT_PATH);
    let tools_mount = mount(TOOLS_MOUNT_NAME, TOOLS_MOUNT_PATH);

    let output_dir = output_dir.filter(|d| !d.is_empty());
    let output_mount = output_dir.map(|_| mount(OUTPUT_MOUNT_NAME, OUTPUT_MOUNT_PATH));
    let output_volume = output_dir.map(|dir| Volume {
        name: OUTPUT_MOUNT_NAME.to_string(),
        host_path: Some(HostPathVolumeSource {
            path: dir.to_string(),
            type_: None,
        }),
        ..Default::default()
    });

    let (blob_volumes, blob_mounts, blob_opts) = blob_storage(dc, output_dir.is_some());

    let refs = refs_to_clone(pj);
    let cloner = clonerefs_container(dc, &refs, &code_mount, &log_mount)?;
    // Without a clone there is no clone log for initupload to read, and no code volume.
    let (cloned_refs, clone_volumes, clone_log_mount) = match cloner {
        Some((container, volumes)) => {
            let init = spec.init_containers.get_or_insert_with(Vec::new);
            init.insert(0, container);
            (refs, volumes, Some(log_mount.clone()))
        }
        None => (Vec::new(), Vec::new(), None),
    };

    let encoded_job_spec = raw_env.get(JOB_SPEC_ENV).cloned().unwrap_or_default();

    // initupload
    let mut init_opts = InitUploadOptions {
        gcs: blob_opts.clone(),
        log: String::new(),
    };
    let mut init_mounts = Vec::new();
    if let Some(m) = &clone_log_mount {
        init_opts.log = join(&[&m.mount_path, "clone.json"]);
        init_mounts.push(m.clone());
    }
    init_mounts.extend(blob_mounts.iter().cloned());
    init_mounts.extend(output_mount.iter().cloned());
    let initupload = Container {
        name: INITUPLOAD_NAME.to_string(),
        image: Some(utility_image(dc, |i| &i.initupload)),
        env: Some(env_of(&[
            (JOB_SPEC_ENV, &encoded_job_spec),
            (
                INITUPLOAD_OPTIONS_ENV,
                &encode("initupload options", &init_opts)?,
            ),
        ])),
        volume_mounts: Some(init_mounts),
        resources: decoration_resources(dc, |r| r.initupload.as_ref()),
        ..Default::default()
    };
    let place_entrypoint = Container {
        name: PLACE_ENTRYPOINT_NAME.to_string(),
        image: Some(utility_image(dc, |i| &i.entrypoint)),
        args: Some(vec!["--copy-mode-only".to_string()]),
        volume_mounts: Some(vec![tools_mount.clone()]),
        resources: decoration_resources(dc, |r| r.place_entrypoint.as_ref()),
        ..Default::default()
    };
    spec.init_containers
        .get_or_insert_with(Vec::new)
        .extend([initupload, place_entrypoint]);

    let job_env = kube_env(&raw_env);
    for c in &mut spec.containers {
        c.env
            .get_or_insert_with(Vec::new)
            .extend(job_env.iter().cloned());
    }

    // Secret volumes whose mounts the sidecar censors, when asked to.
    let secret_volumes: BTreeSet<String> = if dc.censor_secrets == Some(true) {
        spec.volumes
            .iter()
            .flatten()
            .filter(|v| v.secret.is_some())
            .map(|v| v.name.clone())
            .collect()
    } else {
        BTreeSet::new()
    };

    let single = spec.containers.len() == 1;
    let mut secret_mounts = Vec::new();
    let mut wrappers = Vec::new();
    for c in &mut spec.containers {
        let prefix = if single {
            String::new()
        } else {
            c.name.clone()
        };
        wrappers.push(inject_entrypoint(c, dc, &prefix, &log_mount, &tools_mount)?);
        secret_mounts.extend(
            c.volume_mounts
                .iter()
                .flatten()
                .filter(|m| secret_volumes.contains(&m.name))
                .cloned(),
        );
    }

    let sidecar = sidecar_container(
        dc,
        blob_opts,
        &blob_mounts,
        &log_mount,
        output_mount.as_ref(),
        &encoded_job_spec,
        &secret_mounts,
        wrappers,
    )?;

    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    volumes.push(empty_dir(LOG_MOUNT_NAME));
    volumes.push(empty_dir(TOOLS_MOUNT_NAME));
    volumes.extend(blob_volumes);
    volumes.extend(output_volume);

    if let Some(first) = cloned_refs.first() {
        let workdir = cloned_refs.iter().find(|r| r.workdir).unwrap_or(first);
        let workdir = path_for_refs(CODE_MOUNT_PATH, workdir);
        for c in &mut spec.containers {
            c.working_dir = Some(workdir.clone());
            c.volume_mounts
                .get_or_insert_with(Vec::new)
                .push(code_mount.clone());
        }
        volumes.extend(clone_volumes);
        volumes.push(empty_dir(CODE_MOUNT_NAME));
    }

    if let Some(memory) = &dc.default_memory_request {
        for c in &mut spec.containers {
            let requests = c
                .resources
                .get_or_insert_with(Default::default)
                .requests
                .get_or_insert_with(BTreeMap::new);
            requests
                .entry("memory".to_string())
                .or_insert_with(|| memory.clone());
        }
    }

    let sc = spec
        .security_context
        .get_or_insert_with(PodSecurityContext::default);
    if sc.run_as_user.is_none() {
        sc.run_as_user = dc.run_as_user;
    }
    if sc.run_as_group.is_none() {
        sc.run_as_group = dc.run_as_group;
    }
    if sc.fs_group.is_none() {
        sc.fs_group = dc.fs_group;
    }

    if let Some(sched) = &dc.scheduling_options {
        if spec.affinity.is_none() {
            spec.affinity = sched.affinity.clone();
        }
        if spec.tolerations.is_none() {
            spec.tolerations = sched.tolerations.clone();
        }
    }

    if dc.set_limit_equals_memory_request == Some(true) {
        for c in &mut spec.containers {
            let Some(res) = c.resources.as_mut() else {
                continue;
            };
            let Some(memory) = res.requests.as_ref().and_then(|r| r.get("memory")).cloned() else {
                continue;
            };
            res.limits
                .get_or_insert_with(BTreeMap::new)
                .insert("memory".to_string(), memory);
        }
    }

    spec.containers.push(sidecar);

    // The pod's grace period must cover the test's own grace period and the upload after it:
    // Prow assumes an 80/20 split.
    if spec.termination_grace_period_seconds.is_none()
        && let Some(grace) = dc.grace_period
    {
        let secs = i64::try_from(grace.get().as_secs()).unwrap_or(i64::MAX / 5);
        spec.termination_grace_period_seconds = Some(secs.saturating_mul(5) / 4);
    }

    if spec
        .service_account_name
        .as_deref()
        .unwrap_or("")
        .is_empty()
        && let Some(sa) = &dc.default_service_account_name
    {
        spec.service_account_name = Some(sa.clone());
    }
    Ok(())
}

/// The sidecar container (Prow's `Sidecar`). Plank never sets `entry_error`, so the pod's
/// phase follows the test containers' exit codes.
#[allow(clippy::too_many_arguments)]
fn sidecar_container(
    dc: &DecorationConfig,
    mut gcs: GcsUploadOptions,
    blob_mounts: &[VolumeMount],
    log_mount: &VolumeMount,
    output_mount: Option<&VolumeMount>,
    encoded_job_spec: &str,
    secret_mounts: &[VolumeMount],
    wrappers: Vec<WrapperOptions>,
) -> Result<Container, DecorateError> {
    gcs.items.push(join(&[&log_mount.mount_path, "artifacts"]));
    let mut censoring = CensoringOptions {
        secret_directories: secret_mounts.iter().map(|m| m.mount_path.clone()).collect(),
        ..Default::default()
    };
    if let Some(c) = &dc.censoring_options {
        censoring.censoring_concurrency = c.censoring_concurrency;
        censoring.censoring_buffer_size = c.censoring_buffer_size;
        censoring.include_directories = c.include_directories.clone().unwrap_or_default();
        censoring.exclude_directories = c.exclude_directories.clone().unwrap_or_default();
        censoring.minimum_secret_length = c.minimum_secret_length;
    }
    let opts = SidecarOptions {
        gcs_options: gcs,
        entries: wrappers,
        entry_error: false,
        ignore_interrupts: dc.upload_ignores_interrupts == Some(true),
        censoring_options: Some(censoring),
        ..Default::default()
    };
    let mut mounts = vec![log_mount.clone()];
    mounts.extend(blob_mounts.iter().cloned());
    mounts.extend(secret_mounts.iter().cloned());
    mounts.extend(output_mount.cloned());
    Ok(Container {
        name: SIDECAR_NAME.to_string(),
        image: Some(utility_image(dc, |i| &i.sidecar)),
        env: Some(env_of(&[
            (JOB_SPEC_ENV, encoded_job_spec),
            (SIDECAR_OPTIONS_ENV, &encode("sidecar options", &opts)?),
        ])),
        volume_mounts: Some(mounts),
        termination_message_policy: Some(FALLBACK_TO_LOGS_ON_ERROR.to_string()),
        resources: decoration_resources(dc, |r| r.sidecar.as_ref()),
        ..Default::default()
    })
}
