//! Uploading a build's files: Prow's `gcsupload` options, the target assembly that decides
//! object names, and a small [`Uploader`] trait that hides the storage provider.
//!
//! Only a local-directory uploader lives here (`local_output_dir`, or a `file://` bucket);
//! GCS and S3 uploaders implement the same trait elsewhere.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use prow_api::GcsConfiguration;
use serde::{Deserialize, Serialize};

use crate::downwardapi::JobSpec;
use crate::gcs::{self, WriterOptions};
use crate::log::Logger;

/// Env var holding gcsupload's options.
pub const GCSUPLOAD_OPTIONS_ENV: &str = "GCSUPLOAD_OPTIONS";

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Reading the source or writing the destination failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing.
        op: &'static str,
        /// The file involved.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Anything else (provider errors, bad destinations).
    #[error("{0}")]
    Other(String),
}

/// A place build files are written to. `put` is all a provider must implement.
pub trait Uploader: Send + Sync {
    /// Store `data` at `path` (relative to the bucket or output root).
    fn put(&self, path: &str, data: &[u8]) -> Result<(), UploadError>;

    /// Store with object attributes; providers without attributes ignore them.
    fn put_with(&self, path: &str, data: &[u8], attrs: &WriterOptions) -> Result<(), UploadError> {
        let _ = attrs;
        self.put(path, data)
    }

    /// Store a local file; the default reads it into memory (never through a link: see
    /// [`read_regular_file`]).
    fn put_file(&self, path: &str, local: &Path, attrs: &WriterOptions) -> Result<(), UploadError> {
        let data = read_regular_file(local)?;
        self.put_with(path, &data, attrs)
    }

    /// A human-readable full destination, for logs.
    fn describe(&self, path: &str) -> String {
        path.to_string()
    }

    /// Sleeps between attempts after a failure (Prow tries 4 times: 1s, 4s, 9s).
    fn retry_delays(&self) -> Vec<Duration> {
        vec![
            Duration::from_secs(1),
            Duration::from_secs(4),
            Duration::from_secs(9),
        ]
    }
}

/// Open `path` for reading only if it is a regular file and not a symbolic link: the kernel
/// refuses a link as the last component (`O_NOFOLLOW`, so there is no window between a check
/// and the open), and FIFOs, sockets and devices are refused after a non-blocking open (a FIFO
/// would otherwise block the upload forever). Jobs control their artifacts directory; a link
/// there must never make us upload what it points to. (`prow-storage` has the same rule in
/// `safe_fs`; this crate does not depend on it.)
pub fn open_regular_file(path: &Path) -> Result<fs::File, UploadError> {
    use rustix::fs::{FileType, Mode, OFlags};
    let io = |source: std::io::Error| UploadError::Io {
        op: "open",
        path: path.display().to_string(),
        source,
    };
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a symbolic link, which is never followed",
            ))
        } else {
            io(e.into())
        }
    })?;
    let st = rustix::fs::fstat(&fd).map_err(|e| io(e.into()))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    Ok(fs::File::from(fd))
}

/// The content of a regular file, opened as in [`open_regular_file`].
pub fn read_regular_file(path: &Path) -> Result<Vec<u8>, UploadError> {
    use std::io::Read;
    let mut data = Vec::new();
    open_regular_file(path)?
        .read_to_end(&mut data)
        .map_err(|source| UploadError::Io {
            op: "read",
            path: path.display().to_string(),
            source,
        })?;
    Ok(data)
}

/// Writes objects as files under a root directory.
#[derive(Clone, Debug)]
pub struct LocalUploader {
    root: PathBuf,
}

impl LocalUploader {
    /// Upload into `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalUploader { root: root.into() }
    }

    fn dest(&self, path: &str) -> Result<PathBuf, UploadError> {
        let rel = path.trim_start_matches('/');
        if rel.is_empty() || rel.split('/').any(|c| c == "..") {
            return Err(UploadError::Other(format!(
                "refusing to write outside the output directory: {path:?}"
            )));
        }
        Ok(self.root.join(rel))
    }
}

impl Uploader for LocalUploader {
    fn put(&self, path: &str, data: &[u8]) -> Result<(), UploadError> {
        let dest = self.dest(path)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|source| UploadError::Io {
                op: "create directory",
                path: parent.display().to_string(),
                source,
            })?;
        }
        fs::write(&dest, data).map_err(|source| UploadError::Io {
            op: "write",
            path: dest.display().to_string(),
            source,
        })
    }

    fn put_file(&self, path: &str, local: &Path, _: &WriterOptions) -> Result<(), UploadError> {
        let dest = self.dest(path)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|source| UploadError::Io {
                op: "create directory",
                path: parent.display().to_string(),
                source,
            })?;
        }
        let mut input = open_regular_file(local)?;
        let mut out = fs::File::create(&dest).map_err(|source| UploadError::Io {
            op: "create",
            path: dest.display().to_string(),
            source,
        })?;
        std::io::copy(&mut input, &mut out)
            .map(|_| ())
            .map_err(|source| UploadError::Io {
                op: "copy",
                path: local.display().to_string(),
                source,
            })
    }

    fn describe(&self, path: &str) -> String {
        format!("{}/{}", self.root.display(), path)
    }

    fn retry_delays(&self) -> Vec<Duration> {
        Vec::new()
    }
}

/// Prow's `gcsupload.Options`: the storage configuration plus what to upload.
///
/// The `GcsConfiguration` fields sit at the top level of the JSON (Go embeds the struct).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GcsUploadOptions {
    /// Files or directories to upload into the build directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// Sub-directory of the build directory for uploads.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub_dir: String,
    /// Bucket, path strategy, prefix, local output dir...
    #[serde(flatten)]
    pub gcs_configuration: GcsConfiguration,
    /// GCS credentials file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gcs_credentials_file: String,
    /// S3 credentials file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub s3_credentials_file: String,
    /// Log what would be uploaded and upload nothing.
    #[serde(default)]
    pub dry_run: bool,
}

impl GcsUploadOptions {
    /// Prow's validation: local mode needs nothing else; otherwise a bucket (unless dry-run)
    /// and a valid storage configuration.
    pub fn validate(&self) -> Result<(), String> {
        if self.local_mode() {
            return Ok(());
        }
        if !self.dry_run && self.gcs_configuration.bucket.is_empty() {
            return Err("GCS upload was requested no GCS bucket was provided".into());
        }
        self.gcs_configuration.validate()
    }

    /// Writing into `local_output_dir` instead of a bucket.
    pub fn local_mode(&self) -> bool {
        !self.gcs_configuration.local_output_dir.is_empty()
    }
}

/// Where the bytes of an upload come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Bytes in memory.
    Data(Vec<u8>),
    /// A file read at upload time.
    File(PathBuf),
    /// A log file read at upload time; if it cannot be read, the upload carries an error
    /// message instead (Prow does this for build logs so a missing log is visible).
    LogFile(PathBuf),
}

/// One object to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadTarget {
    /// Content.
    pub source: Source,
    /// Object attributes.
    pub attrs: WriterOptions,
}

impl UploadTarget {
    /// In-memory content without attributes.
    pub fn data(bytes: impl Into<Vec<u8>>) -> Self {
        UploadTarget {
            source: Source::Data(bytes.into()),
            attrs: WriterOptions::default(),
        }
    }

    /// A file without attributes.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        UploadTarget {
            source: Source::File(path.into()),
            attrs: WriterOptions::default(),
        }
    }
}

/// Object name → what to write there.
pub type Targets = BTreeMap<String, UploadTarget>;

/// Objects derived from the options (items, alias, latest-build pointers) and the caller's
/// extra objects placed under the upload directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssembledTargets {
    /// Items, alias and pointers.
    pub primary: Targets,
    /// Caller-provided objects (logs, started/finished.json) under the upload directory.
    pub extra: Targets,
}

/// Decide every object name (Prow's `assembleTargets`).
///
/// In local mode there are no alias or latest-build files and everything is rooted directly
/// in the output directory.
pub fn assemble_targets(
    opts: &GcsUploadOptions,
    spec: &JobSpec,
    extra: Targets,
    log: &Logger,
) -> Result<AssembledTargets, String> {
    let cfg = &opts.gcs_configuration;
    let paths = gcs::paths_for_job(cfg, spec, &opts.sub_dir).map_err(|e| e.to_string())?;
    let mut primary = Targets::new();
    let mut blob = paths.blob_storage_path.clone();
    if opts.local_mode() {
        blob.clear();
    } else {
        if let Some(alias) = gcs::alias_for_spec(spec) {
            let full = gcs::full_build_path(&cfg.bucket, &paths.job_base_path)
                .map_err(|e| format!("parse bucket {:?}: {e}", cfg.bucket))?;
            let mut attrs = WriterOptions::default();
            attrs
                .metadata
                .insert("x-goog-meta-link".into(), full.clone());
            primary.insert(
                alias,
                UploadTarget {
                    source: Source::Data(full.into_bytes()),
                    attrs,
                },
            );
        }
        for latest in gcs::latest_build_for_spec(spec, paths.builder.as_ref()) {
            let (dir, file) = gcs::split(&latest);
            let (name, attrs) = gcs::writer_options_from_file_name(file, &cfg.media_types);
            primary.insert(
                gcs::join(&[dir, &name]),
                UploadTarget {
                    source: Source::Data(spec.build_id.clone().into_bytes()),
                    attrs,
                },
            );
        }
    }

    for item in &opts.items {
        let path = Path::new(item);
        // The item itself is looked at without following a link: a job can replace its
        // artifacts directory with a link to anywhere on the host.
        let meta = match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                log.warn(&format!(
                    "Skipping upload item {item}: it is a symbolic link, which is never followed"
                ));
                continue;
            }
            Ok(m) => m,
            Err(e) => {
                log.warn(&format!(
                    "Encountered error in resolving items to upload for {item}: {e}"
                ));
                continue;
            }
        };
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if meta.is_dir() {
            gather_artifacts(path, &blob, &base, &cfg.media_types, &mut primary, log);
        } else {
            let (name, attrs) = gcs::writer_options_from_file_name(&base, &cfg.media_types);
            let dest = gcs::join(&[&blob, &name]);
            if primary.contains_key(&dest) {
                log.warn(&format!(
                    "Encountered duplicate upload of {dest}, skipping..."
                ));
                continue;
            }
            primary.insert(
                dest,
                UploadTarget {
                    source: Source::File(path.to_path_buf()),
                    attrs,
                },
            );
        }
    }

    let extra = extra
        .into_iter()
        .map(|(dest, t)| (gcs::join(&[&blob, &dest]), t))
        .collect();
    Ok(AssembledTargets { primary, extra })
}

/// Every non-directory entry under `dir` in lexical order, directory links not descended into
/// (like Go's `filepath.Walk`). Links to files *are* returned: clonerefs reads SSH keys from
/// Kubernetes secret volumes, whose files are links. Artifact uploads use [`walk`], which
/// skips every link.
pub(crate) fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => out.extend(walk_files(&p)),
            Ok(_) => out.push(p),
            Err(_) => {}
        }
    }
    out
}

/// What [`walk`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Walked {
    /// Regular files, in lexical order.
    pub files: Vec<PathBuf>,
    /// Links and special files that were skipped.
    pub skipped: Vec<PathBuf>,
}

/// Every regular file under `dir` in lexical order, plus what was skipped: links are neither
/// followed nor returned (a link to a file or a directory anywhere on the host must never be
/// uploaded), and neither are FIFOs, sockets or devices. A `dir` that is itself a link is not
/// entered (it is reported as skipped).
pub(crate) fn walk(dir: &Path) -> Walked {
    let mut out = Walked::default();
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => walk_into(dir, &mut out),
        Ok(_) => out.skipped.push(dir.to_path_buf()),
        Err(_) => {}
    }
    out
}

fn walk_into(dir: &Path, out: &mut Walked) {
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => walk_into(&p, out),
            Ok(m) if m.is_file() => out.files.push(p),
            Ok(_) => out.skipped.push(p),
            Err(_) => {}
        }
    }
}

fn gather_artifacts(
    dir: &Path,
    blob: &str,
    sub_dir: &str,
    media_types: &BTreeMap<String, String>,
    targets: &mut Targets,
    log: &Logger,
) {
    log.info(&format!(
        "Gathering artifacts from artifact directory: {}",
        dir.display()
    ));
    let walked = walk(dir);
    for skipped in &walked.skipped {
        log.warn(&format!(
            "Skipping {}: a symbolic link or special file is never uploaded",
            skipped.display()
        ));
    }
    for file in walked.files {
        let Ok(rel) = file.strip_prefix(dir) else {
            continue;
        };
        let rel = rel.to_string_lossy();
        let (d, f) = {
            let full = gcs::join(&[blob, sub_dir, &rel]);
            let (d, f) = gcs::split(&full);
            (d.to_string(), f.to_string())
        };
        let (name, attrs) = gcs::writer_options_from_file_name(&f, media_types);
        // GCS object names may not contain `#` unescaped.
        let dest = gcs::join(&[&d, &name]).replace('#', "%23");
        if targets.contains_key(&dest) {
            log.warn(&format!(
                "Encountered duplicate upload of {dest}, skipping..."
            ));
            continue;
        }
        targets.insert(
            dest,
            UploadTarget {
                source: Source::File(file.clone()),
                attrs,
            },
        );
    }
}

fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b, 0x08])
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

/// Write one target, compressing it first when configured (remote uploads only, like Prow).
fn upload_one(
    uploader: &dyn Uploader,
    dest: &str,
    target: &UploadTarget,
    compress_types: Option<&[String]>,
    media_types: &BTreeMap<String, String>,
) -> Result<(), UploadError> {
    let compress = compress_types.is_some_and(|t| gcs::should_compress(dest, t));
    let read = |p: &Path| read_regular_file(p);
    let data = match &target.source {
        Source::File(p) if !compress => return uploader.put_file(dest, p, &target.attrs),
        Source::File(p) => read(p)?,
        Source::Data(d) => d.clone(),
        Source::LogFile(p) => match read_regular_file(p) {
            Ok(d) => d,
            Err(UploadError::Io { source, .. }) => {
                format!("Failed to open {}: {source}\n", p.display()).into_bytes()
            }
            Err(e) => format!("Failed to open {}: {e}\n", p.display()).into_bytes(),
        },
    };
    if compress && data.len() > 1024 && !is_gzip(&data) {
        let ext = dest.rsplit_once('.').map_or("", |(_, e)| e);
        let mut attrs = target.attrs.clone();
        attrs.content_type = Some(
            gcs::media_type(ext, media_types).unwrap_or_else(|| "text/plain; charset=utf-8".into()),
        );
        attrs.content_encoding = Some("gzip".into());
        let zipped = gzip(&data).map_err(|source| UploadError::Io {
            op: "compress",
            path: dest.to_string(),
            source,
        })?;
        return uploader.put_with(dest, &zipped, &attrs);
    }
    uploader.put_with(dest, &data, &target.attrs)
}

/// Upload targets one by one with the uploader's retries; all failures are reported together.
pub fn upload_targets(
    uploader: &dyn Uploader,
    targets: &Targets,
    opts: &GcsUploadOptions,
    log: &Logger,
) -> Result<(), String> {
    let cfg = &opts.gcs_configuration;
    if opts.dry_run {
        for dest in targets.keys() {
            log.log(
                crate::log::Level::Info,
                "Would upload",
                &[("dest", dest.clone())],
            );
        }
        return Ok(());
    }
    let compress = if opts.local_mode() {
        None
    } else {
        cfg.compress_file_types.as_deref()
    };
    // finished.json last: readers take it as "the build directory is complete".
    let mut order: Vec<&String> = targets.keys().collect();
    order.sort_by_key(|d| (d.ends_with(crate::metadata::FINISHED_FILE), d.as_str()));
    let mut errors = Vec::new();
    for dest in order {
        let target = &targets[dest];
        let full = uploader.describe(dest);
        let mut result = upload_one(uploader, dest, target, compress, &cfg.media_types);
        for delay in uploader.retry_delays() {
            if result.is_ok() {
                break;
            }
            std::thread::sleep(delay);
            result = upload_one(uploader, dest, target, compress, &cfg.media_types);
        }
        match result {
            Ok(()) => log.log(
                crate::log::Level::Info,
                "Finished upload",
                &[("dest", full)],
            ),
            Err(e) => {
                log.log(
                    crate::log::Level::Error,
                    "Failed upload",
                    &[("dest", full), ("error", e.to_string())],
                );
                errors.push(e.to_string());
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "encountered errors during upload: [{}]",
            errors.join(" ")
        ))
    }
}

/// Prow's `gcsupload.Options.Run`: assemble and upload the primary targets, then the extras.
pub fn run(
    opts: &GcsUploadOptions,
    spec: &JobSpec,
    extra: Targets,
    uploader: &dyn Uploader,
    log: &Logger,
) -> Result<(), String> {
    let t =
        assemble_targets(opts, spec, extra, log).map_err(|e| format!("assembleTargets: {e}"))?;
    let primary = upload_targets(uploader, &t.primary, opts, log);
    let extra = upload_targets(uploader, &t.extra, opts, log);
    match (primary, extra) {
        (Err(p), Err(e)) => {
            log.info(&format!("Also failed to upload extra targets: {e}"));
            Err(format!("failed to upload to blob storage: {p}"))
        }
        (Err(e), _) | (_, Err(e)) => Err(format!("failed to upload to blob storage: {e}")),
        _ => Ok(()),
    }
}

/// The uploader this crate can provide for the options: the local output directory, or a
/// `file://` bucket. Remote buckets (`gs://`, `s3://`) need an uploader from elsewhere.
pub fn local_uploader_for(opts: &GcsUploadOptions) -> Result<LocalUploader, String> {
    let cfg = &opts.gcs_configuration;
    if opts.local_mode() {
        return Ok(LocalUploader::new(&cfg.local_output_dir));
    }
    if let Some(path) = cfg.bucket.strip_prefix("file://") {
        return Ok(LocalUploader::new(path));
    }
    Err(format!(
        "no uploader available for bucket {:?} in this build (only local_output_dir and file:// are supported)",
        cfg.bucket
    ))
}

/// An uploader that refuses every write, standing in for a provider this build lacks.
#[derive(Clone, Debug)]
pub struct UnavailableUploader(pub String);

impl Uploader for UnavailableUploader {
    fn put(&self, _: &str, _: &[u8]) -> Result<(), UploadError> {
        Err(UploadError::Other(self.0.clone()))
    }

    fn retry_delays(&self) -> Vec<Duration> {
        Vec::new()
    }
}

/// The uploader the binaries use: [`local_uploader_for`] when possible, else one that reports
/// why nothing can be uploaded (so dry runs and local tests still work).
pub fn default_uploader(opts: &GcsUploadOptions) -> Box<dyn Uploader> {
    match local_uploader_for(opts) {
        Ok(u) => Box::new(u),
        Err(e) => Box::new(UnavailableUploader(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::{ProwJobType, Pull, Refs};

    fn spec(t: ProwJobType) -> JobSpec {
        JobSpec {
            job_type: Some(t),
            job: "job".into(),
            build_id: "build".into(),
            refs: Some(Refs {
                org: "org".into(),
                repo: "repo".into(),
                pulls: vec![Pull {
                    number: 1,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn opts(bucket: &str) -> GcsUploadOptions {
        GcsUploadOptions {
            gcs_configuration: GcsConfiguration {
                bucket: bucket.into(),
                path_strategy: "explicit".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn keys(t: &Targets) -> Vec<&str> {
        t.keys().map(String::as_str).collect()
    }

    #[test]
    fn infra_files_per_type() {
        let log = Logger::silent("test");
        let cases = [
            (
                ProwJobType::Presubmit,
                vec![
                    "pr-logs/directory/job/build.txt",
                    "pr-logs/directory/job/latest-build.txt",
                    "pr-logs/pull/org_repo/1/job/latest-build.txt",
                ],
            ),
            (ProwJobType::Postsubmit, vec!["logs/job/latest-build.txt"]),
            (ProwJobType::Periodic, vec!["logs/job/latest-build.txt"]),
            (
                ProwJobType::Batch,
                vec!["pr-logs/directory/job/latest-build.txt"],
            ),
        ];
        for (t, want) in cases {
            let a = assemble_targets(&opts("bucket"), &spec(t), Targets::new(), &log).unwrap();
            assert_eq!(keys(&a.primary), want, "{t}");
        }
        let a = assemble_targets(
            &opts("bucket"),
            &spec(ProwJobType::Presubmit),
            Targets::new(),
            &log,
        )
        .unwrap();
        let alias = &a.primary["pr-logs/directory/job/build.txt"];
        assert_eq!(
            alias.source,
            Source::Data(b"gs://bucket/pr-logs/pull/org_repo/1/job/build".to_vec())
        );
        assert_eq!(
            alias.attrs.metadata["x-goog-meta-link"],
            "gs://bucket/pr-logs/pull/org_repo/1/job/build"
        );
        assert_eq!(
            a.primary["pr-logs/directory/job/latest-build.txt"].source,
            Source::Data(b"build".to_vec())
        );
        assert!(
            assemble_targets(
                &opts("://bucket"),
                &spec(ProwJobType::Presubmit),
                Targets::new(),
                &log
            )
            .is_err()
        );
    }

    #[test]
    fn items_extras_and_local_mode() {
        let log = Logger::silent("test");
        let tmp = tempfile::tempdir().unwrap();
        let p = |s: &str| tmp.path().join(s);
        fs::write(p("something"), "x").unwrap();
        fs::write(p("else"), "x").unwrap();
        fs::create_dir(p("escape#me")).unwrap();
        fs::write(p("escape#me/foo"), "x").unwrap();
        fs::create_dir_all(p("dir/sub")).unwrap();
        fs::write(p("dir/sub/a.txt.gz"), "x").unwrap();
        let mut o = opts("bucket");
        o.items = ["something", "else", "escape#me", "dir", "missing"]
            .iter()
            .map(|s| p(s).display().to_string())
            .collect();
        let mut extra = Targets::new();
        extra.insert("finished.json".into(), UploadTarget::data("{}"));
        let a = assemble_targets(&o, &spec(ProwJobType::Presubmit), extra.clone(), &log).unwrap();
        let base = "pr-logs/pull/org_repo/1/job/build";
        for k in ["something", "else", "escape%23me/foo", "dir/sub/a.txt"] {
            assert!(a.primary.contains_key(&format!("{base}/{k}")), "{k}");
        }
        assert_eq!(
            a.primary[&format!("{base}/dir/sub/a.txt")]
                .attrs
                .content_encoding
                .as_deref(),
            Some("gzip")
        );
        assert_eq!(
            keys(&a.extra),
            vec![format!("{base}/finished.json").as_str()]
        );

        o.gcs_configuration.local_output_dir = "/output".into();
        o.items = vec![
            p("dir").display().to_string(),
            p("else").display().to_string(),
        ];
        let a = assemble_targets(&o, &spec(ProwJobType::Presubmit), extra, &log).unwrap();
        assert_eq!(keys(&a.primary), vec!["dir/sub/a.txt", "else"]);
        assert_eq!(keys(&a.extra), vec!["finished.json"]);
    }

    #[test]
    fn sub_dir_and_prefix() {
        let log = Logger::silent("test");
        let mut o = opts("s3://bucket");
        o.gcs_configuration.path_prefix = "pre".into();
        o.sub_dir = "artifacts".into();
        let mut extra = Targets::new();
        extra.insert("x".into(), UploadTarget::data("1"));
        let a = assemble_targets(&o, &spec(ProwJobType::Postsubmit), extra, &log).unwrap();
        assert_eq!(keys(&a.primary), vec!["logs/job/latest-build.txt"]);
        assert_eq!(keys(&a.extra), vec!["pre/logs/job/build/artifacts/x"]);
    }

    #[test]
    fn local_upload_and_dry_run() {
        let log = Logger::silent("test");
        let out = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let f = src.path().join("art.txt");
        fs::write(&f, "artifact").unwrap();
        let mut o = opts("bucket");
        o.gcs_configuration.local_output_dir = out.path().display().to_string();
        o.gcs_configuration.compress_file_types = Some(vec!["*".into()]);
        o.items = vec![src.path().display().to_string()];
        let up = local_uploader_for(&o).unwrap();
        let mut extra = Targets::new();
        extra.insert("build-log.txt".into(), UploadTarget::data("log"));
        extra.insert(
            "missing-log.txt".into(),
            UploadTarget {
                source: Source::LogFile(src.path().join("nope")),
                attrs: WriterOptions::default(),
            },
        );
        run(&o, &spec(ProwJobType::Periodic), extra.clone(), &up, &log).unwrap();
        let name = src
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            fs::read_to_string(out.path().join(&name).join("art.txt")).unwrap(),
            "artifact"
        );
        assert_eq!(
            fs::read_to_string(out.path().join("build-log.txt")).unwrap(),
            "log"
        );
        assert!(
            fs::read_to_string(out.path().join("missing-log.txt"))
                .unwrap()
                .starts_with("Failed to open ")
        );

        let dry = tempfile::tempdir().unwrap();
        o.gcs_configuration.local_output_dir = dry.path().display().to_string();
        o.dry_run = true;
        run(&o, &spec(ProwJobType::Periodic), extra, &up, &log).unwrap();
        assert_eq!(fs::read_dir(dry.path()).unwrap().count(), 0);

        assert!(local_uploader_for(&opts("gs://b")).is_err());
        assert!(local_uploader_for(&opts("file:///tmp/x")).is_ok());
        assert!(LocalUploader::new("/tmp").put("../x", b"").is_err());
    }

    /// A job controls its artifacts directory: links in it (to a host file, to a host
    /// directory, to itself), the directory itself being a link, and FIFOs must never make the
    /// uploader read anything outside it, or hang.
    #[test]
    fn symlinked_artifacts_are_skipped_and_logged() {
        use std::os::unix::fs::symlink;
        let log = Logger::silent("test").capturing();
        let host = tempfile::tempdir().unwrap();
        let marker = "host-marker-7d0c";
        fs::write(host.path().join("secret"), marker).unwrap();
        let job = tempfile::tempdir().unwrap();
        let arts = job.path().join("artifacts");
        fs::create_dir_all(arts.join("sub")).unwrap();
        fs::write(arts.join("sub/ok.txt"), "fine").unwrap();
        symlink(host.path().join("secret"), arts.join("leak")).unwrap();
        symlink(host.path(), arts.join("dirleak")).unwrap();
        symlink(&arts, arts.join("sub/loop")).unwrap();
        let fifo = arts.join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        // The artifacts directory itself replaced by a link to the host directory.
        let swapped = job.path().join("swapped");
        symlink(host.path(), &swapped).unwrap();
        // A single-file item that is a link.
        let file_item = job.path().join("file-item");
        symlink(host.path().join("secret"), &file_item).unwrap();

        let out = tempfile::tempdir().unwrap();
        let mut o = opts("bucket");
        o.gcs_configuration.local_output_dir = out.path().display().to_string();
        o.items = [&arts, &swapped, &file_item]
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let a = assemble_targets(&o, &spec(ProwJobType::Periodic), Targets::new(), &log).unwrap();
        assert_eq!(keys(&a.primary), vec!["artifacts/sub/ok.txt"]);
        let up = local_uploader_for(&o).unwrap();
        run(&o, &spec(ProwJobType::Periodic), Targets::new(), &up, &log).unwrap();
        let mut seen = Vec::new();
        let mut stack = vec![out.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let m = fs::symlink_metadata(&p).unwrap();
                assert!(!m.file_type().is_symlink(), "{}", p.display());
                if m.is_dir() {
                    stack.push(p);
                } else {
                    assert!(!fs::read_to_string(&p).unwrap().contains(marker));
                    seen.push(p.strip_prefix(out.path()).unwrap().to_path_buf());
                }
            }
        }
        assert_eq!(seen, vec![PathBuf::from("artifacts/sub/ok.txt")]);
        let lines = String::from_utf8_lossy(&log.captured()).into_owned();
        for name in ["leak", "dirleak", "loop", "fifo", "swapped", "file-item"] {
            assert!(
                lines.contains(name) && lines.contains("never"),
                "no warning for {name}: {lines}"
            );
        }

        // Reading a link or a FIFO directly is refused too (no hang).
        assert!(read_regular_file(&arts.join("leak")).is_err());
        assert!(read_regular_file(&fifo).is_err());
        assert!(
            LocalUploader::new(out.path())
                .put_file("x", &arts.join("leak"), &WriterOptions::default())
                .is_err()
        );
        let t = UploadTarget {
            source: Source::LogFile(arts.join("leak")),
            attrs: WriterOptions::default(),
        };
        let mut targets = Targets::new();
        targets.insert("log.txt".into(), t);
        upload_targets(&up, &targets, &o, &log).unwrap();
        let got = fs::read_to_string(out.path().join("log.txt")).unwrap();
        assert!(
            got.starts_with("Failed to open ") && !got.contains(marker),
            "{got}"
        );
    }

    #[test]
    fn remote_compression() {
        struct Mem(std::sync::Mutex<BTreeMap<String, (Vec<u8>, WriterOptions)>>);
        impl Uploader for Mem {
            fn put(&self, path: &str, data: &[u8]) -> Result<(), UploadError> {
                self.put_with(path, data, &WriterOptions::default())
            }
            fn put_with(&self, p: &str, d: &[u8], a: &WriterOptions) -> Result<(), UploadError> {
                self.0
                    .lock()
                    .unwrap()
                    .insert(p.into(), (d.to_vec(), a.clone()));
                Ok(())
            }
        }
        let log = Logger::silent("test");
        let mem = Mem(Default::default());
        let mut o = opts("gs://bucket");
        o.gcs_configuration.compress_file_types = Some(vec!["txt".into()]);
        let mut t = Targets::new();
        t.insert("big.txt".into(), UploadTarget::data(vec![b'a'; 2000]));
        t.insert("small.txt".into(), UploadTarget::data("a"));
        upload_targets(&mem, &t, &o, &log).unwrap();
        let m = mem.0.lock().unwrap();
        assert!(is_gzip(&m["big.txt"].0));
        assert_eq!(m["big.txt"].1.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(m["small.txt"].0, b"a");
    }

    #[test]
    fn options_json_shape() {
        let raw = r#"{"items":["/logs/artifacts"],"bucket":"my-bucket","path_strategy":"legacy","default_org":"kubernetes","default_repo":"kubernetes","mediaTypes":{"log":"text/plain"},"gcs_credentials_file":"/secrets/gcs/service-account.json","dry_run":false}"#;
        let o: GcsUploadOptions = serde_json::from_str(raw).unwrap();
        assert_eq!(o.gcs_configuration.bucket, "my-bucket");
        assert_eq!(o.items, vec!["/logs/artifacts"]);
        assert_eq!(serde_json::to_string(&o).unwrap(), raw);
        assert!(o.validate().is_ok());
        let mut bad = o.clone();
        bad.gcs_configuration.bucket.clear();
        assert!(bad.validate().unwrap_err().contains("no GCS bucket"));
    }
}
