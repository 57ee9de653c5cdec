//! The blob storage reporter (`gcsreporter`, spec §6.4): writes `prowjob.json` on every update,
//! `started.json` unless the pod utilities wrote one, and `finished.json` for completed jobs
//! unless one exists, so jobs that never started still show in Spyglass. Paths are the pod
//! utilities' (`prow_pod_utils::gcs::paths_for_job`).

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use prow_api::{GcsConfiguration, ProwJob, ProwJobState};
use prow_config::ProwConfig;
use prow_pod_utils::clone::Record;
use prow_pod_utils::downwardapi::{JobSpec, prowjob_to_started, revision_from_refs};
use prow_pod_utils::gcs::{self, paths_for_job};
use prow_pod_utils::metadata::{
    CLONE_RECORDS_FILE, FINISHED_FILE, Finished, STARTED_FILE, Started,
};
use prow_storage::{PutOptions, Storage};
use serde::Serialize;

use crate::{ConfigGetter, Reporter};

/// The reporter's name, the key in `status.prev_report_states`.
pub const REPORTER_NAME: &str = "gcsreporter";
/// The ProwJob object's file name in the build directory.
pub const PROWJOB_FILE: &str = "prowjob.json";

/// Opens the store behind a bucket (as written in `gcs_configuration.bucket`: a bare GCS bucket
/// name or a `gs://`, `s3://`, `file://` URL). `prow local` maps every bucket to its local one.
pub type StorageResolver = Arc<dyn Fn(&str) -> anyhow::Result<Arc<dyn Storage>> + Send + Sync>;

/// Why a job has no destination.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DestinationError {
    /// Build IDs come with scheduling; without one there is no build directory.
    #[error("cannot get job destination for job with no BuildID")]
    NoBuildId,
    /// Neither the job nor `plank.default_decoration_config_entries` name a bucket.
    #[error("couldn't figure out a GCS config for {0:?}")]
    NoConfig(String),
    /// The job's refs do not make a path.
    #[error("job path: {0}")]
    Path(String),
}

/// The storage configuration of a job: its own decoration config, else plank's defaults for its
/// repo and cluster (Prow's `gcsConfig`).
pub fn gcs_config(cfg: &ProwConfig, pj: &ProwJob) -> Result<GcsConfiguration, DestinationError> {
    if pj.status.build_id.is_empty() {
        return Err(DestinationError::NoBuildId);
    }
    if let Some(g) = pj
        .spec
        .decoration_config
        .as_ref()
        .and_then(|d| d.gcs_configuration.as_ref())
    {
        return Ok(g.clone());
    }
    let repo = pj
        .spec
        .refs
        .as_ref()
        .or(pj.spec.extra_refs.first())
        .map_or(String::new(), |r| format!("{}/{}", r.org, r.repo));
    prow_config::defaults::decoration_defaults(cfg, &repo, &pj.spec.cluster)
        .and_then(|d| d.gcs_configuration)
        .ok_or_else(|| DestinationError::NoConfig(pj.spec.job.clone()))
}

/// Bucket and build directory of a job (Prow's `GetJobDestination`).
pub fn job_destination(
    cfg: &ProwConfig,
    pj: &ProwJob,
) -> Result<(String, String), DestinationError> {
    let g = gcs_config(cfg, pj)?;
    let spec = JobSpec::from_prowjob(pj);
    let paths = paths_for_job(&g, &spec, "").map_err(|e| DestinationError::Path(e.to_string()))?;
    Ok((g.bucket, paths.job_base_path))
}

/// JSON indented with tabs, as Go's `json.MarshalIndent(v, "", "\t")`.
pub fn to_tab_json<T: Serialize>(v: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"\t"),
    );
    v.serialize(&mut ser)?;
    Ok(out)
}

fn crier_metadata() -> prow_pod_utils::metadata::Metadata {
    let mut m = prow_pod_utils::metadata::Metadata::new();
    m.insert("uploader".into(), "crier".into());
    m
}

/// `finished.json` for a completed job (`None` while it runs): completion time, `passed`, the
/// state as `result`, and `metadata.uploader: crier`.
pub fn finished_for(pj: &ProwJob) -> Option<Finished> {
    if !pj.complete() {
        return None;
    }
    Some(Finished {
        timestamp: Some(pj.status.completion_time.map_or(0, |t| t.timestamp())),
        passed: Some(pj.status.state == ProwJobState::Success),
        metadata: Some(crier_metadata()),
        result: pj.status.state.as_str().to_owned(),
        ..Default::default()
    })
}

/// What to do about `started.json`.
#[derive(Debug, Clone, PartialEq)]
pub enum StartedAction {
    /// Leave it: the pod utilities wrote it, or the commit was already resolved.
    Skip,
    /// Write this; `overwrite` when replacing crier's own earlier file.
    Write {
        /// The content.
        started: Started,
        /// Whether a file exists (written by crier) and is replaced.
        overwrite: bool,
    },
}

/// Decides `started.json` from what is stored (`existing`, if it parsed) and the clone records.
pub fn started_action(
    pj: &ProwJob,
    existing: Option<&Started>,
    clone_records: &[Record],
) -> StartedAction {
    if let Some(e) = existing {
        let by_crier = e
            .metadata
            .as_ref()
            .and_then(|m| m.get("uploader"))
            .and_then(|v| v.as_str())
            == Some("crier");
        if !by_crier {
            return StartedAction::Skip;
        }
    }
    let static_revision = revision_from_refs(pj.spec.refs.as_ref(), &pj.spec.extra_refs);
    let resolved = existing.map_or("", |e| e.repo_commit.as_str());
    if pj.spec.refs.is_none() || (!resolved.is_empty() && resolved != static_revision) {
        return StartedAction::Skip;
    }
    let mut started = prowjob_to_started(pj, clone_records);
    started.metadata = Some(crier_metadata());
    StartedAction::Write {
        started,
        overwrite: existing.is_some(),
    }
}

/// The `gcsreporter`.
pub struct BlobReporter {
    config: ConfigGetter,
    resolver: StorageResolver,
    dry_run: bool,
}

impl BlobReporter {
    /// A reporter writing into the stores `resolver` opens; `dry_run` logs instead.
    pub fn new(config: ConfigGetter, resolver: StorageResolver, dry_run: bool) -> Self {
        BlobReporter {
            config,
            resolver,
            dry_run,
        }
    }

    async fn read_json<T: serde::de::DeserializeOwned>(
        store: &dyn Storage,
        key: &str,
    ) -> Option<T> {
        match store.get(key).await {
            Ok(b) => match serde_json::from_slice(&b) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(key, error = %e, "unparsable object");
                    None
                }
            },
            Err(e) => {
                if !e.is_not_found() {
                    tracing::warn!(key, error = %e, "failed to read object");
                }
                None
            }
        }
    }

    async fn put(
        store: &dyn Storage,
        key: &str,
        data: Vec<u8>,
        if_not_exists: bool,
    ) -> anyhow::Result<()> {
        let opts = PutOptions {
            content_type: Some("application/json".into()),
            if_not_exists,
            ..Default::default()
        };
        match store.put(key, Bytes::from(data), &opts).await {
            Ok(()) => Ok(()),
            // Someone (the pod utilities, or an earlier attempt) wrote it first: theirs stands.
            Err(e) if if_not_exists && e.is_already_exists() => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context(format!("writing {key}"))),
        }
    }

    async fn report_inner(&self, pj: &ProwJob) -> anyhow::Result<()> {
        let cfg = (self.config)();
        let (bucket, dir) = match job_destination(&cfg.prow, pj) {
            Ok(d) => d,
            Err(e) => {
                tracing::info!(error = %e, "not uploading prowjob: no destination");
                return Ok(());
            }
        };
        if self.dry_run {
            tracing::info!(%bucket, %dir, "dry-run: would upload started/finished/prowjob.json");
            return Ok(());
        }
        let store = (self.resolver)(&bucket)?;
        let key = |f: &str| gcs::join(&[&dir, f]);
        let mut errors = Vec::new();

        let existing: Option<Started> = Self::read_json(store.as_ref(), &key(STARTED_FILE)).await;
        let records: Vec<Record> = Self::read_json(store.as_ref(), &key(CLONE_RECORDS_FILE))
            .await
            .unwrap_or_default();
        if let StartedAction::Write { started, overwrite } =
            started_action(pj, existing.as_ref(), &records)
            && let Err(e) = Self::put(
                store.as_ref(),
                &key(STARTED_FILE),
                to_tab_json(&started)?,
                !overwrite,
            )
            .await
        {
            errors.push(e.to_string());
        }
        if let Some(f) = finished_for(pj)
            && let Err(e) =
                Self::put(store.as_ref(), &key(FINISHED_FILE), to_tab_json(&f)?, true).await
        {
            errors.push(e.to_string());
        }
        if let Err(e) = Self::put(store.as_ref(), &key(PROWJOB_FILE), to_tab_json(pj)?, false).await
        {
            errors.push(e.to_string());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!(errors.join("; ")))
        }
    }
}

#[async_trait]
impl Reporter for BlobReporter {
    fn name(&self) -> &'static str {
        REPORTER_NAME
    }

    fn should_report(&self, pj: &ProwJob) -> bool {
        !pj.status.build_id.is_empty()
    }

    async fn report(&self, pj: &ProwJob) -> anyhow::Result<()> {
        self.report_inner(pj).await
    }
}

#[cfg(test)]
mod tests;
