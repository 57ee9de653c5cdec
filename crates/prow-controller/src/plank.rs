//! plank's decisions as pure functions (Prow's `pkg/plank/reconciler.go`): given a ProwJob, what
//! its run is doing and the time, what should happen next. No I/O here; [`crate::controller`]
//! carries decisions out against a [`prow_jobstore::JobStore`] and a
//! [`prow_executor::Executor`].

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobAgent, ProwJobState, ProwJobStatus, ProwJobType, Refs};
use prow_executor::{RunPhase, RunStatus, UnexpectedStop};

/// `status.description` of a job that was just started.
pub const DESC_TRIGGERED: &str = "Job triggered.";
/// Run finished successfully.
pub const DESC_SUCCEEDED: &str = "Job succeeded.";
/// Run failed.
pub const DESC_FAILED: &str = "Job failed.";
/// Run vanished while the job was pending.
pub const DESC_DELETED: &str = "Pod got deleted unexpectedly";
/// A container was OOM-killed.
pub const DESC_OOM: &str = "Job pod was OOM killed by the cluster.";
/// Evicted with `error_on_eviction`.
pub const DESC_EVICTED: &str = "Job pod was evicted by the cluster.";
/// Not scheduled within `pod_unscheduled_timeout`.
pub const DESC_SCHEDULING_TIMEOUT: &str = "Pod scheduling timeout.";
/// Not running within `pod_pending_timeout`.
pub const DESC_PENDING_TIMEOUT: &str = "Pod pending timeout.";
/// Running longer than `pod_running_timeout`.
pub const DESC_RUNNING_TIMEOUT: &str = "Pod running timeout.";
/// Reporter name plank marks aborted duplicates with, so crier does not report them.
pub const GITHUB_REPORTER: &str = "github-reporter";
/// Requeue delay when concurrency limits block a start (Prow: 10s).
pub const BLOCKED_REQUEUE: Duration = Duration::from_secs(10);

/// `Job pod reached max revivals (N) after being stopped unexpectedly (cause)`.
pub fn desc_max_revivals(count: u32, cause: UnexpectedStop) -> String {
    format!(
        "Job pod reached max revivals ({count}) after being stopped unexpectedly ({})",
        stop_cause(cause)
    )
}

/// `Pod can not be created: <err>` (a run the backend refuses).
pub fn desc_cannot_create(err: &str) -> String {
    format!("Pod can not be created: {err}")
}

/// `Terminal error: <err>.` (unfixable, e.g. unknown build cluster).
pub fn desc_terminal(err: &str) -> String {
    format!("Terminal error: {err}.")
}

/// Prow's spelling of an unexpected stop cause.
pub fn stop_cause(cause: UnexpectedStop) -> &'static str {
    match cause {
        UnexpectedStop::Evicted => "evicted",
        UnexpectedStop::OomKilled => "oomkilled",
        UnexpectedStop::Unreachable => "unreachable",
        UnexpectedStop::Unknown => "unknown",
    }
}

/// The `plank` settings reconcile needs, with Prow's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct PlankSettings {
    /// Global limit of pending jobs (0 = unlimited).
    pub max_concurrency: i64,
    /// Named queues: 0 blocks, negative means unlimited.
    pub job_queue_capacities: BTreeMap<String, i64>,
    /// Started but not running.
    pub pod_pending_timeout: Duration,
    /// Not scheduled.
    pub pod_unscheduled_timeout: Duration,
    /// Running.
    pub pod_running_timeout: Duration,
    /// Recreations after unexpected stops.
    pub max_revivals: u32,
}

impl Default for PlankSettings {
    fn default() -> Self {
        PlankSettings {
            max_concurrency: 0,
            job_queue_capacities: BTreeMap::new(),
            pod_pending_timeout: prow_config::defaults::POD_PENDING_TIMEOUT.into(),
            pod_unscheduled_timeout: prow_config::defaults::POD_UNSCHEDULED_TIMEOUT.into(),
            pod_running_timeout: prow_config::defaults::POD_RUNNING_TIMEOUT.into(),
            max_revivals: prow_config::defaults::MAX_REVIVALS as u32,
        }
    }
}

impl PlankSettings {
    /// From the (defaulted) `plank` section; unset values take Prow's defaults.
    pub fn from_config(p: &prow_config::prow::Plank) -> Self {
        let d = PlankSettings::default();
        PlankSettings {
            max_concurrency: p.max_concurrency,
            job_queue_capacities: p.job_queue_capacities.clone(),
            pod_pending_timeout: p
                .pod_pending_timeout
                .map_or(d.pod_pending_timeout, Into::into),
            pod_unscheduled_timeout: p
                .pod_unscheduled_timeout
                .map_or(d.pod_unscheduled_timeout, Into::into),
            pod_running_timeout: p
                .pod_running_timeout
                .map_or(d.pod_running_timeout, Into::into),
            max_revivals: p.max_revivals.map_or(d.max_revivals, |n| {
                u32::try_from(n.max(0)).unwrap_or(u32::MAX)
            }),
        }
    }

    /// Timeouts for one job: the job's `decoration_config` overrides the global values.
    fn timeouts(&self, job: &ProwJob) -> (Duration, Duration, Duration) {
        let dc = job.spec.decoration_config.as_ref();
        let pick = |v: Option<prow_api::Duration>, d: Duration| v.map_or(d, Into::into);
        (
            pick(
                dc.and_then(|d| d.pod_pending_timeout),
                self.pod_pending_timeout,
            ),
            pick(
                dc.and_then(|d| d.pod_unscheduled_timeout),
                self.pod_unscheduled_timeout,
            ),
            pick(
                dc.and_then(|d| d.pod_running_timeout),
                self.pod_running_timeout,
            ),
        )
    }
}

/// What to do to the job's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAction {
    /// Leave it.
    None,
    /// Stop it (aborted jobs, timeouts).
    Abort,
}

/// The outcome of reconciling one job.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing to do until the job changes.
    AwaitChange,
    /// Nothing to do now; look again after this long (a timeout may fire then, or concurrency
    /// may allow a start).
    Requeue(Duration),
    /// Start a run (get a build ID, start, then [`mark_pending`]).
    Start,
    /// A run already exists for a triggered job (an earlier status write was lost): record it
    /// with [`mark_pending`] without starting another.
    Adopt {
        /// The run's build ID.
        build_id: String,
        /// The run's name.
        pod_name: String,
    },
    /// The run stopped unexpectedly and may be revived: delete it, start a new one with a new
    /// build ID and write [`mark_revived`].
    Revive,
    /// The job is done: apply `action` to the run, then write [`finish_status`] with these values.
    Finish {
        /// Final state.
        state: ProwJobState,
        /// `status.description`.
        description: String,
        /// What to do to the run first.
        action: RunAction,
    },
    /// The job was aborted by someone: stop the run and set `completionTime` (Prow's
    /// `syncAbortedJob`; state and description stay as the aborter wrote them).
    CompleteAborted,
}

/// Everything [`reconcile`] looks at besides the job.
#[derive(Debug, Clone)]
pub struct ReconcileCtx<'a> {
    /// Settings from `plank`.
    pub settings: &'a PlankSettings,
    /// The clock.
    pub now: DateTime<Utc>,
    /// Whether concurrency limits allow starting this job now (see [`can_start`]).
    pub may_start: bool,
}

/// Whether plank handles this job at all (Prow's `prowJobPredicate`): not complete, agent
/// `kubernetes` (the default), not waiting for the scheduler.
pub fn handles(job: &ProwJob) -> bool {
    !job.complete()
        && matches!(job.spec.agent, None | Some(ProwJobAgent::Kubernetes))
        && job.status.state != ProwJobState::Scheduling
}

/// Prow's `syncTriggeredJob` / `syncPendingJob` / `syncAbortedJob` decision. `run` is what the
/// executor reports for the job's run.
pub fn reconcile(job: &ProwJob, run: &RunStatus, ctx: &ReconcileCtx<'_>) -> Decision {
    if !handles(job) {
        return Decision::AwaitChange;
    }
    match job.status.state {
        ProwJobState::Triggered => triggered(run, ctx),
        ProwJobState::Pending => pending(job, run, ctx),
        ProwJobState::Aborted => Decision::CompleteAborted,
        _ => Decision::AwaitChange,
    }
}

fn triggered(run: &RunStatus, ctx: &ReconcileCtx<'_>) -> Decision {
    if run.phase != RunPhase::Missing {
        return Decision::Adopt {
            build_id: run.build_id.clone().unwrap_or_default(),
            pod_name: run.name.clone(),
        };
    }
    if ctx.may_start {
        Decision::Start
    } else {
        Decision::Requeue(BLOCKED_REQUEUE)
    }
}

fn finish(state: ProwJobState, description: impl Into<String>, action: RunAction) -> Decision {
    Decision::Finish {
        state,
        description: description.into(),
        action,
    }
}

/// Time left until `since + limit`, or `None` once it has passed.
fn remaining(since: DateTime<Utc>, limit: Duration, now: DateTime<Utc>) -> Option<Duration> {
    let elapsed = (now - since).to_std().unwrap_or(Duration::ZERO);
    limit.checked_sub(elapsed).filter(|d| !d.is_zero())
}

fn pending(job: &ProwJob, run: &RunStatus, ctx: &ReconcileCtx<'_>) -> Decision {
    let (max_pending, max_unscheduled, max_running) = ctx.settings.timeouts(job);
    // When the backend does not say, the job's own pending time is the best reference.
    let created = run.created.or(job.status.pending_time).unwrap_or(ctx.now);
    let started = run.started.unwrap_or(created);
    match &run.phase {
        RunPhase::Missing => finish(ProwJobState::Error, DESC_DELETED, RunAction::None),
        RunPhase::Succeeded => finish(ProwJobState::Success, DESC_SUCCEEDED, RunAction::None),
        RunPhase::Failed => finish(ProwJobState::Failure, DESC_FAILED, RunAction::None),
        RunPhase::Stopped(UnexpectedStop::OomKilled) => {
            finish(ProwJobState::Error, DESC_OOM, RunAction::None)
        }
        RunPhase::Stopped(UnexpectedStop::Evicted) if job.spec.error_on_eviction => {
            finish(ProwJobState::Error, DESC_EVICTED, RunAction::None)
        }
        RunPhase::Stopped(cause) => {
            if job.status.pod_revival_count >= ctx.settings.max_revivals {
                finish(
                    ProwJobState::Error,
                    desc_max_revivals(job.status.pod_revival_count, *cause),
                    RunAction::Abort,
                )
            } else {
                Decision::Revive
            }
        }
        RunPhase::Pending { scheduled: false } => {
            match remaining(created, max_unscheduled, ctx.now) {
                Some(left) => Decision::Requeue(left),
                None => finish(
                    ProwJobState::Error,
                    DESC_SCHEDULING_TIMEOUT,
                    RunAction::Abort,
                ),
            }
        }
        RunPhase::Pending { scheduled: true } => match remaining(started, max_pending, ctx.now) {
            Some(left) => Decision::Requeue(left),
            None => finish(ProwJobState::Error, DESC_PENDING_TIMEOUT, RunAction::Abort),
        },
        RunPhase::Running => match remaining(started, max_running, ctx.now) {
            Some(left) => Decision::Requeue(left),
            None => finish(
                ProwJobState::Aborted,
                DESC_RUNNING_TIMEOUT,
                RunAction::Abort,
            ),
        },
    }
}

/// The status of a job whose run just started (or was adopted): `pending`, `pendingTime`,
/// `pod_name`, `build_id`, description `Job triggered.`, and the job URL (computed by the caller
/// once the build ID is known, see [`crate::joburl`]).
pub fn mark_pending(
    status: &mut ProwJobStatus,
    build_id: &str,
    pod_name: &str,
    url: String,
    now: DateTime<Utc>,
) {
    status.state = ProwJobState::Pending;
    status.build_id = build_id.to_owned();
    status.pod_name = pod_name.to_owned();
    status.pending_time = Some(now);
    status.description = DESC_TRIGGERED.to_owned();
    status.url = url;
}

/// The status after a revival: one more `pod_revival_count`, the new run's build ID and URL.
pub fn mark_revived(status: &mut ProwJobStatus, build_id: &str, pod_name: &str, url: String) {
    status.pod_revival_count += 1;
    status.build_id = build_id.to_owned();
    status.pod_name = pod_name.to_owned();
    status.url = url;
}

/// A final state with its description and `completionTime`.
pub fn finish_status(
    status: &mut ProwJobStatus,
    state: ProwJobState,
    description: &str,
    now: DateTime<Utc>,
) {
    status.state = state;
    status.description = description.to_owned();
    status.completion_time = Some(now);
}

/// Why a job may not start yet (for logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocked {
    /// `plank.max_concurrency` pending jobs exist.
    #[error("already {0} jobs pending (plank.max_concurrency)")]
    Global(usize),
    /// `max_concurrency` of the job reached.
    #[error("{0} instances of the job are pending or older")]
    PerJob(usize),
    /// The job queue is full (or has capacity 0).
    #[error("job queue {0:?} is full")]
    Queue(String),
    /// `job_queue_name` is not in `plank.job_queue_capacities` (Prow retries with an error).
    #[error("failed to match queue name '{0}' with Plank configuration")]
    UnknownQueue(String),
}

/// Ordering key "created earlier": creation timestamp, then start time, then name, so jobs
/// created in the same second still have a strict order.
fn age_key(job: &ProwJob) -> (i64, i64, &str) {
    let created = job
        .metadata
        .creation_timestamp
        .as_ref()
        .map_or(i64::MAX, |t| t.0.as_second());
    let started = job
        .status
        .start_time
        .map_or(i64::MAX, |t| t.timestamp_nanos_opt().unwrap_or(i64::MAX));
    (created, started, job.name())
}

/// Prow's `countPendingOrOlderTriggeredMatchingPJs`: others that are pending, or triggered and
/// older than `job`.
fn pending_or_older<'a>(job: &ProwJob, others: impl Iterator<Item = &'a ProwJob>) -> usize {
    let me = age_key(job);
    others
        .filter(|o| o.name() != job.name())
        .filter(|o| match o.status.state {
            ProwJobState::Pending => true,
            ProwJobState::Triggered => age_key(o) < me,
            _ => false,
        })
        .count()
}

/// Prow's `canExecuteConcurrently`: the global limit counts `pending_total` pending jobs; the
/// per-job and per-queue limits count the other active (triggered or pending) jobs given by
/// `same_job` and `same_queue`.
pub fn can_start<'a>(
    job: &ProwJob,
    settings: &PlankSettings,
    pending_total: usize,
    same_job: impl Iterator<Item = &'a ProwJob>,
    same_queue: impl Iterator<Item = &'a ProwJob>,
) -> Result<(), Blocked> {
    if settings.max_concurrency > 0 && pending_total as i64 >= settings.max_concurrency {
        return Err(Blocked::Global(pending_total));
    }
    if job.spec.max_concurrency > 0 {
        let n = pending_or_older(job, same_job);
        if n >= job.spec.max_concurrency as usize {
            return Err(Blocked::PerJob(n));
        }
    }
    let queue = &job.spec.job_queue_name;
    if !queue.is_empty() {
        let cap = *settings
            .job_queue_capacities
            .get(queue)
            .ok_or_else(|| Blocked::UnknownQueue(queue.clone()))?;
        if cap == 0 {
            return Err(Blocked::Queue(queue.clone()));
        }
        if cap > 0 && pending_or_older(job, same_queue) as i64 >= cap {
            return Err(Blocked::Queue(queue.clone()));
        }
    }
    Ok(())
}

/// Prow's `digestRefs`: `org/repo@base_ref [pulls sorted]`, commit SHAs left out so a newer
/// push aborts older runs.
fn digest_refs(r: &Refs) -> String {
    let mut pulls: Vec<u64> = r.pulls.iter().map(|p| p.number).collect();
    pulls.sort_unstable();
    let pulls: Vec<String> = pulls.iter().map(u64::to_string).collect();
    format!("{}/{}@{} [{}]", r.org, r.repo, r.base_ref, pulls.join(" "))
}

/// The identity under which presubmits supersede each other (same job, same refs and PRs), or
/// `None` for jobs that are never aborted as duplicates.
pub fn dupe_key(job: &ProwJob) -> Option<String> {
    if job.complete() || job.spec.job_type != Some(ProwJobType::Presubmit) {
        return None;
    }
    let mut ids = vec!["presubmit".to_owned(), job.spec.job.clone()];
    ids.extend(job.spec.refs.iter().map(digest_refs));
    ids.extend(job.spec.extra_refs.iter().map(digest_refs));
    ids.sort();
    Some(ids.join(","))
}

/// Prow's `TerminateOlderJobs`: among active presubmits with the same [`dupe_key`], every one
/// but the newest by `startTime` is to be aborted. Returns the names to abort (already aborted
/// ones are left out).
pub fn older_duplicates<'a>(jobs: impl IntoIterator<Item = &'a ProwJob>) -> Vec<String> {
    let mut newest: BTreeMap<String, &ProwJob> = BTreeMap::new();
    let mut abort = Vec::new();
    for job in jobs {
        if !matches!(
            job.status.state,
            ProwJobState::Triggered | ProwJobState::Pending
        ) {
            continue;
        }
        let Some(key) = dupe_key(job) else { continue };
        match newest.get(&key) {
            None => {
                newest.insert(key, job);
            }
            Some(prev) => {
                // Ties keep the one seen first, as Prow's strict `Before` does.
                if prev.status.start_time < job.status.start_time {
                    abort.push(prev.name().to_owned());
                    newest.insert(key, job);
                } else {
                    abort.push(job.name().to_owned());
                }
            }
        }
    }
    abort
}

/// The status change of an aborted duplicate: state `aborted` and the GitHub reporter marked as
/// having reported it, so no status is posted for the superseded run.
pub fn mark_aborted_duplicate(status: &mut ProwJobStatus) {
    status.state = ProwJobState::Aborted;
    status
        .prev_report_states
        .insert(GITHUB_REPORTER.to_owned(), ProwJobState::Aborted);
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::{DecorationConfig, Pull};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn job(state: ProwJobState) -> ProwJob {
        let mut j = ProwJob::default();
        j.metadata.name = Some("j1".into());
        j.spec.job = "pull-unit".into();
        j.spec.job_type = Some(ProwJobType::Presubmit);
        j.status.state = state;
        j.status.start_time = Some(now() - chrono::Duration::minutes(1));
        j
    }

    fn run(phase: RunPhase, age_min: i64) -> RunStatus {
        RunStatus {
            phase,
            name: "j1".into(),
            build_id: Some("42".into()),
            created: Some(now() - chrono::Duration::minutes(age_min)),
            started: Some(now() - chrono::Duration::minutes(age_min)),
            message: None,
        }
    }

    fn decide(j: &ProwJob, r: &RunStatus, may_start: bool) -> Decision {
        let settings = PlankSettings::default();
        reconcile(
            j,
            r,
            &ReconcileCtx {
                settings: &settings,
                now: now(),
                may_start,
            },
        )
    }

    fn fin(state: ProwJobState, d: &str, action: RunAction) -> Decision {
        Decision::Finish {
            state,
            description: d.into(),
            action,
        }
    }

    #[test]
    fn every_transition() {
        use ProwJobState::*;
        use RunPhase as P;
        let mut revived3 = job(Pending);
        revived3.status.pod_revival_count = 3;
        let mut evict_err = job(Pending);
        evict_err.spec.error_on_eviction = true;
        let mut completed = job(Success);
        completed.status.completion_time = Some(now());
        let mut jenkins = job(Triggered);
        jenkins.spec.agent = Some(ProwJobAgent::Jenkins);

        let m = |min: u64| Duration::from_secs(min * 60);
        let cases: Vec<(&str, ProwJob, RunStatus, bool, Decision)> = vec![
            (
                "triggered starts",
                job(Triggered),
                run(P::Missing, 0),
                true,
                Decision::Start,
            ),
            (
                "triggered blocked",
                job(Triggered),
                run(P::Missing, 0),
                false,
                Decision::Requeue(BLOCKED_REQUEUE),
            ),
            (
                "triggered adopts an existing run even when blocked",
                job(Triggered),
                run(P::Running, 0),
                false,
                Decision::Adopt {
                    build_id: "42".into(),
                    pod_name: "j1".into(),
                },
            ),
            (
                "succeeded",
                job(Pending),
                run(P::Succeeded, 1),
                true,
                fin(Success, "Job succeeded.", RunAction::None),
            ),
            (
                "failed",
                job(Pending),
                run(P::Failed, 1),
                true,
                fin(Failure, "Job failed.", RunAction::None),
            ),
            (
                "missing",
                job(Pending),
                run(P::Missing, 1),
                true,
                fin(Error, "Pod got deleted unexpectedly", RunAction::None),
            ),
            (
                "oom",
                job(Pending),
                run(P::Stopped(UnexpectedStop::OomKilled), 1),
                true,
                fin(
                    Error,
                    "Job pod was OOM killed by the cluster.",
                    RunAction::None,
                ),
            ),
            (
                "evicted with error_on_eviction",
                evict_err,
                run(P::Stopped(UnexpectedStop::Evicted), 1),
                true,
                fin(
                    Error,
                    "Job pod was evicted by the cluster.",
                    RunAction::None,
                ),
            ),
            (
                "evicted is revived",
                job(Pending),
                run(P::Stopped(UnexpectedStop::Evicted), 1),
                true,
                Decision::Revive,
            ),
            (
                "unknown is revived",
                job(Pending),
                run(P::Stopped(UnexpectedStop::Unknown), 1),
                true,
                Decision::Revive,
            ),
            (
                "max revivals",
                revived3,
                run(P::Stopped(UnexpectedStop::Unreachable), 1),
                true,
                fin(
                    Error,
                    "Job pod reached max revivals (3) after being stopped unexpectedly (unreachable)",
                    RunAction::Abort,
                ),
            ),
            (
                "unscheduled, waits for the timeout",
                job(Pending),
                run(P::Pending { scheduled: false }, 2),
                true,
                Decision::Requeue(m(3)),
            ),
            (
                "unscheduled timeout",
                job(Pending),
                run(P::Pending { scheduled: false }, 5),
                true,
                fin(Error, "Pod scheduling timeout.", RunAction::Abort),
            ),
            (
                "pending, waits",
                job(Pending),
                run(P::Pending { scheduled: true }, 9),
                true,
                Decision::Requeue(m(1)),
            ),
            (
                "pending timeout",
                job(Pending),
                run(P::Pending { scheduled: true }, 10),
                true,
                fin(Error, "Pod pending timeout.", RunAction::Abort),
            ),
            (
                "running, waits",
                job(Pending),
                run(P::Running, 60),
                true,
                Decision::Requeue(m(47 * 60)),
            ),
            (
                "running timeout is an abort",
                job(Pending),
                run(P::Running, 48 * 60),
                true,
                fin(Aborted, "Pod running timeout.", RunAction::Abort),
            ),
            (
                "aborted by someone",
                job(Aborted),
                run(P::Running, 1),
                true,
                Decision::CompleteAborted,
            ),
            (
                "complete",
                completed,
                run(P::Running, 1),
                true,
                Decision::AwaitChange,
            ),
            (
                "other agent",
                jenkins,
                run(P::Missing, 1),
                true,
                Decision::AwaitChange,
            ),
            (
                "scheduling",
                job(Scheduling),
                run(P::Missing, 1),
                true,
                Decision::AwaitChange,
            ),
        ];
        for (name, j, r, may, want) in cases {
            assert_eq!(decide(&j, &r, may), want, "{name}");
        }
    }

    #[test]
    fn per_job_timeouts_override_plank() {
        let mut j = job(ProwJobState::Pending);
        j.spec.decoration_config = Some(DecorationConfig {
            pod_pending_timeout: Some(prow_api::Duration::from_mins(1)),
            ..Default::default()
        });
        assert_eq!(
            decide(&j, &run(RunPhase::Pending { scheduled: true }, 2), true),
            fin(ProwJobState::Error, DESC_PENDING_TIMEOUT, RunAction::Abort)
        );
    }

    #[test]
    fn settings_from_config() {
        let p = prow_config::prow::Plank {
            pod_pending_timeout: Some(prow_api::Duration::from_mins(15)),
            max_revivals: Some(1),
            max_concurrency: 7,
            ..Default::default()
        };
        let s = PlankSettings::from_config(&p);
        assert_eq!(s.pod_pending_timeout, Duration::from_secs(900));
        assert_eq!(s.pod_unscheduled_timeout, Duration::from_secs(300));
        assert_eq!(s.max_revivals, 1);
        assert_eq!(s.max_concurrency, 7);
    }

    #[test]
    fn status_helpers() {
        let mut s = ProwJobStatus::default();
        mark_pending(&mut s, "7", "p", "https://x.example.com/7".into(), now());
        assert_eq!(
            (s.state, s.description.as_str(), s.build_id.as_str()),
            (ProwJobState::Pending, "Job triggered.", "7")
        );
        assert_eq!(s.pending_time, Some(now()));
        mark_revived(&mut s, "8", "p", String::new());
        assert_eq!((s.pod_revival_count, s.build_id.as_str()), (1, "8"));
        finish_status(&mut s, ProwJobState::Failure, DESC_FAILED, now());
        assert_eq!(s.completion_time, Some(now()));
    }

    fn named(name: &str, state: ProwJobState, secs: i64) -> ProwJob {
        let mut j = job(state);
        j.metadata.name = Some(name.into());
        j.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::from_second(1_700_000_000 + secs).unwrap_or_default(),
        ));
        j
    }

    #[test]
    fn concurrency_limits() {
        let s = PlankSettings {
            max_concurrency: 2,
            job_queue_capacities: [("q".to_string(), 1), ("zero".into(), 0), ("inf".into(), -1)]
                .into(),
            ..Default::default()
        };
        let me = named("me", ProwJobState::Triggered, 10);
        let none = std::iter::empty;
        assert_eq!(can_start(&me, &s, 1, none(), none()), Ok(()));
        assert_eq!(
            can_start(&me, &s, 2, none(), none()),
            Err(Blocked::Global(2))
        );

        let mut limited = me.clone();
        limited.spec.max_concurrency = 1;
        let older = named("older", ProwJobState::Triggered, 5);
        let newer = named("newer", ProwJobState::Triggered, 20);
        let pending = named("p", ProwJobState::Pending, 30);
        assert_eq!(
            can_start(&limited, &s, 0, [&newer, &me].into_iter(), none()),
            Ok(())
        );
        assert_eq!(
            can_start(&limited, &s, 0, [&older].into_iter(), none()),
            Err(Blocked::PerJob(1))
        );
        assert_eq!(
            can_start(&limited, &s, 0, [&pending].into_iter(), none()),
            Err(Blocked::PerJob(1))
        );

        let mut queued = me.clone();
        queued.spec.job_queue_name = "q".into();
        assert_eq!(
            can_start(&queued, &s, 0, none(), [&newer].into_iter()),
            Ok(())
        );
        assert_eq!(
            can_start(&queued, &s, 0, none(), [&older].into_iter()),
            Err(Blocked::Queue("q".into()))
        );
        queued.spec.job_queue_name = "zero".into();
        assert_eq!(
            can_start(&queued, &s, 0, none(), none()),
            Err(Blocked::Queue("zero".into()))
        );
        queued.spec.job_queue_name = "inf".into();
        assert_eq!(
            can_start(&queued, &s, 0, none(), [&pending, &older].into_iter()),
            Ok(())
        );
        queued.spec.job_queue_name = "nope".into();
        assert_eq!(
            can_start(&queued, &s, 0, none(), none()),
            Err(Blocked::UnknownQueue("nope".into()))
        );
    }

    fn presubmit(name: &str, pr: u64, start_min: i64, state: ProwJobState) -> ProwJob {
        let mut j = job(state);
        j.metadata.name = Some(name.into());
        j.status.start_time = Some(now() - chrono::Duration::minutes(60 - start_min));
        j.spec.refs = Some(Refs {
            org: "o".into(),
            repo: "r".into(),
            base_ref: "main".into(),
            pulls: vec![Pull {
                number: pr,
                sha: format!("sha{start_min}"),
                ..Default::default()
            }],
            ..Default::default()
        });
        j
    }

    #[test]
    fn older_presubmits_are_aborted() {
        use ProwJobState::*;
        let a = presubmit("a", 1, 1, Pending);
        let b = presubmit("b", 1, 3, Triggered);
        let c = presubmit("c", 1, 2, Pending);
        let other_pr = presubmit("d", 2, 0, Pending);
        let mut other_job = presubmit("e", 1, 0, Pending);
        other_job.spec.job = "pull-other".into();
        let mut periodic = presubmit("f", 1, 0, Pending);
        periodic.spec.job_type = Some(ProwJobType::Periodic);
        let mut done = presubmit("g", 1, 0, Success);
        done.status.completion_time = Some(now());
        let aborted = presubmit("h", 1, 0, Aborted);
        let mut got = older_duplicates([
            &a, &b, &c, &other_pr, &other_job, &periodic, &done, &aborted,
        ]);
        got.sort();
        assert_eq!(got, vec!["a".to_string(), "c".to_string()]);

        let mut s = a.status.clone();
        mark_aborted_duplicate(&mut s);
        assert_eq!(s.state, Aborted);
        assert_eq!(s.prev_report_states[GITHUB_REPORTER], Aborted);
        assert_eq!(s.completion_time, None, "the controller completes it later");
    }

    #[test]
    fn dupe_key_ignores_shas_and_pull_order() {
        let mut a = presubmit("a", 1, 1, ProwJobState::Pending);
        let b = presubmit("b", 1, 2, ProwJobState::Pending);
        assert_eq!(dupe_key(&a), dupe_key(&b));
        if let Some(r) = a.spec.refs.as_mut() {
            r.pulls.push(Pull {
                number: 0,
                ..Default::default()
            });
            r.pulls.reverse();
        }
        assert_eq!(
            dupe_key(&a).as_deref(),
            Some("o/r@main [0 1],presubmit,pull-unit")
        );
    }
}
