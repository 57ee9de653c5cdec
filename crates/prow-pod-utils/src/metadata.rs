//! `started.json` and `finished.json`, the two status files of every build directory.
//!
//! Field names, order and `omitempty` rules follow TestGrid's `metadata.Started` and
//! `metadata.Finished`, which Deck, Spyglass, TestGrid and gcsweb all read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Name of the start status file.
pub const STARTED_FILE: &str = "started.json";
/// Name of the finish status file.
pub const FINISHED_FILE: &str = "finished.json";
/// Name of the uploaded clone records.
pub const CLONE_RECORDS_FILE: &str = "clone-records.json";
/// Name of the uploaded human-readable clone log.
pub const CLONE_LOG_FILE: &str = "clone-log.txt";
/// Name of the build log when there is one test container.
pub const BUILD_LOG_FILE: &str = "build-log.txt";

/// Free-form metadata (`finished.json` `metadata`, usually from `$ARTIFACTS/metadata.json`).
pub type Metadata = Map<String, Value>;

fn map_is_empty(m: &Option<Metadata>) -> bool {
    m.as_ref().is_none_or(Map::is_empty)
}

/// `started.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Started {
    /// Unix seconds when the job started.
    #[serde(default)]
    pub timestamp: i64,
    /// Machine that ran the job.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// Number of the first PR under test.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pull: String,
    /// `org/repo` → `Refs.String()` of every repo checked out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub repos: BTreeMap<String, String>,
    /// Commit actually tested (after merging the pulls).
    #[serde(
        rename = "repo-commit",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub repo_commit: String,
    /// Deprecated metadata (belongs in `finished.json`).
    #[serde(default, skip_serializing_if = "map_is_empty")]
    pub metadata: Option<Metadata>,
    /// Deprecated job version.
    #[serde(
        rename = "job-version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub job_version: String,
    /// Deprecated twin of `repo-commit`; Prow still writes both.
    #[serde(
        rename = "repo-version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub repo_version: String,
}

/// `finished.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    /// Unix seconds when the job finished; absent while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Whether the job passed; always written (`null` when unknown).
    #[serde(default)]
    pub passed: Option<bool>,
    /// Data the job computed at run time, merged from the metadata files.
    #[serde(default, skip_serializing_if = "map_is_empty")]
    pub metadata: Option<Metadata>,
    /// `SUCCESS`, `FAILURE` or `ABORTED` (deprecated in favour of `passed`, still read).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub result: String,
    /// Deprecated job version.
    #[serde(
        rename = "job-version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub job_version: String,
    /// The revision tested (first pull SHA, else base SHA, else base ref).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revision: String,
    /// Deprecated repo version.
    #[serde(
        rename = "repo-version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub repo_version: String,
}

/// Result strings of `finished.json`.
pub mod result {
    /// All containers exited 0.
    pub const SUCCESS: &str = "SUCCESS";
    /// Some container failed.
    pub const FAILURE: &str = "FAILURE";
    /// The job was interrupted.
    pub const ABORTED: &str = "ABORTED";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn started_wire_format() {
        let mut s = Started {
            timestamp: 1,
            pull: "5".into(),
            repo_commit: "abc".into(),
            repo_version: "abc".into(),
            ..Default::default()
        };
        s.repos.insert("o/r".into(), "master:abc,5:def".into());
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"timestamp":1,"pull":"5","repos":{"o/r":"master:abc,5:def"},"repo-commit":"abc","repo-version":"abc"}"#
        );
        assert_eq!(
            serde_json::to_string(&Started::default()).unwrap(),
            r#"{"timestamp":0}"#
        );
    }

    #[test]
    fn finished_wire_format() {
        let f = Finished {
            timestamp: Some(2),
            passed: Some(false),
            result: "FAILURE".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"timestamp":2,"passed":false,"result":"FAILURE"}"#
        );
        assert_eq!(
            serde_json::to_string(&Finished::default()).unwrap(),
            r#"{"passed":null}"#
        );
        let mut md = Metadata::new();
        md.insert("k".into(), Value::String("v".into()));
        let f = Finished {
            timestamp: Some(3),
            passed: Some(true),
            metadata: Some(md),
            result: "SUCCESS".into(),
            revision: "sha".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"timestamp":3,"passed":true,"metadata":{"k":"v"},"result":"SUCCESS","revision":"sha"}"#
        );
    }
}
