//! The simulated world: users, orgs, repositories and everything on them. Plain data plus the
//! lookups and policy questions (who may push, how an author is associated) every operation asks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, SubsecRound, Utc};
use prow_github::GitHubError;

use crate::git;

/// Current time at GitHub's precision (whole seconds).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// Base URLs used when rendering objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Urls {
    /// Web root, e.g. `https://github.example.com` (html_url, clone_url).
    pub web: String,
    /// REST root, e.g. `https://api.github.example.com` (`url` fields).
    pub api: String,
}

impl Default for Urls {
    fn default() -> Self {
        Urls {
            web: "https://github.example.com".into(),
            api: "https://api.github.example.com".into(),
        }
    }
}

/// A user or bot account.
#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub login: String,
    pub id: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub bot: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct TeamRec {
    pub id: u64,
    pub slug: String,
    pub name: String,
    /// Lower-case logins.
    pub members: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct OrgRec {
    pub login: String,
    pub id: u64,
    /// Lower-case logins.
    pub members: BTreeSet<String>,
    pub teams: Vec<TeamRec>,
}

#[derive(Debug, Clone)]
pub(crate) struct LabelRec {
    pub id: u64,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
    pub default: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CommentRec {
    pub id: u64,
    pub issue: u64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct StatusRec {
    pub id: u64,
    pub state: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub context: String,
    pub creator: String,
    pub created_at: DateTime<Utc>,
}

/// An entry of an issue's event timeline.
#[derive(Debug, Clone)]
pub(crate) struct EventRec {
    pub id: u64,
    pub event: String,
    pub actor: String,
    pub label: Option<String>,
    pub assignee: Option<String>,
    pub requested_reviewer: Option<String>,
    pub commit_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct ReviewRec {
    pub id: u64,
    pub author: String,
    pub body: String,
    /// REST spelling: `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    pub commit_id: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub(crate) struct ReviewCommentRec {
    pub id: u64,
    pub review_id: u64,
    pub author: String,
    pub body: String,
    pub path: String,
    pub commit_id: String,
    pub position: Option<u64>,
    pub line: Option<u64>,
    pub side: String,
    pub in_reply_to: Option<u64>,
    pub diff_hunk: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Branch protection of one branch: the parts the fake enforces on merges and reports in
/// GraphQL (`mergeStateStatus`, `reviewDecision`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProtectionRec {
    /// Required status contexts (and whether the head must be up to date with the base).
    pub status_checks: Option<prow_github::RequiredStatusChecks>,
    /// Approving reviews (by users with write access) required before merging.
    pub required_approving_review_count: Option<u32>,
}

/// A registered OAuth app.
#[derive(Debug, Clone)]
pub(crate) struct OAuthAppRec {
    pub client_secret: String,
    /// Shown on the authorize page.
    pub name: String,
}

/// A one-time OAuth authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct OAuthGrant {
    pub client_id: String,
    /// Lower-case login of the user who signed in.
    pub login: String,
    pub scope: String,
    pub redirect_uri: Option<String>,
}

/// The pull-request half of an issue that is a pull request.
#[derive(Debug, Clone)]
pub(crate) struct PrRec {
    pub head_ref: String,
    pub base_ref: String,
    /// Follows the head branch while it exists; frozen once the branch is gone.
    pub head_sha: String,
    /// Base tip when last looked at (kept for closed pull requests).
    pub base_sha: String,
    pub draft: bool,
    pub merged: bool,
    pub merged_at: Option<DateTime<Utc>>,
    pub merged_by: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub requested_reviewers: Vec<String>,
    pub requested_teams: Vec<String>,
    pub reviews: Vec<ReviewRec>,
    pub review_comments: Vec<ReviewCommentRec>,
}

#[derive(Debug, Clone)]
pub(crate) struct IssueRec {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub author: String,
    /// Label names as the repository spells them.
    pub labels: Vec<String>,
    /// Lower-case logins.
    pub assignees: Vec<String>,
    pub open: bool,
    pub state_reason: Option<String>,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    /// Milestone title (the fake has no milestone objects, just titles).
    pub milestone: Option<String>,
    pub events: Vec<EventRec>,
    pub pr: Option<PrRec>,
}

impl PrRec {
    /// A pull request just opened from `head_ref` into `base_ref`: unmerged, nothing requested or
    /// reviewed yet.
    pub fn opened(
        head_ref: String,
        base_ref: String,
        head_sha: String,
        base_sha: String,
        draft: bool,
    ) -> Self {
        PrRec {
            head_ref,
            base_ref,
            head_sha,
            base_sha,
            draft,
            merged: false,
            merged_at: None,
            merged_by: None,
            merge_commit_sha: None,
            requested_reviewers: Vec::new(),
            requested_teams: Vec::new(),
            reviews: Vec::new(),
            review_comments: Vec::new(),
        }
    }
}

impl IssueRec {
    /// An issue (a pull request when `pr` is set) just opened at `when`: open, unlocked, with no
    /// labels, assignees or events yet.
    pub fn opened(
        id: u64,
        number: u64,
        title: String,
        body: Option<String>,
        author: String,
        when: DateTime<Utc>,
        pr: Option<PrRec>,
    ) -> Self {
        IssueRec {
            id,
            number,
            title,
            body,
            author,
            labels: Vec::new(),
            assignees: Vec::new(),
            open: true,
            state_reason: None,
            locked: false,
            created_at: when,
            updated_at: when,
            closed_at: None,
            closed_by: None,
            milestone: None,
            events: Vec::new(),
            pr,
        }
    }

    pub fn state(&self) -> &'static str {
        if self.open { "open" } else { "closed" }
    }

    /// Whether a list filter `?state=` (`open` by default, `closed` or `all`) keeps this issue.
    pub fn in_state(&self, state: &str) -> bool {
        match state {
            "all" => true,
            "closed" => !self.open,
            _ => self.open,
        }
    }
}

#[derive(Debug)]
pub(crate) struct RepoRec {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub private: bool,
    pub allow_merge_commit: bool,
    pub allow_squash_merge: bool,
    pub allow_rebase_merge: bool,
    /// Lower-case logins of explicit collaborators.
    pub collaborators: BTreeSet<String>,
    pub labels: Vec<LabelRec>,
    pub issues: BTreeMap<u64, IssueRec>,
    pub comments: BTreeMap<u64, CommentRec>,
    /// By full commit SHA, oldest first.
    pub statuses: BTreeMap<String, Vec<StatusRec>>,
    /// Protected branches by name.
    pub protection: BTreeMap<String, ProtectionRec>,
    pub next_number: u64,
    pub created_at: DateTime<Utc>,
    pub pushed_at: DateTime<Utc>,
    pub git: git::Repo,
}

impl RepoRec {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub fn label(&self, name: &str) -> Option<&LabelRec> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }

    pub fn issue(&self, number: u64) -> Result<&IssueRec, GitHubError> {
        self.issues
            .get(&number)
            .ok_or_else(|| GitHubError::NotFound(format!("issue {}#{number}", self.full_name())))
    }

    pub fn issue_mut(&mut self, number: u64) -> Result<&mut IssueRec, GitHubError> {
        let name = self.full_name();
        self.issues
            .get_mut(&number)
            .ok_or_else(|| GitHubError::NotFound(format!("issue {name}#{number}")))
    }

    /// The issue, which must be a pull request.
    pub fn pull(&self, number: u64) -> Result<&IssueRec, GitHubError> {
        match self.issues.get(&number) {
            Some(i) if i.pr.is_some() => Ok(i),
            _ => Err(GitHubError::NotFound(format!(
                "pull request {}#{number}",
                self.full_name()
            ))),
        }
    }

    /// Open pull requests whose head is `branch`.
    pub fn open_prs_with_head(&self, branch: &str) -> Vec<u64> {
        self.issues
            .values()
            .filter(|i| i.open && i.pr.as_ref().is_some_and(|p| p.head_ref == branch))
            .map(|i| i.number)
            .collect()
    }
}

/// Everything the fake knows.
#[derive(Debug, Default)]
pub(crate) struct State {
    next_id: u64,
    pub urls: Urls,
    /// By lower-case login.
    pub users: BTreeMap<String, UserRec>,
    /// Token → lower-case login.
    pub tokens: HashMap<String, String>,
    /// By lower-case login.
    pub orgs: BTreeMap<String, OrgRec>,
    /// By lower-case `org/repo`.
    pub repos: BTreeMap<String, RepoRec>,
    /// OAuth apps by client id.
    pub oauth_apps: BTreeMap<String, OAuthAppRec>,
    /// Unused OAuth authorization codes.
    pub oauth_codes: HashMap<String, OAuthGrant>,
}

/// The key repositories are stored under.
pub(crate) fn repo_key(org: &str, repo: &str) -> String {
    format!("{}/{}", org.to_ascii_lowercase(), repo.to_ascii_lowercase())
}

impl State {
    /// A fresh id (users, repos, issues, comments… share one sequence, like GitHub's big ints).
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The user record, created as a plain `User` when unknown (seeds and tests may name people
    /// they never declared).
    pub fn ensure_user(&mut self, login: &str) -> String {
        let key = login.to_ascii_lowercase();
        if !self.users.contains_key(&key) {
            let id = self.id();
            self.users.insert(
                key.clone(),
                UserRec {
                    login: login.to_owned(),
                    id,
                    name: None,
                    email: None,
                    bot: false,
                    created_at: now(),
                },
            );
        }
        key
    }

    pub fn user(&self, login: &str) -> Option<&UserRec> {
        self.users.get(&login.to_ascii_lowercase())
    }

    /// Display spelling of a (lower-case) login.
    pub fn display_login<'a>(&'a self, login: &'a str) -> &'a str {
        self.user(login).map_or(login, |u| u.login.as_str())
    }

    pub fn repo(&self, org: &str, repo: &str) -> Result<&RepoRec, GitHubError> {
        self.repos
            .get(&repo_key(org, repo))
            .ok_or_else(|| GitHubError::NotFound(format!("repository {org}/{repo}")))
    }

    pub fn repo_mut(&mut self, org: &str, repo: &str) -> Result<&mut RepoRec, GitHubError> {
        self.repos
            .get_mut(&repo_key(org, repo))
            .ok_or_else(|| GitHubError::NotFound(format!("repository {org}/{repo}")))
    }

    pub fn org(&self, org: &str) -> Option<&OrgRec> {
        self.orgs.get(&org.to_ascii_lowercase())
    }

    /// Whether `login` is a member of org `org`.
    pub fn is_member(&self, org: &str, login: &str) -> bool {
        self.org(org)
            .is_some_and(|o| o.members.contains(&login.to_ascii_lowercase()))
    }

    /// GitHub's `/collaborators/{user}`: explicit collaborators, members of the owning org
    /// (members get access through the org's base permission) and the owning user.
    pub fn is_collaborator(&self, repo: &RepoRec, login: &str) -> bool {
        let login = login.to_ascii_lowercase();
        repo.owner.eq_ignore_ascii_case(&login)
            || repo.collaborators.contains(&login)
            || self.is_member(&repo.owner, &login)
    }

    /// Write access: collaborators as above, plus every `Bot` account, which stands for an app
    /// installed on every org.
    pub fn can_push(&self, repo: &RepoRec, login: &str) -> bool {
        self.is_collaborator(repo, login) || self.user(login).is_some_and(|u| u.bot)
    }

    /// 403 unless `login` may write to `repo`.
    pub fn require_push(&self, repo: &RepoRec, login: &str) -> Result<(), GitHubError> {
        if self.can_push(repo, login) {
            Ok(())
        } else {
            Err(GitHubError::Forbidden(format!(
                "{} does not have push access to {}",
                self.display_login(login),
                repo.full_name()
            )))
        }
    }

    /// `author_association` of `login` on `repo`.
    pub fn association(&self, repo: &RepoRec, login: &str) -> &'static str {
        let lower = login.to_ascii_lowercase();
        if repo.owner.eq_ignore_ascii_case(&lower) {
            "OWNER"
        } else if self.is_member(&repo.owner, &lower) {
            "MEMBER"
        } else if repo.collaborators.contains(&lower) {
            "COLLABORATOR"
        } else if repo
            .issues
            .values()
            .any(|i| i.author == lower && i.pr.as_ref().is_some_and(|p| p.merged))
        {
            "CONTRIBUTOR"
        } else {
            "NONE"
        }
    }

    /// Git identity of a user: the declared name/email or GitHub-style defaults.
    pub fn signature(&self, login: &str, when: DateTime<Utc>) -> git::Signature {
        let user = self.user(login);
        let display = self.display_login(login).to_owned();
        git::Signature {
            name: user
                .and_then(|u| u.name.clone())
                .unwrap_or_else(|| display.clone()),
            email: user
                .and_then(|u| u.email.clone())
                .unwrap_or_else(|| format!("{display}@users.noreply.example.com")),
            when,
        }
    }

    /// The committer of commits GitHub makes itself (merges, web edits).
    pub fn web_committer(when: DateTime<Utc>) -> git::Signature {
        git::Signature {
            name: "GitHub".into(),
            email: "noreply@example.com".into(),
            when,
        }
    }
}
