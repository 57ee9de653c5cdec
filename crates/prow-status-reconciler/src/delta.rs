//! The pure core: which presubmits a job-config change added, removed or moved to another
//! status context (Prow's `addedBlockingPresubmits`, `removedPresubmits` and
//! `migratedBlockingPresubmits`), and the `--denylist` / `--denylist-all` filters.
//!
//! Jobs are tracked between config versions by name only, per `org/repo`. Like Prow, only
//! repositories present in the old config are compared: onboarding a whole repository does not
//! start every job on all of its open pull requests.

use std::collections::{BTreeMap, BTreeSet};

use prow_config::{Config, Presubmit};

/// Presubmits per `org/repo` (the shape of `JobConfig::presubmits`).
pub type Presubmits = BTreeMap<String, Vec<Presubmit>>;

/// A presubmit whose status context changed between two config versions.
#[derive(Clone, Debug)]
pub struct Migration {
    /// The job as it was (its context and branch filter decide which PRs are touched).
    pub from: Presubmit,
    /// The job as it is now.
    pub to: Presubmit,
}

/// What a config change means for statuses on open pull requests. Only repositories with at
/// least one entry appear in each map.
#[derive(Clone, Debug, Default)]
pub struct Delta {
    /// Blocking presubmits to start on open PRs (from the new config).
    pub added: BTreeMap<String, Vec<Presubmit>>,
    /// Presubmits whose contexts are to be retired (from the old config).
    pub removed: BTreeMap<String, Vec<Presubmit>>,
    /// Blocking presubmits whose context moved.
    pub migrated: BTreeMap<String, Vec<Migration>>,
}

impl Delta {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.migrated.is_empty()
    }

    /// Drops what the denylists exclude: `--denylist` only stops new jobs from being started,
    /// `--denylist-all` also leaves existing contexts alone.
    pub fn apply_denylist(mut self, deny: &Denylist) -> Delta {
        self.added.retain(|repo, _| !deny.blocks_added(repo));
        self.removed.retain(|repo, _| !deny.blocks_all(repo));
        self.migrated.retain(|repo, _| !deny.blocks_all(repo));
        self
    }

    /// Counts of (added, removed, migrated) entries over all repositories.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.added.values().map(Vec::len).sum(),
            self.removed.values().map(Vec::len).sum(),
            self.migrated.values().map(Vec::len).sum(),
        )
    }
}

/// `--denylist` and `--denylist-all` entries: an org or an `org/repo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Denylist {
    /// No new presubmits are started for these.
    pub added: BTreeSet<String>,
    /// Nothing at all is reconciled for these.
    pub all: BTreeSet<String>,
}

impl Denylist {
    /// From the raw flag values.
    pub fn new<I, J, S, T>(added: I, all: J) -> Self
    where
        I: IntoIterator<Item = S>,
        J: IntoIterator<Item = T>,
        S: Into<String>,
        T: Into<String>,
    {
        Denylist {
            added: added.into_iter().map(Into::into).collect(),
            all: all.into_iter().map(Into::into).collect(),
        }
    }

    fn listed(set: &BTreeSet<String>, org_repo: &str) -> bool {
        let org = org_repo.split_once('/').map_or(org_repo, |(o, _)| o);
        set.contains(org) || set.contains(org_repo)
    }

    /// New presubmits must not be started on `org/repo`.
    pub fn blocks_added(&self, org_repo: &str) -> bool {
        Self::listed(&self.added, org_repo) || Self::listed(&self.all, org_repo)
    }

    /// `org/repo` is not reconciled at all.
    pub fn blocks_all(&self, org_repo: &str) -> bool {
        Self::listed(&self.all, org_repo)
    }
}

/// The delta between two loaded configs (presubmits only; see [`delta_presubmits`]).
pub fn delta(old: &Config, new: &Config) -> Delta {
    delta_presubmits(&old.jobs.presubmits, &new.jobs.presubmits)
}

/// The delta between two presubmit maps.
pub fn delta_presubmits(old: &Presubmits, new: &Presubmits) -> Delta {
    Delta {
        added: non_empty(added_blocking(old, new)),
        removed: non_empty(removed(old, new)),
        migrated: non_empty(migrated_blocking(old, new)),
    }
}

fn non_empty<T>(mut m: BTreeMap<String, Vec<T>>) -> BTreeMap<String, Vec<T>> {
    m.retain(|_, v| !v.is_empty());
    m
}

fn new_for<'a>(new: &'a Presubmits, repo: &str) -> &'a [Presubmit] {
    new.get(repo).map_or(&[], Vec::as_slice)
}

/// Blocking presubmits that PRs now need and do not have yet:
/// - brand-new required jobs that run without being asked;
/// - existing jobs that start reporting (`skip_report` dropped);
/// - existing jobs whose `run_if_changed` / `skip_if_only_changed` changed (the new regex decides
///   per PR whether they run);
/// - existing jobs that used to need an explicit `/test` and now run on their own (Prow misses
///   this one: such PRs would wait forever for a context nobody starts).
///
/// An optional job turning required needs nothing: its context is already on the PRs. A job whose
/// context changed is a migration, not an addition.
fn added_blocking(old: &Presubmits, new: &Presubmits) -> BTreeMap<String, Vec<Presubmit>> {
    let mut added = BTreeMap::new();
    for (repo, old_jobs) in old {
        let mut list = Vec::new();
        for np in new_for(new, repo) {
            if !np.context_required() || np.needs_explicit_trigger() {
                continue;
            }
            let Some(op) = old_jobs.iter().find(|op| op.base.name == np.base.name) else {
                tracing::debug!(repo = %repo, job = %np.base.name, "added blocking presubmit");
                list.push(np.clone());
                continue;
            };
            let starts_reporting = op.reporter.skip_report && !np.reporter.skip_report;
            let files_changed = op.changes.run_if_changed != np.changes.run_if_changed
                || op.changes.skip_if_only_changed != np.changes.skip_if_only_changed;
            let now_automatic = op.needs_explicit_trigger();
            if starts_reporting || files_changed || now_automatic {
                tracing::debug!(
                    repo = %repo,
                    job = %np.base.name,
                    starts_reporting,
                    files_changed,
                    now_automatic,
                    "newly blocking presubmit"
                );
                list.push(np.clone());
            }
        }
        added.insert(repo.clone(), list);
    }
    added
}

/// Jobs that are gone (by name), whose context no reporting job of the new config still
/// produces. Prow retires by name alone, which would overwrite the status of a renamed job that
/// kept its context with a fake `success`.
fn removed(old: &Presubmits, new: &Presubmits) -> BTreeMap<String, Vec<Presubmit>> {
    let mut removed = BTreeMap::new();
    for (repo, old_jobs) in old {
        let now = new_for(new, repo);
        let mut list = Vec::new();
        for op in old_jobs {
            let still_named = now.iter().any(|np| np.base.name == op.base.name);
            let context_kept = now
                .iter()
                .any(|np| !np.reporter.skip_report && np.reporter.context == op.reporter.context);
            if !still_named && !context_kept {
                tracing::debug!(repo = %repo, job = %op.base.name, "removed presubmit");
                list.push(op.clone());
            }
        }
        removed.insert(repo.clone(), list);
    }
    removed
}

/// Required jobs (by name) whose context changed.
fn migrated_blocking(old: &Presubmits, new: &Presubmits) -> BTreeMap<String, Vec<Migration>> {
    let mut migrated = BTreeMap::new();
    for (repo, old_jobs) in old {
        let mut list = Vec::new();
        for np in new_for(new, repo) {
            if !np.context_required() {
                continue;
            }
            for op in old_jobs {
                if op.base.name == np.base.name && op.reporter.context != np.reporter.context {
                    tracing::debug!(
                        repo = %repo,
                        job = %np.base.name,
                        from = %op.reporter.context,
                        to = %np.reporter.context,
                        "migrated blocking presubmit"
                    );
                    list.push(Migration {
                        from: op.clone(),
                        to: np.clone(),
                    });
                }
            }
        }
        migrated.insert(repo.clone(), list);
    }
    migrated
}
