//! Merge-queue simulation driving the real decision core ([`crate::core::sync_subpool_with`])
//! on a virtual clock: a saturated queue of ready PRs, jobs that take a fixed time `T` and fail
//! independently per PR with probability `p` (seeded RNG). Reports merges per hour and CI runs
//! per merged PR, next to the closed forms of `docs/peers.md` §4.3. [`e2e`] runs the same model
//! through the real Tide shell over the GitHub simulator.
//!
//! Model: every PR needs one required presubmit; a run over a set of PRs (a serial presubmit or a
//! batch) fails if any of its PRs fails (independent draws per run, so failures behave like
//! flakes and a failed PR is retested). Tide syncs every `sync_period`; a merge moves the base,
//! which invalidates every result on the old base. Merges are instantaneous.

use std::collections::BTreeMap;

use prow_api::{ProwJob, ProwJobSpec, ProwJobState, ProwJobStatus, ProwJobType, Pull, Refs};
use rand::{Rng, SeedableRng};

use crate::core::{
    Action, ActionSelector, Knobs, MergeableBatchPicker, RequiredJob, Subpool, TideSelector,
    sync_subpool_with,
};
use crate::model::Pr;

pub mod e2e;
pub use e2e::{E2eParams, report_e2e, report_e2e_blocking, simulate_e2e};

/// Simulation parameters.
#[derive(Clone, Debug)]
pub struct BenchParams {
    /// PRs kept ready in the queue (refilled after merges).
    pub queue: usize,
    /// Job duration in minutes.
    pub job_minutes: u64,
    /// Per-PR failure probability of one run.
    pub p: f64,
    /// `batch_size_limit` (0 unlimited, -1 no batches).
    pub batch_size_limit: i64,
    /// Tide sync period in minutes.
    pub sync_minutes: u64,
    /// Simulated hours.
    pub hours: u64,
    /// RNG seed.
    pub seed: u64,
}

impl Default for BenchParams {
    fn default() -> Self {
        BenchParams {
            queue: 30,
            job_minutes: 60,
            p: 0.05,
            batch_size_limit: 5,
            sync_minutes: 1,
            hours: 24 * 14,
            seed: 1,
        }
    }
}

/// What the simulation measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchResult {
    /// Parameters used.
    pub p: f64,
    /// Batch size limit used.
    pub batch_size_limit: i64,
    /// PRs merged.
    pub merges: u64,
    /// Job runs started (serial + batch).
    pub ci_runs: u64,
    /// Merged PRs per hour.
    pub merges_per_hour: f64,
    /// CI runs per merged PR.
    pub ci_runs_per_merge: f64,
    /// `(1 − p)/T` per hour (serial bound).
    pub serial_formula: f64,
    /// `B(1 − p)^B/T` per hour for the effective `B` (Tide-like single batch, no bisection).
    pub batch_formula: f64,
}

struct RunningJob {
    job: ProwJob,
    ends: u64,
}

fn job(ty: ProwJobType, base: &str, pulls: &[(u64, String)]) -> ProwJob {
    ProwJob::new(
        Default::default(),
        ProwJobSpec {
            job_type: Some(ty),
            job: "unit".into(),
            context: "unit".into(),
            refs: Some(Refs {
                org: "sim".into(),
                repo: "repo".into(),
                base_ref: "main".into(),
                base_sha: base.into(),
                pulls: pulls
                    .iter()
                    .map(|(n, sha)| Pull {
                        number: *n,
                        sha: sha.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        },
        ProwJobStatus {
            state: ProwJobState::Pending,
            ..Default::default()
        },
    )
}

/// Runs the simulation with Tide's own action selection.
pub fn simulate(params: &BenchParams) -> BenchResult {
    simulate_with(params, &TideSelector)
}

/// Runs the simulation with any [`ActionSelector`] (e.g. a speculative queue).
pub fn simulate_with(params: &BenchParams, selector: &dyn ActionSelector) -> BenchResult {
    let mut rng = rand::rngs::StdRng::seed_from_u64(params.seed);
    let t = params.job_minutes.max(1);
    let horizon = params.hours * 60;
    let mut next_pr = 1u64;
    let mut prs: BTreeMap<u64, Pr> = BTreeMap::new();
    let mut base = 0u64;
    let mut running: Vec<RunningJob> = Vec::new();
    let mut done: Vec<ProwJob> = Vec::new();
    let (mut merges, mut ci_runs) = (0u64, 0u64);
    let mut now = 0u64;
    let mut batch_sizes: Vec<usize> = Vec::new();
    while now < horizon {
        while prs.len() < params.queue {
            prs.insert(
                next_pr,
                Pr {
                    org: "sim".into(),
                    repo: "repo".into(),
                    number: next_pr,
                    base_ref: "main".into(),
                    head_sha: format!("head{next_pr}"),
                    mergeable: "MERGEABLE".into(),
                    contexts: Some(vec![]),
                    ..Default::default()
                },
            );
            next_pr += 1;
        }
        // Finish jobs.
        let (finished, still): (Vec<RunningJob>, Vec<RunningJob>) =
            running.into_iter().partition(|j| j.ends <= now);
        running = still;
        for mut f in finished {
            let n = f.job.spec.refs.as_ref().map_or(0, |r| r.pulls.len());
            let fails = (0..n).any(|_| rng.random::<f64>() < params.p);
            f.job.status.state = if fails {
                ProwJobState::Failure
            } else {
                ProwJobState::Success
            };
            done.push(f.job);
        }
        let base_sha = format!("base{base}");
        // Only jobs on the current base matter; drop the rest to keep the simulation small.
        done.retain(|j| j.spec.refs.as_ref().is_some_and(|r| r.base_sha == base_sha));
        let jobs: Vec<ProwJob> = done
            .iter()
            .cloned()
            .chain(running.iter().map(|r| r.job.clone()))
            .collect();
        let sp = Subpool {
            org: "sim".into(),
            repo: "repo".into(),
            branch: "main".into(),
            base_sha: base_sha.clone(),
            prs: prs.values().cloned().collect(),
            jobs,
            presubmits: prs
                .keys()
                .map(|n| {
                    (
                        *n,
                        vec![RequiredJob {
                            name: "unit".into(),
                            context: "unit".into(),
                        }],
                    )
                })
                .collect(),
            knobs: Knobs {
                batch_size_limit: params.batch_size_limit,
                prioritize_existing_batches: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let out = sync_subpool_with(&sp, selector, &mut MergeableBatchPicker);
        let pulls = |nums: &[u64]| -> Vec<(u64, String)> {
            nums.iter()
                .filter_map(|n| prs.get(n).map(|p| (*n, p.head_sha.clone())))
                .collect()
        };
        match out.action {
            Action::Trigger => {
                running.push(RunningJob {
                    job: job(ProwJobType::Presubmit, &base_sha, &pulls(&out.targets)),
                    ends: now + t,
                });
                ci_runs += 1;
            }
            Action::TriggerBatch => {
                running.push(RunningJob {
                    job: job(ProwJobType::Batch, &base_sha, &pulls(&out.targets)),
                    ends: now + t,
                });
                batch_sizes.push(out.targets.len());
                ci_runs += 1;
            }
            Action::Merge | Action::MergeBatch => {
                for n in &out.targets {
                    prs.remove(n);
                    merges += 1;
                }
                // Results on the old base are worthless now; running jobs keep burning CI.
                base += 1;
            }
            Action::Wait | Action::Blocked => {}
        }
        now += params.sync_minutes.max(1);
    }
    let hours = params.hours.max(1) as f64;
    let th = t as f64 / 60.0;
    let b = if batch_sizes.is_empty() {
        1.0
    } else {
        batch_sizes.iter().sum::<usize>() as f64 / batch_sizes.len() as f64
    };
    BenchResult {
        p: params.p,
        batch_size_limit: params.batch_size_limit,
        merges,
        ci_runs,
        merges_per_hour: merges as f64 / hours,
        ci_runs_per_merge: if merges == 0 {
            f64::INFINITY
        } else {
            ci_runs as f64 / merges as f64
        },
        serial_formula: (1.0 - params.p) / th,
        batch_formula: b * (1.0 - params.p).powf(b) / th,
    }
}

/// The `prow bench tide` table: p ∈ {0.05, 0.2} × batch limit ∈ {5, unlimited, off}.
pub fn report(job_minutes: u64, hours: u64, seed: u64) -> String {
    let mut out = String::from(
        "p     batch_limit  merges/h  CI runs/merge  serial (1-p)/T  batch B(1-p)^B/T\n",
    );
    for p in [0.05, 0.2] {
        for limit in [5, 0, -1] {
            let r = simulate(&BenchParams {
                p,
                batch_size_limit: limit,
                job_minutes,
                hours,
                seed,
                ..Default::default()
            });
            out.push_str(&row(&r));
        }
    }
    out
}

/// One table row of [`report`] / [`report_e2e`].
fn row(r: &BenchResult) -> String {
    let l = match r.batch_size_limit {
        0 => "unlimited".to_owned(),
        -1 => "off".to_owned(),
        n => n.to_string(),
    };
    format!(
        "{:<5} {:<12} {:>8.2}  {:>13.2}  {:>14.2}  {:>16.2}\n",
        r.p, l, r.merges_per_hour, r.ci_runs_per_merge, r.serial_formula, r.batch_formula
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_matches_formula_and_batches_beat_it() {
        let base = BenchParams {
            hours: 24 * 2,
            ..Default::default()
        };
        let serial = simulate(&BenchParams {
            batch_size_limit: -1,
            ..base.clone()
        });
        // One PR per T (plus a sync period of latency), times (1 − p).
        assert!(
            serial.merges_per_hour > 0.8 && serial.merges_per_hour <= serial.serial_formula + 0.01,
            "{serial:?}"
        );
        assert!(
            serial.ci_runs_per_merge >= 1.0 && serial.ci_runs_per_merge < 1.2,
            "{serial:?}"
        );
        let batched = simulate(&BenchParams {
            batch_size_limit: 5,
            ..base.clone()
        });
        assert!(
            batched.merges_per_hour > 2.0 * serial.merges_per_hour,
            "{batched:?} vs {serial:?}"
        );
        // Deterministic for a seed.
        assert_eq!(simulate(&base), simulate(&base));
    }
}
