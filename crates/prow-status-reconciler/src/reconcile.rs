//! The I/O shell: applies a [`Delta`] to open pull requests through GitHub and the job store, and
//! the edge-driven loop that computes deltas as the config changes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prow_api::ProwJobState;
use prow_config::pjutil::{PullRequestRefs, new_presubmit};
use prow_config::{Config, Filter, PluginsConfig, Presubmit, filter_presubmits};
use prow_github::{GitHub, GitHubError, PullRequest, Status, StatusEntry};
use prow_jobstore::{JobStore, StoreError};
use prow_plugins::BotIdentity;
use prow_plugins::plugins::trigger::trusted_pull_request;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::delta::{Delta, Denylist, Migration, Presubmits, delta_presubmits};
use crate::state::{Snapshot, StateLocation};

/// The live config (same alias as `prow_controller::controller::ConfigGetter`).
pub type ConfigGetter = Arc<dyn Fn() -> Arc<Config> + Send + Sync>;
/// The live `plugins.yaml` (the trigger plugin's trust settings are read from it).
pub type PluginsGetter = Arc<dyn Fn() -> Arc<PluginsConfig> + Send + Sync>;
/// The clock (ProwJob start times).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Description of a context retired without a replacement (Prow's text).
pub const RETIRED_DESCRIPTION: &str = "Context retired without replacement.";

/// Description of a context whose status moved to `to` (Prow's text).
pub fn moved_description(to: &str) -> String {
    format!("Context retired. Status moved to \"{to}\".")
}

/// What the reconciler talks to.
#[derive(Clone)]
pub struct Deps {
    /// GitHub, as the bot.
    pub github: Arc<dyn GitHub>,
    /// Where new ProwJobs are created.
    pub jobs: Arc<dyn JobStore>,
    /// The live config.
    pub config: ConfigGetter,
    /// The live plugin config.
    pub plugins: PluginsGetter,
    /// Now.
    pub clock: Clock,
}

/// Behaviour switches (Prow's flags).
#[derive(Clone, Debug)]
pub struct Options {
    /// Where the last reconciled config is kept; `None` = memory only (every start records the
    /// config without acting).
    pub state: Option<StateLocation>,
    /// `--denylist` / `--denylist-all`.
    pub denylist: Denylist,
    /// Keep going past a failing repository, PR or context.
    pub continue_on_error: bool,
    /// Log what would be done; create no jobs and no statuses.
    pub dry_run: bool,
    /// How often the config getter is checked for a new config.
    pub poll_interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            state: None,
            denylist: Denylist::default(),
            continue_on_error: false,
            dry_run: false,
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// A failure while reconciling.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// A GitHub call failed.
    #[error("{what}: {source}")]
    GitHub {
        /// What was being done.
        what: String,
        /// The GitHub error.
        #[source]
        source: GitHubError,
    },
    /// Creating a ProwJob failed.
    #[error("{what}: {source}")]
    Store {
        /// What was being done.
        what: String,
        /// The store error.
        #[source]
        source: StoreError,
    },
    /// Anything else (trust check, plugin config).
    #[error("{0}")]
    Other(String),
    /// Several failures (with `--continue-on-error`).
    #[error("{} errors: {}", .0.len(), join(.0))]
    Aggregate(Vec<ReconcileError>),
}

fn join(errs: &[ReconcileError]) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ReconcileError {
    fn aggregate(mut errs: Vec<ReconcileError>) -> Result<(), ReconcileError> {
        match errs.len() {
            0 => Ok(()),
            1 => Err(errs.remove(0)),
            _ => Err(ReconcileError::Aggregate(errs)),
        }
    }
}

/// What one reconcile did (or, in dry-run, would have done).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// `(org/repo, pr, job)` for every ProwJob created.
    pub triggered: Vec<(String, u64, String)>,
    /// `(org/repo, pr, context)` for every context set to retired.
    pub retired: Vec<(String, u64, String)>,
    /// `(org/repo, pr, from, to)` for every status moved.
    pub migrated: Vec<(String, u64, String, String)>,
}

/// Counters on the component's registry.
#[derive(Clone)]
pub struct Metrics {
    triggered: prometheus::IntCounter,
    retired: prometheus::IntCounter,
    migrated: prometheus::IntCounter,
    reconciles: prometheus::IntCounterVec,
}

impl Metrics {
    /// Registers `status_reconciler_*` counters on `registry`.
    pub fn new(registry: &prometheus::Registry) -> Result<Self, prometheus::Error> {
        let triggered = prometheus::IntCounter::new(
            "status_reconciler_triggered_prowjobs_total",
            "ProwJobs created for newly required presubmits.",
        )?;
        let retired = prometheus::IntCounter::new(
            "status_reconciler_retired_contexts_total",
            "Status contexts retired on pull requests.",
        )?;
        let migrated = prometheus::IntCounter::new(
            "status_reconciler_migrated_contexts_total",
            "Status contexts moved to a new name on pull requests.",
        )?;
        let reconciles = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                "status_reconciler_reconciles_total",
                "Config changes reconciled, by result.",
            ),
            &["result"],
        )?;
        registry.register(Box::new(triggered.clone()))?;
        registry.register(Box::new(retired.clone()))?;
        registry.register(Box::new(migrated.clone()))?;
        registry.register(Box::new(reconciles.clone()))?;
        Ok(Metrics {
            triggered,
            retired,
            migrated,
            reconciles,
        })
    }
}

/// Tracks the last reconciled config and reconciles each new one against it.
pub struct StatusReconciler {
    deps: Deps,
    opts: Options,
    metrics: Option<Metrics>,
    /// The last reconciled presubmits and their snapshot; `None` before the first observation.
    last: Option<(Presubmits, Snapshot)>,
    last_config: Option<Arc<Config>>,
}

impl StatusReconciler {
    /// A reconciler that has not looked at any config yet.
    pub fn new(deps: Deps, opts: Options) -> Self {
        StatusReconciler {
            deps,
            opts,
            metrics: None,
            last: None,
            last_config: None,
        }
    }

    /// Counts what it does on `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Looks at `cfg`. The first call loads `--status-path`; without a stored state it records
    /// `cfg` and does nothing else (as Prow). Afterwards, a config whose presubmits differ from
    /// the last reconciled ones is reconciled and becomes the new state (also when reconciling
    /// failed, as in Prow: failures are logged and not retried until the next change).
    /// Returns the report when something was reconciled.
    pub async fn observe(&mut self, cfg: Arc<Config>) -> Result<Option<Report>, ReconcileError> {
        if let Some(prev) = &self.last_config
            && Arc::ptr_eq(prev, &cfg)
        {
            return Ok(None);
        }
        self.last_config = Some(cfg.clone());
        let snapshot = Snapshot::of(&cfg.jobs.presubmits);
        let Some((old, old_snapshot)) = self.take_last().await else {
            tracing::info!("no stored state; recording the current config without acting");
            self.record(&cfg.jobs.presubmits, snapshot).await;
            return Ok(None);
        };
        if old_snapshot == snapshot {
            self.last = Some((old, old_snapshot));
            return Ok(None);
        }
        let delta =
            delta_presubmits(&old, &cfg.jobs.presubmits).apply_denylist(&self.opts.denylist);
        let (added, removed, migrated) = delta.counts();
        tracing::info!(added, removed, migrated, "config changed");
        let result = if delta.is_empty() {
            Ok(Report::default())
        } else {
            let fingerprint = snapshot.fingerprint();
            self.reconcile(&delta, &fingerprint)
                .instrument(tracing::info_span!("reconcile", config = %fingerprint))
                .await
        };
        if let Some(m) = &self.metrics {
            let label = if result.is_ok() { "success" } else { "error" };
            m.reconciles.with_label_values(&[label]).inc();
        }
        self.record(&cfg.jobs.presubmits, snapshot).await;
        result.map(Some)
    }

    /// The last state: in memory, else from `--status-path`.
    async fn take_last(&mut self) -> Option<(Presubmits, Snapshot)> {
        if let Some(last) = self.last.take() {
            return Some(last);
        }
        let location = self.opts.state.as_ref()?;
        match location.load().await {
            Ok(Some(s)) => {
                tracing::info!(path = %location.describe(), "loaded stored state");
                Some((s.to_presubmits(), s))
            }
            Ok(None) => None,
            Err(e) => {
                // Prow does the same: an unreadable state counts as none.
                tracing::warn!(error = %e, "cannot load stored state; starting from the current config");
                None
            }
        }
    }

    async fn record(&mut self, presubmits: &Presubmits, snapshot: Snapshot) {
        if let Some(location) = &self.opts.state
            && let Err(e) = location.save(&snapshot).await
        {
            tracing::error!(error = %e, path = %location.describe(), "cannot save state");
        }
        self.last = Some((presubmits.clone(), snapshot));
    }

    /// Applies `delta`: starts added jobs, then retires removed contexts, then moves migrated
    /// ones. Without `--continue-on-error` the first failure stops it. `fingerprint` identifies
    /// the new config in the names of the jobs created.
    pub async fn reconcile(
        &self,
        delta: &Delta,
        fingerprint: &str,
    ) -> Result<Report, ReconcileError> {
        let mut report = Report::default();
        let mut errs = Vec::new();
        if let Err(e) = self
            .trigger_added(&delta.added, fingerprint, &mut report)
            .await
        {
            if !self.opts.continue_on_error {
                return Err(e);
            }
            errs.push(e);
        }
        let repos: std::collections::BTreeSet<&String> =
            delta.removed.keys().chain(delta.migrated.keys()).collect();
        for repo in repos {
            let removed = delta.removed.get(repo).map_or(&[][..], Vec::as_slice);
            let migrated = delta.migrated.get(repo).map_or(&[][..], Vec::as_slice);
            if let Err(e) = self
                .fix_contexts(repo, removed, migrated, &mut report)
                .instrument(tracing::info_span!("contexts", repo = %repo))
                .await
            {
                errs.push(e);
                if !self.opts.continue_on_error {
                    break;
                }
            }
        }
        ReconcileError::aggregate(errs).map(|()| report)
    }

    async fn trigger_added(
        &self,
        added: &BTreeMap<String, Vec<Presubmit>>,
        fingerprint: &str,
        report: &mut Report,
    ) -> Result<(), ReconcileError> {
        if added.is_empty() {
            return Ok(());
        }
        let gh = self.deps.github.as_ref();
        let bot = gh
            .bot_user()
            .await
            .map(|u| BotIdentity::new(&u.login))
            .map_err(|source| ReconcileError::GitHub {
                what: "resolving the bot's identity".into(),
                source,
            })?;
        let plugins = (self.deps.plugins)();
        let mut errs = Vec::new();
        for (org_repo, jobs) in added {
            let Some((org, repo)) = split_repo(org_repo) else {
                errs.push(ReconcileError::Other(format!(
                    "string {org_repo:?} can not be interpreted as org/repo"
                )));
                continue;
            };
            let prs = match gh.list_open_pull_requests(org, repo).await {
                Ok(prs) => prs,
                Err(source) => {
                    errs.push(ReconcileError::GitHub {
                        what: format!("failed to list pull requests for {org_repo}"),
                        source,
                    });
                    if !self.opts.continue_on_error {
                        break;
                    }
                    continue;
                }
            };
            for pr in &prs {
                let span = tracing::info_span!("trigger", repo = %org_repo, pr = pr.number);
                let target = Target {
                    org,
                    repo,
                    org_repo,
                    pr,
                };
                if let Err(e) = self
                    .trigger_on_pr(&target, jobs, &bot, &plugins, fingerprint, report)
                    .instrument(span)
                    .await
                {
                    errs.push(e);
                    if !self.opts.continue_on_error {
                        return ReconcileError::aggregate(errs);
                    }
                }
            }
            if !errs.is_empty() && !self.opts.continue_on_error {
                break;
            }
        }
        ReconcileError::aggregate(errs)
    }

    async fn trigger_on_pr(
        &self,
        t: &Target<'_>,
        jobs: &[Presubmit],
        bot: &BotIdentity,
        plugins: &PluginsConfig,
        fingerprint: &str,
        report: &mut Report,
    ) -> Result<(), ReconcileError> {
        let (gh, pr) = (self.deps.github.as_ref(), t.pr);
        if pr.draft {
            tracing::debug!("draft pull request; skipped");
            return Ok(());
        }
        if pr.mergeable == Some(false) {
            // Jobs would fail on the merge conflict; the author's next push triggers them.
            tracing::debug!("pull request cannot merge; skipped");
            return Ok(());
        }
        let branch = pr.base.git_ref.as_str();
        // Fetch the changed files only if a job that could run here depends on them. This is
        // what keeps `run_if_changed` jobs off PRs that do not touch their files.
        let needs_changes = jobs
            .iter()
            .any(|j| j.could_run(branch) && !j.always_run && j.changes.could_run());
        let changes: Vec<String> = if needs_changes {
            gh.get_pull_request_changes(t.org, t.repo, pr.number)
                .await
                .map_err(|source| ReconcileError::GitHub {
                    what: format!("failed to list changes of {}#{}", t.org_repo, pr.number),
                    source,
                })?
                .into_iter()
                .map(|c| c.filename)
                .collect()
        } else {
            Vec::new()
        };
        let selected = filter_presubmits(
            &Filter::TestAll,
            &mut || Ok::<_, std::convert::Infallible>(changes.clone()),
            branch,
            jobs,
        )
        .unwrap_or_else(|never| match never {});
        if selected.is_empty() {
            return Ok(());
        }
        let trigger = prow_plugins::config::trigger_for(plugins, t.org, t.repo)
            .map_err(|e| ReconcileError::Other(e.to_string()))?;
        let (_, trusted) =
            trusted_pull_request(gh, bot, &trigger, &pr.user.login, t.org, t.repo, pr.number)
                .await
                .map_err(|e| {
                    ReconcileError::Other(format!(
                        "failed to determine if {}#{} is trusted: {e}",
                        t.org_repo, pr.number
                    ))
                })?;
        if !trusted {
            tracing::info!(author = %pr.user.login, "untrusted pull request; not triggering");
            return Ok(());
        }
        let base_sha = gh
            .get_ref(t.org, t.repo, &format!("heads/{branch}"))
            .await
            .map_err(|source| ReconcileError::GitHub {
                what: format!("failed to get baseSHA of {}#{}", t.org_repo, pr.number),
                source,
            })?;
        let refs = pr_refs(pr, t.org, t.repo);
        let cfg = (self.deps.config)();
        let scheduling = scheduling_enabled(&cfg);
        // One event ID per (PR head, new config): the job names derive from it, so reconciling
        // the same change again (e.g. after a crash before the state was saved) finds the jobs
        // already there instead of starting them twice.
        let guid = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!(
                "status-reconciler/{}/{}/{}/{fingerprint}",
                t.org_repo, pr.number, pr.head.sha
            )
            .as_bytes(),
        )
        .to_string();
        let mut errs = Vec::new();
        for job in selected {
            let name = &job.base.name;
            if self.opts.dry_run {
                tracing::info!(job = %name, "dry run: would trigger newly required presubmit");
                report
                    .triggered
                    .push((t.org_repo.to_owned(), pr.number, name.clone()));
                continue;
            }
            let mut pj = new_presubmit(
                &refs,
                &base_sha,
                job,
                &guid,
                &BTreeMap::new(),
                (self.deps.clock)(),
            );
            if scheduling {
                pj.status.state = ProwJobState::Scheduling;
            }
            match self.deps.jobs.create(pj).await {
                Ok(created) => {
                    tracing::info!(job = %name, prowjob = created.name(), context = %job.reporter.context, "triggered newly required presubmit");
                }
                Err(StoreError::AlreadyExists(n)) => {
                    tracing::info!(job = %name, prowjob = %n, "already triggered for this config");
                }
                Err(source) => {
                    errs.push(ReconcileError::Store {
                        what: format!("failed to trigger {name} for {}#{}", t.org_repo, pr.number),
                        source,
                    });
                    if !self.opts.continue_on_error {
                        break;
                    }
                    continue;
                }
            }
            if let Some(m) = &self.metrics {
                m.triggered.inc();
            }
            report
                .triggered
                .push((t.org_repo.to_owned(), pr.number, name.clone()));
        }
        ReconcileError::aggregate(errs)
    }

    /// Retires and moves contexts on every open PR of one repository, reading each PR's combined
    /// status once.
    async fn fix_contexts(
        &self,
        org_repo: &str,
        removed: &[Presubmit],
        migrated: &[Migration],
        report: &mut Report,
    ) -> Result<(), ReconcileError> {
        let Some((org, repo)) = split_repo(org_repo) else {
            return Err(ReconcileError::Other(format!(
                "string {org_repo:?} can not be interpreted as org/repo"
            )));
        };
        let gh = self.deps.github.as_ref();
        let prs = gh
            .list_open_pull_requests(org, repo)
            .await
            .map_err(|source| ReconcileError::GitHub {
                what: format!("failed to list pull requests for {org_repo}"),
                source,
            })?;
        let mut errs = Vec::new();
        for pr in &prs {
            let branch = pr.base.git_ref.as_str();
            let retire: Vec<&Presubmit> = removed.iter().filter(|p| p.could_run(branch)).collect();
            let moves: Vec<&Migration> = migrated
                .iter()
                .filter(|m| m.from.could_run(branch))
                .collect();
            if retire.is_empty() && moves.is_empty() {
                continue;
            }
            let sha = pr.head.sha.as_str();
            let combined = match gh.get_combined_status(org, repo, sha).await {
                Ok(c) => c,
                Err(source) => {
                    errs.push(ReconcileError::GitHub {
                        what: format!("failed to get statuses of {org_repo}#{}", pr.number),
                        source,
                    });
                    if !self.opts.continue_on_error {
                        break;
                    }
                    continue;
                }
            };
            let actions = status_actions(&combined.statuses, &retire, &moves);
            for action in actions {
                if let Err(e) = self.apply(org_repo, org, repo, pr, &action, report).await {
                    errs.push(e);
                    if !self.opts.continue_on_error {
                        return ReconcileError::aggregate(errs);
                    }
                }
            }
        }
        ReconcileError::aggregate(errs)
    }

    async fn apply(
        &self,
        org_repo: &str,
        org: &str,
        repo: &str,
        pr: &PullRequest,
        action: &Action,
        report: &mut Report,
    ) -> Result<(), ReconcileError> {
        let statuses = action.statuses();
        for status in &statuses {
            if self.opts.dry_run {
                tracing::info!(pr = pr.number, context = %status.context, state = %status.state, "dry run: would set status");
                continue;
            }
            self.deps
                .github
                .create_status(org, repo, &pr.head.sha, status)
                .await
                .map_err(|source| ReconcileError::GitHub {
                    what: format!(
                        "failed to set {:?} on {org_repo}#{}",
                        status.context, pr.number
                    ),
                    source,
                })?;
        }
        match action {
            Action::Retire { context } => {
                tracing::info!(pr = pr.number, context = %context, "retired context");
                if let Some(m) = &self.metrics {
                    m.retired.inc();
                }
                report
                    .retired
                    .push((org_repo.to_owned(), pr.number, context.clone()));
            }
            Action::Move { old, to } => {
                tracing::info!(pr = pr.number, from = %old.context, to = %to, "moved context");
                if let Some(m) = &self.metrics {
                    m.migrated.inc();
                }
                report.migrated.push((
                    org_repo.to_owned(),
                    pr.number,
                    old.context.clone(),
                    to.clone(),
                ));
            }
        }
        Ok(())
    }

    /// Observes the config now and then every `poll_interval` until `shutdown` (edge-driven:
    /// only a changed config causes GitHub traffic).
    pub async fn run(mut self, shutdown: CancellationToken) {
        loop {
            let cfg = (self.deps.config)();
            match self.observe(cfg).await {
                Ok(Some(report)) => tracing::info!(
                    triggered = report.triggered.len(),
                    retired = report.retired.len(),
                    migrated = report.migrated.len(),
                    "statuses reconciled"
                ),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "error reconciling statuses"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => {
                    tracing::info!("status-reconciler is shutting down");
                    return;
                }
                _ = tokio::time::sleep(self.opts.poll_interval) => {}
            }
        }
    }
}

/// The PR a job is being started on.
struct Target<'a> {
    org: &'a str,
    repo: &'a str,
    org_repo: &'a str,
    pr: &'a PullRequest,
}

/// One status change on a PR's head.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    /// Set the context to `success`, retired without replacement.
    Retire { context: String },
    /// Copy `old` to `to`, then retire `old` pointing at `to`.
    Move { old: Status, to: String },
}

impl Action {
    fn statuses(&self) -> Vec<Status> {
        match self {
            Action::Retire { context } => vec![Status {
                state: "success".into(),
                target_url: None,
                description: Some(RETIRED_DESCRIPTION.into()),
                context: context.clone(),
            }],
            Action::Move { old, to } => vec![
                Status {
                    state: old.state.clone(),
                    target_url: old.target_url.clone(),
                    description: old.description.clone(),
                    context: to.clone(),
                },
                Status {
                    state: "success".into(),
                    target_url: None,
                    description: Some(moved_description(to)),
                    context: old.context.clone(),
                },
            ],
        }
    }
}

/// The status changes for one PR given its current statuses (Prow's migrator modes): retire a
/// context that is present; move a context that is present to a new one that is not.
fn status_actions(
    statuses: &[StatusEntry],
    retire: &[&Presubmit],
    moves: &[&Migration],
) -> Vec<Action> {
    let find = |ctx: &str| {
        statuses
            .iter()
            .find(|s| !ctx.is_empty() && s.context == ctx)
    };
    let mut out = Vec::new();
    for p in retire {
        if find(&p.reporter.context).is_some() {
            out.push(Action::Retire {
                context: p.reporter.context.clone(),
            });
        }
    }
    for m in moves {
        if let Some(old) = find(&m.from.reporter.context)
            && find(&m.to.reporter.context).is_none()
        {
            out.push(Action::Move {
                old: Status {
                    state: old.state.clone(),
                    target_url: old.target_url.clone(),
                    description: old.description.clone(),
                    context: old.context.clone(),
                },
                to: m.to.reporter.context.clone(),
            });
        }
    }
    out
}

fn split_repo(org_repo: &str) -> Option<(&str, &str)> {
    org_repo
        .split_once('/')
        .filter(|(o, r)| !o.is_empty() && !r.is_empty())
}

/// Refs for a PR, as the trigger plugin builds them.
fn pr_refs(pr: &PullRequest, org: &str, repo: &str) -> PullRequestRefs {
    PullRequestRefs {
        org: org.to_owned(),
        repo: repo.to_owned(),
        repo_link: pr
            .base
            .repo
            .as_ref()
            .map(|r| r.html_url.clone())
            .unwrap_or_default(),
        base_ref: pr.base.git_ref.clone(),
        number: pr.number,
        author: pr.user.login.clone(),
        author_link: pr.user.html_url.clone(),
        head_sha: pr.head.sha.clone(),
        head_ref: pr.head.git_ref.clone(),
        title: pr.title.clone(),
        link: pr.html_url.clone(),
    }
}

/// `scheduler.enabled`: new jobs start in `scheduling` (spec §1.2 step 3).
fn scheduling_enabled(cfg: &Config) -> bool {
    cfg.prow
        .scheduler
        .as_ref()
        .and_then(|s| s.get("enabled"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(context: &str, state: &str) -> StatusEntry {
        StatusEntry {
            context: context.into(),
            state: state.into(),
            description: Some(format!("{context} is {state}")),
            target_url: Some(format!("https://prow.example.com/{context}")),
            ..Default::default()
        }
    }

    fn job(name: &str, context: &str) -> Presubmit {
        let mut p = Presubmit::default();
        p.base.name = name.into();
        p.reporter.context = context.into();
        p
    }

    #[test]
    fn retire_only_present_contexts() {
        let gone = job("gone", "gone-ctx");
        let absent = job("absent", "absent-ctx");
        let acts = status_actions(&[entry("gone-ctx", "failure")], &[&gone, &absent], &[]);
        assert_eq!(
            acts,
            vec![Action::Retire {
                context: "gone-ctx".into()
            }]
        );
        let st = acts[0].statuses();
        assert_eq!(st[0].state, "success");
        assert_eq!(
            st[0].description.as_deref(),
            Some("Context retired without replacement.")
        );
    }

    #[test]
    fn move_needs_old_present_and_new_absent() {
        let m = Migration {
            from: job("j", "old"),
            to: job("j", "new"),
        };
        let acts = status_actions(&[entry("old", "failure")], &[], &[&m]);
        assert_eq!(acts.len(), 1);
        let st = acts[0].statuses();
        assert_eq!(st[0].context, "new");
        assert_eq!(st[0].state, "failure");
        assert_eq!(st[0].description.as_deref(), Some("old is failure"));
        assert_eq!(
            st[0].target_url.as_deref(),
            Some("https://prow.example.com/old")
        );
        assert_eq!(st[1].context, "old");
        assert_eq!(st[1].state, "success");
        assert_eq!(
            st[1].description.as_deref(),
            Some("Context retired. Status moved to \"new\".")
        );
        // Already moved: nothing to do.
        assert!(
            status_actions(
                &[entry("old", "success"), entry("new", "pending")],
                &[],
                &[&m]
            )
            .is_empty()
        );
        // Never reported: nothing to do.
        assert!(status_actions(&[], &[], &[&m]).is_empty());
    }

    #[test]
    fn split_repo_rejects_malformed() {
        assert_eq!(split_repo("o/r"), Some(("o", "r")));
        assert_eq!(split_repo("o"), None);
        assert_eq!(split_repo("/r"), None);
    }
}
