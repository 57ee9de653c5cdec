//! The event vocabulary plugins see: which webhook types exist, the repository an event belongs
//! to, and the synthesized [`GenericCommentEvent`] (Prow's `github.GenericCommentEvent`).
//!
//! Prow turns every event that carries user-written text into one shape so a command plugin
//! needs only one handler: issue comments, review bodies, review comments, issue bodies
//! (opened/edited) and pull request bodies (opened/edited). Actions are normalised to
//! [`CommentAction::Created`], [`CommentAction::Edited`] or [`CommentAction::Deleted`].

use prow_github::events::{
    Event, IssueCommentEvent, IssueEvent, PullRequestEvent, ReviewCommentEvent, ReviewEvent,
};
use prow_github::{Repo, User};

/// The kinds of handler a plugin can implement (Prow's `Register*Handler` families).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// `issues` webhooks.
    Issue,
    /// `issue_comment` webhooks.
    IssueComment,
    /// `pull_request` webhooks.
    PullRequest,
    /// `push` webhooks.
    Push,
    /// `pull_request_review` webhooks.
    Review,
    /// `pull_request_review_comment` webhooks.
    ReviewComment,
    /// `status` webhooks.
    Status,
    /// Synthesized from any event carrying user text.
    GenericComment,
}

impl EventKind {
    /// Every kind, in the order Prow lists them in plugin help.
    pub const ALL: [EventKind; 8] = [
        EventKind::Issue,
        EventKind::IssueComment,
        EventKind::PullRequest,
        EventKind::Push,
        EventKind::Review,
        EventKind::ReviewComment,
        EventKind::Status,
        EventKind::GenericComment,
    ];

    /// The name Prow's `/plugin-help` lists under `Events` (`EventsForPlugin`).
    pub fn help_name(self) -> &'static str {
        match self {
            EventKind::Issue => "issue",
            EventKind::IssueComment => "issue_comment",
            EventKind::PullRequest => "pull_request",
            EventKind::Push => "push",
            EventKind::Review => "pull_request_review",
            EventKind::ReviewComment => "pull_request_review_comment",
            EventKind::Status => "status",
            EventKind::GenericComment => "GenericCommentEvent (any event for user text)",
        }
    }
}

/// The normalised action of a [`GenericCommentEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommentAction {
    /// `created`, `opened` or `submitted`.
    Created,
    /// `edited`.
    Edited,
    /// `deleted` or `dismissed`.
    Deleted,
}

impl CommentAction {
    /// Prow's `GeneralizeCommentAction`: `None` when the action is unrelated to the text (for
    /// example a `labeled` pull request event).
    pub fn generalize(action: &str) -> Option<CommentAction> {
        match action {
            "created" | "opened" | "submitted" => Some(CommentAction::Created),
            "edited" => Some(CommentAction::Edited),
            "deleted" | "dismissed" => Some(CommentAction::Deleted),
            _ => None,
        }
    }

    /// The wire value (`created`, `edited`, `deleted`).
    pub fn as_str(self) -> &'static str {
        match self {
            CommentAction::Created => "created",
            CommentAction::Edited => "edited",
            CommentAction::Deleted => "deleted",
        }
    }
}

/// Any event carrying user-written text, in one shape (Prow's `GenericCommentEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericCommentEvent {
    /// ID of the issue or pull request (reviews and review comments: 0, as in Prow).
    pub id: u64,
    /// ID of the comment, for comment events.
    pub comment_id: Option<u64>,
    /// Whether the text lives on a pull request.
    pub is_pr: bool,
    /// Normalised action.
    pub action: CommentAction,
    /// The text: comment, review body, or issue/PR body.
    pub body: String,
    /// Link to the text (comment, review, or issue/PR).
    pub html_url: String,
    /// Issue or pull request number.
    pub number: u64,
    /// The repository.
    pub repo: Repo,
    /// Who wrote the text.
    pub user: User,
    /// Who opened the issue or pull request.
    pub issue_author: User,
    /// Assignees of the issue or pull request.
    pub assignees: Vec<User>,
    /// `open` or `closed`.
    pub issue_state: String,
    /// Issue or pull request title.
    pub issue_title: String,
    /// Issue or pull request body.
    pub issue_body: String,
    /// Issue or pull request link.
    pub issue_html_url: String,
    /// The webhook delivery ID (`X-GitHub-Delivery`).
    pub guid: String,
    /// Head SHA of the pull request when the payload carries it (pull request and review events).
    pub head_sha: Option<String>,
}

impl GenericCommentEvent {
    /// Organisation (repository owner) login.
    pub fn org(&self) -> &str {
        &self.repo.owner.login
    }

    /// Repository name.
    pub fn repo_name(&self) -> &str {
        &self.repo.name
    }

    /// From an `issue_comment` webhook.
    pub fn from_issue_comment(e: &IssueCommentEvent, guid: &str) -> Option<Self> {
        Some(GenericCommentEvent {
            id: e.issue.id,
            comment_id: Some(e.comment.id),
            is_pr: e.issue.is_pull_request(),
            action: CommentAction::generalize(&e.action)?,
            body: e.comment.body.clone(),
            html_url: e.comment.html_url.clone(),
            number: e.issue.number,
            repo: e.repository.clone(),
            user: e.comment.user.clone(),
            issue_author: e.issue.user.clone(),
            assignees: e.issue.assignees.clone(),
            issue_state: e.issue.state.clone(),
            issue_title: e.issue.title.clone(),
            issue_body: e.issue.body.clone().unwrap_or_default(),
            issue_html_url: e.issue.html_url.clone(),
            guid: guid.to_owned(),
            head_sha: None,
        })
    }

    /// From an `issues` webhook (the issue body is the text).
    pub fn from_issue(e: &IssueEvent, guid: &str) -> Option<Self> {
        let body = e.issue.body.clone().unwrap_or_default();
        Some(GenericCommentEvent {
            id: e.issue.id,
            comment_id: None,
            is_pr: e.issue.is_pull_request(),
            action: CommentAction::generalize(&e.action)?,
            body: body.clone(),
            html_url: e.issue.html_url.clone(),
            number: e.issue.number,
            repo: e.repository.clone(),
            user: e.issue.user.clone(),
            issue_author: e.issue.user.clone(),
            assignees: e.issue.assignees.clone(),
            issue_state: e.issue.state.clone(),
            issue_title: e.issue.title.clone(),
            issue_body: body,
            issue_html_url: e.issue.html_url.clone(),
            guid: guid.to_owned(),
            head_sha: None,
        })
    }

    /// From a `pull_request` webhook (the PR body is the text).
    pub fn from_pull_request(e: &PullRequestEvent, guid: &str) -> Option<Self> {
        let pr = &e.pull_request;
        let body = pr.body.clone().unwrap_or_default();
        Some(GenericCommentEvent {
            id: pr.id,
            comment_id: None,
            is_pr: true,
            action: CommentAction::generalize(&e.action)?,
            body: body.clone(),
            html_url: pr.html_url.clone(),
            number: pr.number,
            repo: e.repository.clone(),
            user: pr.user.clone(),
            issue_author: pr.user.clone(),
            assignees: pr.assignees.clone(),
            issue_state: pr.state.clone(),
            issue_title: pr.title.clone(),
            issue_body: body,
            issue_html_url: pr.html_url.clone(),
            guid: guid.to_owned(),
            head_sha: non_empty(&pr.head.sha),
        })
    }

    /// From a `pull_request_review` webhook (the review body is the text).
    pub fn from_review(e: &ReviewEvent, guid: &str) -> Option<Self> {
        let pr = &e.pull_request;
        Some(GenericCommentEvent {
            id: 0,
            comment_id: None,
            is_pr: true,
            action: CommentAction::generalize(&e.action)?,
            body: e.review.body.clone().unwrap_or_default(),
            html_url: e.review.html_url.clone(),
            number: pr.number,
            repo: e.repository.clone(),
            user: e.review.user.clone(),
            issue_author: pr.user.clone(),
            assignees: pr.assignees.clone(),
            issue_state: pr.state.clone(),
            issue_title: pr.title.clone(),
            issue_body: pr.body.clone().unwrap_or_default(),
            issue_html_url: pr.html_url.clone(),
            guid: guid.to_owned(),
            head_sha: non_empty(&pr.head.sha),
        })
    }

    /// From a `pull_request_review_comment` webhook.
    pub fn from_review_comment(e: &ReviewCommentEvent, guid: &str) -> Option<Self> {
        let pr = &e.pull_request;
        Some(GenericCommentEvent {
            id: 0,
            comment_id: Some(e.comment.id),
            is_pr: true,
            action: CommentAction::generalize(&e.action)?,
            body: e.comment.body.clone(),
            html_url: e.comment.html_url.clone(),
            number: pr.number,
            repo: e.repository.clone(),
            user: e.comment.user.clone(),
            issue_author: pr.user.clone(),
            assignees: pr.assignees.clone(),
            issue_state: pr.state.clone(),
            issue_title: pr.title.clone(),
            issue_body: pr.body.clone().unwrap_or_default(),
            issue_html_url: pr.html_url.clone(),
            guid: guid.to_owned(),
            head_sha: non_empty(&pr.head.sha),
        })
    }

    /// The generic comment an event carries, if any (Prow's `GeneralizeComment`).
    pub fn from_event(event: &Event, guid: &str) -> Option<Self> {
        match event {
            Event::Issues(e) => Self::from_issue(e, guid),
            Event::IssueComment(e) => Self::from_issue_comment(e, guid),
            Event::PullRequest(e) => Self::from_pull_request(e, guid),
            Event::PullRequestReview(e) => Self::from_review(e, guid),
            Event::PullRequestReviewComment(e) => Self::from_review_comment(e, guid),
            Event::Push(_) | Event::Status(_) | Event::Other { .. } => None,
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The `X-GitHub-Event` name of an event.
pub fn event_type(event: &Event) -> &str {
    match event {
        Event::Issues(_) => "issues",
        Event::IssueComment(_) => "issue_comment",
        Event::PullRequest(_) => "pull_request",
        Event::PullRequestReview(_) => "pull_request_review",
        Event::PullRequestReviewComment(_) => "pull_request_review_comment",
        Event::Push(_) => "push",
        Event::Status(_) => "status",
        Event::Other { event_type, .. } => event_type,
    }
}

/// The raw `action` of an event; `none` for push and status events, which have none (the value
/// Prow's hook puts in its metrics).
pub fn event_action(event: &Event) -> &str {
    match event {
        Event::Issues(e) => &e.action,
        Event::IssueComment(e) => &e.action,
        Event::PullRequest(e) => &e.action,
        Event::PullRequestReview(e) => &e.action,
        Event::PullRequestReviewComment(e) => &e.action,
        Event::Push(_) | Event::Status(_) => "none",
        Event::Other { payload, .. } => payload
            .get("action")
            .and_then(|a| a.as_str())
            .unwrap_or("none"),
    }
}

/// Owner login and repository name of an event, the key plugin enablement is looked up by.
/// Pull request events use the base repository, push events the owner's `name` when `login` is
/// missing, as Prow does.
pub fn event_org_repo(event: &Event) -> Option<(String, String)> {
    let (owner, name, full) = match event {
        Event::Issues(e) => repo_parts(&e.repository),
        Event::IssueComment(e) => repo_parts(&e.repository),
        Event::PullRequest(e) => match &e.pull_request.base.repo {
            Some(base) if !base.name.is_empty() => repo_parts(base),
            _ => repo_parts(&e.repository),
        },
        Event::PullRequestReview(e) => match &e.pull_request.base.repo {
            Some(base) if !base.name.is_empty() => repo_parts(base),
            _ => repo_parts(&e.repository),
        },
        Event::PullRequestReviewComment(e) => match &e.pull_request.base.repo {
            Some(base) if !base.name.is_empty() => repo_parts(base),
            _ => repo_parts(&e.repository),
        },
        Event::Push(e) => (
            e.org().to_owned(),
            e.repository.name.clone(),
            e.repository.full_name.clone(),
        ),
        Event::Status(e) => repo_parts(&e.repository),
        Event::Other { .. } => {
            let full = event.repo_full_name()?;
            let (o, r) = full.split_once('/')?;
            return Some((o.to_owned(), r.to_owned()));
        }
    };
    if !owner.is_empty() && !name.is_empty() {
        return Some((owner, name));
    }
    let (o, r) = full.split_once('/')?;
    (!o.is_empty() && !r.is_empty()).then(|| (o.to_owned(), r.to_owned()))
}

fn repo_parts(r: &Repo) -> (String, String, String) {
    (r.owner.login.clone(), r.name.clone(), r.full_name.clone())
}

/// The issue or pull request number an event is about, when it has one.
pub fn event_number(event: &Event) -> Option<u64> {
    match event {
        Event::Issues(e) => Some(e.issue.number),
        Event::IssueComment(e) => Some(e.issue.number),
        Event::PullRequest(e) => Some(e.pull_request.number.max(e.number)),
        Event::PullRequestReview(e) => Some(e.pull_request.number),
        Event::PullRequestReviewComment(e) => Some(e.pull_request.number),
        Event::Push(_) | Event::Status(_) | Event::Other { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_github::{Issue, IssueComment, IssuePullRequestLink, PullRequest, Review};

    fn repo() -> Repo {
        Repo {
            name: "repo".into(),
            full_name: "org/repo".into(),
            owner: User {
                login: "org".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn user(login: &str) -> User {
        User {
            login: login.into(),
            ..Default::default()
        }
    }

    #[test]
    fn actions_generalize_like_prow() {
        for (raw, want) in [
            ("created", Some(CommentAction::Created)),
            ("opened", Some(CommentAction::Created)),
            ("submitted", Some(CommentAction::Created)),
            ("edited", Some(CommentAction::Edited)),
            ("deleted", Some(CommentAction::Deleted)),
            ("dismissed", Some(CommentAction::Deleted)),
            ("labeled", None),
            ("synchronize", None),
            ("closed", None),
            ("", None),
        ] {
            assert_eq!(CommentAction::generalize(raw), want, "{raw}");
        }
    }

    #[test]
    fn issue_comment_on_pr_is_generalized() {
        let e = IssueCommentEvent {
            action: "created".into(),
            issue: Issue {
                id: 9,
                number: 5,
                user: user("author"),
                state: "open".into(),
                body: Some("issue body".into()),
                html_url: "https://example.com/org/repo/pull/5".into(),
                pull_request: Some(IssuePullRequestLink::default()),
                assignees: vec![user("a1")],
                ..Default::default()
            },
            comment: IssueComment {
                id: 77,
                body: "/lgtm".into(),
                user: user("commenter"),
                html_url: "https://example.com/c/77".into(),
                ..Default::default()
            },
            repository: repo(),
            sender: user("commenter"),
        };
        let gc = GenericCommentEvent::from_event(&Event::IssueComment(Box::new(e)), "guid-1")
            .expect("generic comment");
        assert!(gc.is_pr);
        assert_eq!(gc.action, CommentAction::Created);
        assert_eq!(gc.body, "/lgtm");
        assert_eq!(gc.comment_id, Some(77));
        assert_eq!(gc.user.login, "commenter");
        assert_eq!(gc.issue_author.login, "author");
        assert_eq!(gc.issue_body, "issue body");
        assert_eq!(gc.number, 5);
        assert_eq!(gc.guid, "guid-1");
        assert_eq!(gc.org(), "org");
        assert_eq!(gc.head_sha, None);
    }

    #[test]
    fn review_and_pr_bodies_are_generalized_with_head_sha() {
        let pr = PullRequest {
            number: 3,
            user: user("author"),
            state: "open".into(),
            body: Some("pr body".into()),
            head: prow_github::PullRequestBranch {
                sha: "abc".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let review = ReviewEvent {
            action: "submitted".into(),
            pull_request: pr.clone(),
            review: Review {
                body: Some("/approve".into()),
                user: user("rev"),
                state: "approved".into(),
                ..Default::default()
            },
            repository: repo(),
            sender: user("rev"),
        };
        let gc = GenericCommentEvent::from_event(&Event::PullRequestReview(Box::new(review)), "g")
            .expect("review");
        assert_eq!(gc.body, "/approve");
        assert_eq!(gc.user.login, "rev");
        assert_eq!(gc.issue_body, "pr body");
        assert_eq!(gc.head_sha.as_deref(), Some("abc"));

        let mut pre = PullRequestEvent {
            action: "opened".into(),
            number: 3,
            pull_request: pr,
            repository: repo(),
            ..Default::default()
        };
        let gc = GenericCommentEvent::from_event(&Event::PullRequest(Box::new(pre.clone())), "g")
            .expect("opened PR");
        assert_eq!(gc.body, "pr body");
        assert_eq!(gc.user.login, "author");
        pre.action = "synchronize".into();
        assert!(GenericCommentEvent::from_event(&Event::PullRequest(Box::new(pre)), "g").is_none());
    }

    #[test]
    fn org_repo_of_push_uses_owner_name() {
        let body = br#"{"ref":"refs/heads/main","after":"x","repository":{"name":"r","full_name":"o/r","owner":{"name":"o"}}}"#;
        let ev = prow_github::events::parse("push", body).expect("push parses");
        assert_eq!(event_org_repo(&ev), Some(("o".into(), "r".into())));
        assert_eq!(event_action(&ev), "none");
        assert_eq!(event_type(&ev), "push");
    }
}
