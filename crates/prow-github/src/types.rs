//! GitHub REST object types, with GitHub's JSON field names.
//!
//! Only the fields Prow reads are declared; unknown fields are ignored and missing ones default,
//! so both full API responses and webhook payloads (which embed these objects) decode.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user or bot account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    pub login: String,
    pub id: u64,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub html_url: String,
}

/// A label as attached to an issue or defined in a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Label {
    pub id: u64,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
    pub default: bool,
}

/// A repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Repo {
    pub id: u64,
    pub name: String,
    pub full_name: String,
    pub owner: User,
    pub html_url: String,
    pub private: bool,
    pub fork: bool,
    pub archived: bool,
    pub default_branch: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_merge_commit: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_squash_merge: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_rebase_merge: Option<bool>,
}

/// A milestone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Milestone {
    pub number: u64,
    pub title: String,
    pub state: String,
}

/// Present on an issue that is a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssuePullRequestLink {
    pub url: String,
    pub html_url: String,
}

/// An issue (or the issue view of a pull request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issue {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub user: User,
    pub labels: Vec<Label>,
    pub assignees: Vec<User>,
    /// `open` or `closed`.
    pub state: String,
    pub locked: bool,
    pub html_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<IssuePullRequestLink>,
    pub milestone: Option<Milestone>,
    pub author_association: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Issue {
    /// Whether this issue is a pull request.
    pub fn is_pull_request(&self) -> bool {
        self.pull_request.is_some()
    }
    /// Whether it carries `label` (GitHub label names compare case-insensitively).
    pub fn has_label(&self, label: &str) -> bool {
        has_label(&self.labels, label)
    }
    /// Whether `login` is among the assignees (case-insensitive).
    pub fn is_assignee(&self, login: &str) -> bool {
        self.assignees
            .iter()
            .any(|a| a.login.eq_ignore_ascii_case(login))
    }
    /// Whether `login` opened it (case-insensitive).
    pub fn is_author(&self, login: &str) -> bool {
        self.user.login.eq_ignore_ascii_case(login)
    }
}

/// Whether `labels` contains `name`, compared case-insensitively like GitHub does.
pub fn has_label(labels: &[Label], name: &str) -> bool {
    labels.iter().any(|l| l.name.eq_ignore_ascii_case(name))
}

/// One side (head or base) of a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequestBranch {
    /// Branch name (`ref` in JSON).
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
    /// `owner:branch`.
    pub label: String,
    pub repo: Option<Repo>,
    pub user: Option<User>,
}

/// A pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequest {
    pub id: u64,
    pub number: u64,
    pub html_url: String,
    pub title: String,
    pub body: Option<String>,
    pub user: User,
    pub labels: Vec<Label>,
    pub assignees: Vec<User>,
    pub requested_reviewers: Vec<User>,
    /// `open` or `closed`.
    pub state: String,
    pub draft: bool,
    pub merged: bool,
    /// `None` while GitHub is still computing it.
    pub mergeable: Option<bool>,
    pub mergeable_state: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub head: PullRequestBranch,
    pub base: PullRequestBranch,
    pub author_association: String,
    pub milestone: Option<Milestone>,
    pub additions: u64,
    pub deletions: u64,
    pub changed_files: u64,
    pub commits: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub merged_at: Option<DateTime<Utc>>,
}

impl PullRequest {
    /// Whether it carries `label` (case-insensitive).
    pub fn has_label(&self, label: &str) -> bool {
        has_label(&self.labels, label)
    }
}

/// A file changed by a pull request (`/pulls/{n}/files`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequestChange {
    pub sha: String,
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed`, `unchanged`.
    pub status: String,
    pub additions: u64,
    pub deletions: u64,
    pub changes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_filename: Option<String>,
    pub blob_url: String,
}

/// A comment on an issue or pull request conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueComment {
    pub id: u64,
    pub html_url: String,
    pub issue_url: String,
    pub user: User,
    pub body: String,
    pub author_association: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Review states as GitHub reports them on `/pulls/{n}/reviews` (`APPROVED`, `CHANGES_REQUESTED`,
/// `COMMENTED`, `DISMISSED`, `PENDING`). Webhooks use lower case (`approved`…); compare with
/// [`Review::state_is`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Review {
    pub id: u64,
    pub user: User,
    pub body: Option<String>,
    pub state: String,
    pub html_url: String,
    pub commit_id: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl Review {
    /// Case-insensitive state comparison (`approved` == `APPROVED`).
    pub fn state_is(&self, state: &str) -> bool {
        self.state.eq_ignore_ascii_case(state)
    }
}

/// A review to submit (`POST /pulls/{n}/reviews`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftReview {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    pub body: String,
    /// `APPROVE`, `REQUEST_CHANGES` or `COMMENT`.
    pub event: String,
}

/// A review comment on a diff line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewComment {
    pub id: u64,
    pub pull_request_review_id: Option<u64>,
    pub user: User,
    pub body: String,
    pub path: String,
    pub commit_id: String,
    pub html_url: String,
    pub position: Option<u64>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// An entry of an issue's timeline events (`/issues/{n}/events`), e.g. who added a label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueEvent {
    pub id: u64,
    /// `labeled`, `unlabeled`, `closed`, `assigned`, …
    pub event: String,
    pub actor: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    pub created_at: Option<DateTime<Utc>>,
}

/// A commit status to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    /// `pending`, `success`, `failure` or `error`.
    pub state: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub context: String,
}

/// One context of a combined status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusEntry {
    pub id: u64,
    pub state: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub context: String,
    pub creator: Option<User>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `GET /commits/{ref}/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CombinedStatus {
    pub sha: String,
    /// `pending`, `success` or `failure`.
    pub state: String,
    pub statuses: Vec<StatusEntry>,
    pub total_count: u64,
}

/// `GET /repos/{org}/{repo}/branches/{branch}/protection` (the fields Prow reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BranchProtection {
    /// Status checks that must pass before merging; `None` when not enforced.
    pub required_status_checks: Option<RequiredStatusChecks>,
}

/// Required status checks of a protected branch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequiredStatusChecks {
    /// Branch must be up to date with the base before merging.
    pub strict: bool,
    /// Required status contexts.
    pub contexts: Vec<String>,
}

/// A git object reference (`{sha}` with an optional URL).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitObject {
    pub sha: String,
    pub url: String,
}

/// Author or committer of a git commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommitAuthor {
    pub name: String,
    pub email: String,
    pub date: Option<DateTime<Utc>>,
}

/// The git part of a [`RepositoryCommit`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitCommit {
    pub message: String,
    pub tree: GitObject,
    pub author: CommitAuthor,
    pub committer: CommitAuthor,
}

/// A file touched by a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommitFile {
    pub filename: String,
    pub status: String,
    pub additions: u64,
    pub deletions: u64,
    pub changes: u64,
}

/// `GET /repos/{o}/{r}/commits/{sha}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepositoryCommit {
    pub sha: String,
    pub commit: GitCommit,
    pub author: Option<User>,
    pub committer: Option<User>,
    pub parents: Vec<GitObject>,
    pub files: Vec<CommitFile>,
    pub html_url: String,
}

/// One entry of a git tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeEntry {
    pub path: String,
    pub mode: String,
    /// `blob`, `tree` or `commit`.
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Parameters of `PUT /pulls/{n}/merge`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_message: Option<String>,
    /// The head SHA we expect; GitHub refuses with 409 if the head moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    /// `merge`, `squash` or `rebase`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_method: Option<String>,
}

/// A team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    pub id: u64,
    pub name: String,
    pub slug: String,
}
