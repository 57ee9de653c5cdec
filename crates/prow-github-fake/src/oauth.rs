//! GitHub's OAuth web flow, as `github.com` serves it, for Deck's login.
//!
//! * `GET /login/oauth/authorize?client_id=&redirect_uri=&state=&scope=` renders "Sign in to
//!   <app> as:" with one `<button id="login-<login>">` per user; the form posts back to the same
//!   path (a relative action, so it works when the router is nested under a prefix such as
//!   `/fake-github/`).
//! * `POST /login/oauth/authorize` (form: the same fields plus `login`) issues a one-time code and
//!   redirects (302) to `redirect_uri?code=<code>&state=<state>`.
//! * `POST /login/oauth/access_token` (form, JSON or query parameters: `client_id`,
//!   `client_secret`, `code`, optional `redirect_uri`) exchanges the code for a `gho_…` token that
//!   authenticates as the user on the REST and GraphQL API. With `Accept: application/json` the
//!   answer is JSON (`access_token`, `token_type`, `scope`), otherwise form-encoded. Errors are
//!   GitHub's `{"error", "error_description", "error_uri"}` with status 200, as GitHub does.
//!
//! These routes need no `Authorization` header. With the router nested under `/fake-github`,
//! they are `/fake-github/login/oauth/authorize` and `/fake-github/login/oauth/access_token`.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::FakeGitHub;
use crate::core::Core;
use crate::state::{OAuthAppRec, OAuthGrant};

/// Why a token request failed: GitHub's `error` code and description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OAuthError {
    /// Unknown, used or mismatched code.
    #[error("The code passed is incorrect or expired.")]
    BadVerificationCode,
    /// Unknown client id or wrong secret.
    #[error("The client_id and/or client_secret passed are incorrect.")]
    IncorrectClientCredentials,
    /// `redirect_uri` differs from the one the code was issued for.
    #[error("The redirect_uri MUST match the registered callback URL for this application.")]
    RedirectUriMismatch,
}

impl OAuthError {
    fn code(&self) -> &'static str {
        match self {
            OAuthError::BadVerificationCode => "bad_verification_code",
            OAuthError::IncorrectClientCredentials => "incorrect_client_credentials",
            OAuthError::RedirectUriMismatch => "redirect_uri_mismatch",
        }
    }
}

/// GitHub spells granted scopes comma-separated.
fn normalize_scope(scope: &str) -> String {
    scope
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

impl Core {
    /// Registers (or replaces) an OAuth app.
    pub fn register_oauth_app(&self, client_id: &str, client_secret: &str, name: Option<&str>) {
        self.lock().oauth_apps.insert(
            client_id.to_owned(),
            OAuthAppRec {
                client_secret: client_secret.to_owned(),
                name: name.unwrap_or(client_id).to_owned(),
            },
        );
    }

    /// The app's display name and the logins one may sign in as, if `client_id` is registered.
    fn oauth_sign_in_page(&self, client_id: &str) -> Option<(String, Vec<String>)> {
        let st = self.lock();
        let app = st.oauth_apps.get(client_id)?;
        let logins = st.users.values().map(|u| u.login.clone()).collect();
        Some((app.name.clone(), logins))
    }

    /// Issues a one-time code for `login` (who must exist) on app `client_id`.
    fn oauth_authorize(
        &self,
        client_id: &str,
        login: &str,
        scope: &str,
        redirect_uri: Option<&str>,
    ) -> Option<String> {
        let mut st = self.lock();
        if !st.oauth_apps.contains_key(client_id) {
            return None;
        }
        let login = st.user(login)?.login.to_ascii_lowercase();
        let code = uuid::Uuid::new_v4().simple().to_string()[..20].to_owned();
        st.oauth_codes.insert(
            code.clone(),
            OAuthGrant {
                client_id: client_id.to_owned(),
                login,
                scope: normalize_scope(scope),
                redirect_uri: redirect_uri.map(str::to_owned),
            },
        );
        Some(code)
    }

    /// Exchanges a code for a new token acting as the user who signed in; returns (token,
    /// scope). The code is spent only by a successful exchange.
    pub fn oauth_exchange(
        &self,
        client_id: &str,
        client_secret: &str,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<(String, String), OAuthError> {
        let mut st = self.lock();
        let app_ok = st
            .oauth_apps
            .get(client_id)
            .is_some_and(|a| a.client_secret == client_secret);
        if !app_ok {
            return Err(OAuthError::IncorrectClientCredentials);
        }
        let grant = st
            .oauth_codes
            .get(code)
            .filter(|g| g.client_id == client_id)
            .ok_or(OAuthError::BadVerificationCode)?;
        if let (Some(want), Some(got)) = (grant.redirect_uri.as_deref(), redirect_uri)
            && want != got
        {
            return Err(OAuthError::RedirectUriMismatch);
        }
        let grant = st
            .oauth_codes
            .remove(code)
            .ok_or(OAuthError::BadVerificationCode)?;
        let token = format!("gho_{}", uuid::Uuid::new_v4().simple());
        st.tokens.insert(token.clone(), grant.login);
        Ok((token, grant.scope))
    }
}

/// The OAuth routes (unauthenticated), to merge into the main router.
pub(crate) fn routes(fake: FakeGitHub) -> Router {
    Router::new()
        .route(
            "/login/oauth/authorize",
            get(authorize_page).post(authorize),
        )
        .route("/login/oauth/access_token", post(access_token))
        .with_state(fake)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html><head><title>Error</title></head><body><p id=\"error\">{}</p></body></html>",
        escape(message)
    );
    (status, Html(body)).into_response()
}

/// Runs a state operation off the async executor.
async fn with_core<T: Send + 'static>(
    fake: &FakeGitHub,
    op: impl FnOnce(&Core) -> T + Send + 'static,
) -> Option<T> {
    let core = fake.core().clone();
    tokio::task::spawn_blocking(move || op(&core)).await.ok()
}

async fn authorize_page(
    State(fake): State<FakeGitHub>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let id = client_id.clone();
    let Some(Some((app, logins))) = with_core(&fake, move |c| c.oauth_sign_in_page(&id)).await
    else {
        return html_error(
            StatusCode::NOT_FOUND,
            "Unknown OAuth application (client_id).",
        );
    };
    let hidden: String = ["client_id", "redirect_uri", "state", "scope"]
        .iter()
        .filter_map(|k| q.get(*k).map(|v| (k, v)))
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
        .collect();
    let buttons: String = logins
        .iter()
        .map(|l| {
            let l = escape(l);
            format!(
                "<li><button type=\"submit\" name=\"login\" value=\"{l}\" id=\"login-{l}\">{l}</button></li>"
            )
        })
        .collect();
    let app = escape(&app);
    let body = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Authorize {app}</title></head>\n\
         <body><h1 id=\"title\">Sign in to {app} as:</h1>\n\
         <form method=\"post\" action=\"authorize\">{hidden}<ul>{buttons}</ul></form></body></html>\n"
    );
    Html(body).into_response()
}

/// Form or query parameters (or a JSON object of strings).
fn params(
    headers: &HeaderMap,
    body: &Bytes,
    query: HashMap<String, String>,
) -> HashMap<String, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let mut out = query;
    if is_json {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(body) {
            for (k, v) in m {
                if let Some(s) = v.as_str() {
                    out.insert(k, s.to_owned());
                }
            }
        }
    } else if let Ok(form) = serde_urlencoded_pairs(body) {
        out.extend(form);
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of `fields` (via `reqwest::Url`'s serializer).
fn form_encode(fields: &[(&str, String)]) -> String {
    let Ok(mut url) = reqwest::Url::parse("http://x/") else {
        return String::new();
    };
    url.query_pairs_mut()
        .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())));
    url.query().unwrap_or_default().to_owned()
}

/// `application/x-www-form-urlencoded` pairs (via `reqwest::Url`'s parser).
fn serde_urlencoded_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ()> {
    let text = std::str::from_utf8(body).map_err(|_| ())?;
    let url = reqwest::Url::parse(&format!("http://x/?{text}")).map_err(|_| ())?;
    Ok(url.query_pairs().into_owned().collect())
}

async fn authorize(
    State(fake): State<FakeGitHub>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = params(&headers, &body, query);
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let Some(redirect) = p.get("redirect_uri").cloned() else {
        return html_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri is required (the fake has no registered callback URLs).",
        );
    };
    // A host-relative callback (`/github-login/redirect`) keeps the browser on the host name it
    // used; the all-in-one mode serves the app and this simulator from one listener.
    let relative = redirect.starts_with('/') && !redirect.starts_with("//");
    let parsed = if relative {
        reqwest::Url::parse(&format!("http://relative.invalid{redirect}"))
    } else {
        reqwest::Url::parse(&redirect)
    };
    let Ok(mut target) = parsed else {
        return html_error(StatusCode::BAD_REQUEST, "redirect_uri is not a URL.");
    };
    let (client_id, login, scope) = (get("client_id"), get("login"), get("scope"));
    let redirect_for_grant = redirect.clone();
    let code = with_core(&fake, move |c| {
        c.oauth_authorize(&client_id, &login, &scope, Some(&redirect_for_grant))
    })
    .await
    .flatten();
    let Some(code) = code else {
        return html_error(StatusCode::NOT_FOUND, "Unknown OAuth application or user.");
    };
    {
        let mut pairs = target.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(state) = p.get("state") {
            pairs.append_pair("state", state);
        }
    }
    tracing::debug!(user = %get("login"), "fake OAuth sign-in");
    let location = match (relative, target.query()) {
        (false, _) => target.to_string(),
        (true, Some(q)) => format!("{}?{q}", target.path()),
        (true, None) => target.path().to_owned(),
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn access_token(
    State(fake): State<FakeGitHub>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = params(&headers, &body, query);
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let (id, secret, code) = (get("client_id"), get("client_secret"), get("code"));
    let redirect = p.get("redirect_uri").cloned();
    let result = with_core(&fake, move |c| {
        c.oauth_exchange(&id, &secret, &code, redirect.as_deref())
    })
    .await;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let fields: Vec<(&str, String)> = match result {
        Some(Ok((token, scope))) => vec![
            ("access_token", token),
            ("token_type", "bearer".into()),
            ("scope", scope),
        ],
        Some(Err(e)) => vec![
            ("error", e.code().into()),
            ("error_description", e.to_string()),
            (
                "error_uri",
                "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
                    .into(),
            ),
        ],
        None => {
            return html_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    if wants_json {
        let obj: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        axum::Json(serde_json::Value::Object(obj)).into_response()
    } else {
        let enc = form_encode(&fields);
        (
            [(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            enc,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_comma_separated() {
        assert_eq!(normalize_scope("read:org  repo"), "read:org,repo");
        assert_eq!(normalize_scope(""), "");
    }

    #[test]
    fn form_encoding_round_trips() {
        let enc = form_encode(&[
            ("access_token", "gho_a&b".into()),
            ("scope", "read:org".into()),
        ]);
        assert_eq!(enc, "access_token=gho_a%26b&scope=read%3Aorg");
        let back = serde_urlencoded_pairs(enc.as_bytes()).unwrap();
        assert_eq!(back[0], ("access_token".to_owned(), "gho_a&b".to_owned()));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
