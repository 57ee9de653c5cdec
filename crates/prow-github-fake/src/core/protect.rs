//! Branch protection: seeded or set at runtime, served by `GET .../branches/{b}/protection`,
//! enforced when merging, and summarized for GraphQL (`reviewDecision`, `mergeStateStatus`).

use std::collections::BTreeMap;

use prow_github::GitHubError;
use serde_json::Value;

use crate::render;
use crate::state::{IssueRec, ProtectionRec, RepoRec, State};

use super::{Core, R};

/// GitHub's message for the protection of an unprotected branch.
pub(crate) const NOT_PROTECTED: &str = "Branch not protected";

/// Why branch protection refuses to merge a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Blocked {
    /// Strict status checks and the head does not contain the base tip.
    Behind,
    /// A required context is missing, pending or failing (GitHub's 405 message).
    Checks(String),
    /// Not enough approving reviews, or changes requested (GitHub's 405 message).
    Reviews(String),
}

impl Blocked {
    pub fn message(&self) -> String {
        match self {
            Blocked::Behind => "Head branch is out of date with the base branch.".into(),
            Blocked::Checks(m) | Blocked::Reviews(m) => m.clone(),
        }
    }
}

/// Each reviewer's latest review that counts for a decision (approvals, change requests and
/// dismissals; comments do not revoke an approval), by lower-case login.
fn decisive_reviews(issue: &IssueRec) -> BTreeMap<&str, &str> {
    let mut latest = BTreeMap::new();
    if let Some(pr) = &issue.pr {
        for rv in &pr.reviews {
            if matches!(
                rv.state.as_str(),
                "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
            ) {
                latest.insert(rv.author.as_str(), rv.state.as_str());
            }
        }
    }
    latest
}

/// The protection of the pull request's base branch.
fn base_protection<'a>(r: &'a RepoRec, issue: &IssueRec) -> Option<&'a ProtectionRec> {
    issue
        .pr
        .as_ref()
        .and_then(|p| r.protection.get(&p.base_ref))
}

/// Approving reviews required on the base branch (`None` or 0: not required).
fn required_reviews(r: &RepoRec, issue: &IssueRec) -> Option<u32> {
    base_protection(r, issue)
        .and_then(|p| p.required_approving_review_count)
        .filter(|n| *n > 0)
}

/// GraphQL `reviewDecision`: `CHANGES_REQUESTED` when some reviewer's latest decisive review
/// requests changes; otherwise `APPROVED` when approved (by enough reviewers with write access if
/// the base branch requires reviews); `REVIEW_REQUIRED` only when the base branch requires
/// reviews; else `None` (GitHub's `null`).
pub(crate) fn review_decision(st: &State, r: &RepoRec, issue: &IssueRec) -> Option<&'static str> {
    let latest = decisive_reviews(issue);
    if latest.values().any(|s| *s == "CHANGES_REQUESTED") {
        return Some("CHANGES_REQUESTED");
    }
    match required_reviews(r, issue) {
        None => latest
            .values()
            .any(|s| *s == "APPROVED")
            .then_some("APPROVED"),
        Some(n) => {
            let approvals = latest
                .iter()
                .filter(|(who, s)| **s == "APPROVED" && st.can_push(r, who))
                .count();
            Some(if approvals >= n as usize {
                "APPROVED"
            } else {
                "REVIEW_REQUIRED"
            })
        }
    }
}

/// Whether the head lacks the base tip (only asked for strict status checks).
fn behind(r: &RepoRec, issue: &IssueRec) -> bool {
    let Some(pr) = &issue.pr else { return false };
    match r.git.branch_sha(&pr.base_ref) {
        Some(base) => base != pr.head_sha && !r.git.is_ancestor(&base, &pr.head_sha),
        None => false,
    }
}

/// What the base branch's protection has against merging the pull request now, if anything:
/// required contexts first (GitHub's order), then up-to-dateness, then reviews.
pub(crate) fn merge_blocker(st: &State, r: &RepoRec, issue: &IssueRec) -> Option<Blocked> {
    let p = base_protection(r, issue)?;
    let pr = issue.pr.as_ref()?;
    if let Some(checks) = &p.status_checks {
        let latest = render::latest_statuses(r, &pr.head_sha);
        for ctx in &checks.contexts {
            match latest
                .iter()
                .find(|s| &s.context == ctx)
                .map(|s| s.state.as_str())
            {
                Some("success") => {}
                Some("failure" | "error") => {
                    return Some(Blocked::Checks(format!(
                        "Required status check \"{ctx}\" is failing."
                    )));
                }
                _ => {
                    return Some(Blocked::Checks(format!(
                        "Required status check \"{ctx}\" is expected."
                    )));
                }
            }
        }
        if checks.strict && behind(r, issue) {
            return Some(Blocked::Behind);
        }
    }
    if let Some(n) = required_reviews(r, issue) {
        match review_decision(st, r, issue) {
            Some("APPROVED") => {}
            Some("CHANGES_REQUESTED") => {
                return Some(Blocked::Reviews(
                    "Changes must be made through a pull request. Changes were requested by reviewers with write access.".into(),
                ));
            }
            _ => {
                let noun = if n == 1 { "review is" } else { "reviews are" };
                return Some(Blocked::Reviews(format!(
                    "At least {n} approving {noun} required by reviewers with write access."
                )));
            }
        }
    }
    None
}

impl Core {
    /// `GET /repos/{o}/{r}/branches/{b}/protection`: 404 `Branch not protected` when unprotected
    /// (and for unknown branches, like GitHub); 403 without push access.
    pub fn get_branch_protection(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        let p = r
            .protection
            .get(branch)
            .ok_or_else(|| GitHubError::NotFound(NOT_PROTECTED.into()))?;
        Ok(render::branch_protection(&st, r, branch, p))
    }

    /// Fake-only: protects `branch` (it need not exist yet) or, with `None`, removes its
    /// protection. No webhook (GitHub's `branch_protection_rule` event is not simulated).
    pub fn set_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        protection: Option<ProtectionRec>,
    ) -> R<()> {
        let mut st = self.lock();
        let r = st.repo_mut(org, repo)?;
        match protection {
            Some(p) => {
                r.protection.insert(branch.to_owned(), p);
            }
            None => {
                r.protection.remove(branch);
            }
        }
        Ok(())
    }

    /// Fake-only: changes the protection of `branch` in place (creating it unprotected-by-default
    /// first).
    pub fn edit_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        edit: impl FnOnce(&mut ProtectionRec),
    ) -> R<()> {
        let mut st = self.lock();
        let r = st.repo_mut(org, repo)?;
        edit(r.protection.entry(branch.to_owned()).or_default());
        Ok(())
    }

    /// The protection of `branch`, for inspection.
    pub fn branch_protection_of(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Option<ProtectionRec> {
        self.lock()
            .repo(org, repo)
            .ok()
            .and_then(|r| r.protection.get(branch).cloned())
    }
}
