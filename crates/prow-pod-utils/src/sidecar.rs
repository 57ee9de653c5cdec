//! sidecar: waits for the test containers to finish, then uploads their logs, artifacts and
//! `finished.json`.
//!
//! `passed` is true only when every marker reads 0; `ABORTED` when any reads 130. Before
//! uploading, secrets from the mounted secret volumes are censored in the logs and artifacts.
//! On SIGINT/SIGTERM before the markers appear, a best-effort upload marked aborted is made
//! (unless `ignore_interrupts`) and waiting continues, as in Prow.

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use globset::GlobBuilder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::censor::{self, Censorer};
use crate::downwardapi::JobSpec;
use crate::entrypoint::{ABORTED_ERROR_CODE, PREVIOUS_ERROR_CODE};
use crate::log::{Level, Logger};
use crate::metadata::{self, Finished, Metadata};
use crate::signals::{Signal, describe};
use crate::upload::{self, GcsUploadOptions, Source, Targets, UploadTarget, Uploader};
use crate::wrapper::{self, CancelToken, WrapperOptions};

/// Env var holding sidecar's options.
pub const SIDECAR_OPTIONS_ENV: &str = "SIDECAR_OPTIONS";
/// Name of the sidecar's own uploaded log.
pub const LOG_FILE_NAME: &str = "sidecar-logs.json";
/// Metadata key collecting errors met while reading metadata files.
pub const ERROR_KEY: &str = "sidecar-errors";

/// Prow's `sidecar.CensoringOptions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CensoringOptions {
    /// Directories (secret mounts) whose files are the secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_directories: Vec<String>,
    /// Files censored in parallel (accepted; we censor sequentially).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_concurrency: Option<i64>,
    /// Streaming buffer size in bytes (default 10 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_buffer_size: Option<i64>,
    /// Globs (relative to the artifact dir) to censor; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_directories: Vec<String>,
    /// Globs never censored; wins over includes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_directories: Vec<String>,
    /// Secret file names parsed as INI so each value is censored too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ini_filenames: Vec<String>,
    /// Secrets shorter than this are not censored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_secret_length: Option<i64>,
}

/// Prow's `sidecar.Options` (`SIDECAR_OPTIONS`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SidecarOptions {
    /// Where and how to upload.
    #[serde(default, deserialize_with = "prow_api::serde_util::nullable")]
    pub gcs_options: GcsUploadOptions,
    /// Legacy single entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapper_options: Option<WrapperOptions>,
    /// One entry per test container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<WrapperOptions>,
    /// Exit non-zero when a container failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub entry_error: bool,
    /// Keep uploading through SIGTERM instead of a best-effort abort upload.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_interrupts: bool,
    /// Accepted for compatibility; no effect.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub write_memory_profile: bool,
    /// Censoring settings; censoring happens only when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_options: Option<CensoringOptions>,
    /// Deprecated form of `censoring_options.secret_directories`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_directories: Option<Vec<String>>,
    /// Deprecated form of `censoring_options.censoring_concurrency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_concurrency: Option<i64>,
    /// Deprecated form of `censoring_options.censoring_buffer_size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_buffer_size: Option<i64>,
}

impl SidecarOptions {
    /// Prow's validation, which also folds the deprecated censoring fields into
    /// `censoring_options`.
    pub fn validate(&mut self) -> Result<(), String> {
        if self.secret_directories.is_some()
            || self.censoring_concurrency.is_some()
            || self.censoring_buffer_size.is_some()
        {
            if self.censoring_options.is_some() {
                return Err("cannot use deprecated options (secret_directories, censoring_{concurrency,buffer_size}) and new options (censoring_options) at the same time".into());
            }
            self.censoring_options = Some(CensoringOptions {
                secret_directories: self.secret_directories.clone().unwrap_or_default(),
                censoring_concurrency: self.censoring_concurrency,
                censoring_buffer_size: self.censoring_buffer_size,
                ..Default::default()
            });
        }
        let entries = self.all_entries();
        if entries.is_empty() {
            return Err("no wrapper.Option entries".into());
        }
        for (i, e) in entries.iter().enumerate() {
            e.validate().map_err(|err| format!("entry {i}: {err}"))?;
        }
        self.gcs_options.validate()
    }

    /// The legacy entry (if any) followed by `entries`.
    pub fn all_entries(&self) -> Vec<WrapperOptions> {
        self.wrapper_options
            .iter()
            .cloned()
            .chain(self.entries.iter().cloned())
            .collect()
    }
}

/// Outcome of waiting for the markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitOutcome {
    /// Every marker read 0.
    pub passed: bool,
    /// Some marker read 130.
    pub aborted: bool,
    /// Markers that are neither 0 nor 1130 (a skipped step is not a failure).
    pub failures: usize,
}

/// Summarise marker results (Prow's `wait` bookkeeping).
pub fn summarize(
    results: &std::collections::BTreeMap<String, wrapper::MarkerResult>,
) -> WaitOutcome {
    let mut o = WaitOutcome {
        passed: true,
        aborted: false,
        failures: 0,
    };
    for r in results.values() {
        o.passed = o.passed && r.error.is_none() && r.return_code == 0;
        o.aborted = o.aborted || r.return_code == ABORTED_ERROR_CODE;
        if r.return_code != 0 && r.return_code != PREVIOUS_ERROR_CODE {
            o.failures += 1;
        }
    }
    o
}

/// The `result` string for an outcome.
pub fn result_for(passed: bool, aborted: bool) -> &'static str {
    if passed {
        metadata::result::SUCCESS
    } else if aborted {
        metadata::result::ABORTED
    } else {
        metadata::result::FAILURE
    }
}

/// Build-log object names: `build-log.txt`, or `<container>-build-log.txt` per container
/// when there are several.
pub fn build_log_names(entries: &[WrapperOptions]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|e| {
            let name = if entries.len() > 1 {
                format!("{}-build-log.txt", e.container_name)
            } else {
                metadata::BUILD_LOG_FILE.to_string()
            };
            (name, e.process_log.clone())
        })
        .collect()
}

/// Merge the entries' metadata files; unreadable or invalid ones are reported under
/// `sidecar-errors` (as messages: Prow serialises Go error values, which mostly come out as
/// `{}`).
pub fn combine_metadata(entries: &[WrapperOptions], log: &Logger) -> Metadata {
    let mut merged = Metadata::new();
    let mut errors = Metadata::new();
    for (i, e) in entries.iter().enumerate() {
        let name = format!("entry {i}: {}", e.args.join(" "));
        let path = Path::new(&e.metadata_file);
        // The metadata file lives in the job's artifacts directory: the job may have made it a
        // link to a host file, whose JSON would otherwise end up in finished.json.
        if e.metadata_file.is_empty() || std::fs::symlink_metadata(path).is_err() {
            continue;
        }
        let parsed = upload::read_regular_file(path)
            .map_err(|err| format!("cannot read {}: {err}", e.metadata_file))
            .and_then(|raw| {
                serde_json::from_slice::<Metadata>(&raw)
                    .map_err(|err| format!("Failed to unmarshal {}: {err}", e.metadata_file))
            });
        match parsed {
            Ok(piece) => merged.extend(piece),
            Err(err) => {
                log.error(&err);
                errors.insert(name, Value::String(err));
            }
        }
    }
    if !errors.is_empty() {
        merged.insert(ERROR_KEY.into(), Value::Object(errors));
    }
    merged
}

/// Whether an artifact (path relative to its item) is censored: excludes win, then includes;
/// with no includes everything is censored.
pub fn should_censor(opts: &CensoringOptions, rel: &str) -> Result<bool, String> {
    let matches = |g: &str| -> Result<bool, String> {
        let glob = GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("invalid glob {g:?}: {e}"))?;
        Ok(glob.compile_matcher().is_match(rel))
    };
    for g in &opts.exclude_directories {
        if matches(g)? {
            return Ok(false);
        }
    }
    for g in &opts.include_directories {
        if matches(g)? {
            return Ok(true);
        }
    }
    Ok(opts.include_directories.is_empty())
}

/// Runs the sidecar.
#[derive(Debug)]
pub struct Sidecar {
    opts: SidecarOptions,
    log: Logger,
    poll: Duration,
    now: fn() -> i64,
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Sidecar {
    /// A sidecar for validated options, logging to stderr and into `sidecar-logs.json`.
    pub fn new(opts: SidecarOptions) -> Self {
        Sidecar {
            opts,
            log: Logger::new("sidecar").capturing(),
            poll: wrapper::DEFAULT_POLL_INTERVAL,
            now: unix_now,
        }
    }

    /// Use another logger (tests).
    pub fn with_logger(mut self, log: Logger) -> Self {
        self.log = log.capturing();
        self
    }

    /// Poll markers at this interval.
    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Use a fixed clock for `finished.json` (tests).
    pub fn with_clock(mut self, now: fn() -> i64) -> Self {
        self.now = now;
        self
    }

    /// Wait, censor, upload. Returns the number of failed containers; an upload error is
    /// returned separately so the caller can log it and still exit as Prow does.
    pub fn run(
        &self,
        spec: &JobSpec,
        uploader: &dyn Uploader,
        interrupts: Receiver<Signal>,
    ) -> (usize, Result<(), String>) {
        let entries = self.opts.all_entries();
        let paths: Vec<String> = entries.iter().map(|e| e.marker_file.clone()).collect();
        let cancel = CancelToken::new();
        let results = std::thread::scope(|s| {
            let c = cancel.clone();
            let paths = &paths;
            let poll = self.poll;
            let h = s.spawn(move || wrapper::wait_for_markers(paths, &c, poll));
            let mut handled = false;
            while !h.is_finished() {
                let Ok(sig) = interrupts.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                // Prow reacts to the first signal only.
                if handled {
                    continue;
                }
                handled = true;
                if self.opts.ignore_interrupts {
                    self.log.warn(&format!(
                        "Received an interrupt: {}, ignoring...",
                        describe(sig)
                    ));
                    continue;
                }
                self.log.error(&format!(
                    "Received an interrupt: {}, cancelling...",
                    describe(sig)
                ));
                self.pre_upload();
                match self.do_upload(spec, false, true, &entries, uploader) {
                    Ok(()) => self.log.error("Best-effort upload was successful"),
                    Err(e) => self.log.log(
                        Level::Error,
                        "Failed to perform best-effort upload",
                        &[("error", e)],
                    ),
                }
            }
            h.join().unwrap_or_default()
        });
        let outcome = summarize(&results);
        self.pre_upload();
        let res = self.do_upload(spec, outcome.passed, outcome.aborted, &entries, uploader);
        (outcome.failures, res)
    }

    fn pre_upload(&self) {
        if self.opts.wrapper_options.is_some() {
            self.log.warn("Using deprecated wrapper_options instead of entries. Please update prow/pod-utils/decorate before June 2019");
        }
        if let Some(c) = &self.opts.censoring_options
            && let Err(e) = self.censor(c)
        {
            self.log
                .log(Level::Warn, "Failed to censor data", &[("error", e)]);
        }
    }

    /// Censor the process logs and the artifacts in place.
    pub fn censor(&self, opts: &CensoringOptions) -> Result<(), String> {
        self.log.info("Starting to censor data");
        let secrets = censor::load_secrets(&opts.secret_directories, &opts.ini_filenames)
            .map_err(|e| format!("could not load secrets: {e}"))?;
        let min = opts
            .minimum_secret_length
            .and_then(|m| usize::try_from(m).ok())
            .unwrap_or(0);
        let censorer = Censorer::new(&secrets, min);
        let mut buffer = opts
            .censoring_buffer_size
            .and_then(|b| usize::try_from(b).ok())
            .filter(|b| *b > 0)
            .unwrap_or(censor::DEFAULT_BUFFER_SIZE);
        if 2 * censorer.largest_secret() > buffer {
            buffer = 2 * censorer.largest_secret();
        }
        let mut errors = Vec::new();
        // Every entry's log, including a legacy `wrapper_options` one (Prow skips that).
        for e in self.opts.all_entries() {
            if let Err(err) = censorer.censor_file(Path::new(&e.process_log), buffer) {
                errors.push(err);
            }
        }
        for item in &self.opts.gcs_options.items {
            let item_path = Path::new(item);
            let files = match std::fs::symlink_metadata(item_path) {
                Ok(m) if m.is_dir() => upload::walk_files(item_path),
                Ok(_) => vec![item_path.to_path_buf()],
                Err(e) => {
                    errors.push(format!("{item}: {e}"));
                    continue;
                }
            };
            for f in files {
                if std::fs::symlink_metadata(&f).is_ok_and(|m| m.file_type().is_symlink()) {
                    continue;
                }
                let rel = f
                    .strip_prefix(item_path)
                    .ok()
                    .map(|r| r.to_string_lossy().into_owned())
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| ".".into());
                match should_censor(opts, &rel) {
                    Err(e) => {
                        errors.push(format!("could not determine if we should censor path: {e}"));
                        continue;
                    }
                    Ok(false) => continue,
                    Ok(true) => {}
                }
                let res = match censor::archive_kind(&f) {
                    Err(e) => Err(format!(
                        "could not determine content type of {}: {e}",
                        f.display()
                    )),
                    Ok(Some("application/x-gzip")) => censorer
                        .censor_tar_gz(&f)
                        .map_err(|e| format!("could not censor archive {}: {e}", f.display())),
                    Ok(Some(_)) => Err(format!(
                        "could not censor archive {}: could not read archive: gzip: invalid header",
                        f.display()
                    )),
                    Ok(None) => censorer.censor_file(&f, buffer),
                };
                if let Err(e) = res {
                    errors.push(e);
                }
            }
        }
        self.log.info("Finished censoring data");
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join(", "))
        }
    }

    fn do_upload(
        &self,
        spec: &JobSpec,
        passed: bool,
        aborted: bool,
        entries: &[WrapperOptions],
        uploader: &dyn Uploader,
    ) -> Result<(), String> {
        self.log.info("Starting to upload");
        let mut targets = Targets::new();
        for (name, log_path) in build_log_names(entries) {
            targets.insert(
                name,
                UploadTarget {
                    source: Source::LogFile(log_path.into()),
                    attrs: Default::default(),
                },
            );
        }
        let finished = Finished {
            timestamp: Some((self.now)()),
            passed: Some(passed),
            result: result_for(passed, aborted).to_string(),
            metadata: Some(combine_metadata(entries, &self.log)),
            revision: spec.revision(),
            ..Default::default()
        };
        let finished_json = serde_json::to_vec(&finished)
            .map_err(|e| format!("could not marshal finishing data: {e}"))?;
        targets.insert(
            metadata::FINISHED_FILE.into(),
            UploadTarget::data(finished_json),
        );
        // Our own log so far; later lines only reach stderr, as with Prow's closed log file.
        targets.insert(
            LOG_FILE_NAME.into(),
            UploadTarget::data(self.log.captured()),
        );
        let res = upload::run(&self.opts.gcs_options, spec, targets, uploader, &self.log)
            .map_err(|e| format!("failed to upload to GCS: {e}"));
        self.log.info("Finished uploading");
        res
    }
}

/// Options from `SIDECAR_OPTIONS`, else gcsupload flags with the positional arguments as
/// items (Prow's fallback, which leaves no entries and so fails validation).
pub fn load_options(args: &[String]) -> Result<SidecarOptions, String> {
    use crate::flags::{OptionSource, from_json, load};
    match load(SIDECAR_OPTIONS_ENV, args, crate::initupload::GCS_FLAGS)? {
        OptionSource::Json(j) => from_json(SIDECAR_OPTIONS_ENV, &j),
        OptionSource::Flags(p) => Ok(SidecarOptions {
            gcs_options: crate::initupload::gcs_options_from_flags(&p)?,
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrapper::MarkerResult;
    use std::collections::BTreeMap;

    fn m(code: i32, err: bool) -> MarkerResult {
        MarkerResult {
            return_code: code,
            error: err.then(|| "x".into()),
        }
    }

    #[test]
    fn outcome_rules() {
        let r = |v: Vec<MarkerResult>| -> BTreeMap<String, MarkerResult> {
            v.into_iter()
                .enumerate()
                .map(|(i, r)| (i.to_string(), r))
                .collect()
        };
        assert_eq!(
            summarize(&r(vec![m(0, false), m(0, false)])),
            WaitOutcome {
                passed: true,
                aborted: false,
                failures: 0
            }
        );
        let o = summarize(&r(vec![m(0, false), m(130, false)]));
        assert_eq!((o.passed, o.aborted, o.failures), (false, true, 1));
        let o = summarize(&r(vec![m(1, false), m(1130, false)]));
        assert_eq!((o.passed, o.aborted, o.failures), (false, false, 1));
        let o = summarize(&r(vec![m(-1, true)]));
        assert_eq!((o.passed, o.failures), (false, 1));
        assert_eq!(result_for(true, true), "SUCCESS");
        assert_eq!(result_for(false, true), "ABORTED");
        assert_eq!(result_for(false, false), "FAILURE");
    }

    #[test]
    fn options_validation_and_shape() {
        let raw = r#"{"gcs_options":{"items":["/logs/artifacts"],"bucket":"my-bucket","path_strategy":"legacy","default_org":"kubernetes","default_repo":"kubernetes","mediaTypes":{"log":"text/plain"},"gcs_credentials_file":"/secrets/gcs/service-account.json","dry_run":false},"entries":[{"args":["/bin/thing","some","args"],"container_name":"test","process_log":"/logs/process-log.txt","marker_file":"/logs/marker-file.txt","metadata_file":"/logs/artifacts/metadata.json"}],"censoring_options":{}}"#;
        let mut o: SidecarOptions = serde_json::from_str(raw).unwrap();
        assert_eq!(serde_json::to_string(&o).unwrap(), raw);
        o.validate().unwrap();
        let mut dep = o.clone();
        dep.secret_directories = Some(vec!["/secrets".into()]);
        assert!(dep.validate().unwrap_err().contains("deprecated"));
        dep.censoring_options = None;
        dep.validate().unwrap();
        assert_eq!(
            dep.censoring_options.unwrap().secret_directories,
            vec!["/secrets"]
        );
        let mut none = o.clone();
        none.entries.clear();
        assert_eq!(none.validate().unwrap_err(), "no wrapper.Option entries");
        let mut bad = o.clone();
        bad.entries[0].marker_file.clear();
        assert!(bad.validate().unwrap_err().starts_with("entry 0:"));
    }

    /// `metadata.json` sits in the job's artifacts: a link there to a host JSON file must not
    /// copy that file into finished.json.
    #[test]
    fn metadata_link_is_not_followed() {
        let host = tempfile::tempdir().unwrap();
        let secret = host.path().join("creds.json");
        std::fs::write(&secret, r#"{"private_key": "host-secret-91ac"}"#).unwrap();
        let arts = tempfile::tempdir().unwrap();
        let md = arts.path().join("metadata.json");
        std::os::unix::fs::symlink(&secret, &md).unwrap();
        let entry = WrapperOptions {
            args: vec!["test".into()],
            metadata_file: md.display().to_string(),
            ..Default::default()
        };
        let merged = combine_metadata(&[entry], &Logger::silent("test"));
        let text = serde_json::to_string(&merged).unwrap();
        assert!(!text.contains("host-secret-91ac"), "{text}");
        assert!(!merged.contains_key("private_key"));
        assert!(text.contains("symbolic link"), "{text}");
    }

    #[test]
    fn censor_globs() {
        let mut c = CensoringOptions::default();
        assert!(should_censor(&c, "a/b.txt").unwrap());
        c.include_directories = vec!["logs/**".into()];
        assert!(should_censor(&c, "logs/x/y.txt").unwrap());
        assert!(!should_censor(&c, "other/y.txt").unwrap());
        c.exclude_directories = vec!["logs/skip/*".into()];
        assert!(!should_censor(&c, "logs/skip/y.txt").unwrap());
        assert!(should_censor(&c, "logs/skip/deeper/y.txt").unwrap());
        c.exclude_directories = vec!["[".into()];
        assert!(should_censor(&c, "x").is_err());
    }

    #[test]
    fn build_log_naming() {
        let e = |n: &str| WrapperOptions {
            container_name: n.into(),
            process_log: format!("/logs/{n}-log.txt"),
            ..Default::default()
        };
        assert_eq!(
            build_log_names(&[e("test")]),
            vec![("build-log.txt".into(), "/logs/test-log.txt".into())]
        );
        let names: Vec<String> = build_log_names(&[e("a"), e("b")])
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, vec!["a-build-log.txt", "b-build-log.txt"]);
    }
}
