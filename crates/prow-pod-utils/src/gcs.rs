//! Prow's bucket layout: where each build's files go and which pointer files name it.
//!
//! ```text
//! [<path_prefix>/]logs/<job>/<build>/                           periodic, postsubmit
//! [<path_prefix>/]pr-logs/pull/[<segment>/]<pr>/<job>/<build>/  presubmit
//! [<path_prefix>/]pr-logs/pull/batch/<job>/<build>/             batch
//! ```
//! The `latest-build.txt` pointers and the presubmit alias `pr-logs/directory/<job>/<build>.txt`
//! are always relative to the bucket root: Prow does not apply `path_prefix` to them (a quirk we
//! keep, because Deck and TestGrid look for them there).

use std::collections::BTreeMap;

use prow_api::{GcsConfiguration, ProwJobType};

use crate::downwardapi::{JobSpec, JobSpecError};

/// Top directory of presubmit and batch builds.
pub const PR_LOGS: &str = "pr-logs";
/// Top directory of periodic and postsubmit builds.
pub const NON_PR_LOGS: &str = "logs";
/// Name of the latest-build pointer files.
pub const LATEST_BUILD_FILE: &str = "latest-build.txt";

/// `path_strategy: legacy`.
pub const PATH_STRATEGY_LEGACY: &str = "legacy";
/// `path_strategy: single`.
pub const PATH_STRATEGY_SINGLE: &str = "single";
/// `path_strategy: explicit`.
pub const PATH_STRATEGY_EXPLICIT: &str = "explicit";

/// How org and repo become the `<segment>` of presubmit paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepoPathBuilder {
    /// Empty for the default org+repo, just `<repo>` for other repos of the default org,
    /// else `<org>_<repo>`.
    Legacy {
        /// `default_org`.
        default_org: String,
        /// `default_repo`.
        default_repo: String,
    },
    /// Empty for the default org+repo, else `<org>_<repo>`.
    Single {
        /// `default_org`.
        default_org: String,
        /// `default_repo`.
        default_repo: String,
    },
    /// Always `<org>_<repo>`.
    Explicit,
}

impl RepoPathBuilder {
    /// The builder for a `path_strategy` name; `None` for an unknown name (as in Prow, such a
    /// configuration has no per-PR `latest-build.txt` and cannot place presubmits).
    pub fn for_strategy(strategy: &str, default_org: &str, default_repo: &str) -> Option<Self> {
        match strategy {
            PATH_STRATEGY_EXPLICIT => Some(RepoPathBuilder::Explicit),
            PATH_STRATEGY_LEGACY => Some(RepoPathBuilder::Legacy {
                default_org: default_org.into(),
                default_repo: default_repo.into(),
            }),
            PATH_STRATEGY_SINGLE => Some(RepoPathBuilder::Single {
                default_org: default_org.into(),
                default_repo: default_repo.into(),
            }),
            _ => None,
        }
    }

    /// The builder of a storage configuration.
    pub fn for_config(cfg: &GcsConfiguration) -> Option<Self> {
        RepoPathBuilder::for_strategy(&cfg.path_strategy, &cfg.default_org, &cfg.default_repo)
    }

    /// The path segment for `org`/`repo`.
    pub fn segment(&self, org: &str, repo: &str) -> String {
        match self {
            RepoPathBuilder::Legacy {
                default_org,
                default_repo,
            } if org == default_org => {
                // The repo is used raw here, slashes and all, exactly like Prow.
                if repo == default_repo {
                    String::new()
                } else {
                    repo.to_string()
                }
            }
            RepoPathBuilder::Single {
                default_org,
                default_repo,
            } if org == default_org && repo == default_repo => String::new(),
            _ => explicit_segment(org, repo),
        }
    }
}

/// `<org>_<repo>` with a Gerrit `https://` org trimmed and `/` in the repo turned into `_`.
fn explicit_segment(org: &str, repo: &str) -> String {
    let org = org.strip_prefix("https://").unwrap_or(org);
    let org = org.strip_prefix("http://").unwrap_or(org);
    let org = org.trim_end_matches('/');
    format!("{org}_{}", repo.replace('/', "_"))
}

/// Go's `path.Clean`: collapse slashes, drop `.`, resolve `..`; `""` becomes `"."`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            _ => out.push(part),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Join`: join the non-empty elements with `/` and clean; all empty gives `""`.
pub fn join(parts: &[&str]) -> String {
    let non_empty: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if non_empty.is_empty() {
        return String::new();
    }
    clean(&non_empty.join("/"))
}

/// Go's `path.Split`: everything up to and including the last `/`, and the rest.
pub fn split(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => ("", p),
    }
}

fn job_type(spec: &JobSpec) -> Result<ProwJobType, JobSpecError> {
    spec.job_type
        .ok_or_else(|| JobSpecError::UnknownType(String::new()))
}

/// The build directory of a job relative to the bucket (and path prefix): Prow's
/// `PathForSpec`. Presubmits need a builder.
pub fn path_for_spec(
    spec: &JobSpec,
    builder: Option<&RepoPathBuilder>,
) -> Result<String, JobSpecError> {
    Ok(match job_type(spec)? {
        ProwJobType::Periodic | ProwJobType::Postsubmit => {
            join(&[NON_PR_LOGS, &spec.job, &spec.build_id])
        }
        ProwJobType::Presubmit => {
            let (refs, pull) = spec.presubmit_pull()?;
            let builder = builder.ok_or_else(|| {
                JobSpecError::UnknownType("presubmit without a known path_strategy".into())
            })?;
            join(&[
                PR_LOGS,
                "pull",
                &builder.segment(&refs.org, &refs.repo),
                &pull.number.to_string(),
                &spec.job,
                &spec.build_id,
            ])
        }
        ProwJobType::Batch => join(&[PR_LOGS, "pull", "batch", &spec.job, &spec.build_id]),
    })
}

/// The presubmit alias file `pr-logs/directory/<job>/<build>.txt` (Prow's `AliasForSpec`);
/// `None` for other types.
pub fn alias_for_spec(spec: &JobSpec) -> Option<String> {
    match spec.job_type {
        Some(ProwJobType::Presubmit) => Some(join(&[
            PR_LOGS,
            "directory",
            &spec.job,
            &format!("{}.txt", spec.build_id),
        ])),
        _ => None,
    }
}

/// The `latest-build.txt` files to update (Prow's `LatestBuildForSpec`). The per-PR pointer
/// of presubmits is only written when a builder is known (and the spec has a pull).
pub fn latest_build_for_spec(spec: &JobSpec, builder: Option<&RepoPathBuilder>) -> Vec<String> {
    match spec.job_type {
        Some(ProwJobType::Periodic | ProwJobType::Postsubmit) => {
            vec![join(&[NON_PR_LOGS, &spec.job, LATEST_BUILD_FILE])]
        }
        Some(ProwJobType::Presubmit) => {
            let mut v = vec![join(&[PR_LOGS, "directory", &spec.job, LATEST_BUILD_FILE])];
            if let (Some(b), Ok((refs, pull))) = (builder, spec.presubmit_pull()) {
                v.push(join(&[
                    PR_LOGS,
                    "pull",
                    &b.segment(&refs.org, &refs.repo),
                    &pull.number.to_string(),
                    &spec.job,
                    LATEST_BUILD_FILE,
                ]));
            }
            v
        }
        Some(ProwJobType::Batch) => {
            vec![join(&[PR_LOGS, "directory", &spec.job, LATEST_BUILD_FILE])]
        }
        None => Vec::new(),
    }
}

/// The job-history root Deck lists builds under (Prow's `RootForSpec`).
pub fn root_for_spec(spec: &JobSpec) -> Option<String> {
    match spec.job_type? {
        ProwJobType::Periodic | ProwJobType::Postsubmit => Some(join(&[NON_PR_LOGS, &spec.job])),
        ProwJobType::Presubmit | ProwJobType::Batch => {
            Some(join(&[PR_LOGS, "directory", &spec.job]))
        }
    }
}

/// The paths of one build (Prow's `gcsupload.PathsForJob`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobPaths {
    /// Build directory including the path prefix.
    pub job_base_path: String,
    /// Where uploads go: the build directory, or its `sub_dir`.
    pub blob_storage_path: String,
    /// Builder of the configured strategy.
    pub builder: Option<RepoPathBuilder>,
}

/// Build directory (with `path_prefix`) and upload directory (with `sub_dir`) of a job.
pub fn paths_for_job(
    cfg: &GcsConfiguration,
    spec: &JobSpec,
    sub_dir: &str,
) -> Result<JobPaths, JobSpecError> {
    let builder = RepoPathBuilder::for_config(cfg);
    let mut job_base_path = path_for_spec(spec, builder.as_ref())?;
    if !cfg.path_prefix.is_empty() {
        job_base_path = join(&[&cfg.path_prefix, &job_base_path]);
    }
    let blob_storage_path = if sub_dir.is_empty() {
        job_base_path.clone()
    } else {
        join(&[&job_base_path, sub_dir])
    };
    Ok(JobPaths {
        job_base_path,
        blob_storage_path,
        builder,
    })
}

/// The scheme of a URL as Go's `url.Parse` finds it: `Ok("")` for none, `Err` for a leading
/// `:` ("missing protocol scheme").
pub fn url_scheme(raw: &str) -> Result<&str, String> {
    for (i, c) in raw.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err(format!("parse {raw:?}: missing protocol scheme")),
            ':' => return Ok(&raw[..i]),
            _ => return Ok(""),
        }
    }
    Ok("")
}

/// The full location of a build directory, the content of a presubmit alias file:
/// `gs://<bucket>/<dir>` for a bare bucket name, else `<bucket>/<dir>`.
pub fn full_build_path(bucket: &str, job_base_path: &str) -> Result<String, String> {
    if url_scheme(bucket)?.is_empty() {
        Ok(format!("gs://{}", join(&[bucket, job_base_path])))
    } else {
        Ok(format!("{bucket}/{job_base_path}"))
    }
}

/// Object attributes derived from a file name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterOptions {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// Custom object metadata (e.g. `x-goog-meta-link`).
    pub metadata: BTreeMap<String, String>,
}

/// Go's built-in extension table plus the system types pod utilities commonly meet.
fn builtin_media_type(ext: &str) -> Option<&'static str> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "avif" => "image/avif",
        "css" => "text/css; charset=utf-8",
        "gif" => "image/gif",
        "htm" | "html" => "text/html; charset=utf-8",
        "jpeg" | "jpg" => "image/jpeg",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "wasm" => "application/wasm",
        "webp" => "image/webp",
        "xml" => "text/xml; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "tar" => "application/x-tar",
        "gz" | "gzip" => "application/gzip",
        "zip" => "application/zip",
        _ => return None,
    })
}

/// Content type of an extension (without the dot): configured `mediaTypes` first.
pub fn media_type(ext: &str, media_types: &BTreeMap<String, String>) -> Option<String> {
    media_types
        .get(ext)
        .cloned()
        .or_else(|| builtin_media_type(ext).map(str::to_string))
}

/// Prow's `WriterOptionsFromFileName`: a `.gz`/`.gzip` suffix is dropped from the object name
/// and becomes `Content-Encoding: gzip`; the type comes from the remaining extension. A
/// gzip file with no known inner type keeps the shortened name but is typed
/// `application/gzip` without an encoding (`foo.gz` is stored as `foo`), exactly as Prow does.
pub fn writer_options_from_file_name(
    filename: &str,
    media_types: &BTreeMap<String, String>,
) -> (String, WriterOptions) {
    let mut attrs = WriterOptions::default();
    let segments: Vec<&str> = filename.split('.').collect();
    let mut index = segments.len() - 1;
    let mut segment = segments[index];
    let mut name = filename.to_string();
    if segment == "gz" || segment == "gzip" {
        attrs.content_encoding = Some("gzip".into());
        if index == 0 {
            segment = "";
        } else {
            name.truncate(filename.len() - segment.len() - 1);
            index -= 1;
            segment = segments[index];
        }
    }
    // Like Go, a name without a dot is looked up as an extension too (a file called `json`).
    if !segment.is_empty() {
        attrs.content_type = media_type(segment, media_types);
    }
    if attrs.content_type.is_none() && attrs.content_encoding.is_some() {
        attrs.content_type = Some("application/gzip".into());
        attrs.content_encoding = None;
    }
    (name, attrs)
}

/// Prow's `shouldCompressFileType`: files already gzipped are never compressed again;
/// `*` compresses everything.
pub fn should_compress(dest: &str, compress_file_types: &[String]) -> bool {
    let base = dest.rsplit('/').next().unwrap_or(dest);
    let ext = base.rfind('.').map_or("", |i| &base[i + 1..]);
    if ext == "gz" || ext == "gzip" {
        return false;
    }
    compress_file_types.iter().any(|t| t == "*" || t == ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::{Pull, Refs};

    fn spec(t: ProwJobType, job: &str, build: &str) -> JobSpec {
        JobSpec {
            job_type: Some(t),
            job: job.into(),
            build_id: build.into(),
            ..Default::default()
        }
    }

    fn presubmit(job: &str, build: &str, org: &str, repo: &str, pr: u64) -> JobSpec {
        let mut s = spec(ProwJobType::Presubmit, job, build);
        s.refs = Some(Refs {
            org: org.into(),
            repo: repo.into(),
            pulls: vec![Pull {
                number: pr,
                ..Default::default()
            }],
            ..Default::default()
        });
        s
    }

    fn legacy(o: &str, r: &str) -> RepoPathBuilder {
        RepoPathBuilder::for_strategy("legacy", o, r).unwrap()
    }

    fn single(o: &str, r: &str) -> RepoPathBuilder {
        RepoPathBuilder::for_strategy("single", o, r).unwrap()
    }

    #[test]
    fn path_for_spec_table() {
        let cases: Vec<(JobSpec, Option<RepoPathBuilder>, &str)> = vec![
            (
                spec(ProwJobType::Periodic, "job", "number"),
                None,
                "logs/job/number",
            ),
            (
                spec(ProwJobType::Postsubmit, "job", "number"),
                None,
                "logs/job/number",
            ),
            (
                spec(ProwJobType::Batch, "job", "number"),
                None,
                "pr-logs/pull/batch/job/number",
            ),
            (
                presubmit("job", "number", "org", "repo", 1),
                Some(legacy("org", "repo")),
                "pr-logs/pull/1/job/number",
            ),
            (
                presubmit("job", "number", "org", "repo", 1),
                Some(legacy("org", "other")),
                "pr-logs/pull/repo/1/job/number",
            ),
            (
                presubmit("job", "number", "org", "repo", 1),
                Some(legacy("some", "other")),
                "pr-logs/pull/org_repo/1/job/number",
            ),
            (
                presubmit("job", "number", "org", "repo", 1),
                Some(RepoPathBuilder::Explicit),
                "pr-logs/pull/org_repo/1/job/number",
            ),
        ];
        for (s, b, want) in cases {
            assert_eq!(path_for_spec(&s, b.as_ref()).unwrap(), want);
        }
        assert!(path_for_spec(&presubmit("j", "1", "o", "r", 1), None).is_err());
        assert!(path_for_spec(&spec(ProwJobType::Presubmit, "j", "1"), None).is_err());
        assert!(path_for_spec(&JobSpec::default(), None).is_err());
    }

    #[test]
    fn alias_and_root() {
        assert_eq!(
            alias_for_spec(&spec(ProwJobType::Presubmit, "job", "number")).as_deref(),
            Some("pr-logs/directory/job/number.txt")
        );
        for t in [
            ProwJobType::Periodic,
            ProwJobType::Postsubmit,
            ProwJobType::Batch,
        ] {
            assert_eq!(alias_for_spec(&spec(t, "job", "n")), None);
        }
        let root = |t| root_for_spec(&spec(t, "j", "1")).unwrap();
        assert_eq!(root(ProwJobType::Presubmit), "pr-logs/directory/j");
        assert_eq!(root(ProwJobType::Batch), "pr-logs/directory/j");
        assert_eq!(root(ProwJobType::Postsubmit), "logs/j");
        assert_eq!(root(ProwJobType::Periodic), "logs/j");
    }

    #[test]
    fn latest_build_table() {
        let pre = presubmit("pull-kubernetes-unit", "", "kubernetes", "test-infra", 1234);
        let dir = "pr-logs/directory/pull-kubernetes-unit/latest-build.txt";
        let cases: Vec<(JobSpec, Option<RepoPathBuilder>, Vec<&str>)> = vec![
            (pre.clone(), None, vec![dir]),
            (
                pre.clone(),
                Some(RepoPathBuilder::Explicit),
                vec![
                    dir,
                    "pr-logs/pull/kubernetes_test-infra/1234/pull-kubernetes-unit/latest-build.txt",
                ],
            ),
            (
                pre.clone(),
                Some(legacy("kubernetes", "test-infra")),
                vec![
                    dir,
                    "pr-logs/pull/1234/pull-kubernetes-unit/latest-build.txt",
                ],
            ),
            (
                pre,
                Some(single("defaultorg", "defaultrepo")),
                vec![
                    dir,
                    "pr-logs/pull/kubernetes_test-infra/1234/pull-kubernetes-unit/latest-build.txt",
                ],
            ),
            (
                spec(ProwJobType::Batch, "pull-kubernetes-unit", ""),
                None,
                vec![dir],
            ),
            (
                spec(ProwJobType::Postsubmit, "ci-kubernetes-unit", ""),
                None,
                vec!["logs/ci-kubernetes-unit/latest-build.txt"],
            ),
            (
                spec(ProwJobType::Periodic, "ci-kubernetes-periodic", ""),
                None,
                vec!["logs/ci-kubernetes-periodic/latest-build.txt"],
            ),
        ];
        for (s, b, want) in cases {
            assert_eq!(latest_build_for_spec(&s, b.as_ref()), want);
        }
    }

    #[test]
    fn repo_path_builders() {
        // (org, repo) -> legacy, single, explicit with default org/repo = org/repo
        let cases = [
            ("org", "repo", "", "", "org_repo"),
            ("other", "repo", "other_repo", "other_repo", "other_repo"),
            ("org", "other", "other", "org_other", "org_other"),
            ("other", "wild", "other_wild", "other_wild", "other_wild"),
            (
                "gerrit",
                "foo/bar",
                "gerrit_foo_bar",
                "gerrit_foo_bar",
                "gerrit_foo_bar",
            ),
            (
                "https://review.example.com/",
                "a/b",
                "review.example.com_a_b",
                "review.example.com_a_b",
                "review.example.com_a_b",
            ),
        ];
        for (org, repo, l, s, e) in cases {
            assert_eq!(legacy("org", "repo").segment(org, repo), l, "{org}/{repo}");
            assert_eq!(single("org", "repo").segment(org, repo), s, "{org}/{repo}");
            assert_eq!(RepoPathBuilder::Explicit.segment(org, repo), e);
        }
        assert_eq!(RepoPathBuilder::for_strategy("bogus", "o", "r"), None);
    }

    #[test]
    fn prefix_applies_to_build_dir_only() {
        let cfg = GcsConfiguration {
            bucket: "s3://bucket".into(),
            path_prefix: "some/prefix".into(),
            path_strategy: "explicit".into(),
            ..Default::default()
        };
        let s = presubmit("job", "build", "org", "repo", 1);
        let p = paths_for_job(&cfg, &s, "").unwrap();
        assert_eq!(
            p.job_base_path,
            "some/prefix/pr-logs/pull/org_repo/1/job/build"
        );
        assert_eq!(p.blob_storage_path, p.job_base_path);
        let p2 = paths_for_job(&cfg, &s, "artifacts").unwrap();
        assert_eq!(
            p2.blob_storage_path,
            format!("{}/artifacts", p.job_base_path)
        );
        // The pointers ignore the prefix.
        assert!(
            latest_build_for_spec(&s, p.builder.as_ref())
                .iter()
                .all(|l| l.starts_with("pr-logs/"))
        );
        assert_eq!(
            full_build_path(&cfg.bucket, &p.job_base_path).unwrap(),
            "s3://bucket/some/prefix/pr-logs/pull/org_repo/1/job/build"
        );
        assert_eq!(
            full_build_path("bucket", "pr-logs/pull/1/j/2").unwrap(),
            "gs://bucket/pr-logs/pull/1/j/2"
        );
        assert!(full_build_path("://bucket", "x").is_err());
    }

    #[test]
    fn go_path_helpers() {
        assert_eq!(join(&["a", "", "b/", "/c"]), "a/b/c");
        assert_eq!(join(&["", ""]), "");
        assert_eq!(join(&["a/../..", "b"]), "../b");
        assert_eq!(clean("/../a//./b/"), "/a/b");
        assert_eq!(split("a/b/c.txt"), ("a/b/", "c.txt"));
        assert_eq!(split("c.txt"), ("", "c.txt"));
        assert_eq!(url_scheme("gs://b"), Ok("gs"));
        assert_eq!(url_scheme("bucket/x"), Ok(""));
        assert_eq!(url_scheme("1a:b"), Ok(""));
    }

    #[test]
    fn writer_options() {
        let none = BTreeMap::new();
        let (n, o) = writer_options_from_file_name("build-log.txt", &none);
        assert_eq!(n, "build-log.txt");
        assert_eq!(o.content_type.as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(o.content_encoding, None);
        let (n, o) = writer_options_from_file_name("a.tar.gz", &none);
        assert_eq!(n, "a.tar");
        assert_eq!(o.content_type.as_deref(), Some("application/x-tar"));
        assert_eq!(o.content_encoding.as_deref(), Some("gzip"));
        let (n, o) = writer_options_from_file_name("foo.gz", &none);
        assert_eq!(n, "foo");
        assert_eq!(o.content_type.as_deref(), Some("application/gzip"));
        assert_eq!(o.content_encoding, None);
        let (n, o) = writer_options_from_file_name("gz", &none);
        assert_eq!(n, "gz");
        assert_eq!(o.content_type.as_deref(), Some("application/gzip"));
        let mut mt = BTreeMap::new();
        mt.insert("log".to_string(), "text/plain".to_string());
        let (_, o) = writer_options_from_file_name("x.log", &mt);
        assert_eq!(o.content_type.as_deref(), Some("text/plain"));
        let (_, o) = writer_options_from_file_name("Makefile", &none);
        assert_eq!(o, WriterOptions::default());
        assert!(should_compress("a/b.txt", &["txt".into()]));
        assert!(should_compress("a/b.log", &["*".into()]));
        assert!(!should_compress("a/b.gz", &["*".into()]));
        assert!(!should_compress("a/b.json", &["txt".into()]));
    }
}
