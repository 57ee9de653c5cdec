//! The GitHub OAuth web flow (Prow's `pkg/githuboauth`): `/github-login`,
//! `/github-login/redirect`, `/github-logout`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use http::{HeaderMap, StatusCode, header};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::pages::message;
use crate::{Auth, LOGIN_COOKIE, OAUTH_SESSION_COOKIE, SessionUser, TOKEN_SESSION_COOKIE};

/// How long a login may take between `/github-login` and the callback (Prow: 10 minutes).
const STATE_TTL_SECS: u64 = 10 * 60;
/// Session and `github_login` cookie lifetime (Prow: 30 days).
const SESSION_DAYS: i64 = 30;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DestQuery {
    #[serde(default)]
    dest: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    dest: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StateCookie {
    state: String,
    iat: u64,
}

/// `/<dest>` with leading slashes and backslashes stripped, so the redirect always stays on this
/// host (no `//evil.example` protocol-relative targets) and control characters dropped.
pub(crate) fn local_path(dest: Option<&str>) -> String {
    let d: String = dest
        .unwrap_or_default()
        .trim_start_matches(['/', '\\'])
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    format!("/{d}")
}

fn found(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

fn base_cookie(secure: bool, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .secure(secure)
        .http_only(true)
        .same_site(SameSite::Lax)
        .build()
}

/// Stand-in origin for host-relative addresses (`/github-login/redirect`), which keep the
/// browser on whatever host name it used (the all-in-one mode serves Deck and the GitHub
/// simulator from one listener, reachable as `localhost` or `127.0.0.1` alike).
const RELATIVE_BASE: &str = "http://relative.invalid";

/// Parses an absolute URL or a host-relative path (`/…`); says which it was.
fn parse_url(s: &str) -> Result<(reqwest::Url, bool), String> {
    if s.starts_with('/') && !s.starts_with("//") {
        let u = reqwest::Url::parse(&format!("{RELATIVE_BASE}{s}")).map_err(|e| e.to_string())?;
        Ok((u, true))
    } else {
        Ok((reqwest::Url::parse(s).map_err(|e| e.to_string())?, false))
    }
}

/// The URL as given back to the browser: host-relative ones stay relative.
fn render_url(u: &reqwest::Url, relative: bool) -> String {
    if !relative {
        return u.to_string();
    }
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

/// The GitHub web address for a server-side call: a host-relative `github_web_base` is resolved
/// against `github_api_base`'s origin.
fn server_web_base(auth: &Auth) -> String {
    let web = auth.inner.cfg.github_web_base.trim_end_matches('/');
    if !web.starts_with('/') {
        return web.to_owned();
    }
    match reqwest::Url::parse(&auth.inner.cfg.github_api_base) {
        Ok(api) => format!("{}{web}", api.origin().ascii_serialization()),
        Err(_) => web.to_owned(),
    }
}

/// `redirect_url` with `dest=<dest>` added (replacing any), as Prow's `WithFinalRedirectURL`.
fn callback_url(redirect_url: &str, dest: &str) -> Result<String, String> {
    let (mut u, relative) = parse_url(redirect_url)
        .map_err(|e| format!("invalid redirect_url {redirect_url:?}: {e}"))?;
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != "dest")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("dest", dest);
    }
    Ok(render_url(&u, relative))
}

/// `GET /github-login?dest=<path>`.
pub(crate) async fn login(
    State(auth): State<Auth>,
    Query(q): Query<DestQuery>,
    headers: HeaderMap,
) -> Response {
    let (Some(oauth), Some(jar)) = (auth.inner.cfg.oauth.as_ref(), auth.private_jar(&headers))
    else {
        return message(
            &auth,
            &headers,
            StatusCode::NOT_FOUND,
            "Login unavailable",
            "GitHub login is not configured on this Deck.",
            None,
        );
    };
    let dest = q.dest.unwrap_or_default();
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let state = hex::encode(raw);
    let callback = match callback_url(&oauth.redirect_url, &dest) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "bad OAuth redirect_url");
            return message(
                &auth,
                &headers,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Login unavailable",
                &format!("The GitHub OAuth configuration is broken: {e}"),
                None,
            );
        }
    };
    let authorize = format!(
        "{}/login/oauth/authorize",
        auth.inner.cfg.github_web_base.trim_end_matches('/')
    );
    let scope = oauth.scopes.join(" ");
    let relative = authorize.starts_with('/');
    let absolute = if relative {
        format!("{RELATIVE_BASE}{authorize}")
    } else {
        authorize.clone()
    };
    let url = match reqwest::Url::parse_with_params(
        &absolute,
        &[
            ("client_id", oauth.client_id.as_str()),
            ("redirect_uri", callback.as_str()),
            ("response_type", "code"),
            ("scope", scope.as_str()),
            ("state", state.as_str()),
            ("access_type", "online"),
            ("prompt", "consent"),
        ],
    ) {
        Ok(u) => u,
        Err(e) => {
            return message(
                &auth,
                &headers,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Login unavailable",
                &format!("Invalid GitHub web address {authorize:?}: {e}"),
                None,
            );
        }
    };
    let value = serde_json::to_string(&StateCookie {
        state,
        iat: auth.now(),
    })
    .unwrap_or_default();
    let mut c = base_cookie(auth.cookies_secure(&headers), OAUTH_SESSION_COOKIE, value);
    c.set_max_age(cookie::time::Duration::seconds(STATE_TTL_SECS as i64));
    let jar = jar.add(c);
    (jar, found(&render_url(&url, relative))).into_response()
}

/// `GET /github-login/redirect?code=&state=&dest=`.
pub(crate) async fn redirect_handler(auth: Auth, q: CallbackQuery, headers: HeaderMap) -> Response {
    let (Some(oauth), Some(jar)) = (auth.inner.cfg.oauth.clone(), auth.private_jar(&headers))
    else {
        return message(
            &auth,
            &headers,
            StatusCode::NOT_FOUND,
            "Login unavailable",
            "GitHub login is not configured on this Deck.",
            None,
        );
    };
    let dest = q.dest.clone().unwrap_or_default();
    let retry = Some((
        format!("/github-login?dest={}", urlencode(&dest)),
        "Try logging in again".to_string(),
    ));
    let stored = jar
        .get(OAUTH_SESSION_COOKIE)
        .and_then(|c| serde_json::from_str::<StateCookie>(c.value()).ok());
    let Some(stored) = stored else {
        return message(
            &auth,
            &headers,
            StatusCode::BAD_REQUEST,
            "Login failed",
            "The login session is missing or expired (were cookies blocked?).",
            retry,
        );
    };
    if auth.now().saturating_sub(stored.iat) > STATE_TTL_SECS {
        return message(
            &auth,
            &headers,
            StatusCode::BAD_REQUEST,
            "Login failed",
            "The login took too long and its session expired.",
            retry,
        );
    }
    let sent = q.state.unwrap_or_default();
    if sent.is_empty() || !bool::from(sent.as_bytes().ct_eq(stored.state.as_bytes())) {
        tracing::warn!("OAuth callback with an invalid state");
        return message(
            &auth,
            &headers,
            StatusCode::FORBIDDEN,
            "Login failed",
            "Invalid OAuth state: this login was not started by this browser.",
            retry,
        );
    }
    if let Some(err) = q.error.filter(|e| !e.is_empty()) {
        let desc = q.error_description.unwrap_or_default();
        if err == "access_denied" {
            tracing::debug!(gh_error = %err, "GitHub login denied by the user");
        } else {
            tracing::error!(gh_error = %err, gh_error_description = %desc, "GitHub passed an error in the OAuth callback");
        }
        return message(
            &auth,
            &headers,
            StatusCode::BAD_REQUEST,
            "Login failed",
            &format!("GitHub did not authorize the login: {err} {desc}"),
            retry,
        );
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return message(
            &auth,
            &headers,
            StatusCode::BAD_REQUEST,
            "Login failed",
            "The OAuth callback carried no code.",
            retry,
        );
    };
    let callback = callback_url(&oauth.redirect_url, &dest).unwrap_or_default();
    let token = match exchange_code(&auth, &oauth, &code, &callback).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "exchanging the OAuth code failed");
            return message(
                &auth,
                &headers,
                StatusCode::BAD_GATEWAY,
                "Login failed",
                &format!("Exchanging the code for a token failed: {e}"),
                retry,
            );
        }
    };
    let login = match user_login(&auth, &token).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "looking up the GitHub user failed");
            return message(
                &auth,
                &headers,
                StatusCode::BAD_GATEWAY,
                "Login failed",
                &format!("Looking up your GitHub login failed: {e}"),
                retry,
            );
        }
    };
    tracing::info!(user = %login, "GitHub login");
    let session = serde_json::to_string(&SessionUser {
        login: login.clone(),
        token,
    })
    .unwrap_or_default();
    let secure = auth.cookies_secure(&headers);
    let mut sc = base_cookie(secure, TOKEN_SESSION_COOKIE, session);
    sc.set_max_age(cookie::time::Duration::days(SESSION_DAYS));
    let jar = jar.add(sc);
    // Prow leaves this one readable by script for its UI; ours renders the login server-side,
    // so it is HttpOnly like the others.
    let mut lc = base_cookie(secure, LOGIN_COOKIE, login);
    lc.set_max_age(cookie::time::Duration::days(SESSION_DAYS));
    let plain = CookieJar::new()
        .add(lc)
        .add(crate::removal(OAUTH_SESSION_COOKIE, secure));
    (jar, plain, found(&local_path(Some(&dest)))).into_response()
}

pub(crate) async fn redirect(
    State(auth): State<Auth>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    redirect_handler(auth, q, headers).await
}

/// `GET /github-logout[?dest=]`: forget the token and the login.
pub(crate) async fn logout(
    State(auth): State<Auth>,
    Query(q): Query<DestQuery>,
    headers: HeaderMap,
) -> Response {
    let to = local_path(q.dest.as_deref());
    let secure = auth.cookies_secure(&headers);
    let plain = CookieJar::new()
        .add(crate::removal(LOGIN_COOKIE, secure))
        .add(crate::removal(TOKEN_SESSION_COOKIE, secure));
    (plain, found(&to)).into_response()
}

fn urlencode(s: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("d", s)])
        .ok()
        .and_then(|u| u.query().map(|q| q.trim_start_matches("d=").to_string()))
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// `POST <web>/login/oauth/access_token` (JSON answer requested).
async fn exchange_code(
    auth: &Auth,
    oauth: &crate::OAuthConfig,
    code: &str,
    callback: &str,
) -> Result<String, String> {
    let url = format!("{}/login/oauth/access_token", server_web_base(auth));
    let resp = auth
        .inner
        .http
        .post(&url)
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("client_id", oauth.client_id.as_str()),
            ("client_secret", oauth.client_secret.as_str()),
            ("code", code),
            ("redirect_uri", callback),
        ])
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    let parsed: TokenResponse = serde_json::from_slice(&body)
        .map_err(|_| format!("GitHub answered {status} without a JSON token"))?;
    match (parsed.access_token.filter(|t| !t.is_empty()), parsed.error) {
        (Some(t), _) => Ok(t),
        (None, Some(e)) => Err(format!(
            "{e}: {}",
            parsed.error_description.unwrap_or_default()
        )),
        (None, None) => Err(format!("GitHub answered {status} without a token")),
    }
}

/// The login behind a user token (`GET <api>/user`), through prow-github's client.
async fn user_login(auth: &Auth, token: &str) -> Result<String, String> {
    let client = crate::pages::user_client(auth, token).map_err(|e| e.to_string())?;
    let user = prow_github::GitHub::bot_user(&client)
        .await
        .map_err(|e| e.to_string())?;
    if user.login.is_empty() {
        return Err("GitHub returned no login".into());
    }
    Ok(user.login)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dest_stays_local() {
        assert_eq!(local_path(None), "/");
        assert_eq!(local_path(Some("pr")), "/pr");
        assert_eq!(local_path(Some("//evil.example/x")), "/evil.example/x");
        assert_eq!(local_path(Some("/\\evil.example")), "/evil.example");
        assert_eq!(local_path(Some("a\r\nSet-Cookie: x")), "/aSet-Cookie: x");
    }

    #[test]
    fn callback_carries_dest() {
        assert_eq!(
            callback_url("https://deck.example.com/github-login/redirect", "pr").unwrap(),
            "https://deck.example.com/github-login/redirect?dest=pr"
        );
        assert_eq!(
            callback_url("https://deck.example.com/cb?dest=old&x=1", "view/a b").unwrap(),
            "https://deck.example.com/cb?x=1&dest=view%2Fa+b"
        );
        assert!(callback_url("not a url", "pr").is_err());
    }
}
