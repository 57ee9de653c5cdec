//! A stateful **GitHub simulator**: Prow's test double and the forge behind the all-in-one demo.
//!
//! One [`FakeGitHub`] holds users, orgs, teams, repositories (each a real bare git repository
//! in a temp dir it owns), issues, pull requests, comments, reviews, labels and statuses. It is
//! reachable two ways that share every code path:
//!
//! * in process: [`FakeGitHub::client`] returns a [`FakeClient`] implementing
//!   [`prow_github::GitHub`] as a given user;
//! * over HTTP: [`router`] / [`serve`] answer GitHub's REST routes (same paths and JSON shapes as
//!   `api.github.com`, also under `/api/v3`), `POST /graphql`, GitHub's OAuth web flow
//!   (`/login/oauth/…`, see below), and read-only git smart HTTP
//!   (`git clone {web}/{org}/{repo}.git`).
//!
//! Every state change made through either path delivers the real webhook (`issue_comment`,
//! `issues`, `pull_request`, `pull_request_review`, `pull_request_review_comment`, `push`,
//! `status`) to subscribers of [`FakeGitHub::subscribe`] and, after [`FakeGitHub::set_webhook`], as a signed
//! HTTP POST (`X-GitHub-Event`, `X-GitHub-Delivery`, `X-Hub-Signature-256`), in order, from a
//! background thread that retries failures and never blocks the API call.
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use prow_github::GitHub;
//! let fake = prow_github_fake::FakeGitHub::from_seed_yaml(r#"
//! users: [{login: bot, type: Bot}]
//! orgs: [{login: acme, members: [alice]}]
//! repos: [{name: acme/widgets, files: {README.md: "hi\n"}}]
//! pull_requests: [{repo: acme/widgets, author: alice, title: Fix, head: fix, files: {README.md: "hello\n"}}]
//! "#)?;
//! let mut events = fake.subscribe();
//! fake.client("alice").create_comment("acme", "widgets", 1, "/lgtm").await?;
//! let delivery = events.recv().await?;
//! assert_eq!(delivery.event_type, "issue_comment");
//! # Ok(()) }
//! ```
//!
//! # Seed format
//!
//! [`FakeGitHub::from_seed_yaml`] reads YAML like this (all keys optional unless noted; a
//! complete example is `testdata/seed.yaml`):
//!
//! ```yaml
//! urls:                          # base URLs used in rendered objects
//!   web: https://github.example.com
//!   api: https://api.github.example.com
//! users:
//!   - login: prow-bot            # required
//!     token: bot-token           # for HTTP: `Authorization: token bot-token` (or Bearer)
//!     name: Prow Bot             # git author name
//!     email: bot@example.com     # git author email
//!     type: Bot                  # User (default) or Bot
//! orgs:
//!   - login: acme                # required
//!     members: [alice, bob]
//!     teams:
//!       - {slug: maintainers, name: Maintainers, members: [alice]}
//! repos:
//!   - name: acme/widgets         # required, org/repo
//!     default_branch: main       # default main
//!     private: false
//!     collaborators: [carol]
//!     labels: [lgtm, {name: approved, color: 0ffa16, description: Approved}]
//!     allow_merge_commit: true   # also allow_squash_merge, allow_rebase_merge
//!     files:                     # the initial commit on the default branch
//!       OWNERS: "approvers: [alice]\n"
//!     branches:
//!       release-1.0: {from: main, files: {VERSION: "1.0\n", OLD.md: null}}
//!     branch_protection:         # protected branches (see "Branch protection")
//!       main:
//!         required_status_checks: {contexts: [ci/test], strict: false}
//!         required_approving_review_count: 1
//! pull_requests:
//!   - repo: acme/widgets         # required
//!     number: 3                  # default: next free number
//!     author: bob                # required
//!     title: Add feature         # required
//!     body: Details
//!     base: main                 # default: the default branch
//!     head: feature              # required; created from base when missing
//!     draft: false
//!     labels: [kind/feature]
//!     assignees: [alice]
//!     files: {src/a.txt: "new\n", README.md: null}   # committed on head by the author
//!     milestone: v1.0            # a title (searchable with milestone:"v1.0")
//! issues:
//!   - {repo: acme/widgets, number: 1, author: carol, title: Bug, body: Broken, labels: [kind/bug], assignees: [], closed: false, milestone: v1.0}
//! oauth_apps:                    # apps allowed to use the OAuth web flow
//!   - {client_id: deck-client, client_secret: deck-secret, name: Prow Deck}
//! ```
//!
//! Seeding emits no webhooks. People named anywhere but not listed under `users` become plain
//! users without a token. A repository owner that is neither a listed org nor a listed user
//! becomes an org without members.
//!
//! # Permissions (simplified GitHub)
//!
//! * Collaborators of a repository are its explicit `collaborators`, the members of the owning
//!   org and the owning user; they have push access (`/collaborators/{user}` answers 204).
//! * `type: Bot` accounts also have push access everywhere (like an installed app) without being
//!   collaborators or members.
//! * `/collaborators/{user}/permission` reports `admin` for the owning user, `write` for anyone
//!   with push access, else `read` (`none` on private repositories);
//!   `/orgs/{org}/teams/{slug}/memberships/{user}` is an active `member` membership or 404.
//! * Anyone may read public repositories, comment, open issues and open pull requests. Private
//!   repositories are 404 to users without access.
//! * Labels, statuses, merges, review requests, ref and contents writes need push access (403
//!   otherwise). Assigning without push access, or assigning people who are not collaborators,
//!   silently does nothing, like GitHub. Comments and issues can be edited by their authors and by
//!   users with push access.
//!
//! # Branch protection
//!
//! Seeded (`branch_protection`) or set at runtime ([`FakeGitHub::set_branch_protection`],
//! [`FakeGitHub::set_required_approving_reviews`]). `GET /repos/{o}/{r}/branches/{b}/protection`
//! answers GitHub's JSON, or 404 for an unprotected branch (so `get_branch_protection` is `None`).
//! Merging into a protected branch fails with 405 like GitHub when a required context is not
//! `success` on the head (`Required status check "ci/test" is expected.` / `… is failing.`), when
//! `strict` and the head lacks the base tip, or when fewer approving reviews (by users with push
//! access) than required exist or changes are requested. Unprotected branches merge as before.
//!
//! # GraphQL
//!
//! `POST /graphql` answers `viewer { login }`, `rateLimit { … }` and
//! `search(type: ISSUE, first:, after:, query:)` — see `graphql.rs` for the fixed response shape
//! (Tide's and Deck's pull-request fields, whatever the selection set) and `search.rs` for the
//! supported GitHub search syntax. Unknown qualifiers are GraphQL errors naming them.
//! `reviewDecision` is `CHANGES_REQUESTED` if a reviewer's latest decisive review asks for
//! changes, `APPROVED` when approved (enough approvals if the base branch requires reviews),
//! `REVIEW_REQUIRED` only on branches that require reviews, else `null`. `mergeStateStatus` is
//! `DIRTY` (conflicts), `BEHIND` (strict checks, head lacks base), `BLOCKED` (protection not
//! satisfied), `CLEAN`, or `UNKNOWN` when closed.
//!
//! # OAuth web flow (for Deck's login)
//!
//! `GET /login/oauth/authorize?client_id=&redirect_uri=&state=&scope=` renders "Sign in to
//! <app> as:" with one `<button id="login-<login>">` per user; choosing one redirects to
//! `redirect_uri?code=…&state=…`. `POST /login/oauth/access_token` (form or JSON; `Accept:
//! application/json` for a JSON answer, otherwise form-encoded) exchanges the one-time code plus
//! the app's `client_id`/`client_secret` for a `gho_…` token acting as that user on REST and
//! GraphQL. Errors come as GitHub's `{"error": "bad_verification_code" |
//! "incorrect_client_credentials" | "redirect_uri_mismatch", …}` with status 200. Apps come from
//! the seed's `oauth_apps` or [`FakeGitHub::register_oauth_app`]. These routes need no token.
//! When the router is nested under a prefix (`prow local` serves it under `/fake-github/`), they
//! are `{prefix}/login/oauth/authorize` and `{prefix}/login/oauth/access_token` — point Deck's
//! GitHub OAuth URLs there.
//!
//! # HTTP details
//!
//! Requests authenticate with `Authorization: token <t>` or `Bearer <t>` (401 `Bad credentials`
//! otherwise); errors use GitHub's `{"message", "documentation_url"}` shape with its status codes
//! (404, 403, 405 not mergeable, 409 head moved, 422 validation, 400 bad JSON). Lists honour
//! `per_page` (default 30, max 100) and `page` and send `Link` headers; `GET`s carry an `ETag`
//! and answer `If-None-Match` with 304. Every response has (constant) `X-RateLimit-*` headers.
//!
//! # Known simplifications
//!
//! No forks (pull requests come from branches of the same repository), check runs, reactions or
//! rate limiting; milestones are bare titles (no milestone API); branch protection covers
//! required contexts and approving-review counts only (no protection write API, no webhooks for
//! it); `create`/`delete`/`check_*` events are not emitted (branch creation and deletion show as
//! `push` with `created`/`deleted`); `mergeable` is computed synchronously (never `null` for open
//! pull requests); GraphQL only answers the queries listed in `graphql.rs`, and `search` ignores
//! the selection set; `canBeRebased` is approximated by "mergeable and rebase merges allowed".

#![warn(missing_docs)]

mod cli;
mod client;
mod core;
mod git;
mod graphql;
mod http;
mod oauth;
mod render;
mod search;
mod seed;
mod state;
mod webhook;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use prow_github::GitHubError;
use prow_github::hmac::HmacSecrets;

pub use cli::{FakeGitHubArgs, run};
pub use client::FakeClient;
pub use http::{router, serve};
pub use seed::{
    Seed, SeedBranch, SeedBranchProtection, SeedError, SeedIssue, SeedLabel, SeedLabelFull,
    SeedOAuthApp, SeedOrg, SeedPullRequest, SeedRepo, SeedStatusChecks, SeedTeam, SeedUrls,
    SeedUser, UserKind,
};
pub use webhook::Delivery;

use crate::core::{Core, NewPr};

/// The simulator. Cheap to clone; clones share the state (and the temp dir, removed when the
/// last clone, client and server are gone).
#[derive(Clone)]
pub struct FakeGitHub {
    core: Arc<Core>,
}

/// A pull request opened with [`FakeGitHub::open_pull_request`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPullRequest {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Base branch (must exist).
    pub base: String,
    /// Head branch; created from `base` when missing.
    pub head: String,
    /// Draft pull request.
    pub draft: bool,
    /// Changes the author commits on `head` first: path → content, `None` deletes.
    pub files: BTreeMap<String, Option<String>>,
}

fn to_changes(files: BTreeMap<String, Option<String>>) -> crate::core::Changes {
    files
        .into_iter()
        .map(|(p, c)| (p, c.map(String::into_bytes)))
        .collect()
}

impl FakeGitHub {
    /// A fake holding the world described by `seed`.
    pub fn from_seed(seed: Seed) -> Result<Self, SeedError> {
        Ok(FakeGitHub {
            core: Arc::new(Core::from_seed(seed)?),
        })
    }

    /// [`FakeGitHub::from_seed`] from seed YAML (format in the crate docs).
    pub fn from_seed_yaml(yaml: &str) -> Result<Self, SeedError> {
        Self::from_seed(Seed::from_yaml(yaml)?)
    }

    /// A [`prow_github::GitHub`] client acting as `login` (created as a plain user if unknown).
    pub fn client(&self, login: &str) -> FakeClient {
        let login = self.core.ensure_user(login);
        FakeClient::new(self.core.clone(), login)
    }

    /// Delivers every later event to `url` as a POST signed with `hmac_secret`.
    pub fn set_webhook(&self, url: &str, hmac_secret: &str) {
        self.core
            .hooks
            .set_target(url, HmacSecrets::Single(hmac_secret.to_owned()));
    }

    /// Like [`FakeGitHub::set_webhook`] with Prow's HMAC secret file contents (one token, or the
    /// `'*'`/`org`/`org/repo` map): each event is signed with the first token for its repository.
    pub fn set_webhook_secrets(&self, url: &str, secrets: HmacSecrets) {
        self.core.hooks.set_target(url, secrets);
    }

    /// An in-process tap of every event (the same bytes the webhook receives). A receiver that
    /// falls more than 4096 events behind gets `Lagged`.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Delivery> {
        self.core.hooks.subscribe()
    }

    /// Fake-only: `author` pushes `pr.files` to `pr.head` (created from `pr.base` when missing),
    /// emitting `push`, then opens the pull request (`pull_request` `opened`). Returns its number.
    pub fn open_pull_request(
        &self,
        author: &str,
        org: &str,
        repo: &str,
        pr: NewPullRequest,
    ) -> Result<u64, GitHubError> {
        let new = NewPr {
            title: pr.title,
            body: (!pr.body.is_empty()).then_some(pr.body),
            head: pr.head,
            base: pr.base,
            draft: pr.draft,
        };
        self.core
            .open_pull_request(author, org, repo, new, to_changes(pr.files))
    }

    /// Fake-only: commits `files` (`None` deletes) to `branch` as `pusher`, creating the branch
    /// from the default branch when missing. Emits `push`, and `pull_request` `synchronize` for
    /// open pull requests whose head is `branch`. Returns the new commit SHA.
    pub fn push_files(
        &self,
        pusher: &str,
        org: &str,
        repo: &str,
        branch: &str,
        files: BTreeMap<String, Option<String>>,
        message: &str,
    ) -> Result<String, GitHubError> {
        self.core
            .push_files(pusher, org, repo, branch, to_changes(files), message)
    }

    /// Label names on an issue or pull request (empty if it does not exist).
    pub fn issue_labels(&self, org: &str, repo: &str, number: u64) -> Vec<String> {
        self.core.issue_label_names(org, repo, number)
    }

    /// Comments on an issue or pull request, oldest first.
    pub fn issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Vec<prow_github::IssueComment> {
        self.core
            .comments_of(org, repo, number)
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()
    }

    /// A pull request as the API returns it.
    pub fn pull_request(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Option<prow_github::PullRequest> {
        self.core
            .pull_json(org, repo, number)
            .and_then(|v| serde_json::from_value(v).ok())
    }

    /// Every status created on `sha` (full or abbreviated), oldest first.
    pub fn statuses(&self, org: &str, repo: &str, sha: &str) -> Vec<prow_github::StatusEntry> {
        self.core
            .statuses_of(org, repo, sha)
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()
    }

    /// The commit `branch` points at.
    pub fn branch_sha(&self, org: &str, repo: &str, branch: &str) -> Option<String> {
        self.core.branch_sha(org, repo, branch)
    }

    /// The bare git repository behind `org/repo`, for local `git clone`/`fetch`.
    /// Treat it as read-only: the fake keeps every ref in memory and only sees ref changes made
    /// through its own API.
    pub fn git_dir(&self, org: &str, repo: &str) -> Option<PathBuf> {
        self.core.git_dir(org, repo)
    }

    /// Sets the web and API base URLs used in rendered objects (trailing `/` removed).
    pub fn set_base_urls(&self, web: &str, api: &str) {
        self.core.set_urls(state::Urls {
            web: web.trim_end_matches('/').to_owned(),
            api: api.trim_end_matches('/').to_owned(),
        });
    }

    /// Fake-only: protects `branch` of `org/repo` with `protection`'s required status checks
    /// (replacing any earlier protection of the branch, required reviews included), or with
    /// `None` makes it unprotected. The branch need not exist yet. Merges into a protected branch
    /// then fail with 405 unless every required context is `success` on the head (and, with
    /// `strict`, the head contains the base tip), like GitHub.
    pub fn set_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        protection: Option<prow_github::BranchProtection>,
    ) -> Result<(), GitHubError> {
        let rec = protection.map(|p| state::ProtectionRec {
            status_checks: p.required_status_checks,
            required_approving_review_count: None,
        });
        self.core.set_branch_protection(org, repo, branch, rec)
    }

    /// Fake-only: requires `count` approving reviews (by users with push access) before merging
    /// into `branch` (protecting it if needed; `None` drops the requirement but keeps any other
    /// protection). Shows in GraphQL as `reviewDecision: REVIEW_REQUIRED` until approved.
    pub fn set_required_approving_reviews(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        count: Option<u32>,
    ) -> Result<(), GitHubError> {
        self.core.edit_branch_protection(org, repo, branch, |p| {
            p.required_approving_review_count = count;
        })
    }

    /// The protection of `branch` as `GET …/protection` reports it (`None`: unprotected).
    pub fn branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Option<prow_github::BranchProtection> {
        self.core
            .branch_protection_of(org, repo, branch)
            .map(|p| prow_github::BranchProtection {
                required_status_checks: p.status_checks,
            })
    }

    /// Fake-only: sets (or with `None` clears) the milestone title of an issue or pull request
    /// (no webhook). Searchable with `milestone:"…"`.
    pub fn set_milestone(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        title: Option<&str>,
    ) -> Result<(), GitHubError> {
        let mut st = self.core.lock();
        st.repo_mut(org, repo)?.issue_mut(number)?.milestone = title.map(str::to_owned);
        Ok(())
    }

    /// Every status written to `org/repo`, oldest first, as `(full commit SHA, status)`: the
    /// write history (a context written twice appears twice), for exactly-once assertions.
    pub fn status_history(&self, org: &str, repo: &str) -> Vec<(String, prow_github::StatusEntry)> {
        self.core
            .status_history(org, repo)
            .into_iter()
            .filter_map(|(sha, v)| serde_json::from_value(v).ok().map(|s| (sha, s)))
            .collect()
    }

    /// Comments on an issue or pull request written by `login` (case-insensitive), oldest first.
    pub fn comments_by(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        login: &str,
    ) -> Vec<prow_github::IssueComment> {
        self.issue_comments(org, repo, number)
            .into_iter()
            .filter(|c| c.user.login.eq_ignore_ascii_case(login))
            .collect()
    }

    /// Whether pull request `number` is merged, and its merge commit SHA.
    pub fn merge_state(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Option<(bool, Option<String>)> {
        self.pull_request(org, repo, number)
            .map(|p| (p.merged, p.merge_commit_sha))
    }

    /// Registers (or replaces) an OAuth app for the web flow (`/login/oauth/authorize`; see the
    /// crate docs). `name` is shown on the sign-in page (default: the client id).
    pub fn register_oauth_app(&self, client_id: &str, client_secret: &str, name: Option<&str>) {
        self.core.register_oauth_app(client_id, client_secret, name);
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }
}
