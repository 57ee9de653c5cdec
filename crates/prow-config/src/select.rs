//! Which jobs run for an event (spec §3.6): branch and change filters, triggers, and the
//! comment filters behind `/test`, `/retest`, `/retest-required`, `/test-manual-required` and
//! `/test all`. Pure functions shared by trigger, tide, status-reconciler and deck.
//!
//! The regexes are compiled by validation; a job that never went through a successful load has
//! none, and then behaves as if the field were unset.

use std::collections::BTreeSet;

use prow_commands::trigger as cmd;
use regex::Regex;

use crate::jobs::{Brancher, Postsubmit, Presubmit, RegexpChangeMatcher};

impl Brancher {
    /// True when no branch filter is set.
    pub fn runs_against_all_branches(&self) -> bool {
        self.branches.is_empty() && self.skip_branches.is_empty()
    }

    /// Unanchored search, `skip_branches` first (Prow's `ShouldRun`).
    pub fn should_run(&self, branch: &str) -> bool {
        if self.runs_against_all_branches() {
            return true;
        }
        if let Some(re) = &self.re_skip
            && re.is_match(branch)
        {
            return false;
        }
        self.branches.is_empty() || self.re.as_ref().is_some_and(|re| re.is_match(branch))
    }

    /// Could both run for the same branch (used for duplicate detection)?
    pub fn intersects(&self, other: &Brancher) -> bool {
        if self.runs_against_all_branches() || other.runs_against_all_branches() {
            return true;
        }
        if !self.branches.is_empty() {
            if !other.branches.is_empty() {
                return self.branches.iter().any(|b| other.branches.contains(b));
            }
            return self.branches.iter().any(|b| other.should_run(b));
        }
        if other.branches.is_empty() {
            return true;
        }
        other.intersects(self)
    }
}

impl RegexpChangeMatcher {
    /// A change filter is configured.
    pub fn could_run(&self) -> bool {
        !self.run_if_changed.is_empty() || !self.skip_if_only_changed.is_empty()
    }

    /// `run_if_changed`: any path matches; `skip_if_only_changed`: any path does not match.
    pub fn runs_against_changes<S: AsRef<str>>(&self, changes: &[S]) -> bool {
        let Some(re) = &self.re_changes else {
            return false;
        };
        changes.iter().any(|c| {
            let c = c.as_ref();
            if !self.run_if_changed.is_empty() {
                re.is_match(c)
            } else {
                !re.is_match(c)
            }
        })
    }

    /// `(determined, should_run)`; changes are only fetched when a filter is set.
    pub fn should_run<E>(
        &self,
        changes: &mut dyn FnMut() -> Result<Vec<String>, E>,
    ) -> Result<(bool, bool), E> {
        if !self.could_run() {
            return Ok((false, false));
        }
        let list = changes()?;
        Ok((true, self.runs_against_changes(&list)))
    }
}

impl Presubmit {
    /// Branch filter passes.
    pub fn could_run(&self, branch: &str) -> bool {
        self.brancher.should_run(branch)
    }

    /// Prow's `Presubmit.ShouldRun(branch, changes, forced, defaults)`.
    pub fn should_run<E>(
        &self,
        branch: &str,
        changes: &mut dyn FnMut() -> Result<Vec<String>, E>,
        forced: bool,
        defaults: bool,
    ) -> Result<bool, E> {
        if !self.could_run(branch) {
            return Ok(false);
        }
        if self.always_run || forced {
            return Ok(true);
        }
        let (determined, should) = self.changes.should_run(changes)?;
        Ok((determined && should) || defaults)
    }

    /// Neither always_run nor a change filter: only runs when asked for.
    pub fn needs_explicit_trigger(&self) -> bool {
        !self.always_run && !self.changes.could_run()
    }

    /// May or may not run for a given PR.
    pub fn triggers_conditionally(&self) -> bool {
        self.needs_explicit_trigger() || self.changes.could_run()
    }

    /// The comment matches this job's trigger.
    pub fn trigger_matches(&self, body: &str) -> bool {
        self.re_trigger.as_ref().is_some_and(|re| re.is_match(body))
    }

    /// Required by GitHub/Tide: reported and not optional.
    pub fn context_required(&self) -> bool {
        !self.optional && !self.reporter.skip_report
    }

    /// The compiled trigger, if validated.
    pub fn trigger_regex(&self) -> Option<&Regex> {
        self.re_trigger.as_ref()
    }
}

impl Postsubmit {
    /// Branch filter passes.
    pub fn could_run(&self, branch: &str) -> bool {
        self.brancher.should_run(branch)
    }

    /// Prow's `Postsubmit.ShouldRun`: change filter if set, else `always_run` (default true).
    pub fn should_run<E>(
        &self,
        branch: &str,
        changes: &mut dyn FnMut() -> Result<Vec<String>, E>,
    ) -> Result<bool, E> {
        if !self.could_run(branch) {
            return Ok(false);
        }
        let (determined, should) = self.changes.should_run(changes)?;
        if determined {
            return Ok(should);
        }
        Ok(self.always_run.unwrap_or(true))
    }
}

/// Decides per presubmit `(matches, forced, defaults)` (Prow's `pjutil.Filter`).
#[derive(Clone, Debug)]
pub enum Filter {
    /// `/test <name>` and other trigger regexes matching `body`.
    Command(String),
    /// `/test all`: every job that is not manual-only.
    TestAll,
    /// `/retest`: failed contexts (forced-by-default) plus non-manual jobs with no context yet.
    Retest {
        /// Contexts currently failed or errored on the head SHA.
        failed: BTreeSet<String>,
        /// All contexts on the head SHA.
        all: BTreeSet<String>,
    },
    /// `/retest-required`: like retest, skipping optional jobs.
    RetestRequired {
        /// Failed contexts.
        failed: BTreeSet<String>,
        /// All contexts.
        all: BTreeSet<String>,
    },
    /// `/test-manual-required`: required jobs that only run when asked for.
    TestManualRequired,
    /// First matching filter wins.
    Aggregate(Vec<Filter>),
}

impl Filter {
    /// `(matches, forced, defaults)` for one job.
    pub fn should_run(&self, p: &Presubmit) -> (bool, bool, bool) {
        match self {
            Filter::Command(body) => {
                let m = p.trigger_matches(body);
                (m, m, true)
            }
            Filter::TestAll => (!p.needs_explicit_trigger(), false, false),
            Filter::Retest { failed, all } => {
                let f = failed.contains(&p.reporter.context);
                (
                    f || (!p.needs_explicit_trigger() && !all.contains(&p.reporter.context)),
                    false,
                    f,
                )
            }
            Filter::RetestRequired { failed, all } => {
                if p.optional {
                    (false, false, false)
                } else {
                    Filter::Retest {
                        failed: failed.clone(),
                        all: all.clone(),
                    }
                    .should_run(p)
                }
            }
            Filter::TestManualRequired => {
                if p.optional || !p.needs_explicit_trigger() || p.changes.could_run() {
                    (false, false, false)
                } else {
                    (true, true, false)
                }
            }
            Filter::Aggregate(filters) => filters
                .iter()
                .map(|f| f.should_run(p))
                .find(|r| r.0)
                .unwrap_or((false, false, false)),
        }
    }

    /// The filter for a PR comment (Prow's `PresubmitFilter`). `contexts` yields
    /// `(failed, all)` contexts on the head SHA and is only called for `/retest*`.
    pub fn for_comment<E>(
        honor_ok_to_test: bool,
        body: &str,
        contexts: &mut dyn FnMut() -> Result<(BTreeSet<String>, BTreeSet<String>), E>,
    ) -> Result<Filter, E> {
        let matches = |pattern: &str| Regex::new(pattern).is_ok_and(|re| re.is_match(body));
        let mut filters = vec![Filter::Command(body.to_string())];
        if matches(cmd::RETEST_PATTERN) {
            let (failed, all) = contexts()?;
            filters.push(Filter::Retest { failed, all });
        }
        if matches(cmd::RETEST_REQUIRED_PATTERN) {
            let (failed, all) = contexts()?;
            filters.push(Filter::RetestRequired { failed, all });
        }
        if matches(cmd::TEST_MANUAL_REQUIRED_PATTERN) {
            filters.push(Filter::TestManualRequired);
        }
        if (honor_ok_to_test && matches(cmd::OK_TO_TEST_PATTERN)) || matches(cmd::TEST_ALL_PATTERN)
        {
            filters.push(Filter::TestAll);
        }
        Ok(Filter::Aggregate(filters))
    }
}

/// The presubmits `filter` selects for a PR against `branch` (Prow's `FilterPresubmits`).
/// `changes` is called at most when a selected job has a change filter.
pub fn filter_presubmits<'a, E>(
    filter: &Filter,
    changes: &mut dyn FnMut() -> Result<Vec<String>, E>,
    branch: &str,
    presubmits: &'a [Presubmit],
) -> Result<Vec<&'a Presubmit>, E> {
    let mut cached: Option<Vec<String>> = None;
    let mut lazy = || -> Result<Vec<String>, E> {
        if cached.is_none() {
            cached = Some(changes()?);
        }
        Ok(cached.clone().unwrap_or_default())
    };
    let mut out = Vec::new();
    for p in presubmits {
        let (matches, forced, defaults) = filter.should_run(p);
        if matches && p.should_run(branch, &mut lazy, forced, defaults)? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Postsubmits to run for a push to `branch` with the given changed files.
pub fn filter_postsubmits<'a>(
    branch: &str,
    changes: &[String],
    postsubmits: &'a [Postsubmit],
) -> Vec<&'a Postsubmit> {
    postsubmits
        .iter()
        .filter(|p| {
            p.should_run(branch, &mut || {
                Ok::<_, std::convert::Infallible>(changes.to_vec())
            })
            .unwrap_or(false)
        })
        .collect()
}
