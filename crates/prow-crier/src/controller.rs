//! One controller per reporter: watch the job store, queue job names, and let N workers report
//! each job state once, recording it in `status.prev_report_states[<reporter>]` so it is not
//! reported again (even by a later process). Failures requeue the job with exponential backoff;
//! each reporter has its own queue, so one failing reporter never delays another.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use prow_api::ProwJob;
use prow_jobstore::{JobStore, ListParams, StoreError, WatchEvent};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::Reporter;
use crate::metrics::{CrierMetrics, RESULT_ERROR, RESULT_SUCCESS};

/// Timing knobs of the controllers.
#[derive(Debug, Clone)]
pub struct Timing {
    /// First retry delay after a failure; doubles per consecutive failure of the same job.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Limit for one report (Prow's reconcile timeout).
    pub report_timeout: Duration,
    /// Pause before re-listing after the watch failed.
    pub rewatch_delay: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(300),
            report_timeout: Duration::from_secs(30 * 60),
            rewatch_delay: Duration::from_secs(1),
        }
    }
}

impl Timing {
    /// The delay after `failures` consecutive failures (1-based).
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_max)
    }
}

#[derive(Default)]
struct QueueState {
    queue: VecDeque<String>,
    dirty: HashSet<String>,
    processing: HashSet<String>,
    failures: HashMap<String, u32>,
}

/// A deduplicating work queue keyed by job name (client-go's semantics): a key is handed to one
/// worker at a time; adds while it is processed are replayed when it is done.
#[derive(Default)]
pub(crate) struct WorkQueue {
    state: Mutex<QueueState>,
    notify: Notify,
}

impl WorkQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(&self, key: &str) {
        let mut s = self.lock();
        if !s.dirty.insert(key.to_owned()) {
            return;
        }
        if s.processing.contains(key) {
            return;
        }
        s.queue.push_back(key.to_owned());
        drop(s);
        self.notify.notify_one();
    }

    pub(crate) async fn get(&self) -> String {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                if let Some(k) = s.queue.pop_front() {
                    s.dirty.remove(&k);
                    s.processing.insert(k.clone());
                    if !s.queue.is_empty() {
                        // Wake another worker for the rest.
                        self.notify.notify_one();
                    }
                    return k;
                }
            }
            notified.await;
        }
    }

    pub(crate) fn done(&self, key: &str) {
        let mut s = self.lock();
        s.processing.remove(key);
        if s.dirty.contains(key) {
            s.queue.push_back(key.to_owned());
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Counts a failure of `key` and returns how many in a row.
    fn fail(&self, key: &str) -> u32 {
        let mut s = self.lock();
        let n = s.failures.entry(key.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    fn forget(&self, key: &str) {
        self.lock().failures.remove(key);
    }
}

/// What processing one key decided.
enum Outcome {
    /// Nothing (more) to do.
    Done,
    /// Try again later (failure, or a rate limit with a known delay).
    Retry(anyhow::Error, Option<Duration>),
}

/// One reporter's controller.
pub(crate) struct ReporterController {
    pub(crate) reporter: Arc<dyn Reporter>,
    pub(crate) store: Arc<dyn JobStore>,
    pub(crate) metrics: Arc<CrierMetrics>,
    pub(crate) enablement: Arc<crate::Enablement>,
    pub(crate) timing: Timing,
    pub(crate) workers: usize,
    pub(crate) queue: Arc<WorkQueue>,
}

fn rate_limit_delay(e: &anyhow::Error) -> Option<Duration> {
    e.chain()
        .find_map(|c| match c.downcast_ref::<prow_github::GitHubError>() {
            Some(prow_github::GitHubError::RateLimited {
                retry_after_secs: Some(s),
            }) => Some(Duration::from_secs(*s)),
            _ => None,
        })
}

impl ReporterController {
    /// Runs the watcher and the workers until `shutdown`; workers finish the job in hand.
    pub(crate) async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let name = self.reporter.name();
        tracing::info!(reporter = name, workers = self.workers, "starting reporter");
        let mut tasks = tokio::task::JoinSet::new();
        {
            let this = self.clone();
            let token = shutdown.clone();
            tasks.spawn(async move { this.watch_loop(token).await });
        }
        for _ in 0..self.workers.max(1) {
            let this = self.clone();
            let token = shutdown.clone();
            tasks.spawn(async move { this.worker(token).await });
        }
        while tasks.join_next().await.is_some() {}
        tracing::info!(reporter = name, "reporter stopped");
    }

    async fn watch_loop(&self, shutdown: CancellationToken) {
        let params = ListParams::all();
        loop {
            let res = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = self.list_and_watch(&params) => r,
            };
            match res {
                Err(e) => {
                    tracing::warn!(reporter = self.reporter.name(), error = %e, "job watch failed; re-listing")
                }
                Ok(()) => tracing::debug!(
                    reporter = self.reporter.name(),
                    "job watch ended; re-listing"
                ),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.timing.rewatch_delay) => {}
            }
        }
    }

    async fn list_and_watch(&self, params: &ListParams) -> Result<(), StoreError> {
        let list = self.store.list(params).await?;
        for j in &list.items {
            self.queue.add(j.name());
        }
        let mut stream = self.store.watch(params, &list.resource_version).await?;
        while let Some(ev) = stream.next().await {
            match ev? {
                WatchEvent::Added(j) | WatchEvent::Modified(j) => self.queue.add(j.name()),
                WatchEvent::Deleted(_) => {}
            }
        }
        Ok(())
    }

    async fn worker(&self, shutdown: CancellationToken) {
        loop {
            let key = tokio::select! {
                _ = shutdown.cancelled() => return,
                k = self.queue.get() => k,
            };
            let span = tracing::info_span!("report", reporter = self.reporter.name(), job = %key);
            let outcome = self.process(&key).instrument(span).await;
            match outcome {
                Outcome::Done => self.queue.forget(&key),
                Outcome::Retry(e, hint) => {
                    let n = self.queue.fail(&key);
                    let delay = self.timing.backoff(n).max(hint.unwrap_or_default());
                    tracing::warn!(reporter = self.reporter.name(), job = %key, error = format!("{e:#}"), retry_in = ?delay, "reporting failed");
                    let q = self.queue.clone();
                    let token = shutdown.clone();
                    let k = key.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = token.cancelled() => {}
                            _ = tokio::time::sleep(delay) => q.add(&k),
                        }
                    });
                }
            }
            self.queue.done(&key);
        }
    }

    async fn process(&self, key: &str) -> Outcome {
        let name = self.reporter.name();
        let pj = match self.store.get(key).await {
            Ok(j) => j,
            Err(StoreError::NotFound(_)) => return Outcome::Done,
            Err(e) => return Outcome::Retry(e.into(), None),
        };
        if !self.enablement.handles(&pj) || !self.reporter.should_report(&pj) {
            return Outcome::Done;
        }
        let state = pj.status.state;
        if pj
            .status
            .prev_report_states
            .get(name)
            .copied()
            .unwrap_or_default()
            == state
        {
            return Outcome::Done;
        }
        let refs = pj.spec.refs.as_ref();
        tracing::info!(
            state = %state,
            job_name = %pj.spec.job,
            repo = refs.map(|r| format!("{}/{}", r.org, r.repo)).unwrap_or_default(),
            pr = refs.and_then(|r| r.pulls.first()).map(|p| p.number),
            "reporting state"
        );
        let res = tokio::time::timeout(self.timing.report_timeout, self.reporter.report(&pj))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("report timed out")));
        if let Err(e) = res {
            self.metrics
                .results
                .with_label_values(&[name, RESULT_ERROR])
                .inc();
            let hint = rate_limit_delay(&e);
            return Outcome::Retry(e, hint);
        }
        self.metrics
            .results
            .with_label_values(&[name, RESULT_SUCCESS])
            .inc();
        if let Err(e) = record_reported(self.store.as_ref(), &pj, name).await {
            return Outcome::Retry(
                anyhow::Error::new(e).context("recording report state"),
                None,
            );
        }
        if let Some(done) = pj.status.completion_time {
            let secs = (chrono::Utc::now() - done).num_milliseconds() as f64 / 1000.0;
            self.metrics
                .latency
                .with_label_values(&[name])
                .observe(secs.max(0.0));
        }
        Outcome::Done
    }
}

/// Sets `status.prev_report_states[reporter]` to the state `reported` was in, re-reading the job
/// so concurrent writers' fields survive.
pub async fn record_reported(
    store: &dyn JobStore,
    reported: &ProwJob,
    reporter: &str,
) -> Result<ProwJob, StoreError> {
    let state = reported.status.state;
    prow_jobstore::update_status_retrying(store, reported.name(), |j| {
        j.status
            .prev_report_states
            .insert(reporter.to_owned(), state);
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let t = Timing {
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(10),
            ..Default::default()
        };
        assert_eq!(t.backoff(1), Duration::from_secs(1));
        assert_eq!(t.backoff(2), Duration::from_secs(2));
        assert_eq!(t.backoff(4), Duration::from_secs(8));
        assert_eq!(t.backoff(5), Duration::from_secs(10));
        assert_eq!(t.backoff(100), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn queue_dedups_and_replays_adds_during_processing() {
        let q = WorkQueue::default();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.get().await, "a");
        // Added while being processed: not handed out again until done.
        q.add("a");
        assert_eq!(q.get().await, "b");
        q.done("b");
        assert!(q.lock().queue.is_empty());
        q.done("a");
        assert_eq!(q.get().await, "a");
        q.done("a");
        assert!(q.lock().queue.is_empty());
    }

    #[test]
    fn rate_limit_hint_is_found_in_chain() {
        let e = anyhow::Error::new(prow_github::GitHubError::RateLimited {
            retry_after_secs: Some(42),
        })
        .context("error setting status");
        assert_eq!(rate_limit_delay(&e), Some(Duration::from_secs(42)));
        assert_eq!(rate_limit_delay(&anyhow::anyhow!("x")), None);
    }
}
