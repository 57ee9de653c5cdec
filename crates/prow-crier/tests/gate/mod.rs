//! A GitHub wrapper for crash tests: it counts status reads and writes, slows writes down a
//! little, and can make writes hang forever *after* they reached GitHub, so the reporter that
//! issued them never learns they succeeded. Killing the process then leaves exactly what a crash
//! between the GitHub write and the `prev_report_states` record leaves.
//!
//! Status writes of `pending` never hang: a job's final state does not change afterwards, so a
//! second process must see a hung final write and not repeat it, whereas a hung `pending` would
//! usually be superseded by the final state anyway.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use prow_github::{
    CombinedStatus, DraftReview, GitHub, Issue, IssueComment, IssueEvent, Label, MergeDetails,
    PullRequest, PullRequestChange, Repo, RepositoryCommit, Result, Review, ReviewComment, Status,
    TreeEntry, User,
};

/// Writes of one kind that return before later ones hang.
struct Limit {
    limit: usize,
    seen: AtomicUsize,
}

impl Limit {
    fn new(limit: usize) -> Self {
        Limit {
            limit,
            seen: AtomicUsize::new(0),
        }
    }

    /// Counts a write; whether it must hang.
    fn exceeded(&self) -> bool {
        self.seen.fetch_add(1, Ordering::SeqCst) >= self.limit
    }
}

pub struct Gate {
    inner: Arc<dyn GitHub>,
    final_statuses: Limit,
    comment_writes: Limit,
    writes: AtomicUsize,
    hung_statuses: AtomicUsize,
    hung_comments: AtomicUsize,
    reads: AtomicUsize,
}

impl Gate {
    /// Lets the first `final_statuses` non-pending status writes and the first `comment_writes`
    /// comment writes (create, edit, delete) return (`usize::MAX`: all); later ones hang.
    pub fn new(inner: Arc<dyn GitHub>, final_statuses: usize, comment_writes: usize) -> Arc<Self> {
        Arc::new(Gate {
            inner,
            final_statuses: Limit::new(final_statuses),
            comment_writes: Limit::new(comment_writes),
            writes: AtomicUsize::new(0),
            hung_statuses: AtomicUsize::new(0),
            hung_comments: AtomicUsize::new(0),
            reads: AtomicUsize::new(0),
        })
    }

    /// A pass-through that only counts.
    pub fn open(inner: Arc<dyn GitHub>) -> Arc<Self> {
        Gate::new(inner, usize::MAX, usize::MAX)
    }

    /// Writes that reached GitHub but never returned.
    pub fn hung(&self) -> usize {
        self.hung_statuses.load(Ordering::SeqCst) + self.hung_comments()
    }

    /// Comment writes among [`Gate::hung`].
    pub fn hung_comments(&self) -> usize {
        self.hung_comments.load(Ordering::SeqCst)
    }

    /// `get_combined_status` calls.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    /// Status and comment writes issued.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    async fn status_write(&self, op: impl Future<Output = Result<()>>, state: &str) -> Result<()> {
        let hang =
            (state != "pending" && self.final_statuses.exceeded()).then_some(&self.hung_statuses);
        self.write(op, hang).await
    }

    async fn comment_write<T>(&self, op: impl Future<Output = Result<T>>) -> Result<T> {
        let hang = self
            .comment_writes
            .exceeded()
            .then_some(&self.hung_comments);
        self.write(op, hang).await
    }

    /// Performs `op`; with `hang`, then counts it there and never returns.
    async fn write<T>(
        &self,
        op: impl Future<Output = Result<T>>,
        hang: Option<&AtomicUsize>,
    ) -> Result<T> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst);
        // A little latency on both sides of the write, varied per call, so a kill often finds
        // reports in flight.
        let jitter = Duration::from_micros(((n as u64).wrapping_mul(7919) % 1500) + 200);
        tokio::time::sleep(jitter).await;
        let res = op.await;
        if let Some(counter) = hang {
            counter.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(jitter).await;
        res
    }
}

#[async_trait]
impl GitHub for Gate {
    async fn bot_user(&self) -> Result<User> {
        self.inner.bot_user().await
    }
    async fn get_repo(&self, org: &str, repo: &str) -> Result<Repo> {
        self.inner.get_repo(org, repo).await
    }
    async fn get_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<String> {
        self.inner.get_ref(org, repo, git_ref).await
    }
    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()> {
        self.inner.delete_ref(org, repo, git_ref).await
    }
    async fn get_single_commit(
        &self,
        org: &str,
        repo: &str,
        sha: &str,
    ) -> Result<RepositoryCommit> {
        self.inner.get_single_commit(org, repo, sha).await
    }
    async fn get_file(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Vec<u8>> {
        self.inner.get_file(org, repo, path, git_ref).await
    }
    async fn get_tree_recursive(
        &self,
        org: &str,
        repo: &str,
        tree_ish: &str,
    ) -> Result<Vec<TreeEntry>> {
        self.inner.get_tree_recursive(org, repo, tree_ish).await
    }
    async fn get_issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue> {
        self.inner.get_issue(org, repo, number).await
    }
    async fn get_pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest> {
        self.inner.get_pull_request(org, repo, number).await
    }
    async fn list_open_pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>> {
        self.inner.list_open_pull_requests(org, repo).await
    }
    async fn get_pull_request_changes(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestChange>> {
        self.inner.get_pull_request_changes(org, repo, number).await
    }
    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        state_reason: Option<&str>,
    ) -> Result<()> {
        self.inner
            .close_issue(org, repo, number, state_reason)
            .await
    }
    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()> {
        self.inner.reopen_issue(org, repo, number).await
    }
    async fn merge_pull_request(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        details: &MergeDetails,
    ) -> Result<()> {
        self.inner
            .merge_pull_request(org, repo, number, details)
            .await
    }
    async fn list_issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueComment>> {
        self.inner.list_issue_comments(org, repo, number).await
    }
    async fn create_comment(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<IssueComment> {
        self.comment_write(self.inner.create_comment(org, repo, number, body))
            .await
    }
    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()> {
        self.comment_write(self.inner.edit_comment(org, repo, id, body))
            .await
    }
    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()> {
        self.comment_write(self.inner.delete_comment(org, repo, id))
            .await
    }
    async fn list_reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>> {
        self.inner.list_reviews(org, repo, number).await
    }
    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &DraftReview,
    ) -> Result<Review> {
        self.inner.create_review(org, repo, number, review).await
    }
    async fn list_review_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>> {
        self.inner.list_review_comments(org, repo, number).await
    }
    async fn list_issue_events(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueEvent>> {
        self.inner.list_issue_events(org, repo, number).await
    }
    async fn get_repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>> {
        self.inner.get_repo_labels(org, repo).await
    }
    async fn get_issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>> {
        self.inner.get_issue_labels(org, repo, number).await
    }
    async fn add_labels(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<()> {
        self.inner.add_labels(org, repo, number, labels).await
    }
    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()> {
        self.inner.remove_label(org, repo, number, label).await
    }
    async fn assign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        self.inner.assign_issue(org, repo, number, logins).await
    }
    async fn unassign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        self.inner.unassign_issue(org, repo, number, logins).await
    }
    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        self.inner.request_review(org, repo, number, logins).await
    }
    async fn unrequest_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        self.inner.unrequest_review(org, repo, number, logins).await
    }
    async fn is_collaborator(&self, org: &str, repo: &str, user: &str) -> Result<bool> {
        self.inner.is_collaborator(org, repo, user).await
    }
    async fn is_member(&self, org: &str, user: &str) -> Result<bool> {
        self.inner.is_member(org, user).await
    }
    async fn list_team_members(&self, org: &str, team_slug: &str) -> Result<Vec<User>> {
        self.inner.list_team_members(org, team_slug).await
    }
    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()> {
        self.status_write(
            self.inner.create_status(org, repo, sha, status),
            &status.state,
        )
        .await
    }
    async fn get_combined_status(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> Result<CombinedStatus> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get_combined_status(org, repo, git_ref).await
    }
    async fn get_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<prow_github::BranchProtection>> {
        self.inner.get_branch_protection(org, repo, branch).await
    }
    async fn graphql(
        &self,
        org: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.inner.graphql(org, query, variables).await
    }
}
