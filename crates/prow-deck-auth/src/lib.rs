//! Deck's GitHub login, sessions, CSRF, rerun/abort authorization and the PR dashboard
//! (spec §10.4, §10.1 `/pr`, §10.2 `/pr-data.js`).
//!
//! * [`Auth::router`] serves `GET /github-login?dest=`, `GET /github-login/redirect`,
//!   `GET /github-logout`, `GET /pr`, `GET|POST /pr-data.js` and the pages' style and script
//!   (`GET /auth-static/{auth.css,pr.js}`; no inline code, for Deck's CSP).
//! * Sessions live in cookies only (no server state), with Prow's names: the OAuth `state` in
//!   the encrypted `oauth-session` cookie, the user's token (and login) in the encrypted
//!   `access-token-session` cookie, and the plain `github_login` cookie the UI reads. The AES-GCM
//!   key is derived from the cookie secret, so every Deck replica with the same secret accepts
//!   the same cookies.
//! * CSRF: when the decoded cookie secret is ≥32 bytes (Prow's rule), every browser gets a random
//!   nonce in the `prow-csrf` cookie ([`Auth::wrap`] sets it) and pages embed
//!   `HMAC-SHA256(key, nonce)` as `<meta name="csrf-token">`; POSTs send it back in
//!   `X-CSRF-Token` (or the `gorilla.csrf.Token` form field) and [`Auth::check_csrf`] compares in
//!   constant time. A cross-site page can neither read the cookie nor compute the HMAC.
//! * [`Auth::authorize`] applies `rerun_auth_config` rules (see [`authz`]).
//!
//! ```no_run
//! # fn demo(config: prow_deck_auth::ConfigGetter) -> anyhow::Result<()> {
//! use prow_deck_auth::{Auth, AuthConfig, OAuthConfig, read_cookie_secret};
//! let cfg = AuthConfig {
//!     oauth: Some(OAuthConfig::from_file("/etc/githuboauth/secret".as_ref())?),
//!     cookie_secret: Some(read_cookie_secret("/etc/cookie/secret".as_ref())?),
//!     ..AuthConfig::default()
//! };
//! let auth = Auth::new(cfg, None, config)?;
//! let app = auth.wrap(axum::Router::new().merge(auth.router()));
//! # let _ = app; Ok(()) }
//! ```

pub mod authz;
pub mod config;
mod csrf;
mod oauth;
mod pages;
pub mod prstatus;

use std::sync::Arc;

use axum_extra::extract::cookie::{CookieJar, Key, PrivateCookieJar};
use http::StatusCode;
use prow_api::ProwJob;
use serde::{Deserialize, Serialize};

pub use authz::PluginsGetter;
pub use config::{
    AuthConfig, OAuthConfig, csrf_key, decode_cookie_secret, read_cookie_secret,
    validate_rerun_setup,
};

/// The Prow config source (same shape as `prow_controller::controller::ConfigGetter`).
pub type ConfigGetter = Arc<dyn Fn() -> Arc<prow_config::Config> + Send + Sync>;

/// Encrypted cookie holding the user's GitHub token (Prow's gorilla session name).
pub const TOKEN_SESSION_COOKIE: &str = "access-token-session";
/// Encrypted cookie holding the OAuth `state` during login.
pub const OAUTH_SESSION_COOKIE: &str = "oauth-session";
/// Plain cookie with the GitHub login, read by the UI.
pub const LOGIN_COOKIE: &str = "github_login";
/// Cookie with the browser's CSRF nonce.
pub const CSRF_COOKIE: &str = "prow-csrf";
/// Header a POST carries the CSRF token in (gorilla/csrf's default).
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// Form field a POST may carry the CSRF token in (gorilla/csrf's default).
pub const CSRF_FORM_FIELD: &str = "gorilla.csrf.Token";

/// Why an auth step failed; [`AuthError::status`] gives the HTTP status Deck should answer.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Missing or wrong CSRF token on a POST.
    #[error("CSRF token invalid: {0}")]
    Csrf(String),
    /// The job needs a logged-in user and there is none.
    #[error("You need to log in with GitHub to rerun or abort this job.")]
    NotLoggedIn,
    /// The logged-in user may not rerun/abort the job.
    #[error("{login} is not allowed to rerun {job}")]
    Forbidden {
        /// GitHub login.
        login: String,
        /// Job name.
        job: String,
    },
    /// Rerunning needs OAuth and it is not configured (and the job is not `allow_anyone`).
    #[error(
        "GitHub oauth must be configured to rerun jobs unless 'allow_anyone: true' is specified."
    )]
    OAuthNotConfigured,
    /// A GitHub lookup (membership, team, trust) failed.
    #[error("{0}")]
    GitHub(String),
    /// Inconsistent start-up settings (see [`validate_rerun_setup`]).
    #[error("{0}")]
    Setup(String),
}

impl AuthError {
    /// The HTTP status for this error: 403 CSRF/forbidden, 401 not logged in, 500 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Csrf(_) | AuthError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AuthError::NotLoggedIn => StatusCode::UNAUTHORIZED,
            AuthError::OAuthNotConfigured | AuthError::GitHub(_) | AuthError::Setup(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// The logged-in user, from the encrypted `access-token-session` cookie.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// GitHub login.
    pub login: String,
    /// The user's OAuth access token.
    pub token: String,
}

impl std::fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionUser")
            .field("login", &self.login)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// A successful authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorized {
    /// The acting user; `None` when the job is open to anyone (no login was needed). Deck words
    /// the rerun description `<login> successfully reran <job>.` or `Successfully reran <job>.`.
    pub login: Option<String>,
}

/// Whether a proxy in front of Deck says the browser used https: the first (client-side)
/// value of `X-Forwarded-Proto`, or the `proto` of the first `Forwarded` element (RFC 7239).
pub fn https_request(headers: &http::HeaderMap) -> bool {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
    };
    if first("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https")) {
        return true;
    }
    first("forwarded").is_some_and(|element| {
        element.split(';').any(|pair| {
            pair.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("proto")
                    && v.trim().trim_matches('"').eq_ignore_ascii_case("https")
            })
        })
    })
}

/// A `Set-Cookie` that deletes cookie `name` (path `/`); needs no decryption, so it works for
/// the encrypted cookies too.
pub(crate) fn removal(
    name: &'static str,
    secure: bool,
) -> axum_extra::extract::cookie::Cookie<'static> {
    let mut c = axum_extra::extract::cookie::Cookie::build((name, ""))
        .path("/")
        .secure(secure)
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .build();
    c.make_removal();
    c
}

/// Seconds since the Unix epoch; injectable for tests of the login-state expiry.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub(crate) struct Inner {
    pub(crate) cfg: AuthConfig,
    pub(crate) cookie_key: Option<Key>,
    pub(crate) csrf_key: Option<[u8; 32]>,
    pub(crate) bot: Option<Arc<dyn prow_github::GitHub>>,
    pub(crate) config: ConfigGetter,
    pub(crate) http: reqwest::Client,
}

/// Deck's auth layer. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    pub(crate) inner: Arc<Inner>,
    pub(crate) plugins: Option<PluginsGetter>,
    pub(crate) clock: Clock,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("oauth", &self.inner.cfg.oauth)
            .field("csrf", &self.inner.csrf_key.is_some())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Builds the auth layer. `github_bot` (Deck's `--github-token-path` client) is needed for
    /// org/team membership and `/test` trust checks; without it only `github_users` and
    /// `allow_anyone` can grant access. Fails when OAuth is configured without a cookie secret or
    /// the secret is empty.
    pub fn new(
        cfg: AuthConfig,
        github_bot: Option<Arc<dyn prow_github::GitHub>>,
        config: ConfigGetter,
    ) -> anyhow::Result<Self> {
        if let Some(o) = &cfg.oauth {
            o.validate()?;
            if cfg.cookie_secret.is_none() {
                anyhow::bail!("GitHub OAuth needs a cookie secret (--cookie-secret)");
            }
        }
        if cfg.cookie_secret.as_ref().is_some_and(Vec::is_empty) {
            anyhow::bail!("cookie secret should not be empty");
        }
        let cookie_key = cfg
            .cookie_secret
            .as_deref()
            .map(|s| Key::from(&config::cookie_key_material(s)));
        let csrf_key = cfg.cookie_secret.as_deref().and_then(config::csrf_key);
        if cfg.cookie_secret.is_some() && csrf_key.is_none() {
            tracing::warn!("cookie secret should be exactly 32 bytes; CSRF protection is off");
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("prow-deck/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(30))
            // The token exchange must not follow redirects anywhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Auth {
            inner: Arc::new(Inner {
                cfg,
                cookie_key,
                csrf_key,
                bot: github_bot,
                config,
                http,
            }),
            plugins: None,
            clock: Arc::new(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            }),
        })
    }

    /// Adds the plugin config, needed for the `/test` trust check on presubmit reruns
    /// (`plugins.yaml` `triggers`); without it that last check is skipped, as in Prow.
    pub fn with_plugins(mut self, plugins: PluginsGetter) -> Self {
        self.plugins = Some(plugins);
        self
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether GitHub login is configured.
    pub fn oauth_enabled(&self) -> bool {
        self.inner.cfg.oauth.is_some()
    }

    /// Whether CSRF protection is on (cookie secret ≥32 bytes).
    pub fn csrf_enabled(&self) -> bool {
        self.inner.csrf_key.is_some()
    }

    /// The routes this crate serves; see the crate docs. Already wrapped by [`Auth::wrap`].
    pub fn router(&self) -> axum::Router {
        let r = axum::Router::new()
            .route("/github-login", axum::routing::get(oauth::login))
            .route(
                "/github-login/redirect",
                axum::routing::get(oauth::redirect),
            )
            .route("/github-logout", axum::routing::get(oauth::logout))
            .route("/pr", axum::routing::get(pages::pr_page))
            .route(
                "/auth-static/{file}",
                axum::routing::get(pages::static_file),
            )
            .route(
                "/pr-data.js",
                axum::routing::get(pages::pr_data).post(pages::pr_data_post),
            )
            .with_state(self.clone());
        self.wrap(r)
    }

    /// Wraps a router so every response gives a browser without one a CSRF nonce cookie (and the
    /// request already sees it, so [`Auth::csrf_token`] works on the first visit). Apply it to
    /// Deck's whole router; applying it twice is harmless.
    pub fn wrap(&self, router: axum::Router) -> axum::Router {
        if !self.csrf_enabled() {
            return router;
        }
        router.layer(axum::middleware::from_fn_with_state(
            self.clone(),
            csrf::ensure_nonce,
        ))
    }

    pub(crate) fn private_jar(&self, headers: &http::HeaderMap) -> Option<PrivateCookieJar> {
        let key = self.inner.cookie_key.clone()?;
        Some(PrivateCookieJar::from_headers(headers, key))
    }

    /// The logged-in user, from the encrypted `access-token-session` cookie; `None` when logged
    /// out, OAuth is off, or the cookie does not decrypt (tampered, other secret).
    pub fn user(&self, headers: &http::HeaderMap) -> Option<SessionUser> {
        self.inner.cfg.oauth.as_ref()?;
        let jar = self.private_jar(headers)?;
        let c = jar.get(TOKEN_SESSION_COOKIE)?;
        let u: SessionUser = serde_json::from_str(c.value()).ok()?;
        (!u.login.is_empty() && !u.token.is_empty()).then_some(u)
    }

    /// The CSRF token pages embed as `<meta name="csrf-token" content="…">`; `None` when CSRF is
    /// disabled or the browser has no nonce cookie yet (routers wrapped by [`Auth::wrap`] always
    /// have one).
    pub fn csrf_token(&self, headers: &http::HeaderMap) -> Option<String> {
        let key = self.inner.csrf_key.as_ref()?;
        let nonce = csrf::nonce_from(&CookieJar::from_headers(headers))?;
        Some(csrf::token_for(key, &nonce))
    }

    /// Checks a POST's CSRF token: the `X-CSRF-Token` header, else `form_token` (the
    /// `gorilla.csrf.Token` field). Always `Ok` when CSRF is disabled.
    pub fn check_csrf(
        &self,
        headers: &http::HeaderMap,
        form_token: Option<&str>,
    ) -> Result<(), AuthError> {
        let Some(key) = self.inner.csrf_key.as_ref() else {
            return Ok(());
        };
        let nonce = csrf::nonce_from(&CookieJar::from_headers(headers))
            .ok_or_else(|| AuthError::Csrf("no CSRF cookie; reload the page".into()))?;
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .or(form_token)
            .ok_or_else(|| AuthError::Csrf("no CSRF token in the request".into()))?;
        if csrf::verify(key, &nonce, sent) {
            Ok(())
        } else {
            Err(AuthError::Csrf(
                "CSRF token does not match; reload the page".into(),
            ))
        }
    }

    /// May `user` rerun or abort `pj` (spec §10.4)? `Ok` carries the acting login (`None` when
    /// the job is open to anyone).
    pub async fn authorize(
        &self,
        pj: &ProwJob,
        user: Option<&SessionUser>,
    ) -> Result<Authorized, AuthError> {
        let cfg = (self.inner.config)();
        let span = tracing::info_span!("authorize", job = %pj.spec.job, prowjob = %pj.name(), user = user.map(|u| u.login.as_str()).unwrap_or(""));
        let config_level = authz::config_level_for_spec(&cfg.prow.deck, &pj.spec);
        if pj
            .spec
            .rerun_auth_config
            .as_ref()
            .is_some_and(|c| c.allow_anyone)
            || config_level.as_ref().is_some_and(|c| c.allow_anyone)
        {
            return Ok(Authorized { login: None });
        }
        if !self.oauth_enabled() {
            return Err(AuthError::OAuthNotConfigured);
        }
        let Some(user) = user else {
            return Err(AuthError::NotLoggedIn);
        };
        let plugins = self.plugins.as_ref().map(|p| p());
        let allowed = tracing::Instrument::instrument(
            authz::can_trigger_job(
                &user.login,
                pj,
                config_level.as_ref(),
                self.inner.bot.as_deref(),
                plugins.as_deref(),
            ),
            span,
        )
        .await?;
        tracing::info!(job = %pj.spec.job, user = %user.login, allowed, "rerun/abort authorization");
        if allowed {
            Ok(Authorized {
                login: Some(user.login.clone()),
            })
        } else {
            Err(AuthError::Forbidden {
                login: user.login.clone(),
                job: pj.spec.job.clone(),
            })
        }
    }

    /// Whether cookies set in answer to a request with `headers` carry `Secure`: always unless
    /// `--allow-insecure` (Prow's rule); with it, still when this Deck is known to be served
    /// over https — its OAuth redirect URL is `https://…`, or a TLS-terminating proxy says so
    /// ([`https_request`]). A forged proxy header can only add `Secure`, never remove it, so no
    /// proxy has to be declared trusted.
    pub fn cookies_secure(&self, headers: &http::HeaderMap) -> bool {
        !self.inner.cfg.allow_insecure
            || self
                .inner
                .cfg
                .oauth
                .as_ref()
                .is_some_and(|o| o.redirect_url.to_ascii_lowercase().starts_with("https://"))
            || https_request(headers)
    }

    pub(crate) fn now(&self) -> u64 {
        (self.clock)()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut m = http::HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, http::HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn https_is_read_from_the_client_side_proxy_value() {
        assert!(!https_request(&h(&[])));
        assert!(https_request(&h(&[("x-forwarded-proto", "https")])));
        assert!(https_request(&h(&[("x-forwarded-proto", "HTTPS, http")])));
        assert!(!https_request(&h(&[("x-forwarded-proto", "http, https")])));
        assert!(https_request(&h(&[(
            "forwarded",
            "for=192.0.2.1;proto=https;host=deck.example.com"
        )])));
        assert!(https_request(&h(&[("forwarded", "proto=\"https\"")])));
        assert!(!https_request(&h(&[(
            "forwarded",
            "proto=http, for=192.0.2.1;proto=https"
        )])));
    }

    fn auth(allow_insecure: bool, redirect_url: Option<&str>) -> Auth {
        let cfg = AuthConfig {
            oauth: redirect_url.map(|u| OAuthConfig {
                client_id: "c".into(),
                client_secret: "s".into(),
                redirect_url: u.into(),
                ..Default::default()
            }),
            cookie_secret: Some(vec![1u8; 32]),
            allow_insecure,
            ..AuthConfig::default()
        };
        let c = std::sync::Arc::new(prow_config::Config::default());
        Auth::new(cfg, None, std::sync::Arc::new(move || c.clone())).unwrap()
    }

    #[test]
    fn secure_cookies_whenever_https_is_known() {
        let plain = h(&[]);
        let proxied = h(&[("x-forwarded-proto", "https")]);
        assert!(auth(false, None).cookies_secure(&plain), "Prow's default");
        assert!(!auth(true, None).cookies_secure(&plain));
        assert!(!auth(true, Some("http://deck.example.com/r")).cookies_secure(&plain));
        assert!(auth(true, Some("https://deck.example.com/r")).cookies_secure(&plain));
        assert!(auth(true, Some("/github-login/redirect")).cookies_secure(&proxied));
    }
}
