//! OAuth access tokens for the GCS JSON API: a service-account key signs a JWT that the token
//! endpoint exchanges for a token (RFC 7523); an authorized user refreshes its token; on GKE
//! the metadata server hands out the workload-identity token; anything else is anonymous.
//! Tokens are cached until shortly before they expire.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::credentials::{AuthorizedUser, GoogleCredentials, ServiceAccountKey};
use crate::error::{Result, StorageError};

/// The scope the Go storage client asks for by default.
pub const SCOPE_FULL_CONTROL: &str = "https://www.googleapis.com/auth/devstorage.full_control";
/// Metadata server address used by Google's libraries when `GCE_METADATA_HOST` is unset.
pub const DEFAULT_METADATA_HOST: &str = "169.254.169.254";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Lifetime of a signed assertion (the maximum Google accepts).
const ASSERTION_LIFETIME_SECS: u64 = 3600;
/// Refresh a cached token this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// Claims of the assertion a service account signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// The service account's e-mail.
    pub iss: String,
    /// Space-separated OAuth scopes.
    pub scope: String,
    /// The token endpoint.
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
}

/// Claims for `key` at `now` (Unix seconds).
pub fn assertion_claims(key: &ServiceAccountKey, scope: &str, now: u64) -> AssertionClaims {
    AssertionClaims {
        iss: key.client_email.clone(),
        scope: scope.to_string(),
        aud: key.token_uri.clone(),
        iat: now,
        exp: now + ASSERTION_LIFETIME_SECS,
    }
}

/// Sign the assertion (RS256, `kid` = the key id).
pub fn sign_assertion(
    key: &ServiceAccountKey,
    signing_key: &EncodingKey,
    scope: &str,
    now: u64,
) -> Result<String> {
    let mut header = Header::new(Algorithm::RS256);
    if !key.private_key_id.is_empty() {
        header.kid = Some(key.private_key_id.clone());
    }
    jsonwebtoken::encode(&header, &assertion_claims(key, scope, now), signing_key)
        .map_err(|e| StorageError::Credentials(format!("sign service-account assertion: {e}")))
}

/// A token endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// Seconds until it expires.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// Normally `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
}

enum Mode {
    Anonymous,
    ServiceAccount {
        key: ServiceAccountKey,
        signing_key: Box<EncodingKey>,
    },
    AuthorizedUser(AuthorizedUser),
    Metadata {
        host: String,
    },
}

/// Where requests get their `Authorization` header from.
pub struct TokenSource {
    mode: Mode,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Option<(String, Instant)>>,
    /// Set once the metadata server turned out not to be there: from then on, anonymous
    /// (Prow's fallback when no default credentials exist).
    metadata_absent: OnceLock<()>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &self.mode {
            Mode::Anonymous => "anonymous".to_string(),
            Mode::ServiceAccount { key, .. } => format!("service account {}", key.client_email),
            Mode::AuthorizedUser(u) => format!("authorized user {}", u.client_id),
            Mode::Metadata { host } => format!("metadata server {host}"),
        };
        f.debug_struct("TokenSource").field("mode", &mode).finish()
    }
}

impl TokenSource {
    /// No `Authorization` header at all (emulators, public buckets).
    pub fn anonymous(http: reqwest::Client) -> Self {
        Self::with_mode(Mode::Anonymous, http)
    }

    /// Tokens from a credentials file.
    pub fn from_credentials(creds: &GoogleCredentials, http: reqwest::Client) -> Result<Self> {
        let mode = match creds {
            GoogleCredentials::ServiceAccount(key) => {
                let signing_key =
                    EncodingKey::from_rsa_pem(key.private_key.as_bytes()).map_err(|e| {
                        StorageError::Credentials(format!(
                            "service account {}: invalid private_key: {e}",
                            key.client_email
                        ))
                    })?;
                Mode::ServiceAccount {
                    key: key.clone(),
                    signing_key: Box::new(signing_key),
                }
            }
            GoogleCredentials::AuthorizedUser(u) => Mode::AuthorizedUser(u.clone()),
        };
        Ok(Self::with_mode(mode, http))
    }

    /// Tokens from the metadata server at `host` (`host[:port]`), falling back to anonymous
    /// when no metadata server answers.
    pub fn metadata_server(host: &str, http: reqwest::Client) -> Self {
        Self::with_mode(
            Mode::Metadata {
                host: host.trim_end_matches('/').to_string(),
            },
            http,
        )
    }

    fn with_mode(mode: Mode, http: reqwest::Client) -> Self {
        TokenSource {
            mode,
            http,
            cache: tokio::sync::Mutex::new(None),
            metadata_absent: OnceLock::new(),
        }
    }

    /// The bearer token to send, or `None` for anonymous requests.
    pub async fn token(&self) -> Result<Option<String>> {
        if matches!(self.mode, Mode::Anonymous) || self.metadata_absent.get().is_some() {
            return Ok(None);
        }
        // One refresh at a time; everyone else waits for its result.
        let mut cache = self.cache.lock().await;
        if let Some((token, expires)) = cache.as_ref()
            && Instant::now() + EXPIRY_MARGIN < *expires
        {
            return Ok(Some(token.clone()));
        }
        let Some(resp) = self.fetch().await? else {
            return Ok(None);
        };
        let lifetime = Duration::from_secs(resp.expires_in.unwrap_or(3600));
        *cache = Some((resp.access_token.clone(), Instant::now() + lifetime));
        Ok(Some(resp.access_token))
    }

    /// Forget the cached token (after the API rejected it).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    async fn fetch(&self) -> Result<Option<TokenResponse>> {
        match &self.mode {
            Mode::Anonymous => Ok(None),
            Mode::ServiceAccount { key, signing_key } => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let jwt = sign_assertion(key, signing_key, SCOPE_FULL_CONTROL, now)?;
                let req = self
                    .http
                    .post(&key.token_uri)
                    .form(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &jwt)]);
                exchange(req, &key.token_uri).await.map(Some)
            }
            Mode::AuthorizedUser(u) => {
                let req = self.http.post(&u.token_uri).form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", &u.client_id),
                    ("client_secret", &u.client_secret),
                    ("refresh_token", &u.refresh_token),
                ]);
                exchange(req, &u.token_uri).await.map(Some)
            }
            Mode::Metadata { host } => {
                let base = if host.contains("://") {
                    host.clone()
                } else {
                    format!("http://{host}")
                };
                let url =
                    format!("{base}/computeMetadata/v1/instance/service-accounts/default/token");
                let resp = self
                    .http
                    .get(&url)
                    .header("Metadata-Flavor", "Google")
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                let resp = match resp {
                    Ok(r)
                        if r.headers()
                            .get("metadata-flavor")
                            .is_some_and(|v| v == "Google") =>
                    {
                        r
                    }
                    Ok(_) | Err(_) => {
                        // Not on GCP (or something else answers at that address): Prow then
                        // uses an anonymous client, and so do we, for the life of the store.
                        tracing::info!(
                            metadata = %base,
                            "no GCP metadata server and no GCS credentials: using anonymous access"
                        );
                        let _ = self.metadata_absent.set(());
                        return Ok(None);
                    }
                };
                read_token(resp, &url).await.map(Some)
            }
        }
    }
}

async fn exchange(req: reqwest::RequestBuilder, endpoint: &str) -> Result<TokenResponse> {
    let resp = req.send().await.map_err(|e| {
        StorageError::Credentials(format!("token request to {endpoint} failed: {e}"))
    })?;
    read_token(resp, endpoint).await
}

async fn read_token(resp: reqwest::Response, endpoint: &str) -> Result<TokenResponse> {
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| StorageError::Credentials(format!("token response from {endpoint}: {e}")))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        return Err(StorageError::Credentials(format!(
            "token endpoint {endpoint} answered {status}: {}",
            text.chars().take(500).collect::<String>()
        )));
    }
    let t: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| StorageError::Credentials(format!("token response from {endpoint}: {e}")))?;
    if t.access_token.is_empty() {
        return Err(StorageError::Credentials(format!(
            "token endpoint {endpoint} returned an empty access_token"
        )));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_follow_rfc7523() {
        let key = ServiceAccountKey {
            client_email: "uploader@project.iam.gserviceaccount.com".into(),
            private_key: String::new(),
            private_key_id: "kid-1".into(),
            token_uri: "http://127.0.0.1:1/token".into(),
            project_id: String::new(),
        };
        let c = assertion_claims(&key, SCOPE_FULL_CONTROL, 1_700_000_000);
        assert_eq!(c.iss, key.client_email);
        assert_eq!(c.aud, "http://127.0.0.1:1/token");
        assert_eq!(c.scope, SCOPE_FULL_CONTROL);
        assert_eq!(c.exp - c.iat, 3600);
    }

    #[test]
    fn bad_private_key_is_a_credentials_error() {
        let creds = GoogleCredentials::ServiceAccount(ServiceAccountKey {
            client_email: "a@example.com".into(),
            private_key: "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
                .into(),
            private_key_id: String::new(),
            token_uri: "http://127.0.0.1:1/token".into(),
            project_id: String::new(),
        });
        let err = TokenSource::from_credentials(&creds, reqwest::Client::new()).unwrap_err();
        assert!(matches!(err, StorageError::Credentials(_)), "{err:?}");
    }

    #[tokio::test]
    async fn anonymous_has_no_token() {
        let t = TokenSource::anonymous(reqwest::Client::new());
        assert_eq!(t.token().await.unwrap(), None);
    }

    #[tokio::test]
    async fn absent_metadata_server_means_anonymous() {
        // Nothing listens on this loopback port once the listener is dropped.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t = TokenSource::metadata_server(&format!("127.0.0.1:{port}"), reqwest::Client::new());
        assert_eq!(t.token().await.unwrap(), None);
        assert!(t.metadata_absent.get().is_some());
    }
}
