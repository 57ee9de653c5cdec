//! [`FakeExecutor`]: a stateful in-memory [`Executor`] test double. Runs start `Pending`
//! (scheduled) or, with [`FakeExecutor::instant`], `Running`; tests move them along with
//! [`FakeExecutor::set_phase`] and inspect what the controller did with [`FakeExecutor::starts`]
//! and friends. Used by this crate's tests and by the controller benchmark.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prow_api::ProwJob;
use prow_executor::{ExecError, Executor, RunInfo, RunPhase, RunStatus};

#[derive(Debug, Default)]
struct State {
    runs: HashMap<String, (RunStatus, String)>,
    starts: Vec<(String, String)>,
    deletes: Vec<String>,
    aborts: Vec<String>,
    /// Most runs in a non-final phase at once.
    max_active: usize,
    fail_start: HashMap<String, ExecErrorKind>,
}

#[derive(Debug, Clone, Copy)]
enum ExecErrorKind {
    Invalid,
    UnknownCluster,
    Backend,
}

/// The fake.
#[derive(Debug, Default)]
pub struct FakeExecutor {
    state: Mutex<State>,
    initial: Option<RunPhase>,
}

fn active(p: &RunPhase) -> bool {
    matches!(p, RunPhase::Pending { .. } | RunPhase::Running)
}

impl FakeExecutor {
    /// Runs start as `Pending { scheduled: true }`.
    pub fn new() -> Self {
        FakeExecutor::default()
    }

    /// Runs start as `Running` (a backend with no start-up latency, for benchmarks).
    pub fn instant() -> Self {
        FakeExecutor {
            state: Mutex::default(),
            initial: Some(RunPhase::Running),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note_active(st: &mut State) {
        let n = st.runs.values().filter(|(r, _)| active(&r.phase)).count();
        st.max_active = st.max_active.max(n);
    }

    /// Moves the run of job `name` to `phase` (no-op if there is none).
    pub fn set_phase(&self, name: &str, phase: RunPhase) {
        let mut st = self.lock();
        if let Some((r, _)) = st.runs.get_mut(name) {
            r.phase = phase;
        }
        Self::note_active(&mut st);
    }

    /// Sets when the run of `name` was created and started (timeout tests).
    pub fn set_times(&self, name: &str, created: DateTime<Utc>, started: Option<DateTime<Utc>>) {
        if let Some((r, _)) = self.lock().runs.get_mut(name) {
            r.created = Some(created);
            r.started = started;
        }
    }

    /// Removes the run of `name` behind the controller's back.
    pub fn vanish(&self, name: &str) {
        self.lock().runs.remove(name);
    }

    /// Makes `start` of `name` fail: `"invalid"`, `"cluster"` or anything else for a backend
    /// error.
    pub fn fail_start(&self, name: &str, kind: &str) {
        let k = match kind {
            "invalid" => ExecErrorKind::Invalid,
            "cluster" => ExecErrorKind::UnknownCluster,
            _ => ExecErrorKind::Backend,
        };
        self.lock().fail_start.insert(name.to_owned(), k);
    }

    /// Every `(job name, build id)` started, in order.
    pub fn starts(&self) -> Vec<(String, String)> {
        self.lock().starts.clone()
    }

    /// Jobs whose run was deleted, in order.
    pub fn deletes(&self) -> Vec<String> {
        self.lock().deletes.clone()
    }

    /// Jobs whose run was aborted, in order.
    pub fn aborts(&self) -> Vec<String> {
        self.lock().aborts.clone()
    }

    /// Names of runs that are pending or running now.
    pub fn active(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .lock()
            .runs
            .iter()
            .filter(|(_, (r, _))| active(&r.phase))
            .map(|(n, _)| n.clone())
            .collect();
        v.sort();
        v
    }

    /// The most runs that were pending or running at the same time.
    pub fn max_active(&self) -> usize {
        self.lock().max_active
    }

    /// The phase of `name`'s run.
    pub fn phase(&self, name: &str) -> RunPhase {
        self.lock()
            .runs
            .get(name)
            .map_or(RunPhase::Missing, |(r, _)| r.phase.clone())
    }
}

#[async_trait]
impl Executor for FakeExecutor {
    async fn start(&self, job: &ProwJob, build_id: &str) -> prow_executor::Result<RunStatus> {
        let name = job.name().to_owned();
        let mut st = self.lock();
        if let Some(kind) = st.fail_start.get(&name) {
            return Err(match kind {
                ExecErrorKind::Invalid => ExecError::Invalid("bad pod spec".into()),
                ExecErrorKind::UnknownCluster => {
                    ExecError::UnknownCluster(job.spec.cluster.clone())
                }
                ExecErrorKind::Backend => ExecError::Backend("unavailable".into()),
            });
        }
        if let Some((r, _)) = st.runs.get(&name) {
            return Ok(r.clone());
        }
        let now = Utc::now();
        let status = RunStatus {
            phase: self
                .initial
                .clone()
                .unwrap_or(RunPhase::Pending { scheduled: true }),
            name: name.clone(),
            build_id: Some(build_id.to_owned()),
            created: Some(now),
            started: Some(now),
            message: None,
        };
        let cluster = if job.spec.cluster.is_empty() {
            "default".to_owned()
        } else {
            job.spec.cluster.clone()
        };
        st.runs.insert(name.clone(), (status.clone(), cluster));
        st.starts.push((name, build_id.to_owned()));
        Self::note_active(&mut st);
        Ok(status)
    }

    async fn status(&self, job: &ProwJob) -> prow_executor::Result<RunStatus> {
        Ok(self
            .lock()
            .runs
            .get(job.name())
            .map(|(r, _)| r.clone())
            .unwrap_or_else(|| RunStatus {
                phase: RunPhase::Missing,
                name: job.name().to_owned(),
                build_id: None,
                created: None,
                started: None,
                message: None,
            }))
    }

    async fn abort(&self, job: &ProwJob) -> prow_executor::Result<()> {
        let mut st = self.lock();
        st.aborts.push(job.name().to_owned());
        if let Some((r, _)) = st.runs.get_mut(job.name())
            && active(&r.phase)
        {
            r.phase = RunPhase::Failed;
        }
        Ok(())
    }

    async fn delete(&self, job: &ProwJob) -> prow_executor::Result<()> {
        let mut st = self.lock();
        st.deletes.push(job.name().to_owned());
        st.runs.remove(job.name());
        Ok(())
    }

    async fn list_runs(&self) -> prow_executor::Result<Vec<RunInfo>> {
        Ok(self
            .lock()
            .runs
            .iter()
            .map(|(name, (r, cluster))| RunInfo {
                name: name.clone(),
                cluster: cluster.clone(),
                labels: BTreeMap::from([
                    (
                        prow_api::labels::CREATED_BY_PROW.to_owned(),
                        "true".to_owned(),
                    ),
                    (prow_api::labels::PROW_JOB_ID.to_owned(), name.clone()),
                ]),
                phase: r.phase.clone(),
                created: r.created,
                finished: None,
            })
            .collect())
    }

    async fn delete_run(&self, _cluster: &str, name: &str) -> prow_executor::Result<()> {
        let mut st = self.lock();
        st.deletes.push(name.to_owned());
        st.runs.remove(name);
        Ok(())
    }

    async fn logs(&self, _job: &ProwJob) -> prow_executor::Result<Option<String>> {
        Ok(None)
    }
}
