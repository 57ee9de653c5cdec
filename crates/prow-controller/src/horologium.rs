//! horologium (Prow's `cmd/horologium`): creates periodic ProwJobs.
//!
//! Every `horologium.tick_interval` (1m), for each periodic, with `latest` its newest run by
//! `startTime`:
//! * `interval` jobs run when there is no run yet, or the latest is complete and
//!   `now - startTime > interval` (`minimum_interval`: `now - completionTime > minimum_interval`);
//! * `cron` jobs run when the schedule fired since the last tick and the latest run is complete
//!   (or there is none); `@every <d>` fires right after the job appears and then every `d`;
//! * `retry`: a complete, not successful latest run (with `run_all`: any latest run) older than
//!   the retry interval gets another attempt labelled `prow.k8s.io/re-run=<n>`, up to
//!   `attempts` (at most 10).
//!
//! [`due`] is the pure decision, [`CronTracker`] the pure replacement of Prow's background cron
//! agent, [`sync`] one tick against a [`JobStore`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobState, ProwJobType};
use prow_config::Periodic;
use prow_config::cron::Schedule;
use prow_jobstore::{JobStore, ListParams, StoreError};
use tokio_util::sync::CancellationToken;

/// Hard cap on retry attempts (Prow's `maxRetries`).
pub const MAX_RETRIES: u32 = 10;

/// What horologium should do for one periodic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing this tick.
    Not,
    /// Create a run.
    Run,
    /// Create a retry run with `prow.k8s.io/re-run=<attempt>`.
    Retry {
        /// The attempt number.
        attempt: u32,
    },
}

fn since(now: DateTime<Utc>, t: Option<DateTime<Utc>>) -> Duration {
    t.map_or(Duration::MAX, |t| {
        (now - t).to_std().unwrap_or(Duration::ZERO)
    })
}

fn go_duration(s: &str) -> Duration {
    prow_api::Duration::parse_go(s).map_or(Duration::ZERO, Into::into)
}

/// The periodic's `interval` or `minimum_interval` (validation stores it parsed; raw strings
/// are parsed here for configs that skipped validation).
fn interval_of(p: &Periodic) -> Duration {
    if let Some(d) = p.interval_duration {
        return d.into();
    }
    let raw = if p.minimum_interval.is_empty() {
        &p.interval
    } else {
        &p.minimum_interval
    };
    go_duration(raw)
}

/// Whether `periodic` should run now. `latest` is its newest run (by `startTime`);
/// `cron_fired` says whether its cron schedule fired since the previous tick (see
/// [`CronTracker`]).
pub fn due(p: &Periodic, latest: Option<&ProwJob>, cron_fired: bool, now: DateTime<Utc>) -> Due {
    let complete = latest.is_some_and(ProwJob::complete);
    let should = if p.cron.is_empty() {
        match latest {
            Some(j) if complete => {
                let reference = if p.minimum_interval.is_empty() {
                    j.status.start_time
                } else {
                    j.status.completion_time
                };
                since(now, reference) > interval_of(p)
            }
            _ => false,
        }
    } else if cron_fired {
        complete
    } else {
        // Cron jobs only ever run when their schedule fires.
        return Due::Not;
    };
    if latest.is_none() || should {
        return Due::Run;
    }
    latest.map_or(Due::Not, |j| retry_due(p, j, now))
}

/// Prow's `shouldTriggerFailedRun`.
fn retry_due(p: &Periodic, j: &ProwJob, now: DateTime<Utc>) -> Due {
    let Some(retry) = &p.retry else {
        return Due::Not;
    };
    if !j.complete() && !retry.run_all {
        return Due::Not;
    }
    let attempt = match j.label(prow_api::labels::RE_RUN) {
        None => 1,
        Some(v) => match v.parse::<u32>() {
            Ok(n) => n.saturating_add(1),
            Err(_) => return Due::Not,
        },
    };
    let max = u32::try_from(retry.attempts.max(0))
        .unwrap_or(u32::MAX)
        .min(MAX_RETRIES);
    if attempt > max {
        return Due::Not;
    }
    if since(now, j.status.start_time) <= go_duration(&retry.interval) {
        return Due::Not;
    }
    if !retry.run_all && j.status.state == ProwJobState::Success {
        return Due::Not;
    }
    Due::Retry { attempt }
}

struct CronEntry {
    expr: String,
    schedule: Option<Schedule>,
    /// Occurrences after this instant have not been seen yet.
    checked: DateTime<Utc>,
    /// For `@every`: the next firing.
    next_every: Option<DateTime<Utc>>,
    triggered: bool,
}

/// Tracks which cron periodics fired between ticks (Prow's `pkg/cron`, without a background
/// thread): [`CronTracker::sync`] adds, replaces and removes entries as the config changes, and
/// [`CronTracker::fired`] reports and clears the jobs whose schedule fired up to `now`.
#[derive(Default)]
pub struct CronTracker {
    jobs: HashMap<String, CronEntry>,
}

impl std::fmt::Debug for CronTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CronTracker")
            .field("jobs", &self.jobs.len())
            .finish()
    }
}

impl CronTracker {
    /// Brings the tracked set in line with `periodics` at `now`.
    pub fn sync(&mut self, periodics: &[Periodic], now: DateTime<Utc>) {
        let mut seen = HashSet::new();
        for p in periodics.iter().filter(|p| !p.cron.is_empty()) {
            seen.insert(p.base.name.clone());
            if self
                .jobs
                .get(&p.base.name)
                .is_some_and(|e| e.expr == p.cron)
            {
                continue;
            }
            let schedule = match prow_config::cron::parse(&p.cron) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!(job = %p.base.name, cron = %p.cron, error = %e, "bad cron");
                    None
                }
            };
            let next_every = match &schedule {
                Some(Schedule::Every(d)) => chrono::Duration::from_std((*d).into())
                    .ok()
                    .map(|d| now + d),
                _ => None,
            };
            self.jobs.insert(
                p.base.name.clone(),
                CronEntry {
                    expr: p.cron.clone(),
                    schedule,
                    checked: now,
                    next_every,
                    // Like Prow, `@every` jobs fire as soon as they are added.
                    triggered: p.cron.trim_start().starts_with("@every"),
                },
            );
        }
        self.jobs.retain(|name, _| seen.contains(name));
    }

    /// The jobs whose schedule fired since the previous call (or since they were added), up to
    /// `now`; their flags are cleared.
    pub fn fired(&mut self, now: DateTime<Utc>) -> HashSet<String> {
        let mut out = HashSet::new();
        for (name, e) in &mut self.jobs {
            match &e.schedule {
                Some(Schedule::Every(d)) => {
                    let step =
                        chrono::Duration::from_std((*d).into()).unwrap_or(chrono::Duration::MAX);
                    while let Some(next) = e.next_every
                        && next <= now
                    {
                        e.triggered = true;
                        e.next_every = next.checked_add_signed(step);
                    }
                }
                Some(Schedule::Cron(c)) => {
                    if let Ok(next) = c.find_next_occurrence(&e.checked, false)
                        && next <= now
                    {
                        e.triggered = true;
                    }
                }
                None => {}
            }
            e.checked = e.checked.max(now);
            if std::mem::take(&mut e.triggered) {
                out.insert(name.clone());
            }
        }
        out
    }
}

/// Newest job per name of the given type, by `startTime` (Prow's `GetLatestProwJobs`).
pub fn latest_jobs(jobs: &[ProwJob], kind: ProwJobType) -> HashMap<String, &ProwJob> {
    let mut latest: HashMap<String, &ProwJob> = HashMap::new();
    for j in jobs.iter().filter(|j| j.spec.job_type == Some(kind)) {
        let newer = latest
            .get(&j.spec.job)
            .is_none_or(|cur| j.status.start_time > cur.status.start_time);
        if newer {
            latest.insert(j.spec.job.clone(), j);
        }
    }
    latest
}

/// One horologium tick: lists jobs, decides, creates the due runs. Returns the names created.
pub async fn sync(
    store: &dyn JobStore,
    cfg: &prow_config::Config,
    tracker: &mut CronTracker,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Vec<String>, StoreError> {
    let list = store.list(&ListParams::all()).await?;
    let latest = latest_jobs(&list.items, ProwJobType::Periodic);
    tracker.sync(&cfg.jobs.periodics, now);
    let fired = tracker.fired(now);
    let scheduling = cfg
        .prow
        .scheduler
        .as_ref()
        .and_then(|v| v.get("enabled"))
        .and_then(serde_json::Value::as_bool)
        == Some(true);
    let mut created = Vec::new();
    let mut errors = Vec::new();
    for p in &cfg.jobs.periodics {
        let decision = due(
            p,
            latest.get(&p.base.name).copied(),
            fired.contains(&p.base.name),
            now,
        );
        let extra: BTreeMap<String, String> = match decision {
            Due::Not => continue,
            Due::Run => BTreeMap::new(),
            Due::Retry { attempt } => {
                BTreeMap::from([(prow_api::labels::RE_RUN.to_owned(), attempt.to_string())])
            }
        };
        let mut pj = prow_config::pjutil::new_periodic(p, now);
        if let Some(l) = pj.metadata.labels.as_mut() {
            l.extend(extra);
        }
        pj.metadata.namespace = Some(cfg.prow.prowjob_namespace.clone()).filter(|n| !n.is_empty());
        if scheduling {
            // Prow's `RequireScheduling`: the scheduler assigns a cluster before plank runs it.
            pj.status.state = ProwJobState::Scheduling;
        }
        tracing::info!(job = %p.base.name, name = pj.name(), ?decision, "triggering new run");
        if dry_run {
            created.push(pj.name().to_owned());
            continue;
        }
        match store.create(pj).await {
            Ok(j) => created.push(j.name().to_owned()),
            Err(e) => errors.push(format!("{}: {e}", p.base.name)),
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Backend(format!(
            "failed to create {} prowjobs: {}",
            errors.len(),
            errors.join("; ")
        )));
    }
    Ok(created)
}

/// Runs [`sync`] every `horologium.tick_interval` until `shutdown`.
pub async fn run(
    store: Arc<dyn JobStore>,
    config: crate::controller::ConfigGetter,
    dry_run: bool,
    shutdown: CancellationToken,
) {
    let mut tracker = CronTracker::default();
    loop {
        let cfg = config();
        let started = std::time::Instant::now();
        match sync(store.as_ref(), &cfg, &mut tracker, Utc::now(), dry_run).await {
            Ok(created) => tracing::info!(
                created = created.len(),
                duration = ?started.elapsed(),
                "synced periodic jobs"
            ),
            Err(e) => tracing::error!(error = %e, "error syncing periodic jobs"),
        }
        let tick: Duration = cfg
            .prow
            .horologium
            .tick_interval
            .map_or(Duration::from_secs(60), Into::into);
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_config::Retry;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn periodic(name: &str, interval: &str, min: &str, cron: &str) -> Periodic {
        let mut p = Periodic::default();
        p.base.name = name.into();
        p.interval = interval.into();
        p.minimum_interval = min.into();
        p.cron = cron.into();
        p
    }

    fn run(start: &str, done: Option<&str>, state: ProwJobState) -> ProwJob {
        let mut j = ProwJob::default();
        j.metadata.name = Some(format!("run-{start}"));
        j.spec.job = "p".into();
        j.spec.job_type = Some(ProwJobType::Periodic);
        j.status.start_time = Some(t(start));
        j.status.completion_time = done.map(t);
        j.status.state = state;
        j
    }

    #[test]
    fn due_table() {
        use ProwJobState::*;
        let now = t("2026-01-01T12:00:00Z");
        let every_hour = periodic("p", "1h", "", "");
        let min_hour = periodic("p", "", "1h", "");
        let cron = periodic("p", "", "", "0 * * * *");
        let done_old = run(
            "2026-01-01T10:30:00Z",
            Some("2026-01-01T11:30:00Z"),
            Success,
        );
        let done_recent = run(
            "2026-01-01T11:30:00Z",
            Some("2026-01-01T11:40:00Z"),
            Success,
        );
        let running_old = run("2026-01-01T09:00:00Z", None, Pending);
        let min_elapsed = run(
            "2026-01-01T09:00:00Z",
            Some("2026-01-01T10:59:00Z"),
            Failure,
        );
        let cases: Vec<(&str, &Periodic, Option<&ProwJob>, bool, Due)> = vec![
            ("interval, never ran", &every_hour, None, false, Due::Run),
            (
                "interval elapsed since start",
                &every_hour,
                Some(&done_old),
                false,
                Due::Run,
            ),
            (
                "interval not elapsed",
                &every_hour,
                Some(&done_recent),
                false,
                Due::Not,
            ),
            (
                "interval, still running",
                &every_hour,
                Some(&running_old),
                false,
                Due::Not,
            ),
            (
                "minimum_interval counts from completion",
                &min_hour,
                Some(&done_old),
                false,
                Due::Not,
            ),
            (
                "minimum_interval elapsed",
                &min_hour,
                Some(&min_elapsed),
                false,
                Due::Run,
            ),
            ("cron not fired", &cron, Some(&done_old), false, Due::Not),
            ("cron not fired, never ran", &cron, None, false, Due::Not),
            ("cron fired", &cron, Some(&done_old), true, Due::Run),
            ("cron fired, never ran", &cron, None, true, Due::Run),
            (
                "cron fired, still running",
                &cron,
                Some(&running_old),
                true,
                Due::Not,
            ),
        ];
        for (name, p, latest, fired, want) in cases {
            assert_eq!(due(p, latest, fired, now), want, "{name}");
        }
    }

    #[test]
    fn retries() {
        use ProwJobState::*;
        let now = t("2026-01-01T12:00:00Z");
        let mut p = periodic("p", "24h", "", "");
        p.retry = Some(Retry {
            run_all: false,
            attempts: 3,
            interval: "10m".into(),
        });
        let failed = run(
            "2026-01-01T11:00:00Z",
            Some("2026-01-01T11:10:00Z"),
            Failure,
        );
        assert_eq!(
            due(&p, Some(&failed), false, now),
            Due::Retry { attempt: 1 }
        );
        let mut second = failed.clone();
        second
            .metadata
            .labels
            .get_or_insert_default()
            .insert(prow_api::labels::RE_RUN.into(), "2".into());
        assert_eq!(
            due(&p, Some(&second), false, now),
            Due::Retry { attempt: 3 }
        );
        second
            .metadata
            .labels
            .get_or_insert_default()
            .insert(prow_api::labels::RE_RUN.into(), "3".into());
        assert_eq!(
            due(&p, Some(&second), false, now),
            Due::Not,
            "attempts used up"
        );
        let ok = run(
            "2026-01-01T11:00:00Z",
            Some("2026-01-01T11:10:00Z"),
            Success,
        );
        assert_eq!(
            due(&p, Some(&ok), false, now),
            Due::Not,
            "success is not retried"
        );
        let recent = run(
            "2026-01-01T11:55:00Z",
            Some("2026-01-01T11:56:00Z"),
            Failure,
        );
        assert_eq!(
            due(&p, Some(&recent), false, now),
            Due::Not,
            "retry interval not passed"
        );
        let running = run("2026-01-01T11:00:00Z", None, Pending);
        assert_eq!(due(&p, Some(&running), false, now), Due::Not);
        if let Some(r) = p.retry.as_mut() {
            r.run_all = true;
            r.attempts = 50;
        }
        assert_eq!(due(&p, Some(&ok), false, now), Due::Retry { attempt: 1 });
        assert_eq!(
            due(&p, Some(&running), false, now),
            Due::Retry { attempt: 1 }
        );
        let mut tenth = ok.clone();
        tenth
            .metadata
            .labels
            .get_or_insert_default()
            .insert(prow_api::labels::RE_RUN.into(), "10".into());
        assert_eq!(
            due(&p, Some(&tenth), false, now),
            Due::Not,
            "hard cap of 10"
        );
    }

    #[test]
    fn cron_tracker() {
        let mut tr = CronTracker::default();
        let hourly = periodic("hourly", "", "", "0 * * * *");
        let every = periodic("every", "", "", "@every 30m");
        let start = t("2026-01-01T10:10:00Z");
        tr.sync(&[hourly.clone(), every.clone()], start);
        let names = |s: HashSet<String>| {
            let mut v: Vec<String> = s.into_iter().collect();
            v.sort();
            v
        };
        assert_eq!(names(tr.fired(start)), vec!["every"], "@every fires on add");
        assert!(tr.fired(t("2026-01-01T10:30:00Z")).is_empty());
        assert_eq!(names(tr.fired(t("2026-01-01T10:40:00Z"))), vec!["every"]);
        assert_eq!(names(tr.fired(t("2026-01-01T11:00:30Z"))), vec!["hourly"]);
        assert!(tr.fired(t("2026-01-01T11:05:00Z")).is_empty());
        // Several firings between ticks count once.
        assert_eq!(
            names(tr.fired(t("2026-01-01T14:00:00Z"))),
            vec!["every", "hourly"]
        );
        // A changed schedule is re-added; a removed job is dropped.
        let changed = periodic("hourly", "", "", "30 * * * *");
        tr.sync(&[changed], t("2026-01-01T14:00:00Z"));
        assert_eq!(names(tr.fired(t("2026-01-01T14:31:00Z"))), vec!["hourly"]);
        tr.sync(&[], t("2026-01-01T15:00:00Z"));
        assert!(tr.fired(t("2026-01-01T16:00:00Z")).is_empty());
    }

    #[tokio::test]
    async fn sync_creates_due_runs() {
        let store = prow_jobstore::memory::MemoryStore::default();
        let mut cfg = prow_config::Config::default();
        cfg.jobs.periodics = vec![
            periodic("ci-interval", "1h", "", ""),
            periodic("ci-cron", "", "", "0 0 * * *"),
            periodic("ci-every", "", "", "@every 1h"),
        ];
        let mut tr = CronTracker::default();
        let now = t("2026-01-01T12:00:00Z");
        let mut created = sync(&store, &cfg, &mut tr, now, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        created.sort();
        assert_eq!(
            created.len(),
            2,
            "interval (never ran) and @every (fires on add)"
        );
        let list = store
            .list(&ListParams::all())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut jobs: Vec<&str> = list.items.iter().map(|j| j.spec.job.as_str()).collect();
        jobs.sort();
        assert_eq!(jobs, vec!["ci-every", "ci-interval"]);
        for j in &list.items {
            assert_eq!(j.status.state, ProwJobState::Triggered);
            assert_eq!(j.spec.job_type, Some(ProwJobType::Periodic));
            assert_eq!(j.label(prow_api::labels::PROW_JOB_TYPE), Some("periodic"));
        }
        // Next tick: the runs are not complete, nothing new.
        let again = sync(
            &store,
            &cfg,
            &mut tr,
            now + chrono::Duration::minutes(1),
            false,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(again.is_empty(), "{again:?}");

        // With the scheduler enabled, new runs wait in `scheduling`.
        let store = prow_jobstore::memory::MemoryStore::default();
        cfg.prow.scheduler = Some(serde_json::json!({"enabled": true}));
        sync(&store, &cfg, &mut CronTracker::default(), now, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let list = store
            .list(&ListParams::all())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!list.items.is_empty());
        assert!(
            list.items
                .iter()
                .all(|j| j.status.state == ProwJobState::Scheduling)
        );
    }
}
