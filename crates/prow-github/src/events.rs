//! Webhook payloads for the event types Prow's internal plugins handle (spec §1.3), and
//! [`parse`], which turns `(X-GitHub-Event, body)` into a typed [`Event`].
//!
//! Every other event type decodes into [`Event::Other`] (it still goes to external plugins).

use serde::{Deserialize, Serialize};

use crate::types::{Issue, IssueComment, Label, PullRequest, Repo, Review, ReviewComment, User};

/// `issues` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueEvent {
    pub action: String,
    pub issue: Issue,
    pub repository: Repo,
    pub sender: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<serde_json::Value>,
}

/// `issue_comment` event (comments on issues and on pull request conversations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueCommentEvent {
    pub action: String,
    pub issue: Issue,
    pub comment: IssueComment,
    pub repository: Repo,
    pub sender: User,
}

/// `pull_request` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequestEvent {
    pub action: String,
    pub number: u64,
    pub pull_request: PullRequest,
    pub repository: Repo,
    pub sender: User,
    /// For `labeled`/`unlabeled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    /// For `edited`: what changed (`title`, `body`, `base`…), with previous values under `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<serde_json::Value>,
    /// For `synchronize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// `pull_request_review` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewEvent {
    pub action: String,
    pub pull_request: PullRequest,
    pub review: Review,
    pub repository: Repo,
    pub sender: User,
}

/// `pull_request_review_comment` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewCommentEvent {
    pub action: String,
    pub pull_request: PullRequest,
    pub comment: ReviewComment,
    pub repository: Repo,
    pub sender: User,
}

/// Author/committer as it appears inside push payload commits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushCommitAuthor {
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// A commit listed in a push event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushCommit {
    pub id: String,
    pub tree_id: String,
    pub message: String,
    pub url: String,
    pub distinct: bool,
    pub author: PushCommitAuthor,
    pub committer: PushCommitAuthor,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub modified: Vec<String>,
}

/// The repository object of push events: like [`Repo`], but `owner` carries `name` too and some
/// timestamps are integers, so it is typed separately with only what Prow reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushRepo {
    pub id: u64,
    pub name: String,
    pub full_name: String,
    pub owner: User,
    pub html_url: String,
    pub private: bool,
    pub fork: bool,
    pub archived: bool,
    pub default_branch: String,
}

/// `push` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushEvent {
    /// `refs/heads/<branch>` or `refs/tags/<tag>`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub before: String,
    pub after: String,
    pub created: bool,
    pub deleted: bool,
    pub forced: bool,
    pub compare: String,
    pub commits: Vec<PushCommit>,
    pub head_commit: Option<PushCommit>,
    pub repository: PushRepo,
    pub pusher: PushCommitAuthor,
    pub sender: User,
}

impl PushEvent {
    /// The branch name if this push is to `refs/heads/…`.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }
    /// The org/owner login (owner `login`, falling back to `name` as in older payloads).
    pub fn org(&self) -> &str {
        if self.repository.owner.login.is_empty() {
            self.repository.owner.name.as_deref().unwrap_or_default()
        } else {
            &self.repository.owner.login
        }
    }
}

/// `status` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusEvent {
    pub id: u64,
    pub sha: String,
    pub name: String,
    pub state: String,
    pub description: Option<String>,
    pub target_url: Option<String>,
    pub context: String,
    pub repository: Repo,
    pub sender: User,
}

/// A decoded webhook.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Issues(Box<IssueEvent>),
    IssueComment(Box<IssueCommentEvent>),
    PullRequest(Box<PullRequestEvent>),
    PullRequestReview(Box<ReviewEvent>),
    PullRequestReviewComment(Box<ReviewCommentEvent>),
    Push(Box<PushEvent>),
    Status(Box<StatusEvent>),
    /// Any other event type: only checked to be a JSON object; forwarded to external plugins.
    Other {
        /// The `X-GitHub-Event` value.
        event_type: String,
        /// The payload.
        payload: serde_json::Value,
    },
}

impl Event {
    /// `org/repo` of the event's repository when the payload names one.
    pub fn repo_full_name(&self) -> Option<String> {
        let name = match self {
            Event::Issues(e) => &e.repository.full_name,
            Event::IssueComment(e) => &e.repository.full_name,
            Event::PullRequest(e) => &e.repository.full_name,
            Event::PullRequestReview(e) => &e.repository.full_name,
            Event::PullRequestReviewComment(e) => &e.repository.full_name,
            Event::Push(e) => &e.repository.full_name,
            Event::Status(e) => &e.repository.full_name,
            Event::Other { payload, .. } => {
                return payload
                    .pointer("/repository/full_name")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
            }
        };
        (!name.is_empty()).then(|| name.clone())
    }
}

/// Why a payload was rejected.
#[derive(Debug, thiserror::Error)]
#[error("failed to parse {event_type} event: {message}")]
pub struct ParseError {
    /// The `X-GitHub-Event` value.
    pub event_type: String,
    /// serde's message, with line and column.
    pub message: String,
}

/// Decodes a webhook body for its `X-GitHub-Event` type.
pub fn parse(event_type: &str, body: &[u8]) -> Result<Event, ParseError> {
    fn de<T: for<'a> Deserialize<'a>>(event_type: &str, body: &[u8]) -> Result<Box<T>, ParseError> {
        serde_json::from_slice(body)
            .map(Box::new)
            .map_err(|e| ParseError {
                event_type: event_type.to_owned(),
                message: e.to_string(),
            })
    }
    Ok(match event_type {
        "issues" => Event::Issues(de(event_type, body)?),
        "issue_comment" => Event::IssueComment(de(event_type, body)?),
        "pull_request" => Event::PullRequest(de(event_type, body)?),
        "pull_request_review" => Event::PullRequestReview(de(event_type, body)?),
        "pull_request_review_comment" => Event::PullRequestReviewComment(de(event_type, body)?),
        "push" => Event::Push(de(event_type, body)?),
        "status" => Event::Status(de(event_type, body)?),
        other => {
            let payload: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| ParseError {
                    event_type: other.to_owned(),
                    message: e.to_string(),
                })?;
            if !payload.is_object() {
                return Err(ParseError {
                    event_type: other.to_owned(),
                    message: "payload is not a JSON object".into(),
                });
            }
            Event::Other {
                event_type: other.to_owned(),
                payload,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn corpus() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/github-webhooks/payload-examples")
    }

    #[test]
    fn every_corpus_payload_parses() {
        let root = corpus();
        assert!(root.is_dir(), "test data missing at {}", root.display());
        let mut n = 0;
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            let event_type = dir.file_name().unwrap().to_str().unwrap().to_owned();
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                let body = std::fs::read(&f).unwrap();
                let ev =
                    parse(&event_type, &body).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                if !["installation", "installation_repositories", "ping"]
                    .contains(&event_type.as_str())
                    || f.to_string_lossy().contains("with-repository")
                {
                    assert!(
                        ev.repo_full_name().is_some(),
                        "{}: no repository",
                        f.display()
                    );
                }
                n += 1;
            }
        }
        assert!(n >= 100, "only {n} payloads");
    }

    #[test]
    fn typed_fields_are_read() {
        let body = std::fs::read(corpus().join("issue_comment/created.payload.json")).unwrap();
        let Event::IssueComment(ev) = parse("issue_comment", &body).unwrap() else {
            panic!()
        };
        assert_eq!(ev.action, "created");
        assert!(!ev.comment.body.is_empty());
        assert_eq!(ev.repository.full_name, "Codertocat/Hello-World");
        let body = std::fs::read(corpus().join("push/payload.json")).unwrap();
        let Event::Push(ev) = parse("push", &body).unwrap() else {
            panic!()
        };
        assert_eq!(ev.org(), "Codertocat");
        assert!(ev.deleted);
    }

    #[test]
    fn malformed_is_an_error_with_position() {
        let err = parse("issue_comment", b"{\"action\": ").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(parse("check_run", b"[1]").is_err());
        assert!(parse("pull_request", b"{\"number\": \"x\"}").is_err());
    }
}
