//! The seed: the world a fake starts with (see the crate docs for the YAML format and
//! `testdata/seed.yaml` for a complete example).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a seed was rejected.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The YAML did not parse or does not match the seed schema.
    #[error("invalid seed YAML: {0}")]
    Yaml(String),
    /// The seed parsed but is inconsistent (duplicate names, unknown repository, bad path…).
    #[error("invalid seed: {0}")]
    Invalid(String),
    /// Creating the repositories failed (temp dir or git).
    #[error("cannot create seeded repositories: {0}")]
    Storage(String),
}

/// The whole seed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Base URLs used in rendered objects (`html_url`, `url`, `clone_url`).
    pub urls: SeedUrls,
    /// Accounts. People referenced elsewhere but not listed here become plain users without a
    /// token.
    pub users: Vec<SeedUser>,
    /// Organizations with their members and teams.
    pub orgs: Vec<SeedOrg>,
    /// Repositories with their files.
    pub repos: Vec<SeedRepo>,
    /// Open pull requests.
    pub pull_requests: Vec<SeedPullRequest>,
    /// Issues.
    pub issues: Vec<SeedIssue>,
    /// OAuth apps that may use the web flow (`/login/oauth/authorize`).
    pub oauth_apps: Vec<SeedOAuthApp>,
}

/// An OAuth app registered with the fake (GitHub's "OAuth Apps" settings page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedOAuthApp {
    /// `client_id` query parameter of the authorize URL.
    pub client_id: String,
    /// Secret the app sends to `/login/oauth/access_token`.
    pub client_secret: String,
    /// Name shown on the sign-in page (default: the client id).
    pub name: Option<String>,
}

/// Protection of one branch (`PUT /repos/{o}/{r}/branches/{b}/protection`, the parts the fake
/// enforces).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedBranchProtection {
    /// Status contexts that must be `success` on the head before merging.
    pub required_status_checks: Option<SeedStatusChecks>,
    /// Approving reviews by users with write access required before merging.
    pub required_approving_review_count: Option<u32>,
}

/// Required status checks of a protected branch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedStatusChecks {
    /// Required contexts.
    pub contexts: Vec<String>,
    /// Whether the head must contain the base tip ("require branches to be up to date").
    pub strict: bool,
}

/// Base URLs; unset ones default to `https://github.example.com` and
/// `https://api.github.example.com` (the `run` entry point uses its own listen address instead).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedUrls {
    /// Web root (no trailing slash).
    pub web: Option<String>,
    /// REST API root (no trailing slash).
    pub api: Option<String>,
}

/// Account type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserKind {
    /// A person.
    #[default]
    User,
    /// A bot (e.g. Prow's own account). Bots have write access to every repository, as an app
    /// installed everywhere would, without being collaborators or members.
    Bot,
}

/// One account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedUser {
    /// Login (case-insensitive, like GitHub).
    pub login: String,
    /// API token (`Authorization: token <t>` or `Bearer <t>`); without one the user cannot use
    /// the HTTP API (in-process clients need no token).
    pub token: Option<String>,
    /// Display name (also the git author name).
    pub name: Option<String>,
    /// Email (also the git author email).
    pub email: Option<String>,
    /// `User` (default) or `Bot`.
    #[serde(rename = "type")]
    pub kind: UserKind,
}

/// One organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedOrg {
    /// Org login.
    pub login: String,
    /// Member logins. Members can push to the org's repositories.
    pub members: Vec<String>,
    /// Teams.
    pub teams: Vec<SeedTeam>,
}

/// One team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedTeam {
    /// Slug (`/orgs/{org}/teams/{slug}`).
    pub slug: String,
    /// Display name (defaults to the slug).
    pub name: Option<String>,
    /// Member logins (they need not be org members, but usually are).
    pub members: Vec<String>,
}

/// A label: just a name, or name with color and description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SeedLabel {
    /// `- lgtm`
    Name(String),
    /// `- {name: lgtm, color: 15dd18, description: ...}`
    Full(SeedLabelFull),
}

/// The long form of a label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedLabelFull {
    /// Name.
    pub name: String,
    /// Six hex digits, without `#` (default `ededed`).
    pub color: Option<String>,
    /// Description.
    pub description: Option<String>,
}

impl SeedLabel {
    /// The label's name.
    pub fn name(&self) -> &str {
        match self {
            SeedLabel::Name(n) => n,
            SeedLabel::Full(f) => &f.name,
        }
    }
}

/// One repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedRepo {
    /// `org/repo`. An owner that is neither a listed org nor a listed user becomes an org.
    pub name: String,
    /// Default branch (default `main`).
    pub default_branch: String,
    /// Whether the repository is private.
    pub private: bool,
    /// Explicit collaborators (push access), beyond the owning org's members.
    pub collaborators: Vec<String>,
    /// Labels defined on the repository.
    pub labels: Vec<SeedLabel>,
    /// Files of the initial commit on the default branch: path → content.
    pub files: BTreeMap<String, String>,
    /// Extra branches.
    pub branches: BTreeMap<String, SeedBranch>,
    /// Whether merge commits are allowed (default true).
    pub allow_merge_commit: bool,
    /// Whether squash merges are allowed (default true).
    pub allow_squash_merge: bool,
    /// Whether rebase merges are allowed (default true).
    pub allow_rebase_merge: bool,
    /// Protected branches: branch name → protection.
    pub branch_protection: BTreeMap<String, SeedBranchProtection>,
}

impl Default for SeedRepo {
    fn default() -> Self {
        SeedRepo {
            name: String::new(),
            default_branch: "main".into(),
            private: false,
            collaborators: Vec::new(),
            labels: Vec::new(),
            files: BTreeMap::new(),
            branches: BTreeMap::new(),
            allow_merge_commit: true,
            allow_squash_merge: true,
            allow_rebase_merge: true,
            branch_protection: BTreeMap::new(),
        }
    }
}

/// An extra branch: one commit on top of `from` with `files` applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedBranch {
    /// Branch to start from (default: the default branch).
    pub from: Option<String>,
    /// path → content, or `null` to delete the file.
    pub files: BTreeMap<String, Option<String>>,
}

/// An open pull request from `head` into `base` of the same repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedPullRequest {
    /// `org/repo`.
    pub repo: String,
    /// Number (default: next free number).
    pub number: Option<u64>,
    /// Author login.
    pub author: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: Option<String>,
    /// Base branch (default: the default branch).
    pub base: Option<String>,
    /// Head branch. Created from `base` when it does not exist yet.
    pub head: String,
    /// Draft pull request.
    pub draft: bool,
    /// Labels (created on the repository if missing).
    pub labels: Vec<String>,
    /// Assignees (only collaborators are kept, as on GitHub).
    pub assignees: Vec<String>,
    /// Changes committed on the head branch by the author: path → content or `null` to delete.
    pub files: BTreeMap<String, Option<String>>,
    /// Milestone title.
    pub milestone: Option<String>,
}

/// An issue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedIssue {
    /// `org/repo`.
    pub repo: String,
    /// Number (default: next free number).
    pub number: Option<u64>,
    /// Author login.
    pub author: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: Option<String>,
    /// Labels (created on the repository if missing).
    pub labels: Vec<String>,
    /// Assignees (only collaborators are kept).
    pub assignees: Vec<String>,
    /// Whether the issue is closed.
    pub closed: bool,
    /// Milestone title.
    pub milestone: Option<String>,
}

impl Seed {
    /// Parses seed YAML.
    pub fn from_yaml(yaml: &str) -> Result<Seed, SeedError> {
        serde_saphyr::from_str(yaml).map_err(|e| SeedError::Yaml(e.to_string()))
    }
}
