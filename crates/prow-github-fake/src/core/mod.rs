//! The fake's behaviour: every read and write, as plain synchronous functions over the shared
//! state. The in-process client and the HTTP handlers both call these, so they cannot drift.
//!
//! Each operation takes the acting user's login, locks the state for its whole duration (git
//! included, so concurrent pushes and merges serialize like on a real forge), and emits its
//! webhooks before releasing the lock, which keeps deliveries in state-change order.
//!
//! Reads stay cheap under that lock: refs come from each repository's in-memory ref map and
//! everything derived from immutable git objects is cached by SHA (see `git.rs`), and the
//! pull request reads compute their missing git facts before taking the lock
//! (`Core::warm_pull`), so steady-state reads spawn no git process at all.

mod issues;
mod protect;
mod pulls;
mod repos;
mod search;
mod seeding;
mod social;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use prow_github::GitHubError;
use serde_json::Value;

use crate::git::{self, GitError};
use crate::render::{self, PrGitInfo};
use crate::state::{IssueRec, RepoRec, State, Urls};
use crate::webhook::Hooks;

pub(crate) use issues::{IssuePatch, NewIssue};
pub(crate) use protect::{Blocked, NOT_PROTECTED, merge_blocker, review_decision};
pub(crate) use pulls::{NewPr, NewReviewComment, PrPatch, ReviewInput};
pub(crate) use repos::FileWrite;

pub(crate) type R<T> = Result<T, GitHubError>;

/// GitHub's reason for refusing a body over its limit.
pub(crate) const BODY_TOO_LONG: &str = "body is too long (maximum is 65536 characters)";

/// The error GitHub's 422 for an over-long body becomes in a client (`message: errors[]`), so
/// the in-process client fails exactly like the real one talking to GitHub.
pub(crate) fn body_too_long_error() -> GitHubError {
    GitHubError::Unprocessable(format!("Validation Failed: {BODY_TOO_LONG}"))
}

/// Refuses a body over GitHub's limit of 65 536 characters, as GitHub does.
pub(crate) fn check_body_len(body: &str) -> R<()> {
    if prow_github::limits::body_too_long(body) {
        Err(body_too_long_error())
    } else {
        Ok(())
    }
}

/// File changes: path → content, `None` deletes.
pub(crate) type Changes = BTreeMap<String, Option<Vec<u8>>>;

impl From<GitError> for GitHubError {
    fn from(e: GitError) -> Self {
        GitHubError::Status {
            status: 500,
            message: e.to_string(),
        }
    }
}

/// Shared state and machinery behind [`crate::FakeGitHub`].
pub(crate) struct Core {
    state: Mutex<State>,
    /// Holds the bare repositories; removed when the last handle is dropped.
    _root: tempfile::TempDir,
    /// Git facts per (repo id, base sha, head sha); git objects are immutable so entries never
    /// go stale.
    pr_cache: Mutex<HashMap<(u64, String, String), PrGitInfo>>,
    pub hooks: Hooks,
}

impl Core {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_urls(&self, urls: Urls) {
        self.lock().urls = urls;
    }

    /// Publishes a webhook for `repo` with the common fields added.
    fn emit(&self, st: &State, repo: &RepoRec, event_type: &str, sender: &str, fields: Value) {
        let payload = render::payload(st, repo, sender, fields);
        self.hooks
            .emit(event_type, Some(&repo.full_name()), &payload);
    }

    /// The base tip a pull request is compared with: the live branch while open, the remembered
    /// one once closed.
    fn base_sha(repo: &RepoRec, issue: &IssueRec) -> String {
        let Some(pr) = &issue.pr else {
            return String::new();
        };
        if issue.open {
            repo.git
                .branch_sha(&pr.base_ref)
                .unwrap_or_else(|| pr.base_sha.clone())
        } else {
            pr.base_sha.clone()
        }
    }

    /// Commits, diff stats and mergeability of a pull request, computed with git (cached).
    fn pr_info(&self, repo: &RepoRec, issue: &IssueRec) -> PrGitInfo {
        let Some(pr) = &issue.pr else {
            return PrGitInfo::default();
        };
        let base_sha = Self::base_sha(repo, issue);
        let mut info = self.pr_git_facts(repo.id, &repo.git, &base_sha, &pr.head_sha);
        if !issue.open {
            info.mergeable = None;
            info.mergeable_state = "unknown".into();
        } else if info.mergeable == Some(true) {
            let failing = render::combined_status_state(repo, &pr.head_sha) == "failure";
            if pr.draft {
                info.mergeable_state = "draft".into();
            } else if failing {
                info.mergeable_state = "unstable".into();
            }
        }
        info
    }

    /// The git facts of comparing `head_sha` with `base_sha`, cached per (repo, base, head):
    /// git objects are immutable, so entries never go stale.
    fn pr_git_facts(
        &self,
        repo_id: u64,
        g: &git::Repo,
        base_sha: &str,
        head_sha: &str,
    ) -> PrGitInfo {
        let key = (repo_id, base_sha.to_owned(), head_sha.to_owned());
        let cached = self
            .pr_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(info) = cached {
            return info;
        }
        let merge_base = g.merge_base(base_sha, head_sha);
        let commits = g
            .commits_between(merge_base.as_deref(), head_sha, false)
            .map(|c| c.len() as u64)
            .unwrap_or(0);
        let diff = g.diff(merge_base.as_deref(), head_sha).unwrap_or_default();
        let conflicts = !matches!(g.merge_trees(base_sha, head_sha, None), Ok(Some(_)));
        let info = PrGitInfo {
            base_sha: base_sha.to_owned(),
            commits,
            additions: diff.iter().map(|d| d.additions).sum(),
            deletions: diff.iter().map(|d| d.deletions).sum(),
            changed_files: diff.len() as u64,
            mergeable: Some(!conflicts),
            mergeable_state: if conflicts {
                "dirty".into()
            } else {
                "clean".into()
            },
        };
        let mut cache = self.pr_cache.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded like the git caches: forgetting only costs a recomputation.
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(key, info.clone());
        info
    }

    /// Computes the git facts a read of pull request `number` needs *without* holding the state
    /// lock, so the locked read that follows finds them cached instead of making every other
    /// API call wait for git. Reads of immutable objects only; if the pull request moves in the
    /// meantime the locked read simply computes the new facts itself.
    fn warm_pull(&self, org: &str, repo: &str, number: u64) {
        let snapshot = {
            let st = self.lock();
            st.repo(org, repo).ok().and_then(|r| {
                let issue = r.pull(number).ok()?;
                let head = issue.pr.as_ref()?.head_sha.clone();
                Some((r.id, r.git.clone(), Self::base_sha(r, issue), head))
            })
        };
        if let Some((id, g, base, head)) = snapshot {
            self.pr_git_facts(id, &g, &base, &head);
        }
    }

    /// The pull request JSON (with live git facts).
    fn pr_json(&self, st: &State, repo: &RepoRec, issue: &IssueRec) -> Value {
        let info = self.pr_info(repo, issue);
        render::pull_request(st, repo, issue, &info)
    }

    /// A commit on top of `parent` with `changes`, authored by `author`.
    fn commit_changes(
        repo: &RepoRec,
        parent: Option<&str>,
        changes: &Changes,
        message: &str,
        author: &git::Signature,
        committer: &git::Signature,
    ) -> R<String> {
        for path in changes.keys() {
            if !git::valid_path(path) {
                return Err(GitHubError::Unprocessable(format!("invalid path {path:?}")));
            }
        }
        let tree = repo.git.tree_with_changes(parent, changes)?;
        let parents: Vec<&str> = parent.into_iter().collect();
        Ok(repo
            .git
            .commit_tree(&tree, &parents, message, author, committer)?)
    }

    /// The git directory of a repository (for local clones).
    pub fn git_dir(&self, org: &str, repo: &str) -> Option<PathBuf> {
        self.lock()
            .repo(org, repo)
            .ok()
            .map(|r| r.git.dir().to_path_buf())
    }

    /// The bare repository itself (smart HTTP serving).
    pub fn git_repo(&self, org: &str, repo: &str) -> Option<git::Repo> {
        self.lock().repo(org, repo).ok().map(|r| r.git.clone())
    }
}
