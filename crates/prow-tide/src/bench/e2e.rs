//! The merge-queue benchmark end to end: the real [`Tide`] shell (GraphQL search, subpools,
//! ProwJob creation, REST merges with real git) against the GitHub simulator
//! (`prow-github-fake`) and an in-memory job store, on a virtual clock.
//!
//! The world: one repository `sim/repo`, a bot `prow-bot` (Tide's and the job runner's
//! identity) and an author `alice`. The config has one Tide query (`lgtm` + `approved`) and one
//! required `always_run` presubmit `unit`. The queue is kept at [`BenchParams::queue`] ready PRs:
//! whenever PRs merge, new ones are opened, each adding its own file (so they never conflict)
//! and labelled `lgtm` + `approved` by the bot. Each PR enters the queue green on an older
//! base (the `unit` context as crier reported trigger's run before approval, with ` BaseSHA:`
//! of `main`'s seed commit; that run is not counted): real Prow, like this Tide, leaves PRs
//! without the required context out of the pool, and results on an old base make Tide retest.
//!
//! Each step is [`BenchParams::sync_minutes`] virtual minutes (1 by default):
//! 1. jobs whose time is up complete (the job runner, below);
//! 2. `Tide::sync()` runs (and `Tide::sync_status()` every [`E2eParams::status_every_minutes`]);
//! 3. every ProwJob Tide created becomes `pending` at once and completes `T` minutes later;
//! 4. merged PRs are counted and the queue is refilled.
//!
//! Job model (the same as the core-only [`super::simulate`]): when a run (serial presubmit or
//! batch) completes, each PR it contains is independently "bad" with probability `p` for that
//! run (seeded RNG, fresh draws per run — flake-like failures, so a failed PR is retested and
//! may pass next time); the run fails if any of its PRs is bad. The runner writes the job's
//! state and times through the [`JobStore`] and, like crier, the GitHub status for the job's
//! context (pending at start, final at completion; description padded with U+2001 and suffixed
//! ` BaseSHA:<base>`; batch jobs are not reported, as in Prow). Completed jobs on an old base are
//! deleted, like sinker would eventually, to keep listings small.
//!
//! CI runs per merge counts runs that completed within the simulated horizon (a batch job is
//! one run); the few still in flight at the end are not charged.
//!
//! A failed presubmit is reported as `failure`, which keeps the PR out of Tide's pool (as in
//! Prow); the author then comments `/retest` at once, so trigger runs it again on the current
//! base (a counted CI run). Batch failures are not reported, so Tide retests those PRs itself.
//!
//! Idle fast-forward ([`E2eParams::skip_idle`]): when the last sync chose `WAIT` and nothing
//! changed since (no job completed, no PR opened), another sync would choose `WAIT` again, so
//! the loop jumps to the next job completion instead of syncing every minute. The decision core
//! has no clock input, so results are the same as minute-by-minute stepping; it only saves wall
//! time.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobState, ProwJobType};
use prow_github::{GitHub, Status};
use prow_github_fake::{FakeGitHub, NewPullRequest};
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::{JobStore, ListParams};
use rand::{Rng, SeedableRng};
use tracing::Instrument;

use super::{BenchParams, BenchResult};
use crate::core::Action;
use crate::sync::{Tide, TideDeps, TideOptions};

const ORG: &str = "sim";
const REPO: &str = "repo";
const BOT: &str = "prow-bot";
const AUTHOR: &str = "alice";
const JOB: &str = "unit";

const SEED: &str = r#"
users:
  - {login: prow-bot, type: Bot}
  - {login: alice}
orgs:
  - {login: sim, members: [alice]}
repos:
  - name: sim/repo
    labels: [lgtm, approved]
    files: {README.md: "merge-queue benchmark\n"}
"#;

/// Parameters of [`simulate_e2e`].
#[derive(Clone, Debug)]
pub struct E2eParams {
    /// Queue size, `T`, `p`, batch limit, step (`sync_minutes`), hours, seed.
    pub bench: BenchParams,
    /// Run `Tide::sync_status()` (the `tide` context writer) at most this often, in virtual
    /// minutes; 0 never. It does not influence decisions, only realism and wall time.
    pub status_every_minutes: u64,
    /// Jump over idle minutes (see the module docs); `false` steps every minute.
    pub skip_idle: bool,
}

impl Default for E2eParams {
    fn default() -> Self {
        E2eParams {
            bench: BenchParams {
                hours: 48,
                ..Default::default()
            },
            status_every_minutes: 10,
            skip_idle: true,
        }
    }
}

fn config_yaml(batch_size_limit: i64) -> String {
    format!(
        r#"
tide:
  queries:
  - repos: [{ORG}/{REPO}]
    labels: [lgtm, approved]
  batch_size_limit:
    "{ORG}/{REPO}": {batch_size_limit}
presubmits:
  {ORG}/{REPO}:
  - name: {JOB}
    always_run: true
    spec:
      containers:
      - image: alpine
"#
    )
}

/// Crier's status description: the text, U+2001 padding and ` BaseSHA:<sha>`, 140 chars in
/// all (GitHub's limit), so the suffix sits at a stable place.
fn crier_description(text: &str, base_sha: &str) -> String {
    let suffix = format!(" BaseSHA:{base_sha}");
    let room = 140usize.saturating_sub(suffix.chars().count());
    let mut d: String = text.chars().take(room).collect();
    let pad = room - d.chars().count();
    d.extend(std::iter::repeat_n('\u{2001}', pad));
    d + &suffix
}

/// Minutes since the simulation started, shared with Tide's clock.
#[derive(Clone)]
struct VirtualClock {
    start: DateTime<Utc>,
    minute: Arc<AtomicI64>,
}

impl VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::minutes(self.minute.load(Ordering::Relaxed))
    }
    fn set(&self, minute: u64) {
        self.minute
            .store(i64::try_from(minute).unwrap_or(i64::MAX), Ordering::Relaxed);
    }
}

struct Sim {
    fake: FakeGitHub,
    bot: Arc<dyn GitHub>,
    store: Arc<MemoryStore>,
    tide: Tide,
    clock: VirtualClock,
    rng: rand::rngs::StdRng,
    p: f64,
    t: u64,
    /// An older base of `main` (its seed commit): where PRs were tested before they entered
    /// the queue.
    old_base: String,
    /// Open PRs we opened.
    open: BTreeSet<u64>,
    next_branch: u64,
    /// Running job name → completion minute.
    running: BTreeMap<String, u64>,
    /// Every job name already picked up by the runner.
    seen: BTreeSet<String>,
    merges: u64,
    /// Runs completed within the horizon (a batch is one run); runs still in flight at the
    /// end are left out so a short simulation does not charge merges for unfinished work.
    ci_runs: u64,
    batch_sizes: Vec<usize>,
    _dir: tempfile::TempDir,
}

impl Sim {
    fn new(params: &E2eParams) -> anyhow::Result<Sim> {
        let b = &params.bench;
        let fake = FakeGitHub::from_seed_yaml(SEED)?;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, config_yaml(b.batch_size_limit))?;
        let cfg = prow_config::load(&prow_config::LoadOptions {
            config_path: path,
            ..Default::default()
        })
        .map_err(|e| anyhow::anyhow!("benchmark config: {e}"))?;
        let cfg = Arc::new(cfg);
        let store = Arc::new(MemoryStore::default());
        let bot: Arc<dyn GitHub> = Arc::new(fake.client(BOT));
        let old_base = fake
            .branch_sha(ORG, REPO, "main")
            .ok_or_else(|| anyhow::anyhow!("benchmark repo has no main branch"))?;
        // Move main past the seed commit so pre-queue results are on an older base.
        let mut files = BTreeMap::new();
        files.insert("BENCHMARK.md".to_owned(), Some("started\n".to_owned()));
        fake.push_files(BOT, ORG, REPO, "main", files, "Start the benchmark")?;
        // Start at the real time so the simulator's (real) update times are never in the
        // virtual future of the status controller's `updated:..now` window.
        let clock = VirtualClock {
            start: Utc::now(),
            minute: Arc::new(AtomicI64::new(0)),
        };
        let c2 = clock.clone();
        let opts = TideOptions {
            clock: Arc::new(move || c2.now()),
            sleep: Arc::new(|_| Box::pin(async {})),
            ..Default::default()
        };
        let tide = Tide::new(
            TideDeps {
                github: bot.clone(),
                store: store.clone(),
                config: Arc::new(move || cfg.clone()),
                registry: prometheus::Registry::new(),
            },
            opts,
        )?;
        Ok(Sim {
            fake,
            bot,
            store,
            tide,
            clock,
            rng: rand::rngs::StdRng::seed_from_u64(b.seed),
            p: b.p,
            t: b.job_minutes.max(1),
            old_base,
            open: BTreeSet::new(),
            next_branch: 1,
            running: BTreeMap::new(),
            seen: BTreeSet::new(),
            merges: 0,
            ci_runs: 0,
            batch_sizes: Vec::new(),
            _dir: dir,
        })
    }

    /// Opens labelled PRs until `queue` are open; returns how many were opened.
    async fn refill(&mut self, queue: usize) -> anyhow::Result<usize> {
        let mut opened = 0;
        while self.open.len() < queue {
            let i = self.next_branch;
            self.next_branch += 1;
            let mut files = BTreeMap::new();
            files.insert(format!("changes/{i}.txt"), Some(format!("change {i}\n")));
            let n = self.fake.open_pull_request(
                AUTHOR,
                ORG,
                REPO,
                NewPullRequest {
                    title: format!("Change {i}"),
                    body: String::new(),
                    base: "main".into(),
                    head: format!("change-{i}"),
                    draft: false,
                    files,
                },
            )?;
            // Trigger's run on open passed before the PR was approved, on a base that has
            // moved since (not counted: it happened before the PR entered the queue). Without
            // the context Tide would leave the PR out ("context unit is expected").
            let head = self
                .fake
                .pull_request(ORG, REPO, n)
                .map(|p| p.head.sha)
                .ok_or_else(|| anyhow::anyhow!("PR #{n} vanished"))?;
            let st = Status {
                state: "success".into(),
                target_url: None,
                description: Some(crier_description("Job succeeded.", &self.old_base)),
                context: JOB.into(),
            };
            self.bot.create_status(ORG, REPO, &head, &st).await?;
            self.bot
                .add_labels(ORG, REPO, n, &["lgtm".to_owned(), "approved".to_owned()])
                .await?;
            self.open.insert(n);
            opened += 1;
        }
        Ok(opened)
    }

    async fn jobs(&self) -> anyhow::Result<Vec<ProwJob>> {
        Ok(self.store.list(&ListParams::all()).await?.items)
    }

    /// Crier: the job's context on its single PR's head (batch jobs are not reported).
    async fn report(&self, job: &ProwJob) -> anyhow::Result<()> {
        let Some(refs) = job.spec.refs.as_ref() else {
            return Ok(());
        };
        let [pull] = refs.pulls.as_slice() else {
            return Ok(());
        };
        let state = match job.status.state {
            ProwJobState::Success => "success",
            ProwJobState::Failure | ProwJobState::Aborted => "failure",
            ProwJobState::Error => "error",
            _ => "pending",
        };
        let st = Status {
            state: state.into(),
            target_url: None,
            description: Some(crier_description(&job.status.description, &refs.base_sha)),
            context: job.spec.context.clone(),
        };
        self.bot.create_status(ORG, REPO, &pull.sha, &st).await?;
        Ok(())
    }

    /// Completes every running job due by `minute`; returns how many completed.
    async fn complete_due(&mut self, minute: u64) -> anyhow::Result<usize> {
        let due: Vec<String> = self
            .running
            .iter()
            .filter(|(_, end)| **end <= minute)
            .map(|(n, _)| n.clone())
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        let jobs = self.jobs().await?;
        for name in &due {
            self.running.remove(name);
            let Some(mut job) = jobs.iter().find(|j| j.name() == name).cloned() else {
                continue;
            };
            let span = tracing::info_span!("bench_job", job = %name, org = ORG, repo = REPO);
            self.ci_runs += 1;
            let n = job.spec.refs.as_ref().map_or(0, |r| r.pulls.len());
            let p = self.p;
            let fails = (0..n).any(|_| self.rng.random::<f64>() < p);
            let (state, desc) = if fails {
                (ProwJobState::Failure, "Job failed.")
            } else {
                (ProwJobState::Success, "Job succeeded.")
            };
            job.status.state = state;
            job.status.description = desc.into();
            job.status.completion_time = Some(self.clock.now());
            let job = self
                .store
                .update_status(job)
                .instrument(span.clone())
                .await?;
            self.report(&job).instrument(span.clone()).await?;
            if fails && job.spec.job_type == Some(ProwJobType::Presubmit) {
                self.retest(&job).instrument(span).await?;
            }
        }
        Ok(due.len())
    }

    /// The author's `/retest` after a failed presubmit: trigger creates the job again on the
    /// current base. Without it the `failure` context would keep the PR out of Tide's pool
    /// for good (Tide never retests a PR whose context failed), while failures here are flakes.
    async fn retest(&self, failed: &ProwJob) -> anyhow::Result<()> {
        let Some(mut refs) = failed.spec.refs.clone() else {
            return Ok(());
        };
        if refs.pulls.iter().any(|p| !self.open.contains(&p.number)) {
            return Ok(());
        }
        refs.base_sha = self.fake.branch_sha(ORG, REPO, "main").unwrap_or_default();
        let mut spec = failed.spec.clone();
        spec.refs = Some(refs);
        let job = prow_config::pjutil::new_prowjob(
            spec,
            &BTreeMap::new(),
            &BTreeMap::new(),
            self.clock.now(),
        );
        self.store.create(job).await?;
        Ok(())
    }

    /// Picks up jobs Tide (or a `/retest`) created: pending now, due `T` minutes later.
    async fn start_new(&mut self, minute: u64) -> anyhow::Result<()> {
        for mut job in self.jobs().await? {
            if self.seen.contains(job.name()) || job.complete() {
                continue;
            }
            let name = job.name().to_owned();
            self.seen.insert(name.clone());
            if job.spec.job_type == Some(ProwJobType::Batch) {
                self.batch_sizes
                    .push(job.spec.refs.as_ref().map_or(0, |r| r.pulls.len()));
            }
            let now = self.clock.now();
            job.status.state = ProwJobState::Pending;
            job.status.description = "Job triggered.".into();
            job.status.pending_time = Some(now);
            if job.status.start_time.is_none() {
                job.status.start_time = Some(now);
            }
            let span = tracing::info_span!("bench_job", job = %name, org = ORG, repo = REPO);
            let job = self
                .store
                .update_status(job)
                .instrument(span.clone())
                .await?;
            self.report(&job).instrument(span).await?;
            self.running.insert(name, minute + self.t);
        }
        Ok(())
    }

    /// Counts merged PRs and garbage-collects completed jobs on old bases.
    async fn after_sync(&mut self) -> anyhow::Result<()> {
        let merged: Vec<u64> = self
            .open
            .iter()
            .copied()
            .filter(|n| {
                self.fake
                    .pull_request(ORG, REPO, *n)
                    .is_some_and(|p| p.merged)
            })
            .collect();
        if merged.is_empty() {
            return Ok(());
        }
        for n in &merged {
            self.open.remove(n);
        }
        self.merges += merged.len() as u64;
        let base = self.fake.branch_sha(ORG, REPO, "main").unwrap_or_default();
        for j in self.jobs().await? {
            let old = j.spec.refs.as_ref().is_some_and(|r| r.base_sha != base);
            if old && j.complete() {
                self.store.delete(j.name()).await?;
            }
        }
        Ok(())
    }

    fn last_action(&self) -> Action {
        self.tide.pools().first().map_or(Action::Wait, |p| p.action)
    }
}

/// Runs the merge-queue benchmark over the simulator (see the module docs for the model).
pub async fn simulate_e2e(params: &E2eParams) -> anyhow::Result<BenchResult> {
    let b = &params.bench;
    let span = tracing::info_span!("bench_e2e", p = b.p, batch_size_limit = b.batch_size_limit);
    async move {
        let mut sim = Sim::new(params)?;
        let horizon = b.hours * 60;
        let step = b.sync_minutes.max(1);
        let mut minute = 0u64;
        let mut last_status: Option<u64> = None;
        // Whether something changed since the last sync (forces the next one).
        let mut dirty = true;
        let mut last_action = Action::Wait;
        while minute < horizon {
            sim.clock.set(minute);
            if sim.complete_due(minute).await? > 0 {
                dirty = true;
                // `/retest` jobs start (and report pending) before Tide looks again.
                sim.start_new(minute).await?;
            }
            let must_sync = !params.skip_idle || dirty || last_action != Action::Wait;
            if must_sync {
                sim.tide.sync().await?;
                last_action = sim.last_action();
                dirty = false;
                sim.start_new(minute).await?;
                sim.after_sync().await?;
                if params.status_every_minutes > 0
                    && last_status.is_none_or(|s| minute >= s + params.status_every_minutes)
                {
                    sim.tide.sync_status().await?;
                    last_status = Some(minute);
                }
            }
            if sim.refill(b.queue).await? > 0 {
                dirty = true;
            }
            minute = if params.skip_idle && !dirty && last_action == Action::Wait {
                // Nothing can change before the next completion; jump there (aligned to steps).
                match sim.running.values().min() {
                    Some(&end) => end.max(minute + step).div_ceil(step) * step,
                    None => horizon,
                }
            } else {
                minute + step
            };
        }
        let hours = b.hours.max(1) as f64;
        let th = sim.t as f64 / 60.0;
        let bsz = if sim.batch_sizes.is_empty() {
            1.0
        } else {
            sim.batch_sizes.iter().sum::<usize>() as f64 / sim.batch_sizes.len() as f64
        };
        Ok(BenchResult {
            p: b.p,
            batch_size_limit: b.batch_size_limit,
            merges: sim.merges,
            ci_runs: sim.ci_runs,
            merges_per_hour: sim.merges as f64 / hours,
            ci_runs_per_merge: if sim.merges == 0 {
                f64::INFINITY
            } else {
                sim.ci_runs as f64 / sim.merges as f64
            },
            serial_formula: (1.0 - b.p) / th,
            batch_formula: bsz * (1.0 - b.p).powf(bsz) / th,
        })
    }
    .instrument(span)
    .await
}

/// The `prow bench tide --simulator` table: p ∈ {0.05, 0.2} × batch limit ∈ {5, unlimited,
/// off}, measured end to end over the simulator, next to the formulas.
pub async fn report_e2e(job_minutes: u64, hours: u64, seed: u64) -> anyhow::Result<String> {
    let mut out = String::from(
        "p     batch_limit  merges/h  CI runs/merge  serial (1-p)/T  batch B(1-p)^B/T\n",
    );
    for p in [0.05, 0.2] {
        for limit in [5, 0, -1] {
            let r = simulate_e2e(&E2eParams {
                bench: BenchParams {
                    p,
                    batch_size_limit: limit,
                    job_minutes,
                    hours,
                    seed,
                    ..Default::default()
                },
                ..Default::default()
            })
            .await?;
            out.push_str(&super::row(&r));
        }
    }
    Ok(out)
}

/// [`report_e2e`] on its own Tokio runtime, for synchronous callers (`prow bench`).
pub fn report_e2e_blocking(job_minutes: u64, hours: u64, seed: u64) -> anyhow::Result<String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(report_e2e(job_minutes, hours, seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crier_descriptions_carry_the_base() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let d = crier_description("Job succeeded.", sha);
        assert_eq!(crate::model::base_sha_from_description(&d), Some(sha));
        assert_eq!(d.chars().count(), 140);
        assert!(d.starts_with("Job succeeded.\u{2001}"));
    }
}
