//! `/view/...` paths: which build directory a request names, and whether Deck may read it.
//!
//! Accepted forms (the part after `/view/`):
//! * `gs/<bucket>/<build dir>`, `gcs/<bucket>/<build dir>` (Google Cloud Storage);
//! * `s3/<bucket>/<build dir>`;
//! * `file/<absolute directory without the leading slash>/<build dir>` (local buckets; the
//!   directory must be a configured `file://` bucket, always, because Deck must never become a
//!   reader of arbitrary local files);
//! * `prowjob/<job>/<build id>` (looked up in the job store);
//! * `<bucket>/<build dir>` when `<bucket>` is a configured bucket (or alias): the form job URLs
//!   take with `jobURLPrefixDisableAppendStorageProvider`.
//!
//! Bucket aliases (`deck.spyglass.bucket_aliases`) are resolved here. Buckets are checked
//! against the known list only when `deck.skip_storage_path_validation` is explicitly `false`,
//! as in Prow (unset means no validation).

use std::collections::{BTreeMap, BTreeSet};

use prow_api::decoration::DecorationConfig;
use prow_config::Config;
use prow_storage::Provider;

/// Why a `/view/` path cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The path is not of a form Spyglass understands (HTTP 400).
    #[error("invalid path {path:?}: {reason}")]
    Malformed {
        /// The path as given.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The first segment is neither a provider nor a known bucket (HTTP 404).
    #[error("unknown storage provider {0:?} (expected gs, gcs, s3, file or prowjob)")]
    UnknownProvider(String),
    /// The bucket is not one Deck is configured to read (HTTP 403).
    #[error("{0}")]
    NotAllowed(String),
}

impl KeyError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> http::StatusCode {
        match self {
            KeyError::Malformed { .. } => http::StatusCode::BAD_REQUEST,
            KeyError::UnknownProvider(_) => http::StatusCode::NOT_FOUND,
            KeyError::NotAllowed(_) => http::StatusCode::FORBIDDEN,
        }
    }
}

/// A build directory in a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageSrc {
    /// Which provider.
    pub provider: Provider,
    /// Bucket name; for `file`, the absolute directory of the bucket (no trailing `/`).
    pub bucket: String,
    /// Build directory inside the bucket, no leading or trailing `/`, at least two segments.
    pub path: String,
}

impl StorageSrc {
    /// The canonical source string (what follows `/view/`), e.g. `gs/bucket/logs/job/1`.
    pub fn src(&self) -> String {
        match self.provider {
            Provider::File => format!("file/{}/{}", self.bucket.trim_start_matches('/'), self.path),
            p => format!("{}/{}/{}", p.scheme(), self.bucket, self.path),
        }
    }

    /// The `/view/` URL path of this build.
    pub fn view_path(&self) -> String {
        format!("/view/{}", self.src())
    }

    /// The provider segment used in Deck URLs and for the storage resolver.
    pub fn provider_name(&self) -> &'static str {
        self.provider.scheme()
    }

    /// Job name: the second-to-last path segment (Prow's `KeyToJob`).
    pub fn job_name(&self) -> &str {
        let mut it = self.path.rsplit('/');
        it.next();
        it.next().unwrap_or("")
    }

    /// Build ID: the last path segment.
    pub fn build_id(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }

    /// `<bucket>/<path>` for gcsweb links and announcements (Prow's run path).
    pub fn run_path(&self) -> String {
        format!("{}/{}", self.bucket.trim_start_matches('/'), self.path)
    }
}

/// What a `/view/` path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewKey {
    /// A build directory in a bucket.
    Storage(StorageSrc),
    /// A ProwJob by job name and build ID.
    ProwJob {
        /// `spec.job`.
        job: String,
        /// `status.build_id`.
        build: String,
    },
}

/// Which buckets Deck may read, derived from the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketPolicy {
    /// Known GCS/S3 buckets and their provider (from decoration configs and
    /// `additional_allowed_buckets`).
    pub known: BTreeMap<String, Provider>,
    /// Known local bucket directories (absolute, no trailing `/`).
    pub file_roots: BTreeSet<String>,
    /// Whether GCS/S3 buckets are restricted to `known`.
    pub validate: bool,
    /// `deck.spyglass.bucket_aliases`.
    pub aliases: BTreeMap<String, String>,
}

/// A bucket string from a config (`gs://b`, `s3://b/prefix`, bare `b`, `file:///dir`).
fn parse_config_bucket(raw: &str) -> Option<(Provider, String)> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Some(dir) = raw.strip_prefix("file://") {
        let dir = dir.trim_end_matches('/');
        return dir
            .starts_with('/')
            .then(|| (Provider::File, dir.to_string()));
    }
    if raw.starts_with('/') {
        return Some((Provider::File, raw.trim_end_matches('/').to_string()));
    }
    let (provider, rest) = match raw.split_once("://") {
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "gs" | "gcs" => (Provider::Gcs, rest),
            "s3" => (Provider::S3, rest),
            _ => return None,
        },
        None => (Provider::Gcs, raw),
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    (!bucket.is_empty()).then(|| (provider, bucket.to_string()))
}

impl BucketPolicy {
    /// The policy a config implies (Prow's `calculateStorageBuckets` + `ValidateStorageBucket`).
    pub fn from_config(cfg: &Config) -> Self {
        let mut policy = BucketPolicy {
            validate: cfg.prow.deck.skip_storage_path_validation == Some(false),
            aliases: cfg.prow.deck.spyglass.bucket_aliases.clone(),
            ..Default::default()
        };
        let mut add = |raw: &str| match parse_config_bucket(raw) {
            Some((Provider::File, dir)) => {
                policy.file_roots.insert(dir);
            }
            Some((p, b)) => {
                policy.known.entry(b).or_insert(p);
            }
            None => {}
        };
        let mut add_dc = |dc: Option<&DecorationConfig>| {
            if let Some(g) = dc.and_then(|d| d.gcs_configuration.as_ref()) {
                add(&g.bucket);
            }
        };
        let plank = &cfg.prow.plank;
        for dc in plank.default_decoration_configs.values() {
            add_dc(Some(dc));
        }
        for e in &plank.default_decoration_config_entries {
            add_dc(e.config.as_ref());
        }
        for jobs in cfg.jobs.presubmits.values() {
            for j in jobs {
                add_dc(j.base.utility.decoration_config.as_ref());
            }
        }
        for jobs in cfg.jobs.postsubmits.values() {
            for j in jobs {
                add_dc(j.base.utility.decoration_config.as_ref());
            }
        }
        for j in &cfg.jobs.periodics {
            add_dc(j.base.utility.decoration_config.as_ref());
        }
        for b in &cfg.prow.deck.additional_allowed_buckets {
            add(b);
        }
        policy
    }

    fn resolve_alias<'a>(&'a self, bucket: &'a str) -> &'a str {
        self.aliases.get(bucket).map_or(bucket, String::as_str)
    }

    fn check_bucket(&self, bucket: &str) -> Result<(), KeyError> {
        if !self.validate || self.known.contains_key(bucket) {
            return Ok(());
        }
        Err(KeyError::NotAllowed(format!(
            "bucket {bucket:?} not in allowed list ({})",
            self.known.keys().cloned().collect::<Vec<_>>().join(", ")
        )))
    }

    /// Parse the part of a URL after `/view/`.
    pub fn parse(&self, raw: &str) -> Result<ViewKey, KeyError> {
        let bad = |reason: &str| KeyError::Malformed {
            path: raw.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = raw.trim_start_matches('/').trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(bad("empty"));
        }
        if trimmed.len() > 2048 {
            return Err(bad("too long"));
        }
        // The one path check shared with the storage layer (dots, empty segments, control
        // characters, backslashes).
        prow_storage::key::check_relative_path(trimmed).map_err(bad)?;
        let segs: Vec<&str> = trimmed.split('/').collect();
        let first = segs[0];
        let rest = &segs[1..];
        let need_build = |p: &[&str]| {
            if p.len() < 2 {
                Err(bad("expected <bucket>/<path>/<job>/<build>"))
            } else {
                Ok(())
            }
        };
        match first {
            "prowjob" => {
                if rest.len() != 2 {
                    return Err(bad("expected prowjob/<job>/<build-id>"));
                }
                Ok(ViewKey::ProwJob {
                    job: rest[0].to_string(),
                    build: rest[1].to_string(),
                })
            }
            "gs" | "gcs" | "s3" => {
                let provider = if first == "s3" {
                    Provider::S3
                } else {
                    Provider::Gcs
                };
                let Some((bucket, path)) = rest.split_first() else {
                    return Err(bad("missing bucket"));
                };
                need_build(path)?;
                let bucket = self.resolve_alias(bucket);
                self.check_bucket(bucket)?;
                Ok(ViewKey::Storage(StorageSrc {
                    provider,
                    bucket: bucket.to_string(),
                    path: path.join("/"),
                }))
            }
            "file" => {
                let full = format!("/{}", rest.join("/"));
                let root = self
                    .file_roots
                    .iter()
                    .filter(|r| {
                        full.len() > r.len() + 1
                            && full.starts_with(r.as_str())
                            && full.as_bytes()[r.len()] == b'/'
                    })
                    .max_by_key(|r| r.len());
                let Some(root) = root else {
                    return Err(KeyError::NotAllowed(format!(
                        "{full:?} is not inside a configured local artifact bucket"
                    )));
                };
                let path = &full[root.len() + 1..];
                if path.split('/').count() < 2 {
                    return Err(bad("expected <dir>/<path>/<job>/<build>"));
                }
                Ok(ViewKey::Storage(StorageSrc {
                    provider: Provider::File,
                    bucket: root.clone(),
                    path: path.to_string(),
                }))
            }
            other => {
                // `/view/<bucket>/...`: only for buckets the config names, so that the
                // provider is known.
                let bucket = self.resolve_alias(other);
                let Some(provider) = self.known.get(bucket) else {
                    return Err(KeyError::UnknownProvider(other.to_string()));
                };
                need_build(rest)?;
                Ok(ViewKey::Storage(StorageSrc {
                    provider: *provider,
                    bucket: bucket.to_string(),
                    path: rest.join("/"),
                }))
            }
        }
    }
}

/// What the build path says about the job (Prow's `JobPath` / `RunToPR`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathInfo {
    /// `/job-history/...` link, when the layout is recognised.
    pub job_history: Option<String>,
    /// `(org, repo, pr)` for `pr-logs/pull/...` paths.
    pub pr: Option<(String, String, u64)>,
}

/// Derive job-history and PR information from a build path, using the default decoration
/// config's `default_org`/`default_repo` for paths without a repo segment.
pub fn path_info(src: &StorageSrc, default_org: &str, default_repo: &str) -> PathInfo {
    let split: Vec<&str> = src.path.split('/').collect();
    let mut info = PathInfo::default();
    let job = src.job_name();
    let prefix = match src.provider {
        Provider::File => format!("file/{}", src.bucket.trim_start_matches('/')),
        p => format!("{}/{}", p.scheme(), src.bucket),
    };
    match split.first().copied() {
        Some("logs") => {
            let dir = &src.path[..src.path.rfind('/').unwrap_or(0)];
            info.job_history = Some(format!("/job-history/{prefix}/{dir}"));
        }
        Some("pr-logs") => {
            info.job_history = Some(format!("/job-history/{prefix}/pr-logs/directory/{job}"));
            // With the bucket counted as in Prow: pr-logs/pull/<seg>/<pr>/<job>/<build> has 7
            // components, pr-logs/pull/<pr>/<job>/<build> has 6.
            let n = split.len() + 1;
            if n >= 6 && split.get(1) == Some(&"pull") {
                let pr = split[split.len() - 3].parse::<u64>().ok();
                if let Some(pr) = pr {
                    match n {
                        7 => {
                            let seg = split[2];
                            let (org, repo) = match seg.split_once('_') {
                                Some((o, r)) => (o.to_string(), r.to_string()),
                                None => (default_org.to_string(), seg.to_string()),
                            };
                            info.pr = Some((org, repo, pr));
                        }
                        6 if !default_org.is_empty() => {
                            info.pr = Some((default_org.to_string(), default_repo.to_string(), pr));
                        }
                        _ => {}
                    }
                }
            }
        }
        _ => {}
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(validate: bool) -> BucketPolicy {
        let mut p = BucketPolicy {
            validate,
            ..Default::default()
        };
        p.known.insert("kubernetes-jenkins".into(), Provider::Gcs);
        p.known.insert("istio-prow".into(), Provider::S3);
        p.file_roots.insert("/var/prow/artifacts".into());
        p.aliases
            .insert("old-bucket".into(), "kubernetes-jenkins".into());
        p
    }

    fn storage(p: Provider, b: &str, path: &str) -> Result<ViewKey, KeyError> {
        Ok(ViewKey::Storage(StorageSrc {
            provider: p,
            bucket: b.into(),
            path: path.into(),
        }))
    }

    #[test]
    fn parse_table() {
        let p = policy(true);
        let cases: Vec<(&str, Result<ViewKey, KeyError>)> = vec![
            (
                "gs/kubernetes-jenkins/pr-logs/pull/org_repo/123/job/456",
                storage(
                    Provider::Gcs,
                    "kubernetes-jenkins",
                    "pr-logs/pull/org_repo/123/job/456",
                ),
            ),
            (
                "gcs/kubernetes-jenkins/logs/job/1/",
                storage(Provider::Gcs, "kubernetes-jenkins", "logs/job/1"),
            ),
            (
                "s3/istio-prow/logs/unit/2",
                storage(Provider::S3, "istio-prow", "logs/unit/2"),
            ),
            (
                "gs/old-bucket/logs/job/1",
                storage(Provider::Gcs, "kubernetes-jenkins", "logs/job/1"),
            ),
            (
                "istio-prow/logs/unit/2",
                storage(Provider::S3, "istio-prow", "logs/unit/2"),
            ),
            (
                "file/var/prow/artifacts/logs/job/3",
                storage(Provider::File, "/var/prow/artifacts", "logs/job/3"),
            ),
            (
                "prowjob/echo-test/1046875594609922048",
                Ok(ViewKey::ProwJob {
                    job: "echo-test".into(),
                    build: "1046875594609922048".into(),
                }),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(p.parse(input), want, "{input}");
        }
    }

    #[test]
    fn rejections() {
        let p = policy(true);
        let status = |s: &str| p.parse(s).map(|_| ()).map_err(|e| e.status().as_u16());
        assert_eq!(status(""), Err(400));
        assert_eq!(status("gs/kubernetes-jenkins/logs/../../etc"), Err(400));
        assert_eq!(status("gs/kubernetes-jenkins//logs/job/1"), Err(400));
        assert_eq!(status("gs/kubernetes-jenkins/./job/1"), Err(400));
        assert_eq!(status("gs/kubernetes-jenkins/job"), Err(400));
        assert_eq!(status("gs/kubernetes-jenkins/a\\b/1"), Err(400));
        assert_eq!(status("prowjob/only-job"), Err(400));
        assert_eq!(status("ftp/bucket/logs/job/1"), Err(404));
        assert_eq!(status("gs/evil-bucket/logs/job/1"), Err(403));
        // Local files are always restricted to configured roots.
        assert_eq!(status("file/etc/passwd/x"), Err(403));
        assert_eq!(status("file/var/prow/artifacts-other/logs/j/1"), Err(403));
        assert_eq!(status("file/var/prow/artifacts/logs/../../x/1"), Err(400));
        // Without validation any GCS/S3 bucket is allowed, local files still are not.
        let open = policy(false);
        assert!(open.parse("gs/evil-bucket/logs/job/1").is_ok());
        assert!(open.parse("file/etc/x/y").is_err());
    }

    /// Every decoded form of "outside the bucket" is a 4xx, and the build path that comes out
    /// of a successful parse is always a valid storage key.
    #[test]
    fn attack_table() {
        let p = policy(false);
        let status = |s: &str| p.parse(s).map(|_| ()).map_err(|e| e.status().as_u16());
        for tail in [
            "/etc/passwd",
            "//etc/passwd",
            "..",
            "a/../../x",
            "a/./b",
            "a//b",
            "a\\..\\b",
            "a\u{0}b",
        ] {
            for head in ["gs/b/", "s3/b/", "file/var/prow/artifacts/", "prowjob/"] {
                let input = format!("{head}{tail}");
                let st = status(&input).unwrap_err();
                assert!((400..500).contains(&st), "{input:?}: {st}");
            }
        }
        for ok in ["gs/b/logs/j/1", "file/var/prow/artifacts/logs/j/1"] {
            let Ok(ViewKey::Storage(src)) = p.parse(ok) else {
                panic!("{ok}");
            };
            prow_storage::key::validate_key(&src.path).unwrap();
        }
    }

    #[test]
    fn src_round_trips() {
        let p = policy(true);
        for s in [
            "gs/kubernetes-jenkins/logs/job/1",
            "s3/istio-prow/pr-logs/pull/1/j/2",
            "file/var/prow/artifacts/logs/job/3",
        ] {
            let ViewKey::Storage(src) = p.parse(s).unwrap() else {
                panic!("not storage")
            };
            assert_eq!(src.src(), s);
            assert_eq!(p.parse(&src.src()).unwrap(), ViewKey::Storage(src));
        }
    }

    #[test]
    fn config_buckets() {
        assert_eq!(
            parse_config_bucket("gs://b/prefix"),
            Some((Provider::Gcs, "b".into()))
        );
        assert_eq!(
            parse_config_bucket("s3://istio-prow"),
            Some((Provider::S3, "istio-prow".into()))
        );
        assert_eq!(
            parse_config_bucket("bare"),
            Some((Provider::Gcs, "bare".into()))
        );
        assert_eq!(
            parse_config_bucket("file:///tmp/b/"),
            Some((Provider::File, "/tmp/b".into()))
        );
        assert_eq!(parse_config_bucket("ftp://x"), None);
        assert_eq!(parse_config_bucket(""), None);
    }

    #[test]
    fn path_info_table() {
        let src = |path: &str| StorageSrc {
            provider: Provider::Gcs,
            bucket: "b".into(),
            path: path.into(),
        };
        let i = path_info(&src("logs/ci-job/5"), "o", "r");
        assert_eq!(
            i.job_history.as_deref(),
            Some("/job-history/gs/b/logs/ci-job")
        );
        assert_eq!(i.pr, None);
        let i = path_info(&src("pr-logs/pull/org_repo_x/12/pull-job/5"), "o", "r");
        assert_eq!(
            i.job_history.as_deref(),
            Some("/job-history/gs/b/pr-logs/directory/pull-job")
        );
        assert_eq!(i.pr, Some(("org".into(), "repo_x".into(), 12)));
        let i = path_info(&src("pr-logs/pull/12/pull-job/5"), "o", "r");
        assert_eq!(i.pr, Some(("o".into(), "r".into(), 12)));
        let i = path_info(&src("pr-logs/pull/batch/pull-job/5"), "o", "r");
        assert_eq!(i.pr, None);
        let i = path_info(&src("other/x/5"), "o", "r");
        assert_eq!(i, PathInfo::default());
    }
}
