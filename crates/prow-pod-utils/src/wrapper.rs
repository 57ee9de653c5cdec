//! What entrypoint and sidecar share about one wrapped test container: where its log, exit
//! code marker and metadata go, and how a marker is waited for and read.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Prow's `wrapper.Options` (embedded in entrypoint options, listed in sidecar `entries`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrapperOptions {
    /// The command and its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Name of the container the command runs in (names per-container logs).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container_name: String,
    /// Where stdout and stderr are teed.
    #[serde(default)]
    pub process_log: String,
    /// Where the exit code is written.
    #[serde(default)]
    pub marker_file: String,
    /// JSON metadata the job may write, merged into `finished.json`.
    #[serde(default)]
    pub metadata_file: String,
}

impl WrapperOptions {
    /// Prow's checks: a process log and a marker file are required.
    pub fn validate(&self) -> Result<(), String> {
        if self.process_log.is_empty() {
            return Err("no log file specified with --process-log".into());
        }
        if self.marker_file.is_empty() {
            return Err("no marker file specified with --marker-file".into());
        }
        Ok(())
    }
}

/// The outcome read from one marker file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerResult {
    /// The exit code, `-1` when it could not be read.
    pub return_code: i32,
    /// Why it could not be read.
    pub error: Option<String>,
}

impl MarkerResult {
    fn failed(e: String) -> Self {
        MarkerResult {
            return_code: -1,
            error: Some(e),
        }
    }
}

/// Read a marker: an integer, surrounding whitespace allowed.
pub fn read_marker_file(path: &Path) -> MarkerResult {
    match std::fs::read_to_string(path) {
        Err(e) => MarkerResult::failed(format!("bad read: {e}")),
        Ok(s) => match s.trim().parse::<i32>() {
            Ok(code) => MarkerResult {
                return_code: code,
                error: None,
            },
            Err(e) => MarkerResult::failed(format!("invalid return code: {e}")),
        },
    }
}

/// A flag another thread sets to stop a wait.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Cancel every wait using this token.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How often marker files are polled by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Wait until every marker file exists and read them (Prow's `WaitForMarkers`). Prow watches
/// the directory with inotify; we poll, which behaves the same for atomically renamed markers.
/// On cancellation the missing markers get code `-1` and a "cancelled" error.
pub fn wait_for_markers(
    paths: &[String],
    cancel: &CancelToken,
    poll: Duration,
) -> BTreeMap<String, MarkerResult> {
    let mut results = BTreeMap::new();
    loop {
        for p in paths {
            if !results.contains_key(p) && Path::new(p).exists() {
                results.insert(p.clone(), read_marker_file(Path::new(p)));
            }
        }
        if paths.iter().all(|p| results.contains_key(p)) {
            return results;
        }
        if cancel.is_cancelled() {
            for p in paths {
                results
                    .entry(p.clone())
                    .or_insert_with(|| MarkerResult::failed("cancelled: context canceled".into()));
            }
            return results;
        }
        std::thread::sleep(poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_and_waited_for() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        let c = tmp.path().join("c");
        std::fs::write(&a, "0\n").unwrap();
        std::fs::write(&c, "nope").unwrap();
        let paths: Vec<String> = [&a, &b, &c]
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let bb = b.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            std::fs::write(bb, "3").unwrap();
        });
        let r = wait_for_markers(&paths, &CancelToken::new(), Duration::from_millis(10));
        t.join().unwrap();
        assert_eq!(r[&paths[0]].return_code, 0);
        assert_eq!(r[&paths[1]].return_code, 3);
        assert_eq!(r[&paths[2]].return_code, -1);
        assert!(
            r[&paths[2]]
                .error
                .as_ref()
                .unwrap()
                .contains("invalid return code")
        );

        let cancel = CancelToken::new();
        cancel.cancel();
        let missing = vec![tmp.path().join("never").display().to_string()];
        let r = wait_for_markers(&missing, &cancel, Duration::from_millis(10));
        assert_eq!(r[&missing[0]].return_code, -1);
        assert!(
            r[&missing[0]]
                .error
                .as_ref()
                .unwrap()
                .starts_with("cancelled")
        );
    }

    #[test]
    fn validation() {
        let mut o = WrapperOptions::default();
        assert!(o.validate().unwrap_err().contains("--process-log"));
        o.process_log = "/logs/process-log.txt".into();
        assert!(o.validate().unwrap_err().contains("--marker-file"));
        o.marker_file = "/logs/marker-file.txt".into();
        assert!(o.validate().is_ok());
        let raw = r#"{"args":["/bin/thing","some","args"],"container_name":"test","process_log":"/logs/process-log.txt","marker_file":"/logs/marker-file.txt","metadata_file":"/logs/artifacts/metadata.json"}"#;
        let w: WrapperOptions = serde_json::from_str(raw).unwrap();
        assert_eq!(serde_json::to_string(&w).unwrap(), raw);
    }
}
