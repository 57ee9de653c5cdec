//! Test helper: a `GitHub` wrapper around the simulator (see [`TeamIds`]).

use std::sync::Arc;

use async_trait::async_trait;
use prow_github::{
    CombinedStatus, DraftReview, GitHub, Issue, IssueComment, IssueEvent, Label, MergeDetails,
    PullRequest, PullRequestChange, Repo, RepositoryCommit, Result, Review, ReviewComment, Status,
    TreeEntry, User,
};

/// Delegates everything to the simulator but answers the org-teams GraphQL query (team
/// `databaseId` → slug), which the simulator does not know, from a fixed two-page table.
pub struct TeamIds(pub Arc<dyn GitHub>);

#[async_trait]
impl GitHub for TeamIds {
    async fn bot_user(&self) -> Result<User> {
        self.0.bot_user().await
    }
    async fn get_repo(&self, org: &str, repo: &str) -> Result<Repo> {
        self.0.get_repo(org, repo).await
    }
    async fn get_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<String> {
        self.0.get_ref(org, repo, git_ref).await
    }
    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()> {
        self.0.delete_ref(org, repo, git_ref).await
    }
    async fn get_single_commit(
        &self,
        org: &str,
        repo: &str,
        sha: &str,
    ) -> Result<RepositoryCommit> {
        self.0.get_single_commit(org, repo, sha).await
    }
    async fn get_file(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Vec<u8>> {
        self.0.get_file(org, repo, path, git_ref).await
    }
    async fn get_tree_recursive(
        &self,
        org: &str,
        repo: &str,
        tree_ish: &str,
    ) -> Result<Vec<TreeEntry>> {
        self.0.get_tree_recursive(org, repo, tree_ish).await
    }
    async fn get_issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue> {
        self.0.get_issue(org, repo, number).await
    }
    async fn get_pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest> {
        self.0.get_pull_request(org, repo, number).await
    }
    async fn list_open_pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>> {
        self.0.list_open_pull_requests(org, repo).await
    }
    async fn get_pull_request_changes(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestChange>> {
        self.0.get_pull_request_changes(org, repo, number).await
    }
    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        state_reason: Option<&str>,
    ) -> Result<()> {
        self.0.close_issue(org, repo, number, state_reason).await
    }
    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()> {
        self.0.reopen_issue(org, repo, number).await
    }
    async fn merge_pull_request(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        details: &MergeDetails,
    ) -> Result<()> {
        self.0.merge_pull_request(org, repo, number, details).await
    }
    async fn list_issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueComment>> {
        self.0.list_issue_comments(org, repo, number).await
    }
    async fn create_comment(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<IssueComment> {
        self.0.create_comment(org, repo, number, body).await
    }
    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()> {
        self.0.edit_comment(org, repo, id, body).await
    }
    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()> {
        self.0.delete_comment(org, repo, id).await
    }
    async fn list_reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>> {
        self.0.list_reviews(org, repo, number).await
    }
    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &DraftReview,
    ) -> Result<Review> {
        self.0.create_review(org, repo, number, review).await
    }
    async fn list_review_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>> {
        self.0.list_review_comments(org, repo, number).await
    }
    async fn list_issue_events(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueEvent>> {
        self.0.list_issue_events(org, repo, number).await
    }
    async fn get_repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>> {
        self.0.get_repo_labels(org, repo).await
    }
    async fn get_issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>> {
        self.0.get_issue_labels(org, repo, number).await
    }
    async fn add_labels(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<()> {
        self.0.add_labels(org, repo, number, labels).await
    }
    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()> {
        self.0.remove_label(org, repo, number, label).await
    }
    async fn assign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        self.0.assign_issue(org, repo, number, logins).await
    }
    async fn unassign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        self.0.unassign_issue(org, repo, number, logins).await
    }
    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        self.0.request_review(org, repo, number, logins).await
    }
    async fn unrequest_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        self.0.unrequest_review(org, repo, number, logins).await
    }
    async fn is_collaborator(&self, org: &str, repo: &str, user: &str) -> Result<bool> {
        self.0.is_collaborator(org, repo, user).await
    }
    async fn is_member(&self, org: &str, user: &str) -> Result<bool> {
        self.0.is_member(org, user).await
    }
    async fn list_team_members(&self, org: &str, team_slug: &str) -> Result<Vec<User>> {
        self.0.list_team_members(org, team_slug).await
    }
    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()> {
        self.0.create_status(org, repo, sha, status).await
    }
    async fn get_combined_status(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> Result<CombinedStatus> {
        self.0.get_combined_status(org, repo, git_ref).await
    }
    async fn get_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<prow_github::BranchProtection>> {
        self.0.get_branch_protection(org, repo, branch).await
    }
    async fn graphql(
        &self,
        org: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value> {
        if !query.contains("organization(login: $org)") {
            return self.0.graphql(org, query, variables).await;
        }
        // Page 1 holds another team; page 2 holds ID 42 → `sig-leads`.
        Ok(match variables["cursor"].as_str() {
            None => serde_json::json!({"organization": {"teams": {
                "nodes": [{"databaseId": 7, "slug": "other"}],
                "pageInfo": {"hasNextPage": true, "endCursor": "p2"}}}}),
            Some(_) => serde_json::json!({"organization": {"teams": {
                "nodes": [{"databaseId": 42, "slug": "sig-leads"}],
                "pageInfo": {"hasNextPage": false, "endCursor": null}}}}),
        })
    }
}
