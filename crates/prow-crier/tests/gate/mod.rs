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
use prow_github::{CombinedStatus, Forward, GitHub, IssueComment, Result, Status};

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
impl Forward for Gate {
    fn target(&self) -> &dyn GitHub {
        self.inner.as_ref()
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
}
