//! initupload: the init container that announces a build. It uploads `started.json` (and
//! the latest-build/alias pointers), plus the clone records and a readable clone log when
//! clonerefs ran. If cloning failed it also uploads the clone log as `build-log.txt` and a
//! failing `finished.json`, then exits non-zero so the pod fails before the test starts.

use serde::{Deserialize, Serialize};

use crate::clone::{self, Record};
use crate::downwardapi::{JobSpec, spec_to_started};
use crate::flags::{FlagDef, OptionSource, Parsed, from_json, load};
use crate::log::Logger;
use crate::metadata::{self, Finished};
use crate::upload::{self, GcsUploadOptions, Targets, UploadTarget, Uploader};

/// Env var holding initupload's options.
pub const INITUPLOAD_OPTIONS_ENV: &str = "INITUPLOAD_OPTIONS";

/// Prow's `initupload.Options`: gcsupload options plus the clone log location.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InitUploadOptions {
    /// Upload settings (fields at the top level of the JSON).
    #[serde(flatten)]
    pub gcs: GcsUploadOptions,
    /// Clone records written by clonerefs (`/logs/clone.json`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub log: String,
}

impl InitUploadOptions {
    /// Same checks as gcsupload.
    pub fn validate(&self) -> Result<(), String> {
        self.gcs.validate()
    }
}

/// Read the clone records and add `clone-log.txt`, `clone-records.json` and, on failure,
/// `build-log.txt` and a failing `finished.json` to `targets`. Returns whether a clone failed.
pub fn process_clone_log(
    path: &str,
    targets: &mut Targets,
    now: i64,
) -> Result<(bool, Vec<Record>), String> {
    let data = std::fs::read(path).map_err(|e| format!("could not read clone log: {e}"))?;
    let records: Vec<Record> = serde_json::from_slice(&data)
        .map_err(|e| format!("could not unmarshal clone records: {e}"))?;
    let clone_log: String = records.iter().map(clone::format_record).collect();
    let failed = records.iter().any(|r| r.failed);
    targets.insert(
        metadata::CLONE_LOG_FILE.into(),
        UploadTarget::data(clone_log.clone()),
    );
    targets.insert(
        metadata::CLONE_RECORDS_FILE.into(),
        UploadTarget::file(path),
    );
    if failed {
        targets.insert(
            metadata::BUILD_LOG_FILE.into(),
            UploadTarget::data(clone_log),
        );
        let finished = Finished {
            timestamp: Some(now),
            passed: Some(false),
            result: metadata::result::FAILURE.into(),
            ..Default::default()
        };
        let json = serde_json::to_vec(&finished)
            .map_err(|e| format!("could not marshal finishing data: {e}"))?;
        targets.insert(metadata::FINISHED_FILE.into(), UploadTarget::data(json));
    }
    Ok((failed, records))
}

/// Prow's `initupload.Run`, at time `now` (Unix seconds).
pub fn run(
    opts: &InitUploadOptions,
    spec: &JobSpec,
    uploader: &dyn Uploader,
    log: &Logger,
    now: i64,
) -> Result<(), String> {
    let mut targets = Targets::new();
    let mut failed = false;
    let mut records = Vec::new();
    if !opts.log.is_empty() {
        (failed, records) = process_clone_log(&opts.log, &mut targets, now)?;
    }
    let started = spec_to_started(spec, &records, now);
    let json = serde_json::to_vec(&started)
        .map_err(|e| format!("could not marshal starting data: {e}"))?;
    targets.insert(metadata::STARTED_FILE.into(), UploadTarget::data(json));
    upload::run(&opts.gcs, spec, targets, uploader, log)
        .map_err(|e| format!("failed to upload to blob storage: {e}"))?;
    if failed {
        return Err("cloning the appropriate refs failed".into());
    }
    Ok(())
}

/// gcsupload's flags (shared by initupload and sidecar when no JSON is given).
pub const GCS_FLAGS: &[FlagDef] = &[
    FlagDef::value("sub-dir"),
    FlagDef::value("path-strategy"),
    FlagDef::value("default-org"),
    FlagDef::value("default-repo"),
    FlagDef::value("gcs-path"),
    FlagDef::boolean("dry-run"),
    FlagDef::value("media-type"),
    FlagDef::value("local-output-dir"),
    FlagDef::value("gcs-credentials-file"),
    FlagDef::value("s3-credentials-file"),
    FlagDef::value("clone-log"),
];

/// gcsupload options from flags, with Prow's flag defaults (`explicit` strategy, dry run on)
/// and the positional arguments as items.
pub fn gcs_options_from_flags(p: &Parsed) -> Result<GcsUploadOptions, String> {
    let s = |n: &str| p.get(n).unwrap_or_default().to_string();
    let mut o = GcsUploadOptions {
        items: p.args.clone(),
        sub_dir: s("sub-dir"),
        gcs_credentials_file: s("gcs-credentials-file"),
        s3_credentials_file: s("s3-credentials-file"),
        dry_run: match p.get("dry-run") {
            None => true,
            Some(_) => p.bool("dry-run")?,
        },
        ..Default::default()
    };
    let c = &mut o.gcs_configuration;
    c.path_strategy = p.get("path-strategy").unwrap_or("explicit").to_string();
    c.default_org = s("default-org");
    c.default_repo = s("default-repo");
    c.local_output_dir = s("local-output-dir");
    if let Some(path) = p.get("gcs-path").filter(|v| !v.is_empty()) {
        let rest = path.split_once("://").map_or(path, |(_, r)| r);
        let (bucket, object) = rest.split_once('/').unwrap_or((rest, ""));
        c.bucket = bucket.to_string();
        c.path_prefix = object.to_string();
    }
    for mt in p.all("media-type") {
        for entry in mt.split(',').filter(|e| !e.is_empty()) {
            let (ext, ty) = entry.split_once(':').ok_or_else(|| {
                format!("invalid extension media type {entry:?}: missing colon delimiter")
            })?;
            c.media_types.insert(ext.into(), ty.into());
        }
    }
    Ok(o)
}

/// Options from `INITUPLOAD_OPTIONS`, else from flags.
pub fn load_options(args: &[String]) -> Result<InitUploadOptions, String> {
    match load(INITUPLOAD_OPTIONS_ENV, args, GCS_FLAGS)? {
        OptionSource::Json(j) => from_json(INITUPLOAD_OPTIONS_ENV, &j),
        OptionSource::Flags(p) => Ok(InitUploadOptions {
            gcs: gcs_options_from_flags(&p)?,
            log: p.get("clone-log").unwrap_or_default().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_json_shape() {
        let raw = r#"{"bucket":"my-bucket","path_strategy":"legacy","default_org":"kubernetes","default_repo":"kubernetes","mediaTypes":{"log":"text/plain"},"gcs_credentials_file":"/secrets/gcs/service-account.json","dry_run":false,"log":"/logs/clone.json"}"#;
        let o: InitUploadOptions = serde_json::from_str(raw).unwrap();
        assert_eq!(o.log, "/logs/clone.json");
        assert_eq!(o.gcs.gcs_configuration.default_org, "kubernetes");
        assert_eq!(serde_json::to_string(&o).unwrap(), raw);
        o.validate().unwrap();
    }

    #[test]
    fn flags_fallback() {
        let args: Vec<String> = [
            "--gcs-path=gs://bucket/some/prefix",
            "--media-type=log:text/plain,md:text/markdown",
            "--dry-run=false",
            "item1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let p = crate::flags::parse(&args, GCS_FLAGS).unwrap();
        let o = gcs_options_from_flags(&p).unwrap();
        assert_eq!(o.gcs_configuration.bucket, "bucket");
        assert_eq!(o.gcs_configuration.path_prefix, "some/prefix");
        assert_eq!(o.gcs_configuration.path_strategy, "explicit");
        assert_eq!(o.gcs_configuration.media_types.len(), 2);
        assert!(!o.dry_run);
        assert_eq!(o.items, vec!["item1"]);
        let p = crate::flags::parse(&["--media-type=bad".to_string()], GCS_FLAGS).unwrap();
        assert!(gcs_options_from_flags(&p).is_err());
        let p = crate::flags::parse(&[], GCS_FLAGS).unwrap();
        assert!(gcs_options_from_flags(&p).unwrap().dry_run);
    }
}
