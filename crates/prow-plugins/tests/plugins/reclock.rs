//! A GitHub wrapper for tests whose histories need distinct timestamps: the fake stamps objects
//! with second resolution, so comments and reviews made in one test share a second. This
//! wrapper re-stamps comments, review comments and reviews with `epoch + id` seconds; the fake
//! hands out ids in creation order, so the order of creation becomes the order in time.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prow_github::{Forward, GitHub, IssueComment, Result, Review, ReviewComment};

pub struct Reclock(pub Arc<dyn GitHub>);

fn at(id: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(1_600_000_000 + i64::try_from(id).unwrap_or(0), 0)
}

#[async_trait]
impl Forward for Reclock {
    fn target(&self) -> &dyn GitHub {
        self.0.as_ref()
    }
    async fn list_issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueComment>> {
        let mut cs = self.0.list_issue_comments(org, repo, number).await?;
        for c in &mut cs {
            c.created_at = at(c.id);
            c.updated_at = at(c.id);
        }
        Ok(cs)
    }
    async fn list_reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>> {
        let mut rs = self.0.list_reviews(org, repo, number).await?;
        for r in &mut rs {
            r.submitted_at = at(r.id);
        }
        Ok(rs)
    }
    async fn list_review_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>> {
        let mut cs = self.0.list_review_comments(org, repo, number).await?;
        for c in &mut cs {
            c.created_at = at(c.id);
        }
        Ok(cs)
    }
}
