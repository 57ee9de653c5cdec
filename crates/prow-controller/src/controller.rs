//! The plank controller loop in kube-runtime's shape: a reflector (list + watch of the
//! [`JobStore`] into a [`JobCache`] with the indexes plank needs), a de-duplicating
//! [`WorkQueue`] keyed by job name, N workers calling [`reconcile`] → [`Action`], and
//! [`error_policy`] for failures. Decisions come from the pure [`crate::plank`] module.
//!
//! Starts of jobs with any concurrency limit are serialised by one lock, and every status write
//! goes into the cache immediately (write-through), so the next concurrency check sees it; this
//! is what Prow gets from its serialisation locks plus "wait until the cache has it".

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use prow_api::{ProwJob, ProwJobState};
use prow_executor::{ExecError, Executor, RunPhase};
use prow_jobstore::{JobStore, ListParams, StoreError, WatchEvent};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::buildid::{BuildIdError, BuildIds};
use crate::joburl::{JobUrlTemplate, job_url};
use crate::metrics::JobMetrics;
use crate::plank::{self, Decision, PlankSettings, ReconcileCtx, RunAction};

/// Reads the current config (a [`prow_config::ConfigAgent`] snapshot, or a fixed one in tests).
pub type ConfigGetter = Arc<dyn Fn() -> Arc<prow_config::Config> + Send + Sync>;

/// A [`ConfigGetter`] over a live [`prow_config::ConfigAgent`].
pub fn config_from_agent(agent: Arc<prow_config::ConfigAgent>) -> ConfigGetter {
    Arc::new(move || agent.config())
}

/// A [`ConfigGetter`] that always returns `cfg`.
pub fn fixed_config(cfg: prow_config::Config) -> ConfigGetter {
    let cfg = Arc::new(cfg);
    Arc::new(move || cfg.clone())
}

/// The clock (injected so tests can move time).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What to do with a job after reconciling it (kube-runtime's `Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reconcile again after this long (or earlier if the job changes).
    Requeue(Duration),
    /// Reconcile again only when the job changes.
    AwaitChange,
}

impl Action {
    /// [`Action::Requeue`].
    pub fn requeue(after: Duration) -> Self {
        Action::Requeue(after)
    }
    /// [`Action::AwaitChange`].
    pub fn await_change() -> Self {
        Action::AwaitChange
    }
}

/// Why a reconcile failed (retried by [`error_policy`]).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The job store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The executor failed transiently.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// No build ID could be had.
    #[error(transparent)]
    BuildId(#[from] BuildIdError),
    /// The job names a queue plank does not know.
    #[error(transparent)]
    Queue(plank::Blocked),
}

impl ReconcileError {
    /// A short label for logs and failure counters.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ReconcileError::Store(_) => "store",
            ReconcileError::Exec(_) => "executor",
            ReconcileError::BuildId(_) => "build_id",
            ReconcileError::Queue(_) => "queue",
        }
    }
}

/// Delay before retrying a failed reconcile.
pub const ERROR_REQUEUE: Duration = Duration::from_secs(5);

/// What happens after a failed reconcile: log and retry after [`ERROR_REQUEUE`].
pub fn error_policy(name: &str, err: &ReconcileError, _ctx: &Context) -> Action {
    tracing::error!(job.name = name, error = %err, kind = err.metric_label(), "reconciliation failed");
    Action::requeue(ERROR_REQUEUE)
}

fn parse_rv(job: &ProwJob) -> Option<u64> {
    job.metadata.resource_version.as_deref()?.parse().ok()
}

fn counts_for_limits(job: &ProwJob) -> bool {
    matches!(
        job.spec.agent,
        None | Some(prow_api::ProwJobAgent::Kubernetes)
    ) && !job.complete()
        && matches!(
            job.status.state,
            ProwJobState::Triggered | ProwJobState::Pending
        )
}

#[derive(Default)]
struct CacheInner {
    jobs: HashMap<String, ProwJob>,
    pending: HashSet<String>,
    by_job: HashMap<String, HashSet<String>>,
    by_queue: HashMap<String, HashSet<String>>,
    by_dupe: HashMap<String, HashSet<String>>,
}

impl CacheInner {
    fn unindex(&mut self, job: &ProwJob) {
        let name = job.name();
        self.pending.remove(name);
        let drop_from = |m: &mut HashMap<String, HashSet<String>>, k: &str| {
            if let Some(s) = m.get_mut(k) {
                s.remove(name);
                if s.is_empty() {
                    m.remove(k);
                }
            }
        };
        drop_from(&mut self.by_job, &job.spec.job);
        drop_from(&mut self.by_queue, &job.spec.job_queue_name);
        if let Some(k) = plank::dupe_key(job) {
            drop_from(&mut self.by_dupe, &k);
        }
    }

    fn index(&mut self, job: &ProwJob) {
        if !counts_for_limits(job) {
            return;
        }
        let name = job.name().to_owned();
        if job.status.state == ProwJobState::Pending {
            self.pending.insert(name.clone());
        }
        self.by_job
            .entry(job.spec.job.clone())
            .or_default()
            .insert(name.clone());
        if !job.spec.job_queue_name.is_empty() {
            self.by_queue
                .entry(job.spec.job_queue_name.clone())
                .or_default()
                .insert(name.clone());
        }
        if let Some(k) = plank::dupe_key(job) {
            self.by_dupe.entry(k).or_default().insert(name);
        }
    }

    fn collect(&self, names: Option<&HashSet<String>>) -> Vec<ProwJob> {
        names
            .into_iter()
            .flatten()
            .filter_map(|n| self.jobs.get(n).cloned())
            .collect()
    }
}

/// The controller's view of the store, indexed like Prow's plank informer (pending jobs; active
/// jobs per job name, per queue and per duplicate key).
#[derive(Default)]
pub struct JobCache {
    inner: RwLock<CacheInner>,
}

impl std::fmt::Debug for JobCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobCache")
            .field("len", &self.len())
            .finish()
    }
}

impl JobCache {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, CacheInner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, CacheInner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores `job` unless the cache already holds a newer version of it (by numeric
    /// `resourceVersion`). Returns whether it was stored.
    pub fn upsert(&self, job: ProwJob) -> bool {
        let mut c = self.write();
        if let Some(old) = c.jobs.get(job.name()).cloned() {
            if let (Some(a), Some(b)) = (parse_rv(&old), parse_rv(&job))
                && b < a
            {
                return false;
            }
            c.unindex(&old);
        }
        c.index(&job);
        c.jobs.insert(job.name().to_owned(), job);
        true
    }

    /// Forgets `name`.
    pub fn remove(&self, name: &str) {
        let mut c = self.write();
        if let Some(old) = c.jobs.remove(name) {
            c.unindex(&old);
        }
    }

    /// Replaces everything (after a relist).
    pub fn replace_all(&self, jobs: Vec<ProwJob>) {
        let mut fresh = CacheInner::default();
        for j in jobs {
            fresh.index(&j);
            fresh.jobs.insert(j.name().to_owned(), j);
        }
        *self.write() = fresh;
    }

    /// The job named `name`.
    pub fn get(&self, name: &str) -> Option<ProwJob> {
        self.read().jobs.get(name).cloned()
    }

    /// Number of jobs.
    pub fn len(&self) -> usize {
        self.read().jobs.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of pending (kubernetes-agent) jobs.
    pub fn pending_count(&self) -> usize {
        self.read().pending.len()
    }

    /// Number of jobs in `state`.
    pub fn count_state(&self, state: ProwJobState) -> usize {
        self.read()
            .jobs
            .values()
            .filter(|j| j.status.state == state)
            .count()
    }

    /// Active jobs named `job`.
    pub fn active_for_job(&self, job: &str) -> Vec<ProwJob> {
        let c = self.read();
        c.collect(c.by_job.get(job))
    }

    /// Active jobs in queue `queue`.
    pub fn active_in_queue(&self, queue: &str) -> Vec<ProwJob> {
        let c = self.read();
        c.collect(c.by_queue.get(queue))
    }

    /// Active presubmits with duplicate key `key`.
    pub fn duplicates(&self, key: &str) -> Vec<ProwJob> {
        let c = self.read();
        c.collect(c.by_dupe.get(key))
    }

    /// A copy of every job.
    pub fn all(&self) -> Vec<ProwJob> {
        self.read().jobs.values().cloned().collect()
    }
}

#[derive(Default)]
struct QueueState {
    queue: VecDeque<String>,
    queued: HashSet<String>,
    active: HashSet<String>,
    dirty: HashSet<String>,
}

/// A work queue keyed by job name: a name is queued at most once, and never handed to two
/// workers at once (a name added while being worked on is queued again when it is done).
#[derive(Default)]
pub struct WorkQueue {
    state: Mutex<QueueState>,
    notify: Notify,
}

impl std::fmt::Debug for WorkQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkQueue").finish_non_exhaustive()
    }
}

impl WorkQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `name`.
    pub fn add(&self, name: &str) {
        let mut s = self.lock();
        if s.active.contains(name) {
            s.dirty.insert(name.to_owned());
            return;
        }
        if s.queued.insert(name.to_owned()) {
            s.queue.push_back(name.to_owned());
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Queues `name` after `delay`, unless `shutdown` fires first.
    pub fn add_after(self: &Arc<Self>, name: String, delay: Duration, shutdown: CancellationToken) {
        let q = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(delay) => q.add(&name),
                () = shutdown.cancelled() => {}
            }
        });
    }

    fn try_take(&self) -> Option<String> {
        let mut s = self.lock();
        let name = s.queue.pop_front()?;
        s.queued.remove(&name);
        s.active.insert(name.clone());
        let more = !s.queue.is_empty();
        drop(s);
        if more {
            // Pass the wake-up on so idle workers pick up the rest.
            self.notify.notify_one();
        }
        Some(name)
    }

    /// The next name to work on; `None` once `shutdown` fires.
    pub async fn next(&self, shutdown: &CancellationToken) -> Option<String> {
        loop {
            let notified = self.notify.notified();
            if let Some(n) = self.try_take() {
                return Some(n);
            }
            tokio::select! {
                () = notified => {}
                () = shutdown.cancelled() => return None,
            }
        }
    }

    /// Marks `name` as done; re-queues it if it changed meanwhile.
    pub fn done(&self, name: &str) {
        let mut s = self.lock();
        s.active.remove(name);
        let again = s.dirty.remove(name);
        drop(s);
        if again {
            self.add(name);
        }
    }

    /// Names waiting.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Tunables of the loop.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// Parallel reconciles (Prow: `plank.max_goroutines`, default 20).
    pub workers: usize,
    /// How often pending jobs' runs are polled (the executor has no change feed).
    pub pending_poll: Duration,
    /// How often the `prowjobs` metrics are gathered (Prow: 30s).
    pub metrics_period: Duration,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            workers: 20,
            pending_poll: Duration::from_secs(10),
            metrics_period: Duration::from_secs(30),
        }
    }
}

/// Everything a reconcile needs.
pub struct Context {
    /// Where jobs live.
    pub store: Arc<dyn JobStore>,
    /// Runs the jobs.
    pub executor: Arc<dyn Executor>,
    /// Vends build IDs.
    pub build_ids: Arc<dyn BuildIds>,
    /// The config.
    pub config: ConfigGetter,
    /// The clock.
    pub clock: Clock,
    /// The reflector's cache.
    pub cache: JobCache,
    /// Metrics, if registered.
    pub metrics: Option<Arc<JobMetrics>>,
    /// Loop tunables.
    pub options: ControllerOptions,
    start_lock: tokio::sync::Mutex<()>,
    template: Mutex<Option<(String, Arc<JobUrlTemplate>)>>,
    queue: Arc<WorkQueue>,
    /// Triggered jobs held back by concurrency limits; queued again when a slot frees up.
    blocked: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("cache", &self.cache)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context with the wall clock and default options.
    pub fn new(
        store: Arc<dyn JobStore>,
        executor: Arc<dyn Executor>,
        build_ids: Arc<dyn BuildIds>,
        config: ConfigGetter,
    ) -> Self {
        Context {
            store,
            executor,
            build_ids,
            config,
            clock: Arc::new(Utc::now),
            cache: JobCache::default(),
            metrics: None,
            options: ControllerOptions::default(),
            start_lock: tokio::sync::Mutex::new(()),
            template: Mutex::new(None),
            queue: Arc::new(WorkQueue::default()),
            blocked: Mutex::new(HashSet::new()),
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: ControllerOptions) -> Self {
        self.options = options;
        self
    }

    /// Gathers job metrics into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<JobMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// A job stopped counting against limits: give the held-back jobs another look.
    fn slot_freed(&self) {
        let names: Vec<String> = self
            .blocked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        for n in names {
            self.queue.add(&n);
        }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The job URL for `job` under the current config; errors are logged and give "".
    fn url(&self, cfg: &prow_config::Config, job: &ProwJob) -> String {
        let text = &cfg.prow.plank.job_url_template;
        let tmpl = {
            let mut slot = self.template.lock().unwrap_or_else(|p| p.into_inner());
            match slot.as_ref() {
                Some((t, parsed)) if t == text => Ok(parsed.clone()),
                _ => match JobUrlTemplate::parse(text) {
                    Ok(p) => {
                        let p = Arc::new(p);
                        *slot = Some((text.clone(), p.clone()));
                        Ok(p)
                    }
                    Err(e) => Err(e),
                },
            }
        };
        match tmpl.and_then(|t| job_url(&cfg.prow.plank, &t, job)) {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(job.name = job.name(), error = %e, "failed to get job URL");
                String::new()
            }
        }
    }

    /// Writes a status change: `change` is applied to the cached copy and written with its
    /// resourceVersion; on a conflict it is re-applied to fresh reads. `change` returns false
    /// when the job no longer qualifies (e.g. someone else moved it on), and nothing is written.
    async fn write_status<F>(&self, job: &ProwJob, change: F) -> Result<Option<ProwJob>, StoreError>
    where
        F: Fn(&mut ProwJob) -> bool + Send + Sync,
    {
        let mut mine = job.clone();
        if !change(&mut mine) {
            return Ok(None);
        }
        let written = match self.store.update_status(mine).await {
            Ok(j) => j,
            Err(StoreError::Conflict(_)) => {
                let mut skipped = false;
                let j =
                    prow_jobstore::update_status_retrying(self.store.as_ref(), job.name(), |j| {
                        skipped = !change(j)
                    })
                    .await?;
                if skipped {
                    self.cache.upsert(j);
                    return Ok(None);
                }
                j
            }
            Err(e) => return Err(e),
        };
        if job.status.state != written.status.state {
            tracing::info!(
                job.name = job.name(),
                job.job = %job.spec.job,
                from = %job.status.state,
                to = %written.status.state,
                "transitioning states"
            );
        }
        self.cache.upsert(written.clone());
        Ok(Some(written))
    }

    fn may_start(&self, job: &ProwJob, settings: &PlankSettings) -> Result<bool, plank::Blocked> {
        let same_job = if job.spec.max_concurrency > 0 {
            self.cache.active_for_job(&job.spec.job)
        } else {
            Vec::new()
        };
        let same_queue = if job.spec.job_queue_name.is_empty() {
            Vec::new()
        } else {
            self.cache.active_in_queue(&job.spec.job_queue_name)
        };
        match plank::can_start(
            job,
            settings,
            self.cache.pending_count(),
            same_job.iter(),
            same_queue.iter(),
        ) {
            Ok(()) => Ok(true),
            Err(e @ plank::Blocked::UnknownQueue(_)) => Err(e),
            Err(reason) => {
                tracing::debug!(job.name = job.name(), %reason, "not starting yet");
                self.blocked
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(job.name().to_owned());
                Ok(false)
            }
        }
    }
}

/// Marks older duplicates of `job` aborted (Prow's `terminateDupes`).
async fn terminate_dupes(job: &ProwJob, ctx: &Context) -> Result<(), StoreError> {
    let Some(key) = plank::dupe_key(job) else {
        return Ok(());
    };
    let group = ctx.cache.duplicates(&key);
    if group.len() < 2 {
        return Ok(());
    }
    for name in plank::older_duplicates(group.iter()) {
        let Some(old) = group.iter().find(|j| j.name() == name) else {
            continue;
        };
        ctx.write_status(old, |j| {
            let active = !j.complete()
                && matches!(
                    j.status.state,
                    ProwJobState::Triggered | ProwJobState::Pending
                );
            if active {
                plank::mark_aborted_duplicate(&mut j.status);
            }
            active
        })
        .await?;
    }
    Ok(())
}

/// Reconciles the job `name` (read from the cache).
pub async fn reconcile(name: &str, ctx: &Context) -> Result<Action, ReconcileError> {
    let Some(job) = ctx.cache.get(name) else {
        return Ok(Action::await_change());
    };
    if !plank::handles(&job) {
        return Ok(Action::await_change());
    }
    terminate_dupes(&job, ctx).await?;
    let Some(job) = ctx.cache.get(name) else {
        return Ok(Action::await_change());
    };
    let cfg = (ctx.config)();
    let settings = PlankSettings::from_config(&cfg.prow.plank);
    let limited = settings.max_concurrency > 0
        || job.spec.max_concurrency > 0
        || !job.spec.job_queue_name.is_empty();
    // Checking limits and recording the start must not interleave with another start.
    let _guard = if job.status.state == ProwJobState::Triggered && limited {
        Some(ctx.start_lock.lock().await)
    } else {
        None
    };
    let job = match ctx.cache.get(name) {
        Some(j) if plank::handles(&j) => j,
        _ => return Ok(Action::await_change()),
    };
    let run = ctx.executor.status(&job).await?;
    let may_start = if job.status.state == ProwJobState::Triggered && run.phase == RunPhase::Missing
    {
        ctx.may_start(&job, &settings)
            .map_err(ReconcileError::Queue)?
    } else {
        true
    };
    let now = ctx.now();
    let decision = plank::reconcile(
        &job,
        &run,
        &ReconcileCtx {
            settings: &settings,
            now,
            may_start,
        },
    );
    tracing::trace!(job.name = name, ?decision, "decided");
    let poll = ctx.options.pending_poll;
    match decision {
        Decision::AwaitChange => Ok(Action::await_change()),
        Decision::Requeue(d) if job.status.state == ProwJobState::Pending => {
            Ok(Action::requeue(d.min(poll)))
        }
        Decision::Requeue(d) => Ok(Action::requeue(d)),
        Decision::Start => start(&job, &cfg, ctx).await,
        Decision::Adopt { build_id, pod_name } => {
            let mut with_id = job.clone();
            with_id.status.build_id = build_id.clone();
            let url = ctx.url(&cfg, &with_id);
            ctx.write_status(&job, |j| {
                let ok = j.status.state == ProwJobState::Triggered;
                if ok {
                    plank::mark_pending(&mut j.status, &build_id, &pod_name, url.clone(), now);
                }
                ok
            })
            .await?;
            Ok(Action::requeue(poll))
        }
        Decision::Revive => {
            ctx.executor.delete(&job).await?;
            let build_id = ctx.build_ids.next(&job.spec.job).await?;
            let mut revived = job.clone();
            revived.status.build_id = build_id.clone();
            match ctx.executor.start(&revived, &build_id).await {
                Ok(run) => {
                    let build_id = run.build_id.unwrap_or(build_id);
                    revived.status.build_id = build_id.clone();
                    let url = ctx.url(&cfg, &revived);
                    tracing::info!(
                        job.name = name,
                        "run stopped unexpectedly; started a new one"
                    );
                    ctx.write_status(&job, |j| {
                        let ok = j.status.state == ProwJobState::Pending && !j.complete();
                        if ok {
                            plank::mark_revived(&mut j.status, &build_id, &run.name, url.clone());
                        }
                        ok
                    })
                    .await?;
                    Ok(Action::requeue(poll))
                }
                Err(e) => start_failed(&job, e, ctx).await,
            }
        }
        Decision::Finish {
            state,
            description,
            action,
        } => {
            if action == RunAction::Abort {
                ctx.executor.abort(&job).await?;
            }
            let url = ctx.url(&cfg, &job);
            let expected = job.status.state;
            ctx.write_status(&job, |j| {
                let ok = j.status.state == expected && !j.complete();
                if ok {
                    plank::finish_status(&mut j.status, state, &description, now);
                    if !url.is_empty() {
                        j.status.url = url.clone();
                    }
                }
                ok
            })
            .await?;
            Ok(Action::await_change())
        }
        Decision::CompleteAborted => {
            match ctx.executor.abort(&job).await {
                Ok(()) | Err(ExecError::UnknownCluster(_)) => {}
                Err(e) => return Err(e.into()),
            }
            ctx.write_status(&job, |j| {
                let ok = !j.complete();
                if ok {
                    j.status.completion_time = Some(now);
                }
                ok
            })
            .await?;
            Ok(Action::await_change())
        }
    }
}

/// Starts a triggered job's run and marks it pending.
async fn start(
    job: &ProwJob,
    cfg: &prow_config::Config,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let build_id = ctx.build_ids.next(&job.spec.job).await?;
    let mut starting = job.clone();
    starting.status.build_id = build_id.clone();
    match ctx.executor.start(&starting, &build_id).await {
        Ok(run) => {
            let build_id = run.build_id.clone().unwrap_or(build_id);
            starting.status.build_id = build_id.clone();
            let url = ctx.url(cfg, &starting);
            let pod_name = if run.name.is_empty() {
                job.name().to_owned()
            } else {
                run.name
            };
            let now = ctx.now();
            ctx.write_status(job, |j| {
                let ok = j.status.state == ProwJobState::Triggered;
                if ok {
                    plank::mark_pending(&mut j.status, &build_id, &pod_name, url.clone(), now);
                }
                ok
            })
            .await?;
            Ok(Action::requeue(ctx.options.pending_poll))
        }
        Err(e) => start_failed(job, e, ctx).await,
    }
}

/// A refused start ends the job in `error` (Prow: 4xx on pod creation, unknown cluster); a
/// transient failure is retried.
async fn start_failed(
    job: &ProwJob,
    e: ExecError,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let description = match &e {
        ExecError::Invalid(msg) => plank::desc_cannot_create(msg),
        ExecError::UnknownCluster(_) => plank::desc_terminal(&e.to_string()),
        ExecError::Backend(_) => return Err(e.into()),
    };
    tracing::warn!(job.name = job.name(), error = %e, "run can not be created");
    let now = ctx.now();
    ctx.write_status(job, |j| {
        let ok = !j.complete();
        if ok {
            plank::finish_status(&mut j.status, ProwJobState::Error, &description, now);
        }
        ok
    })
    .await?;
    Ok(Action::await_change())
}

/// Keeps the cache in sync with the store and queues changed jobs until `shutdown`.
async fn reflect(ctx: Arc<Context>, shutdown: CancellationToken) {
    let queue = ctx.queue.clone();
    let params = ListParams::all();
    'relist: while !shutdown.is_cancelled() {
        let list = match ctx.store.list(&params).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "listing prowjobs failed");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue 'relist,
                    () = shutdown.cancelled() => return,
                }
            }
        };
        let names: Vec<String> = list
            .items
            .iter()
            .filter(|j| plank::handles(j))
            .map(|j| j.name().to_owned())
            .collect();
        ctx.cache.replace_all(list.items);
        for n in &names {
            queue.add(n);
        }
        let mut stream = match ctx.store.watch(&params, &list.resource_version).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "watch failed; relisting");
                continue 'relist;
            }
        };
        loop {
            let ev = tokio::select! {
                ev = stream.next() => ev,
                () = shutdown.cancelled() => return,
            };
            match ev {
                None => continue 'relist,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "watch error; relisting");
                    continue 'relist;
                }
                Some(Ok(WatchEvent::Deleted(j))) => {
                    ctx.cache.remove(j.name());
                    ctx.slot_freed();
                }
                Some(Ok(WatchEvent::Added(j) | WatchEvent::Modified(j))) => {
                    let name = j.name().to_owned();
                    let handled = plank::handles(&j);
                    let frees = !counts_for_limits(&j);
                    ctx.cache.upsert(j);
                    if handled {
                        queue.add(&name);
                    }
                    if frees {
                        ctx.slot_freed();
                    }
                }
            }
        }
    }
}

/// Runs the controller until `shutdown`: the reflector, `options.workers` workers and the
/// metrics loop.
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    let queue = ctx.queue.clone();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(reflect(ctx.clone(), shutdown.clone()));
    for _ in 0..ctx.options.workers.max(1) {
        let (ctx, queue, shutdown) = (ctx.clone(), queue.clone(), shutdown.clone());
        tasks.spawn(async move {
            while let Some(name) = queue.next(&shutdown).await {
                let action = match reconcile(&name, &ctx).await {
                    Ok(a) => a,
                    Err(e) => error_policy(&name, &e, &ctx),
                };
                queue.done(&name);
                if let Action::Requeue(d) = action {
                    queue.add_after(name, d, shutdown.clone());
                }
            }
        });
    }
    if ctx.metrics.is_some() {
        let (ctx, shutdown) = (ctx.clone(), shutdown.clone());
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(ctx.options.metrics_period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = shutdown.cancelled() => return,
                }
                if let Some(m) = &ctx.metrics {
                    let jobs = ctx.cache.all();
                    m.gather(jobs.iter().filter(|j| {
                        matches!(
                            j.spec.agent,
                            None | Some(prow_api::ProwJobAgent::Kubernetes)
                        )
                    }));
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// A presubmit like hook creates (see [`prow_jobstore::bench::sample_job`]) with a distinct
/// pull request per `i`, so no two are duplicates of each other.
pub fn bench_job(i: usize) -> ProwJob {
    let mut job = prow_jobstore::bench::sample_job(i);
    let pull = i as u64 + 1;
    if let Some(p) = job.spec.refs.as_mut().and_then(|r| r.pulls.first_mut()) {
        p.number = pull;
    }
    if let Some(l) = job.metadata.labels.as_mut() {
        l.insert(prow_api::labels::PULL.to_owned(), pull.to_string());
    }
    job
}

/// Creates `n` triggered jobs, then runs a controller (default options, snowflake build IDs, no
/// limits) and measures the wall time until all `n` are `pending`. Returns that time and `n`.
pub async fn bench_triggered_to_pending(
    store: Arc<dyn JobStore>,
    executor: Arc<dyn Executor>,
    n: usize,
) -> Result<(Duration, usize), StoreError> {
    for i in 0..n {
        store.create(bench_job(i)).await?;
    }
    let ctx = Arc::new(Context::new(
        store,
        executor,
        Arc::new(crate::buildid::Snowflake::default()),
        fixed_config(prow_config::Config::default()),
    ));
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let runner = tokio::spawn(run(ctx.clone(), shutdown.clone()));
    // The cache is written through on every status write, so it is the cheapest place to look.
    while ctx.cache.count_state(ProwJobState::Pending) < n {
        if runner.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    let _ = runner.await;
    Ok((elapsed, ctx.cache.count_state(ProwJobState::Pending)))
}
