//! Client configuration: what Prow's `--github-*` flags describe.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::BuildError;

/// GitHub's public REST API; also the usual last `--github-endpoint` (the fallback behind ghproxy).
pub const DEFAULT_ENDPOINT: &str = "https://api.github.com";

/// Where a personal access token comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// The token itself.
    Literal(String),
    /// A file holding the token (`--github-token-path`); re-read whenever its mtime changes, so a
    /// rotated Kubernetes secret is picked up without a restart, as Prow's secret agent does.
    File(PathBuf),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Never print a secret, even in debug output.
            TokenSource::Literal(_) => f.write_str("Literal(<redacted>)"),
            TokenSource::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// How requests authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// A personal access token (`Authorization: Bearer <token>`).
    Token(TokenSource),
    /// A GitHub App (`--github-app-id`, `--github-app-private-key-path`): requests for an org use
    /// that org's installation token; `/app` routes use a JWT signed with the key.
    App {
        /// The numeric App ID, as a string (the JWT `iss`).
        app_id: String,
        /// The App's RSA private key in PEM (PKCS#1 `RSA PRIVATE KEY`, as GitHub issues it, or
        /// PKCS#8 `PRIVATE KEY`).
        private_key_pem: Vec<u8>,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Token(t) => f.debug_tuple("Token").field(t).finish(),
            Auth::App { app_id, .. } => f
                .debug_struct("App")
                .field("app_id", app_id)
                .field("private_key_pem", &"<redacted>")
                .finish(),
        }
    }
}

/// Everything the [`Client`](super::Client) needs. Build with [`ClientConfig::new`] and adjust
/// fields, or from flags with [`GitHubFlags::to_config`].
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// REST endpoints tried in order (`--github-endpoint`, repeatable): a request moves to the
    /// next one when the current one refuses the connection or answers 5xx. Usually ghproxy first
    /// and `https://api.github.com` last. A GitHub Enterprise base looks like
    /// `https://ghe.example.com/api/v3`.
    pub endpoints: Vec<String>,
    /// GraphQL URL (`--github-graphql-endpoint`). `None`: derived from the first endpoint, see
    /// [`ClientConfig::graphql_url`].
    pub graphql_endpoint: Option<String>,
    /// Credentials.
    pub auth: Auth,
    /// `User-Agent`; the part before the first `/` is the `user_agent` metric label.
    pub user_agent: String,
    /// `--dry-run`: mutating REST calls (POST/PATCH/PUT/DELETE) and GraphQL mutations are logged
    /// and not sent; reads still go out. App token minting is still allowed.
    pub dry_run: bool,
    /// Retries after the first attempt for transport errors, 5xx and rate-limit waits
    /// (Prow: 8 attempts in total).
    pub max_retries: u32,
    /// How often a 404 is retried (GitHub is briefly inconsistent right after a webhook); calls for
    /// which 404 is an answer (`is_collaborator`, `is_member`, `get_file`…) never retry it.
    pub max_404_retries: u32,
    /// First backoff between retries; doubles each time.
    pub initial_backoff: Duration,
    /// The longest the client sleeps for a rate limit to clear (`retry-after` or
    /// `X-RateLimit-Reset`); longer waits fail with `GitHubError::RateLimited` at once.
    pub max_rate_limit_wait: Duration,
    /// `--github-hourly-tokens`: client-side request budget per hour (token bucket); 0 = off.
    /// With App auth each org (installation) gets its own bucket.
    pub hourly_tokens: u32,
    /// `--github-allowed-burst`: bucket size.
    pub allowed_burst: u32,
    /// Whole-request timeout (Prow: 5 minutes).
    pub request_timeout: Duration,
    /// Entries kept in the ETag cache (0 disables conditional requests).
    pub cache_entries: usize,
    /// Body bytes kept in the ETag cache.
    pub cache_max_bytes: usize,
}

impl ClientConfig {
    /// Prow's defaults for `auth` against `https://api.github.com`: 8 attempts, 2 retries of a 404,
    /// 2 s initial backoff, rate-limit waits up to 2 min, no client-side throttle, 5 min timeout,
    /// not dry-run.
    pub fn new(auth: Auth) -> Self {
        ClientConfig {
            endpoints: vec![DEFAULT_ENDPOINT.to_string()],
            graphql_endpoint: None,
            auth,
            user_agent: format!("prow-rs/{}", env!("CARGO_PKG_VERSION")),
            dry_run: false,
            max_retries: 7,
            max_404_retries: 2,
            initial_backoff: Duration::from_secs(2),
            max_rate_limit_wait: Duration::from_secs(120),
            hourly_tokens: 0,
            allowed_burst: 100,
            request_timeout: Duration::from_secs(300),
            cache_entries: 4096,
            cache_max_bytes: 64 << 20,
        }
    }

    /// The GraphQL URL: the explicit one, else derived from the first endpoint
    /// (`<base>/graphql`; a GitHub Enterprise `…/api/v3` base becomes `…/api/graphql`).
    pub fn graphql_url(&self) -> String {
        if let Some(explicit) = &self.graphql_endpoint {
            return explicit.trim_end_matches('/').to_string();
        }
        let base = self
            .endpoints
            .first()
            .map(String::as_str)
            .unwrap_or(DEFAULT_ENDPOINT)
            .trim_end_matches('/');
        match base.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{base}/graphql"),
        }
    }
}

/// The GitHub flags every GitHub-facing Prow component takes (spec §1.1), for the binary's clap
/// struct to fill in. Turned into a [`ClientConfig`] by [`GitHubFlags::to_config`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitHubFlags {
    /// `--github-endpoint` (repeatable; empty = `https://api.github.com`).
    pub endpoints: Vec<String>,
    /// `--github-graphql-endpoint`.
    pub graphql_endpoint: Option<String>,
    /// `--github-token-path`.
    pub token_path: Option<PathBuf>,
    /// `--github-app-id`.
    pub app_id: Option<String>,
    /// `--github-app-private-key-path`.
    pub app_private_key_path: Option<PathBuf>,
    /// `--github-hourly-tokens` (0 = no client-side throttle).
    pub hourly_tokens: u32,
    /// `--github-allowed-burst`.
    pub allowed_burst: u32,
    /// `--dry-run`.
    pub dry_run: bool,
}

impl GitHubFlags {
    /// Validates the flag combination and reads the App key file. Exactly one of a token path or
    /// an App ID + key path must be given.
    pub fn to_config(&self, user_agent: &str) -> Result<ClientConfig, BuildError> {
        let auth = match (&self.token_path, &self.app_id, &self.app_private_key_path) {
            (Some(path), None, None) => Auth::Token(TokenSource::File(path.clone())),
            (None, Some(app_id), Some(key_path)) => {
                let pem = std::fs::read(key_path).map_err(|e| {
                    BuildError::Flags(format!(
                        "reading --github-app-private-key-path {}: {e}",
                        key_path.display()
                    ))
                })?;
                Auth::App {
                    app_id: app_id.clone(),
                    private_key_pem: pem,
                }
            }
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(BuildError::Flags(
                    "--github-app-id and --github-app-private-key-path must be given together"
                        .into(),
                ));
            }
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(BuildError::Flags(
                    "--github-token-path and --github-app-id are mutually exclusive".into(),
                ));
            }
            (None, None, None) => {
                return Err(BuildError::Flags(
                    "one of --github-token-path or --github-app-id is required".into(),
                ));
            }
        };
        let mut cfg = ClientConfig::new(auth);
        if !self.endpoints.is_empty() {
            cfg.endpoints = self.endpoints.clone();
        }
        cfg.graphql_endpoint = self.graphql_endpoint.clone().filter(|s| !s.is_empty());
        cfg.hourly_tokens = self.hourly_tokens;
        cfg.allowed_burst = self.allowed_burst;
        cfg.dry_run = self.dry_run;
        cfg.user_agent = user_agent.to_string();
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(endpoints: &[&str], graphql: Option<&str>) -> ClientConfig {
        let mut c = ClientConfig::new(Auth::Token(TokenSource::Literal("t".into())));
        c.endpoints = endpoints.iter().map(|s| s.to_string()).collect();
        c.graphql_endpoint = graphql.map(str::to_string);
        c
    }

    #[test]
    fn graphql_url_derivation() {
        assert_eq!(
            cfg(&[DEFAULT_ENDPOINT], None).graphql_url(),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            cfg(&["http://ghproxy:8888/", DEFAULT_ENDPOINT], None).graphql_url(),
            "http://ghproxy:8888/graphql"
        );
        assert_eq!(
            cfg(&["https://ghe.example.com/api/v3"], None).graphql_url(),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            cfg(
                &["http://ghproxy"],
                Some("https://gql.example.com/graphql/")
            )
            .graphql_url(),
            "https://gql.example.com/graphql"
        );
        assert_eq!(
            cfg(&[], None).graphql_url(),
            "https://api.github.com/graphql"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let a = Auth::Token(TokenSource::Literal("sekrit".into()));
        assert!(!format!("{a:?}").contains("sekrit"));
        let a = Auth::App {
            app_id: "1".into(),
            private_key_pem: b"PEMDATA".to_vec(),
        };
        assert!(!format!("{a:?}").contains("PEMDATA"));
    }

    #[test]
    fn flags_combinations() {
        let mut f = GitHubFlags {
            token_path: Some("/etc/github/oauth".into()),
            ..Default::default()
        };
        let c = f.to_config("hook/1").expect("token flags are valid");
        assert_eq!(
            c.auth,
            Auth::Token(TokenSource::File("/etc/github/oauth".into()))
        );
        assert_eq!(c.endpoints, vec![DEFAULT_ENDPOINT.to_string()]);
        assert_eq!(c.user_agent, "hook/1");

        f.app_id = Some("42".into());
        assert!(matches!(f.to_config("x"), Err(BuildError::Flags(_))));
        f.token_path = None;
        assert!(
            matches!(f.to_config("x"), Err(BuildError::Flags(_))),
            "app id without key"
        );
        f.app_private_key_path = Some("/nonexistent/key.pem".into());
        assert!(
            matches!(f.to_config("x"), Err(BuildError::Flags(m)) if m.contains("/nonexistent"))
        );
        assert!(matches!(
            GitHubFlags::default().to_config("x"),
            Err(BuildError::Flags(_))
        ));
    }
}
