//! Credential state: the (re-readable) personal access token, and the GitHub App's JWT signer
//! with its per-org installation and per-installation token caches. The network calls that fill
//! the App caches live with the request engine (`core.rs`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{BuildError, TokenSource};
use crate::GitHubError;

/// Installation tokens are renewed this long before GitHub's `expires_at`, so a token never
/// expires between being handed out and being used (and to absorb clock skew).
const TOKEN_REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// A token and the hash that identifies it in metrics and cache keys. `Debug` shows the hash
/// only.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Pat {
    pub(crate) token: String,
    /// Hex SHA-256 of the `Authorization` header value, as Prow's ghmetrics/ghproxy compute it.
    pub(crate) hash: String,
}

impl std::fmt::Debug for Pat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pat")
            .field("token", &"<redacted>")
            .field("hash", &self.hash)
            .finish()
    }
}

impl Pat {
    fn new(token: String) -> Self {
        let hash = hex::encode(Sha256::digest(format!("Bearer {token}").as_bytes()));
        Pat { token, hash }
    }
}

#[derive(Debug)]
pub(crate) struct FileState {
    mtime: Option<SystemTime>,
    pat: Pat,
}

/// Reads a personal access token, re-reading a token file when its mtime changes.
#[derive(Debug)]
pub(crate) enum TokenReader {
    Literal(Pat),
    File {
        path: PathBuf,
        state: Mutex<Option<FileState>>,
    },
}

impl TokenReader {
    pub(crate) fn new(source: &TokenSource) -> Result<Self, BuildError> {
        Ok(match source {
            TokenSource::Literal(t) => {
                let t = t.trim();
                if t.is_empty() {
                    return Err(BuildError::Auth("empty GitHub token".into()));
                }
                TokenReader::Literal(Pat::new(t.to_string()))
            }
            TokenSource::File(path) => {
                let reader = TokenReader::File {
                    path: path.clone(),
                    state: Mutex::new(None),
                };
                // Fail at startup on a missing file, like Prow's secret agent.
                reader
                    .current()
                    .map_err(|e| BuildError::Auth(e.to_string()))?;
                reader
            }
        })
    }

    /// The current token. A file that became unreadable keeps serving the last good token (a
    /// secret mount is swapped non-atomically for a moment); with no good token it is an
    /// `Unauthorized` error.
    pub(crate) fn current(&self) -> Result<Pat, GitHubError> {
        let (path, state) = match self {
            TokenReader::Literal(p) => return Ok(p.clone()),
            TokenReader::File { path, state } => (path, state),
        };
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if let Some(s) = state.as_ref()
            && (mtime.is_none() || s.mtime == mtime)
        {
            return Ok(s.pat.clone());
        }
        match std::fs::read_to_string(path) {
            Ok(raw) if !raw.trim().is_empty() => {
                let pat = Pat::new(raw.trim().to_string());
                if state.is_some() {
                    tracing::info!(path = %path.display(), "GitHub token file changed; using the new token");
                }
                *state = Some(FileState {
                    mtime,
                    pat: pat.clone(),
                });
                Ok(pat)
            }
            other => {
                let why = match other {
                    Ok(_) => "file is empty".to_string(),
                    Err(e) => e.to_string(),
                };
                match state.as_ref() {
                    Some(s) => {
                        tracing::warn!(path = %path.display(), error = %why, "cannot re-read GitHub token file; keeping the previous token");
                        Ok(s.pat.clone())
                    }
                    None => Err(GitHubError::Unauthorized(format!(
                        "reading GitHub token file {}: {why}",
                        path.display()
                    ))),
                }
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AppClaims {
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) iss: String,
}

/// An installation access token as `POST /app/installations/{id}/access_tokens` returns it.
/// `Debug` shows the expiry only.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct InstallationToken {
    pub(crate) token: String,
    pub(crate) expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for InstallationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallationToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl InstallationToken {
    pub(crate) fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - TOKEN_REFRESH_MARGIN > now
    }
}

type TokenSlot = Arc<tokio::sync::Mutex<Option<InstallationToken>>>;

/// GitHub App credentials and caches.
pub(crate) struct AppState {
    pub(crate) app_id: String,
    key: EncodingKey,
    installations: Mutex<HashMap<String, u64>>,
    tokens: Mutex<HashMap<u64, TokenSlot>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub(crate) fn new(app_id: &str, pem: &[u8]) -> Result<Self, BuildError> {
        if app_id.trim().is_empty() {
            return Err(BuildError::Auth("empty GitHub App ID".into()));
        }
        let key = EncodingKey::from_rsa_pem(pem).map_err(|e| {
            BuildError::Auth(format!("GitHub App private key is not an RSA PEM key: {e}"))
        })?;
        let state = AppState {
            app_id: app_id.trim().to_string(),
            key,
            installations: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        };
        // Sign once so a key the backend cannot use fails at startup, not on the first request.
        state.jwt(0).map_err(|e| BuildError::Auth(e.to_string()))?;
        Ok(state)
    }

    /// An App JWT (RS256): issued a minute in the past against clock drift, valid 9 minutes (GitHub
    /// allows 10), issuer = App ID.
    pub(crate) fn jwt(&self, now_unix: i64) -> Result<String, GitHubError> {
        let claims = AppClaims {
            iat: now_unix - 60,
            exp: now_unix + 9 * 60,
            iss: self.app_id.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| GitHubError::Unauthorized(format!("signing GitHub App JWT: {e}")))
    }

    pub(crate) fn installation_for(&self, org: &str) -> Option<u64> {
        let map = self.installations.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&org.to_ascii_lowercase()).copied()
    }

    pub(crate) fn remember_installation(&self, org: &str, id: u64) {
        let mut map = self.installations.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(org.to_ascii_lowercase(), id);
    }

    /// The slot holding installation `id`'s token; locking it serialises minting per installation.
    pub(crate) fn token_slot(&self, id: u64) -> TokenSlot {
        let mut map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id).or_default().clone()
    }

    /// Drops a cached token GitHub rejected (revoked early), so the next request mints a new one.
    pub(crate) fn forget_token(&self, id: u64) {
        let slot = self.token_slot(id);
        if let Ok(mut guard) = slot.try_lock() {
            *guard = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_token() {
        let r = TokenReader::new(&TokenSource::Literal("ghp-literal-token-value".into()))
            .expect("valid");
        let shown = format!("{r:?} {:?}", r.current().expect("literal"));
        assert!(!shown.contains("ghp-literal-token-value"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");

        let t = InstallationToken {
            token: "ghs-installation-token-value".into(),
            expires_at: Utc::now(),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("ghs-installation-token-value"), "{shown}");
        assert!(shown.contains("expires_at"), "{shown}");
    }

    #[test]
    fn literal_token_and_hash() {
        let r = TokenReader::new(&TokenSource::Literal(" abc \n".into())).expect("valid");
        let p = r.current().expect("literal");
        assert_eq!(p.token, "abc");
        assert_eq!(p.hash, hex::encode(Sha256::digest(b"Bearer abc")));
        assert!(TokenReader::new(&TokenSource::Literal("  ".into())).is_err());
    }

    #[test]
    fn file_token_reloads_on_mtime_change_and_survives_removal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("oauth");
        std::fs::write(&path, "first\n").expect("write");
        let r = TokenReader::new(&TokenSource::File(path.clone())).expect("readable");
        assert_eq!(r.current().expect("read").token, "first");

        std::fs::write(&path, "second").expect("write");
        // Force a distinct mtime: filesystems with coarse timestamps would otherwise hide the change.
        let f = std::fs::File::options()
            .write(true)
            .open(&path)
            .expect("open");
        f.set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
            .expect("set mtime");
        assert_eq!(r.current().expect("reread").token, "second");

        std::fs::remove_file(&path).expect("remove");
        assert_eq!(r.current().expect("kept").token, "second");
    }

    #[test]
    fn missing_token_file_fails_at_build() {
        let err = TokenReader::new(&TokenSource::File("/nonexistent/prow/oauth".into()))
            .expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/prow/oauth"), "{err}");
    }

    #[test]
    fn bad_app_key_is_rejected() {
        assert!(AppState::new("1", b"not a key").is_err());
        assert!(AppState::new("", b"").is_err());
    }

    #[test]
    fn token_freshness_margin() {
        let now = Utc::now();
        let t = InstallationToken {
            token: "x".into(),
            expires_at: now + chrono::Duration::minutes(60),
        };
        assert!(t.fresh(now));
        assert!(!t.fresh(now + chrono::Duration::minutes(56)));
    }
}
