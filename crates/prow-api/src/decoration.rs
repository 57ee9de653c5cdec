//! Pod-utility decoration settings and their default-merging rules.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, ResourceRequirements, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::serde_util::nullable;

/// Settings for the pod utilities (clonerefs, initupload, entrypoint, sidecar).
///
/// Every field is optional so that defaults from `plank.default_decoration_config_entries` can be
/// merged field by field: a value set on the job wins, an unset one is taken from the default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecorationConfig {
    /// SIGINT after this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// SIGKILL this long after SIGINT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<Duration>,
    /// Images of the four utilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utility_images: Option<UtilityImages>,
    /// Resource requests of the utility containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Where logs and artifacts go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs_configuration: Option<GcsConfiguration>,
    /// Secret holding GCS credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs_credentials_secret: Option<String>,
    /// Secret holding S3 credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_credentials_secret: Option<String>,
    /// Service account when the pod spec names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_service_account_name: Option<String>,
    /// SSH key secrets for cloning.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ssh_key_secrets: Vec<String>,
    /// Known SSH host fingerprints.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ssh_host_fingerprints: Vec<String>,
    /// Blobless clones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobless_fetch: Option<bool>,
    /// Sparse checkout paths.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sparse_checkout_files: Vec<String>,
    /// Do not clone at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_cloning: Option<bool>,
    /// Git cookie file secret (`name` or `name/key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookiefile_secret: Option<String>,
    /// OAuth token secret for HTTPS cloning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_token_secret: Option<SecretKeyRef>,
    /// GitHub API endpoints for App-auth cloning.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub github_api_endpoints: Vec<String>,
    /// GitHub App ID for cloning.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub github_app_id: String,
    /// GitHub App private key secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_app_private_key_secret: Option<SecretKeyRef>,
    /// Redact secret values from uploaded logs and artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censor_secrets: Option<bool>,
    /// Censoring tuning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_options: Option<CensoringOptions>,
    /// Sidecar ignores SIGTERM while uploading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_ignores_interrupts: Option<bool>,
    /// Memory limit = memory request for test containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_limit_equals_memory_request: Option<bool>,
    /// Memory request for test containers that set none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_memory_request: Option<Quantity>,
    /// Affinity and tolerations when the pod spec has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_options: Option<SchedulingOptions>,
    /// Per-job override of `plank.pod_pending_timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_pending_timeout: Option<Duration>,
    /// Per-job override of `plank.pod_running_timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_running_timeout: Option<Duration>,
    /// Per-job override of `plank.pod_unscheduled_timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_unscheduled_timeout: Option<Duration>,
    /// Pod securityContext runAsUser when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    /// Pod securityContext runAsGroup when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    /// Pod securityContext fsGroup when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<i64>,
}

/// Images of the pod utilities.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UtilityImages {
    /// clonerefs image.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub clonerefs: String,
    /// initupload image.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub initupload: String,
    /// entrypoint image.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub entrypoint: String,
    /// sidecar image.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub sidecar: String,
}

/// Resource requirements of the utility containers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Resources {
    /// clonerefs container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clonerefs: Option<ResourceRequirements>,
    /// initupload container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initupload: Option<ResourceRequirements>,
    /// place-entrypoint container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_entrypoint: Option<ResourceRequirements>,
    /// sidecar container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<ResourceRequirements>,
}

/// Artifact upload destination (GCS or S3 despite the name).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GcsConfiguration {
    /// `gs://bucket`, `s3://bucket` or a bare GCS bucket name.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub bucket: String,
    /// Prefix inside the bucket.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub path_prefix: String,
    /// `legacy`, `single` or `explicit`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub path_strategy: String,
    /// Org whose repo gets the short path under legacy/single.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub default_org: String,
    /// Repo that gets the short path under legacy/single.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub default_repo: String,
    /// File extension to media type.
    #[serde(
        rename = "mediaTypes",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub media_types: BTreeMap<String, String>,
    /// Overrides `plank.job_url_prefix_config`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub job_url_prefix: String,
    /// Write to a local directory instead of a bucket.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub local_output_dir: String,
    /// Extensions to gzip on upload (`*` = all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compress_file_types: Option<Vec<String>>,
}

/// The three path strategies of `gcs_configuration.path_strategy`.
pub const PATH_STRATEGIES: [&str; 3] = ["legacy", "single", "explicit"];

impl GcsConfiguration {
    /// Fill unset fields from `def`; media types are unioned and, as in Prow, the default's
    /// entry wins when both name the same extension.
    pub fn apply_default(&self, def: &GcsConfiguration) -> GcsConfiguration {
        let mut m = self.clone();
        fill_str(&mut m.bucket, &def.bucket);
        fill_str(&mut m.path_prefix, &def.path_prefix);
        fill_str(&mut m.path_strategy, &def.path_strategy);
        fill_str(&mut m.default_org, &def.default_org);
        fill_str(&mut m.default_repo, &def.default_repo);
        for (k, v) in &def.media_types {
            m.media_types.insert(k.clone(), v.clone());
        }
        fill_str(&mut m.job_url_prefix, &def.job_url_prefix);
        fill_str(&mut m.local_output_dir, &def.local_output_dir);
        if m.compress_file_types.is_none() {
            m.compress_file_types = def.compress_file_types.clone();
        }
        m
    }

    /// Prow's checks: known strategy, default org/repo unless explicit, parseable bucket.
    pub fn validate(&self) -> Result<(), String> {
        if !PATH_STRATEGIES.contains(&self.path_strategy.as_str()) {
            return Err(format!(
                "gcs_path_strategy must be one of \"legacy\", \"explicit\", or \"single\" (got {:?})",
                self.path_strategy
            ));
        }
        if self.path_strategy != "explicit"
            && (self.default_org.is_empty() || self.default_repo.is_empty())
        {
            return Err(format!(
                "default org and repo must be provided for GCS strategy {:?}",
                self.path_strategy
            ));
        }
        crate::storage::StoragePath::parse_bucket(&self.bucket)?;
        Ok(())
    }
}

/// A secret name and key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeyRef {
    /// Secret name.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// Key in the secret.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub key: String,
}

/// Secret-censoring tuning for the sidecar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CensoringOptions {
    /// Files censored in parallel (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_concurrency: Option<i64>,
    /// Streaming buffer size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_buffer_size: Option<i64>,
    /// Globs of artifact dirs to censor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_directories: Option<Vec<String>>,
    /// Globs of artifact dirs not to censor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_directories: Option<Vec<String>>,
    /// Shorter secrets are not censored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_secret_length: Option<i64>,
}

/// Scheduling defaults for decorated pods.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchedulingOptions {
    /// Pod affinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Pod tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
}

fn fill_str(target: &mut String, def: &str) {
    if target.is_empty() {
        target.clone_from(&def.to_string());
    }
}

fn fill<T: Clone>(target: &mut Option<T>, def: &Option<T>) {
    if target.is_none() {
        target.clone_from(def);
    }
}

fn fill_vec<T: Clone>(target: &mut Vec<T>, def: &[T]) {
    if target.is_empty() {
        *target = def.to_vec();
    }
}

/// Merge two optional values with `f` when both are present (Prow's `ApplyDefault` shape).
fn merge_opt<T: Clone>(this: &Option<T>, def: &Option<T>, f: impl Fn(&T, &T) -> T) -> Option<T> {
    match (this, def) {
        (Some(t), Some(d)) => Some(f(t, d)),
        (Some(t), None) => Some(t.clone()),
        (None, d) => d.clone(),
    }
}

impl DecorationConfig {
    /// Fill every unset field from `def`, recursing into the nested option structs.
    /// The receiver's values win.
    pub fn apply_default(&self, def: &DecorationConfig) -> DecorationConfig {
        let mut m = self.clone();
        m.utility_images = merge_opt(&self.utility_images, &def.utility_images, |t, d| {
            let mut u = t.clone();
            fill_str(&mut u.clonerefs, &d.clonerefs);
            fill_str(&mut u.initupload, &d.initupload);
            fill_str(&mut u.entrypoint, &d.entrypoint);
            fill_str(&mut u.sidecar, &d.sidecar);
            u
        });
        m.resources = merge_opt(&self.resources, &def.resources, |t, d| {
            let mut r = t.clone();
            fill(&mut r.clonerefs, &d.clonerefs);
            fill(&mut r.initupload, &d.initupload);
            fill(&mut r.place_entrypoint, &d.place_entrypoint);
            fill(&mut r.sidecar, &d.sidecar);
            r
        });
        m.gcs_configuration = merge_opt(&self.gcs_configuration, &def.gcs_configuration, |t, d| {
            t.apply_default(d)
        });
        m.censoring_options = merge_opt(&self.censoring_options, &def.censoring_options, |t, d| {
            let mut c = t.clone();
            fill(&mut c.censoring_concurrency, &d.censoring_concurrency);
            fill(&mut c.censoring_buffer_size, &d.censoring_buffer_size);
            fill(&mut c.include_directories, &d.include_directories);
            fill(&mut c.exclude_directories, &d.exclude_directories);
            fill(&mut c.minimum_secret_length, &d.minimum_secret_length);
            c
        });
        m.scheduling_options =
            merge_opt(&self.scheduling_options, &def.scheduling_options, |t, d| {
                let mut s = t.clone();
                fill(&mut s.affinity, &d.affinity);
                fill(&mut s.tolerations, &d.tolerations);
                s
            });
        fill(&mut m.timeout, &def.timeout);
        fill(&mut m.grace_period, &def.grace_period);
        fill(&mut m.gcs_credentials_secret, &def.gcs_credentials_secret);
        fill(&mut m.s3_credentials_secret, &def.s3_credentials_secret);
        fill(
            &mut m.default_service_account_name,
            &def.default_service_account_name,
        );
        fill_vec(&mut m.ssh_key_secrets, &def.ssh_key_secrets);
        fill_vec(&mut m.ssh_host_fingerprints, &def.ssh_host_fingerprints);
        fill(&mut m.skip_cloning, &def.skip_cloning);
        fill(&mut m.cookiefile_secret, &def.cookiefile_secret);
        fill(&mut m.oauth_token_secret, &def.oauth_token_secret);
        fill_vec(&mut m.github_api_endpoints, &def.github_api_endpoints);
        fill_str(&mut m.github_app_id, &def.github_app_id);
        fill(
            &mut m.github_app_private_key_secret,
            &def.github_app_private_key_secret,
        );
        fill(&mut m.censor_secrets, &def.censor_secrets);
        fill(
            &mut m.upload_ignores_interrupts,
            &def.upload_ignores_interrupts,
        );
        fill(
            &mut m.set_limit_equals_memory_request,
            &def.set_limit_equals_memory_request,
        );
        fill(&mut m.default_memory_request, &def.default_memory_request);
        fill(&mut m.pod_pending_timeout, &def.pod_pending_timeout);
        fill(&mut m.pod_running_timeout, &def.pod_running_timeout);
        fill(&mut m.pod_unscheduled_timeout, &def.pod_unscheduled_timeout);
        fill(&mut m.run_as_user, &def.run_as_user);
        fill(&mut m.run_as_group, &def.run_as_group);
        fill(&mut m.fs_group, &def.fs_group);
        fill(&mut m.blobless_fetch, &def.blobless_fetch);
        fill_vec(&mut m.sparse_checkout_files, &def.sparse_checkout_files);
        m
    }

    /// Prow's `DecorationConfig.Validate`: all four utility images, an upload config that
    /// validates, and not both OAuth and SSH cloning.
    pub fn validate(&self) -> Result<(), String> {
        let Some(images) = &self.utility_images else {
            return Err("utility image config is not specified".into());
        };
        let missing: Vec<&str> = [
            ("clonerefs", &images.clonerefs),
            ("initupload", &images.initupload),
            ("entrypoint", &images.entrypoint),
            ("sidecar", &images.sidecar),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(n, _)| n)
        .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the following utility images are not specified: {missing:?}"
            ));
        }
        let Some(gcs) = &self.gcs_configuration else {
            return Err("GCS upload configuration is not specified".into());
        };
        gcs.validate()
            .map_err(|e| format!("GCS configuration is invalid: {e}"))?;
        if self.oauth_token_secret.is_some() && !self.ssh_key_secrets.is_empty() {
            return Err("both OAuth token and SSH key secrets are specified".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> DecorationConfig {
        serde_saphyr::from_str(s).unwrap()
    }

    #[test]
    fn job_values_win_and_gaps_are_filled() {
        let def = yaml(
            "timeout: 2h\ngrace_period: 15s\nutility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}\n\
             gcs_configuration: {bucket: b, path_strategy: explicit, mediaTypes: {log: text/plain}}\n\
             gcs_credentials_secret: sa\nssh_key_secrets: [k1]",
        );
        let job = yaml(
            "timeout: 10m\nutility_images: {sidecar: s2}\ngcs_configuration: {path_prefix: p, mediaTypes: {txt: text/plain}}\ngcs_credentials_secret: \"\"",
        );
        let m = job.apply_default(&def);
        assert_eq!(m.timeout, Some(Duration::from_mins(10)));
        assert_eq!(m.grace_period, Some(Duration::from_secs(15)));
        let u = m.utility_images.as_ref().unwrap();
        assert_eq!((u.clonerefs.as_str(), u.sidecar.as_str()), ("c", "s2"));
        let g = m.gcs_configuration.as_ref().unwrap();
        assert_eq!((g.bucket.as_str(), g.path_prefix.as_str()), ("b", "p"));
        assert_eq!(g.media_types.len(), 2);
        // An explicit empty string is a value (Prow uses *string), so it is kept.
        assert_eq!(m.gcs_credentials_secret.as_deref(), Some(""));
        assert_eq!(m.ssh_key_secrets, vec!["k1".to_string()]);
        assert!(m.validate().is_ok(), "{:?}", m.validate());
    }

    #[test]
    fn validation_errors() {
        assert!(
            yaml("timeout: 1h")
                .validate()
                .unwrap_err()
                .contains("utility image")
        );
        let partial = yaml("utility_images: {clonerefs: c}");
        assert!(partial.validate().unwrap_err().contains("\"initupload\""));
        let no_org = yaml(
            "utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}\ngcs_configuration: {bucket: b, path_strategy: legacy}",
        );
        assert!(
            no_org
                .validate()
                .unwrap_err()
                .contains("default org and repo")
        );
    }
}
