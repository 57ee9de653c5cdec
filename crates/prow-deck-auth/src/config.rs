//! Auth configuration: the `github-oauth-config` secret, the cookie secret and the keys derived
//! from it, and the `--rerun-creates-job` start-up check.

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::AuthError;
use crate::authz::config_level_entry;

/// GitHub's public web host, where the OAuth endpoints live.
pub const DEFAULT_GITHUB_WEB_BASE: &str = "https://github.com";

/// The GitHub OAuth app Deck logs users in with (the `github-oauth-config` secret, key `secret`,
/// YAML; spec §10.4).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthConfig {
    /// OAuth app client ID.
    #[serde(default)]
    pub client_id: String,
    /// OAuth app client secret.
    #[serde(default)]
    pub client_secret: String,
    /// The app's callback, `<deck>/github-login/redirect`.
    #[serde(default)]
    pub redirect_url: String,
    /// Requested scopes (e.g. `[repo]` to see private repositories on `/pr`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Documented as where to land after login (`<deck>/pr`); like Prow we redirect to the
    /// `dest` of the login request instead, so this is only kept for round-tripping.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub final_redirect_url: String,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the client secret.
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .field("final_redirect_url", &self.final_redirect_url)
            .finish()
    }
}

impl OAuthConfig {
    /// Parses the secret's YAML and checks the fields Prow requires (`client_id`,
    /// `client_secret`, `redirect_url`).
    pub fn from_yaml(text: &str) -> anyhow::Result<Self> {
        let cfg: OAuthConfig =
            serde_saphyr::from_str(text).context("parsing the GitHub OAuth config YAML")?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and parses the `--github-oauth-config-file`.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading GitHub OAuth config {}", path.display()))?;
        Self::from_yaml(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Prow's `isValidatedGitOAuthConfig`: the three mandatory fields are set.
    pub fn validate(&self) -> anyhow::Result<()> {
        let missing: Vec<&str> = [
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("redirect_url", &self.redirect_url),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| k)
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            anyhow::bail!(
                "invalid GitHub OAuth config: missing {}",
                missing.join(", ")
            )
        }
    }
}

/// Everything [`crate::Auth`] needs besides the bot client and the Prow config. `Debug` never
/// shows the cookie secret or the OAuth client secret.
#[derive(Clone)]
pub struct AuthConfig {
    /// The OAuth app; `None` disables login (and `/pr`), as when Deck runs without `--oauth-url`.
    pub oauth: Option<OAuthConfig>,
    /// The decoded cookie secret (`--cookie-secret`), see [`read_cookie_secret`]. Required when
    /// `oauth` is set; CSRF protection is on when it is at least 32 bytes.
    pub cookie_secret: Option<Vec<u8>>,
    /// `--allow-insecure`: cookies are sent without `Secure` (plain-HTTP deployments, tests).
    pub allow_insecure: bool,
    /// GitHub's web base for the OAuth endpoints, e.g. `https://github.com` or
    /// `http://127.0.0.1:P/fake-github`.
    pub github_web_base: String,
    /// GitHub's REST base for the user's own calls (`/user`, `/graphql`), e.g.
    /// `https://api.github.com`.
    pub github_api_base: String,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("oauth", &self.oauth)
            .field(
                "cookie_secret",
                &self.cookie_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_insecure", &self.allow_insecure)
            .field("github_web_base", &self.github_web_base)
            .field("github_api_base", &self.github_api_base)
            .finish()
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            oauth: None,
            cookie_secret: None,
            allow_insecure: false,
            github_web_base: DEFAULT_GITHUB_WEB_BASE.to_string(),
            github_api_base: prow_github::client::DEFAULT_ENDPOINT.to_string(),
        }
    }
}

/// Reads a cookie secret file: base64 (standard alphabet, surrounding whitespace ignored) of the
/// secret bytes, as `openssl rand -base64 32` writes it.
pub fn read_cookie_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw = std::fs::read_to_string(path)
        .with_context(|| format!("reading cookie secret {}", path.display()))?;
    decode_cookie_secret(&raw).with_context(|| format!("in {}", path.display()))
}

/// Decodes the base64 text of a cookie secret file.
pub fn decode_cookie_secret(text: &str) -> anyhow::Result<Vec<u8>> {
    let compact: String = text.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .context("decoding cookie secret (expected base64)")?;
    if bytes.is_empty() {
        anyhow::bail!("cookie secret should not be empty");
    }
    Ok(bytes)
}

/// The CSRF key Prow derives from the cookie secret: the secret itself when it is exactly 32
/// bytes, SHA-256 of it when longer, none (CSRF off) when shorter.
pub fn csrf_key(secret: &[u8]) -> Option<[u8; 32]> {
    match secret.len() {
        32 => {
            let mut k = [0u8; 32];
            k.copy_from_slice(secret);
            Some(k)
        }
        n if n > 32 => Some(sha2::Sha256::digest(secret).into()),
        _ => None,
    }
}

/// 64 bytes of key material for the encrypted cookies (AES-GCM in `PrivateCookieJar`), derived
/// from a secret of any length so a short legacy secret still works for sessions.
pub(crate) fn cookie_key_material(secret: &[u8]) -> [u8; 64] {
    let mut h = sha2::Sha512::new();
    h.update(b"prow-deck-auth/cookie-key/v1\0");
    h.update(secret);
    h.finalize().into()
}

/// Prow's start-up check for `--rerun-creates-job`: a POST that creates jobs must be protected
/// by CSRF, so the cookie secret must decode to at least 32 bytes unless the config-level rerun
/// auth config lets anyone rerun (then there is nothing to protect).
pub fn validate_rerun_setup(
    rerun_creates_job: bool,
    cookie_secret: Option<&[u8]>,
    config: &prow_config::Config,
) -> Result<(), AuthError> {
    if !rerun_creates_job {
        return Ok(());
    }
    if let Some(s) = cookie_secret
        && s.len() < 32
    {
        return Err(AuthError::Setup(
            "Cookie secret must be exactly 32 bytes".to_string(),
        ));
    }
    let csrf_on = cookie_secret.and_then(csrf_key).is_some();
    let anyone = config_level_entry(&config.prow.deck, "", "").is_some_and(|c| c.allow_anyone);
    if !csrf_on && !anyone {
        return Err(AuthError::Setup(
            "Rerun creates job cannot be enabled without CSRF protection, which requires --cookie-secret to be exactly 32 bytes".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_config_debug_never_shows_secrets() {
        let secret = b"cookie-secret-bytes-0123456789abcdef".to_vec();
        let cfg = AuthConfig {
            oauth: Some(OAuthConfig {
                client_id: "client-id".into(),
                client_secret: "oauth-client-secret-value".into(),
                redirect_url: "http://127.0.0.1:1/github-login/redirect".into(),
                ..Default::default()
            }),
            cookie_secret: Some(secret.clone()),
            ..Default::default()
        };
        let shown = format!("{cfg:?} {cfg:#?}");
        assert!(!shown.contains("oauth-client-secret-value"), "{shown}");
        // Derived Debug prints bytes as a list of numbers; neither form may appear.
        assert!(!shown.contains(&format!("{secret:?}")), "{shown}");
        assert!(!shown.contains("cookie-secret-bytes"), "{shown}");
        assert!(
            shown.contains("cookie_secret") && shown.contains("redacted"),
            "{shown}"
        );
        assert!(shown.contains("client-id"), "{shown}");
    }

    #[test]
    fn oauth_yaml_parses_and_validates() {
        let c = OAuthConfig::from_yaml(
            "client_id: abc\nclient_secret: s3\nredirect_url: https://deck.example.com/github-login/redirect\nfinal_redirect_url: https://deck.example.com/pr\nscopes:\n- repo\n",
        )
        .unwrap();
        assert_eq!(c.client_id, "abc");
        assert_eq!(c.scopes, vec!["repo".to_string()]);
        assert!(!format!("{c:?}").contains("s3\""));
        let err = OAuthConfig::from_yaml("client_id: abc\n").unwrap_err();
        assert!(format!("{err:#}").contains("client_secret, redirect_url"));
    }

    #[test]
    fn cookie_secret_lengths() {
        let b32 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let s = decode_cookie_secret(&format!("{b32}\n")).unwrap();
        assert_eq!(csrf_key(&s), Some([7u8; 32]));
        let long = [9u8; 48];
        let k = csrf_key(&long).unwrap();
        assert_eq!(k, <[u8; 32]>::from(sha2::Sha256::digest(long)));
        assert_eq!(csrf_key(&[1u8; 31]), None);
        assert!(decode_cookie_secret("not base64!").is_err());
        assert!(decode_cookie_secret("  \n").is_err());
    }

    #[test]
    fn rerun_setup_needs_csrf_unless_anyone() {
        let cfg = prow_config::Config::default();
        assert!(validate_rerun_setup(false, None, &cfg).is_ok());
        assert!(validate_rerun_setup(true, None, &cfg).is_err());
        assert!(validate_rerun_setup(true, Some(&[1u8; 16]), &cfg).is_err());
        assert!(validate_rerun_setup(true, Some(&[1u8; 32]), &cfg).is_ok());
        let mut anyone = prow_config::Config::default();
        anyone.prow.deck.rerun_auth_configs.insert(
            "*".into(),
            prow_api::RerunAuthConfig {
                allow_anyone: true,
                ..Default::default()
            },
        );
        assert!(validate_rerun_setup(true, None, &anyone).is_ok());
        // A too-short secret is refused even then, as Prow does.
        assert!(validate_rerun_setup(true, Some(&[1u8; 8]), &anyone).is_err());
    }
}
