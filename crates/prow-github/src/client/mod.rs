//! The real GitHub client: [`Client`] implements [`GitHub`](crate::GitHub) over HTTPS with
//! Prow's client behaviour (spec §1.1 flags, §1.4):
//!
//! - `--github-endpoint` list tried in order (ghproxy first): a connection failure or 5xx moves a
//!   request to the next endpoint, with exponential backoff;
//! - personal access token (literal, or a file re-read when it changes) or GitHub App auth (RS256
//!   JWT → per-org installation token, cached until shortly before it expires);
//! - `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`,
//!   `Authorization: Bearer …`;
//! - conditional GETs from a bounded ETag cache (a 304 costs no rate-limit token);
//! - `per_page=100` pagination following `Link: rel="next"`;
//! - waits for secondary (`retry-after`) and primary (`X-RateLimit-Reset`) limits up to
//!   `max_rate_limit_wait`, then [`GitHubError::RateLimited`](crate::GitHubError::RateLimited);
//!   an optional client-side token bucket (`--github-hourly-tokens`);
//! - `--dry-run`: mutating calls are logged, not sent, and answer with plausible values;
//! - Prometheus metrics `github_request_duration`, `github_token_usage`, `github_token_reset`,
//!   `github_request_timeouts`, `github_request_wait_duration_seconds`, `github_user_info`;
//! - a `github_request` tracing span per request (method, templated path, status).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use prow_github::{Auth, Client, ClientConfig, GitHub};
//! use prow_github::client::TokenSource;
//!
//! let mut cfg = ClientConfig::new(Auth::Token(TokenSource::File("/etc/github/oauth".into())));
//! cfg.endpoints = vec!["http://ghproxy".into(), "https://api.github.com".into()];
//! let registry = prometheus::Registry::new();
//! let gh = Client::new(cfg, Some(&registry))?;
//! let labels = gh.get_issue_labels("kubernetes", "test-infra", 1).await?;
//! # let _ = labels; Ok(()) }
//! ```

mod auth;
mod cache;
mod config;
mod core;
mod errmap;
mod metrics;
mod ops;
mod paths;
mod ratelimit;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use thiserror::Error;

pub use self::config::{Auth, ClientConfig, DEFAULT_ENDPOINT, GitHubFlags, TokenSource};
pub use self::metrics::GitHubMetrics;
/// HTTP method for [`Client::request_json`].
pub use reqwest::Method;

use self::auth::{AppState, TokenReader};
use self::core::{AuthFor, Creds, Inner, Req, Target};
use self::errmap::Route;
use crate::Result;

/// Why a [`Client`] could not be built.
#[derive(Debug, Error)]
pub enum BuildError {
    /// An endpoint is not an absolute http(s) URL.
    #[error("invalid GitHub endpoint {url:?}: {reason}")]
    InvalidEndpoint {
        /// The offending value.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The credentials are unusable (unreadable token file, bad App key).
    #[error("GitHub credentials: {0}")]
    Auth(String),
    /// Inconsistent `--github-*` flags.
    #[error("GitHub flags: {0}")]
    Flags(String),
    /// Registering the metrics failed (already registered in that registry?).
    #[error("registering GitHub client metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The HTTP client could not be created (TLS setup).
    #[error("creating HTTP client: {0}")]
    Http(String),
}

/// The real GitHub client. Cheap to clone; clones share caches, tokens and metrics.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.inner.endpoints)
            .field("graphql", &self.inner.graphql_url)
            .field("dry_run", &self.inner.dry_run)
            .finish_non_exhaustive()
    }
}

fn validate_url(url: &str) -> Result<String, BuildError> {
    let trimmed = url.trim().trim_end_matches('/').to_string();
    let invalid = |reason: String| BuildError::InvalidEndpoint {
        url: url.to_string(),
        reason,
    };
    let parsed = reqwest::Url::parse(&trimmed).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("scheme must be http or https".into()));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("must not carry a query or fragment".into()));
    }
    Ok(trimmed)
}

impl Client {
    /// Builds a client; with `registry`, its metrics are registered there (once per registry:
    /// for several clients on one registry use [`Client::with_metrics`]).
    pub fn new(
        config: ClientConfig,
        registry: Option<&prometheus::Registry>,
    ) -> Result<Self, BuildError> {
        let metrics = match registry {
            Some(r) => GitHubMetrics::register(r)?,
            None => GitHubMetrics::new(),
        };
        Self::with_metrics(config, metrics)
    }

    /// Builds a client reporting into already registered `metrics`.
    pub fn with_metrics(config: ClientConfig, metrics: GitHubMetrics) -> Result<Self, BuildError> {
        let endpoints = if config.endpoints.is_empty() {
            vec![DEFAULT_ENDPOINT.to_string()]
        } else {
            config
                .endpoints
                .iter()
                .map(|e| validate_url(e))
                .collect::<Result<Vec<_>, _>>()?
        };
        let endpoint_paths = endpoints.iter().map(|e| paths::base_path(e)).collect();
        let graphql_url = validate_url(&config.graphql_url())?;
        let creds = match &config.auth {
            Auth::Token(source) => Creds::Token(TokenReader::new(source)?),
            Auth::App {
                app_id,
                private_key_pem,
            } => Creds::App(AppState::new(app_id, private_key_pem)?),
        };
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                // GitHub answers a membership check for a non-(public-)member with a 302 to
                // `public_members`; that redirect is the answer, not something to follow.
                if attempt
                    .previous()
                    .first()
                    .is_some_and(|u| paths::is_membership_check(u.path()))
                {
                    attempt.stop()
                } else if attempt.previous().len() >= 10 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|e| BuildError::Http(e.to_string()))?;
        let inner = Inner {
            http,
            endpoints,
            endpoint_paths,
            graphql_url,
            creds,
            cache: cache::EtagCache::new(config.cache_entries, config.cache_max_bytes),
            throttle: ratelimit::Throttle::new(config.hourly_tokens, config.allowed_burst),
            metrics,
            user_agent_label: metrics::user_agent_label(&config.user_agent),
            dry_run: config.dry_run,
            max_retries: config.max_retries,
            max_404_retries: config.max_404_retries,
            initial_backoff: config.initial_backoff,
            max_rate_limit_wait: config.max_rate_limit_wait,
            bot: tokio::sync::OnceCell::new(),
        };
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// Whether mutating calls are suppressed.
    pub fn is_dry_run(&self) -> bool {
        self.inner.dry_run
    }

    /// A REST call the [`GitHub`](crate::GitHub) trait does not cover, through the same engine
    /// (auth, retries, rate limits, dry-run, metrics). `path` is relative to the endpoint
    /// (`/repos/o/r/labels`, query allowed, segments already escaped); `org` picks the App
    /// installation (`None` uses the client's own identity). Any 2xx is success: the decoded
    /// JSON body, or `Null` for an empty body or a dry-run write; other statuses map to
    /// [`GitHubError`](crate::GitHubError) like the trait methods.
    pub async fn request_json(
        &self,
        org: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value> {
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let req = Req {
            route: Cow::Owned(paths::template_path(&path)),
            target: Target::Rest(path),
            auth: org.map(AuthFor::Org).unwrap_or(AuthFor::Identity),
            body: body.map(|b| b.to_string().into_bytes()),
            retry_404: method == Method::GET,
            method,
            accept: core::ACCEPT_JSON,
            always_send: false,
        };
        let resp = self.inner.send(req).await?;
        if resp.dry_run
            || ((200..300).contains(&resp.status) && resp.body.iter().all(u8::is_ascii_whitespace))
        {
            return Ok(serde_json::Value::Null);
        }
        if !(200..300).contains(&resp.status) {
            return Err(errmap::error_for(
                resp.status,
                &resp.body,
                Route::Default,
                &resp.what,
            ));
        }
        resp.json()
    }

    /// The token git should use over HTTPS for `org`'s repositories: the personal access token,
    /// or the org's App installation token (Prow's token generator).
    pub async fn git_token(&self, org: &str) -> Result<String> {
        self.inner.git_token(org).await
    }

    /// The user name git should pair with [`Client::git_token`]: `x-access-token` under App auth,
    /// the bot's login otherwise.
    pub async fn git_user(&self) -> Result<String> {
        match &self.inner.creds {
            Creds::App(_) => Ok("x-access-token".to_string()),
            Creds::Token(_) => Ok(self.inner.bot_user().await?.login),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_validation() {
        assert_eq!(
            validate_url("http://ghproxy/").expect("valid"),
            "http://ghproxy"
        );
        assert_eq!(
            validate_url(" https://ghe.example.com/api/v3/ ").expect("valid"),
            "https://ghe.example.com/api/v3"
        );
        assert!(validate_url("ghproxy:8888").is_err());
        assert!(validate_url("ftp://x").is_err());
        assert!(validate_url("http://x/?a=b").is_err());
    }

    #[test]
    fn build_rejects_bad_endpoint_and_registers_metrics_once() {
        let mut cfg = ClientConfig::new(Auth::Token(TokenSource::Literal("t".into())));
        cfg.endpoints = vec!["not a url".into()];
        assert!(matches!(
            Client::new(cfg.clone(), None),
            Err(BuildError::InvalidEndpoint { .. })
        ));
        cfg.endpoints = vec!["http://127.0.0.1:1".into()];
        let registry = prometheus::Registry::new();
        let a = Client::new(cfg.clone(), Some(&registry)).expect("first");
        assert!(matches!(
            Client::new(cfg.clone(), Some(&registry)),
            Err(BuildError::Metrics(_))
        ));
        let b = Client::with_metrics(cfg, GitHubMetrics::new()).expect("shared metrics");
        assert!(!a.is_dry_run() && !b.is_dry_run());
        assert!(!format!("{a:?}").contains("Bearer"));
    }
}
