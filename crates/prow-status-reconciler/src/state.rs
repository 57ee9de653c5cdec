//! The last reconciled config, kept in `--status-path` so a restart compares the live config with
//! what was last acted on instead of with nothing.
//!
//! Only what the delta needs is stored, under Prow's field names: a YAML document with a
//! top-level `presubmits: {org/repo: [{name, context, always_run, optional, skip_report,
//! run_if_changed, skip_if_only_changed, branches, skip_branches}]}`. Prow stores its whole
//! config there (the job config is inlined at top level), so a state file written by Prow reads
//! back here unchanged; unknown keys are ignored.
//!
//! Like Prow, `--status-path` is a local path or a `gs://` / `s3://` object
//! ([`StateLocation`]).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use prow_storage::{Credentials, PutOptions, Storage, StorageError};

use prow_config::{JobConfig, Presubmit, ProwConfig};
use serde::{Deserialize, Serialize};

use crate::delta::Presubmits;

/// Errors reading or writing the state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file could not be read or written.
    #[error("state file {path}: {source}")]
    Io {
        /// The state file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a state document.
    #[error("state file {path}: cannot parse: {message}")]
    Parse {
        /// The state file.
        path: PathBuf,
        /// The decoder's message.
        message: String,
    },
    /// The snapshot could not be encoded.
    #[error("encoding state: {0}")]
    Encode(String),
    /// The `--status-path` URL is unusable.
    #[error("--status-path {url:?}: {reason}")]
    Location {
        /// The value given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The bucket could not be read or written.
    #[error("state object: {0}")]
    Storage(#[from] StorageError),
}

/// Where the state is kept.
#[derive(Clone, Debug)]
pub enum StateLocation {
    /// A local file, replaced atomically (temp file + rename).
    File(PathBuf),
    /// An object in a bucket; object stores replace objects atomically on each write.
    Object {
        /// The bucket (opened at the object's directory).
        storage: Arc<dyn Storage>,
        /// The object's name in `storage`.
        key: String,
    },
}

impl StateLocation {
    /// From Prow's `--status-path`: empty = none, `gs://bucket/obj`, `s3://bucket/obj`,
    /// `file:///dir/obj` (through the storage layer), anything else a local path.
    pub fn parse(raw: &str, creds: &Credentials) -> Result<Option<Self>, StateError> {
        if raw.is_empty() {
            return Ok(None);
        }
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Ok(Some(StateLocation::File(PathBuf::from(raw))));
        };
        let bad = |reason: &str| StateError::Location {
            url: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let (dir, key) = rest
            .rsplit_once('/')
            .filter(|(d, k)| !d.trim_start_matches('/').is_empty() && !k.is_empty())
            .ok_or_else(|| bad("expected <scheme>://<bucket>/<object>"))?;
        let storage = prow_storage::open(&format!("{scheme}://{dir}"), creds)?;
        Ok(Some(StateLocation::Object {
            storage,
            key: key.to_owned(),
        }))
    }

    /// The stored snapshot; `None` when nothing has been stored yet.
    pub async fn load(&self) -> Result<Option<Snapshot>, StateError> {
        match self {
            StateLocation::File(path) => load(path),
            StateLocation::Object { storage, key } => match storage.get(key).await {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    Snapshot::parse(&text, Path::new(&storage.object_url(key))).map(Some)
                }
                Err(StorageError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Stores `snapshot`.
    pub async fn save(&self, snapshot: &Snapshot) -> Result<(), StateError> {
        match self {
            StateLocation::File(path) => save(path, snapshot),
            StateLocation::Object { storage, key } => {
                let text = snapshot.to_yaml()?;
                storage
                    .put(
                        key,
                        text.into_bytes().into(),
                        &PutOptions::content_type("application/yaml"),
                    )
                    .await?;
                Ok(())
            }
        }
    }

    /// For logs.
    pub fn describe(&self) -> String {
        match self {
            StateLocation::File(p) => p.display().to_string(),
            StateLocation::Object { storage, key } => storage.object_url(key),
        }
    }
}

/// The fields of one presubmit the delta looks at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobSnapshot {
    /// Job name (how jobs are matched across versions).
    pub name: String,
    /// Status context.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub context: String,
    /// Runs on every PR.
    #[serde(skip_serializing_if = "is_false")]
    pub always_run: bool,
    /// Not required.
    #[serde(skip_serializing_if = "is_false")]
    pub optional: bool,
    /// Does not report.
    #[serde(skip_serializing_if = "is_false")]
    pub skip_report: bool,
    /// Changed-file filter.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub run_if_changed: String,
    /// Changed-file filter.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub skip_if_only_changed: String,
    /// Branch filter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<String>,
    /// Branch filter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skip_branches: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl JobSnapshot {
    fn of(p: &Presubmit) -> Self {
        JobSnapshot {
            name: p.base.name.clone(),
            context: p.reporter.context.clone(),
            always_run: p.always_run,
            optional: p.optional,
            skip_report: p.reporter.skip_report,
            run_if_changed: p.changes.run_if_changed.clone(),
            skip_if_only_changed: p.changes.skip_if_only_changed.clone(),
            branches: p.brancher.branches.clone(),
            skip_branches: p.brancher.skip_branches.clone(),
        }
    }

    fn to_presubmit(&self) -> Presubmit {
        let mut p = Presubmit::default();
        p.base.name.clone_from(&self.name);
        p.reporter.context.clone_from(&self.context);
        p.reporter.skip_report = self.skip_report;
        p.always_run = self.always_run;
        p.optional = self.optional;
        p.changes.run_if_changed.clone_from(&self.run_if_changed);
        p.changes
            .skip_if_only_changed
            .clone_from(&self.skip_if_only_changed);
        p.brancher.branches.clone_from(&self.branches);
        p.brancher.skip_branches.clone_from(&self.skip_branches);
        p
    }
}

/// The stored state: presubmits per `org/repo`, reduced to what the delta needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    /// Presubmits per `org/repo`.
    pub presubmits: BTreeMap<String, Vec<JobSnapshot>>,
}

impl Snapshot {
    /// The snapshot of a loaded config's presubmits.
    pub fn of(presubmits: &Presubmits) -> Self {
        Snapshot {
            presubmits: presubmits
                .iter()
                .map(|(repo, jobs)| (repo.clone(), jobs.iter().map(JobSnapshot::of).collect()))
                .collect(),
        }
    }

    /// Presubmits rebuilt from the snapshot, with their branch and file regexes compiled (a
    /// regex that does not compile leaves that filter unset, as for any unvalidated job).
    pub fn to_presubmits(&self) -> Presubmits {
        let mut jobs = JobConfig {
            presubmits: self
                .presubmits
                .iter()
                .map(|(repo, list)| {
                    (
                        repo.clone(),
                        list.iter().map(JobSnapshot::to_presubmit).collect(),
                    )
                })
                .collect(),
            ..Default::default()
        };
        // Validation compiles the regexes as a side effect; its complaints about fields a
        // snapshot does not keep (pod spec, …) are irrelevant here.
        let _ = prow_config::validate::validate(&ProwConfig::default(), &mut jobs, "status-path");
        jobs.presubmits
    }

    /// A short, stable identifier of this snapshot (used to name the jobs a reconcile creates,
    /// so that redoing the same reconcile after a crash finds them instead of duplicating).
    pub fn fingerprint(&self) -> String {
        let text = serde_saphyr::to_string(self).unwrap_or_default();
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, text.as_bytes()).to_string()
    }

    /// Parses a state document (ours or Prow's).
    pub fn parse(text: &str, path: &Path) -> Result<Self, StateError> {
        if text.trim().is_empty() {
            return Ok(Snapshot::default());
        }
        serde_saphyr::from_str(text).map_err(|e| StateError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// The state document.
    pub fn to_yaml(&self) -> Result<String, StateError> {
        serde_saphyr::to_string(self).map_err(|e| StateError::Encode(e.to_string()))
    }
}

/// Reads the state file; `None` when there is none yet.
pub fn load(path: &Path) -> Result<Option<Snapshot>, StateError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Snapshot::parse(&text, path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes the state file atomically: a temp file in the same directory, synced, then renamed
/// over the old one, so a crash leaves either the old or the new state, never half of one.
pub fn save(path: &Path, snapshot: &Snapshot) -> Result<(), StateError> {
    let io = |source| StateError::Io {
        path: path.to_owned(),
        source,
    };
    let text = snapshot.to_yaml()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "status".to_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
