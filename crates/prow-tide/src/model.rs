//! The data Tide reasons about: pull requests as the GraphQL search returns them, their head
//! commit contexts, and blocker issues. Field meanings follow Prow's `CodeReviewCommon` and
//! `tide.PullRequest`; [`Pr::to_json`] renders Prow's JSON shape for `GET /`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The context Tide itself writes.
pub const STATUS_CONTEXT: &str = "tide";

/// State of a head-commit context, in GraphQL spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CtxState {
    /// Passed.
    Success,
    /// Still running.
    Pending,
    /// Failed.
    Failure,
    /// Errored.
    Error,
    /// Expected but not reported yet (a required context that is absent).
    Expected,
}

impl CtxState {
    /// Parses GraphQL (`SUCCESS`) or REST (`success`) spellings; unknown ⇒ `Error`.
    pub fn parse(s: &str) -> CtxState {
        match s.to_ascii_uppercase().as_str() {
            "SUCCESS" => CtxState::Success,
            "PENDING" => CtxState::Pending,
            "FAILURE" => CtxState::Failure,
            "EXPECTED" => CtxState::Expected,
            _ => CtxState::Error,
        }
    }

    /// GraphQL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CtxState::Success => "SUCCESS",
            CtxState::Pending => "PENDING",
            CtxState::Failure => "FAILURE",
            CtxState::Error => "ERROR",
            CtxState::Expected => "EXPECTED",
        }
    }
}

/// One status context (or check run converted to one) on a PR's head commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// Context name (`ci/test`, `tide`, a check run name…).
    pub context: String,
    /// Its state.
    pub state: CtxState,
    /// Status description (carries ` BaseSHA:<sha>` from Prow's reporter).
    pub description: String,
    /// Link.
    pub target_url: String,
}

impl Context {
    /// A context with state and empty description.
    pub fn new(context: &str, state: CtxState) -> Context {
        Context {
            context: context.to_owned(),
            state,
            description: String::new(),
            target_url: String::new(),
        }
    }
}

/// A pull request in (or considered for) a Tide pool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pr {
    /// Repository owner.
    pub org: String,
    /// Repository name.
    pub repo: String,
    /// PR number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// HTML URL.
    pub url: String,
    /// Author login.
    pub author: String,
    /// Author is a bot/app account (`__typename == "Bot"`).
    pub author_is_bot: bool,
    /// Base branch name.
    pub base_ref: String,
    /// Base ref prefix, `refs/heads/`.
    pub base_ref_prefix: String,
    /// Head branch name.
    pub head_ref: String,
    /// Head commit SHA.
    pub head_sha: String,
    /// `MERGEABLE`, `CONFLICTING` or `UNKNOWN`.
    pub mergeable: String,
    /// GitHub's `mergeStateStatus` (`CLEAN`, `BLOCKED`, …).
    pub merge_state_status: String,
    /// GitHub says a rebase merge is possible.
    pub can_be_rebased: bool,
    /// `APPROVED`, `CHANGES_REQUESTED`, `REVIEW_REQUIRED` or none.
    pub review_decision: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Milestone title.
    pub milestone: Option<String>,
    /// Contexts on the head commit (statuses plus check runs), `None` when the search did not
    /// return the head commit (the shell then asks REST).
    pub contexts: Option<Vec<Context>>,
    /// Last update.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Pr {
    /// `org/repo#number`, the key Prow uses for PRs.
    pub fn key(&self) -> String {
        pr_key(&self.org, &self.repo, self.number)
    }

    /// `org/repo`.
    pub fn name_with_owner(&self) -> String {
        format!("{}/{}", self.org, self.repo)
    }

    /// Whether the PR carries `label` (exact, like GitHub's GraphQL names).
    pub fn has_label(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l == label)
    }

    /// Head contexts (empty when unknown).
    pub fn head_contexts(&self) -> &[Context] {
        self.contexts.as_deref().unwrap_or(&[])
    }

    /// Prow's `CodeReviewCommon` JSON (with the `GitHub` GraphQL record), as served by `GET /`.
    pub fn to_json(&self) -> Value {
        let updated = self
            .updated_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_owned());
        let contexts: Vec<Value> = self
            .head_contexts()
            .iter()
            .map(|c| {
                json!({"Context": c.context, "Description": c.description, "State": c.state.as_str()})
            })
            .collect();
        json!({
            "NameWithOwner": self.name_with_owner(),
            "Number": self.number,
            "Org": self.org,
            "Repo": self.repo,
            "BaseRefPrefix": self.base_ref_prefix,
            "BaseRefName": self.base_ref,
            "HeadRefName": self.head_ref,
            "HeadRefOID": self.head_sha,
            "Title": self.title,
            "Body": self.body,
            "AuthorLogin": self.author,
            "UpdatedAtTime": updated,
            "Mergeable": self.mergeable,
            "GitHub": {
                "Number": self.number,
                "Author": {"Login": self.author},
                "AuthorMetadata": {"TypeName": if self.author_is_bot { "Bot" } else { "User" }},
                "BaseRef": {"Name": self.base_ref, "Prefix": self.base_ref_prefix},
                "HeadRefName": self.head_ref,
                "HeadRefOID": self.head_sha,
                "Mergeable": self.mergeable,
                "MergeStateStatus": self.merge_state_status,
                "CanBeRebased": self.can_be_rebased,
                "Repository": {
                    "Name": self.repo,
                    "NameWithOwner": self.name_with_owner(),
                    "Owner": {"Login": self.org},
                },
                "ReviewDecision": self.review_decision.clone().unwrap_or_default(),
                "Commits": {"Nodes": [{"Commit": {
                    "OID": self.head_sha,
                    "Status": {"Contexts": contexts},
                    "StatusCheckRollup": {"Contexts": {"Nodes": []}},
                }}]},
                "Labels": {"Nodes": self.labels.iter().map(|l| json!({"Name": l})).collect::<Vec<_>>()},
                "Milestone": self.milestone.as_ref().map(|m| json!({"Title": m})),
                "Body": self.body,
                "Title": self.title,
                "UpdatedAt": updated,
            },
            "Gerrit": null,
        })
    }

    /// Prow's `prowapi.Pull` summary used in history records.
    pub fn to_pull(&self) -> prow_api::Pull {
        prow_api::Pull {
            number: self.number,
            author: self.author.clone(),
            sha: self.head_sha.clone(),
            title: self.title.clone(),
            head_ref: self.head_ref.clone(),
            ..Default::default()
        }
    }
}

/// `org/repo#number`.
pub fn pr_key(org: &str, repo: &str, number: u64) -> String {
    format!("{org}/{repo}#{number}")
}

/// `org/repo:branch` (Prow's pool key).
pub fn pool_key(org: &str, repo: &str, branch: &str) -> String {
    format!("{org}/{repo}:{branch}")
}

/// An open issue carrying the blocker label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    /// Issue number.
    #[serde(rename = "Number")]
    pub number: u64,
    /// Title with `branch:` tokens removed.
    #[serde(rename = "Title")]
    pub title: String,
    /// Issue URL.
    #[serde(rename = "URL")]
    pub url: String,
}

/// Blocker issues per repository and per branch (Prow's `blockers.Blockers`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blockers {
    /// Blocking every branch of `org/repo`.
    pub repo: BTreeMap<(String, String), Vec<Blocker>>,
    /// Blocking one branch.
    pub branch: BTreeMap<(String, String, String), Vec<Blocker>>,
}

fn branch_re() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"(?im)\bbranch:[^\w-]*([\w\-./]+)\b").ok())
        .as_ref()
}

/// A blocker issue as the search returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockerIssue {
    /// Repository owner.
    pub org: String,
    /// Repository name.
    pub repo: String,
    /// Issue number.
    pub number: u64,
    /// Title (may carry `branch:name` tokens).
    pub title: String,
    /// URL.
    pub url: String,
}

impl Blockers {
    /// Builds the map from issues: titles naming `branch:<name>` block those branches only.
    pub fn from_issues(issues: &[BlockerIssue]) -> Blockers {
        let mut res = Blockers::default();
        for issue in issues {
            let re = branch_re();
            let block = Blocker {
                number: issue.number,
                title: re.map_or_else(
                    || issue.title.clone(),
                    |re| re.replace_all(&issue.title, "").into_owned(),
                ),
                url: issue.url.clone(),
            };
            let branches: Vec<String> = re
                .map(|re| {
                    re.captures_iter(&issue.title)
                        .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            if branches.is_empty() {
                res.repo
                    .entry((issue.org.clone(), issue.repo.clone()))
                    .or_default()
                    .push(block);
            } else {
                for b in branches {
                    res.branch
                        .entry((issue.org.clone(), issue.repo.clone(), b))
                        .or_default()
                        .push(block.clone());
                }
            }
        }
        res
    }

    /// Blockers for one branch, sorted by number.
    pub fn applicable(&self, org: &str, repo: &str, branch: &str) -> Vec<Blocker> {
        let mut res: Vec<Blocker> = Vec::new();
        if let Some(v) = self.repo.get(&(org.to_owned(), repo.to_owned())) {
            res.extend(v.iter().cloned());
        }
        if let Some(v) = self
            .branch
            .get(&(org.to_owned(), repo.to_owned(), branch.to_owned()))
        {
            res.extend(v.iter().cloned());
        }
        res.sort_by_key(|b| b.number);
        res
    }
}

/// The best of several states for one check-run name (success > pending > failure).
fn better(prev: CtxState, cur: CtxState) -> bool {
    let rank = |s: CtxState| match s {
        CtxState::Success => 3,
        CtxState::Pending => 2,
        _ => 1,
    };
    rank(cur) > rank(prev)
}

/// Converts check runs (`name`, `status`, `conclusion`) into contexts, like Prow: not
/// `COMPLETED` ⇒ pending; `SUCCESS`/`NEUTRAL`/`SKIPPED` ⇒ success; else failure. Duplicates keep
/// the best state; nameless runs are dropped.
pub fn check_runs_to_contexts(runs: &[(String, String, String)]) -> Vec<Context> {
    let mut out: Vec<Context> = Vec::new();
    for (name, status, conclusion) in runs {
        if name.is_empty() {
            continue;
        }
        let state = if !status.eq_ignore_ascii_case("COMPLETED") {
            CtxState::Pending
        } else if ["SUCCESS", "NEUTRAL", "SKIPPED"]
            .iter()
            .any(|c| conclusion.eq_ignore_ascii_case(c))
        {
            CtxState::Success
        } else {
            CtxState::Failure
        };
        match out.iter_mut().find(|c| &c.context == name) {
            Some(existing) => {
                if better(existing.state, state) {
                    existing.state = state;
                }
            }
            None => out.push(Context::new(name, state)),
        }
    }
    out
}

/// The base SHA a Prow status description carries (` BaseSHA:` or legacy ` Basesha:`, 40 hex).
pub fn base_sha_from_description(desc: &str) -> Option<&str> {
    for delim in [" BaseSHA:", " Basesha:"] {
        let parts: Vec<&str> = desc.split(delim).collect();
        if parts.len() == 2 && parts[1].len() == 40 {
            return Some(parts[1]);
        }
    }
    None
}

/// The `[prow:skip-retest]` sentinel.
pub fn is_skip_retest(desc: &str) -> bool {
    desc.contains("[prow:skip-retest]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blockers_by_branch_and_repo() {
        let issues = vec![
            BlockerIssue {
                org: "o".into(),
                repo: "r".into(),
                number: 5,
                title: "Release freeze branch:release-1.0 branch:\"main\"".into(),
                url: "u5".into(),
            },
            BlockerIssue {
                org: "o".into(),
                repo: "r".into(),
                number: 2,
                title: "Everything broken".into(),
                url: "u2".into(),
            },
        ];
        let b = Blockers::from_issues(&issues);
        let main: Vec<u64> = b
            .applicable("o", "r", "main")
            .iter()
            .map(|b| b.number)
            .collect();
        assert_eq!(main, vec![2, 5]);
        let rel = b.applicable("o", "r", "release-1.0");
        assert_eq!(rel.len(), 2);
        // Like Prow, a closing quote after the branch name stays in the title.
        assert_eq!(rel[1].title, "Release freeze  \"");
        assert_eq!(b.applicable("o", "r", "dev").len(), 1);
        assert!(b.applicable("o", "x", "main").is_empty());
    }

    #[test]
    fn check_runs_and_base_sha() {
        let runs = vec![
            ("a".to_owned(), "IN_PROGRESS".to_owned(), String::new()),
            ("b".to_owned(), "COMPLETED".to_owned(), "NEUTRAL".to_owned()),
            ("c".to_owned(), "COMPLETED".to_owned(), "FAILURE".to_owned()),
            ("c".to_owned(), "COMPLETED".to_owned(), "SUCCESS".to_owned()),
            (String::new(), "COMPLETED".to_owned(), "FAILURE".to_owned()),
        ];
        let ctx = check_runs_to_contexts(&runs);
        let states: Vec<_> = ctx.iter().map(|c| (c.context.as_str(), c.state)).collect();
        assert_eq!(
            states,
            vec![
                ("a", CtxState::Pending),
                ("b", CtxState::Success),
                ("c", CtxState::Success)
            ]
        );
        let sha = "a".repeat(40);
        assert_eq!(
            base_sha_from_description(&format!("Job succeeded.\u{2001} BaseSHA:{sha}")),
            Some(sha.as_str())
        );
        assert_eq!(
            base_sha_from_description(&format!("x Basesha:{sha}")),
            Some(sha.as_str())
        );
        assert_eq!(base_sha_from_description("x BaseSHA:abc"), None);
    }
}
