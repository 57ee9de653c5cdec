//! Tide's action history (`GET /history`, spec §7.4): records per pool, newest last, bounded,
//! optionally persisted to a local file so it survives restarts.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One recorded action (Prow's `history.Record`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When.
    pub time: DateTime<Utc>,
    /// `TRIGGER`, `TRIGGER_BATCH`, `MERGE`, `MERGE_BATCH`.
    pub action: String,
    /// Base SHA of the pool.
    #[serde(rename = "baseSHA", default, skip_serializing_if = "String::is_empty")]
    pub base_sha: String,
    /// Target PRs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target: Vec<prow_api::Pull>,
    /// Error, if the action failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub err: String,
    /// Tenant IDs of the pool's jobs.
    #[serde(default)]
    pub tenantids: Vec<String>,
}

/// Records per pool key.
#[derive(Debug)]
pub struct History {
    records: BTreeMap<String, VecDeque<Record>>,
    limit: usize,
    path: Option<PathBuf>,
}

impl History {
    /// An empty history keeping `limit` records per pool, loaded from `path` if it exists.
    pub fn new(limit: usize, path: Option<PathBuf>) -> History {
        let mut h = History {
            records: BTreeMap::new(),
            limit: limit.max(1),
            path,
        };
        if let Some(p) = &h.path {
            match std::fs::read(p) {
                Ok(bytes) => {
                    match serde_json::from_slice::<BTreeMap<String, Vec<Record>>>(&bytes) {
                        Ok(m) => {
                            for (k, v) in m {
                                let mut q: VecDeque<Record> = v.into();
                                while q.len() > h.limit {
                                    q.pop_front();
                                }
                                h.records.insert(k, q);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(path = %p.display(), error = %e, "ignoring unreadable tide history")
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %p.display(), error = %e, "reading tide history"),
            }
        }
        h
    }

    /// Appends a record to `pool`'s history, dropping the oldest beyond the limit.
    pub fn record(&mut self, pool: &str, rec: Record) {
        let q = self.records.entry(pool.to_owned()).or_default();
        q.push_back(rec);
        while q.len() > self.limit {
            q.pop_front();
        }
    }

    /// `{"org/repo:branch": [records…]}`, newest first like Prow's `AllRecords`.
    pub fn to_json(&self) -> serde_json::Value {
        let m: BTreeMap<&String, Vec<&Record>> = self
            .records
            .iter()
            .map(|(k, v)| (k, v.iter().rev().collect()))
            .collect();
        serde_json::to_value(m).unwrap_or_default()
    }

    /// Writes the history to its file (atomically via rename), if it has one.
    pub fn persist(&self) -> std::io::Result<()> {
        let Some(p) = &self.path else { return Ok(()) };
        let m: BTreeMap<&String, Vec<&Record>> = self
            .records
            .iter()
            .map(|(k, v)| (k, v.iter().collect()))
            .collect();
        let bytes = serde_json::to_vec(&m).map_err(std::io::Error::other)?;
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(action: &str, n: i64) -> Record {
        Record {
            time: DateTime::from_timestamp(n, 0).unwrap_or_default(),
            action: action.into(),
            base_sha: "b".into(),
            target: vec![],
            err: String::new(),
            tenantids: vec![String::new()],
        }
    }

    #[test]
    fn bounded_newest_first_and_persisted() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("history.json");
        let mut h = History::new(2, Some(path.clone()));
        h.record("o/r:main", rec("TRIGGER", 1));
        h.record("o/r:main", rec("MERGE", 2));
        h.record("o/r:main", rec("TRIGGER_BATCH", 3));
        let j = h.to_json();
        let actions: Vec<&str> = j["o/r:main"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["action"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(actions, vec!["TRIGGER_BATCH", "MERGE"]);
        assert_eq!(j["o/r:main"][0]["baseSHA"], "b");
        assert_eq!(j["o/r:main"][0]["time"], "1970-01-01T00:00:03Z");
        assert!(j["o/r:main"][0].get("err").is_none());
        h.persist().unwrap_or_else(|e| panic!("{e}"));
        let again = History::new(5, Some(path));
        assert_eq!(again.to_json(), j);
    }
}
