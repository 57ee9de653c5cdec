//! The decision core: a pure function of (subpool state, ProwJobs, config knobs) → filtered PRs,
//! accumulated results and one [`Action`] with its targets (spec §7.2 steps 3–8; Prow's
//! `filterPR`, `accumulate`, `accumulateBatch`, `takeAction`, `pickBatch`).
//!
//! No I/O and no clock. Batch composition beyond existing batches is delegated to a
//! [`BatchPicker`] (the shell's git merge check), and the action choice itself to an
//! [`ActionSelector`] so a different queue strategy can replace Tide's without touching I/O.

use std::collections::{BTreeMap, BTreeSet};

use prow_api::{ProwJob, ProwJobState, ProwJobType};
use serde::{Deserialize, Serialize};

use crate::model::{
    Blocker, CtxState, Pr, STATUS_CONTEXT, base_sha_from_description, is_skip_retest,
};
use crate::policy::{ContextPolicy, MergeBlocksPolicy, MergeMethod};
use crate::query::unsuccessful_contexts;

/// What Tide does to a subpool in one sync (serialized with Prow's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Action {
    /// Nothing to do.
    #[default]
    #[serde(rename = "WAIT")]
    Wait,
    /// Run missing jobs for one PR.
    #[serde(rename = "TRIGGER")]
    Trigger,
    /// Run the required jobs on several PRs merged together.
    #[serde(rename = "TRIGGER_BATCH")]
    TriggerBatch,
    /// Merge one PR.
    #[serde(rename = "MERGE")]
    Merge,
    /// Merge every PR of a passing batch.
    #[serde(rename = "MERGE_BATCH")]
    MergeBatch,
    /// Blocker issues forbid merging.
    #[serde(rename = "BLOCKED")]
    Blocked,
}

impl Action {
    /// Prow's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Wait => "WAIT",
            Action::Trigger => "TRIGGER",
            Action::TriggerBatch => "TRIGGER_BATCH",
            Action::Merge => "MERGE",
            Action::MergeBatch => "MERGE_BATCH",
            Action::Blocked => "BLOCKED",
        }
    }

    /// Whether the action is recorded in `/history` (everything but WAIT and BLOCKED).
    pub fn recorded(self) -> bool {
        matches!(
            self,
            Action::Trigger | Action::TriggerBatch | Action::Merge | Action::MergeBatch
        )
    }
}

/// A presubmit Tide requires for a PR (name and context; the shell maps it back to config).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequiredJob {
    /// Job name.
    pub name: String,
    /// Its GitHub context.
    pub context: String,
}

/// Which merge methods the repository allows (`allow_*` from `GET /repos`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowedMethods {
    /// `allow_merge_commit`.
    pub merge: bool,
    /// `allow_squash_merge`.
    pub squash: bool,
    /// `allow_rebase_merge`.
    pub rebase: bool,
}

impl Default for AllowedMethods {
    fn default() -> Self {
        AllowedMethods {
            merge: true,
            squash: true,
            rebase: true,
        }
    }
}

impl AllowedMethods {
    fn allows(self, m: MergeMethod) -> bool {
        match m {
            MergeMethod::Merge => self.merge,
            MergeMethod::Squash => self.squash,
            MergeMethod::Rebase => self.rebase,
        }
    }
}

/// Config knobs for one subpool.
#[derive(Clone, Debug, Default)]
pub struct Knobs {
    /// `batch_size_limit` (0 unlimited, <0 no batches).
    pub batch_size_limit: i64,
    /// `prioritize_existing_batches`.
    pub prioritize_existing_batches: bool,
    /// `tide.priority`: label sets, each entry `a,b` meaning a OR b.
    pub priority: Vec<Vec<String>>,
    /// `github_merge_blocks_policy`.
    pub merge_blocks: Option<MergeBlocksPolicy>,
}

/// Everything the core needs about one `org/repo:branch`.
#[derive(Clone, Debug, Default)]
pub struct Subpool {
    /// Owner.
    pub org: String,
    /// Repository.
    pub repo: String,
    /// Base branch.
    pub branch: String,
    /// Current base branch SHA.
    pub base_sha: String,
    /// PRs that matched a query (contexts resolved).
    pub prs: Vec<Pr>,
    /// Presubmit and batch ProwJobs of this org/repo/branch (any base SHA).
    pub jobs: Vec<ProwJob>,
    /// Required presubmits per PR (Prow's `presubmitsByPull`); PRs without any have no entry.
    pub presubmits: BTreeMap<u64, Vec<RequiredJob>>,
    /// Context policy of the branch.
    pub policy: ContextPolicy,
    /// Merge method per PR after label overrides (`None` = conflicting labels).
    pub merge_methods: BTreeMap<u64, Option<MergeMethod>>,
    /// Repository merge settings.
    pub allowed: AllowedMethods,
    /// Blocker issues for this branch.
    pub blockers: Vec<Blocker>,
    /// Config knobs.
    pub knobs: Knobs,
}

impl Subpool {
    /// `org/repo:branch`.
    pub fn key(&self) -> String {
        crate::model::pool_key(&self.org, &self.repo, &self.branch)
    }

    fn pr(&self, n: u64) -> Option<&Pr> {
        self.prs.iter().find(|p| p.number == n)
    }

    /// Jobs whose refs are on the current base SHA.
    fn base_jobs(&self) -> impl Iterator<Item = &ProwJob> {
        self.jobs.iter().filter(move |j| {
            j.spec
                .refs
                .as_ref()
                .is_some_and(|r| r.base_sha == self.base_sha)
        })
    }
}

/// Prow's merge check (`isAllowedToMerge`): `Some(reason)` when the PR cannot merge.
pub fn merge_allowed(
    pr: &Pr,
    method: Option<MergeMethod>,
    allowed: AllowedMethods,
    merge_blocks: MergeBlocksPolicy,
) -> Option<String> {
    if pr.mergeable == "CONFLICTING" {
        return Some("PR has a merge conflict.".into());
    }
    let Some(method) = method else {
        return Some("PR has conflicting merge method override labels".into());
    };
    if method == MergeMethod::Rebase && !pr.can_be_rebased {
        return Some("PR can't be rebased".into());
    }
    if !allowed.allows(method) {
        return Some(format!(
            "Merge type \"{}\" disallowed by repo settings",
            method.as_str()
        ));
    }
    if pr.merge_state_status == "BLOCKED" && merge_blocks == MergeBlocksPolicy::Block {
        return Some(
            "PR is blocked from merging by GitHub (check branch protection, required reviews, or rulesets)"
                .into(),
        );
    }
    None
}

/// Roll-up of job results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Simple {
    Failure,
    Pending,
    Success,
}

fn simple(s: ProwJobState) -> Simple {
    match s {
        ProwJobState::Triggered | ProwJobState::Pending | ProwJobState::Scheduling => {
            Simple::Pending
        }
        ProwJobState::Success => Simple::Success,
        _ => Simple::Failure,
    }
}

fn better(a: Option<Simple>, b: Simple) -> Simple {
    match a {
        None | Some(Simple::Failure) => b,
        Some(_) if b == Simple::Success => b,
        Some(a) => a,
    }
}

/// Accumulated results of a subpool.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Accumulated {
    /// All required jobs passed for the current base.
    pub success: Vec<u64>,
    /// Some required jobs still running, none missing.
    pub pending: Vec<u64>,
    /// Some required job missing or failed.
    pub missing: Vec<u64>,
    /// Missing/failed jobs per PR.
    pub missing_tests: BTreeMap<u64, Vec<RequiredJob>>,
    /// PRs of a batch whose required jobs all passed.
    pub batch_merge: Vec<u64>,
    /// PRs of a batch still running.
    pub batch_pending: Vec<u64>,
}

/// What one sync decided for a subpool.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// PRs dropped from the pool, with the reason.
    pub filtered: Vec<(u64, String)>,
    /// PRs kept in the pool.
    pub pool: Vec<u64>,
    /// Accumulated results.
    pub acc: Accumulated,
    /// The action.
    pub action: Action,
    /// Its target PRs.
    pub targets: Vec<u64>,
    /// Jobs to create for TRIGGER / TRIGGER_BATCH.
    pub trigger: Vec<RequiredJob>,
}

/// Composes a new batch from candidates (sorted by PR number) up to `limit` (0 = unlimited).
pub trait BatchPicker {
    /// The PR numbers of the new batch.
    fn pick(&mut self, sp: &Subpool, candidates: &[&Pr], limit: i64) -> Vec<u64>;
}

/// Without a checkout: take candidates GitHub does not report as conflicting, in order.
#[derive(Clone, Copy, Debug, Default)]
pub struct MergeableBatchPicker;

impl BatchPicker for MergeableBatchPicker {
    fn pick(&mut self, _sp: &Subpool, candidates: &[&Pr], limit: i64) -> Vec<u64> {
        candidates
            .iter()
            .filter(|p| p.mergeable != "CONFLICTING")
            .take(if limit > 0 {
                limit as usize
            } else {
                usize::MAX
            })
            .map(|p| p.number)
            .collect()
    }
}

/// The choice of action, replaceable (e.g. by a speculative queue).
pub trait ActionSelector: Send + Sync {
    /// Picks the action and targets for an accumulated, unblocked subpool.
    fn select(
        &self,
        sp: &Subpool,
        acc: &Accumulated,
        picker: &mut dyn BatchPicker,
    ) -> (Action, Vec<u64>, Vec<RequiredJob>);
}

/// Prow's `takeAction`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TideSelector;

impl ActionSelector for TideSelector {
    fn select(
        &self,
        sp: &Subpool,
        acc: &Accumulated,
        picker: &mut dyn BatchPicker,
    ) -> (Action, Vec<u64>, Vec<RequiredJob>) {
        if !acc.batch_merge.is_empty() {
            return (Action::MergeBatch, acc.batch_merge.clone(), vec![]);
        }
        if !acc.success.is_empty() && acc.batch_pending.is_empty() {
            let prs: Vec<&Pr> = acc.success.iter().filter_map(|n| sp.pr(*n)).collect();
            if let Some(pr) = highest_priority(&prs, &sp.knobs.priority, |p| is_passing(sp, p)) {
                return (Action::Merge, vec![pr], vec![]);
            }
        }
        if sp.presubmits.is_empty() {
            return (Action::Wait, vec![], vec![]);
        }
        if sp.prs.len() > 1 && acc.batch_pending.is_empty() {
            let batch = pick_batch(sp, picker);
            if batch.len() > 1 {
                let jobs = batch_presubmits(sp, &batch);
                return (Action::TriggerBatch, batch, jobs);
            }
        }
        if !acc.missing.is_empty() && acc.pending.is_empty() && acc.success.is_empty() {
            let prs: Vec<&Pr> = acc.missing.iter().filter_map(|n| sp.pr(*n)).collect();
            if let Some(pr) = highest_priority(&prs, &sp.knobs.priority, |p| retest_eligible(sp, p))
            {
                let jobs = acc.missing_tests.get(&pr).cloned().unwrap_or_default();
                return (Action::Trigger, vec![pr], jobs);
            }
        }
        (Action::Wait, vec![], vec![])
    }
}

/// Runs the whole decision for one subpool with Tide's selector.
pub fn sync_subpool(sp: &Subpool, picker: &mut dyn BatchPicker) -> Outcome {
    sync_subpool_with(sp, &TideSelector, picker)
}

/// Runs the whole decision with a given selector: filter, accumulate, choose.
pub fn sync_subpool_with(
    sp: &Subpool,
    selector: &dyn ActionSelector,
    picker: &mut dyn BatchPicker,
) -> Outcome {
    let mut kept = sp.clone();
    let mut filtered = Vec::new();
    kept.prs.clear();
    for pr in &sp.prs {
        match filter_reason(sp, pr) {
            Some(r) => filtered.push((pr.number, r)),
            None => kept.prs.push(pr.clone()),
        }
    }
    kept.prs.sort_by_key(|p| p.number);
    let acc = accumulate(&kept);
    let (action, targets, trigger) = if kept.prs.is_empty() {
        (Action::Wait, vec![], vec![])
    } else if !kept.blockers.is_empty() {
        (Action::Blocked, vec![], vec![])
    } else {
        selector.select(&kept, &acc, picker)
    };
    Outcome {
        filtered,
        pool: kept.prs.iter().map(|p| p.number).collect(),
        acc,
        action,
        targets,
        trigger,
    }
}

/// Prow's `filterPR`: why a PR is left out of the pool, if it is.
pub fn filter_reason(sp: &Subpool, pr: &Pr) -> Option<String> {
    let method = sp
        .merge_methods
        .get(&pr.number)
        .copied()
        .unwrap_or(Some(MergeMethod::Merge));
    let blocks = sp.knobs.merge_blocks.unwrap_or(MergeBlocksPolicy::Permit);
    if let Some(r) = merge_allowed(pr, method, sp.allowed, blocks) {
        return Some(r);
    }
    let required: BTreeSet<&str> = sp
        .presubmits
        .get(&pr.number)
        .map(|v| v.iter().map(|j| j.context.as_str()).collect())
        .unwrap_or_default();
    for ctx in unsuccessful_contexts(pr.head_contexts(), &sp.policy) {
        if ctx.state != CtxState::Pending {
            return Some(format!(
                "context {} is {}",
                ctx.context,
                ctx.state.as_str().to_lowercase()
            ));
        }
        if !required.contains(ctx.context.as_str()) {
            return Some(format!(
                "context {} is pending and not a Prow job",
                ctx.context
            ));
        }
    }
    None
}

fn is_passing(sp: &Subpool, pr: &Pr) -> bool {
    unsuccessful_contexts(pr.head_contexts(), &sp.policy).is_empty()
}

/// Prow's `accumulate` and `accumulateBatch`.
pub fn accumulate(sp: &Subpool) -> Accumulated {
    let mut acc = Accumulated::default();
    let base_jobs: Vec<&ProwJob> = sp.base_jobs().collect();
    for pr in &sp.prs {
        let mut states: BTreeMap<&str, Simple> = BTreeMap::new();
        for j in &base_jobs {
            if j.spec.job_type != Some(ProwJobType::Presubmit) {
                continue;
            }
            let Some(pull) = j.spec.refs.as_ref().and_then(|r| r.pulls.first()) else {
                continue;
            };
            if pull.number != pr.number || pull.sha != pr.head_sha {
                continue;
            }
            let s = simple(j.status.state);
            let e = states.get(j.spec.context.as_str()).copied();
            states.insert(j.spec.context.as_str(), better(e, s));
        }
        // Successful contexts reported for this base (or marked skip-retest) count as passing
        // jobs, so results survive ProwJob garbage collection.
        for c in pr.head_contexts() {
            if c.state == CtxState::Success
                && (is_skip_retest(&c.description)
                    || base_sha_from_description(&c.description) == Some(sp.base_sha.as_str()))
            {
                states.insert(c.context.as_str(), Simple::Success);
            }
        }
        let mut overall = Simple::Success;
        let mut missing = Vec::new();
        for ps in sp
            .presubmits
            .get(&pr.number)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            match states.get(ps.context.as_str()) {
                None | Some(Simple::Failure) => missing.push(ps.clone()),
                Some(Simple::Pending) => overall = Simple::Pending,
                Some(Simple::Success) => {}
            }
        }
        if !missing.is_empty() {
            acc.missing_tests.insert(pr.number, missing);
            overall = Simple::Failure;
        }
        match overall {
            Simple::Success => acc.success.push(pr.number),
            Simple::Pending => acc.pending.push(pr.number),
            Simple::Failure => acc.missing.push(pr.number),
        }
    }

    // Batches: group batch jobs by their pulls, keep those whose pulls are all still in the pool
    // at the same head.
    let mut batches: BTreeMap<Vec<(u64, String)>, BTreeMap<&str, Simple>> = BTreeMap::new();
    for j in &base_jobs {
        if j.spec.job_type != Some(ProwJobType::Batch) {
            continue;
        }
        let Some(refs) = j.spec.refs.as_ref() else {
            continue;
        };
        let key: Vec<(u64, String)> = refs
            .pulls
            .iter()
            .map(|p| (p.number, p.sha.clone()))
            .collect();
        let valid = key
            .iter()
            .all(|(n, sha)| sp.pr(*n).is_some_and(|p| &p.head_sha == sha));
        if !valid || key.is_empty() {
            continue;
        }
        let states = batches.entry(key).or_default();
        let e = states.get(j.spec.context.as_str()).copied();
        states.insert(j.spec.context.as_str(), better(e, simple(j.status.state)));
    }
    for (key, states) in &batches {
        let nums: Vec<u64> = key.iter().map(|(n, _)| *n).collect();
        let required = batch_presubmits(sp, &nums);
        let mut overall = Simple::Success;
        for p in &required {
            match states.get(p.context.as_str()) {
                None | Some(Simple::Failure) => {
                    overall = Simple::Failure;
                    break;
                }
                Some(Simple::Pending) => overall = Simple::Pending,
                Some(Simple::Success) => {}
            }
        }
        // Like Prow, one pending and one passing batch are considered (the last one seen).
        match overall {
            Simple::Pending => acc.batch_pending = nums,
            Simple::Success => acc.batch_merge = nums,
            Simple::Failure => {}
        }
    }
    acc
}

/// The required jobs of a batch: the union (by context) of its PRs' required presubmits, which
/// equals Prow's `presubmitsForBatch` because change filters match if any PR's files match.
pub fn batch_presubmits(sp: &Subpool, prs: &[u64]) -> Vec<RequiredJob> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for n in prs {
        for j in sp.presubmits.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(j.context.clone()) {
                out.push(j.clone());
            }
        }
    }
    out
}

fn has_all_labels(pr: &Pr, want: &[String]) -> bool {
    want.iter()
        .all(|l| l.split(',').any(|alt| pr.has_label(alt)))
}

/// Prow's `pickHighestPriorityPR`: the lowest-numbered PR satisfying `ok`, trying each
/// priority label set in order, then all PRs.
pub fn highest_priority(
    prs: &[&Pr],
    priority: &[Vec<String>],
    ok: impl Fn(&Pr) -> bool,
) -> Option<u64> {
    let all: Vec<String> = Vec::new();
    for labels in priority.iter().chain(std::iter::once(&all)) {
        let best = prs
            .iter()
            .filter(|p| has_all_labels(p, labels))
            .filter(|p| ok(p))
            .map(|p| p.number)
            .min();
        if best.is_some() {
            return best;
        }
    }
    None
}

/// Prow's `isRetestEligible`: required contexts all present, and every non-optional,
/// unsuccessful one is pending from a Tide-created presubmit on this head.
pub fn retest_eligible(sp: &Subpool, pr: &Pr) -> bool {
    let ctxs = pr.head_contexts();
    if !sp
        .policy
        .missing_required(ctxs.iter().map(|c| c.context.as_str()))
        .is_empty()
    {
        return false;
    }
    for c in ctxs {
        if c.context == STATUS_CONTEXT
            || sp.policy.is_optional(&c.context)
            || c.state == CtxState::Success
        {
            continue;
        }
        if c.state != CtxState::Pending {
            return false;
        }
        let by_tide = sp.jobs.iter().any(|j| {
            j.label(prow_api::labels::CREATED_BY_TIDE) == Some("true")
                && j.spec.job_type == Some(ProwJobType::Presubmit)
                && j.spec.context == c.context
                && j.spec.refs.as_ref().is_some_and(|r| {
                    r.pulls.len() == 1
                        && r.pulls[0].number == pr.number
                        && r.pulls[0].sha == pr.head_sha
                })
        });
        if !by_tide {
            return false;
        }
    }
    true
}

/// Prow's `pickBatch`: retest-eligible candidates by PR number; an existing batch's PR set when
/// `prioritize_existing_batches`, else a new batch from the picker.
pub fn pick_batch(sp: &Subpool, picker: &mut dyn BatchPicker) -> Vec<u64> {
    let limit = sp.knobs.batch_size_limit;
    if limit < 0 {
        return vec![];
    }
    let mut prs: Vec<&Pr> = sp.prs.iter().collect();
    prs.sort_by_key(|p| p.number);
    let candidates: Vec<&Pr> = prs.into_iter().filter(|p| retest_eligible(sp, p)).collect();
    if candidates.is_empty() {
        return vec![];
    }
    let mut res = Vec::new();
    if sp.knobs.prioritize_existing_batches {
        res = batch_with_existing_tests(sp, &candidates, limit);
    }
    if res.is_empty() {
        res = picker.pick(sp, &candidates, limit);
    }
    res
}

/// Prow's `pickBatchWithPreexistingTests`: the batch (pulls all candidates at their heads, size
/// within the limit) with the most successful jobs, else the most pending ones.
fn batch_with_existing_tests(sp: &Subpool, candidates: &[&Pr], limit: i64) -> Vec<u64> {
    let mut succ: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    let mut pend: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    for j in sp.base_jobs() {
        let Some(refs) = j.spec.refs.as_ref() else {
            continue;
        };
        if j.spec.job_type != Some(ProwJobType::Batch)
            || (limit > 0 && refs.pulls.len() as i64 > limit)
            || !matches!(
                j.status.state,
                ProwJobState::Success | ProwJobState::Pending
            )
        {
            continue;
        }
        let valid = refs.pulls.iter().all(|pull| {
            candidates
                .iter()
                .any(|c| c.number == pull.number && c.head_sha == pull.sha)
        });
        if !valid {
            continue;
        }
        let key: Vec<u64> = refs.pulls.iter().map(|p| p.number).collect();
        let m = if j.status.state == ProwJobState::Success {
            &mut succ
        } else {
            &mut pend
        };
        *m.entry(key).or_default() += 1;
    }
    let best = |m: &BTreeMap<Vec<u64>, usize>| {
        m.iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(k, _)| k.clone())
    };
    best(&succ).or_else(|| best(&pend)).unwrap_or_default()
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
