//! A stateful **GitHub simulator**: Prow's test double and the forge behind the all-in-one demo.
//!
//! One [`FakeGitHub`] holds users, orgs, teams, repositories (each a real bare git repository
//! in a temp dir it owns), issues, pull requests, comments, reviews, labels and statuses. It is
//! reachable two ways that share every code path:
//!
//! * in process: [`FakeGitHub::client`] returns a [`FakeClient`] implementing
//!   [`prow_github::GitHub`] as a given user;
//! * over HTTP: [`router`] / [`serve`] answer GitHub's REST routes (same paths and JSON shapes as
//!   `api.github.com`, also under `/api/v3`), `POST /graphql`, and read-only git smart HTTP
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
//! issues:
//!   - {repo: acme/widgets, number: 1, author: carol, title: Bug, body: Broken, labels: [kind/bug], assignees: [], closed: false}
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
//! * Anyone may read public repositories, comment, open issues and open pull requests. Private
//!   repositories are 404 to users without access.
//! * Labels, statuses, merges, review requests, ref and contents writes need push access (403
//!   otherwise). Assigning without push access, or assigning people who are not collaborators,
//!   silently does nothing, like GitHub. Comments and issues can be edited by their authors and by
//!   users with push access.
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
//! No forks (pull requests come from branches of the same repository), no milestones, branch
//! protection, check runs, reactions or rate limiting; `create`/`delete`/`check_*` events are
//! not emitted (branch creation and deletion show as `push` with `created`/`deleted`);
//! `mergeable` is computed synchronously (never `null` for open pull requests); GraphQL only
//! answers the queries listed in `graphql.rs` (currently `viewer { login }`).

#![warn(missing_docs)]

mod cli;
mod client;
mod core;
mod git;
mod graphql;
mod http;
mod render;
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
    Seed, SeedBranch, SeedError, SeedIssue, SeedLabel, SeedLabelFull, SeedOrg, SeedPullRequest,
    SeedRepo, SeedTeam, SeedUrls, SeedUser, UserKind,
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

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }
}
