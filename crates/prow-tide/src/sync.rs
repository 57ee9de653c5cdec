//! The I/O shell around the core: the sync controller (queries → subpools → core → trigger or
//! merge), the status controller (`tide` context), history and pools for `GET /` and
//! `GET /history`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobState, ProwJobType, Pull};
use prow_config::Presubmit;
use prow_github::{GitHub, Status};
use prow_jobstore::{JobStore, ListParams};
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::core::{
    Action, ActionSelector, AllowedMethods, BatchPicker, Knobs, MergeableBatchPicker, Outcome,
    RequiredJob, Subpool, TideSelector, merge_allowed, sync_subpool_with,
};
use crate::gitbatch::{CloneSource, GitBatchPicker};
use crate::github::{
    MergeOutcome, merge_details, rest_contexts, search_blockers, search_prs, try_merge,
};
use crate::history::{History, Record};
use crate::metrics::TideMetrics;
use crate::model::{Blocker, Blockers, CtxState, Pr, STATUS_CONTEXT, pool_key};
use crate::policy::{self, ContextPolicy};
use crate::query::{org_queries, orgs_and_repos, queries_for_repo};
use crate::status::{StatusInput, expected_status, target_url};

/// The live config (same shape as prow-controller's `ConfigGetter`).
pub type ConfigGetter = Arc<dyn Fn() -> Arc<prow_config::Config> + Send + Sync>;
/// Wall clock, injectable.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;
/// Sleeps, injectable so tests and simulations do not wait for merge spacing and backoff.
pub type Sleeper = Arc<dyn Fn(Duration) -> futures_sleep::BoxFuture + Send + Sync>;

/// Boxed sleep future type.
pub mod futures_sleep {
    /// A boxed `()` future.
    pub type BoxFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}

/// What Tide needs from the outside world.
#[derive(Clone)]
pub struct TideDeps {
    /// GitHub (real client or simulator).
    pub github: Arc<dyn GitHub>,
    /// Where ProwJobs live.
    pub store: Arc<dyn JobStore>,
    /// The live config.
    pub config: ConfigGetter,
    /// Where metrics are registered.
    pub registry: prometheus::Registry,
}

/// Behaviour knobs not in `config.yaml`.
#[derive(Clone)]
pub struct TideOptions {
    /// Do not create jobs, write statuses or merge.
    pub dry_run: bool,
    /// History records kept per pool (Prow's `--max-records-per-pool`, 1000).
    pub max_records_per_pool: usize,
    /// Local file persisting the history (`--history-uri`).
    pub history_path: Option<PathBuf>,
    /// Local file persisting the status controller's search window (`--status-path`).
    pub status_path: Option<PathBuf>,
    /// Spacing between merges of a batch (Prow: 5s).
    pub merge_delay: Duration,
    /// First backoff after "base branch was modified" (Prow: 4s, doubled).
    pub merge_backoff: Duration,
    /// Clock.
    pub clock: Clock,
    /// Sleep used for merge spacing and backoff.
    pub sleep: Sleeper,
    /// Clone source for batch test-merges; `None` = trust GitHub's `mergeable`.
    pub clone_source: Option<CloneSource>,
    /// Action selection (Tide's by default).
    pub selector: Arc<dyn ActionSelector>,
}

impl Default for TideOptions {
    fn default() -> Self {
        TideOptions {
            dry_run: false,
            max_records_per_pool: 1000,
            history_path: None,
            status_path: None,
            merge_delay: Duration::from_secs(5),
            merge_backoff: Duration::from_secs(4),
            clock: Arc::new(Utc::now),
            sleep: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
            clone_source: None,
            selector: Arc::new(TideSelector),
        }
    }
}

/// One pool as served by `GET /` (Prow's `Pool`, PRs as `CodeReviewCommon`).
#[derive(Clone, Debug, Serialize)]
pub struct PoolView {
    /// Owner.
    #[serde(rename = "Org")]
    pub org: String,
    /// Repository.
    #[serde(rename = "Repo")]
    pub repo: String,
    /// Branch.
    #[serde(rename = "Branch")]
    pub branch: String,
    /// PRs with all required jobs passing.
    #[serde(rename = "SuccessPRs")]
    pub success_prs: Vec<Value>,
    /// PRs with pending jobs.
    #[serde(rename = "PendingPRs")]
    pub pending_prs: Vec<Value>,
    /// PRs with missing or failed jobs.
    #[serde(rename = "MissingPRs")]
    pub missing_prs: Vec<Value>,
    /// PRs of the pending batch.
    #[serde(rename = "BatchPending")]
    pub batch_pending: Vec<Value>,
    /// Last action.
    #[serde(rename = "Action")]
    pub action: Action,
    /// Its targets.
    #[serde(rename = "Target")]
    pub target: Vec<Value>,
    /// Blocker issues.
    #[serde(rename = "Blockers")]
    pub blockers: Vec<Blocker>,
    /// Error of the last action.
    #[serde(rename = "Error")]
    pub error: String,
    /// Tenant IDs of the pool's jobs.
    #[serde(rename = "TenantIDs")]
    pub tenant_ids: Vec<String>,
}

/// What the last sync handed to the status controller.
#[derive(Clone, Default)]
struct StatusHandoff {
    /// PR keys in a pool, with the PR.
    pool: BTreeMap<String, Pr>,
    /// Base SHA per pool key.
    base_shas: BTreeMap<String, String>,
    /// Required job contexts per PR key.
    required: BTreeMap<String, Vec<String>>,
    blockers: Blockers,
    /// PRs whose status the sync set to success before merging.
    dont_update: BTreeSet<String>,
}

struct Inner {
    deps: TideDeps,
    opts: TideOptions,
    metrics: TideMetrics,
    pools: Mutex<Vec<PoolView>>,
    history: Mutex<History>,
    handoff: Mutex<StatusHandoff>,
    /// Changed files per (org/repo#n, head sha), kept while the PR is seen.
    changes: Mutex<HashMap<(String, String), Vec<String>>>,
    /// Status controller search windows per org shard.
    status_state: Mutex<BTreeMap<String, StoredState>>,
}

/// Where the status controller's incremental search stands for one org shard (Prow's
/// `storedState`, persisted at `--status-path`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoredState {
    /// Update time of the most recent PR seen, minus 30s.
    #[serde(rename = "LatestPR", default)]
    pub latest_pr: Option<DateTime<Utc>>,
    /// The query that produced it; a different query restarts from the beginning.
    #[serde(rename = "PreviousQuery", default)]
    pub previous_query: String,
}

/// GitHub's search date token `updated:<start>..<end>` (Prow's `dateToken`; before 2007 ⇒ 2007).
pub fn date_token(start: Option<DateTime<Utc>>, end: DateTime<Utc>) -> String {
    let founding = DateTime::from_timestamp(1_167_609_600, 0).unwrap_or_default();
    let f = |t: DateTime<Utc>| t.max(founding).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    format!("updated:{}..{}", f(start.unwrap_or(founding)), f(end))
}

fn load_status_state(path: &Option<PathBuf>) -> BTreeMap<String, StoredState> {
    let Some(p) = path else {
        return BTreeMap::new();
    };
    let Ok(bytes) = std::fs::read(p) else {
        return BTreeMap::new();
    };
    if let Ok(m) = serde_json::from_slice::<BTreeMap<String, StoredState>>(&bytes) {
        return m;
    }
    match serde_json::from_slice::<StoredState>(&bytes) {
        Ok(single) => BTreeMap::from([(String::new(), single)]),
        Err(e) => {
            tracing::warn!(path = %p.display(), error = %e, "ignoring unreadable status state");
            BTreeMap::new()
        }
    }
}

/// A running (or manually driven) Tide.
#[derive(Clone)]
pub struct Tide {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Presubmit required by Tide (`!optional && !skip_report`, or `run_before_merge`).
fn required_by_tide(p: &Presubmit) -> bool {
    p.context_required() || p.run_before_merge
}

fn repo_link(pr: &Pr, link_base: &str) -> String {
    if let Some(i) = pr.url.rfind("/pull/") {
        return pr.url[..i].to_owned();
    }
    let base = if link_base.is_empty() {
        "https://github.com"
    } else {
        link_base.trim_end_matches('/')
    };
    format!("{base}/{}/{}", pr.org, pr.repo)
}

impl Tide {
    /// Builds Tide (registers metrics, loads history). Nothing runs until [`Tide::sync`] /
    /// [`Tide::sync_status`] or [`run`].
    pub fn new(deps: TideDeps, opts: TideOptions) -> anyhow::Result<Tide> {
        let metrics = TideMetrics::new(&deps.registry)?;
        let history = History::new(opts.max_records_per_pool, opts.history_path.clone());
        let status_state = load_status_state(&opts.status_path);
        Ok(Tide {
            inner: Arc::new(Inner {
                deps,
                opts,
                metrics,
                pools: Mutex::new(Vec::new()),
                history: Mutex::new(history),
                handoff: Mutex::new(StatusHandoff::default()),
                changes: Mutex::new(HashMap::new()),
                status_state: Mutex::new(status_state),
            }),
        })
    }

    /// `GET /` body: the pools of the last sync.
    pub fn pools_json(&self) -> Value {
        serde_json::to_value(&*lock(&self.inner.pools)).unwrap_or(Value::Array(vec![]))
    }

    /// Pools as Deck's `/tide.js` serves them (Prow's `PoolForDeck`): PRs minified to
    /// `{Title, Number, HeadRefOID, Mergeable}`.
    pub fn pools_for_deck_json(&self) -> Value {
        let mut pools = self.pools_json();
        let min = |v: &mut Value| {
            if let Some(a) = v.as_array_mut() {
                for pr in a.iter_mut() {
                    *pr = serde_json::json!({
                        "Title": pr["Title"].clone(),
                        "Number": pr["Number"].clone(),
                        "HeadRefOID": pr["HeadRefOID"].clone(),
                        "Mergeable": pr["Mergeable"].clone(),
                    });
                }
            }
        };
        if let Some(arr) = pools.as_array_mut() {
            for p in arr.iter_mut() {
                for k in [
                    "SuccessPRs",
                    "PendingPRs",
                    "MissingPRs",
                    "BatchPending",
                    "Target",
                ] {
                    if let Some(v) = p.get_mut(k) {
                        min(v);
                    }
                }
            }
        }
        pools
    }

    /// `GET /history` body.
    pub fn history_json(&self) -> Value {
        lock(&self.inner.history).to_json()
    }

    /// The pools of the last sync.
    pub fn pools(&self) -> Vec<PoolView> {
        lock(&self.inner.pools).clone()
    }

    /// One sync loop: search, build subpools, decide and act on each.
    pub async fn sync(&self) -> anyhow::Result<()> {
        let start = Instant::now();
        let inner = &self.inner;
        let cfg = (inner.deps.config)();
        let tide = &cfg.prow.tide;
        let gh = inner.deps.github.clone();

        // 1. Queries, one search per org shard, deduplicated.
        let mut prs: BTreeMap<String, Pr> = BTreeMap::new();
        let mut search_err = None;
        for (i, q) in tide.queries.iter().enumerate() {
            for (org, query) in org_queries(q) {
                match search_prs(gh.as_ref(), &org, &query).await {
                    Ok(found) => {
                        inner
                            .metrics
                            .query_results
                            .with_label_values(&[&i.to_string(), &org, "success"])
                            .inc();
                        for pr in found {
                            prs.insert(pr.key(), pr);
                        }
                    }
                    Err(e) => {
                        inner
                            .metrics
                            .query_results
                            .with_label_values(&[&i.to_string(), &org, "error"])
                            .inc();
                        tracing::warn!(org = %org, query = %query, error = %e, "tide search failed");
                        search_err = Some(e);
                    }
                }
            }
        }
        if prs.is_empty()
            && let Some(e) = search_err
        {
            return Err(anyhow::anyhow!("all tide searches failed: {e}"));
        }
        for pr in prs.values_mut() {
            if pr.contexts.is_none() {
                match rest_contexts(gh.as_ref(), pr).await {
                    Ok(c) => pr.contexts = Some(c),
                    Err(e) => {
                        tracing::warn!(org = %pr.org, repo = %pr.repo, pr = pr.number, error = %e, "head contexts");
                        pr.contexts = Some(vec![]);
                    }
                }
            }
        }

        // 2. Blockers.
        let blockers = self.blockers(&cfg).await;

        // 3. Subpools.
        let mut groups: BTreeMap<(String, String, String), Vec<Pr>> = BTreeMap::new();
        for pr in prs.into_values() {
            groups
                .entry((pr.org.clone(), pr.repo.clone(), pr.base_ref.clone()))
                .or_default()
                .push(pr);
        }
        let all_jobs = match inner.deps.store.list(&ListParams::all()).await {
            Ok(l) => l.items,
            Err(e) => return Err(anyhow::anyhow!("listing prowjobs: {e}")),
        };
        let mut pools = Vec::new();
        let mut handoff = StatusHandoff {
            blockers: blockers.clone(),
            ..Default::default()
        };
        let mut repo_methods: HashMap<(String, String), AllowedMethods> = HashMap::new();
        let mut seen_changes: BTreeSet<(String, String)> = BTreeSet::new();
        for ((org, repo, branch), group) in groups {
            let span = tracing::info_span!("subpool", org = %org, repo = %repo, branch = %branch);
            let _e = span.enter();
            match self
                .sync_one(
                    &cfg,
                    &org,
                    &repo,
                    &branch,
                    group,
                    &all_jobs,
                    &blockers,
                    &mut repo_methods,
                    &mut seen_changes,
                    &mut handoff,
                )
                .await
            {
                Ok(Some(p)) => pools.push(p),
                Ok(None) => {}
                Err(e) => {
                    inner
                        .metrics
                        .pool_errors
                        .with_label_values(&[&org, &repo, &branch])
                        .inc();
                    tracing::error!(org = %org, repo = %repo, branch = %branch, error = %e, "syncing subpool");
                }
            }
        }
        lock(&inner.changes).retain(|k, _| seen_changes.contains(k));
        {
            let mut h = lock(&inner.handoff);
            handoff.dont_update.extend(h.dont_update.iter().cloned());
            *h = handoff;
        }
        *lock(&inner.pools) = pools;
        if let Err(e) = lock(&inner.history).persist() {
            tracing::warn!(error = %e, "persisting tide history");
        }
        inner
            .metrics
            .sync_duration
            .set(start.elapsed().as_secs_f64());
        inner
            .metrics
            .sync_heartbeat
            .with_label_values(&["sync"])
            .inc();
        Ok(())
    }

    async fn blockers(&self, cfg: &prow_config::Config) -> Blockers {
        let label = &cfg.prow.tide.blocker_label;
        if label.is_empty() {
            return Blockers::default();
        }
        let (orgs, repos) = orgs_and_repos(&cfg.prow.tide.queries);
        let mut tokens: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (o, ex) in &orgs {
            let t = tokens.entry(o.clone()).or_default();
            t.push(format!("org:\"{o}\""));
            t.extend(ex.iter().map(|r| format!("-repo:\"{r}\"")));
        }
        for r in &repos {
            if let Some((o, _)) = r.split_once('/') {
                tokens
                    .entry(o.to_owned())
                    .or_default()
                    .push(format!("repo:\"{r}\""));
            }
        }
        let tokens: BTreeMap<String, String> =
            tokens.into_iter().map(|(o, t)| (o, t.join(" "))).collect();
        match search_blockers(self.inner.deps.github.as_ref(), label, &tokens).await {
            Ok(issues) => Blockers::from_issues(&issues),
            Err(e) => {
                tracing::warn!(error = %e, "searching blocker issues");
                Blockers::default()
            }
        }
    }

    async fn allowed_methods(
        &self,
        org: &str,
        repo: &str,
        cache: &mut HashMap<(String, String), AllowedMethods>,
    ) -> AllowedMethods {
        if let Some(a) = cache.get(&(org.to_owned(), repo.to_owned())) {
            return *a;
        }
        let a = match self.inner.deps.github.get_repo(org, repo).await {
            // GitHub omits the flags for tokens without admin; unknown means allowed.
            Ok(r) => AllowedMethods {
                merge: r.allow_merge_commit.unwrap_or(true),
                squash: r.allow_squash_merge.unwrap_or(true),
                rebase: r.allow_rebase_merge.unwrap_or(true),
            },
            Err(e) => {
                tracing::warn!(org, repo, error = %e, "reading repo merge settings");
                AllowedMethods::default()
            }
        };
        cache.insert((org.to_owned(), repo.to_owned()), a);
        a
    }

    async fn protection_contexts(
        &self,
        cfg: &prow_config::Config,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Option<Vec<String>> {
        let opts = policy::context_options(&cfg.prow.tide.context_options, org, repo, branch);
        if opts.from_branch_protection != Some(true) {
            return None;
        }
        match self
            .inner
            .deps
            .github
            .get_branch_protection(org, repo, branch)
            .await
        {
            Ok(bp) => Some(
                bp.and_then(|b| b.required_status_checks)
                    .map(|c| c.contexts)
                    .unwrap_or_default(),
            ),
            Err(e) => {
                tracing::warn!(org, repo, branch, error = %e, "reading branch protection");
                None
            }
        }
    }

    /// Files changed by a PR, cached per head SHA.
    async fn changed_files(
        &self,
        pr: &Pr,
        seen: &mut BTreeSet<(String, String)>,
    ) -> Result<Vec<String>, prow_github::GitHubError> {
        let key = (pr.key(), pr.head_sha.clone());
        seen.insert(key.clone());
        if let Some(v) = lock(&self.inner.changes).get(&key) {
            return Ok(v.clone());
        }
        let files: Vec<String> = self
            .inner
            .deps
            .github
            .get_pull_request_changes(&pr.org, &pr.repo, pr.number)
            .await?
            .into_iter()
            .map(|c| c.filename)
            .collect();
        lock(&self.inner.changes).insert(key, files.clone());
        Ok(files)
    }

    /// Prow's `presubmitsByPull` for one PR.
    async fn required_presubmits(
        &self,
        presubmits: &[Presubmit],
        branch: &str,
        pr: &Pr,
        seen: &mut BTreeSet<(String, String)>,
    ) -> anyhow::Result<Vec<RequiredJob>> {
        let needs_changes = presubmits.iter().any(|p| {
            required_by_tide(p)
                && p.could_run(branch)
                && !p.always_run
                && !p.run_before_merge
                && p.changes.could_run()
        });
        let changes = if needs_changes {
            self.changed_files(pr, seen).await?
        } else {
            vec![]
        };
        let mut out = Vec::new();
        for p in presubmits {
            if !required_by_tide(p) {
                continue;
            }
            let mut get = || Ok::<_, std::convert::Infallible>(changes.clone());
            let run = p
                .should_run(branch, &mut get, p.run_before_merge, false)
                .unwrap_or(false);
            if run {
                out.push(RequiredJob {
                    name: p.base.name.clone(),
                    context: p.reporter.context.clone(),
                });
            }
        }
        Ok(out)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; a struct would only rename them"
    )]
    async fn sync_one(
        &self,
        cfg: &Arc<prow_config::Config>,
        org: &str,
        repo: &str,
        branch: &str,
        prs: Vec<Pr>,
        all_jobs: &[ProwJob],
        blockers: &Blockers,
        repo_methods: &mut HashMap<(String, String), AllowedMethods>,
        seen_changes: &mut BTreeSet<(String, String)>,
        handoff: &mut StatusHandoff,
    ) -> anyhow::Result<Option<PoolView>> {
        let inner = &self.inner;
        let tide = &cfg.prow.tide;
        let gh = inner.deps.github.clone();
        let base_sha = gh.get_ref(org, repo, &format!("heads/{branch}")).await?;
        let presubmits = cfg.jobs.presubmits_for(&format!("{org}/{repo}"));
        let protection = self.protection_contexts(cfg, org, repo, branch).await;
        let policy =
            ContextPolicy::build(tide, org, repo, branch, presubmits, protection.as_deref())?;
        let mut required = BTreeMap::new();
        let mut kept = Vec::new();
        for pr in prs {
            match self
                .required_presubmits(presubmits, branch, &pr, seen_changes)
                .await
            {
                Ok(v) => {
                    if !v.is_empty() {
                        required.insert(pr.number, v);
                    }
                    kept.push(pr);
                }
                Err(e) => {
                    tracing::warn!(pr = pr.number, error = %e, "presubmits for PR, excluding it")
                }
            }
        }
        let jobs: Vec<ProwJob> = all_jobs
            .iter()
            .filter(|j| {
                matches!(
                    j.spec.job_type,
                    Some(ProwJobType::Presubmit | ProwJobType::Batch)
                )
            })
            .filter(|j| {
                j.spec
                    .refs
                    .as_ref()
                    .is_some_and(|r| r.org == org && r.repo == repo && r.base_ref == branch)
            })
            .cloned()
            .collect();
        let merge_methods = kept
            .iter()
            .map(|p| {
                (
                    p.number,
                    policy::pr_merge_method(tide, org, repo, branch, &p.labels),
                )
            })
            .collect();
        let sp = Subpool {
            org: org.to_owned(),
            repo: repo.to_owned(),
            branch: branch.to_owned(),
            base_sha: base_sha.clone(),
            prs: kept,
            jobs,
            presubmits: required,
            policy,
            merge_methods,
            allowed: self.allowed_methods(org, repo, repo_methods).await,
            blockers: blockers.applicable(org, repo, branch),
            knobs: Knobs {
                batch_size_limit: policy::batch_size_limit(tide, org, repo),
                prioritize_existing_batches: policy::prioritize_existing_batches(tide, org, repo),
                priority: tide.priority.iter().map(|p| p.labels.clone()).collect(),
                merge_blocks: Some(policy::merge_blocks_policy(tide, org, repo)),
            },
        };
        let selector = inner.opts.selector.clone();
        let source = inner.opts.clone_source.clone();
        let (sp, outcome) = tokio::task::spawn_blocking(move || {
            let mut picker: Box<dyn BatchPicker> = match source {
                Some(s) => Box::new(GitBatchPicker::new(s)),
                None => Box::new(MergeableBatchPicker),
            };
            let out = sync_subpool_with(&sp, selector.as_ref(), picker.as_mut());
            (sp, out)
        })
        .await?;
        for (n, reason) in &outcome.filtered {
            tracing::debug!(pr = n, reason = %reason, "PR left out of the pool");
        }
        if outcome.pool.is_empty() {
            return Ok(None);
        }
        let key = sp.key();
        handoff.base_shas.insert(key.clone(), sp.base_sha.clone());
        for pr in sp.prs.iter().filter(|p| outcome.pool.contains(&p.number)) {
            handoff.pool.insert(pr.key(), pr.clone());
            let ctxs: Vec<String> = sp
                .presubmits
                .get(&pr.number)
                .map(|v| v.iter().map(|j| j.context.clone()).collect())
                .unwrap_or_default();
            handoff.required.insert(pr.key(), ctxs);
        }

        let error = self.execute(cfg, &sp, &outcome).await;
        let pr_json = |nums: &[u64]| -> Vec<Value> {
            nums.iter()
                .filter_map(|n| sp.prs.iter().find(|p| p.number == *n))
                .map(Pr::to_json)
                .collect()
        };
        let mut tenant_ids: BTreeSet<String> = BTreeSet::new();
        for j in sp.jobs.iter().filter(|j| {
            j.spec
                .refs
                .as_ref()
                .is_some_and(|r| r.base_sha == sp.base_sha)
        }) {
            tenant_ids.insert(
                j.spec
                    .prowjob_defaults
                    .as_ref()
                    .map(|d| d.tenant_id.clone())
                    .unwrap_or_default(),
            );
        }
        let tenant_ids: Vec<String> = tenant_ids.into_iter().collect();
        if outcome.action.recorded() {
            let rec = Record {
                time: (inner.opts.clock)(),
                action: outcome.action.as_str().to_owned(),
                base_sha: sp.base_sha.clone(),
                target: outcome
                    .targets
                    .iter()
                    .filter_map(|n| sp.prs.iter().find(|p| p.number == *n))
                    .map(Pr::to_pull)
                    .collect(),
                err: error.clone(),
                tenantids: tenant_ids.clone(),
            };
            lock(&inner.history).record(&key, rec);
        }
        let labels = [org, repo, branch];
        let m = &inner.metrics;
        m.pooled_prs
            .with_label_values(&labels)
            .set(outcome.pool.len() as f64);
        m.update_time
            .with_label_values(&labels)
            .set((inner.opts.clock)().timestamp() as f64);
        m.pool_missing
            .with_label_values(&labels)
            .set(outcome.acc.missing.len() as f64);
        m.pool_pending
            .with_label_values(&labels)
            .set(outcome.acc.pending.len() as f64);
        m.pool_success
            .with_label_values(&labels)
            .set(outcome.acc.success.len() as f64);
        m.pool_batch_pending
            .with_label_values(&labels)
            .set(outcome.acc.batch_pending.len() as f64);
        if matches!(outcome.action, Action::Trigger | Action::TriggerBatch) {
            m.retests
                .with_label_values(&[org, repo, branch, outcome.action.as_str()])
                .inc_by(outcome.targets.len() as f64);
        }
        tracing::info!(action = outcome.action.as_str(), targets = ?outcome.targets, pool = ?outcome.pool, "subpool synced");
        Ok(Some(PoolView {
            org: org.to_owned(),
            repo: repo.to_owned(),
            branch: branch.to_owned(),
            success_prs: pr_json(&outcome.acc.success),
            pending_prs: pr_json(&outcome.acc.pending),
            missing_prs: pr_json(&outcome.acc.missing),
            batch_pending: pr_json(&outcome.acc.batch_pending),
            action: outcome.action,
            target: pr_json(&outcome.targets),
            blockers: sp.blockers.clone(),
            error,
            tenant_ids,
        }))
    }

    /// Carries out the chosen action; returns the error text for history ("" on success).
    async fn execute(&self, cfg: &Arc<prow_config::Config>, sp: &Subpool, out: &Outcome) -> String {
        let targets: Vec<&Pr> = out
            .targets
            .iter()
            .filter_map(|n| sp.prs.iter().find(|p| p.number == *n))
            .collect();
        match out.action {
            Action::Trigger | Action::TriggerBatch => {
                match self.trigger(cfg, sp, &targets, &out.trigger).await {
                    Ok(()) => String::new(),
                    Err(e) => e,
                }
            }
            Action::Merge | Action::MergeBatch => self.merge(cfg, sp, &targets).await,
            Action::Wait | Action::Blocked => String::new(),
        }
    }

    /// Creates the ProwJobs for TRIGGER (one PR) or TRIGGER_BATCH (several).
    async fn trigger(
        &self,
        cfg: &Arc<prow_config::Config>,
        sp: &Subpool,
        prs: &[&Pr],
        jobs: &[RequiredJob],
    ) -> Result<(), String> {
        let Some(first) = prs.first() else {
            return Ok(());
        };
        let link = repo_link(first, &cfg.prow.github.link_url);
        let pr_refs = |pr: &Pr| prow_config::pjutil::PullRequestRefs {
            org: sp.org.clone(),
            repo: sp.repo.clone(),
            repo_link: link.clone(),
            base_ref: sp.branch.clone(),
            number: pr.number,
            author: pr.author.clone(),
            author_link: format!(
                "{}/{}",
                link.rsplitn(3, '/').nth(2).unwrap_or_default(),
                pr.author
            ),
            head_sha: pr.head_sha.clone(),
            head_ref: pr.head_ref.clone(),
            title: pr.title.clone(),
            link: pr.url.clone(),
        };
        let mut refs = prow_config::pjutil::pull_refs(&pr_refs(first), &sp.base_sha);
        for pr in &prs[1..] {
            let more = prow_config::pjutil::pull_refs(&pr_refs(pr), &sp.base_sha);
            refs.pulls.extend(more.pulls);
        }
        let presubmits = cfg.jobs.presubmits_for(&format!("{}/{}", sp.org, sp.repo));
        let batch = prs.len() > 1;
        let mut contexts = BTreeSet::new();
        let now = (self.inner.opts.clock)();
        for j in jobs {
            if !contexts.insert(j.context.clone()) {
                continue;
            }
            let Some(ps) = presubmits.iter().find(|p| p.base.name == j.name) else {
                return Err(format!("presubmit {:?} is no longer configured", j.name));
            };
            if batch && self.non_failed_batch_exists(sp, &j.name, &refs.pulls) {
                continue;
            }
            let spec = if batch {
                prow_config::pjutil::batch_spec(ps, refs.clone())
            } else {
                prow_config::pjutil::presubmit_spec(ps, refs.clone())
            };
            let mut labels = ps.base.labels.clone();
            labels.insert(
                prow_api::labels::CREATED_BY_TIDE.to_owned(),
                "true".to_owned(),
            );
            let mut pj = prow_config::pjutil::new_prowjob(spec, &labels, &ps.base.annotations, now);
            if let Some(l) = pj.metadata.labels.as_mut() {
                l.insert(
                    prow_api::labels::CREATED_BY_TIDE.to_owned(),
                    "true".to_owned(),
                );
            }
            let ns = if cfg.prow.prowjob_namespace.is_empty() {
                "default"
            } else {
                cfg.prow.prowjob_namespace.as_str()
            };
            pj.metadata.namespace = Some(ns.to_owned());
            if self.inner.opts.dry_run {
                tracing::info!(job = %j.name, "dry-run: would create ProwJob");
                continue;
            }
            if let Err(e) = self.inner.deps.store.create(pj).await {
                let nums: Vec<u64> = prs.iter().map(|p| p.number).collect();
                return Err(format!(
                    "failed to create a ProwJob for job: {:?}, PRs: {nums:?}: {e}",
                    j.name
                ));
            }
            tracing::info!(job = %j.name, batch, "created ProwJob");
        }
        Ok(())
    }

    fn non_failed_batch_exists(&self, sp: &Subpool, job: &str, pulls: &[Pull]) -> bool {
        sp.jobs.iter().any(|j| {
            j.spec.job_type == Some(ProwJobType::Batch)
                && j.spec.job == job
                && !matches!(
                    j.status.state,
                    ProwJobState::Failure | ProwJobState::Error | ProwJobState::Aborted
                )
                && j.spec.refs.as_ref().is_some_and(|r| {
                    r.base_sha == sp.base_sha
                        && r.pulls.len() == pulls.len()
                        && r.pulls
                            .iter()
                            .zip(pulls)
                            .all(|(a, b)| a.number == b.number && a.sha == b.sha)
                })
        })
    }

    /// Prow's `mergePRs`: `tide` status success first, then merge, spaced by `merge_delay`.
    async fn merge(&self, cfg: &Arc<prow_config::Config>, sp: &Subpool, prs: &[&Pr]) -> String {
        let inner = &self.inner;
        let gh = inner.deps.github.clone();
        let tide = &cfg.prow.tide;
        let mut errs: Vec<(u64, String)> = Vec::new();
        let mut merged: Vec<u64> = Vec::new();
        let batch = prs.len() > 1;
        for (i, pr) in prs.iter().enumerate() {
            let Some(method) = sp.merge_methods.get(&pr.number).copied().flatten() else {
                errs.push((
                    pr.number,
                    format!(
                        "multiple merge method labels found for {}/{}#{}",
                        sp.org, sp.repo, pr.number
                    ),
                ));
                continue;
            };
            if inner.opts.dry_run {
                tracing::info!(pr = pr.number, "dry-run: would merge");
                continue;
            }
            let tide_ok = pr.head_contexts().iter().any(|c| {
                c.context.eq_ignore_ascii_case(STATUS_CONTEXT) && c.state == CtxState::Success
            });
            if !tide_ok {
                let st = Status {
                    state: "success".into(),
                    target_url: Some(target_url(tide, pr)).filter(|s| !s.is_empty()),
                    description: Some(crate::status::IN_POOL.into()),
                    context: STATUS_CONTEXT.into(),
                };
                if let Err(e) = gh.create_status(&pr.org, &pr.repo, &pr.head_sha, &st).await {
                    tracing::warn!(pr = pr.number, error = %e, "setting tide status before merge");
                }
            }
            lock(&inner.handoff).dont_update.insert(pr.key());
            if batch && sp.policy.overwrite_pending {
                self.overwrite_pending(sp, pr).await;
            }
            let details = merge_details(
                pr,
                method,
                policy::merge_commit_template(tide, &sp.org, &sp.repo),
            );
            let sleep = inner.opts.sleep.clone();
            let outcome = try_merge(gh.as_ref(), pr, &details, inner.opts.merge_backoff, |d| {
                sleep(d)
            })
            .await;
            match outcome {
                MergeOutcome::Merged => {
                    merged.push(pr.number);
                    tracing::info!(pr = pr.number, method = method.as_str(), "merged");
                    // Give GitHub time to recompute mergeability before the next merge.
                    if i + 1 < prs.len() {
                        (inner.opts.sleep)(inner.opts.merge_delay).await;
                    }
                }
                MergeOutcome::Failed(e) => errs.push((pr.number, e)),
                MergeOutcome::Abort(e) => {
                    errs.push((pr.number, e));
                    break;
                }
            }
        }
        if !merged.is_empty() {
            inner
                .metrics
                .merges
                .with_label_values(&[&sp.org, &sp.repo, &sp.branch])
                .observe(merged.len() as f64);
        }
        merge_failure(prs, &merged, &errs)
    }

    /// `overwrite-pending-contexts`: after a batch passed, report its results on the PR's
    /// still-pending presubmit contexts.
    async fn overwrite_pending(&self, sp: &Subpool, pr: &Pr) {
        let base_jobs: Vec<&ProwJob> = sp
            .jobs
            .iter()
            .filter(|j| {
                j.spec
                    .refs
                    .as_ref()
                    .is_some_and(|r| r.base_sha == sp.base_sha)
            })
            .collect();
        let pending: BTreeSet<&str> = base_jobs
            .iter()
            .filter(|j| j.spec.job_type == Some(ProwJobType::Presubmit))
            .filter(|j| {
                matches!(
                    j.status.state,
                    ProwJobState::Pending | ProwJobState::Triggered
                )
            })
            .filter(|j| {
                j.spec.refs.as_ref().is_some_and(|r| {
                    r.pulls
                        .iter()
                        .any(|p| p.number == pr.number && p.sha == pr.head_sha)
                })
            })
            .map(|j| j.spec.context.as_str())
            .collect();
        for ctx in pending {
            let Some(batch) = base_jobs.iter().find(|j| {
                j.spec.job_type == Some(ProwJobType::Batch)
                    && j.status.state == ProwJobState::Success
                    && j.spec.context == ctx
                    && j.spec.refs.as_ref().is_some_and(|r| {
                        r.pulls.iter().any(|p| p.number == pr.number)
                            && r.pulls.iter().all(|p| {
                                sp.prs
                                    .iter()
                                    .any(|x| x.number == p.number && x.head_sha == p.sha)
                            })
                    })
            }) else {
                continue;
            };
            let st = Status {
                state: "success".into(),
                target_url: Some(batch.status.url.clone()).filter(|u| !u.is_empty()),
                description: Some(format!(
                    "{} BaseSHA:{}",
                    batch.status.description, sp.base_sha
                )),
                context: ctx.to_owned(),
            };
            if let Err(e) = self
                .inner
                .deps
                .github
                .create_status(&pr.org, &pr.repo, &pr.head_sha, &st)
                .await
            {
                tracing::warn!(pr = pr.number, context = ctx, error = %e, "overwriting pending context");
            }
        }
    }

    /// One status-controller pass: compute and, when different, write the `tide` context on
    /// every open PR of the queried repos (and every pooled PR).
    pub async fn sync_status(&self) -> anyhow::Result<()> {
        let start = Instant::now();
        let inner = &self.inner;
        let cfg = (inner.deps.config)();
        let tide = &cfg.prow.tide;
        if tide.queries.is_empty() {
            return Ok(());
        }
        let gh = inner.deps.github.clone();
        let handoff = lock(&inner.handoff).clone();
        let (orgs, repos) = orgs_and_repos(&tide.queries);
        let mut searches: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (o, ex) in &orgs {
            let t = searches.entry(o.clone()).or_default();
            t.push(format!("org:\"{o}\""));
            t.extend(ex.iter().map(|r| format!("-repo:\"{r}\"")));
        }
        for r in &repos {
            if let Some((o, _)) = r.split_once('/') {
                searches
                    .entry(o.to_owned())
                    .or_default()
                    .push(format!("repo:\"{r}\""));
            }
        }
        let mut all: BTreeMap<String, Pr> = BTreeMap::new();
        let now = (inner.opts.clock)();
        for (org, toks) in &searches {
            let q = format!(
                "is:pr state:open sort:updated-asc archived:false {}",
                toks.join(" ")
            );
            let start = {
                let mut st = lock(&inner.status_state);
                let e = st.entry(org.clone()).or_default();
                if e.previous_query != q {
                    *e = StoredState {
                        latest_pr: None,
                        previous_query: q.clone(),
                    };
                }
                e.latest_pr
            };
            let dated = format!("{q} {}", date_token(start, now));
            match search_prs(gh.as_ref(), org, &dated).await {
                Ok(found) => {
                    if let Some(latest) = found.iter().filter_map(|p| p.updated_at).max() {
                        let mut st = lock(&inner.status_state);
                        if let Some(e) = st.get_mut(org) {
                            e.latest_pr = Some(latest - chrono::Duration::seconds(30));
                        }
                    }
                    for pr in found {
                        all.insert(pr.key(), pr);
                    }
                }
                Err(e) => tracing::warn!(org = %org, error = %e, "status search failed"),
            }
        }
        if let Some(p) = &inner.opts.status_path {
            let bytes = serde_json::to_vec(&*lock(&inner.status_state)).unwrap_or_default();
            if let Err(e) = std::fs::write(p, bytes) {
                tracing::warn!(path = %p.display(), error = %e, "saving status state");
            }
        }
        for (k, pr) in &handoff.pool {
            all.entry(k.clone()).or_insert_with(|| pr.clone());
        }
        let jobs = inner
            .deps
            .store
            .list(&ListParams::all())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        let mut methods: HashMap<(String, String), AllowedMethods> = HashMap::new();
        let mut policies: HashMap<(String, String, String), Option<ContextPolicy>> = HashMap::new();
        let mut base_shas = handoff.base_shas.clone();
        for (key, mut pr) in all {
            if handoff.dont_update.contains(&key) {
                continue;
            }
            if pr.contexts.is_none() {
                pr.contexts = rest_contexts(gh.as_ref(), &pr).await.ok();
            }
            let pk = pool_key(&pr.org, &pr.repo, &pr.base_ref);
            let bkey = (pr.org.clone(), pr.repo.clone(), pr.base_ref.clone());
            if !policies.contains_key(&bkey) {
                let presubmits = cfg.jobs.presubmits_for(&format!("{}/{}", pr.org, pr.repo));
                let prot = self
                    .protection_contexts(&cfg, &pr.org, &pr.repo, &pr.base_ref)
                    .await;
                let p = ContextPolicy::build(
                    tide,
                    &pr.org,
                    &pr.repo,
                    &pr.base_ref,
                    presubmits,
                    prot.as_deref(),
                )
                .map_err(|e| tracing::warn!(error = %e, "context policy"))
                .ok();
                policies.insert(bkey.clone(), p);
            }
            let Some(Some(base_policy)) = policies.get(&bkey) else {
                continue;
            };
            let mut cp = base_policy.clone();
            if let Some(req) = handoff.required.get(&key) {
                cp.required.extend(req.iter().cloned());
            }
            let base_sha = match base_shas.get(&pk) {
                Some(s) => s.clone(),
                None => match gh
                    .get_ref(&pr.org, &pr.repo, &format!("heads/{}", pr.base_ref))
                    .await
                {
                    Ok(s) => {
                        base_shas.insert(pk.clone(), s.clone());
                        s
                    }
                    Err(_) => String::new(),
                },
            };
            let passing: Vec<String> = jobs
                .iter()
                .filter(|j| {
                    matches!(
                        j.spec.job_type,
                        Some(ProwJobType::Presubmit | ProwJobType::Batch)
                    )
                })
                .filter(|j| j.status.state == ProwJobState::Success)
                .filter(|j| {
                    j.spec.refs.as_ref().is_some_and(|r| {
                        r.org == pr.org
                            && r.repo == pr.repo
                            && r.base_sha == base_sha
                            && r.pulls.iter().any(|p| p.sha == pr.head_sha)
                    })
                })
                .map(|j| j.spec.context.clone())
                .collect();
            let allowed = self.allowed_methods(&pr.org, &pr.repo, &mut methods).await;
            let mb = policy::merge_blocks_policy(tide, &pr.org, &pr.repo);
            let method = policy::pr_merge_method(tide, &pr.org, &pr.repo, &pr.base_ref, &pr.labels);
            let blockers = handoff.blockers.applicable(&pr.org, &pr.repo, &pr.base_ref);
            let input = StatusInput {
                pr: &pr,
                in_pool: handoff.pool.contains_key(&key),
                merge_reason: merge_allowed(&pr, method, allowed, mb),
                queries: queries_for_repo(&tide.queries, &pr.org, &pr.repo),
                policy: &cp,
                blockers: &blockers,
                passing_contexts: passing,
                display_all: tide.display_all_tide_queries_in_status,
                merge_blocks: mb,
            };
            let (state, desc) = expected_status(&input);
            let current = pr
                .head_contexts()
                .iter()
                .find(|c| c.context == STATUS_CONTEXT);
            let same = current.is_some_and(|c| {
                c.state.as_str().eq_ignore_ascii_case(state) && c.description == desc
            });
            if same || inner.opts.dry_run {
                continue;
            }
            let st = Status {
                state: state.into(),
                target_url: Some(target_url(tide, &pr)).filter(|s| !s.is_empty()),
                description: Some(desc.clone()),
                context: STATUS_CONTEXT.into(),
            };
            if let Err(e) = gh.create_status(&pr.org, &pr.repo, &pr.head_sha, &st).await
                && !e.is_not_found()
            {
                tracing::warn!(org = %pr.org, repo = %pr.repo, pr = pr.number, error = %e, "setting tide status");
            }
        }
        lock(&inner.handoff).dont_update.clear();
        inner
            .metrics
            .status_update_duration
            .set(start.elapsed().as_secs_f64());
        inner
            .metrics
            .sync_heartbeat
            .with_label_values(&["status-update"])
            .inc();
        Ok(())
    }
}

/// Starts the sync loop (every `tide.sync_period`, default 1m) and the status loop (every
/// `tide.status_update_period`, default = sync period) until `shutdown`; returns the handle
/// for in-process readers (`pools_json`, `history_json`, `router`).
pub async fn run(
    deps: TideDeps,
    opts: TideOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<Tide> {
    let tide = Tide::new(deps, opts)?;
    let periods = |cfg: &prow_config::Config| {
        let sync: Duration = cfg
            .prow
            .tide
            .sync_period
            .map(Into::into)
            .unwrap_or(Duration::from_secs(60));
        let status: Duration = cfg
            .prow
            .tide
            .status_update_period
            .map(Into::into)
            .unwrap_or(sync);
        (
            sync.max(Duration::from_millis(100)),
            status.max(Duration::from_millis(100)),
        )
    };
    let t = tide.clone();
    let s = shutdown.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = t.sync().await {
                tracing::error!(error = %e, "tide sync failed");
            }
            let (p, _) = periods(&(t.inner.deps.config)());
            tokio::select! {
                _ = s.cancelled() => return,
                _ = tokio::time::sleep(p) => {}
            }
        }
    });
    let t = tide.clone();
    tokio::spawn(async move {
        loop {
            let (_, p) = periods(&(t.inner.deps.config)());
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(p) => {}
            }
            if let Err(e) = t.sync_status().await {
                tracing::error!(error = %e, "tide status update failed");
            }
        }
    });
    Ok(tide)
}

/// Go's `%v` of an int slice: `[1 2 3]`.
fn go_list(nums: &[u64]) -> String {
    let v: Vec<String> = nums.iter().map(u64::to_string).collect();
    format!("[{}]", v.join(" "))
}

/// Prow's merge failure text for history: `failed merging [1] from batch [1 2], partial merge
/// [2]: #1: reason`; empty when nothing failed.
fn merge_failure(prs: &[&Pr], merged: &[u64], errs: &[(u64, String)]) -> String {
    if errs.is_empty() {
        return String::new();
    }
    let failed: Vec<u64> = errs.iter().map(|(n, _)| *n).collect();
    let mut batch = String::new();
    if prs.len() > 1 {
        let all: Vec<u64> = prs.iter().map(|p| p.number).collect();
        batch = format!(" from batch {}", go_list(&all));
        if !merged.is_empty() {
            batch.push_str(&format!(", partial merge {}", go_list(merged)));
        }
    }
    let msgs: Vec<String> = errs.iter().map(|(n, e)| format!("#{n}: {e}")).collect();
    format!(
        "failed merging {}{batch}: {}",
        go_list(&failed),
        msgs.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_tokens() {
        let end = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        assert_eq!(
            date_token(None, end),
            "updated:2007-01-01T00:00:00Z..2023-11-14T22:13:20Z"
        );
        let old = DateTime::from_timestamp(0, 0);
        assert_eq!(
            date_token(old, end),
            "updated:2007-01-01T00:00:00Z..2023-11-14T22:13:20Z"
        );
        let start = DateTime::from_timestamp(1_600_000_000, 0);
        assert_eq!(
            date_token(start, end),
            "updated:2020-09-13T12:26:40Z..2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn status_state_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("s.json");
        std::fs::write(
            &p,
            r#"{"LatestPR": "2020-09-13T12:26:40Z", "PreviousQuery": "q"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let m = load_status_state(&Some(p.clone()));
        assert_eq!(m[""].previous_query, "q");
        std::fs::write(&p, r#"{"acme": {"LatestPR": null, "PreviousQuery": "x"}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            load_status_state(&Some(p.clone()))["acme"].previous_query,
            "x"
        );
        std::fs::write(&p, "garbage").unwrap_or_else(|e| panic!("{e}"));
        assert!(load_status_state(&Some(p)).is_empty());
    }

    #[test]
    fn merge_failure_text() {
        let a = Pr {
            number: 1,
            ..Default::default()
        };
        let b = Pr {
            number: 2,
            ..Default::default()
        };
        assert_eq!(merge_failure(&[&a, &b], &[2], &[]), "");
        assert_eq!(
            merge_failure(&[&a, &b], &[2], &[(1, "PR was modified: x".into())]),
            "failed merging [1] from batch [1 2], partial merge [2]: #1: PR was modified: x"
        );
        assert_eq!(
            merge_failure(&[&a], &[], &[(1, "boom".into())]),
            "failed merging [1]: #1: boom"
        );
    }
}
