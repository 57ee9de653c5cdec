//! The local executor: runs a ProwJob's containers as processes on this machine (all-in-one
//! mode), producing what a decorated pod would.
//!
//! Each run lives in `<work_root>/<prowjob name>/`:
//!
//! ```text
//! .prow-run/run.json    state (phase, times, PIDs): lets a restarted executor recognise its runs
//! src/<host>/<org>/<repo>   clones of the refs (the directory is the job's GOPATH, like /home/prow/go)
//! artifacts/            $ARTIFACTS
//! logs/build-log.txt    stdout+stderr (logs/<container>-build-log.txt with several containers)
//! logs/clone.json       clone records
//! ```
//!
//! A run goes through what a decorated pod's containers do: wait for a slot (`max_parallel`;
//! `Pending{scheduled:false}`), clone the refs with the real `git` through pod-utils' clonerefs
//! logic and upload `started.json` (initupload; `Pending{scheduled:true}`), run every container's
//! `command`+`args` concurrently with the job environment of spec §2.4, each in its own process
//! group, enforcing `decoration_config.timeout`/`grace_period` like entrypoint (`Running`), then
//! upload the build log(s), `finished.json` and `artifacts/**` (sidecar) and report
//! `Succeeded`/`Failed`. The image is informational: this host stands in for it.
//!
//! The processes run in a bubblewrap sandbox ([`sandbox`]): the host read-only except their run
//! directory (whose `.prow-run/` state and `logs/` stay read-only), [`LocalOptions::hidden_paths`]
//! invisible, a private `/tmp`, their own namespaces, no capabilities and no network unless the
//! job carries the [`LOCAL_NETWORK_LABEL`] label (or `hostNetwork: true`). Bubblewrap is probed
//! once when the executor is created; when it is missing or cannot work here every job is
//! refused ([`ExecError::Invalid`], so the job ends in `error`) with a message saying how to fix
//! it. Only [`SandboxMode::Unsandboxed`], an explicit choice, runs plain processes.
//!
//! Runs live only as long as the executor's process supervises them: after a restart, a run
//! directory whose `run.json` is not final reports `Stopped(Unknown)` (plank revives or errors
//! the job), and deleting it kills any process of it still alive.
//!
//! Undecorated jobs (no `decoration_config`) get the job environment without `ARTIFACTS` and
//! `GOPATH`, no clone, no timeout and no uploads, like an undecorated pod.

pub mod env;
mod process;
pub mod sandbox;
pub mod state;
mod upload;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use k8s_openapi::api::core::v1::Container;
use prow_api::{GcsConfiguration, ProwJob, ProwJobAgent, Refs};
use prow_pod_utils::clone::{self, CloneSettings, PROW_FETCH_RETRIES, Record};
use prow_pod_utils::downwardapi::{JobSpec, spec_to_started};
use prow_pod_utils::entrypoint::{DEFAULT_GRACE_PERIOD, DEFAULT_TIMEOUT};
use prow_pod_utils::log::Logger;
use prow_pod_utils::metadata::{self, Finished};
use prow_pod_utils::sidecar::{combine_metadata, result_for};
use prow_pod_utils::upload::{Targets, UploadTarget};
use prow_pod_utils::wrapper::WrapperOptions;
use prow_storage::Storage;
use tokio::sync::{Semaphore, watch};

use crate::{ExecError, Executor, Result, RunInfo, RunPhase, RunStatus};
use env::RunPaths;
use process::{Outcome, ProcessSpec, Stop};
pub use sandbox::{Bubblewrap, LOCAL_NETWORK_LABEL, SandboxMode, SandboxUnavailable};
use state::{Phase, ProcessIdentity, RunRecord};

/// Maps `org`, `repo` to the URL or path to clone from; `None` keeps Prow's choice
/// (`clone_uri`, else `<repo_link>.git`, else `https://github.com/<org>/<repo>.git`).
pub type CloneBase = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;

/// A [`CloneBase`] cloning every repository from `<prefix>/<org>/<repo>.git` (a git HTTP
/// server such as the fake GitHub's, or a directory of bare repositories).
pub fn clone_from_prefix(prefix: impl Into<String>) -> CloneBase {
    let prefix = prefix.into().trim_end_matches('/').to_string();
    Arc::new(move |org, repo| Some(format!("{prefix}/{org}/{repo}.git")))
}

/// Cluster alias reported for runs of jobs that name none.
const DEFAULT_CLUSTER: &str = prow_api::prowjob::DEFAULT_CLUSTER_ALIAS;
/// How long `delete` waits for a killed run to wind down before removing its directory.
const DELETE_WAIT: Duration = Duration::from_secs(30);
/// Message of runs found on disk that no task of this process supervises.
const LOST_MESSAGE: &str =
    "the local executor lost track of this run (its process restarted while the run was active)";

/// Settings of a [`LocalExecutor`].
#[derive(Clone)]
pub struct LocalOptions {
    /// Directory holding one run directory per job.
    pub work_root: PathBuf,
    /// Where build directories are uploaded (the job's `gcs_configuration` decides paths).
    pub storage: Arc<dyn Storage>,
    /// Clone source per repository (default: Prow's choice, i.e. GitHub).
    pub clone_base: CloneBase,
    /// Runs executing at once; more wait as `Pending{scheduled:false}`. At least 1.
    pub max_parallel: usize,
    /// Sandboxing.
    pub sandbox: SandboxMode,
    /// Host paths sandboxed jobs must not see (the data dir, secret and config files); missing
    /// ones are skipped, links hide their targets. Resolved again for every run.
    pub hidden_paths: Vec<PathBuf>,
    /// The build cluster alias served; `None` serves every alias.
    pub cluster: Option<String>,
    /// Variables of the executor's own environment handed to jobs.
    pub pass_env: Vec<String>,
    /// Sleeps between failed fetch attempts (Prow's ~1 minute back-off by default).
    pub fetch_retries: Vec<Duration>,
    /// `user.name` in clones (merges need one).
    pub git_user_name: String,
    /// `user.email` in clones.
    pub git_user_email: String,
    /// At most this many bytes of the end of the log are returned by `logs`.
    pub log_tail_bytes: usize,
}

impl std::fmt::Debug for LocalOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalOptions")
            .field("work_root", &self.work_root)
            .field("storage", &self.storage)
            .field("max_parallel", &self.max_parallel)
            .field("sandbox", &self.sandbox)
            .field("hidden_paths", &self.hidden_paths)
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

impl LocalOptions {
    /// Defaults: clone from where Prow would, 4 parallel runs, bubblewrap from `PATH` (jobs
    /// refused without it) hiding [`sandbox::default_hidden_paths`], every cluster alias,
    /// clonerefs' git identity (`ci-robot`), 1 MiB of log tail.
    pub fn new(work_root: impl Into<PathBuf>, storage: Arc<dyn Storage>) -> Self {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        LocalOptions {
            work_root: work_root.into(),
            storage,
            clone_base: Arc::new(|_, _| None),
            max_parallel: 4,
            sandbox: SandboxMode::Bubblewrap,
            hidden_paths: sandbox::default_hidden_paths(home.as_deref()),
            cluster: None,
            pass_env: env::DEFAULT_PASS_ENV
                .iter()
                .map(|s| s.to_string())
                .collect(),
            fetch_retries: PROW_FETCH_RETRIES.to_vec(),
            git_user_name: "ci-robot".into(),
            git_user_email: "ci-robot@k8s.io".into(),
            log_tail_bytes: 1 << 20,
        }
    }
}

/// Runs ProwJobs as local processes. See the module docs.
#[derive(Clone, Debug)]
pub struct LocalExecutor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    opts: LocalOptions,
    /// The sandbox to use (`None`: explicitly none), or why jobs cannot be sandboxed.
    sandbox: std::result::Result<Option<Bubblewrap>, SandboxUnavailable>,
    slots: Arc<Semaphore>,
    runs: Mutex<HashMap<String, Arc<Run>>>,
}

/// A run supervised by this process.
#[derive(Debug)]
struct Run {
    paths: RunPaths,
    record: Mutex<RunRecord>,
    stop: watch::Sender<Stop>,
    done: watch::Sender<bool>,
}

impl Run {
    fn snapshot(&self) -> Option<RunRecord> {
        self.record.lock().ok().map(|r| r.clone())
    }

    /// Update the record and persist it; a failed write only costs restart recovery.
    fn update(&self, f: impl FnOnce(&mut RunRecord)) {
        let Ok(mut r) = self.record.lock() else {
            return;
        };
        f(&mut r);
        if let Err(e) = state::save(&self.paths.dir, &r) {
            tracing::debug!(run = %r.name, error = %e, "local executor: could not save run state");
        }
    }
}

fn to_status(rec: &RunRecord, phase: RunPhase) -> RunStatus {
    let message = match phase {
        RunPhase::Stopped(_) => Some(LOST_MESSAGE.to_string()),
        _ => rec.message.clone(),
    };
    RunStatus {
        phase,
        name: rec.name.clone(),
        build_id: Some(rec.build_id.clone()),
        created: Some(rec.created),
        started: rec.started,
        message,
    }
}

fn missing(name: &str) -> RunStatus {
    RunStatus {
        phase: RunPhase::Missing,
        name: name.to_string(),
        build_id: None,
        created: None,
        started: None,
        message: None,
    }
}

/// Run names become directory names: refuse anything that is not a single path component.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name != "."
        && name != ".."
        && !name.contains(['/', '\0'])
}

fn backend(what: &str, e: impl std::fmt::Display) -> ExecError {
    ExecError::Backend(format!("{what}: {e}"))
}

/// One container, ready to start.
#[derive(Debug, Clone)]
struct ContainerPlan {
    name: String,
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: PathBuf,
    log: PathBuf,
    /// Object name of its build log.
    log_object: String,
    metadata_file: PathBuf,
}

/// Everything decided before a run starts; errors here are the job's fault.
#[derive(Debug, Clone)]
struct Plan {
    spec: JobSpec,
    decorated: bool,
    /// (refs as the job names them, refs as cloned: with the clone source and decoration
    /// defaults applied).
    clone_refs: Vec<(Refs, Refs)>,
    containers: Vec<ContainerPlan>,
    notes: Vec<String>,
    timeout: Option<Duration>,
    grace: Duration,
    gcs: Option<GcsConfiguration>,
    network: bool,
}

impl Inner {
    fn dir_of(&self, name: &str) -> PathBuf {
        self.opts.work_root.join(name)
    }

    fn host_env(&self) -> BTreeMap<String, String> {
        self.opts
            .pass_env
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.clone(), v)))
            .collect()
    }

    fn plan(&self, job: &ProwJob, build_id: &str, paths: &RunPaths) -> Result<Plan> {
        if let Some(agent) = &job.spec.agent
            && *agent != ProwJobAgent::Kubernetes
        {
            return Err(ExecError::Invalid(format!(
                "agent {} cannot run locally",
                agent.as_str()
            )));
        }
        let pod = job
            .spec
            .pod_spec
            .as_ref()
            .ok_or_else(|| ExecError::Invalid("job has no pod spec".into()))?;
        if pod.containers.is_empty() {
            return Err(ExecError::Invalid("pod spec has no containers".into()));
        }
        let dc = job.spec.decoration_config.as_ref();
        let decorated = dc.is_some();
        let spec = JobSpec::new(&job.spec, build_id, job.name());
        let job_env =
            env::job_env(&spec, paths, decorated).map_err(|e| ExecError::Invalid(e.to_string()))?;
        let all_refs: Vec<&Refs> = job
            .spec
            .refs
            .iter()
            .chain(job.spec.extra_refs.iter())
            .collect();
        let skip_cloning = dc.and_then(|d| d.skip_cloning).unwrap_or(false);
        let clone_refs = if decorated && !skip_cloning {
            all_refs
                .iter()
                .map(|orig| {
                    let mut r = (*orig).clone();
                    if r.clone_uri.is_empty()
                        && let Some(uri) = (self.opts.clone_base)(&r.org, &r.repo)
                    {
                        r.clone_uri = uri;
                    }
                    if let Some(d) = dc {
                        if r.blobless_fetch.is_none() {
                            r.blobless_fetch = d.blobless_fetch;
                        }
                        if r.sparse_checkout_files.is_empty() {
                            r.sparse_checkout_files = d.sparse_checkout_files.clone();
                        }
                    }
                    ((*orig).clone(), r)
                })
                .collect()
        } else {
            Vec::new()
        };
        let host = self.host_env();
        let multi = pod.containers.len() > 1;
        let mut notes = Vec::new();
        let mut containers = Vec::new();
        for (i, c) in pod.containers.iter().enumerate() {
            let name = container_name(c, i, multi)?;
            let (cenv, mut cnotes) = env::container_env(&host, &job_env, c);
            let argv = env::container_argv(c, &cenv).ok_or_else(|| {
                ExecError::Invalid(format!("container {name:?} declares no command or args"))
            })?;
            let (cwd, note) = env::working_dir(c, &all_refs, paths);
            cnotes.extend(note);
            notes.extend(cnotes.into_iter().map(|n| format!("container {name}: {n}")));
            let (log_object, metadata_name) = if multi {
                (
                    format!("{name}-{}", metadata::BUILD_LOG_FILE),
                    format!("{name}-metadata.json"),
                )
            } else {
                (metadata::BUILD_LOG_FILE.to_string(), "metadata.json".into())
            };
            containers.push(ContainerPlan {
                log: paths.logs.join(&log_object),
                metadata_file: paths.artifacts.join(metadata_name),
                log_object,
                name,
                argv,
                env: cenv,
                cwd,
            });
        }
        let timeout = decorated.then(|| {
            dc.and_then(|d| d.timeout)
                .map(|t| t.get())
                .filter(|t| !t.is_zero())
                .unwrap_or(DEFAULT_TIMEOUT)
        });
        let grace = dc
            .and_then(|d| d.grace_period)
            .map(|t| t.get())
            .filter(|t| !t.is_zero())
            .unwrap_or(DEFAULT_GRACE_PERIOD);
        Ok(Plan {
            spec,
            decorated,
            clone_refs,
            containers,
            notes,
            timeout,
            grace,
            gcs: dc.and_then(|d| d.gcs_configuration.clone()),
            network: sandbox::wants_network(job),
        })
    }
}

/// The container's name as decoration leaves it: a single container is called `test`.
fn container_name(c: &Container, index: usize, multi: bool) -> Result<String> {
    if !multi {
        return Ok("test".into());
    }
    let name = if c.name.is_empty() {
        format!("container-{index}")
    } else {
        c.name.clone()
    };
    if !name
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.' || ch == '_')
        || name.starts_with('.')
    {
        return Err(ExecError::Invalid(format!(
            "invalid container name {name:?}"
        )));
    }
    Ok(name)
}

async fn until_stopped(rx: &mut watch::Receiver<Stop>) -> Stop {
    loop {
        let s = *rx.borrow_and_update();
        if s != Stop::No {
            return s;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Kill the process groups of a run a previous executor process left behind.
fn kill_orphans(rec: &RunRecord) {
    for p in &rec.processes {
        if p.is_alive() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(p.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Read at most `max` bytes from the end of a file.
async fn tail(path: &Path, max: usize) -> Option<Vec<u8>> {
    let data = tokio::fs::read(path).await.ok()?;
    let start = data.len().saturating_sub(max);
    Some(data[start..].to_vec())
}

impl LocalExecutor {
    /// An executor with `opts`. Finds bubblewrap and runs it once (unless
    /// [`SandboxMode::Unsandboxed`]); when that fails, every `start` is refused with the reason
    /// ([`LocalExecutor::sandbox_status`] tells it at once).
    pub fn new(opts: LocalOptions) -> Self {
        let path = std::env::var("PATH").ok();
        let sandbox = Bubblewrap::resolve(&opts.sandbox, path.as_deref()).and_then(|b| {
            if let Some(b) = &b {
                b.probe(&sandbox::resolve_hidden(&opts.hidden_paths))?;
            }
            Ok(b)
        });
        match &sandbox {
            Ok(Some(b)) => tracing::debug!(
                bwrap = %b.program.display(),
                hidden = ?opts.hidden_paths,
                "local executor: jobs run in a bubblewrap sandbox"
            ),
            // Callers say the next two loudly, in their own words (`prow local` names its flags).
            Ok(None) => tracing::debug!("local executor: jobs run unsandboxed"),
            Err(e) => tracing::debug!(error = %e, "local executor: no sandbox, jobs refused"),
        }
        LocalExecutor {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(opts.max_parallel.max(1))),
                opts,
                sandbox,
                runs: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The sandbox runs use (`None`: plain processes, or no runs at all: see
    /// [`LocalExecutor::sandbox_status`]).
    pub fn sandbox(&self) -> Option<&Bubblewrap> {
        self.inner.sandbox.as_ref().ok().and_then(Option::as_ref)
    }

    /// The sandbox runs use (`Ok(None)`: explicitly unsandboxed), or why every job is refused.
    pub fn sandbox_status(&self) -> std::result::Result<Option<&Bubblewrap>, &SandboxUnavailable> {
        self.inner.sandbox.as_ref().map(Option::as_ref)
    }

    /// The run directory of a job.
    pub fn run_dir(&self, job: &ProwJob) -> PathBuf {
        self.inner.dir_of(job.name())
    }

    fn live(&self, name: &str) -> Option<Arc<Run>> {
        self.inner.runs.lock().ok()?.get(name).cloned()
    }

    fn status_of(&self, name: &str) -> RunStatus {
        if let Some(run) = self.live(name)
            && let Some(rec) = run.snapshot()
        {
            return to_status(&rec, rec.phase.live());
        }
        if !valid_name(name) {
            return missing(name);
        }
        match state::load(&self.inner.dir_of(name)) {
            Some(rec) => to_status(&rec, rec.phase.recovered()),
            None => missing(name),
        }
    }

    fn serves(&self, cluster: &str) -> bool {
        self.inner
            .opts
            .cluster
            .as_deref()
            .is_none_or(|c| c == cluster)
    }

    async fn remove(&self, name: &str) -> Result<()> {
        if !valid_name(name) {
            return Ok(());
        }
        if let Some(run) = self.live(name) {
            run.stop.send_if_modified(|s| {
                let changed = *s != Stop::Kill;
                *s = Stop::Kill;
                changed
            });
            let mut done = run.done.subscribe();
            let _ = tokio::time::timeout(DELETE_WAIT, done.wait_for(|d| *d)).await;
            if let Ok(mut runs) = self.inner.runs.lock() {
                runs.remove(name);
            }
        }
        let dir = self.inner.dir_of(name);
        if let Some(rec) = state::load(&dir) {
            kill_orphans(&rec);
        }
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(backend(&format!("remove {}", dir.display()), e)),
        }
    }
}

#[async_trait]
impl Executor for LocalExecutor {
    async fn start(&self, job: &ProwJob, build_id: &str) -> Result<RunStatus> {
        let name = job.name();
        if !valid_name(name) {
            return Err(ExecError::Invalid(format!("invalid run name {name:?}")));
        }
        let cluster = if job.spec.cluster.is_empty() {
            DEFAULT_CLUSTER
        } else {
            &job.spec.cluster
        };
        if !self.serves(cluster) {
            return Err(ExecError::UnknownCluster(cluster.to_string()));
        }
        if self.live(name).is_some() {
            return Ok(self.status_of(name));
        }
        let sandbox = match &self.inner.sandbox {
            Ok(Some(b)) => Some(RunSandbox {
                bwrap: b.clone(),
                hidden: sandbox::resolve_hidden(&self.inner.opts.hidden_paths),
                exposed: sandbox::resolve_exposed(),
            }),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(job = name, error = %e, "local executor: job refused");
                return Err(ExecError::Invalid(e.to_string()));
            }
        };
        let paths = RunPaths::new(self.inner.dir_of(name));
        let plan = self.inner.plan(job, build_id, &paths)?;

        let mut labels: BTreeMap<String, String> = job.metadata.labels.clone().unwrap_or_default();
        labels.insert(prow_api::labels::CREATED_BY_PROW.into(), "true".into());
        labels.insert(prow_api::labels::PROW_JOB_ID.into(), name.to_string());
        labels.insert(prow_api::labels::PROW_BUILD_ID.into(), build_id.to_string());
        let record = RunRecord {
            name: name.to_string(),
            cluster: cluster.to_string(),
            build_id: build_id.to_string(),
            labels,
            phase: Phase::Pending,
            created: Utc::now(),
            started: None,
            finished: None,
            message: None,
            processes: Vec::new(),
        };
        let run = {
            let mut runs = self
                .inner
                .runs
                .lock()
                .map_err(|_| ExecError::Backend("run table poisoned".into()))?;
            if runs.contains_key(name) {
                drop(runs);
                return Ok(self.status_of(name));
            }
            if state::state_path(&paths.dir).exists() {
                // Left by an earlier executor process: report it, do not run it twice.
                drop(runs);
                return Ok(self.status_of(name));
            }
            for d in [&paths.dir, &paths.artifacts, &paths.logs] {
                std::fs::create_dir_all(d)
                    .map_err(|e| backend(&format!("create {}", d.display()), e))?;
            }
            state::save(&paths.dir, &record)
                .map_err(|e| backend(&format!("write state of {name}"), e))?;
            let run = Arc::new(Run {
                paths,
                record: Mutex::new(record.clone()),
                stop: watch::channel(Stop::No).0,
                done: watch::channel(false).0,
            });
            runs.insert(name.to_string(), run.clone());
            run
        };
        tokio::spawn(execute(self.inner.clone(), run, plan, sandbox));
        Ok(to_status(&record, record.phase.live()))
    }

    async fn status(&self, job: &ProwJob) -> Result<RunStatus> {
        Ok(self.status_of(job.name()))
    }

    async fn abort(&self, job: &ProwJob) -> Result<()> {
        let name = job.name();
        if let Some(run) = self.live(name) {
            run.stop.send_if_modified(|s| {
                let changed = *s == Stop::No;
                if changed {
                    *s = Stop::Abort;
                }
                changed
            });
            return Ok(());
        }
        if valid_name(name)
            && let Some(rec) = state::load(&self.inner.dir_of(name))
        {
            kill_orphans(&rec);
        }
        Ok(())
    }

    async fn delete(&self, job: &ProwJob) -> Result<()> {
        self.remove(job.name()).await
    }

    async fn list_runs(&self) -> Result<Vec<RunInfo>> {
        let mut found: BTreeMap<String, (RunRecord, RunPhase)> = BTreeMap::new();
        let live: Vec<Arc<Run>> = self
            .inner
            .runs
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default();
        for run in live {
            if let Some(rec) = run.snapshot() {
                let phase = rec.phase.live();
                found.insert(rec.name.clone(), (rec, phase));
            }
        }
        match std::fs::read_dir(&self.inner.opts.work_root) {
            Ok(entries) => {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if found.contains_key(&name) {
                        continue;
                    }
                    if let Some(rec) = state::load(&e.path()) {
                        let phase = rec.phase.recovered();
                        found.insert(name, (rec, phase));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(backend("list work root", e)),
        }
        Ok(found
            .into_values()
            .filter(|(rec, _)| self.serves(&rec.cluster))
            .map(|(rec, phase)| RunInfo {
                name: rec.name,
                cluster: rec.cluster,
                labels: rec.labels,
                phase,
                created: Some(rec.created),
                finished: rec.finished,
            })
            .collect())
    }

    async fn delete_run(&self, cluster: &str, name: &str) -> Result<()> {
        let recorded = self
            .live(name)
            .and_then(|r| r.snapshot())
            .or_else(|| valid_name(name).then(|| state::load(&self.inner.dir_of(name)))?);
        match recorded {
            Some(rec) if rec.cluster == cluster => self.remove(name).await,
            _ => Ok(()),
        }
    }

    async fn logs(&self, job: &ProwJob) -> Result<Option<String>> {
        let name = job.name();
        if !valid_name(name) {
            return Ok(None);
        }
        let logs_dir = RunPaths::new(self.inner.dir_of(name)).logs;
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&logs_dir) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().ends_with(metadata::BUILD_LOG_FILE))
                })
                .collect(),
            Err(_) => return Ok(None),
        };
        files.sort();
        let max = self.inner.opts.log_tail_bytes;
        match files.as_slice() {
            [] => Ok(None),
            [one] => Ok(tail(one, max)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())),
            many => {
                let mut out = String::new();
                for f in many {
                    let label = f.file_name().map(|n| n.to_string_lossy().into_owned());
                    out.push_str(&format!("==> {} <==\n", label.unwrap_or_default()));
                    if let Some(b) = tail(f, max / many.len()).await {
                        out.push_str(&String::from_utf8_lossy(&b));
                    }
                    if !out.ends_with('\n') {
                        out.push('\n');
                    }
                }
                Ok(Some(out))
            }
        }
    }
}

fn json_target<T: serde::Serialize>(value: &T) -> UploadTarget {
    UploadTarget::data(serde_json::to_vec(value).unwrap_or_default())
}

/// The sandbox of one run: bubblewrap and what it hides, resolved when the run starts.
#[derive(Debug, Clone)]
struct RunSandbox {
    bwrap: Bubblewrap,
    hidden: Vec<sandbox::Hidden>,
    exposed: Vec<PathBuf>,
}

/// Everything a run does, from waiting for a slot to the last upload.
async fn execute(inner: Arc<Inner>, run: Arc<Run>, plan: Plan, sandbox: Option<RunSandbox>) {
    let mut stop = run.stop.subscribe();
    let permit = tokio::select! {
        p = inner.slots.clone().acquire_owned() => p.ok(),
        _ = until_stopped(&mut stop) => None,
    };
    if permit.is_none() {
        finish(&run, false, Some("aborted before it started".into()));
        return;
    }
    run.update(|r| {
        r.phase = Phase::Scheduled;
        r.started = Some(Utc::now());
    });
    let storage = inner.opts.storage.clone();
    let paths = run.paths.clone();

    // clonerefs + initupload
    if plan.decorated {
        let mut extra = Targets::new();
        let mut records: Vec<Record> = Vec::new();
        if !plan.clone_refs.is_empty() {
            let settings = CloneSettings {
                git_user_name: inner.opts.git_user_name.clone(),
                git_user_email: inner.opts.git_user_email.clone(),
                fetch_retries: inner.opts.fetch_retries.clone(),
                ..Default::default()
            };
            let refs = plan.clone_refs.clone();
            let src_root = paths.dir.to_string_lossy().into_owned();
            records = tokio::task::spawn_blocking(move || {
                refs.iter()
                    .map(|(orig, r)| {
                        // Records name the job's refs, so started.json finds the main
                        // refs' final SHA (and records read like clonerefs' own).
                        Record {
                            refs: orig.clone(),
                            ..clone::run(r, &src_root, &settings)
                        }
                    })
                    .collect()
            })
            .await
            .unwrap_or_default();
            let json = serde_json::to_vec(&records).unwrap_or_default();
            let _ = tokio::fs::write(paths.logs.join("clone.json"), &json).await;
            let clone_log: String = records.iter().map(clone::format_record).collect();
            extra.insert(
                metadata::CLONE_LOG_FILE.into(),
                UploadTarget::data(clone_log.clone()),
            );
            extra.insert(
                metadata::CLONE_RECORDS_FILE.into(),
                UploadTarget::data(json),
            );
            if records.iter().any(|r| r.failed) || records.len() != plan.clone_refs.len() {
                let log_path = paths.logs.join(metadata::BUILD_LOG_FILE);
                let _ = tokio::fs::write(&log_path, &clone_log).await;
                extra.insert(
                    metadata::BUILD_LOG_FILE.into(),
                    UploadTarget::data(clone_log),
                );
                extra.insert(
                    metadata::FINISHED_FILE.into(),
                    json_target(&Finished {
                        timestamp: Some(Utc::now().timestamp()),
                        passed: Some(false),
                        result: metadata::result::FAILURE.into(),
                        ..Default::default()
                    }),
                );
            }
        }
        let started = spec_to_started(&plan.spec, &records, Utc::now().timestamp());
        extra.insert(metadata::STARTED_FILE.into(), json_target(&started));
        let clone_failed = extra.contains_key(metadata::FINISHED_FILE);
        let opts = upload::upload_options(storage.as_ref(), plan.gcs.as_ref(), Vec::new());
        upload::upload(storage.as_ref(), &opts, &plan.spec, extra).await;
        if clone_failed {
            finish(
                &run,
                false,
                Some("cloning the appropriate refs failed".into()),
            );
            return;
        }
    }

    let stop_now = *stop.borrow();
    if stop_now != Stop::No {
        // Aborted while cloning: like sidecar interrupted before the markers, record the
        // build as aborted (unless the run is being deleted anyway).
        if plan.decorated && stop_now == Stop::Abort {
            let mut extra = Targets::new();
            extra.insert(
                metadata::FINISHED_FILE.into(),
                json_target(&Finished {
                    timestamp: Some(Utc::now().timestamp()),
                    passed: Some(false),
                    result: metadata::result::ABORTED.into(),
                    revision: plan.spec.revision(),
                    ..Default::default()
                }),
            );
            let opts = upload::upload_options(storage.as_ref(), plan.gcs.as_ref(), Vec::new());
            upload::upload(storage.as_ref(), &opts, &plan.spec, extra).await;
        }
        finish(&run, false, Some("process aborted".into()));
        return;
    }

    // entrypoint, per container
    let network = plan.network;
    // Hidden paths are canonical, so the run directory is bound at its canonical path too.
    let run_dir = paths
        .dir
        .canonicalize()
        .unwrap_or_else(|_| paths.dir.clone());
    let mut started = Vec::new();
    let mut outcomes: Vec<Option<Outcome>> = Vec::new();
    for c in &plan.containers {
        if c.cwd.starts_with(&paths.dir) {
            let _ = tokio::fs::create_dir_all(&c.cwd).await;
        }
        let argv = match &sandbox {
            Some(s) => s.bwrap.wrap(
                &c.argv,
                &sandbox::LocalSandbox {
                    read_only: vec![run_dir.join("logs"), state::state_dir(&run_dir)],
                    run_dir: run_dir.clone(),
                    hidden: s.hidden.clone(),
                    exposed: s.exposed.clone(),
                    cwd: c.cwd.clone(),
                    network,
                },
            ),
            None => c.argv.clone(),
        };
        let spec = ProcessSpec {
            argv,
            env: c.env.clone(),
            cwd: c.cwd.clone(),
            log: c.log.clone(),
        };
        match process::spawn(&spec) {
            Ok((child, log)) => {
                let prefix = format!("container {}: ", c.name);
                for n in plan.notes.iter().filter(|n| n.starts_with(&prefix)) {
                    log.info(n);
                }
                let identity = child.id().and_then(|pid| ProcessIdentity::of(pid as i32));
                started.push((outcomes.len(), child, log, identity));
                outcomes.push(None);
            }
            Err(msg) => outcomes.push(Some(Outcome {
                code: prow_pod_utils::entrypoint::INTERNAL_ERROR_CODE,
                message: Some(msg),
                aborted: false,
            })),
        }
    }
    run.update(|r| {
        r.phase = Phase::Running;
        r.processes = started.iter().filter_map(|s| s.3.clone()).collect();
    });
    let waits = started.into_iter().map(|(i, child, log, _)| {
        let stop = run.stop.subscribe();
        let (timeout, grace) = (plan.timeout, plan.grace);
        async move {
            (
                i,
                process::supervise(child, &log, timeout, grace, stop).await,
            )
        }
    });
    for (i, o) in futures::future::join_all(waits).await {
        if let Some(slot) = outcomes.get_mut(i) {
            *slot = Some(o);
        }
    }
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    let passed = outcomes.len() == plan.containers.len() && outcomes.iter().all(|o| o.code == 0);
    let aborted = outcomes.iter().any(|o| o.aborted);
    let multi = plan.containers.len() > 1;
    let message = plan
        .containers
        .iter()
        .zip(&outcomes)
        .filter_map(|(c, o)| {
            o.message.as_ref().map(|m| {
                if multi {
                    format!("container {}: {m}", c.name)
                } else {
                    m.clone()
                }
            })
        })
        .collect::<Vec<_>>();
    let message = (!message.is_empty()).then(|| message.join("; "));

    // sidecar
    if plan.decorated && *stop.borrow() != Stop::Kill {
        let entries: Vec<WrapperOptions> = plan
            .containers
            .iter()
            .map(|c| WrapperOptions {
                args: c.argv.clone(),
                container_name: c.name.clone(),
                // The job made this file: read it only if it is one, as a link could point
                // at any host file the executor can read. (A sandboxed job's processes all
                // died with its PID namespace, so nothing swaps it after the check.)
                metadata_file: if std::fs::symlink_metadata(&c.metadata_file)
                    .is_ok_and(|m| m.is_file())
                {
                    c.metadata_file.to_string_lossy().into_owned()
                } else {
                    String::new()
                },
                ..Default::default()
            })
            .collect();
        let md = combine_metadata(&entries, &Logger::silent("sidecar"));
        let finished = Finished {
            timestamp: Some(Utc::now().timestamp()),
            passed: Some(passed),
            result: result_for(passed, aborted).into(),
            revision: plan.spec.revision(),
            metadata: (!md.is_empty()).then_some(md),
            ..Default::default()
        };
        let mut extra = Targets::new();
        for c in &plan.containers {
            extra.insert(
                c.log_object.clone(),
                UploadTarget {
                    source: prow_pod_utils::upload::Source::LogFile(c.log.clone()),
                    attrs: Default::default(),
                },
            );
        }
        extra.insert(metadata::FINISHED_FILE.into(), json_target(&finished));
        let items = vec![paths.artifacts.to_string_lossy().into_owned()];
        let opts = upload::upload_options(storage.as_ref(), plan.gcs.as_ref(), items);
        upload::upload(storage.as_ref(), &opts, &plan.spec, extra).await;
    }
    drop(permit);
    finish(&run, passed, message);
}

fn finish(run: &Run, passed: bool, message: Option<String>) {
    run.update(|r| {
        r.phase = if passed {
            Phase::Succeeded
        } else {
            Phase::Failed
        };
        r.finished = Some(Utc::now());
        r.message = message;
        r.processes.clear();
    });
    run.done.send_replace(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_clone_sources() {
        assert!(valid_name("0b6c-uuid"));
        for bad in ["", ".", "..", "a/b", "a\0b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        let base = clone_from_prefix("http://127.0.0.1:1/");
        assert_eq!(
            base("org", "repo").as_deref(),
            Some("http://127.0.0.1:1/org/repo.git")
        );
        let c = Container::default();
        assert_eq!(container_name(&c, 0, false).unwrap(), "test");
        assert_eq!(container_name(&c, 2, true).unwrap(), "container-2");
        let bad = Container {
            name: "../x".into(),
            ..Default::default()
        };
        assert!(container_name(&bad, 0, true).is_err());
    }
}
