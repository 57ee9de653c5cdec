//! sinker (Prow's `cmd/sinker`): garbage collection of ProwJobs and their runs.
//!
//! Every `sinker.resync_period`:
//! * completed ProwJobs whose `startTime` is older than `max_prowjob_age` are deleted (reason
//!   `aged`), periodics too (reason `aged-periodic`) except the newest run of each periodic still
//!   in the config, which horologium needs;
//! * runs (pods) labelled `created-by-prow=true`, outside `exclude_clusters`, are deleted when
//!   their ProwJob (`prow.k8s.io/id`, else the run name) is finished and the run is older than
//!   `max_pod_age` (`aged`) or the job completed more than `terminated_pod_ttl` ago (`ttled`),
//!   or when the ProwJob does not exist (`orphaned`, runs older than 30s only).
//!
//! [`plan`] is the pure decision; [`clean`] carries a plan out and sets the metrics.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus::{Gauge, GaugeVec, Opts, Registry};
use prow_api::{ProwJob, ProwJobType};
use prow_executor::{Executor, RunInfo};
use prow_jobstore::{JobStore, ListParams, StoreError};
use tokio_util::sync::CancellationToken;

/// Reason: older than the age limit.
pub const REASON_AGED: &str = "aged";
/// Reason: an aged periodic run.
pub const REASON_AGED_PERIODIC: &str = "aged-periodic";
/// Reason: the job completed longer than `terminated_pod_ttl` ago.
pub const REASON_TTLED: &str = "ttled";
/// Reason: the run's ProwJob is gone.
pub const REASON_ORPHANED: &str = "orphaned";
/// Runs younger than this are never orphans (their ProwJob may not be visible yet).
pub const ORPHAN_GRACE: Duration = Duration::from_secs(30);

/// The `sinker` settings with Prow's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkerSettings {
    /// Loop period.
    pub resync_period: Duration,
    /// Completed ProwJobs older than this are deleted.
    pub max_prowjob_age: Duration,
    /// Runs older than this are deleted (once their job finished).
    pub max_pod_age: Duration,
    /// Runs of jobs completed longer ago than this are deleted.
    pub terminated_pod_ttl: Duration,
    /// Build clusters left alone.
    pub exclude_clusters: Vec<String>,
}

impl SinkerSettings {
    /// From the `sinker` section (unset values take Prow's defaults).
    pub fn from_config(s: &prow_config::prow::Sinker) -> Self {
        let d = |v: Option<prow_api::Duration>, def: Duration| v.map_or(def, Into::into);
        let max_pod_age = d(s.max_pod_age, Duration::from_secs(24 * 3600));
        SinkerSettings {
            resync_period: d(s.resync_period, Duration::from_secs(3600)),
            max_prowjob_age: d(s.max_prowjob_age, Duration::from_secs(168 * 3600)),
            max_pod_age,
            terminated_pod_ttl: d(s.terminated_pod_ttl, max_pod_age),
            exclude_clusters: s.exclude_clusters.clone(),
        }
    }
}

/// What to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// ProwJobs to delete, with the reason.
    pub jobs: Vec<(String, &'static str)>,
    /// Runs to delete: (cluster, run name, reason).
    pub runs: Vec<(String, String, &'static str)>,
}

fn older_than(t: Option<DateTime<Utc>>, limit: Duration, now: DateTime<Utc>) -> bool {
    t.is_some_and(|t| (now - t).to_std().is_ok_and(|age| age > limit))
}

/// Decides what to delete. `active_periodics` are the periodic names in the config.
pub fn plan(
    jobs: &[ProwJob],
    runs: &[RunInfo],
    active_periodics: &HashSet<String>,
    s: &SinkerSettings,
    now: DateTime<Utc>,
) -> Plan {
    let mut out = Plan::default();
    let mut finished: HashSet<&str> = HashSet::new();
    let latest = crate::horologium::latest_jobs(jobs, ProwJobType::Periodic);
    for j in jobs.iter().filter(|j| j.complete()) {
        finished.insert(j.name());
        let periodic = j.spec.job_type == Some(ProwJobType::Periodic);
        if periodic
            && active_periodics.contains(&j.spec.job)
            && latest
                .get(&j.spec.job)
                .is_some_and(|l| l.name() == j.name())
        {
            continue;
        }
        if older_than(j.status.start_time, s.max_prowjob_age, now) {
            let reason = if periodic {
                REASON_AGED_PERIODIC
            } else {
                REASON_AGED
            };
            out.jobs.push((j.name().to_owned(), reason));
        }
    }
    let deleted: HashSet<&str> = out.jobs.iter().map(|(n, _)| n.as_str()).collect();
    let by_name: HashMap<&str, &ProwJob> = jobs.iter().map(|j| (j.name(), j)).collect();
    for r in runs {
        if s.exclude_clusters.contains(&r.cluster)
            || r.labels
                .get(prow_api::labels::CREATED_BY_PROW)
                .map(String::as_str)
                != Some("true")
        {
            continue;
        }
        let job_name = r
            .labels
            .get(prow_api::labels::PROW_JOB_ID)
            .map_or(r.name.as_str(), String::as_str);
        let job = by_name
            .get(job_name)
            .filter(|_| !deleted.contains(job_name));
        let reason = match job {
            None if older_than(r.created, ORPHAN_GRACE, now) => Some(REASON_ORPHANED),
            None => None,
            Some(_) if !finished.contains(job_name) => None,
            Some(j) => {
                if older_than(r.created, s.max_pod_age, now) {
                    Some(REASON_AGED)
                } else if older_than(j.status.completion_time, s.terminated_pod_ttl, now) {
                    Some(REASON_TTLED)
                } else {
                    None
                }
            }
        };
        if let Some(reason) = reason {
            out.runs.push((r.cluster.clone(), r.name.clone(), reason));
        }
    }
    out
}

/// sinker's gauges, with Prow's names.
pub struct SinkerMetrics {
    pods_existing: Gauge,
    loop_duration: Gauge,
    pods_removed: GaugeVec,
    pod_removal_errors: GaugeVec,
    prow_jobs_existing: Gauge,
    prow_jobs_cleaned: GaugeVec,
    prow_jobs_cleaning_errors: GaugeVec,
}

impl std::fmt::Debug for SinkerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkerMetrics").finish_non_exhaustive()
    }
}

impl SinkerMetrics {
    /// Creates and registers the gauges.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let g = |name: &str, help: &str| Gauge::new(name, help);
        let v = |name: &str, help: &str| GaugeVec::new(Opts::new(name, help), &["reason"]);
        let m = SinkerMetrics {
            pods_existing: g(
                "sinker_pods_existing",
                "Number of the existing pods in each sinker cleaning.",
            )?,
            loop_duration: g(
                "sinker_loop_duration_seconds",
                "Time used in each sinker cleaning.",
            )?,
            pods_removed: v(
                "sinker_pods_removed",
                "Number of pods removed in each sinker cleaning.",
            )?,
            pod_removal_errors: v(
                "sinker_pod_removal_errors",
                "Number of errors which occurred in each sinker pod cleaning.",
            )?,
            prow_jobs_existing: g(
                "sinker_prow_jobs_existing",
                "Number of the existing prow jobs in each sinker cleaning.",
            )?,
            prow_jobs_cleaned: v(
                "sinker_prow_jobs_cleaned",
                "Number of prow jobs cleaned in each sinker cleaning.",
            )?,
            prow_jobs_cleaning_errors: v(
                "sinker_prow_jobs_cleaning_errors",
                "Number of errors which occurred in each sinker prow job cleaning.",
            )?,
        };
        registry.register(Box::new(m.pods_existing.clone()))?;
        registry.register(Box::new(m.loop_duration.clone()))?;
        registry.register(Box::new(m.pods_removed.clone()))?;
        registry.register(Box::new(m.pod_removal_errors.clone()))?;
        registry.register(Box::new(m.prow_jobs_existing.clone()))?;
        registry.register(Box::new(m.prow_jobs_cleaned.clone()))?;
        registry.register(Box::new(m.prow_jobs_cleaning_errors.clone()))?;
        Ok(m)
    }
}

/// What one cleaning did (counts per reason).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanReport {
    /// ProwJobs seen.
    pub jobs_existing: usize,
    /// Runs seen.
    pub runs_existing: usize,
    /// ProwJobs deleted per reason.
    pub jobs_cleaned: BTreeMap<String, usize>,
    /// ProwJob deletion errors per error kind.
    pub job_errors: BTreeMap<String, usize>,
    /// Runs deleted per reason.
    pub runs_removed: BTreeMap<String, usize>,
    /// Run deletion errors per error kind.
    pub run_errors: BTreeMap<String, usize>,
}

fn store_reason(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound(_) => "NotFound",
        StoreError::Conflict(_) => "Conflict",
        StoreError::AlreadyExists(_) => "AlreadyExists",
        StoreError::Gone(_) => "Gone",
        StoreError::Invalid(_) => "Invalid",
        StoreError::Backend(_) => "Unknown",
    }
}

/// One cleaning: list, [`plan`], delete (only log in `dry_run`), set `metrics`.
pub async fn clean(
    store: &dyn JobStore,
    executor: &dyn Executor,
    cfg: &prow_config::Config,
    metrics: Option<&SinkerMetrics>,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<CleanReport, StoreError> {
    let started = std::time::Instant::now();
    let jobs = store.list(&ListParams::all()).await?.items;
    let runs = match executor.list_runs().await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "error listing runs");
            Vec::new()
        }
    };
    let settings = SinkerSettings::from_config(&cfg.prow.sinker);
    let active: HashSet<String> = cfg
        .jobs
        .periodics
        .iter()
        .map(|p| p.base.name.clone())
        .collect();
    let p = plan(&jobs, &runs, &active, &settings, now);
    let mut report = CleanReport {
        jobs_existing: jobs.len(),
        runs_existing: runs.len(),
        ..Default::default()
    };
    for (name, reason) in &p.jobs {
        let res = if dry_run {
            Ok(())
        } else {
            store.delete(name).await
        };
        match res {
            Ok(()) => {
                tracing::info!(job.name = %name, reason, "deleted prowjob");
                *report.jobs_cleaned.entry((*reason).to_owned()).or_default() += 1;
            }
            Err(e) => {
                tracing::error!(job.name = %name, error = %e, "error deleting prowjob");
                *report
                    .job_errors
                    .entry(store_reason(&e).to_owned())
                    .or_default() += 1;
            }
        }
    }
    for (cluster, name, reason) in &p.runs {
        let res = if dry_run {
            Ok(())
        } else {
            executor.delete_run(cluster, name).await
        };
        match res {
            Ok(()) => {
                tracing::info!(cluster = %cluster, pod = %name, reason, "deleted old completed pod");
                *report.runs_removed.entry((*reason).to_owned()).or_default() += 1;
            }
            Err(e) => {
                tracing::error!(cluster = %cluster, pod = %name, error = %e, "error deleting pod");
                let kind = match e {
                    prow_executor::ExecError::UnknownCluster(_) => "NotFound",
                    prow_executor::ExecError::Invalid(_) => "Invalid",
                    prow_executor::ExecError::Backend(_) => "Unknown",
                };
                *report.run_errors.entry(kind.to_owned()).or_default() += 1;
            }
        }
    }
    if let Some(m) = metrics {
        m.pods_existing.set(report.runs_existing as f64);
        m.prow_jobs_existing.set(report.jobs_existing as f64);
        m.loop_duration.set(started.elapsed().as_secs_f64());
        for (map, vec) in [
            (&report.runs_removed, &m.pods_removed),
            (&report.run_errors, &m.pod_removal_errors),
            (&report.jobs_cleaned, &m.prow_jobs_cleaned),
            (&report.job_errors, &m.prow_jobs_cleaning_errors),
        ] {
            for (k, n) in map {
                vec.with_label_values(&[k.as_str()]).set(*n as f64);
            }
        }
    }
    Ok(report)
}

/// Runs [`clean`] every `sinker.resync_period` until `shutdown` (once with `run_once`).
pub async fn run(
    store: Arc<dyn JobStore>,
    executor: Arc<dyn Executor>,
    config: crate::controller::ConfigGetter,
    metrics: Option<Arc<SinkerMetrics>>,
    dry_run: bool,
    run_once: bool,
    shutdown: CancellationToken,
) {
    loop {
        let cfg = config();
        match clean(
            store.as_ref(),
            executor.as_ref(),
            &cfg,
            metrics.as_deref(),
            Utc::now(),
            dry_run,
        )
        .await
        {
            Ok(r) => tracing::info!(?r, "sinker reconciliation complete"),
            Err(e) => tracing::error!(error = %e, "error listing prow jobs"),
        }
        if run_once {
            return;
        }
        let period = SinkerSettings::from_config(&cfg.prow.sinker).resync_period;
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::ProwJobState;
    use prow_executor::RunPhase;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn hours_ago(h: i64) -> Option<DateTime<Utc>> {
        Some(now() - chrono::Duration::hours(h))
    }

    fn pj(name: &str, t: ProwJobType, job: &str, start_h: i64, done_h: Option<i64>) -> ProwJob {
        let mut j = ProwJob::default();
        j.metadata.name = Some(name.into());
        j.spec.job_type = Some(t);
        j.spec.job = job.into();
        j.status.start_time = hours_ago(start_h);
        j.status.completion_time = done_h.and_then(hours_ago);
        j.status.state = if done_h.is_some() {
            ProwJobState::Success
        } else {
            ProwJobState::Pending
        };
        j
    }

    fn pod(
        name: &str,
        job: Option<&str>,
        cluster: &str,
        created: Option<DateTime<Utc>>,
    ) -> RunInfo {
        let mut labels = BTreeMap::from([(
            prow_api::labels::CREATED_BY_PROW.to_string(),
            "true".to_string(),
        )]);
        if let Some(j) = job {
            labels.insert(prow_api::labels::PROW_JOB_ID.into(), j.into());
        }
        RunInfo {
            name: name.into(),
            cluster: cluster.into(),
            labels,
            phase: RunPhase::Succeeded,
            created,
            finished: None,
        }
    }

    #[test]
    fn plan_table() {
        let s = SinkerSettings {
            resync_period: Duration::from_secs(60),
            max_prowjob_age: Duration::from_secs(48 * 3600),
            max_pod_age: Duration::from_secs(48 * 3600),
            terminated_pod_ttl: Duration::from_secs(1800),
            exclude_clusters: vec!["excluded".into()],
        };
        use ProwJobType::*;
        let jobs = vec![
            pj("old-pre", Presubmit, "pull-a", 50, Some(49)),
            pj("new-pre", Presubmit, "pull-a", 10, Some(9)),
            pj("old-running", Presubmit, "pull-a", 60, None),
            pj("per-old", Periodic, "ci-p", 100, Some(99)),
            pj("per-latest-old", Periodic, "ci-p", 90, Some(89)),
            pj("gone-per-1", Periodic, "ci-removed", 100, Some(99)),
            pj("gone-per-2", Periodic, "ci-removed", 90, Some(89)),
            pj("recent-done", Postsubmit, "post", 2, Some(1)),
            pj("just-done", Postsubmit, "post", 1, Some(0)),
        ];
        let mut just = pod("just-done", None, "default", hours_ago(1));
        just.labels.remove(prow_api::labels::PROW_JOB_ID);
        let runs = vec![
            pod("p1", Some("recent-done"), "default", hours_ago(2)),
            just,
            pod("p3", Some("old-running"), "default", hours_ago(60)),
            pod("p4", Some("nobody"), "default", hours_ago(1)),
            pod(
                "p5",
                Some("nobody"),
                "default",
                Some(now() - chrono::Duration::seconds(10)),
            ),
            pod("p6", Some("nobody"), "excluded", hours_ago(100)),
            pod("p7", Some("new-pre"), "b2", hours_ago(49)),
            pod("p8", Some("old-pre"), "default", hours_ago(49)),
        ];
        let active = HashSet::from(["ci-p".to_string()]);
        let got = plan(&jobs, &runs, &active, &s, now());
        assert_eq!(
            got.jobs,
            vec![
                ("old-pre".to_string(), "aged"),
                ("per-old".to_string(), "aged-periodic"),
                ("gone-per-1".to_string(), "aged-periodic"),
                ("gone-per-2".to_string(), "aged-periodic"),
            ]
        );
        let d = |c: &str, n: &str, r: &'static str| (c.to_string(), n.to_string(), r);
        assert_eq!(
            got.runs,
            vec![
                d("default", "p1", "ttled"),
                d("default", "p4", "orphaned"),
                d("b2", "p7", "aged"),
                d("default", "p8", "orphaned"),
            ]
        );
    }

    #[tokio::test]
    async fn clean_deletes_and_sets_metrics() {
        use prow_jobstore::memory::MemoryStore;
        let store = MemoryStore::default();
        let exec = crate::fake::FakeExecutor::new();
        let mut old = pj("old", ProwJobType::Presubmit, "pull-a", 300, Some(299));
        old.metadata.resource_version = None;
        store
            .create(old.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .create(pj("fresh", ProwJobType::Presubmit, "pull-a", 1, Some(0)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let cfg = prow_config::Config::default();
        let reg = Registry::new();
        let m = SinkerMetrics::new(&reg).unwrap_or_else(|e| panic!("{e}"));
        let r = clean(
            &store,
            &exec,
            &cfg,
            Some(&m),
            now() + chrono::Duration::hours(1),
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.jobs_cleaned.get("aged"), Some(&1));
        assert!(store.get("old").await.is_ok(), "dry run deletes nothing");
        let r = clean(
            &store,
            &exec,
            &cfg,
            Some(&m),
            now() + chrono::Duration::hours(1),
            false,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.jobs_existing, r.jobs_cleaned.get("aged")), (2, Some(&1)));
        assert!(store.get("old").await.is_err());
        assert!(store.get("fresh").await.is_ok());
        let text = prow_runtime::render_metrics(&reg);
        assert!(
            text.contains("sinker_prow_jobs_cleaned{reason=\"aged\"} 1"),
            "{text}"
        );
        assert!(text.contains("sinker_prow_jobs_existing 2"), "{text}");
        assert!(text.contains("sinker_loop_duration_seconds"), "{text}");
    }
}
