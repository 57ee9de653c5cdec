//! `run.json`: what a run directory says about its run, so a restarted executor can tell
//! finished runs from runs it lost (whose processes it no longer supervises).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{RunPhase, UnexpectedStop};

/// Name of the state file, inside [`STATE_DIR`] of a run directory.
pub const STATE_FILE: &str = "run.json";

/// The executor's own directory inside a run directory. The sandbox mounts it read-only as a
/// directory: a read-only bind of the file itself would break whenever the file is replaced
/// (every save renames a new file into place), racing the sandbox's own setup.
pub const STATE_DIR: &str = ".prow-run";

/// Phase as persisted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Waiting for a slot.
    Pending,
    /// Slot taken; cloning / uploading `started.json`.
    Scheduled,
    /// Test processes running.
    Running,
    /// All containers exited 0.
    Succeeded,
    /// Some container failed, timed out or was aborted.
    Failed,
}

impl Phase {
    /// Finished (nothing runs any more).
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }

    /// The phase of a run this executor supervises.
    pub fn live(self) -> RunPhase {
        match self {
            Phase::Pending => RunPhase::Pending { scheduled: false },
            Phase::Scheduled => RunPhase::Pending { scheduled: true },
            Phase::Running => RunPhase::Running,
            Phase::Succeeded => RunPhase::Succeeded,
            Phase::Failed => RunPhase::Failed,
        }
    }

    /// The phase of a run found on disk that no task of this process supervises: finished
    /// runs keep their outcome; anything else was lost with a previous executor process.
    pub fn recovered(self) -> RunPhase {
        if self.is_final() {
            self.live()
        } else {
            RunPhase::Stopped(UnexpectedStop::Unknown)
        }
    }
}

/// Identity of a process that survives PID reuse: PID, start time in clock ticks since boot
/// (`/proc/<pid>/stat` field 22) and the boot ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIdentity {
    /// PID (= process group ID: every container process leads its own group).
    pub pid: i32,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
    /// `/proc/sys/kernel/random/boot_id`.
    pub boot_id: String,
}

impl ProcessIdentity {
    /// The identity of a running process, when `/proc` tells it.
    pub fn of(pid: i32) -> Option<Self> {
        Some(ProcessIdentity {
            pid,
            start_ticks: start_ticks(pid)?,
            boot_id: boot_id(),
        })
    }

    /// Whether this very process still exists (not merely a process with the same PID).
    pub fn is_alive(&self) -> bool {
        self.boot_id == boot_id() && start_ticks(self.pid) == Some(self.start_ticks)
    }
}

/// Field 22 of `/proc/<pid>/stat`. The command name (field 2) may contain spaces and
/// parentheses, so fields are counted after its last `)`.
pub fn parse_start_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 3 is the first after the name, so field 22 is the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn start_ticks(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    parse_start_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Contents of `run.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run name (= ProwJob name).
    pub name: String,
    /// Build cluster alias of the job.
    pub cluster: String,
    /// Build ID.
    pub build_id: String,
    /// Labels (the ProwJob's plus the pod labels `prow.k8s.io/id` and `.../build-id`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Phase.
    pub phase: Phase,
    /// When the run was created.
    pub created: DateTime<Utc>,
    /// When it got a slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<DateTime<Utc>>,
    /// When it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<Utc>>,
    /// Explanation of the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The container processes while they run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<ProcessIdentity>,
}

/// Path of the state file of the run in `dir`.
pub fn state_path(dir: &Path) -> PathBuf {
    state_dir(dir).join(STATE_FILE)
}

/// The executor's state directory in run directory `dir`.
pub fn state_dir(dir: &Path) -> PathBuf {
    dir.join(STATE_DIR)
}

/// Read a run's state; `None` when there is no (readable, valid) state file.
pub fn load(dir: &Path) -> Option<RunRecord> {
    serde_json::from_slice(&std::fs::read(state_path(dir)).ok()?).ok()
}

/// Write a run's state atomically (temporary file + rename), so a crash never leaves a torn
/// file behind. The run directory is the job's too: whatever it left at the temporary name
/// (a link to a host file, say) is removed, never written through (`O_EXCL` does not follow
/// links), and a race with the job only fails the save.
pub fn save(dir: &Path, record: &RunRecord) -> std::io::Result<()> {
    let data = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    let sdir = state_dir(dir);
    // A link the job planted at the state directory's name is never followed.
    match std::fs::symlink_metadata(&sdir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            std::fs::remove_file(&sdir)?;
            std::fs::create_dir(&sdir)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir(&sdir)?,
        Err(e) => return Err(e),
    }
    let tmp = sdir.join(format!(".{STATE_FILE}.tmp"));
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    f.write_all(&data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, state_path(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing() {
        let stat = "1234 (we ird) name)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_ticks(stat), Some(987654));
        assert_eq!(parse_start_ticks("garbage"), None);
        assert_eq!(parse_start_ticks("1 (x) S 1"), None);
    }

    #[test]
    fn own_process_identity() {
        let me = ProcessIdentity::of(std::process::id() as i32).unwrap();
        assert!(me.is_alive());
        let other = ProcessIdentity {
            start_ticks: me.start_ticks + 1,
            ..me.clone()
        };
        assert!(!other.is_alive());
        assert!(ProcessIdentity::of(-1).is_none());
    }

    #[test]
    fn phases_after_restart() {
        assert_eq!(Phase::Succeeded.recovered(), RunPhase::Succeeded);
        assert_eq!(Phase::Failed.recovered(), RunPhase::Failed);
        for p in [Phase::Pending, Phase::Scheduled, Phase::Running] {
            assert_eq!(p.recovered(), RunPhase::Stopped(UnexpectedStop::Unknown));
        }
        assert_eq!(
            Phase::Pending.live(),
            RunPhase::Pending { scheduled: false }
        );
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).is_none());
        let r = RunRecord {
            name: "n".into(),
            cluster: "default".into(),
            build_id: "1".into(),
            labels: BTreeMap::new(),
            phase: Phase::Running,
            created: Utc::now(),
            started: None,
            finished: None,
            message: None,
            processes: vec![ProcessIdentity {
                pid: 5,
                start_ticks: 6,
                boot_id: "b".into(),
            }],
        };
        save(dir.path(), &r).unwrap();
        assert_eq!(load(dir.path()).unwrap(), r);
        std::fs::write(state_path(dir.path()), "{").unwrap();
        assert!(load(dir.path()).is_none());
    }

    #[test]
    fn save_never_writes_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "host file\n").unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir(&run).unwrap();
        std::fs::create_dir(state_dir(&run)).unwrap();
        std::os::unix::fs::symlink(&victim, state_dir(&run).join(format!(".{STATE_FILE}.tmp")))
            .unwrap();
        let r = RunRecord {
            name: "n".into(),
            cluster: "default".into(),
            build_id: "1".into(),
            labels: BTreeMap::new(),
            phase: Phase::Failed,
            created: Utc::now(),
            started: None,
            finished: None,
            message: None,
            processes: Vec::new(),
        };
        save(&run, &r).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "host file\n");
        assert_eq!(load(&run).unwrap(), r);
        assert!(
            !std::fs::symlink_metadata(state_path(&run))
                .unwrap()
                .is_symlink()
        );
    }
}
