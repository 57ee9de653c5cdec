//! Uploading a run's files in Prow's bucket layout. Object names come from pod-utils' gcsupload
//! target assembly (build directory, `latest-build.txt` pointers, presubmit alias, gathered
//! artifacts), so they match what initupload and sidecar write; the bytes go through
//! `prow_storage`'s upload semantics (compression, content types, object metadata).
//!
//! Symbolic links are never uploaded: the gathering walk (pod-utils' `assemble_targets`)
//! skips links and special files with a warning, a links-only artifacts directory (or one
//! replaced by a link) uploads nothing, and every file is opened with `O_NOFOLLOW`, so a link
//! swapped in after the walk is refused by the kernel rather than followed.

use std::path::Path;

use bytes::Bytes;
use prow_api::GcsConfiguration;
use prow_pod_utils::downwardapi::JobSpec;
use prow_pod_utils::gcs::{self, WriterOptions};
use prow_pod_utils::log::Logger;
use prow_pod_utils::metadata::FINISHED_FILE;
use prow_pod_utils::upload::{GcsUploadOptions, Source, Targets, assemble_targets};
use prow_storage::upload::{UploadPolicy, upload_bytes, upload_file};
use prow_storage::{PutOptions, Storage};

/// The gcsupload options for a job writing into `storage`: the job's storage configuration
/// (its bucket names the alias target, as in Prow, so Deck's job history and Spyglass links
/// use the configured bucket; the objects themselves go to `storage`, which the all-in-one mode
/// serves for every bucket name), the store's URL when the job names no bucket, and an unknown
/// path strategy read as `explicit`.
pub fn upload_options(
    storage: &dyn Storage,
    cfg: Option<&GcsConfiguration>,
    items: Vec<String>,
) -> GcsUploadOptions {
    let mut cfg = cfg.cloned().unwrap_or_default();
    if cfg.bucket.is_empty() {
        cfg.bucket = storage.url().to_string();
    }
    cfg.local_output_dir = String::new();
    if gcs::RepoPathBuilder::for_config(&cfg).is_none() {
        cfg.path_strategy = gcs::PATH_STRATEGY_EXPLICIT.to_string();
    }
    GcsUploadOptions {
        items,
        gcs_configuration: cfg,
        ..Default::default()
    }
}

fn put_options(attrs: &WriterOptions) -> PutOptions {
    PutOptions {
        content_type: attrs.content_type.clone(),
        content_encoding: attrs.content_encoding.clone(),
        metadata: attrs.metadata.clone(),
        ..Default::default()
    }
}

/// Upload `extra` (named relative to the build directory) plus everything the options imply.
/// `finished.json` goes last, because readers take it as "this build directory is complete".
/// Returns the failures; uploads are best effort, as in sidecar.
pub async fn upload(
    storage: &dyn Storage,
    opts: &GcsUploadOptions,
    spec: &JobSpec,
    extra: Targets,
) -> Vec<String> {
    let log = Logger::silent("local-executor").capturing();
    let assembled = assemble_targets(opts, spec, extra, &log);
    forward_warnings(&log, &spec.job, &spec.build_id);
    let assembled = match assembled {
        Ok(t) => t,
        Err(e) => return vec![format!("assembleTargets: {e}")],
    };
    let cfg = &opts.gcs_configuration;
    let policy = UploadPolicy {
        compress_file_types: cfg.compress_file_types.clone().unwrap_or_default(),
        media_types: cfg.media_types.clone(),
    };
    let mut all: Vec<_> = assembled
        .primary
        .into_iter()
        .chain(assembled.extra)
        .collect();
    all.sort_by(|(a, _), (b, _)| {
        (a.ends_with(FINISHED_FILE), a.as_str()).cmp(&(b.ends_with(FINISHED_FILE), b.as_str()))
    });
    let mut errors = Vec::new();
    for (dest, target) in all {
        let opts = put_options(&target.attrs);
        let res = match &target.source {
            Source::Data(d) => {
                upload_bytes(storage, &dest, Bytes::from(d.clone()), &opts, &policy).await
            }
            Source::File(p) => upload_file(storage, &dest, p, &opts, &policy).await,
            Source::LogFile(p) => {
                let data = read_or_explain(p).await;
                upload_bytes(storage, &dest, Bytes::from(data), &opts, &policy).await
            }
        };
        if let Err(e) = res {
            tracing::warn!(dest = %dest, error = %e, "local executor: upload failed");
            errors.push(format!("{dest}: {e}"));
        }
    }
    errors
}

/// Pass the gathering walk's warnings (skipped links and special files, unreadable items) on
/// to prow's own log, where an operator sees them.
fn forward_warnings(log: &Logger, job: &str, build: &str) {
    let captured = log.captured();
    for line in String::from_utf8_lossy(&captured).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if matches!(v["level"].as_str(), Some("warning" | "error")) {
            tracing::warn!(
                job = %job,
                build = %build,
                "local executor: {}",
                v["msg"].as_str().unwrap_or_default()
            );
        }
    }
}

/// A log file's content, or a line saying why it could not be read (so a missing log is
/// visible in the bucket, as in Prow). A link in place of the log is never followed.
async fn read_or_explain(p: &Path) -> Vec<u8> {
    let read = async {
        let mut f = prow_storage::safe_fs::open_regular_nofollow_async(p).await?;
        let mut data = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut f, &mut data).await?;
        Ok::<_, std::io::Error>(data)
    };
    match read.await {
        Ok(d) => d,
        Err(e) => format!("Failed to open {}: {e}\n", p.display()).into_bytes(),
    }
}
