//! Typed errors callers branch on.

use thiserror::Error;

/// Result alias for GitHub operations.
pub type Result<T, E = GitHubError> = std::result::Result<T, E>;

/// What can go wrong talking to GitHub (real or simulated).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum GitHubError {
    /// 404: the object (repo, issue, file, label on an issue…) does not exist or is not visible.
    #[error("not found: {0}")]
    NotFound(String),
    /// 401: bad or missing credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403 that is not a rate limit: the token lacks permission.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Primary (`X-RateLimit-Remaining: 0`) or secondary (`retry-after`) rate limit that did not
    /// clear within the client's retry budget.
    #[error("rate limited{}", .retry_after_secs.map(|s| format!(", retry after {s}s")).unwrap_or_default())]
    RateLimited {
        /// Seconds until GitHub says to retry, when it said.
        retry_after_secs: Option<u64>,
    },
    /// 405 on merge: the pull request is not mergeable (conflicts, failing required checks…).
    #[error("pull request is not mergeable: {0}")]
    UnmergeablePr(String),
    /// 409 on merge: the head moved since the `sha` we asked to merge.
    #[error("head branch was modified: {0}")]
    ModifiedHead(String),
    /// 422: validation failed (e.g. label already exists, invalid assignee).
    #[error("validation failed: {0}")]
    Unprocessable(String),
    /// Any other non-success HTTP status.
    #[error("GitHub returned {status}: {message}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// `message` from GitHub's JSON error, or the body.
        message: String,
    },
    /// The GraphQL response carried `errors`.
    #[error("GraphQL errors: {}", .0.join("; "))]
    GraphQl(Vec<String>),
    /// Transport failure (connect, TLS, timeout) after retries.
    #[error("request failed: {0}")]
    Transport(String),
    /// The response body did not decode.
    #[error("could not decode response: {0}")]
    Decode(String),
}

impl GitHubError {
    /// Whether this is a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, GitHubError::NotFound(_))
    }
}
