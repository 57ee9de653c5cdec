//! GitHub for Prow: the [`GitHub`] trait (only the operations Prow's components use), the REST
//! object types, webhook payload types ([`events`]) and webhook HMAC signing/verification
//! ([`hmac`]).
//!
//! The trait has two implementations: the real HTTP client in this crate ([`client::Client`]) and
//! the stateful simulator in `prow-github-fake`. Both return the same typed [`GitHubError`]s so
//! callers can branch on "not found" or "not mergeable" without caring which one they talk to.

pub mod client;
pub mod error;
pub mod events;
pub mod hmac;
pub mod limits;
pub mod types;

use async_trait::async_trait;

pub use client::{Auth, Client, ClientConfig};
pub use error::{GitHubError, Result};
pub use types::*;

/// Defines [`GitHub`], [`Forward`] and the blanket `impl GitHub for T: Forward` from one list of
/// operations, so the three can never disagree.
macro_rules! github_operations {
    ($(
        $(#[$doc:meta])*
        async fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty;
    )*) => {
        /// The GitHub operations Prow uses. `org`/`repo` are the owner login and repository name.
        ///
        /// Methods are grown as components need them; each one maps onto one documented REST
        /// route (or a paginated walk of one), named after Prow's Go client where it has an
        /// equivalent.
        #[async_trait]
        pub trait GitHub: Send + Sync {
            $(
                $(#[$doc])*
                async fn $name(&self $(, $arg: $ty)*) -> $ret;
            )*
        }

        /// A [`GitHub`] that hands every operation to [`Forward::target`] unless it overrides
        /// it: wrappers (test doubles, call tracking, fault injection) implement only what they
        /// change, and every `Forward` type is a `GitHub`.
        #[async_trait]
        pub trait Forward: Send + Sync {
            /// Where operations that are not overridden go.
            fn target(&self) -> &dyn GitHub;
            $(
                $(#[$doc])*
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    self.target().$name($($arg),*).await
                }
            )*
        }

        #[async_trait]
        impl<T: Forward + ?Sized> GitHub for T {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    Forward::$name(self $(, $arg)*).await
                }
            )*
        }
    };
}

github_operations! {
    /// `GET /user`: the identity behind the credentials (the bot).
    async fn bot_user(&self) -> Result<User>;

    // ---- repositories and git data ----
    /// `GET /repos/{org}/{repo}`.
    async fn get_repo(&self, org: &str, repo: &str) -> Result<Repo>;
    /// `GET /repos/{org}/{repo}/git/refs/{git_ref}` where `git_ref` is e.g. `heads/main`; the SHA.
    async fn get_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<String>;
    /// `DELETE /repos/{org}/{repo}/git/refs/{git_ref}`.
    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()>;
    /// `GET /repos/{org}/{repo}/commits/{sha}`.
    async fn get_single_commit(&self, org: &str, repo: &str, sha: &str)
    -> Result<RepositoryCommit>;
    /// `GET /repos/{org}/{repo}/contents/{path}?ref=`: the decoded file bytes. A missing file is
    /// [`GitHubError::NotFound`].
    async fn get_file(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Vec<u8>>;
    /// `GET /repos/{org}/{repo}/git/trees/{tree_ish}?recursive=1`: every entry of the tree.
    async fn get_tree_recursive(
        &self,
        org: &str,
        repo: &str,
        tree_ish: &str,
    ) -> Result<Vec<TreeEntry>>;

    // ---- issues and pull requests ----
    /// `GET /repos/{org}/{repo}/issues/{number}` (works for pull requests too).
    async fn get_issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue>;
    /// `GET /repos/{org}/{repo}/pulls/{number}`.
    async fn get_pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest>;
    /// `GET /repos/{org}/{repo}/pulls?state=open` (all pages).
    async fn list_open_pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>>;
    /// `GET /repos/{org}/{repo}/pulls/{number}/files` (all pages).
    async fn get_pull_request_changes(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestChange>>;
    /// `PATCH /repos/{org}/{repo}/issues/{number}` with `state` = `closed` (`state_reason` when
    /// given, e.g. `not_planned`).
    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        state_reason: Option<&str>,
    ) -> Result<()>;
    /// `PATCH /repos/{org}/{repo}/issues/{number}` with `state` = `open`.
    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()>;
    /// `PUT /repos/{org}/{repo}/pulls/{number}/merge`. Not mergeable is
    /// [`GitHubError::UnmergeablePr`], a moved head is [`GitHubError::ModifiedHead`].
    async fn merge_pull_request(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        details: &MergeDetails,
    ) -> Result<()>;

    // ---- comments, reviews, events ----
    /// `GET /repos/{org}/{repo}/issues/{number}/comments` (all pages, oldest first).
    async fn list_issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueComment>>;
    /// `POST /repos/{org}/{repo}/issues/{number}/comments`.
    async fn create_comment(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<IssueComment>;
    /// `PATCH /repos/{org}/{repo}/issues/comments/{id}`.
    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()>;
    /// `DELETE /repos/{org}/{repo}/issues/comments/{id}`.
    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()>;
    /// `GET /repos/{org}/{repo}/pulls/{number}/reviews` (all pages).
    async fn list_reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>>;
    /// `POST /repos/{org}/{repo}/pulls/{number}/reviews`.
    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &DraftReview,
    ) -> Result<Review>;
    /// `GET /repos/{org}/{repo}/pulls/{number}/comments` (all pages).
    async fn list_review_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>>;
    /// `GET /repos/{org}/{repo}/issues/{number}/events` (all pages).
    async fn list_issue_events(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueEvent>>;

    // ---- labels ----
    /// `GET /repos/{org}/{repo}/labels` (all pages).
    async fn get_repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>>;
    /// `GET /repos/{org}/{repo}/issues/{number}/labels` (all pages).
    async fn get_issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>>;
    /// `POST /repos/{org}/{repo}/issues/{number}/labels`.
    async fn add_labels(&self, org: &str, repo: &str, number: u64, labels: &[String])
    -> Result<()>;
    /// `DELETE /repos/{org}/{repo}/issues/{number}/labels/{label}`; a label that is not on the
    /// issue is [`GitHubError::NotFound`].
    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()>;

    // ---- people ----
    /// `POST /repos/{org}/{repo}/issues/{number}/assignees`; returns the logins GitHub did not
    /// assign (not assignable), like Prow's `MissingUsers`.
    async fn assign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>>;
    /// `DELETE /repos/{org}/{repo}/issues/{number}/assignees`.
    async fn unassign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()>;
    /// `POST /repos/{org}/{repo}/pulls/{number}/requested_reviewers`; returns logins not requested.
    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>>;
    /// `DELETE /repos/{org}/{repo}/pulls/{number}/requested_reviewers`.
    async fn unrequest_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()>;
    /// `GET /repos/{org}/{repo}/collaborators/{user}` (204 ⇒ true, 404 ⇒ false).
    async fn is_collaborator(&self, org: &str, repo: &str, user: &str) -> Result<bool>;
    /// `GET /orgs/{org}/members/{user}` (204 ⇒ true, 404/302 ⇒ false).
    async fn is_member(&self, org: &str, user: &str) -> Result<bool>;
    /// `GET /orgs/{org}/teams/{team_slug}/members` (all pages).
    async fn list_team_members(&self, org: &str, team_slug: &str) -> Result<Vec<User>>;

    // ---- statuses ----
    /// `POST /repos/{org}/{repo}/statuses/{sha}`.
    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()>;
    /// `GET /repos/{org}/{repo}/commits/{git_ref}/status` (all pages merged).
    async fn get_combined_status(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> Result<CombinedStatus>;

    /// `GET /repos/{org}/{repo}/branches/{branch}/protection`; `None` when the branch is not
    /// protected (GitHub answers 404). Tide reads the required contexts for
    /// `from-branch-protection`.
    async fn get_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<BranchProtection>>;

    // ---- GraphQL ----
    /// `POST /graphql` with `{query, variables}`; returns `data`, or [`GitHubError::GraphQl`] if
    /// the response carried `errors`. `org` picks the App installation token.
    async fn graphql(
        &self,
        org: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value>;
}
