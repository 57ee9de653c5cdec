//! A [`GitHub`] wrapper that records whether a plugin talked to GitHub at all, which becomes the
//! `took_action` label of Prow's plugin metrics (Prow's client `Used()`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use prow_github::{
    CombinedStatus, DraftReview, GitHub, Issue, IssueComment, IssueEvent, Label, MergeDetails,
    PullRequest, PullRequestChange, Repo, RepositoryCommit, Result, Review, ReviewComment, Status,
    TreeEntry, User,
};

/// Delegates every call and sets a shared flag.
pub struct TrackedGitHub {
    inner: Arc<dyn GitHub>,
    used: Arc<AtomicBool>,
}

impl TrackedGitHub {
    /// Wraps `inner`; `used` turns true on the first call.
    pub fn new(inner: Arc<dyn GitHub>, used: Arc<AtomicBool>) -> Self {
        TrackedGitHub { inner, used }
    }

    fn mark(&self) -> &dyn GitHub {
        self.used.store(true, Ordering::Relaxed);
        self.inner.as_ref()
    }
}

#[async_trait]
impl GitHub for TrackedGitHub {
    async fn bot_user(&self) -> Result<User> {
        // Identity lookups are not actions (Prow resolves the bot once, outside plugins).
        self.inner.bot_user().await
    }
    async fn get_repo(&self, org: &str, repo: &str) -> Result<Repo> {
        self.mark().get_repo(org, repo).await
    }
    async fn get_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<String> {
        self.mark().get_ref(org, repo, git_ref).await
    }
    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()> {
        self.mark().delete_ref(org, repo, git_ref).await
    }
    async fn get_single_commit(
        &self,
        org: &str,
        repo: &str,
        sha: &str,
    ) -> Result<RepositoryCommit> {
        self.mark().get_single_commit(org, repo, sha).await
    }
    async fn get_file(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Vec<u8>> {
        self.mark().get_file(org, repo, path, git_ref).await
    }
    async fn get_tree_recursive(
        &self,
        org: &str,
        repo: &str,
        tree_ish: &str,
    ) -> Result<Vec<TreeEntry>> {
        self.mark().get_tree_recursive(org, repo, tree_ish).await
    }
    async fn get_issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue> {
        self.mark().get_issue(org, repo, number).await
    }
    async fn get_pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest> {
        self.mark().get_pull_request(org, repo, number).await
    }
    async fn list_open_pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>> {
        self.mark().list_open_pull_requests(org, repo).await
    }
    async fn get_pull_request_changes(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestChange>> {
        self.mark()
            .get_pull_request_changes(org, repo, number)
            .await
    }
    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        state_reason: Option<&str>,
    ) -> Result<()> {
        self.mark()
            .close_issue(org, repo, number, state_reason)
            .await
    }
    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()> {
        self.mark().reopen_issue(org, repo, number).await
    }
    async fn merge_pull_request(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        details: &MergeDetails,
    ) -> Result<()> {
        self.mark()
            .merge_pull_request(org, repo, number, details)
            .await
    }
    async fn list_issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueComment>> {
        self.mark().list_issue_comments(org, repo, number).await
    }
    async fn create_comment(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<IssueComment> {
        self.mark().create_comment(org, repo, number, body).await
    }
    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()> {
        self.mark().edit_comment(org, repo, id, body).await
    }
    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()> {
        self.mark().delete_comment(org, repo, id).await
    }
    async fn list_reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>> {
        self.mark().list_reviews(org, repo, number).await
    }
    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &DraftReview,
    ) -> Result<Review> {
        self.mark().create_review(org, repo, number, review).await
    }
    async fn list_review_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>> {
        self.mark().list_review_comments(org, repo, number).await
    }
    async fn list_issue_events(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueEvent>> {
        self.mark().list_issue_events(org, repo, number).await
    }
    async fn get_repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>> {
        self.mark().get_repo_labels(org, repo).await
    }
    async fn get_issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>> {
        self.mark().get_issue_labels(org, repo, number).await
    }
    async fn add_labels(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<()> {
        self.mark().add_labels(org, repo, number, labels).await
    }
    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()> {
        self.mark().remove_label(org, repo, number, label).await
    }
    async fn assign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        self.mark().assign_issue(org, repo, number, logins).await
    }
    async fn unassign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        self.mark().unassign_issue(org, repo, number, logins).await
    }
    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        self.mark().request_review(org, repo, number, logins).await
    }
    async fn unrequest_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        self.mark()
            .unrequest_review(org, repo, number, logins)
            .await
    }
    async fn is_collaborator(&self, org: &str, repo: &str, user: &str) -> Result<bool> {
        self.mark().is_collaborator(org, repo, user).await
    }
    async fn is_member(&self, org: &str, user: &str) -> Result<bool> {
        self.mark().is_member(org, user).await
    }
    async fn list_team_members(&self, org: &str, team_slug: &str) -> Result<Vec<User>> {
        self.mark().list_team_members(org, team_slug).await
    }
    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()> {
        self.mark().create_status(org, repo, sha, status).await
    }
    async fn get_combined_status(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> Result<CombinedStatus> {
        self.mark().get_combined_status(org, repo, git_ref).await
    }
    async fn get_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<prow_github::BranchProtection>> {
        self.mark().get_branch_protection(org, repo, branch).await
    }
    async fn graphql(
        &self,
        org: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.mark().graphql(org, query, variables).await
    }
}
